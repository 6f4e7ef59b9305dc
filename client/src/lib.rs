pub mod envelope;
pub mod identity;

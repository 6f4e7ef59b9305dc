//! Free-form JSON values (function args, kwargs, outputs) that also fit in bincode.
//!
//! bincode is not self-describing, so a `serde_json::Value` can be written but not read
//! back. In binary formats the value travels as its JSON text instead.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Json(pub serde_json::Value);

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { self.0.serialize(s) } else { s.serialize_str(&self.0.to_string()) }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            serde_json::Value::deserialize(d).map(Json)
        } else {
            let text = String::deserialize(d)?;
            serde_json::from_str(&text).map(Json).map_err(serde::de::Error::custom)
        }
    }
}

impl From<serde_json::Value> for Json {
    fn from(v: serde_json::Value) -> Self {
        Json(v)
    }
}

/// Deserializes JSON `null` as the type's default, as Go does for slices, maps and structs.
/// Binary formats never hold a null, so they read the value directly.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    if d.is_human_readable() { Ok(Option::<T>::deserialize(d)?.unwrap_or_default()) } else { T::deserialize(d) }
}

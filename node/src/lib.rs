//! Placeholder until its issue is taken; see the open issues.

//! Serialization helpers shared by the wire types.

use sha3::{Digest, Sha3_256};

/// SHA3-256 of `text` as lower-case hex (TV-1): the id of a public key (§2.2) and of the ids
/// the server derives (attributes, the processes of a cron's workflow).
pub fn sha3_hex(text: &str) -> String {
    hex::encode(Sha3_256::digest(text.as_bytes()))
}

/// The header that carries the cluster secret: between nodes (Raft, forwarding) and to the
/// operators' routes (`/cluster`, `/cluster/members`). Not part of ColonyOS's protocol.
pub const SECRET_HEADER: &str = "x-colonies-cluster-secret";

/// Values that Go's `omitempty` leaves out of JSON.
pub trait OmitEmpty {
    fn is_omitted(&self) -> bool;
}

impl OmitEmpty for String {
    fn is_omitted(&self) -> bool {
        self.is_empty()
    }
}

impl OmitEmpty for i64 {
    fn is_omitted(&self) -> bool {
        *self == 0
    }
}

impl OmitEmpty for bool {
    fn is_omitted(&self) -> bool {
        !*self
    }
}

impl<T> OmitEmpty for Vec<T> {
    fn is_omitted(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> OmitEmpty for std::collections::BTreeMap<K, V> {
    fn is_omitted(&self) -> bool {
        self.is_empty()
    }
}

impl<T> OmitEmpty for Option<T> {
    fn is_omitted(&self) -> bool {
        self.is_none()
    }
}

/// A free-form value is left out when it is null (a Go map or pointer that is nil).
impl OmitEmpty for crate::json::Json {
    fn is_omitted(&self) -> bool {
        self.0.is_null()
    }
}

/// Implements `Serialize` for a struct whose JSON drops some empty fields (Go `omitempty`)
/// while binary formats (bincode, for the Raft log) keep every field in order, as the
/// derived `Deserialize` expects. Fields are listed in declaration order as
/// `name: always` or `name: omit_empty`; the destructuring makes a missing field a
/// compile error. The wire name of a field is its Rust name unless given with `as "name"`.
#[macro_export]
macro_rules! serialize_omitting_empty {
    ($ty:ident { $($field:ident $(as $wire:literal)? : $mode:ident),* $(,)? }) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let human = serializer.is_human_readable();
                let $ty { $($field),* } = self;
                let count = [$(stringify!($field)),*].len();
                let mut out = serializer.serialize_struct(stringify!($ty), count)?;
                $(
                    let name = $crate::serialize_omitting_empty!(@name $field $($wire)?);
                    $crate::serialize_omitting_empty!(@field out, human, name, $field, $mode);
                )*
                out.end()
            }
        }
    };
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $wire:literal) => { $wire };
    (@field $out:ident, $human:ident, $name:ident, $field:ident, always) => {
        $out.serialize_field($name, $field)?;
    };
    (@field $out:ident, $human:ident, $name:ident, $field:ident, omit_empty) => {
        if $human && $crate::wire::OmitEmpty::is_omitted($field) {
            $out.skip_field($name)?;
        } else {
            $out.serialize_field($name, $field)?;
        }
    };
}

//! The data of locations (`Extended::locations`) and what changes it, apart from the commands
//! that do (`mod.rs`), so that the state and the commands hold it without depending on them.

use crate::json::null_as_default;
use imbl::OrdMap;
use serde::{Deserialize, Serialize};

/// Locations a colony may hold.
pub const MAX_LOCATIONS_PER_COLONY: usize = 10_000;

/// §4.14.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Location {
    #[serde(deserialize_with = "null_as_default")]
    pub locationid: String,
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub colonyname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub description: String,
    pub long: f64,
    pub lat: f64,
}

/// The replicated locations (`Extended::locations`), by (colony, name).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Locations {
    pub(super) by_name: OrdMap<(String, String), Location>,
}

impl Locations {
    pub(super) fn of_colony<'a>(&'a self, colonyname: &str) -> impl Iterator<Item = &'a Location> + 'a {
        let start = (colonyname.to_string(), String::new());
        let end = (colonyname.to_string(), char::MAX.to_string());
        self.by_name.range(start..=end).map(|(_, location)| location)
    }

    /// A removed colony's locations go with it.
    pub(crate) fn remove_colony(&mut self, colonyname: &str) {
        let names: Vec<_> = self.of_colony(colonyname).map(|l| (l.colonyname.clone(), l.name.clone())).collect();
        for key in names {
            self.by_name.remove(&key);
        }
    }
}

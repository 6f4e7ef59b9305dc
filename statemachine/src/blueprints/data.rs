//! The replicated blueprint data (`Extended::blueprints`) and what changes it, apart from
//! the commands that do (`mod.rs`), so that the state holds it without depending on them.

use super::model::{Blueprint, BlueprintDefinition, BlueprintHistory};
use crate::time::Time;
use imbl::{OrdMap, Vector};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// History entries kept per blueprint; older ones are dropped first.
pub const MAX_BLUEPRINT_HISTORY: usize = 100;
/// (colony name, blueprint or definition name)
pub(super) type Key = (String, String);

pub(super) fn key(colonyname: &str, name: &str) -> Key {
    (colonyname.to_string(), name.to_string())
}

/// A definition with its periodic reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredDefinition {
    pub definition: BlueprintDefinition,
    /// The colony owner that added it: the initiator of the periodic processes.
    pub initiatorid: String,
    /// When the leader should next reconcile the kind; zero without `reconcileInterval`.
    pub nextrun: Time,
    /// The latest periodic process per (executor type, location): a group whose process
    /// is still waiting or running gets no other (the reference's crons wait likewise).
    pub latest: BTreeMap<(String, String), String>,
}

/// The replicated blueprint data (a field of `Extended`), in persistent maps so that a
/// snapshot copies it in O(1) under the state lock.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Blueprints {
    pub(super) definitions: OrdMap<Key, StoredDefinition>,
    pub(super) blueprints: OrdMap<Key, Blueprint>,
    /// blueprint id -> its history, oldest first, never empty while the blueprint exists.
    pub(super) history: OrdMap<String, Vector<BlueprintHistory>>,
}

/// A periodic reconciliation the leader should propose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueReconcile {
    pub colonyname: String,
    pub name: String,
    /// The definition's next run, which the command must name.
    pub tick: Time,
}

impl Blueprints {
    pub(super) fn definition_of_kind(&self, colonyname: &str, kind: &str) -> Option<&StoredDefinition> {
        self.definitions_in(colonyname).find(|d| d.definition.spec.names.kind == kind)
    }

    pub(super) fn definitions_in(&self, colonyname: &str) -> impl Iterator<Item = &StoredDefinition> {
        let colony = colonyname.to_string();
        self.definitions.range(key(colonyname, "")..).take_while(move |((c, _), _)| *c == colony).map(|(_, d)| d)
    }

    pub(super) fn blueprints_in(&self, colonyname: &str) -> impl Iterator<Item = &Blueprint> {
        let colony = colonyname.to_string();
        self.blueprints.range(key(colonyname, "")..).take_while(move |((c, _), _)| *c == colony).map(|(_, b)| b)
    }

    /// The executor type that reconciles `blueprint`: its own handler's, else its kind's.
    pub(super) fn executor_type(&self, blueprint: &Blueprint) -> Option<String> {
        let own = blueprint.handler.as_ref().map(|h| h.executor_type.clone()).filter(|t| !t.is_empty());
        own.or_else(|| {
            self.definition_of_kind(&blueprint.metadata.colonyname, &blueprint.kind)
                .map(|d| d.definition.spec.handler.executor_type.clone())
                .filter(|t| !t.is_empty())
        })
    }

    pub(super) fn record(&mut self, blueprint: &Blueprint, historyid: &str, caller: &str, changetype: &str, now: Time) {
        let entry = BlueprintHistory {
            historyid: historyid.to_string(),
            blueprintid: blueprint.blueprintid.clone(),
            kind: blueprint.kind.clone(),
            namespace: blueprint.metadata.colonyname.clone(),
            name: blueprint.metadata.name.clone(),
            generation: blueprint.metadata.generation,
            spec: blueprint.spec.clone(),
            status: blueprint.status.clone(),
            timestamp: now,
            changedby: caller.to_string(),
            changetype: changetype.to_string(),
        };
        let history = self.history.entry(blueprint.blueprintid.clone()).or_default();
        history.push_back(entry);
        while history.len() > MAX_BLUEPRINT_HISTORY {
            history.pop_front();
        }
    }
}

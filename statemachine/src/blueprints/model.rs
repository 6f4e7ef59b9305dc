//! The blueprint objects as they travel (§4.14). Unlike the core objects their keys are
//! camelCase where the reference writes them so, and several are left out when empty.

use crate::json::{Json, null_as_default};
use crate::serialize_omitting_empty;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `metadata` of a blueprint or definition. The reference calls the colony a namespace.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct BlueprintMetadata {
    pub name: String,
    pub colonyname: String,
    pub locationname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    pub annotations: BTreeMap<String, String>,
    pub generation: i64,
    #[serde(rename = "createdAt")]
    pub created_at: Time,
    #[serde(rename = "updatedAt")]
    pub updated_at: Time,
    #[serde(rename = "lastReconciliationProcess")]
    pub last_reconciliation_process: String,
    #[serde(rename = "lastReconciliationTime")]
    pub last_reconciliation_time: Time,
}

serialize_omitting_empty!(BlueprintMetadata {
    name: always,
    colonyname: always,
    locationname: omit_empty,
    labels: omit_empty,
    annotations: omit_empty,
    generation: omit_empty,
    created_at as "createdAt": always,
    updated_at as "updatedAt": always,
    last_reconciliation_process as "lastReconciliationProcess": omit_empty,
    last_reconciliation_time as "lastReconciliationTime": always,
});

/// A blueprint's own choice of reconciler, overriding its definition's.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct BlueprintHandler {
    #[serde(rename = "executorType")]
    pub executor_type: String,
}

serialize_omitting_empty!(BlueprintHandler { executor_type as "executorType": omit_empty });

/// A desired state: `spec` is free-form, checked against the definition's schema;
/// `status` is what a reconciler last reported.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Blueprint {
    pub blueprintid: String,
    pub kind: String,
    #[serde(deserialize_with = "null_as_default")]
    pub metadata: BlueprintMetadata,
    pub handler: Option<BlueprintHandler>,
    pub spec: Json,
    pub status: Json,
}

serialize_omitting_empty!(Blueprint {
    blueprintid: always,
    kind: always,
    metadata: always,
    handler: omit_empty,
    spec: always,
    status: omit_empty,
});

/// `spec.names` of a definition.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct DefinitionNames {
    pub kind: String,
    #[serde(rename = "listKind")]
    pub list_kind: String,
    pub singular: String,
    pub plural: String,
    #[serde(rename = "shortNames", deserialize_with = "null_as_default")]
    pub short_names: Vec<String>,
}

serialize_omitting_empty!(DefinitionNames {
    kind: always,
    list_kind as "listKind": always,
    singular: always,
    plural: always,
    short_names as "shortNames": omit_empty,
});

/// Who reconciles the blueprints of a kind, and how often the leader asks it to
/// (`reconcile_interval` seconds; 0: only when a blueprint changes or on request).
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct HandlerSpec {
    #[serde(rename = "executorType")]
    pub executor_type: String,
    #[serde(rename = "functionName")]
    pub function_name: String,
    #[serde(rename = "reconcileInterval")]
    pub reconcile_interval: i64,
}

serialize_omitting_empty!(HandlerSpec {
    executor_type as "executorType": always,
    function_name as "functionName": always,
    reconcile_interval as "reconcileInterval": omit_empty,
});

#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct DefinitionSpec {
    pub group: String,
    pub version: String,
    #[serde(deserialize_with = "null_as_default")]
    pub names: DefinitionNames,
    pub scope: String,
    /// A JSON-schema subset (`blueprints::schema`); null when the spec is free.
    pub schema: Json,
    #[serde(deserialize_with = "null_as_default")]
    pub handler: HandlerSpec,
}

serialize_omitting_empty!(DefinitionSpec {
    group: always,
    version: always,
    names: always,
    scope: always,
    schema: omit_empty,
    handler: always,
});

/// A kind of blueprint in a colony (a CRD in Kubernetes' terms).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BlueprintDefinition {
    pub blueprintdefinitionid: String,
    pub kind: String,
    #[serde(deserialize_with = "null_as_default")]
    pub metadata: BlueprintMetadata,
    #[serde(deserialize_with = "null_as_default")]
    pub spec: DefinitionSpec,
}

/// One generation of a blueprint, recorded when it is created and whenever its
/// generation moves.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct BlueprintHistory {
    pub historyid: String,
    pub blueprintid: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub generation: i64,
    pub spec: Json,
    pub status: Json,
    pub timestamp: Time,
    pub changedby: String,
    pub changetype: String,
}

serialize_omitting_empty!(BlueprintHistory {
    historyid: always,
    blueprintid: always,
    kind: always,
    namespace: always,
    name: always,
    generation: always,
    spec: always,
    status: omit_empty,
    timestamp: always,
    changedby: always,
    changetype: always,
});

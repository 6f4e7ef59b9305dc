//! Error texts of blueprints (§6.15), from the reference's blueprint handlers
//! (`pkg/server/handlers/blueprint`), and ours where it has no check.

pub const ADD_DEFINITION_NIL: &str = "Failed to add blueprint definition, blueprint definition is nil";
pub const ADD_BLUEPRINT_NIL: &str = "Failed to add blueprint, blueprint is nil";
pub const UPDATE_BLUEPRINT_NIL: &str = "Failed to update blueprint, blueprint is nil";
pub const DEFINITION_NOT_FOUND: &str = "Blueprint definition not found";
pub const BLUEPRINT_NOT_FOUND: &str = "Blueprint not found";
pub const KIND_REQUIRED: &str = "blueprint kind is required";
pub const NO_HANDLER: &str = "Blueprint has no handler with executor type defined";
/// Ours: the reference stores nameless definitions and blueprints.
pub const DEFINITION_NAME_REQUIRED: &str = "blueprint definition metadata.name is required";
pub const DEFINITION_KIND_REQUIRED: &str = "blueprint definition spec.names.kind is required";
pub const BLUEPRINT_NAME_REQUIRED: &str = "blueprint metadata.name is required";
/// Ours: the reference's database would fail on these.
pub const SPEC_NOT_OBJECT: &str = "blueprint spec must be a JSON object";
pub const STATUS_NOT_OBJECT: &str = "blueprint status must be a JSON object";
pub const SCHEMA_NOT_OBJECT: &str = "blueprint definition spec.schema must be a JSON object";
pub const NEGATIVE_RECONCILE_INTERVAL: &str =
    "blueprint definition spec.handler.reconcileInterval must not be negative";
/// Ours: ids are drawn by the node when a client sends none.
pub const ID_IN_USE: &str = "blueprint id is already in use";
/// Ours: only the leader names a periodic reconciliation.
pub const RECONCILE_DONE: &str = "periodic reconciliation already done";

pub fn definition_missing(name: &str, colonyname: &str) -> String {
    format!("BlueprintDefinition '{name}' not found in namespace '{colonyname}'")
}

pub fn definition_in_use(name: &str, count: usize, kind: &str) -> String {
    format!("cannot remove BlueprintDefinition '{name}': {count} blueprint(s) of kind '{kind}' still exist")
}

/// Ours: the reference's database answers with its own duplicate-key error.
pub fn definition_exists(name: &str, colonyname: &str) -> String {
    format!("BlueprintDefinition with name '{name}' already exists in colony '{colonyname}'")
}

/// Ours: the reference finds the first definition of a kind; here a kind has one.
pub fn kind_defined(kind: &str, colonyname: &str) -> String {
    format!("a BlueprintDefinition for kind '{kind}' already exists in colony '{colonyname}'")
}

pub fn no_definition_for_kind(kind: &str, colonyname: &str) -> String {
    format!("BlueprintDefinition for kind '{kind}' not found in namespace '{colonyname}'")
}

pub fn validation_failed(why: &str) -> String {
    format!("blueprint validation failed: {why}")
}

pub fn blueprint_exists(name: &str, colonyname: &str) -> String {
    format!("blueprint with name '{name}' already exists in colony '{colonyname}'")
}

pub fn blueprint_missing(name: &str, colonyname: &str) -> String {
    format!("blueprint '{name}' not found in namespace '{colonyname}'")
}

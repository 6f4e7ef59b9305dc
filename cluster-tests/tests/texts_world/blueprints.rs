//! Table rows about blueprints (§6.15). The world holds the definitions `deployments`
//! (kind `Deployment`, image required) and `bare` (kind `Bare`, no executor type), and a
//! blueprint of each: `web` (id `bp-web`) and `bare`.

use super::cases::*;
use super::*;
use colonies_statemachine::blueprints::{Blueprint, BlueprintDefinition};
use serde_json::{Value, json};

/// A definition of colony `dev`: `spec` as JSON over a named kind.
pub fn definition(name: &str, kind: &str, handler: Value) -> BlueprintDefinition {
    let definition = json!({
        "kind": "BlueprintDefinition",
        "metadata": {"name": name, "colonyname": "dev"},
        "spec": {"names": {"kind": kind}, "handler": handler,
                 "schema": {"type": "object", "required": ["image"], "properties": {"image": {"type": "string"}}}}
    });
    serde_json::from_value(definition).unwrap()
}

/// A blueprint of colony `dev`.
pub fn blueprint(name: &str, kind: &str, spec: Value) -> Blueprint {
    let blueprint = json!({"kind": kind, "metadata": {"name": name, "colonyname": "dev"}, "spec": spec});
    serde_json::from_value(blueprint).unwrap()
}

fn add(blueprint: Blueprint) -> AddBlueprintMsg {
    AddBlueprintMsg { blueprint: Some(blueprint) }
}

fn define(definition: BlueprintDefinition) -> AddBlueprintDefinitionMsg {
    AddBlueprintDefinitionMsg { blueprintdefinition: Some(definition) }
}

fn image() -> Value {
    json!({"image": "nginx"})
}

pub fn rows(w: &World) -> Vec<Case> {
    let (cli, owner) = (&w.cli, &w.owner);
    let handler = || json!({"executorType": "none"});
    let with_id = |mut b: Blueprint, id: &str| {
        b.blueprintid = id.into();
        b
    };
    vec![
        is(
            "ADD_DEFINITION_NIL",
            owner,
            AddBlueprintDefinitionMsg { blueprintdefinition: None },
            400,
            "Failed to add blueprint definition, blueprint definition is nil",
        ),
        is(
            "ADD_BLUEPRINT_NIL",
            cli,
            AddBlueprintMsg { blueprint: None },
            400,
            "Failed to add blueprint, blueprint is nil",
        ),
        is(
            "UPDATE_BLUEPRINT_NIL",
            cli,
            UpdateBlueprintMsg { blueprint: None, forcegeneration: false },
            400,
            "Failed to update blueprint, blueprint is nil",
        ),
        is(
            "DEFINITION_NOT_FOUND",
            cli,
            GetBlueprintDefinitionMsg { colonyname: dev(), name: "nope".into() },
            404,
            "Blueprint definition not found",
        ),
        is(
            "BLUEPRINT_NOT_FOUND",
            cli,
            GetBlueprintMsg { namespace: dev(), name: "nope".into() },
            404,
            "Blueprint not found",
        ),
        is("KIND_REQUIRED", cli, add(blueprint("k", "", image())), 400, "blueprint kind is required"),
        is(
            "NO_HANDLER",
            cli,
            ReconcileBlueprintMsg { namespace: dev(), name: "bare".into(), force: false },
            400,
            "Blueprint has no handler with executor type defined",
        ),
        is(
            "DEFINITION_NAME_REQUIRED",
            owner,
            define(definition("", "K", handler())),
            400,
            "blueprint definition metadata.name is required",
        ),
        is(
            "DEFINITION_KIND_REQUIRED",
            owner,
            define(definition("k", "", handler())),
            400,
            "blueprint definition spec.names.kind is required",
        ),
        is(
            "BLUEPRINT_NAME_REQUIRED",
            cli,
            add(blueprint("", "Deployment", image())),
            400,
            "blueprint metadata.name is required",
        ),
        is(
            "SPEC_NOT_OBJECT",
            cli,
            add(blueprint("s", "Deployment", json!("text"))),
            400,
            "blueprint spec must be a JSON object",
        ),
        is(
            "STATUS_NOT_OBJECT",
            cli,
            UpdateBlueprintStatusMsg {
                colonyname: dev(),
                blueprintname: "web".into(),
                status: colonies_statemachine::Json(json!([1])),
            },
            400,
            "blueprint status must be a JSON object",
        ),
        is(
            "SCHEMA_NOT_OBJECT",
            owner,
            define(BlueprintDefinition {
                spec: colonies_statemachine::blueprints::DefinitionSpec {
                    schema: colonies_statemachine::Json(json!([1])),
                    ..definition("s", "S", handler()).spec
                },
                ..definition("s", "S", handler())
            }),
            400,
            "blueprint definition spec.schema must be a JSON object",
        ),
        is(
            "NEGATIVE_RECONCILE_INTERVAL",
            owner,
            define(definition("n", "N", json!({"executorType": "none", "reconcileInterval": -1}))),
            400,
            "blueprint definition spec.handler.reconcileInterval must not be negative",
        ),
        is(
            "ID_IN_USE",
            cli,
            add(with_id(blueprint("other", "Deployment", image()), "bp-web")),
            400,
            "blueprint id is already in use",
        ),
        is(
            "definition_missing",
            owner,
            RemoveBlueprintDefinitionMsg { namespace: dev(), name: "nope".into() },
            404,
            "BlueprintDefinition 'nope' not found in namespace 'dev'",
        ),
        is(
            "definition_in_use",
            owner,
            RemoveBlueprintDefinitionMsg { namespace: dev(), name: "deployments".into() },
            409,
            "cannot remove BlueprintDefinition 'deployments': 1 blueprint(s) of kind 'Deployment' still exist",
        ),
        is(
            "definition_exists",
            owner,
            define(definition("deployments", "Other", handler())),
            409,
            "BlueprintDefinition with name 'deployments' already exists in colony 'dev'",
        ),
        is(
            "kind_defined",
            owner,
            define(definition("again", "Deployment", handler())),
            409,
            "a BlueprintDefinition for kind 'Deployment' already exists in colony 'dev'",
        ),
        is(
            "no_definition_for_kind",
            cli,
            add(blueprint("u", "Unknown", image())),
            400,
            "BlueprintDefinition for kind 'Unknown' not found in namespace 'dev'",
        ),
        is(
            "validation_failed",
            cli,
            add(blueprint("v", "Deployment", json!({}))),
            400,
            "blueprint validation failed: required field 'image' is missing",
        ),
        is(
            "blueprint_exists",
            cli,
            add(blueprint("web", "Deployment", image())),
            409,
            "blueprint with name 'web' already exists in colony 'dev'",
        ),
        is(
            "blueprint_missing",
            cli,
            UpdateBlueprintMsg { blueprint: Some(blueprint("nope", "Deployment", image())), forcegeneration: false },
            404,
            "blueprint 'nope' not found in namespace 'dev'",
        ),
    ]
}

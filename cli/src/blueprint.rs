//! `colonies blueprint`: desired states reconciled by executors, and `blueprint definition`
//! for their kinds, with the reference CLI's command and flag names.

use crate::table::table;
use crate::user::{Ctx, Role, print_json, read_spec, say, show_fields};
use anyhow::{Context, bail};
use colonies_client::messages::*;
use colonies_statemachine::Time;
use colonies_statemachine::blueprints::{Blueprint, BlueprintDefinition, BlueprintHistory};
use colonies_statemachine::model::Process;
use serde_json::Value;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum BlueprintCmd {
    /// Blueprint definitions: the kinds of blueprint a colony knows.
    #[command(subcommand)]
    Definition(DefinitionCmd),
    /// Add a blueprint from a JSON file (its colony defaults to COLONIES_COLONY_NAME).
    Add {
        #[arg(long)]
        spec: PathBuf,
    },
    Get {
        #[arg(long)]
        name: String,
    },
    /// List the colony's blueprints.
    Ls {
        /// Only blueprints of this kind.
        #[arg(long, default_value = "")]
        kind: String,
    },
    /// Replace a blueprint with the one in a JSON file; a new spec is a new generation.
    Update {
        #[arg(long)]
        spec: PathBuf,
    },
    /// Set one existing field of a blueprint's spec (`replicas`, `env.TZ`, `spec.image`).
    Set {
        #[arg(long)]
        name: String,
        #[arg(long)]
        key: String,
        /// JSON (`3`, `true`, `{"a":1}`), or else taken as a string.
        #[arg(long)]
        value: String,
    },
    Remove {
        #[arg(long)]
        name: String,
    },
    /// Submit a reconciliation process for the blueprint now.
    Reconcile {
        #[arg(long)]
        name: String,
        /// Move the generation on and ask the reconciler to recreate everything.
        #[arg(short, long)]
        force: bool,
    },
    /// The blueprint's generations, newest first.
    History {
        #[arg(long)]
        name: String,
        #[arg(short, long, default_value_t = 10)]
        limit: i64,
        /// Show this generation in full.
        #[arg(short, long, default_value_t = -1, allow_negative_numbers = true)]
        generation: i64,
    },
}

#[derive(clap::Subcommand)]
pub enum DefinitionCmd {
    /// Add a definition from a JSON file (colony owner).
    Add {
        #[arg(long)]
        spec: PathBuf,
    },
    Get {
        #[arg(long)]
        name: String,
    },
    Ls,
    /// Remove a definition no blueprint uses (colony owner).
    Remove {
        #[arg(long)]
        name: String,
    },
}

fn when(time: Time) -> String {
    if time.is_zero() { "-".into() } else { time.to_rfc3339() }
}

/// Sets the field at a dotted `path` of `spec` (a leading `spec.` is optional). Only a
/// field that exists may be set, so a typo cannot add a field the reconciler ignores.
fn set_field(spec: &mut Value, path: &str, value: &str) -> anyhow::Result<()> {
    let path = path.strip_prefix("spec.").unwrap_or(path);
    let mut current = spec;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let object = current.as_object_mut().with_context(|| format!("{path}: `{part}` is not inside an object"))?;
        let field = object.get_mut(*part).with_context(|| format!("{path}: the spec has no field `{part}`"))?;
        if i + 1 == parts.len() {
            *field = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
            return Ok(());
        }
        current = field;
    }
    bail!("empty key")
}

/// The blueprint or definition file, placed in the colony when it names none.
fn read_in_colony<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    path: &std::path::Path,
    colony: impl Fn(&mut T) -> &mut String,
) -> anyhow::Result<T> {
    let mut record: T = read_spec(path)?;
    let colonyname = colony(&mut record);
    if colonyname.is_empty() {
        *colonyname = ctx.colony()?;
    }
    Ok(record)
}

fn show_blueprints(ctx: &Ctx, blueprints: &[Blueprint]) -> anyhow::Result<()> {
    if ctx.json {
        return print_json(&blueprints);
    }
    let rows = blueprints
        .iter()
        .map(|b| {
            let m = &b.metadata;
            let location = if m.locationname.is_empty() { "-".into() } else { m.locationname.clone() };
            vec![m.name.clone(), b.kind.clone(), location, m.generation.to_string(), when(m.last_reconciliation_time)]
        })
        .collect();
    table(&["NAME", "KIND", "LOCATION", "GENERATION", "LAST RECONCILED"], rows);
    Ok(())
}

async fn get(ctx: &Ctx, name: String) -> anyhow::Result<Blueprint> {
    ctx.call(Role::Caller, GetBlueprintMsg { namespace: ctx.colony()?, name }).await
}

async fn update(ctx: &Ctx, blueprint: Blueprint) -> anyhow::Result<()> {
    let message = UpdateBlueprintMsg { blueprint: Some(blueprint), forcegeneration: false };
    let updated: Blueprint = ctx.call(Role::Caller, message).await?;
    if ctx.json {
        print_json(&updated)
    } else {
        say(format!("Blueprint {} updated, generation {}", updated.metadata.name, updated.metadata.generation))
    }
}

pub async fn blueprint(ctx: &Ctx, command: BlueprintCmd) -> anyhow::Result<()> {
    match command {
        BlueprintCmd::Definition(command) => definition(ctx, command).await,
        BlueprintCmd::Add { spec } => {
            let blueprint: Blueprint = read_in_colony(ctx, &spec, |b: &mut Blueprint| &mut b.metadata.colonyname)?;
            let added: Blueprint = ctx.call(Role::Caller, AddBlueprintMsg { blueprint: Some(blueprint) }).await?;
            if ctx.json {
                print_json(&added)
            } else {
                say(format!("Blueprint {} added, Id={}", added.metadata.name, added.blueprintid))
            }
        }
        BlueprintCmd::Get { name } => {
            let blueprint = get(ctx, name).await?;
            show_fields(ctx, &blueprint)
        }
        BlueprintCmd::Ls { kind } => {
            let message = GetBlueprintsMsg { namespace: ctx.colony()?, kind, locationname: String::new() };
            // The server answers null when there is none, as the reference does.
            let blueprints: Option<Vec<Blueprint>> = ctx.call(Role::Caller, message).await?;
            show_blueprints(ctx, &blueprints.unwrap_or_default())
        }
        BlueprintCmd::Update { spec } => {
            let blueprint: Blueprint = read_in_colony(ctx, &spec, |b: &mut Blueprint| &mut b.metadata.colonyname)?;
            update(ctx, blueprint).await
        }
        BlueprintCmd::Set { name, key, value } => {
            let mut blueprint = get(ctx, name).await?;
            set_field(&mut blueprint.spec.0, &key, &value)?;
            update(ctx, blueprint).await
        }
        BlueprintCmd::Remove { name } => {
            ctx.send(Role::Caller, RemoveBlueprintMsg { namespace: ctx.colony()?, name: name.clone() }).await?;
            say(format!("Blueprint {name} removed"))
        }
        BlueprintCmd::Reconcile { name, force } => {
            let message = ReconcileBlueprintMsg { namespace: ctx.colony()?, name, force };
            let process: Process = ctx.call(Role::Caller, message).await?;
            if ctx.json {
                print_json(&process)
            } else {
                say(format!(
                    "Reconciliation process submitted: {0}\nUse 'colonies log get -p {0}' to view progress",
                    process.processid
                ))
            }
        }
        BlueprintCmd::History { name, limit, generation } => {
            let blueprint = get(ctx, name).await?;
            let message = GetBlueprintHistoryMsg { blueprintid: blueprint.blueprintid, limit };
            // The server answers null when there is none, as the reference does.
            let history: Vec<BlueprintHistory> = ctx.call(Role::Caller, message).await?.unwrap_or_default();
            if generation >= 0 {
                let entry = history
                    .iter()
                    .find(|h| h.generation == generation)
                    .with_context(|| format!("generation {generation} is not in the history"))?;
                return show_fields(ctx, entry);
            }
            if ctx.json {
                return print_json(&history);
            }
            let rows = history
                .iter()
                .map(|h| vec![h.generation.to_string(), h.changetype.clone(), h.changedby.clone(), when(h.timestamp)])
                .collect();
            table(&["GENERATION", "CHANGE", "CHANGED BY", "TIME"], rows);
            Ok(())
        }
    }
}

async fn definition(ctx: &Ctx, command: DefinitionCmd) -> anyhow::Result<()> {
    match command {
        DefinitionCmd::Add { spec } => {
            let definition: BlueprintDefinition =
                read_in_colony(ctx, &spec, |d: &mut BlueprintDefinition| &mut d.metadata.colonyname)?;
            let message = AddBlueprintDefinitionMsg { blueprintdefinition: Some(definition) };
            let added: BlueprintDefinition = ctx.call(Role::ColonyOwner, message).await?;
            if ctx.json {
                print_json(&added)
            } else {
                say(format!(
                    "BlueprintDefinition {} added for kind {}, Id={}",
                    added.metadata.name, added.spec.names.kind, added.blueprintdefinitionid
                ))
            }
        }
        DefinitionCmd::Get { name } => {
            let message = GetBlueprintDefinitionMsg { colonyname: ctx.colony()?, name };
            let definition: BlueprintDefinition = ctx.call(Role::Caller, message).await?;
            show_fields(ctx, &definition)
        }
        DefinitionCmd::Ls => {
            let message = GetBlueprintDefinitionsMsg { colonyname: ctx.colony()? };
            let definitions: Vec<BlueprintDefinition> = ctx.call(Role::Caller, message).await?;
            if ctx.json {
                return print_json(&definitions);
            }
            let rows = definitions
                .iter()
                .map(|d| {
                    let handler = &d.spec.handler;
                    let every = if handler.reconcile_interval > 0 {
                        format!("{} s", handler.reconcile_interval)
                    } else {
                        "-".into()
                    };
                    vec![d.metadata.name.clone(), d.spec.names.kind.clone(), handler.executor_type.clone(), every]
                })
                .collect();
            table(&["NAME", "KIND", "HANDLER", "RECONCILE EVERY"], rows);
            Ok(())
        }
        DefinitionCmd::Remove { name } => {
            let message = RemoveBlueprintDefinitionMsg { namespace: ctx.colony()?, name: name.clone() };
            ctx.send(Role::ColonyOwner, message).await?;
            say(format!("BlueprintDefinition {name} removed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_changes_only_fields_that_exist() {
        let mut spec = json!({"replicas": 1, "env": {"TZ": "UTC"}, "image": "nginx"});
        set_field(&mut spec, "replicas", "3").unwrap();
        set_field(&mut spec, "spec.env.TZ", "CET").unwrap();
        set_field(&mut spec, "image", "{\"name\":\"httpd\"}").unwrap();
        assert_eq!(spec, json!({"replicas": 3, "env": {"TZ": "CET"}, "image": {"name": "httpd"}}));
        assert!(set_field(&mut spec, "replica", "2").unwrap_err().to_string().contains("no field `replica`"));
        assert!(set_field(&mut spec, "replicas.x", "2").is_err());
        assert_eq!(spec["replicas"], json!(3), "a refused set changes nothing");
    }
}

//! Blueprints (§6.15): declarative desired states of a colony, each of a kind that a
//! blueprint definition declares, reconciled by executors of the definition's handler type.
//!
//! The server only stores them and asks for reconciliation: a new blueprint, a change of
//! its spec (a new generation) and `reconcileblueprintmsg` each submit one `reconcile`
//! process for the blueprint; removing one submits a `cleanup` process. A definition with
//! `reconcileInterval` is also reconciled periodically, by the leader, the way crons run:
//! the next run time is replicated and the leader's command names it, so a duplicate
//! proposal is refused. Every new id (definition, blueprint, history entry, process) comes
//! from the proposer.

pub(crate) mod data;
pub(crate) mod model;
pub(crate) mod schema;

pub use data::*;
pub use model::*;

use crate::crons::process_ids;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::model::{FunctionSpec, Process, ProcessState};
use crate::state::{Reply, State};
use crate::texts::blueprints as texts;
use crate::time::Time;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The function a reconciler runs for a blueprint, and the one it runs for a removed one.
const RECONCILE_FUNCTION: &str = "reconcile";
const CLEANUP_FUNCTION: &str = "cleanup";

/// A JSON object or null, else `error`.
fn object_or_null(value: &Json, error: &'static str) -> ApiResult<()> {
    if value.0.is_object() || value.0.is_null() { Ok(()) } else { Err(ApiError::bad_request(error)) }
}

fn reconcile_spec(
    colonyname: &str,
    executortype: &str,
    locationname: &str,
    kwargs: BTreeMap<String, Json>,
) -> FunctionSpec {
    let mut spec = FunctionSpec {
        nodename: RECONCILE_FUNCTION.into(),
        funcname: RECONCILE_FUNCTION.into(),
        kwargs,
        // The reference's empty spec: no deadlines, no retries.
        maxwaittime: -1,
        maxexectime: -1,
        maxretries: -1,
        ..FunctionSpec::default()
    };
    spec.conditions.colonyname = colonyname.to_string();
    spec.conditions.executortype = executortype.to_string();
    spec.conditions.locationname = locationname.to_string();
    spec
}

fn kwargs(pairs: &[(&str, Value)]) -> BTreeMap<String, Json> {
    pairs.iter().map(|(k, v)| (k.to_string(), Json(v.clone()))).collect()
}

impl State {
    fn blueprints(&self) -> &Blueprints {
        &self.data.extended.blueprints
    }

    fn blueprints_mut(&mut self) -> &mut Blueprints {
        &mut self.data.extended.blueprints
    }

    /// "M+ or CO" (§6.15): an approved member, or else the colony owner, whose refusal is
    /// the one reported, as in the reference.
    pub(crate) fn require_member_or_owner(&self, caller: &str, colonyname: &str) -> ApiResult<()> {
        self.require_member(caller, colonyname, true).or_else(|_| self.require_colony_owner(caller, colonyname))
    }

    fn stored_blueprint(&self, colonyname: &str, name: &str) -> ApiResult<&Blueprint> {
        self.blueprints()
            .blueprints
            .get(&key(colonyname, name))
            .ok_or_else(|| ApiError::not_found(texts::BLUEPRINT_NOT_FOUND))
    }

    /// The checks shared by adding and updating: a name, a defined kind, a spec that fits
    /// the kind's schema. Returns the kind's definition.
    fn check_blueprint(&self, blueprint: &Blueprint) -> ApiResult<&StoredDefinition> {
        let colonyname = &blueprint.metadata.colonyname;
        if blueprint.metadata.name.is_empty() {
            return Err(ApiError::bad_request(texts::BLUEPRINT_NAME_REQUIRED));
        }
        if blueprint.kind.is_empty() {
            return Err(ApiError::bad_request(texts::KIND_REQUIRED));
        }
        object_or_null(&blueprint.status, texts::STATUS_NOT_OBJECT)?;
        let definition = self
            .blueprints()
            .definition_of_kind(colonyname, &blueprint.kind)
            .ok_or_else(|| ApiError::bad_request(texts::no_definition_for_kind(&blueprint.kind, colonyname)))?;
        let empty = serde_json::Map::new();
        let spec = match &blueprint.spec.0 {
            Value::Object(spec) => spec,
            Value::Null => &empty,
            _ => return Err(ApiError::bad_request(texts::SPEC_NOT_OBJECT)),
        };
        if !definition.definition.spec.schema.0.is_null() {
            schema::check(spec, &definition.definition.spec.schema.0)
                .map_err(|why| ApiError::bad_request(texts::validation_failed(&why)))?;
        }
        Ok(definition)
    }

    /// Submits a process the server itself asks for on behalf of `initiatorid`, who may be
    /// a colony owner with no executor or user name (the name is then empty, as in the
    /// reference).
    fn submit_for(&mut self, initiatorid: &str, spec: &FunctionSpec, processid: &str, now: Time) -> ApiResult<Process> {
        let initiatorname = self.initiator_name(initiatorid, &spec.conditions.colonyname).unwrap_or_default();
        let process = self.new_process(spec, processid, now)?;
        let process = Process { initiatorid: initiatorid.to_string(), initiatorname, ..process };
        self.insert_process(process.clone());
        self.announce(&process);
        Ok(process)
    }

    /// Asks the blueprint's reconciler to reconcile it, if it has one, and notes the
    /// process in the blueprint's metadata.
    fn reconcile_one(
        &mut self,
        caller: &str,
        blueprint: &mut Blueprint,
        force: bool,
        processid: &str,
        now: Time,
    ) -> ApiResult<Option<Process>> {
        let Some(executortype) = self.blueprints().executor_type(blueprint) else { return Ok(None) };
        let mut args = vec![
            ("kind", Value::from(blueprint.kind.clone())),
            ("blueprintName", blueprint.metadata.name.clone().into()),
        ];
        if force {
            args.push(("force", Value::Bool(true)));
        }
        let spec = reconcile_spec(
            &blueprint.metadata.colonyname,
            &executortype,
            &blueprint.metadata.locationname,
            kwargs(&args),
        );
        let process = self.submit_for(caller, &spec, processid, now)?;
        blueprint.metadata.last_reconciliation_process = process.processid.clone();
        blueprint.metadata.last_reconciliation_time = now;
        Ok(Some(process))
    }

    pub(crate) fn add_blueprint_definition(
        &mut self,
        caller: &str,
        definition: &BlueprintDefinition,
        now: Time,
    ) -> ApiResult<Reply> {
        let colonyname = &definition.metadata.colonyname;
        let (name, kind) = (&definition.metadata.name, &definition.spec.names.kind);
        if name.is_empty() {
            return Err(ApiError::bad_request(texts::DEFINITION_NAME_REQUIRED));
        }
        if kind.is_empty() {
            return Err(ApiError::bad_request(texts::DEFINITION_KIND_REQUIRED));
        }
        object_or_null(&definition.spec.schema, texts::SCHEMA_NOT_OBJECT)?;
        let interval = definition.spec.handler.reconcile_interval;
        if interval < 0 {
            return Err(ApiError::bad_request(texts::NEGATIVE_RECONCILE_INTERVAL));
        }
        let id = &definition.blueprintdefinitionid;
        if id.is_empty() || self.blueprints().definitions.values().any(|d| d.definition.blueprintdefinitionid == *id) {
            return Err(ApiError::bad_request(texts::ID_IN_USE));
        }
        if self.blueprints().definitions.contains_key(&key(colonyname, name)) {
            return Err(ApiError::new(409, texts::definition_exists(name, colonyname)));
        }
        if self.blueprints().definition_of_kind(colonyname, kind).is_some() {
            return Err(ApiError::new(409, texts::kind_defined(kind, colonyname)));
        }
        let mut stored = definition.clone();
        stored.metadata.generation = stored.metadata.generation.max(1);
        stored.metadata.created_at = now;
        stored.metadata.updated_at = now;
        let nextrun = if interval > 0 { now.plus_seconds(interval) } else { Time::ZERO };
        let entry = StoredDefinition {
            definition: stored.clone(),
            initiatorid: caller.to_string(),
            nextrun,
            latest: BTreeMap::new(),
        };
        self.blueprints_mut().definitions.insert(key(colonyname, name), entry);
        Ok(Reply::BlueprintDefinition(Box::new(stored)))
    }

    pub(crate) fn remove_blueprint_definition(&mut self, colonyname: &str, name: &str) -> ApiResult<Reply> {
        let stored = self
            .blueprints()
            .definitions
            .get(&key(colonyname, name))
            .ok_or_else(|| ApiError::not_found(texts::definition_missing(name, colonyname)))?;
        let kind = &stored.definition.spec.names.kind;
        let count = self.blueprints().blueprints_in(colonyname).filter(|b| b.kind == *kind).count();
        if count > 0 {
            return Err(ApiError::new(409, texts::definition_in_use(name, count, kind)));
        }
        self.blueprints_mut().definitions.remove(&key(colonyname, name));
        Ok(Reply::Empty)
    }

    pub(crate) fn add_blueprint(
        &mut self,
        caller: &str,
        blueprint: &Blueprint,
        historyid: &str,
        processid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        self.check_blueprint(blueprint)?;
        let (colonyname, name) = (&blueprint.metadata.colonyname, &blueprint.metadata.name);
        if blueprint.blueprintid.is_empty() || self.blueprints().history.contains_key(&blueprint.blueprintid) {
            return Err(ApiError::bad_request(texts::ID_IN_USE));
        }
        if self.blueprints().blueprints.contains_key(&key(colonyname, name)) {
            return Err(ApiError::new(409, texts::blueprint_exists(name, colonyname)));
        }
        let mut stored = blueprint.clone();
        stored.metadata.generation = 1;
        stored.metadata.created_at = now;
        stored.metadata.updated_at = now;
        stored.metadata.last_reconciliation_process = String::new();
        stored.metadata.last_reconciliation_time = Time::ZERO;
        self.reconcile_one(caller, &mut stored, false, processid, now)?;
        self.blueprints_mut().record(&stored, historyid, caller, "create", now);
        self.blueprints_mut().blueprints.insert(key(colonyname, name), stored.clone());
        Ok(Reply::Blueprint(Box::new(stored)))
    }

    /// A new spec (or `forcegeneration`) is a new generation, recorded in the history and
    /// reconciled; otherwise the generation stays. A blueprint sent without a status
    /// keeps the stored one.
    pub(crate) fn update_blueprint(
        &mut self,
        caller: &str,
        blueprint: &Blueprint,
        forcegeneration: bool,
        historyid: &str,
        processid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let (colonyname, name) = (&blueprint.metadata.colonyname, &blueprint.metadata.name);
        let old = self
            .blueprints()
            .blueprints
            .get(&key(colonyname, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(texts::blueprint_missing(name, colonyname)))?;
        self.check_blueprint(blueprint)?;
        let changed = old.spec != blueprint.spec || forcegeneration;
        let mut stored = blueprint.clone();
        stored.blueprintid = old.blueprintid.clone();
        stored.metadata.created_at = old.metadata.created_at;
        stored.metadata.updated_at = now;
        stored.metadata.generation = old.metadata.generation + i64::from(changed);
        stored.metadata.last_reconciliation_process = old.metadata.last_reconciliation_process.clone();
        stored.metadata.last_reconciliation_time = old.metadata.last_reconciliation_time;
        if stored.status.0.is_null() {
            stored.status = old.status.clone();
        }
        if changed {
            self.reconcile_one(caller, &mut stored, false, processid, now)?;
            self.blueprints_mut().record(&stored, historyid, caller, "update", now);
        }
        self.blueprints_mut().blueprints.insert(key(colonyname, name), stored.clone());
        Ok(Reply::Blueprint(Box::new(stored)))
    }

    /// Removes a blueprint and its history, and asks its kind's reconciler to clean up.
    pub(crate) fn remove_blueprint(
        &mut self,
        caller: &str,
        colonyname: &str,
        name: &str,
        processid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let blueprint = self.stored_blueprint(colonyname, name)?.clone();
        let cleanup = self
            .blueprints()
            .definition_of_kind(colonyname, &blueprint.kind)
            .map(|d| d.definition.spec.handler.executor_type.clone())
            .filter(|t| !t.is_empty());
        if let Some(executortype) = cleanup {
            let mut spec = reconcile_spec(colonyname, &executortype, "", kwargs(&[("blueprintName", name.into())]));
            spec.nodename = CLEANUP_FUNCTION.into();
            spec.funcname = CLEANUP_FUNCTION.into();
            self.submit_for(caller, &spec, processid, now)?;
        }
        let data = self.blueprints_mut();
        data.blueprints.remove(&key(colonyname, name));
        data.history.remove(&blueprint.blueprintid);
        Ok(Reply::Empty)
    }

    pub(crate) fn update_blueprint_status(
        &mut self,
        colonyname: &str,
        name: &str,
        status: &Json,
        now: Time,
    ) -> ApiResult<Reply> {
        self.stored_blueprint(colonyname, name)?;
        object_or_null(status, texts::STATUS_NOT_OBJECT)?;
        if let Some(blueprint) = self.blueprints_mut().blueprints.get_mut(&key(colonyname, name)) {
            blueprint.status = status.clone();
            blueprint.metadata.updated_at = now;
        }
        Ok(Reply::Empty)
    }

    /// `reconcileblueprintmsg`: `force` moves the generation on first, as in the reference.
    pub(crate) fn reconcile_blueprint(
        &mut self,
        caller: &str,
        colonyname: &str,
        name: &str,
        force: bool,
        processid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let mut blueprint = self.stored_blueprint(colonyname, name)?.clone();
        if force {
            blueprint.metadata.generation += 1;
        }
        let process = self
            .reconcile_one(caller, &mut blueprint, force, processid, now)?
            .ok_or_else(|| ApiError::bad_request(texts::NO_HANDLER))?;
        self.blueprints_mut().blueprints.insert(key(colonyname, name), blueprint);
        Ok(Reply::Process(Box::new(process)))
    }

    /// The leader's periodic reconciliation of a kind: one `reconcile` process (kwargs
    /// `kind`) per executor type and location its blueprints need, except where the
    /// previous one has not ended. Process ids derive from `processid`.
    pub(crate) fn run_reconcile(
        &mut self,
        colonyname: &str,
        name: &str,
        tick: Time,
        processid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let stored = self
            .blueprints()
            .definitions
            .get(&key(colonyname, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(texts::definition_missing(name, colonyname)))?;
        if stored.nextrun.is_zero() || stored.nextrun != tick || now < tick {
            return Err(ApiError::new(409, texts::RECONCILE_DONE));
        }
        let kind = &stored.definition.spec.names.kind;
        let groups: BTreeSet<(String, String)> = self
            .blueprints()
            .blueprints_in(colonyname)
            .filter(|b| b.kind == *kind)
            .filter_map(|b| self.blueprints().executor_type(b).map(|t| (t, b.metadata.locationname.clone())))
            .filter(|group| {
                let latest = stored.latest.get(group).and_then(|id| self.process(id));
                !latest.is_some_and(|p| matches!(p.state, ProcessState::Waiting | ProcessState::Running))
            })
            .collect();
        let mut latest = stored.latest.clone();
        for ((executortype, locationname), id) in groups.iter().zip(process_ids(processid, groups.len())) {
            let spec = reconcile_spec(colonyname, executortype, locationname, kwargs(&[("kind", kind.clone().into())]));
            self.submit_for(&stored.initiatorid, &spec, &id, now)?;
            latest.insert((executortype.clone(), locationname.clone()), id);
        }
        let interval = stored.definition.spec.handler.reconcile_interval;
        let next = StoredDefinition { nextrun: now.plus_seconds(interval), latest, ..stored };
        self.blueprints_mut().definitions.insert(key(colonyname, name), next);
        Ok(Reply::Empty)
    }

    /// The periodic reconciliations due at `now`, for the leader to propose.
    pub fn due_reconciles(&self, now: Time) -> Vec<DueReconcile> {
        self.blueprints()
            .definitions
            .iter()
            .filter(|(_, d)| !d.nextrun.is_zero() && d.nextrun <= now)
            .map(|((colonyname, name), d)| DueReconcile {
                colonyname: colonyname.clone(),
                name: name.clone(),
                tick: d.nextrun,
            })
            .collect()
    }

    /// A colony's blueprints and definitions go with it.
    pub(crate) fn remove_blueprints_of(&mut self, colonyname: &str) {
        let data = self.blueprints_mut();
        let blueprints: Vec<(Key, String)> = data
            .blueprints_in(colonyname)
            .map(|b| (key(colonyname, &b.metadata.name), b.blueprintid.clone()))
            .collect();
        for (name, id) in blueprints {
            data.blueprints.remove(&name);
            data.history.remove(&id);
        }
        let definitions: Vec<Key> =
            data.definitions_in(colonyname).map(|d| key(colonyname, &d.definition.metadata.name)).collect();
        for name in definitions {
            data.definitions.remove(&name);
        }
    }

    /// `getblueprintdefinitionmsg`.
    pub fn get_blueprint_definition(
        &self,
        caller: &str,
        colonyname: &str,
        name: &str,
    ) -> ApiResult<BlueprintDefinition> {
        self.require_member_or_owner(caller, colonyname)?;
        self.blueprints()
            .definitions
            .get(&key(colonyname, name))
            .map(|d| d.definition.clone())
            .ok_or_else(|| ApiError::not_found(texts::DEFINITION_NOT_FOUND))
    }

    /// `getblueprintdefinitionsmsg`, by name.
    pub fn get_blueprint_definitions(&self, caller: &str, colonyname: &str) -> ApiResult<Vec<BlueprintDefinition>> {
        self.require_member_or_owner(caller, colonyname)?;
        Ok(self.blueprints().definitions_in(colonyname).map(|d| d.definition.clone()).collect())
    }

    /// `getblueprintmsg`.
    pub fn get_blueprint(&self, caller: &str, colonyname: &str, name: &str) -> ApiResult<Blueprint> {
        self.require_member_or_owner(caller, colonyname)?;
        self.stored_blueprint(colonyname, name).cloned()
    }

    /// `getblueprintsmsg`, by name. The location filters only together with a kind, as in
    /// the reference.
    pub fn get_blueprints(
        &self,
        caller: &str,
        colonyname: &str,
        kind: &str,
        locationname: &str,
    ) -> ApiResult<Vec<Blueprint>> {
        self.require_member_or_owner(caller, colonyname)?;
        Ok(self
            .blueprints()
            .blueprints_in(colonyname)
            .filter(|b| {
                kind.is_empty()
                    || (b.kind == kind && (locationname.is_empty() || b.metadata.locationname == locationname))
            })
            .cloned()
            .collect())
    }

    /// `getblueprinthistorymsg`: newest first; `limit` <= 0 means all that are kept.
    pub fn get_blueprint_history(
        &self,
        caller: &str,
        blueprintid: &str,
        limit: i64,
    ) -> ApiResult<Vec<BlueprintHistory>> {
        let history = self
            .blueprints()
            .history
            .get(blueprintid)
            .ok_or_else(|| ApiError::not_found(texts::BLUEPRINT_NOT_FOUND))?;
        let colonyname = history.back().map(|h| h.namespace.clone()).unwrap_or_default();
        self.require_member_or_owner(caller, &colonyname)?;
        let limit = if limit <= 0 { usize::MAX } else { limit as usize };
        Ok(history.iter().rev().take(limit).cloned().collect())
    }

    /// Who may write what (called by `authorize`). Reads check their own callers.
    pub(crate) fn authorize_blueprint_op(&self, caller: &str, op: &crate::command::Op) -> ApiResult<()> {
        use crate::command::Op;
        match op {
            Op::AddBlueprintDefinition { definition } => {
                self.require_colony_owner(caller, &definition.metadata.colonyname)
            }
            Op::RemoveBlueprintDefinition { colonyname, .. } => self.require_colony_owner(caller, colonyname),
            Op::AddBlueprint { blueprint, .. } | Op::UpdateBlueprint { blueprint, .. } => {
                self.require_member_or_owner(caller, &blueprint.metadata.colonyname)
            }
            Op::RemoveBlueprint { colonyname, .. } => self.require_member_or_owner(caller, colonyname),
            Op::UpdateBlueprintStatus { colonyname, .. } | Op::ReconcileBlueprint { colonyname, .. } => {
                self.require_member(caller, colonyname, true)
            }
            _ => Ok(()),
        }
    }
}

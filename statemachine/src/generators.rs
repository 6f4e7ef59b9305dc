//! Generators (§5.9): arguments packed by clients, run as workflows by the leader in
//! batches of `trigger`, or with whatever waits once `timeout` seconds passed since the
//! last pack.
//!
//! Packs are numbered. A run names the number of the first argument it takes, and takes
//! the arguments off the queue in the same command that creates the workflow: a duplicate
//! run (a deposed leader's, committed late) finds the head moved on and is refused, so no
//! argument is lost or used twice.

use crate::crons::{parse_workflow, process_ids};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::model::Generator;
use crate::schedule::generator_batch;
use crate::scheduled::StoredGenerator;
use crate::state::{Reply, State};
use crate::texts;
use crate::time::Time;
use std::collections::BTreeMap;

/// A generator run the leader should propose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueGenerator {
    pub generatorid: String,
    /// The number of the first queued argument, which the run command must name.
    pub head: u64,
}

impl State {
    pub(crate) fn generator(&self, generatorid: &str) -> Option<&StoredGenerator> {
        self.data.schedules.generators.get(generatorid)
    }

    pub(crate) fn add_generator(&mut self, caller: &str, generator: &Generator) -> ApiResult<Reply> {
        if generator.name.is_empty() {
            return Err(ApiError::bad_request(texts::ADD_GENERATOR_EMPTY_NAME));
        }
        if generator.generatorid.is_empty() || self.generator(&generator.generatorid).is_some() {
            return Err(ApiError::internal(texts::GENERATOR_ID_NOT_NEW));
        }
        if generator.trigger <= 0 {
            return Err(ApiError::bad_request(texts::GENERATOR_BAD_TRIGGER));
        }
        self.check_workflow_text(&generator.workflowspec, &generator.colonyname)?;
        let taken = self
            .data
            .schedules
            .generators
            .values()
            .any(|g| g.generator.colonyname == generator.colonyname && g.generator.name == generator.name);
        if taken {
            return Err(ApiError::bad_request(texts::generator_already_exists(&generator.name, &generator.colonyname)));
        }
        let initiatorname = self
            .initiator_name(caller, &generator.colonyname)
            .ok_or_else(|| ApiError::bad_request(texts::NO_INITIATOR))?;
        let stored = Generator {
            initiatorid: caller.to_string(),
            initiatorname,
            firstpack: Time::ZERO,
            lastrun: Time::ZERO,
            queuesize: 0,
            checkerperiod: 0,
            ..generator.clone()
        };
        let entry = StoredGenerator { generator: stored.clone(), ..StoredGenerator::default() };
        self.data.schedules.generators.insert(stored.generatorid.clone(), entry);
        Ok(Reply::Generator(Box::new(stored)))
    }

    pub(crate) fn pack_generator(&mut self, generatorid: &str, arg: &str, now: Time) -> ApiResult<Reply> {
        let entry = self
            .data
            .schedules
            .generators
            .get_mut(generatorid)
            .ok_or_else(|| ApiError::internal(texts::PACK_GENERATOR_NIL))?;
        entry.queue.push_back(arg.to_string());
        entry.packed += 1;
        entry.lastpack = now;
        if entry.generator.firstpack.is_zero() {
            entry.generator.firstpack = now;
        }
        Ok(Reply::Empty)
    }

    pub(crate) fn fire_generator(
        &mut self,
        generatorid: &str,
        head: u64,
        processgraphid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let entry = self.generator(generatorid).ok_or_else(|| ApiError::bad_request(texts::RUN_GENERATOR_MISSING))?;
        if entry.head() != head {
            return Err(ApiError::new(409, texts::generator_run_done(head)));
        }
        let g = &entry.generator;
        let count = generator_batch(entry.queue.len(), g.trigger, g.timeout, entry.lastpack, now)
            .ok_or_else(|| ApiError::new(409, texts::GENERATOR_RUN_NOT_DUE))?;
        let args: Vec<Json> =
            entry.queue.iter().take(count).map(|a| Json(serde_json::Value::String(a.clone()))).collect();
        let (initiatorid, name) = (g.initiatorid.clone(), g.name.clone());
        // Root processes get the packed arguments in place of their args (§5.9).
        let created = parse_workflow(&g.workflowspec, &g.colonyname).and_then(|mut workflow| {
            for spec in &mut workflow.functionspecs {
                if spec.conditions.dependencies.is_empty() {
                    spec.args = args.clone();
                    spec.kwargs = BTreeMap::new();
                }
            }
            let processids = process_ids(processgraphid, workflow.functionspecs.len());
            self.create_workflow(&initiatorid, &workflow, processgraphid, &processids, now, &[])
        });
        let entry = self.data.schedules.generators.get_mut(generatorid).expect("looked up above");
        // The arguments leave the queue even when the workflow cannot be created (its
        // initiator left the colony): kept, they would make the leader retry for ever.
        entry.queue = entry.queue.skip(count);
        match created {
            Ok(_) => {
                entry.generator.lastrun = now;
                Ok(Reply::Generator(Box::new(entry.generator.clone())))
            }
            Err(e) => Ok(Reply::Skipped(format!("generator {name}: {count} arguments dropped: {}", e.message))),
        }
    }

    pub(crate) fn remove_generator(&mut self, generatorid: &str) -> ApiResult<Reply> {
        self.data
            .schedules
            .generators
            .remove(generatorid)
            .map(|_| Reply::Empty)
            .ok_or_else(|| ApiError::internal(texts::REMOVE_GENERATOR_NIL))
    }

    /// The generator runs due at `now`, one per generator (a generator with two full
    /// batches is due again after the first run commits).
    pub fn due_generators(&self, now: Time) -> Vec<DueGenerator> {
        self.data
            .schedules
            .generators
            .values()
            .filter(|e| {
                let g = &e.generator;
                generator_batch(e.queue.len(), g.trigger, g.timeout, e.lastpack, now).is_some()
            })
            .map(|e| DueGenerator { generatorid: e.generator.generatorid.clone(), head: e.head() })
            .collect()
    }

    /// The generator as `getgeneratormsg` shows it, with its queue size.
    fn shown(entry: &StoredGenerator) -> Generator {
        Generator { queuesize: entry.queue.len() as i64, ..entry.generator.clone() }
    }

    /// `getgeneratormsg`.
    pub fn get_generator(&self, caller: &str, generatorid: &str) -> ApiResult<Generator> {
        let entry = self.generator(generatorid).ok_or_else(|| ApiError::internal(texts::GET_GENERATOR_NIL))?;
        self.require_member(caller, &entry.generator.colonyname, true)?;
        Ok(Self::shown(entry))
    }

    /// `getgeneratorsmsg`: by name; `count` is a limit.
    pub fn get_generators(&self, caller: &str, colonyname: &str, count: i64) -> ApiResult<Vec<Generator>> {
        self.require_member(caller, colonyname, true)?;
        let mut generators: Vec<Generator> = self
            .data
            .schedules
            .generators
            .values()
            .filter(|e| e.generator.colonyname == colonyname)
            .map(|e| e.generator.clone())
            .collect();
        generators.sort_by(|a, b| a.name.cmp(&b.name));
        generators.truncate(count.max(0) as usize);
        Ok(generators)
    }

    /// `resolvegeneratormsg`: by name in a colony.
    pub fn resolve_generator(&self, caller: &str, colonyname: &str, name: &str) -> ApiResult<Generator> {
        self.require_member(caller, colonyname, true)?;
        self.data
            .schedules
            .generators
            .values()
            .find(|e| e.generator.colonyname == colonyname && e.generator.name == name)
            .map(Self::shown)
            .ok_or_else(|| ApiError::internal(texts::RESOLVE_GENERATOR_NIL))
    }
}

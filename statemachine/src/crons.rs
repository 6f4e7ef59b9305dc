//! Crons (§5.8): workflows run on a schedule, by the leader, exactly once per tick.
//!
//! A cron's next run is replicated state. The leader proposes a run when it is due, as one
//! command that creates the workflow and moves the schedule on, so no failover can fall
//! between the two; the command names the tick it is for, and `apply` refuses it once that
//! tick is done. A deposed leader's proposal that commits late therefore fires nothing.

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::model::{Cron, ProcessState, WorkflowSpec};
use crate::schedule::{Schedule, first_slot, run_time};
use crate::scheduled::StoredCron;
use crate::state::{Reply, State};
use crate::texts;
use crate::time::Time;
use crate::wire::sha3_hex;
use crate::workflow::check_stored_workflow;

/// A cron run the leader should propose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueCron {
    pub cronid: String,
    /// The cron's `nextrun`, which the run command must name.
    pub tick: Time,
}

/// The ids of the processes of a scheduled run: derived from the new graph id, so that
/// a proposer need not know how many functions the stored spec holds.
pub(crate) fn process_ids(processgraphid: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| sha3_hex(&format!("{processgraphid}/{i}"))).collect()
}

fn clone_entry<K: Clone, V: Clone>((key, value): (&K, &V)) -> (K, V) {
    (key.clone(), value.clone())
}

/// Parses a stored workflow spec string as the cron or generator in `colonyname` runs it.
pub(crate) fn parse_workflow(text: &str, colonyname: &str) -> ApiResult<WorkflowSpec> {
    let mut workflow: WorkflowSpec = serde_json::from_str(text).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Runs are created in the cron's colony, whose membership was checked: a spec naming
    // another colony would let a member start work there.
    if !workflow.colonyname.is_empty() && workflow.colonyname != colonyname {
        return Err(ApiError::bad_request(texts::workflow_other_colony(&workflow.colonyname, colonyname)));
    }
    workflow.colonyname = colonyname.to_string();
    for spec in &mut workflow.functionspecs {
        spec.conditions.colonyname = colonyname.to_string();
    }
    Ok(workflow)
}

impl State {
    pub(crate) fn cron(&self, cronid: &str) -> Option<&Cron> {
        self.data.schedules.crons.get(cronid).map(|c| &c.cron)
    }

    /// Checks a workflow spec for later runs: it parses, its graph is sound, and each of its
    /// specs would make a valid process (priority, resources).
    pub(crate) fn check_workflow_text(&self, text: &str, colonyname: &str) -> ApiResult<WorkflowSpec> {
        let workflow = parse_workflow(text, colonyname)?;
        check_stored_workflow(&workflow.functionspecs)?;
        for spec in &workflow.functionspecs {
            self.new_process(spec, "check", Time::ZERO).map_err(|e| ApiError::bad_request(e.message))?;
        }
        Ok(workflow)
    }

    pub(crate) fn add_cron(&mut self, caller: &str, cron: &Cron, draw: u64, now: Time) -> ApiResult<Reply> {
        if cron.name.is_empty() {
            return Err(ApiError::bad_request(texts::ADD_CRON_EMPTY_NAME));
        }
        if cron.cronid.is_empty() || self.cron(&cron.cronid).is_some() {
            return Err(ApiError::internal(texts::CRON_ID_NOT_NEW));
        }
        self.check_workflow_text(&cron.workflowspec, &cron.colonyname)?;
        let schedule = Schedule::of(&cron.cronexpression, cron.interval, cron.random)?;
        if self.data.schedules.crons.values().any(|c| c.cron.colonyname == cron.colonyname && c.cron.name == cron.name)
        {
            return Err(ApiError::bad_request(texts::cron_already_exists(&cron.name)));
        }
        let initiatorname =
            self.initiator_name(caller, &cron.colonyname).ok_or_else(|| ApiError::bad_request(texts::NO_INITIATOR))?;
        let slot =
            first_slot(&schedule, now, cron.random).ok_or_else(|| ApiError::bad_request(texts::CRON_NEVER_FIRES))?;
        let stored = Cron {
            initiatorid: caller.to_string(),
            initiatorname,
            // A new cron is scheduled at once (the reference waits for its loop's first pass).
            nextrun: run_time(&schedule, slot, cron.random, draw),
            lastrun: Time::ZERO,
            prevprocessgraphid: String::new(),
            checkerperiod: 0,
            ..cron.clone()
        };
        self.data.schedules.crons.insert(stored.cronid.clone(), StoredCron { cron: stored.clone(), slot });
        Ok(Reply::Cron(Box::new(stored)))
    }

    /// Whether a `waitforprevprocessgraph` cron must wait: its previous graph still exists
    /// and has not ended. (A cancelled graph has ended; the reference would wait for ever.)
    fn waits_for_previous(&self, cron: &Cron) -> bool {
        cron.waitforprevprocessgraph
            && self.graph(&cron.prevprocessgraphid).is_some_and(|g| {
                !matches!(g.state, ProcessState::Success | ProcessState::Failed | ProcessState::Cancelled)
            })
    }

    /// The concatenated outputs of the leaves of a cron's previous graph (§5.8).
    fn previous_outputs(&self, cron: &Cron) -> Vec<Json> {
        let Some(graph) = self.graph(&cron.prevprocessgraphid) else { return Vec::new() };
        graph
            .processids
            .iter()
            .filter_map(|id| self.process(id))
            .filter(|p| p.children.is_empty())
            .flat_map(|p| p.out.iter().cloned())
            .collect()
    }

    pub(crate) fn run_cron(
        &mut self,
        cronid: &str,
        tick: Option<Time>,
        processgraphid: &str,
        draw: u64,
        now: Time,
    ) -> ApiResult<Reply> {
        let stored =
            self.data.schedules.crons.get(cronid).ok_or_else(|| ApiError::bad_request(texts::RUN_CRON_MISSING))?;
        let (cron, slot) = (stored.cron.clone(), stored.slot);
        if let Some(tick) = tick {
            if cron.nextrun != tick {
                return Err(ApiError::new(409, texts::cron_run_done(&tick.to_rfc3339())));
            }
            if now < tick {
                return Err(ApiError::new(409, texts::CRON_RUN_NOT_DUE));
            }
        }
        if self.waits_for_previous(&cron) {
            return Err(ApiError::new(409, texts::cron_previous_running(&cron.prevprocessgraphid)));
        }
        let mut next = cron.clone();
        let mut next_slot = slot;
        if tick.is_some() {
            // The schedule moves on whatever happens to the workflow, so a run that cannot
            // be created (its initiator left the colony) does not keep the leader retrying.
            let schedule = Schedule::of(&cron.cronexpression, cron.interval, cron.random)?;
            match schedule.following(slot, now) {
                Some(slot) => {
                    next_slot = slot;
                    next.nextrun = run_time(&schedule, slot, cron.random, draw);
                }
                // An expression that never matches again: the cron stays, never due.
                None => next.nextrun = Time::from_unix_nanos(i64::MAX),
            }
        }
        let created = parse_workflow(&cron.workflowspec, &cron.colonyname).and_then(|workflow| {
            let input = self.previous_outputs(&cron);
            let processids = process_ids(processgraphid, workflow.functionspecs.len());
            self.create_workflow(&cron.initiatorid, &workflow, processgraphid, &processids, now, &input)
        });
        let reply = match created {
            Ok(_) => {
                next.lastrun = now;
                next.prevprocessgraphid = processgraphid.to_string();
                Reply::Cron(Box::new(next.clone()))
            }
            Err(e) if tick.is_some() => Reply::Skipped(format!("cron {}: {}", cron.name, e.message)),
            Err(e) => return Err(e),
        };
        self.data.schedules.crons.insert(cronid.to_string(), StoredCron { cron: next, slot: next_slot });
        Ok(reply)
    }

    pub(crate) fn remove_cron(&mut self, cronid: &str) -> ApiResult<Reply> {
        self.data
            .schedules
            .crons
            .remove(cronid)
            .map(|_| Reply::Empty)
            .ok_or_else(|| ApiError::internal(texts::REMOVE_CRON_NIL))
    }

    /// The cron runs due at `now`, for the leader to propose. A cron waiting for its
    /// previous graph is not due until that graph ends.
    pub fn due_crons(&self, now: Time) -> Vec<DueCron> {
        self.data
            .schedules
            .crons
            .values()
            .filter(|c| c.cron.nextrun <= now && !self.waits_for_previous(&c.cron))
            .map(|c| DueCron { cronid: c.cron.cronid.clone(), tick: c.cron.nextrun })
            .collect()
    }

    /// `getcronmsg`.
    pub fn get_cron(&self, caller: &str, cronid: &str) -> ApiResult<Cron> {
        let cron = self.cron(cronid).ok_or_else(|| ApiError::internal(texts::GET_CRON_NIL))?;
        self.require_member(caller, &cron.colonyname, true)?;
        Ok(cron.clone())
    }

    /// `getcronsmsg`: by name; `count` is a limit.
    pub fn get_crons(&self, caller: &str, colonyname: &str, count: i64) -> ApiResult<Vec<Cron>> {
        self.require_member(caller, colonyname, true)?;
        let mut crons: Vec<Cron> = self
            .data
            .schedules
            .crons
            .values()
            .filter(|c| c.cron.colonyname == colonyname)
            .map(|c| c.cron.clone())
            .collect();
        crons.sort_by(|a, b| a.name.cmp(&b.name));
        crons.truncate(count.max(0) as usize);
        Ok(crons)
    }

    /// Removing a cron or generator: its creator, or the colony owner.
    pub(crate) fn require_creator_or_owner(&self, caller: &str, colonyname: &str, initiatorid: &str) -> ApiResult<()> {
        if self.require_colony_owner(caller, colonyname).is_ok() {
            return Ok(());
        }
        self.require_member(caller, colonyname, true)?;
        if caller == initiatorid { Ok(()) } else { Err(ApiError::forbidden(texts::NOT_CREATOR_OR_OWNER)) }
    }

    /// A colony's crons and generators go with it.
    pub(crate) fn remove_schedules_of(&mut self, colonyname: &str) {
        let schedules = &mut self.data.schedules;
        schedules.crons =
            schedules.crons.iter().filter(|(_, c)| c.cron.colonyname != colonyname).map(clone_entry).collect();
        schedules.generators = schedules
            .generators
            .iter()
            .filter(|(_, g)| g.generator.colonyname != colonyname)
            .map(clone_entry)
            .collect();
    }
}

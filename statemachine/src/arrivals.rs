//! The order in which rows arrived, to list rows with equal times as the original does.
//!
//! The original lists processes by a time alone (`ORDER BY PRIORITYTIME`, `START_TIME`,
//! `END_TIME DESC`, `SUBMISSION_TIME`) and colonies with no `ORDER BY`, so rows with equal
//! times come in PostgreSQL's storage order, the order they were written, in ascending and
//! descending lists alike (the processes a failed parent fails with it keep a zero end time
//! and are listed so). Here one command also stamps one time on every row it creates (a
//! workflow's processes all have one priority time), so ties are common; an arrival number,
//! replicated with the rest of the state, breaks them the same way on every node: earlier
//! arrivals first, whichever way the list runs.

use crate::model::{Colony, Process, ProcessGraph};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Arrival numbers of processes, graphs and colonies; part of the snapshot (format 3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Arrivals {
    /// The number the next arrival gets.
    pub next: u64,
    pub processes: OrdMap<String, u64>,
    pub graphs: OrdMap<String, u64>,
    pub colonies: BTreeMap<String, u64>,
}

/// The number of `id` in `numbers`; an id seen for the first time gets `next`.
fn number_of(next: &mut u64, numbers: &mut OrdMap<String, u64>, id: &str) -> u64 {
    if let Some(seq) = numbers.get(id) {
        return *seq;
    }
    let seq = *next;
    *next += 1;
    numbers.insert(id.to_string(), seq);
    seq
}

impl Arrivals {
    /// The process's number; a process seen for the first time gets the next one.
    pub fn process(&mut self, processid: &str) -> u64 {
        number_of(&mut self.next, &mut self.processes, processid)
    }

    pub fn graph(&mut self, processgraphid: &str) -> u64 {
        number_of(&mut self.next, &mut self.graphs, processgraphid)
    }

    pub fn colony(&mut self, colonyname: &str) {
        self.colonies.insert(colonyname.to_string(), self.next);
        self.next += 1;
    }

    /// Numbers for a state saved before arrivals were kept (snapshot formats 1 and 2): the
    /// best order that state still holds, the same on every node that loads it. Colonies
    /// by name, processes and graphs by submission time, then id.
    pub fn migrated<'a>(
        colonies: impl Iterator<Item = &'a Colony>,
        processes: impl Iterator<Item = &'a Process>,
        graphs: impl Iterator<Item = &'a ProcessGraph>,
    ) -> Arrivals {
        let mut arrivals = Arrivals::default();
        for colony in colonies {
            arrivals.colony(&colony.name);
        }
        let mut processes: Vec<&Process> = processes.collect();
        processes.sort_by(|a, b| (a.submissiontime, &a.processid).cmp(&(b.submissiontime, &b.processid)));
        for process in processes {
            arrivals.process(&process.processid);
        }
        let mut graphs: Vec<&ProcessGraph> = graphs.collect();
        graphs.sort_by(|a, b| (a.submissiontime, &a.processgraphid).cmp(&(b.submissiontime, &b.processgraphid)));
        for graph in graphs {
            arrivals.graph(&graph.processgraphid);
        }
        arrivals
    }
}

/// The tie-breaker of an index key: the arrival number for lists read oldest first, its
/// complement for lists read backwards (newest first), so that ties still come earliest
/// arrival first.
pub(crate) fn tie_break(arrival: u64, read_backwards: bool) -> u64 {
    if read_backwards { u64::MAX - arrival } else { arrival }
}

/// The ids reachable from `roots`, depth first, each once, children in their listed order:
/// how the original lists a graph's processes (its `ProcessGraph.Iterate`).
pub(crate) fn depth_first(roots: &[String], children_of: impl Fn(&str) -> Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut order = Vec::new();
    let mut stack: Vec<String> = roots.iter().rev().cloned().collect();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        stack.extend(children_of(&id).into_iter().rev());
        order.push(id);
    }
    order
}

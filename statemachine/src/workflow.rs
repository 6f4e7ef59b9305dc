//! Workflows: a process graph built from a `WorkflowSpec` (§5.5).
//!
//! The whole graph is created by one command, after every check has passed, so a bad
//! workflow creates nothing (the reference leaves an empty graph behind, §12.17). Unlike
//! the reference, cycles are refused: a cycle would leave its processes waiting forever.

use crate::arrivals::{depth_first, tie_break};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::model::{
    Edge, FunctionSpec, GraphNode, GraphNodeData, GraphNodePosition, GraphNodeStyle, Process, ProcessGraph,
    ProcessState, WorkflowSpec,
};
use crate::queries::MAX_PROCESS_COUNT;
use crate::state::{Reply, State};
use crate::texts;
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Layout of `getprocessgraphmsg` nodes (§4.6).
const ROW_HEIGHT: i64 = 80;
const BOX_WIDTH: i64 = 150;
const BOX_PADDING: i64 = 50;

fn workflow_error(message: impl Into<String>) -> ApiError {
    // The reference answers every workflow validation error with 500.
    ApiError::internal(message)
}

/// Checks names and dependencies; returns, per spec, the indexes of its parents.
fn resolve_dependencies(specs: &[FunctionSpec]) -> ApiResult<Vec<Vec<usize>>> {
    let mut index = BTreeMap::new();
    for (i, spec) in specs.iter().enumerate() {
        if spec.nodename.is_empty() {
            return Err(workflow_error(texts::NODENAME_MISSING));
        }
        if index.insert(spec.nodename.as_str(), i).is_some() {
            return Err(workflow_error(texts::duplicate_nodename(&spec.nodename)));
        }
    }
    let parents: Vec<Vec<usize>> = specs
        .iter()
        .map(|spec| {
            spec.conditions
                .dependencies
                .iter()
                .map(|name| index.get(name.as_str()).copied().ok_or_else(|| workflow_error(texts::UNKNOWN_DEPENDENCY)))
                .collect()
        })
        .collect::<ApiResult<_>>()?;
    // Kahn's algorithm: whatever is never freed lies on a cycle.
    let mut waiting_on: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut ready: VecDeque<usize> = (0..specs.len()).filter(|i| waiting_on[*i] == 0).collect();
    let mut freed = 0;
    while let Some(done) = ready.pop_front() {
        freed += 1;
        for (child, its_parents) in parents.iter().enumerate() {
            for _ in its_parents.iter().filter(|p| **p == done) {
                waiting_on[child] -= 1;
                if waiting_on[child] == 0 {
                    ready.push_back(child);
                }
            }
        }
    }
    if freed < specs.len() {
        return Err(workflow_error(texts::DEPENDENCY_CYCLE));
    }
    Ok(parents)
}

/// Checks a workflow spec that will be run later (a cron's or a generator's), with 400s:
/// names, dependencies and cycles as a submit would, and at least one function.
pub(crate) fn check_stored_workflow(specs: &[FunctionSpec]) -> ApiResult<()> {
    if specs.is_empty() {
        return Err(ApiError::bad_request(texts::WORKFLOW_EMPTY));
    }
    if let Some(spec) = specs.iter().find(|s| s.funcname.is_empty()) {
        return Err(ApiError::bad_request(texts::workflow_no_funcname(&spec.nodename)));
    }
    resolve_dependencies(specs).map(|_| ()).map_err(|e| ApiError::bad_request(e.message))
}

fn graph_state_color(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Waiting => "#eee8d8",
        ProcessState::Running => "#4689cd",
        ProcessState::Success => "#92d050",
        ProcessState::Failed => "#cb4239",
        ProcessState::Cancelled => "#f5a623",
    }
}

impl State {
    pub(crate) fn graph(&self, processgraphid: &str) -> Option<&ProcessGraph> {
        self.data.graphs.get(processgraphid).map(|graph| &**graph)
    }

    pub(crate) fn index_graph(&mut self, graph: &ProcessGraph, insert: bool) {
        let arrival = self.data.arrivals.graph(&graph.processgraphid);
        let set = self.idx.graphs_by_state.entry((graph.colonyname.clone(), graph.state)).or_default();
        // Listed newest first.
        let key = (graph.submissiontime.ordinal(), tie_break(arrival, true), graph.processgraphid.clone());
        if insert {
            set.insert(key);
        } else {
            set.remove(&key);
        }
    }

    fn update_graph(&mut self, processgraphid: &str, change: impl FnOnce(&mut ProcessGraph)) {
        let Some(graph) = self.data.graphs.remove(processgraphid) else { return };
        let mut graph = Arc::unwrap_or_clone(graph);
        self.index_graph(&graph, false);
        change(&mut graph);
        self.index_graph(&graph, true);
        self.data.graphs.insert(graph.processgraphid.clone(), Arc::new(graph));
    }

    pub(crate) fn submit_workflow(
        &mut self,
        caller: &str,
        workflow: &WorkflowSpec,
        processgraphid: &str,
        processids: &[String],
        now: Time,
    ) -> ApiResult<Reply> {
        self.create_workflow(caller, workflow, processgraphid, processids, now, &[])
    }

    /// A workflow whose root processes get `root_input` as input (a cron's run gets the
    /// outputs of its previous run, §5.8); nothing is created if any check fails.
    pub(crate) fn create_workflow(
        &mut self,
        caller: &str,
        workflow: &WorkflowSpec,
        processgraphid: &str,
        processids: &[String],
        now: Time,
        root_input: &[Json],
    ) -> ApiResult<Reply> {
        let specs = &workflow.functionspecs;
        if processids.len() != specs.len() || processids.iter().collect::<BTreeSet<_>>().len() != specs.len() {
            return Err(ApiError::internal(texts::WORKFLOW_IDS_MISSING));
        }
        if processgraphid.is_empty() || self.graph(processgraphid).is_some() {
            return Err(ApiError::internal(texts::GRAPH_ID_NOT_NEW));
        }
        let initiatorname = self
            .initiator_name(caller, &workflow.colonyname)
            .ok_or_else(|| ApiError::bad_request(texts::NO_INITIATOR))?;
        let parents = resolve_dependencies(specs)?;
        let mut processes = Vec::with_capacity(specs.len());
        for (spec, processid) in specs.iter().zip(processids) {
            let mut spec = spec.clone();
            spec.conditions.colonyname = workflow.colonyname.clone();
            // The server, not the client, turns an unset exec limit into "none" here (§4.3).
            if spec.maxexectime == 0 {
                spec.maxexectime = -1;
            }
            let process = self.new_process(&spec, processid, now)?;
            processes.push(Process {
                initiatorid: caller.to_string(),
                initiatorname: initiatorname.clone(),
                processgraphid: processgraphid.to_string(),
                ..process
            });
        }
        for (child, its_parents) in parents.iter().enumerate() {
            processes[child].waitforparents = !its_parents.is_empty();
            if its_parents.is_empty() {
                processes[child].input = root_input.to_vec();
            }
            for parent in its_parents {
                processes[child].parents.push(processids[*parent].clone());
                processes[*parent].children.push(processids[child].clone());
            }
        }
        for process in &mut processes {
            for attribute in &mut process.attributes {
                attribute.targetprocessgraphid = processgraphid.to_string();
            }
        }
        let rootprocessids: Vec<String> =
            processes.iter().filter(|p| p.parents.is_empty()).map(|p| p.processid.clone()).collect();
        let children: BTreeMap<&str, &Vec<String>> =
            processes.iter().map(|p| (p.processid.as_str(), &p.children)).collect();
        let graph = ProcessGraph {
            processgraphid: processgraphid.to_string(),
            initiatorid: caller.to_string(),
            initiatorname,
            colonyname: workflow.colonyname.clone(),
            // Every process of an acyclic graph is reachable from a root.
            processids: depth_first(&rootprocessids, |id| children.get(id).map(|c| c.to_vec()).unwrap_or_default()),
            rootprocessids,
            state: ProcessState::Waiting,
            submissiontime: now,
            ..ProcessGraph::default()
        };
        self.index_graph(&graph, true);
        self.data.graphs.insert(graph.processgraphid.clone(), Arc::new(graph.clone()));
        for process in processes {
            self.insert_new_process(process.clone());
            self.announce(&process);
        }
        Ok(Reply::ProcessGraph(Box::new(graph)))
    }

    /// Brings a graph up to date after one of its processes changed (§5.5 Resolve): a
    /// failed process with children fails every process of the graph; children whose
    /// parents all succeeded become assignable; the graph state follows its processes.
    pub(crate) fn resolve_graph(&mut self, processgraphid: &str, now: Time) {
        let Some(graph) = self.graph(processgraphid) else { return };
        let ids = graph.processids.clone();
        let state_of = |s: &State, id: &str| s.process(id).map(|p| p.state);
        let cascade = ids
            .iter()
            .any(|id| self.process(id).is_some_and(|p| p.state == ProcessState::Failed && !p.children.is_empty()));
        if cascade {
            for id in &ids {
                if state_of(self, id).is_some_and(|s| s != ProcessState::Failed) {
                    self.update_process(id, |p| {
                        p.state = ProcessState::Failed;
                        for attribute in &mut p.attributes {
                            attribute.state = ProcessState::Failed;
                        }
                    });
                    self.announce_by_id(id);
                }
            }
        }
        for id in &ids {
            let Some(process) = self.process(id) else { continue };
            let parents_done =
                process.parents.iter().all(|parent| state_of(self, parent) == Some(ProcessState::Success));
            if process.waitforparents && parents_done {
                self.update_process(id, |p| p.waitforparents = false);
                self.announce_by_id(id);
            }
        }
        let states: Vec<ProcessState> = ids.iter().filter_map(|id| state_of(self, id)).collect();
        let any = |s| states.contains(&s);
        let new_state = if any(ProcessState::Failed) {
            ProcessState::Failed
        } else if any(ProcessState::Cancelled) {
            ProcessState::Cancelled
        } else if !states.is_empty() && states.iter().all(|s| *s == ProcessState::Success) {
            ProcessState::Success
        } else if any(ProcessState::Success) || any(ProcessState::Running) {
            ProcessState::Running
        } else {
            ProcessState::Waiting
        };
        self.set_graph_state(processgraphid, new_state, now);
    }

    fn set_graph_state(&mut self, processgraphid: &str, state: ProcessState, now: Time) {
        self.update_graph(processgraphid, |g| {
            if g.state == state {
                return;
            }
            if g.state == ProcessState::Waiting && g.starttime.is_zero() {
                g.starttime = now;
            }
            if matches!(state, ProcessState::Success | ProcessState::Failed | ProcessState::Cancelled) {
                g.endtime = now;
            }
            g.state = state;
        });
    }

    /// Runs `resolve_graph` for the graph of `processid`, if it has one.
    pub(crate) fn resolve_graph_of(&mut self, processid: &str, now: Time) {
        if let Some(graphid) = self.process(processid).map(|p| p.processgraphid.clone()).filter(|g| !g.is_empty()) {
            self.resolve_graph(&graphid, now);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_child(
        &mut self,
        caller: &str,
        processgraphid: &str,
        parentprocessid: &str,
        childprocessid: &str,
        spec: &FunctionSpec,
        insert: bool,
        processid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let parent = self
            .process(parentprocessid)
            .ok_or_else(|| ApiError::bad_request(texts::parent_missing(parentprocessid)))?;
        if parent.state != ProcessState::Running {
            return Err(ApiError::bad_request(texts::parent_not_running(parentprocessid)));
        }
        if parent.assignedexecutorid != caller {
            return Err(ApiError::bad_request(texts::parent_not_assigned(parentprocessid, caller)));
        }
        if parent.processgraphid.is_empty() {
            return Err(ApiError::bad_request(texts::parent_not_in_graph(parentprocessid)));
        }
        if parent.processgraphid != processgraphid {
            return Err(ApiError::bad_request(texts::parent_in_other_graph(parentprocessid, processgraphid)));
        }
        if spec.conditions.colonyname != parent.spec.conditions.colonyname {
            return Err(ApiError::bad_request(texts::CHILD_OTHER_COLONY));
        }
        if !childprocessid.is_empty() && self.process(childprocessid).is_none_or(|c| c.processgraphid != processgraphid)
        {
            return Err(ApiError::bad_request(texts::child_not_in_graph(childprocessid)));
        }
        let mut process = self.new_process(spec, processid, now)?;
        process.processgraphid = processgraphid.to_string();
        process.waitforparents = true;
        process.parents = vec![parentprocessid.to_string()];
        let adopted: Vec<String> = if insert {
            self.process(parentprocessid).map(|p| p.children.clone()).unwrap_or_default()
        } else if childprocessid.is_empty() {
            Vec::new()
        } else {
            vec![childprocessid.to_string()]
        };
        process.children = adopted.clone();
        for child in &adopted {
            self.update_process(child, |c| {
                if insert {
                    c.parents.retain(|p| p != parentprocessid);
                }
                c.parents.push(processid.to_string());
                if c.state == ProcessState::Waiting {
                    c.waitforparents = true;
                }
            });
        }
        self.update_process(parentprocessid, |p| {
            if insert {
                p.children = vec![processid.to_string()];
            } else {
                p.children.push(processid.to_string());
            }
        });
        self.insert_new_process(process.clone());
        let roots = self.graph(processgraphid).map(|g| g.rootprocessids.clone()).unwrap_or_default();
        let processids = depth_first(&roots, |id| self.process(id).map(|p| p.children.clone()).unwrap_or_default());
        self.update_graph(processgraphid, |g| g.processids = processids);
        Ok(Reply::Process(Box::new(process)))
    }

    pub(crate) fn cancel_graph(&mut self, processgraphid: &str, now: Time) -> ApiResult<Reply> {
        let ids = self
            .graph(processgraphid)
            .map(|g| g.processids.clone())
            .ok_or_else(|| ApiError::internal(texts::CANCEL_GRAPH_NIL))?;
        for id in &ids {
            if self.process(id).is_some_and(|p| matches!(p.state, ProcessState::Waiting | ProcessState::Running)) {
                self.update_process(id, |p| {
                    p.state = ProcessState::Cancelled;
                    p.endtime = now;
                    for attribute in &mut p.attributes {
                        attribute.state = ProcessState::Cancelled;
                    }
                });
                self.announce_by_id(id);
            }
        }
        self.set_graph_state(processgraphid, ProcessState::Cancelled, now);
        Ok(Reply::Empty)
    }

    pub(crate) fn delete_graph(&mut self, processgraphid: &str) {
        if let Some(graph) = self.data.graphs.remove(processgraphid) {
            self.index_graph(&graph, false);
            self.data.arrivals.graphs.remove(processgraphid);
            for id in &graph.processids {
                self.delete_process(id);
            }
        }
    }

    pub(crate) fn remove_graph(&mut self, processgraphid: &str) -> ApiResult<Reply> {
        let graph = self.graph(processgraphid).ok_or_else(|| ApiError::internal(texts::REMOVE_GRAPH_NIL))?;
        if graph.state == ProcessState::Running {
            return Err(ApiError::bad_request(texts::REMOVE_GRAPH_RUNNING));
        }
        self.delete_graph(processgraphid);
        Ok(Reply::Empty)
    }

    /// §5.5: -1 removes every graph of the colony. A state removes the graphs in it with
    /// all their processes (the reference removes only the processes in the same state and
    /// leaves the others orphaned).
    pub(crate) fn remove_all_graphs(&mut self, colonyname: &str, state: i64) -> ApiResult<Reply> {
        let states: Vec<ProcessState> = match state {
            -1 => ProcessState::ALL.to_vec(),
            1 => return Err(ApiError::bad_request(texts::REMOVE_ALL_GRAPHS_RUNNING)),
            code => match ProcessState::from_code(code) {
                Some(s) => vec![s],
                None => return Err(ApiError::bad_request(texts::REMOVE_ALL_GRAPHS_BAD_STATE)),
            },
        };
        let doomed: Vec<String> = states
            .iter()
            .flat_map(|s| self.idx.graphs_by_state.get(&(colonyname.to_string(), *s)).into_iter().flatten())
            .map(|(_, _, id)| id.clone())
            .collect();
        for id in doomed {
            self.delete_graph(&id);
        }
        Ok(Reply::Empty)
    }

    /// `getprocessgraphmsg`: the graph with its UI layout filled in.
    pub fn get_process_graph(&self, caller: &str, processgraphid: &str) -> ApiResult<ProcessGraph> {
        let graph = self.graph(processgraphid).ok_or_else(|| ApiError::internal(texts::GET_GRAPH_NIL))?;
        self.require_member(caller, &graph.colonyname, true)?;
        let mut graph = graph.clone();
        self.lay_out(&mut graph);
        Ok(graph)
    }

    /// `getprocessgraphsmsg`: newest first.
    pub fn get_process_graphs(
        &self,
        caller: &str,
        colonyname: &str,
        count: i64,
        state: i64,
    ) -> ApiResult<Vec<ProcessGraph>> {
        self.require_member(caller, colonyname, true)?;
        if count > MAX_PROCESS_COUNT {
            return Err(ApiError::bad_request(texts::count_over_max(MAX_PROCESS_COUNT)));
        }
        let state = ProcessState::from_code(state).ok_or_else(|| ApiError::bad_request(texts::GET_GRAPHS_BAD_STATE))?;
        Ok(self
            .idx
            .graphs_by_state
            .get(&(colonyname.to_string(), state))
            .into_iter()
            .flat_map(|set| set.iter().rev())
            .filter_map(|(_, _, id)| self.graph(id).cloned())
            .take(count.max(0) as usize)
            .collect())
    }

    /// Rows by depth from the roots, each row centred (§4.6).
    fn lay_out(&self, graph: &mut ProcessGraph) {
        // A node's row is its longest path from a root, found in topological order: each
        // edge is followed once. (Following every path, as a breadth-first walk that
        // revisits deeper nodes does, costs nodes × edges: seconds, under the state lock,
        // for a dense graph any member may submit.)
        let members: BTreeSet<&str> = graph.processids.iter().map(String::as_str).collect();
        let mut waiting_for: BTreeMap<&str, usize> = BTreeMap::new();
        for id in &members {
            let parents = self.process(id).map(|p| p.parents.iter().filter(|q| members.contains(q.as_str())).count());
            waiting_for.insert(id, parents.unwrap_or_default());
        }
        let mut depth: BTreeMap<String, i64> = BTreeMap::new();
        let mut ready: VecDeque<&str> = waiting_for.iter().filter(|(_, n)| **n == 0).map(|(id, _)| *id).collect();
        while let Some(id) = ready.pop_front() {
            let d = depth.get(id).copied().unwrap_or_default();
            let Some(process) = self.process(id) else { continue };
            for child in &process.children {
                let Some(left) = waiting_for.get_mut(child.as_str()) else { continue };
                let deeper = depth.entry(child.clone()).or_default();
                *deeper = (*deeper).max(d + 1);
                *left = left.saturating_sub(1);
                if *left == 0 {
                    ready.push_back(child.as_str());
                }
            }
        }
        let mut rows: BTreeMap<i64, Vec<&Process>> = BTreeMap::new();
        for id in &graph.processids {
            if let Some(process) = self.process(id) {
                rows.entry(depth.get(id).copied().unwrap_or_default()).or_default().push(process);
            }
        }
        graph.nodes.clear();
        graph.edges.clear();
        for (d, row) in rows {
            let width = row.len() as i64 * (BOX_WIDTH + BOX_PADDING) - BOX_PADDING;
            for (i, process) in row.into_iter().enumerate() {
                let kind = if process.parents.is_empty() {
                    "input"
                } else if process.children.is_empty() {
                    "output"
                } else {
                    ""
                };
                graph.nodes.push(GraphNode {
                    id: process.processid.clone(),
                    data: GraphNodeData { label: process.spec.nodename.clone() },
                    position: GraphNodePosition {
                        x: i as i64 * (BOX_WIDTH + BOX_PADDING) - width / 2,
                        y: d * ROW_HEIGHT,
                    },
                    kind: kind.to_string(),
                    style: GraphNodeStyle { color: String::new(), background: graph_state_color(process.state).into() },
                });
                for child in &process.children {
                    graph.edges.push(Edge {
                        id: format!("{}-{child}", process.processid),
                        source: process.processid.clone(),
                        target: child.clone(),
                        animated: process.state == ProcessState::Running,
                    });
                }
            }
        }
    }
}

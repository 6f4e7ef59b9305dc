//! Table rows about workflows, crons, generators, and the node's own refusals.

use super::cases::*;
use super::*;
use colonies_client::messages::*;
use colonies_statemachine::model::FunctionSpec;

pub fn rows(w: &World) -> Vec<Case> {
    let owner = &w.owner;
    let cli = &w.cli;
    let two = &w.two;
    let ghost = random_id();
    let running = w.running.processid.clone();
    let g1 = w.running_graph.processgraphid.as_str();
    let g2 = w.waiting_graph.processgraphid.as_str();
    let root = w.running_root.as_str();
    vec![
        // Workflows.
        is(
            "NODENAME_MISSING",
            cli,
            workflow_of(vec![FunctionSpec { nodename: String::new(), ..spec("a", "none") }]),
            500,
            "Nodename is missing, check function spec for errors",
        ),
        is(
            "duplicate_nodename",
            cli,
            workflow_of(vec![spec("a", "none"), spec("a", "none")]),
            500,
            "Duplicate nodename: a",
        ),
        is(
            "UNKNOWN_DEPENDENCY",
            cli,
            workflow_of(vec![depending("a", "nosuch")]),
            500,
            "Failed to submit workflow, invalid dependencies, are you depending on a nodename that does not exits?",
        ),
        is(
            "DEPENDENCY_CYCLE",
            cli,
            workflow_of(vec![depending("a", "b"), depending("b", "a")]),
            500,
            "Failed to submit workflow, the dependencies form a cycle",
        ),
        is(
            "parent_missing",
            two,
            child(g1, &ghost, "dev", ""),
            400,
            &format!("Process with Id {ghost} does not exist"),
        ),
        is(
            "parent_not_running",
            two,
            child(g2, &w.waiting_root, "dev", ""),
            400,
            &format!("Process with Id {} is not running", w.waiting_root),
        ),
        is(
            "parent_not_assigned",
            cli,
            child(g1, root, "dev", ""),
            400,
            &format!("Process with Id {root} is not assigned to executor with Id {}", cli.id()),
        ),
        is(
            "parent_not_in_graph",
            cli,
            child(g1, &running, "dev", ""),
            400,
            &format!("Process with Id {running} does not belong to a processgraph"),
        ),
        is(
            "parent_in_other_graph",
            two,
            child(g2, root, "dev", ""),
            400,
            &format!("Process with Id {root} is not part of process graph {g2}"),
        ),
        is(
            "CHILD_OTHER_COLONY",
            two,
            child(g1, root, "other", ""),
            400,
            "Failed to add child, the child must be in the colony of its graph",
        ),
        is(
            "child_not_in_graph",
            two,
            child(g1, root, "dev", &w.waiting.processid),
            400,
            &format!("Process with Id {} is not part of the graph", w.waiting.processid),
        ),
        is(
            "CANCEL_GRAPH_NIL",
            cli,
            CancelProcessGraphMsg { processgraphid: ghost.clone() },
            500,
            "Failed to cancel processgraph, graph is nil",
        ),
        is(
            "REMOVE_GRAPH_NIL",
            cli,
            RemoveProcessGraphMsg { processgraphid: ghost.clone(), all: false },
            500,
            "Failed to remove processgraph, graph is nil",
        ),
        is(
            "REMOVE_GRAPH_RUNNING",
            cli,
            RemoveProcessGraphMsg { processgraphid: g1.into(), all: false },
            400,
            "Failed to remove processgraph, cannot remove a running processgraph",
        ),
        is(
            "REMOVE_ALL_GRAPHS_RUNNING",
            owner,
            RemoveAllProcessGraphsMsg { colonyname: dev(), state: 1 },
            400,
            "not possible to remove running processgraphs",
        ),
        is(
            "REMOVE_ALL_GRAPHS_BAD_STATE",
            owner,
            RemoveAllProcessGraphsMsg { colonyname: dev(), state: 9 },
            400,
            "invalid state when deleting all processgraphs",
        ),
        is(
            "GET_GRAPH_NIL",
            cli,
            GetProcessGraphMsg { processgraphid: ghost.clone() },
            500,
            "Failed to get processgraph, graph is nil",
        ),
        is(
            "GET_GRAPHS_BAD_STATE",
            cli,
            GetProcessGraphsMsg { colonyname: dev(), count: 10, state: 9 },
            400,
            "invalid msg.State",
        ),
        // Crons.
        is("ADD_CRON_EMPTY_NAME", cli, cron_with("", |_| {}), 400, "Failed to add cron, name is empty"),
        is(
            "WORKFLOW_EMPTY",
            cli,
            cron_with("c", |c| c.workflowspec = r#"{"colonyname":"dev","functionspecs":[]}"#.into()),
            400,
            "The workflow spec has no function specs",
        ),
        is(
            "workflow_no_funcname",
            cli,
            cron_with("c", |c| c.workflowspec = r#"{"colonyname":"dev","functionspecs":[{"nodename":"a"}]}"#.into()),
            400,
            "The function spec a has no funcname",
        ),
        is(
            "workflow_other_colony",
            cli,
            cron_with("c", |c| c.workflowspec = r#"{"colonyname":"other","functionspecs":[]}"#.into()),
            400,
            "The workflow spec is for colony other, not dev",
        ),
        is(
            "CRON_BAD_INTERVAL",
            cli,
            cron_with("c", |c| c.interval = 0),
            400,
            "Cron interval must be -1 (disabled) or larger than 0",
        ),
        is(
            "CRON_RANDOM_WITHOUT_INTERVAL",
            cli,
            cron_with("c", |c| {
                c.interval = -1;
                c.cronexpression = "0 0 2 * * *".into();
                c.random = true;
            }),
            400,
            "Random cron is only supported when specifying intervals",
        ),
        is("cron_bad_duration", cli, bad_cron("c", "@every x"), 400, "failed to parse duration @every x"),
        is("cron_bad_descriptor", cli, bad_cron("c", "@nosuch"), 400, "unrecognized descriptor: @nosuch"),
        is("cron_field_count", cli, bad_cron("c", "* * *"), 400, "expected exactly 6 fields, found 3: [* * *]"),
        Case {
            expected: Expect::StartsWith("invalid cron expression \"a b c d e f\": ".into()),
            ..is("cron_bad_expression", cli, bad_cron("c", "a b c d e f"), 400, "")
        },
        is(
            "CRON_NEVER_FIRES",
            cli,
            bad_cron("c", "0 0 0 30 2 *"),
            400,
            "Failed to add cron, the cron expression never fires",
        ),
        is("cron_already_exists", cli, cron_with("nightly", |_| {}), 400, "Cron with name <nightly> already exists"),
        is("RUN_CRON_MISSING", cli, RunCronMsg { cronid: ghost.clone() }, 400, "cron not found"),
        is(
            "cron_previous_running",
            cli,
            RunCronMsg { cronid: w.cron.cronid.clone() },
            409,
            &format!("Failed to run cron, its previous process graph {} has not ended", w.cron.prevprocessgraphid),
        ),
        is(
            "REMOVE_CRON_NIL",
            cli,
            RemoveCronMsg { cronid: ghost.clone(), all: false },
            500,
            "Failed to remove cron, cron is nil",
        ),
        is("GET_CRON_NIL", cli, GetCronMsg { cronid: ghost.clone() }, 500, "Failed to get cron, cron is nil"),
        // Generators.
        is(
            "ADD_GENERATOR_EMPTY_NAME",
            cli,
            AddGeneratorMsg { generator: Some(batches("")) },
            400,
            "Failed to add generator, name is empty",
        ),
        is(
            "GENERATOR_BAD_TRIGGER",
            cli,
            AddGeneratorMsg { generator: Some(colonies_statemachine::model::Generator { trigger: 0, ..batches("g") }) },
            400,
            "Failed to add generator, trigger must be larger than 0",
        ),
        is(
            "generator_already_exists",
            cli,
            AddGeneratorMsg { generator: Some(batches(&w.generator.name)) },
            400,
            "Generator with name <batches> in Colony <dev> already exists",
        ),
        is(
            "PACK_GENERATOR_NIL",
            cli,
            PackGeneratorMsg { generatorid: ghost.clone(), arg: "a".into() },
            500,
            "Failed to increment generator, generator is nil",
        ),
        is(
            "REMOVE_GENERATOR_NIL",
            cli,
            RemoveGeneratorMsg { generatorid: ghost.clone(), all: false },
            500,
            "Failed to remove generator, generator is nil",
        ),
        is(
            "GET_GENERATOR_NIL",
            cli,
            GetGeneratorMsg { generatorid: ghost.clone() },
            500,
            "Failed to get generator, generator is nil",
        ),
        is(
            "RESOLVE_GENERATOR_NIL",
            cli,
            ResolveGeneratorMsg { colonyname: dev(), generatorname: "ghost".into() },
            500,
            "Failed to resolve generator, generator is nil",
        ),
        // The node.
        is(
            "invalid_field",
            cli,
            GetColonyMsg { colonyname: "a/b".into() },
            400,
            "Invalid colonyname: names may not contain '/', '\\' or '..'",
        ),
        is(
            "websocket_only",
            cli,
            SubscribeProcessMsg {
                colonyname: dev(),
                processid: running.clone(),
                state: 2,
                timeout: 1,
                ..Default::default()
            },
            400,
            "subscribeprocessmsg is only served on the /pubsub websocket",
        ),
    ]
}

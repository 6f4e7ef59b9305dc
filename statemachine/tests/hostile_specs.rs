//! Specs from a hostile or careless client: any numbers, any resource strings, any
//! dependency names. Submitting, assigning, ticking the timers far into the future and
//! closing must answer or refuse, never panic (issue 13): a panic in `apply` would stop
//! every replica at the same entry.

// Not every helper of the shared fixture is used here.
#[allow(dead_code)]
mod fixture;

use colonies_statemachine::Op;
use colonies_statemachine::model::{FunctionSpec, Gpu};
use fixture::*;
use proptest::prelude::*;

/// Resource strings: numbers with units, signs, overflow, garbage.
fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (any::<i64>(), prop::sample::select(vec!["", "m", "k", "Ki", "Mi", "Gi", "Ti", "Pi", "E", "x"]))
            .prop_map(|(n, unit)| format!("{n}{unit}")),
        "[0-9]{15,30}(m|Gi|Ei)?",
        ".{0,12}",
    ]
}

fn number() -> impl Strategy<Value = i64> {
    prop_oneof![any::<i64>(), -2i64..200, Just(i64::MAX), Just(i64::MIN)]
}

prop_compose! {
    fn spec()(
        funcname in ".{0,16}",
        priority in number(),
        maxwaittime in number(),
        maxexectime in number(),
        maxretries in number(),
        (cpu, mem, storage, gpumem) in (resource(), resource(), resource(), resource()),
        (nodes, processes, processespernode, walltime, gpucount) in (number(), number(), number(), number(), number()),
        executornames in prop::option::of(prop::collection::vec(".{0,8}", 0..3)),
        dependencies in prop::collection::vec(".{0,8}", 0..3),
        nodename in ".{0,8}",
    ) -> FunctionSpec {
        let mut spec = World::spec("cli");
        spec.funcname = funcname;
        spec.nodename = nodename;
        spec.priority = priority;
        spec.maxwaittime = maxwaittime;
        spec.maxexectime = maxexectime;
        spec.maxretries = maxretries;
        let c = &mut spec.conditions;
        (c.cpu, c.mem, c.storage) = (cpu, mem, storage);
        c.gpu = Gpu { mem: gpumem, count: gpucount, ..Gpu::default() };
        (c.nodes, c.processes, c.processespernode, c.walltime) = (nodes, processes, processespernode, walltime);
        c.executornames = executornames;
        c.dependencies = dependencies;
        spec
    }
}

// 256 cases per run by default; `PROPTEST_CASES` sets more (the README's "Fuzzing").
proptest! {

    #[test]
    fn any_spec_is_submitted_run_and_timed_out_or_refused(
        spec in spec(),
        availablecpu in resource(),
        availablemem in resource(),
        // Seconds after the fixture's start, up to where its clock (i64 nanoseconds) ends.
        later in prop_oneof![0i64..10, 1_000_000i64..7_000_000_000],
    ) {
        let mut w = World::new();
        let digest = w.state.digest();
        match w.submit_spec(EXEC_A, spec) {
            Err(e) => {
                prop_assert!((400..600).contains(&e.status));
                prop_assert_eq!(w.state.digest(), digest, "a refused submit changes nothing");
            }
            Ok(process) => {
                let assign = Op::Assign { colonyname: COLONY.into(), availablecpu, availablemem };
                let _ = w.run(EXEC_B, assign);
                w.clock = later;
                let _ = w.run("", Op::Tick);
                let _ = w.run(EXEC_B, Op::CloseSuccessful { processid: process.processid, out: vec![] });
            }
        }
    }

    #[test]
    fn any_workflow_is_submitted_or_refused(specs in prop::collection::vec(spec(), 0..5)) {
        let mut w = World::new();
        let processids = (0..specs.len() as u64).map(|i| pid(100 + i)).collect();
        let workflow = colonies_statemachine::model::WorkflowSpec { colonyname: COLONY.into(), functionspecs: specs };
        let op = Op::SubmitWorkflow { spec: Box::new(workflow), processgraphid: pid(999), processids };
        let _ = w.run(EXEC_A, op);
        w.clock = 10;
        let _ = w.run("", Op::Tick);
    }
}

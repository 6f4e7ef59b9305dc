//! Faults of a bad day (issue 12), each reproduced against real node processes: a full
//! restart right after an assignment, an isolated leader, a restart with a long log.

mod common;

use colonies_client::messages::{AssignProcessMsg, CloseSuccessfulMsg, GetProcessMsg, SubmitFunctionSpecMsg};
use colonies_client::rpc::Client;
use colonies_statemachine::model::{Process, ProcessState};
use common::*;
use std::time::Duration;

/// Rounds of the full-restart test; the fault showed in every round before the fix.
const RESTART_ROUNDS: usize = 3;
/// How long the old leader runs alone before the others come back.
const ALONE: Duration = Duration::from_secs(1);

/// All three nodes die a moment after an assignment is acknowledged, and the old leader
/// comes back first: it leads again at once (its vote is committed) but has not applied
/// the assignment, which it committed before it died. The assignee's close must succeed
/// once the others are back: the leader may not judge it against a state that lags what it
/// committed, and while it cannot tell, its answer is a retryable 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_after_a_full_restart_is_judged_on_the_caught_up_state() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let executor = key(EXECUTOR_KEY);
    for round in 0..RESTART_ROUNDS {
        let submitted: Process =
            client.call(&executor, SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) }).await.unwrap();
        let leader = cluster.wait_leader(STARTUP);
        let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 5, ..Default::default() };
        let assigned: Process = client.call(&executor, assign).await.unwrap();
        assert_eq!(assigned.processid, submitted.processid);
        for i in 0..cluster.nodes.len() {
            cluster.kill(i);
        }
        cluster.spawn(leader);
        let others: Vec<usize> = (0..cluster.nodes.len()).filter(|i| *i != leader).collect();
        // The client retries while no node answers or none can serve; any other answer is final.
        let close = CloseSuccessfulMsg { processid: assigned.processid.clone(), out: vec![] }.into();
        let (closed, ()) = tokio::join!(client.send(&executor, &close), async {
            tokio::time::sleep(ALONE).await;
            for i in &others {
                cluster.spawn(*i);
            }
        });
        if let Err(e) = closed {
            let logs: Vec<String> = cluster.nodes.iter().map(|n| n.log()).collect();
            panic!("round {round}: the assignee's close was refused: {e}\n{}", logs.join("\n----\n"));
        }
        let closed: Process =
            client.call(&executor, GetProcessMsg { processid: assigned.processid.clone() }).await.unwrap();
        assert_eq!(closed.state, ProcessState::Success, "round {round}");
    }
    cluster.wait_converged(STARTUP);
}

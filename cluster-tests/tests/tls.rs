//! A cluster over TLS (issue 13) with a CA made by `colonies security certs`: the nodes
//! serve HTTPS and speak mutual TLS between them. Every client is pointed at a follower, so
//! every call that needs the leader is redirected, over HTTPS: the Rust client (and its
//! `wss` subscription), the CLI with `COLONIES_TLS=true`, and pycolonies with `tls=True`.
//! A plain-HTTP call is refused, a client that never starts the handshake is cut off, and so
//! is a peer without the cluster's credentials (the cluster secret and a certificate of the
//! cluster CA) on every peer route.

mod common;

use colonies_client::messages::{
    AssignProcessMsg, CloseSuccessfulMsg, GetColoniesMsg, SubmitFunctionSpecMsg, SubscribeProcessMsg,
};
use colonies_client::rpc::Client;
use colonies_client::tls::TlsSettings;
use colonies_cluster_tests::python::{PYCOLONIES_FLOWS, conformance_script, python_with_pycolonies};
use colonies_cluster_tests::{TlsFiles, colonies_binary, generate_tls_files, http_get};
use colonies_statemachine::model::{Process, ProcessState};
use common::*;
use std::process::Command;
use std::time::Duration;

/// The peer routes, each with a body it could carry: none may be reached without the
/// cluster's credentials. (`DELETE` would remove node 3 if it were let through.)
const PEER_ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/raft/append", "x"),
    ("POST", "/raft/vote", "x"),
    ("POST", "/raft/snapshot", "x"),
    ("POST", "/cluster/members", r#"{"nodeid":9,"addr":"127.0.0.1:1"}"#),
    ("DELETE", "/cluster/members/3", ""),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_works_over_tls_through_a_follower_and_strangers_are_refused() {
    let python = python_with_pycolonies();
    let _serial = SERIAL.lock().await;
    let mut cluster = colonies_cluster_tests::Cluster::start_tls(3);
    cluster.wait_healthy(STARTUP);
    let leader = cluster.wait_leader(STARTUP);
    let follower = (leader + 1) % cluster.nodes.len();
    let addr = cluster.nodes[follower].addr();
    let tls = cluster.tls().expect("a TLS cluster");
    let trusted = TlsSettings { ca: Some(tls.ca.clone()), ..TlsSettings::default() };

    // The Rust client: registrations redirected to the leader over HTTPS.
    let client = Client::with_tls(vec![addr.clone()], Some(&trusted)).unwrap();
    add_dev_colony(&client).await;
    assert_eq!(colony_names(&client).await, ["dev"]);

    // Its websocket over wss on the follower hears a process end that the leader applied.
    let submitted: Process =
        client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(dev_spec("tls")) }).await.unwrap();
    let subscription = SubscribeProcessMsg {
        colonyname: "dev".into(),
        processid: submitted.processid.clone(),
        executortype: "cli".into(),
        state: ProcessState::Success.code(),
        timeout: 20,
    };
    let me = key(EXECUTOR_KEY);
    let waiting = client.subscribe_process(&me, subscription);
    let worker = async {
        let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 5, ..Default::default() };
        let assigned: Process = client.call(&key(EXECUTOR_KEY), assign).await.unwrap();
        let close = CloseSuccessfulMsg { processid: assigned.processid, out: vec![] };
        client.send(&key(EXECUTOR_KEY), &close.into()).await.unwrap();
    };
    let (heard, ()) = tokio::join!(waiting, worker);
    let heard = heard.unwrap().expect("told of SUCCESS over wss");
    assert_eq!((heard.processid, heard.state), (submitted.processid, ProcessState::Success));

    // A client that trusts only the system roots does not accept the test CA's certificate.
    let unverified = Client::with_tls(vec![addr.clone()], Some(&TlsSettings::default()));
    if let Ok(unverified) = unverified {
        let refused = unverified.call(&key(SERVER_KEY), GetColoniesMsg {}).await;
        assert!(refused.is_err(), "a certificate of an unknown CA was accepted");
    }

    cli_works_over_tls(&addr, &tls);
    pycolonies_works_over_tls(python, &cluster.nodes[follower].port, &tls).await;
    plain_http_is_refused(&addr).await;
    tokio::task::block_in_place(|| a_silent_handshake_is_cut_off(&addr));
    strangers_are_refused_on_every_peer_route(&mut cluster, &tls, leader).await;
}

/// Runs the CLI against `addr` with `env`, returning (success, stdout, stderr).
fn cli(addr: &str, args: &[&str], env: &[(&str, &std::path::Path)]) -> (bool, String, String) {
    let mut command = Command::new(colonies_binary());
    command.args(args).env("COLONIES_SERVER_ADDRS", addr).env("COLONIES_SERVER_PRVKEY", SERVER_KEY);
    command.env("COLONIES_CLUSTER_SECRET", SECRET).env("COLONIES_TLS", "true");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("running the CLI");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

fn cli_works_over_tls(addr: &str, tls: &TlsFiles) {
    let with_ca = [("COLONIES_TLS_CA", tls.ca.as_path())];
    let (ok, out, err) = cli(addr, &["colony", "ls"], &with_ca);
    assert!(ok && out.contains("dev"), "colony ls over TLS: {out}\n{err}");
    let (ok, out, err) = cli(addr, &["cluster", "info"], &with_ca);
    assert!(ok && out.contains("yes"), "cluster info over TLS names a leader: {out}\n{err}");
    // Without the CA the system roots do not know the certificate; --insecure skips the check.
    let (ok, _, err) = cli(addr, &["colony", "ls"], &[]);
    assert!(!ok, "the CLI accepted a certificate of an unknown CA");
    assert!(err.to_lowercase().contains("certificate"), "the error names the certificate: {err}");
    let (ok, out, err) = cli(addr, &["colony", "ls", "--insecure"], &[]);
    assert!(ok && out.contains("dev"), "--insecure: {out}\n{err}");
}

async fn pycolonies_works_over_tls(python: std::path::PathBuf, port: &u16, tls: &TlsFiles) {
    let (script, port, ca) = (conformance_script("pycolonies_flows.py"), port.to_string(), tls.ca.clone());
    let run = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(["127.0.0.1", &port, "tls"])
            // pycolonies always verifies: requests reads its CA from REQUESTS_CA_BUNDLE, and
            // the websocket of wait() (websocket-client) from WEBSOCKET_CLIENT_CA_BUNDLE.
            .env("REQUESTS_CA_BUNDLE", &ca)
            .env("WEBSOCKET_CLIENT_CA_BUNDLE", &ca)
            .output()
            .expect("running python")
    });
    let output =
        tokio::time::timeout(Duration::from_secs(180), run).await.expect("the flows ended within 3 minutes").unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("ok: {PYCOLONIES_FLOWS} flows")),
        "pycolonies flows over TLS failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn plain_http_is_refused(addr: &str) {
    assert_eq!(http_get(addr, "/health"), None, "a plain-HTTP request got an answer");
    let plain = reqwest::Client::new().post(format!("http://{addr}/api")).body("{}").send().await;
    assert!(plain.is_err(), "a plain-HTTP call was answered: {plain:?}");
}

/// A client that connects and never starts the handshake is disconnected once the
/// handshake deadline (10 s) has passed; without one it would hold its socket for ever (the
/// header timeout only starts after the handshake). The read waits up to 40 s.
fn a_silent_handshake_is_cut_off(addr: &str) {
    use std::io::Read;
    let mut silent = std::net::TcpStream::connect(addr).unwrap();
    silent.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
    let mut byte = [0u8; 1];
    match silent.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("a silent client still held its connection: {other:?}"),
    }
}

/// Sends every peer route with `http` (and the secret if `secret`); returns the statuses,
/// `None` where the connection itself was refused.
async fn peer_statuses(http: &reqwest::Client, addr: &str, secret: bool) -> Vec<Option<u16>> {
    let mut statuses = Vec::new();
    for (method, path, body) in PEER_ROUTES {
        let url = format!("https://{addr}{path}");
        let mut request = if *method == "POST" { http.post(url).body(*body) } else { http.delete(url) };
        if secret {
            request = request.header("x-colonies-cluster-secret", SECRET);
        }
        statuses.push(request.send().await.ok().map(|answer| answer.status().as_u16()));
    }
    statuses
}

async fn strangers_are_refused_on_every_peer_route(
    cluster: &mut colonies_cluster_tests::Cluster,
    tls: &TlsFiles,
    leader: usize,
) {
    // What a stranger could change through these routes: the log and state (append,
    // snapshot), the term (vote) and the membership. (The state digest itself moves on its
    // own here: the leader replicates the executor's sign of life from the assign above.)
    let terms = |cluster: &colonies_cluster_tests::Cluster| -> Vec<Option<u64>> {
        (0..cluster.nodes.len()).map(|i| cluster.status_number(i, "term")).collect()
    };
    let before = terms(cluster);
    let routes = PEER_ROUTES.len();
    let http = |identity: Option<(&std::path::Path, &std::path::Path)>| {
        let settings = TlsSettings {
            ca: Some(tls.ca.clone()),
            skip_verify: false,
            identity: identity.map(|(cert, key)| (cert.to_path_buf(), key.to_path_buf())),
        };
        settings.http_client(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())).unwrap()
    };
    // The leader and a follower: a follower would only redirect membership changes.
    for target in [leader, (leader + 1) % cluster.nodes.len()] {
        let addr = cluster.nodes[target].addr();
        // The secret without a certificate of the cluster CA.
        assert_eq!(peer_statuses(&http(None), &addr, true).await, vec![Some(401); routes], "secret only");
        // A certificate of the cluster CA without the secret.
        let member = http(Some((&tls.cert, &tls.key)));
        assert_eq!(peer_statuses(&member, &addr, false).await, vec![Some(401); routes], "certificate only");
        // A certificate of another CA: the handshake itself fails.
        let elsewhere = tempfile::tempdir().unwrap();
        let stranger = generate_tls_files(elsewhere.path());
        let statuses = peer_statuses(&http(Some((&stranger.cert, &stranger.key))), &addr, true).await;
        assert_eq!(statuses, vec![None; routes], "a certificate of another CA was accepted");
        // Both credentials pass the check: a body that is no Raft request is what is refused.
        let vote = member.post(format!("https://{addr}/raft/vote")).header("x-colonies-cluster-secret", SECRET);
        let answer = vote.body("x").send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 400);
        assert!(answer.text().await.unwrap().starts_with("not a raft request"));
    }
    assert_eq!(terms(cluster), before, "refused peer calls changed a term");
    assert_eq!(cluster.wait_leader(STARTUP), leader);
    let (_, status) = cluster.admin_get(&cluster.nodes[leader].addr(), "/cluster").unwrap();
    assert_eq!(status.matches("\"voter\":true").count(), 3, "the membership is unchanged: {status}");
}

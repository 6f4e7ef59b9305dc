//! Issue 13 against real nodes: what an attacker without a key or the cluster secret can
//! make a node do. Each test bounds its loops, talks to loopback only, and checks that the
//! leader kept its term (no election was caused) and, where it matters, its memory.

mod common;

use colonies_client::envelope::{RpcReply, RpcRequest};
use colonies_client::messages::{
    AddColonyMsg, AddExecutorMsg, AddFunctionMsg, AssignProcessMsg, GetColoniesMsg, Message, SubmitFunctionSpecMsg,
};
use colonies_client::rpc::Client;
use colonies_cluster_tests::{CLUSTER_SECRET, Cluster, colonies_binary, http_get, http_get_with};
use colonies_statemachine::model::{Colony, Executor, Function, Process};
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The leader's index and term, once every node agrees on the leader.
fn leader_and_term(cluster: &mut Cluster) -> (usize, u64) {
    let leader = cluster.wait_leader(STARTUP);
    (leader, cluster.status_number(leader, "term").expect("the leader's term"))
}

/// An `/api` call whose HTTP status and decoded reply are both returned.
async fn post_api(addr: &str, request: &RpcRequest) -> (u16, Result<Vec<u8>, colonies_client::envelope::Failure>) {
    let answer = reqwest::Client::new().post(format!("http://{addr}/api")).json(request).send().await.unwrap();
    let status = answer.status().as_u16();
    let reply: RpcReply = answer.json().await.expect("an error envelope, not plain text");
    (status, reply.into_result())
}

fn signed(message: Message, key_hex: &str) -> RpcRequest {
    RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &key(key_hex))
}

/// Sends only the head of a request (whose body would follow) and returns the status line
/// of the answer, which must come without the body ever being sent.
fn status_before_body(addr: &str, head: &str) -> (String, TcpStream) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = [0u8; 512];
    let n = stream.read(&mut answer).expect("an answer before the body");
    let text = String::from_utf8_lossy(&answer[..n]).to_string();
    (text.lines().next().unwrap_or_default().to_string(), stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_hostile_names_and_endless_timeouts_get_clean_answers_and_change_nothing() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let (leader, term) = leader_and_term(&mut cluster);
    let addr = cluster.nodes[leader].addr();
    let before = cluster.wait_converged(STARTUP);

    // A body over --max-body (2 MiB): a 413 in the error envelope, naming the limit.
    let big =
        RpcRequest { payloadtype: "getcoloniesmsg".into(), payload: "A".repeat(3 << 20), signature: String::new() };
    let (status, reply) = post_api(&addr, &big).await;
    let failure = reply.unwrap_err();
    assert_eq!((status, failure.status), (413, 413));
    assert!(failure.message.contains("at most 2097152 bytes"), "{}", failure.message);
    // Declared larger than the limit: refused before a byte of it is sent.
    let head = format!("POST /api HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 300000000\r\n\r\n");
    assert!(status_before_body(&addr, &head).0.contains(" 413 "));

    // Names of 1 MB, and names that print as something else, are refused with a 400.
    let megabyte = "n".repeat(1 << 20);
    let colony = |name: &str| Colony { colonyid: key(COLONY_KEY).id(), name: name.into() };
    for name in [megabyte.as_str(), "nul\0", "esc\u{1b}[2J", "cr\r\nlf", "gpj\u{202e}.exe", "../etc", "a/b"] {
        let (status, reply) =
            post_api(&addr, &signed(AddColonyMsg { colony: Some(colony(name)) }.into(), SERVER_KEY)).await;
        let failure = reply.unwrap_err();
        assert_eq!((status, failure.status), (400, 400), "{:?}", &name[..name.len().min(20)]);
        assert!(failure.message.starts_with("Invalid name:"), "{}", failure.message);
    }
    let executor = Executor {
        executorid: key(EXECUTOR_KEY).id(),
        executorname: megabyte.clone(),
        executortype: "cli".into(),
        colonyname: "dev".into(),
        ..Executor::default()
    };
    let (status, _) = post_api(&addr, &signed(AddExecutorMsg { executor: Some(executor) }.into(), COLONY_KEY)).await;
    assert_eq!(status, 400);
    let function = Function {
        executorname: "dev-cli".into(),
        executortype: "cli".into(),
        colonyname: "dev".into(),
        funcname: megabyte.clone(),
        ..Function::default()
    };
    let (status, _) = post_api(&addr, &signed(AddFunctionMsg { fun: Some(function) }.into(), EXECUTOR_KEY)).await;
    assert_eq!(status, 400);
    let mut labelled = dev_spec("echo");
    labelled.label = megabyte.clone();
    let (status, _) =
        post_api(&addr, &signed(SubmitFunctionSpecMsg { spec: Some(labelled) }.into(), EXECUTOR_KEY)).await;
    assert_eq!(status, 400);
    // An id of 64 characters that are not hex.
    let bad_id = Colony { colonyid: "z".repeat(64), name: "zz".into() };
    let (status, reply) = post_api(&addr, &signed(AddColonyMsg { colony: Some(bad_id) }.into(), SERVER_KEY)).await;
    assert_eq!(status, 400);
    assert!(reply.unwrap_err().message.contains("not 64 hexadecimal digits"));
    assert_eq!(cluster.wait_converged(STARTUP), before, "nothing refused was stored");

    // assignprocessmsg with timeout 2^63-1 panicked the handler; now it is cut to an hour and
    // answered as soon as there is work.
    let submitted: Process =
        client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(dev_spec("echo")) }).await.unwrap();
    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: i64::MAX, ..Default::default() };
    let (status, reply) = post_api(&addr, &signed(assign.into(), EXECUTOR_KEY)).await;
    assert_eq!(status, 200);
    let assigned: Process = serde_json::from_slice(&reply.unwrap()).unwrap();
    assert_eq!(assigned.processid, submitted.processid);
    assert_eq!(leader_and_term(&mut cluster), (leader, term), "no election");
}

/// Opens `count` connections to `addr` that never send a byte.
fn idle_sockets(addr: &str, count: usize) -> Vec<TcpStream> {
    (0..count).map(|_| TcpStream::connect(addr).expect("connect")).collect()
}

/// Whether the server closed `stream` (end of file or reset) within `within`.
fn closed_by_server(mut stream: &TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// Whether the server ends the connection (end of file or reset, after whatever it still
/// sends) within `within`.
fn ends_within(mut stream: &TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 256];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => return !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        }
    }
    false
}

/// A `/pubsub` websocket that never sends its subscription.
fn silent_websocket(addr: &str) -> TcpStream {
    let head = format!(
        "GET /pubsub HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let (status, stream) = status_before_body(addr, &head);
    assert!(status.contains(" 101 "), "{status}");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_clients_neither_exhaust_the_node_nor_cost_the_leader_its_term() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&["--max-connections", "1500"]);
    let client = Client::new(cluster.addrs());
    add_colony(&client, "dev").await.unwrap();
    let (leader, term) = leader_and_term(&mut cluster);
    let addr = cluster.nodes[leader].addr();
    let rss_before = cluster.nodes[leader].rss_kib().unwrap();
    let opened = Instant::now();

    // A client that sends its headers a byte every half second, for at most a minute.
    let slow_addr = addr.clone();
    let slow = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(&slow_addr).unwrap();
        let begun = Instant::now();
        let _ = stream.write_all(format!("GET /health HTTP/1.1\r\nHost: {slow_addr}\r\nX-Slow: ").as_bytes());
        while begun.elapsed() < Duration::from_secs(60) {
            if stream.write_all(b"a").is_err() || closed_by_server(&stream, Duration::from_millis(500)) {
                return Some(begun.elapsed());
            }
        }
        None
    });

    // A websocket that never subscribes is upgraded, then must not be held forever.
    let websocket = silent_websocket(&addr);
    // A thousand idle connections, under the cap: the node goes on serving everyone else.
    let idle = idle_sockets(&addr, 1000);
    for _ in 0..20 {
        let colonies: Vec<Colony> = client.call(&key(SERVER_KEY), GetColoniesMsg {}).await.unwrap();
        assert_eq!(colonies.len(), 1);
    }
    assert_eq!(http_get(&addr, "/health").map(|(s, _)| s), Some(200));
    let fds = cluster.nodes[leader].open_fds().unwrap();
    assert!(fds > 1000, "the node holds the idle connections ({fds} descriptors)");

    // Beyond the cap, new connections are closed at once instead of piling up.
    let over = idle_sockets(&addr, 700);
    let refused = over.iter().rev().take(100).filter(|s| closed_by_server(s, Duration::from_secs(5))).count();
    assert_eq!(refused, 100, "connections past --max-connections are closed promptly");
    let rss_during = cluster.nodes[leader].rss_kib().unwrap();
    eprintln!(
        "leader with {} connections: {} open descriptors, RSS {rss_before} KiB before, {rss_during} KiB during",
        idle.len() + over.len(),
        cluster.nodes[leader].open_fds().unwrap()
    );
    drop(over);

    // Silent connections are closed once the header timeout (20 s) passes, and so is the
    // slow-header client, although it never stopped sending.
    assert!(closed_by_server(&idle[0], Duration::from_secs(60)), "an idle connection is closed");
    assert!(ends_within(&websocket, Duration::from_secs(30)), "a silent websocket is closed");
    let slow_closed = slow.join().unwrap().expect("the slow-header client was cut off within a minute");
    eprintln!("idle connection closed {:?} after opening; slow headers cut after {slow_closed:?}", opened.elapsed());
    // Opened over a second or so, they are closed over as long.
    let still_open = idle.iter().filter(|s| !closed_by_server(s, Duration::from_secs(10))).count();
    assert_eq!(still_open, 0, "every idle connection was closed by the node");
    drop(idle);

    let colonies: Vec<Colony> = client.call(&key(SERVER_KEY), GetColoniesMsg {}).await.unwrap();
    assert_eq!(colonies.len(), 1);
    assert_eq!(leader_and_term(&mut cluster), (leader, term), "no election");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_status_and_digest_need_the_secret_and_a_flood_of_them_costs_no_election() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    add_dev_colony(&Client::new(cluster.addrs())).await;
    let (leader, term) = leader_and_term(&mut cluster);
    let addr = cluster.nodes[leader].addr();
    let wrong = format!("x-colonies-cluster-secret: {}\r\n", "w".repeat(CLUSTER_SECRET.len()));
    let right = format!("x-colonies-cluster-secret: {CLUSTER_SECRET}\r\n");

    // Eight loops of the calls that caused elections, without the secret: all refused.
    let flood = |headers: String, calls: usize| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (addr, headers) = (addr.clone(), headers.clone());
                std::thread::spawn(move || {
                    let path = if t % 2 == 0 { "/cluster/digest" } else { "/cluster" };
                    (0..calls).map(|_| http_get_with(&addr, path, &headers).map(|(s, _)| s)).collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect::<Vec<_>>()
    };
    let refused = flood(String::new(), 150);
    assert!(refused.iter().all(|s| *s == Some(401)), "{:?}", refused.iter().find(|s| **s != Some(401)));
    let refused = flood(wrong, 50);
    assert!(refused.iter().all(|s| *s == Some(401)));
    // With the secret they are served; the digest is computed once per applied index.
    let served = flood(right.clone(), 40);
    assert!(served.iter().all(|s| *s == Some(200)));
    let (_, body) = http_get_with(&addr, "/cluster/digest", &right).unwrap();
    assert!(body.contains("\"digest\""), "{body}");
    // /health stays open for load balancers and orchestrators.
    assert_eq!(http_get(&addr, "/health").map(|(s, _)| s), Some(200));
    assert_eq!(leader_and_term(&mut cluster), (leader, term), "no election");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_routes_refuse_a_huge_body_without_the_secret_before_reading_it() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let (leader, term) = leader_and_term(&mut cluster);
    let addr = cluster.nodes[leader].addr();
    let rss_before = cluster.nodes[leader].rss_kib().unwrap();

    // Four callers claim 300 MB bodies on every peer route, without and with a wrong secret.
    // Each is answered 401 from the head alone; what they then send is not read.
    let wrong = format!("x-colonies-cluster-secret: {}\r\n", "w".repeat(CLUSTER_SECRET.len()));
    let mut senders = Vec::new();
    for route in ["/raft/append", "/raft/snapshot", "/raft/vote", "/cluster/members"] {
        for secret in ["", wrong.as_str()] {
            let head = format!("POST {route} HTTP/1.1\r\nHost: {addr}\r\n{secret}Content-Length: 300000000\r\n\r\n");
            let (status, stream) = status_before_body(&addr, &head);
            assert!(status.contains(" 401 "), "{route}: {status}");
            senders.push(stream);
        }
    }
    // Sending the bodies anyway: the node has closed the connections, so each write soon
    // fails, long before 300 MB.
    let chunk = vec![b'x'; 64 << 10];
    let written: Vec<usize> = senders
        .into_iter()
        .take(4)
        .map(|mut stream| {
            let mut sent = 0;
            while sent < 300_000_000 && stream.write_all(&chunk).is_ok() {
                sent += chunk.len();
            }
            sent
        })
        .collect();
    assert!(written.iter().all(|n| *n < 300_000_000), "the node stopped reading: {written:?}");
    let rss_after = cluster.nodes[leader].rss_kib().unwrap();
    eprintln!(
        "leader RSS {rss_before} KiB before, {rss_after} KiB after four refused 300 MB bodies ({written:?} sent)"
    );
    assert!(rss_after < rss_before + 64 * 1024, "{rss_before} KiB -> {rss_after} KiB");

    // With the secret: a vote body larger than any vote is refused from its length, and
    // garbage is a 400 that says what is wrong.
    let secret = format!("x-colonies-cluster-secret: {CLUSTER_SECRET}\r\n");
    let head = format!("POST /raft/vote HTTP/1.1\r\nHost: {addr}\r\n{secret}Content-Length: 1000000\r\n\r\n");
    assert!(status_before_body(&addr, &head).0.contains(" 413 "));
    let http = reqwest::Client::new();
    for (route, body) in
        [("/raft/vote", b"garbage".to_vec()), ("/raft/append", vec![103, 1, 2]), ("/raft/vote", vec![])]
    {
        let answer = http
            .post(format!("http://{addr}{route}"))
            .header("x-colonies-cluster-secret", CLUSTER_SECRET)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 400);
        let text = answer.text().await.unwrap();
        assert!(text.starts_with("not a raft request"), "{text}");
    }
    assert_eq!(leader_and_term(&mut cluster), (leader, term), "no election");
}

#[test]
fn a_node_refuses_to_start_with_an_empty_or_short_cluster_secret() {
    let dir = tempfile::tempdir().unwrap();
    for secret in ["", "short-secret"] {
        let output = std::process::Command::new(colonies_binary())
            .args(["server", "start", "--nodeid", "1", "--host", "127.0.0.1", "--port", "1"])
            .arg("--datadir")
            .arg(dir.path())
            .args(["--peers", "1=127.0.0.1:1"])
            .env("COLONIES_CLUSTER_SECRET", secret)
            .output()
            .unwrap();
        assert!(!output.status.success(), "a node started with secret {secret:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("at least 16 are required"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_large_requests_signed_by_nobody_costs_no_election() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let (leader, term) = leader_and_term(&mut cluster);
    let addr = cluster.nodes[leader].addr();
    // A payload near the body limit, with a new signature every time, so the node must hash
    // and recover each one: the work an attacker without a key can ask for.
    let payload = colonies_client::envelope::encode_payload(&vec![b' '; 1_400_000]);
    let requests: Vec<Vec<u8>> = (0..4)
        .map(|n| {
            let signature = format!("{:0130x}", n + 1);
            let request = RpcRequest { payloadtype: "getcoloniesmsg".into(), payload: payload.clone(), signature };
            serde_json::to_vec(&request).unwrap()
        })
        .collect();
    let http = reqwest::Client::new();
    let begun = Instant::now();
    let loops: Vec<_> = (0..8)
        .map(|t| {
            let (http, url, body) = (http.clone(), format!("http://{addr}/api"), requests[t % 4].clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while begun.elapsed() < Duration::from_secs(10) && statuses.len() < 500 {
                    match http.post(&url).body(body.clone()).send().await {
                        Ok(answer) => statuses.push(answer.status().as_u16()),
                        Err(_) => statuses.push(0),
                    }
                }
                statuses
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for one in loops {
        statuses.extend(one.await.unwrap());
    }
    eprintln!("{} large badly signed requests in 10 s", statuses.len());
    assert!(statuses.iter().all(|s| *s == 403), "{:?}", statuses.iter().find(|s| **s != 403));
    assert_eq!(leader_and_term(&mut cluster), (leader, term), "no election");
}

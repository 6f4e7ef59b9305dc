//! The README's getting-started flow, run through the real binary against `colonies dev`:
//! the commands a new user types, with the development identities of `devenv`.

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const DEVENV: &[(&str, &str)] = &[
    ("COLONIES_SERVER_ID", "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103"),
    ("COLONIES_SERVER_PRVKEY", "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"),
    ("COLONIES_COLONY_NAME", "dev"),
    ("COLONIES_COLONY_PRVKEY", "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"),
    ("COLONIES_PRVKEY", "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"),
    ("COLONIES_EXECUTOR_TYPE", "cli"),
    ("COLONIES_CLUSTER_SECRET", "dev-cluster-secret-for-local-use-only"),
];

/// Clusters of this test binary run one at a time (2 cores), and each picks ports after the
/// previous one's, so a test never talks to another test's nodes.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());
static NEXT_PORTS: AtomicU16 = AtomicU16::new(0);

/// Three consecutive free loopback ports, as `colonies dev` takes a base port.
fn free_base_port() -> u16 {
    for _ in 0..200u16 {
        let offset = NEXT_PORTS.fetch_add(7, Ordering::Relaxed) % 20_000;
        let base = 20_000 + (std::process::id() as u16 % 20_000 + offset) % 40_000;
        if (0..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

/// Pids of the node processes listening on `port`, found by their command line.
fn nodes_on(port: u16) -> Vec<u32> {
    let wanted = format!("--port\0{port}\0");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline);
            (text.contains("server\0start\0") && text.contains(&wanted)).then_some(pid)
        })
        .collect()
}

/// `colonies dev` and an executor; stopped (and every node killed) on drop, also when a
/// test fails.
struct Dev {
    base: u16,
    children: Vec<Child>,
    /// Released after `drop` has stopped the children.
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Dev {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        }
        for child in &mut self.children {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        for port in self.base..self.base + 3 {
            for pid in nodes_on(port) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

impl Dev {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_colonies"));
        command.args(args).envs(DEVENV.iter().copied()).env("COLONIES_SERVER_PORT", self.base.to_string());
        let servers: Vec<String> = (0..3).map(|i| format!("127.0.0.1:{}", self.base + i)).collect();
        command.env("COLONIES_SERVER_ADDRS", servers.join(",")).env_remove("RUST_BACKTRACE");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().expect("running colonies");
        assert!(output.status.success(), "colonies {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        output
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_slice(&self.run(&args).stdout).expect("--json prints JSON")
    }

    /// Waits until `colonies args --json` lists a process with this id.
    fn wait_listed(&self, args: &[&str], processid: &str, limit: Duration) -> Value {
        let begun = Instant::now();
        loop {
            let listed = self.json(args);
            if let Some(found) = listed.as_array().unwrap().iter().find(|p| p["processid"] == processid) {
                return found.clone();
            }
            assert!(begun.elapsed() < limit, "{processid} not in `{args:?}` within {limit:?}: {listed}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// `colonies dev` with an OS executor of type `cli`.
fn start_dev() -> Dev {
    let mut dev = start_cluster();
    let executor = dev
        .command(&["executor", "start", "--executorname", "os-executor", "--executortype", "cli", "--parallel", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    dev.children.push(executor);
    dev
}

fn start_cluster() -> Dev {
    // A test that failed while holding the turn leaves no cluster behind (Dev's drop).
    let turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut dev = Dev { base: free_base_port(), children: Vec::new(), _turn: turn };
    let cluster = dev.command(&["dev"]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    dev.children.push(cluster);
    // `colonies dev` prints the addresses once the colony is registered.
    let begun = Instant::now();
    while dev.command(&["colony", "get", "--name", "dev"]).output().map(|o| !o.status.success()).unwrap_or(true) {
        assert!(begun.elapsed() < Duration::from_secs(60), "colonies dev did not come up");
        std::thread::sleep(Duration::from_millis(250));
    }
    dev
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name).display().to_string()
}

#[test]
fn getting_started_against_colonies_dev() {
    let dev = start_dev();

    // sleep.json (args [1]) is taken by the executor and ends SUCCESS.
    let submitted = dev.json(&["function", "submit", "--spec", &example("sleep.json")]);
    let processid = submitted["processid"].as_str().unwrap().to_string();
    assert_eq!(submitted["spec"]["funcname"], "sleep");
    assert_eq!(submitted["spec"]["args"], serde_json::json!(["1"]));
    let done = dev.wait_listed(&["process", "pss"], &processid, Duration::from_secs(60));
    assert_eq!(done["state"], 2);
    assert!(!done["assignedexecutorid"].as_str().unwrap().is_empty());
    let fetched = dev.json(&["process", "get", "--processid", &processid]);
    assert_eq!(fetched["processid"], processid.as_str());
    assert_eq!(fetched["state"], 2);

    // A 100 s sleep with maxexectime 5 and no retries ends in psf.
    let long = dev.json(&["function", "submit", "--spec", &example("sleep-timeout.json")]);
    let long_id = long["processid"].as_str().unwrap().to_string();
    let failed = dev.wait_listed(&["process", "psf"], &long_id, Duration::from_secs(60));
    assert_eq!(failed["state"], 3);

    // function exec with --wait --out prints the output.
    let out =
        dev.run(&["function", "exec", "--func", "echo", "--args", "hello", "--targettype", "cli", "--wait", "--out"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello");

    // --follow prints the log lines as the executor sends them, until the process ends.
    let followed = dev.run(&[
        "function",
        "exec",
        "--func",
        "sh",
        "--args=-c,echo one; sleep 1; echo two",
        "--targettype",
        "cli",
        "--follow",
    ]);
    let lines = String::from_utf8_lossy(&followed.stdout);
    assert_eq!(lines.lines().collect::<Vec<_>>(), ["one", "two"], "{lines}");

    // The workflow example runs to SUCCESS.
    let graph = dev.json(&["workflow", "submit", "--spec", &example("workflow.json")]);
    let graphid = graph["processgraphid"].as_str().unwrap().to_string();
    let begun = Instant::now();
    while dev.json(&["workflow", "get", "--workflowid", &graphid])["state"] != 2 {
        assert!(begun.elapsed() < Duration::from_secs(60), "the workflow did not end");
        std::thread::sleep(Duration::from_millis(250));
    }

    // cluster info reads /cluster, which takes the cluster secret.
    let refused =
        dev.command(&["cluster", "info"]).env("COLONIES_CLUSTER_SECRET", "not-the-cluster-secret").output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("COLONIES_CLUSTER_SECRET"));
    // cluster info names exactly one leader; kill it, and a survivor still answers.
    let nodes = dev.json(&["cluster", "info"]);
    let leaders: Vec<&Value> = nodes.as_array().unwrap().iter().filter(|n| n["leader"] == true).collect();
    assert_eq!(leaders.len(), 1, "{nodes}");
    let leader_port: u16 = leaders[0]["addr"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap();
    for pid in nodes_on(leader_port) {
        Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    }
    let survivor = (dev.base..dev.base + 3).find(|p| *p != leader_port).unwrap();
    let listed =
        dev.command(&["process", "pss", "--json", "--servers", &format!("127.0.0.1:{survivor}")]).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(listed.as_array().unwrap().iter().any(|p| p["processid"] == processid.as_str()));
}

#[test]
fn a_bad_spec_file_names_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.json");
    std::fs::write(&spec, r#"{"funcname": "sleep", "maxexectime": "ten"}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_colonies"))
        .args(["function", "submit", "--spec", spec.to_str().unwrap(), "--colonyname", "dev"])
        .env("COLONIES_PRVKEY", DEVENV[4].1)
        .env("COLONIES_SERVER_PORT", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("bad.json") && error.contains("maxexectime"), "{error}");
}

/// The reference's smoke flow done by hand (spec §8.3): a created executor assigns,
/// annotates and closes a process through the CLI; functions, stats, pause, cancel, users
/// and log search.
#[test]
fn an_executor_worked_by_hand_through_the_cli() {
    let dev = start_cluster();
    let dir = tempfile::tempdir().unwrap();
    let keypath = dir.path().join("manual.key");
    let keyfile = keypath.to_str().unwrap();
    dev.run(&["executor", "create", "--name", "manual", "--type", "manual", "--approve", "--keypath", keyfile]);
    let key = std::fs::read_to_string(&keypath).unwrap();
    assert_eq!(key.len(), 64, "a private key in hex");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&keypath).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "only its owner can read the key file");
    let executors = dev.json(&["executor", "ls"]);
    assert_eq!(executors.as_array().unwrap().len(), 2, "dev-cli and manual: {executors}");
    let of_type = dev.json(&["executor", "ls", "--type", "manual"]);
    let names: Vec<&str> = of_type.as_array().unwrap().iter().map(|e| e["executorname"].as_str().unwrap()).collect();
    assert_eq!(names, ["manual"]);
    let shown = dev.json(&["executor", "get", "--name", "manual"]);
    assert_eq!((shown["executorname"].as_str(), shown["state"].as_i64()), (Some("manual"), Some(1)), "approved");
    let table = dev.run(&["executor", "get", "--name", "manual"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.lines().any(|l| l.starts_with("executorname") && l.ends_with("manual")), "{table}");
    let manual = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--prvkey", key.as_str()]);
        args.into_iter().map(String::from).collect::<Vec<String>>()
    };
    let as_manual = |args: &[&str]| {
        let args = manual(args);
        dev.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let json_as_manual = |args: &[&str]| {
        let mut args = manual(args);
        args.push("--json".into());
        let output = dev.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        serde_json::from_slice::<Value>(&output.stdout).expect("--json prints JSON")
    };

    // Nothing to do: assign times out with a clear error and exit code.
    let idle = dev
        .command(&manual(&["process", "assign", "--timeout", "1"]).iter().map(String::as_str).collect::<Vec<_>>())
        .output()
        .unwrap();
    assert!(!idle.status.success());
    assert!(!String::from_utf8_lossy(&idle.stderr).trim().is_empty(), "the timeout is explained");

    // register a function, then list it
    let function = json_as_manual(&["function", "register", "--name", "manual", "--func", "echo"]);
    assert_eq!(function["funcname"], "echo");
    let functions = dev.json(&["function", "ls"]);
    assert!(functions.as_array().unwrap().iter().any(|f| f["functionid"] == function["functionid"]), "{functions}");

    // submit, assign, annotate, close
    let submitted = dev.json(&["function", "exec", "--func", "echo", "--args", "hi", "--targettype", "manual"]);
    let processid = submitted["processid"].as_str().unwrap().to_string();
    let assigned = json_as_manual(&["process", "assign", "--timeout", "5"]);
    assert_eq!(assigned["processid"], processid.as_str());
    assert_eq!(assigned["state"], 1);
    as_manual(&["attribute", "add", "--key", "k", "--value", "v", "-p", &processid]);
    as_manual(&["log", "add", "-p", &processid, "-m", "needle in the log"]);
    as_manual(&["process", "close", "-p", &processid, "--out", "r1,r2"]);
    let closed = dev.json(&["process", "get", "-p", &processid]);
    assert_eq!(closed["state"], 2);
    assert_eq!(closed["out"], serde_json::json!(["r1", "r2"]));
    let found = dev.json(&["log", "search", "--text", "needle"]);
    assert!(found.as_array().unwrap().iter().any(|l| l["processid"] == processid.as_str()), "{found}");

    // stats count it, for the colony and for the server
    assert!(dev.json(&["colony", "stats"])["successfulprocesses"].as_i64().unwrap() >= 1);
    assert!(dev.json(&["server", "stats"])["successfulprocesses"].as_i64().unwrap() >= 1);

    // server status: the nodes' build (the same binary as this CLI), not their start time
    let status = dev.json(&["server", "status"]);
    assert_eq!(status["buildversion"], colonies_node::build_info::BUILD_VERSION, "{status}");
    assert_eq!(status["buildtime"], colonies_node::build_info::BUILD_TIME, "{status}");
    let table = String::from_utf8(dev.run(&["server", "status"]).stdout).unwrap();
    assert_eq!(table.matches(colonies_node::build_info::BUILD_TIME).count(), 2, "server and CLI: {table}");
    // versionmsg (unsigned) carries the same build time, which the web UI parses as a date
    let client = colonies_client::rpc::Client::new(vec![format!("127.0.0.1:{}", dev.base)]);
    let key = colonies_client::identity::PrivateKey::generate();
    let version: colonies_client::messages::VersionReply = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(client.call(&key, colonies_client::messages::VersionMsg::default()))
        .expect("versionmsg");
    assert_eq!(version.buildtime, colonies_node::build_info::BUILD_TIME);
    assert_eq!(version.buildversion, colonies_node::build_info::BUILD_VERSION);

    // paused assignments hand out nothing; a waiting process can be cancelled
    dev.run(&["process", "pause"]);
    assert_eq!(dev.json(&["process", "status"])["ispaused"], true);
    let waiting = dev.json(&["function", "exec", "--func", "echo", "--targettype", "manual"]);
    let waiting_id = waiting["processid"].as_str().unwrap().to_string();
    let paused = dev
        .command(&manual(&["process", "assign", "--timeout", "1"]).iter().map(String::as_str).collect::<Vec<_>>())
        .output()
        .unwrap();
    assert!(!paused.status.success(), "nothing is assigned while paused");
    dev.run(&["process", "resume"]);
    assert_eq!(dev.json(&["process", "status"])["ispaused"], false);
    dev.run(&["process", "cancel", "-p", &waiting_id]);
    dev.wait_listed(&["process", "psc"], &waiting_id, Duration::from_secs(10));

    // workflows: cancel one, remove it, then removeall asks for YES
    let graph = dev.json(&["workflow", "submit", "--spec", &example("workflow.json")]);
    let graphid = graph["processgraphid"].as_str().unwrap().to_string();
    dev.run(&["workflow", "cancel", "--workflowid", &graphid]);
    let cancelled = dev.json(&["workflow", "psc"]);
    assert!(cancelled.as_array().unwrap().iter().any(|g| g["processgraphid"] == graphid.as_str()), "{cancelled}");
    dev.run(&["workflow", "remove", "--workflowid", &graphid]);
    let gone = dev.command(&["workflow", "get", "--workflowid", &graphid]).output().unwrap();
    assert!(!gone.status.success(), "a removed workflow is gone");
    dev.json(&["workflow", "submit", "--spec", &example("workflow.json")]);
    let answered = |answer: &str| {
        let mut removeall = dev.command(&["workflow", "removeall"]).stdin(Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        removeall.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
        removeall.wait().unwrap().success()
    };
    assert!(!answered("no\n"), "anything but YES keeps them");
    assert_eq!(dev.json(&["workflow", "psw"]).as_array().unwrap().len(), 1);
    assert!(answered("YES\n"));
    assert!(dev.json(&["workflow", "psw"]).as_array().unwrap().is_empty());

    // a registered function can be removed again, by its executor only
    let functionid = function["functionid"].as_str().unwrap();
    let foreign = dev.command(&["function", "remove", "--functionid", functionid]).output().unwrap();
    assert!(!foreign.status.success(), "another executor cannot remove it");
    as_manual(&["function", "remove", "--functionid", functionid]);
    assert!(dev.json(&["function", "ls"]).as_array().unwrap().is_empty());

    // users
    let user = "4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf5";
    dev.run(&["user", "add", "--name", "ada", "--userid", user, "--email", "ada@example.org"]);
    let users = dev.json(&["user", "ls"]);
    assert!(users.as_array().unwrap().iter().any(|u| u["name"] == "ada"), "{users}");
    dev.run(&["user", "remove", "--name", "ada"]);
    assert!(!dev.json(&["user", "ls"]).as_array().unwrap().iter().any(|u| u["name"] == "ada"));

    // the colony owner's key is needed to create executors
    let refused = dev
        .command(&["executor", "create", "--name", "x", "--type", "manual", "--colonyprvkey", DEVENV[4].1])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a non-owner cannot register executors");
}

/// `colonies channel`: the runner appends, the initiator reads and subscribes.
#[test]
fn a_channel_through_the_cli() {
    let dev = start_cluster();
    let dir = tempfile::tempdir().unwrap();
    let keypath = dir.path().join("talker.key");
    dev.run(&[
        "executor",
        "create",
        "--name",
        "talker",
        "--type",
        "talker",
        "--approve",
        "--keypath",
        keypath.to_str().unwrap(),
    ]);
    let key = std::fs::read_to_string(&keypath).unwrap();
    let spec = dir.path().join("chatty.json");
    let json = r#"{"funcname":"chat","maxexectime":-1,"maxwaittime":-1,"maxretries":-1,"channels":["chat"],
        "conditions":{"colonyname":"dev","executortype":"talker"}}"#;
    std::fs::write(&spec, json).unwrap();
    let submitted = dev.json(&["function", "submit", "--spec", spec.to_str().unwrap()]);
    let processid = submitted["processid"].as_str().unwrap().to_string();
    let assigned = dev.json(&["process", "assign", "--timeout", "5", "--prvkey", &key]);
    assert_eq!(assigned["processid"], processid.as_str());
    dev.run(&["channel", "append", "-p", &processid, "--name", "chat", "-m", "hello", "--prvkey", &key]);
    dev.run(&["channel", "append", "-p", &processid, "--name", "chat", "-m", "bye", "--type", "end", "--prvkey", &key]);

    let read = dev.json(&["channel", "read", "-p", &processid, "--name", "chat"]);
    let payloads: Vec<&str> = read.as_array().unwrap().iter().map(|e| e["payload"].as_str().unwrap()).collect();
    assert_eq!(payloads, ["aGVsbG8=", "Ynll"], "base64 of hello and bye: {read}");
    let table = String::from_utf8(dev.run(&["channel", "read", "-p", &processid, "--name", "chat"]).stdout).unwrap();
    assert!(table.lines().any(|l| l.starts_with('2') && l.contains("end") && l.ends_with("bye")), "{table}");
    let after_first =
        dev.run(&["channel", "subscribe", "-p", &processid, "--name", "chat", "--afterseq", "1", "--timeout", "1"]);
    assert_eq!(String::from_utf8_lossy(&after_first.stdout).trim(), "2 end bye");

    // Nobody else may read it.
    let refused = dev
        .command(&["channel", "read", "-p", &processid, "--name", "chat", "--prvkey", DEVENV[3].1])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "the colony owner is neither initiator nor runner");
}

#[test]
fn a_second_dev_cluster_on_the_same_ports_refuses_to_start() {
    let dev = start_cluster();
    let second = dev.command(&["dev"]).output().unwrap();
    assert!(!second.status.success(), "it must not report the first cluster as its own");
    let error = String::from_utf8_lossy(&second.stderr);
    assert!(error.contains("in use"), "{error}");
    // The first cluster is untouched.
    dev.run(&["colony", "get", "--name", "dev"]);
}

/// `colonies dev --tls`: one command gives a cluster that serves HTTPS with a throwaway CA,
/// which the CLI trusts through COLONIES_TLS_CA; plain HTTP gets nowhere.
#[test]
fn colonies_dev_tls_serves_https_with_a_throwaway_ca() {
    let data = tempfile::tempdir().unwrap();
    let turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut dev = Dev { base: free_base_port(), children: Vec::new(), _turn: turn };
    let datadir = data.path().to_str().unwrap();
    let cluster = dev.command(&["dev", "--tls", "--datadir", datadir]).stdout(Stdio::null()).spawn().unwrap();
    dev.children.push(cluster);
    let ca = data.path().join("tls").join("ca.pem");
    let over_tls =
        |args: &[&str]| dev.command(args).env("COLONIES_TLS", "true").env("COLONIES_TLS_CA", &ca).output().unwrap();
    let begun = Instant::now();
    while !over_tls(&["colony", "get", "--name", "dev"]).status.success() {
        assert!(begun.elapsed() < Duration::from_secs(60), "colonies dev --tls did not come up");
        std::thread::sleep(Duration::from_millis(250));
    }
    let executors = over_tls(&["executor", "ls", "--json"]);
    assert!(String::from_utf8_lossy(&executors.stdout).contains("dev-cli"), "registered over TLS");
    let plain = dev.command(&["colony", "get", "--name", "dev"]).output().unwrap();
    assert!(!plain.status.success(), "a plain-HTTP call to a TLS node succeeded");
}

/// Runs `colonies bench args` and returns its stdout and stderr.
fn bench(dev: &Dev, args: &[&str]) -> (String, String) {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    let output = dev.run(&all);
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn the_load_generator_does_the_work_it_reports() {
    let dev = start_cluster();
    let (out, progress) = bench(&dev, &["submit", "--count", "40", "--clients", "4"]);
    assert!(out.contains("submit: 40 processes from 4 clients"), "{out}");
    assert!(out.contains("submit   n=40 "), "one latency per submit: {out}");
    let last = progress.lines().last().unwrap_or_default();
    assert!(last.starts_with(&format!("[{}] 100%  submitted 40/40  ", "#".repeat(30))), "{progress}");

    let (out, progress) = bench(&dev, &["e2e", "--count", "40", "--clients", "2", "--executors", "4"]);
    assert!(out.contains("e2e: 40 processes, 2 submitters, 4 executors"), "{out}");
    for call in ["assign   n=40 ", "close    n=40 ", "submit   n=40 "] {
        assert!(out.contains(call), "{call}: {out}");
    }
    let last = progress.lines().last().unwrap_or_default();
    assert!(last.starts_with(&format!("[{}] 100%  closed 40/40  submitted 40  ", "#".repeat(30))), "{progress}");

    // What the runs did is in the cluster's state: the submit run's processes wait (no
    // executor of its colony asks), the e2e run's are closed as successful.
    let stats = dev.json(&["server", "stats"]);
    assert_eq!(stats["waitingprocesses"], 40, "{stats}");
    assert_eq!(stats["successfulprocesses"], 40, "{stats}");
    assert_eq!(stats["runningprocesses"], 0, "{stats}");

    let (out, _) = bench(&dev, &["longpoll", "--waiters", "20", "--hold", "1"]);
    assert!(out.contains("longpoll: 20 waiting assigns for 1 s; 20 ended with 404"), "{out}");

    let no_executors = dev.command(&["bench", "e2e", "--count", "1", "--executors", "0"]).output().unwrap();
    assert!(!no_executors.status.success(), "nobody would ever close the processes");
    let error = String::from_utf8_lossy(&no_executors.stderr);
    assert!(error.contains("at least one executor"), "{error}");

    // Without the server owner's key no colony can be made for the run.
    let refused =
        dev.command(&["bench", "submit", "--count", "1"]).env_remove("COLONIES_SERVER_PRVKEY").output().unwrap();
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("COLONIES_SERVER_PRVKEY"), "{error}");
}

#[test]
fn the_failover_bench_kills_leaders_of_its_own_cluster_and_reports_each_gap() {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let output = Command::new(env!("CARGO_BIN_EXE_colonies"))
        .args(["bench", "failover", "--rounds", "2"])
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let (out, rounds) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{out}{rounds}");
    for round in ["round 1: leader ", "round 2: leader "] {
        assert!(rounds.contains(round), "{rounds}");
    }
    assert!(out.contains("failover: 2 leader kills; gap from SIGKILL to the first assign: median "), "{out}");
}

/// `colonies cron` and `colonies generator` with the reference's flags: a cron runs on its
/// interval and on demand, a generator runs when two arguments are packed.
#[test]
fn crons_and_generators_through_the_cli() {
    let dev = start_cluster();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("workflow.json");
    // Executor type `nobody`: the runs wait, so they can be counted.
    let workflow =
        r#"[{"nodename": "hello", "funcname": "echo", "args": ["hi"], "conditions": {"executortype": "nobody"}}]"#;
    std::fs::write(&spec, workflow).unwrap();
    let spec = spec.to_str().unwrap();

    let added = dev.json(&["cron", "add", "--name", "c1", "--interval", "1", "--spec", spec]);
    let cronid = added["cronid"].as_str().unwrap().to_string();
    assert_ne!(added["nextrun"], "0001-01-01T00:00:00Z", "scheduled when added");
    let listed = String::from_utf8_lossy(&dev.run(&["cron", "ls"]).stdout).to_string();
    assert!(listed.contains("c1") && listed.contains("every 1 s"), "{listed}");
    let ran = dev.json(&["cron", "run", "--cronid", &cronid]);
    let manual = ran["prevprocessgraphid"].as_str().unwrap().to_string();
    assert_eq!(dev.json(&["workflow", "get", "--workflowid", &manual])["processgraphid"], manual.as_str());
    // The schedule adds runs of its own.
    let begun = Instant::now();
    while dev.json(&["workflow", "psw"]).as_array().unwrap().len() < 3 {
        assert!(begun.elapsed() < Duration::from_secs(30), "the cron did not run on its interval");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(dev.json(&["cron", "get", "--cronid", &cronid])["name"], "c1");
    dev.run(&["cron", "remove", "--cronid", &cronid]);
    assert_eq!(dev.json(&["cron", "ls"]), serde_json::json!([]));
    let bad = dev.command(&["cron", "add", "--name", "bad", "--cron", "* * *", "--spec", spec]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected exactly 6 fields"));

    let added = dev.json(&["generator", "add", "--name", "g1", "--spec", spec, "--trigger", "2", "--timeout", "60"]);
    let generatorid = added["generatorid"].as_str().unwrap().to_string();
    for arg in ["a1", "a2"] {
        dev.run(&["generator", "pack", "--generatorid", &generatorid, "--arg", arg]);
    }
    let begun = Instant::now();
    loop {
        let shown = dev.json(&["generator", "get", "--generatorid", &generatorid]);
        if shown["lastrun"] != "0001-01-01T00:00:00Z" {
            assert_eq!(shown["queuesize"], 0, "{shown}");
            break;
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "the generator did not run: {shown}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let listed = String::from_utf8_lossy(&dev.run(&["generator", "ls"]).stdout).to_string();
    assert!(listed.contains("g1") && listed.contains(&generatorid), "{listed}");
    dev.run(&["generator", "remove", "--generatorid", &generatorid]);
    assert_eq!(dev.json(&["generator", "ls"]), serde_json::json!([]));
}

#[test]
fn locations_and_file_metadata_through_the_cli() {
    let dev = start_cluster();
    let added = dev.json(&["location", "add", "--name", "north", "--desc", "up", "--long", "18.07", "--lat", "-59.3"]);
    assert_eq!(added["locationid"].as_str().unwrap().len(), 64, "{added}");
    assert_eq!(dev.json(&["location", "get", "--name", "north"])["lat"], -59.3);
    let listed = String::from_utf8_lossy(&dev.run(&["location", "ls"]).stdout).to_string();
    assert!(listed.contains("north") && listed.contains("up"), "{listed}");
    dev.run(&["location", "remove", "--name", "north"]);
    assert_eq!(dev.json(&["location", "ls"]), serde_json::json!([]));

    // The CLI uploads nothing (no S3 here): metadata commands on a colony without files.
    assert_eq!(dev.json(&["fs", "labels"]), serde_json::json!([]));
    assert_eq!(dev.json(&["fs", "ls", "--label", "/data"]), serde_json::json!([]));
    let missing = dev.command(&["fs", "get", "--label", "/data", "--name", "a.txt"]).output().unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("Failed to get file") && !missing.status.success());
    let snapshot = dev.json(&["fs", "snapshot", "create", "--label", "/data", "--name", "s1"]);
    assert_eq!(snapshot["fileids"], serde_json::json!([]));
    assert_eq!(dev.json(&["fs", "snapshot", "get", "--name", "s1"])["snapshotid"], snapshot["snapshotid"]);
    let listed = String::from_utf8_lossy(&dev.run(&["fs", "snapshot", "ls"]).stdout).to_string();
    assert!(listed.contains("s1") && listed.contains("/data"), "{listed}");
    dev.run(&["fs", "snapshot", "remove", "--name", "s1"]);
    assert_eq!(dev.json(&["fs", "snapshot", "ls"]), serde_json::json!([]));
}

/// `colonies blueprint` and `colonies blueprint definition` with the reference's commands:
/// a definition (colony owner), a blueprint whose `set` makes a new generation, its
/// history, a reconciliation, and removal in the order the server requires.
#[test]
fn blueprints_through_the_cli() {
    let dev = start_cluster();
    let dir = tempfile::tempdir().unwrap();
    let definition = dir.path().join("definition.json");
    // Handler type `nobody`: the reconciliation processes wait.
    let text = r#"{"kind": "BlueprintDefinition", "metadata": {"name": "deployments"},
        "spec": {"names": {"kind": "Deployment"}, "handler": {"executorType": "nobody", "functionName": "reconcile"}}}"#;
    std::fs::write(&definition, text).unwrap();
    let blueprint = dir.path().join("blueprint.json");
    let text = r#"{"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"image": "nginx", "replicas": 1}}"#;
    std::fs::write(&blueprint, text).unwrap();

    let added = dev.json(&["blueprint", "definition", "add", "--spec", definition.to_str().unwrap()]);
    assert_eq!(added["metadata"]["colonyname"], "dev", "{added}");
    let listed = String::from_utf8_lossy(&dev.run(&["blueprint", "definition", "ls"]).stdout).to_string();
    assert!(listed.contains("deployments") && listed.contains("nobody"), "{listed}");
    let added = dev.json(&["blueprint", "add", "--spec", blueprint.to_str().unwrap()]);
    assert_eq!(added["metadata"]["generation"], 1, "{added}");
    let set = dev.json(&["blueprint", "set", "--name", "web", "--key", "spec.replicas", "--value", "3"]);
    assert_eq!((set["metadata"]["generation"].clone(), set["spec"]["replicas"].clone()), (2.into(), 3.into()));
    let history = dev.json(&["blueprint", "history", "--name", "web"]);
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    let listed = String::from_utf8_lossy(&dev.run(&["blueprint", "ls", "--kind", "Deployment"]).stdout).to_string();
    assert!(listed.contains("web") && listed.contains("GENERATION"), "{listed}");
    let process = dev.json(&["blueprint", "reconcile", "--name", "web", "--force"]);
    assert_eq!(process["spec"]["kwargs"]["force"], true, "{process}");

    let refused = dev.command(&["blueprint", "definition", "remove", "--name", "deployments"]).output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("still exist"));
    dev.run(&["blueprint", "remove", "--name", "web"]);
    assert_eq!(dev.json(&["blueprint", "ls"]), serde_json::json!([]));
    dev.run(&["blueprint", "definition", "remove", "--name", "deployments"]);
    assert_eq!(dev.json(&["blueprint", "definition", "ls"]), serde_json::json!([]));
}

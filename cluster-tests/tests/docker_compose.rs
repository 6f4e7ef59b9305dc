//! The shipped `docker/docker-compose.yml` on a real Docker engine (issue 20): the image
//! (runtime stage, non-root user, health check), the compose file's environment, volumes
//! and restart policy, a walk-through through the CLI on the host, the leader's container
//! killed and the cluster failing over, and the killed node brought back by `up` with the
//! data of its volume.
//!
//! What this machine needs is changed in a derived copy of the shipped file, and only that:
//! host networking on 127.0.0.1 with free ports (no bridge network, so no test traffic on
//! private-range addresses; `dockerd` runs with `--bridge=none` when the test starts it),
//! an image built from the binary under test on a base made from Debian packages (no image
//! registry is reachable), and no published ports (host networking has none).
//! Skips, saying why, only where Docker cannot run at all.

mod common;

use colonies_cluster_tests::{admin_get, colonies_binary, free_port, http_get, https_get_with};
use common::*;
use serde_yaml::{Mapping, Value};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The base image, made once per Docker engine from Debian packages.
const BASE_IMAGE: &str = "colonies-test-base:bookworm";
const IMAGE: &str = "colonies-rs:compose-test";
const NODES: [&str; 3] = ["node1", "node2", "node3"];
/// The Debian mirror debootstrap fetches from (`COLONIES_TEST_DEBIAN_MIRROR` overrides it).
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

fn succeeded(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn found(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
}

fn engine_answers() -> bool {
    Command::new("docker").arg("info").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// A `dockerd` this test started, stopped when the test ends.
struct Daemon(Option<Child>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The engine: the running one, or a `dockerd` started here without a default bridge.
/// `Err` says why Docker cannot run here at all.
fn engine() -> Result<Daemon, String> {
    for program in ["docker", "dockerd", "docker-compose"] {
        if !found(program) {
            return Err(format!("`{program}` is not installed (.ci/run installs docker.io and docker-compose)"));
        }
    }
    if engine_answers() {
        return Ok(Daemon(None));
    }
    let log =
        std::fs::File::create(std::env::temp_dir().join("colonies-test-dockerd.log")).map_err(|e| e.to_string())?;
    let child = Command::new("dockerd")
        .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("dockerd does not start: {e}"))?;
    let mut daemon = Daemon(Some(child));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if engine_answers() {
            return Ok(daemon);
        }
        if let Some(status) = daemon.0.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            return Err(format!("dockerd exited with {status} (see the temp dir's colonies-test-dockerd.log)"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err("dockerd did not answer within 60 s".into())
}

/// Makes the base image from Debian packages unless the engine has it already.
fn ensure_base_image() {
    if run(Command::new("docker").args(["image", "inspect", BASE_IMAGE])).status.success() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mirror = std::env::var("COLONIES_TEST_DEBIAN_MIRROR").unwrap_or_else(|_| DEFAULT_MIRROR.into());
    eprintln!("making {BASE_IMAGE} with debootstrap from {mirror} (about a minute, once per engine)");
    succeeded(Command::new("debootstrap").args(["--variant=minbase", "bookworm"]).arg(root.path()).arg(&mirror));
    let import = format!("tar -C '{}' -c . | docker import - {BASE_IMAGE}", root.path().display());
    succeeded(Command::new("sh").args(["-c", &import]));
}

/// The Dockerfile's `prebuilt` stage with the binary under test.
fn build_image() {
    let context = tempfile::tempdir().unwrap();
    std::fs::copy(colonies_binary(), context.path().join("colonies")).unwrap();
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker/Dockerfile");
    succeeded(
        Command::new("docker")
            .args(["build", "--quiet", "--target", "prebuilt", "--tag", IMAGE])
            .args(["--build-arg", &format!("BASE_IMAGE={BASE_IMAGE}"), "--build-arg", "BINARY=colonies"])
            .arg("--file")
            .arg(dockerfile)
            .arg(context.path()),
    );
}

/// The shipped image's name in the compose files; the test's image replaces it.
const SHIPPED_IMAGE: &str = "colonies-rs:latest";

/// One of the shipped compose files, its anchors and merge keys resolved.
fn shipped(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker").join(file);
    let mut document: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    document.apply_merge().unwrap();
    document
}

/// `overlay` laid over `base` as `docker compose -f base -f overlay` does for what these
/// files hold: mappings merge key by key, a service's volumes by their path in the
/// container, other lists and scalars are replaced.
fn overlaid(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Mapping(base), Value::Mapping(overlay)) => {
            for (key, value) in overlay {
                match (base.get_mut(&key), key.as_str()) {
                    (Some(Value::Sequence(mounts)), Some("volumes")) => {
                        for mount in value.as_sequence().cloned().unwrap_or_default() {
                            mounts.retain(|m| mount_target(m) != mount_target(&mount));
                            mounts.push(mount);
                        }
                    }
                    (Some(existing), _) => overlaid(existing, value),
                    (None, _) => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// The path in the container of a short-form mount, `source:target[:mode]`.
fn mount_target(mount: &Value) -> Option<&str> {
    mount.as_str()?.split(':').nth(1)
}

/// The shipped compose files (`docker-compose.yml`, then the overlays) with this machine's
/// changes: the test image, host networking on 127.0.0.1 with the given ports, no published
/// ports and nothing to build. Services of other images are left out: they cannot be made here.
fn derived_compose_file(ports: &[u16; 3], overlays: &[&str]) -> String {
    let mut document = shipped("docker-compose.yml");
    for overlay in overlays {
        overlaid(&mut document, shipped(overlay));
    }
    let peers: Vec<String> = ports.iter().enumerate().map(|(i, p)| format!("{}=127.0.0.1:{p}", i + 1)).collect();
    let services = document["services"].as_mapping_mut().expect("services");
    let others: Vec<Value> = services
        .iter()
        .filter(|(_, service)| service["image"].as_str() != Some(SHIPPED_IMAGE))
        .map(|(name, _)| name.clone())
        .collect();
    for name in others {
        eprintln!("left out of the test (its image cannot be made here): {}", name.as_str().unwrap_or("?"));
        services.remove(&name);
    }
    for (_, service) in services.iter_mut() {
        service.as_mapping_mut().expect("a service").insert("image".into(), IMAGE.into());
    }
    for (i, node) in NODES.iter().enumerate() {
        let service = services.get_mut(*node).and_then(Value::as_mapping_mut).expect("a node service");
        service.remove("ports");
        service.remove("build");
        service.insert("network_mode".into(), "host".into());
        let environment = service.get_mut("environment").and_then(Value::as_mapping_mut).expect("an environment");
        environment.insert("COLONIES_SERVER_HTTP_HOST".into(), "127.0.0.1".into());
        environment.insert("COLONIES_SERVER_PORT".into(), ports[i].to_string().into());
        environment.insert("COLONIES_PEERS".into(), peers.join(",").into());
    }
    let root: &mut Mapping = document.as_mapping_mut().unwrap();
    root.retain(|key, _| !key.as_str().is_some_and(|k| k.starts_with("x-")));
    serde_yaml::to_string(&document).unwrap()
}

/// A compose project on the derived file; `down -v` when dropped.
struct Project {
    name: String,
    dir: tempfile::TempDir,
}

impl Project {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("docker-compose");
        command
            .arg("--project-name")
            .arg(&self.name)
            .arg("--file")
            .arg(self.dir.path().join("docker-compose.yml"))
            .args(args)
            .env("COLONIES_CLUSTER_SECRET", SECRET);
        command
    }

    fn container(&self, node: &str) -> String {
        succeeded(&mut self.command(&["ps", "-q", node])).trim().to_string()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.command(&["down", "--volumes", "--timeout", "5"]).output();
    }
}

fn status(addr: &str) -> Option<serde_json::Value> {
    admin_get(addr, "/cluster").and_then(|(code, body)| (code == 200).then(|| serde_json::from_str(&body).ok())?)
}

/// The leader's index in `NODES` as at least two of `addrs` see it, other than `not`.
fn leader(addrs: &[String], not: Option<usize>, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let seen: Vec<u64> = addrs.iter().filter_map(|a| status(a)?["leader"].as_u64()).collect();
        if let Some(first) = seen.first()
            && seen.len() >= 2
            && seen.iter().all(|l| l == first)
            && not != Some(*first as usize - 1)
        {
            return *first as usize - 1;
        }
        assert!(Instant::now() < deadline, "no leader agreed on within {within:?}: {seen:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn colonies(addrs: &[String], args: &[&str]) -> Command {
    let mut command = Command::new(colonies_binary());
    command
        .args(args)
        .env("COLONIES_SERVER_ADDRS", addrs.join(","))
        .env("COLONIES_COLONY_NAME", "dev")
        .env("COLONIES_PRVKEY", EXECUTOR_KEY)
        .env("COLONIES_COLONY_PRVKEY", COLONY_KEY)
        .env("COLONIES_SERVER_PRVKEY", SERVER_KEY);
    command
}

fn successful_processes(addrs: &[String]) -> usize {
    let out = succeeded(&mut colonies(addrs, &["process", "pss", "--json"]));
    serde_json::from_str::<Vec<serde_json::Value>>(&out).map_or(0, |list| list.len())
}

fn wait_for_successful(addrs: &[String], count: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while successful_processes(addrs) < count {
        assert!(Instant::now() < deadline, "fewer than {count} successful processes after {within:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn digests(addrs: &[String]) -> Vec<Option<String>> {
    addrs
        .iter()
        .map(|a| {
            let (_, body) = admin_get(a, "/cluster/digest")?;
            let json: serde_json::Value = serde_json::from_str(&body).ok()?;
            json["digest"].as_str().map(String::from)
        })
        .collect()
}

fn health(container: &str) -> String {
    let format = "{{.State.Health.Status}}";
    succeeded(Command::new("docker").args(["inspect", "--format", format, container])).trim().to_string()
}

/// An OS executor on the host, killed when dropped.
struct Executor(Child);

impl Drop for Executor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `walk` with the engine up and the image of the binary under test built; skips,
/// saying why, only where Docker cannot run at all.
async fn on_a_real_engine(walk: fn()) {
    let _serial = SERIAL.lock().await;
    let _daemon = match engine() {
        Ok(daemon) => daemon,
        Err(why) => {
            eprintln!("SKIPPED: Docker cannot run here: {why}");
            return;
        }
    };
    tokio::task::block_in_place(|| {
        ensure_base_image();
        build_image();
        walk();
    });
}

/// The README's walk-through through `cli` (the CLI on the host, set up to reach the
/// cluster): the colony, a submitting executor, an OS executor on the host (killed when the
/// returned value is dropped), and one process of `examples/sleep.json` submitted.
fn start_walk_through(cli: impl Fn(&[&str]) -> Command) -> Executor {
    succeeded(&mut cli(&["colony", "add", "--name", "dev", "--colonyid", &key(COLONY_KEY).id()]));
    let submitter = ["executor", "add", "--name", "dev-cli", "--type", "cli", "--approve", "--executorid"];
    succeeded(cli(&submitter).arg(key(EXECUTOR_KEY).id()));
    let executor = cli(&["executor", "start", "--executorname", "host-executor", "--timeout", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let executor = Executor(executor);
    submit_sleep(&cli);
    executor
}

fn submit_sleep(cli: &impl Fn(&[&str]) -> Command) {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sleep.json");
    succeeded(&mut cli(&["function", "submit", "--spec", spec.to_str().unwrap()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_compose_file_runs_fails_over_and_rejoins_on_a_real_engine() {
    on_a_real_engine(walk_through_failover_and_rejoin).await;
}

fn walk_through_failover_and_rejoin() {
    let user = succeeded(Command::new("docker").args(["image", "inspect", "--format", "{{.Config.User}}", IMAGE]));
    assert_eq!(user.trim(), "colonies", "the image runs as its own user, not root");

    let ports = [free_port(), free_port(), free_port()];
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let project = Project { name: format!("colonies-test-{}", std::process::id()), dir: tempfile::tempdir().unwrap() };
    std::fs::write(project.dir.path().join("docker-compose.yml"), derived_compose_file(&ports, &[])).unwrap();
    succeeded(&mut project.command(&["up", "--detach", "--no-build"]));
    let first = leader(&addrs, None, STARTUP);

    // The README's walk-through, through the CLI on the host, with an OS executor there.
    let cli = |args: &[&str]| colonies(&addrs, args);
    let _executor = start_walk_through(cli);
    wait_for_successful(&addrs, 1, Duration::from_secs(60));
    let uid = succeeded(Command::new("docker").args(["exec", &project.container(NODES[first]), "id", "-u"]));
    assert_ne!(uid.trim(), "0", "the node runs as a non-root user");

    // Kill the leader's container: the survivors elect a new leader and keep serving.
    let killed = NODES[first];
    let applied_before = status(&addrs[first]).and_then(|s| s["last_applied"].as_u64()).expect("the leader's status");
    succeeded(Command::new("docker").args(["kill", &project.container(killed)]));
    let killed_at = Instant::now();
    let survivors: Vec<String> =
        addrs.iter().enumerate().filter(|(i, _)| *i != first).map(|(_, a)| a.clone()).collect();
    let second = leader(&survivors, Some(first), STARTUP);
    eprintln!("failover: {} became leader {:?} after the kill", NODES[second], killed_at.elapsed());
    assert_ne!(second, first);
    submit_sleep(&cli);
    wait_for_successful(&addrs, 2, Duration::from_secs(60));

    // `up` again: the killed node's container comes back with its volume's data.
    succeeded(&mut project.command(&["up", "--detach", "--no-build"]));
    let deadline = Instant::now() + STARTUP;
    let applied_after_restart = loop {
        if let Some(applied) = status(&addrs[first]).and_then(|s| s["last_applied"].as_u64()) {
            break applied;
        }
        assert!(Instant::now() < deadline, "{killed} did not answer after `up`");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        applied_after_restart >= applied_before,
        "{killed} came back at index {applied_after_restart}, below the {applied_before} of its volume"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = digests(&addrs);
        if now[0].is_some() && now.iter().all(|d| *d == now[0]) {
            break;
        }
        assert!(Instant::now() < deadline, "the nodes' states did not converge: {now:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(successful_processes(&[addrs[first].clone()]), 2, "the rejoined node serves both processes");

    // The compose file's health check passes once the node is ready.
    let deadline = Instant::now() + Duration::from_secs(90);
    while health(&project.container(killed)) != "healthy" {
        assert!(Instant::now() < deadline, "{killed} never became healthy: {}", health(&project.container(killed)));
        std::thread::sleep(Duration::from_secs(1));
    }
    let label = format!("label=com.docker.compose.project={}", project.name);
    let networks = succeeded(Command::new("docker").args(["network", "ls", "--quiet", "--filter", &label]));
    assert!(networks.trim().is_empty(), "the project made a network: {networks}");
}

/// `docker-compose.tls.yml` over the shipped file (issue 13): the one-shot `certs` service
/// makes the cluster CA and node certificates in the `tls` volume, the nodes speak mutual
/// TLS among themselves and HTTPS to clients, the health check reaches its node over TLS,
/// and the CLI on the host, trusting the CA, walks through a follower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_compose_variant_serves_https_on_a_real_engine() {
    on_a_real_engine(walk_through_tls).await;
}

fn walk_through_tls() {
    let ports = [free_port(), free_port(), free_port()];
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let project =
        Project { name: format!("colonies-tls-test-{}", std::process::id()), dir: tempfile::tempdir().unwrap() };
    let compose = derived_compose_file(&ports, &["docker-compose.tls.yml"]);
    std::fs::write(project.dir.path().join("docker-compose.yml"), compose).unwrap();
    succeeded(&mut project.command(&["run", "--rm", "certs"]));
    succeeded(&mut project.command(&["up", "--detach", "--no-build"]));

    // The host trusts the cluster CA the `certs` service made.
    let ca = project.dir.path().join("ca.pem");
    let source = format!("{}:/etc/colonies/tls/ca.pem", project.container(NODES[0]));
    succeeded(Command::new("docker").arg("cp").arg(source).arg(&ca));
    let tls = colonies_client::tls::TlsSettings { ca: Some(ca.clone()), ..Default::default() };
    let config = std::sync::Arc::new(tls.client_config().expect("a client configuration for the cluster CA"));
    let secret = format!("{}: {SECRET}\r\n", colonies_client::admin::SECRET_HEADER);
    let leader_seen = |addr: &String| {
        let (code, body) = https_get_with(addr, "/cluster", &secret, config.clone())?;
        let status: serde_json::Value = serde_json::from_str(&body).ok().filter(|_| code == 200)?;
        status["leader"].as_u64()
    };
    let deadline = Instant::now() + STARTUP;
    let leader = loop {
        let seen: Vec<u64> = addrs.iter().filter_map(leader_seen).collect();
        if seen.len() == addrs.len() && seen.iter().all(|l| *l == seen[0]) {
            break seen[0] as usize - 1;
        }
        assert!(Instant::now() < deadline, "no leader agreed on over TLS within {STARTUP:?}: {seen:?}");
        std::thread::sleep(Duration::from_millis(200));
    };

    // The walk-through through a follower, over HTTPS (and the executor's long-polls).
    let follower = vec![addrs[(leader + 1) % addrs.len()].clone()];
    let over_tls = |args: &[&str]| {
        let mut command = colonies(&follower, args);
        command.env("COLONIES_TLS", "true").env("COLONIES_TLS_CA", &ca);
        command
    };
    let _executor = start_walk_through(over_tls);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = succeeded(&mut over_tls(&["process", "pss", "--json"]));
        if serde_json::from_str::<Vec<serde_json::Value>>(&out).is_ok_and(|list| list.len() == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "the process did not succeed over TLS within 60 s");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Plain HTTP reaches nothing, and the CLI without the CA refuses the nodes' certificate.
    assert_eq!(http_get(&addrs[leader], "/health"), None, "a plain-HTTP request got an answer");
    let untrusted = run(colonies(&follower, &["process", "pss"]).env("COLONIES_TLS", "true"));
    assert!(!untrusted.status.success(), "the CLI trusted a certificate of an unknown CA");

    // Each node's health check, which runs the CLI in its container over TLS, passes.
    let deadline = Instant::now() + Duration::from_secs(90);
    for node in NODES {
        while health(&project.container(node)) != "healthy" {
            assert!(Instant::now() < deadline, "{node} never became healthy: {}", health(&project.container(node)));
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

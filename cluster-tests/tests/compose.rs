//! The node command lines and environments of docker/docker-compose.yml, started natively
//! on loopback with remapped ports: a quick check that they form a working cluster, also
//! where Docker cannot run. (`docker_compose.rs` runs the same file on a real engine.)

use colonies_client::envelope::RpcRequest;
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AddColonyMsg, GetColoniesMsg, Message};
use colonies_client::rpc::Client;
use colonies_cluster_tests::{colonies_binary, free_port, http_get_with};
use colonies_statemachine::model::Colony;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER_PRVKEY: &str = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d";

struct Service {
    name: String,
    command: Vec<String>,
    environment: BTreeMap<String, String>,
}

fn docker_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker").join(name)).expect(name)
}

fn compose_document() -> serde_yaml::Value {
    let mut document: serde_yaml::Value =
        serde_yaml::from_str(&docker_file("docker-compose.yml")).expect("the compose file is YAML");
    document.apply_merge().expect("merge keys resolve");
    document
}

/// The node services: those outside a profile (the `monitoring` ones are not nodes).
fn compose_services() -> Vec<Service> {
    let document = compose_document();
    let services = document["services"].as_mapping().expect("a services map");
    services
        .iter()
        .filter(|(_, service)| service.get("profiles").is_none())
        .map(|(name, service)| {
            let strings = |value: &serde_yaml::Value| {
                value.as_str().map(String::from).or_else(|| value.as_i64().map(|n| n.to_string()))
            };
            Service {
                name: name.as_str().expect("service name").to_string(),
                command: service["command"].as_sequence().expect("a command list").iter().filter_map(strings).collect(),
                environment: service["environment"]
                    .as_mapping()
                    .expect("an environment map")
                    .iter()
                    .map(|(k, v)| (strings(k).unwrap(), from_env_file(&strings(v).unwrap_or_default())))
                    .collect(),
            }
        })
        .collect()
}

/// The value a `${NAME:?...}` reference takes from docker/.env, as `docker compose` fills it
/// in; the test's own value stands for the user's.
fn from_env_file(value: &str) -> String {
    if value.starts_with("${COLONIES_CLUSTER_SECRET") { "compose-native-test-secret".into() } else { value.into() }
}

/// The compose nodes, killed on drop.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_compose_file_starts_a_working_three_node_cluster() {
    let services = compose_services();
    assert_eq!(services.len(), 3, "three nodes");
    let ports: BTreeMap<String, u16> = services.iter().map(|s| (s.name.clone(), free_port())).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = Nodes(Vec::new());
    for service in &services {
        assert_eq!(service.command[..2], ["server", "start"], "{} runs a node", service.name);
        let mut environment = service.environment.clone();
        let container_port = environment["COLONIES_SERVER_PORT"].clone();
        // Service names become loopback addresses with this test's ports.
        let mut peers = environment["COLONIES_PEERS"].clone();
        for (name, port) in &ports {
            peers = peers.replace(&format!("{name}:{container_port}"), &format!("127.0.0.1:{port}"));
        }
        assert!(!peers.contains(&format!(":{container_port}")), "every peer is a service: {peers}");
        environment.insert("COLONIES_PEERS".into(), peers);
        environment.insert("COLONIES_SERVER_PORT".into(), ports[&service.name].to_string());
        environment.insert("COLONIES_DATADIR".into(), dir.path().join(&service.name).display().to_string());
        environment.insert("COLONIES_SERVER_HTTP_HOST".into(), "127.0.0.1".into());
        // Each container has the metrics port to itself; here the nodes share loopback.
        environment.insert("COLONIES_METRICS_ADDR".into(), free_port().to_string());
        environment.insert("RUST_LOG".into(), "warn".into());
        let child = Command::new(colonies_binary())
            .args(&service.command)
            .envs(&environment)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting a compose node");
        nodes.0.push(child);
    }
    let addrs: Vec<String> = ports.values().map(|p| format!("127.0.0.1:{p}")).collect();
    // `/cluster` takes the cluster secret; the compose file's own.
    let secret = format!("x-colonies-cluster-secret: {}\r\n", services[0].environment["COLONIES_CLUSTER_SECRET"]);

    let begun = Instant::now();
    let leader = loop {
        let found = addrs.iter().find_map(|a| {
            let (_, body) = http_get_with(a, "/cluster", &secret)?;
            let status: serde_json::Value = serde_json::from_str(&body).ok()?;
            status["leader"].as_u64()
        });
        if let Some(leader) = found {
            break leader;
        }
        assert!(begun.elapsed() < Duration::from_secs(60), "no leader elected from the compose command lines");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The compose file sets COLONIES_FORWARD: a follower answers a write itself (proxied to
    // the leader) rather than redirecting to a node name the client could not resolve.
    let server = PrivateKey::from_hex(SERVER_PRVKEY).unwrap();
    let follower = &addrs[(leader as usize) % addrs.len()];
    let colony = Colony { colonyid: PrivateKey::generate().id(), name: "compose".into() };
    let message: Message = AddColonyMsg { colony: Some(colony) }.into();
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &server);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = http.post(format!("http://{follower}/api")).json(&request).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap_or_default());

    // Every node reads it back.
    for addr in &addrs {
        let colonies: Vec<Colony> = Client::new(vec![addr.clone()]).call(&server, GetColoniesMsg {}).await.unwrap();
        assert!(colonies.iter().any(|c| c.name == "compose"), "{addr}: {colonies:?}");
    }
}

/// docker-compose.tls.yml gives every node of docker-compose.yml TLS with its own
/// certificate, and its `certs` service makes exactly those certificates, each naming the
/// node's compose name (peers), localhost (published ports) and 127.0.0.1 (health check).
#[test]
fn the_tls_variant_covers_every_node_with_its_own_certificate() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker/docker-compose.tls.yml");
    let mut tls: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    tls.apply_merge().expect("merge keys resolve");
    let services = &tls["services"];
    let certs: Vec<&str> =
        services["certs"]["command"].as_sequence().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(certs[..2], ["security", "certs"]);
    let nodes = compose_services();
    let made: Vec<&str> = certs.windows(2).filter(|w| w[0] == "--node").map(|w| w[1]).collect();
    assert_eq!(made.len(), nodes.len(), "one certificate per node: {made:?}");
    for node in &nodes {
        let name = &node.name;
        assert!(made.contains(&format!("{name}={name},localhost,127.0.0.1").as_str()), "{name} in {made:?}");
        let env = &services[name.as_str()]["environment"];
        assert_eq!(env["COLONIES_TLS"].as_str(), Some("true"), "{name}");
        assert_eq!(env["COLONIES_TLSCERT"].as_str(), Some(format!("/etc/colonies/tls/{name}.pem").as_str()));
        assert_eq!(env["COLONIES_TLSKEY"].as_str(), Some(format!("/etc/colonies/tls/{name}-key.pem").as_str()));
        assert_eq!(env["COLONIES_TLS_CLUSTER_CA"].as_str(), Some("/etc/colonies/tls/ca.pem"));
        assert_eq!(env["COLONIES_TLS_CA"].as_str(), Some("/etc/colonies/tls/ca.pem"), "{name}: the health check");
    }
}

/// The `monitoring` profile's Prometheus scrapes exactly the nodes' metrics listeners: each
/// node service at the port of its `COLONIES_METRICS_ADDR`.
#[test]
fn prometheus_scrapes_the_metrics_address_of_every_node() {
    let nodes = compose_services();
    let mut expected: Vec<String> = nodes
        .iter()
        .map(|node| {
            let addr = &node.environment["COLONIES_METRICS_ADDR"];
            let (host, port) = addr.rsplit_once(':').expect("host:port");
            assert_eq!(host, "0.0.0.0", "{}: reachable from the Prometheus container", node.name);
            format!("{}:{port}", node.name)
        })
        .collect();
    let config: serde_yaml::Value = serde_yaml::from_str(&docker_file("prometheus/prometheus.yml")).unwrap();
    let jobs = config["scrape_configs"].as_sequence().expect("scrape configs");
    let mut targets: Vec<String> = jobs
        .iter()
        .flat_map(|job| job["static_configs"].as_sequence().cloned().unwrap_or_default())
        .flat_map(|group| group["targets"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|target| target.as_str().map(String::from))
        .collect();
    expected.sort();
    targets.sort();
    assert_eq!(targets, expected);

    // The compose file mounts that configuration and the dashboard provisioning.
    let document = compose_document();
    let mounts = |service: &str| -> Vec<String> {
        let volumes = document["services"][service]["volumes"].as_sequence().expect("volumes");
        volumes.iter().filter_map(|v| v.as_str().map(String::from)).collect()
    };
    assert!(mounts("prometheus").iter().any(|m| m.starts_with("./prometheus/prometheus.yml:")));
    for folder in ["./grafana/provisioning:", "./grafana/dashboards:"] {
        assert!(mounts("grafana").iter().any(|m| m.starts_with(folder)), "grafana mounts {folder}");
    }
    for service in ["prometheus", "grafana"] {
        let profiles = &document["services"][service]["profiles"];
        assert_eq!(profiles[0].as_str(), Some("monitoring"), "{service} starts only with the profile");
    }
}

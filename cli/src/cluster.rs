//! `colonies cluster info`: every node's own view of the cluster, from `/cluster`, which
//! takes the cluster secret (it names peers, leader and log indexes); and `server ready`,
//! one node's readiness.

use crate::table::table;
use crate::user::Ctx;
use anyhow::{Context, bail};
use colonies_client::admin::{Admin, AdminError};
use std::time::Duration;

#[derive(clap::Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub ctx: Ctx,
    /// The cluster's shared secret, which `/cluster` requires.
    #[arg(long, env = "COLONIES_CLUSTER_SECRET", hide_env_values = true)]
    pub cluster_secret: String,
}

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `cluster info`: every node with its role, term, last applied index, lag behind the
/// leader's log, last contact (a follower's with its leader, the leader's with a majority),
/// snapshot index and uptime, read from the nodes themselves.
pub async fn cluster_info(args: &InfoArgs) -> anyhow::Result<()> {
    let ctx = &args.ctx;
    let http = ctx.tls.http(reqwest::Client::builder().timeout(Duration::from_secs(2)), None)?;
    let admin = Admin::new(http, ctx.tls.enabled, &args.cluster_secret);
    let status = |addr: String| {
        let admin = admin.clone();
        async move {
            match admin.status(&addr).await {
                Ok(found) => Some(Ok(found)),
                Err(AdminError::WrongSecret { .. }) => Some(Err(())),
                Err(_) => None,
            }
        }
    };
    let mut known = None;
    for addr in ctx.addresses() {
        match status(addr.clone()).await {
            Some(Ok(found)) => {
                known = Some(found);
                break;
            }
            Some(Err(())) => bail!("{addr} refused the cluster secret: set COLONIES_CLUSTER_SECRET to the cluster's"),
            None => {}
        }
    }
    let known = known.context("no node answered /cluster")?;
    let leader = known["leader"].as_u64();
    let mut statuses = Vec::new();
    for node in known["nodes"].as_array().cloned().unwrap_or_default() {
        let addr = node["addr"].as_str().unwrap_or_default().to_string();
        let own = status(addr.clone()).await.and_then(Result::ok);
        statuses.push((node, addr, own));
    }
    // Lag: entries of the leader's log a node has not applied yet.
    let leader_log = statuses
        .iter()
        .find(|(node, _, _)| node["id"].as_u64() == leader)
        .and_then(|(_, _, own)| own.as_ref()?["last_log_index"].as_u64());
    let mut nodes = Vec::new();
    for (node, addr, own) in statuses {
        let applied = own.as_ref().and_then(|s| s["last_applied"].as_u64());
        let lag = leader_log.zip(applied).map(|(log, applied)| log.saturating_sub(applied));
        nodes.push(serde_json::json!({
            "id": node["id"],
            "addr": addr,
            "voter": node["voter"],
            "leader": node["id"].as_u64() == leader,
            "reachable": own.is_some(),
            "state": own.as_ref().map(|s| s["state"].clone()),
            "term": own.as_ref().map(|s| s["term"].clone()),
            "last_applied": own.as_ref().map(|s| s["last_applied"].clone()),
            "lag": lag,
            "millis_since_contact": own.as_ref().map(|s| s["millis_since_contact"].clone()),
            "snapshot": own.as_ref().map(|s| s["snapshot"].clone()),
            "uptime_seconds": own.as_ref().map(|s| s["uptime_seconds"].clone()),
        }));
    }
    if ctx.json {
        return print_json(&nodes);
    }
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    };
    let rows = nodes
        .iter()
        .map(|n| {
            vec![
                text(&n["id"]),
                text(&n["addr"]),
                if n["leader"] == true { "yes".into() } else { "no".into() },
                if n["reachable"] == true { text(&n["state"]) } else { "unreachable".into() },
                text(&n["term"]),
                text(&n["last_applied"]),
                text(&n["lag"]),
                n["millis_since_contact"].as_u64().map_or("-".into(), |ms| format!("{ms} ms ago")),
                text(&n["snapshot"]),
                n["uptime_seconds"].as_u64().map_or("-".into(), |s| format!("{s} s")),
            ]
        })
        .collect();
    let headings =
        ["NODE", "ADDRESS", "LEADER", "STATE", "TERM", "LAST APPLIED", "LAG", "LAST CONTACT", "SNAPSHOT", "UPTIME"];
    table(&headings, rows);
    Ok(())
}

/// How long `server ready` waits for the node's answer.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// `server ready`: succeeds if the (first) node answers `/ready` with 200; otherwise fails
/// with the node's reason.
pub async fn node_ready(ctx: &Ctx) -> anyhow::Result<()> {
    let addr = ctx.addresses().into_iter().next().context("no node address")?;
    let http = ctx.tls.http(reqwest::Client::builder().timeout(READY_TIMEOUT), None)?;
    let answer = http
        .get(format!("{}://{addr}/ready", ctx.tls.scheme()))
        .send()
        .await
        .with_context(|| format!("calling {addr}"))?;
    if answer.status().is_success() {
        println!("ready");
        return Ok(());
    }
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    bail!("{addr} is not ready ({status}): {text}")
}

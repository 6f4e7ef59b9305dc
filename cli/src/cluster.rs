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

/// `cluster info`: every node with its role, term and last applied index, read from the
/// nodes themselves.
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
    let mut nodes = Vec::new();
    for node in known["nodes"].as_array().cloned().unwrap_or_default() {
        let addr = node["addr"].as_str().unwrap_or_default().to_string();
        let own = status(addr.clone()).await.and_then(Result::ok);
        nodes.push(serde_json::json!({
            "id": node["id"],
            "addr": addr,
            "voter": node["voter"],
            "leader": node["id"].as_u64() == leader,
            "reachable": own.is_some(),
            "state": own.as_ref().map(|s| s["state"].clone()),
            "term": own.as_ref().map(|s| s["term"].clone()),
            "last_applied": own.as_ref().map(|s| s["last_applied"].clone()),
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
            ]
        })
        .collect();
    table(&["NODE", "ADDRESS", "LEADER", "STATE", "TERM", "LAST APPLIED"], rows);
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

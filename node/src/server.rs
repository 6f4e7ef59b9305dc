//! Starting a node: stores, Raft, HTTP routes, cluster formation, leader duties.

use crate::api;
use crate::config::ServerConfig;
use crate::leadership::{CatchUp, LeaderProbe, watch_routable_leader};
use crate::node::Node;
use crate::proposer::Proposer;
use crate::startup::Gate;
use crate::{leader, waiters::Waiters};
use colonies_client::identity::RecentSigners;
use colonies_client::tls::TlsSettings;
use colonies_raft::{FlushWatch, Network, PeerAuth, Raft, open_stores, raft_config, raft_router};
use openraft::BasicNode;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Signed requests whose signers a node remembers: one per polling executor or client of a
/// large colony, at a few hundred bytes each.
const RECENT_SIGNERS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("nodeid {0} is not in --peers")]
    NotAPeer(u64),
    #[error(transparent)]
    Open(#[from] colonies_raft::OpenError),
    #[error("raft failed to start: {0}")]
    Raft(String),
    #[error("{0}")]
    WeakSecret(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("cannot create the data folder {path:?}: {source}")]
    DataDir { path: std::path::PathBuf, source: std::io::Error },
    #[error("TLS: {0}")]
    Tls(#[from] colonies_client::tls::TlsError),
    #[error("the Raft core stopped: {0}; exiting so that a supervisor can restart this node")]
    CoreStopped(String),
}

/// Runs a node until it is told to stop (Ok) or its Raft core stops on an error (Err: the
/// process should exit non-zero so that a supervisor restarts it; a node whose storage
/// failed must not stay up pretending to be a member).
pub async fn run(config: ServerConfig) -> Result<(), NodeError> {
    if !config.peers.0.contains_key(&config.nodeid) {
        return Err(NodeError::NotAPeer(config.nodeid));
    }
    crate::config::check_secret(&config.cluster_secret).map_err(NodeError::WeakSecret)?;
    // Certificates are read before anything else starts: a bad path fails the start.
    let tls = config.tls.load()?;
    let open_files = crate::listen::raise_open_file_limit().unwrap_or_else(|e| {
        tracing::warn!("cannot read the open-file limit: {e}");
        1024
    });
    let connection_cap = crate::listen::connection_cap(config.max_connections, open_files);
    let connections = Arc::new(tokio::sync::Semaphore::new(connection_cap));
    let api_metrics = Arc::new(crate::metrics::ApiMetrics::default());
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&config.datadir)
        .map_err(|source| NodeError::DataDir { path: config.datadir.clone(), source })?;
    // Listen first: loading the state can take seconds, and meanwhile the node says so.
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| NodeError::Listen { addr: addr.clone(), source })?;
    let scheme = colonies_client::tls::scheme(tls.is_some());
    let mutual = tls.as_ref().is_some_and(|tls| tls.mutual);
    tracing::info!(node = config.nodeid, %addr, scheme, mutual, open_files, connection_cap, "listening; loading the state");
    let gate = Gate::default();
    let acceptor = tls.as_ref().map(|tls| tls.acceptor.clone());
    let peers = tls.map(|tls| tls.peers);
    // Stopped by aborting the task, when the node stops.
    let serving = crate::listen::serve(
        listener,
        gate.router(),
        acceptor,
        connections.clone(),
        api_metrics.clone(),
        std::future::pending(),
    );
    let server = tokio::spawn(serving);
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| NodeError::Listen { addr: addr.to_string(), source })?,
        ),
        None => None,
    };
    let metrics = Metrics { listener: metrics_listener, api: api_metrics, connection_cap, started };
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let outcome = tokio::select! {
        started = start(&config, &gate, connections, metrics, peers.as_ref(), mutual) => match started {
            Ok((raft, flushes, metrics_server)) => {
                let outcome = tokio::select! {
                    () = &mut shutdown => Ok(()),
                    reason = core_stopped(&raft) => Err(NodeError::CoreStopped(reason)),
                    stalled = storage_stalled(&flushes) => Err(NodeError::CoreStopped(format!(
                        "a disk flush has not returned in {stalled:?} (STORAGE_STALL)"
                    ))),
                };
                // A core stopped by a failed disk may never finish shutting down: only a node
                // told to stop waits for it.
                if outcome.is_ok() {
                    let _ = raft.shutdown().await;
                }
                if let Some(metrics_server) = metrics_server {
                    metrics_server.abort();
                }
                outcome
            }
            Err(e) => Err(e),
        },
        () = &mut shutdown => Ok(()),
    };
    server.abort();
    if let Err(e) = &outcome {
        tracing::error!("the node stops: {e}");
    }
    outcome
}

/// What `/metrics` needs from the start of `run`: its listener (`--metrics-addr`), bound
/// before the state loads so a taken port fails the start, and the API's counters.
struct Metrics {
    listener: Option<tokio::net::TcpListener>,
    api: Arc<crate::metrics::ApiMetrics>,
    connection_cap: usize,
    started: std::time::Instant,
}

/// Opens the stores, starts Raft (which re-applies the log since the last snapshot), opens
/// the gate to the full API and starts the leader's duties.
/// `peers`: how the node calls its peers over TLS (`None`: plain HTTP); `mutual`: whether
/// the peer routes require a certificate of the cluster CA.
async fn start(
    config: &ServerConfig,
    gate: &Gate,
    connections: Arc<tokio::sync::Semaphore>,
    metrics: Metrics,
    peers: Option<&TlsSettings>,
    mutual: bool,
) -> Result<(Raft, FlushWatch, Option<tokio::task::JoinHandle<()>>), NodeError> {
    let scheme = colonies_client::tls::scheme(peers.is_some());
    // The Raft network keeps its own connection pool, apart from the API's calls.
    let http_client = || match peers {
        Some(settings) => settings.http_client(reqwest::Client::builder()),
        None => Ok(reqwest::Client::new()),
    };
    let (log_store, state_machine) = open_stores(&config.datadir)?;
    let flushes = state_machine.flush_watch();
    let state = state_machine.state();
    let storage_stats = state_machine.stats();
    let events = state_machine.subscribe();
    let event_sender = state_machine.event_sender();
    let raft = Raft::new(
        config.nodeid,
        Arc::new(raft_config(config.snapshot_logs, config.snapshot_chunk_bytes)),
        Network::new(&config.cluster_secret, http_client()?, scheme),
        log_store,
        state_machine,
    )
    .await
    .map_err(|e| NodeError::Raft(e.to_string()))?;
    let proposer = Proposer::start(raft.clone());
    let waiters = Waiters::start(events);
    let leader = watch_routable_leader(raft.clone());
    let http = http_client()?;
    let node = Arc::new(Node {
        id: config.nodeid,
        raft: raft.clone(),
        state,
        proposer,
        waiters,
        peers: config.peers.clone(),
        forward: config.forward,
        http: http.clone(),
        scheme,
        host: config.host.clone(),
        port: config.port,
        serverid: config.serverid.clone(),
        events: event_sender,
        signers: Arc::new(RecentSigners::new(RECENT_SIGNERS)),
        catch_up: CatchUp::default(),
        leader,
        retention: config.retention(),
        probe: LeaderProbe::new(http.clone(), scheme),
        max_body: config.max_body,
        verifier: Default::default(),
        bodies: crate::body::BodyBudget::new(crate::body::MAX_BODY_BYTES_IN_FLIGHT.max(config.max_body)),
        cluster_secret: config.cluster_secret.as_str().into(),
        digests: Default::default(),
        connections: connections.clone(),
        allow_reregister: config.allow_executor_reregister,
        liveness: crate::liveness::Liveness::new(config.stale_policy()),
        origins: crate::cors::AllowedOrigins::from_list(&config.cors_origins),
        metrics: metrics.api.clone(),
        started: metrics.started,
    });
    let metrics_server = metrics.listener.map(|listener| {
        let registry = crate::metrics::registry(
            &metrics.api,
            connections.clone(),
            metrics.connection_cap,
            metrics.started,
            |registry| crate::cluster_metrics::register(registry, &raft, node.state.clone(), &storage_stats),
        );
        tokio::spawn(crate::metrics::serve(listener, registry))
    });
    let auth = PeerAuth::new(&config.cluster_secret, mutual);
    gate.open(
        api::router(node.clone())
            .merge(crate::membership::router(node.clone(), auth.clone()))
            .merge(raft_router(raft.clone(), auth)),
    );
    tracing::info!(node = config.nodeid, "state loaded; serving");
    if !config.join {
        tokio::spawn(form_cluster(raft.clone(), config.peers.0.clone()));
    }
    tokio::spawn(leader::run(node));
    Ok((raft, flushes, metrics_server))
}

/// A flush that has not returned in this long means the disk failed in a way sled does not
/// report (seen with a full disk while a snapshot was written): the node stops, as it does
/// when a write fails, instead of staying a member that cannot commit anything.
const STORAGE_STALL: Duration = Duration::from_secs(15);

/// Returns how long the stuck flush has run once it has run `STORAGE_STALL`.
async fn storage_stalled(flushes: &FlushWatch) -> Duration {
    loop {
        if let Some(busy) = flushes.busy_for()
            && busy >= STORAGE_STALL
        {
            return busy;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Returns why the Raft core stopped (a storage error, say) once it has.
async fn core_stopped(raft: &Raft) -> String {
    let mut metrics = raft.metrics();
    loop {
        if let Err(fatal) = &metrics.borrow_and_update().running_state {
            return fatal.to_string();
        }
        if metrics.changed().await.is_err() {
            return "the Raft core ended".into();
        }
    }
}

/// Every node of a fresh cluster proposes the same initial membership, so the cluster forms
/// as soon as a majority is up, whichever nodes those are. A node that already has a log
/// (a restart) is told it is initialized and rejoins with its state.
async fn form_cluster(raft: Raft, peers: BTreeMap<u64, String>) {
    let members: BTreeMap<u64, BasicNode> = peers.into_iter().map(|(id, addr)| (id, BasicNode::new(addr))).collect();
    match raft.is_initialized().await {
        Ok(true) => {}
        Ok(false) => {
            if let Err(e) = raft.initialize(members).await {
                tracing::info!("not initializing: {e}");
            }
        }
        Err(e) => tracing::error!("raft is not running: {e}"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

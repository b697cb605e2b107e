//! One branch as its own process: what `bank branch` runs.
//!
//! The in-process [`crate::cluster::local::Cluster`] starts every branch of a bank
//! inside one process. Here one process holds one branch: the same
//! [`crate::branch::node`] task and [`crate::branch::service`]s, with lazily-connected
//! channels to peers that may live on other machines. A driver
//! (`bank run --cluster`, `bank serve --cluster`) resets the branch for each
//! run and watches its log through `Admin.Trace` (see [`crate::cluster::remote`]).
//!
//! [`serve`] takes a listener that is already bound (so callers and tests
//! know the address before anything runs) and a shutdown future (the binary
//! passes SIGTERM / Ctrl-C). On shutdown it ends the trace streams, stops the
//! node, lets the server finish the calls in progress, and returns.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bank_core::branch::PropagationMode;
use bank_core::network::NetworkPlan;
use bank_core::{Branch, BranchConfig, BranchId, Cents, ClockScheme};
use tokio::net::TcpListener;

use crate::branch::node::NodeOptions;
use crate::branch::server::{self, periodic_pull, BranchParts, MIN_PULL_PERIOD};
use crate::branch::store::Store;
use crate::branch::trace_feed::TraceFeed;
use crate::cluster::file::ClusterFile;
use crate::error::SetupError;
use crate::net::auth::Token;
use crate::net::transport::{self, BankChannel, ClientSecurity, TlsFiles};
use crate::shutdown::Shutdown;

/// Everything one branch process needs.
#[derive(Clone, Debug)]
pub struct BranchProcess {
    pub id: BranchId,
    /// Every other branch and its `host:port`.
    pub peers: BTreeMap<BranchId, String>,
    /// The balance until the first reset.
    pub balance: Cents,
    pub clock_scheme: ClockScheme,
    pub propagation: PropagationMode,
    /// Where durable state goes (created if missing).
    pub data_dir: Option<PathBuf>,
    pub token: Option<Token>,
    pub tls: TlsFiles,
}

impl BranchProcess {
    /// A branch with default modes, balance 0, no token, no TLS.
    pub fn new(id: BranchId, peers: BTreeMap<BranchId, String>) -> Self {
        BranchProcess {
            id,
            peers,
            balance: Cents::ZERO,
            clock_scheme: ClockScheme::default(),
            propagation: PropagationMode::default(),
            data_dir: None,
            token: None,
            tls: TlsFiles::default(),
        }
    }

    /// Branch `id` of a cluster file: its peers, balance, token and TLS
    /// files as the file gives them.
    pub fn from_cluster_file(file: &ClusterFile, id: BranchId) -> Result<Self, SetupError> {
        let me = file.branches.get(&id).ok_or_else(|| {
            let ids: Vec<String> = file.branches.keys().map(|b| b.0.to_string()).collect();
            SetupError::Invalid(format!(
                "the cluster file has no branch {} (it lists {})",
                id.0,
                ids.join(", ")
            ))
        })?;
        let peers = file.addrs().into_iter().filter(|(peer, _)| *peer != id).collect();
        let mut process = BranchProcess::new(id, peers);
        process.balance = me.balance.unwrap_or(Cents::ZERO);
        process.token = file.token.as_deref().map(Token::new).transpose()?;
        process.tls = file.tls.clone();
        Ok(process)
    }
}

/// Refuses an address reachable from other machines unless the caller said
/// so (`--allow-remote`).
pub fn check_listen(addr: SocketAddr, allow_remote: bool) -> Result<(), SetupError> {
    if addr.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    Err(SetupError::Invalid(format!(
        "refusing to listen on {addr}: other machines could reach it. Pass --allow-remote if that is what you want \
         (and consider --token and TLS on a network you do not trust)"
    )))
}

/// Why a branch process stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum BranchProcessError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("cannot use data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("the branch server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

impl BranchProcessError {
    /// Whether the data directory holds a store that cannot be read (damaged
    /// in the middle, or not a store): bad input data, not a broken tool.
    pub fn is_unreadable_store(&self) -> bool {
        matches!(self, BranchProcessError::DataDir { source, .. }
            if source.kind() == std::io::ErrorKind::InvalidData)
    }
}

/// Creates `dir` if missing (the binary calls this before it says it is
/// listening, so a bad directory fails at once).
pub fn prepare_data_dir(dir: &Path) -> Result<(), BranchProcessError> {
    std::fs::create_dir_all(dir)
        .map_err(|source| BranchProcessError::DataDir { path: dir.to_owned(), source })
}

/// Opens the branch's durable store in `dir` (see [`Store`]) and reads back
/// the writes it applied in an earlier life of this process. A torn tail is
/// cut off; a store damaged in the middle is refused
/// ([`BranchProcessError::is_unreadable_store`]).
pub fn open_store(
    dir: &Path,
    id: BranchId,
) -> Result<(Store, Vec<bank_core::StoredWrite>), BranchProcessError> {
    prepare_data_dir(dir)?;
    Store::open(dir, id, false)
        .map_err(|source| BranchProcessError::DataDir { path: dir.to_owned(), source })
}

/// Runs the branch on `listener` until `shutdown` completes.
pub async fn serve(
    config: BranchProcess,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BranchProcessError> {
    let (store, stored) = match config.data_dir.as_deref() {
        Some(dir) => {
            let (store, stored) = open_store(dir, config.id)?;
            (Some(store), stored)
        }
        None => (None, Vec::new()),
    };
    let security = ClientSecurity {
        token: config.token.clone(),
        tls: config.tls.client().map_err(SetupError::from)?,
    };
    let server_tls = config.tls.server().map_err(SetupError::from)?;
    let peers: BTreeMap<BranchId, BankChannel> = config
        .peers
        .iter()
        .filter(|(peer, _)| **peer != config.id)
        .map(|(peer, addr)| Ok((*peer, transport::connect_lazy(addr, &security)?)))
        .collect::<Result<_, SetupError>>()?;

    let mut all: Vec<BranchId> = peers.keys().copied().collect();
    all.push(config.id);
    // A process restarted in its data directory rejoins the run it was
    // last reset into: that run's balance, modes and epoch.
    let run =
        config.data_dir.as_deref().and_then(|dir| crate::branch::store::load_run(dir, config.id));
    let branch_config = BranchConfig {
        id: config.id,
        peers: all,
        initial_balance: run.map_or(config.balance, |r| r.balance),
        clock_scheme: run.map_or(config.clock_scheme, |r| r.clock_scheme),
        propagation: run.map_or(config.propagation, |r| r.propagation),
    };
    let propagation = branch_config.propagation;
    // A restart after a crash: the branch comes back with what it stored,
    // and pulls what it missed from its peers. A process cannot tell its
    // first start from a restart that lost its store, so it always starts
    // as recovered: it takes back own writes its peers have (and never
    // issues their ids again).
    let recovered = stored.len();
    let reserved = store.as_ref().map_or(0, Store::clock_reserved);
    let branch = Branch::recover_at(branch_config, stored, reserved);
    for skipped in branch.skipped_at_recovery() {
        tracing::warn!(branch = config.id.0, write = %skipped.write, "skipped a stored record: {}", skipped.refusal);
    }
    let (feed, sink) = TraceFeed::new();
    let options = NodeOptions {
        store,
        // Periodic anti-entropy only with background propagation: with the
        // course's synchronous modes, every write reaches every branch
        // before its customer is answered, and the logs stay the course's.
        anti_entropy: periodic_pull(propagation, &NetworkPlan::default(), MIN_PULL_PERIOD),
        epoch: run.map_or(0, |r| r.epoch),
        run_file: config.data_dir.clone(),
        ..NodeOptions::default()
    };
    if recovered > 0 {
        tracing::info!(branch = config.id.0, recovered, "recovered from the data directory");
    }
    let parts = BranchParts {
        branch,
        catch_up: recovered > 0,
        peers: std::sync::Arc::new(peers),
        activity: Some(sink),
        options,
        trace: Some(feed),
        token: config.token,
        tls: server_tls,
    };
    let stop = Shutdown::new();
    let started = server::start(parts, listener, stop.clone())?;
    let id = config.id.0;
    tracing::info!(branch = id, "serving");
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!(branch = id, "shutting down");
        signal.trigger();
    });
    let result = started.server.await;
    // The server may also have failed: the node stops either way.
    stop.trigger();
    let _ = started.node_task.await;
    tracing::info!(branch = id, "stopped");
    result.map_err(BranchProcessError::from)
}

//! One branch server started: its node task and its gRPC services on a
//! listener, stopped by one [`Shutdown`].
//!
//! The in-process cluster ([`crate::cluster::local`]) and a branch process
//! (`bank branch`, [`crate::branch::standalone`]) start a branch the same
//! way, here: the core [`Branch`] (fresh, or recovered from its store) goes
//! into a node task; the gRPC services forward to the node; a branch that
//! recovered writes pulls what it missed at once. They differ only in what
//! they pass in: a token and TLS for a process reachable from other
//! machines, a trace feed for a process watched from afar, the simulated
//! network for the in-process cluster (in [`NodeOptions`]).
//!
//! On shutdown the server stops accepting calls and finishes those in
//! progress; the node, watching the same signal, fails the calls still
//! waiting for it (so the graceful shutdown does not wait for them), and
//! trace streams are ended (they would never finish by themselves).

use std::future::Future;
use std::time::Duration;

use bank_core::branch::PropagationMode;
use bank_core::network::NetworkPlan;
use bank_core::Branch;
use bank_proto::admin_server::AdminServer;
use bank_proto::customer_server::CustomerServer;
use bank_proto::replica_server::ReplicaServer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

use crate::branch::node::{self, NodeHandle, NodeOptions};
use crate::branch::service::{AdminService, CustomerService, ReplicaService};
use crate::branch::trace_feed::TraceFeed;
use crate::net::auth::{RequireToken, Token};
use crate::net::transport::ServerTls;
use crate::observe::ActivitySink;
use crate::shutdown::Shutdown;

/// How often a branch pulls from its peers unasked (anti-entropy), if at
/// all: only where a write may be missing for a while without anyone
/// resending it — background propagation, lost messages, planned cuts and
/// crashes. Otherwise the links retry every propagation until it is
/// acknowledged, and restarts and heals pull at once. Slow links alone need
/// no pulls: they would only fetch again, in bulk, what is already on its
/// way.
///
/// The period is `at_least`, and at least three times the slowest planned
/// link: a branch with a pull in flight is not quiet, and a pull takes its
/// link's delay, so pulls more often than that would keep a run from ever
/// ending.
pub fn periodic_pull(
    propagation: PropagationMode,
    plan: &NetworkPlan,
    at_least: Duration,
) -> Option<Duration> {
    let needed = propagation == PropagationMode::Background
        || plan.drop_percent > 0
        || !plan.faults.is_empty();
    needed.then(|| at_least.max(Duration::from_millis(3 * plan.slowest_ms())))
}

/// The shortest period between periodic pulls (see [`periodic_pull`]).
pub const MIN_PULL_PERIOD: Duration = Duration::from_millis(500);

/// Everything a branch server is made of, before it starts.
#[derive(Debug)]
pub struct BranchParts {
    /// The core state machine: fresh, or recovered from the store.
    pub branch: Branch,
    /// Pull what it missed from its peers as soon as it runs (a restart).
    pub catch_up: bool,
    /// A channel to every other branch (its own entry, if any, is unused).
    pub peers: node::Peers,
    /// Where the node reports what it logs (the lab, a trace feed).
    pub activity: Option<ActivitySink>,
    pub options: NodeOptions,
    /// Served to `Trace` watchers (a branch process); ended on shutdown.
    pub trace: Option<TraceFeed>,
    /// The token every call must carry (a branch reachable from afar).
    pub token: Option<Token>,
    /// Serve TLS with these certificates.
    pub tls: Option<ServerTls>,
}

/// A started branch: its node and the server future.
#[derive(Debug)]
pub struct StartedBranch<S> {
    pub handle: NodeHandle,
    /// The node's task; it ends after the shutdown.
    pub node_task: JoinHandle<()>,
    /// Serves until the shutdown, then finishes the calls in progress.
    /// Await it, or spawn it.
    pub server: S,
}

/// Starts `parts`' node and returns the server that serves it on
/// `listener` until `shutdown` (see the module docs). Fails only when the
/// TLS configuration is refused.
pub fn start(
    parts: BranchParts,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<
    StartedBranch<impl Future<Output = Result<(), tonic::transport::Error>> + Send + 'static>,
    tonic::transport::Error,
> {
    let (handle, node_task) = node::spawn_with(
        parts.branch,
        parts.peers,
        parts.activity,
        shutdown.clone(),
        parts.options,
    );
    if parts.catch_up {
        let _ = handle.anti_entropy();
    }
    let mut admin = AdminService::new(handle.clone());
    if let Some(feed) = &parts.trace {
        admin = admin.with_trace(feed.clone());
    }
    // The token guards every call: customers', peers' and drivers' alike.
    let token = RequireToken::new(parts.token);
    let customer =
        CustomerServer::with_interceptor(CustomerService::new(handle.clone()), token.clone());
    let replica =
        ReplicaServer::with_interceptor(ReplicaService::new(handle.clone()), token.clone());
    let admin = AdminServer::with_interceptor(admin, token);
    let mut builder = Server::builder();
    if let Some(tls) = parts.tls {
        builder = builder.tls_config(tls.config())?;
    }
    // Nagle's algorithm off: each small gRPC reply could otherwise wait for
    // the peer's delayed ACK (tens of milliseconds), and a write propagated
    // one peer at a time to 49 branches would take a second.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let trace = parts.trace;
    let server = builder
        .add_service(customer)
        .add_service(replica)
        .add_service(admin)
        .serve_with_incoming_shutdown(incoming, async move {
            shutdown.wait().await;
            if let Some(feed) = trace {
                feed.close();
            }
        });
    Ok(StartedBranch { handle, node_task, server })
}

//! A bank of real gRPC branch servers inside this process.
//!
//! [`Cluster::start`] binds one TCP listener per branch *first* (so every
//! address is known and accepting before any branch sends anything), then
//! starts each branch's node task and its tonic server. Every propagation
//! between branches is a real gRPC call over loopback. [`Cluster::shutdown`]
//! stops the servers, waits for them, and releases the ports.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bank_core::branch::PropagationMode;
use bank_core::{Branch, BranchConfig, BranchId, Cents, ClockScheme};
use bank_proto::branch_server::BranchServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};

use crate::error::RunError;
use crate::node::{self, NodeHandle};
use crate::observe::ActivitySink;
use crate::service::BranchService;
use crate::transport::{self, BankChannel};

/// How to start a cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// Each branch and its starting balance.
    pub branches: Vec<(BranchId, Cents)>,
    pub clock_scheme: ClockScheme,
    pub propagation: PropagationMode,
    /// The address every branch listens on.
    pub host: IpAddr,
    /// `None`: an ephemeral port per branch. `Some(p)`: the i-th branch in
    /// ascending id order listens on `p + i` (the course uses 50051, 50052...).
    pub base_port: Option<u16>,
    /// Receives every branch's log entries as they happen.
    pub activity: Option<ActivitySink>,
}

impl ClusterConfig {
    pub fn new(branches: Vec<(BranchId, Cents)>) -> Self {
        ClusterConfig {
            branches,
            clock_scheme: ClockScheme::default(),
            propagation: PropagationMode::default(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port: None,
            activity: None,
        }
    }

    /// One branch per branch of `scenario`, at its starting balance.
    pub fn for_scenario(scenario: &bank_core::Scenario) -> Self {
        ClusterConfig::new(scenario.branches.iter().map(|b| (b.id, b.balance)).collect())
    }
}

/// A running cluster. Drop without [`Cluster::shutdown`] also stops it, but
/// without waiting for the servers to finish.
#[derive(Debug)]
pub struct Cluster {
    addrs: BTreeMap<BranchId, SocketAddr>,
    nodes: BTreeMap<BranchId, NodeHandle>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Accepted connections with Nagle's algorithm off. Without this, each small
/// gRPC reply can wait for the peer's delayed ACK (tens of milliseconds), and
/// a write propagated one peer at a time to 49 branches takes a second.
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// A lazily-connected channel to a branch address (connects on first use).
pub fn channel_to(addr: SocketAddr) -> Result<Channel, RunError> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}")).map_err(|_| RunError::Address(addr.to_string()))?;
    Ok(endpoint.tcp_nodelay(true).connect_lazy())
}

impl Cluster {
    pub async fn start(config: ClusterConfig) -> Result<Cluster, RunError> {
        let mut ids: Vec<(BranchId, Cents)> = config.branches.clone();
        ids.sort_by_key(|(id, _)| *id);

        let mut listeners = Vec::new();
        for (i, (id, _)) in ids.iter().enumerate() {
            let port = match config.base_port {
                Some(base) => base.checked_add(i as u16).ok_or_else(|| RunError::Address(format!("port {base} + {i}")))?,
                None => 0,
            };
            let addr = SocketAddr::new(config.host, port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| RunError::Bind { branch: id.0, addr: addr.to_string(), source })?;
            listeners.push(listener);
        }
        let addrs: BTreeMap<BranchId, SocketAddr> = ids
            .iter()
            .zip(&listeners)
            .map(|((id, _), l)| Ok((*id, l.local_addr().map_err(|source| RunError::Bind { branch: id.0, addr: "?".into(), source })?)))
            .collect::<Result<_, RunError>>()?;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let all_ids: Vec<BranchId> = ids.iter().map(|(id, _)| *id).collect();
        let mut nodes = BTreeMap::new();
        let mut tasks = Vec::new();
        // One HTTP/2 connection per destination branch, shared by every node
        // of this process (gRPC multiplexes concurrent calls over it). A full
        // mesh of private channels would open n·(n-1) connections: ~10,000
        // for 100 branches, enough to exhaust the ephemeral ports.
        let channels: BTreeMap<BranchId, Channel> =
            addrs.iter().map(|(id, addr)| Ok((*id, channel_to(*addr)?))).collect::<Result<_, RunError>>()?;
        for ((id, balance), listener) in ids.iter().zip(listeners) {
            let peers: BTreeMap<BranchId, BankChannel> =
                channels.iter().filter(|(peer, _)| *peer != id).map(|(p, c)| (*p, transport::plain(c.clone()))).collect();
            let branch = Branch::new(BranchConfig {
                id: *id,
                peers: all_ids.clone(),
                initial_balance: *balance,
                clock_scheme: config.clock_scheme,
                propagation: config.propagation,
            });
            let (handle, node_task) = node::spawn(branch, peers, config.activity.clone(), shutdown_rx.clone());
            let mut stop = shutdown_rx.clone();
            let server = Server::builder()
                .add_service(BranchServer::new(BranchService::new(handle.clone())))
                .serve_with_incoming_shutdown(incoming(listener), async move {
                    let _ = stop.wait_for(|s| *s).await;
                });
            let branch_id = id.0;
            tasks.push(tokio::spawn(async move {
                if let Err(e) = server.await {
                    tracing::error!(branch = branch_id, "server failed: {e}");
                }
            }));
            tasks.push(node_task);
            nodes.insert(*id, handle);
        }
        tracing::info!(branches = ?addrs, "cluster started");
        Ok(Cluster { addrs, nodes, shutdown, tasks })
    }

    /// Where each branch listens.
    pub fn addrs(&self) -> &BTreeMap<BranchId, SocketAddr> {
        &self.addrs
    }

    /// In-process handles to the branch nodes (tests and the visualizer).
    pub fn nodes(&self) -> &BTreeMap<BranchId, NodeHandle> {
        &self.nodes
    }

    /// Stops every server and node and waits until they are gone (ports are
    /// free when this returns).
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

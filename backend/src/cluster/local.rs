//! A bank of real gRPC branch servers inside this process.
//!
//! [`Cluster::start`] binds one TCP listener per branch *first* (so every
//! address is known and accepting before any branch sends anything), then
//! starts each branch's node task and its tonic server. Every propagation
//! between branches is a real gRPC call over loopback. [`Cluster::shutdown`]
//! stops the servers, waits for them, and releases the ports.
//!
//! Each branch keeps its applied writes in a [`Store`] in the cluster's data
//! directory, and the branches talk over a [`Network`] that can delay, lose
//! or hold back their calls. [`Control`] crashes a branch for real (its
//! server closes the port, its memory is gone), restarts it from its store
//! on the same address, and injects link faults.
//!
//! The branch ports are on loopback, but any program on the machine could
//! call them: every branch requires a random token made for this cluster
//! ([`Token::random`]), which the branches and [`Cluster::channels`] carry.
//! Callers without it get `UNAUTHENTICATED`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bank_core::branch::PropagationMode;
use bank_core::network::{Fault, NetworkPlan};
use bank_core::{Branch, BranchConfig, BranchId, Cents, ClockScheme};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::branch::link::LinkStats;
use crate::branch::node::{self, NodeHandle, NodeOptions};
use crate::branch::server::{self, periodic_pull, BranchParts, MIN_PULL_PERIOD};
use crate::branch::store::Store;
use crate::error::RunError;
use crate::net::auth::Token;
use crate::net::simulated::Network;
use crate::net::transport::{self, channel_to, BankChannel};
use crate::observe::ActivitySink;
use crate::shutdown::Shutdown;

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
    /// Delays, loss and planned faults between branches, and their seed.
    pub network: NetworkPlan,
    pub seed: u64,
    /// Where each branch stores its applied writes (`branch-<id>.log`).
    /// `None`: a fresh temporary directory, removed at shutdown.
    pub data_dir: Option<PathBuf>,
    /// How long a request may wait for the writes its session requires.
    pub park_timeout: Duration,
    /// How often each branch pulls from its peers. `None`: as
    /// [`periodic_pull`] says (with background propagation, message loss or
    /// planned cuts and crashes: every 500 ms or 3× the slowest link,
    /// whichever is longer), else only after restarts and heals.
    pub anti_entropy: Option<Duration>,
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
            network: NetworkPlan::default(),
            seed: 0,
            data_dir: None,
            park_timeout: node::DEFAULT_PARK_TIMEOUT,
            anti_entropy: None,
        }
    }

    /// One branch per branch of `scenario`, at its starting balance.
    pub fn for_scenario(scenario: &bank_core::Scenario) -> Self {
        ClusterConfig::new(scenario.branches.iter().map(|b| (b.id, b.balance)).collect())
    }

    fn anti_entropy_period(&self) -> Option<Duration> {
        self.anti_entropy
            .or_else(|| periodic_pull(self.propagation, &self.network, MIN_PULL_PERIOD))
    }
}

/// A running cluster. Drop without [`Cluster::shutdown`] also stops it, but
/// without waiting for the servers to finish.
#[derive(Debug)]
pub struct Cluster {
    addrs: BTreeMap<BranchId, SocketAddr>,
    nodes: BTreeMap<BranchId, NodeHandle>,
    control: Arc<Control>,
}

/// Crash, restart and network faults of a running cluster, shareable with
/// the tasks that inject them (a fault plan, the lab, the runner's repair).
#[derive(Debug)]
pub struct Control {
    config: ClusterConfig,
    all_ids: Vec<BranchId>,
    addrs: BTreeMap<BranchId, SocketAddr>,
    channels: BTreeMap<BranchId, Channel>,
    /// The same channels with the token, shared by every node (see
    /// [`node::Peers`]): one map for the cluster, not one per branch.
    peers: node::Peers,
    /// What every call to a branch of this cluster must carry.
    token: Token,
    network: Arc<Network>,
    /// Propagation calls and writes sent by every branch.
    link_stats: Arc<LinkStats>,
    data_dir: PathBuf,
    /// Remove `data_dir` at shutdown (it was a temporary one).
    temporary: bool,
    members: Mutex<BTreeMap<BranchId, Member>>,
    /// Taken out of `config`, and dropped at shutdown so that whoever reads
    /// the activity sees its end.
    activity: std::sync::Mutex<Option<ActivitySink>>,
    /// Held while a fault is applied or the cluster repaired: a planned
    /// restart and the repair's never race for a port.
    faults: Mutex<()>,
    /// Bumped by every [`Control::play_faults`] and [`Control::repair`]: a
    /// plan applies its faults only while its generation is current, so
    /// nothing crashes a branch once the run's end has repaired it.
    plan_generation: AtomicU64,
}

/// One branch's server and node, while it is up.
#[derive(Debug)]
struct Member {
    handle: NodeHandle,
    shutdown: Shutdown,
    tasks: Vec<JoinHandle<()>>,
}

impl Cluster {
    pub async fn start(config: ClusterConfig) -> Result<Cluster, RunError> {
        let mut ids: Vec<(BranchId, Cents)> = config.branches.clone();
        ids.sort_by_key(|(id, _)| *id);

        let mut listeners = Vec::new();
        for (i, (id, _)) in ids.iter().enumerate() {
            let port = match config.base_port {
                Some(base) => base
                    .checked_add(i as u16)
                    .ok_or_else(|| RunError::Address(format!("port {base} + {i}")))?,
                None => 0,
            };
            let addr = SocketAddr::new(config.host, port);
            let listener = TcpListener::bind(addr).await.map_err(|error| RunError::Bind {
                branch: id.0,
                addr: addr.to_string(),
                error,
            })?;
            listeners.push(listener);
        }
        let addrs: BTreeMap<BranchId, SocketAddr> = ids
            .iter()
            .zip(&listeners)
            .map(|((id, _), l)| {
                Ok((
                    *id,
                    l.local_addr().map_err(|error| RunError::Bind {
                        branch: id.0,
                        addr: "?".into(),
                        error,
                    })?,
                ))
            })
            .collect::<Result<_, RunError>>()?;

        let all_ids: Vec<BranchId> = ids.iter().map(|(id, _)| *id).collect();
        // One HTTP/2 connection per destination branch, shared by every node
        // of this process (gRPC multiplexes concurrent calls over it). A full
        // mesh of private channels would open n·(n-1) connections: ~10,000
        // for 100 branches, enough to exhaust the ephemeral ports.
        let channels: BTreeMap<BranchId, Channel> =
            addrs.iter().map(|(id, addr)| (*id, channel_to(*addr))).collect();
        let (data_dir, temporary) = match &config.data_dir {
            Some(dir) => (dir.clone(), false),
            None => (temporary_dir(), true),
        };
        let network = Arc::new(Network::new(&config.network, config.seed, all_ids.clone()));
        let token = Token::random().map_err(|e| RunError::Cluster(e.to_string()))?;
        let peers: node::Peers = Arc::new(
            channels
                .iter()
                .map(|(id, c)| (*id, transport::with_token(c.clone(), &token)))
                .collect(),
        );
        let mut config = config;
        let activity = std::sync::Mutex::new(config.activity.take());
        let control = Arc::new(Control {
            activity,
            config,
            all_ids,
            addrs: addrs.clone(),
            channels,
            peers,
            token,
            network,
            link_stats: Arc::default(),
            data_dir,
            temporary,
            members: Mutex::new(BTreeMap::new()),
            faults: Mutex::new(()),
            plan_generation: AtomicU64::new(0),
        });
        let mut nodes = BTreeMap::new();
        for ((id, _), listener) in ids.iter().zip(listeners) {
            let handle = control.launch(*id, listener, true).await?;
            nodes.insert(*id, handle);
        }
        tracing::info!(branches = ?addrs, data = %control.data_dir.display(), "cluster started");
        Ok(Cluster { addrs, nodes, control })
    }

    /// Where each branch listens.
    pub fn addrs(&self) -> &BTreeMap<BranchId, SocketAddr> {
        &self.addrs
    }

    /// Channels to every branch that carry the cluster's token (customers,
    /// drivers and tests call the branches through these).
    pub fn channels(&self) -> BTreeMap<BranchId, BankChannel> {
        self.control.channels()
    }

    /// In-process handles to the branch nodes as started (tests and the
    /// visualizer). A restarted branch has a new node: use [`Control`].
    pub fn nodes(&self) -> &BTreeMap<BranchId, NodeHandle> {
        &self.nodes
    }

    /// Crash, restart and network faults, shareable.
    pub fn control(&self) -> Arc<Control> {
        self.control.clone()
    }

    /// Stops every server and node and waits until they are gone (ports are
    /// free when this returns).
    pub async fn shutdown(self) {
        self.control.stop_all().await;
        if self.control.temporary {
            let _ = std::fs::remove_dir_all(&self.control.data_dir);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok(members) = self.control.members.try_lock() {
            for m in members.values() {
                m.shutdown.trigger();
            }
        }
    }
}

/// A fresh directory under the system's temporary directory.
fn temporary_dir() -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("bank-sim-{}-{n}", std::process::id()))
}

impl Control {
    /// Starts branch `id`'s node and server on `listener`. `fresh`: a new
    /// run (empty store); otherwise a restart that recovers from the store.
    async fn launch(
        &self,
        id: BranchId,
        listener: TcpListener,
        fresh: bool,
    ) -> Result<NodeHandle, RunError> {
        let config = &self.config;
        let balance =
            config.branches.iter().find(|(b, _)| *b == id).map(|(_, c)| *c).unwrap_or(Cents::ZERO);
        let branch_config = BranchConfig {
            id,
            peers: self.all_ids.clone(),
            initial_balance: balance,
            clock_scheme: config.clock_scheme,
            propagation: config.propagation,
        };
        let (store, stored) =
            Store::open(&self.data_dir, id, fresh).map_err(|source| RunError::Store {
                branch: id.0,
                path: Store::path(&self.data_dir, id).display().to_string(),
                source,
            })?;
        // A temporary directory is deleted after the run: no disk flushes.
        let store = if self.temporary { store.volatile() } else { store };
        let recovered = stored.len();
        let branch = if fresh {
            Branch::new(branch_config)
        } else {
            Branch::recover_at(branch_config, stored, store.clock_reserved())
        };
        for skipped in branch.skipped_at_recovery() {
            tracing::warn!(branch = id.0, write = %skipped.write, "skipped a stored record: {}", skipped.refusal);
        }
        let peers = self.peers.clone();
        let shutdown = Shutdown::new();
        let options = NodeOptions {
            store: Some(store),
            network: Some(self.network.clone()),
            link_stats: Some(self.link_stats.clone()),
            park_timeout: config.park_timeout,
            anti_entropy: config.anti_entropy_period(),
            ..NodeOptions::default()
        };
        let activity = self.activity.lock().expect("activity lock").clone();
        let parts = BranchParts {
            branch,
            catch_up: !fresh,
            peers,
            activity,
            options,
            trace: None,
            token: Some(self.token.clone()),
            tls: None,
        };
        let started = server::start(parts, listener, shutdown.clone())
            .expect("a server without TLS always starts");
        let (handle, server, node_task) = (started.handle, started.server, started.node_task);
        if !fresh {
            tracing::info!(branch = id.0, recovered, "branch restarted from its store");
        }
        let branch_id = id.0;
        let server_task = tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(branch = branch_id, "server failed: {e}");
            }
        });
        self.members.lock().await.insert(
            id,
            Member { handle: handle.clone(), shutdown, tasks: vec![server_task, node_task] },
        );
        Ok(handle)
    }

    /// Channels to every branch that carry the cluster's token.
    pub fn channels(&self) -> BTreeMap<BranchId, BankChannel> {
        self.channels
            .iter()
            .map(|(id, c)| (*id, transport::with_token(c.clone(), &self.token)))
            .collect()
    }

    /// The node of branch `id`, if it is up.
    pub async fn node(&self, id: BranchId) -> Option<NodeHandle> {
        self.members.lock().await.get(&id).map(|m| m.handle.clone())
    }

    /// Branches that are down right now.
    pub async fn down(&self) -> Vec<BranchId> {
        let members = self.members.lock().await;
        self.all_ids.iter().copied().filter(|id| !members.contains_key(id)).collect()
    }

    /// How many propagation calls the branches have sent, carrying how
    /// many writes (see [`crate::branch::link`]).
    pub fn link_stats(&self) -> &LinkStats {
        &self.link_stats
    }

    pub fn network(&self) -> &Arc<Network> {
        &self.network
    }

    /// Stops branch `id` as a crash would: its server closes its port, its
    /// node's memory (requests it was serving, its propagations in flight)
    /// is gone; its store stays. False if it was down already.
    pub async fn crash(&self, id: BranchId) -> bool {
        let Some(member) = self.members.lock().await.remove(&id) else { return false };
        member.shutdown.trigger();
        for task in member.tasks {
            let _ = task.await;
        }
        tracing::info!(branch = id.0, "branch crashed (on purpose)");
        true
    }

    /// Starts a crashed branch again on its old address from its store; it
    /// then pulls what it missed from its peers. False if it was up.
    pub async fn restart(&self, id: BranchId) -> Result<bool, RunError> {
        if self.members.lock().await.contains_key(&id) {
            return Ok(false);
        }
        let addr =
            *self.addrs.get(&id).ok_or_else(|| RunError::Address(format!("no branch {}", id.0)))?;
        let listener = TcpListener::bind(addr).await.map_err(|error| RunError::Bind {
            branch: id.0,
            addr: addr.to_string(),
            error,
        })?;
        self.launch(id, listener, false).await?;
        Ok(true)
    }

    /// Applies any fault: crash and restart here, link faults in the network.
    pub async fn apply(&self, fault: &Fault) -> Result<(), RunError> {
        let _one_at_a_time = self.faults.lock().await;
        self.apply_now(fault).await
    }

    /// [`Control::apply`] with the fault lock held.
    async fn apply_now(&self, fault: &Fault) -> Result<(), RunError> {
        match fault {
            Fault::Crash(b) => {
                self.crash(BranchId(*b)).await;
            }
            Fault::Restart(b) => {
                self.restart(BranchId(*b)).await?;
            }
            link => {
                self.network.apply(link);
                // Whoever was cut off catches up now.
                if matches!(link, Fault::Heal(_) | Fault::Rejoin(_)) {
                    self.anti_entropy().await;
                }
            }
        }
        Ok(())
    }

    /// Every branch pulls from every peer now.
    pub async fn anti_entropy(&self) {
        for m in self.members.lock().await.values() {
            let _ = m.handle.anti_entropy();
        }
    }

    /// Heals every link, restarts every crashed branch, and starts an
    /// anti-entropy round everywhere.
    /// Planned faults still to come are dropped (a repaired cluster stays
    /// repaired).
    pub async fn repair(&self) -> Result<(), RunError> {
        let _one_at_a_time = self.faults.lock().await;
        self.plan_generation.fetch_add(1, Ordering::SeqCst);
        self.network.heal_all();
        for id in self.down().await {
            self.restart(id).await?;
        }
        self.anti_entropy().await;
        Ok(())
    }

    /// Plays `plan`'s faults at their times (from now), in a task, until
    /// they are done or [`Control::repair`] (or another plan) ends them.
    pub fn play_faults(
        self: &Arc<Self>,
        faults: Vec<bank_core::network::TimedFault>,
    ) -> JoinHandle<()> {
        let control = self.clone();
        let generation = self.plan_generation.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            let mut faults = faults;
            faults.sort_by_key(|f| f.at_ms);
            for f in faults {
                tokio::time::sleep_until(start + Duration::from_millis(f.at_ms)).await;
                let _one_at_a_time = control.faults.lock().await;
                if control.plan_generation.load(Ordering::SeqCst) != generation {
                    return;
                }
                tracing::info!("at {} ms: {}", f.at_ms, f.fault);
                if let Err(e) = control.apply_now(&f.fault).await {
                    tracing::error!("{}: {e}", f.fault);
                }
            }
        })
    }

    /// [`Control::play_faults`], but the faults planned at 0 ms are applied
    /// before this returns: customers started next find them in place, on
    /// every run (not only when the plan's task happens to run first).
    pub async fn start_faults(
        self: &Arc<Self>,
        faults: Vec<bank_core::network::TimedFault>,
    ) -> Result<JoinHandle<()>, RunError> {
        let (now, later): (Vec<_>, Vec<_>) = faults.into_iter().partition(|f| f.at_ms == 0);
        for f in &now {
            tracing::info!("at 0 ms: {}", f.fault);
            self.apply(&f.fault).await?;
        }
        Ok(self.play_faults(later))
    }

    async fn stop_all(&self) {
        self.activity.lock().expect("activity lock").take();
        let members = std::mem::take(&mut *self.members.lock().await);
        for m in members.values() {
            m.shutdown.trigger();
        }
        for m in members.into_values() {
            for task in m.tasks {
                let _ = task.await;
            }
        }
    }
}

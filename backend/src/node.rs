//! Runs one core [`Branch`] inside tokio: the host side of the driver loop.
//!
//! A node is a task that owns its `Branch` and an inbox. gRPC handlers put
//! inputs in the inbox together with a oneshot sender for the answer; the
//! task feeds the input to the branch and carries out the effects:
//!
//! * `Reply` / `AckPeer`: complete the oneshot the handler is waiting on;
//! * `Send`: spawn a real gRPC `Propagate` call to the peer, and feed its
//!   acknowledgement back into the inbox;
//! * `Logged`: report the entry, with the branch's state, to the activity
//!   sink if there is one (`--trace`, the visualizer).
//!
//! Owning the branch in a single task means no lock around it and a total
//! order of inputs, exactly like the simulator.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bank_core::branch::{Propagation, PropagationAck, Reply, ReplyToken, Request};
use bank_core::{Branch, BranchId, BranchRecord, Effect, Input};
use bank_proto::branch_client::BranchClient;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::error::NodeGone;
use crate::observe::{report, Activity, ActivitySink};
use crate::wire;

enum Command {
    Request(Request, oneshot::Sender<Reply>),
    Propagate(Propagation, oneshot::Sender<PropagationAck>),
    Ack(PropagationAck),
    Inspect { wait_until_quiet: bool, reply: oneshot::Sender<BranchRecord> },
}

/// A cheap, cloneable handle to a running node.
#[derive(Clone, Debug)]
pub struct NodeHandle {
    id: BranchId,
    inbox: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Request(..) => "Request",
            Command::Propagate(..) => "Propagate",
            Command::Ack(..) => "Ack",
            Command::Inspect { .. } => "Inspect",
        })
    }
}

impl NodeHandle {
    pub fn id(&self) -> BranchId {
        self.id
    }

    /// A customer request; resolves when the branch answers (which, with
    /// synchronous propagation, is after every peer acknowledged).
    pub async fn request(&self, request: Request) -> Result<Reply, NodeGone> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Request(request, tx))?;
        rx.await.map_err(|_| NodeGone(self.id.0))
    }

    /// A peer's propagated write; resolves with the acknowledgement.
    pub async fn propagate(&self, propagation: Propagation) -> Result<PropagationAck, NodeGone> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Propagate(propagation, tx))?;
        rx.await.map_err(|_| NodeGone(self.id.0))
    }

    /// A snapshot of the branch's state and log; with `wait_until_quiet`,
    /// taken at the first moment the branch is quiet (see [`Branch::is_quiet`]).
    pub async fn inspect(&self, wait_until_quiet: bool) -> Result<BranchRecord, NodeGone> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Inspect { wait_until_quiet, reply: tx })?;
        rx.await.map_err(|_| NodeGone(self.id.0))
    }

    fn send(&self, command: Command) -> Result<(), NodeGone> {
        self.inbox.send(command).map_err(|_| NodeGone(self.id.0))
    }
}

/// Starts the task that owns `branch`. `peers` are lazily-connected channels
/// to the other branches; `activity` receives every log entry. The task ends
/// when `shutdown` turns true.
pub fn spawn(
    branch: Branch,
    peers: BTreeMap<BranchId, Channel>,
    activity: Option<ActivitySink>,
    shutdown: watch::Receiver<bool>,
) -> (NodeHandle, JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = NodeHandle { id: branch.id(), inbox: tx.clone() };
    let node = Node {
        branch,
        peers,
        activity,
        shutdown,
        inbox_tx: tx,
        next_token: 0,
        customers: HashMap::new(),
        peer_calls: HashMap::new(),
        waiting_for_quiet: Vec::new(),
    };
    let task = tokio::spawn(node.run(rx));
    (handle, task)
}

struct Node {
    branch: Branch,
    peers: BTreeMap<BranchId, Channel>,
    activity: Option<ActivitySink>,
    shutdown: watch::Receiver<bool>,
    /// For propagation tasks to hand acknowledgements back.
    inbox_tx: mpsc::UnboundedSender<Command>,
    next_token: u64,
    customers: HashMap<ReplyToken, oneshot::Sender<Reply>>,
    peer_calls: HashMap<ReplyToken, oneshot::Sender<PropagationAck>>,
    /// `Inspect` calls that wait for the branch to be quiet.
    waiting_for_quiet: Vec<oneshot::Sender<BranchRecord>>,
}

impl Node {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Command>) {
        let mut shutdown = self.shutdown.clone();
        loop {
            let command = tokio::select! {
                command = inbox.recv() => match command {
                    Some(c) => c,
                    None => break,
                },
                _ = shutdown.wait_for(|stop| *stop) => break,
            };
            let input = match command {
                Command::Request(request, tx) => {
                    let token = self.token();
                    self.customers.insert(token, tx);
                    Input::Request { token, request }
                }
                Command::Propagate(propagation, tx) => {
                    let token = self.token();
                    self.peer_calls.insert(token, tx);
                    Input::Propagate { token, propagation }
                }
                Command::Ack(ack) => Input::Ack(ack),
                Command::Inspect { wait_until_quiet, reply } => {
                    if wait_until_quiet && !self.branch.is_quiet() {
                        self.waiting_for_quiet.push(reply);
                    } else {
                        let _ = reply.send(bank_core::sim::branch_record(&self.branch));
                    }
                    continue;
                }
            };
            for effect in self.branch.handle(input) {
                self.carry_out(effect);
            }
            if self.branch.is_quiet() && !self.waiting_for_quiet.is_empty() {
                let record = bank_core::sim::branch_record(&self.branch);
                for reply in self.waiting_for_quiet.drain(..) {
                    let _ = reply.send(record.clone());
                }
            }
        }
        tracing::debug!(branch = self.branch.id().0, "node stopped");
    }

    fn token(&mut self) -> ReplyToken {
        self.next_token += 1;
        ReplyToken(self.next_token)
    }

    fn carry_out(&mut self, effect: Effect) {
        match effect {
            Effect::Reply { token, reply } => {
                if let Some(tx) = self.customers.remove(&token) {
                    // The customer may have hung up; nothing to do then.
                    let _ = tx.send(reply);
                }
            }
            Effect::AckPeer { token, ack } => {
                if let Some(tx) = self.peer_calls.remove(&token) {
                    let _ = tx.send(ack);
                }
            }
            Effect::Send { to, propagation } => {
                let Some(channel) = self.peers.get(&to).cloned() else {
                    tracing::error!(branch = self.branch.id().0, peer = to.0, "no address for peer");
                    return;
                };
                let inbox = self.inbox_tx.clone();
                let shutdown = self.shutdown.clone();
                tokio::spawn(deliver(self.branch.id(), to, channel, propagation, inbox, shutdown));
            }
            Effect::Logged(entry) => {
                let branch = &self.branch;
                report(&self.activity, || Activity::Logged {
                    branch: branch.id(),
                    entry,
                    balance: branch.balance(),
                    write_sets: branch.write_sets().clone(),
                });
            }
        }
    }
}

/// One `Propagate` RPC to a peer, retried with capped exponential backoff
/// while the peer is unreachable (e.g. still starting), until shutdown.
async fn deliver(
    from: BranchId,
    to: BranchId,
    channel: Channel,
    propagation: Propagation,
    inbox: mpsc::UnboundedSender<Command>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut client = BranchClient::new(channel);
    let message = wire::propagation_to_proto(&propagation);
    let mut backoff = Duration::from_millis(20);
    loop {
        let call = client.propagate(message.clone());
        let result = tokio::select! {
            r = call => r,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match result.map(|r| wire::ack_from_proto(r.into_inner())) {
            Ok(Ok(ack)) => {
                let _ = inbox.send(Command::Ack(ack));
                return;
            }
            Ok(Err(e)) => {
                tracing::error!(from = from.0, to = to.0, "malformed acknowledgement: {e}");
                return;
            }
            Err(status) => {
                tracing::warn!(from = from.0, to = to.0, write = %propagation.write, "propagation failed, retrying in {backoff:?}: {status}");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

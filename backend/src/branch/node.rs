//! Runs one core [`Branch`] inside tokio: the host side of the driver loop.
//!
//! A node is a task that owns its `Branch` and an inbox. gRPC handlers put
//! inputs in the inbox together with a oneshot sender for the answer; the
//! task feeds the input to the branch and carries out the effects:
//!
//! * `AckPeer` / `RefusePeer`: complete the oneshot the handler is waiting
//!   on (a refused write was not stored: the peer sends it again);
//! * `Send`: hand the write to the peer's [`Link`], which sends it with a
//!   real gRPC call (batched with others under load) and feeds the
//!   acknowledgement back into the inbox;
//! * `Reply`: gathered while more inputs wait in the inbox (see
//!   [`MAX_REPLIES_PER_FLUSH`]), then handed on together: for a durable
//!   store to its [`crate::branch::commit::Flusher`], which answers the customers
//!   once their writes are on the disk; replies that pile up during a flush
//!   share the next one (a *group commit*);
//! * writes are stored by the branch itself, before it applies them: the
//!   node lends it the [`Store`] for each input
//!   ([`Branch::handle_storing`]), so a write the disk refuses is never
//!   applied nor acknowledged (see [`crate::branch::store`]). When the
//!   store takes writes again after failing, the node pulls from every
//!   peer what it had to refuse meanwhile. (`Persist` effects come only
//!   from a node without a store: nothing to keep.)
//! * `Parked`: start a timer that feeds `Expire` back after the park timeout;
//! * `Pull` / `PullReply`: anti-entropy calls to and answers from peers;
//! * `Logged`: report the entry, with the branch's state, to the activity
//!   sink if there is one (`--trace`, the visualizer).
//!
//! Every branch-to-branch message goes through the cluster's [`Network`]
//! when there is one, which delays, loses or holds it back as planned.
//!
//! A node costs little per peer it never talks to: the channels to the
//! other branches are one map shared by every node of the process
//! ([`Peers`]), and the [`Link`] to a peer is made at the first write sent
//! to it. A bank of n branches has n·(n-1) links; memory grows with the
//! links used, not with all of them.
//!
//! Owning the branch in a single task means no lock around it and a total
//! order of inputs, exactly like the simulator.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bank_core::branch::{PeerRefusal, Propagation, PropagationAck, Reply, ReplyToken, Request};
use bank_core::trace::AppliedCursor;
use bank_core::{Branch, BranchConfig, BranchId, BranchRecord, Effect, Input};
use bank_proto as pb;
use bank_proto::replica_client::ReplicaClient;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::branch::commit::{Flusher, PendingReply};
use crate::branch::link::{Link, LinkContext, LinkStats, EPOCH_HEADER};
use crate::branch::store::Store;
use crate::error::{NodeGone, PropagateError};
use crate::net::simulated::{Network, Transit};
use crate::net::transport::BankChannel;
use crate::observe::{report, Activity, ActivitySink};
use crate::shutdown::Shutdown;

enum Command {
    Request(Request, oneshot::Sender<Reply>),
    /// One call's writes, each with where its acknowledgement goes, and the
    /// sender's epoch when it said (see [`bank_core::RunSettings`]). The
    /// batch is checked whole before any of it is applied.
    Propagate(Vec<(Propagation, PeerCall)>, Option<u64>),
    /// Acknowledgements of one call, and the epoch its writes were sent in.
    Acks(Vec<PropagationAck>, u64),
    /// Writes a link gave up sending to a peer, why, and their epoch.
    Undelivered {
        to: BranchId,
        writes: Vec<bank_core::WriteId>,
        why: String,
        epoch: u64,
    },
    Inspect {
        wait_until_quiet: bool,
        /// Balance and clock only (see [`brief_record`]).
        brief: bool,
        reply: oneshot::Sender<BranchRecord>,
    },
    Reset(bank_core::RunSettings, oneshot::Sender<Vec<BranchId>>),
    /// A peer's anti-entropy pull, with the peer's epoch when it said;
    /// answered with the writes it lacks (nothing for another run's peer).
    Pull {
        from: BranchId,
        have: bank_core::WriteSet,
        answer_back: bool,
        epoch: Option<u64>,
        reply: oneshot::Sender<Result<Vec<Propagation>, PeerRefusal>>,
    },
    /// The answer to our pull from `from` (`None`: the pull failed), and
    /// the epoch the pull was sent in.
    Pulled {
        from: BranchId,
        writes: Option<Vec<Propagation>>,
        epoch: u64,
    },
    /// The park timeout of a waiting request ran out.
    Expire(ReplyToken),
    /// Pull from every peer now.
    AntiEntropy,
}

/// The channels to the branches of the bank, by id: one map shared by every
/// node of a process (each node looks up the peers it talks to; its own
/// entry, if any, is never used). Cloning it is one reference count.
pub type Peers = Arc<BTreeMap<BranchId, BankChannel>>;

/// Where a propagated write's acknowledgement (or refusal) goes.
type PeerCall = oneshot::Sender<Result<PropagationAck, PropagateError>>;

/// How a node runs besides its branch.
#[derive(Debug)]
pub struct NodeOptions {
    /// Where applied writes are kept durably; `None`: memory only.
    pub store: Option<Store>,
    /// The cluster's simulated network; `None`: calls go straight out.
    pub network: Option<Arc<Network>>,
    /// How long a request may wait for the writes its session requires.
    pub park_timeout: Duration,
    /// How often to pull from every peer; `None`: only when asked.
    pub anti_entropy: Option<Duration>,
    /// The run the branch belongs to (a restarted branch process: the epoch
    /// it was last reset into). See [`bank_core::RunSettings`].
    pub epoch: u64,
    /// Where to save the run settings of every reset (a branch process's
    /// data directory), so a restart rejoins the same run.
    pub run_file: Option<std::path::PathBuf>,
    /// Where the links count the propagation calls they send.
    pub link_stats: Option<Arc<LinkStats>>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            store: None,
            network: None,
            park_timeout: DEFAULT_PARK_TIMEOUT,
            anti_entropy: None,
            epoch: 0,
            run_file: None,
            link_stats: None,
        }
    }
}

/// Customer replies are gathered while further inputs are queued, and handed
/// on (to the store's flusher, or straight to the customers) when the inbox
/// is empty, or this many replies wait...
pub const MAX_REPLIES_PER_FLUSH: usize = 64;

/// ...or this many inputs were handled since they were last handed on.
pub const MAX_INPUTS_PER_FLUSH: usize = 256;

/// How long a request waits for its session's writes unless told otherwise.
pub const DEFAULT_PARK_TIMEOUT: Duration = Duration::from_secs(5);

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
            Command::Acks(..) => "Acks",
            Command::Undelivered { .. } => "Undelivered",
            Command::Inspect { .. } => "Inspect",
            Command::Reset(..) => "Reset",
            Command::Pull { .. } => "Pull",
            Command::Pulled { .. } => "Pulled",
            Command::Expire(..) => "Expire",
            Command::AntiEntropy => "AntiEntropy",
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

    /// Several writes a peer propagated in one call, from a sender in `epoch`
    /// (`None`: unknown), fed in order; resolves with their acknowledgements
    /// once every one is applied, or with the first error (refused if this
    /// branch was reset into another epoch). A single write is a batch of one.
    pub async fn propagate_all(
        &self,
        writes: Vec<Propagation>,
        epoch: Option<u64>,
    ) -> Result<Vec<PropagationAck>, PropagateError> {
        let mut pending = Vec::with_capacity(writes.len());
        let mut calls = Vec::with_capacity(writes.len());
        for propagation in writes {
            let (tx, rx) = oneshot::channel();
            calls.push((propagation, tx));
            pending.push(rx);
        }
        self.send(Command::Propagate(calls, epoch))?;
        let mut acks = Vec::with_capacity(pending.len());
        for rx in pending {
            acks.push(rx.await.map_err(|_| NodeGone(self.id.0))??);
        }
        Ok(acks)
    }

    /// Starts the branch over (see [`bank_core::RunSettings`]); resolves with its peers.
    pub async fn reset(&self, reset: bank_core::RunSettings) -> Result<Vec<BranchId>, NodeGone> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Reset(reset, tx))?;
        rx.await.map_err(|_| NodeGone(self.id.0))
    }

    /// A snapshot of the branch's state and log; with `wait_until_quiet`,
    /// taken at the first moment the branch is quiet (see [`Branch::is_quiet`])
    /// with no anti-entropy pull unanswered: a round of anti-entropy just
    /// started (a restart, a heal, the end of a run's repair) is over before
    /// the state is read, so what the pulls bring is in it.
    pub async fn inspect(&self, wait_until_quiet: bool) -> Result<BranchRecord, NodeGone> {
        self.inspect_with(wait_until_quiet, false).await
    }

    /// [`NodeHandle::inspect`]; with `brief`, balance and clock only: no
    /// log, write sets or applied writes are copied (they grow with every
    /// event, and a run asks after each of its phases).
    pub async fn inspect_with(
        &self,
        wait_until_quiet: bool,
        brief: bool,
    ) -> Result<BranchRecord, NodeGone> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Inspect { wait_until_quiet, brief, reply: tx })?;
        rx.await.map_err(|_| NodeGone(self.id.0))
    }

    /// A peer's anti-entropy pull: the writes it lacks (refused for a
    /// caller that is not a peer, see [`bank_core::branch::peers`]).
    pub async fn pull(
        &self,
        from: BranchId,
        have: bank_core::WriteSet,
        answer_back: bool,
        epoch: Option<u64>,
    ) -> Result<Vec<Propagation>, PropagateError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Pull { from, have, answer_back, epoch, reply: tx })?;
        Ok(rx.await.map_err(|_| NodeGone(self.id.0))??)
    }

    /// Pull from every peer now (after a restart or a healed partition).
    pub fn anti_entropy(&self) -> Result<(), NodeGone> {
        self.send(Command::AntiEntropy)
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
    peers: Peers,
    activity: Option<ActivitySink>,
    shutdown: Shutdown,
) -> (NodeHandle, JoinHandle<()>) {
    spawn_with(branch, peers, activity, shutdown, NodeOptions::default())
}

/// [`spawn`] with a store, a network, and timing options.
pub fn spawn_with(
    branch: Branch,
    peers: Peers,
    activity: Option<ActivitySink>,
    shutdown: Shutdown,
    options: NodeOptions,
) -> (NodeHandle, JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = NodeHandle { id: branch.id(), inbox: tx.clone() };
    let (epoch_tx, _) = watch::channel(options.epoch);
    let branch_applied = branch.applied_log().len();
    let flusher = options.store.as_ref().and_then(Store::flusher);
    let node = Node {
        branch,
        epoch: epoch_tx,
        links: BTreeMap::new(),
        peers,
        activity,
        shutdown,
        inbox_tx: tx,
        next_token: 0,
        customers: HashMap::new(),
        peer_calls: HashMap::new(),
        pull_calls: HashMap::new(),
        waiting_for_quiet: Vec::new(),
        replies: Vec::new(),
        flusher,
        reported_applied: AppliedCursor::at(branch_applied),
        options,
    };
    let task = tokio::spawn(node.run(rx));
    (handle, task)
}

struct Node {
    branch: Branch,
    /// The current epoch (0 until the first reset); deliveries watch it.
    epoch: watch::Sender<u64>,
    /// Where propagations to each peer leave: made at the first write to
    /// that peer (see [`Node::link`]).
    links: BTreeMap<BranchId, Link>,
    /// For links and anti-entropy pulls (see [`Peers`]).
    peers: Peers,
    activity: Option<ActivitySink>,
    shutdown: Shutdown,
    /// For timers and pulls to hand their results back.
    inbox_tx: mpsc::UnboundedSender<Command>,
    next_token: u64,
    customers: HashMap<ReplyToken, oneshot::Sender<Reply>>,
    peer_calls: HashMap<ReplyToken, oneshot::Sender<Result<PropagationAck, PropagateError>>>,
    pull_calls: HashMap<ReplyToken, oneshot::Sender<Result<Vec<Propagation>, PeerRefusal>>>,
    /// `Inspect` calls that wait for the branch to be quiet, and whether
    /// each is brief.
    waiting_for_quiet: Vec<(oneshot::Sender<BranchRecord>, bool)>,
    /// Customer replies of the inputs handled since the inbox was last empty.
    replies: Vec<PendingReply>,
    /// Flushes a durable store off this task before replies go out.
    flusher: Option<Flusher>,
    /// How many of the branch's applied writes the activity sink has been
    /// told about (writes recovered from the store at start are not news).
    reported_applied: AppliedCursor,
    options: NodeOptions,
}

impl Node {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Command>) {
        let shutdown = self.shutdown.clone();
        // Inputs handled since replies were last handed on.
        let mut since_replies = 0usize;
        let mut ticker = self.options.anti_entropy.map(|every| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        loop {
            // While more inputs wait, their replies join these (a few).
            if inbox.is_empty()
                || self.replies.len() >= MAX_REPLIES_PER_FLUSH
                || since_replies >= MAX_INPUTS_PER_FLUSH
            {
                self.send_replies();
                since_replies = 0;
            }
            since_replies += 1;
            let command = tokio::select! {
                command = inbox.recv() => match command {
                    Some(c) => c,
                    None => break,
                },
                _ = shutdown.wait() => break,
                _ = async { ticker.as_mut().expect("guarded").tick().await }, if ticker.is_some() => Command::AntiEntropy,
            };
            let input = match command {
                Command::Request(request, tx) => {
                    let token = self.token();
                    self.customers.insert(token, tx);
                    Input::Request { token, request }
                }
                Command::Propagate(calls, epoch) => {
                    self.propagate(calls, epoch);
                    self.answer_if_quiet();
                    continue;
                }
                // An acknowledgement of a write of an earlier run: nothing
                // of that run is left to complete.
                Command::Acks(_, epoch) if epoch != *self.epoch.borrow() => continue,
                Command::Undelivered { epoch, .. } if epoch != *self.epoch.borrow() => continue,
                Command::Undelivered { to, writes, why, .. } => {
                    Input::Undelivered { to, writes, why }
                }
                Command::Acks(acks, _) => {
                    for ack in acks {
                        self.feed(Input::Ack(ack));
                    }
                    self.answer_if_quiet();
                    continue;
                }
                Command::Reset(reset, reply) => {
                    self.reset(reset);
                    let _ = reply.send(self.branch.config().peers.clone());
                    continue;
                }
                // Nothing of one run may leak into another (see `RunSettings`).
                Command::Pull { epoch: Some(theirs), reply, .. }
                    if theirs != *self.epoch.borrow() =>
                {
                    let _ = reply.send(Ok(Vec::new()));
                    continue;
                }
                Command::Pulled { epoch, .. } if epoch != *self.epoch.borrow() => continue,
                Command::Pull { from, have, answer_back, reply, .. } => {
                    let token = self.token();
                    self.pull_calls.insert(token, reply);
                    Input::Pull { token, from, have, answer_back }
                }
                Command::Pulled { from, writes: Some(writes), .. } => {
                    Input::Pulled { from, writes }
                }
                Command::Pulled { from, writes: None, .. } => Input::PullFailed { to: from },
                Command::Expire(token) => Input::Expire { token },
                Command::AntiEntropy => Input::AntiEntropy,
                Command::Inspect { wait_until_quiet, brief, reply } => {
                    if wait_until_quiet && !self.is_settled() {
                        self.waiting_for_quiet.push((reply, brief));
                    } else {
                        let _ = reply.send(record(&self.branch, brief));
                    }
                    continue;
                }
            };
            self.feed(input);
            self.answer_if_quiet();
        }
        self.send_replies();
        tracing::debug!(branch = self.branch.id().0, "node stopped");
    }

    /// One call's propagated writes: refused whole if from another run or if
    /// any write fails the branch's checks (nothing of it is applied), else
    /// fed one by one.
    fn propagate(&mut self, calls: Vec<(Propagation, PeerCall)>, epoch: Option<u64>) {
        let ours = *self.epoch.borrow();
        let branch = self.branch.id().0;
        let refuse = |calls: Vec<(Propagation, PeerCall)>, error: &dyn Fn() -> PropagateError| {
            for (_, tx) in calls {
                let _ = tx.send(Err(error()));
            }
        };
        if let Some(theirs) = epoch.filter(|e| *e != ours) {
            refuse(calls, &|| PropagateError::OtherEpoch { branch, ours, theirs });
            return;
        }
        let (writes, txs): (Vec<Propagation>, Vec<PeerCall>) = calls.into_iter().unzip();
        if let Some(from) = writes.first().map(|p| p.from) {
            if let Err(refusal) = self.branch.check_batch(from, &writes) {
                tracing::warn!(branch, peer = from.0, writes = writes.len(), "refused: {refusal}");
                let calls = writes.into_iter().zip(txs).collect();
                refuse(calls, &|| PropagateError::Refused(refusal.clone()));
                return;
            }
        }
        for (propagation, tx) in writes.into_iter().zip(txs) {
            let token = self.token();
            self.peer_calls.insert(token, tx);
            self.feed(Input::Propagate { token, propagation });
        }
    }

    /// Feeds one input to the branch and carries out its effects. The
    /// branch stores the writes it applies in the store first.
    fn feed(&mut self, input: Input) {
        let was_failing = self.options.store.as_ref().is_some_and(Store::is_failing);
        let effects = match &mut self.options.store {
            Some(store) => self.branch.handle_storing(input, store),
            None => self.branch.handle(input),
        };
        for effect in effects {
            self.carry_out(effect);
        }
        let recovered = was_failing && !self.options.store.as_ref().is_some_and(Store::is_failing);
        if recovered {
            // Writes of peers refused or dropped while the store failed:
            // fetch them now rather than at the peers' next retry.
            self.feed(Input::AntiEntropy);
        }
    }

    /// Answers the customers waiting, once what they are told is on the
    /// disk: through the flusher for a durable store (which keeps their
    /// order behind earlier replies still waiting for a flush), else here.
    fn send_replies(&mut self) {
        if self.replies.is_empty() {
            return;
        }
        let replies = std::mem::take(&mut self.replies);
        if let (Some(flusher), Some(store)) = (&self.flusher, &mut self.options.store) {
            flusher.send_after_flush(store.take_dirty(), replies);
            return;
        }
        // No store, or a volatile one: nothing to wait for.
        for (tx, reply) in replies {
            // The customer may have hung up; nothing to do then.
            let _ = tx.send(reply);
        }
    }

    /// Answers the `Inspect` calls waiting for quiet, if the branch is.
    fn answer_if_quiet(&mut self) {
        if self.is_settled() && !self.waiting_for_quiet.is_empty() {
            self.answer_waiting();
        }
    }

    /// Quiet, and no pull waiting for its answer (see [`NodeHandle::inspect`]).
    fn is_settled(&self) -> bool {
        self.branch.is_quiet() && self.branch.pulls_in_flight() == 0
    }

    /// Answers every `Inspect` call waiting for quiet, now (the full state
    /// is copied once, and only if one of them asked for it).
    fn answer_waiting(&mut self) {
        let mut full = None;
        for (reply, brief) in self.waiting_for_quiet.drain(..) {
            let state = match brief {
                true => brief_record(&self.branch),
                false => full.get_or_insert_with(|| record(&self.branch, false)).clone(),
            };
            let _ = reply.send(state);
        }
    }

    /// A fresh branch with the same id and peers; everything pending is
    /// dropped (its callers see an error) and old deliveries stop.
    fn reset(&mut self, reset: bank_core::RunSettings) {
        // Answers of the run that ends go out first.
        self.send_replies();
        let old = self.branch.config().clone();
        self.branch = Branch::new(BranchConfig {
            id: old.id,
            peers: old.peers.clone(),
            initial_balance: reset.balance,
            clock_scheme: reset.clock_scheme,
            propagation: reset.propagation,
        });
        self.reported_applied = AppliedCursor::default();
        self.customers.clear();
        self.peer_calls.clear();
        self.pull_calls.clear();
        if let Some(store) = &mut self.options.store {
            if let Err(e) = store.clear() {
                tracing::error!(
                    branch = old.id.0,
                    "cannot empty the store {}: {e}",
                    store.file_path().display()
                );
            }
        }
        // The fresh branch is quiet.
        self.answer_waiting();
        self.epoch.send_replace(reset.epoch);
        if let Some(dir) = &self.options.run_file {
            if let Err(e) = crate::branch::store::save_run(dir, old.id, &reset) {
                tracing::error!(
                    branch = old.id.0,
                    "cannot save the run settings in {}: {e}",
                    dir.display()
                );
            }
        }
        tracing::info!(branch = old.id.0, balance = %reset.balance, epoch = reset.epoch, "reset");
    }

    /// The channel to peer `to` (never to this branch itself).
    fn channel(&self, to: BranchId) -> Option<&BankChannel> {
        (to != self.branch.id()).then(|| self.peers.get(&to)).flatten()
    }

    /// The link to `to`, made now if this is the first write sent there.
    fn link(&mut self, to: BranchId) -> Option<&Link> {
        if !self.links.contains_key(&to) {
            let channel = self.channel(to)?.clone();
            let inbox = self.inbox_tx.clone();
            let gave_up = self.inbox_tx.clone();
            let context = LinkContext {
                from: self.branch.id(),
                to,
                channel,
                acks: Arc::new(move |acks, epoch| {
                    let _ = inbox.send(Command::Acks(acks, epoch));
                }),
                undelivered: Arc::new(move |writes, why, epoch| {
                    let _ = gave_up.send(Command::Undelivered { to, writes, why, epoch });
                }),
                shutdown: self.shutdown.clone(),
                epoch: self.epoch.subscribe(),
                network: self.options.network.clone(),
                stats: self.options.link_stats.clone(),
            };
            self.links.insert(to, Link::spawn(context));
        }
        self.links.get(&to)
    }

    fn token(&mut self) -> ReplyToken {
        self.next_token += 1;
        ReplyToken(self.next_token)
    }

    fn carry_out(&mut self, effect: Effect) {
        match effect {
            Effect::Reply { token, reply } => {
                // Sent after the next flush of the store (`send_replies`).
                if let Some(tx) = self.customers.remove(&token) {
                    self.replies.push((tx, reply));
                }
            }
            Effect::AckPeer { token, ack } => {
                if let Some(tx) = self.peer_calls.remove(&token) {
                    let _ = tx.send(Ok(ack));
                }
            }
            Effect::RefusePeer { token, reason } => {
                if let Some(tx) = self.peer_calls.remove(&token) {
                    let _ = tx.send(Err(PropagateError::NotStored(reason)));
                }
            }
            Effect::Send { to, propagation } => {
                let epoch = *self.epoch.borrow();
                match self.link(to) {
                    Some(link) => link.send(propagation, epoch),
                    None => tracing::error!(
                        branch = self.branch.id().0,
                        peer = to.0,
                        "no address for peer"
                    ),
                }
            }
            // Only without a store (see `feed`): memory is all there is.
            Effect::Persist(_) => {}
            // Appended before the replies that use the clock go out: they
            // wait for the next flush (`send_replies`).
            Effect::ReserveClock { up_to } => {
                if let Some(store) = &mut self.options.store {
                    store.reserve_clock(up_to);
                }
            }
            Effect::Parked { token, missing } => {
                tracing::debug!(branch = self.branch.id().0, ?missing, "request parked");
                let inbox = self.inbox_tx.clone();
                let shutdown = self.shutdown.clone();
                let wait = self.options.park_timeout;
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => { let _ = inbox.send(Command::Expire(token)); }
                        _ = shutdown.wait() => {}
                    }
                });
            }
            Effect::Pull { to, have, answer_back } => {
                let from = self.branch.id();
                let inbox = self.inbox_tx.clone();
                let Some(channel) = self.channel(to).cloned() else {
                    let _ = inbox.send(Command::Pulled {
                        from: to,
                        writes: None,
                        epoch: *self.epoch.borrow(),
                    });
                    return;
                };
                let network = self.options.network.clone();
                let shutdown = self.shutdown.clone();
                let epoch = *self.epoch.borrow();
                tokio::spawn(async move {
                    let writes = tokio::select! {
                        w = pull(from, to, channel, have, answer_back, network, epoch) => w,
                        _ = shutdown.wait() => return,
                    };
                    let _ = inbox.send(Command::Pulled { from: to, writes, epoch });
                });
            }
            Effect::PullReply { token, writes } => {
                if let Some(tx) = self.pull_calls.remove(&token) {
                    let _ = tx.send(Ok(writes));
                }
            }
            Effect::PeerRefused { token, refusal } => {
                tracing::warn!(branch = self.branch.id().0, "refused: {refusal}");
                let Some(token) = token else { return };
                if let Some(tx) = self.peer_calls.remove(&token) {
                    let _ = tx.send(Err(PropagateError::Refused(refusal)));
                } else if let Some(tx) = self.pull_calls.remove(&token) {
                    let _ = tx.send(Err(refusal));
                }
            }
            Effect::Logged(entry) => {
                let branch = &self.branch;
                let reported = &mut self.reported_applied;
                report(&self.activity, || Activity::from(reported.logged(branch, entry)));
            }
        }
    }
}

/// The branch's state as `Inspect` answers it: all of it, or with `brief`
/// only its balance and clock ([`brief_record`]).
fn record(branch: &Branch, brief: bool) -> BranchRecord {
    match brief {
        true => brief_record(branch),
        false => bank_core::sim::branch_record(branch),
    }
}

/// A branch's balance and clock, with no log, write sets or applied writes.
fn brief_record(branch: &Branch) -> BranchRecord {
    BranchRecord {
        id: branch.id(),
        balance: branch.balance(),
        clock: branch.clock(),
        write_sets: Default::default(),
        log: Vec::new(),
        applied: Vec::new(),
    }
}

/// How long a pull may take before it counts as failed.
const PULL_TIMEOUT: Duration = Duration::from_secs(3);

/// One anti-entropy pull from `to`: the writes we lack, or `None` if the
/// link is cut, the message lost or the peer unreachable.
async fn pull(
    from: BranchId,
    to: BranchId,
    channel: BankChannel,
    have: bank_core::WriteSet,
    answer_back: bool,
    network: Option<Arc<Network>>,
    epoch: u64,
) -> Option<Vec<Propagation>> {
    if let Some(net) = &network {
        match net.transit(from, to) {
            Transit::Cut | Transit::Lost => return None,
            Transit::Delayed(d) if d.is_zero() => {}
            Transit::Delayed(d) => tokio::time::sleep(d).await,
        }
    }
    let request = pb::PullRequest { from_branch: from.0, have: Some((&have).into()), answer_back };
    let mut request = tonic::Request::new(request);
    if epoch != 0 {
        request.metadata_mut().insert(EPOCH_HEADER, epoch.into());
    }
    let mut client = ReplicaClient::new(channel);
    let reply =
        tokio::time::timeout(PULL_TIMEOUT, client.pull(request)).await.ok()?.ok()?.into_inner();
    if network.as_ref().is_some_and(|n| n.reply_lost()) {
        return None;
    }
    reply.writes.iter().map(Propagation::try_from).collect::<Result<Vec<_>, _>>().ok()
}

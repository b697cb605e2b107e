//! One branch's outgoing link to one peer: its propagations, in batches.
//!
//! Every write a branch accepts goes to each peer. One gRPC call per write
//! and peer would pay the whole cost of a call (an HTTP/2 stream, headers, a
//! server task, a wake-up on each side) for a message of a few dozen bytes,
//! so a [`Link`] sends writes with `Replica.PropagateBatch` instead:
//!
//! * at most [`CALLS_IN_FLIGHT`] calls are on their way at once;
//! * a write that is ready while they all are waits in the link's queue, and
//!   leaves with every other waiting write (up to [`MAX_BATCH`]) in the next
//!   call, as soon as one comes back;
//! * a call that takes longer than [`SLOW_CALL`] gives its place up (and
//!   goes on waiting for its answer). The peer answers a call once every
//!   write in it is applied, and a write may have to wait there for a write
//!   of another branch, or for one still crossing to it on this very link:
//!   such a call must not keep the writes behind it from leaving.
//!
//! Under light load every write therefore leaves alone and at once, with no
//! timer and no added latency; under heavy load one call carries many writes.
//! The peer answers a call with one acknowledgement per write once it has
//! applied them all, and the link hands each acknowledgement to its branch.
//!
//! The in-process cluster's simulated [`Network`] acts on each write before
//! it joins the queue, exactly as it would on a call of its own: its own
//! delay, its own chance of being lost (then retried after a back-off), held
//! back while the link is cut. A lost acknowledgement loses the whole call,
//! which is sent again, so the peer sees duplicates (and ignores them).
//!
//! A call that fails (the peer is down or still starting) is retried with a
//! capped exponential back-off until it gets through, the branch shuts down,
//! the branch is reset into another epoch (which drops what is queued), or
//! [`PEER_DEADLINE`] has passed since its first failure: then the link
//! *gives up* on those writes, tells its branch ([`UndeliveredSink`]: the
//! branch stops waiting for that peer's acknowledgements, and answers a
//! customer waiting for them with an unavailable failure) and marks the
//! peer unreachable. While it is marked, every write gets one attempt and
//! is given up at once if that fails (a cut link: no attempt), so a dead
//! peer costs each later write one refused connection, not a deadline; the
//! first call that gets through clears the mark. Writes given up on reach
//! the peer later by anti-entropy (it pulls what it lacks after a restart
//! or a heal). So nothing waits forever for a peer, and a run always ends.
//!
//! A link has no task of its own. Each of its [`CALLS_IN_FLIGHT`] places
//! is a task only while it has writes to send: the write that finds a place
//! free starts one, which sends call after call while writes wait, and ends
//! when none is left. A link at rest is a few hundred bytes and its queue is
//! empty; a queue that grew under a burst gives its memory back once it has
//! drained. (A bank of n branches has n·(n-1) links: their cost at rest is
//! what decides the memory of a large bank; see section 5b of BENCHMARKS.md.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bank_core::branch::{Propagation, PropagationAck};
use bank_core::{BranchId, WriteId};
use bank_proto as pb;
use bank_proto::replica_client::ReplicaClient;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::net::simulated::{Network, Transit};
use crate::net::transport::BankChannel;
use crate::shutdown::Shutdown;

/// Calls a link keeps in flight at once. More writes wait and go together.
pub const CALLS_IN_FLIGHT: usize = 4;

/// The most writes one call carries.
pub const MAX_BATCH: usize = 256;

/// How long a call keeps its place among the [`CALLS_IN_FLIGHT`] before it
/// lets another call leave (it goes on waiting for its answer).
pub const SLOW_CALL: Duration = Duration::from_millis(100);

/// How long a link keeps trying to get writes to a peer that fails them
/// (refuses connections, is cut off, answers with an error) before it gives
/// up on them; see the module docs. The simulator keeps the same one
/// ([`bank_core::branch::PEER_DEADLINE_MS`]).
pub const PEER_DEADLINE: Duration = Duration::from_millis(bank_core::branch::PEER_DEADLINE_MS);

/// Where a link hands the acknowledgements of a call, with the epoch the
/// writes were sent in.
pub type AckSink = Arc<dyn Fn(Vec<PropagationAck>, u64) + Send + Sync>;

/// Where a link reports writes it gave up on (see [`PEER_DEADLINE`]): their
/// ids, why (one line naming the peer), and the epoch they were sent in.
pub type UndeliveredSink = Arc<dyn Fn(Vec<WriteId>, String, u64) + Send + Sync>;

/// How many propagation calls and writes the links of a cluster have sent
/// (every attempt, retries included). Shared by the links that report to it.
#[derive(Debug, Default)]
pub struct LinkStats {
    calls: AtomicU64,
    writes: AtomicU64,
}

impl LinkStats {
    /// Calls sent so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Writes those calls carried.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

/// What a link needs besides its queue. Cheap to clone.
#[derive(Clone)]
pub struct LinkContext {
    pub from: BranchId,
    pub to: BranchId,
    pub channel: BankChannel,
    pub acks: AckSink,
    pub undelivered: UndeliveredSink,
    pub shutdown: Shutdown,
    /// The branch's current epoch; writes of an older one are dropped.
    pub epoch: watch::Receiver<u64>,
    pub network: Option<Arc<Network>>,
    pub stats: Option<Arc<LinkStats>>,
}

impl std::fmt::Debug for LinkContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkContext")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// A write waiting to leave, with the epoch it was sent in.
#[derive(Debug)]
struct Outgoing {
    propagation: Propagation,
    epoch: u64,
}

/// The metadata header a `PropagateBatch` (or `Pull`) call carries its
/// sender's epoch in: the receiving branch refuses writes of another run.
pub const EPOCH_HEADER: &str = "bank-epoch";

/// The sending end of a link; see the module docs. Its calls end when
/// their writes are acknowledged or given up on, or when the branch shuts
/// down or is reset (a write still crossing the simulated network holds a
/// clone of the link).
#[derive(Clone, Debug)]
pub struct Link {
    shared: Arc<Shared>,
}

/// How many of a link's [`CALLS_IN_FLIGHT`] places are taken, and the
/// writes waiting for the next call.
#[derive(Debug, Default)]
struct Calls {
    taken: usize,
    waiting: VecDeque<Outgoing>,
}

/// A queue drained after a burst keeps at most this much room.
const KEPT_ROOM: usize = 8;

impl Shared {
    fn calls(&self) -> MutexGuard<'_, Calls> {
        // The lock guards plain data no panic can leave half-changed.
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug)]
struct Shared {
    context: LinkContext,
    /// The places taken and the writes waiting for one.
    calls: Mutex<Calls>,
    /// Set when the link gave up on a write, cleared by a call that got
    /// through.
    unreachable: Arc<AtomicBool>,
}

impl Link {
    /// A link to `context.to`; nothing runs until the first write.
    pub fn spawn(context: LinkContext) -> Link {
        let shared =
            Shared { context, calls: Mutex::new(Calls::default()), unreachable: Arc::default() };
        Link { shared: Arc::new(shared) }
    }

    /// Hands `outgoing` to a free place (starting its task), or queues it
    /// for the next call of a busy one.
    fn queue(&self, outgoing: Outgoing) {
        let mut calls = self.shared.calls();
        if calls.taken < CALLS_IN_FLIGHT {
            calls.taken += 1;
            drop(calls);
            tokio::spawn(hold_place(self.shared.clone(), outgoing));
        } else {
            calls.waiting.push_back(outgoing);
        }
    }

    /// Sends `propagation` (sent in `epoch`) to the peer: through the
    /// simulated network first if there is one, then into the queue.
    pub fn send(&self, propagation: Propagation, epoch: u64) {
        let outgoing = Outgoing { propagation, epoch };
        let context = &self.shared.context;
        let Some(network) = context.network.clone() else {
            self.queue(outgoing);
            return;
        };
        match network.transit(context.from, context.to) {
            // No delay: no timer either (a zero sleep still waits for the
            // timer wheel's next millisecond tick).
            Transit::Delayed(d) if d.is_zero() => self.queue(outgoing),
            first => {
                tokio::spawn(self.clone().cross(network, outgoing, first));
            }
        }
    }

    /// One write crossing an imperfect simulated network to the queue:
    /// waits out `transit` (and draws again after a cut or a loss) until the
    /// write gets across; gives up on shutdown or a new epoch, and after
    /// [`PEER_DEADLINE`] of cuts and losses (at once if the peer is marked
    /// unreachable).
    async fn cross(self, network: Arc<Network>, outgoing: Outgoing, mut transit: Transit) {
        let context = &self.shared.context;
        let (from, to) = (context.from, context.to);
        let mut epoch = context.epoch.clone();
        let mut changed = network.changed();
        let mut backoff = FIRST_BACKOFF;
        let deadline = Deadline::new(&self.shared.unreachable);
        loop {
            if !matches!(transit, Transit::Delayed(_)) && deadline.passed() {
                let why = bank_core::network::cut_link_reason(from, to);
                give_up(
                    context,
                    &self.shared.unreachable,
                    vec![&outgoing.propagation],
                    why,
                    outgoing.epoch,
                );
                return;
            }
            let wait = async {
                match transit {
                    // Still cut now that changes are watched? (A heal between
                    // the draw and the watch is not missed.)
                    Transit::Cut if network.is_cut(from, to) => {
                        let _ = tokio::time::timeout_at(deadline.at, changed.changed()).await;
                    }
                    Transit::Cut => {}
                    Transit::Lost => {
                        tokio::time::sleep(backoff.min(deadline.left())).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    Transit::Delayed(d) if d.is_zero() => {}
                    Transit::Delayed(d) => tokio::time::sleep(d).await,
                }
            };
            if unless_stopped(&context.shutdown, &mut epoch, outgoing.epoch, wait).await.is_none() {
                return;
            }
            if let Transit::Delayed(_) = transit {
                self.queue(outgoing);
                return;
            }
            changed.borrow_and_update();
            transit = network.transit(from, to);
        }
    }
}

/// When a message is given up on: [`PEER_DEADLINE`] after it first failed,
/// or right away while the peer is marked unreachable.
struct Deadline {
    at: Instant,
}

impl Deadline {
    fn new(unreachable: &AtomicBool) -> Deadline {
        let now = Instant::now();
        let at = if unreachable.load(Ordering::Relaxed) { now } else { now + PEER_DEADLINE };
        Deadline { at }
    }

    fn passed(&self) -> bool {
        Instant::now() >= self.at
    }

    fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

/// Marks the peer unreachable and reports `writes` as undelivered.
fn give_up(
    context: &LinkContext,
    unreachable: &AtomicBool,
    writes: Vec<&Propagation>,
    why: String,
    epoch: u64,
) {
    let first = !unreachable.swap(true, Ordering::Relaxed);
    let ids: Vec<WriteId> = writes.iter().map(|p| p.write).collect();
    if first {
        tracing::warn!(
            from = context.from.0,
            to = context.to.0,
            writes = ids.len(),
            "giving up on propagating to branch {} after {PEER_DEADLINE:?} ({why}); it catches up by anti-entropy",
            context.to.0
        );
    }
    (context.undelivered)(ids, why, epoch);
}

/// Runs `work`, unless the branch shuts down or is reset into an epoch other
/// than `sent_in` first (then `None`: the work is dropped).
async fn unless_stopped<T>(
    shutdown: &Shutdown,
    epoch: &mut watch::Receiver<u64>,
    sent_in: u64,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        out = work => Some(out),
        _ = shutdown.wait() => None,
        _ = epoch.wait_for(|e| *e != sent_in) => None,
    }
}

const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// One of the link's places: sends `first` and whatever waits behind it
/// (up to [`MAX_BATCH`] writes a call), call after call, and gives the
/// place back once nothing waits. Writes of an earlier run are dropped
/// (see `bank_core::RunSettings`); on shutdown the waiting writes are.
async fn hold_place(shared: Arc<Shared>, first: Outgoing) {
    let context = &shared.context;
    let mut first = Some(first);
    loop {
        let epoch = *context.epoch.borrow();
        let batch = {
            let mut calls = shared.calls();
            let mut batch = Vec::new();
            let mut next = first.take().or_else(|| calls.waiting.pop_front());
            while let Some(outgoing) = next {
                if outgoing.epoch == epoch {
                    batch.push(outgoing.propagation);
                }
                next = if batch.len() < MAX_BATCH { calls.waiting.pop_front() } else { None };
            }
            if context.shutdown.is_triggered() {
                calls.waiting.clear();
                batch.clear();
            }
            if batch.is_empty() {
                calls.taken -= 1;
                if calls.waiting.is_empty() && calls.waiting.capacity() > KEPT_ROOM {
                    calls.waiting = VecDeque::new();
                }
                return;
            }
            batch
        };
        let mut call = Box::pin(call(batch, epoch, context.clone(), shared.unreachable.clone()));
        // A call the peer holds open (a write waiting there for a write of
        // another branch, or still crossing to it on this link) gives its
        // place up after a while and finishes on its own: it must not keep
        // later writes, maybe the very ones it waits for, from leaving.
        tokio::select! {
            _ = &mut call => {}
            _ = tokio::time::sleep(SLOW_CALL) => {
                tokio::spawn(call);
            }
        }
    }
}

/// One `PropagateBatch` call, retried until the peer acknowledges it (or
/// shutdown, or a new epoch, or [`PEER_DEADLINE`]: see the module docs).
async fn call(
    batch: Vec<Propagation>,
    epoch: u64,
    mut context: LinkContext,
    unreachable: Arc<AtomicBool>,
) {
    let (from, to) = (context.from, context.to);
    let encode =
        || pb::PropagationBatch { writes: batch.iter().map(pb::Propagation::from).collect() };
    // The first attempt sends this; a retry encodes the batch again.
    let mut first = Some(encode());
    let mut client = ReplicaClient::new(context.channel.clone());
    let mut changed = context.network.as_ref().map(|n| n.changed());
    let mut backoff = FIRST_BACKOFF;
    let mut failures = 0u32;
    let deadline = Deadline::new(&unreachable);
    let give_up_on = |context: &LinkContext, why: String| {
        give_up(context, &unreachable, batch.iter().collect(), why, epoch);
    };
    loop {
        // A cut link holds retries back too, until it heals (or the deadline).
        if let (Some(net), Some(changed)) = (&context.network, &mut changed) {
            changed.borrow_and_update();
            if net.is_cut(from, to) {
                if deadline.passed() {
                    give_up_on(&context, bank_core::network::cut_link_reason(from, to));
                    return;
                }
                let heal = tokio::time::timeout_at(deadline.at, changed.changed());
                if unless_stopped(&context.shutdown, &mut context.epoch, epoch, heal)
                    .await
                    .is_none()
                {
                    return;
                }
                continue;
            }
        }
        if let Some(stats) = &context.stats {
            stats.calls.fetch_add(1, Ordering::Relaxed);
            stats.writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        let mut request = tonic::Request::new(first.take().unwrap_or_else(encode));
        if epoch != 0 {
            request.metadata_mut().insert(EPOCH_HEADER, epoch.into());
        }
        let Some(result) = unless_stopped(
            &context.shutdown,
            &mut context.epoch,
            epoch,
            client.propagate_batch(request),
        )
        .await
        else {
            return;
        };
        let acks = |r: tonic::Response<pb::PropagationAcks>| {
            r.get_ref().acks.iter().map(PropagationAck::try_from).collect::<Result<Vec<_>, _>>()
        };
        match result.map(acks) {
            // The acknowledgements are lost: send again (duplicates).
            Ok(Ok(_)) if context.network.as_ref().is_some_and(|n| n.reply_lost()) => continue,
            Ok(Ok(acks)) if acks.len() == batch.len() => {
                unreachable.store(false, Ordering::Relaxed);
                (context.acks)(acks, epoch);
                return;
            }
            Ok(Ok(acks)) => {
                tracing::error!(
                    from = from.0,
                    to = to.0,
                    "{} acknowledgements for {} writes",
                    acks.len(),
                    batch.len()
                );
                give_up_on(
                    &context,
                    format!("branch {} answered with the wrong acknowledgements", to.0),
                );
                return;
            }
            Ok(Err(e)) => {
                tracing::error!(from = from.0, to = to.0, "malformed acknowledgement: {e}");
                give_up_on(
                    &context,
                    format!("branch {} answered with a malformed acknowledgement", to.0),
                );
                return;
            }
            Err(status) => {
                failures += 1;
                if deadline.passed() {
                    give_up_on(
                        &context,
                        format!("branch {} did not take it: {}", to.0, status.message()),
                    );
                    return;
                }
                let writes = batch.len();
                if failures == 1 {
                    tracing::info!(from = from.0, to = to.0, first = %batch[0].write, writes, "propagation failed, retrying until it gets through: {status}");
                } else {
                    tracing::debug!(from = from.0, to = to.0, first = %batch[0].write, writes, "propagation failed again, retrying in {backoff:?}: {status}");
                }
                if unless_stopped(
                    &context.shutdown,
                    &mut context.epoch,
                    epoch,
                    tokio::time::sleep(backoff.min(deadline.left())),
                )
                .await
                .is_none()
                {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

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
//! or the branch is reset into another epoch, which drops what is queued.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bank_core::branch::{Propagation, PropagationAck};
use bank_core::BranchId;
use bank_proto as pb;
use bank_proto::replica_client::ReplicaClient;
use tokio::sync::{mpsc, watch, Semaphore};

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

/// Where a link hands the acknowledgements of a call, with the epoch the
/// writes were sent in.
pub type AckSink = Arc<dyn Fn(Vec<PropagationAck>, u64) + Send + Sync>;

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
struct Outgoing {
    propagation: Propagation,
    epoch: u64,
}

/// The metadata header a `PropagateBatch` (or `Pull`) call carries its
/// sender's epoch in: the receiving branch refuses writes of another run.
pub const EPOCH_HEADER: &str = "bank-epoch";

/// The sending end of a link; see the module docs. The link's task ends
/// when its branch shuts down or every `Link` of it is dropped (a write still
/// crossing the simulated network holds a clone).
#[derive(Clone, Debug)]
pub struct Link {
    ready: mpsc::UnboundedSender<Outgoing>,
    from: BranchId,
    to: BranchId,
    network: Option<Arc<Network>>,
    shutdown: Shutdown,
    epoch: watch::Receiver<u64>,
}

impl Link {
    /// Starts the link's task.
    pub fn spawn(context: LinkContext) -> Link {
        let (ready, queue) = mpsc::unbounded_channel();
        let link = Link {
            ready,
            from: context.from,
            to: context.to,
            network: context.network.clone(),
            shutdown: context.shutdown.clone(),
            epoch: context.epoch.clone(),
        };
        tokio::spawn(send_batches(queue, context));
        link
    }

    /// Sends `propagation` (sent in `epoch`) to the peer: through the
    /// simulated network first if there is one, then into the queue.
    pub fn send(&self, propagation: Propagation, epoch: u64) {
        let outgoing = Outgoing { propagation, epoch };
        let Some(network) = self.network.clone() else {
            let _ = self.ready.send(outgoing);
            return;
        };
        match network.transit(self.from, self.to) {
            // No delay: no timer either (a zero sleep still waits for the
            // timer wheel's next millisecond tick).
            Transit::Delayed(d) if d.is_zero() => {
                let _ = self.ready.send(outgoing);
            }
            first => {
                tokio::spawn(self.clone().cross(network, outgoing, first));
            }
        }
    }

    /// One write crossing an imperfect simulated network to the queue:
    /// waits out `transit` (and draws again after a cut or a loss) until the
    /// write gets across; gives up on shutdown or a new epoch.
    async fn cross(mut self, network: Arc<Network>, outgoing: Outgoing, mut transit: Transit) {
        let mut changed = network.changed();
        let mut backoff = FIRST_BACKOFF;
        loop {
            let wait = async {
                match transit {
                    // Still cut now that changes are watched? (A heal between
                    // the draw and the watch is not missed.)
                    Transit::Cut if network.is_cut(self.from, self.to) => {
                        let _ = changed.changed().await;
                    }
                    Transit::Cut => {}
                    Transit::Lost => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    Transit::Delayed(d) if d.is_zero() => {}
                    Transit::Delayed(d) => tokio::time::sleep(d).await,
                }
            };
            if unless_stopped(&self.shutdown, &mut self.epoch, outgoing.epoch, wait).await.is_none()
            {
                return;
            }
            if let Transit::Delayed(_) = transit {
                let _ = self.ready.send(outgoing);
                return;
            }
            changed.borrow_and_update();
            transit = network.transit(self.from, self.to);
        }
    }
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

/// The link's task: takes what is queued whenever a call may leave.
async fn send_batches(mut queue: mpsc::UnboundedReceiver<Outgoing>, context: LinkContext) {
    let permits = Arc::new(Semaphore::new(CALLS_IN_FLIGHT));
    let shutdown = context.shutdown.clone();
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = shutdown.wait() => return,
        };
        let first = tokio::select! {
            first = queue.recv() => match first {
                Some(first) => first,
                None => return,
            },
            _ = shutdown.wait() => return,
        };
        let epoch = *context.epoch.borrow();
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(outgoing) = next {
            // Writes of an earlier run are dropped (see `bank_core::RunSettings`).
            if outgoing.epoch == epoch {
                batch.push(outgoing.propagation);
            }
            next = if batch.len() < MAX_BATCH { queue.try_recv().ok() } else { None };
        }
        if batch.is_empty() {
            continue;
        }
        let context = context.clone();
        tokio::spawn(async move {
            let call = call(batch, epoch, context);
            tokio::pin!(call);
            // A call the peer holds open (a write waiting there for a write
            // of another branch, or still crossing to it on this link) gives
            // its place up after a while and finishes on its own: it must
            // not keep later writes, maybe the very ones it waits for, from
            // leaving.
            tokio::select! {
                _ = &mut call => return,
                _ = tokio::time::sleep(SLOW_CALL) => drop(permit),
            }
            call.await;
        });
    }
}

/// One `PropagateBatch` call, retried until the peer acknowledges it (or
/// shutdown, or a new epoch).
async fn call(batch: Vec<Propagation>, epoch: u64, mut context: LinkContext) {
    let (from, to) = (context.from, context.to);
    let encode =
        || pb::PropagationBatch { writes: batch.iter().map(pb::Propagation::from).collect() };
    // The first attempt sends this; a retry encodes the batch again.
    let mut first = Some(encode());
    let mut client = ReplicaClient::new(context.channel.clone());
    let mut changed = context.network.as_ref().map(|n| n.changed());
    let mut backoff = FIRST_BACKOFF;
    let mut failures = 0u32;
    loop {
        // A cut link holds retries back too, until it heals.
        if let (Some(net), Some(changed)) = (&context.network, &mut changed) {
            changed.borrow_and_update();
            if net.is_cut(from, to) {
                if unless_stopped(&context.shutdown, &mut context.epoch, epoch, changed.changed())
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
                return;
            }
            Ok(Err(e)) => {
                tracing::error!(from = from.0, to = to.0, "malformed acknowledgement: {e}");
                return;
            }
            Err(status) => {
                failures += 1;
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
                    tokio::time::sleep(backoff),
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

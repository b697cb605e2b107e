//! A branch's outgoing link batches its propagations (`backend/src/branch/link.rs`).
//!
//! The peer here is a stand-in `Replica` server that holds every
//! `PropagateBatch` call until the test lets it go, so the test decides
//! exactly when calls are in flight: no timing, no sleeps.

use std::sync::{Arc, Mutex};

use bank_backend::branch::link::{Link, LinkContext, LinkStats, CALLS_IN_FLIGHT, SLOW_CALL};
use bank_backend::net::transport;
use bank_backend::net::transport::channel_to;
use bank_backend::shutdown::Shutdown;
use bank_core::branch::{Propagation, PropagationAck};
use bank_core::{BranchId, Cents, CustomerId, EventId, Op, WriteId, WriteSet};
use bank_proto as pb;
use bank_proto::replica_server::{Replica, ReplicaServer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tonic::{Request, Response, Status};

/// Records the writes of every call it gets, then waits for a permit
/// before acknowledging them.
#[derive(Clone)]
struct HoldingPeer {
    arrived: mpsc::UnboundedSender<Vec<u64>>,
    release: Arc<Semaphore>,
}

#[tonic::async_trait]
impl Replica for HoldingPeer {
    async fn propagate_batch(
        &self,
        request: Request<pb::PropagationBatch>,
    ) -> Result<Response<pb::PropagationAcks>, Status> {
        let writes = request.into_inner().writes;
        let seqs = writes.iter().map(|w| w.write.as_ref().map_or(0, |id| id.seq)).collect();
        let _ = self.arrived.send(seqs);
        self.release.acquire().await.expect("open").forget();
        let acks = writes
            .into_iter()
            .map(|w| pb::PropagationAck {
                from_branch: 2,
                write: w.write,
                newly_applied: true,
                clock: 0,
            })
            .collect();
        Ok(Response::new(pb::PropagationAcks { acks }))
    }

    async fn pull(&self, _: Request<pb::PullRequest>) -> Result<Response<pb::PullReply>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
}

fn write(seq: u64) -> Propagation {
    Propagation {
        from: BranchId(1),
        write: WriteId { origin: BranchId(1), seq },
        customer: CustomerId(1),
        event: EventId(seq),
        op: Op::Deposit(Cents(100)),
        depends_on: WriteSet::default(),
        clock: 0,
    }
}

/// A link from branch 1 to a [`HoldingPeer`] on loopback.
struct Setup {
    link: Link,
    /// The seqs of every call, as the peer gets it.
    arrived: mpsc::UnboundedReceiver<Vec<u64>>,
    /// A permit lets one held call be answered.
    release: Arc<Semaphore>,
    /// The acknowledgements handed back, and how many came with each call.
    acked: Arc<Mutex<Vec<PropagationAck>>>,
    acks: mpsc::UnboundedReceiver<usize>,
    stats: Arc<LinkStats>,
    stop: Shutdown,
    /// The branch's epoch; while it lives, the link's calls go on.
    _epoch: watch::Sender<u64>,
}

async fn setup() -> Setup {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (arrived_tx, arrived) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let peer = HoldingPeer { arrived: arrived_tx, release: release.clone() };
    let stop = Shutdown::new();
    let server_stop = stop.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ReplicaServer::new(peer))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async move {
                    server_stop.wait().await;
                },
            ),
    );
    let acked: Arc<Mutex<Vec<PropagationAck>>> = Arc::default();
    let (acks_tx, acks) = mpsc::unbounded_channel();
    let sink = acked.clone();
    let stats = Arc::new(LinkStats::default());
    let (epoch, epoch_rx) = watch::channel(0);
    let link = Link::spawn(LinkContext {
        from: BranchId(1),
        to: BranchId(2),
        channel: transport::plain(channel_to(addr)),
        acks: Arc::new(move |acks, epoch| {
            assert_eq!(epoch, 0);
            let n = acks.len();
            sink.lock().unwrap().extend(acks);
            let _ = acks_tx.send(n);
        }),
        undelivered: Arc::new(|writes, why, _| panic!("gave up on {writes:?}: {why}")),
        shutdown: stop.clone(),
        epoch: epoch_rx,
        network: None,
        stats: Some(stats.clone()),
    });
    Setup { link, arrived, release, acked, acks, stats, stop, _epoch: epoch }
}

impl Setup {
    /// Waits until `n` writes are acknowledged; returns their seqs, sorted.
    async fn acknowledged(&mut self, n: usize) -> Vec<u64> {
        let mut acks = 0;
        while acks < n {
            acks += self.acks.recv().await.unwrap();
        }
        let mut seqs: Vec<u64> = self.acked.lock().unwrap().iter().map(|a| a.write.seq).collect();
        seqs.sort();
        seqs
    }

    /// Sends writes `seqs` one by one, each once the previous call arrived.
    async fn one_by_one(&mut self, seqs: std::ops::RangeInclusive<u64>) {
        for seq in seqs {
            self.link.send(write(seq), 0);
            assert_eq!(
                self.arrived.recv().await.unwrap(),
                vec![seq],
                "a write alone on the link leaves alone"
            );
        }
    }
}

#[tokio::test]
async fn writes_ready_while_every_call_is_in_flight_leave_together() {
    let mut s = setup().await;
    let k = CALLS_IN_FLIGHT as u64;
    // Light load: each write leaves at once, alone, until every call the
    // link may have in flight is taken.
    s.one_by_one(1..=k).await;
    // Every call is in flight: these wait in the queue...
    let queued: Vec<u64> = (k + 1..=k + 5).collect();
    for seq in &queued {
        s.link.send(write(*seq), 0);
    }
    // ...and leave together in the next call once one comes back.
    s.release.add_permits(1);
    assert_eq!(
        s.arrived.recv().await.unwrap(),
        queued,
        "the queued writes leave in one call, in order"
    );

    s.release.add_permits(CALLS_IN_FLIGHT);
    assert_eq!(
        s.acknowledged(CALLS_IN_FLIGHT + 5).await,
        (1..=k + 5).collect::<Vec<_>>(),
        "every write is acknowledged once"
    );
    assert_eq!(s.stats.calls(), k + 1);
    assert_eq!(s.stats.writes(), k + 5);
    s.stop.trigger();
}

/// The peer holds a call open while a write in it waits there for another
/// (maybe one still behind it on this link): after [`SLOW_CALL`] the call
/// lets the writes behind it leave, so nothing waits forever.
#[tokio::test]
async fn calls_held_open_do_not_keep_later_writes_from_leaving() {
    let mut s = setup().await;
    let k = CALLS_IN_FLIGHT as u64;
    s.one_by_one(1..=k).await;
    // Every call is held open, and none is ever answered before these leave.
    for seq in k + 1..=k + 3 {
        s.link.send(write(seq), 0);
    }
    let later = tokio::time::timeout(SLOW_CALL * 50, s.arrived.recv())
        .await
        .expect("later writes leave after SLOW_CALL");
    assert_eq!(later.unwrap(), vec![k + 1, k + 2, k + 3]);
    s.release.add_permits(CALLS_IN_FLIGHT + 1);
    assert_eq!(s.acknowledged(CALLS_IN_FLIGHT + 3).await, (1..=k + 3).collect::<Vec<_>>());
    s.stop.trigger();
}

//! A branch's outgoing link batches its propagations (`backend/src/link.rs`).
//!
//! The peer here is a stand-in `Branch` server that holds every
//! `PropagateBatch` call until the test lets it go, so the test decides
//! exactly when calls are in flight: no timing, no sleeps.

use std::sync::{Arc, Mutex};

use bank_backend::cluster::channel_to;
use bank_backend::link::{Link, LinkContext, LinkStats, CALLS_IN_FLIGHT};
use bank_backend::transport;
use bank_core::branch::{Propagation, PropagationAck};
use bank_core::{BranchId, Cents, CustomerId, EventId, Op, WriteId, WriteSet};
use bank_proto as pb;
use bank_proto::branch_server::{Branch, BranchServer};
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
impl Branch for HoldingPeer {
    async fn propagate_batch(&self, request: Request<pb::PropagationBatch>) -> Result<Response<pb::PropagationAcks>, Status> {
        let writes = request.into_inner().writes;
        let seqs = writes.iter().map(|w| w.write.as_ref().map_or(0, |id| id.seq)).collect();
        let _ = self.arrived.send(seqs);
        self.release.acquire().await.expect("open").forget();
        let acks = writes
            .into_iter()
            .map(|w| pb::PropagationAck { from_branch: 2, write: w.write, newly_applied: true, clock: 0 })
            .collect();
        Ok(Response::new(pb::PropagationAcks { acks }))
    }

    async fn request(&self, _: Request<pb::CustomerRequest>) -> Result<Response<pb::CustomerReply>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
    async fn propagate(&self, _: Request<pb::Propagation>) -> Result<Response<pb::PropagationAck>, Status> {
        Err(Status::unimplemented("branches propagate in batches"))
    }
    async fn inspect(&self, _: Request<pb::InspectRequest>) -> Result<Response<pb::BranchState>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
    async fn reset(&self, _: Request<pb::ResetRequest>) -> Result<Response<pb::ResetReply>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
    type TraceStream = futures::stream::Empty<Result<pb::BranchLogged, Status>>;
    async fn trace(&self, _: Request<pb::TraceRequest>) -> Result<Response<Self::TraceStream>, Status> {
        Err(Status::unimplemented("not in this test"))
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

#[tokio::test]
async fn writes_ready_while_every_call_is_in_flight_leave_together() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let peer = HoldingPeer { arrived: arrived_tx, release: release.clone() };
    let (stop, stop_rx) = watch::channel(false);
    let mut server_stop = stop_rx.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(BranchServer::new(peer))
            .serve_with_incoming_shutdown(tokio_stream::wrappers::TcpListenerStream::new(listener), async move {
                let _ = server_stop.wait_for(|s| *s).await;
            }),
    );

    let acked: Arc<Mutex<Vec<PropagationAck>>> = Arc::default();
    let (acks_tx, mut acks_rx) = mpsc::unbounded_channel();
    let sink = acked.clone();
    let stats = Arc::new(LinkStats::default());
    let (_epoch_tx, epoch_rx) = watch::channel(0);
    let link = Link::spawn(LinkContext {
        from: BranchId(1),
        to: BranchId(2),
        channel: transport::plain(channel_to(addr).unwrap()),
        acks: Arc::new(move |acks, epoch| {
            assert_eq!(epoch, 0);
            let n = acks.len();
            sink.lock().unwrap().extend(acks);
            let _ = acks_tx.send(n);
        }),
        shutdown: stop_rx,
        epoch: epoch_rx,
        network: None,
        stats: Some(stats.clone()),
    });

    // Light load: each write leaves at once, alone, until every call the
    // link may have in flight is taken.
    for seq in 1..=CALLS_IN_FLIGHT as u64 {
        link.send(write(seq), 0);
        assert_eq!(arrived.recv().await.unwrap(), vec![seq], "a write alone on the link leaves alone");
    }
    // Every call is in flight: these wait in the queue...
    let queued: Vec<u64> = (CALLS_IN_FLIGHT as u64 + 1..=CALLS_IN_FLIGHT as u64 + 5).collect();
    for seq in &queued {
        link.send(write(*seq), 0);
    }
    assert!(arrived.try_recv().is_err(), "no call leaves while every one is in flight");
    // ...and leave together in the next call once one comes back.
    release.add_permits(1);
    assert_eq!(arrived.recv().await.unwrap(), queued, "the queued writes leave in one call, in order");

    release.add_permits(CALLS_IN_FLIGHT);
    let mut acks = 0;
    while acks < CALLS_IN_FLIGHT + 5 {
        acks += acks_rx.recv().await.unwrap();
    }
    let mut seqs: Vec<u64> = acked.lock().unwrap().iter().map(|a| a.write.seq).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=CALLS_IN_FLIGHT as u64 + 5).collect::<Vec<_>>(), "every write is acknowledged once");
    assert_eq!(stats.calls(), CALLS_IN_FLIGHT as u64 + 1);
    assert_eq!(stats.writes(), CALLS_IN_FLIGHT as u64 + 5);
    let _ = stop.send(true);
}

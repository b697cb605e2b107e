//! The `Branch` gRPC service: proto in, core input to the node, proto out.

use bank_proto as pb;
use bank_proto::branch_server::Branch as BranchRpc;
use tonic::{Request, Response, Status};

use crate::branch::link::EPOCH_HEADER;
use crate::branch::node::NodeHandle;
use crate::branch::trace_feed::{TraceFeed, TraceStream};
use crate::wire;

/// Serves one branch over gRPC by forwarding to its node.
#[derive(Clone, Debug)]
pub struct BranchService {
    node: NodeHandle,
    /// Set for a branch running as its own process (`Branch.Trace`).
    trace: Option<TraceFeed>,
}

impl BranchService {
    pub fn new(node: NodeHandle) -> Self {
        BranchService { node, trace: None }
    }

    /// Also serve `Branch.Trace` from `feed`.
    pub fn with_trace(mut self, feed: TraceFeed) -> Self {
        self.trace = Some(feed);
        self
    }
}

/// The caller's run, from the `bank-epoch` header (`None`: not said).
fn epoch_of<T>(request: &Request<T>) -> Result<Option<u64>, Status> {
    match request.metadata().get(EPOCH_HEADER) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| Status::invalid_argument(format!("{EPOCH_HEADER} must be a number"))),
    }
}

#[tonic::async_trait]
impl BranchRpc for BranchService {
    async fn request(&self, request: Request<pb::CustomerRequest>) -> Result<Response<pb::CustomerReply>, Status> {
        let request = wire::request_from_proto(request.into_inner())?;
        let reply = self.node.request(request).await?;
        Ok(Response::new(wire::reply_to_proto(&reply)))
    }

    async fn propagate(&self, request: Request<pb::Propagation>) -> Result<Response<pb::PropagationAck>, Status> {
        let epoch = epoch_of(&request)?;
        let propagation = wire::propagation_from_proto(request.into_inner())?;
        let ack = self.node.propagate_in(propagation, epoch).await?;
        Ok(Response::new(wire::ack_to_proto(&ack)))
    }

    async fn propagate_batch(&self, request: Request<pb::PropagationBatch>) -> Result<Response<pb::PropagationAcks>, Status> {
        let epoch = epoch_of(&request)?;
        let writes = request.into_inner().writes.into_iter().map(wire::propagation_from_proto).collect::<Result<Vec<_>, _>>()?;
        let acks = self.node.propagate_all(writes, epoch).await?;
        Ok(Response::new(pb::PropagationAcks { acks: acks.iter().map(wire::ack_to_proto).collect() }))
    }

    async fn inspect(&self, request: Request<pb::InspectRequest>) -> Result<Response<pb::BranchState>, Status> {
        let request = request.into_inner();
        let mut record = self.node.inspect(request.wait_until_quiet).await?;
        if request.brief {
            record.log.clear();
            record.write_sets.clear();
        }
        Ok(Response::new(wire::branch_state_to_proto(&record)))
    }

    async fn reset(&self, request: Request<pb::ResetRequest>) -> Result<Response<pb::ResetReply>, Status> {
        let reset = wire::reset_from_proto(&request.into_inner())?;
        let peers = self.node.reset(reset).await?;
        Ok(Response::new(pb::ResetReply { branch_id: self.node.id().0, peers: peers.iter().map(|p| p.0).collect() }))
    }

    async fn pull(&self, request: Request<pb::PullRequest>) -> Result<Response<pb::PullReply>, Status> {
        let epoch = epoch_of(&request)?;
        let request = request.into_inner();
        let have = wire::write_set_from_proto(request.have.as_ref());
        let writes = self.node.pull(bank_core::BranchId(request.from_branch), have, request.answer_back, epoch).await?;
        Ok(Response::new(pb::PullReply { writes: writes.iter().map(wire::propagation_to_proto).collect() }))
    }

    type TraceStream = TraceStream;

    async fn trace(&self, _: Request<pb::TraceRequest>) -> Result<Response<TraceStream>, Status> {
        match &self.trace {
            Some(feed) => Ok(Response::new(feed.stream())),
            None => Err(Status::unimplemented("this branch runs inside the serving process: watch the lab instead")),
        }
    }
}

//! The `Branch` gRPC service: proto in, core input to the node, proto out.

use bank_proto as pb;
use bank_proto::branch_server::Branch as BranchRpc;
use tonic::{Request, Response, Status};

use crate::node::NodeHandle;
use crate::wire;

/// Serves one branch over gRPC by forwarding to its node.
#[derive(Clone, Debug)]
pub struct BranchService {
    node: NodeHandle,
}

impl BranchService {
    pub fn new(node: NodeHandle) -> Self {
        BranchService { node }
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
        let propagation = wire::propagation_from_proto(request.into_inner())?;
        let ack = self.node.propagate(propagation).await?;
        Ok(Response::new(wire::ack_to_proto(&ack)))
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
}

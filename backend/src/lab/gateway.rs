//! The `Branch` service on the web origin, for the browser as a customer.
//!
//! A browser can only reach the origin it was served from, not the branch
//! servers' own ports. This service accepts the very same `CustomerRequest`
//! a scripted customer sends and forwards it, as a real gRPC call, to the
//! branch named in `branch_id`, reporting the request and its answer to the
//! lab so the visualizer draws them.

use bank_core::BranchId;
use bank_proto as pb;
use bank_proto::branch_client::BranchClient;
use bank_proto::branch_server::Branch as BranchRpc;
use tonic::{Request, Response, Status};

use crate::lab::Lab;
use crate::observe::Activity;
use crate::wire;

/// Forwards browser customer requests into the lab's cluster.
#[derive(Clone, Debug)]
pub struct Gateway {
    lab: Lab,
}

impl Gateway {
    pub fn new(lab: Lab) -> Self {
        Gateway { lab }
    }
}

#[tonic::async_trait]
impl BranchRpc for Gateway {
    async fn request(&self, request: Request<pb::CustomerRequest>) -> Result<Response<pb::CustomerReply>, Status> {
        let message = request.into_inner();
        let core_request = wire::request_from_proto(message.clone())?;
        let route = self.lab.customer_route().await.ok_or_else(|| Status::failed_precondition("no scenario is loaded"))?;
        let channel = route.channels.get(&BranchId(message.branch_id)).cloned().ok_or_else(|| {
            let ids: Vec<String> = route.channels.keys().map(|b| b.0.to_string()).collect();
            Status::not_found(format!("there is no branch {} (branches: {})", message.branch_id, ids.join(", ")))
        })?;
        let _ = route.activity.send(Activity::Sent { session: 0, from_browser: true, request: core_request.clone() });
        let reply = BranchClient::new(channel).request(message).await?.into_inner();
        let core_reply = wire::reply_from_proto(reply.clone(), core_request.customer)?;
        let _ = route.activity.send(Activity::Answered { session: 0, from_browser: true, reply: core_reply });
        Ok(Response::new(reply))
    }

    async fn propagate(&self, _: Request<pb::Propagation>) -> Result<Response<pb::PropagationAck>, Status> {
        Err(Status::permission_denied("the lab's web origin accepts customer requests only; branches propagate among themselves"))
    }

    async fn propagate_batch(&self, _: Request<pb::PropagationBatch>) -> Result<Response<pb::PropagationAcks>, Status> {
        Err(Status::permission_denied("the lab's web origin accepts customer requests only; branches propagate among themselves"))
    }

    async fn pull(&self, _: Request<pb::PullRequest>) -> Result<Response<pb::PullReply>, Status> {
        Err(Status::unimplemented("anti-entropy runs between branches, not through the lab's origin"))
    }

    async fn inspect(&self, _: Request<pb::InspectRequest>) -> Result<Response<pb::BranchState>, Status> {
        Err(Status::unimplemented("watch the lab instead: every branch's state is in its events"))
    }

    async fn reset(&self, _: Request<pb::ResetRequest>) -> Result<Response<pb::ResetReply>, Status> {
        Err(Status::permission_denied("the lab's web origin accepts customer requests only; restart the scenario with the lab's reset"))
    }

    type TraceStream = crate::branch::trace_feed::TraceStream;

    async fn trace(&self, _: Request<pb::TraceRequest>) -> Result<Response<Self::TraceStream>, Status> {
        Err(Status::unimplemented("watch the lab instead: every branch's state is in its events"))
    }
}

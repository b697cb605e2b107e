//! The `Customer` service on the web origin, for the browser as a customer.
//!
//! A browser can only reach the origin it was served from, not the branch
//! servers' own ports. This service accepts the very same `CustomerRequest`
//! a scripted customer sends and forwards it, as a real gRPC call, to the
//! branch named in `branch_id` of the lab named in the `x-lab-id` header
//! (its owner only: a follower is refused), reporting the request and its
//! answer to that lab so the visualizer draws them. It is the only branch service the web
//! origin serves: replicas and drivers talk to the branches' own ports.

use bank_core::branch::{Reply, Request as CoreRequest};
use bank_core::BranchId;
use bank_proto as pb;
use bank_proto::customer_client::CustomerClient;
use bank_proto::customer_server::Customer;
use tonic::{Request, Response, Status};

use crate::lab::registry::Labs;
use crate::observe::Activity;

/// Forwards browser customer requests into their lab's cluster.
#[derive(Clone, Debug)]
pub struct Gateway {
    labs: Labs,
}

impl Gateway {
    pub fn new(labs: Labs) -> Self {
        Gateway { labs }
    }
}

#[tonic::async_trait]
impl Customer for Gateway {
    async fn request(
        &self,
        request: Request<pb::CustomerRequest>,
    ) -> Result<Response<pb::CustomerReply>, Status> {
        let access = self.labs.access(request.metadata())?;
        let lab = access.owner("send customer requests")?;
        let message = request.into_inner();
        let core_request = CoreRequest::try_from(&message)?;
        let route = lab
            .customer_route()
            .await
            .ok_or_else(|| Status::failed_precondition("no scenario is loaded"))?;
        let channel =
            route.channels.get(&BranchId(message.branch_id)).cloned().ok_or_else(|| {
                let ids: Vec<String> = route.channels.keys().map(|b| b.0.to_string()).collect();
                Status::not_found(format!(
                    "there is no branch {} (branches: {})",
                    message.branch_id,
                    ids.join(", ")
                ))
            })?;
        let sent = Activity::Sent { session: 0, from_browser: true, request: core_request.clone() };
        let _ = route.activity.send(sent);
        let branch = message.branch_id;
        let (reply, core_reply) = match CustomerClient::new(channel).request(message).await {
            Ok(reply) => {
                let reply = reply.into_inner();
                let core_reply = Reply::try_from(&reply)?;
                (reply, core_reply)
            }
            // The lab's branch does not answer: it was crashed. The customer
            // records the failure, as a scripted one does and as the page's
            // simulator says it.
            Err(status) if status.code() == tonic::Code::Unavailable => {
                let why = format!("branch {branch} is down (it does not answer)");
                let core_reply = Reply::unanswered(&core_request, why);
                (pb::CustomerReply::from(&core_reply), core_reply)
            }
            Err(status) => return Err(status),
        };
        let answered = Activity::Answered { session: 0, from_browser: true, reply: core_reply };
        let _ = route.activity.send(answered);
        Ok(Response::new(reply))
    }
}

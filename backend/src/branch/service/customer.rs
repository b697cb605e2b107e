//! The `Customer` service of one branch: a customer's request, answered by
//! the branch's node.

use bank_core::branch::Request as CoreRequest;
use bank_proto as pb;
use bank_proto::customer_server::Customer;
use tonic::{Request, Response, Status};

use crate::branch::node::NodeHandle;

/// Serves one branch's customers by forwarding to its node.
#[derive(Clone, Debug)]
pub struct CustomerService {
    node: NodeHandle,
}

impl CustomerService {
    pub fn new(node: NodeHandle) -> Self {
        CustomerService { node }
    }
}

#[tonic::async_trait]
impl Customer for CustomerService {
    async fn request(
        &self,
        request: Request<pb::CustomerRequest>,
    ) -> Result<Response<pb::CustomerReply>, Status> {
        let request = CoreRequest::try_from(request.get_ref())?;
        let reply = self.node.request(request).await?;
        Ok(Response::new(pb::CustomerReply::from(&reply)))
    }
}

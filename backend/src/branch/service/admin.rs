//! The `Admin` service of one branch: what the programs that run it ask of
//! it (its state, a fresh start for a new run, its live log).

use bank_core::RunSettings;
use bank_proto as pb;
use bank_proto::admin_server::Admin;
use tonic::{Request, Response, Status};

use crate::branch::node::NodeHandle;
use crate::branch::trace_feed::{TraceFeed, TraceStream};

/// Serves one branch's drivers by forwarding to its node.
#[derive(Clone, Debug)]
pub struct AdminService {
    node: NodeHandle,
    /// Set for a branch running as its own process (`Admin.Trace`).
    trace: Option<TraceFeed>,
}

impl AdminService {
    pub fn new(node: NodeHandle) -> Self {
        AdminService { node, trace: None }
    }

    /// Also serve `Admin.Trace` from `feed`.
    pub fn with_trace(mut self, feed: TraceFeed) -> Self {
        self.trace = Some(feed);
        self
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn inspect(
        &self,
        request: Request<pb::InspectRequest>,
    ) -> Result<Response<pb::BranchState>, Status> {
        let request = request.into_inner();
        let record = self.node.inspect_with(request.wait_until_quiet, request.brief).await?;
        Ok(Response::new(pb::BranchState::from(&record)))
    }

    async fn reset(
        &self,
        request: Request<pb::ResetRequest>,
    ) -> Result<Response<pb::ResetReply>, Status> {
        let settings = RunSettings::try_from(request.get_ref())?;
        let peers = self.node.reset(settings).await?;
        Ok(Response::new(pb::ResetReply {
            branch_id: self.node.id().0,
            peers: peers.iter().map(|p| p.0).collect(),
        }))
    }

    type TraceStream = TraceStream;

    async fn trace(&self, _: Request<pb::TraceRequest>) -> Result<Response<TraceStream>, Status> {
        match &self.trace {
            Some(feed) => Ok(Response::new(feed.stream())),
            None => Err(Status::unimplemented(
                "this branch runs inside the serving process: watch the lab instead",
            )),
        }
    }
}

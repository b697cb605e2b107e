//! The `Replica` service of one branch: writes its peers propagate to it,
//! and their anti-entropy pulls.
//!
//! Both calls carry the sender's run epoch in the `bank-epoch` header
//! ([`EPOCH_HEADER`]); the node refuses writes of another run, and answers a
//! pull from another run with nothing.
//!
//! What a peer sends is checked by the branch before anything of it is
//! applied (see [`bank_core::branch::peers`]); a refused message answers
//! `PERMISSION_DENIED` (a stranger, or a write outside the bank),
//! `INVALID_ARGUMENT` (an impossible write, too many at once) or
//! `RESOURCE_EXHAUSTED` (busy: retry), with a message naming the write.

use bank_core::branch::{Propagation, MAX_BATCH_WRITES};
use bank_core::{BranchId, WriteSet};
use bank_proto as pb;
use bank_proto::replica_server::Replica;
use tonic::{Request, Response, Status};

use crate::branch::link::EPOCH_HEADER;
use crate::branch::node::NodeHandle;

/// Serves one branch's peers by forwarding to its node.
#[derive(Clone, Debug)]
pub struct ReplicaService {
    node: NodeHandle,
}

impl ReplicaService {
    pub fn new(node: NodeHandle) -> Self {
        ReplicaService { node }
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
impl Replica for ReplicaService {
    async fn propagate_batch(
        &self,
        request: Request<pb::PropagationBatch>,
    ) -> Result<Response<pb::PropagationAcks>, Status> {
        let epoch = epoch_of(&request)?;
        let count = request.get_ref().writes.len();
        if count > MAX_BATCH_WRITES {
            // Refused before converting them; the branch checks the rest.
            tracing::warn!(branch = self.node.id().0, writes = count, "refused an oversized batch");
            return Err(Status::invalid_argument(format!(
                "branch {} refuses a batch of {count} writes: at most {MAX_BATCH_WRITES} per message",
                self.node.id().0
            )));
        }
        let writes = request
            .get_ref()
            .writes
            .iter()
            .map(Propagation::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let acks = self.node.propagate_all(writes, epoch).await?;
        let acks = acks.iter().map(pb::PropagationAck::from).collect();
        Ok(Response::new(pb::PropagationAcks { acks }))
    }

    async fn pull(
        &self,
        request: Request<pb::PullRequest>,
    ) -> Result<Response<pb::PullReply>, Status> {
        let epoch = epoch_of(&request)?;
        let request = request.into_inner();
        // An absent set is the empty one: the caller has nothing yet.
        let have = match request.have.as_ref() {
            Some(set) => bank_proto::convert::checked_write_set(set, "PullRequest.have")?,
            None => WriteSet::new(),
        };
        let from = BranchId(request.from_branch);
        let writes = self.node.pull(from, have, request.answer_back, epoch).await?;
        let writes = writes.iter().map(pb::Propagation::from).collect();
        Ok(Response::new(pb::PullReply { writes }))
    }
}

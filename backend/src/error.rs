//! Error types of the native side, and their one mapping to gRPC statuses.

use tonic::Status;

/// A wire message that cannot be turned into a core value.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("unknown operation {0} (expected deposit, withdraw or query)")]
    UnknownOperation(i32),
    #[error("unknown log kind {0}")]
    UnknownLogKind(i32),
    #[error("negative amount {0} cents")]
    NegativeAmount(i64),
    #[error("a query cannot be propagated")]
    QueryPropagated,
    #[error("missing field `{0}`")]
    MissingField(&'static str),
}

/// The branch task is gone (the cluster is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("branch {0} is shutting down")]
pub struct NodeGone(pub u64);

impl From<WireError> for Status {
    fn from(e: WireError) -> Status {
        Status::invalid_argument(e.to_string())
    }
}

impl From<NodeGone> for Status {
    fn from(e: NodeGone) -> Status {
        Status::unavailable(e.to_string())
    }
}

/// A failure while running a scenario against a cluster.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not start branch {branch} on {addr}: {source}")]
    Bind { branch: u64, addr: String, source: std::io::Error },
    #[error("{branch}: {status}")]
    Rpc { branch: String, status: Status },
    #[error("{0}")]
    Wire(#[from] WireError),
    #[error("invalid address {0}")]
    Address(String),
    #[error("the run was cancelled")]
    Cancelled,
}

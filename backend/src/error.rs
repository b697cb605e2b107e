//! Error types of the native side, and their one mapping to gRPC statuses.
//!
//! (A malformed wire message is a [`bank_proto::ConvertError`]; bank-proto
//! maps it to `INVALID_ARGUMENT` itself.)

use tonic::Status;

/// The branch task is gone (the cluster is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("branch {0} is shutting down")]
pub struct NodeGone(pub u64);

impl From<NodeGone> for Status {
    fn from(e: NodeGone) -> Status {
        Status::unavailable(e.to_string())
    }
}

/// A failure while running a scenario against a cluster.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    // The OS's reason is in the message, not a `source`: printed with its
    // chain (`{:#}`), it was said twice.
    #[error("could not start branch {branch} on {addr}: {error}")]
    Bind { branch: u64, addr: String, error: std::io::Error },
    #[error("{branch}: {status}")]
    Rpc { branch: String, status: Status },
    /// A branch answered with a message that does not read as core values.
    #[error("{0}")]
    Wire(#[from] bank_proto::ConvertError),
    #[error("invalid address {0}")]
    Address(String),
    #[error("the run was cancelled")]
    Cancelled,
    /// An external cluster that does not fit the run (`--cluster`).
    #[error("{0}")]
    Cluster(String),
    #[error("branch {branch} cannot open its store {path}: {source}")]
    Store { branch: u64, path: String, source: std::io::Error },
}

/// A propagated write a node did not take.
#[derive(Debug, thiserror::Error)]
pub enum PropagateError {
    #[error(transparent)]
    Gone(#[from] NodeGone),
    /// The sender and this branch were reset into different runs (see
    /// `bank_core::RunSettings`): the write belongs to another run.
    #[error("branch {branch} is in epoch {ours}, the write is from epoch {theirs}")]
    OtherEpoch { branch: u64, ours: u64, theirs: u64 },
    /// The message broke the rules of `bank_core::branch::peers` (a
    /// stranger, an impossible write, too much at once): nothing applied.
    #[error(transparent)]
    Refused(#[from] bank_core::branch::PeerRefusal),
    /// The branch could not store the write, so it did not apply it; the
    /// sender tries again later (the message names the branch and file).
    #[error("{0}")]
    NotStored(String),
}

impl From<PropagateError> for Status {
    fn from(e: PropagateError) -> Status {
        match e {
            PropagateError::Gone(gone) => gone.into(),
            PropagateError::OtherEpoch { .. } => Status::failed_precondition(e.to_string()),
            PropagateError::Refused(r) if r.is_forbidden() => {
                Status::permission_denied(r.to_string())
            }
            PropagateError::Refused(r) if r.is_transient() => {
                Status::resource_exhausted(r.to_string())
            }
            PropagateError::Refused(r) => Status::invalid_argument(r.to_string()),
            // Unavailable: a state that passes; the sender's link retries.
            PropagateError::NotStored(why) => Status::unavailable(why),
        }
    }
}

/// A bad cluster file, address or TLS set-up (`bank branch`, `--cluster`).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    ClusterFile(#[from] crate::cluster::file::ClusterFileError),
    #[error(transparent)]
    Transport(#[from] crate::net::transport::TransportError),
    #[error(transparent)]
    Token(#[from] crate::net::auth::TokenError),
    #[error("{0}")]
    Invalid(String),
}

//! `customer.proto`: a customer's request and the branch's reply.

use bank_core::branch::Reply;
use bank_core::{
    BranchId, Cents, CustomerId, EventId, FailReason, Outcome, Request, WriteId, WriteSet,
};

use super::types::{guarantees_or_course, op, write_set, MAX_WRITE_SET_PARTS};
use super::{enum_field, ConvertError, WireEnum};
use crate::v1 as pb;

impl From<&Request> for pb::CustomerRequest {
    fn from(r: &Request) -> pb::CustomerRequest {
        pb::CustomerRequest {
            customer_id: r.customer.0,
            event_id: r.event.0,
            branch_id: r.branch.0,
            operation: pb::Operation::from(r.op.kind()).into(),
            amount_cents: r.op.amount().0,
            clock: r.clock,
            session: Some(pb::Session {
                write_set: Vec::new(),
                writes: Some((&r.write_set).into()),
                read_set: Some((&r.read_set).into()),
                guarantees: Some(r.guarantees.into()),
            }),
        }
    }
}

/// An absent session is a fresh one; absent guarantees are the course's.
impl TryFrom<&pb::CustomerRequest> for Request {
    type Error = ConvertError;
    fn try_from(r: &pb::CustomerRequest) -> Result<Request, ConvertError> {
        let session = r.session.as_ref();
        Ok(Request {
            customer: CustomerId(r.customer_id),
            event: EventId(r.event_id),
            branch: BranchId(r.branch_id),
            op: op(
                r.operation,
                r.amount_cents,
                "CustomerRequest.operation",
                "CustomerRequest.amount_cents",
            )?,
            clock: r.clock,
            guarantees: guarantees_or_course(session.and_then(|s| s.guarantees)),
            write_set: match session {
                Some(s) => {
                    let mut set = write_set(s.writes.as_ref(), "Session.writes")?;
                    if s.write_set.len() > MAX_WRITE_SET_PARTS {
                        let parts = s.write_set.len();
                        return Err(ConvertError::WriteSetTooLarge {
                            field: "Session.write_set",
                            parts,
                        });
                    }
                    for w in &s.write_set {
                        set.insert(WriteId::from(*w));
                    }
                    set
                }
                None => WriteSet::new(),
            },
            read_set: write_set(session.and_then(|s| s.read_set.as_ref()), "Session.read_set")?,
        })
    }
}

impl From<&FailReason> for pb::Failure {
    /// Without the balance (the reply sets it: it is the outcome's).
    fn from(reason: &FailReason) -> pb::Failure {
        pb::Failure {
            reason: pb::FailureReason::from(reason).into(),
            message: reason.to_string(),
            balance_cents: 0,
            requested_cents: match reason {
                FailReason::InsufficientFunds { requested, .. }
                | FailReason::BalanceLimit { requested, .. } => requested.0,
                _ => 0,
            },
        }
    }
}

/// The reason a `Failure` names. The details of an invalid request, an
/// unready session or a storage failure travel in its `message`.
impl TryFrom<&pb::Failure> for FailReason {
    type Error = ConvertError;
    fn try_from(f: &pb::Failure) -> Result<FailReason, ConvertError> {
        let reason =
            pb::FailureReason::try_from(f.reason).map_err(|_| ConvertError::UnknownValue {
                what: pb::FailureReason::WHAT,
                field: "Failure.reason",
                value: f.reason,
                expected: pb::FailureReason::EXPECTED,
            })?;
        Ok(match reason {
            pb::FailureReason::InsufficientFunds => FailReason::InsufficientFunds {
                requested: Cents(f.requested_cents),
                balance: Cents(f.balance_cents),
            },
            pb::FailureReason::BalanceLimit => FailReason::BalanceLimit {
                requested: Cents(f.requested_cents),
                balance: Cents(f.balance_cents),
            },
            pb::FailureReason::WrongBranch => FailReason::WrongBranch,
            pb::FailureReason::NotReady => FailReason::NotReady(f.message.clone()),
            pb::FailureReason::StorageFailed => FailReason::StorageFailed(f.message.clone()),
            pb::FailureReason::Unavailable => FailReason::Unavailable(f.message.clone()),
            pb::FailureReason::InvalidRequest => {
                // The message is the reason's sentence: take its details back out.
                let message = &f.message;
                let why = message.strip_prefix(FailReason::INVALID_PREFIX).unwrap_or(message);
                FailReason::Invalid(why.to_owned())
            }
            pb::FailureReason::Unspecified => {
                return Err(ConvertError::Unspecified {
                    field: "Failure.reason",
                    expected: pb::FailureReason::EXPECTED,
                })
            }
        })
    }
}

impl From<&Reply> for pb::CustomerReply {
    fn from(r: &Reply) -> pb::CustomerReply {
        let result = match &r.outcome {
            Outcome::Success { balance } => pb::customer_reply::Result::Success(pb::Success {
                balance_cents: balance.0,
                write: r.write.map(pb::WriteId::from),
                observed: r.observed.as_ref().map(pb::WriteSet::from),
            }),
            Outcome::Failed { reason, balance } => {
                pb::customer_reply::Result::Failure(pb::Failure {
                    balance_cents: balance.0,
                    ..pb::Failure::from(reason)
                })
            }
        };
        pb::CustomerReply {
            branch_id: r.branch.0,
            event_id: r.event.0,
            operation: pb::Operation::from(r.op).into(),
            result: Some(result),
            clock: r.clock,
            customer_id: r.customer.0,
        }
    }
}

/// A failed reply carries no write and no observed set.
impl TryFrom<&pb::CustomerReply> for Reply {
    type Error = ConvertError;
    fn try_from(r: &pb::CustomerReply) -> Result<Reply, ConvertError> {
        let result = r.result.as_ref().ok_or(ConvertError::MissingField("CustomerReply.result"))?;
        let (outcome, write, observed) = match result {
            pb::customer_reply::Result::Success(s) => (
                Outcome::Success { balance: Cents(s.balance_cents) },
                s.write.map(WriteId::from),
                s.observed.as_ref().map(WriteSet::from),
            ),
            pb::customer_reply::Result::Failure(f) => {
                let reason = FailReason::try_from(f)?;
                (Outcome::Failed { reason, balance: Cents(f.balance_cents) }, None, None)
            }
        };
        Ok(Reply {
            branch: BranchId(r.branch_id),
            customer: CustomerId(r.customer_id),
            event: EventId(r.event_id),
            op: enum_field::<pb::Operation, _>(r.operation, "CustomerReply.operation")?,
            outcome,
            write,
            observed,
            clock: r.clock,
        })
    }
}

//! Where the browser's proto messages and core types meet: the conversions
//! its customer session needs (requests out, replies in, write sets and
//! guarantees).
//!
//! The page talks proto (`bank_proto`) to the server and keeps its own
//! customer session as a core [`bank_core::Session`]; nothing else in the
//! frontend converts between the two. These are the backend's conversions,
//! written once more for the browser until the shared `From` / `TryFrom`
//! impls of `bank-proto` replace this file.
//!
//! The write-set conversions are plain loops on purpose: `map(..).collect()`
//! over a write set's iterators cost the gzipped wasm about 0.7 KB more.

use bank_core::branch::Reply;
use bank_core::{
    BranchId, Cents, CustomerId, EventId, FailReason, Guarantees, OpKind, Outcome, Request,
    WriteId, WriteSet,
};
use bank_proto as pb;
use thiserror::Error;

/// Why a proto message is not a core value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("unknown operation {0}")]
    UnknownOperation(i32),
    #[error("the message has no `{0}`")]
    MissingField(&'static str),
}

pub fn op_kind_to_proto(kind: OpKind) -> pb::Operation {
    match kind {
        OpKind::Deposit => pb::Operation::Deposit,
        OpKind::Withdraw => pb::Operation::Withdraw,
        OpKind::Query => pb::Operation::Query,
    }
}

pub fn op_kind_from_proto(raw: i32) -> Result<OpKind, WireError> {
    match pb::Operation::try_from(raw) {
        Ok(pb::Operation::Deposit) => Ok(OpKind::Deposit),
        Ok(pb::Operation::Withdraw) => Ok(OpKind::Withdraw),
        Ok(pb::Operation::Query) => Ok(OpKind::Query),
        _ => Err(WireError::UnknownOperation(raw)),
    }
}

pub fn write_id_to_proto(w: WriteId) -> pb::WriteId {
    pb::WriteId { origin_branch: w.origin.0, seq: w.seq }
}

pub fn write_id_from_proto(w: &pb::WriteId) -> WriteId {
    WriteId { origin: BranchId(w.origin_branch), seq: w.seq }
}

/// Every write of `set`, one by one (how a request lists its session's writes).
pub fn write_ids_to_proto(set: &WriteSet) -> Vec<pb::WriteId> {
    let mut ids = Vec::new();
    for w in set.iter() {
        ids.push(write_id_to_proto(w));
    }
    ids
}

pub fn write_set_to_proto(set: &WriteSet) -> pb::WriteSet {
    let mut origins = Vec::new();
    for (origin, o) in set.parts() {
        let extra = Vec::from_iter(o.extra.iter().copied());
        origins.push(pb::OriginWrites { origin_branch: origin.0, prefix: o.prefix, extra });
    }
    pb::WriteSet { origins }
}

pub fn write_set_from_proto(set: &pb::WriteSet) -> WriteSet {
    let mut writes = WriteSet::new();
    for o in &set.origins {
        writes.insert_origin(BranchId(o.origin_branch), o.prefix, &o.extra);
    }
    writes
}

pub fn guarantees_to_proto(g: Guarantees) -> pb::Guarantees {
    pb::Guarantees {
        read_your_writes: g.read_your_writes,
        monotonic_reads: g.monotonic_reads,
        writes_follow_reads: g.writes_follow_reads,
        monotonic_writes: g.monotonic_writes,
    }
}

/// The guarantees a loaded scenario runs with, from the name the server
/// gives them (`all`, `none`, `ryw,mw`); an empty name (not set) is the
/// course's. `None` if the name is not one.
pub fn scenario_guarantees(summary: &pb::ScenarioSummary) -> Option<Guarantees> {
    match summary.guarantees.trim() {
        "" => Some(Guarantees::COURSE),
        name => name.parse().ok(),
    }
}

/// A core request as the `Branch.Request` message (the session travels
/// with it: write set, read set, guarantees).
pub fn request_to_proto(r: &Request) -> pb::CustomerRequest {
    pb::CustomerRequest {
        customer_id: r.customer.0,
        event_id: r.event.0,
        branch_id: r.branch.0,
        operation: op_kind_to_proto(r.op.kind()) as i32,
        amount_cents: r.op.amount().0,
        clock: r.clock,
        session: Some(pb::Session {
            write_set: write_ids_to_proto(&r.write_set),
            read_set: Some(write_set_to_proto(&r.read_set)),
            guarantees: Some(guarantees_to_proto(r.guarantees)),
        }),
    }
}

/// A branch's answer as the core sees it. `customer` is not on the wire
/// reply: the caller knows who it is.
pub fn reply_from_proto(r: &pb::CustomerReply, customer: CustomerId) -> Result<Reply, WireError> {
    let result = r.result.as_ref().ok_or(WireError::MissingField("result"))?;
    let (outcome, write, observed) = match result {
        pb::customer_reply::Result::Success(s) => (
            Outcome::Success { balance: Cents(s.balance_cents) },
            s.write.as_ref().map(write_id_from_proto),
            s.observed.as_ref().map(write_set_from_proto),
        ),
        pb::customer_reply::Result::Failure(f) => {
            let balance = Cents(f.balance_cents);
            let reason = match pb::FailureReason::try_from(f.reason) {
                // The requested amount is not on the wire; the message says it.
                Ok(pb::FailureReason::InsufficientFunds) => {
                    FailReason::InsufficientFunds { requested: Cents::ZERO, balance }
                }
                Ok(pb::FailureReason::WrongBranch) => FailReason::WrongBranch,
                Ok(pb::FailureReason::NotReady) => FailReason::NotReady(f.message.clone()),
                _ => FailReason::Invalid(f.message.clone()),
            };
            (Outcome::Failed { reason, balance }, None, None)
        }
    };
    Ok(Reply {
        branch: BranchId(r.branch_id),
        customer,
        event: EventId(r.event_id),
        op: op_kind_from_proto(r.operation)?,
        outcome,
        write,
        observed,
        clock: r.clock,
    })
}

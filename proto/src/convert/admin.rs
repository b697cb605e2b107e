//! `admin.proto`: a branch's state as `Inspect` answers it, with the writes
//! it applied (also the records of a branch's durable store).

use bank_core::branch::Applied;
use bank_core::{BranchId, BranchRecord, Cents, CustomerId, EventId, LogEntry, StoredWrite};

use super::types::{customer_writes, op, write_id, write_set};
use super::ConvertError;
use crate::v1 as pb;

impl From<&Applied> for pb::AppliedWrite {
    fn from(a: &Applied) -> pb::AppliedWrite {
        let w = &a.write;
        pb::AppliedWrite {
            write: Some(w.write.into()),
            customer_id: w.customer.0,
            event_id: w.event.0,
            operation: pb::Operation::from(w.op.kind()).into(),
            amount_cents: w.op.amount().0,
            depends_on: Some((&w.depends_on).into()),
            clock: w.clock,
            balance_after_cents: a.balance_after.0,
        }
    }
}

impl TryFrom<&pb::AppliedWrite> for Applied {
    type Error = ConvertError;
    fn try_from(a: &pb::AppliedWrite) -> Result<Applied, ConvertError> {
        Ok(Applied {
            write: StoredWrite {
                write: write_id(a.write, "AppliedWrite.write")?,
                customer: CustomerId(a.customer_id),
                event: EventId(a.event_id),
                op: op(
                    a.operation,
                    a.amount_cents,
                    "AppliedWrite.operation",
                    "AppliedWrite.amount_cents",
                )?,
                depends_on: write_set(a.depends_on.as_ref()),
                clock: a.clock,
            },
            balance_after: Cents(a.balance_after_cents),
        })
    }
}

impl From<&BranchRecord> for pb::BranchState {
    fn from(r: &BranchRecord) -> pb::BranchState {
        pb::BranchState {
            branch_id: r.id.0,
            balance_cents: r.balance.0,
            clock: r.clock,
            write_sets: customer_writes(&r.write_sets),
            log: r.log.iter().map(pb::LogEntry::from).collect(),
            applied: r.applied.iter().map(pb::AppliedWrite::from).collect(),
        }
    }
}

impl TryFrom<&pb::BranchState> for BranchRecord {
    type Error = ConvertError;
    fn try_from(s: &pb::BranchState) -> Result<BranchRecord, ConvertError> {
        Ok(BranchRecord {
            id: BranchId(s.branch_id),
            balance: Cents(s.balance_cents),
            clock: s.clock,
            write_sets: s
                .write_sets
                .iter()
                .map(<(CustomerId, Vec<EventId>)>::from)
                .collect(),
            log: s
                .log
                .iter()
                .map(LogEntry::try_from)
                .collect::<Result<_, _>>()?,
            applied: s
                .applied
                .iter()
                .map(Applied::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

//! `admin.proto`: a branch's state as `Inspect` answers it, with the writes
//! it applied (also the records of a branch's durable store), and the run
//! settings a `Reset` starts a branch process over with.

use bank_core::branch::{Applied, RunSettings};
use bank_core::{BranchId, BranchRecord, Cents, CustomerId, EventId, LogEntry, StoredWrite};

use super::types::{customer_writes, op, write_id, write_set};
use super::{enum_field, ConvertError};
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
            // Only in a store's clock reservations (see AppliedWrite's docs).
            clock_reserved: 0,
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
                depends_on: write_set(a.depends_on.as_ref(), "AppliedWrite.depends_on")?,
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
            write_sets: s.write_sets.iter().map(<(CustomerId, Vec<EventId>)>::from).collect(),
            log: s.log.iter().map(LogEntry::try_from).collect::<Result<_, _>>()?,
            applied: s.applied.iter().map(Applied::try_from).collect::<Result<_, _>>()?,
        })
    }
}

impl From<&RunSettings> for pb::ResetRequest {
    fn from(run: &RunSettings) -> pb::ResetRequest {
        pb::ResetRequest {
            balance_cents: run.balance.0,
            clock_scheme: pb::ClockScheme::from(run.clock_scheme).into(),
            propagation: pb::PropagationMode::from(run.propagation).into(),
            epoch: run.epoch,
        }
    }
}

/// A reset names its run: the balance must not be negative, the clock
/// scheme and propagation mode must be given, and the epoch must not be 0
/// (0 is "no epoch said" on the wire).
impl TryFrom<&pb::ResetRequest> for RunSettings {
    type Error = ConvertError;
    fn try_from(r: &pb::ResetRequest) -> Result<RunSettings, ConvertError> {
        if r.balance_cents < 0 {
            return Err(ConvertError::NegativeAmount {
                field: "ResetRequest.balance_cents",
                cents: r.balance_cents,
            });
        }
        if r.balance_cents > Cents::MAX.0 {
            return Err(ConvertError::AmountTooLarge {
                field: "ResetRequest.balance_cents",
                cents: r.balance_cents,
            });
        }
        if r.epoch == 0 {
            return Err(ConvertError::MissingField("ResetRequest.epoch"));
        }
        Ok(RunSettings {
            balance: Cents(r.balance_cents),
            clock_scheme: enum_field::<pb::ClockScheme, _>(
                r.clock_scheme,
                "ResetRequest.clock_scheme",
            )?,
            propagation: enum_field::<pb::PropagationMode, _>(
                r.propagation,
                "ResetRequest.propagation",
            )?,
            epoch: r.epoch,
        })
    }
}

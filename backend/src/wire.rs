//! Conversions between the wire messages (`bank_proto`) and the core types.
//!
//! The only module where both worlds meet: everything else speaks either
//! proto (the tonic services and clients) or core (the state machine).
//! Incoming messages are validated here, so the core only sees well-formed
//! values.

use std::collections::BTreeMap;

use bank_core::branch::{Applied, Propagation, PropagationAck, Reply, Request};
use bank_core::{
    BranchId, BranchRecord, Cents, CustomerId, EventId, FailReason, Guarantees, LogEntry, LogKind, Op, OpKind, Outcome, StoredWrite,
    WriteId, WriteSet,
};
use bank_proto as pb;

use crate::error::WireError;

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

fn op_from_proto(raw: i32, amount_cents: i64) -> Result<Op, WireError> {
    let kind = op_kind_from_proto(raw)?;
    if kind != OpKind::Query && amount_cents < 0 {
        return Err(WireError::NegativeAmount(amount_cents));
    }
    Ok(Op::from_kind(kind, Cents(amount_cents)))
}

fn write_id_to_proto(w: WriteId) -> pb::WriteId {
    pb::WriteId { origin_branch: w.origin.0, seq: w.seq }
}

fn write_id_from_proto(w: &pb::WriteId) -> WriteId {
    WriteId { origin: BranchId(w.origin_branch), seq: w.seq }
}

pub fn write_set_to_proto(set: &WriteSet) -> pb::WriteSet {
    pb::WriteSet {
        origins: set
            .parts()
            .map(|(origin, o)| pb::OriginWrites { origin_branch: origin.0, prefix: o.prefix, extra: o.extra.iter().copied().collect() })
            .collect(),
    }
}

pub fn write_set_from_proto(set: Option<&pb::WriteSet>) -> WriteSet {
    let Some(set) = set else { return WriteSet::new() };
    WriteSet::from_parts(set.origins.iter().map(|o| (BranchId(o.origin_branch), o.prefix, o.extra.clone())))
}

pub fn guarantees_to_proto(g: Guarantees) -> pb::Guarantees {
    pb::Guarantees {
        read_your_writes: g.read_your_writes,
        monotonic_reads: g.monotonic_reads,
        writes_follow_reads: g.writes_follow_reads,
        monotonic_writes: g.monotonic_writes,
    }
}

pub fn guarantees_from_proto(g: Option<&pb::Guarantees>) -> Guarantees {
    match g {
        None => Guarantees::COURSE,
        Some(g) => Guarantees {
            read_your_writes: g.read_your_writes,
            monotonic_reads: g.monotonic_reads,
            writes_follow_reads: g.writes_follow_reads,
            monotonic_writes: g.monotonic_writes,
        },
    }
}

pub fn request_to_proto(r: &Request) -> pb::CustomerRequest {
    pb::CustomerRequest {
        customer_id: r.customer.0,
        event_id: r.event.0,
        branch_id: r.branch.0,
        operation: op_kind_to_proto(r.op.kind()) as i32,
        amount_cents: r.op.amount().0,
        clock: r.clock,
        session: Some(pb::Session {
            write_set: r.write_set.iter().map(write_id_to_proto).collect(),
            read_set: Some(write_set_to_proto(&r.read_set)),
            guarantees: Some(guarantees_to_proto(r.guarantees)),
        }),
    }
}

pub fn request_from_proto(r: pb::CustomerRequest) -> Result<Request, WireError> {
    Ok(Request {
        customer: CustomerId(r.customer_id),
        event: EventId(r.event_id),
        branch: BranchId(r.branch_id),
        op: op_from_proto(r.operation, r.amount_cents)?,
        clock: r.clock,
        guarantees: guarantees_from_proto(r.session.as_ref().and_then(|s| s.guarantees.as_ref())),
        write_set: r.session.as_ref().map(|s| s.write_set.iter().map(write_id_from_proto).collect()).unwrap_or_default(),
        read_set: write_set_from_proto(r.session.as_ref().and_then(|s| s.read_set.as_ref())),
    })
}

fn failure_reason_to_proto(reason: &FailReason) -> pb::FailureReason {
    match reason {
        FailReason::InsufficientFunds { .. } => pb::FailureReason::InsufficientFunds,
        FailReason::WrongBranch => pb::FailureReason::WrongBranch,
        FailReason::Invalid(_) => pb::FailureReason::InvalidRequest,
        FailReason::NotReady(_) => pb::FailureReason::NotReady,
    }
}

pub fn reply_to_proto(r: &Reply) -> pb::CustomerReply {
    let result = match &r.outcome {
        Outcome::Success { balance } => pb::customer_reply::Result::Success(pb::Success {
            balance_cents: balance.0,
            write: r.write.map(write_id_to_proto),
            observed: r.observed.as_ref().map(write_set_to_proto),
        }),
        Outcome::Failed { reason, balance } => pb::customer_reply::Result::Failure(pb::Failure {
            reason: failure_reason_to_proto(reason) as i32,
            message: reason.to_string(),
            balance_cents: balance.0,
        }),
    };
    pb::CustomerReply {
        branch_id: r.branch.0,
        event_id: r.event.0,
        operation: op_kind_to_proto(r.op) as i32,
        result: Some(result),
        clock: r.clock,
    }
}

/// `customer` is not on the wire reply: the caller knows who it is.
pub fn reply_from_proto(r: pb::CustomerReply, customer: CustomerId) -> Result<Reply, WireError> {
    let (outcome, write, observed) = match r.result.ok_or(WireError::MissingField("result"))? {
        pb::customer_reply::Result::Success(s) => (
            Outcome::Success { balance: Cents(s.balance_cents) },
            s.write.as_ref().map(write_id_from_proto),
            s.observed.as_ref().map(|o| write_set_from_proto(Some(o))),
        ),
        pb::customer_reply::Result::Failure(f) => {
            let balance = Cents(f.balance_cents);
            let reason = match pb::FailureReason::try_from(f.reason) {
                // The requested amount is not on the wire; the message says it.
                Ok(pb::FailureReason::InsufficientFunds) => FailReason::InsufficientFunds { requested: Cents::ZERO, balance },
                Ok(pb::FailureReason::WrongBranch) => FailReason::WrongBranch,
                Ok(pb::FailureReason::NotReady) => FailReason::NotReady(f.message),
                _ => FailReason::Invalid(f.message),
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

pub fn propagation_to_proto(p: &Propagation) -> pb::Propagation {
    pb::Propagation {
        from_branch: p.from.0,
        write: Some(write_id_to_proto(p.write)),
        customer_id: p.customer.0,
        event_id: p.event.0,
        operation: op_kind_to_proto(p.op.kind()) as i32,
        amount_cents: p.op.amount().0,
        depends_on: Some(write_set_to_proto(&p.depends_on)),
        clock: p.clock,
    }
}

pub fn propagation_from_proto(p: pb::Propagation) -> Result<Propagation, WireError> {
    let op = op_from_proto(p.operation, p.amount_cents)?;
    if !op.is_write() {
        return Err(WireError::QueryPropagated);
    }
    Ok(Propagation {
        from: BranchId(p.from_branch),
        write: write_id_from_proto(p.write.as_ref().ok_or(WireError::MissingField("write"))?),
        customer: CustomerId(p.customer_id),
        event: EventId(p.event_id),
        op,
        depends_on: write_set_from_proto(p.depends_on.as_ref()),
        clock: p.clock,
    })
}

pub fn ack_to_proto(a: &PropagationAck) -> pb::PropagationAck {
    pb::PropagationAck {
        from_branch: a.from.0,
        write: Some(write_id_to_proto(a.write)),
        newly_applied: a.newly_applied,
        clock: a.clock,
    }
}

pub fn ack_from_proto(a: pb::PropagationAck) -> Result<PropagationAck, WireError> {
    Ok(PropagationAck {
        from: BranchId(a.from_branch),
        write: write_id_from_proto(a.write.as_ref().ok_or(WireError::MissingField("write"))?),
        newly_applied: a.newly_applied,
        clock: a.clock,
    })
}

fn log_kind_to_proto(kind: LogKind) -> pb::LogKind {
    match kind {
        LogKind::Request => pb::LogKind::Request,
        LogKind::Execute => pb::LogKind::Execute,
        LogKind::PropagateSent => pb::LogKind::PropagateSent,
        LogKind::PropagateReceived => pb::LogKind::PropagateReceived,
        LogKind::PropagateExecuted => pb::LogKind::PropagateExecuted,
        LogKind::PropagateAcked => pb::LogKind::PropagateAcked,
        LogKind::Response => pb::LogKind::Response,
    }
}

fn log_kind_from_proto(raw: i32) -> Result<LogKind, WireError> {
    Ok(match pb::LogKind::try_from(raw) {
        Ok(pb::LogKind::Request) => LogKind::Request,
        Ok(pb::LogKind::Execute) => LogKind::Execute,
        Ok(pb::LogKind::PropagateSent) => LogKind::PropagateSent,
        Ok(pb::LogKind::PropagateReceived) => LogKind::PropagateReceived,
        Ok(pb::LogKind::PropagateExecuted) => LogKind::PropagateExecuted,
        Ok(pb::LogKind::PropagateAcked) => LogKind::PropagateAcked,
        Ok(pb::LogKind::Response) => LogKind::Response,
        _ => return Err(WireError::UnknownLogKind(raw)),
    })
}

pub fn log_entry_to_proto(e: &LogEntry) -> pb::LogEntry {
    pb::LogEntry {
        clock: e.clock,
        kind: log_kind_to_proto(e.kind) as i32,
        customer_id: e.customer.0,
        event_id: e.event.0,
        operation: op_kind_to_proto(e.op) as i32,
        amount_cents: e.amount.0,
        peer: e.peer.map(|p| p.0).unwrap_or(0),
        balance_cents: e.balance.map(|b| b.0),
        failed: e.failed,
    }
}

pub fn log_entry_from_proto(e: &pb::LogEntry) -> Result<LogEntry, WireError> {
    Ok(LogEntry {
        clock: e.clock,
        kind: log_kind_from_proto(e.kind)?,
        customer: CustomerId(e.customer_id),
        event: EventId(e.event_id),
        op: op_kind_from_proto(e.operation)?,
        amount: Cents(e.amount_cents),
        peer: (e.peer != 0).then_some(BranchId(e.peer)),
        balance: e.balance_cents.map(Cents),
        failed: e.failed,
    })
}

pub fn branch_state_to_proto(r: &BranchRecord) -> pb::BranchState {
    pb::BranchState {
        branch_id: r.id.0,
        balance_cents: r.balance.0,
        clock: r.clock,
        write_sets: write_sets_to_proto(&r.write_sets),
        log: r.log.iter().map(log_entry_to_proto).collect(),
        applied: r.applied.iter().map(applied_to_proto).collect(),
    }
}

pub fn applied_to_proto(a: &Applied) -> pb::AppliedWrite {
    let w = &a.write;
    pb::AppliedWrite {
        write: Some(write_id_to_proto(w.write)),
        customer_id: w.customer.0,
        event_id: w.event.0,
        operation: op_kind_to_proto(w.op.kind()) as i32,
        amount_cents: w.op.amount().0,
        depends_on: Some(write_set_to_proto(&w.depends_on)),
        clock: w.clock,
        balance_after_cents: a.balance_after.0,
    }
}

pub fn applied_from_proto(a: &pb::AppliedWrite) -> Result<Applied, WireError> {
    Ok(Applied {
        write: StoredWrite {
            write: write_id_from_proto(a.write.as_ref().ok_or(WireError::MissingField("write"))?),
            customer: CustomerId(a.customer_id),
            event: EventId(a.event_id),
            op: op_from_proto(a.operation, a.amount_cents)?,
            depends_on: write_set_from_proto(a.depends_on.as_ref()),
            clock: a.clock,
        },
        balance_after: Cents(a.balance_after_cents),
    })
}

pub fn branch_state_from_proto(s: pb::BranchState) -> Result<BranchRecord, WireError> {
    let write_sets: BTreeMap<CustomerId, Vec<EventId>> = s
        .write_sets
        .iter()
        .map(|w| (CustomerId(w.customer_id), w.event_ids.iter().map(|e| EventId(*e)).collect()))
        .collect();
    Ok(BranchRecord {
        id: BranchId(s.branch_id),
        balance: Cents(s.balance_cents),
        clock: s.clock,
        write_sets,
        log: s.log.iter().map(log_entry_from_proto).collect::<Result<_, _>>()?,
        applied: s.applied.iter().map(applied_from_proto).collect::<Result<_, _>>()?,
    })
}

// ------------------------------------------------------------------ the lab

/// What the browser needs to know about a loaded scenario.
pub fn scenario_summary(
    name: &str,
    scenario: &bank_core::Scenario,
    format: bank_core::formats::OutputFormat,
    schedule: bank_core::Schedule,
) -> pb::ScenarioSummary {
    pb::ScenarioSummary {
        name: name.to_owned(),
        branches: scenario.branches.iter().map(|b| pb::BranchInfo { id: b.id.0, balance_cents: b.balance.0 }).collect(),
        customers: scenario
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| pb::CustomerInfo {
                session: i as u32,
                customer_id: c.id.0,
                events: c
                    .events
                    .iter()
                    .map(|e| pb::ScriptedEvent {
                        event_id: e.id.0,
                        operation: op_kind_to_proto(e.op.kind()) as i32,
                        amount_cents: e.op.amount().0,
                        branch_id: e.branch.0,
                    })
                    .collect(),
            })
            .collect(),
        format: format.as_str().to_owned(),
        schedule: schedule.as_str().to_owned(),
        warnings: scenario.warnings.clone(),
        ..Default::default()
    }
}

fn write_sets_to_proto(write_sets: &BTreeMap<CustomerId, Vec<EventId>>) -> Vec<pb::CustomerWrites> {
    write_sets
        .iter()
        .map(|(c, events)| pb::CustomerWrites { customer_id: c.0, event_ids: events.iter().map(|e| e.0).collect() })
        .collect()
}

/// The lab history event for one piece of activity; `None` for `RunEnded`,
/// which the lab turns into a `Finished` event itself (it needs the format).
pub fn activity_to_lab_event(activity: &crate::observe::Activity) -> Option<pb::lab_event::Event> {
    use crate::observe::Activity;
    Some(match activity {
        Activity::Logged { branch, entry, balance, added_writes } => pb::lab_event::Event::BranchLogged(pb::BranchLogged {
            branch_id: branch.0,
            entry: Some(log_entry_to_proto(entry)),
            balance_cents: balance.0,
            added_writes: write_sets_to_proto(added_writes),
        }),
        Activity::Sent { session, from_browser, request } => pb::lab_event::Event::CustomerSent(pb::CustomerSent {
            session: *session,
            from_browser: *from_browser,
            request: Some(request_to_proto(request)),
        }),
        Activity::Answered { session, from_browser, reply } => {
            pb::lab_event::Event::CustomerAnswered(pb::CustomerAnswered {
                session: *session,
                from_browser: *from_browser,
                customer_id: reply.customer.0,
                reply: Some(reply_to_proto(reply)),
            })
        }
        Activity::RunEnded(_) => return None,
    })
}

// ------------------------------------------- branches as separate processes

/// A `Branch.Reset` request for `reset`.
pub fn reset_to_proto(reset: &bank_core::RunSettings) -> pb::ResetRequest {
    use bank_core::branch::PropagationMode;
    use bank_core::ClockScheme;
    pb::ResetRequest {
        balance_cents: reset.balance.0,
        clock_scheme: match reset.clock_scheme {
            ClockScheme::ExecuteAndRespond => pb::ClockScheme::ExecuteAndRespond,
            ClockScheme::SendAndReceive => pb::ClockScheme::SendAndReceive,
        } as i32,
        propagation: match reset.propagation {
            PropagationMode::Sequential => pb::PropagationMode::Sequential,
            PropagationMode::Parallel => pb::PropagationMode::Parallel,
            PropagationMode::Background => pb::PropagationMode::Background,
        } as i32,
        epoch: reset.epoch,
    }
}

pub fn reset_from_proto(r: &pb::ResetRequest) -> Result<bank_core::RunSettings, WireError> {
    use bank_core::branch::PropagationMode;
    use bank_core::ClockScheme;
    if r.balance_cents < 0 {
        return Err(WireError::NegativeAmount(r.balance_cents));
    }
    if r.epoch == 0 {
        return Err(WireError::MissingField("epoch"));
    }
    Ok(bank_core::RunSettings {
        balance: Cents(r.balance_cents),
        clock_scheme: match pb::ClockScheme::try_from(r.clock_scheme) {
            Ok(pb::ClockScheme::ExecuteAndRespond) => ClockScheme::ExecuteAndRespond,
            Ok(pb::ClockScheme::SendAndReceive) => ClockScheme::SendAndReceive,
            _ => return Err(WireError::MissingField("clock_scheme")),
        },
        propagation: match pb::PropagationMode::try_from(r.propagation) {
            Ok(pb::PropagationMode::Sequential) => PropagationMode::Sequential,
            Ok(pb::PropagationMode::Parallel) => PropagationMode::Parallel,
            Ok(pb::PropagationMode::Background) => PropagationMode::Background,
            _ => return Err(WireError::MissingField("propagation")),
        },
        epoch: r.epoch,
    })
}

/// A branch process's traced entry, as the activity an in-process node
/// would have reported.
pub fn logged_from_proto(l: &pb::BranchLogged) -> Result<crate::observe::Activity, WireError> {
    let entry = l.entry.as_ref().ok_or(WireError::MissingField("entry"))?;
    Ok(crate::observe::Activity::Logged {
        branch: BranchId(l.branch_id),
        entry: log_entry_from_proto(entry)?,
        balance: Cents(l.balance_cents),
        added_writes: l
            .added_writes
            .iter()
            .map(|w| (CustomerId(w.customer_id), w.event_ids.iter().map(|e| EventId(*e)).collect()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_the_round_trip() {
        let w = WriteId { origin: BranchId(2), seq: 7 };
        let request = Request {
            customer: CustomerId(3),
            event: EventId(9),
            branch: BranchId(2),
            op: Op::Withdraw(Cents(40050)),
            clock: 4,
            guarantees: Guarantees::ALL,
            write_set: [w].into_iter().collect(),
            read_set: [w, WriteId { origin: BranchId(1), seq: 3 }].into_iter().collect(),
        };
        assert_eq!(request_from_proto(request_to_proto(&request)).unwrap(), request);

        let reply = Reply {
            branch: BranchId(2),
            customer: CustomerId(3),
            event: EventId(9),
            op: OpKind::Withdraw,
            outcome: Outcome::Success { balance: Cents(10) },
            write: Some(w),
            observed: Some([w].into_iter().collect()),
            clock: 11,
        };
        assert_eq!(reply_from_proto(reply_to_proto(&reply), CustomerId(3)).unwrap(), reply);

        let p = Propagation {
            from: BranchId(2),
            write: w,
            customer: CustomerId(3),
            event: EventId(9),
            op: Op::Deposit(Cents(5)),
            depends_on: [w].into_iter().collect(),
            clock: 12,
        };
        assert_eq!(propagation_from_proto(propagation_to_proto(&p)).unwrap(), p);
    }

    #[test]
    fn malformed_messages_are_refused() {
        let mut r = request_to_proto(&Request {
            customer: CustomerId(1),
            event: EventId(1),
            branch: BranchId(1),
            op: Op::Deposit(Cents(1)),
            clock: 1,
            guarantees: Guarantees::COURSE,
            write_set: WriteSet::new(),
            read_set: WriteSet::new(),
        });
        r.amount_cents = -5;
        assert!(matches!(request_from_proto(r.clone()), Err(WireError::NegativeAmount(-5))));
        r.operation = 0;
        assert!(matches!(request_from_proto(r), Err(WireError::UnknownOperation(0))));
    }
}


use super::*;
use crate::clock::ClockStep;
use crate::ids::{CustomerId, EventId};
use crate::money::Cents;

/// An entry at a branch whose clock was 3, receiving (if it receives) a message stamped 5.
fn entry(scheme: ClockScheme, kind: LogKind, op: OpKind) -> LogEntry {
    let step = ClockStep::compute(scheme.rule_for(kind, op), 3, 5);
    LogEntry {
        clock: step.result,
        step,
        write: None,
        kind,
        customer: CustomerId(1),
        event: EventId(7),
        op,
        amount: Cents::units(10),
        peer: matches!(
            kind,
            LogKind::PropagateSent
                | LogKind::PropagateReceived
                | LogKind::PropagateExecuted
                | LogKind::PropagateAcked
        )
        .then_some(BranchId(3)),
        balance: None,
        failed: false,
    }
}

fn said(scheme: ClockScheme, kind: LogKind, op: OpKind) -> String {
    explain(scheme, BranchId(2), &entry(scheme, kind, op)).to_string()
}

#[test]
fn every_p2b_rule_is_explained_with_its_numbers() {
    let s = ClockScheme::SendAndReceive;
    let recv =
        "p2b rule: event_recv takes the larger of the branch's clock and the message's, plus one";
    let quiet = "no tick, the clock stays 3 (p2b rule: only event_recv and event_sent count)";
    let expected = [
        (LogKind::Request, format!("deposit request from customer 1 received at branch 2: max(local 3, message 5) + 1 = 6 ({recv})")),
        (LogKind::Execute, format!("deposit executed at branch 2: {quiet}")),
        (LogKind::PropagateSent, "propagation of the deposit sent to branch 3 at branch 2: local 3 + 1 = 4 (p2b rule: event_sent ticks the clock by one)".to_owned()),
        (LogKind::PropagateReceived, format!("propagated deposit received from branch 3 at branch 2: max(local 3, message 5) + 1 = 6 ({recv})")),
        (LogKind::PropagateExecuted, format!("propagated deposit from branch 3 applied at branch 2: {quiet}")),
        (LogKind::PropagateAcked, format!("branch 3's acknowledgement received at branch 2: {quiet}")),
        (LogKind::Response, format!("answer to customer 1 at branch 2: {quiet}")),
    ];
    for (kind, text) in expected {
        assert_eq!(said(s, kind, OpKind::Deposit), text, "{kind:?}");
    }
    // Generation B counts a query's receive like any other.
    assert_eq!(
        said(s, LogKind::Request, OpKind::Query),
        format!("query request from customer 1 received at branch 2: max(local 3, message 5) + 1 = 6 ({recv})")
    );
}

#[test]
fn every_p2a_rule_is_explained_with_its_numbers() {
    let s = ClockScheme::ExecuteAndRespond;
    let recv = |name: &str| {
        format!(
            "p2a rule: {name} takes the larger of the branch's clock and the message's, plus one"
        )
    };
    let tick = |name: &str| format!("p2a rule: {name} ticks the clock by one");
    let expected = [
        (LogKind::Request, format!("deposit request from customer 1 received at branch 2: max(local 3, message 5) + 1 = 6 ({})", recv("deposit_request"))),
        (LogKind::Execute, format!("deposit executed at branch 2: local 3 + 1 = 4 ({})", tick("deposit_execute"))),
        (LogKind::PropagateSent, "propagation of the deposit sent to branch 3 at branch 2: no tick, the clock stays 3 (p2a rule: a sent propagation does not count, the message carries the clock)".to_owned()),
        (LogKind::PropagateReceived, format!("propagated deposit received from branch 3 at branch 2: max(local 3, message 5) + 1 = 6 ({})", recv("deposit_propagate_request"))),
        (LogKind::PropagateExecuted, format!("propagated deposit from branch 3 applied at branch 2: local 3 + 1 = 4 ({})", tick("deposit_propagate_execute"))),
        (LogKind::PropagateAcked, format!("branch 3's acknowledgement received at branch 2: max(local 3, message 5) + 1 = 6 ({})", recv("deposit_propagate_response"))),
        (LogKind::Response, format!("answer to customer 1 at branch 2: local 3 + 1 = 4 ({})", tick("deposit_response"))),
    ];
    for (kind, text) in expected {
        assert_eq!(said(s, kind, OpKind::Deposit), text, "{kind:?}");
    }
    // Generation A ignores queries entirely.
    for kind in LogKind::ALL {
        assert!(
            said(s, kind, OpKind::Query)
                .ends_with("no tick, the clock stays 3 (p2a rule: queries do not count)"),
            "{kind:?}: {}",
            said(s, kind, OpKind::Query)
        );
    }
}

#[test]
fn a_receive_behind_the_local_clock_still_ticks() {
    let s = ClockScheme::SendAndReceive;
    let mut e = entry(s, LogKind::PropagateReceived, OpKind::Withdraw);
    e.step = ClockStep::compute(ClockRule::Receive, 9, 2);
    e.clock = e.step.result;
    let x = explain(s, BranchId(4), &e);
    assert_eq!(
        x.formula,
        "propagated withdraw received from branch 3 at branch 4: max(local 9, message 2) + 1 = 10"
    );
    assert_eq!(x.step, e.step);
}

#[test]
fn the_explanation_reads_the_branchs_own_numbers() {
    // A step the rule would not give (a hand-made entry): the explanation
    // reports what is recorded, it does not recompute.
    let s = ClockScheme::SendAndReceive;
    let mut e = entry(s, LogKind::PropagateSent, OpKind::Deposit);
    e.step = ClockStep { rule: ClockRule::Local, local: 41, message: None, result: 42 };
    e.clock = 42;
    assert!(explain(s, BranchId(2), &e).formula.ends_with("local 41 + 1 = 42"));
}

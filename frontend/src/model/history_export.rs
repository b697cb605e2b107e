//! The run on the page as a `bank check` history file
//! ([`bank_core::History`], the format `bank run --history` writes), so that
//! `bank check FILE` finds the violations the page shows.
//!
//! Built from the trace alone: each scripted session's requests and
//! answers (in issue order, by the customer's clock, as
//! [`History::from_record`] orders them), and each branch's apply order
//! with its write ids ([`Applied`]). Requests not answered (yet) are left
//! out, since a history holds answered operations only; the browser's own
//! requests are not a session of the scenario, so they are left out of the
//! sessions (the lab's checker leaves them out too), but the writes they
//! made are in the branches' apply orders, where they happened.

use bank_core::branch::Reply;
use bank_core::history::{BranchHistory, OpRecord, SessionHistory, HISTORY_FORMAT};
use bank_core::Request;
use bank_core::{BranchId, Cents, CustomerId, History, Outcome};
use bank_proto::convert::guarantees_or_course;
use bank_proto::lab_event::Event;

use super::applied::Applied;
use super::trace::Trace;

/// The history of `trace` (every event recorded so far). `None` before a
/// scenario is loaded.
pub fn history(trace: &Trace) -> Option<History> {
    let scenario = trace.scenario()?;
    let default = guarantees_or_course(scenario.guarantees);
    let mut customers = scenario.customers.clone();
    customers.sort_by_key(|c| c.session);
    // Per session: (customer clock, op) in the order answered.
    let mut ops: Vec<Vec<(u64, OpRecord)>> = vec![Vec::new(); customers.len()];
    let mut sent: Vec<(u32, Request)> = Vec::new();
    let mut applied = Applied::with_orders();
    let mut balances: Vec<(BranchId, Cents)> =
        scenario.branches.iter().map(|b| (BranchId(b.id), Cents(b.balance_cents))).collect();
    for event in trace.events() {
        applied.apply(event);
        match &event.event {
            Some(Event::CustomerSent(s)) if !s.from_browser => {
                if let Some(request) = s.request.as_ref().and_then(|r| Request::try_from(r).ok()) {
                    sent.push((s.session, request));
                }
            }
            Some(Event::CustomerAnswered(a)) if !a.from_browser => {
                let Some(reply) = a.reply.as_ref().and_then(|r| Reply::try_from(r).ok()) else {
                    continue;
                };
                let Some(at) = sent.iter().position(|(session, r)| {
                    *session == a.session && r.event == reply.event && r.customer == reply.customer
                }) else {
                    continue;
                };
                let (session, request) = sent.remove(at);
                let Some(slot) = customers.iter().position(|c| c.session == session) else {
                    continue;
                };
                let error = match &reply.outcome {
                    Outcome::Failed { reason, .. } => Some(reason.to_string()),
                    Outcome::Success { .. } => None,
                };
                ops[slot].push((
                    request.clock,
                    OpRecord {
                        event: reply.event,
                        branch: reply.branch,
                        op: request.op.kind(),
                        amount: request.op.amount(),
                        ok: reply.outcome.is_success(),
                        balance: reply.outcome.balance(),
                        write: reply.write,
                        observed: reply.observed.clone(),
                        error,
                    },
                ));
            }
            Some(Event::BranchLogged(logged)) => {
                let id = BranchId(logged.branch_id);
                match balances.iter_mut().find(|(b, _)| *b == id) {
                    Some((_, balance)) => *balance = Cents(logged.balance_cents),
                    None => balances.push((id, Cents(logged.balance_cents))),
                }
            }
            _ => {}
        }
    }
    let sessions = customers
        .iter()
        .zip(ops)
        .map(|(c, mut ops)| {
            ops.sort_by_key(|(clock, _)| *clock);
            let own = scenario
                .customer_guarantees
                .iter()
                .find(|g| g.customer_id == c.customer_id)
                .map(|g| guarantees_or_course(g.guarantees));
            SessionHistory {
                customer: CustomerId(c.customer_id),
                guarantees: own.unwrap_or(default),
                ops: ops.into_iter().map(|(_, op)| op).collect(),
            }
        })
        .collect();
    balances.sort_by_key(|(b, _)| *b);
    let branches = balances
        .into_iter()
        .map(|(id, balance)| BranchHistory {
            id,
            balance,
            applied: applied
                .orders()
                .find(|(b, _)| *b == id)
                .map(|(_, order)| order.to_vec())
                .unwrap_or_default(),
        })
        .collect();
    Some(History { format: HISTORY_FORMAT.to_owned(), sessions, branches })
}

/// [`history`] as the text of a history file.
pub fn history_json(trace: &Trace) -> Option<String> {
    history(trace).map(|h| h.to_json())
}

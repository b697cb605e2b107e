//! Project 2 generation A: the `pid` lists and the `eventid` lists.
//!
//! Generation A counts every step of a write (its clock rules are in
//! [`crate::clock`]): at the branch that took it from the customer
//! `op_request`, `op_execute`, one `op_propagate_response` per other
//! branch and `op_response` (missing in some years' outputs, so optional);
//! at every other branch `op_propagate_request` then
//! `op_propagate_execute`. Whatever the interleaving:
//!
//! * each branch's clocks strictly increase in its own list, and its steps
//!   of one write come in that order;
//! * every write is received once by every other branch (a withdraw that
//!   was refused is propagated nowhere);
//! * receives follow the rule `max(local, message) + 1`: a propagation
//!   leaves its origin after the execute, so its receive is later than the
//!   execute's clock; a response leaves the peer after its execute, so the
//!   origin's responses are later than the peers' executes (matched in
//!   clock order); the request is later than the customer's send (≥ 1);
//! * each `eventid` list holds exactly the entries of that write from the
//!   `pid` lists, in clock order.

use std::collections::{BTreeMap, BTreeSet};

use super::answers::{self, Implied};
use crate::grade::event::{step_kind, EventRef};
use crate::grade::normalize::{Normal, Step, StepEntry, StepList};
use crate::grade::problem::{Problem, ProblemKind};
use crate::log::LogKind;
use crate::op::OpKind;
use crate::scenario::{CustomerScript, Scenario, ScriptEvent};

fn entry_subject(branch: u64, e: &StepEntry) -> String {
    format!("branch {branch}, event {} ({})", e.event, e.step.name(e.op))
}

pub fn check(scenario: &Scenario, normal: &Normal) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut writes: BTreeMap<u64, (&CustomerScript, &ScriptEvent)> = BTreeMap::new();
    for c in &scenario.customers {
        for e in c.events.iter().filter(|e| e.op.is_write()) {
            writes.entry(e.id.0).or_insert((c, e));
        }
    }
    let branches: BTreeSet<u64> = scenario.branches.iter().map(|b| b.id.0).collect();
    // (event, branch) -> that branch's entries for it, with the clock of
    // the branch's previous entry.
    let mut at: BTreeMap<(u64, u64), Vec<(&StepEntry, u64)>> = BTreeMap::new();
    let listed: BTreeSet<u64> = normal.p2a_branches.iter().map(|l| l.id).collect();
    for list in &normal.p2a_branches {
        let b = list.id;
        if !branches.contains(&b) {
            out.push(Problem::new(
                ProblemKind::ExtraAnswer,
                Some(list.place.clone()),
                format!("branch {b}"),
                "the input has no such branch",
            ));
        }
        let mut previous = 0;
        for (i, e) in list.entries.iter().enumerate() {
            let subject = entry_subject(b, e);
            if i > 0 && e.clock <= previous {
                out.push(Problem::new(ProblemKind::ClockNotIncreasing, Some(e.place.key("clock")), &subject, format!("clock {}, expected > {previous} (the previous entry's): a branch's clock only moves forward", e.clock)));
            }
            let local = previous;
            previous = previous.max(e.clock);
            let Some((_, write)) = writes.get(&e.event) else {
                out.push(Problem::new(
                    ProblemKind::ExtraAnswer,
                    Some(e.place.key("id")),
                    &subject,
                    "the input has no write event with this id",
                ));
                continue;
            };
            if e.op != write.op.kind() {
                out.push(Problem::new(
                    ProblemKind::Malformed,
                    Some(e.place.key("name")),
                    &subject,
                    format!("event {} is a {}", e.event, write.op.kind()),
                ));
            }
            let origin = write.branch.0;
            let origin_step = matches!(
                e.step,
                Step::Request | Step::Execute | Step::PropagateResponse | Step::Response
            );
            if origin_step != (b == origin) {
                let message = if origin_step {
                    format!("only the branch that took the write from its customer (branch {origin}) records this step")
                } else {
                    format!("branch {origin} took this write from its customer: it does not receive it as a propagation")
                };
                out.push(Problem::new(
                    ProblemKind::WrongSender,
                    Some(e.place.key("name")),
                    &subject,
                    message,
                ));
                continue;
            }
            if e.step == Step::Request && e.clock > local && e.clock < local.max(1) + 1 {
                out.push(Problem::new(ProblemKind::ReceiveRule, Some(e.place.key("clock")), &subject, format!("clock {}, expected ≥ {}: the receive rule max(local {local}, message ≥ 1) + 1 was not applied", e.clock, local.max(1) + 1)));
            }
            at.entry((e.event, b)).or_default().push((e, local));
        }
    }

    let mut implied = Vec::new();
    for (&id, (customer, write)) in &writes {
        let origin = write.branch.0;
        if !listed.contains(&origin) {
            continue;
        }
        let mine = at.get(&(id, origin)).cloned().unwrap_or_default();
        let subject = format!(
            "branch {origin}, event {id} ({} from customer {})",
            write.op.kind(),
            customer.id.0
        );
        let steps = |list: &[(&StepEntry, u64)], s: Step| -> Vec<(StepEntry, u64)> {
            list.iter().filter(|(e, _)| e.step == s).map(|(e, l)| ((*e).clone(), *l)).collect()
        };
        let execute = steps(&mine, Step::Execute);
        for (step, optional) in
            [(Step::Request, false), (Step::Execute, false), (Step::Response, true)]
        {
            let found = steps(&mine, step);
            if found.is_empty() && !optional {
                out.push(
                    Problem::new(
                        ProblemKind::MissingAnswer,
                        None,
                        &subject,
                        format!("no {}", step.name(write.op.kind())),
                    )
                    .about(at_branch(origin, id, step_kind(step), None)),
                );
            }
            for (extra, _) in found.iter().skip(1) {
                out.push(Problem::new(
                    ProblemKind::ExtraAnswer,
                    Some(extra.place.clone()),
                    &subject,
                    format!("{} is recorded more than once", step.name(write.op.kind())),
                ));
            }
        }
        order(
            &mine,
            &[Step::Request, Step::Execute, Step::PropagateResponse, Step::Response],
            &subject,
            &mut out,
        );
        let peers: Vec<u64> = branches.iter().copied().filter(|b| *b != origin).collect();
        let propagated = peers.iter().any(|p| at.contains_key(&(id, *p)))
            || !steps(&mine, Step::PropagateResponse).is_empty();
        // A withdraw's result shows in whether it was propagated (with
        // every branch's list handed in, and someone to propagate to).
        let shown = execute.first().map(|(e, _)| e).or(mine.first().map(|(e, _)| *e));
        if let Some(entry) = shown.filter(|_| {
            write.op.kind() == OpKind::Withdraw
                && !peers.is_empty()
                && listed.len() == branches.len()
        }) {
            implied.push(Implied { event: id, succeeded: propagated, place: entry.place.clone() });
        }
        if !propagated && write.op.kind() == OpKind::Withdraw {
            continue; // refused: propagated nowhere
        }
        let mut peer_executes = Vec::new();
        for &p in &peers {
            if !listed.contains(&p) {
                continue;
            }
            let theirs = at.get(&(id, p)).cloned().unwrap_or_default();
            let peer_subject = format!(
                "branch {p}, event {id} ({}_propagate_request from branch {origin})",
                write.op.kind()
            );
            for step in [Step::PropagateRequest, Step::PropagateExecute] {
                let found = steps(&theirs, step);
                if found.is_empty() {
                    // The trace shows where it should have come from: the send.
                    out.push(
                        Problem::new(
                            ProblemKind::MissingPropagation,
                            None,
                            &peer_subject,
                            format!(
                                "no {} (every write reaches every other branch exactly once)",
                                step.name(write.op.kind())
                            ),
                        )
                        .about(at_branch(
                            origin,
                            id,
                            LogKind::PropagateSent,
                            Some(p),
                        )),
                    );
                }
                for (extra, _) in found.iter().skip(1) {
                    out.push(Problem::new(ProblemKind::DuplicatePropagation, Some(extra.place.clone()), &peer_subject, format!("{} is recorded more than once (every write reaches every other branch exactly once)", step.name(write.op.kind()))));
                }
            }
            order(
                &theirs,
                &[Step::PropagateRequest, Step::PropagateExecute],
                &peer_subject,
                &mut out,
            );
            if let (Some((received, local)), Some((executed, _))) =
                (steps(&theirs, Step::PropagateRequest).first(), execute.first())
            {
                let needed = (*local).max(executed.clock) + 1;
                if received.clock < needed && received.clock > *local {
                    out.push(Problem::new(ProblemKind::ReceiveRule, Some(received.place.key("clock")), &peer_subject, format!(
                        "clock {}, expected ≥ {needed}: the receive rule max(local {local}, message ≥ {}) + 1 was not applied (branch {origin} sent it after its execute at clock {})",
                        received.clock, executed.clock, executed.clock
                    )));
                }
            }
            if let Some((done, _)) = steps(&theirs, Step::PropagateExecute).first() {
                peer_executes.push(done.clock);
            }
        }
        let mut responses = steps(&mine, Step::PropagateResponse);
        if listed.len() == branches.len() && responses.len() < peers.len() {
            out.push(
                Problem::new(
                    ProblemKind::MissingPropagation,
                    None,
                    &subject,
                    format!(
                        "{} {}, expected one per other branch ({})",
                        responses.len(),
                        Step::PropagateResponse.name(write.op.kind()),
                        peers.len()
                    ),
                )
                .about(at_branch(origin, id, LogKind::Execute, None)),
            );
        }
        if responses.len() > peers.len() {
            for (extra, _) in responses.iter().skip(peers.len()) {
                out.push(Problem::new(
                    ProblemKind::DuplicatePropagation,
                    Some(extra.place.clone()),
                    &subject,
                    "one propagate_response too many (one per other branch)",
                ));
            }
        }
        // Each peer's execute is answered by one of the responses: match
        // them in clock order, each with the earliest response it allows.
        responses.sort_by_key(|(e, _)| e.clock);
        peer_executes.sort_unstable();
        let mut used = vec![false; responses.len()];
        for executed in &peer_executes {
            let fits = |(i, (r, _)): &(usize, &(StepEntry, u64))| !used[*i] && r.clock > *executed;
            if let Some((i, _)) = responses.iter().enumerate().find(fits) {
                used[i] = true;
                continue;
            }
            let Some(i) = used.iter().position(|u| !u) else { break };
            used[i] = true;
            let (response, local) = &responses[i];
            let needed = (*local).max(*executed) + 1;
            if response.clock > *local {
                out.push(Problem::new(ProblemKind::ReceiveRule, Some(response.place.key("clock")), &subject, format!(
                    "clock {}, expected ≥ {needed}: the receive rule max(local {local}, message ≥ {executed}) + 1 was not applied (the reply leaves a peer after its execute)",
                    response.clock
                )));
            }
        }
    }
    event_views(&normal.p2a_events, &normal.p2a_branches, &writes, &mut out);
    out.extend(answers::implied_results(scenario, &implied));
    out
}

/// A branch's steps of one write must come in `sequence` order.
fn order(list: &[(&StepEntry, u64)], sequence: &[Step], subject: &str, out: &mut Vec<Problem>) {
    let rank = |s: Step| sequence.iter().position(|x| *x == s).unwrap_or(0);
    for pair in list.windows(2) {
        let (a, b) = (pair[0].0, pair[1].0);
        if rank(b.step) < rank(a.step) {
            out.push(Problem::new(
                ProblemKind::WrongOrder,
                Some(b.place.clone()),
                subject,
                format!(
                    "{} comes after {}, but happens before it",
                    b.step.name(b.op),
                    a.step.name(a.op)
                ),
            ));
        }
    }
}

fn event_views(
    views: &[StepList],
    branches: &[StepList],
    writes: &BTreeMap<u64, (&CustomerScript, &ScriptEvent)>,
    out: &mut Vec<Problem>,
) {
    if views.is_empty() {
        return;
    }
    let mut logged: BTreeMap<u64, Vec<(Step, u64)>> = BTreeMap::new();
    for list in branches {
        for e in &list.entries {
            logged.entry(e.event).or_default().push((e.step, e.clock));
        }
    }
    let mut seen = BTreeSet::new();
    for view in views {
        let subject = format!("eventid {}", view.id);
        if !seen.insert(view.id) {
            out.push(Problem::new(
                ProblemKind::ExtraAnswer,
                Some(view.place.clone()),
                &subject,
                "listed more than once",
            ));
            continue;
        }
        if !writes.contains_key(&view.id) {
            out.push(Problem::new(
                ProblemKind::ExtraAnswer,
                Some(view.place.clone()),
                &subject,
                "the input has no write event with this id",
            ));
            continue;
        }
        for pair in view.entries.windows(2) {
            if pair[1].clock < pair[0].clock {
                out.push(Problem::new(
                    ProblemKind::WrongOrder,
                    Some(pair[1].place.clone()),
                    &subject,
                    format!(
                        "clock {} after clock {}: an eventid list is in clock order",
                        pair[1].clock, pair[0].clock
                    ),
                ));
            }
        }
        let mut left = logged.remove(&view.id).unwrap_or_default();
        for e in &view.entries {
            match left.iter().position(|x| *x == (e.step, e.clock)) {
                Some(i) => {
                    left.swap_remove(i);
                }
                None => out.push(Problem::new(
                    ProblemKind::PartsDisagree,
                    Some(e.place.clone()),
                    &subject,
                    format!("{} at clock {} is in no branch's list", e.step.name(e.op), e.clock),
                )),
            }
        }
        let op = writes[&view.id].1.op.kind();
        for (step, clock) in left {
            out.push(Problem::new(
                ProblemKind::PartsDisagree,
                Some(view.place.clone()),
                &subject,
                format!("misses {} at clock {} from the branch lists", step.name(op), clock),
            ));
        }
    }
    for id in writes.keys().filter(|id| !seen.contains(id) && logged.contains_key(id)) {
        out.push(Problem::new(
            ProblemKind::MissingAnswer,
            None,
            format!("event {id}"),
            "no eventid list for this write",
        ));
    }
}

/// The log entry of `kind` for write `event` at `branch`.
fn at_branch(branch: u64, event: u64, kind: LogKind, peer: Option<u64>) -> EventRef {
    EventRef::Branch { branch: Some(branch), event, kind, peer, clock: None }
}

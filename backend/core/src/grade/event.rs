//! Which event of a run a problem is about, in the run's own terms.
//!
//! A [`Place`] says where a problem is in the *file* (a JSON path, a line);
//! an [`EventRef`] says which *event* it is about: a customer's request or
//! answer, or one step of a request at a branch (the branch's log entry of
//! that kind). The browser's "Check a submission" panel follows it to the
//! event of the run on screen that produced the same line of output, so a
//! click on a problem shows that event.
//!
//! [`EventRef`] itself is defined with [`Problem`] (a leaf of the
//! module). Checks that know the event say so ([`Problem::about`]); every other
//! problem inside an item of the output (an answer, a branch's entry) gets
//! the event of that item from [`attach`], which reads the typed
//! submission the way the checks do: the k-th output object of a customer
//! id answers the k-th input entry of that id, its i-th answer the i-th
//! event.

use std::collections::BTreeMap;

use super::normalize::{ClockEvent, Comment, Normal, Side, Step};
pub use super::problem::EventRef;
use super::problem::{Place, Problem};
use crate::log::LogKind;
use crate::scenario::Scenario;

/// The log kind a generation A step is recorded as.
pub fn step_kind(step: Step) -> LogKind {
    match step {
        Step::Request => LogKind::Request,
        Step::Execute => LogKind::Execute,
        Step::PropagateRequest => LogKind::PropagateReceived,
        Step::PropagateExecute => LogKind::PropagateExecuted,
        Step::PropagateResponse => LogKind::PropagateAcked,
        Step::Response => LogKind::Response,
    }
}

/// The event a generation B entry records.
pub fn clock_event(e: &ClockEvent) -> EventRef {
    let branch = |kind, peer| EventRef::Branch {
        branch: Some(e.owner),
        event: e.request,
        kind,
        peer,
        clock: Some(e.clock),
    };
    match (e.side, e.comment) {
        (Side::Customer, _) => EventRef::CustomerSent { customer: e.owner, event: e.request },
        (Side::Branch, Comment::SentToBranch(peer)) => branch(LogKind::PropagateSent, Some(peer)),
        (Side::Branch, Comment::RecvFromBranch(peer)) => {
            branch(LogKind::PropagateReceived, Some(peer))
        }
        (Side::Branch, Comment::RecvFromCustomer(_) | Comment::SentFromCustomer(_)) => {
            branch(LogKind::Request, None)
        }
    }
}

/// Every item of the typed submission with the event it records.
pub fn items(scenario: &Scenario, normal: &Normal) -> Vec<(Place, EventRef)> {
    let mut out = Vec::new();
    // The k-th object (or answer group) of a customer id goes with the k-th
    // input entry of that id.
    let mut entries: BTreeMap<u64, Vec<&crate::scenario::CustomerScript>> = BTreeMap::new();
    for script in scenario.customers.iter().rev() {
        entries.entry(script.id.0).or_default().push(script);
    }
    let mut p1_entries = entries.clone();
    for list in &normal.p1 {
        let Some(script) = p1_entries.get_mut(&list.customer).and_then(Vec::pop) else {
            continue;
        };
        for (answer, event) in list.answers.iter().zip(&script.events) {
            let event = EventRef::CustomerAnswered { customer: list.customer, event: event.id.0 };
            out.push((answer.place.clone(), event));
        }
    }
    let mut p3_entries = entries.clone();
    for b in &normal.p3_balances {
        let Some(script) = p3_entries.get_mut(&b.customer).and_then(Vec::pop) else { continue };
        if let Some(last) = script.events.last() {
            let event = EventRef::CustomerAnswered { customer: b.customer, event: last.id.0 };
            out.push((b.place.clone(), event));
        }
    }
    // Per-event answers: the i-th answer of a customer id is the i-th of
    // its events (over all entries of that id, in input order).
    let mut events: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for script in &scenario.customers {
        events.entry(script.id.0).or_default().extend(script.events.iter().map(|e| e.id.0));
    }
    let mut taken: BTreeMap<u64, usize> = BTreeMap::new();
    for (customer, answer) in &normal.p3_events {
        let i = taken.entry(*customer).or_default();
        if let Some(&event) = events.get(customer).and_then(|ids| ids.get(*i)) {
            out.push((
                answer.place.clone(),
                EventRef::CustomerAnswered { customer: *customer, event },
            ));
        }
        *i += 1;
    }
    for list in &normal.p2a_branches {
        for e in &list.entries {
            let event = EventRef::Branch {
                branch: Some(list.id),
                event: e.event,
                kind: step_kind(e.step),
                peer: None,
                clock: Some(e.clock),
            };
            out.push((e.place.clone(), event));
        }
    }
    for list in &normal.p2a_events {
        for e in &list.entries {
            let event = EventRef::Branch {
                branch: None,
                event: list.id,
                kind: step_kind(e.step),
                peer: None,
                clock: Some(e.clock),
            };
            out.push((e.place.clone(), event));
        }
    }
    let lists = [&normal.p2b_customers, &normal.p2b_branches];
    for e in lists.into_iter().flatten().flatten().flat_map(|l| &l.events) {
        out.push((e.place.clone(), clock_event(e)));
    }
    for e in normal.p2b_all.iter().flatten() {
        out.push((e.place.clone(), clock_event(e)));
    }
    out
}

/// Gives each problem that names no event the event of the item it is in
/// (the deepest item whose path begins its place's).
pub fn attach(items: &[(Place, EventRef)], problems: &mut [Problem]) {
    for problem in problems.iter_mut().filter(|p| p.event.is_none()) {
        let Some(place) = &problem.place else { continue };
        problem.event = items
            .iter()
            .filter(|(item, _)| within(place, item))
            .max_by_key(|(item, _)| item.path.0.len())
            .map(|(_, event)| Box::new(*event));
    }
}

/// `place` is `item` or inside it.
fn within(place: &Place, item: &Place) -> bool {
    place.file == item.file
        && place.anchor == item.anchor
        && place.path.0.len() >= item.path.0.len()
        && place.path.0[..item.path.0.len()] == item.path.0[..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::problem::ProblemKind;

    #[test]
    fn a_problem_inside_an_item_gets_its_event_and_a_named_one_keeps_its_own() {
        let answer = Place::item(0, 0, 1).key("recv").at(2);
        let event = EventRef::CustomerAnswered { customer: 2, event: 7 };
        let other = EventRef::CustomerSent { customer: 1, event: 1 };
        let items = vec![(Place::item(0, 0, 1), other), (answer.clone(), event)];
        let mut problems = vec![
            Problem::new(ProblemKind::WrongBalance, Some(answer.key("balance")), "", ""),
            Problem::new(ProblemKind::MissingAnswer, None, "", "").about(other),
            Problem::new(ProblemKind::Differs, Some(Place::item(0, 0, 2)), "", ""),
            Problem::new(ProblemKind::Differs, Some(Place::item(0, 9, 1).key("id")), "", ""),
        ];
        attach(&items, &mut problems);
        assert_eq!(problems[0].event.as_deref(), Some(&event));
        assert_eq!(problems[1].event.as_deref(), Some(&other));
        assert_eq!(problems[2].event, None, "another item");
        assert_eq!(problems[3].event, None, "another line of a JSON Lines file");
    }

    #[test]
    fn generation_b_entries_name_their_log_entry() {
        let place = Place::item(0, 0, 0);
        let e = |side, comment| ClockEvent {
            side,
            owner: 2,
            request: 5,
            clock: 4,
            op: crate::op::OpKind::Deposit,
            propagate: true,
            comment,
            place: place.clone(),
        };
        assert_eq!(
            clock_event(&e(Side::Branch, Comment::RecvFromBranch(1))),
            EventRef::Branch {
                branch: Some(2),
                event: 5,
                kind: LogKind::PropagateReceived,
                peer: Some(1),
                clock: Some(4)
            }
        );
        assert_eq!(
            clock_event(&e(Side::Customer, Comment::SentFromCustomer(2))),
            EventRef::CustomerSent { customer: 2, event: 5 }
        );
    }
}

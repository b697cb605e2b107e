//! Project 2 generation B: the customer, branch and all-events lists.
//!
//! Whatever the interleaving of the customers, a legal run's lists obey:
//!
//! * every request is sent once by its customer, in the customer's order,
//!   with the customer's clock strictly increasing;
//! * its branch records one `event_recv from customer C`, then one
//!   `event_sent to branch X` for every other branch X, and every X records
//!   one `event_recv from branch <origin>`: the sender, never itself
//!   (a withdraw that failed is sent nowhere);
//! * each branch's clocks strictly increase in its own order, and every
//!   receive is later than its send by the receive rule
//!   `max(local, message) + 1`, where *local* is the clock of the branch's
//!   previous event and *message* the clock of the send (the customer's
//!   clock for a request);
//! * the lists of one submission agree: the all-events list holds exactly
//!   the customer and branch events (its order is not checked: the handout
//!   groups it by request and the course's grader sorts it by clock).
//!
//! A list handed in alone is checked alone; the branch and customer views
//! are then taken from the all-events list.

use std::collections::{BTreeMap, BTreeSet};

use super::answers::{self, Implied};
use crate::grade::event::EventRef;
use crate::grade::exact::show;
use crate::grade::normalize::{ClockEvent, ClockList, Comment, Normal, Side};
use crate::grade::problem::{Problem, ProblemKind};
use crate::log::LogKind;
use crate::op::OpKind;
use crate::scenario::{CustomerScript, Scenario, ScriptEvent};

/// A request of the input: its customer entry and event.
#[derive(Clone, Copy)]
struct Request<'a> {
    customer: &'a CustomerScript,
    event: &'a ScriptEvent,
}

impl Request<'_> {
    fn origin(&self) -> u64 {
        self.event.branch.0
    }
}

/// The lists to check: handed in, or derived from the all-events list.
fn lists(
    given: &Option<Vec<ClockList>>,
    all: &Option<Vec<ClockEvent>>,
    side: Side,
) -> Vec<ClockList> {
    if let Some(lists) = given {
        return lists.clone();
    }
    let Some(all) = all else { return Vec::new() };
    let mut by_owner: BTreeMap<u64, Vec<ClockEvent>> = BTreeMap::new();
    for e in all.iter().filter(|e| e.side == side) {
        by_owner.entry(e.owner).or_default().push(e.clone());
    }
    by_owner
        .into_iter()
        .map(|(id, mut events)| {
            events.sort_by_key(|e| e.clock);
            let place = events[0].place.clone();
            ClockList { id, events, place }
        })
        .collect()
}

pub fn check(scenario: &Scenario, normal: &Normal) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut requests: BTreeMap<u64, Request<'_>> = BTreeMap::new();
    for customer in &scenario.customers {
        for event in &customer.events {
            requests.entry(event.id.0).or_insert(Request { customer, event });
        }
    }
    let branches: BTreeSet<u64> = scenario.branches.iter().map(|b| b.id.0).collect();
    let customers = lists(&normal.p2b_customers, &normal.p2b_all, Side::Customer);
    let branch_lists = lists(&normal.p2b_branches, &normal.p2b_all, Side::Branch);
    let have_customers = normal.p2b_customers.is_some() || normal.p2b_all.is_some();
    let have_branches = normal.p2b_branches.is_some() || normal.p2b_all.is_some();

    // The customers' sends: their clocks, for the receive rule.
    let mut sent_by_customer: BTreeMap<u64, u64> = BTreeMap::new();
    if have_customers {
        check_customers(scenario, &customers, &mut sent_by_customer, &mut out);
    }
    if have_branches {
        let implied =
            check_branches(&requests, &branches, &branch_lists, &sent_by_customer, &mut out);
        out.extend(answers::implied_results(scenario, &implied));
    }
    if let Some(all) = &normal.p2b_all {
        let mut parts: Vec<&ClockEvent> = Vec::new();
        if let Some(c) = &normal.p2b_customers {
            parts.extend(c.iter().flat_map(|l| &l.events));
        }
        if let Some(b) = &normal.p2b_branches {
            parts.extend(b.iter().flat_map(|l| &l.events));
        }
        if !parts.is_empty() {
            agree(
                all,
                &parts,
                normal.p2b_customers.is_some(),
                normal.p2b_branches.is_some(),
                &mut out,
            );
        }
    }
    out
}

fn check_customers(
    scenario: &Scenario,
    lists: &[ClockList],
    sent: &mut BTreeMap<u64, u64>,
    out: &mut Vec<Problem>,
) {
    let mut queues: BTreeMap<u64, Vec<&ClockList>> = BTreeMap::new();
    for l in lists.iter().rev() {
        queues.entry(l.id).or_default().push(l);
    }
    for customer in &scenario.customers {
        let subject = format!("customer {}", customer.id.0);
        let Some(list) = queues.get_mut(&customer.id.0).and_then(Vec::pop) else {
            out.push(Problem::new(
                ProblemKind::MissingAnswer,
                None,
                subject,
                "no customer-events object for this customer",
            ));
            continue;
        };
        let mut previous: Option<u64> = None;
        let mut listed = Vec::new();
        for e in &list.events {
            if let Some(p) = previous.filter(|p| e.clock <= *p) {
                out.push(Problem::new(ProblemKind::ClockNotIncreasing, Some(e.place.key("logical_clock")), format!("{subject}, request {}", e.request), format!("clock {}, expected > {p} (its previous send's): a customer's clock only moves forward", e.clock)));
            }
            previous = Some(e.clock);
            if e.comment != Comment::SentFromCustomer(customer.id.0) {
                out.push(Problem::new(
                    ProblemKind::WrongSender,
                    Some(e.place.key("comment")),
                    format!("{subject}, request {}", e.request),
                    format!(
                        "{:?}, expected \"event_sent from customer {}\"",
                        e.comment.text(),
                        customer.id.0
                    ),
                ));
            }
            sent.entry(e.request).or_insert(e.clock);
            listed.push(e);
        }
        let wanted: Vec<u64> = customer.events.iter().map(|e| e.id.0).collect();
        for event in &customer.events {
            let found: Vec<&&ClockEvent> =
                listed.iter().filter(|e| e.request == event.id.0).collect();
            match found.as_slice() {
                [] => out.push(Problem::new(
                    ProblemKind::MissingAnswer,
                    Some(list.place.key("events")),
                    format!("{subject}, request {}", event.id.0),
                    "the customer never sends this request",
                )),
                [one, rest @ ..] => {
                    if one.op != event.op.kind() || one.propagate {
                        out.push(Problem::new(
                            ProblemKind::Malformed,
                            Some(one.place.key("interface")),
                            format!("{subject}, request {}", event.id.0),
                            format!("{}, expected {:?}", show(one), event.op.kind().as_str()),
                        ));
                    }
                    for extra in rest {
                        out.push(Problem::new(
                            ProblemKind::ExtraAnswer,
                            Some(extra.place.clone()),
                            format!("{subject}, request {}", event.id.0),
                            "the request is sent more than once",
                        ));
                    }
                }
            }
        }
        for e in listed.iter().filter(|e| !wanted.contains(&e.request)) {
            out.push(Problem::new(
                ProblemKind::ExtraAnswer,
                Some(e.place.clone()),
                subject.clone(),
                format!("request {} is not this customer's", e.request),
            ));
        }
        let order: Vec<u64> =
            listed.iter().map(|e| e.request).filter(|r| wanted.contains(r)).collect();
        let mut expected_order = wanted.clone();
        expected_order.retain(|r| order.contains(r));
        if order.len() == expected_order.len() && order != expected_order {
            out.push(Problem::new(ProblemKind::WrongOrder, Some(list.place.key("events")), subject, format!("requests in the order {order:?}, expected {expected_order:?} (a customer sends its requests in order)")));
        }
    }
}

/// Where each request was seen at each branch.
#[derive(Default)]
struct Seen<'a> {
    from_customer: Vec<(&'a ClockEvent, u64)>,
    /// Destination -> (send, clock of the sender's previous event).
    sent: BTreeMap<u64, Vec<&'a ClockEvent>>,
    /// Receiving branch -> (receive, previous clock there).
    received: BTreeMap<u64, Vec<(&'a ClockEvent, u64)>>,
}

fn check_branches(
    requests: &BTreeMap<u64, Request<'_>>,
    branches: &BTreeSet<u64>,
    lists: &[ClockList],
    customer_clock: &BTreeMap<u64, u64>,
    out: &mut Vec<Problem>,
) -> Vec<Implied> {
    let mut implied = Vec::new();
    let mut seen: BTreeMap<u64, Seen<'_>> = BTreeMap::new();
    let mut listed = BTreeSet::new();
    for list in lists {
        let b = list.id;
        listed.insert(b);
        if !branches.contains(&b) {
            out.push(Problem::new(
                ProblemKind::ExtraAnswer,
                Some(list.place.key("id")),
                format!("branch {b}"),
                "the input has no such branch",
            ));
        }
        let mut previous = 0;
        for (i, e) in list.events.iter().enumerate() {
            let subject = format!("branch {b}, request {} ({})", e.request, what(e));
            if i > 0 && e.clock <= previous {
                out.push(Problem::new(ProblemKind::ClockNotIncreasing, Some(e.place.key("logical_clock")), &subject, format!("clock {}, expected > {previous} (the previous event's): a branch's clock only moves forward", e.clock)));
            }
            let local = previous;
            previous = previous.max(e.clock);
            let Some(request) = requests.get(&e.request) else {
                out.push(Problem::new(
                    ProblemKind::ExtraAnswer,
                    Some(e.place.key("customer-request-id")),
                    &subject,
                    "the input has no such request",
                ));
                continue;
            };
            if e.op != request.event.op.kind() {
                out.push(Problem::new(
                    ProblemKind::Malformed,
                    Some(e.place.key("interface")),
                    &subject,
                    format!(
                        "interface {:?}, but request {} is a {}",
                        if e.propagate { format!("propagate_{}", e.op) } else { e.op.to_string() },
                        e.request,
                        request.event.op.kind()
                    ),
                ));
            }
            let origin = request.origin();
            let entry = seen.entry(e.request).or_default();
            match e.comment {
                Comment::RecvFromCustomer(c) => {
                    if b != origin {
                        out.push(Problem::new(
                            ProblemKind::WrongSender,
                            Some(e.place.key("comment")),
                            &subject,
                            format!(
                                "request {} went to branch {origin}, not to branch {b}",
                                e.request
                            ),
                        ));
                    } else if c != request.customer.id.0 {
                        out.push(Problem::new(
                            ProblemKind::WrongSender,
                            Some(e.place.key("comment")),
                            &subject,
                            format!(
                                "{:?} names customer {c}, but request {} is customer {}'s",
                                e.comment.text(),
                                e.request,
                                request.customer.id.0
                            ),
                        ));
                    }
                    entry.from_customer.push((e, local));
                }
                Comment::SentToBranch(x) => {
                    if b != origin {
                        out.push(Problem::new(ProblemKind::WrongSender, Some(e.place.key("comment")), &subject, format!("branch {b} sends request {}, but it is branch {origin}'s to propagate", e.request)));
                    } else if x == b {
                        out.push(Problem::new(
                            ProblemKind::ReceiverNamed,
                            Some(e.place.key("comment")),
                            &subject,
                            format!("{:?} names the sending branch itself", e.comment.text()),
                        ));
                    }
                    entry.sent.entry(x).or_default().push(e);
                }
                Comment::RecvFromBranch(y) => {
                    if y == b {
                        out.push(Problem::new(
                            ProblemKind::ReceiverNamed,
                            Some(e.place.key("comment")),
                            format!("branch {b}"),
                            format!(
                                "{:?} names the receiving branch, not the sender (branch {origin})",
                                e.comment.text()
                            ),
                        ));
                    } else if y != origin {
                        out.push(Problem::new(
                            ProblemKind::WrongSender,
                            Some(e.place.key("comment")),
                            &subject,
                            format!(
                                "{:?}, but request {} was sent by branch {origin}",
                                e.comment.text(),
                                e.request
                            ),
                        ));
                    }
                    entry.received.entry(b).or_default().push((e, local));
                }
                Comment::SentFromCustomer(_) => {
                    out.push(Problem::new(
                        ProblemKind::Malformed,
                        Some(e.place.key("comment")),
                        &subject,
                        "a customer's event in a branch's list",
                    ));
                }
            }
        }
    }
    for (&id, request) in requests {
        let origin = request.origin();
        if !listed.contains(&origin) {
            continue;
        }
        let entry = seen.remove(&id).unwrap_or_default();
        let subject = format!(
            "branch {origin}, request {id} ({} from customer {})",
            request.event.op.kind(),
            request.customer.id.0
        );
        match entry.from_customer.as_slice() {
            [] => out.push(
                Problem::new(
                    ProblemKind::MissingAnswer,
                    None,
                    &subject,
                    format!(
                        "no \"event_recv from customer {}\" for this request",
                        request.customer.id.0
                    ),
                )
                .about(at_branch(origin, id, LogKind::Request, None)),
            ),
            [(first, local), rest @ ..] => {
                if let Some(&sent) = customer_clock.get(&id) {
                    let needed = (*local).max(sent) + 1;
                    if first.clock < needed && first.clock > *local {
                        out.push(receive_rule(first, &subject, *local, sent, needed));
                    }
                }
                for (extra, _) in rest {
                    out.push(Problem::new(
                        ProblemKind::ExtraAnswer,
                        Some(extra.place.clone()),
                        &subject,
                        "the request is received more than once",
                    ));
                }
            }
        }
        let failed_withdraw = entry.sent.is_empty()
            && request.event.op.kind() == OpKind::Withdraw
            && entry.received.is_empty();
        // A withdraw's result shows in whether it was sent on (with every
        // branch's list handed in, and someone to send it to).
        let everyone = listed.len() == branches.len() && branches.len() > 1;
        if let Some((shown, _)) = entry.from_customer.first() {
            if everyone && request.event.op.kind() == OpKind::Withdraw {
                let place = shown.place.clone();
                implied.push(Implied { event: id, succeeded: !failed_withdraw, place });
            }
        }
        if failed_withdraw {
            continue;
        }
        for &x in branches.iter().filter(|x| **x != origin) {
            let sends = entry.sent.get(&x).map(Vec::as_slice).unwrap_or_default();
            match sends {
                [] => out.push(
                    Problem::new(
                        ProblemKind::MissingPropagation,
                        None,
                        &subject,
                        format!(
                        "never sent to branch {x} (every write is sent to every other branch once)"
                    ),
                    )
                    .about(at_branch(origin, id, LogKind::Execute, None)),
                ),
                [_, rest @ ..] => {
                    for extra in rest {
                        out.push(Problem::new(
                            ProblemKind::DuplicatePropagation,
                            Some(extra.place.clone()),
                            &subject,
                            format!("sent to branch {x} more than once"),
                        ));
                    }
                }
            }
            if !listed.contains(&x) {
                continue;
            }
            let receives = entry.received.get(&x).map(Vec::as_slice).unwrap_or_default();
            let recv_subject = format!(
                "branch {x}, request {id} (propagate_{} received from branch {origin})",
                request.event.op.kind()
            );
            match receives {
                [] => out.push(
                    Problem::new(
                        ProblemKind::MissingPropagation,
                        None,
                        &recv_subject,
                        "never received (every write reaches every other branch exactly once)",
                    )
                    .about(at_branch(
                        origin,
                        id,
                        LogKind::PropagateSent,
                        Some(x),
                    )),
                ),
                [(first, local), rest @ ..] => {
                    if let Some(send) = sends.first() {
                        let needed = (*local).max(send.clock) + 1;
                        if first.clock < needed && first.clock > *local {
                            out.push(receive_rule(
                                first,
                                &recv_subject,
                                *local,
                                send.clock,
                                needed,
                            ));
                        }
                    }
                    for (extra, _) in rest {
                        out.push(Problem::new(ProblemKind::DuplicatePropagation, Some(extra.place.clone()), &recv_subject, "received more than once (every write reaches every other branch exactly once)"));
                    }
                }
            }
        }
    }
    implied
}

fn what(e: &ClockEvent) -> String {
    let interface = if e.propagate { format!("propagate_{}", e.op) } else { e.op.to_string() };
    match e.comment {
        Comment::RecvFromCustomer(c) => format!("{interface} received from customer {c}"),
        Comment::SentToBranch(x) => format!("{interface} sent to branch {x}"),
        Comment::RecvFromBranch(y) => format!("{interface} received from branch {y}"),
        Comment::SentFromCustomer(c) => format!("{interface} sent by customer {c}"),
    }
}

fn receive_rule(e: &ClockEvent, subject: &str, local: u64, message: u64, needed: u64) -> Problem {
    Problem::new(
        ProblemKind::ReceiveRule,
        Some(e.place.key("logical_clock")),
        subject,
        format!("clock {}, expected ≥ {needed}: the receive rule max(local {local}, message {message}) + 1 was not applied", e.clock),
    )
}

fn agree(
    all: &[ClockEvent],
    parts: &[&ClockEvent],
    customers: bool,
    branches: bool,
    out: &mut Vec<Problem>,
) {
    let covered = |e: &ClockEvent| match e.side {
        Side::Customer => customers,
        Side::Branch => branches,
    };
    let mut left: BTreeMap<_, Vec<&ClockEvent>> = BTreeMap::new();
    for p in parts {
        left.entry(p.key()).or_default().push(p);
    }
    for e in all.iter().filter(|e| covered(e)) {
        match left.get_mut(&e.key()).and_then(Vec::pop) {
            Some(_) => {}
            None => out.push(Problem::new(
                ProblemKind::PartsDisagree,
                Some(e.place.clone()),
                format!(
                    "{} {}",
                    if e.side == Side::Customer { "customer" } else { "branch" },
                    e.owner
                ),
                format!(
                    "the all-events list has {}, which the {} list does not",
                    show(e),
                    if e.side == Side::Customer { "customer-events" } else { "branch-events" }
                ),
            )),
        }
    }
    for rest in left.into_values().flatten() {
        out.push(Problem::new(
            ProblemKind::PartsDisagree,
            Some(rest.place.clone()),
            format!(
                "{} {}",
                if rest.side == Side::Customer { "customer" } else { "branch" },
                rest.owner
            ),
            format!("{} is missing from the all-events list", show(rest)),
        ));
    }
}

/// The log entry of `kind` for request `event` at `branch`.
fn at_branch(branch: u64, event: u64, kind: LogKind, peer: Option<u64>) -> EventRef {
    EventRef::Branch { branch: Some(branch), event, kind, peer, clock: None }
}

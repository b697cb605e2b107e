//! One line of text per trace event, and the facts the details panel lists.

use bank_proto::{customer_reply, lab_event::Event, CustomerWrites, LabEvent, LogKind, PlayState};

use super::format;
use super::trace::{Flight, FlightKind, Node};

/// How one trace event reads in the event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Who acted: `B2`, `C1`, `you`, `lab`.
    pub actor: String,
    pub text: String,
    /// A CSS class for the line: `request`, `propagate`, `ack`, `reply`, `lab`, `fail`...
    pub class: &'static str,
    /// The branch it happened at or went to/from (for the branch filter).
    pub branch: Option<u64>,
    /// The customer id involved (for the customer filter).
    pub customer: Option<u64>,
}

pub fn node(node: Node) -> String {
    match node {
        Node::Branch(id) => format!("branch {id}"),
        Node::Customer(session) => format!("customer session {session}"),
        Node::Browser => "you (browser)".to_owned(),
    }
}

pub fn flight_kind(kind: FlightKind) -> &'static str {
    match kind {
        FlightKind::Request => "request",
        FlightKind::Reply => "reply",
        FlightKind::Propagate => "propagate",
        FlightKind::Ack => "ack",
    }
}

/// The money a message carries, as text: `deposit 400`, `query`, `balance 400`.
pub fn flight_money(flight: &Flight) -> String {
    let op = format::operation(flight.operation);
    match flight.kind {
        FlightKind::Reply => match flight.balance_cents {
            Some(b) if flight.failed => format!("{op} failed, balance {}", format::cents(b)),
            Some(b) => format!("{op} ok, balance {}", format::cents(b)),
            None => op.to_owned(),
        },
        _ if op == "query" => op.to_owned(),
        _ => format!("{op} {}", format::cents(flight.amount_cents)),
    }
}

/// Every customer's write set in full: `C1: 1, 2 · C2: 3` (for the state table).
pub fn write_sets(sets: &[CustomerWrites]) -> String {
    sets.iter()
        .map(|s| {
            let ids: Vec<String> = s.event_ids.iter().map(u64::to_string).collect();
            format!("C{}: {}", s.customer_id, ids.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A write-set summary that fits in `max_chars` (for a graph node):
/// `C1:1,2 C2:3` if it fits, else `C1:2w C2:1w`, else `3 writes`.
pub fn write_sets_short(sets: &[CustomerWrites], max_chars: usize) -> String {
    let full = sets
        .iter()
        .map(|s| {
            let ids: Vec<String> = s.event_ids.iter().map(u64::to_string).collect();
            format!("C{}:{}", s.customer_id, ids.join(","))
        })
        .collect::<Vec<_>>()
        .join(" ");
    if full.chars().count() <= max_chars {
        return full;
    }
    let counts = sets
        .iter()
        .map(|s| format!("C{}:{}w", s.customer_id, s.event_ids.len()))
        .collect::<Vec<_>>()
        .join(" ");
    if counts.chars().count() <= max_chars {
        return counts;
    }
    let total: usize = sets.iter().map(|s| s.event_ids.len()).sum();
    if total == 1 {
        "1 write".to_owned()
    } else {
        format!("{total} writes")
    }
}

fn customer_actor(from_browser: bool, customer_id: u64) -> String {
    if from_browser {
        "you".to_owned()
    } else {
        format!("C{customer_id}")
    }
}

/// The event log's line for one event.
pub fn line(event: &LabEvent) -> Line {
    let lab = |text: String| Line {
        actor: "lab".into(),
        text,
        class: "lab",
        branch: None,
        customer: None,
    };
    match &event.event {
        Some(Event::Loaded(s)) => lab(format!(
            "loaded \"{}\": {} branches, {} customer sessions ({}, {})",
            s.name,
            s.branches.len(),
            s.customers.len(),
            format::output_format(s.format),
            format::schedule(s.schedule)
        )),
        Some(Event::CustomerSent(sent)) => {
            let Some(r) = &sent.request else { return lab("customer request (empty)".into()) };
            let money = if format::operation(r.operation) == "query" {
                "query".to_owned()
            } else {
                format!("{} {}", format::operation(r.operation), format::cents(r.amount_cents))
            };
            Line {
                actor: customer_actor(sent.from_browser, r.customer_id),
                text: format!(
                    "→ B{}: {money} (event {}, clock {})",
                    r.branch_id, r.event_id, r.clock
                ),
                class: "request",
                branch: Some(r.branch_id),
                customer: Some(r.customer_id),
            }
        }
        Some(Event::CustomerAnswered(a)) => {
            let Some(reply) = &a.reply else { return lab("customer answer (empty)".into()) };
            let (text, class) = match &reply.result {
                Some(customer_reply::Result::Success(s)) => {
                    (format!("success, balance {}", format::cents(s.balance_cents)), "reply")
                }
                Some(customer_reply::Result::Failure(f)) => (
                    format!(
                        "{}: {} (balance {})",
                        format::failure_reason(f.reason),
                        f.message,
                        format::cents(f.balance_cents)
                    ),
                    "fail",
                ),
                None => ("no result".to_owned(), "reply"),
            };
            Line {
                actor: customer_actor(a.from_browser, a.customer_id),
                text: format!(
                    "← B{}: {} {text} (event {}, clock {})",
                    reply.branch_id,
                    format::operation(reply.operation),
                    reply.event_id,
                    reply.clock
                ),
                class,
                branch: Some(reply.branch_id),
                customer: Some(a.customer_id),
            }
        }
        Some(Event::BranchLogged(l)) => {
            let Some(e) = &l.entry else {
                return lab(format!("branch {} logged nothing", l.branch_id));
            };
            let op = format::operation(e.operation);
            let money = if op == "query" {
                op.to_owned()
            } else {
                format!("{op} {}", format::cents(e.amount_cents))
            };
            let kind = LogKind::try_from(e.kind).unwrap_or(LogKind::Unspecified);
            let peer = match kind {
                LogKind::PropagateSent => format!(" to B{}", e.peer),
                LogKind::PropagateReceived | LogKind::PropagateExecuted => {
                    format!(" from B{}", e.peer)
                }
                LogKind::PropagateAcked => format!(" by B{}", e.peer),
                _ => String::new(),
            };
            let balance = e
                .balance_cents
                .map(|b| format!(" → balance {}", format::cents(b)))
                .unwrap_or_default();
            let failed = if e.failed { " FAILED" } else { "" };
            let class = match kind {
                _ if e.failed => "fail",
                LogKind::Request => "request",
                LogKind::Execute | LogKind::PropagateExecuted => "execute",
                LogKind::PropagateSent | LogKind::PropagateReceived => "propagate",
                LogKind::PropagateAcked => "ack",
                LogKind::Response => "reply",
                LogKind::Unspecified => "lab",
            };
            Line {
                actor: format!("B{}", l.branch_id),
                text: format!(
                    "[{}] {}{peer}: C{} e{} {money}{balance}{failed}",
                    e.clock,
                    format::log_kind(e.kind),
                    e.customer_id,
                    e.event_id
                ),
                class,
                branch: Some(l.branch_id),
                customer: Some(e.customer_id),
            }
        }
        Some(Event::Finished(f)) => lab(format!(
            "finished: every scripted event answered (output format {})",
            format::output_format(f.format)
        )),
        Some(Event::Network(n)) => Line {
            actor: "fault".into(),
            text: format!("{} — {}", n.description, network_state(n.state.as_ref())),
            class: "network",
            branch: None,
            customer: None,
        },
        Some(Event::Violation(v)) => Line {
            actor: v.session.map_or_else(|| "check".to_owned(), |s| format!("S{s}")),
            text: violation_text(v),
            class: "violation",
            branch: v.branch_ids.first().copied(),
            customer: None,
        },
        Some(Event::State(s)) => {
            let state = PlayState::try_from(s.state).unwrap_or(PlayState::Unspecified);
            lab(format!("server {} (speed {}×)", format::play_state(state), s.speed))
        }
        Some(Event::Halted(h)) => lab(format!("stopped: {}", h.reason)),
        None => lab("(empty event)".into()),
    }
}

/// "Read Your Writes violated (guarantee off): ... [events 2, 1; writes w1.1]".
pub fn violation_text(v: &bank_proto::ViolationFound) -> String {
    let promise = if v.anomaly == "overdraft" {
        String::new()
    } else if v.guarantee_was_on {
        " although the session asked for it (a bug!)".to_owned()
    } else {
        " (the guarantee was off)".to_owned()
    };
    let events: Vec<String> = v.event_ids.iter().map(|e| format!("e{e}")).collect();
    let mut involved = Vec::new();
    if !events.is_empty() {
        involved.push(format!("events {}", events.join(", ")));
    }
    if !v.writes.is_empty() {
        involved.push(format!("writes {}", v.writes.join(", ")));
    }
    let involved =
        if involved.is_empty() { String::new() } else { format!(" [{}]", involved.join("; ")) };
    format!("{} violated{promise}: {}{involved}", v.name, v.explanation)
}

/// "branch 2 down; link 1-3 cut; link 1-2 500 ms" or "all up".
pub fn network_state(state: Option<&bank_proto::NetworkState>) -> String {
    let Some(s) = state else { return "all up".into() };
    let mut parts: Vec<String> = s.down.iter().map(|b| format!("B{b} down")).collect();
    parts.extend(s.cut.iter().map(|l| format!("link {}-{} cut", l.a, l.b)));
    parts.extend(s.delays.iter().filter_map(|d| {
        d.link.as_ref().map(|l| format!("link {}-{} {} ms", l.a, l.b, d.delay_ms))
    }));
    if parts.is_empty() {
        "everything up".into()
    } else {
        parts.join("; ")
    }
}

/// `(label, value)` rows describing an event, for the details panel.
pub fn event_facts(event: &LabEvent) -> Vec<(&'static str, String)> {
    let mut facts = vec![("seq", event.seq.to_string()), ("at", format::micros(event.at_micros))];
    match &event.event {
        Some(Event::CustomerSent(sent)) => {
            if let Some(r) = &sent.request {
                facts.push((
                    "from",
                    if sent.from_browser {
                        "you (browser)".into()
                    } else {
                        format!("customer {} (session {})", r.customer_id, sent.session)
                    },
                ));
                facts.push(("to", format!("branch {}", r.branch_id)));
                facts.push(("operation", format::operation(r.operation).into()));
                facts.push(("money", format::cents(r.amount_cents)));
                facts.push(("event id", r.event_id.to_string()));
                facts.push(("Lamport clock", r.clock.to_string()));
                let writes = r.session.as_ref().map_or(0, |s| s.write_set.len());
                facts.push(("write set", format!("{writes} writes")));
            }
        }
        Some(Event::CustomerAnswered(a)) => {
            if let Some(reply) = &a.reply {
                facts.push(("from", format!("branch {}", reply.branch_id)));
                facts.push((
                    "to",
                    if a.from_browser {
                        "you (browser)".into()
                    } else {
                        format!("customer {} (session {})", a.customer_id, a.session)
                    },
                ));
                facts.push(("operation", format::operation(reply.operation).into()));
                facts.push(("event id", reply.event_id.to_string()));
                facts.push(("Lamport clock", reply.clock.to_string()));
                match &reply.result {
                    Some(customer_reply::Result::Success(s)) => {
                        facts.push((
                            "result",
                            format!("success, balance {}", format::cents(s.balance_cents)),
                        ));
                        if let Some(w) = &s.write {
                            facts.push(("write id", format!("{}.{}", w.origin_branch, w.seq)));
                        }
                    }
                    Some(customer_reply::Result::Failure(f)) => {
                        facts.push((
                            "result",
                            format!("{}: {}", format::failure_reason(f.reason), f.message),
                        ));
                    }
                    None => {}
                }
            }
        }
        Some(Event::BranchLogged(l)) => {
            facts.push(("branch", l.branch_id.to_string()));
            if let Some(e) = &l.entry {
                facts.push(("kind", format::log_kind(e.kind).into()));
                if e.peer != 0 {
                    facts.push(("peer", format!("branch {}", e.peer)));
                }
                facts.push(("customer", e.customer_id.to_string()));
                facts.push(("event id", e.event_id.to_string()));
                facts.push(("operation", format::operation(e.operation).into()));
                facts.push(("money", format::cents(e.amount_cents)));
                facts.push(("Lamport clock", e.clock.to_string()));
                if e.failed {
                    facts.push(("failed", "yes".into()));
                }
            }
            facts.push(("balance after", format::cents(l.balance_cents)));
            if !l.added_writes.is_empty() {
                facts.push(("added to the write sets", write_sets(&l.added_writes)));
            }
        }
        _ => facts.push(("event", line(event).text)),
    }
    facts
}

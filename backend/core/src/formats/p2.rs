//! Project 2 outputs: the branches' event logs with Lamport clocks.
//!
//! Both generations are *views* over the per-branch logs of a run
//! ([`BranchRecord::log`]): each [`LogEntry`] carries its kind, the request's
//! event id, the operation and the branch's clock right after it. The two
//! generations count different events (see [`ClockScheme`](crate::clock::ClockScheme))
//! and print them differently. Queries never appear in either.
//!
//! ## Generation A (2021 – spring 2023): [`render_a`]
//!
//! One object per branch, then one per write event:
//!
//! ```json
//! {"pid": 2, "data": [{"id": 2, "name": "deposit_request", "clock": 2}, ...]}
//! {"eventid": 2, "data": [{"clock": 2, "name": "deposit_request"}, ...]}
//! ```
//!
//! | log entry | name |
//! |---|---|
//! | [`LogKind::Request`] | `deposit_request` |
//! | [`LogKind::Execute`] | `deposit_execute` |
//! | [`LogKind::PropagateReceived`] | `deposit_propagate_request` |
//! | [`LogKind::PropagateExecuted`] | `deposit_propagate_execute` |
//! | [`LogKind::PropagateAcked`] | `deposit_propagate_response` |
//! | [`LogKind::Response`] | `deposit_response` |
//! | [`LogKind::PropagateSent`] | (not shown: the message carries the clock) |
//!
//! ## Generation B (autumn 2023 on): three lists
//!
//! * [`customer_events`]: per customer entry, one `event_sent` per request,
//!   stamped with the customer's own clock;
//! * [`branch_events`]: per branch, `event_recv from customer C`,
//!   `event_sent to branch X` (one per peer) and `event_recv from branch X`;
//! * [`all_events`]: both, flattened, grouped by request: the customer's send
//!   first, then the branches' entries for that request by clock (ties by
//!   branch id). The course's grader re-sorts by clock anyway.
//!
//! The word "propagate" is spelled as [`Spelling`] says: `propagate`,
//! `propogate` (as in the seed's files) or `broadcast`.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{json, Value};

use super::{interface, OutputOptions, Spelling};
use crate::ids::{BranchId, CustomerId, EventId};
use crate::log::{LogEntry, LogKind};
use crate::op::OpKind;
use crate::record::{BranchRecord, RunRecord};
use crate::scenario::Scenario;

/// The record's branches in ascending id order.
fn branches_by_id(record: &RunRecord) -> Vec<&BranchRecord> {
    let mut branches: Vec<&BranchRecord> = record.branches.iter().collect();
    branches.sort_by_key(|b| b.id);
    branches
}

/// The generation A name of a log entry, or `None` for entries that
/// generation A does not show (queries, sends).
pub fn event_name(entry: &LogEntry, spelling: Spelling) -> Option<String> {
    if entry.op == OpKind::Query {
        return None;
    }
    let (op, s) = (entry.op.as_str(), spelling.as_str());
    Some(match entry.kind {
        LogKind::Request => format!("{op}_request"),
        LogKind::Execute => format!("{op}_execute"),
        LogKind::PropagateSent => return None,
        LogKind::PropagateReceived => format!("{op}_{s}_request"),
        LogKind::PropagateExecuted => format!("{op}_{s}_execute"),
        LogKind::PropagateAcked => format!("{op}_{s}_response"),
        LogKind::Response => format!("{op}_response"),
    })
}

/// Project 2 generation A: the `pid` objects, then the `eventid` objects.
pub fn render_a(scenario: &Scenario, record: &RunRecord, options: &OutputOptions) -> Value {
    let branches = branches_by_id(record);
    let mut out = Vec::new();
    for branch in &branches {
        let data: Vec<Value> = branch
            .log
            .iter()
            .filter_map(|e| event_name(e, options.spelling).map(|name| (e, name)))
            .map(|(e, name)| json!({"id": e.event.0, "name": name, "clock": e.clock}))
            .collect();
        out.push(json!({"pid": branch.id.0, "data": data}));
    }

    // Every write event of the input, once, ascending.
    let writes: BTreeSet<EventId> = scenario
        .customers
        .iter()
        .flat_map(|c| &c.events)
        .filter(|e| e.op.is_write())
        .map(|e| e.id)
        .collect();
    // Each event's entries from all branches, gathered in one pass.
    let mut by_event: HashMap<EventId, Vec<(u64, BranchId, String)>> = HashMap::new();
    for branch in &branches {
        for entry in &branch.log {
            if let Some(name) = event_name(entry, options.spelling) {
                by_event.entry(entry.event).or_default().push((entry.clock, branch.id, name));
            }
        }
    }
    for event in writes {
        let mut entries = by_event.remove(&event).unwrap_or_default();
        // Stable: entries of one branch keep their log order.
        entries.sort_by_key(|&(clock, branch, _)| (clock, branch));
        let data: Vec<Value> = entries
            .into_iter()
            .map(|(clock, _, name)| json!({"clock": clock, "name": name}))
            .collect();
        out.push(json!({"eventid": event.0, "data": data}));
    }
    Value::Array(out)
}

/// The generation B `interface` and `comment` of a log entry, or `None` for
/// entries generation B does not show.
fn branch_event(entry: &LogEntry, spelling: Spelling) -> Option<(Value, String)> {
    if entry.op == OpKind::Query {
        return None;
    }
    let peer = || entry.peer.map_or_else(|| "unknown".to_owned(), |p| p.0.to_string());
    let propagate = || Value::from(format!("{}_{}", spelling.as_str(), entry.op.as_str()));
    match entry.kind {
        LogKind::Request => {
            Some((interface(entry.op), format!("event_recv from customer {}", entry.customer.0)))
        }
        LogKind::PropagateSent => Some((propagate(), format!("event_sent to branch {}", peer()))),
        LogKind::PropagateReceived => {
            Some((propagate(), format!("event_recv from branch {}", peer())))
        }
        _ => None,
    }
}

/// Project 2 generation B, list 1: per customer entry, the requests it sent.
pub fn customer_events(record: &RunRecord) -> Value {
    record
        .customers
        .iter()
        .map(|customer| {
            let events: Vec<Value> = customer
                .results
                .iter()
                .filter(|r| r.op != OpKind::Query)
                .map(|r| {
                    json!({
                        "customer-request-id": r.event.0,
                        "logical_clock": r.customer_clock,
                        "interface": interface(r.op),
                        "comment": format!("event_sent from customer {}", customer.customer.0),
                    })
                })
                .collect();
            json!({"id": customer.customer.0, "type": "customer", "events": events})
        })
        .collect()
}

/// Project 2 generation B, list 2: per branch, its receives and sends.
pub fn branch_events(record: &RunRecord, options: &OutputOptions) -> Value {
    branches_by_id(record)
        .into_iter()
        .map(|branch| {
            let events: Vec<Value> = branch
                .log
                .iter()
                .filter_map(|e| {
                    let (interface, comment) = branch_event(e, options.spelling)?;
                    Some(json!({
                        "customer-request-id": e.event.0,
                        "logical_clock": e.clock,
                        "interface": interface,
                        "comment": comment,
                    }))
                })
                .collect();
            json!({"id": branch.id.0, "type": "branch", "events": events})
        })
        .collect()
}

/// Project 2 generation B, list 3: every event, grouped by request in input
/// order (the order of `record.customers`, which follows the input); in a group the customer's send first, then the branches' entries by
/// clock (ties by branch id).
///
/// Event ids are not unique in every course file, so branch entries are
/// grouped by (customer, event id) and printed with the first request that
/// has that pair: every log entry appears exactly once.
pub fn all_events(record: &RunRecord, options: &OutputOptions) -> Value {
    /// A request's branch entries: (clock, branch, item).
    type Group = Vec<(u64, BranchId, Value)>;
    let mut groups: HashMap<(CustomerId, EventId), Group> = HashMap::new();
    for branch in branches_by_id(record) {
        for entry in &branch.log {
            if let Some((interface, comment)) = branch_event(entry, options.spelling) {
                let item = json!({
                    "id": branch.id.0,
                    "customer-request-id": entry.event.0,
                    "type": "branch",
                    "logical_clock": entry.clock,
                    "interface": interface,
                    "comment": comment,
                });
                groups.entry((entry.customer, entry.event)).or_default().push((
                    entry.clock,
                    branch.id,
                    item,
                ));
            }
        }
    }

    let mut out = Vec::new();
    let mut done: HashSet<(CustomerId, EventId)> = HashSet::new();
    // `record.customers` follows the input order of the customer entries.
    for customer in &record.customers {
        for result in customer.results.iter().filter(|r| r.op != OpKind::Query) {
            out.push(json!({
                "id": customer.customer.0,
                "customer-request-id": result.event.0,
                "type": "customer",
                "logical_clock": result.customer_clock,
                "interface": interface(result.op),
                "comment": format!("event_sent from customer {}", customer.customer.0),
            }));
            let key = (customer.customer, result.event);
            if done.insert(key) {
                let mut entries = groups.remove(&key).unwrap_or_default();
                entries.sort_by_key(|&(clock, branch, _)| (clock, branch));
                out.extend(entries.into_iter().map(|(_, _, item)| item));
            }
        }
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::formats::{render, render_p2b_files, OutputFormat, P2bPart};
    use crate::money::Cents;
    use crate::op::Outcome;
    use crate::record::{CustomerRecord, EventResult};
    use crate::scenario::{CustomerScript, InputShape, ScriptEvent};

    fn entry(
        clock: u64,
        kind: LogKind,
        customer: u64,
        event: u64,
        op: OpKind,
        peer: Option<u64>,
    ) -> LogEntry {
        LogEntry {
            clock,
            step: Default::default(),
            write: None,
            kind,
            customer: CustomerId(customer),
            event: EventId(event),
            op,
            amount: Cents::units(10),
            peer: peer.map(BranchId),
            balance: None,
            failed: false,
        }
    }

    fn branch(id: u64, log: Vec<LogEntry>) -> BranchRecord {
        BranchRecord {
            id: BranchId(id),
            balance: Cents::ZERO,
            clock: 0,
            write_sets: BTreeMap::new(),
            log,
            applied: vec![],
        }
    }

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// The standard sample run one customer after another under the
    /// generation A clock rules, with the queries and sends that the output
    /// must leave out.
    fn clin255_run() -> (Scenario, RunRecord) {
        use LogKind::*;
        use OpKind::{Deposit as D, Query as Q, Withdraw as W};
        let scenario = crate::formats::parse_input(
            include_str!("../../../../testdata/formats/p1-branch-propagation/clin255+CSE531_project1/input.json"),
            "input.json",
        )
        .unwrap();
        let b1 = vec![
            entry(2, Request, 1, 1, Q, None),
            entry(3, Response, 1, 1, Q, None),
            entry(4, PropagateReceived, 2, 2, D, Some(2)),
            entry(5, PropagateExecuted, 2, 2, D, Some(2)),
            entry(11, PropagateReceived, 3, 4, W, Some(3)),
            entry(12, PropagateExecuted, 3, 4, W, Some(3)),
        ];
        let b2 = vec![
            entry(2, Request, 2, 2, D, None),
            entry(3, Execute, 2, 2, D, None),
            entry(3, PropagateSent, 2, 2, D, Some(1)),
            entry(6, PropagateAcked, 2, 2, D, Some(1)),
            entry(6, PropagateSent, 2, 2, D, Some(3)),
            entry(9, PropagateAcked, 2, 2, D, Some(3)),
            entry(10, Response, 2, 2, D, None),
            entry(11, Request, 2, 3, Q, None),
            entry(14, PropagateReceived, 3, 4, W, Some(3)),
            entry(15, PropagateExecuted, 3, 4, W, Some(3)),
        ];
        let b3 = vec![
            entry(7, PropagateReceived, 2, 2, D, Some(2)),
            entry(8, PropagateExecuted, 2, 2, D, Some(2)),
            entry(9, Request, 3, 4, W, None),
            entry(10, Execute, 3, 4, W, None),
            entry(10, PropagateSent, 3, 4, W, Some(1)),
            entry(13, PropagateAcked, 3, 4, W, Some(1)),
            entry(13, PropagateSent, 3, 4, W, Some(2)),
            entry(16, PropagateAcked, 3, 4, W, Some(2)),
            entry(17, Response, 3, 4, W, None),
        ];
        let record = RunRecord {
            customers: Vec::new(),
            branches: vec![branch(3, b3), branch(1, b1), branch(2, b2)],
        };
        (scenario, record)
    }

    #[test]
    fn generation_a_reproduces_clin255() {
        let (scenario, record) = clin255_run();
        let expected = include_str!(
            "../../../../testdata/formats/p2-lamport-clocks/clin255+CSE531_project2/output_project_2.json"
        );
        let text = render(OutputFormat::P2a, &scenario, &record, &OutputOptions::default());
        assert_eq!(parse(&text), parse(expected));
    }

    #[test]
    fn generation_a_spellings() {
        let (scenario, record) = clin255_run();
        let options = OutputOptions { spelling: Spelling::Broadcast, ..OutputOptions::default() };
        let text = render(OutputFormat::P2a, &scenario, &record, &options);
        assert!(text.contains("\"deposit_broadcast_request\""));
        assert!(!text.contains("propagate"));
    }

    /// Rebuilds a generation B run from the course's own customer and branch
    /// lists (adding execute entries the output must skip), so the writers
    /// can be checked against the third list.
    fn run_from_lists(customers: &Value, branches: &Value) -> (Scenario, RunRecord) {
        let mut owner = HashMap::new();
        let mut record = RunRecord { customers: Vec::new(), branches: Vec::new() };
        let mut scripts = Vec::new();
        let op_of =
            |name: &str| if name.ends_with("deposit") { OpKind::Deposit } else { OpKind::Withdraw };
        for c in customers.as_array().unwrap() {
            let id = c["id"].as_u64().unwrap();
            let mut results = Vec::new();
            let mut events = Vec::new();
            for e in c["events"].as_array().unwrap() {
                let event = e["customer-request-id"].as_u64().unwrap();
                let op = op_of(e["interface"].as_str().unwrap());
                owner.insert(event, id);
                results.push(EventResult {
                    event: EventId(event),
                    op,
                    branch: BranchId(id),
                    outcome: Outcome::Success { balance: Cents::ZERO },
                    customer_clock: e["logical_clock"].as_u64().unwrap(),
                    completion: 0,
                    write: None,
                    observed: None,
                });
                events.push(ScriptEvent {
                    id: EventId(event),
                    op: crate::op::Op::from_kind(op, Cents::units(10)),
                    branch: BranchId(id),
                    line: 1,
                });
            }
            record.customers.push(CustomerRecord { customer: CustomerId(id), results });
            scripts.push(CustomerScript { id: CustomerId(id), line: 1, events });
        }
        for b in branches.as_array().unwrap() {
            let mut log = Vec::new();
            for e in b["events"].as_array().unwrap() {
                let event = e["customer-request-id"].as_u64().unwrap();
                let clock = e["logical_clock"].as_u64().unwrap();
                let op = op_of(e["interface"].as_str().unwrap());
                let comment = e["comment"].as_str().unwrap();
                let number: u64 = comment.rsplit(' ').next().unwrap().parse().unwrap();
                let customer = owner[&event];
                if comment.starts_with("event_recv from customer") {
                    log.push(entry(clock, LogKind::Request, customer, event, op, None));
                    log.push(entry(clock, LogKind::Execute, customer, event, op, None));
                } else if comment.starts_with("event_sent") {
                    log.push(entry(
                        clock,
                        LogKind::PropagateSent,
                        customer,
                        event,
                        op,
                        Some(number),
                    ));
                } else {
                    log.push(entry(
                        clock,
                        LogKind::PropagateReceived,
                        customer,
                        event,
                        op,
                        Some(number),
                    ));
                    log.push(entry(
                        clock,
                        LogKind::PropagateExecuted,
                        customer,
                        event,
                        op,
                        Some(number),
                    ));
                }
            }
            record.branches.push(branch(b["id"].as_u64().unwrap(), log));
        }
        let scenario = Scenario {
            shape: InputShape::CustomerRequests,
            branches: Vec::new(),
            customers: scripts,
            warnings: Vec::new(),
        };
        (scenario, record)
    }

    #[test]
    fn generation_b_reproduces_swantrace() {
        let customers = parse(include_str!(
            "../../../../testdata/formats/p2-lamport-clocks/swantrace+cse531_project2/output.customer.json"
        ));
        let branches = parse(include_str!(
            "../../../../testdata/formats/p2-lamport-clocks/swantrace+cse531_project2/output.branch.json"
        ));
        let all = parse(include_str!(
            "../../../../testdata/formats/p2-lamport-clocks/swantrace+cse531_project2/output.customer_request.json"
        ));
        let (scenario, record) = run_from_lists(&customers, &branches);
        let files = render_p2b_files(&scenario, &record, &OutputOptions::default());
        let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["customer_events.json", "branch_events.json", "all_events.json"]);
        assert_eq!(parse(&files[0].1), customers);
        assert_eq!(parse(&files[1].1), branches);
        assert_eq!(parse(&files[2].1), all, "grouped by request, then by clock, ties by branch id");

        for (part, expected) in
            [(P2bPart::All, &all), (P2bPart::Customer, &customers), (P2bPart::Branch, &branches)]
        {
            let options = OutputOptions { p2b_part: part, ..OutputOptions::default() };
            assert_eq!(&parse(&render(OutputFormat::P2b, &scenario, &record, &options)), expected);
        }
    }

    #[test]
    fn generation_b_branch_list_matches_the_ta_sample() {
        let customers = parse(include_str!(
            "../../../../testdata/formats/p2-lamport-clocks/ychen404+CSE531_Grading/customer_events.json"
        ));
        let branches = parse(include_str!(
            "../../../../testdata/formats/p2-lamport-clocks/ychen404+CSE531_Grading/branch_events.json"
        ));
        let (_, record) = run_from_lists(&customers, &branches);
        assert_eq!(branch_events(&record, &OutputOptions::default()), branches);
        assert_eq!(customer_events(&record), customers);
        let options = OutputOptions { spelling: Spelling::Propogate, ..OutputOptions::default() };
        assert!(branch_events(&record, &options).to_string().contains("\"propogate_withdraw\""));
    }

    #[test]
    fn queries_never_show() {
        let record = RunRecord {
            customers: vec![CustomerRecord {
                customer: CustomerId(1),
                results: vec![EventResult {
                    event: EventId(1),
                    op: OpKind::Query,
                    branch: BranchId(1),
                    outcome: Outcome::Success { balance: Cents::ZERO },
                    customer_clock: 1,
                    completion: 0,
                    write: None,
                    observed: None,
                }],
            }],
            branches: vec![branch(1, vec![entry(2, LogKind::Request, 1, 1, OpKind::Query, None)])],
        };
        let scenario = Scenario {
            shape: InputShape::Events,
            branches: Vec::new(),
            customers: Vec::new(),
            warnings: Vec::new(),
        };
        for (_, text) in render_p2b_files(&scenario, &record, &OutputOptions::default()) {
            assert!(!text.contains("query"), "{text}");
        }
        assert_eq!(
            render_a(&scenario, &record, &OutputOptions::default()),
            json!([{"pid": 1, "data": []}])
        );
    }
}

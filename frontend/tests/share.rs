//! The customer-session model, the history export and the permalink, on
//! fixed histories: a deposit at branch 1 and a query at branch 2 that
//! Read Your Writes makes wait for the deposit (or, switched off, lets
//! read stale).
//!
//! Natively: `cargo test -p bank-frontend --test share`; in the browser as
//! `tests/web.rs` says.

use bank_core::check::{self, Anomaly};
use bank_core::{BranchId, Guarantee, Guarantees, OpKind, WriteId, WriteSet};
use bank_frontend::model::{
    embed::EmbedView,
    history_export,
    permalink::{self, Permalink},
    session_words,
    sessions::{Sessions, WaitEnd},
    trace::{Node, Trace},
};
use bank_proto::{
    customer_reply, lab_event::Event, BranchInfo, BranchLogged, ControlReply, CustomerAnswered,
    CustomerInfo, CustomerReply, CustomerRequest, CustomerSent, LabEvent, LogEntry, LogKind,
    Operation, ScenarioSummary, Session, Success,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DEPOSIT: i32 = Operation::Deposit as i32;
const QUERY: i32 = Operation::Query as i32;

fn w(origin: u64, seq: u64) -> WriteId {
    WriteId { origin: BranchId(origin), seq }
}

fn summary(guarantees: Guarantees) -> ScenarioSummary {
    ScenarioSummary {
        name: "stale".into(),
        branches: vec![
            BranchInfo { id: 1, balance_cents: 0 },
            BranchInfo { id: 2, balance_cents: 0 },
        ],
        customers: vec![CustomerInfo { session: 0, customer_id: 1, events: vec![] }],
        guarantees: Some(guarantees.into()),
        ..Default::default()
    }
}

fn sent(event: u64, branch: u64, op: i32, clock: u64, writes: &WriteSet, g: Guarantees) -> Event {
    Event::CustomerSent(CustomerSent {
        session: 0,
        from_browser: false,
        request: Some(CustomerRequest {
            customer_id: 1,
            event_id: event,
            branch_id: branch,
            operation: op,
            amount_cents: if op == DEPOSIT { 10_000 } else { 0 },
            clock,
            session: Some(Session {
                write_set: vec![],
                writes: Some(writes.into()),
                read_set: Some((&WriteSet::new()).into()),
                guarantees: Some(g.into()),
            }),
        }),
    })
}

#[allow(clippy::too_many_arguments)]
fn logged(
    branch: u64,
    kind: LogKind,
    event: u64,
    op: i32,
    peer: u64,
    balance: i64,
    failed: bool,
) -> Event {
    Event::BranchLogged(BranchLogged {
        branch_id: branch,
        entry: Some(LogEntry {
            clock: 0,
            kind: kind as i32,
            customer_id: 1,
            event_id: event,
            operation: op,
            amount_cents: if op == DEPOSIT { 10_000 } else { 0 },
            peer,
            balance_cents: Some(balance),
            failed,
            // What a branch sends: the clock's step is always there.
            clock_step: Some(bank_proto::ClockStep {
                rule: bank_proto::ClockRule::Unchanged as i32,
                local: 0,
                message: None,
            }),
            write: None,
        }),
        balance_cents: balance,
        added_writes: vec![],
    })
}

fn answered(
    branch: u64,
    event: u64,
    op: i32,
    balance: i64,
    write: Option<WriteId>,
    observed: Option<&WriteSet>,
) -> Event {
    Event::CustomerAnswered(CustomerAnswered {
        session: 0,
        from_browser: false,
        customer_id: 1,
        reply: Some(CustomerReply {
            branch_id: branch,
            event_id: event,
            operation: op,
            result: Some(customer_reply::Result::Success(Success {
                balance_cents: balance,
                write: write.map(Into::into),
                observed: observed.map(Into::into),
            })),
            clock: 0,
            customer_id: 1,
        }),
    })
}

fn trace_of(events: Vec<Event>) -> Trace {
    let mut trace = Trace::new();
    for (seq, event) in events.into_iter().enumerate() {
        trace.push(LabEvent {
            seq: seq as u64,
            at_micros: seq as u64 * 7,
            event: Some(event),
            ..Default::default()
        });
    }
    trace
}

/// Read Your Writes on: branch 2 parks the query until the deposit arrives.
fn parked_history() -> Vec<Event> {
    use LogKind::*;
    let g = Guarantees::only(Guarantee::ReadYourWrites);
    let one: WriteSet = [w(1, 1)].into_iter().collect();
    vec![
        Event::Loaded(summary(g)),                                  // 0
        sent(1, 1, DEPOSIT, 1, &WriteSet::new(), g),                // 1
        logged(1, Request, 1, DEPOSIT, 0, 0, false),                // 2
        logged(1, Execute, 1, DEPOSIT, 0, 10_000, false),           // 3
        logged(1, Response, 1, DEPOSIT, 0, 10_000, false),          // 4
        answered(1, 1, DEPOSIT, 10_000, Some(w(1, 1)), None),       // 5
        logged(1, PropagateSent, 1, DEPOSIT, 2, 10_000, false),     // 6
        sent(2, 2, QUERY, 2, &one, g),                              // 7
        logged(2, Request, 2, QUERY, 0, 0, false),                  // 8  parked
        logged(2, PropagateReceived, 1, DEPOSIT, 1, 0, false),      // 9
        logged(2, PropagateExecuted, 1, DEPOSIT, 1, 10_000, false), // 10 arrives
        logged(2, Execute, 2, QUERY, 0, 10_000, false),             // 11 released
        logged(2, Response, 2, QUERY, 0, 10_000, false),            // 12
        answered(2, 2, QUERY, 10_000, None, Some(&one)),            // 13
        Event::State(ControlReply { state: 4, speed: 1.0 }),        // 14
    ]
}

/// Read Your Writes off: branch 2 answers 0 before the deposit arrives.
fn stale_history() -> Vec<Event> {
    use LogKind::*;
    let g = Guarantees::NONE;
    let one: WriteSet = [w(1, 1)].into_iter().collect();
    vec![
        Event::Loaded(summary(g)),
        sent(1, 1, DEPOSIT, 1, &WriteSet::new(), g),
        logged(1, Request, 1, DEPOSIT, 0, 0, false),
        logged(1, Execute, 1, DEPOSIT, 0, 10_000, false),
        logged(1, Response, 1, DEPOSIT, 0, 10_000, false),
        answered(1, 1, DEPOSIT, 10_000, Some(w(1, 1)), None),
        logged(1, PropagateSent, 1, DEPOSIT, 2, 10_000, false),
        sent(2, 2, QUERY, 2, &one, g),
        logged(2, Request, 2, QUERY, 0, 0, false),
        logged(2, Execute, 2, QUERY, 0, 0, false),
        logged(2, Response, 2, QUERY, 0, 0, false),
        answered(2, 2, QUERY, 0, None, Some(&WriteSet::new())),
        logged(2, PropagateReceived, 1, DEPOSIT, 1, 0, false),
        logged(2, PropagateExecuted, 1, DEPOSIT, 1, 10_000, false),
    ]
}

#[wasm_bindgen_test(unsupported = test)]
fn the_write_set_grows_with_the_answers() {
    let trace = trace_of(parked_history());
    let before = Sessions::at(&trace, 5);
    let session = before.session(Node::Customer(0)).expect("the scripted session");
    assert!(session.session.write_set().is_empty(), "not answered yet at cursor 5");
    assert_eq!(session.guarantees, Guarantees::only(Guarantee::ReadYourWrites));

    let after = Sessions::at(&trace, 6);
    let session = after.session(Node::Customer(0)).unwrap();
    let (compact, words) = session_words::set_forms(session.session.write_set());
    assert_eq!((compact.as_str(), words.as_str()), ("w1.1", "write 1 from branch 1"));
    assert!(session.session.read_set().is_empty());
    assert_eq!(session.requests.len(), 1);
    assert_eq!(session.requests[0].answer.as_ref().and_then(|a| a.write), Some(w(1, 1)));

    let end = Sessions::at(&trace, trace.len());
    let session = end.session(Node::Customer(0)).unwrap();
    assert_eq!(session.session.read_set().compact(), "w1.1", "the query saw the deposit");
}

#[wasm_bindgen_test(unsupported = test)]
fn a_parked_request_names_what_it_lacks_and_when_it_was_released() {
    let trace = trace_of(parked_history());
    let waiting = Sessions::at(&trace, 9);
    let query = &waiting.session(Node::Customer(0)).unwrap().requests[1];
    assert_eq!(query.op.kind(), OpKind::Query);
    assert_eq!(query.required.compact(), "w1.1");
    let parked = query.parked.as_ref().expect("branch 2 lacked w1.1");
    assert_eq!(parked.at, 8);
    assert_eq!(parked.ended, None);
    assert!(query.is_waiting());
    assert_eq!(parked.missing.len(), 1);
    assert_eq!(parked.missing[0].origin, BranchId(1));
    assert_eq!(parked.missing[0].guarantee, Some(Guarantee::ReadYourWrites));
    let sentence = session_words::parked_sentence(query, parked);
    assert!(
        sentence.contains("write 1 from branch 1 (w1.1), which Read Your Writes requires"),
        "{sentence}"
    );
    assert!(sentence.contains("still waiting (0 of 1 arrived)"), "{sentence}");

    let released = Sessions::at(&trace, 12);
    let query = &released.session(Node::Customer(0)).unwrap().requests[1];
    let parked = query.parked.as_ref().unwrap();
    assert_eq!(parked.ended, Some(WaitEnd::Released(11)));
    assert_eq!(parked.arrived.compact(), "w1.1");
    assert!(session_words::parked_sentence(query, parked).contains("released at event #11"));

    // The deposit found nothing missing.
    assert!(released.session(Node::Customer(0)).unwrap().requests[0].parked.is_none());
}

#[wasm_bindgen_test(unsupported = test)]
fn a_request_the_branch_gave_up_on_is_refused() {
    use LogKind::*;
    let mut events = parked_history();
    events.truncate(9);
    events.push(logged(2, Execute, 2, QUERY, 0, 0, true)); // 9: timed out
    let trace = trace_of(events);
    let sessions = Sessions::at(&trace, trace.len());
    let query = &sessions.session(Node::Customer(0)).unwrap().requests[1];
    assert_eq!(query.parked.as_ref().unwrap().ended, Some(WaitEnd::Refused(9)));
}

#[wasm_bindgen_test(unsupported = test)]
fn replaying_forward_equals_replaying_from_the_start() {
    let trace = trace_of(parked_history());
    let mut sessions = Sessions::at(&trace, 0);
    for cursor in 0..=trace.len() {
        sessions = sessions.advanced(&trace, cursor);
        assert_eq!(sessions, Sessions::at(&trace, cursor), "cursor {cursor}");
    }
    assert_eq!(sessions.advanced(&trace, 3), Sessions::at(&trace, 3), "and backwards");
}

#[wasm_bindgen_test(unsupported = test)]
fn the_exported_history_checks_like_the_run() {
    let stale = history_export::history(&trace_of(stale_history())).expect("a scenario is loaded");
    assert_eq!(stale.sessions.len(), 1);
    let ops = &stale.sessions[0].ops;
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0].write, Some(w(1, 1)));
    assert_eq!(ops[1].observed, Some(WriteSet::new()));
    let b2 = stale.branches.iter().find(|b| b.id == BranchId(2)).unwrap();
    assert_eq!(b2.applied.len(), 1);
    assert_eq!(b2.applied[0].write, w(1, 1));
    assert_eq!(b2.balance.0, 10_000);
    let report = check::check(&stale);
    assert_eq!(report.count(Anomaly::Broke(Guarantee::ReadYourWrites)), 1, "{report:?}");

    // The file reads back as `bank check` reads it.
    let text = stale.to_json();
    assert_eq!(bank_core::History::from_json(&text).unwrap(), stale);

    let parked = history_export::history(&trace_of(parked_history())).unwrap();
    assert!(check::check(&parked).is_clean(), "the query waited: nothing is broken");
}

#[wasm_bindgen_test(unsupported = test)]
fn a_permalink_reads_back_what_it_wrote() {
    let link = Permalink {
        scenario: Some(permalink::compress_text(
            "{\"bank\": [ {\"id\": 1, \"type\": \"branch\"} ]}",
        )),
        guarantees: Some(Guarantees::COURSE),
        propagation: Some(bank_core::branch::PropagationMode::Background),
        seed: Some(42),
        at: Some(17),
        fingerprint: Some(0x00ab_cdef),
        embed: true,
        view: EmbedView::Both,
    };
    let query = link.query();
    assert!(
        query.contains("g=ryw,mw")
            && query.contains("p=background")
            && query.contains("fp=00abcdef"),
        "{query}"
    );
    assert_eq!(Permalink::parse(&query), link);
    let none = Permalink { guarantees: Some(Guarantees::NONE), ..Permalink::default() };
    assert_eq!(Permalink::parse(&none.query()), none);
    assert_eq!(Permalink::parse(""), Permalink::default());
    assert_eq!(Permalink::ignored(&query), Vec::<String>::new(), "a link it wrote is whole");
    // Malformed values are dropped, and said (before: silently).
    let bad = "?scenario=seed-test-1&seed=-1&at=x&g=rw&p=fast";
    assert_eq!(Permalink::parse(bad).seed, None);
    assert_eq!(
        Permalink::ignored(bad),
        [
            "seed=-1: a seed is a whole number from 0 to 18446744073709551615",
            "at=x: the cursor is a whole number of events",
            "g=rw: guarantees are all, none, course or a list like ryw,mr",
            "p=fast: propagation is sequential, parallel or background",
        ]
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn scenario_text_is_packed_and_unpacked() {
    let text = include_str!("../../examples/demo-stale-read.json");
    let packed = permalink::compress_text(text);
    assert!(packed.starts_with("z."));
    assert!(packed.len() < text.len(), "{} vs {}", packed.len(), text.len());
    assert!(packed[2..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(permalink::uncompress_text(&packed), Some(Ok(text.to_owned())));
    assert_eq!(permalink::uncompress_text("demo-stale-read"), None, "a name is not packed");
    assert!(matches!(
        permalink::uncompress_text("z.@@"),
        Some(Err(permalink::UnpackError::NotBase64))
    ));
    assert!(matches!(permalink::uncompress_text("z.AAAA"), Some(Err(_))));
    assert_eq!(permalink::scenario_value(text, "demo-stale-read", Some(text)), "demo-stale-read");
    assert_eq!(
        permalink::scenario_value("{}", "demo-stale-read", Some(text)),
        permalink::compress_text("{}")
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn the_cursor_is_counted_in_visible_events() {
    let trace = trace_of(parked_history());
    let len = trace.len();
    assert_eq!(permalink::visible_count(&trace, len), len - 1, "the play state is not counted");
    for cursor in 0..len {
        let visible = permalink::visible_count(&trace, cursor);
        assert_eq!(permalink::cursor_of_visible(&trace, visible), Some(cursor));
    }
    assert_eq!(permalink::cursor_of_visible(&trace, len), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn the_fingerprint_tells_replays_apart() {
    let events = parked_history();
    let a = trace_of(events.clone());
    // The same run with a play-state change elsewhere and other times.
    let mut shifted = events.clone();
    shifted.insert(3, Event::State(ControlReply { state: 3, speed: 8.0 }));
    let b = trace_of(shifted);
    assert_eq!(permalink::fingerprint(&a, 8), permalink::fingerprint(&b, 9));
    // Two concurrent events in the other order.
    let mut swapped = events;
    swapped.swap(5, 6);
    let c = trace_of(swapped);
    assert_ne!(permalink::fingerprint(&a, 8), permalink::fingerprint(&c, 8));
    assert_eq!(permalink::fingerprint(&a, 5), permalink::fingerprint(&c, 5));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_link_says_which_page_actions_it_leaves_out() {
    use bank_proto::{NetworkChanged, NetworkState};
    use permalink::PageActions;
    let network = |planned| {
        Event::Network(NetworkChanged {
            description: "crash branch 2".into(),
            state: Some(NetworkState { down: vec![2], ..Default::default() }),
            planned,
        })
    };
    let mut events = parked_history();
    assert_eq!(PageActions::of(&trace_of(events.clone()), usize::MAX).note(), None);
    // A planned fault is the scenario's; one from the page, and a request
    // from the page, are not, and only those before the cursor count.
    events.insert(2, network(true));
    events.insert(3, network(false));
    let mut mine = sent(9, 1, QUERY, 0, &WriteSet::new(), Guarantees::NONE);
    if let Event::CustomerSent(s) = &mut mine {
        s.from_browser = true;
    }
    events.push(mine);
    let trace = trace_of(events);
    assert_eq!(PageActions::of(&trace, 3), PageActions::default());
    assert_eq!(PageActions::of(&trace, 4), PageActions { faults: 1, requests: 0 });
    let all = PageActions::of(&trace, trace.len());
    assert_eq!(all, PageActions { faults: 1, requests: 1 });
    let note = all.note().unwrap();
    assert!(
        note.starts_with("The 1 fault and the 1 request made from this page are not in the link"),
        "{note}"
    );
    let one = PageActions { faults: 2, requests: 0 }.note().unwrap();
    assert!(one.starts_with("The 2 faults made from this page are not"), "{one}");
}

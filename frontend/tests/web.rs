//! Tests of the pure model (they also run natively: `cargo test -p bank-frontend`)
//! and of components mounted on a fixed trace (browser only).
//!
//! Browser: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p bank-frontend --target wasm32-unknown-unknown`

use bank_core::{money::MoneyError, BranchId, Cents, Guarantees, Op};
use bank_frontend::model::{
    customer::{typed_amount, AmountError, BrowserCustomer, BROWSER_CUSTOMER, FIRST_EVENT},
    describe,
    embed::{self, PageParams, ScenarioParamError, ScenarioSource},
    format,
    layout::{Layout, Point},
    trace::{FlightKind, MessageClass, Node, Pushed, Trace, World},
};
use bank_proto::{
    customer_reply, lab_event::Event, BranchInfo, BranchLogged, ControlReply, CustomerAnswered,
    CustomerInfo, CustomerReply, CustomerRequest, CustomerSent, CustomerWrites, Failure, Finished,
    LabEvent, LogEntry, LogKind, Operation, ScenarioSummary, ScriptedEvent, Success, WriteId,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// ---------------------------------------------------------------------------
// A fixed history: seed-test-2 (deposit 400 at branch 1, query branch 2).
// ---------------------------------------------------------------------------

const DEPOSIT: i32 = Operation::Deposit as i32;
const QUERY: i32 = Operation::Query as i32;

fn ev(seq: usize, event: Event) -> LabEvent {
    LabEvent {
        seq: seq as u64,
        at_micros: seq as u64 * 1000,
        event: Some(event),
        ..Default::default()
    }
}

fn summary() -> ScenarioSummary {
    ScenarioSummary {
        name: "seed-test-2".into(),
        branches: vec![
            BranchInfo { id: 1, balance_cents: 0 },
            BranchInfo { id: 2, balance_cents: 0 },
        ],
        customers: vec![CustomerInfo {
            session: 0,
            customer_id: 1,
            events: vec![
                ScriptedEvent {
                    event_id: 1,
                    operation: DEPOSIT,
                    amount_cents: 40000,
                    branch_id: 1,
                },
                ScriptedEvent { event_id: 2, operation: QUERY, amount_cents: 0, branch_id: 2 },
            ],
        }],
        format: bank_proto::OutputFormat::P1 as i32,
        schedule: bank_proto::Schedule::Sequential as i32,
        warnings: vec![],
        ..Default::default()
    }
}

fn sent(
    session: u32,
    from_browser: bool,
    customer: u64,
    event: u64,
    branch: u64,
    op: i32,
    cents: i64,
) -> Event {
    Event::CustomerSent(CustomerSent {
        session,
        from_browser,
        request: Some(CustomerRequest {
            customer_id: customer,
            event_id: event,
            branch_id: branch,
            operation: op,
            amount_cents: cents,
            clock: 1,
            session: None,
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
    clock: u64,
    balance: i64,
    writes: &[u64],
) -> Event {
    Event::BranchLogged(BranchLogged {
        branch_id: branch,
        entry: Some(LogEntry {
            clock,
            kind: kind as i32,
            customer_id: 1,
            event_id: event,
            operation: op,
            amount_cents: if op == DEPOSIT { 40000 } else { 0 },
            peer,
            balance_cents: Some(balance),
            failed: false,
            clock_step: None,
            write: None,
        }),
        balance_cents: balance,
        added_writes: if writes.is_empty() {
            vec![]
        } else {
            vec![CustomerWrites { customer_id: 1, event_ids: writes.to_vec() }]
        },
    })
}

fn answered(event: u64, op: i32, balance: i64) -> Event {
    Event::CustomerAnswered(CustomerAnswered {
        session: 0,
        from_browser: false,
        customer_id: 1,
        reply: Some(CustomerReply {
            branch_id: if event == 1 { 1 } else { 2 },
            event_id: event,
            operation: op,
            result: Some(customer_reply::Result::Success(Success {
                balance_cents: balance,
                write: None,
                observed: None,
            })),
            clock: 9,
            customer_id: 1,
        }),
    })
}

/// The 16 events of seed-test-2 under sequential propagation.
fn seed_test_2() -> Trace {
    use LogKind::*;
    let events = vec![
        Event::Loaded(summary()),                                    // 0
        sent(0, false, 1, 1, 1, DEPOSIT, 40000),                     // 1
        logged(1, Request, 1, DEPOSIT, 0, 2, 0, &[]),                // 2
        logged(1, Execute, 1, DEPOSIT, 0, 3, 40000, &[1]),           // 3
        logged(1, PropagateSent, 1, DEPOSIT, 2, 4, 40000, &[]),      // 4
        logged(2, PropagateReceived, 1, DEPOSIT, 1, 5, 0, &[]),      // 5
        logged(2, PropagateExecuted, 1, DEPOSIT, 1, 6, 40000, &[1]), // 6
        logged(1, PropagateAcked, 1, DEPOSIT, 2, 7, 40000, &[]),     // 7
        logged(1, Response, 1, DEPOSIT, 0, 8, 40000, &[]),           // 8
        answered(1, DEPOSIT, 40000),                                 // 9
        sent(0, false, 1, 2, 2, QUERY, 0),                           // 10
        logged(2, Request, 2, QUERY, 0, 7, 40000, &[]),              // 11
        logged(2, Execute, 2, QUERY, 0, 8, 40000, &[]),              // 12
        logged(2, Response, 2, QUERY, 0, 9, 40000, &[]),             // 13
        answered(2, QUERY, 40000),                                   // 14
        Event::Finished(Finished {
            output_json: "[{\"id\": 1, \"recv\": []}]".into(),
            format: bank_proto::OutputFormat::P1 as i32,
        }), // 15
    ];
    let mut trace = Trace::new();
    for (seq, event) in events.into_iter().enumerate() {
        trace.push(ev(seq, event));
    }
    trace
}

fn balances(world: &World) -> Vec<(u64, i64)> {
    world.branches.iter().map(|b| (b.id, b.balance_cents)).collect()
}

// ---------------------------------------------------------------------------
// Trace replay
// ---------------------------------------------------------------------------

#[wasm_bindgen_test(unsupported = test)]
fn replay_shows_balances_at_the_cursor() {
    let trace = seed_test_2();
    assert_eq!(trace.len(), 16);
    assert_eq!(
        balances(&World::at(&trace, 0)),
        vec![(1, 0), (2, 0)],
        "starting balances before anything"
    );
    assert_eq!(balances(&World::at(&trace, 3)), vec![(1, 0), (2, 0)], "execute not applied yet");
    assert_eq!(
        balances(&World::at(&trace, 4)),
        vec![(1, 40000), (2, 0)],
        "branch 1 executed the deposit"
    );
    assert_eq!(balances(&World::at(&trace, 7)), vec![(1, 40000), (2, 40000)], "propagated");
    let end = World::at(&trace, 16);
    assert_eq!(balances(&end), vec![(1, 40000), (2, 40000)]);
    assert!(end.finished);
    assert_eq!(end.branch(2).unwrap().clock, 9);
    assert_eq!(
        end.branch(2).unwrap().write_sets,
        vec![CustomerWrites { customer_id: 1, event_ids: vec![1] }]
    );
    assert_eq!(end.answers.get(&Node::Customer(0)).map(|a| a.balance_cents), Some(40000));
    // A cursor past the end is the end.
    assert_eq!(World::at(&trace, 99), end);
}

#[wasm_bindgen_test(unsupported = test)]
fn stepping_back_is_replaying_less() {
    let trace = seed_test_2();
    let forward: Vec<World> = (0..=trace.len()).map(|c| World::at(&trace, c)).collect();
    let mut incremental = World::at(&trace, 0);
    for (i, event) in trace.events().iter().enumerate() {
        incremental.apply(i, event);
        assert_eq!(
            incremental,
            forward[i + 1],
            "applying one by one equals replaying to {}",
            i + 1
        );
    }
    // What the page's memo does: advance from the last world shown, by
    // steps forward, jumps forward and steps back.
    let mut shown = World::at(&trace, 0);
    for to in [1, 2, 5, 5, 9, 3, 4, trace.len(), 0, trace.len() + 7] {
        shown = shown.advanced(&trace, to);
        assert_eq!(shown, World::at(&trace, to), "advanced to {to}");
    }
    let mut reloaded = trace.clone();
    reloaded.push(trace.events()[0].clone());
    assert_eq!(
        shown.advanced(&reloaded, 1),
        World::at(&reloaded, 1),
        "a new history is replayed from its start"
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn messages_are_in_flight_between_send_and_receive() {
    let trace = seed_test_2();
    let at = |cursor: usize| -> Vec<(FlightKind, Node, Node)> {
        trace.in_flight(cursor).map(|f| (f.kind, f.from, f.to)).collect()
    };
    assert_eq!(at(1), vec![], "nothing sent yet");
    assert_eq!(at(2), vec![(FlightKind::Request, Node::Customer(0), Node::Branch(1))]);
    assert_eq!(at(3), vec![], "branch 1 received the request");
    assert_eq!(at(5), vec![(FlightKind::Propagate, Node::Branch(1), Node::Branch(2))]);
    assert_eq!(at(7), vec![(FlightKind::Ack, Node::Branch(2), Node::Branch(1))]);
    assert_eq!(at(9), vec![(FlightKind::Reply, Node::Branch(1), Node::Customer(0))]);
    assert_eq!(at(11), vec![(FlightKind::Request, Node::Customer(0), Node::Branch(2))]);
    assert_eq!(at(14), vec![(FlightKind::Reply, Node::Branch(2), Node::Customer(0))]);
    assert_eq!(at(16), vec![]);
    // Every message was received.
    assert_eq!(trace.flights().len(), 6);
    assert!(trace.flights().iter().all(|f| f.end.is_some()));
    let propagate = trace.flights().iter().find(|f| f.kind == FlightKind::Propagate).unwrap();
    assert_eq!((propagate.start, propagate.end), (4, Some(5)));
    assert_eq!(propagate.class(), MessageClass::Propagate);
    assert_eq!(trace.flights()[0].class(), MessageClass::Deposit);
    assert_eq!(trace.flight_of_event(4).map(|f| f.kind), Some(FlightKind::Propagate));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_message_moves_from_sender_to_receiver() {
    let trace = seed_test_2();
    let request = &trace.flights()[0]; // sent at 1, received at 2
    assert_eq!(request.progress(1.5, trace.len()), 0.0, "leaves as the send is applied");
    assert_eq!(request.progress(2.0, trace.len()), 0.5, "at rest: half way");
    assert_eq!(request.progress(2.5, trace.len()), 1.0, "arrives as the receive is applied");
    // Still travelling at the end of the trace: never drawn as arrived.
    let mut open = Trace::new();
    open.push(ev(0, Event::Loaded(summary())));
    open.push(ev(1, sent(0, false, 1, 1, 1, DEPOSIT, 40000)));
    let flight = &open.flights()[0];
    assert_eq!(flight.end, None);
    assert!(flight.in_flight_at(2));
    assert!(flight.progress(100.0, open.len()) <= 0.9);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_duplicate_is_acknowledged_from_its_receive_event() {
    use LogKind::*;
    let mut trace = Trace::new();
    trace.push(ev(0, Event::Loaded(summary())));
    trace.push(ev(1, logged(1, PropagateSent, 1, DEPOSIT, 2, 1, 0, &[])));
    trace.push(ev(2, logged(2, PropagateReceived, 1, DEPOSIT, 1, 2, 0, &[])));
    // No PropagateExecuted: branch 2 had applied it already.
    trace.push(ev(3, logged(1, PropagateAcked, 1, DEPOSIT, 2, 3, 0, &[])));
    let ack = trace.flights().iter().find(|f| f.kind == FlightKind::Ack).expect("an ack flight");
    assert_eq!(
        (ack.from, ack.to, ack.start, ack.end),
        (Node::Branch(2), Node::Branch(1), 2, Some(3))
    );
    assert_eq!(ack.clock, 2, "the receive event's clock");
}

#[wasm_bindgen_test(unsupported = test)]
fn a_loaded_event_starts_a_new_history() {
    let mut trace = seed_test_2();
    let generation = trace.generation();
    assert_eq!(trace.output().map(|(i, _)| i), Some(15));
    assert_eq!(trace.push(ev(0, Event::Loaded(summary()))), Pushed::Started);
    assert_eq!(trace.len(), 1);
    assert_eq!(trace.generation(), generation + 1);
    assert!(trace.flights().is_empty());
    assert_eq!(trace.output(), None);
    assert_eq!(balances(&World::at(&trace, 1)), vec![(1, 0), (2, 0)]);
    // A loaded event in the middle of a replay resets the world too.
    let mut world = World::at(&seed_test_2(), 16);
    world.apply(0, &ev(0, Event::Loaded(summary())));
    assert_eq!(balances(&world), vec![(1, 0), (2, 0)]);
    assert!(!world.finished);
}

#[wasm_bindgen_test(unsupported = test)]
fn replayed_events_are_not_recorded_twice() {
    let mut trace = seed_test_2();
    let again = trace.events()[5].clone();
    assert_eq!(trace.push(again), Pushed::Duplicate);
    assert_eq!(trace.len(), 16);
    let state = ev(16, Event::State(ControlReply { state: 4, speed: 1.0 }));
    assert_eq!(trace.push(state), Pushed::Appended);
    assert_eq!(trace.len(), 17);
}

#[wasm_bindgen_test(unsupported = test)]
fn steps_skip_play_state_changes() {
    let mut trace = Trace::new();
    trace.push(ev(0, Event::Loaded(summary())));
    trace.push(ev(1, Event::State(ControlReply { state: 2, speed: 1.0 })));
    assert!(trace.is_quiet(1) && !trace.is_quiet(0));
    assert_eq!(trace.step_from(1), None, "only a state change ahead");
    trace.push(ev(2, sent(0, false, 1, 1, 1, DEPOSIT, 40000)));
    trace.push(ev(3, Event::State(ControlReply { state: 3, speed: 1.0 })));
    trace.push(ev(4, logged(1, LogKind::Request, 1, DEPOSIT, 0, 2, 0, &[])));
    assert_eq!(trace.step_from(1), Some(3), "the state change and the customer event");
    assert_eq!(trace.step_from(3), Some(5));
    assert_eq!(trace.step_from(5), None);
    assert_eq!(trace.back_from(5), 3, "back over the request and the state change");
    assert_eq!(trace.back_from(3), 1);
    assert_eq!(trace.back_from(1), 0);
    assert_eq!(trace.back_from(0), 0);
}

#[wasm_bindgen_test(unsupported = test)]
fn browser_requests_fly_from_the_you_node() {
    use LogKind::*;
    let mut trace = Trace::new();
    trace.push(ev(0, Event::Loaded(summary())));
    trace.push(ev(1, sent(0, true, 1000, 1000, 2, DEPOSIT, 2500)));
    let mut request = logged(2, Request, 1000, DEPOSIT, 0, 2, 0, &[]);
    let mut response = logged(2, Response, 1000, DEPOSIT, 0, 3, 2500, &[]);
    for e in [&mut request, &mut response] {
        if let Event::BranchLogged(l) = e {
            l.entry.as_mut().unwrap().customer_id = 1000;
        }
    }
    trace.push(ev(2, request));
    trace.push(ev(3, response));
    trace.push(ev(
        4,
        Event::CustomerAnswered(CustomerAnswered {
            session: 0,
            from_browser: true,
            customer_id: 1000,
            reply: Some(CustomerReply {
                branch_id: 2,
                event_id: 1000,
                operation: DEPOSIT,
                result: Some(customer_reply::Result::Failure(Failure {
                    reason: 1,
                    message: "no".into(),
                    balance_cents: 0,
                    ..Default::default()
                })),
                clock: 4,
                customer_id: 1000,
            }),
        }),
    ));
    let flights: Vec<_> = trace.flights().iter().map(|f| (f.kind, f.from, f.to, f.end)).collect();
    assert_eq!(
        flights,
        vec![
            (FlightKind::Request, Node::Browser, Node::Branch(2), Some(2)),
            (FlightKind::Reply, Node::Branch(2), Node::Browser, Some(4)),
        ]
    );
    assert!(trace.browser_used());
    let world = World::at(&trace, 5);
    assert!(!world.answers[&Node::Browser].success);
}

// ---------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------

#[wasm_bindgen_test(unsupported = test)]
fn branches_sit_on_a_circle_and_customers_in_a_column() {
    let customers = [Node::Customer(0), Node::Customer(1), Node::Browser];
    let layout = Layout::new(&[1, 2, 3, 4], &customers);
    let center = Point { x: 580.0, y: 350.0 };
    let radii: Vec<f64> = layout.branches.iter().map(|(_, p)| p.distance(center)).collect();
    assert!(radii.iter().all(|r| (r - radii[0]).abs() < 1e-6), "{radii:?}");
    assert!(layout.branches[0].1.y < center.y, "the first branch is at the top");
    // No two branch nodes overlap.
    for (i, (_, a)) in layout.branches.iter().enumerate() {
        for (_, b) in &layout.branches[i + 1..] {
            assert!(a.distance(*b) > 2.0 * layout.branch_radius);
        }
    }
    let xs: Vec<f64> = layout.customers.iter().map(|(_, p)| p.x).collect();
    assert!(xs.iter().all(|&x| x == xs[0]));
    let ys: Vec<f64> = layout.customers.iter().map(|(_, p)| p.y).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]));
    assert!(layout.position(Node::Browser).is_some());
    assert!(layout.position(Node::Branch(9)).is_none());
}

#[wasm_bindgen_test(unsupported = test)]
fn messages_travel_between_node_borders() {
    let layout = Layout::new(&[1, 2], &[Node::Customer(0)]);
    let (a, b) = layout.edge(Node::Branch(1), Node::Branch(2)).unwrap();
    let (pa, pb) =
        (layout.position(Node::Branch(1)).unwrap(), layout.position(Node::Branch(2)).unwrap());
    assert!((a.distance(pa) - layout.branch_radius).abs() < 1e-6);
    assert!((b.distance(pb) - layout.branch_radius).abs() < 1e-6);
    let mid = layout.along(Node::Branch(1), Node::Branch(2), 0.5).unwrap();
    assert!((mid.distance(a) - mid.distance(b)).abs() < 1e-6);
    assert_eq!(layout.along(Node::Branch(1), Node::Branch(2), 7.0), Some(b), "clamped");
    // A single branch sits in the middle of the ring.
    let one = Layout::new(&[5], &[]);
    assert_eq!(one.position(Node::Branch(5)), Some(Point { x: 580.0, y: 350.0 }));
}

// ---------------------------------------------------------------------------
// Money and text
// ---------------------------------------------------------------------------

#[wasm_bindgen_test(unsupported = test)]
fn money_prints_like_the_course_outputs() {
    assert_eq!(format::cents(40000), "400");
    assert_eq!(format::cents(40050), "400.5");
    assert_eq!(format::cents(40005), "400.05");
    assert_eq!(format::cents(0), "0");
    assert_eq!(format::cents(-5), "-0.05");
    assert_eq!(format::cents(-150), "-1.5");
    assert_eq!(format::cents(123456789), "1234567.89");
}

#[wasm_bindgen_test(unsupported = test)]
fn typed_money_is_parsed_exactly() {
    assert_eq!(typed_amount("25"), Ok(Cents(2500)));
    assert_eq!(typed_amount(" 25.50 "), Ok(Cents(2550)));
    assert_eq!(typed_amount("25.5"), Ok(Cents(2550)));
    assert_eq!(typed_amount("0.05"), Ok(Cents(5)));
    assert_eq!(typed_amount(".5"), Ok(Cents(50)));
    assert_eq!(typed_amount("7."), Ok(Cents(700)));
    assert_eq!(typed_amount(""), Err(AmountError::Empty));
    assert_eq!(typed_amount("  "), Err(AmountError::Empty));
    for bad in ["-5", "1.234", "abc", "1,5", ".", "1e3"] {
        assert!(matches!(typed_amount(bad), Err(AmountError::Money(_))), "{bad}");
    }
    // The core's rule, as for amounts in scenario files: a plus sign is allowed.
    assert_eq!(typed_amount("+5"), Ok(Cents(500)));
    assert!(matches!(
        typed_amount("99999999999999999999"),
        Err(AmountError::Money(MoneyError::TooLarge(_)))
    ));
}

#[wasm_bindgen_test(unsupported = test)]
fn write_sets_are_summarised_to_fit() {
    let sets = vec![
        CustomerWrites { customer_id: 1, event_ids: vec![1, 2] },
        CustomerWrites { customer_id: 2, event_ids: vec![3] },
    ];
    assert_eq!(describe::write_sets(&sets), "C1: 1, 2 · C2: 3");
    assert_eq!(describe::write_sets_short(&sets, 40), "C1:1,2 C2:3");
    let more = vec![
        CustomerWrites { customer_id: 1, event_ids: vec![1, 2, 3] },
        CustomerWrites { customer_id: 2, event_ids: vec![4] },
    ];
    assert_eq!(describe::write_sets_short(&more, 12), "C1:3w C2:1w");
    assert_eq!(describe::write_sets_short(&more, 5), "4 writes");
    let long = vec![CustomerWrites { customer_id: 1, event_ids: (1..=30).collect() }];
    assert_eq!(describe::write_sets_short(&long, 14), "C1:30w");
    assert_eq!(describe::write_sets_short(&[], 10), "");
}

#[wasm_bindgen_test(unsupported = test)]
fn every_event_has_a_log_line() {
    let trace = seed_test_2();
    let lines: Vec<describe::Line> = trace.events().iter().map(describe::line).collect();
    assert_eq!(lines[1].actor, "C1");
    assert_eq!(lines[1].branch, Some(1));
    assert!(lines[1].text.contains("deposit 400"), "{}", lines[1].text);
    assert_eq!(lines[4].actor, "B1");
    assert!(lines[4].text.contains("to B2"), "{}", lines[4].text);
    assert_eq!(lines[15].class, "lab");
    assert!(describe::event_facts(&trace.events()[6])
        .iter()
        .any(|(k, v)| *k == "Lamport clock" && v == "6"));
}

#[wasm_bindgen_test(unsupported = test)]
fn scenario_settings_print_by_their_core_names() {
    use bank_proto::{OutputFormat, PropagationMode, Schedule};
    let trace = seed_test_2();
    let lines: Vec<describe::Line> = trace.events().iter().map(describe::line).collect();
    assert!(lines[0].text.ends_with("(p1, sequential)"), "{}", lines[0].text);
    assert!(lines[15].text.ends_with("(output format p1)"), "{}", lines[15].text);
    assert_eq!(format::output_format(OutputFormat::P1Money as i32), "p1-money");
    assert_eq!(format::output_format(OutputFormat::P2b as i32), "p2b");
    assert_eq!(format::schedule(Schedule::WritesFirst as i32), "writes-first");
    assert_eq!(format::propagation(PropagationMode::Background as i32), "background");
    assert_eq!(format::propagation(PropagationMode::Sequential as i32), "sequential");
    for unset in [0, 42] {
        assert_eq!(format::output_format(unset), "unspecified");
        assert_eq!(format::schedule(unset), "unspecified");
        assert_eq!(format::propagation(unset), "unspecified");
    }
    // A summary without guarantees runs with the course's; else its own.
    assert_eq!(trace.scenario_guarantees(), Some(Guarantees::COURSE));
    let mut none = Trace::new();
    let loaded = ScenarioSummary { guarantees: Some(Guarantees::NONE.into()), ..summary() };
    none.push(ev(0, Event::Loaded(loaded)));
    assert_eq!(none.scenario_guarantees(), Some(Guarantees::NONE));
    assert_eq!(Trace::new().scenario_guarantees(), None);
}

// ---------------------------------------------------------------------------
// Page parameters and the browser session
// ---------------------------------------------------------------------------

/// The page names each RPC by its path (`src/api/path.rs`): every path is a
/// method of a service of the contract.
#[wasm_bindgen_test(unsupported = test)]
fn every_rpc_path_names_a_method_of_the_contract() {
    let contract = [
        include_str!("../../proto/bank/v1/lab.proto"),
        include_str!("../../proto/bank/v1/customer.proto"),
    ];
    for path in bank_frontend::api::path::ALL {
        let (service, method) = path
            .strip_prefix("/bank.v1.")
            .and_then(|p| p.split_once('/'))
            .unwrap_or_else(|| panic!("{path} is not /bank.v1.<Service>/<Method>"));
        let body = contract
            .iter()
            .find_map(|text| text.split_once(&format!("service {service} {{")))
            .map(|(_, rest)| rest.split("\n}").next().unwrap_or(rest))
            .unwrap_or_else(|| panic!("{path}: no service {service} in proto/bank/v1"));
        assert!(body.contains(&format!("rpc {method}(")), "{path}: {service} has no rpc {method}");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn the_query_string_selects_embed_mode_and_a_scenario() {
    assert_eq!(embed::parse_query(""), PageParams::default());
    let p = embed::parse_query("?embed=1&scenario=seed-test-1");
    assert!(p.embed);
    assert_eq!(p.scenario.as_deref(), Some("seed-test-1"));
    assert!(!embed::parse_query("?embed=0").embed);
    assert_eq!(embed::parse_query("?scenario=a%2Db").scenario.as_deref(), Some("a-b"));
    assert_eq!(embed::parse_query("?scenario=").scenario, None);
}

#[wasm_bindgen_test(unsupported = test)]
fn the_query_string_names_the_lab_and_links_keep_the_other_parameters() {
    let p = embed::parse_query("?scenario=seed-test-1&lab=ab12&embed=1");
    assert_eq!((p.lab.as_deref(), p.follow.as_deref()), (Some("ab12"), None));
    assert_eq!(embed::parse_query("?follow=cd34").follow.as_deref(), Some("cd34"));
    assert_eq!(embed::parse_query("?lab=").lab, None);

    // The lab id joins the page's own parameters (history.replaceState).
    assert_eq!(
        embed::with_param("?embed=1&scenario=seed-test-1", "lab", Some("ab12")),
        "?embed=1&scenario=seed-test-1&lab=ab12"
    );
    assert_eq!(embed::with_param("", "lab", Some("ab12")), "?lab=ab12");
    // A new lab replaces an old one in its place; removing leaves the rest.
    assert_eq!(embed::with_param("?lab=old&embed=1", "lab", Some("new")), "?lab=new&embed=1");
    assert_eq!(embed::with_param("?lab=old&embed=1", "lab", None), "?embed=1");
    assert_eq!(embed::with_param("?lab=old", "lab", None), "");

    // A follow link keeps the view, not the owner's id or the scenario.
    assert_eq!(
        embed::follow_query("?embed=1&scenario=seed-test-2&lab=ab12", "cd34"),
        "?embed=1&follow=cd34"
    );
    assert_eq!(embed::follow_query("?lab=ab12", "cd34"), "?follow=cd34");
}

#[wasm_bindgen_test(unsupported = test)]
fn base64_scenarios_decode_in_every_spelling() {
    let text = r#"[{"id": 1, "type": "branch", "balance": 400}]?>"#;
    let url_safe = embed::encode_base64_text(text);
    assert!(!url_safe.contains(['+', '/', '=']));
    assert_eq!(embed::decode_base64_text(&url_safe).as_deref(), Ok(text));
    // Standard alphabet with padding, as `btoa` makes it, and '+' turned into ' '.
    let standard = "W3siaWQiOiAxLCAidHlwZSI6ICJicmFuY2giLCAiYmFsYW5jZSI6IDQwMH1dPz4=";
    assert_eq!(embed::decode_base64_text(standard).as_deref(), Ok(text));
    assert_eq!(embed::decode_base64_text("aGk+").as_deref(), Ok("hi>"));
    assert_eq!(embed::decode_base64_text("aGk ").as_deref(), Ok("hi>"));
    assert_eq!(embed::decode_base64_text("not base64!"), Err(ScenarioParamError::NotBase64));
    assert_eq!(embed::decode_base64_text("__8"), Err(ScenarioParamError::NotText));

    let names = ["seed-test-1", "project3-big"];
    assert_eq!(
        embed::scenario_source("seed-test-1", &names),
        Ok(ScenarioSource::Example("seed-test-1".into()))
    );
    assert_eq!(embed::scenario_source(&url_safe, &names), Ok(ScenarioSource::Text(text.into())));
    assert!(embed::scenario_source("no such thing!", &names).is_err());
    // A mistyped name is said to be one (before: "decodes to bytes that are
    // not UTF-8 text"); short base64 scenario text is still text.
    for typo in ["nonsense", "seed-test-3"] {
        let error = embed::scenario_source(typo, &names).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("?scenario={typo} is no shipped example (they are seed-test-1, project3-big), nor base64 scenario text")
        );
    }
    let tiny = embed::encode_base64_text("[]");
    assert_eq!(embed::scenario_source(&tiny, &names), Ok(ScenarioSource::Text("[]".into())));
}

#[wasm_bindgen_test(unsupported = test)]
fn the_browser_session_counts_events_and_keeps_its_writes() {
    let mut session = BrowserCustomer::default();
    let first = session.request(BranchId(2), Op::Deposit(Cents(2500)));
    assert_eq!(
        (first.customer_id, first.event_id, first.branch_id),
        (BROWSER_CUSTOMER.0, FIRST_EVENT.0, 2)
    );
    assert_eq!(first.amount_cents, 2500);
    let writes_of = |session: &Option<bank_proto::Session>| {
        bank_core::WriteSet::from(session.as_ref().unwrap().writes.as_ref().unwrap())
    };
    assert!(writes_of(&first.session).is_empty());
    let write = WriteId { origin_branch: 2, seq: 7 };
    let text = session.answered(&CustomerReply {
        branch_id: 2,
        event_id: first.event_id,
        operation: Operation::Deposit as i32,
        result: Some(customer_reply::Result::Success(Success {
            balance_cents: 42500,
            write: Some(write),
            observed: None,
        })),
        clock: 10,
        customer_id: BROWSER_CUSTOMER.0,
    });
    assert_eq!(text, "success: balance 425");
    let second = session.request(BranchId(1), Op::Query);
    assert_eq!(second.event_id, FIRST_EVENT.0 + 1);
    assert_eq!(second.amount_cents, 0, "queries carry no amount");
    assert!(second.clock > 10, "the clock caught up with the branch's");
    let expected = bank_core::WriteId::from(write);
    assert_eq!(writes_of(&second.session).iter().collect::<Vec<_>>(), vec![expected]);
    let failed = session.answered(&CustomerReply {
        branch_id: 1,
        event_id: second.event_id,
        operation: Operation::Withdraw as i32,
        result: Some(customer_reply::Result::Failure(Failure {
            reason: 1,
            message: "withdraw of 500.00 exceeds balance 425.00".into(),
            balance_cents: 42500,
            requested_cents: 50000,
        })),
        clock: 12,
        customer_id: BROWSER_CUSTOMER.0,
    });
    assert_eq!(failed, "failure: withdraw of 500.00 exceeds balance 425.00 (balance 425)");
}

#[wasm_bindgen_test(unsupported = test)]
fn the_browser_session_keeps_its_read_set_and_guarantees() {
    use bank_proto::{OriginWrites, WriteSet};
    let parse = |text: &str| text.parse::<Guarantees>().ok();
    let mut session = BrowserCustomer::new(parse("ryw,mr").unwrap());
    let q = session.request(BranchId(1), Op::Query);
    let sent = q.session.unwrap();
    assert_eq!(
        sent.guarantees.map(|g| (g.read_your_writes, g.monotonic_reads, g.monotonic_writes)),
        Some((true, true, false))
    );
    let seen = WriteSet {
        origins: vec![OriginWrites {
            origin_branch: 1,
            prefix: 2,
            extra: vec![4],
            extra_ranges: vec![],
        }],
    };
    session.answered(&CustomerReply {
        branch_id: 1,
        event_id: q.event_id,
        operation: Operation::Query as i32,
        result: Some(customer_reply::Result::Success(Success {
            balance_cents: 0,
            write: None,
            observed: Some(seen),
        })),
        clock: 3,
        customer_id: BROWSER_CUSTOMER.0,
    });
    let more = WriteSet {
        origins: vec![
            OriginWrites { origin_branch: 1, prefix: 3, extra: vec![], extra_ranges: vec![] },
            OriginWrites { origin_branch: 2, prefix: 1, extra: vec![], extra_ranges: vec![] },
        ],
    };
    let both = session.session().read_set().clone().union(&bank_core::WriteSet::from(&more));
    assert_eq!(both.to_string(), "{w1.1-4, w2.1}");
    let read_set = session.request(BranchId(2), Op::Query).session.unwrap().read_set;
    let read_set = read_set.map(|r| bank_core::WriteSet::from(&r).to_string());
    assert_eq!(read_set.as_deref(), Some("{w1.1-2, w1.4}"));
    assert_eq!(parse("all").unwrap().to_string(), "all");
    assert_eq!(parse("none").unwrap().to_string(), "none");
    assert_eq!(parse("mw,ryw").unwrap().to_string(), "ryw,mw");
    assert_eq!(parse("rw"), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn network_and_violation_events_change_the_world() {
    use bank_proto::{Link, NetworkChanged, NetworkState, ViolationFound};
    let mut trace = Trace::new();
    trace.push(LabEvent {
        seq: 0,
        at_micros: 0,
        event: Some(Event::Loaded(ScenarioSummary {
            branches: vec![
                BranchInfo { id: 1, balance_cents: 0 },
                BranchInfo { id: 2, balance_cents: 0 },
            ],
            ..Default::default()
        })),
        ..Default::default()
    });
    let state = NetworkState { down: vec![2], cut: vec![Link { a: 2, b: 1 }], delays: vec![] };
    trace.push(LabEvent {
        seq: 1,
        at_micros: 1,
        event: Some(Event::Network(NetworkChanged {
            description: "crash branch 2".into(),
            state: Some(state),
            planned: false,
        })),
        ..Default::default()
    });
    let v = ViolationFound {
        anomaly: "ryw".into(),
        name: "Read Your Writes".into(),
        explanation: "stale".into(),
        session: Some(0),
        event_ids: vec![2, 1],
        branch_ids: vec![2, 1],
        writes: vec!["w1.1".into()],
        ..Default::default()
    };
    trace.push(LabEvent {
        seq: 2,
        at_micros: 2,
        event: Some(Event::Violation(v)),
        ..Default::default()
    });
    let w = World::at(&trace, 2);
    assert!(w.is_down(2) && w.is_cut(1, 2) && w.violations.is_empty());
    let w = World::at(&trace, 3);
    assert_eq!(w.violations.len(), 1);
    let line = describe::line(&trace.events()[2]);
    assert_eq!(line.class, "violation");
    assert!(
        line.text.starts_with(
            "Read Your Writes violated (the guarantee was off): stale [events e2, e1; writes w1.1]"
        ),
        "{}",
        line.text
    );
    assert!(describe::line(&trace.events()[1]).text.contains("B2 down; link 2-1 cut"));
}

// ---------------------------------------------------------------------------
// Components on a fixed trace (browser only)
// ---------------------------------------------------------------------------

#[cfg(target_family = "wasm")]
mod components {
    use super::*;
    use bank_frontend::{
        api::Api, components::graph::Graph, components::timeline::Timeline, engine::Engine,
        state::State,
    };
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    /// Lets the reactive system run every effect the last change scheduled
    /// (property updates can take more than one turn).
    async fn settle() {
        for _ in 0..3 {
            leptos::task::tick().await;
        }
    }

    fn text_of(root: &web_sys::Element, testid: &str) -> Option<String> {
        root.query_selector(&format!("[data-testid='{testid}']"))
            .ok()
            .flatten()
            .and_then(|e| e.text_content())
    }

    fn count(root: &web_sys::Element, testid: &str) -> u32 {
        root.query_selector_all(&format!("[data-testid='{testid}']"))
            .map(|l| l.length())
            .unwrap_or(0)
    }

    /// The message dots drawn in the last frame (the canvas's `data-count`)
    /// and their classes (`data-kinds`).
    fn dots(root: &web_sys::Element) -> (u32, String) {
        let canvas = root
            .query_selector("[data-testid='message-dots']")
            .ok()
            .flatten()
            .expect("the dots' canvas");
        let count =
            canvas.get_attribute("data-count").expect("data-count").parse().expect("a number");
        (count, canvas.get_attribute("data-kinds").unwrap_or_default())
    }

    #[wasm_bindgen_test]
    async fn the_graph_shows_the_replay_at_the_cursor() {
        let document = web_sys::window().unwrap().document().unwrap();
        let host = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&host).unwrap();
        let lab_slot = StoredValue::new(None::<State>);
        let _handle = leptos::mount::mount_to(host.clone().unchecked_into(), move || {
            // Never reached: no server in this test, and nothing here calls it.
            let state = State::new(Engine::Live(Api::new("http://127.0.0.1:9")));
            state.provide();
            lab_slot.set_value(Some(state));
            view! { <Graph/> <Timeline/> }
        });
        let lab = lab_slot.get_value().expect("mounted").playback;
        lab.trace.set(seed_test_2());
        lab.cursor.set(5);
        settle().await;

        assert_eq!(text_of(&host, "branch-balance-1").as_deref(), Some("400"));
        assert_eq!(text_of(&host, "branch-balance-2").as_deref(), Some("0"));
        assert_eq!(count(&host, "branch-1") + count(&host, "branch-2"), 2);
        assert_eq!(count(&host, "customer-0"), 1);
        assert_eq!(dots(&host), (1, "propagate:1".to_owned()), "the propagation to branch 2");
        assert_eq!(text_of(&host, "cursor").as_deref(), Some("5 / 16"));

        lab.cursor.set(16);
        settle().await;
        assert_eq!(text_of(&host, "branch-balance-2").as_deref(), Some("400"));
        assert_eq!(dots(&host), (0, String::new()));

        lab.seek(2);
        settle().await;
        assert_eq!(text_of(&host, "branch-balance-1").as_deref(), Some("0"), "time travel");
        assert_eq!(dots(&host), (1, "deposit:1".to_owned()), "the deposit request");
        let timeline: web_sys::HtmlInputElement =
            host.query_selector("[data-testid='timeline']").unwrap().unwrap().unchecked_into();
        assert_eq!(timeline.value(), "2");
        assert_eq!(timeline.max(), "16");
    }
}

/// A branch's logged entries carry only what they added to its write sets;
/// the replay adds them up, backwards and forwards alike.
#[wasm_bindgen_test(unsupported = test)]
fn write_sets_add_up_from_the_entries() {
    use LogKind::*;
    let events = vec![
        Event::Loaded(summary()),
        logged(1, Execute, 1, DEPOSIT, 0, 1, 40000, &[1]),
        logged(1, Response, 1, DEPOSIT, 0, 2, 40000, &[]),
        logged(1, Execute, 2, DEPOSIT, 0, 3, 80000, &[2]),
    ];
    let mut trace = Trace::new();
    for (seq, event) in events.into_iter().enumerate() {
        trace.push(ev(seq, event));
    }
    let sets = |world: &World| world.branch(1).unwrap().write_sets.clone();
    assert_eq!(sets(&World::at(&trace, 1)), vec![]);
    assert_eq!(
        sets(&World::at(&trace, 3)),
        vec![CustomerWrites { customer_id: 1, event_ids: vec![1] }]
    );
    let end = World::at(&trace, 4);
    assert_eq!(sets(&end), vec![CustomerWrites { customer_id: 1, event_ids: vec![1, 2] }]);
    assert_eq!(World::at(&trace, 2).advanced(&trace, 4), end, "forward from part-way");
    assert_eq!(end.advanced(&trace, 3), World::at(&trace, 3), "backwards replays from the start");
}

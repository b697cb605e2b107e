//! The space-time diagram's model (lanes, rows, arrows, fault markers) on
//! fixed histories, and the diagram component mounted on one (browser only).
//!
//! Natively: `cargo test -p bank-frontend --test diagram`; in the browser as
//! `tests/web.rs` says.

use bank_frontend::model::{
    caption, describe,
    diagram::{ArrowState, Diagram, Fault, Marker},
    embed::{self, EmbedView},
    lanes::{lane_key, lane_label, Lanes},
    trace::{Node, Trace},
};
use bank_proto::{
    customer_reply, lab_event::Event, BranchInfo, BranchLogged, ControlReply, CustomerAnswered,
    CustomerInfo, CustomerReply, CustomerRequest, CustomerSent, Finished, LabEvent, Link, LogEntry,
    LogKind, NetworkChanged, NetworkState, Operation, ScenarioSummary, Success,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DEPOSIT: i32 = Operation::Deposit as i32;
const QUERY: i32 = Operation::Query as i32;

/// Two branches; customer 1 (session 0) and customer 2 (session 1).
fn summary() -> ScenarioSummary {
    ScenarioSummary {
        name: "two-customers".into(),
        branches: vec![
            BranchInfo { id: 2, balance_cents: 0 },
            BranchInfo { id: 1, balance_cents: 0 },
        ],
        customers: vec![
            CustomerInfo { session: 1, customer_id: 2, events: vec![] },
            CustomerInfo { session: 0, customer_id: 1, events: vec![] },
        ],
        ..Default::default()
    }
}

fn sent(session: u32, customer: u64, event: u64, branch: u64, op: i32, clock: u64) -> Event {
    Event::CustomerSent(CustomerSent {
        session,
        from_browser: false,
        request: Some(CustomerRequest {
            customer_id: customer,
            event_id: event,
            branch_id: branch,
            operation: op,
            amount_cents: 100,
            clock,
            session: None,
        }),
    })
}

fn logged(branch: u64, kind: LogKind, event: u64, peer: u64, clock: u64) -> Event {
    Event::BranchLogged(BranchLogged {
        branch_id: branch,
        entry: Some(LogEntry {
            clock,
            kind: kind as i32,
            customer_id: 1,
            event_id: event,
            operation: DEPOSIT,
            amount_cents: 100,
            peer,
            balance_cents: Some(100),
            failed: false,
            clock_step: None,
            write: None,
        }),
        balance_cents: 100,
        added_writes: vec![],
    })
}

fn answered(session: u32, customer: u64, branch: u64, event: u64) -> Event {
    Event::CustomerAnswered(CustomerAnswered {
        session,
        from_browser: false,
        customer_id: customer,
        reply: Some(CustomerReply {
            branch_id: branch,
            event_id: event,
            operation: DEPOSIT,
            result: Some(customer_reply::Result::Success(Success {
                balance_cents: 100,
                write: None,
                observed: None,
            })),
            clock: 0,
            customer_id: customer,
        }),
    })
}

fn network(down: &[u64], cut: &[(u64, u64)]) -> Event {
    Event::Network(NetworkChanged {
        description: String::new(),
        state: Some(NetworkState {
            down: down.to_vec(),
            cut: cut.iter().map(|&(a, b)| Link { a, b }).collect(),
            delays: vec![],
        }),
        planned: false,
    })
}

/// A deposit at branch 1 whose propagation to branch 2 is lost when branch 2
/// crashes; a query sent to branch 2 while it is down; then branch 2
/// restarts while the link 1-2 is cut.
fn crash_history() -> Vec<Event> {
    use LogKind::*;
    vec![
        Event::Loaded(summary()),                            // 0
        sent(0, 1, 1, 1, DEPOSIT, 1),                        // 1  request A
        logged(1, Request, 1, 0, 2),                         // 2  A received
        logged(1, Execute, 1, 0, 3),                         // 3
        logged(1, PropagateSent, 1, 2, 4),                   // 4  propagation P
        network(&[2], &[]),                                  // 5  crash B2: P lost
        logged(1, Response, 1, 0, 5),                        // 6  reply R
        answered(0, 1, 1, 1),                                // 7  R received
        sent(1, 2, 1, 2, QUERY, 1),                          // 8  query Q to a down branch
        network(&[], &[(2, 1)]),                             // 9  restart B2, cut 1-2
        Event::State(ControlReply { state: 2, speed: 1.0 }), // 10 no row
    ]
}

fn trace_of(events: Vec<Event>) -> Trace {
    let mut trace = Trace::new();
    for (seq, event) in events.into_iter().enumerate() {
        trace.push(LabEvent {
            seq: seq as u64,
            at_micros: seq as u64,
            event: Some(event),
            ..Default::default()
        });
    }
    trace
}

fn lanes_of(diagram: &Diagram) -> Vec<(usize, Node)> {
    diagram.rows().iter().enumerate().filter_map(|(r, row)| row.lane.map(|l| (r, l))).collect()
}

#[wasm_bindgen_test(unsupported = test)]
fn lanes_are_branches_then_sessions_then_the_browser() {
    let trace = trace_of(crash_history());
    let canonical = Lanes::of_trace(&trace);
    assert_eq!(
        canonical,
        vec![Node::Branch(1), Node::Branch(2), Node::Customer(0), Node::Customer(1), Node::Browser]
    );
    assert_eq!(Lanes::of_trace(&Trace::new()), vec![], "no scenario, no lanes");
    let keys: Vec<String> = canonical.iter().map(|n| lane_key(*n)).collect();
    assert_eq!(keys, ["b1", "b2", "c0", "c1", "you"]);
    let labels: Vec<String> = canonical.iter().map(|n| lane_label(*n, &trace)).collect();
    assert_eq!(labels, ["B1", "B2", "C1", "C2", "you"], "customers by their ids, as in the graph");
}

#[wasm_bindgen_test(unsupported = test)]
fn lanes_move_hide_and_survive_a_new_history() {
    let canonical = Lanes::of_trace(&trace_of(crash_history()));
    let mut lanes = Lanes::new(canonical.clone());
    lanes.move_by(Node::Customer(1), -10);
    assert_eq!(lanes.order()[0], Node::Customer(1), "moved to the front, stopping there");
    lanes.move_by(Node::Branch(1), 1);
    assert_eq!(&lanes.order()[..3], &[Node::Customer(1), Node::Branch(2), Node::Branch(1)]);
    lanes.move_by(Node::Browser, 5);
    assert_eq!(lanes.order().last(), Some(&Node::Browser), "the last stays last");
    // A drag: customer 1's lane let go on the third column takes its place.
    let before = lanes.clone();
    lanes.move_to(Node::Customer(1), 2);
    assert_eq!(&lanes.order()[..3], &[Node::Branch(2), Node::Branch(1), Node::Customer(1)]);
    lanes.move_to(Node::Customer(1), 0);
    assert_eq!(lanes, before, "and back");
    lanes.move_to(Node::Customer(1), 99);
    assert_eq!(lanes, before, "no such column: nothing moves");
    lanes.toggle(Node::Branch(2));
    assert!(lanes.is_hidden(Node::Branch(2)));
    assert_eq!(lanes.column(Node::Branch(2)), None);
    assert_eq!(lanes.column(Node::Branch(1)), Some(1), "hidden lanes take no column");
    assert_eq!(lanes.visible().count(), 4);
    // Columns count shown lanes only: the last shown column is the browser's.
    let hidden_before = lanes.clone();
    lanes.move_to(Node::Customer(1), 3);
    assert_eq!(lanes.order().last(), Some(&Node::Customer(1)));
    assert_eq!(lanes.column(Node::Customer(1)), Some(3));
    lanes = hidden_before;
    lanes.toggle(Node::Branch(9));
    assert_eq!(lanes.hidden(), &[Node::Branch(2)], "an unknown lane cannot be hidden");

    // The same lanes again: nothing changes; one branch fewer and a new one.
    assert!(!lanes.reconcile(&canonical));
    let other = [Node::Branch(1), Node::Branch(3), Node::Customer(1), Node::Browser];
    assert!(lanes.reconcile(&other));
    assert_eq!(
        lanes.order(),
        &[Node::Customer(1), Node::Branch(1), Node::Browser, Node::Branch(3)]
    );
    assert_eq!(lanes.hidden(), &[] as &[Node], "a lane gone is no longer hidden");
    lanes.toggle(Node::Branch(3));
    lanes.toggle(Node::Branch(3));
    assert!(!lanes.is_hidden(Node::Branch(3)), "toggling twice shows it again");

    // Lanes nobody moved follow the new history's order: "you" stays last.
    let mut fresh = Lanes::default();
    fresh.reconcile(&canonical);
    assert!(fresh.reconcile(&other));
    assert_eq!(fresh.order(), &other);
}

#[wasm_bindgen_test(unsupported = test)]
fn every_lane_event_gets_a_row_in_trace_order() {
    let trace = trace_of(crash_history());
    let diagram = Diagram::of(&trace, vec![], false);
    // Every event but the load and the play-state change has a row.
    let rows: Vec<Option<usize>> = (0..trace.len()).map(|i| diagram.row_of(i)).collect();
    let expected = [None, Some(0), Some(1), Some(2), Some(3), Some(4), Some(5), Some(6)];
    assert_eq!(&rows[..8], &expected);
    assert_eq!(&rows[8..], &[Some(7), Some(8), None]);
    // Lanes and the clocks drawn.
    let lanes = lanes_of(&diagram);
    assert_eq!(lanes[0], (0, Node::Customer(0)));
    assert_eq!(lanes[1], (1, Node::Branch(1)));
    assert_eq!(diagram.rows()[1].clock_label(), "2", "the branch's Lamport clock");
    assert_eq!(diagram.rows()[0].clock_label(), "1", "the customer's clock it sent");
    assert_eq!(diagram.rows()[6].clock_label(), "", "an answer carries no customer clock");
    assert_eq!(diagram.rows()[4].lane, None, "the crash has a row of its own");
    // Positions are monotone in time on every lane.
    for lane in Lanes::of_trace(&trace) {
        let ys: Vec<usize> =
            lanes_of(&diagram).iter().filter(|l| l.1 == lane).map(|l| l.0).collect();
        assert!(ys.windows(2).all(|w| w[0] < w[1]), "{lane:?}: {ys:?}");
    }
    // The cursor line sits below the rows applied.
    assert_eq!(diagram.cursor_y(0), 0.0);
    assert_eq!(diagram.cursor_y(2), 1.0, "after the customer's send");
    assert_eq!(diagram.cursor_y(trace.len()), 9.0);
    assert_eq!(diagram.rows_in(1.0..3.0), 1..3, "rows centred in the window");
    assert_eq!(diagram.rows_in(-5.0..100.0), 0..9);
    assert_eq!(diagram.rows_in(50.0..60.0), 9..9);
}

#[wasm_bindgen_test(unsupported = test)]
fn arrows_go_from_the_send_down_to_the_receive() {
    let trace = trace_of(crash_history());
    let diagram = Diagram::of(&trace, vec![], false);
    let end = trace.len();
    let mut delivered = 0;
    for flight in trace.flights() {
        let arrow = diagram.arrow(&trace, flight, end).expect("every lane is shown");
        assert_eq!((arrow.from, arrow.to, arrow.class), (flight.from, flight.to, flight.class()));
        assert_eq!(arrow.y0, diagram.row_of(flight.start).unwrap() as f64 + 0.5);
        assert!(arrow.y1 > arrow.y0, "downwards: {arrow:?}");
        if let Some(received) = flight.end {
            assert_eq!(arrow.y1, diagram.row_of(received).unwrap() as f64 + 0.5, "to the receive");
            assert_eq!(arrow.state, ArrowState::Delivered);
            delivered += 1;
        }
    }
    assert_eq!(delivered, 2, "the deposit request and its reply");
    let all = diagram.arrows_in(&trace, end, 0.0..100.0);
    assert_eq!(all.len(), trace.flights().len());
    // Only arrows crossing the window are returned.
    let late = diagram.arrows_in(&trace, end, 6.0..7.0);
    assert!(late.iter().all(|a| a.y0 <= 7.0 && a.y1 >= 6.0), "{late:?}");
    assert!(late.len() < all.len());
}

#[wasm_bindgen_test(unsupported = test)]
fn arrows_are_in_flight_until_received_and_red_when_lost() {
    let trace = trace_of(crash_history());
    let diagram = Diagram::of(&trace, vec![], false);
    let flight = |event_index: usize| {
        trace.flights().iter().find(|f| f.start == event_index).expect("a flight sent there")
    };
    let state = |start: usize, cursor: usize| {
        diagram.arrow(&trace, flight(start), cursor).map(|a| a.state).unwrap()
    };
    // The deposit request: sent at 1, received at 2.
    assert_eq!(state(1, 1), ArrowState::Future);
    assert_eq!(state(1, 2), ArrowState::InFlight);
    assert_eq!(state(1, 3), ArrowState::Delivered);
    // The propagation: sent at 4, lost by the crash at 5.
    assert_eq!(diagram.dropped_at(&trace, flight(4)), Some(5));
    assert_eq!(state(4, 5), ArrowState::InFlight);
    let in_flight = diagram.arrow(&trace, flight(4), 5).unwrap();
    assert_eq!(in_flight.y1, diagram.cursor_y(5), "an open arrow reaches the cursor line");
    let lost = diagram.arrow(&trace, flight(4), 6).unwrap();
    assert_eq!(lost.state, ArrowState::Dropped);
    assert_eq!(lost.y1, diagram.row_of(5).unwrap() as f64 + 0.5, "it ends at the crash");
    // The query to a branch already down is lost when sent.
    assert_eq!(diagram.dropped_at(&trace, flight(8)), Some(8));
    assert_eq!(state(8, 9), ArrowState::Dropped);
    // Received messages are never dropped.
    assert_eq!(diagram.dropped_at(&trace, flight(1)), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn the_end_of_the_run_loses_what_is_still_travelling() {
    use LogKind::*;
    let mut events = crash_history()[..5].to_vec();
    events[4] = logged(1, PropagateSent, 1, 2, 4);
    let open = trace_of(events.clone());
    let diagram = Diagram::of(&open, vec![], false);
    let propagation = open.flights().iter().find(|f| f.start == 4).unwrap();
    assert_eq!(diagram.dropped_at(&open, propagation), None, "still travelling, not lost");
    assert_eq!(diagram.arrow(&open, propagation, 5).unwrap().state, ArrowState::InFlight);
    events.push(Event::Finished(Finished { output_json: "[]".into(), format: 0 }));
    let finished = trace_of(events);
    let diagram = Diagram::of(&finished, vec![], false);
    let propagation = finished.flights().iter().find(|f| f.start == 4).unwrap();
    assert_eq!(diagram.dropped_at(&finished, propagation), Some(5));
    assert_eq!(diagram.arrow(&finished, propagation, 6).unwrap().state, ArrowState::Dropped);
}

#[wasm_bindgen_test(unsupported = test)]
fn faults_are_markers_on_the_lanes_they_hit() {
    let trace = trace_of(crash_history());
    let diagram = Diagram::of(&trace, vec![], false);
    let (crash, changes) = (diagram.row_of(5).unwrap(), diagram.row_of(9).unwrap());
    let marker = |row, index, lane, fault| Marker { row, index, lane, fault };
    assert_eq!(
        diagram.markers(),
        &[
            marker(crash, 5, Node::Branch(2), Fault::Crash),
            marker(changes, 9, Node::Branch(2), Fault::Restart),
            marker(changes, 9, Node::Branch(1), Fault::Cut { peer: 2 }),
            marker(changes, 9, Node::Branch(2), Fault::Cut { peer: 1 }),
        ]
    );
    assert_eq!(diagram.markers_in(crash + 1..changes + 1).len(), 3);
    assert_eq!(Fault::Cut { peer: 2 }.describe(), "link to branch 2 cut");

    // Hiding branch 2 leaves the crash without a row; the cut still shows on branch 1.
    let hidden = Diagram::of(&trace, vec![Node::Branch(2)], false);
    assert_eq!(hidden.row_of(5), None);
    let faults: Vec<(Node, Fault)> = hidden.markers().iter().map(|m| (m.lane, m.fault)).collect();
    assert_eq!(faults, vec![(Node::Branch(1), Fault::Cut { peer: 2 })]);
    // Arrows to or from a hidden lane are not drawn.
    let propagation = trace.flights().iter().find(|f| f.start == 4).unwrap();
    assert_eq!(hidden.arrow(&trace, propagation, trace.len()), None);
    assert!(hidden
        .arrows_in(&trace, trace.len(), 0.0..100.0)
        .iter()
        .all(|a| a.to != Node::Branch(2)));
}

#[wasm_bindgen_test(unsupported = test)]
fn compact_mode_folds_runs_of_one_lane() {
    let trace = trace_of(crash_history());
    let diagram = Diagram::of(&trace, vec![], true);
    assert!(diagram.is_compact());
    // Branch 1's request, execute and propagate-sent (2, 3, 4) share a row.
    let run = diagram.rows()[diagram.row_of(2).unwrap()];
    assert_eq!((run.first, run.last, run.events), (2, 4, 3));
    assert_eq!(run.clock_label(), "2–4");
    assert_eq!(diagram.row_of(3), diagram.row_of(4));
    assert!(run.holds(3) && !run.holds(5));
    // The crash ends the run: branch 1's response is a row of its own.
    assert!(diagram.row_of(6) > diagram.row_of(5));
    assert_eq!(diagram.rows().len(), 7);
    // Arrows still point downwards, from send to receive.
    for flight in trace.flights() {
        let arrow = diagram.arrow(&trace, flight, trace.len()).unwrap();
        assert!(arrow.y1 > arrow.y0, "{arrow:?}");
    }
    // The cursor inside a run sits below it (part of it is applied).
    assert_eq!(diagram.cursor_y(3), diagram.row_of(2).unwrap() as f64 + 1.0);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_growing_trace_is_placed_as_if_at_once() {
    for compact in [false, true] {
        let events = crash_history();
        let mut trace = Trace::new();
        let mut growing = Diagram::new(vec![Node::Customer(1)], compact);
        for (seq, event) in events.iter().cloned().enumerate() {
            trace.push(LabEvent {
                seq: seq as u64,
                at_micros: 0,
                event: Some(event),
                ..Default::default()
            });
            growing.sync(&trace);
        }
        assert_eq!(growing, Diagram::of(&trace, vec![Node::Customer(1)], compact));
        // A new history starts the diagram afresh.
        trace.push(LabEvent {
            seq: 0,
            at_micros: 0,
            event: Some(Event::Loaded(summary())),
            ..Default::default()
        });
        growing.sync(&trace);
        assert!(growing.rows().is_empty());
        assert_eq!(growing.hidden(), &[Node::Customer(1)], "its settings stay");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn embed_mode_can_show_the_diagram() {
    assert_eq!(embed::parse_query("?embed=1").view, EmbedView::Graph);
    let p = embed::parse_query("?embed=1&view=diagram&scenario=seed-test-1");
    assert_eq!(p.view, EmbedView::Diagram);
    assert!(p.view.shows_diagram() && !p.view.shows_graph());
    let both = embed::parse_query("?view=both").view;
    assert!(both.shows_diagram() && both.shows_graph());
    assert_eq!(embed::parse_query("?view=nonsense").view, EmbedView::Graph);
}

#[wasm_bindgen_test]
#[test]
fn presentation_mode_is_asked_for_in_the_address_and_its_caption_follows_the_cursor() {
    assert!(embed::parse_query("?present=1&scenario=seed-test-1").present);
    assert!(embed::parse_query("?present").present);
    assert!(!embed::parse_query("?present=0").present);
    assert!(!embed::parse_query("?embed=1").present);
    assert_eq!(caption::at(&Trace::new(), 0), "No scenario loaded yet.");
    let trace = simulated_trace("demo-stale-read");
    assert!(caption::at(&trace, 0).starts_with("Press play"));
    let first = caption::at(&trace, 1);
    assert!(first.starts_with(&format!("Event 1 of {} · lab: loaded", trace.len())), "{first}");
    // Every later cursor says the event just before it, as the log does.
    for cursor in [2, trace.len() / 2, trace.len()] {
        let line = describe::line(&trace.events()[cursor - 1]);
        let text = caption::at(&trace, cursor);
        assert!(text.starts_with(&format!("Event {cursor} of ")), "{text}");
        assert!(text.ends_with(&format!("{}: {}", line.actor, line.text)), "{text}");
    }
}

/// demo-stale-read simulated in the page's engine, as its trace.
fn simulated_trace(name: &str) -> Trace {
    use bank_frontend::engine::sim::lab::LabCore;
    let text = bank_core::examples::find(name).expect("a shipped example").text;
    let mut core = LabCore::default();
    core.load(text, name, None, None, None).expect("it loads");
    core.run_to_end(0.0);
    let mut trace = Trace::new();
    for event in core.history() {
        trace.push(event.clone());
    }
    trace
}

#[wasm_bindgen_test]
#[test]
fn vector_clocks_order_a_write_before_the_answers_that_saw_it() {
    use bank_frontend::model::causal;
    let trace = simulated_trace("seed-test-1");
    let causality = causal::of_trace(&trace).expect("the history's messages fit together");
    let index = |pred: &dyn Fn(&Event) -> bool| {
        trace.events().iter().position(|e| e.event.as_ref().is_some_and(pred)).expect("found")
    };
    // The first request sent, and the last answer of the run.
    let first_sent = index(&|e| matches!(e, Event::CustomerSent(_)));
    let last_answer = trace
        .events()
        .iter()
        .rposition(|e| matches!(e.event, Some(Event::CustomerAnswered(_))))
        .expect("an answer");
    assert!(causality.happened_before(first_sent, last_answer));
    let cone = causality.cone(last_answer);
    assert!(cone.past.contains(&first_sent));
    assert!(causality.cone(first_sent).future.contains(&last_answer));
    // Every event on a lane has a vector clock, named by lane.
    let label = causal::label(&causality, first_sent).expect("on a lane");
    assert!(label.starts_with('[') && label.contains(':'), "{label}");
    // The load and the network events are on no lane.
    assert_eq!(causal::label(&causality, 0), None);
}

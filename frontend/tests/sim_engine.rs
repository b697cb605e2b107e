//! The in-browser engine against the native answers: a course input
//! simulated in the page gives the course output `bank run` prints (the
//! expected files the native tests check), and an experiment's violations
//! are those of the native checker on the same seeded run.
//!
//! Browser: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p bank-frontend --target
//! wasm32-unknown-unknown --test sim_engine` (natively too: `cargo test -p
//! bank-frontend --test sim_engine`).

use bank_core::experiment::demo;
use bank_core::formats::OutputFormat;
use bank_frontend::engine::sim::lab::LabCore;
use bank_proto::lab_trace::Prepared;
use bank_proto::{lab_event::Event, Command, LabEvent, ViolationFound};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Plays the loaded scenario at the fastest speed on a made-up wall clock
/// until it finishes (bounded), and returns its history.
fn play_to_the_end(core: &mut LabCore) -> Vec<LabEvent> {
    let mut now = 0.0;
    core.control(Command::Play, 50.0, now);
    for _ in 0..200_000 {
        now += 50.0;
        core.tick(now);
        if core.history().iter().any(|e| matches!(e.event, Some(Event::Finished(_)))) {
            return core.history().to_vec();
        }
    }
    panic!("the run did not finish: {:?}", core.history().last());
}

fn output(history: &[LabEvent]) -> String {
    history
        .iter()
        .find_map(|e| match &e.event {
            Some(Event::Finished(f)) => Some(f.output_json.clone()),
            _ => None,
        })
        .expect("a finished event")
}

fn violations(history: &[LabEvent]) -> Vec<ViolationFound> {
    history
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Violation(v)) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

/// `input` played in the simulated lab, in `format` (`None`: the input's).
fn simulated_output(input: &str, format: Option<OutputFormat>) -> String {
    let mut core = LabCore::default();
    core.load(input, "input.json", format, None, None).expect("the input loads");
    output(&play_to_the_end(&mut core))
}

fn same_text(actual: &str, expected: &str, what: &str) {
    assert_eq!(actual.trim_end(), expected.trim_end(), "{what}");
}

#[wasm_bindgen_test]
fn the_shipped_examples_end_in_their_expected_outputs() {
    let cases = [
        (
            bank_core::examples::find("seed-test-1").unwrap().text,
            include_str!("../../examples/seed-test-1.expected.json"),
        ),
        (
            bank_core::examples::find("seed-test-2").unwrap().text,
            include_str!("../../examples/seed-test-2.expected.json"),
        ),
    ];
    for (i, (input, expected)) in cases.into_iter().enumerate() {
        same_text(&simulated_output(input, None), expected, &format!("example {i}"));
    }
}

#[wasm_bindgen_test]
fn course_files_match_the_expected_outputs_byte_for_byte() {
    let cases = [
        (
            include_str!("../../testdata/formats/p1-branch-propagation/jthak002+cse531/input_small.json"),
            OutputFormat::P1,
            include_str!("../../testdata/formats/p1-branch-propagation/anuragbnrj+cse531/output.json"),
            "p1 input_small",
        ),
        (
            include_str!("../../testdata/formats/p1-branch-propagation/anuragbnrj+cse531/input_2.json"),
            OutputFormat::P1,
            include_str!("../../testdata/formats/p1-branch-propagation/anuragbnrj+cse531/output_2.json"),
            "p1 input_2",
        ),
        (
            include_str!("../../testdata/formats/p3-client-consistency/swantrace+cse531_project3/input.monotonic_writes.json"),
            OutputFormat::P3,
            include_str!("../../testdata/formats/p3-client-consistency/swantrace+cse531_project3/output.monotonic_writes.json"),
            "p3 monotonic writes",
        ),
        (
            include_str!("../../testdata/formats/p3-client-consistency/swantrace+cse531_project3/input.read_writes.json"),
            OutputFormat::P3,
            include_str!("../../testdata/formats/p3-client-consistency/swantrace+cse531_project3/output.read_writes.json"),
            "p3 read your writes",
        ),
        (
            include_str!("../../testdata/formats/p3-client-consistency/anuragbnrj+cse531/input_sample.json"),
            OutputFormat::P3,
            include_str!("../../testdata/formats/p3-client-consistency/anuragbnrj+cse531/output_sample.json"),
            "p3 sample",
        ),
    ];
    for (input, format, expected, what) in cases {
        same_text(&simulated_output(input, Some(format)), expected, what);
    }
}

#[wasm_bindgen_test]
fn the_big_project_3_inputs_match_the_published_answers() {
    let expected: serde_json::Value = serde_json::from_str(include_str!(
        "../../testdata/formats/p3-client-consistency/jthak002+cse531/customer_output.1.json"
    ))
    .unwrap();
    for input in [
        include_str!(
            "../../testdata/formats/p3-client-consistency/anuragbnrj+cse531/input_big.json"
        ),
        include_str!("../../testdata/formats/p3-client-consistency/jthak002+cse531/input_big.json"),
    ] {
        let ours: serde_json::Value =
            serde_json::from_str(&simulated_output(input, Some(OutputFormat::P3))).unwrap();
        assert_eq!(ours, expected);
    }
}

/// The violations the simulated lab reports for every shipped experiment
/// are those the native checker (`bank sim`, the server's comparison:
/// `demo::run_checked`) finds on the same seeded run, and the demos do show
/// their anomaly.
#[wasm_bindgen_test]
fn experiments_find_the_native_checkers_violations() {
    for example in bank_core::examples::all().into_iter().filter(|e| e.name.starts_with("demo-")) {
        let mut core = LabCore::default();
        core.load(example.text, example.name, None, None, None).unwrap();
        core.run_to_end(0.0);
        let ours = violations(core.history());

        let prepared = Prepared::read(example.text, example.name, None, None, None).unwrap();
        let checked = demo::run_checked(&prepared.scenario, &prepared.plan.sim_config()).unwrap();
        let native: Vec<ViolationFound> =
            checked.report.violations.iter().map(|v| (&checked.history, v).into()).collect();
        assert_eq!(ours, native, "{}", example.name);
        assert!(!ours.is_empty(), "{} shows its anomaly", example.name);
    }
}

#[wasm_bindgen_test]
fn faults_and_the_browser_customer_work_in_the_simulator() {
    use bank_core::{BranchId, CustomerId, EventId, Op, Session};
    let mut core = LabCore::default();
    let text = bank_core::examples::find("seed-test-2").unwrap().text;
    core.load(text, "seed-test-2", None, None, None).unwrap();
    let crash = core.inject(bank_core::network::Fault::Crash(2), 0.0);
    assert_eq!(crash.error, "");
    assert_eq!(crash.state.unwrap().down, vec![2]);
    let again = core.inject(bank_core::network::Fault::Crash(2), 1.0);
    assert_eq!(again.error, "branch 2 is down already");
    assert_eq!(core.inject(bank_core::network::Fault::Restart(2), 2.0).error, "");
    let mut session = Session::new(CustomerId(0));
    let request =
        session.request(EventId(1_000_001), BranchId(1), Op::Deposit(bank_core::Cents(5_00)));
    let token = core.customer(request, 3.0).unwrap();
    let answers = core.tick(1_000.0);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, token);
    let kinds: Vec<&str> = core
        .history()
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Network(n)) => Some(n.description.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), 2, "crash and restart recorded: {kinds:?}");
    // The browser's deposit is in the course output at the end.
    let history = play_to_the_end(&mut core);
    assert!(history
        .iter()
        .any(|e| matches!(&e.event, Some(Event::CustomerAnswered(a)) if a.from_browser)));
}

#[wasm_bindgen_test]
fn a_branch_left_down_ends_the_run_repaired_as_on_a_live_cluster() {
    // The peer gives up on the crashed branch after 2 s (a synchronous
    // deposit is answered "unavailable"), the run ends, and its end repairs
    // the network before the output, saying so.
    let mut core = LabCore::default();
    let text = bank_core::examples::find("seed-test-1").unwrap().text;
    core.load(text, "seed-test-1", None, None, None).unwrap();
    assert_eq!(core.inject(bank_core::network::Fault::Crash(2), 0.0).error, "");
    let history = play_to_the_end(&mut core);
    let changes: Vec<_> = history
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Network(n)) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(!changes[0].planned);
    assert!(changes[1].planned && changes[1].description.starts_with("the run's end"));
    assert!(changes[1].state.as_ref().is_some_and(|s| s.down.is_empty()));
    assert!(output(&history).contains("\"balance\""), "the run finished with its output");
}

#[wasm_bindgen_test]
fn to_the_end_is_the_run_a_play_gives_only_sooner() {
    // "To the end" moves the run's clock ahead in big steps; the permits
    // still go at their own simulated times, so the history is the one
    // playing at the same speed gives, event for event.
    let text = bank_core::examples::find("demo-stale-read").unwrap().text;
    let mut played = LabCore::default();
    played.load(text, "demo-stale-read", None, None, None).unwrap();
    let played = play_to_the_end(&mut played);
    let mut fast = LabCore::default();
    fast.load(text, "demo-stale-read", None, None, None).unwrap();
    fast.control(Command::Play, 50.0, 0.0);
    for _ in 0..1_000 {
        fast.fast_forward(0.0, 2_000.0);
        if fast.is_over() {
            break;
        }
    }
    assert!(fast.is_over(), "the run ended");
    // Event for event, and at the same simulated times up to the run's
    // last event; its end (findings, output) is stamped when a step saw it.
    let strip = |h: &[LabEvent]| h.iter().map(|e| (e.seq, e.event.clone())).collect::<Vec<_>>();
    assert_eq!(strip(fast.history()), strip(&played));
    let ended = played
        .iter()
        .position(|e| matches!(e.event, Some(Event::Violation(_)) | Some(Event::Finished(_))));
    let ended = ended.expect("an end");
    assert_eq!(&fast.history()[..ended], &played[..ended]);
}

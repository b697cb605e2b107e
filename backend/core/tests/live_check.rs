//! The live checker against `bank check`, on random simulated runs.
//!
//! A simulated run's history is replayed into a [`LiveCheck`] in a random
//! order that keeps each session's operations and each branch's applies in
//! their own order (a superset of the orders a real trace can show). Then:
//! * after everything, its report is exactly `bank check`'s;
//! * after any prefix, every violation it reports is one the final report
//!   contains (same anomaly, session and offending event);
//! * [`first_violation`] finds the shortest prefix that shows one.

use std::collections::BTreeSet;

use bank_core::branch::PropagationMode;
use bank_core::check::live::{first_violation, LiveCheck, LiveInput};
use bank_core::check::{self, Report};
use bank_core::experiment::demo;
use bank_core::network::Delay;
use bank_core::sim::{self, SimConfig};
use bank_core::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

mod common;
use common::scenario_strategy;

fn config_strategy() -> impl Strategy<Value = SimConfig> {
    (
        prop::sample::select(Schedule::ALL.to_vec()),
        prop::sample::select(vec![
            PropagationMode::Sequential,
            PropagationMode::Parallel,
            PropagationMode::Background,
        ]),
        prop::sample::select(vec![Guarantees::NONE, Guarantees::COURSE, Guarantees::ALL]),
        any::<u64>(),
        0u64..30,
    )
        .prop_map(|(schedule, propagation, guarantees, seed, spread)| SimConfig {
            schedule,
            propagation,
            guarantees,
            seed,
            network: NetworkPlan { delay_ms: Delay::Between(0, spread), ..NetworkPlan::default() },
            client_delay: Delay::Between(0, spread / 2),
            ..SimConfig::default()
        })
}

/// The history's events, interleaved by `choices`.
fn interleave(history: &History, choices: &[usize]) -> Vec<LiveInput> {
    let mut lanes: Vec<Vec<LiveInput>> = history
        .sessions
        .iter()
        .enumerate()
        .map(|(s, session)| {
            session
                .ops
                .iter()
                .flat_map(|op| {
                    [
                        LiveInput::Sent { session: Some(s) },
                        LiveInput::Answered { session: Some(s), op: op.clone() },
                    ]
                })
                .collect()
        })
        .collect();
    lanes.extend(history.branches.iter().map(|b| {
        b.applied.iter().map(|a| LiveInput::Applied { branch: b.id, record: a.clone() }).collect()
    }));
    for lane in &mut lanes {
        lane.reverse();
    }
    let mut out = Vec::new();
    let mut choice = choices.iter().cycle();
    loop {
        let open: Vec<usize> = (0..lanes.len()).filter(|&l| !lanes[l].is_empty()).collect();
        if open.is_empty() {
            return out;
        }
        let pick = open[choice.next().copied().unwrap_or(0) % open.len()];
        out.push(lanes[pick].pop().expect("open lane"));
    }
}

fn start(history: &History) -> LiveCheck {
    LiveCheck::new(
        history.sessions.iter().map(|s| (s.customer, s.guarantees)),
        history.branches.iter().map(|b| {
            let start = b.applied.first().map_or(b.balance, |a| {
                let signed = if a.op == OpKind::Withdraw { -a.amount.0 } else { a.amount.0 };
                Cents(a.balance_after.0 - signed)
            });
            (b.id, start)
        }),
    )
}

fn keys(report: &Report) -> BTreeSet<String> {
    report.violations.iter().map(|v| format!("{:?}", v.key())).collect()
}

/// Replays `checked`'s history in the order `choices` picks and holds the
/// live checker to the three properties of the module docs.
fn replay_agrees(checked: &demo::Checked, choices: &[usize]) -> Result<(), TestCaseError> {
    let inputs = interleave(&checked.history, choices);
    let final_keys = keys(&checked.report);
    let mut live = start(&checked.history);
    let mut first_seen = None;
    for (n, input) in inputs.iter().enumerate() {
        live.push(input.clone());
        let so_far = live.report();
        let prefix_keys = keys(&so_far);
        prop_assert!(
            prefix_keys.is_subset(&final_keys),
            "after {} inputs: {:?} not in {:?}",
            n + 1,
            prefix_keys,
            final_keys
        );
        if first_seen.is_none() && !so_far.is_clean() {
            first_seen = Some(n + 1);
        }
    }
    prop_assert_eq!(live.report(), check::check(&checked.history));
    let found = first_violation(&start(&checked.history), &inputs).map(|(n, _)| n);
    prop_assert_eq!(found, first_seen);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn live_check_agrees_with_bank_check(
        scenario in scenario_strategy(),
        config in config_strategy(),
        choices in prop::collection::vec(0usize..64, 1..64),
    ) {
        let checked = demo::run_checked(&scenario, &config).expect("the run finishes");
        replay_agrees(&checked, &choices)?;
    }
}

/// The demos, each of which breaks something, in many orders: the
/// properties hold where there are violations to find.
#[test]
fn live_check_agrees_on_every_demo() {
    let demos = [
        include_str!("../../../examples/demo-stale-read.json"),
        include_str!("../../../examples/demo-reads-backwards.json"),
        include_str!("../../../examples/demo-write-before-cause.json"),
        include_str!("../../../examples/demo-writes-out-of-order.json"),
        include_str!("../../../examples/demo-overdraft.json"),
    ];
    let mut rng = sim::SplitMix64::new(7);
    for (i, text) in demos.into_iter().enumerate() {
        let e = experiment::parse_experiment(text, "demo").expect("parses");
        let config = demo::sim_config(&e.settings, SimConfig::default());
        let checked = demo::run_checked(&e.scenario, &config).unwrap();
        assert!(!checked.report.is_clean(), "demo {i} shows its anomaly");
        for _ in 0..25 {
            let choices: Vec<usize> = (0..16).map(|_| (rng.next_u64() % 64) as usize).collect();
            replay_agrees(&checked, &choices).unwrap_or_else(|e| panic!("demo {i}: {e}"));
        }
    }
}

/// The stale-read demo: the live check shows the broken Read Your Writes
/// from the query's answer on, never before.
#[test]
fn the_stale_read_shows_from_the_answer_on() {
    let text = include_str!("../../../examples/demo-stale-read.json");
    let experiment = experiment::parse_experiment(text, "demo-stale-read.json").expect("parses");
    let config = demo::sim_config(&experiment.settings, SimConfig::default());
    let checked = demo::run_checked(&experiment.scenario, &config).unwrap();
    let inputs = interleave(&checked.history, &[0]);
    let (n, report) = first_violation(&start(&checked.history), &inputs).expect("a violation");
    assert!(matches!(&inputs[n - 1], LiveInput::Answered { op, .. } if op.op == OpKind::Query));
    assert_eq!(report.violations[0].anomaly, check::Anomaly::Broke(Guarantee::ReadYourWrites));
    assert!(report.violations[0]
        .sentence
        .starts_with("Let R = customer 1's query #2 at branch 2 (answered 0"));
}

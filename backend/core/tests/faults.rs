//! The consistency model under asynchrony and faults, checked with the
//! deterministic simulator and the history checker.
//!
//! Each case draws a small bank, a set of session guarantees, and a hostile
//! network: random per-link delays (messages overtake each other), message
//! loss (with retries, so duplicates), and a timeline of partitions, link
//! delay changes, crashes and restarts. The properties:
//!
//! * every guarantee a session asked for holds: the checker finds no
//!   violation of it;
//! * nothing acknowledged is lost: at the end every branch has applied every
//!   write a customer had acknowledged, each exactly once, and all branches
//!   hold the same balance.

use std::collections::HashSet;

use bank_core::branch::PropagationMode;
use bank_core::check::{self, Anomaly};
use bank_core::network::{Delay, Fault, TimedFault};
use bank_core::sim::{self, SimConfig};
use bank_core::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

mod common;
use common::scenario_strategy_sized;

fn fault_strategy(branches: u64) -> impl Strategy<Value = TimedFault> {
    let b = 1..=branches;
    let pair = (1..=branches, 1..=branches).prop_map(|(a, b)| [a, b]);
    let fault = prop_oneof![
        pair.clone().prop_map(Fault::Cut),
        pair.clone().prop_map(Fault::Heal),
        b.clone().prop_map(Fault::Isolate),
        b.clone().prop_map(Fault::Rejoin),
        b.clone().prop_map(Fault::Crash),
        b.clone().prop_map(Fault::Restart),
        (pair, 0u64..300)
            .prop_map(|(between, ms)| Fault::SetDelay { between, delay_ms: Delay::Fixed(ms) }),
    ];
    (0u64..800, fault).prop_map(|(at_ms, fault)| TimedFault { at_ms, fault })
}

fn guarantees_strategy() -> impl Strategy<Value = Guarantees> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c, d)| {
        Guarantees {
            read_your_writes: a,
            monotonic_reads: b,
            writes_follow_reads: c,
            monotonic_writes: d,
        }
    })
}

fn case_strategy() -> impl Strategy<Value = (Scenario, SimConfig)> {
    scenario_strategy_sized(4, 4, 8).prop_flat_map(|scenario| {
        let n = scenario.branches.len() as u64;
        (
            Just(scenario),
            guarantees_strategy(),
            prop::sample::select(vec![
                PropagationMode::Background,
                PropagationMode::Background,
                PropagationMode::Parallel,
            ]),
            prop::sample::select(Schedule::ALL.to_vec()),
            any::<u64>(),
            0u64..100,
            0u8..30,
            prop::collection::vec(fault_strategy(n), 0..6),
        )
            .prop_map(
                |(
                    scenario,
                    guarantees,
                    propagation,
                    schedule,
                    seed,
                    spread,
                    drop_percent,
                    faults,
                )| {
                    let config = SimConfig {
                        schedule,
                        propagation,
                        guarantees,
                        seed,
                        network: NetworkPlan {
                            delay_ms: Delay::Between(0, spread),
                            drop_percent,
                            faults,
                            ..NetworkPlan::default()
                        },
                        client_delay: Delay::Between(0, 5),
                        ..SimConfig::default()
                    };
                    (scenario, config)
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn enabled_guarantees_hold_and_nothing_acknowledged_is_lost((scenario, config) in case_strategy()) {
        let run = sim::run(&scenario, &config).expect("the run finishes");
        let guarantees = vec![config.guarantees; scenario.customers.len()];
        let history = History::from_record(&scenario, &run.record, &guarantees);
        // What a run records, `bank check` reads back: none of the rules
        // that refuse impossible histories refuses a real one.
        let read = History::from_json(&history.to_json());
        prop_assert_eq!(read.as_ref(), Ok(&history), "the recorded history is refused");
        let report = check::check(&history);
        let broken: Vec<String> = report.broken_promises().map(|v| v.explanation.clone()).collect();
        prop_assert!(broken.is_empty(), "guarantees {} broken under {:?}:\n{}", config.guarantees, config.network, broken.join("\n"));
        for g in config.guarantees.enabled() {
            prop_assert_eq!(report.broken_promises().filter(|v| v.anomaly == Anomaly::Broke(g)).count(), 0);
        }

        let first = run.branches.values().next().unwrap();
        for branch in run.branches.values() {
            prop_assert_eq!(branch.balance(), first.balance(), "{} diverged", branch.id());
            prop_assert_eq!(branch.applied(), first.applied(), "{} has other writes", branch.id());
            for w in &run.acknowledged {
                prop_assert!(branch.has_applied(w), "{} lost acknowledged write {}", branch.id(), w);
            }
            let mut seen = HashSet::new();
            for a in branch.applied_log() {
                prop_assert!(seen.insert(a.write.write), "{} applied {} twice", branch.id(), a.write.write);
            }
            prop_assert!(branch.is_quiet());
        }
    }
}

/// The same seed replays the same run, faults and all.
#[test]
fn a_seed_replays_exactly() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..20 {
        let (scenario, config) = case_strategy().new_tree(&mut runner).unwrap().current();
        let a = sim::run(&scenario, &config).expect("the run finishes");
        let b = sim::run(&scenario, &config).expect("the run finishes");
        assert_eq!(a.record, b.record);
        assert_eq!(a.end_us, b.end_us);
        assert_eq!(a.events, b.events);
    }
}

/// A slow link costs a run time, not work: the same three events over a
/// 4 s and a 400 s link log about as many messages. Before, every 250 ms
/// anti-entropy tick pulled again while the last answer was on its way, so
/// each write arrived some 4,000 times over the 400 s link.
#[test]
fn a_slower_link_makes_no_more_messages() {
    let logged = |delay_ms: u64| {
        let text = format!(
            r#"{{"propagation": "background", "network": {{"delay_ms": {delay_ms}}}, "bank": [
                {{"id": 1, "type": "customer", "events": [
                    {{"interface": "deposit", "money": 400, "id": 1, "dest": 1}},
                    {{"interface": "withdraw", "money": 400, "id": 2, "dest": 2}},
                    {{"interface": "query", "id": 3, "dest": 2}}]}},
                {{"id": 1, "type": "branch", "balance": 0}},
                {{"id": 2, "type": "branch", "balance": 0}}]}}"#
        );
        let e = bank_core::experiment::parse_experiment(&text, "slow.json").expect("valid");
        let config = bank_core::experiment::demo::sim_config(&e.settings, SimConfig::default());
        let (run, trace) = sim::run_traced(&e.scenario, &config).expect("the run finishes");
        let balances: Vec<Cents> = run.record.branches.iter().map(|b| b.balance).collect();
        assert_eq!(balances[0], balances[1], "the branches converge");
        trace.iter().filter(|(_, h)| matches!(h, sim::paced::Happened::Traced(_))).count()
    };
    let (fast, slow) = (logged(4_000), logged(400_000));
    // Not equal: over the fast link the deposit reaches branch 2 before the
    // withdrawal does, over the slow one after (27 and 23 logged events).
    assert!(slow <= 2 * fast, "a 100 times slower link logged {slow} events, against {fast}");
}

/// A branch down for good does not hold a synchronous write forever: its
/// peer gives up on it after `PEER_DEADLINE_MS`, as the cluster's links do,
/// and answers the customer "unavailable" with the write applied; the write
/// reaches the branch by anti-entropy once it is back.
#[test]
fn a_peer_down_for_good_is_given_up_on_after_the_deadline() {
    use bank_core::branch::PEER_DEADLINE_MS;
    let text = r#"{"propagation": "sequential",
        "network": {"delay_ms": 5, "faults": [{"at_ms": 1, "crash": 2}]},
        "bank": [
            {"id": 1, "type": "customer", "events": [
                {"interface": "deposit", "money": 400, "id": 1, "dest": 1},
                {"interface": "query", "id": 2, "dest": 1}]},
            {"id": 1, "type": "branch", "balance": 0},
            {"id": 2, "type": "branch", "balance": 0}]}"#;
    let e = bank_core::experiment::parse_experiment(text, "down.json").expect("valid");
    let config = bank_core::experiment::demo::sim_config(&e.settings, SimConfig::default());
    let (run, trace) = sim::run_traced(&e.scenario, &config).expect("the run finishes");
    let deposit = &run.record.customers[0].results[0];
    let Outcome::Failed { reason, balance } = &deposit.outcome else {
        panic!("the deposit waited for branch 2: {:?}", deposit.outcome)
    };
    assert!(
        reason
            .to_string()
            .contains("branch 1 applied w1.1 but could not propagate it: branch 2 did not take it"),
        "{reason}"
    );
    assert_eq!(*balance, Cents(40_000));
    assert_eq!(deposit.write.map(|w| w.to_string()), Some("w1.1".into()), "applied, so named");
    // Answered at the deadline, not when the simulator repairs the network
    // (after 30 s without progress).
    let answered_us = trace
        .iter()
        .find_map(|(at, h)| match h {
            sim::paced::Happened::Traced(bank_core::trace::Traced::Answered { .. }) => Some(*at),
            _ => None,
        })
        .expect("an answer");
    assert!(
        (PEER_DEADLINE_MS * 1000..(PEER_DEADLINE_MS + 500) * 1000).contains(&answered_us),
        "answered at {answered_us} µs"
    );
    // The query after it sees the deposit, and every branch ends with it.
    assert_eq!(run.record.customers[0].results[1].outcome.balance(), Cents(40_000));
    assert!(run.record.branches.iter().all(|b| b.balance == Cents(40_000)));
}

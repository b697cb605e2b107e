//! The clock step every log entry carries is the one the branch took: on
//! random simulated runs, under both course rule sets, each entry's step
//! starts where the previous entry of its branch ended, applies the rule
//! the scheme gives its kind, and ends at the entry's clock; its
//! explanation shows exactly those numbers.

use std::collections::BTreeSet;

use bank_core::branch::PropagationMode;
use bank_core::explain::clock::explain;
use bank_core::network::Delay;
use bank_core::sim::{self, SimConfig};
use bank_core::*;
use proptest::prelude::*;

mod common;
use common::scenario_strategy;

fn scheme() -> impl Strategy<Value = ClockScheme> {
    prop::sample::select(vec![ClockScheme::ExecuteAndRespond, ClockScheme::SendAndReceive])
}

fn propagation() -> impl Strategy<Value = PropagationMode> {
    prop::sample::select(vec![
        PropagationMode::Sequential,
        PropagationMode::Parallel,
        PropagationMode::Background,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_entry_carries_the_step_its_branch_took(
        scenario in scenario_strategy(),
        clock_scheme in scheme(),
        propagation in propagation(),
        seed in any::<u64>(),
    ) {
        let config = SimConfig {
            clock_scheme,
            propagation,
            seed,
            network: NetworkPlan { delay_ms: Delay::Between(0, 10), ..NetworkPlan::default() },
            ..SimConfig::default()
        };
        let run = sim::run(&scenario, &config).expect("the run finishes");
        for branch in &run.record.branches {
            let mut before = 0;
            for entry in &branch.log {
                let step = entry.step;
                prop_assert_eq!(step.rule, clock_scheme.rule_for(entry.kind, entry.op), "{:?}", entry);
                prop_assert_eq!(step.local, before, "{:?} starts where the last entry ended", entry);
                prop_assert_eq!(step.result, entry.clock);
                prop_assert_eq!(step.message.is_some(), step.rule == ClockRule::Receive);
                prop_assert_eq!(step, ClockStep::compute(step.rule, step.local, step.message.unwrap_or(0)));
                let said = explain(clock_scheme, branch.id, entry).formula;
                let numbers = match step.message {
                    Some(m) => format!("max(local {}, message {m}) + 1 = {}", step.local, step.result),
                    None if step.rule == ClockRule::Local => format!("local {} + 1 = {}", step.local, step.result),
                    None => format!("the clock stays {}", step.result),
                };
                prop_assert!(said.ends_with(&numbers), "{} / {}", said, numbers);
                before = entry.clock;
            }
        }
    }
}

/// Over a few fixed runs, both schemes use every rule they have.
#[test]
fn both_schemes_use_all_their_rules() {
    let text = include_str!("../../../examples/project2-sample.json");
    let scenario = formats::parse_input(text, "project2-sample.json").unwrap();
    for scheme in [ClockScheme::ExecuteAndRespond, ClockScheme::SendAndReceive] {
        let config = SimConfig { clock_scheme: scheme, ..SimConfig::default() };
        let run = sim::run(&scenario, &config).unwrap();
        let used: BTreeSet<(String, String)> = run
            .record
            .branches
            .iter()
            .flat_map(|b| &b.log)
            .map(|e| (format!("{:?}", e.kind), format!("{:?}", e.step.rule)))
            .collect();
        let rules: BTreeSet<String> = used.iter().map(|(_, r)| r.clone()).collect();
        assert_eq!(rules.len(), 3, "{scheme:?} used {used:?}");
        for (kind, rule) in &used {
            let expected = match (scheme, kind.as_str()) {
                (_, "Request" | "PropagateReceived") => "Receive",
                (ClockScheme::ExecuteAndRespond, "PropagateAcked") => "Receive",
                (ClockScheme::ExecuteAndRespond, "Execute" | "PropagateExecuted" | "Response") => {
                    "Local"
                }
                (ClockScheme::SendAndReceive, "PropagateSent") => "Local",
                _ => "Unchanged",
            };
            // Generation A leaves queries alone entirely.
            assert!(rule == expected || rule == "Unchanged", "{scheme:?} {kind}: {rule}");
        }
    }
}

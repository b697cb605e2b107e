//! Properties of the branch core under random scenarios and random message
//! schedules, checked with the deterministic simulator.
//!
//! Each case draws a small bank (branches, customers that talk to any branch,
//! deposits / withdraws / queries), a propagation mode, a clock scheme, a
//! session schedule and a seed that decides the order in which messages are
//! delivered. Background propagation is where the session checks do real
//! work: a customer's next request often reaches a branch before its previous
//! write does.

use std::collections::{BTreeMap, HashSet};

use bank_core::branch::PropagationMode;
use bank_core::network::Delay;
use bank_core::sim::{self, SimConfig};
use bank_core::*;
use proptest::prelude::*;

mod common;
use common::scenario_strategy;

fn config_strategy() -> impl Strategy<Value = SimConfig> {
    (
        prop::sample::select(Schedule::ALL.to_vec()),
        prop::sample::select(vec![ClockScheme::ExecuteAndRespond, ClockScheme::SendAndReceive]),
        prop::sample::select(vec![
            PropagationMode::Sequential,
            PropagationMode::Parallel,
            PropagationMode::Background,
        ]),
        any::<u64>(),
        0u64..20,
    )
        .prop_map(|(schedule, clock_scheme, propagation, seed, spread)| SimConfig {
            schedule,
            clock_scheme,
            propagation,
            seed,
            // Random link and client delays: messages overtake each other.
            network: NetworkPlan { delay_ms: Delay::Between(0, spread), ..NetworkPlan::default() },
            client_delay: Delay::Between(0, spread / 2),
            ..SimConfig::default()
        })
}

/// The session's successful writes, in the order the customer issued them.
fn issued_writes(run: &sim::SimRun, session: usize) -> Vec<EventId> {
    let mut results: Vec<&EventResult> = run.record.customers[session].results.iter().collect();
    results.sort_by_key(|r| r.completion);
    results
        .into_iter()
        .filter(|r| r.op != OpKind::Query && r.outcome.is_success())
        .map(|r| r.event)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Every branch ends with the same balance, and it is exactly the start
    /// plus the successful deposits minus the successful withdraws.
    #[test]
    fn money_is_conserved_and_replicas_converge(scenario in scenario_strategy(), config in config_strategy()) {
        let run = sim::run(&scenario, &config).expect("the run finishes");
        let mut expected = scenario.branches[0].balance.0;
        for customer in &run.record.customers {
            for r in &customer.results {
                if r.outcome.is_success() {
                    match scenario.customers.iter().flat_map(|c| &c.events).find(|e| e.id == r.event).unwrap().op {
                        Op::Deposit(a) => expected += a.0,
                        Op::Withdraw(a) => expected -= a.0,
                        Op::Query => {}
                    }
                }
            }
        }
        for branch in run.branches.values() {
            prop_assert_eq!(branch.balance(), Cents(expected), "branch {} diverged", branch.id());
            prop_assert_eq!(branch.waiting(), (0, 0), "work left waiting at {}", branch.id());
            prop_assert_eq!(branch.writes_in_flight(), 0);
        }
        // With one request in flight at a time and synchronous propagation,
        // every branch checks a withdraw against the true balance, so nothing
        // can overdraw. (Concurrent withdrawals at two branches can: each
        // checks its own replica before the other's write arrives.)
        if config.schedule == Schedule::Sequential && config.propagation != PropagationMode::Background {
            prop_assert!(expected >= 0);
        }
    }

    /// No write is applied twice on any branch.
    #[test]
    fn no_write_is_applied_twice(scenario in scenario_strategy(), config in config_strategy()) {
        let run = sim::run(&scenario, &config).expect("the run finishes");
        for branch in run.branches.values() {
            let mut seen = HashSet::new();
            for e in branch.log() {
                let applies = matches!(e.kind, LogKind::PropagateExecuted)
                    || (e.kind == LogKind::Execute && e.op != OpKind::Query && !e.failed);
                if applies {
                    prop_assert!(seen.insert(e.event), "{} applied {} twice", branch.id(), e.event);
                }
            }
        }
    }

    /// Monotonic Writes: on every branch, each session's writes are applied in
    /// the order the session issued them (and all of them are applied).
    #[test]
    fn writes_are_applied_in_issue_order_everywhere(scenario in scenario_strategy(), config in config_strategy()) {
        let run = sim::run(&scenario, &config).expect("the run finishes");
        for (s, customer) in scenario.customers.iter().enumerate() {
            let issued = issued_writes(&run, s);
            for branch in run.branches.values() {
                let applied = branch.write_sets().get(&customer.id).cloned().unwrap_or_default();
                prop_assert_eq!(&applied, &issued, "{} at {}", customer.id, branch.id());
            }
        }
    }

    /// Read Your Writes: when a branch serves a session's request, it has
    /// already applied every write that session had been acknowledged.
    #[test]
    fn every_request_sees_the_sessions_earlier_writes(scenario in scenario_strategy(), config in config_strategy()) {
        let run = sim::run(&scenario, &config).expect("the run finishes");
        for (s, customer) in scenario.customers.iter().enumerate() {
            let mut results: Vec<&EventResult> = run.record.customers[s].results.iter().collect();
            results.sort_by_key(|r| r.completion);
            let mut acknowledged: Vec<EventId> = Vec::new();
            for r in results {
                let branch = &run.branches[&r.branch];
                // Position of this request's execution in the serving branch's log.
                let executed_at = branch
                    .log()
                    .iter()
                    .position(|e| e.kind == LogKind::Execute && e.event == r.event && e.customer == customer.id)
                    .expect("executed");
                let applied_before: HashSet<EventId> = branch.log()
                    .iter()
                    .take(executed_at)
                    .filter(|e| e.customer == customer.id && !e.failed && e.op != OpKind::Query
                        && matches!(e.kind, LogKind::Execute | LogKind::PropagateExecuted))
                    .map(|e| e.event)
                    .collect();
                for w in &acknowledged {
                    prop_assert!(applied_before.contains(w),
                        "{} served {} before applying the session's earlier write {}", r.branch, r.event, w);
                }
                if r.op != OpKind::Query && r.outcome.is_success() {
                    acknowledged.push(r.event);
                }
            }
        }
    }

    /// Lamport clocks: never go backwards on a branch, and every receive is
    /// stamped later than the matching send.
    #[test]
    fn lamport_clocks_respect_causality(scenario in scenario_strategy(), config in config_strategy()) {
        let run = sim::run(&scenario, &config).expect("the run finishes");
        let mut sent: BTreeMap<(EventId, BranchId, BranchId), u64> = BTreeMap::new();
        for branch in run.branches.values() {
            let clocks: Vec<u64> = branch.log().iter().map(|e| e.clock).collect();
            prop_assert!(clocks.windows(2).all(|w| w[0] <= w[1]), "clock went backwards at {}", branch.id());
            for e in branch.log() {
                if e.kind == LogKind::PropagateSent {
                    // A write can be sent twice (propagation, then a pull's
                    // answer); every receive follows at least the first send.
                    sent.entry((e.event, branch.id(), e.peer.unwrap())).or_insert(e.clock);
                }
            }
        }
        for branch in run.branches.values() {
            for e in branch.log() {
                if e.kind == LogKind::PropagateReceived {
                    let at_send = sent[&(e.event, e.peer.unwrap(), branch.id())];
                    prop_assert!(e.clock > at_send, "receive not after send for {}", e.event);
                }
            }
        }
    }
}

/// The seed reference's test 1 (monotonic writes): deposit 400 at branch 1,
/// withdraw 400 at branch 2, query at 2, for every schedule and seed.
#[test]
fn reference_test_1_under_every_mode() {
    let ev = |id, op, b| ScriptEvent { id: EventId(id), op, branch: BranchId(b), line: 0 };
    let scenario = Scenario {
        shape: InputShape::EventsWithDest,
        branches: vec![
            BranchSpec { id: BranchId(1), balance: Cents::ZERO, line: 0 },
            BranchSpec { id: BranchId(2), balance: Cents::ZERO, line: 0 },
        ],
        customers: vec![CustomerScript {
            id: CustomerId(1),
            line: 0,
            events: vec![
                ev(1, Op::Deposit(Cents::units(400)), 1),
                ev(2, Op::Withdraw(Cents::units(400)), 2),
                ev(3, Op::Query, 2),
            ],
        }],
        warnings: vec![],
    };
    for propagation in
        [PropagationMode::Sequential, PropagationMode::Parallel, PropagationMode::Background]
    {
        for seed in 0..50 {
            let config = SimConfig { propagation, seed, ..SimConfig::default() };
            let run = sim::run(&scenario, &config).expect("the run finishes");
            let results = &run.record.customers[0].results;
            assert!(
                results.iter().all(|r| r.outcome.is_success()),
                "{propagation:?} seed {seed}: {results:?}"
            );
            assert_eq!(results[2].outcome.balance(), Cents::ZERO);
            for b in &run.record.branches {
                assert_eq!(b.balance, Cents::ZERO);
                assert_eq!(b.write_sets[&CustomerId(1)], vec![EventId(1), EventId(2)]);
            }
        }
    }
}

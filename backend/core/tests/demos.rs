//! The demo experiments in `examples/demo-*.json`: each shows exactly its
//! anomaly with the guarantee off, and none with the guarantee on.
//!
//! The demos are meant for students, so they must behave the same way every
//! time: with the file's own settings (guarantees `none`, its seed and
//! network plan) the checker finds the anomaly; switching on the guarantee
//! that prevents it (alone, or all four) makes it disappear, and every
//! customer operation still succeeds (a request that had to wait did not time
//! out). The overdraft demo shows the limit of session guarantees: it
//! overdraws with all of them on.

use bank_core::check::Anomaly;
use bank_core::experiment::demo::{self, Checked};
use bank_core::experiment::{parse_experiment, Experiment};
use bank_core::sim::SimConfig;
use bank_core::{Guarantee, Guarantees};

struct Demo {
    name: &'static str,
    text: &'static str,
    /// What it shows with every guarantee off.
    anomaly: Anomaly,
}

const DEMOS: [Demo; 5] = [
    Demo {
        name: "demo-stale-read",
        text: include_str!("../../../examples/demo-stale-read.json"),
        anomaly: Anomaly::Broke(Guarantee::ReadYourWrites),
    },
    Demo {
        name: "demo-reads-backwards",
        text: include_str!("../../../examples/demo-reads-backwards.json"),
        anomaly: Anomaly::Broke(Guarantee::MonotonicReads),
    },
    Demo {
        name: "demo-write-before-cause",
        text: include_str!("../../../examples/demo-write-before-cause.json"),
        anomaly: Anomaly::Broke(Guarantee::WritesFollowReads),
    },
    Demo {
        name: "demo-writes-out-of-order",
        text: include_str!("../../../examples/demo-writes-out-of-order.json"),
        anomaly: Anomaly::Broke(Guarantee::MonotonicWrites),
    },
    Demo {
        name: "demo-overdraft",
        text: include_str!("../../../examples/demo-overdraft.json"),
        anomaly: Anomaly::Overdraft,
    },
];

fn experiment(d: &Demo) -> Experiment {
    parse_experiment(d.text, d.name).unwrap_or_else(|e| panic!("{}: {e}", d.name))
}

/// Runs the demo as its file says, with `guarantees` (if given) instead of its own.
fn run(d: &Demo, guarantees: Option<Guarantees>, seed: Option<u64>) -> Checked {
    let e = experiment(d);
    let mut config = demo::sim_config(&e.settings, SimConfig::default());
    if let Some(g) = guarantees {
        config.guarantees = g;
    }
    if let Some(s) = seed {
        config.seed = s;
    }
    demo::run_checked(&e.scenario, &config).expect("the demo finishes")
}

fn assert_all_succeeded(d: &Demo, c: &Checked, what: &str) {
    for s in &c.history.sessions {
        for op in &s.ops {
            assert!(
                op.ok,
                "{} [{what}]: customer {}'s event {} failed: {:?}",
                d.name, s.customer.0, op.event.0, op.error
            );
        }
    }
}

#[test]
fn every_demo_is_a_background_experiment_with_its_guarantees_off() {
    for d in &DEMOS {
        let e = experiment(d);
        let s = &e.settings;
        assert_eq!(s.guarantees, Some(Guarantees::NONE), "{}", d.name);
        assert_eq!(
            s.propagation,
            Some(bank_core::branch::PropagationMode::Background),
            "{}",
            d.name
        );
        assert!(
            s.seed.is_some() && s.schedule.is_some(),
            "{}: fix the seed and the schedule",
            d.name
        );
        let words = s.description.as_deref().unwrap_or("").split_whitespace().count();
        assert!((20..=120).contains(&words), "{}: a description of {words} words", d.name);
        assert!(!s.network.is_perfect(), "{}", d.name);
        assert!(
            e.scenario.branches.len() <= 3 && e.scenario.customers.len() <= 3,
            "{}: keep it small",
            d.name
        );
    }
}

#[test]
fn with_the_guarantee_off_each_demo_shows_exactly_its_anomaly() {
    for d in &DEMOS {
        let c = run(d, None, None);
        assert!(
            c.report.count(d.anomaly) >= 1,
            "{}: no {}\n{}",
            d.name,
            d.anomaly.nickname(),
            c.report.render(5)
        );
        for other in Anomaly::ALL.into_iter().filter(|a| *a != d.anomaly) {
            assert_eq!(
                c.report.count(other),
                0,
                "{}: also {}\n{}",
                d.name,
                other.nickname(),
                c.report.render(5)
            );
        }
        assert_all_succeeded(d, &c, "none");
    }
}

#[test]
fn with_the_guarantee_on_the_anomaly_is_gone_and_nothing_times_out() {
    for d in &DEMOS {
        let Anomaly::Broke(g) = d.anomaly else { continue };
        for (what, guarantees) in [(g.short(), Guarantees::only(g)), ("all", Guarantees::ALL)] {
            let c = run(d, Some(guarantees), None);
            assert_eq!(c.report.count(d.anomaly), 0, "{} [{what}]\n{}", d.name, c.report.render(5));
            assert_eq!(
                c.report.broken_promises().count(),
                0,
                "{} [{what}]\n{}",
                d.name,
                c.report.render(5)
            );
            assert_all_succeeded(d, &c, what);
        }
    }
}

#[test]
fn no_guarantee_prevents_the_overdraft() {
    let d = DEMOS.iter().find(|d| d.anomaly == Anomaly::Overdraft).expect("the overdraft demo");
    for (what, guarantees) in [("none", Guarantees::NONE), ("all", Guarantees::ALL)] {
        let c = run(d, Some(guarantees), None);
        assert!(c.report.count(Anomaly::Overdraft) >= 1, "{what}\n{}", c.report.render(5));
        assert_all_succeeded(d, &c, what);
        for b in &c.history.branches {
            assert!(
                b.balance < bank_core::Cents::ZERO,
                "{what}: branch {} ends at {}",
                b.id.0,
                b.balance.decimal_text()
            );
        }
    }
}

/// The demos do not depend on their seed: other seeds show the same anomaly
/// with the guarantees off, and nothing broken with all of them on.
#[test]
fn any_seed_shows_the_anomaly_off_and_keeps_every_promise_on() {
    for d in &DEMOS {
        for seed in 0..50 {
            let off = run(d, Some(Guarantees::NONE), Some(seed));
            assert!(
                off.report.count(d.anomaly) >= 1,
                "{} seed {seed}: no {}\n{}",
                d.name,
                d.anomaly.nickname(),
                off.report.render(5)
            );
            let on = run(d, Some(Guarantees::ALL), Some(seed));
            assert_eq!(
                on.report.broken_promises().count(),
                0,
                "{} seed {seed}\n{}",
                d.name,
                on.report.render(5)
            );
            assert_all_succeeded(d, &on, &format!("all, seed {seed}"));
            if d.anomaly != Anomaly::Overdraft {
                assert_eq!(
                    on.report.count(d.anomaly),
                    0,
                    "{} seed {seed}\n{}",
                    d.name,
                    on.report.render(5)
                );
            }
        }
    }
}

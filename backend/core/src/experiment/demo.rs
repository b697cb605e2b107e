//! Running an experiment file in the simulator, and checking the result.
//!
//! An experiment ([`crate::experiment`]) says how it wants to be run, but
//! every setting is optional. [`sim_config`] fills the gaps from a *base*
//! configuration the caller chooses (the course defaults of the output
//! format, see [`base_for`], or command-line flags), and [`run_checked`] runs
//! the result and hands back the run, its [`History`] and the checker's
//! [`Report`]. The demos in `examples/demo-*.json` are experiments of this
//! kind: each shows one anomaly when its guarantee is off. (Runs on a
//! cluster, `bank run` and the lab, resolve their settings with
//! [`super::plan`] instead.)
//!
//! ```
//! use bank_core::experiment::demo;
//! use bank_core::experiment::parse_experiment;
//! use bank_core::check::Anomaly;
//! use bank_core::Guarantee;
//!
//! let text = r#"{"guarantees": "none", "propagation": "background",
//!   "network": {"links": [{"between": [1, 2], "delay_ms": 500}]},
//!   "bank": [{"id": 1, "type": "customer", "events": [
//!              {"id": 1, "interface": "deposit", "money": 100, "branch": 1},
//!              {"id": 2, "interface": "query", "branch": 2}]},
//!            {"id": 1, "type": "branch", "balance": 0},
//!            {"id": 2, "type": "branch", "balance": 0}]}"#;
//! let experiment = parse_experiment(text, "demo.json").unwrap();
//! let config = demo::sim_config(&experiment.settings, Default::default());
//! let checked = demo::run_checked(&experiment.scenario, &config).unwrap();
//! assert_eq!(checked.report.count(Anomaly::Broke(Guarantee::ReadYourWrites)), 1);
//! ```

use crate::check::{self, Report};
use crate::formats::OutputFormat;
use crate::guarantees::Guarantees;
use crate::history::History;
use crate::scenario::Scenario;
use crate::sim::{self, SimConfig, SimError, SimRun};

/// What the course's expected outputs for `format` assume: its schedule and
/// clock scheme; everything else is [`SimConfig::default`] (the course's
/// guarantees, synchronous propagation, a perfect network, seed 0).
pub fn base_for(format: OutputFormat) -> SimConfig {
    SimConfig {
        schedule: format.default_schedule(),
        clock_scheme: format.clock_scheme(),
        ..SimConfig::default()
    }
}

/// The configuration an experiment asks for: each setting it gives replaces
/// the one in `base`, each it leaves out keeps `base`'s. The network plan
/// replaces `base`'s unless the experiment's is the perfect (default) one.
/// Flags that should override the file are for the caller to apply after.
pub fn sim_config(settings: &crate::experiment::Settings, base: SimConfig) -> SimConfig {
    SimConfig {
        guarantees: settings.guarantees.unwrap_or(base.guarantees),
        per_customer: if settings.per_customer.is_empty() {
            base.per_customer.clone()
        } else {
            settings.per_customer.clone()
        },
        propagation: settings.propagation.unwrap_or(base.propagation),
        schedule: settings.schedule.unwrap_or(base.schedule),
        seed: settings.seed.unwrap_or(base.seed),
        network: if settings.network.is_perfect() {
            base.network.clone()
        } else {
            settings.network.clone()
        },
        ..base
    }
}

/// A finished simulated run with its history and the checker's verdict.
#[derive(Debug)]
pub struct Checked {
    pub run: SimRun,
    pub history: History,
    pub report: Report,
}

/// Runs `scenario` under `config` (every session asks for
/// `config.guarantees`) and checks the history.
/// A run that does not finish within the simulator's horizon is an error
/// (see [`sim::SimError`]), not a panic.
pub fn run_checked(scenario: &Scenario, config: &SimConfig) -> Result<Checked, SimError> {
    run_checked_stoppable(scenario, config, &|_| true)
}

/// [`run_checked`], asking `keep_going` as the run goes whether to go on
/// ([`sim::run_stoppable`]).
pub fn run_checked_stoppable(
    scenario: &Scenario,
    config: &SimConfig,
    keep_going: &dyn Fn(u64) -> bool,
) -> Result<Checked, SimError> {
    let run = sim::run_stoppable(scenario, config, keep_going)?;
    let guarantees: Vec<Guarantees> = config.per_session(scenario);
    let history = History::from_record(scenario, &run.record, &guarantees);
    let report = check::check(&history);
    Ok(Checked { run, history, report })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch::PropagationMode;
    use crate::experiment::Settings;
    use crate::network::{Delay, NetworkPlan};
    use crate::schedule::Schedule;

    #[test]
    fn settings_replace_the_base_and_gaps_keep_it() {
        let base = base_for(OutputFormat::P1Money);
        assert_eq!(base.schedule, Schedule::WritesFirst);
        let kept = sim_config(&Settings::default(), base.clone());
        assert_eq!(kept, base);
        let settings = Settings {
            guarantees: Some(Guarantees::NONE),
            propagation: Some(PropagationMode::Background),
            schedule: Some(Schedule::Concurrent),
            seed: Some(9),
            network: NetworkPlan { delay_ms: Delay::Fixed(3), ..NetworkPlan::default() },
            ..Settings::default()
        };
        let c = sim_config(&settings, base);
        assert_eq!(
            (c.guarantees, c.propagation, c.schedule, c.seed, c.network.delay_ms),
            (
                Guarantees::NONE,
                PropagationMode::Background,
                Schedule::Concurrent,
                9,
                Delay::Fixed(3)
            )
        );
        assert_eq!(c.park_timeout_ms, SimConfig::default().park_timeout_ms);
    }

    fn two_branches() -> Scenario {
        crate::formats::parse_input(
            r#"[{"id": 1, "type": "customer", "events": [
                  {"id": 1, "interface": "deposit", "money": 100, "branch": 1},
                  {"id": 2, "interface": "query", "branch": 2}]},
                {"id": 1, "type": "branch", "balance": 0},
                {"id": 2, "type": "branch", "balance": 0}]"#,
            "x.json",
        )
        .unwrap()
    }

    /// A valid, slow link (400 s) used to hit an `assert!` ("a bug in the
    /// branch core"): the run finishes, or says it did not within the horizon.
    #[test]
    fn a_slow_link_finishes_or_reports_the_horizon() {
        let scenario = two_branches();
        for propagation in [PropagationMode::Sequential, PropagationMode::Background] {
            let config = SimConfig {
                propagation,
                network: NetworkPlan { delay_ms: Delay::Fixed(400_000), ..NetworkPlan::default() },
                ..SimConfig::default()
            };
            match run_checked(&scenario, &config) {
                Ok(checked) => assert!(checked.run.end_us >= 400_000_000),
                Err(e) => assert!(matches!(e, SimError::DidNotFinish { .. }), "{e}"),
            }
        }
    }

    /// Delays and fault times near 2^64 ms (not from a file, which bounds
    /// them) saturate and end in a horizon error: no overflow, no hang.
    #[test]
    fn delays_and_fault_times_near_two_to_the_64_are_reported() {
        use crate::network::{Fault, TimedFault};
        let scenario = two_branches();
        let huge = [
            Delay::Fixed(u64::MAX),
            Delay::Between(0, u64::MAX),
            Delay::Between(u64::MAX - 1, u64::MAX),
        ];
        for delay in huge {
            let config = SimConfig {
                propagation: PropagationMode::Background,
                network: NetworkPlan {
                    delay_ms: delay,
                    faults: vec![TimedFault { at_ms: u64::MAX, fault: Fault::Crash(2) }],
                    ..NetworkPlan::default()
                },
                ..SimConfig::default()
            };
            let e = run_checked(&scenario, &config).unwrap_err();
            assert!(e.to_string().contains("did not finish within the horizon"), "{e}");
        }
    }
}

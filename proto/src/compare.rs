//! The lab's side-by-side comparison (`Lab.Compare`): one scenario, one
//! seed, two guarantee settings, in the deterministic simulator. The same
//! function answers for `bank serve` and for the browser's simulated lab.
//!
//! Unlike a lab run, nothing here touches a cluster: both sides are
//! simulated runs, checked by the history checker, so the browser can show
//! which anomalies one setting allows and the other prevents. The runs start
//! from the course's configuration for the input's format, with the
//! experiment's settings on top ([`demo::sim_config`]); each side then
//! replaces what every customer asks for (the experiment's per-customer
//! guarantees stay).

use crate as pb;
use bank_core::experiment::{self, demo};
use bank_core::formats::OutputFormat;
use bank_core::sim::{SimConfig, SimError};
use bank_core::Guarantees;

/// What a caller lets one comparison use. The browser compares on its
/// viewer's own CPU ([`Budget::UNLIMITED`]); a server, shared by a class,
/// admits only scenarios its labs could load and stops a comparison whose
/// client has left.
#[derive(Clone, Copy)]
pub struct Budget<'a> {
    /// Whether a scenario of this many branches and scripted customer
    /// events may be compared; if not, the refusal in words.
    pub admit: &'a dyn Fn(usize, usize) -> Result<(), String>,
    /// Asked as each run goes, with the events it has simulated so far:
    /// false stops both runs ([`Refused::Stopped`]).
    pub keep_going: &'a dyn Fn(u64) -> bool,
}

impl Budget<'static> {
    /// Any scenario, to the simulator's own limits.
    pub const UNLIMITED: Budget<'static> = Budget { admit: &|_, _| Ok(()), keep_going: &|_| true };
}

/// Why a comparison has no answer that belongs to the scenario.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The scenario is larger than the caller admits.
    #[error("{0}")]
    TooLarge(String),
    /// The caller stopped it ([`Budget::keep_going`]).
    #[error("the comparison was stopped after {events} simulated events")]
    Stopped { events: u64 },
}

/// Runs `request`'s scenario twice in the simulator, with the same seed (the
/// request's, else the experiment's), once per guarantee setting (absent:
/// the experiment's own, else the course's). CPU only: a server calls it
/// from a blocking task, the browser's simulated lab directly.
pub fn compare(request: &pb::CompareRequest) -> pb::CompareReply {
    match compare_within(request, Budget::UNLIMITED) {
        Ok(reply) => reply,
        Err(refused) => {
            let error = pb::ScenarioError { message: refused.to_string(), line: 0, column: 0 };
            pb::CompareReply { result: Some(pb::compare_reply::Result::Error(error)) }
        }
    }
}

/// [`compare`] within `budget`: a scenario it does not admit, or a
/// comparison it stops, is [`Refused`].
pub fn compare_within(
    request: &pb::CompareRequest,
    budget: Budget<'_>,
) -> Result<pb::CompareReply, Refused> {
    let experiment = match experiment::parse_experiment(&request.text, "scenario") {
        Ok(e) => e,
        Err(e) => {
            let error = pb::compare_reply::Result::Error(pb::ScenarioError::from(&e));
            return Ok(pb::CompareReply { result: Some(error) });
        }
    };
    let scenario = &experiment.scenario;
    (budget.admit)(scenario.branches.len(), scenario.event_count()).map_err(Refused::TooLarge)?;
    let own = experiment.settings.guarantees.unwrap_or(Guarantees::COURSE);
    let left = request.left_guarantees.map_or(own, Guarantees::from);
    let right = request.right_guarantees.map_or(own, Guarantees::from);
    let base = demo::base_for(OutputFormat::default_for(scenario.shape));
    let mut config = demo::sim_config(&experiment.settings, base);
    if request.seed != 0 {
        config.seed = request.seed;
    }
    let seed = config.seed;
    // Both runs count against one budget: the left's events, then the right's.
    let simulated = std::cell::Cell::new(0);
    let side = |guarantees: Guarantees, before: u64| {
        let config = SimConfig { guarantees, ..config.clone() };
        let keep_going = |events: u64| {
            simulated.set(before + events);
            (budget.keep_going)(before + events)
        };
        let checked = demo::run_checked_stoppable(scenario, &config, &keep_going)?;
        Ok::<_, SimError>((
            pb::SimulatedRun::from((scenario, guarantees, &checked)),
            checked.run.events,
        ))
    };
    let sides = side(left, 0).and_then(|(l, events)| Ok((l, side(right, events)?.0)));
    // A run that does not finish within the simulator's horizon is the
    // scenario's answer, not a crash.
    let (left, right) = match sides {
        Ok(sides) => sides,
        Err(SimError::Stopped { .. }) => return Err(Refused::Stopped { events: simulated.get() }),
        Err(e) => {
            let error = pb::ScenarioError { message: e.to_string(), line: 0, column: 0 };
            return Ok(pb::CompareReply { result: Some(pb::compare_reply::Result::Error(error)) });
        }
    };
    let comparison = pb::CompareResult { left: Some(left), right: Some(right), seed };
    Ok(pb::CompareReply { result: Some(pb::compare_reply::Result::Comparison(comparison)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../examples/demo-stale-read.json");

    fn request() -> pb::CompareRequest {
        pb::CompareRequest { text: DEMO.to_owned(), ..Default::default() }
    }

    #[test]
    fn a_scenario_the_budget_does_not_admit_is_refused_with_its_words() {
        let admit = |branches: usize, events: usize| Err(format!("{branches} and {events}"));
        let budget = Budget { admit: &admit, ..Budget::UNLIMITED };
        assert_eq!(compare_within(&request(), budget), Err(Refused::TooLarge("2 and 2".into())));
    }

    #[test]
    fn both_runs_count_against_one_budget_and_a_stop_is_not_the_scenarios_error() {
        let asked = std::cell::RefCell::new(Vec::new());
        let keep_going = |events: u64| {
            asked.borrow_mut().push(events);
            true
        };
        let reply =
            compare_within(&request(), Budget { keep_going: &keep_going, ..Budget::UNLIMITED });
        assert!(matches!(reply.unwrap().result, Some(pb::compare_reply::Result::Comparison(_))));
        // Asked at the first event of each run; the right's count goes on
        // from the left's total.
        let asked = asked.into_inner();
        assert_eq!(asked.len(), 2, "{asked:?}");
        assert_eq!(asked[0], 0);
        assert!(asked[1] > 0, "{asked:?}");
        let stop = |_| false;
        let budget = Budget { keep_going: &stop, ..Budget::UNLIMITED };
        assert_eq!(compare_within(&request(), budget), Err(Refused::Stopped { events: 0 }));
    }
}

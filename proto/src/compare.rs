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

/// Runs `request`'s scenario twice in the simulator, with the same seed (the
/// request's, else the experiment's), once per guarantee setting (absent:
/// the experiment's own, else the course's). CPU only: a server calls it
/// from a blocking task, the browser's simulated lab directly.
pub fn compare(request: &pb::CompareRequest) -> pb::CompareReply {
    let experiment = match experiment::parse_experiment(&request.text, "scenario") {
        Ok(e) => e,
        Err(e) => {
            let error = pb::compare_reply::Result::Error(pb::ScenarioError::from(&e));
            return pb::CompareReply { result: Some(error) };
        }
    };
    let own = experiment.settings.guarantees.unwrap_or(Guarantees::COURSE);
    let left = request.left_guarantees.map_or(own, Guarantees::from);
    let right = request.right_guarantees.map_or(own, Guarantees::from);
    let scenario = &experiment.scenario;
    let base = demo::base_for(OutputFormat::default_for(scenario.shape));
    let mut config = demo::sim_config(&experiment.settings, base);
    if request.seed != 0 {
        config.seed = request.seed;
    }
    let seed = config.seed;
    let side = |guarantees: Guarantees| {
        let config = SimConfig { guarantees, ..config.clone() };
        let checked = demo::run_checked(scenario, &config)?;
        Ok::<_, SimError>(pb::SimulatedRun::from((scenario, guarantees, &checked)))
    };
    // A run that does not finish within the simulator's horizon is the
    // scenario's answer, not a crash.
    let (left, right) = match side(left).and_then(|l| Ok((l, side(right)?))) {
        Ok(sides) => sides,
        Err(e) => {
            let error = pb::ScenarioError { message: e.to_string(), line: 0, column: 0 };
            return pb::CompareReply { result: Some(pb::compare_reply::Result::Error(error)) };
        }
    };
    let comparison = pb::CompareResult { left: Some(left), right: Some(right), seed };
    pb::CompareReply { result: Some(pb::compare_reply::Result::Comparison(comparison)) }
}

//! What the lab records and answers, built as proto messages.
//!
//! The lab's history is a list of [`pb::LabEvent`]s, and its answers are
//! proto replies. The messages for core values come from bank-proto's
//! conversions ([`bank_proto::convert`]) and those for what branches and
//! customers report from [`crate::observe`]; this module builds the rest,
//! the messages made of the lab's own state: the summary of a loaded
//! scenario with the settings in use, the checker's findings on a finished
//! run, the course output at the end, the state of the network, and the
//! answers to a control command or a fault.

use bank_core::check;
use bank_core::experiment::RunPlan;
use bank_core::formats::OutputFormat;
use bank_core::{Guarantees, History, RunRecord, Scenario};
use bank_proto as pb;

use crate::cluster::local::Control;

/// What the browser is told about a loaded scenario: its branches and
/// customers, and how it runs (`plan`, resolved from the browser's choices,
/// the file's settings and the course's defaults). `description` is the
/// demo's explanation (may be empty).
pub fn summary(
    name: &str,
    scenario: &Scenario,
    plan: &RunPlan,
    description: &str,
) -> pb::ScenarioSummary {
    pb::ScenarioSummary {
        name: name.to_owned(),
        format: pb::OutputFormat::from(plan.format).into(),
        schedule: pb::Schedule::from(plan.schedule).into(),
        guarantees: Some(plan.guarantees.into()),
        propagation: pb::PropagationMode::from(plan.propagation).into(),
        customer_guarantees: plan.per_customer.iter().map(pb::CustomerGuarantees::from).collect(),
        seed: plan.seed,
        description: description.to_owned(),
        ..pb::ScenarioSummary::from(scenario)
    }
}

/// A scenario refused for a reason that has no place in its text (its
/// cluster would not start). An error in the text itself converts with
/// `pb::ScenarioError::from(&input_error)`, which says where.
pub fn refused(message: String) -> pb::ScenarioError {
    pb::ScenarioError { message, line: 0, column: 0 }
}

/// The play state and speed, as a control command answers them (and as the
/// `state` event that records a change).
pub fn control_reply(play: pb::PlayState, speed: f64) -> pb::ControlReply {
    pb::ControlReply { state: play.into(), speed }
}

/// The course output of a finished run, in `format`.
pub fn finished(format: OutputFormat, output_json: String) -> pb::Finished {
    pb::Finished { output_json, format: pb::OutputFormat::from(format).into() }
}

/// The checker's findings on a finished run of `scenario`, whose sessions
/// asked for `per_session` (in input entry order).
pub fn violations(
    scenario: &Scenario,
    record: &RunRecord,
    per_session: &[Guarantees],
) -> Vec<pb::ViolationFound> {
    let history = History::from_record(scenario, record, per_session);
    check::check(&history).violations.iter().map(|v| (&history, v).into()).collect()
}

/// What is broken in `control`'s cluster right now.
pub async fn network_state(control: &Control) -> pb::NetworkState {
    let down = control.down().await.into_iter().map(|b| b.0).collect();
    let network = control.network();
    let cut = network.cut_links().into_iter().map(|(a, b)| pb::Link::from([a.0, b.0])).collect();
    let delays = network
        .delays()
        .into_iter()
        .map(|(a, b, d)| pb::LinkDelay {
            link: Some(pb::Link::from([a.0, b.0])),
            delay_ms: d.max_ms(),
        })
        .collect();
    pb::NetworkState { down, cut, delays }
}

/// A fault that was not applied, and why; with what is broken, when known.
pub fn fault_refused(why: &str, state: Option<pb::NetworkState>) -> pb::FaultReply {
    pb::FaultReply { error: why.to_owned(), state }
}

/// The network changed: `description` says how, `state` is what is broken now.
pub fn network_changed(description: String, state: pb::NetworkState) -> pb::lab_event::Event {
    pb::lab_event::Event::Network(pb::NetworkChanged { description, state: Some(state) })
}

//! The lab's history, message by message: what a run becomes on the wire,
//! whichever host ran it.
//!
//! A lab's `Watch` stream is a list of [`pb::LabEvent`]s. The live lab
//! (`bank serve`, a real cluster) and the browser's simulator
//! (`frontend/src/engine/sim`) both build every event with the functions
//! here: the summary of a loaded scenario with the settings in use, each
//! traced customer request, log entry and answer ([`event`]), the state of
//! the network, the checker's findings on a finished run and the course
//! output at the end. So the page draws both with one code path, and a rule
//! (which violations a run shows, what the output is) has one home.

use std::collections::BTreeMap;

use bank_core::branch::{Reply, Request};
use bank_core::check;
use bank_core::experiment::RunPlan;
use bank_core::formats::{self, OutputFormat, OutputOptions};
use bank_core::network::LinkState;
use bank_core::trace::Traced;
use bank_core::{BranchId, Cents, CustomerId, EventId, Guarantees, History, LogEntry};
use bank_core::{RunRecord, Scenario};

use crate as pb;
use pb::lab_event::Event;

/// A scenario read for a lab: what runs, how, and what the page is told.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub scenario: Scenario,
    /// How it runs: the browser's choices, else the file's, else the course's.
    pub plan: RunPlan,
    pub summary: pb::ScenarioSummary,
}

impl Prepared {
    /// Reads `text` (any course input, or an experiment file) for a lab,
    /// named `name` ("scenario" if empty). `format` `None`: the one that goes
    /// with the input; `guarantees` / `propagation` `None`: the experiment's
    /// own, else the course's (the picker offers the file's own guarantees
    /// among its choices, see `Overrides::picked_guarantees`).
    pub fn read(
        text: &str,
        name: &str,
        format: Option<OutputFormat>,
        guarantees: Option<Guarantees>,
        propagation: Option<bank_core::branch::PropagationMode>,
    ) -> Result<Prepared, pb::ScenarioError> {
        let name = if name.is_empty() { "scenario" } else { name };
        let experiment = bank_core::experiment::parse_experiment(text, name)
            .map_err(|e| pb::ScenarioError::from(&e))?;
        let (scenario, settings) = (experiment.scenario, experiment.settings);
        let chose = bank_core::experiment::Overrides { format, propagation, ..Default::default() }
            .picked_guarantees(guarantees, &settings);
        let plan = RunPlan::resolve(&scenario, &settings, chose);
        let description = settings.description.as_deref().unwrap_or_default();
        let summary = pb::ScenarioSummary {
            text: text.to_owned(),
            ..summary(name, &scenario, &plan, description)
        };
        Ok(Prepared { scenario, plan, summary })
    }

    /// How many scripted customer events the scenario has.
    pub fn scripted(&self) -> usize {
        self.scenario.customers.iter().map(|c| c.events.len()).sum()
    }
}

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
/// cluster would not start, it is too large). An error in the text itself
/// converts with `pb::ScenarioError::from(&input_error)`, which says where.
pub fn refused(message: String) -> pb::ScenarioError {
    pb::ScenarioError { message, line: 0, column: 0 }
}

/// The play state and speed, as a control command answers them (and as the
/// `state` event that records a change).
pub fn control_reply(play: pb::PlayState, speed: f64) -> pb::ControlReply {
    pb::ControlReply { state: play.into(), speed }
}

/// The wire event for one traced item of a run.
pub fn event(traced: &Traced) -> Event {
    match traced {
        Traced::Logged { branch, entry, balance, added_writes } => {
            branch_logged(*branch, entry, *balance, added_writes)
        }
        Traced::Sent { session, from_browser, request } => {
            customer_sent(*session, *from_browser, request)
        }
        Traced::Answered { session, from_browser, reply } => {
            customer_answered(*session, *from_browser, reply)
        }
    }
}

/// The traced item a wire event carries, back in core form (the inverse of
/// [`event`]): `None` for an event that is no item of the run (a load, a
/// network change, the end), so a page can read its history's causality
/// (`bank_core::causality::TraceCausality`) with the simulator's code.
pub fn traced(event: &Event) -> Option<Result<Traced, crate::ConvertError>> {
    use crate::ConvertError::MissingField;
    Some(match event {
        Event::BranchLogged(logged) => traced_logged(logged),
        Event::CustomerSent(sent) => sent
            .request
            .as_ref()
            .ok_or(MissingField("CustomerSent.request"))
            .and_then(Request::try_from)
            .map(|request| Traced::Sent {
                session: sent.session,
                from_browser: sent.from_browser,
                request,
            }),
        Event::CustomerAnswered(answered) => answered
            .reply
            .as_ref()
            .ok_or(MissingField("CustomerAnswered.reply"))
            .and_then(Reply::try_from)
            .map(|reply| Traced::Answered {
                session: answered.session,
                from_browser: answered.from_browser,
                reply,
            }),
        _ => return None,
    })
}

/// The traced item of a wire `BranchLogged` (see [`traced`]).
pub fn traced_logged(logged: &pb::BranchLogged) -> Result<Traced, crate::ConvertError> {
    let entry =
        logged.entry.as_ref().ok_or(crate::ConvertError::MissingField("BranchLogged.entry"))?;
    Ok(Traced::Logged {
        branch: BranchId(logged.branch_id),
        entry: LogEntry::try_from(entry)?,
        balance: Cents(logged.balance_cents),
        added_writes: logged.added_writes.iter().map(<(CustomerId, Vec<EventId>)>::from).collect(),
    })
}

/// Branch `branch` logged `entry` (see [`Traced::Logged`]).
pub fn branch_logged(
    branch: BranchId,
    entry: &LogEntry,
    balance: Cents,
    added_writes: &BTreeMap<CustomerId, Vec<EventId>>,
) -> Event {
    Event::BranchLogged(pb::BranchLogged {
        branch_id: branch.0,
        entry: Some(entry.into()),
        balance_cents: balance.0,
        added_writes: added_writes.iter().map(pb::CustomerWrites::from).collect(),
    })
}

/// A customer sent `request` (`session`: the input entry index, 0 for the browser).
pub fn customer_sent(session: u32, from_browser: bool, request: &Request) -> Event {
    Event::CustomerSent(pb::CustomerSent { session, from_browser, request: Some(request.into()) })
}

/// A customer received `reply`.
pub fn customer_answered(session: u32, from_browser: bool, reply: &Reply) -> Event {
    Event::CustomerAnswered(pb::CustomerAnswered {
        session,
        from_browser,
        customer_id: reply.customer.0,
        reply: Some(reply.into()),
    })
}

/// What is broken: the branches `down`, and the cut and delayed links of
/// `links` between the branches `ids`.
pub fn network_state(down: &[BranchId], links: &LinkState, ids: &[BranchId]) -> pb::NetworkState {
    pb::NetworkState {
        down: down.iter().map(|b| b.0).collect(),
        cut: links.cut_links().map(|(a, b)| pb::Link::from([a.0, b.0])).collect(),
        delays: links
            .delays(ids)
            .into_iter()
            .map(|(a, b, d)| pb::LinkDelay {
                link: Some(pb::Link::from([a.0, b.0])),
                delay_ms: d.max_ms(),
            })
            .collect(),
    }
}

/// A fault that was not applied, and why; with what is broken, when known.
pub fn fault_refused(why: &str, state: Option<pb::NetworkState>) -> pb::FaultReply {
    pb::FaultReply { error: why.to_owned(), state }
}

/// The network changed by `fault`, injected or (with the time it was due)
/// of the experiment's plan; `state` is what is broken now. Its description
/// is the fault in words: "crash branch 2", "cut the link 1-3 (planned, at
/// 300 ms)".
pub fn network_changed(
    fault: &bank_core::network::Fault,
    planned_at_ms: Option<u64>,
    state: pb::NetworkState,
) -> Event {
    let description = match planned_at_ms {
        Some(at) => format!("{fault} (planned, at {at} ms)"),
        None => fault.to_string(),
    };
    Event::Network(pb::NetworkChanged {
        description,
        state: Some(state),
        planned: planned_at_ms.is_some(),
    })
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

/// The network as `history` last recorded it (`None`: no change recorded).
pub fn last_network(history: &[pb::LabEvent]) -> Option<&pb::NetworkState> {
    history.iter().rev().find_map(|e| match &e.event {
        Some(Event::Network(changed)) => changed.state.as_ref(),
        _ => None,
    })
}

/// The course output of a finished run, in `format`, as `bank run` prints it.
pub fn finished(format: OutputFormat, scenario: &Scenario, record: &RunRecord) -> pb::Finished {
    let output_json = formats::render(format, scenario, record, &OutputOptions::default());
    pb::Finished { output_json, format: pb::OutputFormat::from(format).into() }
}

/// The events that end a finished run whose history last recorded
/// `network` ([`last_network`]): if it was left broken (a branch down, a link cut), first that the
/// run's end repaired it, as both the cluster's runner and the simulator do
/// before they read the final state (delays stay); then every violation the
/// checker finds, then the course output.
pub fn run_end(
    scenario: &Scenario,
    plan: &RunPlan,
    record: &RunRecord,
    network: Option<&pb::NetworkState>,
) -> Vec<Event> {
    let mut events = Vec::new();
    if let Some(broken) = network.filter(|s| !s.down.is_empty() || !s.cut.is_empty()) {
        events.push(Event::Network(pb::NetworkChanged {
            description: "the run's end: every crashed branch restarted and every cut link \
                          healed, so that the branches converge"
                .into(),
            state: Some(pb::NetworkState {
                down: vec![],
                cut: vec![],
                delays: broken.delays.clone(),
            }),
            planned: true,
        }));
    }
    events
        .extend(violations(scenario, record, &plan.per_session).into_iter().map(Event::Violation));
    events.push(Event::Finished(finished(plan.format, scenario, record)));
    events
}

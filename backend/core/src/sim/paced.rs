//! The simulator paced from outside, for a person to watch: the same run
//! as [`super::run`], advanced to a point in simulated time at a time.
//!
//! A [`PacedSim`] is what the browser's simulated lab drives in place of a
//! cluster. Scripted customer sends wait for permits, as a live lab's
//! customers wait for its pacer: [`PacedSim::grant`] lets one more through
//! (play grants one per 1/speed s, step exactly one). Faults can be injected
//! at any moment ([`PacedSim::inject`], checked by [`Fault::refusal`] as in a
//! live lab) and a browser's customer can send requests of its own
//! ([`PacedSim::customer`]). Everything that happens is traced
//! ([`PacedSim::take_happened`]), with its simulated time, as the
//! [`Traced`] items a cluster reports; faults the plan made happen are
//! noted too.
//!
//! With permits handed out as fast as they are asked for, a course input
//! on the sequential schedule ends in exactly the record of an unpaced run
//! (the course output `bank run` prints): each event is sent after the
//! previous one is answered and the bank is quiet, whenever that is.

use std::borrow::Cow;

use super::{Gate, Progress, Sim, SimConfig, SimError};
use crate::branch::{Reply, ReplyToken, Request};
use crate::ids::BranchId;
use crate::network::{Fault, LinkState};
use crate::record::RunRecord;
use crate::scenario::Scenario;
use crate::trace::Traced;

/// One thing that happened in a paced run.
#[derive(Clone, Debug)]
pub enum Happened {
    /// What a cluster would have reported.
    Traced(Traced),
    /// The network changed: a fault of the plan, at its time
    /// (`planned_at_ms`), or one injected; `down` and `links` are the
    /// network right after.
    Network { fault: Fault, planned_at_ms: Option<u64>, down: Vec<BranchId>, links: LinkState },
}

/// A simulated bank run at a person's pace (see the module docs).
pub struct PacedSim {
    sim: Sim<'static>,
    finished: bool,
}

impl std::fmt::Debug for PacedSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacedSim").field("now_us", &self.sim.now).finish_non_exhaustive()
    }
}

impl PacedSim {
    /// `scenario` under `config`, at simulated time 0, with no permit yet.
    pub fn new(scenario: Scenario, config: SimConfig) -> PacedSim {
        let mut sim = Sim::new(Cow::Owned(scenario), Cow::Owned(config));
        sim.gate = Some(Gate::default());
        sim.trace = Some(Vec::new());
        PacedSim { sim, finished: false }
    }

    /// Runs until simulated time `at_us` (never backwards). `Finished` once
    /// every scripted customer is answered and the bank has converged.
    pub fn advance_to(&mut self, at_us: u64) -> Result<Progress, SimError> {
        let progress = self.sim.advance(at_us.max(self.sim.now))?;
        self.finished |= progress == Progress::Finished;
        Ok(progress)
    }

    /// Simulated time now, in microseconds.
    pub fn now_us(&self) -> u64 {
        self.sim.now
    }

    /// Every scripted customer is answered and the bank has converged.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// One more scripted send may go (at once, if one is waiting).
    pub fn grant(&mut self) {
        let Some(gate) = &mut self.sim.gate else { return };
        gate.permits += 1;
        if let Some(run) = gate.held.pop_front() {
            self.sim.schedule_in(0, super::Event::CustomerSend { run });
        }
    }

    /// One more permit, unless one is still unused (a slow event must not
    /// let a burst through afterwards).
    pub fn grant_unless_waiting(&mut self) {
        if self.sim.gate.as_ref().is_some_and(|g| g.permits == 0) {
            self.grant();
        }
    }

    /// Takes back every permit not used yet: after a pause, no further
    /// scripted send starts.
    pub fn take_back(&mut self) {
        if let Some(gate) = &mut self.sim.gate {
            gate.permits = 0;
        }
    }

    /// Applies `fault` now, or says why it cannot be (the same checks as a
    /// live lab's, [`Fault::refusal`] and [`Fault::refusal_now`]). The
    /// change is traced as a [`Happened::Network`].
    pub fn inject(&mut self, fault: Fault) -> Result<(), String> {
        if let Some(why) = fault.refusal(&self.sim.ids).or_else(|| fault.refusal_now(&self.down()))
        {
            return Err(why);
        }
        self.sim.apply_fault(fault.clone());
        self.sim.note_network(fault, None);
        Ok(())
    }

    /// Sends the browser's customer `request` now; its answer comes back
    /// through [`PacedSim::take_answers`] under the token returned.
    pub fn customer(&mut self, request: Request) -> Result<ReplyToken, String> {
        if !self.sim.ids.contains(&request.branch) {
            let ids: Vec<String> = self.sim.ids.iter().map(|b| b.0.to_string()).collect();
            return Err(format!(
                "there is no branch {} (branches: {})",
                request.branch.0,
                ids.join(", ")
            ));
        }
        let token = ReplyToken(self.sim.id());
        let sent = Traced::Sent { session: 0, from_browser: true, request: request.clone() };
        self.sim.note(Happened::Traced(sent));
        self.sim.browser.insert(token, request.clone());
        let d = self.sim.client_delay();
        let to = request.branch;
        let msg = super::BranchMsg::Request { token, request };
        self.sim.schedule_in(d, super::Event::ToBranch { to, incarnation: None, msg });
        Ok(token)
    }

    /// What happened since the last call, with its simulated time (µs).
    pub fn take_happened(&mut self) -> Vec<(u64, Happened)> {
        self.sim.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The browser's customer's answers since the last call.
    pub fn take_answers(&mut self) -> Vec<(ReplyToken, Reply)> {
        std::mem::take(&mut self.sim.browser_answers)
    }

    /// The branches crashed right now.
    pub fn down(&self) -> Vec<BranchId> {
        self.sim.down()
    }

    /// The links right now (cuts and delays).
    pub fn links(&self) -> &LinkState {
        &self.sim.links
    }

    /// Every branch of the bank.
    pub fn branch_ids(&self) -> &[BranchId] {
        &self.sim.ids
    }

    /// The record of the run (whole once [`PacedSim::is_finished`]).
    pub fn record(&self) -> RunRecord {
        self.sim.record()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{parse_experiment, Overrides, RunPlan};
    use crate::formats::{self, OutputOptions};

    fn paced_to_the_end(text: &str) -> (Scenario, RunPlan, PacedSim) {
        let experiment = parse_experiment(text, "t.json").unwrap();
        let plan =
            RunPlan::resolve(&experiment.scenario, &experiment.settings, Overrides::default());
        let mut paced = PacedSim::new(experiment.scenario.clone(), plan.sim_config());
        let mut at = 0;
        for _ in 0..100_000 {
            paced.grant_unless_waiting();
            at += 10_000;
            if paced.advance_to(at).unwrap() == Progress::Finished {
                break;
            }
        }
        assert!(paced.is_finished());
        (experiment.scenario, plan, paced)
    }

    /// A paced run of every shipped course example on the sequential
    /// schedule and a perfect network ends in the record of the unpaced
    /// one, so in the same course output.
    #[test]
    fn pacing_changes_no_course_output() {
        let mut tested = Vec::new();
        for example in crate::examples::all() {
            let experiment = parse_experiment(example.text, example.name).unwrap();
            let plan =
                RunPlan::resolve(&experiment.scenario, &experiment.settings, Overrides::default());
            if plan.schedule != crate::schedule::Schedule::Sequential || !plan.network.is_perfect()
            {
                continue;
            }
            tested.push(example.name);
            let (scenario, plan, paced) = paced_to_the_end(example.text);
            let unpaced = super::super::run(&scenario, &plan.sim_config()).unwrap();
            let options = OutputOptions::default();
            assert_eq!(
                formats::render(plan.format, &scenario, &paced.record(), &options),
                formats::render(plan.format, &scenario, &unpaced.record, &options),
                "{}",
                example.name
            );
        }
        assert!(tested.contains(&"seed-test-1") && tested.contains(&"project3-big"), "{tested:?}");
    }

    #[test]
    fn nothing_is_sent_without_a_permit_and_everything_is_traced() {
        let text = crate::examples::find("seed-test-1").unwrap().text;
        let experiment = parse_experiment(text, "t.json").unwrap();
        let plan =
            RunPlan::resolve(&experiment.scenario, &experiment.settings, Overrides::default());
        let mut paced = PacedSim::new(experiment.scenario, plan.sim_config());
        assert_eq!(paced.advance_to(10_000_000).unwrap(), Progress::Waiting);
        assert!(paced.take_happened().is_empty(), "no permit, no send");
        paced.grant();
        paced.advance_to(20_000_000).unwrap();
        let happened = paced.take_happened();
        let sent = happened
            .iter()
            .filter(|(_, h)| matches!(h, Happened::Traced(Traced::Sent { .. })))
            .count();
        assert_eq!(sent, 1, "one permit, one send: {happened:?}");
        assert!(happened.iter().any(|(_, h)| matches!(h, Happened::Traced(Traced::Logged { .. }))));
    }

    #[test]
    fn faults_are_checked_and_the_browser_customer_is_answered() {
        let text = crate::examples::find("seed-test-1").unwrap().text;
        let experiment = parse_experiment(text, "t.json").unwrap();
        let plan =
            RunPlan::resolve(&experiment.scenario, &experiment.settings, Overrides::default());
        let mut paced = PacedSim::new(experiment.scenario, plan.sim_config());
        assert_eq!(paced.inject(Fault::Crash(9)).unwrap_err(), "there is no branch 9");
        paced.inject(Fault::Crash(2)).unwrap();
        assert_eq!(paced.down(), vec![BranchId(2)]);
        assert_eq!(paced.inject(Fault::Crash(2)).unwrap_err(), "branch 2 is down already");
        // Sequential propagation waits for every branch: bring 2 back first.
        paced.inject(Fault::Restart(2)).unwrap();
        assert!(paced.down().is_empty());
        let mut session = crate::session::Session::new(crate::ids::CustomerId(0));
        let request = session.request(
            crate::ids::EventId(1),
            BranchId(1),
            crate::op::Op::Deposit(crate::money::Cents(500)),
        );
        let token = paced.customer(request).unwrap();
        paced.advance_to(1_000_000).unwrap();
        let answers = paced.take_answers();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].0, token);
        assert!(answers[0].1.outcome.is_success(), "{:?}", answers[0].1);
    }
}

//! The simulated lab itself, with no browser in it: a `Lab` that runs its
//! scenario in bank-core's deterministic simulator
//! ([`PacedSim`](bank_core::sim::paced::PacedSim)) instead of on a cluster,
//! and records the same history of [`LabEvent`]s a `bank serve` lab streams.
//!
//! It follows the live lab's rules (backend `lab/mod.rs`): a load starts
//! paused; play hands out one permit at once and one per 1/speed seconds,
//! step exactly one, pause takes back those unused; the experiment's timed
//! faults and the simulated clock start with the first play, step or
//! browser request; a finished run ends with the checker's violations and
//! the course output. Every message is built by bank-proto's
//! [`lab_trace`], as the live lab's are. Time comes in from the caller
//! (`now_ms`, a wall clock in milliseconds): simulated time runs with it,
//! so the network's seeded delays play out at their real length.

use bank_core::branch::{PropagationMode, Reply, ReplyToken, Request};
use bank_core::formats::OutputFormat;
use bank_core::network::Fault;
use bank_core::sim::paced::{Happened, PacedSim};
use bank_core::Guarantees;
use bank_proto::lab_trace::{self, Prepared};
use bank_proto::{
    lab_event::Event, Command, ControlReply, FaultReply, Halted, LabEvent, PlayState,
    ScenarioError, ScenarioSummary,
};

/// Scripted customer events per second until told otherwise (the live lab's).
pub const DEFAULT_SPEED: f64 = 1.0;
const MIN_SPEED: f64 = 0.05;
/// The fastest play (scripted customer events per second).
pub const MAX_SPEED: f64 = 50.0;

/// A lab whose bank is simulated (see the module docs).
#[derive(Debug)]
pub struct LabCore {
    loaded: Option<Prepared>,
    run: Option<PacedSim>,
    history: Vec<LabEvent>,
    /// How much of `history` the watchers have been given.
    sent: usize,
    play: PlayState,
    speed: f64,
    /// The wall-clock time (ms) of simulated time 0: the first play, step
    /// or browser request of the run.
    origin_ms: Option<f64>,
    /// While playing: when the next permit is due (wall-clock ms).
    next_grant_ms: Option<f64>,
    /// The run's end (violations, output) is recorded.
    ended: bool,
    /// The simulator gave up (the reason is the `halted` event).
    halted: bool,
    /// How far the run's clock is ahead of the caller's wall clock (ms),
    /// from [`LabCore::fast_forward`].
    skew_ms: f64,
}

impl Default for LabCore {
    fn default() -> Self {
        LabCore {
            loaded: None,
            run: None,
            history: Vec::new(),
            sent: 0,
            play: PlayState::Empty,
            speed: DEFAULT_SPEED,
            origin_ms: None,
            next_grant_ms: None,
            ended: false,
            halted: false,
            skew_ms: 0.0,
        }
    }
}

impl LabCore {
    /// The history since the last load or reset.
    pub fn history(&self) -> &[LabEvent] {
        &self.history
    }

    /// The events recorded since the last call (after a load or reset, the
    /// whole new history, starting with its `loaded` event).
    pub fn take_new(&mut self) -> Vec<LabEvent> {
        let new = self.history[self.sent.min(self.history.len())..].to_vec();
        self.sent = self.history.len();
        new
    }

    /// Reads `text` and runs it afresh, paused at the start. `format`
    /// `None`: the one that goes with the input (the page's choice).
    pub fn load(
        &mut self,
        text: &str,
        name: &str,
        format: Option<OutputFormat>,
        guarantees: Option<Guarantees>,
        propagation: Option<PropagationMode>,
    ) -> Result<ScenarioSummary, ScenarioError> {
        let prepared = Prepared::read(text, name, format, guarantees, propagation)?;
        let summary = prepared.summary.clone();
        self.loaded = Some(prepared);
        self.restart();
        Ok(summary)
    }

    /// Carries out a control command at wall-clock time `now_ms`.
    pub fn control(&mut self, command: Command, speed: f64, now_ms: f64) -> ControlReply {
        let now_ms = now_ms + self.skew_ms;
        let speed_given = speed > 0.0 && speed.is_finite();
        if speed_given && matches!(command, Command::Play | Command::SetSpeed) {
            self.speed = speed.clamp(MIN_SPEED, MAX_SPEED);
        }
        if self.loaded.is_none() || (self.halted && command != Command::Reset) {
            return lab_trace::control_reply(self.play, self.speed);
        }
        let playing = self.play == PlayState::Playing;
        match command {
            Command::Reset => self.restart(),
            Command::Play if self.play == PlayState::Paused => {
                self.tick_at(now_ms);
                self.start_clock(now_ms);
                self.set_play(PlayState::Playing);
                // The first event goes at once, the next ones a period apart.
                self.grant();
                self.next_grant_ms = Some(now_ms + self.period_ms());
            }
            Command::Play | Command::SetSpeed if playing => {
                self.next_grant_ms = Some(now_ms + self.period_ms());
                let reply = lab_trace::control_reply(self.play, self.speed);
                self.push(Event::State(reply));
            }
            Command::Pause if playing => {
                self.tick_at(now_ms);
                self.next_grant_ms = None;
                if let Some(run) = &mut self.run {
                    run.take_back();
                }
                self.set_play(PlayState::Paused);
            }
            Command::Step if matches!(self.play, PlayState::Paused | PlayState::Playing) => {
                self.tick_at(now_ms);
                self.start_clock(now_ms);
                self.next_grant_ms = None;
                if let Some(run) = &mut self.run {
                    run.take_back();
                }
                self.set_play(PlayState::Paused);
                self.grant();
            }
            _ => {}
        }
        self.tick_at(now_ms);
        lab_trace::control_reply(self.play, self.speed)
    }

    /// Injects `fault` at wall-clock time `now_ms` (the same checks as a
    /// live lab's); the change is recorded as a `network` event.
    pub fn inject(&mut self, fault: Fault, now_ms: f64) -> FaultReply {
        let now_ms = now_ms + self.skew_ms;
        self.tick_at(now_ms);
        let Some(run) = &mut self.run else {
            return lab_trace::fault_refused("no scenario is loaded", None);
        };
        let result = run.inject(fault);
        let state = lab_trace::network_state(&run.down(), run.links(), run.branch_ids());
        self.drain();
        match result {
            Ok(()) => FaultReply { error: String::new(), state: Some(state) },
            Err(why) => lab_trace::fault_refused(&why, Some(state)),
        }
    }

    /// Sends the browser customer's `request` at wall-clock time `now_ms`;
    /// its answer comes out of a later [`LabCore::tick`] under the token.
    pub fn customer(&mut self, request: Request, now_ms: f64) -> Result<ReplyToken, String> {
        let now_ms = now_ms + self.skew_ms;
        self.tick_at(now_ms);
        self.start_clock(now_ms);
        let run = self.run.as_mut().ok_or("no scenario is loaded")?;
        let token = run.customer(request)?;
        self.drain();
        Ok(token)
    }

    /// Every scripted event may go at once, and the bank runs to its end
    /// now, without waiting for the wall clock: the schedule of an unpaced
    /// run (`bank sim`, the comparison), so the same seed gives the same
    /// history. (What the benchmark and the tests measure.)
    pub fn run_to_end(&mut self, now_ms: f64) {
        let now_ms = now_ms + self.skew_ms;
        self.start_clock(now_ms);
        self.next_grant_ms = None;
        if let Some(run) = &mut self.run {
            let scripted = self.loaded.as_ref().map_or(0, Prepared::scripted);
            for _ in 0..scripted {
                run.grant();
            }
            if let Err(e) = run.advance_to(u64::MAX) {
                self.drain();
                return self.halt(e.to_string());
            }
        }
        self.drain();
        if self.run.as_ref().is_some_and(PacedSim::is_finished) && !self.ended {
            self.end_run();
        }
    }

    /// Runs the simulated bank up to wall-clock time `now_ms`, handing out
    /// the permits due meanwhile; answers the browser's customer got.
    pub fn tick(&mut self, now_ms: f64) -> Vec<(ReplyToken, Reply)> {
        self.tick_at(now_ms + self.skew_ms)
    }

    /// Moves the run's clock `by_ms` ahead of the wall clock and runs it up
    /// to there ("to the end", in steps): the same paced run as playing it,
    /// with the same permits at the same simulated times, only sooner.
    pub fn fast_forward(&mut self, now_ms: f64, by_ms: f64) -> Vec<(ReplyToken, Reply)> {
        self.skew_ms += by_ms.max(0.0);
        self.tick(now_ms)
    }

    /// Whether the run has ended (its output is recorded) or stopped.
    pub fn is_over(&self) -> bool {
        self.ended || self.halted
    }

    fn tick_at(&mut self, now_ms: f64) -> Vec<(ReplyToken, Reply)> {
        let Some(origin) = self.origin_ms else { return Vec::new() };
        let sim_us = |ms: f64| ((ms - origin).max(0.0) * 1000.0) as u64;
        let mut failed = None;
        if let Some(run) = &mut self.run {
            let period = 1000.0 / self.speed;
            // Each permit at its own time, the bank run up to it first.
            while let Some(due) = self.next_grant_ms.filter(|due| *due <= now_ms) {
                if let Err(e) = run.advance_to(sim_us(due)) {
                    failed = Some(e);
                    break;
                }
                run.grant_unless_waiting();
                self.next_grant_ms = Some(due + period);
            }
            if failed.is_none() {
                failed = run.advance_to(sim_us(now_ms)).err();
            }
        }
        let answers = self.run.as_mut().map(PacedSim::take_answers).unwrap_or_default();
        self.drain();
        if let Some(error) = failed {
            self.halt(error.to_string());
        } else if self.run.as_ref().is_some_and(PacedSim::is_finished) && !self.ended {
            self.end_run();
        }
        answers
    }

    /// Whether [`LabCore::tick`] still has work: a run under way, its end
    /// not reached yet (a browser request in flight is the caller's to know).
    pub fn needs_ticks(&self) -> bool {
        self.origin_ms.is_some() && !self.halted && self.run.is_some() && !self.ended
    }

    fn period_ms(&self) -> f64 {
        1000.0 / self.speed
    }

    fn start_clock(&mut self, now_ms: f64) {
        self.origin_ms.get_or_insert(now_ms);
    }

    fn grant(&mut self) {
        if let Some(run) = &mut self.run {
            run.grant();
        }
    }

    /// The loaded scenario from the beginning: a fresh simulated bank, a
    /// new history, paused.
    fn restart(&mut self) {
        let Some(loaded) = &self.loaded else { return };
        self.run = Some(PacedSim::new(loaded.scenario.clone(), loaded.plan.sim_config()));
        let summary = loaded.summary.clone();
        self.history.clear();
        self.sent = 0;
        self.origin_ms = None;
        self.next_grant_ms = None;
        self.ended = false;
        self.halted = false;
        self.push(Event::Loaded(summary));
        self.play = PlayState::Paused;
        self.push(Event::State(lab_trace::control_reply(self.play, self.speed)));
    }

    /// Records what the simulator traced since the last call.
    fn drain(&mut self) {
        let Some(run) = &mut self.run else { return };
        let ids = run.branch_ids().to_vec();
        for (at_us, happened) in run.take_happened() {
            let event = match happened {
                Happened::Traced(traced) => lab_trace::event(&traced),
                Happened::Network { fault, planned_at_ms, down, links } => {
                    let state = lab_trace::network_state(&down, &links, &ids);
                    lab_trace::network_changed(&fault, planned_at_ms, state)
                }
            };
            self.push_at(at_us, event);
        }
    }

    /// Every scripted customer is answered and the bank converged: the
    /// checker's findings and the course output, then `finished`.
    fn end_run(&mut self) {
        self.ended = true;
        let (Some(loaded), Some(run)) = (&self.loaded, &self.run) else { return };
        let network = lab_trace::last_network(&self.history);
        let events = lab_trace::run_end(&loaded.scenario, &loaded.plan, &run.record(), network);
        for event in events {
            self.push(event);
        }
        self.next_grant_ms = None;
        self.set_play(PlayState::Finished);
    }

    /// The simulator could not go on (its horizon): the run stops for good.
    fn halt(&mut self, reason: String) {
        self.halted = true;
        self.next_grant_ms = None;
        self.push(Event::Halted(Halted { reason }));
        self.play = PlayState::Paused;
    }

    fn set_play(&mut self, play: PlayState) {
        if self.play != play {
            self.play = play;
            self.push(Event::State(lab_trace::control_reply(play, self.speed)));
        }
    }

    fn push(&mut self, event: Event) {
        let at_us = self.run.as_ref().map_or(0, PacedSim::now_us);
        self.push_at(at_us, event);
    }

    fn push_at(&mut self, at_micros: u64, event: Event) {
        let seq = self.history.len() as u64;
        self.history.push(LabEvent { seq, at_micros, event: Some(event), ..Default::default() });
    }
}

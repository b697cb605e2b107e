//! The app's shared state and the actions the controls call: the `Lab`
//! context every component reads with `use_context::<Lab>()`.
//!
//! Playback model: the whole history from `Watch` is kept in [`Trace`]; the
//! `cursor` says how many of its events are applied, and what the page shows
//! is a pure replay of `trace[..cursor]`. Playing advances the cursor one
//! event per tick (and asks the server to keep sending scripted events);
//! stepping back and the timeline only move the cursor.

use std::time::Duration;

use bank_proto::{
    fault_request, lab_event::Event, Command, CompareRequest, CompareResult, CustomerReply, Example, FaultRequest, Guarantees,
    LabEvent, Operation, PlayState, ScenarioError,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tonic::Streaming;

use crate::api::{self, Api, ApiError};
use crate::model::{
    session::{self, BrowserSession},
    trace::{Pushed, Trace, World},
};

/// Milliseconds per trace event at speed 1.
pub const TICK_MS: f64 = 300.0;

/// The most events of the Watch stream put into the trace before the page
/// is told about them (see [`Lab::follow`]).
const MAX_EVENTS_PER_UPDATE: usize = 500;

/// The speed slider's range (scripted events per second on the server; the
/// replay runs `speed / TICK_MS` trace events per millisecond).
pub const SPEED_MIN: f64 = 0.25;
pub const SPEED_MAX: f64 = 8.0;

/// What the details panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// A trace event, by index.
    Event(usize),
    /// A message, by flight id.
    Flight(usize),
}

/// What was clicked in the graph to inject a fault into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    Branch(u64),
    /// A link, as (smaller id, larger id).
    Link(u64, u64),
}

/// The shared state: signals (all `Copy`), plus the actions below.
#[derive(Clone, Copy, Debug)]
pub struct Lab {
    api: StoredValue<Api>,
    /// Everything recorded since the last load or reset.
    pub trace: RwSignal<Trace>,
    /// Trace events applied (0..=trace length).
    pub cursor: RwSignal<usize>,
    /// The replay is running (the page's own playback).
    pub playing: RwSignal<bool>,
    /// The server's play state (from the `state` events of the Watch stream).
    pub server_state: RwSignal<PlayState>,
    pub speed: RwSignal<f64>,
    /// The cursor as a real number, for moving dots between ticks.
    pub visual_t: RwSignal<f64>,
    pub hovered: RwSignal<Option<Selection>>,
    pub selected: RwSignal<Option<Selection>>,
    pub examples: RwSignal<Vec<Example>>,
    /// The last load failed: why.
    pub load_error: RwSignal<Option<ScenarioError>>,
    /// A load is in progress (the `Load` call has not answered yet).
    pub loading: RwSignal<bool>,
    /// A load was asked for and its history has not started yet: the graph
    /// hides the previous scenario meanwhile.
    pub awaiting_history: RwSignal<bool>,
    /// A problem talking to the server (shown as a banner).
    pub notice: RwSignal<Option<String>>,
    pub connected: RwSignal<bool>,
    pub session: RwSignal<BrowserSession>,
    /// Bumped whenever a new history starts and the session is reset: a reply
    /// that arrives later belongs to the old cluster and is ignored.
    session_epoch: StoredValue<u64>,
    /// The text of the last browser request's result.
    pub customer_result: RwSignal<Option<String>>,
    /// The guarantees chosen with the toggles (`None`: the scenario's own),
    /// sent with the next load.
    pub guarantee_choice: RwSignal<Option<Guarantees>>,
    /// "sequential", "parallel", "background", or "" (the scenario's own).
    pub propagation_choice: RwSignal<String>,
    /// The text of the last scenario loaded (for the comparison).
    pub last_text: RwSignal<String>,
    /// The branch or link whose fault buttons are shown.
    pub fault_target: RwSignal<Option<FaultTarget>>,
    /// The last side-by-side comparison, or why it failed.
    pub comparison: RwSignal<Option<Result<CompareResult, String>>>,
    pub comparing: RwSignal<bool>,
    /// `prefers-reduced-motion: reduce`: dots rest at edge midpoints.
    pub reduced_motion: bool,
    /// The replay of `trace[..cursor]`.
    pub world: Memo<World>,
    /// When the current playback tick began (ms, `Date.now()`).
    tick_started: StoredValue<f64>,
    /// Identifies the running animation loop; a new loop makes old ones stop.
    frame_loop: StoredValue<u64>,
    /// The next event to arrive should be shown at once (after a server STEP).
    follow_next: StoredValue<bool>,
}

impl Lab {
    pub fn new(api: Api) -> Self {
        let trace = RwSignal::new(Trace::new());
        let cursor = RwSignal::new(0usize);
        // The world changes only with the cursor or a new history: events
        // arriving after the cursor change nothing shown. Replaying forward
        // applies only the events in between (a busy history has tens of
        // thousands of events and receives hundreds per second).
        let shown = Memo::new(move |_| (trace.with(Trace::generation), cursor.get()));
        let world = Memo::new(move |previous: Option<&World>| {
            let (_, cursor) = shown.get();
            trace.with_untracked(|t| match previous {
                Some(world) => world.advanced(t, cursor),
                None => World::at(t, cursor),
            })
        });
        Lab {
            api: StoredValue::new(api),
            trace,
            cursor,
            playing: RwSignal::new(false),
            server_state: RwSignal::new(PlayState::Empty),
            speed: RwSignal::new(1.0),
            visual_t: RwSignal::new(0.0),
            hovered: RwSignal::new(None),
            selected: RwSignal::new(None),
            examples: RwSignal::new(Vec::new()),
            load_error: RwSignal::new(None),
            loading: RwSignal::new(false),
            awaiting_history: RwSignal::new(false),
            notice: RwSignal::new(None),
            connected: RwSignal::new(false),
            session: RwSignal::new(BrowserSession::default()),
            session_epoch: StoredValue::new(0),
            customer_result: RwSignal::new(None),
            guarantee_choice: RwSignal::new(None),
            propagation_choice: RwSignal::new(String::new()),
            last_text: RwSignal::new(String::new()),
            fault_target: RwSignal::new(None),
            comparison: RwSignal::new(None),
            comparing: RwSignal::new(false),
            reduced_motion: prefers_reduced_motion(),
            world,
            tick_started: StoredValue::new(0.0),
            frame_loop: StoredValue::new(0),
            follow_next: StoredValue::new(false),
        }
    }

    fn api(&self) -> Api {
        self.api.get_value()
    }

    /// Visual time for drawing messages: moves smoothly while playing.
    pub fn time(&self) -> f64 {
        if self.playing.get() && !self.reduced_motion {
            self.visual_t.get()
        } else {
            self.cursor.get() as f64
        }
    }

    /// [`Lab::time`], without subscribing to it.
    pub fn time_untracked(&self) -> f64 {
        untrack(|| self.time())
    }

    // ----- loading -------------------------------------------------------

    /// Loads scenario text on the server (a fresh cluster, paused at the start).
    pub fn load(self, text: String, name: String) {
        self.loading.set(true);
        self.awaiting_history.set(true);
        self.last_text.set(text.clone());
        let guarantees = self.guarantee_choice.get_untracked().map(|g| session::guarantees_text(&g)).unwrap_or_default();
        let propagation = self.propagation_choice.get_untracked();
        spawn_local(async move {
            let error = match self.api().load(text, name, guarantees, propagation).await {
                // The new history itself arrives through Watch (a `loaded`
                // event, which also stops the playback of the old one); it
                // may come before or after this answer.
                Ok(Ok(_summary)) => None,
                Ok(Err(error)) => Some(error),
                Err(error) => Some(ScenarioError { message: error.to_string(), line: 0, column: 0 }),
            };
            if error.is_some() {
                // The server kept the previous scenario: show it again.
                self.awaiting_history.set(false);
            }
            self.load_error.set(error);
            self.loading.set(false);
        });
    }

    /// Loads a shipped example by name.
    pub fn load_example(self, name: &str) {
        let text = self.examples.with_untracked(|examples| {
            examples.iter().find(|e| e.name == name).map(|e| e.text.clone())
        });
        match text {
            Some(text) => self.load(text, name.to_owned()),
            None => self.load_error.set(Some(ScenarioError {
                message: format!("no shipped example named \"{name}\""),
                line: 0,
                column: 0,
            })),
        }
    }

    /// Fetches the shipped examples for the picker.
    pub async fn fetch_examples(self) -> Result<(), ApiError> {
        let examples = self.api().examples().await?;
        self.examples.set(examples);
        Ok(())
    }

    // ----- playback ------------------------------------------------------

    pub fn play(self) {
        if !self.playing.get_untracked() {
            self.playing.set(true);
            self.tick_started.set_value(now_ms());
            self.visual_t.set(self.cursor.get_untracked() as f64 - 0.5);
            let token = self.frame_loop.get_value() + 1;
            self.frame_loop.set_value(token);
            request_animation_frame(move || self.frame(token));
        }
        self.control(Command::Play);
    }

    pub fn pause(self) {
        self.stop_playback();
        self.control(Command::Pause);
    }

    pub fn toggle_play(self) {
        if self.playing.get_untracked() {
            self.pause()
        } else {
            self.play()
        }
    }

    /// Shows one more event: a recorded one if any, else asks the server for
    /// one more scripted customer event.
    pub fn step_forward(self) {
        if self.playing.get_untracked() {
            self.pause();
        }
        let cursor = self.cursor.get_untracked();
        let (next, len) = self.trace.with_untracked(|t| (t.step_from(cursor), t.len()));
        if let Some(next) = next {
            self.cursor.set(next);
        } else {
            // Nothing visible recorded ahead: ask the server for one more
            // customer event (and show it when it comes).
            self.cursor.set(len);
            let state = self.server_state.get_untracked();
            self.follow_next.set_value(matches!(state, PlayState::Paused | PlayState::Playing));
            self.control(Command::Step);
        }
    }

    /// Time travel one event back (no server call).
    pub fn step_back(self) {
        if self.playing.get_untracked() {
            self.pause();
        }
        let back = self.trace.with_untracked(|t| t.back_from(self.cursor.get_untracked()));
        self.cursor.set(back);
    }

    /// Moves the cursor anywhere in the recorded trace.
    pub fn seek(self, to: usize) {
        let len = self.trace.with_untracked(Trace::len);
        let to = to.min(len);
        self.cursor.set(to);
        self.visual_t.set(to as f64 - 0.5);
        self.tick_started.set_value(now_ms());
    }

    /// Jumps to the newest recorded event.
    pub fn seek_end(self) {
        self.seek(usize::MAX);
    }

    /// A fresh cluster with the scenario's starting balances.
    pub fn restart(self) {
        self.stop_playback();
        self.control(Command::Reset);
    }

    pub fn set_speed(self, speed: f64) {
        let speed = speed.clamp(SPEED_MIN, SPEED_MAX);
        self.speed.set(speed);
        self.control(Command::SetSpeed);
    }

    fn stop_playback(self) {
        self.playing.set(false);
        self.frame_loop.update_value(|t| *t += 1);
    }

    fn control(self, command: Command) {
        let speed = self.speed.get_untracked();
        spawn_local(async move {
            // The play state itself is taken from the Watch stream only: a
            // reply can arrive after a newer state event (e.g. PLAY answered
            // "playing" after the run already reported "finished").
            if let Err(error) = self.api().control(command, speed).await {
                self.notice.set(Some(error.to_string()));
            }
        });
    }

    /// One animation frame of playback: advance the cursor when a tick is
    /// over, and move the dots in between.
    fn frame(self, token: u64) {
        if self.frame_loop.get_value() != token || !self.playing.get_untracked() {
            return;
        }
        let period = TICK_MS / self.speed.get_untracked();
        let now = now_ms();
        let mut elapsed = now - self.tick_started.get_value();
        let cursor = self.cursor.get_untracked();
        if elapsed >= period {
            let (next, len) = self.trace.with_untracked(|t| (t.step_from(cursor), t.len()));
            if let Some(next) = next {
                self.cursor.set(next);
                self.tick_started.set_value(now);
                elapsed = 0.0;
            } else {
                if cursor < len {
                    // Only play-state changes left: apply them without a tick.
                    self.cursor.set(len);
                }
                if matches!(self.server_state.get_untracked(), PlayState::Finished | PlayState::Empty) {
                    // Everything recorded was shown and nothing more will come.
                    self.stop_playback();
                    return;
                }
            }
        }
        let cursor = self.cursor.get_untracked() as f64;
        self.visual_t.set(cursor - 0.5 + (elapsed / period).min(1.0));
        request_animation_frame(move || self.frame(token));
    }

    // ----- the Watch stream ----------------------------------------------

    /// Follows `Lab.Watch` for the life of the page, reconnecting when the
    /// stream ends (the server replays its history on reconnect; events
    /// already recorded are skipped).
    pub async fn watch_forever(self) {
        let mut reconnect = false;
        loop {
            match self.api().watch().await {
                Ok(mut stream) => {
                    self.connected.set(true);
                    self.notice.set(None);
                    if let Err(error) = self.follow(&mut stream, reconnect).await {
                        self.notice.set(Some(format!("event stream interrupted: {error}")));
                    }
                }
                Err(error) => self.notice.set(Some(error.to_string())),
            }
            self.connected.set(false);
            reconnect = true;
            sleep(Duration::from_millis(1000)).await;
        }
    }

    /// Records the events of one Watch stream until it ends. `resumed`: the
    /// stream follows a reconnect (see [`Lab::take`]).
    ///
    /// Everything that has already arrived goes into the trace before the
    /// page is told, so a burst of events (hundreds a second from a busy
    /// bank) costs the page one update, not one per event.
    async fn follow(self, stream: &mut Streaming<LabEvent>, mut resumed: bool) -> Result<(), ApiError> {
        loop {
            let mut next = Some(api::next_event(stream).await);
            let mut taken = 0;
            let end = loop {
                match next.take() {
                    Some(Ok(Some(event))) => {
                        self.take(event, resumed);
                        resumed = false;
                        taken += 1;
                    }
                    // The stream ended, or failed.
                    Some(end) => break Some(end.map(|_| ())),
                    // Nothing more has arrived (or the batch is full).
                    None => break None,
                }
                if taken < MAX_EVENTS_PER_UPDATE {
                    // `message` is cancel safe: a poll that finds nothing
                    // ready loses nothing.
                    next = futures::FutureExt::now_or_never(api::next_event(stream));
                }
            };
            self.trace.notify();
            if let Some(end) = end {
                return end;
            }
        }
    }

    /// Records one event. `resumed`: the first event after a reconnect, which
    /// repeats our own first event if the history is still the same. The
    /// trace's readers are not told: the caller notifies them, once for a
    /// batch of events.
    fn take(self, event: LabEvent, resumed: bool) {
        if resumed && self.trace.with_untracked(|t| t.events().first() == Some(&event)) {
            return;
        }
        match &event.event {
            Some(Event::State(reply)) => {
                if let Ok(state) = PlayState::try_from(reply.state) {
                    self.server_state.set(state);
                }
            }
            Some(Event::Loaded(_)) => self.server_state.set(PlayState::Paused),
            Some(Event::Finished(_)) => self.server_state.set(PlayState::Finished),
            _ => {}
        }
        let at_end = self.cursor.get_untracked() == self.trace.with_untracked(Trace::len);
        // A fault is shown at once when the page is showing the newest state.
        let network = matches!(event.event, Some(Event::Network(_)));
        let pushed = self.trace.try_update_untracked(|t| t.push(event)).unwrap_or(Pushed::Duplicate);
        let (len, quiet) = self.trace.with_untracked(|t| (t.len(), t.is_quiet(t.len().saturating_sub(1))));
        match pushed {
            Pushed::Started => {
                self.awaiting_history.set(false);
                self.stop_playback();
                self.follow_next.set_value(false);
                self.selected.set(None);
                self.hovered.set(None);
                let guarantees = self.trace.with_untracked(|t| t.scenario().and_then(|s| session::parse_guarantees(&s.guarantees)));
                let mut fresh = BrowserSession::default();
                fresh.set_guarantees(guarantees);
                self.session.set(fresh);
                self.fault_target.set(None);
                self.session_epoch.update_value(|e| *e += 1);
                self.customer_result.set(None);
                self.cursor.set(1);
            }
            // Nothing to see in a play-state change: keep showing the newest state.
            Pushed::Appended if quiet && at_end => self.cursor.set(len),
            Pushed::Appended if network && at_end && !self.playing.get_untracked() => self.cursor.set(len),
            // After a server STEP, show the customer event it sent.
            Pushed::Appended if !quiet && self.follow_next.get_value() => {
                self.follow_next.set_value(false);
                self.cursor.set(len);
            }
            _ => {}
        }
    }

    // ----- faults and comparisons ----------------------------------------

    /// Injects a fault into the live cluster; a refusal shows as a notice.
    pub fn inject(self, fault: fault_request::Fault) {
        spawn_local(async move {
            match self.api().inject(FaultRequest { fault: Some(fault) }).await {
                Ok(reply) if !reply.error.is_empty() => self.notice.set(Some(reply.error)),
                // The new network state arrives as an event (see `receive`).
                Ok(_) => {}
                Err(error) => self.notice.set(Some(error.to_string())),
            }
        });
    }

    /// Runs the last loaded scenario in the simulator with `left` and `right` guarantees.
    pub fn compare(self, left: String, right: String) {
        let text = self.last_text.get_untracked();
        if text.is_empty() {
            self.comparison.set(Some(Err("load a scenario first".into())));
            return;
        }
        self.comparing.set(true);
        spawn_local(async move {
            let request = CompareRequest { text, left_guarantees: left, right_guarantees: right, seed: 0 };
            let result = match self.api().compare(request).await {
                Ok(Ok(c)) => Ok(c),
                Ok(Err(e)) => Err(e.message),
                Err(e) => Err(e.to_string()),
            };
            self.comparison.set(Some(result));
            self.comparing.set(false);
        });
    }

    // ----- the browser as a customer -------------------------------------

    /// Sends one customer request from the browser to `branch_id`.
    pub fn send_customer_request(self, branch_id: u64, operation: Operation, amount_cents: i64) {
        let request = self.session.try_update(|s| s.request(branch_id, operation, amount_cents));
        let Some(request) = request else { return };
        self.customer_result.set(Some(format!("sent event {} to branch {branch_id}…", request.event_id)));
        if !self.playing.get_untracked() {
            // Show the request leaving the "you" node.
            self.follow_next.set_value(true);
        }
        let epoch = self.session_epoch.get_value();
        spawn_local(async move {
            let result: Result<CustomerReply, ApiError> = self.api().customer_request(request).await;
            if self.session_epoch.get_value() != epoch {
                // The scenario was reloaded or reset meanwhile: this write
                // belongs to the old cluster, not to the new session.
                return;
            }
            let text = match result {
                Ok(reply) => self.session.try_update(|s| s.answered(&reply)).unwrap_or_default(),
                Err(error) => format!("error: {error}"),
            };
            self.customer_result.set(Some(text));
        });
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Resolves after `duration` (a browser timer).
pub async fn sleep(duration: Duration) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = tx.send(());
        },
        duration,
    );
    let _ = rx.await;
}

//! The page's own playback of the recorded history: the trace, the cursor,
//! the replay it shows, and the animation loop.
//!
//! Playback model: the whole history from `Watch` is kept in [`Trace`]; the
//! `cursor` says how many of its events are applied, and what the page shows
//! is a pure replay of `trace[..cursor]` ([`Playback::world`]). Playing
//! advances the cursor one event per tick (and asks the server to keep
//! sending scripted events); stepping back and the timeline only move the
//! cursor.

use bank_proto::{Command, PlayState};
use leptos::prelude::*;

use super::server::Server;
use crate::engine::timer::now_ms;
use crate::model::trace::{Trace, World};

/// Milliseconds per trace event at speed 1.
pub const TICK_MS: f64 = 300.0;

/// The speed slider's range (scripted events per second on the server; the
/// replay runs `speed / TICK_MS` trace events per millisecond).
pub const SPEED_MIN: f64 = 0.25;
pub const SPEED_MAX: f64 = 8.0;

/// The `Playback` context: signals (all `Copy`), plus the actions below.
#[derive(Clone, Copy, Debug)]
pub struct Playback {
    /// Told to play, pause, step and reset along with the page.
    server: Server,
    /// Everything recorded since the last load or reset.
    pub trace: RwSignal<Trace>,
    /// Trace events applied (0..=trace length).
    pub cursor: RwSignal<usize>,
    /// The replay is running (the page's own playback).
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    /// The cursor as a real number, for moving dots between ticks.
    pub visual_t: RwSignal<f64>,
    /// `prefers-reduced-motion: reduce`: dots rest at edge midpoints.
    pub reduced_motion: bool,
    /// The replay of `trace[..cursor]`.
    pub world: Memo<World>,
    /// The next event to arrive should be shown at once (after a server
    /// STEP, or a request the browser sent while paused).
    pub follow_next: StoredValue<bool>,
    /// The page came back to a lab under way or finished (`?lab=`, a
    /// reload, a second tab): while its cursor is at the newest event and
    /// it is not playing, what arrives is shown at once, as on a
    /// follower's page, so it opens on the lab's present, not its start.
    pub follow_live: StoredValue<bool>,
    /// When the current playback tick began (ms, `Date.now()`).
    tick_started: StoredValue<f64>,
    /// Identifies the running animation loop; a new loop makes old ones stop.
    frame_loop: StoredValue<u64>,
}

impl Playback {
    /// An empty trace, paused; play, pause, step and reset also go to `server`.
    pub fn new(server: Server) -> Self {
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
        Playback {
            server,
            trace,
            cursor,
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            visual_t: RwSignal::new(0.0),
            reduced_motion: prefers_reduced_motion(),
            world,
            follow_next: StoredValue::new(false),
            follow_live: StoredValue::new(false),
            tick_started: StoredValue::new(0.0),
            frame_loop: StoredValue::new(0),
        }
    }

    /// Visual time for drawing messages: moves smoothly while playing.
    pub fn time(&self) -> f64 {
        if self.playing.get() && !self.reduced_motion {
            self.visual_t.get()
        } else {
            self.cursor.get() as f64
        }
    }

    /// [`Playback::time`], without subscribing to it.
    pub fn time_untracked(&self) -> f64 {
        untrack(|| self.time())
    }

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
        self.stop();
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
            let state = self.server.play_state.get_untracked();
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
        self.stop();
        self.control(Command::Reset);
    }

    pub fn set_speed(self, speed: f64) {
        let speed = speed.clamp(SPEED_MIN, SPEED_MAX);
        self.speed.set(speed);
        self.control(Command::SetSpeed);
    }

    /// Stops the page's playback (the server is not told).
    pub fn stop(self) {
        self.playing.set(false);
        self.frame_loop.update_value(|t| *t += 1);
    }

    fn control(self, command: Command) {
        self.server.control(command, self.speed.get_untracked());
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
                let state = self.server.play_state.get_untracked();
                if matches!(state, PlayState::Finished | PlayState::Empty) {
                    // Everything recorded was shown and nothing more will come.
                    self.stop();
                    return;
                }
            }
        }
        let cursor = self.cursor.get_untracked() as f64;
        self.visual_t.set(cursor - 0.5 + (elapsed / period).min(1.0));
        request_animation_frame(move || self.frame(token));
    }
}

fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}

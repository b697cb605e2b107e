//! Opening a permalink ([`crate::model::permalink`]): the page loads the
//! link's scenario with its settings on a fresh live cluster, plays it on
//! the server at full speed until the run has as many visible events as the
//! link's cursor, pauses, and puts the cursor there; then it says whether
//! this replay did the same things in the same order as the linked run
//! (a live cluster's timing can differ).
//!
//! Driven by the trace as it grows (an effect), bounded by [`DEADLINE`]:
//! a run that never gets that far lands where it stopped, and says so.

use std::time::Duration;

use bank_proto::{Command, PlayState};
use leptos::prelude::*;

use super::{playback, playback::Playback, server::Server, settings::Settings};
use crate::model::permalink::{self, Permalink};

/// How long a replay may take to reach the link's cursor.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// Where opening a permalink is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LandingState {
    /// Loading the scenario and replaying it up to the cursor.
    Replaying { at: usize },
    /// At the link's cursor (`cursor`: where the page's cursor is, as the
    /// timeline counts, play and pause included); `same`: the replay
    /// matched the linked run.
    Landed { at: usize, cursor: usize, same: bool, note: String },
    /// The replay stopped short of the cursor (or took too long).
    Short { at: usize, reached: usize, note: String },
}

/// The `Landing` context: what opening the page's permalink came to
/// (`None`: the page was not opened from one with a cursor).
#[derive(Clone, Copy, Debug)]
pub struct Landing {
    pub state: RwSignal<Option<LandingState>>,
}

impl Landing {
    pub fn new() -> Self {
        Landing { state: RwSignal::new(None) }
    }

    /// Replays the run the page just loaded (from `link`) to `link.at`.
    pub fn replay(self, link: Permalink, playback: Playback, server: Server, settings: Settings) {
        let Some(at) = link.at else { return };
        self.state.set(Some(LandingState::Replaying { at }));
        let started = StoredValue::new(false);
        let done = StoredValue::new(false);
        let land = move |cursor: usize, reached: usize| {
            done.set_value(true);
            server.control(Command::Pause, playback.speed.get_untracked());
            playback.stop();
            playback.seek(cursor);
            let cursor = playback.cursor.get_untracked();
            let (fp, seed) = playback.trace.with_untracked(|t| {
                (permalink::fingerprint(t, cursor), t.scenario().map(|s| s.seed))
            });
            let mut note = String::new();
            if let (Some(wanted), Some(got)) = (link.seed, seed) {
                if wanted != got {
                    note.push_str(&format!("This run's seed is {got}, the link's was {wanted}. "));
                }
            }
            let state = if reached < at {
                note.push_str(&format!(
                    "The replay ended after {reached} events; the link pointed at event {at}."
                ));
                LandingState::Short { at, reached, note }
            } else {
                let same = link.fingerprint.is_none_or(|f| f == fp);
                note.push_str(if same {
                    "This replay did the same things in the same order as the linked run."
                } else {
                    "The cluster's timing differed on this replay: events up to here are not \
                     all in the linked run's order, so balances and answers may differ."
                });
                LandingState::Landed { at, cursor, same, note }
            };
            self.state.set(Some(state));
        };
        Effect::new(move |_| {
            // Once landed it reads nothing, so it never runs again.
            if done.get_value() {
                return;
            }
            let play_state = server.play_state.get();
            let awaiting = settings.awaiting_history.get();
            let (loaded, visible, cursor) = playback.trace.with(|t| {
                let visible = permalink::visible_count(t, t.len());
                (t.scenario().is_some(), visible, permalink::cursor_of_visible(t, at))
            });
            if !loaded || awaiting {
                return;
            }
            if let Some(cursor) = cursor {
                land(cursor, visible);
            } else if !started.get_value() {
                started.set_value(true);
                server.control(Command::Play, playback::SPEED_MAX);
            } else if play_state == PlayState::Finished {
                let len = playback.trace.with_untracked(|t| t.len());
                land(len, visible);
            }
        });
        set_timeout(
            move || {
                if !done.get_value() {
                    let (len, visible) = playback
                        .trace
                        .with_untracked(|t| (t.len(), permalink::visible_count(t, t.len())));
                    land(len, visible);
                }
            },
            DEADLINE,
        );
    }
}

impl Default for Landing {
    fn default() -> Self {
        Landing::new()
    }
}

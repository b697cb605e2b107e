//! The `Watch` stream, followed for the life of the page: its events go into
//! the trace, and a new history (a load or a reset) starts every other
//! context afresh. The one place that writes to all the contexts.
//!
//! A follower's page that shows the newest event stays there as events
//! arrive (it is "live"); stepping back or scrubbing leaves it where it was
//! put, and "Live" snaps back.

use std::time::Duration;

use bank_core::Guarantees;
use bank_proto::{lab_event::Event, LabEvent, PlayState};
use leptos::prelude::*;

use super::State;
use crate::api::ApiError;
use crate::api::WATCH_LIFETIME;
use crate::engine::timer::{now_ms, sleep};
use crate::engine::{self as api, Resume};
use crate::model::trace::{Pushed, Trace};

/// The most events of the Watch stream put into the trace before the page
/// is told about them (see [`follow`]).
const MAX_EVENTS_PER_UPDATE: usize = 500;

/// Follows `Lab.Watch` for the life of the page, until the lab is gone.
///
/// A live stream ends by itself every [`WATCH_LIFETIME`]
/// (so the page never holds one of the browser's few connections to the
/// server for good); the next picks up at once where the page is. A
/// stream that failed is tried again after a second: then the server
/// replays the history if it is another one (events already recorded are
/// skipped).
pub async fn watch_forever(state: State) {
    const LIFETIME_MS: f64 = WATCH_LIFETIME.as_millis() as f64;
    let server = state.server;
    let mut reconnect = false;
    loop {
        let resume = state.playback.trace.with_untracked(|t| Resume::after(t.events()));
        match server.api().watch(resume).await {
            Ok(mut stream) => {
                let opened_ms = now_ms();
                if !server.connected.get_untracked() {
                    server.connected.set(true);
                }
                if reconnect {
                    // The connection problem is over (a notice from before
                    // the first connection is not about the stream).
                    server.notice.set(None);
                    reconnect = false;
                }
                match follow(state, &mut stream, resume.from > 0).await {
                    // Its time was up: the next stream goes on from here.
                    // (Sooner, the lab is closing: try again in a while.)
                    Ok(()) if now_ms() - opened_ms >= LIFETIME_MS / 2.0 => continue,
                    Ok(()) => {}
                    Err(error) => server.tell(format!("event stream interrupted: {error}")),
                }
            }
            Err(error) if error.is_gone() => {
                server.connected.set(false);
                let again = if server.read_only {
                    "the lab you followed has stopped"
                } else {
                    "reload the page for a new lab"
                };
                return server.tell(format!("{}; {again}", error.message()));
            }
            Err(error) => server.tell(error.to_string()),
        }
        server.connected.set(false);
        reconnect = true;
        sleep(Duration::from_millis(1000)).await;
    }
}

/// Records the events of one Watch stream until it ends. `resumed`: the
/// stream follows a reconnect (see [`take`]).
///
/// Everything that has already arrived goes into the trace before the
/// page is told, so a burst of events (hundreds a second from a busy
/// bank) costs the page one update, not one per event.
async fn follow(state: State, stream: &mut api::Events, mut resumed: bool) -> Result<(), ApiError> {
    loop {
        let mut next = Some(api::next_event(stream).await);
        let mut taken = 0;
        let end = loop {
            match next.take() {
                Some(Ok(Some(event))) => {
                    take(state, event, resumed);
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
        state.playback.trace.notify();
        if let Some(end) = end {
            return end;
        }
    }
}

/// Records one event. `resumed`: the first event after a reconnect, which
/// repeats our own first event if the history is still the same. The
/// trace's readers are not told: the caller notifies them, once for a
/// batch of events.
fn take(state: State, event: LabEvent, resumed: bool) {
    let State { server, playback, customer, settings, focus } = state;
    let trace = playback.trace;
    if resumed && trace.with_untracked(|t| t.events().first() == Some(&event)) {
        return;
    }
    match &event.event {
        Some(Event::State(reply)) => {
            if let Ok(play_state) = PlayState::try_from(reply.state) {
                server.play_state.set(play_state);
            }
        }
        Some(Event::Loaded(_)) => server.play_state.set(PlayState::Paused),
        Some(Event::Finished(_)) => server.play_state.set(PlayState::Finished),
        Some(Event::Halted(halted)) => {
            server.play_state.set(PlayState::Paused);
            server.tell(halted.reason.clone());
        }
        _ => {}
    }
    let at_end = playback.cursor.get_untracked() == trace.with_untracked(Trace::len);
    // A fault is shown at once when the page is showing the newest state.
    let network = matches!(event.event, Some(Event::Network(_)));
    let pushed = trace.try_update_untracked(|t| t.push(event)).unwrap_or(Pushed::Duplicate);
    let (len, quiet) = trace.with_untracked(|t| (t.len(), t.is_quiet(t.len().saturating_sub(1))));
    match pushed {
        Pushed::Started => {
            settings.awaiting_history.set(false);
            playback.stop();
            playback.follow_next.set_value(false);
            focus.clear();
            let guarantees =
                trace.with_untracked(Trace::scenario_guarantees).unwrap_or(Guarantees::COURSE);
            customer.start_afresh(guarantees);
            playback.cursor.set(1);
        }
        // Nothing to see in a play-state change: keep showing the newest state.
        Pushed::Appended if quiet && at_end => playback.cursor.set(len),
        // A follower (or a page come back to its lab) showing the newest
        // event follows the lab live.
        Pushed::Appended
            if (server.read_only || playback.follow_live.get_value())
                && at_end
                && !playback.playing.get_untracked() =>
        {
            playback.cursor.set(len)
        }
        Pushed::Appended if network && at_end && !playback.playing.get_untracked() => {
            playback.cursor.set(len)
        }
        // After a server STEP, show the customer event it sent.
        Pushed::Appended if !quiet && playback.follow_next.get_value() => {
            playback.follow_next.set_value(false);
            playback.cursor.set(len);
        }
        _ => {}
    }
}

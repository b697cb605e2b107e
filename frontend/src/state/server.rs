//! The lab server as the page sees it: whether the `Watch` stream is
//! connected, the notice banner (connection problems, refusals), the
//! server's own play state, whether this page only follows the lab
//! (read-only), and the commands the controls send it.

use bank_proto::{fault_request, Command, FaultRequest, PlayState};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::engine::{Engine, EngineKind};

/// Why a follower's controls are disabled (their title and label).
pub const READ_ONLY: &str = "following someone else's lab: read-only";

/// The `Server` context: signals (all `Copy`), plus the commands below.
#[derive(Clone, Copy, Debug)]
pub struct Server {
    engine: StoredValue<Engine, LocalStorage>,
    /// Which engine that is (the page says so).
    kind: StoredValue<EngineKind>,
    /// This page follows someone else's lab: it may watch, not change it
    /// (the controls that would are disabled, and say why).
    pub read_only: bool,
    /// The id a follow link carries (`?follow=`), once the lab is open.
    pub follow_id: StoredValue<Option<String>>,
    /// The `Watch` stream is open.
    pub connected: RwSignal<bool>,
    /// A problem talking to the server (shown as a banner).
    pub notice: RwSignal<Option<String>>,
    /// The server's play state (from the `state` events of the Watch stream).
    pub play_state: RwSignal<PlayState>,
}

impl Server {
    pub fn new(engine: Engine) -> Self {
        Server {
            read_only: engine.read_only(),
            follow_id: StoredValue::new(None),
            kind: StoredValue::new(engine.kind()),
            engine: StoredValue::new_local(engine),
            connected: RwSignal::new(false),
            notice: RwSignal::new(None),
            play_state: RwSignal::new(PlayState::Empty),
        }
    }

    /// The engine running the bank (the Watch loop opens its stream there).
    pub(crate) fn api(&self) -> Engine {
        self.engine.get_value()
    }

    /// Which engine runs the bank: a live cluster or this page's simulator.
    pub fn engine_kind(self) -> EngineKind {
        self.kind.get_value()
    }

    /// Plays the rest of the run at once, if the bank is simulated in this
    /// page (a live cluster keeps its real timing): whether it does.
    pub fn to_the_end(self) -> bool {
        match self.api() {
            Engine::Sim(lab) if !self.read_only => {
                spawn_local(async move {
                    if !lab.to_the_end().await {
                        self.tell("The run did not end within two simulated hours.");
                    }
                });
                true
            }
            _ => false,
        }
    }

    /// Shows `message` in the banner.
    pub fn tell(self, message: impl Into<String>) {
        self.notice.set(Some(message.into()));
    }

    /// `title` for a control that changes the lab: why it is disabled on a
    /// follower's page, else `normal`.
    pub fn title(self, normal: &'static str) -> &'static str {
        if self.read_only {
            READ_ONLY
        } else {
            normal
        }
    }

    /// Play, pause, step, reset or change the speed (scripted events per
    /// second). A failure shows as a notice. A follower's page sends
    /// nothing: its playback is its own.
    pub fn control(self, command: Command, speed: f64) {
        if self.read_only {
            return;
        }
        spawn_local(async move {
            // The play state itself is taken from the Watch stream only: a
            // reply can arrive after a newer state event (e.g. PLAY answered
            // "playing" after the run already reported "finished").
            if let Err(error) = self.api().control(command, speed).await {
                self.tell(error.to_string());
            }
        });
    }

    /// Injects a fault into the live cluster; a refusal shows as a notice.
    pub fn inject(self, fault: fault_request::Fault) {
        if self.read_only {
            return self.tell(READ_ONLY);
        }
        spawn_local(async move {
            match self.api().inject(FaultRequest { fault: Some(fault) }).await {
                Ok(reply) if !reply.error.is_empty() => self.tell(reply.error),
                // The new network state arrives as an event of the Watch stream.
                Ok(_) => {}
                Err(error) => self.tell(error.to_string()),
            }
        });
    }
}

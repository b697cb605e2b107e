//! The lab server as the page sees it: whether the `Watch` stream is
//! connected, the notice banner (connection problems, refusals), the
//! server's own play state, and the commands the controls send it.

use bank_proto::{fault_request, Command, FaultRequest, PlayState};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Api;

/// The `Server` context: signals (all `Copy`), plus the commands below.
#[derive(Clone, Copy, Debug)]
pub struct Server {
    api: StoredValue<Api>,
    /// The `Watch` stream is open.
    pub connected: RwSignal<bool>,
    /// A problem talking to the server (shown as a banner).
    pub notice: RwSignal<Option<String>>,
    /// The server's play state (from the `state` events of the Watch stream).
    pub play_state: RwSignal<PlayState>,
}

impl Server {
    pub fn new(api: Api) -> Self {
        Server {
            api: StoredValue::new(api),
            connected: RwSignal::new(false),
            notice: RwSignal::new(None),
            play_state: RwSignal::new(PlayState::Empty),
        }
    }

    /// The server's address (the Watch loop opens its stream there).
    pub(crate) fn api(&self) -> Api {
        self.api.get_value()
    }

    /// Shows `message` in the banner.
    pub fn tell(self, message: impl Into<String>) {
        self.notice.set(Some(message.into()));
    }

    /// Play, pause, step, reset or change the speed (scripted events per
    /// second). A failure shows as a notice.
    pub fn control(self, command: Command, speed: f64) {
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

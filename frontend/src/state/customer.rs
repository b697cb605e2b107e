//! The browser as a customer of the live cluster: its session (a core
//! `Session`, see [`crate::model::customer`]) and the text of its last
//! result.

use bank_core::{BranchId, Guarantees, Op};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::playback::Playback;
use crate::engine::Engine;
use crate::model::customer::BrowserCustomer;

/// The `Customer` context: signals (all `Copy`), plus the actions below.
#[derive(Clone, Copy, Debug)]
pub struct Customer {
    api: StoredValue<Engine, LocalStorage>,
    /// The browser's customer: its session and event ids.
    pub browser: RwSignal<BrowserCustomer>,
    /// Bumped whenever a new history starts and the session is reset: a reply
    /// that arrives later belongs to the old cluster and is ignored.
    epoch: StoredValue<u64>,
    /// The text of the last browser request's result.
    pub result: RwSignal<Option<String>>,
}

impl Customer {
    pub fn new(api: Engine) -> Self {
        Customer {
            api: StoredValue::new_local(api),
            browser: RwSignal::new(BrowserCustomer::default()),
            epoch: StoredValue::new(0),
            result: RwSignal::new(None),
        }
    }

    /// A fresh session asking for `guarantees`, for a new history (its
    /// cluster never saw the old session's writes).
    pub fn start_afresh(self, guarantees: Guarantees) {
        self.browser.set(BrowserCustomer::new(guarantees));
        self.epoch.update_value(|e| *e += 1);
        self.result.set(None);
    }

    /// Sends one customer request from the browser to `branch`; while
    /// paused, `playback` shows it leaving the "you" node.
    pub fn send(self, playback: Playback, branch: BranchId, op: Op) {
        let request = self.browser.try_update(|b| b.request(branch, op));
        let Some(request) = request else { return };
        let sent = format!("sent event {} to branch {}…", request.event_id, branch.0);
        self.result.set(Some(sent));
        if !playback.playing.get_untracked() {
            // Show the request leaving the "you" node.
            playback.follow_next.set_value(true);
        }
        let epoch = self.epoch.get_value();
        spawn_local(async move {
            let result = self.api.get_value().customer_request(request).await;
            if self.epoch.get_value() != epoch {
                // The scenario was reloaded or reset meanwhile: this write
                // belongs to the old cluster, not to the new session.
                return;
            }
            let text = match result {
                Ok(reply) => self.browser.try_update(|b| b.answered(&reply)).unwrap_or_default(),
                Err(error) => format!("error: {error}"),
            };
            self.result.set(Some(text));
        });
    }
}

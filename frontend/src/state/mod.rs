//! The page's state: small contexts, each a `Copy` bundle of signals with
//! the actions that change them. A component asks only for the contexts it
//! reads ([`context::<Playback>()`](context), ...).
//!
//! - [`playback`]: the trace, the cursor, the replay shown, the animation loop.
//! - [`server`]: connection, notice banner, the server's play state, and the
//!   commands sent to it (play, pause, step, reset, speed, faults).
//! - [`customer`]: the browser's customer session and its last result.
//! - [`settings`]: the examples, the choices for the next load, the load in
//!   progress, and the comparison of the last text loaded.
//! - [`focus`]: what is hovered or selected, and the fault target.
//! - [`watch`]: the `Watch` stream, the one writer of every context.
//! - [`landing`]: opening a permalink: replay to its cursor (provided on its own).
//!
//! They depend on each other in one direction only: `focus`, `server` and
//! `settings` on none; `playback` on `server`; `customer` on `playback`;
//! `watch` on all.

pub mod customer;
pub mod focus;
pub mod landing;
pub mod playback;
pub mod server;
pub mod settings;
pub mod watch;

use leptos::prelude::*;

use self::{
    customer::Customer, focus::Focus, playback::Playback, server::Server, settings::Settings,
};
use crate::engine::Engine;

/// Every context of the page, made together. The app provides each one on
/// its own; this bundle is only for the code that wires them up (the app,
/// the Watch loop, tests).
#[derive(Clone, Copy, Debug)]
pub struct State {
    pub server: Server,
    pub playback: Playback,
    pub customer: Customer,
    pub settings: Settings,
    pub focus: Focus,
}

impl State {
    /// Fresh contexts for the lab `api` runs (live or simulated).
    pub fn new(api: Engine) -> Self {
        let server = Server::new(api.clone());
        State {
            server,
            playback: Playback::new(server),
            customer: Customer::new(api.clone()),
            settings: Settings::new(api),
            focus: Focus::default(),
        }
    }

    /// Provides each context to the components below the caller.
    pub fn provide(self) {
        provide_context(self.server);
        provide_context(self.playback);
        provide_context(self.customer);
        provide_context(self.settings);
        provide_context(self.focus);
    }
}

/// The `T` context (one of the above), as a component asks for it: leptos's
/// `expect_context` without its panic message, which costs each call site
/// its own formatting code (about 1 KB of the gzipped wasm over the page's
/// ~40 calls). Panics if the app did not provide it.
pub fn context<T: Clone + 'static>() -> T {
    use_context::<T>().expect("the app provides every context (see `State::provide`)")
}

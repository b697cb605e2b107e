//! Which engine runs the bank, said plainly: "live cluster on HOST (real
//! gRPC)" or "simulated in your browser (no server)", with what that means,
//! and, in the simulator, which of the page's features need a live server.

use leptos::prelude::*;

use crate::state::{context, server::Server};

/// What a simulated page leaves out, and why.
pub const LIVE_ONLY: &str =
    "Share-to-follow links and coming back to a lab need a live server (bank serve).";

#[component]
pub fn EngineBadge() -> impl IntoView {
    let kind = context::<Server>().engine_kind();
    let live = kind.is_live();
    view! {
        <p class="engine" class:engine-sim=!live data-testid="engine" role="note">
            <strong data-testid="engine-label">{kind.label()}</strong>
            <span class="engine-why">{kind.explanation()}</span>
            {(!live).then(|| view! { <span class="engine-why" data-testid="live-only">{LIVE_ONLY}</span> })}
        </p>
    }
}

//! The loaded scenario's own explanation (a demo's "what to look for"), at
//! the top of the side column: next to the run it explains, not under the
//! scenario editor and its settings.

use leptos::prelude::*;

use crate::state::{context, playback::Playback};

#[component]
pub fn ScenarioAbout() -> impl IntoView {
    let playback = context::<Playback>();
    let description = move || {
        playback
            .trace
            .with(|t| t.scenario().map(|s| s.description.clone()).filter(|d| !d.is_empty()))
    };
    move || {
        description().map(|d| {
            view! {
                <section class="panel scenario-about" data-testid="scenario-about" aria-labelledby="scenario-about-title">
                    <h2 id="scenario-about-title">"About this run"</h2>
                    <p class="description" data-testid="scenario-description">{d}</p>
                </section>
            }
        })
    }
}

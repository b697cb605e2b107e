//! "Why this clock?": the selected event's Lamport clock as the branch
//! computed it, in the loaded format's rule set (shown in the details panel).

use leptos::prelude::*;

use crate::model::clock_why;
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// The hovered (or last selected) event's clock explanation, if it has one.
#[component]
pub fn ClockWhy() -> impl IntoView {
    let focus = context::<Focus>();
    let playback = context::<Playback>();
    let explanation = move || {
        let selection = focus.hovered.get().or(focus.selected.get())?;
        playback.trace.with(|t| match selection {
            Selection::Event(index) => clock_why::of_event(t, index),
            Selection::Flight(id) => clock_why::of_flight(t, id),
        })
    };
    move || {
        explanation().map(|x| {
            view! {
                <div class="clock-why" data-testid="clock-explanation" aria-live="polite">
                    <h3>"Why this clock"</h3>
                    <p class="clock-formula" data-testid="clock-formula">{x.formula}</p>
                    <p class="hint" data-testid="clock-rule">{x.rule}</p>
                </div>
            }
        })
    }
}

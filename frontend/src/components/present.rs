//! Presentation mode, and the line that explains the run next to it.
//!
//! Presentation mode is for a projector (1920×1080 seen from the back of a
//! room): the graph and the space-time diagram side by side, the controls,
//! the timeline and one explanation line, in large type with thick lines;
//! the editor, the side panels and the tables are out of the way. It is
//! turned on by `?present=1` or the "Present" button, and off by the same
//! button or Escape; the address follows (`present=1` is added or removed
//! without a new history entry), so a reload or a shared link keeps it.
//! The look is all CSS (`.present-mode` on `<html>`, in `style.css`), so
//! every component stays as it is.
//!
//! [`Explanation`] is the demo's description and what the last applied event
//! did ("event 12 of 40 · B2 executed deposit 100"); in presentation mode only
//! one of them shows: the description before the first step, then the step.
//!
//! For tests: `present-toggle` (the button, `aria-pressed`), `explanation`,
//! `scenario-description` (the demo's), `explain-step`.

use leptos::{ev, prelude::*};

use crate::model::{describe, embed};
use crate::state::{context, playback::Playback};

/// The `Presenting` context: whether presentation mode is on.
#[derive(Clone, Copy, Debug)]
pub struct Presenting(pub RwSignal<bool>);

/// Whether a query string asks for presentation mode (`present=1`; `0`,
/// `false` and `no` do not).
pub fn asked_in(search: &str) -> bool {
    search.trim_start_matches('?').split('&').any(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        key == "present" && !matches!(value, "0" | "false" | "no")
    })
}

/// Provides [`Presenting`] (on if `on`) and keeps the page in step with it:
/// the `present-mode` class on `<html>`, `present=1` in the address, and
/// Escape to leave.
pub fn provide(on: bool) -> Presenting {
    let presenting = Presenting(RwSignal::new(on));
    provide_context(presenting);
    Effect::new(move |_| {
        let on = presenting.0.get();
        let Some(window) = web_sys::window() else { return };
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = root.class_list().toggle_with_force("present-mode", on);
        }
        let location = window.location();
        let search = location.search().unwrap_or_default();
        let wanted = embed::with_param(&search, "present", on.then_some("1"));
        if wanted != search {
            let path = location.pathname().unwrap_or_default();
            let hash = location.hash().unwrap_or_default();
            if let Ok(history) = window.history() {
                let url = format!("{path}{wanted}{hash}");
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
    });
    let escape = window_event_listener(ev::keydown, move |e| {
        if e.key() == "Escape" && presenting.0.get_untracked() {
            presenting.0.set(false);
        }
    });
    // The listener lives as long as the page (as the playback keys do).
    std::mem::forget(escape);
    presenting
}

/// The button that turns presentation mode on and off.
#[component]
pub fn PresentButton() -> impl IntoView {
    let Presenting(on) = context::<Presenting>();
    view! {
        <button
            class="present-toggle"
            data-testid="present-toggle"
            aria-pressed=move || on.get().to_string()
            title="large type for a projector: the run, the controls and one line of explanation (Escape leaves)"
            on:click=move |_| on.update(|on| *on = !*on)
        >
            {move || if on.get() { "Leave presentation" } else { "Present" }}
        </button>
    }
}

/// The demo's description and what the last applied event did.
#[component]
pub fn Explanation() -> impl IntoView {
    let playback = context::<Playback>();
    let description = move || {
        playback.trace.with(|t| t.scenario().map(|s| s.description.clone()).unwrap_or_default())
    };
    let step = move || {
        let cursor = playback.cursor.get();
        playback.trace.with(|t| {
            // The last applied event that says something (not a play-state change).
            let index = (0..cursor.min(t.len())).rev().find(|&i| !t.is_quiet(i))?;
            let line = describe::line(&t.events()[index]);
            Some(format!("event {} of {} · {} {}", index + 1, t.len(), line.actor, line.text))
        })
    };
    let at_start = move || step().is_none();
    view! {
        <section
            class="explanation"
            class:at-start=at_start
            data-testid="explanation"
            aria-label="what is happening"
        >
            {move || {
                let d = description();
                (!d.is_empty()).then(|| view! { <p class="explain-demo" data-testid="scenario-description">{d}</p> })
            }}
            <p class="explain-step" data-testid="explain-step">
                {move || step().unwrap_or_else(|| "Press play or step to start the run.".to_owned())}
            </p>
        </section>
    }
}

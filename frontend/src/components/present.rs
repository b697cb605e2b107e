//! Presentation mode, for a projector: large type and thick lines, the
//! views, the controls and one line saying what just happened
//! ([`crate::model::caption`]). `?present=1` opens the page in it; the
//! "Present" button enters it and "Exit presentation" (or Escape) leaves it.
//! The address follows (`present=1` added or removed), so a reload or a
//! copied link opens the same way.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::model::{caption, embed};
use crate::state::{context, playback::Playback};

/// Whether the page is in presentation mode (provided by the page).
#[derive(Clone, Copy, Debug)]
pub struct Presenting(pub RwSignal<bool>);

impl Presenting {
    /// Enters or leaves the mode, puts it in the address, and moves the
    /// keyboard focus to the toggle of the layout now shown (or its play
    /// button).
    pub fn set(self, on: bool) {
        self.0.set(on);
        if let Some(window) = web_sys::window() {
            let location = window.location();
            let search = location.search().unwrap_or_default();
            let search = embed::with_param(&search, "present", on.then_some("1"));
            let path = location.pathname().unwrap_or_default();
            let hash = location.hash().unwrap_or_default();
            if let Ok(history) = window.history() {
                let url = format!("{path}{search}{hash}");
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
        // Embed mode has no toggle: the focus goes to the play button.
        request_animation_frame(|| {
            let find = |selector: &str| {
                document()
                    .query_selector(selector)
                    .ok()
                    .flatten()
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            };
            if let Some(target) =
                find("[data-testid=present-toggle]").or_else(|| find("[data-testid=play]"))
            {
                let _ = target.focus();
            }
        });
    }

    /// Escape leaves presentation mode (installed once per page).
    pub fn install_escape(self) {
        let listener = window_event_listener(leptos::ev::keydown, move |e| {
            if e.key() == "Escape" && self.0.get_untracked() {
                e.prevent_default();
                self.set(false);
            }
        });
        std::mem::forget(listener);
    }
}

/// The button that enters (or, in the mode, leaves) presentation mode.
#[component]
pub fn PresentToggle() -> impl IntoView {
    let presenting = context::<Presenting>();
    let on = presenting.0;
    view! {
        <button
            class="present-toggle"
            data-testid="present-toggle"
            aria-pressed=move || on.get().to_string()
            title=move || {
                if on.get() {
                    "Leave presentation mode (Escape)"
                } else {
                    "Presentation mode: large type and lines for a projector"
                }
            }
            on:click=move |_| presenting.set(!on.get_untracked())
        >
            {move || if on.get() { "Exit presentation" } else { "Present" }}
        </button>
    }
}

/// The one explanation line: what the last applied event was.
#[component]
pub fn PresentCaption() -> impl IntoView {
    let playback = context::<Playback>();
    let text = move || {
        let cursor = playback.cursor.get();
        playback.trace.with(|t| caption::at(t, cursor))
    };
    // Read out when the presenter steps, not at every event while it plays
    // (a screen reader would fall behind by hundreds of lines).
    let live = move || if playback.playing.get() { "off" } else { "polite" };
    view! {
        <p class="present-caption" data-testid="present-caption" aria-live=live>{text}</p>
    }
}

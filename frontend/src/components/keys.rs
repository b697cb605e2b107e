//! Keyboard activation for what is not a `<button>`: an SVG shape with
//! `role="button"` and `tabindex="0"` (a branch, a link, an event circle)
//! does its click's work on Enter or Space, as a button would.

use leptos::ev;

/// A `keydown` handler that calls `activate` on Enter or Space. The key
/// goes no further: Space is also the page's play / pause.
pub fn on_activate(activate: impl Fn() + 'static) -> impl Fn(ev::KeyboardEvent) + 'static {
    move |e: ev::KeyboardEvent| {
        if matches!(e.key().as_str(), "Enter" | " " | "Spacebar") {
            e.prevent_default();
            e.stop_propagation();
            activate();
        }
    }
}

/// After the page has drawn the change just made, moves the keyboard focus
/// to the first enabled button inside the element `selector` (a branch
/// chosen with Enter puts the focus on its fault buttons).
pub fn focus_first_button(selector: &'static str) {
    leptos::prelude::request_animation_frame(move || {
        let document = web_sys::window().and_then(|w| w.document());
        let query = format!("{selector} button:not([disabled])");
        let found = document.and_then(|d| d.query_selector(&query).ok().flatten());
        if let Some(el) =
            found.and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
        {
            let _ = el.focus();
        }
    });
}

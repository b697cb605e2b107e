//! The course output (`finished.output_json`), verbatim, with a copy button.

use leptos::prelude::*;

use crate::state::{context, playback::Playback};

#[component]
pub fn OutputPanel() -> impl IntoView {
    let playback = context::<Playback>();
    let output = Memo::new(move |_| {
        playback.trace.with(|t| t.output().map(|(i, text)| (i, text.to_owned())))
    });
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some((_, text)) = output.get_untracked() {
            copied.set(copy_to_clipboard(&text));
        }
    };
    view! {
        <section class="panel output-panel">
            <h2>"Output"</h2>
            {move || match output.get() {
                Some((index, text)) => {
                    view! {
                        <div class="output-head">
                            <span>{format!("what `bank run` prints (finished at event {})", index + 1)}</span>
                            <button data-testid="copy-output" on:click=copy>
                                {move || if copied.get() { "Copied" } else { "Copy" }}
                            </button>
                        </div>
                        <pre
                            data-testid="output-json"
                            class="output-json"
                            tabindex="0"
                            aria-label="course output"
                        >
                            {text}
                        </pre>
                    }
                        .into_any()
                }
                None => {
                    view! { <p class="hint">"The output appears when every scripted event has been answered."</p> }
                        .into_any()
                }
            }}
        </section>
    }
}

/// `navigator.clipboard.writeText` (only in secure contexts such as
/// localhost); returns whether the browser offered a clipboard.
pub(crate) fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    // `clipboard` is undefined on insecure origins: check before calling.
    let has_clipboard =
        js_sys::Reflect::get(&navigator, &"clipboard".into()).is_ok_and(|c| !c.is_undefined());
    if has_clipboard {
        let _promise = navigator.clipboard().write_text(text);
    }
    has_clipboard
}

//! The timeline scrubber: a range over the recorded trace (time travel).

use leptos::prelude::*;

use crate::model::{format, trace::Trace};
use crate::state::{context, playback::Playback};

#[component]
pub fn Timeline() -> impl IntoView {
    let playback = context::<Playback>();
    let len = Memo::new(move |_| playback.trace.with(Trace::len));
    // When the event just applied happened (µs since the load).
    let at = move || {
        let cursor = playback.cursor.get();
        playback.trace.with(|t| {
            cursor
                .checked_sub(1)
                .and_then(|i| t.events().get(i))
                .map(|e| format::micros(e.at_micros))
                .unwrap_or_default()
        })
    };
    let finished_at = move || playback.trace.with(|t| t.output().map(|(i, _)| i + 1));
    view! {
        <div class="timeline">
            <input
                type="range"
                data-testid="timeline"
                aria-label="timeline: events applied"
                min="0"
                prop:max=move || len.get().to_string()
                prop:value=move || playback.cursor.get().to_string()
                on:input=move |ev| {
                    if let Ok(to) = event_target_value(&ev).parse::<usize>() {
                        playback.seek(to);
                    }
                }
            />
            <span class="cursor" data-testid="cursor">
                {move || format!("{} / {}", playback.cursor.get(), len.get())}
            </span>
            <span class="at">{at}</span>
            {move || finished_at().map(|n| view! { <span class="finished-mark">{format!("finished at {n}")}</span> })}
        </div>
    }
}

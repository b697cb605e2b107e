//! The live invariants at the playback cursor: a strip of ✓ / ⚠ badges
//! (money conserved, replicas converged, no overdraft, each session
//! guarantee) and a "jump to first violation" button. The verdicts are
//! `bank_core::check::live`'s (see [`crate::model::invariants`]).

use bank_core::check::live::{Invariant, Verdict};
use leptos::prelude::*;

use crate::model::invariants::LiveTrace;
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// The strip; works the same in embed mode.
#[component]
pub fn InvariantsStrip() -> impl IntoView {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let live = StoredValue::new(LiveTrace::default());
    // A pure function of `trace[..cursor]`: recomputed when the cursor or
    // the history changes, not for events arriving after the cursor.
    let shown =
        Memo::new(move |_| (playback.trace.with(|t| t.generation()), playback.cursor.get()));
    let status = Memo::new(move |_| {
        let (_, cursor) = shown.get();
        playback.trace.with_untracked(|t| {
            live.update_value(|l| l.sync(t));
            live.with_value(|l| l.status(t, cursor))
        })
    });
    // The badge whose explanation is open (by its short name).
    let open = RwSignal::new(None::<&'static str>);
    let jumped = RwSignal::new(None::<String>);
    let jump = move |_| {
        let found = playback.trace.with_untracked(|t| {
            live.update_value(|l| l.sync(t));
            live.with_value(|l| l.first_break(t))
        });
        match found {
            Some(first) => {
                playback.seek(first.cursor);
                focus.selected.set(Some(Selection::Event(first.cursor - 1)));
                open.set(Some(first.kind.short()));
                jumped.set(Some(format!(
                    "First broken at event {}: {}. {}",
                    first.cursor,
                    first.kind.label(),
                    first.detail
                )));
            }
            None => jumped.set(Some("No invariant is broken anywhere in the recorded run.".into())),
        }
    };
    let badges = move || {
        status.get().into_iter().map(|invariant| view! { <Badge invariant open/> }).collect_view()
    };
    let detail = move || {
        let short = open.get()?;
        let invariant = status.with(|s| s.iter().find(|i| i.kind.short() == short).cloned())?;
        Some(view! {
            <p class="invariant-detail" data-testid="invariant-detail" id="invariant-detail">
                <strong>{invariant.kind.label()}": "</strong>
                {invariant.detail}
            </p>
        })
    };
    view! {
        <section class="invariants" data-testid="invariants" aria-labelledby="invariants-heading">
            <h2 id="invariants-heading" class="invariants-heading">"Invariants at the cursor"</h2>
            <ul class="invariant-badges">{badges}</ul>
            <button class="jump-violation" data-testid="jump-first-violation" on:click=jump>
                "Jump to first violation"
            </button>
            {detail}
            <p class="hint" role="status" data-testid="invariants-jumped">{move || jumped.get()}</p>
        </section>
    }
}

/// One invariant: its mark, name and (as tooltip, accessible name, and on
/// Enter / Space / click) what holds or what broke it.
#[component]
fn Badge(invariant: Invariant, open: RwSignal<Option<&'static str>>) -> impl IntoView {
    let short = invariant.kind.short();
    let (mark, state, said) = match invariant.verdict {
        Verdict::Holds => ("✓", "holds", "holds so far"),
        Verdict::Broken => ("⚠", "broken", "broken"),
        Verdict::NotNow => ("…", "pending", "not checkable right now"),
    };
    let asked = match invariant.asked {
        Some(true) => " (asked for)",
        Some(false) => " (off)",
        None => "",
    };
    let label = invariant.kind.label();
    let tooltip = format!("{label}{asked}: {said}. {}", invariant.detail);
    let pressed = move || open.get() == Some(short);
    let toggle = move |_| open.update(|o| *o = if *o == Some(short) { None } else { Some(short) });
    view! {
        <li>
            <button
                class=format!("invariant invariant-{state}")
                class:invariant-off=invariant.asked == Some(false)
                data-testid=format!("invariant-{short}")
                data-verdict=state
                title=tooltip.clone()
                aria-label=tooltip
                aria-pressed=move || pressed().to_string()
                on:click=toggle
            >
                <span class="invariant-mark" aria-hidden="true">{mark}</span>
                " "
                {label}
            </button>
        </li>
    }
}

//! Every event applied so far, newest first, filterable by branch and customer.

use leptos::prelude::*;

use crate::model::{describe, format};
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// Lines shown at most (the newest ones).
const MAX_LINES: usize = 250;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    /// (history, trace index): indexes repeat across histories.
    key: (u64, usize),
    index: usize,
    at: String,
    line: describe::Line,
}

#[component]
pub fn EventLog() -> impl IntoView {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let branch_filter = RwSignal::new(None::<u64>);
    let customer_filter = RwSignal::new(None::<u64>);

    let branch_ids = Memo::new(move |_| {
        playback.world.with(|w| w.branches.iter().map(|b| b.id).collect::<Vec<_>>())
    });
    let customer_ids = Memo::new(move |_| {
        playback.trace.with(|t| {
            let mut ids: Vec<u64> = t
                .scenario()
                .map(|s| s.customers.iter().map(|c| c.customer_id).collect())
                .unwrap_or_default();
            ids.extend(t.message_customers());
            ids.sort_unstable();
            ids.dedup();
            ids
        })
    });

    // The lines change only with the cursor or a new history (events
    // arrive after the cursor).
    let shown =
        Memo::new(move |_| (playback.trace.with(|t| t.generation()), playback.cursor.get()));
    let rows = Memo::new(move |_| {
        let (_, cursor) = shown.get();
        let (branch, customer) = (branch_filter.get(), customer_filter.get());
        let mut hidden = 0usize;
        let rows = playback.trace.with_untracked(|t| {
            let generation = t.generation();
            let cursor = cursor.min(t.len());
            // Without a filter every line is kept: describe the newest only.
            let skip = if branch.is_none() && customer.is_none() {
                cursor.saturating_sub(MAX_LINES)
            } else {
                0
            };
            hidden = skip;
            let mut rows = Vec::new();
            for (index, event) in t.events().iter().enumerate().take(cursor).skip(skip).rev() {
                let line = describe::line(event);
                let keep = branch.is_none_or(|b| line.branch == Some(b))
                    && customer.is_none_or(|c| line.customer == Some(c));
                if !keep {
                    continue;
                }
                if rows.len() == MAX_LINES {
                    hidden += 1;
                    continue;
                }
                rows.push(Row {
                    key: (generation, index),
                    index,
                    at: format::micros(event.at_micros),
                    line,
                });
            }
            rows
        });
        (rows, hidden)
    });

    view! {
        <section class="panel log-panel">
            <h2>"Event log"</h2>
            <div class="filters">
                <IdFilter label="branch " prefix="B" ids=branch_ids chosen=branch_filter/>
                <IdFilter label="customer " prefix="C" ids=customer_ids chosen=customer_filter/>
            </div>
            // A scrolling region: focusable so the keyboard can scroll it.
            <ol data-testid="event-log" class="event-log" tabindex="0" aria-label="event log">
                <For
                    each=move || rows.get().0
                    key=|row| row.key
                    children=move |row| {
                        let index = row.index;
                        let this = Some(Selection::Event(index));
                        let selected = move || focus.selected.get() == this;
                        let testid = (row.line.class == "violation").then_some("violation");
                        view! {
                            <li
                                data-testid=testid
                                class=format!("log-line log-{}", row.line.class)
                                class:selected=selected
                                on:click=move |_| focus.selected.set(this)
                                on:mouseenter=move |_| focus.hovered.set(this)
                                on:mouseleave=move |_| focus.hovered.set(None)
                            >
                                <span class="log-index">{index + 1}</span>
                                <span class="log-at">{row.at}</span>
                                <span class="log-actor">{row.line.actor}</span>
                                <span class="log-text">{row.line.text}</span>
                            </li>
                        }
                    }
                />
            </ol>
            {move || {
                let hidden = rows.get().1;
                (hidden > 0).then(|| view! { <p class="hint">{format!("… {hidden} earlier lines")}</p> })
            }}
        </section>
    }
}

/// A select that narrows the log to one id (`""` = all), its options shown
/// as `{prefix}{id}` (B1, C2, ...).
#[component]
fn IdFilter(
    label: &'static str,
    prefix: &'static str,
    ids: Memo<Vec<u64>>,
    chosen: RwSignal<Option<u64>>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select on:change=move |ev| chosen.set(event_target_value(&ev).parse::<u64>().ok())>
                <option value="">"all"</option>
                {move || {
                    ids.get()
                        .into_iter()
                        .map(|id| view! { <option value=id.to_string()>{format!("{prefix}{id}")}</option> })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

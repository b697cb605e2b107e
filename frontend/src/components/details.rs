//! What the hovered (or last clicked) message or log line is, in full.

use leptos::prelude::*;

use crate::components::clock_why::ClockWhy;
use crate::model::{describe, format};
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

#[component]
pub fn Details() -> impl IntoView {
    let focus = context::<Focus>();
    let playback = context::<Playback>();
    let facts = move || {
        let selection = focus.hovered.get().or(focus.selected.get())?;
        playback.trace.with(|t| {
            let (title, mut rows) = match selection {
                Selection::Flight(id) => {
                    let f = t.flights().get(id)?;
                    let at = |i: usize| {
                        t.events().get(i).map(|e| format::micros(e.at_micros)).unwrap_or_default()
                    };
                    let rows = vec![
                        (
                            "kind",
                            format!("{} ({})", describe::flight_kind(f.kind), f.class().name()),
                        ),
                        ("from", describe::node(f.from)),
                        ("to", describe::node(f.to)),
                        ("customer", f.customer_id.to_string()),
                        ("event id", f.event_id.to_string()),
                        ("money", describe::flight_money(f)),
                        ("Lamport clock", f.clock.to_string()),
                        ("sent", format!("{} (event {})", at(f.start), f.start + 1)),
                        (
                            "received",
                            match f.end {
                                Some(end) => format!("{} (event {})", at(end), end + 1),
                                None => "still in flight".to_owned(),
                            },
                        ),
                    ];
                    ("Message".to_owned(), rows)
                }
                Selection::Event(index) => {
                    let event = t.events().get(index)?;
                    let line = describe::line(event);
                    let mut rows = describe::event_facts(event);
                    if let Some(f) = t.flight_of_event(index) {
                        let role = if f.start == index { "sends" } else { "receives" };
                        rows.push((
                            "message",
                            format!(
                                "{role} {} {} → {}",
                                describe::flight_kind(f.kind),
                                describe::node(f.from),
                                describe::node(f.to)
                            ),
                        ));
                    }
                    (format!("Event {} · {}", index + 1, line.actor), rows)
                }
            };
            rows.retain(|(_, v)| !v.is_empty());
            Some((title, rows))
        })
    };
    view! {
        // A scrolling region of a fixed height: focusable so the keyboard can scroll it.
        <section class="panel details-panel" data-testid="details" tabindex="0" aria-labelledby="details-title">
            <h2 id="details-title">"Details"</h2>
            {move || match facts() {
                None => view! { <p class="hint">"Hover or click a moving message, a branch or a log line."</p> }.into_any(),
                Some((title, rows)) => {
                    view! {
                        <h3>{title}</h3>
                        <dl class="facts">
                            {rows
                                .into_iter()
                                .map(|(k, v)| view! { <dt>{k}</dt> <dd>{v}</dd> })
                                .collect_view()}
                        </dl>
                    }
                        .into_any()
                }
            }}
            <ClockWhy/>
        </section>
    }
}

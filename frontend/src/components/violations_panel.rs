//! The violations the history checker found in the finished run, each as
//! the checker's sentence; click one to see its event in the details panel.

use leptos::prelude::*;

use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// Every violation the checker reported for the finished run.
#[component]
pub fn ViolationsPanel() -> impl IntoView {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let items = move || {
        playback.world.with(|w| {
            w.violations
                .iter()
                .map(|(index, v)| {
                    let index = *index;
                    let class = if v.guarantee_was_on { "violation bug" } else { "violation" };
                    let badge = if v.anomaly == "overdraft" {
                        "overdraft"
                    } else if v.guarantee_was_on {
                        "guarantee ON: a bug"
                    } else {
                        "guarantee off"
                    };
                    let select = move |_| focus.selected.set(Some(Selection::Event(index)));
                    // The checker's short proof ("Let R = …. Then: …; so … is
                    // broken."), from a server that sends it; else its story.
                    let sentence = if v.sentence.is_empty() {
                        v.explanation.clone()
                    } else {
                        v.sentence.clone()
                    };
                    view! {
                        <li class=class data-testid="violation-item" on:click=select>
                            <strong>{v.name.clone()}</strong>
                            <span class="badge">{badge}</span>
                            <p data-testid="violation-sentence">{sentence}</p>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let summary = move || {
        playback.world.with(|w| match (w.finished, w.violations.len()) {
            (false, _) => {
                "The history is checked when every scripted event has been answered.".to_owned()
            }
            (true, 0) => "No guarantee was broken in this run.".to_owned(),
            (true, 1) => "1 violation:".to_owned(),
            (true, n) => format!("{n} violations:"),
        })
    };
    view! {
        <section class="panel violations-panel" data-testid="violations">
            <h2>"Consistency check"</h2>
            <p class="hint">{summary}</p>
            <ul class="violations-list">{items}</ul>
        </section>
    }
}

//! The same scenario and seed in the simulator, side by side with two
//! guarantee settings: each run's operations, violations and final balances.

use bank_core::{Guarantee, Guarantees};
use bank_proto::convert::guarantees_or_course;
use bank_proto::SimulatedRun;
use leptos::prelude::*;

use crate::model::{describe, format, trace::Trace};
use crate::state::{context, playback::Playback, settings::Settings};

/// The guarantee settings offered on each side (`None`: the side's default):
/// all, none, the course's (`ryw,mw`), then each guarantee alone.
fn options() -> [Option<Guarantees>; 8] {
    let [ryw, mr, wfr, mw] = Guarantee::ALL.map(|g| Some(Guarantees::only(g)));
    let (all, none, course) = (Guarantees::ALL, Guarantees::NONE, Guarantees::COURSE);
    [None, Some(all), Some(none), Some(course), ryw, mr, wfr, mw]
}

/// An option's value (and label): the core's name of its guarantees.
fn option_value(option: Option<Guarantees>) -> String {
    option.map(|g| g.to_string()).unwrap_or_default()
}

/// Two guarantee pickers, the Compare button, and the two runs.
#[component]
pub fn ComparePanel() -> impl IntoView {
    let settings = context::<Settings>();
    let playback = context::<Playback>();
    // The guarantees chosen for the next load, else the loaded scenario's.
    let chosen = move || {
        settings
            .guarantee_choice
            .get()
            .or_else(|| playback.trace.with(Trace::scenario_guarantees))
            .unwrap_or(Guarantees::NONE)
    };
    // What each side's picker shows (`None`: its default).
    let left = RwSignal::new(None::<Guarantees>);
    let right = RwSignal::new(None::<Guarantees>);
    let select = move |which: RwSignal<Option<Guarantees>>,
                       testid: &'static str,
                       name: &'static str,
                       default_label: &'static str| {
        let opts = options()
            .into_iter()
            .map(|o| {
                let value = option_value(o);
                let label = if o.is_none() { default_label.to_owned() } else { value.clone() };
                view! { <option value=value>{label}</option> }
            })
            .collect_view();
        let pick = move |ev| {
            let value = event_target_value(&ev);
            which.set(options().into_iter().flatten().find(|g| g.to_string() == value));
        };
        view! {
            <select
                data-testid=testid
                aria-label=name
                prop:value=move || option_value(which.get())
                on:change=pick
            >
                {opts}
            </select>
        }
    };
    let run = move |_| {
        let a = left.get_untracked().unwrap_or_else(chosen);
        let b = right.get_untracked().unwrap_or(if a == Guarantees::ALL {
            Guarantees::NONE
        } else {
            Guarantees::ALL
        });
        let text = playback.trace.with_untracked(|t| t.scenario_text().map(str::to_owned));
        settings.compare(text.unwrap_or_default(), a, b);
    };
    let result = move || {
        settings.comparison.get().map(|r| match r {
            Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
            Ok(c) => view! {
                <p class="hint">{format!("seed {}", c.seed)}</p>
                <div class="compare-columns">
                    <SimColumn run=c.left.unwrap_or_default() testid="compare-left"/>
                    <SimColumn run=c.right.unwrap_or_default() testid="compare-right"/>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <section class="panel compare-panel" data-testid="compare">
            <h2>"Side by side (simulator, same seed)"</h2>
            <div class="row">
                {select(left, "compare-a", "guarantees of the left run", "chosen")}
                " vs "
                {select(right, "compare-b", "guarantees of the right run", "all / none")}
                <button
                    data-testid="compare-run"
                    class="primary"
                    on:click=run
                    disabled=move || settings.comparing.get()
                >
                    "Compare"
                </button>
            </div>
            {result}
        </section>
    }
}

/// One simulated run: its operations in completion order and its violations.
#[component]
fn SimColumn(run: SimulatedRun, testid: &'static str) -> impl IntoView {
    let ops = run
        .ops
        .iter()
        .map(|o| {
            let op = format::operation(o.operation);
            let money = if op == "query" {
                op.to_owned()
            } else {
                format!("{op} {}", format::cents(o.amount_cents))
            };
            let outcome = if o.ok {
                format!("→ {}", format::cents(o.balance_cents))
            } else {
                format!("✗ {}", o.error)
            };
            let text =
                format!("C{} e{} @B{}: {money} {outcome}", o.customer_id, o.event_id, o.branch_id);
            view! { <li class:fail=!o.ok>{text}</li> }
        })
        .collect_view();
    let violations = run
        .violations
        .iter()
        .map(|v| {
            let text = describe::violation_text(v);
            view! { <li class="violation" data-testid="compare-violation">{text}</li> }
        })
        .collect_view();
    let balances: Vec<String> = run
        .final_balances
        .iter()
        .map(|b| format!("B{} {}", b.id, format::cents(b.balance_cents)))
        .collect();
    let verdict = if run.violations.is_empty() {
        "no violation".to_owned()
    } else {
        format!("{} violation(s)", run.violations.len())
    };
    let facts =
        format!("{verdict} · {} ms simulated · final {}", run.duration_ms, balances.join(", "));
    view! {
        <div class="compare-column" data-testid=testid>
            <h3>{format!("guarantees: {}", guarantees_or_course(run.guarantees))}</h3>
            <p class="hint">{facts}</p>
            <ol class="sim-ops">{ops}</ol>
            <ul class="violations-list">{violations}</ul>
        </div>
    }
}

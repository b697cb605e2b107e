//! Faults and consistency: the buttons for the branch or link clicked in the
//! graph (crash / restart, cut / heal / delay), the violations the history
//! checker found, and the side-by-side comparison in the simulator.

use bank_proto::{fault_request::Fault, Link, LinkDelay, SimulatedRun};
use leptos::prelude::*;

use crate::lab::{FaultTarget, Lab};
use crate::model::{describe, format, session};

/// What to do to the branch or link clicked in the graph.
#[component]
pub fn FaultBar() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let delay = RwSignal::new(String::from("500"));
    move || match lab.fault_target.get() {
        None => view! {
            <div class="fault-bar hint" data-testid="fault-bar">
                "Click a branch to crash or restart it, or a link between two branches to cut, heal or slow it down."
            </div>
        }
        .into_any(),
        Some(FaultTarget::Branch(id)) => {
            let down = move || lab.world.with(|w| w.is_down(id));
            view! {
                <div class="fault-bar" data-testid="fault-bar">
                    <strong>{format!("Branch {id}")}</strong>
                    <span class="hint">{move || if down() { " is down " } else { " is up " }}</span>
                    <button data-testid=format!("crash-{id}") class="danger" disabled=down on:click=move |_| lab.inject(Fault::Crash(id))>
                        "crash"
                    </button>
                    <button data-testid=format!("restart-{id}") disabled=move || !down() on:click=move |_| lab.inject(Fault::Restart(id))>
                        "restart"
                    </button>
                    <button class="plain" on:click=move |_| lab.fault_target.set(None) aria-label="close">"×"</button>
                </div>
            }
            .into_any()
        }
        Some(FaultTarget::Link(a, b)) => {
            let cut = move || lab.world.with(|w| w.is_cut(a, b));
            let link = Link { a, b };
            let set_delay = move |_| match delay.get_untracked().trim().parse::<u64>() {
                Ok(ms) => lab.inject(Fault::SetDelay(LinkDelay { link: Some(link), delay_ms: ms })),
                Err(_) => lab.notice.set(Some("the delay is a whole number of milliseconds".into())),
            };
            view! {
                <div class="fault-bar" data-testid="fault-bar">
                    <strong>{format!("Link {a}-{b}")}</strong>
                    <span class="hint">{move || if cut() { " is cut " } else { " is up " }}</span>
                    <button data-testid=format!("cut-{a}-{b}") class="danger" disabled=cut on:click=move |_| lab.inject(Fault::Cut(link))>
                        "cut"
                    </button>
                    <button data-testid=format!("heal-{a}-{b}") disabled=move || !cut() on:click=move |_| lab.inject(Fault::Heal(link))>
                        "heal"
                    </button>
                    <label>
                        " delay "
                        <input
                            data-testid=format!("delay-{a}-{b}")
                            type="number"
                            min="0"
                            max="2000"
                            step="50"
                            size="5"
                            prop:value=move || delay.get()
                            on:input=move |ev| delay.set(event_target_value(&ev))
                        />
                        " ms "
                    </label>
                    <button data-testid=format!("set-delay-{a}-{b}") on:click=set_delay>"set delay"</button>
                    <button class="plain" on:click=move |_| lab.fault_target.set(None) aria-label="close">"×"</button>
                </div>
            }
            .into_any()
        }
    }
}

/// Every violation the checker reported for the finished run.
#[component]
pub fn ViolationsPanel() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let items = move || {
        lab.world.with(|w| {
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
                    view! {
                        <li class=class data-testid="violation-item" on:click=move |_| lab.selected.set(Some(crate::lab::Selection::Event(index)))>
                            <strong>{v.name.clone()}</strong>
                            <span class="badge">{badge}</span>
                            <p>{v.explanation.clone()}</p>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let summary = move || {
        lab.world.with(|w| match (w.finished, w.violations.len()) {
            (false, _) => "The history is checked when every scripted event has been answered.".to_owned(),
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

/// The same scenario and seed in the simulator, with two guarantee settings.
#[component]
pub fn ComparePanel() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let chosen = move || {
        lab.guarantee_choice
            .get()
            .map(|g| session::guarantees_text(&g))
            .or_else(|| lab.trace.with(|t| t.scenario().map(|s| s.guarantees.clone())))
            .unwrap_or_else(|| "none".into())
    };
    let left = RwSignal::new(String::new());
    let right = RwSignal::new(String::new());
    let options = ["", "all", "none", "ryw,mw", "ryw", "mr", "wfr", "mw"];
    let select = move |which: RwSignal<String>, testid: &'static str, default_label: &'static str| {
        let opts = options
            .iter()
            .map(|o| {
                let label = if o.is_empty() { default_label.to_owned() } else { (*o).to_owned() };
                view! { <option value=*o>{label}</option> }
            })
            .collect_view();
        view! {
            <select data-testid=testid prop:value=move || which.get() on:change=move |ev| which.set(event_target_value(&ev))>
                {opts}
            </select>
        }
    };
    let run = move |_| {
        let a = match left.get_untracked() {
            s if s.is_empty() => chosen(),
            s => s,
        };
        let b = match right.get_untracked() {
            s if s.is_empty() => if a == "all" { "none".to_owned() } else { "all".to_owned() },
            s => s,
        };
        lab.compare(a, b);
    };
    let result = move || {
        lab.comparison.get().map(|r| match r {
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
                {select(left, "compare-a", "chosen")}
                " vs "
                {select(right, "compare-b", "all / none")}
                <button data-testid="compare-run" class="primary" on:click=run disabled=move || lab.comparing.get()>
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
            let money = if op == "query" { op.to_owned() } else { format!("{op} {}", format::cents(o.amount_cents)) };
            let outcome = if o.ok { format!("→ {}", format::cents(o.balance_cents)) } else { format!("✗ {}", o.error) };
            view! { <li class:fail=!o.ok>{format!("C{} e{} @B{}: {money} {outcome}", o.customer_id, o.event_id, o.branch_id)}</li> }
        })
        .collect_view();
    let violations = run
        .violations
        .iter()
        .map(|v| view! { <li class="violation" data-testid="compare-violation">{describe::violation_text(v)}</li> })
        .collect_view();
    let balances: Vec<String> = run.final_balances.iter().map(|b| format!("B{} {}", b.id, format::cents(b.balance_cents))).collect();
    let verdict = if run.violations.is_empty() { "no violation".to_owned() } else { format!("{} violation(s)", run.violations.len()) };
    view! {
        <div class="compare-column" data-testid=testid>
            <h3>{format!("guarantees: {}", run.guarantees)}</h3>
            <p class="hint">{format!("{verdict} · {} ms simulated · final {}", run.duration_ms, balances.join(", "))}</p>
            <ol class="sim-ops">{ops}</ol>
            <ul class="violations-list">{violations}</ul>
        </div>
    }
}

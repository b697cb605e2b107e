//! The fault buttons for the branch or link clicked in the graph: crash or
//! restart a branch; cut, heal or slow down a link.
//!
//! They act on the bank as it is now, so they show the network as the
//! newest event left it ([`crate::model::trace::Trace::network_now`]), not as it was at the
//! cursor: while the page plays (or looks back), a crash shows at once.

use bank_proto::{fault_request::Fault, Link, LinkDelay};
use leptos::prelude::*;

use crate::state::{
    context,
    focus::{FaultTarget, Focus},
    playback::Playback,
    server::{Server, READ_ONLY},
};

/// What to do to the branch or link clicked in the graph.
#[component]
pub fn FaultBar() -> impl IntoView {
    let focus = context::<Focus>();
    let playback = context::<Playback>();
    let server = context::<Server>();
    let delay = RwSignal::new(String::from("500"));
    let close = move |_| focus.fault_target.set(None);
    move || {
        if server.read_only {
            // Faults are the owner's to inject.
            return view! {
                <div class="fault-bar hint" data-testid="fault-bar" title=READ_ONLY>
                    "Following someone else's lab: read-only. Its owner injects the faults; \
                     you see them here as they happen."
                </div>
            }
            .into_any();
        }
        match focus.fault_target.get() {
        None => view! {
            <div class="fault-bar hint" data-testid="fault-bar">
                "Click a branch to crash or restart it, or a link between two branches to cut, heal or slow it down."
            </div>
        }
        .into_any(),
        Some(FaultTarget::Branch(id)) => {
            let down = move || {
                playback.trace.with(|t| t.network_now().is_some_and(|n| n.down.contains(&id)))
            };
            view! {
                <div class="fault-bar" data-testid="fault-bar">
                    <strong>{format!("Branch {id}")}</strong>
                    <span class="hint">{move || if down() { " is down " } else { " is up " }}</span>
                    <button
                        data-testid=format!("crash-{id}")
                        class="danger"
                        disabled=down
                        on:click=move |_| server.inject(Fault::Crash(id))
                    >
                        "crash"
                    </button>
                    <button
                        data-testid=format!("restart-{id}")
                        disabled=move || !down()
                        on:click=move |_| server.inject(Fault::Restart(id))
                    >
                        "restart"
                    </button>
                    <button class="plain" on:click=close aria-label="close">"×"</button>
                </div>
            }
            .into_any()
        }
        Some(FaultTarget::Link(a, b)) => {
            let cut = move || {
                playback.trace.with(|t| {
                    t.network_now()
                        .is_some_and(|n| n.cut.iter().any(|l| (l.a, l.b) == (a, b) || (l.b, l.a) == (a, b)))
                })
            };
            let link = Link { a, b };
            let set_delay = move |_| match delay.get_untracked().trim().parse::<u64>() {
                Ok(ms) => {
                    server.inject(Fault::SetDelay(LinkDelay { link: Some(link), delay_ms: ms }))
                }
                Err(_) => server.tell("the delay is a whole number of milliseconds"),
            };
            view! {
                <div class="fault-bar" data-testid="fault-bar">
                    <strong>{format!("Link {a}-{b}")}</strong>
                    <span class="hint">{move || if cut() { " is cut " } else { " is up " }}</span>
                    <button
                        data-testid=format!("cut-{a}-{b}")
                        class="danger"
                        disabled=cut
                        on:click=move |_| server.inject(Fault::Cut(link))
                    >
                        "cut"
                    </button>
                    <button
                        data-testid=format!("heal-{a}-{b}")
                        disabled=move || !cut()
                        on:click=move |_| server.inject(Fault::Heal(link))
                    >
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
                    <button data-testid=format!("set-delay-{a}-{b}") on:click=set_delay>
                        "set delay"
                    </button>
                    <button class="plain" on:click=close aria-label="close">"×"</button>
                </div>
            }
            .into_any()
        }
    }
    }
}

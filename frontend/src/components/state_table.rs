//! Per-branch state at the cursor: balance, Lamport clock, write sets.

use leptos::prelude::*;

use crate::model::{describe, format};
use crate::state::{context, playback::Playback};

#[component]
pub fn StateTable() -> impl IntoView {
    let playback = context::<Playback>();
    let rows = move || {
        playback.world.with(|w| {
            w.branches
                .iter()
                .map(|b| {
                    let sets = if b.write_sets.is_empty() {
                        "—".to_owned()
                    } else {
                        describe::write_sets(&b.write_sets)
                    };
                    view! {
                        <tr>
                            <th scope="row">{format!("B{}", b.id)}</th>
                            <td class="num">{format::cents(b.balance_cents)}</td>
                            <td class="num">{b.clock}</td>
                            <td class="num">{b.entries}</td>
                            <td class="sets">{sets}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="panel state-panel">
            <h2>"Branch state"</h2>
            <table data-testid="state-table" class="state-table">
                <thead>
                    <tr>
                        <th scope="col">"branch"</th>
                        <th scope="col">"balance"</th>
                        <th scope="col">"clock"</th>
                        <th scope="col">"log"</th>
                        <th scope="col">"write sets (customer: event ids)"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

//! The lanes' disclosure: move each lane left or right, or hide it, with
//! buttons and checkboxes (the keyboard's way to do what dragging a lane's
//! header does).

use leptos::prelude::*;

use super::geometry::lane_class;
use crate::model::lanes::{lane_key, lane_label, Lanes};
use crate::state::{context, playback::Playback};

/// Up / down / shown for every lane, in a disclosure.
#[component]
pub(super) fn LaneControls(lanes: RwSignal<Lanes>) -> impl IntoView {
    let playback = context::<Playback>();
    let items = move || {
        let order = lanes.with(|l| l.order().to_vec());
        let last = order.len().saturating_sub(1);
        order
            .into_iter()
            .enumerate()
            .map(|(i, node)| {
                let key = lane_key(node);
                let label = playback.trace.with_untracked(|t| lane_label(node, t));
                let shown = move || lanes.with(|l| !l.is_hidden(node));
                view! {
                    <li>
                        <span class=format!("st-lane-name {}", lane_class(node))>{label.clone()}</span>
                        <button
                            data-testid=format!("lane-up-{key}")
                            aria-label=format!("move lane {label} left")
                            disabled=i == 0
                            on:click=move |_| lanes.update(|l| l.move_by(node, -1))
                        >
                            "↑"
                        </button>
                        <button
                            data-testid=format!("lane-down-{key}")
                            aria-label=format!("move lane {label} right")
                            disabled=i == last
                            on:click=move |_| lanes.update(|l| l.move_by(node, 1))
                        >
                            "↓"
                        </button>
                        <label>
                            <input
                                type="checkbox"
                                data-testid=format!("lane-shown-{key}")
                                prop:checked=shown
                                on:change=move |_| lanes.update(|l| l.toggle(node))
                            />
                            "shown"
                        </label>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <details class="st-lane-controls">
            <summary data-testid="lane-controls">"Lanes"</summary>
            <ol>{items}</ol>
        </details>
    }
}

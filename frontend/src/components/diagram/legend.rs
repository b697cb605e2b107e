//! The diagram's legend: what its colours, lines and markers mean.

use leptos::prelude::*;

use super::shapes::FaultShape;
use crate::model::diagram::Fault;
use crate::model::trace::MessageClass;

/// What the diagram's colours, lines and markers mean.
#[component]
pub(super) fn DiagramLegend() -> impl IntoView {
    let classes = MessageClass::ALL
        .iter()
        .map(|c| {
            let name = c.name();
            view! {
                <li>
                    <svg class="legend-line" viewBox="0 0 28 10" aria-hidden="true">
                        <line class=format!("st-{name} st-arrow-line") x1=1 y1=5 x2=27 y2=5/>
                    </svg>
                    {name}
                </li>
            }
        })
        .collect_view();
    let line = |class: &'static str, text: &'static str| {
        view! {
            <li>
                <svg class="legend-line" viewBox="0 0 28 10" aria-hidden="true">
                    <g class=format!("st-arrow st-query {class}")>
                        <line class="st-arrow-line" x1=1 y1=5 x2=27 y2=5/>
                    </g>
                </svg>
                {text}
            </li>
        }
    };
    let fault = |fault: Fault, text: &'static str| {
        view! {
            <li>
                <svg class="legend-dot" viewBox="-10 -10 20 20" aria-hidden="true">
                    <g class=format!("st-fault st-fault-{}", fault.name())><FaultShape fault/></g>
                </svg>
                {text}
            </li>
        }
    };
    // Folded: open, it is taller than the lanes it explains on a laptop.
    view! {
        <details class="st-legend-box">
            <summary data-testid="diagram-legend-toggle">"Legend: colours, lines and markers"</summary>
        <ul class="legend st-legend" data-testid="diagram-legend" aria-label="diagram legend">
            {classes}
            {line("st-delivered", "received")}
            {line("st-in-flight", "in flight")}
            {line("st-dropped", "lost")}
            {line("st-future", "after the cursor")}
            <li>
                <svg class="legend-dot" viewBox="-10 -10 20 20" aria-hidden="true">
                    <g class="st-point"><circle r=7/></g>
                </svg>
                "event (its Lamport clock, or its vector clock [b1:3 c1:2]: how many events of each lane it has seen)"
            </li>
            <li>
                <svg class="legend-dot" viewBox="-10 -10 20 20" aria-hidden="true">
                    <g class="st-point cone-past"><circle r=7/></g>
                </svg>
                "happened before the selected event (vector clocks on)"
            </li>
            <li>
                <svg class="legend-dot" viewBox="-10 -10 20 20" aria-hidden="true">
                    <g class="st-point cone-future"><circle r=7/></g>
                </svg>
                "happened after it; the rest is concurrent with it"
            </li>
            {fault(Fault::Crash, "crash")}
            {fault(Fault::Restart, "restart")}
            {fault(Fault::Cut { peer: 0 }, "cut")}
            {fault(Fault::Heal { peer: 0 }, "heal")}
            {fault(Fault::Delay { peer: 0, ms: 0 }, "delay")}
            <li>
                <svg class="legend-line" viewBox="0 0 28 10" aria-hidden="true">
                    <line class="st-cursor" x1=1 y1=5 x2=27 y2=5/>
                </svg>
                "cursor"
            </li>
        </ul>
        </details>
    }
}

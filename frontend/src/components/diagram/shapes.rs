//! What the diagram draws, one component each: an event's circle, a
//! message's arrow, a fault's marker (and its glyph), the arrowheads; and
//! the items [`super`] places for the rows in view.

use std::collections::BTreeSet;
use std::sync::Arc;

use bank_core::causality::trace::Cone;
use leptos::prelude::*;

use super::geometry::{lane_class, RADIUS};
use crate::components::keys::on_activate;
use crate::model::diagram::{Arrow, ArrowState, Fault, Row};
use crate::model::trace::MessageClass;
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// One event circle on screen.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct PointItem {
    pub(super) row: Row,
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) future: bool,
    pub(super) title: String,
    /// The clock shown: the Lamport clock(s), or the vector clock.
    pub(super) label: String,
}

/// One arrow on screen, in pixels.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ArrowItem {
    pub(super) arrow: Arrow,
    pub(super) start: usize,
    pub(super) end: Option<usize>,
    pub(super) from: (f64, f64),
    pub(super) to: (f64, f64),
    pub(super) title: String,
}

/// One fault marker on screen.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct MarkerItem {
    pub(super) key: (usize, usize),
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) fault: Fault,
    pub(super) future: bool,
    pub(super) title: String,
}

/// What is drawn for the current window and cursor.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Scene {
    pub(super) points: Vec<PointItem>,
    pub(super) arrows: Vec<ArrowItem>,
    pub(super) markers: Vec<MarkerItem>,
}

/// Moves the cursor to just after `index` and selects `selection`, pausing
/// the playback (as stepping back does).
pub(super) fn go_to(playback: Playback, focus: Focus, index: usize, selection: Selection) {
    if playback.playing.get_untracked() {
        playback.pause();
    }
    playback.seek(index + 1);
    focus.selected.set(Some(selection));
}

#[component]
pub(super) fn PointView(
    item: PointItem,
    focus: Focus,
    cone: Memo<Option<Arc<Cone>>>,
) -> impl IntoView {
    let playback = context::<Playback>();
    let row = item.row;
    let chosen = move |s: Option<Selection>| match s {
        Some(Selection::Event(i)) => row.holds(i),
        Some(Selection::Flight(id)) => playback.trace.with_untracked(|t| {
            t.flights()
                .get(id)
                .is_some_and(|f| row.holds(f.start) || f.end.is_some_and(|e| row.holds(e)))
        }),
        None => false,
    };
    let hot = move || chosen(focus.hovered.get()) || chosen(focus.selected.get());
    let in_cone = move |side: fn(&Cone) -> &BTreeSet<usize>| {
        cone.with(|c| {
            c.as_ref().is_some_and(|c| side(c).range(row.first..=row.last).next().is_some())
        })
    };
    let past = move || in_cone(|c| &c.past);
    let later = move || in_cone(|c| &c.future);
    let this = Selection::Event(row.last);
    let activate = move || go_to(playback, focus, row.last, this);
    let keydown = on_activate(activate);
    let (x, y, title) = (item.x, item.y, item.title);
    let aria = title.clone();
    let label = item.label;
    let vector_label = label.starts_with('[');
    let lane = row.lane.map_or("", lane_class);
    let class = format!("st-point {lane}{}", if row.events > 1 { " st-run" } else { "" });
    view! {
        <g
            class=class
            class:future=item.future
            class:hot=hot
            class:cone-past=past
            class:cone-future=later
            data-testid="diagram-event"
            data-index=row.last
            tabindex="0"
            role="button"
            aria-label=aria
            on:click=move |_| activate()
            on:keydown=keydown
            on:mouseenter=move |_| focus.hovered.set(Some(this))
            on:mouseleave=move |_| focus.hovered.set(None)
            on:focus=move |_| focus.hovered.set(Some(this))
            on:blur=move |_| focus.hovered.set(None)
        >
            <title>{title}</title>
            <circle cx=x cy=y r=RADIUS/>
            {(row.events > 1).then(|| view! { <circle class="st-run-ring" cx=x cy=y r=RADIUS + 3.0/> })}
            <text class:st-vc=vector_label x=x + RADIUS + 3.0 y=y - 4.0>{label}</text>
        </g>
    }
}

#[component]
pub(super) fn ArrowView(item: ArrowItem) -> impl IntoView {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let arrow = item.arrow;
    let (start, end) = (item.start, item.end);
    let chosen = move |s: Option<Selection>| match s {
        Some(Selection::Flight(id)) => id == arrow.flight,
        Some(Selection::Event(i)) => i == start || end == Some(i),
        None => false,
    };
    let hot = move || chosen(focus.hovered.get()) || chosen(focus.selected.get());
    let this = Selection::Flight(arrow.flight);
    let class = arrow.class.name();
    let state = arrow.state.name();
    let head = match arrow.state {
        ArrowState::Dropped => "url(#st-head-lost)".to_owned(),
        _ => format!("url(#st-head-{class})"),
    };
    let ((x1, y1), (x2, y2)) = (item.from, item.to);
    view! {
        <g
            class=format!("st-arrow st-{class} st-{state}")
            class:hot=hot
            data-testid="diagram-arrow"
            data-state=state
            data-start=start
            on:click=move |_| go_to(playback, focus, start, this)
            on:mouseenter=move |_| focus.hovered.set(Some(this))
            on:mouseleave=move |_| focus.hovered.set(None)
        >
            <title>{item.title}</title>
            <line class="st-arrow-hit" x1=x1 y1=y1 x2=x2 y2=y2/>
            <line class="st-arrow-line" x1=x1 y1=y1 x2=x2 y2=y2 marker-end=head/>
        </g>
    }
}

#[component]
pub(super) fn MarkerView(item: MarkerItem) -> impl IntoView {
    let name = item.fault.name();
    view! {
        <g
            class=format!("st-fault st-fault-{name}")
            class:future=item.future
            data-testid="diagram-fault"
            data-fault=name
            transform=format!("translate({:.1},{:.1})", item.x, item.y)
        >
            <title>{item.title}</title>
            <FaultShape fault=item.fault/>
        </g>
    }
}

/// A fault's glyph, drawn around (0, 0).
#[component]
pub(super) fn FaultShape(fault: Fault) -> impl IntoView {
    match fault {
        Fault::Crash => view! { <path d="M-7,-7L7,7M7,-7L-7,7"/> }.into_any(),
        Fault::Restart => {
            view! { <circle r=7/> <path class="fill" d="M-3,-4L4,0L-3,4Z"/> }.into_any()
        }
        Fault::Cut { .. } => view! { <path d="M-9,5L-3,-5M3,5L9,-5"/> }.into_any(),
        Fault::Heal { .. } => view! { <path d="M-9,-3H9M-9,3H9"/> }.into_any(),
        Fault::Delay { .. } => view! { <circle r=7/> <path d="M0,0V-5M0,0H4"/> }.into_any(),
    }
}

/// One arrowhead per message class, and the cross of a lost message.
#[component]
pub(super) fn ArrowHeads() -> impl IntoView {
    let heads = MessageClass::ALL
        .iter()
        .map(|c| {
            let name = c.name();
            view! {
                <marker
                    id=format!("st-head-{name}")
                    viewBox="0 0 10 10"
                    refX="9"
                    refY="5"
                    markerWidth="7"
                    markerHeight="7"
                    orient="auto"
                >
                    <path class=format!("dot-{name}") d="M0,0L10,5L0,10Z"/>
                </marker>
            }
        })
        .collect_view();
    view! {
        <defs>
            {heads}
            <marker id="st-head-lost" viewBox="-6 -6 12 12" markerWidth="9" markerHeight="9">
                <path class="st-lost-cross" d="M-5,-5L5,5M5,-5L-5,5"/>
            </marker>
        </defs>
    }
}

//! The space-time diagram: one vertical lane per branch and customer
//! session, time flowing downwards, every event a circle with its Lamport
//! clock, every message an arrow from send to receive, faults as markers,
//! and the playback cursor as a horizontal line. With "vector clocks" on,
//! each circle shows its vector clock instead, and the selected event's
//! causal past and future are marked ([`crate::model::causal`]).
//!
//! Where things go is [`crate::model::diagram`]'s; this file draws the rows
//! near the scrolled window only (a busy bank has tens of thousands), keeps
//! the cursor in view while it moves, and links the diagram to the rest of
//! the page through the [`Focus`] context: hovering or clicking a circle or
//! an arrow hovers or selects the same event or message as the graph and
//! the event log do, and clicking also moves the cursor there.
//!
//! For tests: `data-testid="space-time"` (the panel), `diagram-lane-<key>`
//! (lane headers, keys as [`lane_key`]), `diagram-event` (circles, with
//! `data-index`: the trace index of the row's last event), `diagram-arrow`
//! (with `data-state`, and `data-start`: its send's trace index),
//! `diagram-fault`, `diagram-cursor`, the toggles `diagram-compact` and
//! `diagram-vector` (circles then carry `cone-past` / `cone-future`
//! classes), and the lane controls `lane-up-<key>`, `lane-down-<key>`,
//! `lane-shown-<key>`.

use std::collections::BTreeSet;
use std::sync::Arc;

use bank_core::causality::trace::{Cone, TraceCausality};
use leptos::{ev, prelude::*};

use crate::model::{
    causal, describe,
    diagram::{Arrow, ArrowState, Diagram, Fault, Row},
    lanes::{lane_key, lane_label, Lanes},
    trace::{MessageClass, Node, Trace},
};
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
    settings::Settings,
};

/// Pixels per row and per lane.
const ROW_H: f64 = 26.0;
const LANE_W: f64 = 76.0;
/// Room left of the first lane and right of the last.
const MARGIN_X: f64 = 12.0;
/// The lane headers' height (they stay on top while the diagram scrolls).
const HEAD_H: f64 = 30.0;
/// An event's circle.
const RADIUS: f64 = 8.0;
/// Rows drawn beyond the window on each side, and the step in which the
/// drawn range moves (so that scrolling a little redraws nothing).
const OVERSCAN: f64 = 12.0;
const CHUNK: f64 = 16.0;

/// The x of a lane's line, by its column.
fn lane_x(column: usize) -> f64 {
    MARGIN_X + LANE_W * (column as f64 + 0.5)
}

fn lane_class(node: Node) -> &'static str {
    match node {
        Node::Branch(_) => "st-lane-branch",
        Node::Customer(_) => "st-lane-customer",
        Node::Browser => "st-lane-you",
    }
}

/// One event circle on screen.
#[derive(Clone, Debug, PartialEq)]
struct PointItem {
    row: Row,
    x: f64,
    y: f64,
    future: bool,
    title: String,
    /// The clock shown: the Lamport clock(s), or the vector clock.
    label: String,
}

/// One arrow on screen, in pixels.
#[derive(Clone, Debug, PartialEq)]
struct ArrowItem {
    arrow: Arrow,
    start: usize,
    end: Option<usize>,
    from: (f64, f64),
    to: (f64, f64),
    title: String,
}

/// One fault marker on screen.
#[derive(Clone, Debug, PartialEq)]
struct MarkerItem {
    key: (usize, usize),
    x: f64,
    y: f64,
    fault: Fault,
    future: bool,
    title: String,
}

/// What is drawn for the current window and cursor.
#[derive(Clone, Debug, Default, PartialEq)]
struct Scene {
    points: Vec<PointItem>,
    arrows: Vec<ArrowItem>,
    markers: Vec<MarkerItem>,
}

/// The diagram panel: tools, lanes, the drawing, and the legend.
#[component]
pub fn SpaceTimeDiagram() -> impl IntoView {
    let playback = context::<Playback>();
    let settings = context::<Settings>();
    let focus = context::<Focus>();
    let lanes = RwSignal::new(Lanes::default());
    let compact = RwSignal::new(false);
    let vector = RwSignal::new(false);
    // Every event's vector clock, while the toggle is on (again as the trace
    // grows: a prefix's clocks do not change, new events get theirs).
    let causality = RwSignal::new(None::<Arc<TraceCausality>>);
    Effect::new(move |_| {
        let computed =
            if vector.get() { playback.trace.with(causal::of_trace).map(Arc::new) } else { None };
        causality.set(computed);
    });
    // The selected event's causal past and future.
    let cone = Memo::new(move |_| match focus.selected.get() {
        Some(Selection::Event(index)) => {
            causality.with(|c| c.as_ref().map(|c| Arc::new(c.cone(index))))
        }
        _ => None,
    });
    let model = RwSignal::new(Diagram::default());
    let scroll_top = RwSignal::new(0.0f64);
    let view_h = RwSignal::new(0.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();

    // A new history may bring other lanes; the person's order is kept.
    let generation = Memo::new(move |_| playback.trace.with(Trace::generation));
    Effect::new(move |_| {
        // `get`, not `track`: a memo nobody reads is never computed, so it
        // would never see the trace change.
        generation.get();
        let canonical = playback.trace.with_untracked(Lanes::of_trace);
        lanes.update(|l| {
            l.reconcile(&canonical);
        });
    });
    let hidden = Memo::new(move |_| lanes.with(|l| l.hidden().to_vec()));
    // Placed as the trace grows (only the new events); anew when the hidden
    // lanes or compact mode change.
    Effect::new(move |_| {
        let (hidden, compact) = (hidden.get(), compact.get());
        playback.trace.with(|trace| {
            model.update(|d| {
                if d.hidden() != hidden.as_slice() || d.is_compact() != compact {
                    *d = Diagram::new(hidden, compact);
                }
                d.sync(trace);
            })
        });
    });

    // The rows near the window, in steps of CHUNK rows.
    let window = Memo::new(move |_| {
        let height = match view_h.get() {
            h if h > 0.0 => h,
            _ => 800.0,
        };
        let top = scroll_top.get() / ROW_H;
        let bottom = top + height / ROW_H;
        let start = ((top - OVERSCAN) / CHUNK).floor().max(0.0) * CHUNK;
        let end = ((bottom + OVERSCAN) / CHUNK).ceil() * CHUNK;
        (start as usize, end as usize)
    });
    let scene = Memo::new(move |_| {
        let (start, end) = window.get();
        let cursor = playback.cursor.get();
        causality.with(|causality| {
            lanes.with(|lanes| {
                model.with(|d| {
                    playback.trace.with_untracked(|t| {
                        let view = View { lanes, causality: causality.as_deref() };
                        scene(d, t, &view, cursor, start, end)
                    })
                })
            })
        })
    });
    let columns = Memo::new(move |_| lanes.with(|l| l.visible().count()));
    let width = move || MARGIN_X * 2.0 + LANE_W * columns.get() as f64;
    let rows = Memo::new(move |_| model.with(|d| d.rows().len()));
    let height = move || ROW_H * (rows.get() as f64 + 1.0);
    let cursor_y = Memo::new(move |_| {
        let cursor = playback.cursor.get();
        model.with(|d| d.cursor_y(cursor)) * ROW_H
    });

    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            scroll_top.set(f64::from(el.scroll_top()));
            view_h.set(f64::from(el.client_height()));
        }
    };
    // The cursor stays in view while it moves (not while the person scrolls).
    // The rows there are drawn at once: the scroll event comes a frame later.
    Effect::new(move |_| {
        let y = cursor_y.get();
        let Some(el) = scroller.get_untracked() else { return };
        let (top, h) = (f64::from(el.scroll_top()), f64::from(el.client_height()) - HEAD_H);
        if y < top + ROW_H || y > top + h - 2.0 * ROW_H {
            el.set_scroll_top((y - h * 0.6).max(0.0) as i32);
            measure();
        }
    });
    scroller.on_load(move |_| measure());

    // Dragging a lane's header sideways moves the lane (the ↑ / ↓ buttons
    // under "Lanes" do the same from the keyboard). The header row holds
    // the pointer while the drag lasts, so letting go anywhere ends it.
    let head = NodeRef::<leptos::html::Div>::new();
    let dragging = RwSignal::new(None::<Node>);
    let drop_column = RwSignal::new(None::<usize>);
    let column_at = move |ev: &web_sys::PointerEvent| -> Option<usize> {
        let el = head.get_untracked()?;
        let x = f64::from(ev.client_x()) - el.get_bounding_client_rect().left();
        let last = columns.get_untracked().checked_sub(1)?;
        Some((((x - MARGIN_X) / LANE_W).floor().max(0.0) as usize).min(last))
    };
    let drag_start = move |ev: web_sys::PointerEvent, node: Node| {
        if ev.button() != 0 {
            return;
        }
        let Some(el) = head.get_untracked() else { return };
        // Without the capture a drag still works while over the headers.
        let _ = el.set_pointer_capture(ev.pointer_id());
        dragging.set(Some(node));
        drop_column.set(column_at(&ev));
    };
    let drag_move = move |ev: web_sys::PointerEvent| {
        if dragging.get_untracked().is_some() {
            let column = column_at(&ev);
            if drop_column.get_untracked() != column {
                drop_column.set(column);
            }
        }
    };
    let drag_end = move |ev: web_sys::PointerEvent| {
        let Some(node) = dragging.get_untracked() else { return };
        if let Some(column) = column_at(&ev) {
            lanes.update(|l| l.move_to(node, column));
        }
        dragging.set(None);
        drop_column.set(None);
    };
    let drag_cancel = move |_: web_sys::PointerEvent| {
        dragging.set(None);
        drop_column.set(None);
    };
    let drop_marker = move || {
        let column = drop_column.get()?;
        let left = format!("left: {:.0}px", lane_x(column) - LANE_W / 2.0);
        Some(
            view! { <span class="st-drop" data-testid="lane-drop" style=left aria-hidden="true"></span> },
        )
    };

    let headers = move || {
        lanes.with(|l| {
            playback.trace.with_untracked(|t| {
                l.visible()
                    .enumerate()
                    .map(|(column, node)| {
                        let key = lane_key(node);
                        let label = lane_label(node, t);
                        let left = format!(
                            "left: {:.0}px; width: {LANE_W}px",
                            lane_x(column) - LANE_W / 2.0
                        );
                        view! {
                            <span
                                class=format!("st-lane-label {}", lane_class(node))
                                class:dragged=move || dragging.get() == Some(node)
                                data-testid=format!("diagram-lane-{key}")
                                style=left
                                title=format!("{} (drag sideways to move the lane)", describe::node(node))
                                on:pointerdown=move |ev| drag_start(ev, node)
                            >
                                {label}
                            </span>
                        }
                    })
                    .collect_view()
            })
        })
    };
    let lane_lines = move || {
        let n = columns.get();
        let h = height();
        (0..n)
            .map(|c| {
                let x = lane_x(c);
                view! { <line class="st-lane" x1=x x2=x y1=0 y2=h/> }
            })
            .collect_view()
    };
    let down_stretches = move || {
        lanes.with(|l| {
            model.with(|d| {
                let end = ROW_H * (d.rows().len() as f64 + 1.0);
                down_stretches(d, l)
                    .into_iter()
                    .map(|(x, from, to)| {
                        let y2 = to.map_or(end, |r| (r as f64 + 0.5) * ROW_H);
                        let y1 = (from as f64 + 0.5) * ROW_H;
                        view! { <line class="st-lane-down" x1=x x2=x y1=y1 y2=y2/> }
                    })
                    .collect_view()
            })
        })
    };

    let placeholder = move || {
        if settings.awaiting_history.get() {
            Some("Loading the scenario…")
        } else if columns.get() == 0 {
            Some("Load a scenario to see its lanes")
        } else {
            None
        }
    };
    view! {
        <section class="panel space-time" data-testid="space-time" aria-labelledby="space-time-title">
            <div class="st-tools">
                <h2 id="space-time-title">"Space-time diagram"</h2>
                <label class="toggle" title="fold runs of one lane's events into one row">
                    <input
                        type="checkbox"
                        data-testid="diagram-compact"
                        prop:checked=move || compact.get()
                        on:change=move |e| compact.set(event_target_checked(&e))
                    />
                    "compact runs"
                </label>
                <label class="toggle" title="label every event with its vector clock (what it has seen of each lane), and mark the selected event's causal past and future">
                    <input
                        type="checkbox"
                        data-testid="diagram-vector"
                        prop:checked=move || vector.get()
                        on:change=move |e| vector.set(event_target_checked(&e))
                    />
                    "vector clocks"
                </label>
                <LaneControls lanes/>
            </div>
            {move || placeholder().map(|text| view! { <p class="hint">{text}</p> })}
            <div
                class="st-scroll"
                class:playing=move || playback.playing.get()
                node_ref=scroller
                on:scroll=move |_| measure()
            >
                <div
                    class="st-head"
                    node_ref=head
                    style=move || format!("width: {:.0}px", width())
                    on:pointermove=drag_move
                    on:pointerup=drag_end
                    on:pointercancel=drag_cancel
                >
                    {headers}
                    {drop_marker}
                </div>
                <svg
                    class="st-svg"
                    data-testid="diagram"
                    role="group"
                    aria-label="space-time diagram: lanes, events and messages"
                    width=width
                    height=height
                >
                    <ArrowHeads/>
                    <g class="st-lanes">{lane_lines} {down_stretches}</g>
                    <g class="st-arrows">
                        <For
                            each=move || scene.get().arrows
                            key=|a| (a.arrow.flight, a.arrow.state, a.to.1.to_bits())
                            children=move |a| view! { <ArrowView item=a/> }
                        />
                    </g>
                    <g class="st-markers">
                        <For
                            each=move || scene.get().markers
                            key=|m| (m.key, m.future)
                            children=move |m| view! { <MarkerView item=m/> }
                        />
                    </g>
                    <g class="st-points">
                        <For
                            each=move || scene.get().points
                            key=|p| (p.row.first, p.row.last, p.x.to_bits(), p.future, p.label.clone())
                            children=move |p| view! { <PointView item=p focus cone/> }
                        />
                    </g>
                    <line
                        class="st-cursor"
                        data-testid="diagram-cursor"
                        x1=0
                        x2=width
                        y1=move || cursor_y.get()
                        y2=move || cursor_y.get()
                    />
                </svg>
            </div>
            <DiagramLegend/>
        </section>
    }
}

/// How the scene is drawn: the lanes' order, and the vector clocks when
/// they are shown.
struct View<'a> {
    lanes: &'a Lanes,
    causality: Option<&'a TraceCausality>,
}

/// Everything drawn in rows `start..end` at `cursor`.
fn scene(d: &Diagram, t: &Trace, view: &View, cursor: usize, start: usize, end: usize) -> Scene {
    let lanes = view.lanes;
    let rows = d.rows_in(start as f64..end as f64);
    let column = |node: Node| lanes.column(node).map(lane_x);
    let points = d.rows()[rows.clone()]
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let x = column(row.lane?)?;
            let y = (rows.start + i) as f64 + 0.5;
            Some(PointItem {
                row: *row,
                x,
                y: y * ROW_H,
                future: row.first >= cursor,
                title: point_title(t, row),
                label: match view.causality {
                    Some(c) => causal::label(c, row.last).unwrap_or_default(),
                    None => row.clock_label(),
                },
            })
        })
        .collect();
    let markers = d
        .markers_in(rows)
        .iter()
        .filter_map(|m| {
            let x = column(m.lane)?;
            let who = describe::node(m.lane);
            Some(MarkerItem {
                key: (m.row, lanes.column(m.lane).unwrap_or(0)),
                x,
                y: (m.row as f64 + 0.5) * ROW_H,
                fault: m.fault,
                future: m.index >= cursor,
                title: format!("{who} {} (event {})", m.fault.describe(), m.index + 1),
            })
        })
        .collect();
    let arrows = d
        .arrows_in(t, cursor, start as f64..end as f64)
        .into_iter()
        .filter_map(|arrow| {
            let flight = t.flights().get(arrow.flight)?;
            let (x0, x1) = (column(arrow.from)?, column(arrow.to)?);
            let (y0, y1) = (arrow.y0 * ROW_H, arrow.y1 * ROW_H);
            // Ends at the receiving circle's border, not its centre.
            let (dx, dy) = (x1 - x0, y1 - y0);
            let len = dx.hypot(dy).max(1.0);
            let back = if matches!(arrow.state, ArrowState::Dropped) { 0.0 } else { RADIUS + 2.0 };
            let from = (x0 + dx / len * RADIUS, y0 + dy / len * RADIUS);
            let to = (x1 - dx / len * back, y1 - dy / len * back);
            // Only the part in the drawn rows: a message in flight since long
            // ago would be thousands of pixels of dashes to paint at every
            // frame (busy-bank: 0.3 frames/s; BENCHMARKS.md section 4b).
            let (from, to) = clip_to_rows(from, to, start as f64 * ROW_H, end as f64 * ROW_H);
            let state = match arrow.state {
                ArrowState::Dropped => " · lost",
                ArrowState::InFlight => " · in flight",
                _ => "",
            };
            Some(ArrowItem {
                arrow,
                start: flight.start,
                end: flight.end,
                from,
                to,
                title: format!("{}{state}", super::dots::dot_title(flight)),
            })
        })
        .collect();
    Scene { points, arrows, markers }
}

/// The segment `from`→`to` (drawn downwards or level) cut to the band
/// `top..bottom` of y (pixels); unchanged where it lies inside.
fn clip_to_rows(
    from: (f64, f64),
    to: (f64, f64),
    top: f64,
    bottom: f64,
) -> ((f64, f64), (f64, f64)) {
    let dy = to.1 - from.1;
    if dy <= 0.0 {
        return (from, to);
    }
    let at = |y: f64| {
        let t = (y - from.1) / dy;
        (from.0 + t * (to.0 - from.0), y)
    };
    let from = if from.1 < top && top < to.1 { at(top) } else { from };
    let to = if to.1 > bottom && bottom > from.1 { at(bottom) } else { to };
    (from, to)
}

/// A circle's tooltip: its event's log line, or the run it stands for.
fn point_title(t: &Trace, row: &Row) -> String {
    let line = |i: usize| {
        t.events().get(i).map(|e| {
            let l = describe::line(e);
            format!("{} {}", l.actor, l.text)
        })
    };
    let clock = match row.clock_label() {
        c if c.is_empty() => String::new(),
        c => format!(", Lamport clock {c}"),
    };
    if row.events == 1 {
        format!("event {}{clock}: {}", row.first + 1, line(row.first).unwrap_or_default())
    } else {
        format!(
            "events {}–{} ({} on this lane{clock}): {} … {}",
            row.first + 1,
            row.last + 1,
            row.events,
            line(row.first).unwrap_or_default(),
            line(row.last).unwrap_or_default()
        )
    }
}

/// Where each shown branch lane was down: (x, crash row, restart row).
fn down_stretches(d: &Diagram, lanes: &Lanes) -> Vec<(f64, usize, Option<usize>)> {
    let mut open: Vec<(Node, usize)> = Vec::new();
    let mut stretches = Vec::new();
    for m in d.markers() {
        match m.fault {
            Fault::Crash => open.push((m.lane, m.row)),
            Fault::Restart => {
                if let Some(at) = open.iter().position(|o| o.0 == m.lane) {
                    let (lane, from) = open.remove(at);
                    if let Some(c) = lanes.column(lane) {
                        stretches.push((lane_x(c), from, Some(m.row)));
                    }
                }
            }
            _ => {}
        }
    }
    for (lane, from) in open {
        if let Some(c) = lanes.column(lane) {
            stretches.push((lane_x(c), from, None));
        }
    }
    stretches
}

/// Moves the cursor to just after `index` and selects `selection`, pausing
/// the playback (as stepping back does).
fn go_to(playback: Playback, focus: Focus, index: usize, selection: Selection) {
    if playback.playing.get_untracked() {
        playback.pause();
    }
    playback.seek(index + 1);
    focus.selected.set(Some(selection));
}

#[component]
fn PointView(item: PointItem, focus: Focus, cone: Memo<Option<Arc<Cone>>>) -> impl IntoView {
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
    let keydown = move |e: ev::KeyboardEvent| {
        if matches!(e.key().as_str(), "Enter" | " " | "Spacebar") {
            e.prevent_default();
            // Not the page's space = play/pause.
            e.stop_propagation();
            activate();
        }
    };
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
fn ArrowView(item: ArrowItem) -> impl IntoView {
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
fn MarkerView(item: MarkerItem) -> impl IntoView {
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
fn FaultShape(fault: Fault) -> impl IntoView {
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
fn ArrowHeads() -> impl IntoView {
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

/// Up / down / shown for every lane, in a disclosure.
#[component]
fn LaneControls(lanes: RwSignal<Lanes>) -> impl IntoView {
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

/// What the diagram's colours, lines and markers mean.
#[component]
fn DiagramLegend() -> impl IntoView {
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

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

mod geometry;
mod lane_controls;
mod legend;
mod shapes;

use std::sync::Arc;

use bank_core::causality::trace::TraceCausality;
use leptos::prelude::*;

use crate::model::{
    causal, describe,
    diagram::{ArrowState, Diagram, Fault, Row},
    lanes::{lane_key, lane_label, Lanes},
    trace::{Node, Trace},
};
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
    settings::Settings,
};
use geometry::{lane_class, lane_x, CHUNK, HEAD_H, LANE_W, MARGIN_X, OVERSCAN, RADIUS, ROW_H};
use lane_controls::LaneControls;
use legend::DiagramLegend;
use shapes::{
    ArrowHeads, ArrowItem, ArrowView, MarkerItem, MarkerView, PointItem, PointView, Scene,
};

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

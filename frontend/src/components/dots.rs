//! The messages in flight, drawn on one `<canvas>` over the graph.
//!
//! Hundreds of moving SVG elements cost the browser a style, layout and paint
//! pass over each of them on every frame; a canvas costs one 2D pass: clear,
//! then fill every dot (one path per message class). The canvas covers the
//! graph's box exactly and maps the SVG `viewBox` the way
//! `preserveAspectRatio="xMidYMid meet"` does, so the dots sit on the edges.
//!
//! The canvas takes no pointer events (the branches and links under it stay
//! clickable) except while the pointer is over a dot: the graph's box
//! hit-tests the dots drawn in the last frame on every mouse move, and the
//! dot under the pointer is hovered (details panel, tooltip) and clickable.
//!
//! For tests: `data-testid="message-dots"`, `data-count` (dots drawn in the
//! last frame) and `data-kinds` (how many of each class, e.g.
//! `deposit:1 propagate:3`).

use std::cell::{Cell, RefCell};
use std::f64::consts::TAU;

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::model::{
    describe, format,
    layout::{Layout, HEIGHT, WIDTH},
    trace::{Flight, MessageClass},
};
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// More messages in flight than this and their labels are not drawn (they
/// would only cover each other; a dot's details are on hover).
pub const CROWDED: usize = 40;

/// A dot's radius and outline, in viewBox units (as the SVG dots had).
const RADIUS: f64 = 13.0;
const OUTLINE: f64 = 3.0;
const SELECTED_OUTLINE: f64 = 4.0;

/// The canvas and what the last frame drew on it.
struct Surface {
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    /// The canvas's CSS size (px), kept by a `ResizeObserver`.
    size: Cell<(f64, f64)>,
    colours: RefCell<Colours>,
    /// viewBox → CSS px of the last frame: (scale, x offset, y offset).
    mapping: Cell<(f64, f64, f64)>,
    /// The dots of the last frame in drawing order: (flight id, x, y) in
    /// viewBox units.
    drawn: RefCell<Vec<(usize, f64, f64)>>,
    count: Cell<Option<usize>>,
    kinds: RefCell<String>,
    /// One pre-drawn dot per class, at (device px per viewBox unit).
    sprites: RefCell<Option<(f64, Vec<HtmlCanvasElement>)>>,
    observer: Option<web_sys::ResizeObserver>,
    scheme: Option<web_sys::MediaQueryList>,
    _on_resize: Option<Closure<dyn FnMut()>>,
    _on_scheme: Option<Closure<dyn FnMut()>>,
}

/// The page's colours (its CSS custom properties), read when the canvas
/// appears, is resized, or the colour scheme changes.
#[derive(Clone, Debug)]
struct Colours {
    classes: [String; 5],
    panel: String,
    ink: String,
    font: String,
}

impl Colours {
    fn read(element: &web_sys::Element) -> Colours {
        let style = web_sys::window().and_then(|w| w.get_computed_style(element).ok().flatten());
        let get = |name: &str, fallback: &str| {
            let value =
                style.as_ref().and_then(|s| s.get_property_value(name).ok()).unwrap_or_default();
            let value = value.trim();
            if value.is_empty() {
                fallback.to_owned()
            } else {
                value.to_owned()
            }
        };
        let fallback = ["#1a9a4b", "#d6336c", "#2b7bd8", "#8a4fd8", "#6b7280"];
        let classes = std::array::from_fn(|i| {
            get(&format!("--{}", MessageClass::ALL[i].name()), fallback[i])
        });
        Colours {
            classes,
            panel: get("--panel", "#ffffff"),
            ink: get("--ink", "#16181d"),
            font: format!("700 20px {}", get("font-family", "system-ui, sans-serif")),
        }
    }
}

impl Drop for Surface {
    fn drop(&mut self) {
        if let Some(observer) = &self.observer {
            observer.disconnect();
        }
        if let (Some(scheme), Some(listener)) = (&self.scheme, &self._on_scheme) {
            let _ = scheme
                .remove_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
        }
    }
}

/// What a dot says next to it when there is room.
pub fn dot_label(flight: &Flight) -> String {
    match flight.class() {
        MessageClass::Deposit => format!("+{}", format::cents(flight.amount_cents)),
        MessageClass::Withdraw => format!("−{}", format::cents(flight.amount_cents)),
        MessageClass::Query => "?".to_owned(),
        MessageClass::Propagate => format!(
            "{}{}",
            if format::operation(flight.operation) == "withdraw" { "−" } else { "+" },
            format::cents(flight.amount_cents)
        ),
        MessageClass::Ack => "ack".to_owned(),
    }
}

/// A dot's tooltip.
pub fn dot_title(flight: &Flight) -> String {
    format!(
        "{} {} → {}: {} (customer {}, event {}, clock {})",
        describe::flight_kind(flight.kind),
        describe::node(flight.from),
        describe::node(flight.to),
        describe::flight_money(flight),
        flight.customer_id,
        flight.event_id,
        flight.clock
    )
}

/// Where `flight` is drawn at visual time `t` (viewBox units).
fn position(
    playback: Playback,
    layout: &Layout,
    flight: &Flight,
    t: f64,
    trace_len: usize,
) -> Option<(f64, f64)> {
    let progress = if playback.reduced_motion { 0.5 } else { flight.progress(t, trace_len) };
    layout.along(flight.from, flight.to, progress).map(|p| (p.x, p.y))
}

/// The canvas of dots. It lies over the graph's box (`.graph-stack`), whose
/// mouse moves and leaves must be passed to the returned [`DotPointer`].
///
/// `flights`: the ids of the messages in flight at the cursor.
pub fn dot_layer(
    layout: Memo<Option<Layout>>,
    flights: Memo<Vec<usize>>,
    trace_len: Memo<usize>,
) -> (impl IntoView, DotPointer) {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let surface = StoredValue::new_local(None::<Surface>);

    // Draws the current frame; reads everything untracked (the effect below
    // and the resize observer decide when).
    let repaint = move || {
        let t = playback.time_untracked();
        let len = trace_len.get_untracked();
        // The selected dot, and the one hovered here or in the space-time diagram.
        let flight = |s: Option<Selection>| match s {
            Some(Selection::Flight(id)) => Some(id),
            _ => None,
        };
        let selected =
            [flight(focus.selected.get_untracked()), flight(focus.hovered.get_untracked())];
        surface.with_value(|surface| {
            let Some(surface) = surface else { return };
            layout.with_untracked(|layout| {
                flights.with_untracked(|ids| {
                    playback.trace.with_untracked(|trace| {
                        let flights = trace.flights();
                        paint(playback, surface, layout.as_ref(), flights, ids, t, len, selected)
                    })
                })
            })
        });
    };

    // One repaint per frame while playing, and whenever what is in flight,
    // the layout or the selection changes.
    Effect::new(move |_| {
        playback.time();
        flights.track();
        layout.track();
        focus.selected.track();
        focus.hovered.track();
        repaint();
    });
    // A message still travelling at the end of the trace moves as the trace
    // grows, and the trace grows by one event at a time (hundreds a second
    // when busy): at most one repaint per frame for that.
    let pending = StoredValue::new(false);
    Effect::new(move |_| {
        trace_len.track();
        if !pending.get_value() {
            pending.set_value(true);
            request_animation_frame(move || {
                pending.set_value(false);
                repaint();
            });
        }
    });

    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    canvas_ref.on_load(move |canvas: HtmlCanvasElement| {
        let Some(context) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        let rect = canvas.get_bounding_client_rect();
        let element: web_sys::Element = canvas.clone().into();
        let on_resize = {
            let canvas = canvas.clone();
            Closure::<dyn FnMut()>::new(move || {
                let rect = canvas.get_bounding_client_rect();
                surface.with_value(|s| {
                    if let Some(s) = s {
                        s.size.set((rect.width(), rect.height()));
                        *s.colours.borrow_mut() = Colours::read(&s.canvas);
                        *s.sprites.borrow_mut() = None;
                    }
                });
                repaint();
            })
        };
        let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
        if let Some(observer) = &observer {
            observer.observe(&canvas);
        }
        let scheme = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
        let on_scheme = scheme.as_ref().map(|scheme| {
            let listener = Closure::<dyn FnMut()>::new(move || {
                surface.with_value(|s| {
                    if let Some(s) = s {
                        *s.colours.borrow_mut() = Colours::read(&s.canvas);
                        *s.sprites.borrow_mut() = None;
                    }
                });
                repaint();
            });
            let _ = scheme
                .add_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
            listener
        });
        surface.set_value(Some(Surface {
            canvas,
            context,
            size: Cell::new((rect.width(), rect.height())),
            colours: RefCell::new(Colours::read(&element)),
            mapping: Cell::new((1.0, 0.0, 0.0)),
            drawn: RefCell::new(Vec::new()),
            count: Cell::new(None),
            sprites: RefCell::new(None),
            kinds: RefCell::new(String::new()),
            observer,
            scheme,
            _on_resize: Some(on_resize),
            _on_scheme: on_scheme,
        }));
        repaint();
    });
    on_cleanup(move || surface.set_value(None));

    let pointer = DotPointer { playback, focus, surface };
    let click = move |e: web_sys::MouseEvent| {
        if let Some(id) = pointer.hit(&e) {
            focus.selected.set(Some(Selection::Flight(id)));
        }
    };
    let view = view! {
        <canvas
            class="graph-dots"
            data-testid="message-dots"
            data-count="0"
            data-kinds=""
            aria-hidden="true"
            node_ref=canvas_ref
            on:click=click
        ></canvas>
    };
    (view, pointer)
}

/// Hit-tests the dots for the graph's box.
#[derive(Clone, Copy, Debug)]
pub struct DotPointer {
    playback: Playback,
    focus: Focus,
    surface: StoredValue<Option<Surface>, LocalStorage>,
}

impl DotPointer {
    /// The flight whose dot is under the pointer (the topmost one).
    fn hit(&self, e: &web_sys::MouseEvent) -> Option<usize> {
        self.surface.with_value(|s| {
            let s = s.as_ref()?;
            let rect = s.canvas.get_bounding_client_rect();
            let (scale, ox, oy) = s.mapping.get();
            if scale <= 0.0 {
                return None;
            }
            let x = (f64::from(e.client_x()) - rect.left() - ox) / scale;
            let y = (f64::from(e.client_y()) - rect.top() - oy) / scale;
            let reach = (RADIUS + OUTLINE / 2.0).powi(2);
            s.drawn
                .borrow()
                .iter()
                .rev()
                .find(|(_, dx, dy)| (dx - x).powi(2) + (dy - y).powi(2) <= reach)
                .map(|d| d.0)
        })
    }

    /// The pointer moved over the graph: hover the dot under it, if any.
    pub fn moved(&self, e: &web_sys::MouseEvent) {
        let hit = self.hit(e);
        let title = hit.and_then(|id| {
            self.playback.trace.with_untracked(|t| t.flights().get(id).map(dot_title))
        });
        self.show(hit, title);
    }

    /// The pointer left the graph.
    pub fn left(&self) {
        self.show(None, None);
    }

    fn show(&self, hit: Option<usize>, title: Option<String>) {
        let hovered = self.focus.hovered;
        let now = hovered.get_untracked();
        match hit {
            Some(id) if now != Some(Selection::Flight(id)) => {
                hovered.set(Some(Selection::Flight(id)))
            }
            None if matches!(now, Some(Selection::Flight(_))) => hovered.set(None),
            _ => {}
        }
        self.surface.with_value(|s| {
            let Some(s) = s else { return };
            let list = s.canvas.class_list();
            match title {
                Some(title) => {
                    let _ = list.add_1("over-dot");
                    if s.canvas.get_attribute("title").as_deref() != Some(title.as_str()) {
                        let _ = s.canvas.set_attribute("title", &title);
                    }
                }
                None => {
                    let _ = list.remove_1("over-dot");
                    let _ = s.canvas.remove_attribute("title");
                }
            }
        });
    }
}

/// A dot of each class (fill and outline), `k` device pixels per viewBox unit.
fn make_sprites(colours: &Colours, k: f64) -> Vec<HtmlCanvasElement> {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return Vec::new() };
    let reach = RADIUS + OUTLINE / 2.0;
    let side = (2.0 * reach * k).ceil() as u32 + 2;
    colours
        .classes
        .iter()
        .filter_map(|colour| {
            let sprite: HtmlCanvasElement =
                document.create_element("canvas").ok()?.dyn_into().ok()?;
            sprite.set_width(side);
            sprite.set_height(side);
            let ctx: CanvasRenderingContext2d = sprite.get_context("2d").ok()??.dyn_into().ok()?;
            let centre = f64::from(side) / 2.0;
            let _ = ctx.set_transform(k, 0.0, 0.0, k, centre, centre);
            ctx.begin_path();
            let _ = ctx.arc(0.0, 0.0, RADIUS, 0.0, TAU);
            ctx.set_fill_style_str(colour);
            ctx.fill();
            ctx.set_line_width(OUTLINE);
            ctx.set_stroke_style_str(&colours.panel);
            ctx.stroke();
            Some(sprite)
        })
        .collect()
}

/// One frame: clear, then every dot in flight at `t`, one path per class;
/// the selected and hovered dots' outlines and, when not crowded, the
/// labels on top.
#[allow(clippy::too_many_arguments)]
fn paint(
    playback: Playback,
    s: &Surface,
    layout: Option<&Layout>,
    flights: &[Flight],
    ids: &[usize],
    t: f64,
    trace_len: usize,
    selected: [Option<usize>; 2],
) {
    let ctx = &s.context;
    let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).filter(|r| *r > 0.0).unwrap_or(1.0);
    let (w, h) = s.size.get();
    let (bw, bh) = ((w * dpr).round().max(0.0) as u32, (h * dpr).round().max(0.0) as u32);
    if s.canvas.width() != bw {
        s.canvas.set_width(bw);
    }
    if s.canvas.height() != bh {
        s.canvas.set_height(bh);
    }
    let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, f64::from(bw), f64::from(bh));
    // preserveAspectRatio="xMidYMid meet": the viewBox scaled to fit, centred.
    let scale = (w / WIDTH).min(h / HEIGHT).max(0.0);
    let (ox, oy) = ((w - WIDTH * scale) / 2.0, (h - HEIGHT * scale) / 2.0);
    s.mapping.set((scale, ox, oy));
    let _ = ctx.set_transform(dpr * scale, 0.0, 0.0, dpr * scale, dpr * ox, dpr * oy);

    let mut drawn = s.drawn.borrow_mut();
    drawn.clear();
    let mut per_class = [0usize; 5];
    let colours = s.colours.borrow();
    if let Some(layout) = layout {
        let class_of =
            |f: &Flight| MessageClass::ALL.iter().position(|c| *c == f.class()).unwrap_or(0);
        let placed: Vec<(usize, usize, f64, f64)> = ids
            .iter()
            .filter_map(|&id| {
                let f = flights.get(id)?;
                position(playback, layout, f, t, trace_len).map(|(x, y)| (id, class_of(f), x, y))
            })
            .collect();
        // Each dot is a copy of its class's sprite, at whole device pixels:
        // a blit, where filling hundreds of anti-aliased circles made the
        // software rasterizer the frame's largest cost.
        let k = dpr * scale;
        let mut sprites = s.sprites.borrow_mut();
        if sprites.as_ref().is_none_or(|(at, _)| *at != k) {
            *sprites = Some((k, make_sprites(&colours, k)));
        }
        if let Some((_, sprites)) = sprites.as_ref().filter(|(_, v)| v.len() == 5) {
            let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
            for &(_, c, x, y) in &placed {
                per_class[c] += 1;
                let sprite = &sprites[c];
                let half = f64::from(sprite.width()) / 2.0;
                let dx = (dpr * (ox + x * scale) - half).round();
                let dy = (dpr * (oy + y * scale) - half).round();
                let _ = ctx.draw_image_with_html_canvas_element(sprite, dx, dy);
            }
            let _ = ctx.set_transform(k, 0.0, 0.0, k, dpr * ox, dpr * oy);
        }
        for &(id, _, x, y) in &placed {
            drawn.push((id, x, y));
            if selected.contains(&Some(id)) {
                ctx.begin_path();
                let _ = ctx.arc(x, y, RADIUS, 0.0, TAU);
                ctx.set_line_width(SELECTED_OUTLINE);
                ctx.set_stroke_style_str(&colours.ink);
                ctx.stroke();
            }
        }
        if placed.len() <= CROWDED {
            ctx.set_font(&colours.font);
            ctx.set_text_align("center");
            ctx.set_line_join("round");
            ctx.set_line_width(5.0);
            ctx.set_stroke_style_str(&colours.panel);
            ctx.set_fill_style_str(&colours.ink);
            for &(id, _, x, y) in &placed {
                let label = dot_label(&flights[id]);
                let _ = ctx.stroke_text(&label, x, y - 18.0);
                let _ = ctx.fill_text(&label, x, y - 18.0);
            }
        }
    }

    let count = drawn.len();
    if s.count.get() != Some(count) {
        s.count.set(Some(count));
        let _ = s.canvas.set_attribute("data-count", &count.to_string());
    }
    let kinds = MessageClass::ALL
        .iter()
        .zip(per_class)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{}:{n}", c.name()))
        .collect::<Vec<_>>()
        .join(" ");
    if *s.kinds.borrow() != kinds {
        let _ = s.canvas.set_attribute("data-kinds", &kinds);
        *s.kinds.borrow_mut() = kinds;
    }
}

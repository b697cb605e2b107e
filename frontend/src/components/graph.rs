//! The cluster as an SVG graph: branches on a circle, customers in a column,
//! and every message in flight as a dot moving along its edge (drawn on a
//! canvas over the graph, see [`super::dots`]).

use leptos::prelude::*;

use super::dots::dot_layer;
use super::keys::{focus_first_button, on_activate};

/// Where the fault buttons are (see [`super::fault_bar`]).
const FAULT_BAR: &str = "[data-testid=fault-bar]";
use crate::model::{
    describe, format,
    layout::{Layout, Point, HEIGHT, WIDTH},
    trace::{MessageClass, Node, Trace},
};
use crate::state::{
    context,
    focus::{FaultTarget, Focus, Selection},
    playback::Playback,
    settings::Settings,
};

/// The nodes of the loaded scenario, placed.
fn layout_of(trace: &Trace) -> Option<Layout> {
    let scenario = trace.scenario()?;
    let mut branches: Vec<u64> = scenario.branches.iter().map(|b| b.id).collect();
    branches.sort_unstable();
    let mut customers: Vec<Node> =
        scenario.customers.iter().map(|c| Node::Customer(c.session)).collect();
    customers.push(Node::Browser);
    Some(Layout::new(&branches, &customers))
}

/// The graph and its legend.
#[component]
pub fn Graph() -> impl IntoView {
    let playback = context::<Playback>();
    let settings = context::<Settings>();
    let awaiting = settings.awaiting_history;
    // While a new scenario loads, the old one is not shown (so that nothing
    // is mistaken for the new cluster).
    let layout =
        Memo::new(move |_| if awaiting.get() { None } else { playback.trace.with(layout_of) });
    let trace_len = Memo::new(move |_| playback.trace.with(Trace::len));
    // A new history may bring another scenario with the same layout.
    let generation = Memo::new(move |_| playback.trace.with(Trace::generation));
    // The ids of the messages in flight at the cursor. Events arriving after
    // the cursor change nothing here (they start later, and a message's
    // receipt only sets its end), so this is computed again only when the
    // cursor moves or a new history starts, not for every event received.
    let shown = Memo::new(move |_| (generation.get(), playback.cursor.get(), awaiting.get()));
    let flights = Memo::new(move |_| {
        let (_, cursor, awaiting) = shown.get();
        if awaiting {
            return Vec::new();
        }
        playback.trace.with_untracked(|t| t.in_flight(cursor).map(|f| f.id).collect::<Vec<usize>>())
    });

    // Every message in flight, drawn on a canvas over the graph (see
    // `dots`): one 2D pass per frame instead of hundreds of SVG elements.
    let (dot_canvas, pointer) = dot_layer(layout, flights, trace_len);
    let view_box = format!("0 0 {WIDTH} {HEIGHT}");
    view! {
        <div class="graph-wrap">
            <div
                class="graph-stack"
                on:mousemove=move |e| pointer.moved(&e)
                on:mouseleave=move |_| pointer.left()
            >
            <svg
                data-testid="graph"
                class="graph"
                viewBox=view_box
                preserveAspectRatio="xMidYMid meet"
                role="group"
                aria-label="branches, customers and messages in flight"
            >
                {move || match (generation.get(), layout.get()).1 {
                    None => {
                        view! {
                            <text class="placeholder" x=WIDTH / 2.0 y=HEIGHT / 2.0 text-anchor="middle">
                                {move || {
                                    if awaiting.get() {
                                        "Loading the scenario…"
                                    } else {
                                        "Load a scenario to see its branches"
                                    }
                                }}
                            </text>
                        }
                            .into_any()
                    }
                    Some(layout) => {
                        view! {
                            <Edges layout=layout.clone()/>
                            <Nodes layout=layout.clone()/>
                            <g class="violations">
                                <ViolationMarkers layout/>
                            </g>
                        }
                            .into_any()
                    }
                }}
            </svg>
            {dot_canvas}
            </div>
            <Legend/>
        </div>
    }
}

/// Lines between every pair of branches, and from customers to the branches
/// their scripted events use.
#[component]
fn Edges(layout: Layout) -> impl IntoView {
    let playback = context::<Playback>();
    let mut lines = Vec::new();
    let mut links = Vec::new();
    for (i, &(a, _)) in layout.branches.iter().enumerate() {
        for &(b, _) in &layout.branches[i + 1..] {
            if let Some((from, to)) = layout.edge(Node::Branch(a), Node::Branch(b)) {
                links.push(view! { <PeerLink a b from to/> });
            }
        }
    }
    let used: Vec<(Node, u64)> = playback.trace.with_untracked(|t| {
        let mut used: Vec<(Node, u64)> = t
            .scenario()
            .map(|s| {
                s.customers
                    .iter()
                    .flat_map(|c| {
                        c.events.iter().map(move |e| (Node::Customer(c.session), e.branch_id))
                    })
                    .collect()
            })
            .unwrap_or_default();
        used.sort();
        used.dedup();
        used
    });
    for (node, branch) in used {
        if let Some((from, to)) = layout.edge(node, Node::Branch(branch)) {
            lines.push(("edge edge-customer", from, to));
        }
    }
    // The browser may talk to any branch.
    for &(branch, _) in &layout.branches {
        if let Some((from, to)) = layout.edge(Node::Browser, Node::Branch(branch)) {
            lines.push(("edge edge-browser", from, to));
        }
    }
    let lines = lines
        .into_iter()
        .map(|(class, a, b)| view! { <line class=class x1=a.x y1=a.y x2=b.x y2=b.y/> })
        .collect_view();
    view! { {lines} {links} }
}

/// The link between two branches: dashed red when cut, labelled with its
/// delay; click it for cut / heal / delay.
#[component]
fn PeerLink(a: u64, b: u64, from: Point, to: Point) -> impl IntoView {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let cut = move || playback.world.with(|w| w.is_cut(a, b));
    let delay = move || {
        playback.world.with(|w| w.delay(a, b)).filter(|ms| *ms > 0).map(|ms| format!("{ms} ms"))
    };
    let chosen = move || focus.fault_target.get() == Some(FaultTarget::Link(a, b));
    let choose = move || focus.fault_target.set(Some(FaultTarget::Link(a, b)));
    let mid = from.lerp(to, 0.5);
    view! {
        <g
            class="link"
            class:cut=cut
            class:chosen=chosen
            tabindex="0"
            role="button"
            // The visible delay is part of the name.
            aria-label=move || {
                let delay = delay().map(|d| format!(" ({d})")).unwrap_or_default();
                format!("link {a}-{b}{delay}: cut, heal or delay it")
            }
            on:click=move |_| choose()
            on:keydown=on_activate(move || {
                choose();
                focus_first_button(FAULT_BAR);
            })
        >
            <title>{format!("link {a}-{b}: click (or Enter) to cut, heal or delay it")}</title>
            <line class="edge edge-peer" x1=from.x y1=from.y x2=to.x y2=to.y/>
            <line class="link-hit" data-testid=format!("link-{a}-{b}") x1=from.x y1=from.y x2=to.x y2=to.y/>
            <text class="link-delay" x=mid.x y=mid.y - 6.0 text-anchor="middle">{delay}</text>
        </g>
    }
}

/// Red rings around the branches and customers of every violation found so far.
#[component]
pub fn ViolationMarkers(layout: Layout) -> impl IntoView {
    let playback = context::<Playback>();
    move || {
        let mut nodes: Vec<(Node, String)> = Vec::new();
        playback.world.with(|w| {
            for (_, v) in &w.violations {
                let what = format!("{}: {}", v.name, v.explanation);
                for b in &v.branch_ids {
                    nodes.push((Node::Branch(*b), what.clone()));
                }
                if let Some(s) = v.session {
                    nodes.push((Node::Customer(s), what.clone()));
                }
            }
        });
        nodes.dedup_by(|x, y| x.0 == y.0);
        nodes
            .into_iter()
            .filter_map(|(node, what)| {
                let at = layout.position(node)?;
                let r = layout.radius(node) + 9.0;
                Some(view! {
                    <circle class="violation-marker" data-testid="violation-marker" cx=at.x cy=at.y r=r>
                        <title>{what}</title>
                    </circle>
                })
            })
            .collect_view()
    }
}

#[component]
fn Nodes(layout: Layout) -> impl IntoView {
    let r = layout.branch_radius;
    let branches =
        layout.branches.iter().map(|&(id, at)| view! { <BranchNode id at r/> }).collect_view();
    let cr = layout.customer_radius;
    let customers = layout
        .customers
        .iter()
        .map(|&(node, at)| view! { <CustomerNode node at r=cr/> })
        .collect_view();
    view! { <g class="nodes">{branches} {customers}</g> }
}

/// One branch: id, balance and a short write-set summary.
#[component]
fn BranchNode(id: u64, at: Point, r: f64) -> impl IntoView {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let world = playback.world;
    let balance = move || {
        world.with(|w| w.branch(id).map(|b| format::cents(b.balance_cents)).unwrap_or_default())
    };
    // About how many characters of the write-set font fit across the circle.
    let writes_font = (r * 0.2).max(11.0);
    let max_chars = (1.7 * r / (0.58 * writes_font)) as usize;
    let writes = move || {
        world.with(|w| {
            w.branch(id)
                .map(|b| describe::write_sets_short(&b.write_sets, max_chars))
                .unwrap_or_default()
        })
    };
    let clock = move || world.with(|w| w.branch(id).map(|b| b.clock).unwrap_or(0));
    // The branch that logged the event just applied.
    let active = move || {
        let cursor = playback.cursor.get();
        world.with(|w| cursor > 0 && w.branch(id).and_then(|b| b.last_event) == Some(cursor - 1))
    };
    let select = move || {
        focus.fault_target.set(Some(FaultTarget::Branch(id)));
        if let Some(index) = world.with_untracked(|w| w.branch(id).and_then(|b| b.last_event)) {
            focus.selected.set(Some(Selection::Event(index)));
        }
    };
    let down = move || world.with(|w| w.is_down(id));
    let chosen = move || focus.fault_target.get() == Some(FaultTarget::Branch(id));
    view! {
        <g
            class="branch"
            class:active=active
            class:down=down
            class:chosen=chosen
            data-testid=format!("branch-{id}")
            transform=format!("translate({:.1},{:.1})", at.x, at.y)
            tabindex="0"
            role="button"
            on:click=move |_| select()
            on:keydown=on_activate(move || {
                select();
                focus_first_button(FAULT_BAR);
            })
        >
            <title>
                {move || {
                    format!(
                        "branch {id}: balance {}, Lamport clock {}; click (or Enter) to crash or restart it",
                        balance(),
                        clock()
                    )
                }}
            </title>
            <circle r=r class="branch-circle"/>
            <text class="branch-id" y=-r * 0.42 font-size=r * 0.3 text-anchor="middle">
                {format!("B{id}")}
            </text>
            <text
                class="branch-balance"
                data-testid=format!("branch-balance-{id}")
                y=r * 0.14
                font-size=r * 0.46
                text-anchor="middle"
            >
                {balance}
            </text>
            <text class="branch-writes" y=r * 0.55 font-size=writes_font text-anchor="middle">
                {writes}
            </text>
            <text class="branch-clock" y=-r - 8.0 font-size=(r * 0.24).max(12.0) text-anchor="middle">
                {move || format!("clock {}", clock())}
            </text>
            {move || {
                down()
                    .then(|| {
                        view! {
                            <g class="down-badge" data-testid=format!("down-{id}")>
                                <rect x=-r * 0.5 y=r * 0.72 width=r height=r * 0.42 rx=6/>
                                <text y=r * 1.02 font-size=(r * 0.28).max(12.0) text-anchor="middle">"down"</text>
                            </g>
                        }
                    })
            }}
        </g>
    }
}

/// A scripted customer session, or the browser ("you").
#[component]
fn CustomerNode(node: Node, at: Point, r: f64) -> impl IntoView {
    let playback = context::<Playback>();
    let (testid, label, title) = match node {
        Node::Customer(session) => {
            let id = playback.trace.with_untracked(|t| {
                let scenario = t.scenario()?;
                scenario.customers.iter().find(|c| c.session == session).map(|c| c.customer_id)
            });
            let id = id.unwrap_or(0);
            (
                format!("customer-{session}"),
                format!("C{id}"),
                format!("customer {id} (session {session})"),
            )
        }
        _ => (
            "customer-you".to_owned(),
            "you".to_owned(),
            "you: the browser as a customer".to_owned(),
        ),
    };
    let answer = move || {
        playback.world.with(|w| {
            w.answers.get(&node).map(|a| {
                if a.success {
                    format!("✓ {}", format::cents(a.balance_cents))
                } else {
                    format!("✗ {}", format::cents(a.balance_cents))
                }
            })
        })
    };
    let class = if node == Node::Browser { "customer customer-you" } else { "customer" };
    view! {
        <g class=class data-testid=testid transform=format!("translate({:.1},{:.1})", at.x, at.y)>
            <title>{title}</title>
            <rect x=-r y=-r * 0.8 width=r * 2.0 height=r * 1.6 rx=r * 0.35 class="customer-box"/>
            <text class="customer-label" y=r * 0.18 font-size=(r * 0.62).clamp(11.0, 26.0) text-anchor="middle">
                {label}
            </text>
            <text class="customer-answer" x=r + 8.0 y=6.0 font-size=(r * 0.5).clamp(12.0, 20.0)>
                {answer}
            </text>
        </g>
    }
}

/// What the dot colors mean.
#[component]
fn Legend() -> impl IntoView {
    let items = MessageClass::ALL
        .iter()
        .map(|c| {
            let name = c.name();
            view! {
                <li>
                    <svg class="legend-dot" viewBox="-10 -10 20 20" aria-hidden="true">
                        <circle r=8 class=format!("dot-{name}")/>
                    </svg>
                    {name}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="legend" aria-label="message colors">{items}</ul> }
}

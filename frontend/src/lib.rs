//! bank-sim's browser visualizer: watch a live cluster of bank branches,
//! drive it, and travel back in time through what happened.
//!
//! - [`api`]: the only grpc-web code (`Lab` and `Customer` services, same
//!   origin), every RPC through one call path.
//! - [`state`]: small contexts (playback, server, customer, settings, focus)
//!   and the `Watch` loop that feeds them; each holds the actions that change it.
//! - [`model`]: plain Rust without a DOM: trace replay, layout, formatting,
//!   and the browser's customer session (a `bank_core::Session`).
//! - [`components`]: one leptos component per file, each asking only for the
//!   contexts it reads.
//!
//! The rules are `bank_core`'s: money, session guarantees, write sets and a
//! customer's session are not written again here. Proto messages and core
//! values meet only in `bank_proto::convert`, as in the backend.
//!
//! `main.rs` only calls [`mount`], so tests can load this library without
//! starting the app.

pub mod api;
pub mod components;
pub mod model;
pub mod state;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Api;
use crate::components::{
    compare_panel::ComparePanel, controls::Controls, customer_panel::CustomerPanel,
    details::Details, diagram::SpaceTimeDiagram, event_log::EventLog, fault_bar::FaultBar,
    graph::Graph, output_panel::OutputPanel, scenario_panel::ScenarioPanel,
    state_table::StateTable, timeline::Timeline, violations_panel::ViolationsPanel,
};
use crate::model::embed::{self, EmbedView, PageParams, ScenarioSource};
use crate::model::format;
use crate::state::{context, playback::Playback, server::Server, settings::Settings, watch, State};

/// Mounts the app on `<body>` (called by `main.rs` only).
pub fn mount() {
    leptos::mount::mount_to_body(App);
}

/// The whole page: the full lab, or only the graph (and/or the space-time
/// diagram) and the controls in embed mode (`?embed=1&view=both&scenario=...`).
#[component]
pub fn App() -> impl IntoView {
    let params = page_params();
    let state = State::new(Api::same_origin());
    state.provide();

    spawn_local(watch::watch_forever(state));
    let scenario = params.scenario.clone();
    let (settings, server) = (state.settings, state.server);
    spawn_local(async move {
        if let Err(error) = settings.fetch_examples().await {
            server.tell(error.to_string());
        }
        if let Some(value) = scenario {
            start_with_scenario(settings, server, &value);
        }
    });
    components::controls::install_keyboard(state.playback);

    if params.embed {
        // `&view=`: the graph, the space-time diagram, or both.
        let view = params.view;
        view! {
            <main class="embed" class:embed-both=view == EmbedView::Both data-testid="embed-root">
                <h1 class="visually-hidden">"bank-sim"</h1>
                <Notice/>
                <div class="embed-views">
                    {view.shows_graph().then(|| view! { <Graph/> })}
                    {view.shows_diagram().then(|| view! { <SpaceTimeDiagram/> })}
                </div>
                <Controls/>
                <Timeline/>
            </main>
        }
        .into_any()
    } else {
        view! {
            <div class="app" data-testid="app-root">
                <header class="top">
                    <h1>"bank-sim"</h1>
                    <ScenarioTitle/>
                    <Notice/>
                </header>
                <main class="layout">
                    <section class="stage">
                        <Graph/>
                        <FaultBar/>
                        <Controls/>
                        <Timeline/>
                        <SpaceTimeDiagram/>
                    </section>
                    <aside class="side">
                        <ScenarioPanel/>
                        <CustomerPanel/>
                        <Details/>
                    </aside>
                    <section class="panels">
                        <EventLog/>
                        <ViolationsPanel/>
                        <StateTable/>
                        <OutputPanel/>
                        <ComparePanel/>
                    </section>
                </main>
            </div>
        }
        .into_any()
    }
}

/// The loaded scenario's name, format and schedule.
#[component]
fn ScenarioTitle() -> impl IntoView {
    let playback = context::<Playback>();
    let title = move || {
        playback.trace.with(|t| {
            t.scenario().map(|s| {
                let name = if s.name.is_empty() { "scenario" } else { s.name.as_str() };
                let format = format::output_format(s.format);
                let schedule = format::schedule(s.schedule);
                format!("{name} · format {format} · schedule {schedule}")
            })
        })
    };
    view! { <p class="scenario-title">{move || title().unwrap_or_else(|| "no scenario loaded".into())}</p> }
}

/// Connection problems and API errors.
#[component]
fn Notice() -> impl IntoView {
    let server = context::<Server>();
    move || {
        server.notice.get().map(|message| {
            view! {
                <div class="notice" role="status">
                    <span>{message}</span>
                    <button on:click=move |_| server.notice.set(None) aria-label="dismiss">
                        "×"
                    </button>
                </div>
            }
        })
    }
}

fn page_params() -> PageParams {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    embed::parse_query(&search)
}

/// Loads the scenario named by `?scenario=`: a shipped example or base64 text.
fn start_with_scenario(settings: Settings, server: Server, value: &str) {
    let names =
        settings.examples.with_untracked(|e| e.iter().map(|e| e.name.clone()).collect::<Vec<_>>());
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match embed::scenario_source(value, &names) {
        Ok(ScenarioSource::Example(name)) => settings.load_example(&name),
        Ok(ScenarioSource::Text(text)) => settings.load(text, "from link".into()),
        Err(error) => server.tell(error.to_string()),
    }
}

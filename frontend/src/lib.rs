//! bank-sim's browser visualizer: watch a live cluster of bank branches,
//! drive it, and travel back in time through what happened.
//!
//! - [`engine`]: the one boundary to what runs the bank: the live lab over
//!   grpc-web, or bank-core's simulator in this page (a static `dist/`).
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
pub mod engine;
pub mod model;
pub mod state;

use leptos::prelude::*;
use leptos::task::spawn_local;

use bank_proto::OpenReply;

use crate::api::ApiError;
use crate::components::invariants_strip::InvariantsStrip;
use crate::components::{
    compare_panel::ComparePanel,
    controls::Controls,
    customer_panel::CustomerPanel,
    details::Details,
    diagram::SpaceTimeDiagram,
    engine_badge::EngineBadge,
    event_log::EventLog,
    fault_bar::FaultBar,
    grade_panel::GradePanel,
    graph::Graph,
    output_panel::OutputPanel,
    present::{PresentCaption, PresentToggle, Presenting},
    scenario_about::ScenarioAbout,
    scenario_panel::ScenarioPanel,
    session_panel::SessionPanel,
    share::ShareFollow,
    share_run::ShareRun,
    state_table::StateTable,
    timeline::Timeline,
    violations_panel::ViolationsPanel,
};
use crate::engine::{choose, Engine};
use crate::model::embed::{self, EmbedView, PageParams, ScenarioSource};
use crate::model::format;
use crate::model::permalink::{self, Permalink};
use crate::state::landing::Landing;
use crate::state::{context, playback::Playback, server::Server, settings::Settings, watch, State};

/// Mounts the app on `<body>` (called by `main.rs` only).
pub fn mount() {
    leptos::mount::mount_to_body(App);
}

/// The whole page: first the lab it shows is opened (a new one, the one in
/// `?lab=`, or the one `?follow=` follows); then the full lab, or only the
/// graph (and/or the space-time diagram) and the controls in embed mode
/// (`?embed=1&view=both&scenario=...`), with the "Check a submission"
/// panel under them if `&check=1`. A server that cannot give a lab says
/// why in the page.
#[component]
pub fn App() -> impl IntoView {
    let params = page_params();
    let opening = RwSignal::new_local(None::<Result<OpenedLab, ApiError>>);
    let asked = params.clone();
    spawn_local(async move {
        let search = web_sys::window().and_then(|w| w.location().search().ok());
        let params = choose::EngineParams {
            static_site: choose::built_for_static_host(),
            ..choose::EngineParams::parse(&search.unwrap_or_default())
        };
        let engine = choose::choose(&params).await;
        opening.set(Some(open_lab(engine, &asked).await))
    });
    move || match opening.get() {
        None => view! {
            <main class="opening">
                <p role="status" data-testid="opening">"Opening a lab…"</p>
            </main>
        }
        .into_any(),
        Some(Ok(opened)) => view! { <LabPage params=params.clone() opened/> }.into_any(),
        Some(Err(error)) => view! { <LabRefused error/> }.into_any(),
    }
}

/// The lab this page shows, as `Open` answered (a simulated lab is always
/// new, and this page's own).
#[derive(Clone, Debug, PartialEq)]
struct OpenedLab {
    /// The engine, for this lab.
    engine: Engine,
    reply: OpenReply,
    /// A new lab (so `?scenario=` is loaded into it), not one come back to.
    fresh: bool,
    /// Something to tell the viewer (the lab of the link was gone).
    notice: Option<String>,
}

/// Opens the lab the query string asks for: follows `?follow=`, comes back
/// to `?lab=` (a new lab if that one is gone), else a new one. In the
/// simulator, always a new one of this page's own.
async fn open_lab(engine: Engine, params: &PageParams) -> Result<OpenedLab, ApiError> {
    let api = match engine {
        Engine::Live(api) => api,
        Engine::Sim(_) => {
            let notice = (params.follow.is_some() || params.lab.is_some()).then(|| {
                format!(
                    "{} This is a new lab, simulated in your browser.",
                    components::engine_badge::LIVE_ONLY
                )
            });
            return Ok(OpenedLab { engine, reply: OpenReply::default(), fresh: true, notice });
        }
    };
    let opened = |reply: OpenReply, fresh, notice| {
        let engine = Engine::Live(api.for_lab(&reply));
        OpenedLab { engine, reply, fresh, notice }
    };
    if let Some(follow) = &params.follow {
        let reply = api.open(String::new(), follow.clone()).await?;
        return Ok(opened(reply, false, None));
    }
    let mut notice = None;
    if let Some(lab) = &params.lab {
        match api.open(lab.clone(), String::new()).await {
            Ok(reply) => return Ok(opened(reply, false, None)),
            Err(error)
                if error.is_gone()
                    || matches!(&error, ApiError::Refused { code, .. } if code == "InvalidArgument") =>
            {
                notice = Some(format!("{} This is a new lab.", error.message()));
            }
            Err(error) => return Err(error),
        }
    }
    let reply = api.open(String::new(), String::new()).await?;
    Ok(opened(reply, true, notice))
}

/// Puts `?lab=<id>` into the page's address (keeping every other
/// parameter), without a new history entry: a reload comes back to it.
fn remember_lab(lab_id: &str) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let search = location.search().unwrap_or_default();
    let wanted = embed::with_param(&search, "lab", Some(lab_id));
    if wanted != search {
        let path = location.pathname().unwrap_or_default();
        let hash = location.hash().unwrap_or_default();
        if let Ok(history) = window.history() {
            let url = format!("{path}{wanted}{hash}");
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}

/// Why the server gave this page no lab, in its words: a limit
/// (`data-testid="lab-limit"`), or the lab of a follow link is gone.
#[component]
fn LabRefused(error: ApiError) -> impl IntoView {
    let (testid, heading) = if error.is_limit() {
        ("lab-limit", "This server is full")
    } else if error.is_gone() {
        ("lab-gone", "This lab has stopped")
    } else {
        ("lab-unavailable", "No lab")
    };
    let reload = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <main class="lab-refused" data-testid=testid>
            <h1>"bank-sim"</h1>
            <div role="alert">
                <h2>{heading}</h2>
                <p data-testid="lab-refused-message">{error.message()}</p>
            </div>
            <button on:click=reload>"Try again"</button>
        </main>
    }
}

/// The page over its open lab.
#[component]
fn LabPage(params: PageParams, opened: OpenedLab) -> impl IntoView {
    let live = matches!(opened.engine, Engine::Live(_));
    let state = State::new(opened.engine.clone());
    let server = state.server;
    if live {
        server.follow_id.set_value(Some(opened.reply.follow_id.clone()));
        if !server.read_only {
            remember_lab(&opened.reply.lab_id);
        }
    }
    if let Some(notice) = opened.notice {
        server.tell(notice);
    }
    if live && !opened.fresh {
        state.playback.follow_live.set_value(true);
    }
    state.provide();
    let landing = Landing::new();
    provide_context(landing);

    spawn_local(watch::watch_forever(state));
    // `?scenario=` starts a new lab; a lab come back to (or followed) keeps its own.
    let scenario = params.scenario.clone().filter(|_| opened.fresh && !server.read_only);
    let settings = state.settings;
    // A permalink's settings go with its load; its cursor is replayed to.
    let link = Permalink::parse(&page_search());
    let ignored = Permalink::ignored(&page_search());
    if !ignored.is_empty() {
        // Said before the load: an error of the load itself replaces it.
        server.tell(format!("Ignored in this link: {}.", ignored.join("; ")));
    }
    if scenario.is_some() {
        settings.guarantee_choice.set(link.guarantees);
        settings.propagation_choice.set(link.propagation);
    }
    let playback = state.playback;
    spawn_local(async move {
        if let Err(error) = settings.fetch_examples().await {
            server.tell(error.to_string());
        }
        if let Some(value) = scenario {
            if start_with_scenario(settings, server, &value) {
                landing.replay(link, playback, server, settings);
                return;
            }
        }
        // A simulated lab starts empty: it opens with the first example, as
        // a server's lab opens with its starting scenario (also when the
        // link's scenario could not be read: the banner says why, and the
        // page shows what a live lab would).
        let first = settings.examples.with_untracked(|e| e.first().map(|e| e.name.clone()));
        if let Some(first) = first.filter(|_| !live) {
            settings.load_example(&first);
        }
    });
    components::controls::install_keyboard(state.playback);

    let following = move || {
        server.read_only.then(|| {
            view! {
                <p class="following" data-testid="following" role="status">
                    "Following someone else's lab, read-only: you see what its owner does, \
                     with your own cursor (\"Live\" jumps to the newest event)."
                </p>
            }
        })
    };
    // Presentation mode switches layouts in place (the state stays).
    let presenting = Presenting(RwSignal::new(params.present));
    provide_context(presenting);
    presenting.install_escape();
    let (embed, view, check) = (params.embed, params.view, params.check);
    move || {
        if presenting.0.get() {
            // `&view=` picks the views here too.
            view! {
                <main class="present" data-testid="present-root">
                    <header class="present-top">
                        <h1>"bank-sim"</h1>
                        <ScenarioTitle/>
                        <PresentToggle/>
                        <EngineBadge/>
                    </header>
                    <Notice/>
                    {following}
                    <div class="present-views" class:present-both=view == EmbedView::Both>
                        {chosen_views(view)}
                    </div>
                    <PresentCaption/>
                    <Controls/>
                    <Timeline/>
                </main>
            }
            .into_any()
        } else if embed {
            // `&view=`: the graph, the space-time diagram, or both.
            view! {
                <main class="embed" class:embed-both=view == EmbedView::Both data-testid="embed-root">
                    <h1 class="visually-hidden">"bank-sim"</h1>
                    <EngineBadge/>
                    <Notice/>
                    {following}
                    <div class="embed-views">{chosen_views(view)}</div>
                    <Controls/>
                    <Timeline/>
                    <ShareRun/>
                    <InvariantsStrip/>
                    {check.then(|| view! { <GradePanel/> })}
                </main>
            }
            .into_any()
        } else {
            view! {
                <div class="app" data-testid="app-root">
                    <header class="top">
                        <h1>"bank-sim"</h1>
                        <ScenarioTitle/>
                        {live.then(|| view! { <ShareFollow/> })}
                        <ShareRun/>
                        <PresentToggle/>
                        <EngineBadge/>
                        <Notice/>
                    </header>
                    {following}
                    <main class="layout">
                        // On a laptop's screen the graph and the diagram sit
                        // side by side, above the controls (style.css).
                        <section class="stage">
                            <div class="stage-views">
                                <Graph/>
                                <SpaceTimeDiagram/>
                            </div>
                            <FaultBar/>
                            <Controls/>
                            <Timeline/>
                            <InvariantsStrip/>
                        </section>
                        <aside class="side">
                            <ScenarioAbout/>
                            <ScenarioPanel/>
                            <CustomerPanel/>
                            <SessionPanel/>
                            <Details/>
                        </aside>
                        <section class="panels">
                            <EventLog/>
                            <ViolationsPanel/>
                            <StateTable/>
                            <OutputPanel/>
                            <ComparePanel/>
                            <GradePanel/>
                        </section>
                    </main>
                </div>
            }
            .into_any()
        }
    }
}

/// The graph, the space-time diagram, or both, as `&view=` asks (embed and
/// presentation mode).
fn chosen_views(view: EmbedView) -> impl IntoView {
    view! {
        {view.shows_graph().then(|| view! { <Graph/> })}
        {view.shows_diagram().then(|| view! { <SpaceTimeDiagram/> })}
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

fn page_search() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

fn page_params() -> PageParams {
    embed::parse_query(&page_search())
}

/// Loads the scenario named by `?scenario=`: a shipped example, base64
/// text, or a permalink's compressed text (`z.…`). False if the value is
/// none of these (the banner says why).
fn start_with_scenario(settings: Settings, server: Server, value: &str) -> bool {
    if let Some(unpacked) = permalink::uncompress_text(value) {
        return match unpacked {
            Ok(text) => {
                settings.load(text, "from link".into());
                true
            }
            Err(error) => {
                server.tell(error.to_string());
                false
            }
        };
    }
    let names =
        settings.examples.with_untracked(|e| e.iter().map(|e| e.name.clone()).collect::<Vec<_>>());
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match embed::scenario_source(value, &names) {
        Ok(ScenarioSource::Example(name)) => settings.load_example(&name),
        Ok(ScenarioSource::Text(text)) => settings.load(text, "from link".into()),
        Err(error) => {
            server.tell(error.to_string());
            return false;
        }
    }
    true
}

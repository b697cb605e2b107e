//! Share and export the run on the page:
//!
//! - **Copy link**: a permalink to this moment of this run (the scenario,
//!   the settings it ran with, the cursor and the view; see
//!   [`crate::model::permalink`]), copied to the clipboard and shown for
//!   copying by hand. Opening it replays the scenario on a fresh live
//!   cluster up to the cursor ([`crate::state::landing`]); the note under
//!   the button says that timing can differ, and after landing whether it did;
//!   faults and requests made from the page are not in the link, and a
//!   note says so when there were any ([`PageActions`]).
//! - **Export**: the run's history in the `bank check` format, the
//!   space-time diagram as a standalone SVG, and the course output JSON,
//!   each as a file download.
//!
//! Test ids: `copy-permalink`, `permalink`, `permalink-status`, `permalink-left-out`,
//! `export-history`, `export-diagram`, `export-output`.

use bank_core::branch::PropagationMode;
use bank_proto as pb;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::output_panel::copy_to_clipboard;
use crate::engine::EngineKind;
use crate::model::permalink::{self, PageActions, Permalink};
use crate::model::{embed, history_export};
use crate::state::landing::{Landing, LandingState};
use crate::state::{context, playback::Playback, server::Server, settings::Settings};

/// The copy-link button, the link, and the export buttons.
#[component]
pub fn ShareRun() -> impl IntoView {
    let playback = context::<Playback>();
    let settings = context::<Settings>();
    // The link and, for a long one, a warning that some servers refuse it.
    let link = RwSignal::new(None::<Result<(String, Option<String>), String>>);
    let copied = RwSignal::new(false);
    // What the link leaves out (faults and requests from this page).
    let left_out = RwSignal::new(None::<String>);
    let server = context::<Server>();
    let replays = match server.engine_kind() {
        EngineKind::Live { .. } => {
            "It reloads the scenario on a fresh live cluster and replays it to this moment: \
             message timing can differ."
        }
        EngineKind::Sim => {
            "It reloads the scenario and replays it to this moment in the simulator, which runs \
             it the same way every time."
        }
    };
    let copy = move |_| {
        left_out.set(
            playback
                .trace
                .with_untracked(|t| PageActions::of(t, playback.cursor.get_untracked()).note()),
        );
        let made = playback.trace.with_untracked(|t| {
            let cursor = playback.cursor.get_untracked();
            settings.examples.with_untracked(|examples| permalink_of(t, cursor, examples))
        });
        let made = made.and_then(|query| {
            let (url, target_len) = page_url(&query);
            Ok((url, permalink::check_length(target_len)?))
        });
        copied.set(made.as_ref().is_ok_and(|(url, _)| copy_to_clipboard(url)));
        link.set(Some(made));
    };
    let loaded = move || playback.trace.with(|t| t.scenario().is_some());
    // The cursor as a link counts it (for the tests and the curious).
    let visible = move || {
        let cursor = playback.cursor.get();
        playback.trace.with(|t| permalink::visible_count(t, cursor)).to_string()
    };
    let finished = move || playback.trace.with(|t| t.output().is_some());
    let name = move || {
        playback.trace.with_untracked(|t| {
            t.scenario()
                .map(|s| s.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "run".into())
        })
    };
    let export_history = move |_| {
        if let Some(text) = playback.trace.with_untracked(history_export::history_json) {
            download(&format!("{}-history.json", name()), "application/json", &text);
        }
    };
    let export_output = move |_| {
        if let Some(text) = playback.trace.with_untracked(|t| t.output().map(|(_, o)| o.to_owned()))
        {
            download(&format!("{}-output.json", name()), "application/json", &text);
        }
    };
    let export_diagram = move |_| match diagram_svg() {
        Some(svg) => download(&format!("{}-diagram.svg", name()), "image/svg+xml", &svg),
        None => link.set(Some(Err("open the space-time diagram first".into()))),
    };
    view! {
        <div
            class="share-run"
            role="group"
            aria-label="share and export this run"
            data-testid="share-run"
            data-visible-cursor=visible
        >
            <button
                data-testid="copy-permalink"
                on:click=copy
                disabled=move || !loaded()
                title="Copy a link to this moment of this run: the scenario, its settings, the cursor and the view"
            >
                "Copy link"
            </button>
            <button
                data-testid="export-history"
                on:click=export_history
                disabled=move || !loaded()
                title="Download the run's history in the `bank check` format"
            >
                "History"
            </button>
            <button
                data-testid="export-diagram"
                on:click=export_diagram
                disabled=move || !loaded()
                title="Download the space-time diagram as an SVG file"
            >
                "Diagram SVG"
            </button>
            <button
                data-testid="export-output"
                on:click=export_output
                disabled=move || !finished()
                title="Download the course output JSON (once every scripted event is answered)"
            >
                "Output JSON"
            </button>
            {move || {
                link.get()
                    .map(|made| match made {
                        Ok((url, long)) => {
                            view! {
                                <input
                                    data-testid="permalink"
                                    class="follow-link"
                                    readonly
                                    aria-label="link to this moment"
                                    prop:value=url
                                    on:focus=select_all
                                />
                                <span class="hint" aria-live="polite">
                                    {move || if copied.get() { "copied. " } else { "copy this link. " }}
                                    {replays}
                                </span>
                                {move || left_out.get().map(|note| {
                                    view! {
                                        <span class="hint warning" data-testid="permalink-left-out">
                                            {note}
                                        </span>
                                    }
                                })}
                                {long.map(|warning| {
                                    view! {
                                        <span class="hint warning" data-testid="permalink-long">
                                            {warning}
                                        </span>
                                    }
                                })}
                            }
                                .into_any()
                        }
                        Err(why) => view! { <span class="hint error" role="alert">{why}</span> }.into_any(),
                    })
            }}
            <LandingNote/>
        </div>
    }
}

/// What opening this page's permalink came to.
#[component]
fn LandingNote() -> impl IntoView {
    let landing = use_context::<Landing>();
    move || {
        landing.and_then(|l| l.state.get()).map(|state| {
            let (kind, text) = match state {
                LandingState::Replaying { .. } => {
                    ("replaying", "Replaying the linked run up to its moment…".to_owned())
                }
                // The number the timeline shows (the link counts without
                // play and pause, which a replay paces differently).
                LandingState::Landed { cursor, same, note, .. } => (
                    if same { "same" } else { "differs" },
                    format!("Landed at event {cursor} of the linked run. {note}"),
                ),
                LandingState::Short { note, .. } => ("short", note),
            };
            view! {
                <p class="hint landing" data-testid="permalink-status" data-state=kind role="status">
                    {text}
                </p>
            }
        })
    }
}

/// The permalink query of the run in `trace` at `cursor`: the scenario by
/// name when it is an unchanged shipped example, else its text (`text`,
/// the last one this page loaded) compressed.
fn permalink_of(
    trace: &crate::model::trace::Trace,
    cursor: usize,
    examples: &[pb::Example],
) -> Result<String, String> {
    let summary = trace.scenario().ok_or("load a scenario first")?;
    let shipped = examples.iter().find(|e| e.name == summary.name);
    let scenario = match (trace.scenario_text(), shipped) {
        (Some(text), _) => {
            permalink::scenario_value(text, &summary.name, shipped.map(|e| e.text.as_str()))
        }
        (None, Some(example)) => example.name.clone(),
        (None, None) => {
            return Err(
                "the server did not send the scenario's text, so it cannot go in a link".into()
            )
        }
    };
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let page = embed::parse_query(&search);
    let propagation = pb::PropagationMode::try_from(summary.propagation)
        .map_or(None, Option::<PropagationMode>::from);
    let link = Permalink {
        scenario: Some(scenario),
        guarantees: Some(bank_proto::convert::guarantees_or_course(summary.guarantees)),
        propagation,
        seed: Some(summary.seed),
        at: Some(permalink::visible_count(trace, cursor)),
        fingerprint: Some(permalink::fingerprint(trace, cursor)),
        embed: page.embed,
        view: page.view,
    };
    Ok(link.query())
}

/// This page's address with `query` instead of its own, and the length
/// of its path and query (what a server reads in its request line).
fn page_url(query: &str) -> (String, usize) {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return (String::new(), 0);
    };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    (format!("{origin}{path}{query}"), path.len() + query.len())
}

fn select_all(ev: leptos::ev::FocusEvent) {
    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
        input.select();
    }
}

/// Offers `text` as a file named `name` (a Blob behind an object URL,
/// clicked through a detached link, then revoked).
fn download(name: &str, mime: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Ok(anchor) =
        document.create_element("a").map(|a| a.unchecked_into::<web_sys::HtmlAnchorElement>())
    {
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
    }
    // The download has started by then; the URL only holds the Blob.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(30),
    );
}

/// The properties copied from the page's style sheet onto every element of
/// an exported diagram, so the file looks as the page does without it.
const STYLED: [&str; 12] = [
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-opacity",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "text-anchor",
    "dominant-baseline",
];

/// The space-time diagram (`data-testid="diagram"`) as a standalone SVG
/// document, its computed styles inlined; `None` when it is not shown.
fn diagram_svg() -> Option<String> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let live = document.query_selector("[data-testid=\"diagram\"]").ok()??;
    let copy = live.clone_node_with_deep(true).ok()?.dyn_into::<web_sys::Element>().ok()?;
    let live_all = live.query_selector_all("*").ok()?;
    let copy_all = copy.query_selector_all("*").ok()?;
    let pairs = std::iter::once((live.clone(), copy.clone())).chain(
        (0..live_all.length().min(copy_all.length())).filter_map(|i| {
            let a = live_all.item(i)?.dyn_into::<web_sys::Element>().ok()?;
            let b = copy_all.item(i)?.dyn_into::<web_sys::Element>().ok()?;
            Some((a, b))
        }),
    );
    for (live, copy) in pairs {
        let Ok(Some(style)) = window.get_computed_style(&live) else { continue };
        let inline: String = STYLED
            .iter()
            .filter_map(|p| {
                let v = style.get_property_value(p).ok()?;
                (!v.is_empty()).then(|| format!("{p}:{v};"))
            })
            .collect();
        let _ = copy.set_attribute("style", &inline);
    }
    let _ = copy.set_attribute("xmlns", "http://www.w3.org/2000/svg");
    Some(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", copy.outer_html()))
}

//! Choose what the cluster runs: a shipped example, an uploaded JSON file, or
//! text edited (or pasted) in the editor. Invalid scenarios show where.

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use bank_core::branch::PropagationMode;
use bank_core::experiment::propagation_name;
use bank_core::{Guarantee, Guarantees};
use bank_proto::convert::guarantees_or_course;
use bank_proto::ScenarioError;

use crate::model::{format, trace::Trace};
use crate::state::{context, playback::Playback, server::Server, settings::Settings};

#[component]
pub fn ScenarioPanel() -> impl IntoView {
    let settings = context::<Settings>();
    let playback = context::<Playback>();
    let server = context::<Server>();
    let picked = RwSignal::new(String::new());
    let editor = RwSignal::new(String::new());
    let editor_name = RwSignal::new(String::from("edited scenario"));

    // The picker and the editor show what was loaded, however it was (this
    // page, `?scenario=`, another page of the same lab): the example of
    // that name, or the text this page loaded. The editor is left alone
    // when it holds the person's own edits. Only a new history moves them:
    // the events of a run playing must not undo what the person just picked.
    let generation = Memo::new(move |_| playback.trace.with(Trace::generation));
    Effect::new(move |_| {
        // `get`: a memo only read by `track` is never computed.
        generation.get();
        let shown = playback.trace.with_untracked(|t| {
            t.scenario().map(|s| (s.name.clone(), t.scenario_text().map(str::to_owned)))
        });
        let Some((name, loaded_text)) = shown else { return };
        let example =
            settings.examples.with(|e| e.iter().find(|e| e.name == name).map(|e| e.text.clone()));
        let text = example.clone().or(loaded_text);
        picked.set(if example.is_some() { name.clone() } else { String::new() });
        let pristine = editor.with_untracked(|current| {
            current.is_empty()
                || settings.examples.with_untracked(|e| e.iter().any(|e| &e.text == current))
        });
        if let Some(text) = text.filter(|_| pristine) {
            editor.set(text);
            editor_name.set(name);
        }
    });
    let pick = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        let text = settings
            .examples
            .with_untracked(|e| e.iter().find(|e| e.name == name).map(|e| e.text.clone()));
        if let Some(text) = text {
            editor.set(text);
            editor_name.set(name.clone());
        }
        picked.set(name);
    };
    let load_example = move |_| {
        let name = picked.get_untracked();
        if name.is_empty() {
            settings.load_error.set(Some(ScenarioError {
                message: "choose an example first".into(),
                line: 0,
                column: 0,
            }));
        } else {
            settings.load_example(&name);
        }
    };
    // An example changed in the editor is not that example any more.
    let run_editor = move |_| {
        let (text, name) = (editor.get_untracked(), editor_name.get_untracked());
        let shipped = settings
            .examples
            .with_untracked(|e| e.iter().find(|e| e.name == name).map(|e| e.text == text));
        let name = if shipped == Some(false) { format!("{name} (edited)") } else { name };
        settings.load(text, name);
    };
    let upload = move |ev: leptos::ev::Event| {
        let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        let Some(input) = input else { return };
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        let name = file.name();
        spawn_local(async move {
            match JsFuture::from(file.text()).await {
                Ok(text) => {
                    let text = text.as_string().unwrap_or_default();
                    editor.set(text.clone());
                    editor_name.set(name.clone());
                    settings.load(text, name);
                }
                Err(_) => server.tell(format!("could not read {name}")),
            }
        });
    };

    let options = move || {
        settings
            .examples
            .get()
            .into_iter()
            .map(|e| {
                let label = if e.title.is_empty() {
                    e.name.clone()
                } else {
                    format!("{} — {}", e.name, e.title)
                };
                view! { <option value=e.name>{label}</option> }
            })
            .collect_view()
    };
    let error = move || {
        settings.load_error.get().map(|e| {
            let place = match (e.line, e.column) {
                (0, _) => String::new(),
                (line, 0) => format!("line {line}: "),
                (line, column) => format!("line {line}, column {column}: "),
            };
            view! {
                <p class="error" data-testid="scenario-error" role="alert">
                    {format!("{place}{}", e.message)}
                </p>
            }
        })
    };
    let warnings = move || {
        playback.trace.with(|t| {
            t.scenario()
                .map(|s| s.warnings.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|w| view! { <li>{w}</li> })
                .collect_view()
        })
    };

    view! {
        <section class="panel scenario-panel">
            <h2>"Scenario"</h2>
            <div class="row">
                <select
                    data-testid="scenario-picker"
                    aria-label="shipped examples"
                    prop:value=move || picked.get()
                    on:change=pick
                >
                    <option value="">"Choose an example…"</option>
                    {options}
                </select>
                <button
                    data-testid="load-example"
                    class="primary"
                    on:click=load_example
                    disabled=server.read_only
                    title=server.title("Load this example on a fresh cluster")
                >
                    "Load"
                </button>
            </div>
            <div class="row">
                <label class="upload">
                    "Upload JSON: "
                    <input
                        type="file"
                        data-testid="scenario-upload"
                        accept=".json,application/json,text/plain"
                        on:change=upload
                        disabled=server.read_only
                        title=server.title("Run a scenario file")
                    />
                </label>
            </div>
            <textarea
                data-testid="scenario-editor"
                aria-label="scenario JSON"
                spellcheck="false"
                rows="8"
                placeholder="Paste or edit a course input file (JSON) here"
                prop:value=move || editor.get()
                on:input=move |ev| editor.set(event_target_value(&ev))
            ></textarea>
            <div class="row">
                <button
                    data-testid="run-editor"
                    on:click=run_editor
                    disabled=move || server.read_only || settings.loading.get()
                    title=server.title("Run the text above on a fresh cluster")
                >
                    "Run this scenario"
                </button>
                {move || {
                    settings.loading.get().then(|| view! { <span class="hint">"loading…"</span> })
                }}
            </div>
            <GuaranteeSettings/>
            {error}
            <ul class="warnings">{warnings}</ul>
        </section>
    }
}

/// The four session guarantees (with "all" / "none" / the scenario's own)
/// and the propagation mode, sent with the next load or run.
#[component]
fn GuaranteeSettings() -> impl IntoView {
    let settings = context::<Settings>();
    let playback = context::<Playback>();
    // What the toggles show: the choice, else the loaded scenario's setting.
    let shown = move || {
        settings.guarantee_choice.get().unwrap_or_else(|| {
            playback.trace.with(Trace::scenario_guarantees).unwrap_or(Guarantees::NONE)
        })
    };
    let toggles = Guarantee::ALL
        .into_iter()
        .map(|guarantee| {
            let short = guarantee.short();
            let toggle = move |ev: leptos::ev::Event| {
                let on = event_target_checked(&ev);
                settings.guarantee_choice.set(Some(shown().with(guarantee, on)));
            };
            view! {
                <label class="toggle" title=guarantee.name()>
                    <input
                        type="checkbox"
                        data-testid=format!("guarantee-{short}")
                        prop:checked=move || shown().has(guarantee)
                        on:change=toggle
                    />
                    {short.to_uppercase()}
                </label>
            }
        })
        .collect_view();
    let choose = move |guarantees: Option<Guarantees>| settings.guarantee_choice.set(guarantees);
    let all = move |_| choose(Some(Guarantees::ALL));
    let none = move |_| choose(Some(Guarantees::NONE));
    let loaded = move || {
        playback.trace.with(|t| {
            t.scenario().map(|s| {
                format!(
                    "running: guarantees {}, propagation {}, seed {}",
                    guarantees_or_course(s.guarantees),
                    format::propagation(s.propagation),
                    s.seed
                )
            })
        })
    };
    view! {
        <fieldset class="settings" data-testid="settings">
            <legend>"Session guarantees (for the next load or run)"</legend>
            <div class="row">
                {toggles}
                <button data-testid="guarantees-all" on:click=all>"all"</button>
                <button data-testid="guarantees-none" on:click=none>"none"</button>
                <button data-testid="guarantees-scenario" on:click=move |_| choose(None)>
                    "scenario's"
                </button>
            </div>
            <label>
                "Propagation "
                <select
                    data-testid="propagation"
                    prop:value=move || {
                        settings.propagation_choice.get().map_or("", propagation_name)
                    }
                    on:change=move |ev| {
                        // The options' values are the core's names ("": the scenario's).
                        let value = event_target_value(&ev);
                        let named = |m: &PropagationMode| propagation_name(*m) == value;
                        let mode = PropagationMode::ALL.into_iter().find(named);
                        settings.propagation_choice.set(mode)
                    }
                >
                    <option value="">"scenario's"</option>
                    <option value="sequential">"sequential"</option>
                    <option value="parallel">"parallel"</option>
                    <option value="background">"background"</option>
                </select>
            </label>
            <p class="hint" data-testid="settings-in-use">{loaded}</p>
        </fieldset>
    }
}

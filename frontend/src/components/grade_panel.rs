//! "Check a submission": paste, drop or upload a student's output for the
//! loaded scenario and see `bank grade`'s report (exact ✓/✗, valid ✓/✗,
//! every problem on its line), graded in the page by the same
//! `bank_core::grade`. Each problem that names an event of the run is a
//! button: it moves the playback cursor to just after that event and
//! selects it, so the graph, the event log, the details panel and the
//! space-time diagram all show it.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use bank_core::grade::Grade;

use crate::components::keys::on_activate;
use crate::model::grade::{self as model, Checked, ReportLine};
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// What was graded: the submission's grade and the scenario text it was
/// graded against (a new scenario makes it stale).
#[derive(Clone, Debug, PartialEq)]
struct Graded {
    input: String,
    grade: Result<Grade, String>,
}

#[component]
pub fn GradePanel() -> impl IntoView {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let text = RwSignal::new(String::new());
    let name = RwSignal::new("submission.json".to_owned());
    let graded = RwSignal::new(None::<Graded>);
    let dragging = RwSignal::new(false);

    let check = move || {
        // The scenario shown, whoever loaded it (a follower grades against
        // the owner's).
        let input = playback.trace.with_untracked(|t| t.scenario_text().map(str::to_owned));
        let grade = match &input {
            None => Err("load a scenario first: the submission is checked against it".to_owned()),
            Some(input) => {
                text.with_untracked(|t| model::grade_text(input, &name.get_untracked(), t))
            }
        };
        graded.set(Some(Graded { input: input.unwrap_or_default(), grade }));
    };
    // A file's text into the box, then checked.
    let take_file = move |file: web_sys::File| {
        let file_name = file.name();
        spawn_local(async move {
            let read = JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string());
            match read {
                Some(content) => {
                    text.set(content);
                    name.set(file_name);
                    check();
                }
                None => graded.set(Some(Graded {
                    input: String::new(),
                    grade: Err(format!("could not read {file_name}")),
                })),
            }
        });
    };
    let upload = move |e: ev::Event| {
        let input = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(file) = input.and_then(|i| i.files()).and_then(|files| files.get(0)) {
            take_file(file);
        }
    };
    let drop = move |e: ev::DragEvent| {
        e.prevent_default();
        dragging.set(false);
        let file = e.data_transfer().and_then(|d| d.files()).and_then(|files| files.get(0));
        if let Some(file) = file {
            take_file(file);
        }
    };

    // The report, linked into the trace: again when a new history starts
    // or finishes (its events are the ones linked).
    let linked = Memo::new(move |_| {
        playback.trace.with(|t| (t.generation(), t.output().map(|(i, _)| i), !t.is_empty()))
    });
    let report = Memo::new(move |_| {
        linked.track();
        graded.with(|g| {
            g.as_ref().map(|g| {
                // `linked` is tracked: a new history re-runs this.
                let stale = playback
                    .trace
                    .with_untracked(|t| t.scenario_text().is_none_or(|shown| shown != g.input));
                let checked = g
                    .grade
                    .as_ref()
                    .map(|grade| playback.trace.with_untracked(|t| model::checked(grade, t)))
                    .map_err(Clone::clone);
                (stale, checked)
            })
        })
    });

    let result = move || {
        report.get().map(|(stale, checked)| match checked {
            Err(message) => {
                view! { <p class="error" role="alert" data-testid="grade-error">{message}</p> }
                    .into_any()
            }
            Ok(checked) => view! { <Report checked stale playback focus/> }.into_any(),
        })
    };

    view! {
        <section class="panel grade-panel" data-testid="grade-panel" aria-labelledby="grade-title">
            <h2 id="grade-title">"Check a submission"</h2>
            <p class="hint">
                "A student's output for the loaded scenario, checked the way `bank grade` does: \
                 exact (equal to what bank-sim prints) and valid (what some legal run gives)."
            </p>
            <textarea
                data-testid="grade-input"
                aria-label="the student's output (JSON); paste it or drop a file here"
                spellcheck="false"
                rows="6"
                placeholder="Paste a student's output here, or drop its file"
                class:dragging=move || dragging.get()
                prop:value=move || text.get()
                on:input=move |e| text.set(event_target_value(&e))
                on:dragover=move |e: ev::DragEvent| {
                    e.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=drop
            ></textarea>
            <div class="row">
                <button
                    data-testid="grade-check"
                    class="primary"
                    on:click=move |_| check()
                    disabled=move || text.with(|t| t.trim().is_empty())
                >
                    "Check"
                </button>
                <label>
                    "or upload: "
                    <input
                        type="file"
                        data-testid="grade-upload"
                        accept=".json,.jsonl,.txt,application/json,text/plain"
                        on:change=upload
                    />
                </label>
            </div>
            <div aria-live="polite">{result}</div>
        </section>
    }
}

/// The verdicts and every line of the report.
#[component]
fn Report(checked: Checked, stale: bool, playback: Playback, focus: Focus) -> impl IntoView {
    let mark = |ok: bool| if ok { "✓" } else { "✗" };
    let (problems, differences): (Vec<ReportLine>, Vec<ReportLine>) =
        checked.lines.into_iter().partition(|l| !l.difference);
    let count = differences.len();
    let list = move |lines: Vec<ReportLine>, testid: &'static str| {
        let items = lines
            .into_iter()
            .map(|line| view! { <li><ProblemLine line playback focus/></li> })
            .collect_view();
        view! { <ul class="grade-lines" data-testid=testid>{items}</ul> }
    };
    view! {
        <div class="grade-report" data-testid="grade-report">
            {stale.then(|| view! {
                <p class="hint" data-testid="grade-stale">
                    "Another scenario is loaded now: check again to grade against it."
                </p>
            })}
            <p class="grade-verdicts">
                <span class="verdict" class:ok=checked.exact data-testid="grade-exact">
                    {format!("exact {}", mark(checked.exact))}
                </span>
                <span class="verdict" class:ok=checked.valid data-testid="grade-valid">
                    {format!("valid {}", mark(checked.valid))}
                </span>
            </p>
            <p class="hint" data-testid="grade-summary">{checked.summary}</p>
            {(problems.is_empty() && !checked.unreadable).then(|| view! {
                <p class="hint">"No problem: some legal execution of the scenario gives this output."</p>
            })}
            {list(problems, "grade-problems")}
            {(count > 0).then(|| view! {
                <details class="grade-differences">
                    <summary>{format!("{count} difference(s) from bank-sim's own output")}</summary>
                    {list(differences, "grade-differences")}
                </details>
            })}
        </div>
    }
}

/// One problem; a button to its event when the trace has it.
#[component]
fn ProblemLine(line: ReportLine, playback: Playback, focus: Focus) -> impl IntoView {
    let kind = line.kind.as_str();
    let Some(index) = line.event else {
        return view! {
            <p class="grade-line" data-testid="grade-problem" data-kind=kind>{line.text}</p>
        }
        .into_any();
    };
    let this = Some(Selection::Event(index));
    let go = move || {
        if playback.playing.get_untracked() {
            playback.pause();
        }
        playback.seek(index + 1);
        focus.selected.set(this);
    };
    let keydown = on_activate(go);
    let selected = move || focus.selected.get() == this;
    view! {
        <button
            class="grade-line linked"
            class:selected=selected
            data-testid="grade-problem"
            data-kind=kind
            data-event=index
            title=format!("show event {} of the run", index + 1)
            on:click=move |_| go()
            on:keydown=keydown
            on:mouseenter=move |_| focus.hovered.set(this)
            on:mouseleave=move |_| focus.hovered.set(None)
        >
            {line.text}
        </button>
    }
    .into_any()
}

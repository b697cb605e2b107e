//! The customers' sessions at the cursor: for each one (the browser's too)
//! the guarantees it asks for, its write and read sets in the compact
//! notation and in words, and every request with what its guarantees
//! required; a parked request says what its branch lacked, from which
//! origin, for which guarantee, and when it was released or refused.
//!
//! Test ids: `session-panel`, `session-<key>` (key `customer-<session>` or
//! `browser`), `session-writes-<key>`, `session-reads-<key>`,
//! `session-request-<key>-<event>`, `session-parked-<key>-<event>`.

use leptos::prelude::*;

use crate::model::session_words as words;
use crate::model::sessions::{RequestView, SessionView, Sessions};
use crate::state::{
    context,
    focus::{Focus, Selection},
    playback::Playback,
};

/// Requests listed per session at most (the newest ones).
const MAX_REQUESTS: usize = 40;

#[component]
pub fn SessionPanel() -> impl IntoView {
    let playback = context::<Playback>();
    // Replayed forward with the cursor, like the world.
    let shown =
        Memo::new(move |_| (playback.trace.with(|t| t.generation()), playback.cursor.get()));
    let sessions = Memo::new(move |previous: Option<&Sessions>| {
        let (_, cursor) = shown.get();
        playback.trace.with_untracked(|t| match previous {
            Some(s) => s.advanced(t, cursor),
            None => Sessions::at(t, cursor),
        })
    });
    let body = move || {
        sessions.with(|s| {
            if s.sessions.is_empty() {
                return view! { <p class="hint">"No customer session yet: load a scenario."</p> }
                    .into_any();
            }
            s.sessions.iter().map(session_view).collect_view().into_any()
        })
    };
    view! {
        <section class="panel session-panel" data-testid="session-panel" aria-labelledby="session-panel-title">
            <h2 id="session-panel-title">"Customer sessions"</h2>
            <p class="hint">
                "What each customer carries to every branch: its write set (writes acknowledged to it) \
                 and read set (writes its reads saw), as they are at the cursor."
            </p>
            {body}
        </section>
    }
}

fn session_view(session: &SessionView) -> impl IntoView + use<> {
    let key = session.key();
    let (writes, writes_words) = words::set_forms(session.session.write_set());
    let (reads, reads_words) = words::set_forms(session.session.read_set());
    let total = session.requests.len();
    let skipped = total.saturating_sub(MAX_REQUESTS);
    let requests =
        session.requests.iter().skip(skipped).map(|r| request_view(&key, r)).collect_view();
    let waiting = session.requests.iter().filter(|r| r.is_waiting()).count();
    view! {
        <details class="session" data-testid=format!("session-{key}") open>
            <summary>
                <strong>{words::session_title(session)}</strong>
                " asks for "
                {words::guarantee_names(session.guarantees)}
                {(waiting > 0).then(|| view! { <span class="badge parked">{format!("{waiting} parked")}</span> })}
            </summary>
            <dl class="session-sets">
                <dt>"write set"</dt>
                <dd data-testid=format!("session-writes-{key}")>
                    <code>{writes}</code>
                    " "
                    <span class="words">{writes_words}</span>
                </dd>
                <dt>"read set"</dt>
                <dd data-testid=format!("session-reads-{key}")>
                    <code>{reads}</code>
                    " "
                    <span class="words">{reads_words}</span>
                </dd>
            </dl>
            {(skipped > 0).then(|| view! { <p class="hint">{format!("the last {MAX_REQUESTS} of {total} requests:")}</p> })}
            <ol class="session-requests">{requests}</ol>
        </details>
    }
}

fn request_view(key: &str, request: &RequestView) -> impl IntoView + use<> {
    let playback = context::<Playback>();
    let focus = context::<Focus>();
    let sent_at = request.sent_at;
    let go = move |_| {
        playback.seek(sent_at + 1);
        focus.selected.set(Some(Selection::Event(sent_at)));
    };
    let parked = request.parked.as_ref().map(|parked| {
        let class = if parked.ended.is_none() { "parked waiting" } else { "parked" };
        let at = parked.at;
        let go_parked = move |_| {
            playback.seek(at + 1);
            focus.selected.set(Some(Selection::Event(at)));
        };
        view! {
            <p class=class data-testid=format!("session-parked-{key}-{}", request.event.0)>
                {words::parked_sentence(request, parked)}
                " "
                <button class="link" on:click=go_parked title="move the cursor to the moment it was parked">
                    "show"
                </button>
            </p>
        }
    });
    view! {
        <li data-testid=format!("session-request-{key}-{}", request.event.0)>
            <button class="link" on:click=go title="move the cursor to this request">
                {format!("#{}", request.event.0)}
            </button>
            " "
            {words::request_title(request)}
            " · asked for "
            <abbr title=words::guarantee_names(request.guarantees)>{words::guarantee_shorts(request.guarantees)}</abbr>
            " · "
            {words::required_sentence(request)}
            " · "
            {words::answer_sentence(request)}
            {parked}
        </li>
    }
}

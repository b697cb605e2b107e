//! Play / pause / step / restart, the speed slider, the server's play state,
//! and the keyboard shortcuts (space, ←, →). In the simulator, "To the end"
//! plays the rest of the run at once (`run-to-end`).

use leptos::{ev, prelude::*};
use wasm_bindgen::JsCast;

use bank_proto::PlayState;

use crate::engine::EngineKind;
use crate::model::format;
use crate::state::{
    context,
    playback::{Playback, SPEED_MAX, SPEED_MIN},
    server::Server,
};

#[component]
pub fn Controls() -> impl IntoView {
    let playback = context::<Playback>();
    let server = context::<Server>();
    let state = move || format::play_state(server.play_state.get());
    // The simulator can play the rest at once; the cursor follows the new
    // events to the run's end.
    let simulated = server.engine_kind() == EngineKind::Sim && !server.read_only;
    let finished = move || server.play_state.get() == PlayState::Finished;
    let to_the_end = move |_| {
        playback.pause();
        playback.seek_end();
        playback.follow_live.set_value(true);
        server.to_the_end();
    };
    let speed_text = move || {
        let s = playback.speed.get();
        if s.fract() == 0.0 {
            format!("{s:.0}×")
        } else {
            format!("{s}×")
        }
    };
    view! {
        <div class="controls" role="toolbar" aria-label="playback">
            <button
                data-testid="restart"
                on:click=move |_| playback.restart()
                disabled=server.read_only
                title=server.title("Restart: a fresh cluster, paused at the start")
            >
                <Icon path=RESTART/> <span class="label">"Restart"</span>
            </button>
            <button
                data-testid="step-back"
                on:click=move |_| playback.step_back()
                title="Step back one event (←)"
            >
                <Icon path=BACK/> <span class="label">"Back"</span>
            </button>
            <button
                data-testid="play"
                class="primary"
                class:on=move || playback.playing.get()
                aria-pressed=move || playback.playing.get().to_string()
                on:click=move |_| playback.play()
                title="Play (space)"
            >
                <Icon path=PLAY/> <span class="label">"Play"</span>
            </button>
            <button
                data-testid="pause"
                class:on=move || !playback.playing.get()
                on:click=move |_| playback.pause()
                title="Pause (space)"
            >
                <Icon path=PAUSE/> <span class="label">"Pause"</span>
            </button>
            <button
                data-testid="step-forward"
                on:click=move |_| playback.step_forward()
                title="Step forward one event (→); at the end, the server sends one more customer event"
            >
                <Icon path=STEP/> <span class="label">"Step"</span>
            </button>
            <button
                data-testid="jump-end"
                on:click=move |_| playback.seek_end()
                title="Jump to the newest event"
            >
                <Icon path=END/> <span class="label">"Live"</span>
            </button>
            {simulated.then(|| {
                view! {
                    <button
                        data-testid="run-to-end"
                        on:click=to_the_end
                        disabled=finished
                        title="Play the rest of the run at once and show its end (the simulator needs no waiting; a live cluster keeps its real timing)"
                    >
                        <Icon path=END/> <span class="label">"To the end"</span>
                    </button>
                }
            })}
            <label class="speed">
                <span>"Speed"</span>
                <input
                    type="range"
                    data-testid="speed"
                    min=SPEED_MIN
                    max=SPEED_MAX
                    step="0.25"
                    prop:value=move || playback.speed.get().to_string()
                    on:change=move |ev| {
                        if let Ok(speed) = event_target_value(&ev).parse::<f64>() {
                            playback.set_speed(speed);
                        }
                    }
                    on:input=move |ev| {
                        if let Ok(speed) = event_target_value(&ev).parse::<f64>() {
                            playback.speed.set(speed);
                        }
                    }
                />
                <output>{speed_text}</output>
            </label>
            <span class="play-state-box" title="the server's play state">
                "server: "
                <span class=move || format!("play-state state-{}", state()) data-testid="play-state">
                    {state}
                </span>
            </span>
        </div>
    }
}

// Button icons as SVG paths (24×24): font glyphs such as ⏸ are missing on
// many systems.
const PLAY: &str = "M7 4l13 8-13 8z";
const PAUSE: &str = "M6 4h4v16H6zM14 4h4v16h-4z";
const STEP: &str = "M5 4l10 8-10 8zM16 4h3v16h-3z";
const BACK: &str = "M19 4L9 12l10 8zM5 4h3v16H5z";
const END: &str = "M3 4l8 8-8 8zM11 4l8 8-8 8zM19 4h2v16h-2z";
const RESTART: &str = "M12 5V1L6.5 6 12 11V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z";

#[component]
fn Icon(path: &'static str) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d=path fill="currentColor"/>
        </svg>
    }
}

/// Space toggles play/pause, → steps forward, ← steps back; not while typing
/// in a field.
pub fn install_keyboard(playback: Playback) {
    let typing = |target: Option<web_sys::EventTarget>| {
        target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
            matches!(el.tag_name().to_ascii_lowercase().as_str(), "input" | "textarea" | "select")
                || el.get_attribute("contenteditable").is_some()
        })
    };
    let is_button = |target: Option<web_sys::EventTarget>| {
        target
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| el.tag_name() == "BUTTON")
    };
    let keydown = window_event_listener(ev::keydown, move |e| {
        if e.alt_key() || e.ctrl_key() || e.meta_key() || typing(e.target()) {
            return;
        }
        match e.key().as_str() {
            " " | "Spacebar" => {
                e.prevent_default();
                playback.toggle_play();
            }
            "ArrowRight" => {
                e.prevent_default();
                playback.step_forward();
            }
            "ArrowLeft" => {
                e.prevent_default();
                playback.step_back();
            }
            _ => {}
        }
    });
    // A focused button would also "click" on the space key's release.
    let keyup = window_event_listener(ev::keyup, move |e| {
        if e.key() == " " && is_button(e.target()) {
            e.prevent_default();
        }
    });
    // The listeners live as long as the page.
    std::mem::forget((keydown, keyup));
}

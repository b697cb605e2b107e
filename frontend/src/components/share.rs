//! "Share to follow": a link to this lab that opens it read-only
//! (`?follow=<follow id>`, the same view otherwise), copied to the
//! clipboard and shown for copying by hand.

use leptos::prelude::*;

use crate::components::output_panel::copy_to_clipboard;
use crate::model::embed;
use crate::state::{context, server::Server};

#[component]
pub fn ShareFollow() -> impl IntoView {
    let server = context::<Server>();
    let link = RwSignal::new(None::<String>);
    let copied = RwSignal::new(false);
    let share = move |_| {
        let Some(id) = server.follow_id.get_value() else { return };
        let url = follow_url(&id);
        copied.set(copy_to_clipboard(&url));
        link.set(Some(url));
    };
    view! {
        <span class="share">
            <button
                data-testid="share-follow"
                on:click=share
                title="Copy a link that follows this lab, read-only: each follower has their own cursor"
            >
                "Share to follow"
            </button>
            {move || {
                link.get()
                    .map(|url| {
                        view! {
                            <input
                                data-testid="follow-link"
                                class="follow-link"
                                readonly
                                aria-label="follow link"
                                prop:value=url
                                on:focus=move |ev| {
                                    use wasm_bindgen::JsCast;
                                    if let Some(input) = ev
                                        .target()
                                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                                    {
                                        input.select();
                                    }
                                }
                            />
                            <span class="hint" aria-live="polite">
                                {move || if copied.get() { "copied" } else { "copy this link" }}
                            </span>
                        }
                    })
            }}
        </span>
    }
}

/// This page's address, following the lab `follow_id` instead.
fn follow_url(follow_id: &str) -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return String::new() };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    format!("{origin}{path}{}", embed::follow_query(&search, follow_id))
}

//! Which engine the page runs on.
//!
//! `?engine=live` or `?engine=sim` decides. Otherwise the page asks the lab
//! server (its own origin, or `?server=URL`) for its examples, and takes
//! the live lab if it answers within [`PROBE`]; a page on a static host
//! (no `Lab` service behind it) falls back to the simulator.
//!
//! A page built by `cargo xtask site` says so in its `<head>`
//! ([`SITE_META`]): it is meant for a static host, so without `?engine=` or
//! `?server=` it starts on the simulator at once, without a probe the host
//! would answer with a 404 or 501 (an error in the browser's console, and up
//! to [`PROBE`] of waiting).

use std::time::Duration;

use futures::future::{select, Either};
use futures::FutureExt;

use super::{sim::SimLab, Engine};
use crate::api::{Api, ApiError};
use crate::model::embed;

/// How long the probe of the lab server may take.
pub const PROBE: Duration = Duration::from_millis(1500);

/// What the query string asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineParams {
    /// `?engine=live|sim`; `None`: probe.
    pub forced: Option<Forced>,
    /// `?server=URL`: the lab server, when it is not the page's origin.
    pub server: Option<String>,
    /// The page was built for a static host ([`SITE_META`]).
    pub static_site: bool,
}

/// The `<meta>` `cargo xtask site` puts in the page's `<head>`.
pub const SITE_META: &str = r#"<meta name="bank-site" content="static">"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forced {
    Live,
    Sim,
}

impl EngineParams {
    /// Reads `engine` and `server` from a query string (`?a=b&...`).
    pub fn parse(search: &str) -> EngineParams {
        let mut params = EngineParams::default();
        for pair in search.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "engine" => {
                    params.forced = match value {
                        "live" => Some(Forced::Live),
                        "sim" => Some(Forced::Sim),
                        _ => None,
                    }
                }
                "server" => {
                    let url = embed::percent_decode(value);
                    params.server =
                        Some(url.trim_end_matches('/').to_owned()).filter(|s| !s.is_empty());
                }
                _ => {}
            }
        }
        params
    }

    /// The lab server to use or probe.
    fn api(&self) -> Api {
        match &self.server {
            Some(url) => Api::new(url.clone()),
            None => Api::same_origin(),
        }
    }
}

/// The engine for the page (see the module docs).
pub async fn choose(params: &EngineParams) -> Engine {
    let api = params.api();
    match params.forced {
        Some(Forced::Live) => Engine::Live(api),
        Some(Forced::Sim) => Engine::Sim(SimLab::default()),
        None if params.static_site && params.server.is_none() => Engine::Sim(SimLab::default()),
        None => {
            if answers(&api).await {
                Engine::Live(api)
            } else {
                Engine::Sim(SimLab::default())
            }
        }
    }
}

/// Whether this page carries [`SITE_META`].
pub fn built_for_static_host() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(r#"meta[name="bank-site"][content="static"]"#).ok())
        .flatten()
        .is_some()
}

/// Whether `api`'s `Lab` service answers within [`PROBE`].
async fn answers(api: &Api) -> bool {
    let call = api.examples().boxed_local();
    let deadline = super::timer::sleep(PROBE).boxed_local();
    match select(call, deadline).await {
        // A lab server answers `Examples` without a lab id with
        // FAILED_PRECONDITION (`bank serve --cluster`: with the examples);
        // only a gRPC server says that, not a static host's 404 or 405.
        Either::Left((Ok(_), _)) => true,
        Either::Left((Err(ApiError::Refused { code, .. }), _)) => code == "FailedPrecondition",
        Either::Left((Err(_), _)) | Either::Right(((), _)) => false,
    }
}

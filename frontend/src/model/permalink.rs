//! A link to one moment of one run: the scenario, the settings it ran with,
//! the cursor and the open views, all in the query string.
//!
//! `?scenario=demo-stale-read&g=none&p=background&seed=1&at=12&fp=…&view=…`
//!
//! - `scenario`: a shipped example's name, or the scenario's text
//!   compressed (raw DEFLATE) in URL-safe base64 behind a `z.` prefix
//!   ([`compress_text`]); plain base64 text is still read
//!   ([`super::embed::scenario_source`]).
//! - `g` and `p`: the guarantees and the propagation mode the run used
//!   (`bank_core`'s names: `ryw,mw`, `none`; `background`), sent with the
//!   load as the page's own choices are.
//! - `seed`: the run's seed. It is part of the scenario text (an experiment's
//!   `seed`), so the link carries it already; it is written out so that the
//!   landing page can say when the loaded run has another one.
//! - `at`: the cursor, counted in *visible* events (play-state changes are
//!   left out: a replay paces the server differently, so their number
//!   differs while the run's own events are the same).
//! - `fp`: a fingerprint of the run's events up to the cursor
//!   ([`fingerprint`]): a live cluster's timing can order concurrent events
//!   differently on a replay, and the landing page says so when it did.
//! - `embed` and `view`: as the page was shown ([`super::embed`]).

use bank_core::branch::PropagationMode;
use bank_core::experiment::propagation_name;
use bank_core::Guarantees;
use bank_proto::{lab_event::Event, LabEvent};
use base64::Engine;
use prost::Message;
use thiserror::Error;

use super::embed::{self, EmbedView};
use super::trace::Trace;

/// The prefix of a compressed `scenario` value.
pub const COMPRESSED_PREFIX: &str = "z.";
/// The largest scenario text a link may unpack to (a hostile link cannot
/// make the page allocate more).
pub const MAX_TEXT_BYTES: usize = 4 << 20;

/// The longest path and query `bank serve` takes: its HTTP parser answers
/// a longer request target with a bare 414 (and a browser shows an error
/// page), so a link past it is refused ([`check_length`]).
pub const MAX_SERVED_TARGET: usize = 63 * 1024;
/// Past this, many other web servers and proxies refuse an address (nginx's
/// default is 8 KiB for a request line), so a link is given with a warning.
pub const PORTABLE_TARGET: usize = 8 * 1024;

/// Whether a link whose path and query are `target_len` bytes long can be
/// opened: `Err` when `bank serve` would refuse it, `Ok(Some(warning))`
/// when many other servers would, `Ok(None)` when it is short.
pub fn check_length(target_len: usize) -> Result<Option<String>, String> {
    let kib = |n: usize| n.div_ceil(1024);
    if target_len > MAX_SERVED_TARGET {
        return Err(format!(
            "This run's link would be {} KiB long, more than a server takes ({} KiB): share \
             the scenario's text instead (it is in the scenario editor)",
            kib(target_len),
            MAX_SERVED_TARGET / 1024
        ));
    }
    Ok((target_len > PORTABLE_TARGET).then(|| {
        format!(
            "The link is {} KiB long: bank serve opens it, but some web servers and proxies \
             refuse addresses over {} KiB.",
            kib(target_len),
            PORTABLE_TARGET / 1024
        )
    }))
}

/// What a permalink says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permalink {
    /// The `scenario` value: an example name or compressed text.
    pub scenario: Option<String>,
    pub guarantees: Option<Guarantees>,
    pub propagation: Option<PropagationMode>,
    pub seed: Option<u64>,
    /// The cursor in visible events.
    pub at: Option<usize>,
    /// [`fingerprint`] of the run up to `at`.
    pub fingerprint: Option<u32>,
    pub embed: bool,
    pub view: EmbedView,
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum UnpackError {
    #[error("?scenario=z.… is not URL-safe base64")]
    NotBase64,
    #[error("?scenario=z.… does not unpack (damaged, or larger than 4 MiB)")]
    NotDeflate,
    #[error("?scenario=z.… unpacks to bytes that are not UTF-8 text")]
    NotText,
}

impl Permalink {
    /// The permalink parameters of `search` (other parameters are ignored;
    /// malformed values are dropped: [`Permalink::ignored`] says which).
    pub fn parse(search: &str) -> Permalink {
        Permalink::read(search).0
    }

    /// The permalink values of `search` that were malformed and dropped, in
    /// words for the page's notice ("seed=-1: a seed is a whole number …"),
    /// so that a link that lands on another run than it says does not do
    /// so silently.
    pub fn ignored(search: &str) -> Vec<String> {
        Permalink::read(search).1
    }

    fn read(search: &str) -> (Permalink, Vec<String>) {
        let page = embed::parse_query(search);
        let mut link = Permalink {
            scenario: page.scenario,
            embed: page.embed,
            view: page.view,
            ..Permalink::default()
        };
        let mut ignored = Vec::new();
        for pair in search.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = embed::percent_decode(value);
            let mut drop = |what: &str| ignored.push(format!("{key}={value}: {what}"));
            match key {
                "g" => {
                    link.guarantees = value.parse().ok();
                    if link.guarantees.is_none() {
                        drop("guarantees are all, none, course or a list like ryw,mr");
                    }
                }
                "p" => {
                    link.propagation =
                        PropagationMode::ALL.into_iter().find(|m| propagation_name(*m) == value);
                    if link.propagation.is_none() {
                        drop("propagation is sequential, parallel or background");
                    }
                }
                "seed" => {
                    link.seed = value.parse().ok();
                    if link.seed.is_none() {
                        drop("a seed is a whole number from 0 to 18446744073709551615");
                    }
                }
                "at" => {
                    link.at = value.parse().ok();
                    if link.at.is_none() {
                        drop("the cursor is a whole number of events");
                    }
                }
                "fp" => link.fingerprint = u32::from_str_radix(&value, 16).ok(),
                _ => {}
            }
        }
        (link, ignored)
    }

    /// The query string (with `?`), in a fixed order.
    pub fn query(&self) -> String {
        let mut pairs: Vec<String> = Vec::new();
        if self.embed {
            pairs.push("embed=1".into());
            if self.view != EmbedView::Graph {
                pairs.push(format!("view={}", self.view.name()));
            }
        }
        if let Some(scenario) = &self.scenario {
            pairs.push(format!("scenario={}", url_safe(scenario)));
        }
        if let Some(g) = self.guarantees {
            let g = if g == Guarantees::NONE { "none".to_owned() } else { g.to_string() };
            pairs.push(format!("g={}", url_safe(&g)));
        }
        if let Some(p) = self.propagation {
            pairs.push(format!("p={}", propagation_name(p)));
        }
        if let Some(seed) = self.seed {
            pairs.push(format!("seed={seed}"));
        }
        if let Some(at) = self.at {
            pairs.push(format!("at={at}"));
        }
        if let Some(fp) = self.fingerprint {
            pairs.push(format!("fp={fp:08x}"));
        }
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// Percent-encodes what is not unreserved in a URL (names and base64url
/// pass as they are).
fn url_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b',') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `scenario` value for `text`: `name` when it is a shipped example's
/// name and `text` is that example's text, else the text compressed.
pub fn scenario_value(text: &str, name: &str, example_text: Option<&str>) -> String {
    match example_text {
        Some(shipped) if shipped == text && !name.is_empty() => name.to_owned(),
        _ => compress_text(text),
    }
}

/// `z.` and the text's raw DEFLATE stream in URL-safe base64, no padding.
pub fn compress_text(text: &str) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    format!(
        "{COMPRESSED_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed)
    )
}

/// The text of a `z.` value (`None`: the value is not compressed).
pub fn uncompress_text(value: &str) -> Option<Result<String, UnpackError>> {
    let body = value.strip_prefix(COMPRESSED_PREFIX)?;
    Some(unpack(body))
}

fn unpack(body: &str) -> Result<String, UnpackError> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let packed = engine.decode(body.trim().as_bytes()).map_err(|_| UnpackError::NotBase64)?;
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT_BYTES)
        .map_err(|_| UnpackError::NotDeflate)?;
    String::from_utf8(bytes).map_err(|_| UnpackError::NotText)
}

/// How many visible events `trace[..cursor]` holds (the cursor as a link
/// counts it).
pub fn visible_count(trace: &Trace, cursor: usize) -> usize {
    (0..cursor.min(trace.len())).filter(|&i| !trace.is_quiet(i)).count()
}

/// What someone did from the page before the cursor: faults injected and
/// customer requests sent. A link does not carry them (it replays the
/// scenario), so the run it opens goes its own way from the first of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageActions {
    pub faults: usize,
    pub requests: usize,
}

impl PageActions {
    /// Those among the first `cursor` events of `trace` (an experiment's
    /// planned faults are part of its scenario: not counted).
    pub fn of(trace: &Trace, cursor: usize) -> PageActions {
        let mut actions = PageActions::default();
        for event in &trace.events()[..cursor.min(trace.len())] {
            match &event.event {
                Some(Event::Network(changed)) if !changed.planned => actions.faults += 1,
                Some(Event::CustomerSent(sent)) if sent.from_browser => actions.requests += 1,
                _ => {}
            }
        }
        actions
    }

    /// In words for the link's note, `None` if there were none:
    /// "The 2 faults and the 1 request made from this page are not in the
    /// link: …".
    pub fn note(self) -> Option<String> {
        let count = |n: usize, one: &str| match n {
            0 => None,
            1 => Some(format!("1 {one}")),
            n => Some(format!("{n} {one}s")),
        };
        let parts: Vec<String> = [count(self.faults, "fault"), count(self.requests, "request")]
            .into_iter()
            .flatten()
            .collect();
        if parts.is_empty() {
            return None;
        }
        let verb = if self.faults + self.requests == 1 { "is" } else { "are" };
        Some(format!(
            "The {} made from this page {verb} not in the link: it replays the scenario, so from \
             the first of them on, the run it opens goes its own way (to share them, write them \
             into the scenario: faults in an experiment's plan, requests as a customer's events).",
            parts.join(" and the ")
        ))
    }
}

/// The cursor that shows the first `visible` visible events (and the quiet
/// ones among them): `None` while the trace holds fewer.
pub fn cursor_of_visible(trace: &Trace, visible: usize) -> Option<usize> {
    if visible == 0 {
        return Some(0);
    }
    let mut seen = 0;
    for i in 0..trace.len() {
        if !trace.is_quiet(i) {
            seen += 1;
            if seen == visible {
                return Some(i + 1);
            }
        }
    }
    None
}

/// FNV-1a over the visible events of `trace[..cursor]` (but the load), each
/// without its number and time: equal for two runs that did the same things in the
/// same order.
pub fn fingerprint(trace: &Trace, cursor: usize) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for event in trace.events().iter().take(cursor) {
        // The load names the scenario as the page loaded it (by example or
        // as text from a link); the link itself says what was loaded.
        if matches!(event.event, Some(Event::State(_) | Event::Loaded(_)) | None) {
            continue;
        }
        let bare =
            LabEvent { seq: 0, at_micros: 0, event: event.event.clone(), ..Default::default() };
        for byte in bare.encode_to_vec() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

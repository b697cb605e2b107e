//! The page's query string: `?embed=1&view=diagram&scenario=<name or base64>`,
//! and the lab it shows: `lab=<id>` (the page's own lab, added after the
//! first load so a reload comes back to it) or `follow=<id>` (someone
//! else's, read-only).
//!
//! `view` picks what embed mode (and presentation mode) shows: `graph` (the
//! default), `diagram` (the space-time diagram) or `both`; `check=1` adds
//! the "Check a submission" panel. `present=1` opens the page in
//! presentation mode (large type and lines, the views, the controls and one
//! line saying what just happened: for a projector).
//!
//! `scenario` is either the name of a shipped example (`seed-test-1`) or the
//! scenario's JSON text in URL-safe base64 (padding optional; the standard
//! alphabet is accepted too). It is loaded when the page opens a new lab,
//! not when it comes back to one.

use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use thiserror::Error;

/// What the query string asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageParams {
    /// Only the graph and the controls, filling the frame.
    pub embed: bool,
    /// The raw `scenario` value, percent-decoded.
    pub scenario: Option<String>,
    /// The page's own lab, to come back to.
    pub lab: Option<String>,
    /// Someone else's lab, to follow.
    pub follow: Option<String>,
    /// What embed mode shows.
    pub view: EmbedView,
    /// Embed mode also shows the "Check a submission" panel (`&check=1`).
    pub check: bool,
    /// Presentation mode (`&present=1`).
    pub present: bool,
}

/// What embed mode shows next to the controls (`&view=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EmbedView {
    /// The graph only (`graph`, or no `view`).
    #[default]
    Graph,
    /// The space-time diagram only (`diagram`).
    Diagram,
    /// The graph and the diagram (`both`).
    Both,
}

impl EmbedView {
    /// A `view` value; an unknown one shows the graph.
    pub fn parse(value: &str) -> Self {
        match value {
            "diagram" => EmbedView::Diagram,
            "both" => EmbedView::Both,
            _ => EmbedView::Graph,
        }
    }

    /// The `view` value that asks for it.
    pub fn name(self) -> &'static str {
        match self {
            EmbedView::Graph => "graph",
            EmbedView::Diagram => "diagram",
            EmbedView::Both => "both",
        }
    }

    pub fn shows_graph(self) -> bool {
        self != EmbedView::Diagram
    }

    pub fn shows_diagram(self) -> bool {
        self != EmbedView::Graph
    }
}

/// Reads `location.search` (with or without the leading `?`).
pub fn parse_query(search: &str) -> PageParams {
    let mut params = PageParams::default();
    for pair in search.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "embed" => params.embed = !matches!(value, "0" | "false" | "no"),
            "scenario" => params.scenario = Some(percent_decode(value)).filter(|s| !s.is_empty()),
            "view" => params.view = EmbedView::parse(value),
            "check" => params.check = !matches!(value, "0" | "false" | "no"),
            "present" => params.present = !matches!(value, "0" | "false" | "no"),
            "lab" => params.lab = Some(percent_decode(value)).filter(|s| !s.is_empty()),
            "follow" => params.follow = Some(percent_decode(value)).filter(|s| !s.is_empty()),
            _ => {}
        }
    }
    params
}

/// `search` with `key` set to `value` (or removed, `None`), every other
/// parameter kept as it was, in its place; a new key goes last. With the
/// leading `?` (empty if no parameter is left). `value` must be URL-safe
/// (lab ids are hex).
pub fn with_param(search: &str, key: &str, value: Option<&str>) -> String {
    let mut pairs: Vec<String> = Vec::new();
    let mut placed = false;
    for pair in search.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
        if pair.split_once('=').map_or(pair, |(k, _)| k) != key {
            pairs.push(pair.to_owned());
        } else if let (Some(value), false) = (value, placed) {
            pairs.push(format!("{key}={value}"));
            placed = true;
        }
    }
    if let (Some(value), false) = (value, placed) {
        pairs.push(format!("{key}={value}"));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// The query string of the link that follows the lab `follow_id`, from the
/// page's `search`: the same view (`embed`), without the owner's `lab` and
/// without `scenario` (a follower loads nothing).
pub fn follow_query(search: &str, follow_id: &str) -> String {
    let search = with_param(search, "lab", None);
    let search = with_param(&search, "scenario", None);
    with_param(&search, "follow", Some(follow_id))
}

/// Where the scenario of `?scenario=` comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioSource {
    /// A shipped example, by name.
    Example(String),
    /// The decoded JSON text.
    Text(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ScenarioParamError {
    #[error("?scenario= is neither a shipped example nor base64 scenario text")]
    NotBase64,
    #[error("?scenario= decodes to bytes that are not UTF-8 text")]
    NotText,
    /// A word that reads as an example's name (`nonsense`, `seed-test-3`),
    /// not a scenario's text: what its author most likely mistyped.
    #[error("?scenario={name} is no shipped example (they are {known}), nor base64 scenario text")]
    UnknownExample { name: String, known: String },
}

/// Resolves a `scenario` value: a known example name wins, else base64 text.
pub fn scenario_source(
    value: &str,
    example_names: &[&str],
) -> Result<ScenarioSource, ScenarioParamError> {
    if example_names.contains(&value) {
        return Ok(ScenarioSource::Example(value.to_owned()));
    }
    // Short words of name characters decode as base64 too, to bytes that
    // are no scenario: such a word was meant as an example's name.
    let name_like = value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match decode_base64_text(value) {
        Ok(text) if !name_like || text.trim_start().starts_with(['[', '{']) => {
            Ok(ScenarioSource::Text(text))
        }
        _ if name_like => Err(ScenarioParamError::UnknownExample {
            name: value.to_owned(),
            known: example_names.join(", "),
        }),
        other => other.map(ScenarioSource::Text),
    }
}

/// URL-safe base64 (or standard, or with `+` turned into a space by a form
/// encoder), padding optional, to UTF-8 text.
pub fn decode_base64_text(value: &str) -> Result<String, ScenarioParamError> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    // No trim(): a trailing ' ' is a '+' that a form decoder turned into a space.
    let normalized: String = value
        .chars()
        .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
        .map(|c| match c {
            '+' | ' ' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = ENGINE.decode(normalized.as_bytes()).map_err(|_| ScenarioParamError::NotBase64)?;
    String::from_utf8(bytes).map_err(|_| ScenarioParamError::NotText)
}

/// Encodes scenario text for `?scenario=` (URL-safe, no padding).
pub fn encode_base64_text(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text.as_bytes())
}

/// `%XX` escapes to bytes (invalid escapes are kept as they are).
pub fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

//! Reading a submitted file, and telling by its content which course output
//! it is.
//!
//! Students hand in what their program printed, in every container the
//! course has seen: one JSON array; JSON Lines (one object per line);
//! several arrays back to back; a file of project 2 lists each after a
//! `// Part n` comment line. [`read_parts`] accepts all of them and returns
//! the file's [`Part`]s: a list of top-level items (each with the slice of
//! the text it came from, to point at it later) and what they are
//! ([`PartKind`]), decided by their keys, never by the file's name:
//!
//! | items look like | part |
//! |---|---|
//! | `{"id", "recv": [{"interface", ...}]}` | project 1 (`"money"` on queries: p1-money) |
//! | `{"id", "recv": [{"interface", "branch", ...}]}` | project 3, one object per event |
//! | `{"id", "balance": N}` | project 3, one balance per customer |
//! | `{"pid", "data"}` / `{"eventid", "data"}` | project 2, generation A |
//! | `{"id", "type": "customer", "events": [{"logical_clock", ...}]}` | p2b customer events |
//! | `{"id", "type": "branch", "events": [{"logical_clock", ...}]}` | p2b branch events |
//! | `{"id", "type", "logical_clock", "comment", ...}` | p2b all events |
//!
//! A file that is none of these gets a problem saying which it is instead:
//! not JSON, empty, a course *input*, or an unknown shape.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::problem::{Problem, ProblemKind};
use crate::formats::OutputFormat;

/// What one part of a submission holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartKind {
    /// Project 1 answers; `money_key`: queries answer under `"money"`.
    P1 { money_key: bool },
    /// Project 2 generation A (`pid` and `eventid` objects).
    P2a,
    /// Project 2 generation B, list 1: customer events.
    P2bCustomer,
    /// Project 2 generation B, list 2: branch events.
    P2bBranch,
    /// Project 2 generation B, list 3: all events, flat.
    P2bAll,
    /// Project 3 generation A: one balance per customer.
    P3Balances,
    /// Project 3 generation B: one object per executed event.
    P3PerEvent,
}

impl PartKind {
    /// The output format the part belongs to.
    pub fn format(self) -> OutputFormat {
        match self {
            PartKind::P1 { money_key: false } => OutputFormat::P1,
            PartKind::P1 { money_key: true } => OutputFormat::P1Money,
            PartKind::P2a => OutputFormat::P2a,
            PartKind::P2bCustomer | PartKind::P2bBranch | PartKind::P2bAll => OutputFormat::P2b,
            PartKind::P3Balances | PartKind::P3PerEvent => OutputFormat::P3,
        }
    }

    /// How the part is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            PartKind::P1 { money_key: false } => "project 1 answers (p1)",
            PartKind::P1 { money_key: true } => "project 1 answers with \"money\" (p1-money)",
            PartKind::P2a => "project 2 pid/eventid lists (p2a)",
            PartKind::P2bCustomer => "project 2 customer events (p2b)",
            PartKind::P2bBranch => "project 2 branch events (p2b)",
            PartKind::P2bAll => "project 2 all events (p2b)",
            PartKind::P3Balances => "project 3 balances per customer (p3)",
            PartKind::P3PerEvent => "project 3 answers per event (p3)",
        }
    }
}

/// One top-level item of a part: its value and the text it was read from.
#[derive(Clone, Debug)]
pub struct Item<'a> {
    pub value: Value,
    /// The item's slice of the file text.
    pub raw: &'a str,
    /// Byte offset of `raw` in the file text (for line and column).
    pub offset: usize,
}

/// A list of items of one kind, from one file (or one `//` section).
#[derive(Clone, Debug)]
pub struct Part<'a> {
    /// Index of the file in the submission.
    pub file: usize,
    pub kind: PartKind,
    pub items: Vec<Item<'a>>,
}

/// Looks a key up the way the course wrote it in any year: case and `_` /
/// `-` do not matter (`eventId`, `customer_request_id`). Gives the key as
/// written (for JSON paths) and the value; `null` counts as absent.
pub fn get<'v>(object: &'v Map<String, Value>, key: &str) -> Option<(&'v str, &'v Value)> {
    let wanted = normal_key(key);
    object
        .iter()
        .find(|(k, v)| !v.is_null() && normal_key(k) == wanted)
        .map(|(k, v)| (k.as_str(), v))
}

fn normal_key(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('_', "-")
}

/// Reads one submitted file into its parts. `file` is its index in the
/// submission (kept in every [`Part`]). A file that cannot be graded is one
/// [`Problem`] saying why (not JSON, empty, an input, an unknown shape).
pub fn read_parts(file: usize, text: &str) -> Result<Vec<Part<'_>>, Problem> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim().is_empty() {
        return Err(unreadable(ProblemKind::Empty, "the file is empty"));
    }
    let sections = split_sections(body);
    let mut parts = Vec::new();
    for section in sections {
        let items = items(text, section)?;
        if items.is_empty() {
            continue;
        }
        let kind = kind_of(&items)?;
        parts.push(Part { file, kind, items });
    }
    if parts.is_empty() {
        return Err(unreadable(ProblemKind::Empty, "the file holds only an empty list `[]`"));
    }
    Ok(parts)
}

fn unreadable(kind: ProblemKind, message: impl Into<String>) -> Problem {
    Problem::new(kind, None, "", message)
}

/// The file split at `//` comment lines (the combined project 2 files);
/// the whole text when it has none.
fn split_sections(text: &str) -> Vec<&str> {
    let mut sections = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("//") {
            sections.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    sections.push(&text[start..]);
    sections.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// The top-level items of a section: the elements of its array(s), or its
/// objects (JSON Lines, a bare object).
fn items<'a>(text: &'a str, section: &'a str) -> Result<Vec<Item<'a>>, Problem> {
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_str(section).into_iter::<&RawValue>();
    for value in stream {
        let raw = value.map_err(|e| not_json(text, section, &e))?;
        let raw_text = raw.get();
        if raw_text.starts_with('[') {
            let elements: Vec<&RawValue> =
                serde_json::from_str(raw_text).map_err(|e| not_json(text, raw_text, &e))?;
            for element in elements {
                out.push(item(text, element)?);
            }
        } else {
            out.push(item(text, raw)?);
        }
    }
    Ok(out)
}

fn item<'a>(text: &'a str, raw: &'a RawValue) -> Result<Item<'a>, Problem> {
    let value: Value = serde_json::from_str(raw.get())
        .map_err(|e| unreadable(ProblemKind::NotJson, format!("not JSON: {e}")))?;
    // `raw` is a slice of `text`: its start minus the text's start.
    let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    Ok(Item { value, raw: raw.get(), offset })
}

fn not_json(text: &str, part: &str, error: &serde_json::Error) -> Problem {
    let index = crate::formats::position::LineIndex::new(text);
    let (base_line, base_column) = index.locate(part);
    let (line, column) = if error.line() <= 1 {
        (base_line, base_column + error.column().max(1) - 1)
    } else {
        (base_line + error.line() - 1, error.column().max(1))
    };
    let mut message = format!("not JSON (line {line}, column {column}): {error}");
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    if part.contains('\'') && !part.contains('"') {
        message.push_str(
            " (this looks like Python's print of a dict, with single quotes: \
             write the output with json.dump instead)",
        );
    }
    unreadable(ProblemKind::NotJson, message)
}

/// What a list of items is, by the keys of its first object.
fn kind_of(items: &[Item<'_>]) -> Result<PartKind, Problem> {
    let Some(first) = items.iter().find_map(|i| i.value.as_object()) else {
        return Err(unreadable(
            ProblemKind::UnknownShape,
            "the file holds no JSON objects (a course output is a list of objects)",
        ));
    };
    if get(first, "pid").is_some() || get(first, "eventid").is_some() {
        return Ok(PartKind::P2a);
    }
    if get(first, "data").is_some() && get(first, "id").is_some() {
        // The seed's README run prints "id" instead of "pid".
        return Ok(PartKind::P2a);
    }
    if let Some((_, Value::Array(recv))) = get(first, "recv") {
        let objects = || recv.iter().filter_map(Value::as_object);
        if objects().any(|o| get(o, "branch").is_some()) {
            return Ok(PartKind::P3PerEvent);
        }
        let money_key = items
            .iter()
            .filter_map(|i| i.value.as_object())
            .filter_map(|o| get(o, "recv").and_then(|(_, r)| r.as_array()))
            .flatten()
            .filter_map(Value::as_object)
            .any(|o| get(o, "money").is_some() && get(o, "balance").is_none());
        return Ok(PartKind::P1 { money_key });
    }
    if get(first, "logical_clock").is_some() {
        return Ok(PartKind::P2bAll);
    }
    let typ = get(first, "type").and_then(|(_, t)| t.as_str()).map(str::to_ascii_lowercase);
    let events = get(first, "events").and_then(|(_, e)| e.as_array());
    if let (Some(typ), Some(events)) = (&typ, events) {
        let clocked =
            events.iter().filter_map(Value::as_object).any(|e| get(e, "logical_clock").is_some());
        if clocked || events.is_empty() {
            match typ.as_str() {
                "customer" => return Ok(PartKind::P2bCustomer),
                "branch" => return Ok(PartKind::P2bBranch),
                _ => {}
            }
        }
    }
    if typ.is_some()
        && (get(first, "customer-requests").is_some()
            || events.is_some()
            || get(first, "balance").is_some())
    {
        return Err(unreadable(
            ProblemKind::WrongProject,
            "this is a course input file (customers and branches), not an output",
        ));
    }
    if get(first, "balance").is_some() && get(first, "id").is_some() {
        return Ok(match get(first, "balance") {
            Some((_, Value::Array(_))) => PartKind::P3PerEvent,
            _ => PartKind::P3Balances,
        });
    }
    let keys: Vec<String> = first.keys().take(6).map(|k| super::shown::quoted(k)).collect();
    let has = if keys.is_empty() {
        "its first object is empty".to_owned()
    } else {
        format!("its objects have the keys {}", keys.join(", "))
    };
    Err(unreadable(
        ProblemKind::UnknownShape,
        format!(
            "JSON, but no course output: {has} (expected e.g. \"recv\", \"pid\"/\"eventid\", \
             \"logical_clock\" or \"balance\")"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Result<Vec<PartKind>, ProblemKind> {
        read_parts(0, text).map(|ps| ps.iter().map(|p| p.kind).collect()).map_err(|p| p.kind)
    }

    #[test]
    fn every_container_is_read() {
        let p1 =
            r#"[{"id": 1, "recv": [{"interface": "query", "result": "success", "balance": 400}]}]"#;
        assert_eq!(kind(p1), Ok(vec![PartKind::P1 { money_key: false }]));
        let lines = "{\"id\": 1, \"recv\": [{\"interface\": \"query\", \"money\": 400}]}\n{\"id\": 2, \"recv\": []}\n";
        assert_eq!(kind(lines), Ok(vec![PartKind::P1 { money_key: true }]));
        let combined = "// Part 1\n[{\"id\": 1, \"type\": \"customer\", \"events\": [{\"logical_clock\": 1}]}]\n//PART 2\n[{\"id\": 1, \"type\": \"branch\", \"events\": [{\"logical_clock\": 2}]}]\n// part 3\n[{\"id\": 1, \"type\": \"branch\", \"logical_clock\": 2, \"comment\": \"x\"}]";
        assert_eq!(
            kind(combined),
            Ok(vec![PartKind::P2bCustomer, PartKind::P2bBranch, PartKind::P2bAll])
        );
        assert_eq!(kind(r#"{"id": 1, "balance": 0.0}"#), Ok(vec![PartKind::P3Balances]));
        assert_eq!(
            kind(r#"[{"id": 1, "recv": [{"interface": "query", "branch": 2, "balance": 0}]}]"#),
            Ok(vec![PartKind::P3PerEvent])
        );
        assert_eq!(kind(r#"[{"pid": 1, "data": []}]"#), Ok(vec![PartKind::P2a]));
    }

    #[test]
    fn unreadable_files_say_why() {
        assert_eq!(kind("  \n"), Err(ProblemKind::Empty));
        assert_eq!(kind("[]"), Err(ProblemKind::Empty));
        assert_eq!(kind("[{\"id\": 1,"), Err(ProblemKind::NotJson));
        let e = read_parts(0, "{'id': 1, 'recv': []}").unwrap_err();
        assert!(e.message.contains("single quotes"), "{}", e.message);
        let e = read_parts(0, "[\n  {\"id\": 1}\n  {\"id\": 2}]").unwrap_err();
        assert!(e.message.contains("line 3, column 3"), "{}", e.message);
        assert_eq!(
            kind(r#"[{"id": 1, "type": "customer", "events": [{"interface": "query"}]}]"#),
            Err(ProblemKind::WrongProject)
        );
        assert_eq!(kind(r#"[{"name": 1}]"#), Err(ProblemKind::UnknownShape));
    }
}

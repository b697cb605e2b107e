//! A path into a JSON text (`$.sessions[1].ops[3]`), and the byte offset
//! of the value it names, for messages that point at a line and column.
//!
//! A reader that checks a file after parsing it (the grader, the history
//! reader) keeps where each problem is as a [`JsonPath`]; only when one is
//! reported is the path walked through the text ([`offset_in`]), one level
//! at a time, as borrowed raw values (slices of the text), so the position
//! is exact and nothing is parsed twice for values without problems.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::value::RawValue;

/// A step into a JSON value: an array index or an object key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Step {
    Index(usize),
    Key(String),
}

/// A JSON path from the top of a part (`$[1].recv[0].result`). For a file of
/// JSON Lines, the first index is the line's object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct JsonPath(pub Vec<Step>);

impl JsonPath {
    /// The path of the `index`-th top-level item.
    pub fn item(index: usize) -> JsonPath {
        JsonPath(vec![Step::Index(index)])
    }

    /// This path, one index deeper.
    pub fn at(&self, index: usize) -> JsonPath {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        JsonPath(steps)
    }

    /// This path, one key deeper.
    pub fn key(&self, key: &str) -> JsonPath {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        JsonPath(steps)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.0 {
            match step {
                Step::Index(i) => write!(f, "[{i}]")?,
                Step::Key(k) if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    write!(f, ".{k}")?
                }
                Step::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

/// Byte offset in `text` of the value `steps` leads to from the value
/// that starts at byte `start`, as deep as the path can be followed (a
/// missing key points at its object).
pub fn offset_in(text: &str, start: usize, steps: &[Step]) -> usize {
    Locator::new(text).offset(start, steps)
}

/// Walks many paths through one text ([`offset_in`] for each), reading
/// each value, array and object on the way once: a grader's thousands of
/// problems inside one large item cost the item once, not once each.
#[derive(Debug)]
pub struct Locator<'t> {
    text: &'t str,
    values: HashMap<usize, Option<&'t RawValue>>,
    arrays: HashMap<usize, Option<Vec<&'t RawValue>>>,
    objects: HashMap<usize, Option<HashMap<String, &'t RawValue>>>,
}

impl<'t> Locator<'t> {
    pub fn new(text: &'t str) -> Locator<'t> {
        Locator { text, values: HashMap::new(), arrays: HashMap::new(), objects: HashMap::new() }
    }

    /// [`offset_in`] for this locator's text.
    pub fn offset(&mut self, start: usize, steps: &[Step]) -> usize {
        let text = self.text;
        let value = self.values.entry(start).or_insert_with(|| {
            let rest = text.get(start..)?;
            serde_json::Deserializer::from_str(rest).into_iter::<&RawValue>().next()?.ok()
        });
        let Some(mut raw) = *value else {
            return if text.get(start..).is_some() { start } else { 0 };
        };
        for step in steps {
            let at = self.offset_of(raw);
            let next = match step {
                Step::Index(i) => self
                    .arrays
                    .entry(at)
                    .or_insert_with(|| serde_json::from_str(raw.get()).ok())
                    .as_ref()
                    .and_then(|items| items.get(*i).copied()),
                Step::Key(k) => self
                    .objects
                    .entry(at)
                    .or_insert_with(|| serde_json::from_str(raw.get()).ok())
                    .as_ref()
                    .and_then(|map| map.get(k).copied()),
            };
            match next {
                Some(n) => raw = n,
                None => break,
            }
        }
        self.offset_of(raw)
    }

    fn offset_of(&self, raw: &RawValue) -> usize {
        (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize)
    }
}

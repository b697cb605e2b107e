//! Finding a JSON object key written twice.
//!
//! serde_json reads `{"money": 10, "money": 1000}` into a map without a
//! word, keeping the last value: a file that looks like a deposit of 10
//! deposits 1000. Every JSON file bank-sim reads (course inputs,
//! experiments, histories) is therefore scanned once by
//! [`find_duplicate_key`], which names the second key and where both are.
//!
//! The scan is a small, iterative tokenizer (no recursion, so deep nesting
//! cannot overflow the stack), linear in the text, and only ever answers
//! "this key repeats" or "no repeat found": on text that is not JSON it
//! gives up quietly and leaves the syntax error to serde_json.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// Nesting deeper than this is left to serde_json, which refuses it
/// (its recursion limit is 128).
const MAX_DEPTH: usize = 128;

/// A key that appears twice in one JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DuplicateKey {
    /// The key, unescaped.
    pub key: String,
    /// Byte offset of the first occurrence's opening quote.
    pub first: usize,
    /// Byte offset of the second occurrence's opening quote.
    pub second: usize,
}

/// What the scanner is inside of.
enum Frame {
    /// An object: the keys seen so far (with their offsets), and whether
    /// the next string is a key.
    Object {
        keys: HashMap<String, usize>,
        want_key: bool,
    },
    Array,
}

/// The first key that repeats within one object of `text`, if any.
pub(crate) fn find_duplicate_key(text: &str) -> Option<DuplicateKey> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push(if b == b'{' {
                    Frame::Object { keys: HashMap::new(), want_key: true }
                } else {
                    Frame::Array
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' | b':' => {
                if let Some(Frame::Object { want_key, .. }) = stack.last_mut() {
                    *want_key = b == b',';
                }
            }
            b'"' => {
                let end = string_end(bytes, i + 1)?;
                if let Some(Frame::Object { keys, want_key }) = stack.last_mut() {
                    if *want_key {
                        *want_key = false;
                        // Both ends are ASCII quotes: char boundaries.
                        let key = unescape(&text[i..=end])?;
                        match keys.entry(key) {
                            Entry::Occupied(first) => {
                                let (key, first) = (first.key().clone(), *first.get());
                                return Some(DuplicateKey { key, first, second: i });
                            }
                            Entry::Vacant(slot) => {
                                slot.insert(i);
                            }
                        }
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Index of the quote that closes the string whose contents start at `from`.
fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        match bytes.get(from)? {
            b'\\' => from += 2,
            b'"' => return Some(from),
            _ => from += 1,
        }
    }
}

/// The value of a JSON string literal (with its quotes).
fn unescape(literal: &str) -> Option<String> {
    if literal.contains('\\') {
        serde_json::from_str::<String>(literal).ok()
    } else {
        Some(literal[1..literal.len() - 1].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_second_key_and_the_first() {
        let text = r#"[{"id": 1, "money": 10, "money": 1000}]"#;
        let d = find_duplicate_key(text).unwrap();
        assert_eq!(d.key, "money");
        assert_eq!(&text[d.first..d.first + 7], "\"money\"");
        assert_eq!(d.second, text.rfind("\"money\"").unwrap());
    }

    #[test]
    fn escapes_name_the_same_key() {
        let d = find_duplicate_key(r#"{"a": 1, "\u0061": 2}"#).unwrap();
        assert_eq!(d.key, "a");
    }

    #[test]
    fn equal_keys_in_different_objects_and_values_are_fine() {
        for text in [
            r#"[{"id": 1}, {"id": 2}]"#,
            r#"{"a": {"a": 1}, "b": "a", "c": ["a", "a"]}"#,
            r#"{"a\"b": 1, "a": 2, "s": "x\\", "t": 3}"#,
            r#"{"a": [1, {"b": 2}], "b": 3}"#,
        ] {
            assert_eq!(find_duplicate_key(text), None, "{text}");
        }
    }

    #[test]
    fn broken_or_deep_text_is_left_to_the_parser() {
        for text in ["{\"a", "\"", "{\"a\": 1, \"a", "}}]]{", "\\\"\\"] {
            let _ = find_duplicate_key(text);
        }
        let deep = "[".repeat(100_000);
        assert_eq!(find_duplicate_key(&deep), None);
    }
}

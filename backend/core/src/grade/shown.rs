//! How a message repeats what a submission wrote: as JSON writes it, and
//! cut short when long (a student's 10 MB string is not printed whole).

/// The longest piece of a submission a message repeats.
const SHOWN_CHARS: usize = 60;

/// A string from a submission, as JSON writes it (`"\u001b[31m"`, not
/// Rust's `"\u{1b}[31m"`), cut short when long: a 10 MB name is not
/// printed whole.
pub fn quoted(text: &str) -> String {
    cut(serde_json::to_string(text).unwrap_or_default())
}

/// A value from a submission, as JSON writes it, cut short when long.
pub fn shown(value: &serde_json::Value) -> String {
    cut(value.to_string())
}

fn cut(json: String) -> String {
    let chars = json.chars().count();
    if chars <= SHOWN_CHARS {
        return json;
    }
    let head: String = json.chars().take(SHOWN_CHARS).collect();
    format!("{head}… ({chars} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submitted_text_is_shown_as_json_writes_it_and_cut_short() {
        // Before: "\u{1b}[31mred" (Rust's escapes) and every byte of a 10 MB name.
        assert_eq!(quoted("\u{1b}[31mred"), r#""\u001b[31mred""#);
        assert_eq!(quoted("query"), r#""query""#);
        let long = quoted(&"x".repeat(10_000_000));
        assert!(long.starts_with("\"xxxx") && long.ends_with("… (10000002 characters)"), "{long}");
        assert!(long.chars().count() < 100);
        assert_eq!(shown(&serde_json::json!([1, "a"])), r#"[1,"a"]"#);
    }
}

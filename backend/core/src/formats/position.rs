//! From byte offsets to the line and column a person sees in an editor.
//!
//! The reader parses the file into borrowed
//! [`RawValue`](serde_json::value::RawValue)s: each one is a slice of the
//! original text, so its start pointer minus the text's start pointer is its
//! byte offset. A [`LineIndex`] turns that offset into a 1-based line and
//! column with a binary search over the line starts, so even a large file is
//! indexed once.

/// The start offset of every line of a text.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset where each line starts; `starts[0] == 0`.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// Byte offset of `part` inside the indexed text, if `part` is a slice of it.
    pub(crate) fn offset_of(&self, part: &str) -> Option<usize> {
        let start = self.text.as_ptr() as usize;
        let here = part.as_ptr() as usize;
        let offset = here.checked_sub(start)?;
        (offset + part.len() <= self.text.len()).then_some(offset)
    }

    /// 1-based line of a byte offset: a binary search, whatever the line's
    /// length (a minified file is one long line).
    pub(crate) fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// 1-based line of a slice of the indexed text (1 if it is not one).
    pub(crate) fn line_of(&self, part: &str) -> usize {
        self.offset_of(part).map_or(1, |o| self.line(o))
    }

    /// 1-based (line, column) of a byte offset; the column counts characters,
    /// so it costs the length of the line: for error messages, not for
    /// every value read.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line(offset);
        let line_start = self.starts[line - 1];
        let column =
            self.text.get(line_start..offset).map_or(offset - line_start, |s| s.chars().count())
                + 1;
        (line, column)
    }

    /// 1-based (line, column) of a slice of the indexed text (line 1,
    /// column 1 if it is not a slice of it, which cannot happen for values
    /// borrowed from the text).
    pub(crate) fn locate(&self, part: &str) -> (usize, usize) {
        self.offset_of(part).map_or((1, 1), |o| self.line_col(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let text = "[\n  {\"a\": 1},\n  é{\"b\": 2}\n]";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(0), (1, 1));
        assert_eq!(index.line_col(2), (2, 1));
        let b = text.find("{\"b\"").unwrap();
        assert_eq!(index.line_col(b), (3, 4), "é is one character");
        assert_eq!(index.locate(&text[b..b + 3]), (3, 4));
        assert_eq!(index.locate("elsewhere"), (1, 1));
        assert_eq!(index.line_col(text.len()), (4, 2));
        assert_eq!(index.line(b), 3);
        assert_eq!(index.line_of(&text[b..b + 3]), 3);
        assert_eq!(index.line_of("elsewhere"), 1);
    }
}

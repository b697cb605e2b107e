//! From a JSON path to the line and column an editor shows.
//!
//! Problems carry a [`Place`]: the byte offset where their top-level item
//! starts and a JSON path inside it. Only when a report is printed is the
//! path walked through the file's text, one level at a time, as borrowed
//! raw values (slices of the text), so the position is exact and nothing is
//! parsed twice for items without problems.

use super::problem::Place;
use crate::formats::json_path;
use crate::formats::position::LineIndex;

/// Fills in the line and column of every place, for the file texts given.
pub fn locate_all<'p>(texts: &[&str], places: impl Iterator<Item = &'p mut Place>) {
    let indexes: Vec<LineIndex<'_>> = texts.iter().map(|t| LineIndex::new(t)).collect();
    for place in places {
        let (Some(text), Some(index)) = (texts.get(place.file), indexes.get(place.file)) else {
            continue;
        };
        let (line, column) = index.line_col(offset(text, place));
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        place.line_col = Some((narrow(line), narrow(column)));
    }
}

/// Byte offset of the value at `place` (as deep as the path can be
/// followed: a missing key points at its object).
fn offset(text: &str, place: &Place) -> usize {
    // The first step is the item's index in its list: the anchor already is it.
    let steps = place.path.0.get(1..).unwrap_or_default();
    json_path::offset_in(text, place.anchor, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_lines_and_columns() {
        let text =
            "[\n  {\"id\": 1, \"recv\": [\n    {\"interface\": \"query\", \"balance\": 5}]}\n]";
        let item = text.find('{').unwrap();
        let mut places = [
            Place::item(0, item, 0).key("recv").at(0).key("balance"),
            Place::item(0, item, 0).key("missing"),
        ];
        locate_all(&[text], places.iter_mut());
        assert_eq!(places[0].line_col, Some((3, 39)));
        assert_eq!(places[1].line_col, Some((2, 3)));
    }
}

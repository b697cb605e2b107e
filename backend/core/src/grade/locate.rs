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
/// Linear in the texts and the places: each item on a path is read once
/// ([`json_path::Locator`]), and columns on one line are counted from the
/// place before (a minified file is one line).
pub fn locate_all<'p>(texts: &[&str], places: impl Iterator<Item = &'p mut Place>) {
    let indexes: Vec<LineIndex<'_>> = texts.iter().map(|t| LineIndex::new(t)).collect();
    let mut locators: Vec<json_path::Locator<'_>> =
        texts.iter().map(|t| json_path::Locator::new(t)).collect();
    let mut found: Vec<(usize, usize, &'p mut Place)> = Vec::new();
    for place in places {
        let Some(locator) = locators.get_mut(place.file) else { continue };
        // The first step is the item's index in its list: the anchor already is it.
        let steps = place.path.0.get(1..).unwrap_or_default();
        let offset = locator.offset(place.anchor, steps);
        found.push((place.file, offset, place));
    }
    found.sort_by_key(|(file, offset, _)| (*file, *offset));
    // The place before, when on the same line: (file, line, offset, column).
    let mut before: Option<(usize, usize, usize, usize)> = None;
    for (file, offset, place) in found {
        let (text, index) = (texts[file], &indexes[file]);
        let offset = offset.min(text.len());
        let line = index.line(offset);
        let column = match before {
            Some((f, l, o, c)) if f == file && l == line => {
                c + text.get(o..offset).map_or(offset - o, |s| s.chars().count())
            }
            _ => index.line_col(offset).1,
        };
        before = Some((file, line, offset, column));
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        place.line_col = Some((narrow(line), narrow(column)));
    }
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

    #[test]
    fn many_places_in_one_item_and_on_one_line_are_each_where_they_are() {
        // One line, non-ASCII text between the answers: columns count
        // characters, whatever order the places come in.
        let answers: Vec<String> =
            (0..50).map(|i| format!("{{\"interface\": \"qé{i}\", \"balance\": {i}}}")).collect();
        let text = format!("[{{\"id\": 1, \"recv\": [{}]}}]", answers.join(", "));
        let item = text.find('{').unwrap();
        let mut places: Vec<Place> = (0..50)
            .rev()
            .map(|i| Place::item(0, item, 0).key("recv").at(i).key("balance"))
            .collect();
        locate_all(&[&text], places.iter_mut());
        for (place, i) in places.iter().zip((0..50).rev()) {
            let needle = format!("\"balance\": {i}}}");
            let byte = text.find(&needle).unwrap() + needle.len() - 1 - i.to_string().len();
            let column = text[..byte].chars().count() + 1;
            assert_eq!(place.line_col, Some((1, column as u32)), "answer {i}");
        }
    }
}

//! The diagram's measures: rows and lanes in pixels, and each lane's class.

use crate::model::trace::Node;

/// Pixels per row and per lane.
pub(super) const ROW_H: f64 = 26.0;
pub(super) const LANE_W: f64 = 76.0;
/// Room left of the first lane and right of the last.
pub(super) const MARGIN_X: f64 = 12.0;
/// The lane headers' height (they stay on top while the diagram scrolls).
pub(super) const HEAD_H: f64 = 30.0;
/// An event's circle.
pub(super) const RADIUS: f64 = 8.0;
/// Rows drawn beyond the window on each side, and the step in which the
/// drawn range moves (so that scrolling a little redraws nothing).
pub(super) const OVERSCAN: f64 = 12.0;
pub(super) const CHUNK: f64 = 16.0;

/// The x of a lane's line, by its column.
pub(super) fn lane_x(column: usize) -> f64 {
    MARGIN_X + LANE_W * (column as f64 + 0.5)
}

pub(super) fn lane_class(node: Node) -> &'static str {
    match node {
        Node::Branch(_) => "st-lane-branch",
        Node::Customer(_) => "st-lane-customer",
        Node::Browser => "st-lane-you",
    }
}

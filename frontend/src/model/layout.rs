//! Where the graph draws each node, in SVG user units.
//!
//! Branches sit on a circle (first branch at the top, then clockwise);
//! customers stand in a column on the left, the browser's "you" node last.
//! Messages travel on straight segments between node borders.

use std::f64::consts::PI;

use super::trace::Node;

/// The SVG `viewBox` is `0 0 WIDTH HEIGHT`.
pub const WIDTH: f64 = 940.0;
pub const HEIGHT: f64 = 700.0;

const RING_CENTER: Point = Point { x: 580.0, y: 350.0 };
const RING_RADIUS: f64 = 245.0;
const CUSTOMER_X: f64 = 85.0;
const COLUMN_TOP: f64 = 40.0;
const COLUMN_BOTTOM: f64 = 660.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub fn distance(self, other: Point) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }

    /// The point `t` of the way from `self` to `to`.
    pub fn lerp(self, to: Point, t: f64) -> Point {
        Point { x: self.x + (to.x - self.x) * t, y: self.y + (to.y - self.y) * t }
    }
}

/// Positions and sizes of every node of one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub branches: Vec<(u64, Point)>,
    pub customers: Vec<(Node, Point)>,
    pub branch_radius: f64,
    pub customer_radius: f64,
}

impl Layout {
    /// `branches`: branch ids in display order; `customers`: the customer
    /// nodes (sessions, and [`Node::Browser`] if the browser takes part).
    pub fn new(branches: &[u64], customers: &[Node]) -> Layout {
        let n = branches.len();
        let branch_positions: Vec<(u64, Point)> = branches
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                if n == 1 {
                    return (id, RING_CENTER);
                }
                let angle = -PI / 2.0 + 2.0 * PI * i as f64 / n as f64;
                (
                    id,
                    Point {
                        x: RING_CENTER.x + RING_RADIUS * angle.cos(),
                        y: RING_CENTER.y + RING_RADIUS * angle.sin(),
                    },
                )
            })
            .collect();
        // Neighbours on the ring are 2 R sin(pi/n) apart: leave a gap between them.
        let branch_radius = if n <= 1 {
            70.0
        } else {
            (RING_RADIUS * (PI / n as f64).sin() * 0.7).clamp(24.0, 70.0)
        };

        let m = customers.len();
        let spacing = (COLUMN_BOTTOM - COLUMN_TOP) / m.max(1) as f64;
        let customer_positions = customers
            .iter()
            .enumerate()
            .map(|(i, &node)| {
                (node, Point { x: CUSTOMER_X, y: COLUMN_TOP + spacing * (i as f64 + 0.5) })
            })
            .collect();
        let customer_radius = (spacing * 0.42).clamp(12.0, 46.0);

        Layout {
            branches: branch_positions,
            customers: customer_positions,
            branch_radius,
            customer_radius,
        }
    }

    pub fn position(&self, node: Node) -> Option<Point> {
        match node {
            Node::Branch(id) => self.branches.iter().find(|(b, _)| *b == id).map(|(_, p)| *p),
            _ => self.customers.iter().find(|(c, _)| *c == node).map(|(_, p)| *p),
        }
    }

    pub fn radius(&self, node: Node) -> f64 {
        match node {
            Node::Branch(_) => self.branch_radius,
            _ => self.customer_radius,
        }
    }

    /// The visible part of the segment from `from` to `to`: border to border.
    pub fn edge(&self, from: Node, to: Node) -> Option<(Point, Point)> {
        let (a, b) = (self.position(from)?, self.position(to)?);
        let length = a.distance(b);
        if length < 1e-9 {
            return Some((a, b));
        }
        let (ra, rb) = (self.radius(from) / length, self.radius(to) / length);
        if ra + rb >= 1.0 {
            return Some((a, b));
        }
        Some((a.lerp(b, ra), a.lerp(b, 1.0 - rb)))
    }

    /// Where a message `progress` (0..=1) of the way from `from` to `to` is drawn.
    pub fn along(&self, from: Node, to: Node, progress: f64) -> Option<Point> {
        let (a, b) = self.edge(from, to)?;
        Some(a.lerp(b, progress.clamp(0.0, 1.0)))
    }
}

//! The lanes of the space-time diagram: one per branch and per customer
//! session (the browser's customer last), in an order the person can change,
//! some of them hidden.
//!
//! The canonical order is the graph's: branches by id, then scripted
//! sessions by entry index, then "you". [`Lanes::reconcile`] keeps the
//! person's order and hidden lanes across a new history when its lanes are
//! the same nodes, so a restart does not undo the arrangement; lanes nobody
//! moved take the new history's canonical order (a page that opened on one
//! scenario and loaded another shows "you" last, not among the branches).

use super::trace::{Node, Trace};

/// The lane order and which lanes are hidden.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lanes {
    order: Vec<Node>,
    /// The person moved a lane: their order is kept from then on.
    arranged: bool,
    hidden: Vec<Node>,
}

impl Lanes {
    /// The lanes of `trace`'s scenario in canonical order (empty before a
    /// scenario is loaded).
    pub fn of_trace(trace: &Trace) -> Vec<Node> {
        let Some(scenario) = trace.scenario() else { return Vec::new() };
        let mut branches: Vec<u64> = scenario.branches.iter().map(|b| b.id).collect();
        branches.sort_unstable();
        branches.dedup();
        let mut sessions: Vec<u32> = scenario.customers.iter().map(|c| c.session).collect();
        sessions.sort_unstable();
        sessions.dedup();
        let mut lanes: Vec<Node> = branches.into_iter().map(Node::Branch).collect();
        lanes.extend(sessions.into_iter().map(Node::Customer));
        lanes.push(Node::Browser);
        lanes
    }

    /// Lanes in `canonical` order, none hidden.
    pub fn new(canonical: Vec<Node>) -> Self {
        Lanes { order: canonical, arranged: false, hidden: Vec::new() }
    }

    /// Takes `canonical` as the lanes from now on: lanes still there keep
    /// their place and visibility, new ones are appended in canonical order,
    /// lanes gone are dropped. Returns whether anything changed.
    pub fn reconcile(&mut self, canonical: &[Node]) -> bool {
        let before = self.clone();
        if !self.arranged {
            self.order = canonical.to_vec();
        }
        self.order.retain(|n| canonical.contains(n));
        for node in canonical {
            if !self.order.contains(node) {
                self.order.push(*node);
            }
        }
        self.hidden.retain(|n| canonical.contains(n));
        *self != before
    }

    /// Every lane, hidden ones included, in display order.
    pub fn order(&self) -> &[Node] {
        &self.order
    }

    /// The hidden lanes.
    pub fn hidden(&self) -> &[Node] {
        &self.hidden
    }

    pub fn is_hidden(&self, node: Node) -> bool {
        self.hidden.contains(&node)
    }

    /// The shown lanes, in display order.
    pub fn visible(&self) -> impl Iterator<Item = Node> + '_ {
        self.order.iter().copied().filter(|n| !self.is_hidden(*n))
    }

    /// The column of a shown lane (0 = leftmost); `None` if hidden or unknown.
    pub fn column(&self, node: Node) -> Option<usize> {
        self.visible().position(|n| n == node)
    }

    /// Moves `node` `delta` places in the order (negative: to the left /
    /// up the list), stopping at the ends.
    pub fn move_by(&mut self, node: Node, delta: isize) {
        let Some(at) = self.order.iter().position(|n| *n == node) else { return };
        let to = at.saturating_add_signed(delta).min(self.order.len() - 1);
        let lane = self.order.remove(at);
        self.order.insert(to, lane);
        self.arranged = true;
    }

    /// Moves `node` to shown column `column`, where a drag of its header
    /// let go: it takes that lane's place, and the lanes between shift
    /// towards where it was. Hidden lanes keep their place among the others.
    pub fn move_to(&mut self, node: Node, column: usize) {
        let Some(target) = self.visible().nth(column) else { return };
        let (Some(from), Some(to)) = (
            self.order.iter().position(|n| *n == node),
            self.order.iter().position(|n| *n == target),
        ) else {
            return;
        };
        let lane = self.order.remove(from);
        self.order.insert(to, lane);
        self.arranged = true;
    }

    /// Hides a shown lane, shows a hidden one.
    pub fn toggle(&mut self, node: Node) {
        match self.hidden.iter().position(|n| *n == node) {
            Some(at) => {
                self.hidden.remove(at);
            }
            None if self.order.contains(&node) => self.hidden.push(node),
            None => {}
        }
    }
}

/// A lane's short, stable key for test ids and DOM ids: `b2`, `c0` (session
/// 0), `you`.
pub fn lane_key(node: Node) -> String {
    match node {
        Node::Branch(id) => format!("b{id}"),
        Node::Customer(session) => format!("c{session}"),
        Node::Browser => "you".to_owned(),
    }
}

/// A lane's label as the graph names its node: `B2`, `C7` (customer id 7),
/// `you`. The customer id comes from the scenario; a session it does not
/// list is labelled by its index (`S3`).
pub fn lane_label(node: Node, trace: &Trace) -> String {
    match node {
        Node::Branch(id) => format!("B{id}"),
        Node::Customer(session) => trace
            .scenario()
            .and_then(|s| s.customers.iter().find(|c| c.session == session))
            .map_or_else(|| format!("S{session}"), |c| format!("C{}", c.customer_id)),
        Node::Browser => "you".to_owned(),
    }
}

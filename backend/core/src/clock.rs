//! Lamport logical clocks, and which events tick them.
//!
//! A Lamport clock is a counter: every event ticks it, and a receive first
//! jumps to the sender's value (`max(local, received) + 1`), so an event that
//! causally follows another always has a larger clock.
//!
//! The two generations of the course's project 2 disagree on *which* events
//! count, so the branch takes a [`ClockScheme`]:
//!
//! | event | [`ClockScheme::ExecuteAndRespond`] (2021 – spring 2023) | [`ClockScheme::SendAndReceive`] (autumn 2023 on) |
//! |---|---|---|
//! | customer request received | `max(local, msg) + 1` | `max(local, msg) + 1` |
//! | write executed locally | `+1` | — |
//! | propagation sent (per peer) | — (message carries the clock) | `+1` |
//! | propagation received | `max(local, msg) + 1` | `max(local, msg) + 1` |
//! | propagated write executed | `+1` | — |
//! | peer's acknowledgement received | `max(local, msg) + 1` | — |
//! | response to the customer | `+1` | — |
//!
//! [`ClockScheme::rule_for`] (written in [`crate::log`], next to the kinds it
//! reads) is that table as code: it gives each logged
//! event a [`ClockRule`], and [`LamportClock::step`] applies the rule and
//! returns a [`ClockStep`] (the rule, the clock before, the message's clock,
//! the result). A branch keeps the step in its log entry, so
//! [`crate::explain::clock`] can say afterwards, with the numbers, why an
//! event has its clock: the explanation reads what the branch computed, it
//! never recomputes it.

/// The largest clock a message may carry: 2^53 − 1, the largest integer
/// every JSON reader holds exactly (the page's JavaScript, Python graders).
/// A branch refuses a message stamped above it (see `branch/peers.rs`).
pub const MAX_CLOCK: u64 = (1 << 53) - 1;

/// The largest stamp a receive takes as it is: a message stamped between
/// this and [`MAX_CLOCK`] is received as if stamped `MAX_STAMP`. An honest
/// run ticks once per event, so it never comes near; a hostile stamp just
/// under [`MAX_CLOCK`] can then move a clock to 2^52 at most, which leaves
/// 2^52 ticks before the branch's own stamps could reach [`MAX_CLOCK`] and
/// be refused by its peers (refusing stamps that a receive can produce
/// would cut the branch off from them, and make it skip its own stored
/// writes at a restart).
pub const MAX_STAMP: u64 = 1 << 52;

/// Which events tick a branch's clock (see the module docs for the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClockScheme {
    /// Project 2 generation A: `op_request`, `op_execute`,
    /// `op_propagate_request/execute/response`, `op_response`.
    ExecuteAndRespond,
    /// Project 2 generation B: `event_recv` and one `event_sent` per peer.
    #[default]
    SendAndReceive,
}

impl ClockScheme {
    /// The scheme's name where settings are written down as text (a branch
    /// process's saved run settings): `execute-and-respond` or
    /// `send-and-receive`. [`ClockScheme::from_name`] reads it back.
    pub fn name(self) -> &'static str {
        match self {
            ClockScheme::ExecuteAndRespond => "execute-and-respond",
            ClockScheme::SendAndReceive => "send-and-receive",
        }
    }

    /// The course format that uses this scheme: `p2a` or `p2b`.
    pub fn format_name(self) -> &'static str {
        match self {
            ClockScheme::ExecuteAndRespond => "p2a",
            ClockScheme::SendAndReceive => "p2b",
        }
    }

    /// The scheme [`ClockScheme::name`] names, if `name` is one.
    pub fn from_name(name: &str) -> Option<ClockScheme> {
        match name {
            "execute-and-respond" => Some(ClockScheme::ExecuteAndRespond),
            "send-and-receive" => Some(ClockScheme::SendAndReceive),
            _ => None,
        }
    }
}

/// How one event moves a Lamport clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ClockRule {
    /// A message arrived: `max(local, message) + 1`.
    Receive,
    /// A local event: `local + 1`.
    Local,
    /// The event does not count under the scheme: the clock stays.
    #[default]
    Unchanged,
}

/// One application of a [`ClockRule`]: what the clock was, what the message
/// carried, and what it became. `message` is set exactly for
/// [`ClockRule::Receive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ClockStep {
    pub rule: ClockRule,
    /// The branch's clock just before the event.
    pub local: u64,
    /// The clock the received message carried.
    pub message: Option<u64>,
    /// The clock after the event (the log entry's clock).
    pub result: u64,
}

impl ClockStep {
    /// Applies `rule` to a clock at `local` (receiving a message stamped
    /// `message`, for [`ClockRule::Receive`]). [`LamportClock::step`] is this
    /// plus remembering the result.
    pub fn compute(rule: ClockRule, local: u64, message: u64) -> ClockStep {
        // A stamp above MAX_STAMP is taken as MAX_STAMP (see there), and
        // the sums saturate: no message can wrap a clock or panic a branch.
        let (message, result) = match rule {
            ClockRule::Receive => {
                let message = message.min(MAX_STAMP);
                (Some(message), local.max(message).saturating_add(1))
            }
            ClockRule::Local => (None, local.saturating_add(1)),
            ClockRule::Unchanged => (None, local),
        };
        ClockStep { rule, local, message, result }
    }
}

/// A Lamport clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LamportClock(u64);

impl LamportClock {
    pub fn now(self) -> u64 {
        self.0
    }

    /// A local event: `local + 1`.
    pub fn tick(&mut self) -> u64 {
        self.step(ClockRule::Local, 0).result
    }

    /// Receiving a message stamped `received`: `max(local, received) + 1`.
    pub fn receive(&mut self, received: u64) -> u64 {
        self.step(ClockRule::Receive, received).result
    }

    /// Moves the clock up to `floor` if it is below (a restart resuming
    /// above what it reserved); no event, no tick.
    pub fn raise_to(&mut self, floor: u64) {
        self.0 = self.0.max(floor);
    }

    /// Applies `rule` (with the `message`'s clock for a receive; ignored
    /// otherwise) and says how.
    pub fn step(&mut self, rule: ClockRule, message: u64) -> ClockStep {
        let step = ClockStep::compute(rule, self.0, message);
        self.0 = step.result;
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_jumps_past_the_sender() {
        let mut c = LamportClock::default();
        assert_eq!(c.receive(1), 2);
        assert_eq!(c.tick(), 3);
        assert_eq!(c.receive(2), 4, "an older message still ticks");
        assert_eq!(c.receive(10), 11);
    }

    #[test]
    fn scheme_names_read_back() {
        for scheme in [ClockScheme::ExecuteAndRespond, ClockScheme::SendAndReceive] {
            assert_eq!(ClockScheme::from_name(scheme.name()), Some(scheme));
        }
        assert_eq!(ClockScheme::SendAndReceive.name(), "send-and-receive");
        assert_eq!(ClockScheme::from_name("send_and_receive"), None);
        assert_eq!(ClockScheme::from_name(""), None);
    }

    #[test]
    fn a_huge_stamp_moves_the_clock_to_max_stamp_at_most() {
        let mut c = LamportClock::default();
        assert_eq!(c.receive(u64::MAX), MAX_STAMP + 1);
        assert_eq!(c.receive(MAX_CLOCK), MAX_STAMP + 2, "taken as MAX_STAMP");
        assert_eq!(c.tick(), MAX_STAMP + 3);
        let step = ClockStep::compute(ClockRule::Receive, 5, MAX_CLOCK);
        assert_eq!(step.message, Some(MAX_STAMP), "the explanation shows the stamp used");
        assert_eq!(ClockStep::compute(ClockRule::Local, u64::MAX, 0).result, u64::MAX);
    }
}

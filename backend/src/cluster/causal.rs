//! Cause before effect, for activity that arrives by several paths.
//!
//! In-process, every node and customer reports through one channel at the
//! moment things happen, so a propagation is always reported as sent before
//! it is reported as received. With an external cluster the visualizer's
//! process hears each branch over its own `Admin.Trace` stream, and the
//! customers' `Sent` / `Answered` locally: branch 2 may be heard receiving
//! a write before branch 1 is heard sending it.
//!
//! [`reorder`] puts such pairs back in order: an item whose cause has not
//! been seen yet is held until it is, and released after [`HOLD_AT_MOST`]
//! regardless (a duplicate delivery, for instance, is acknowledged without
//! being executed again, so its cause never comes). The pairs are the ones
//! the visualizer draws as a message travelling:
//!
//! | effect | cause |
//! |---|---|
//! | branch logs a customer's request | the customer's `Sent` |
//! | the customer's `Answered` | the branch logs its response |
//! | branch logs a propagation received from P | P logs it sent to the branch |
//! | P logs the acknowledgement from B | B logs it executed P's write |
//! | the end of the run | nothing is held any more |

use std::collections::HashMap;
use std::time::Duration;

use bank_core::{BranchId, CustomerId, EventId, LogKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::observe::{Activity, ActivitySink};

/// The longest an item waits for its cause.
pub const HOLD_AT_MOST: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Sent {
        branch: BranchId,
        customer: CustomerId,
        event: EventId,
    },
    Logged {
        branch: BranchId,
        kind: LogKind,
        peer: Option<BranchId>,
        customer: CustomerId,
        event: EventId,
    },
}

/// What `activity` is the cause of (what later items may wait for).
fn provides(activity: &Activity) -> Option<Key> {
    match activity {
        Activity::Sent { request, .. } => Some(Key::Sent {
            branch: request.branch,
            customer: request.customer,
            event: request.event,
        }),
        Activity::Logged { branch, entry, .. } => Some(Key::Logged {
            branch: *branch,
            kind: entry.kind,
            peer: entry.peer,
            customer: entry.customer,
            event: entry.event,
        }),
        _ => None,
    }
}

/// The cause `activity` must follow, if any.
fn needs(activity: &Activity) -> Option<Key> {
    match activity {
        Activity::Answered { reply, .. } => Some(Key::Logged {
            branch: reply.branch,
            kind: LogKind::Response,
            peer: None,
            customer: reply.customer,
            event: reply.event,
        }),
        Activity::Logged { branch, entry, .. } => {
            let (customer, event) = (entry.customer, entry.event);
            match (entry.kind, entry.peer) {
                (LogKind::Request, _) => Some(Key::Sent { branch: *branch, customer, event }),
                (LogKind::PropagateReceived, Some(peer)) => Some(Key::Logged {
                    branch: peer,
                    kind: LogKind::PropagateSent,
                    peer: Some(*branch),
                    customer,
                    event,
                }),
                (LogKind::PropagateAcked, Some(peer)) => Some(Key::Logged {
                    branch: peer,
                    kind: LogKind::PropagateExecuted,
                    peer: Some(*branch),
                    customer,
                    event,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A sink whose items reach `out` in cause-before-effect order, and the
/// task doing it (it ends when every sender of the returned sink is gone).
pub fn reorder(out: ActivitySink) -> (ActivitySink, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Activity>();
    let task = tokio::spawn(async move {
        let mut order = Order::default();
        let mut tick = tokio::time::interval(HOLD_AT_MOST / 5);
        loop {
            tokio::select! {
                item = rx.recv() => match item {
                    Some(item) => order.push(item, Instant::now(), &out),
                    None => break,
                },
                _ = tick.tick() => order.release_expired(Instant::now(), &out),
            }
        }
        order.flush(&out);
    });
    (tx, task)
}

/// The bookkeeping, apart from the task so it can be tested without time.
#[derive(Default)]
struct Order {
    /// Causes seen and not yet claimed by an effect (ids repeat in course
    /// files, so these are counts).
    seen: HashMap<Key, usize>,
    /// Items waiting for their cause, in arrival order.
    held: Vec<(Instant, Key, Activity)>,
    /// The end of the run, waiting until nothing is held.
    end: Option<Activity>,
}

impl Order {
    fn push(&mut self, item: Activity, now: Instant, out: &ActivitySink) {
        if matches!(item, Activity::RunEnded(_)) {
            self.end = Some(item);
        } else {
            match needs(&item) {
                Some(key) if !self.claim(key) => self.held.push((now, key, item)),
                _ => self.emit(item, out),
            }
        }
        self.release_end(out);
    }

    /// Takes one seen `key`, if there is one.
    fn claim(&mut self, key: Key) -> bool {
        match self.seen.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Sends `item`, then whatever was waiting for it.
    fn emit(&mut self, item: Activity, out: &ActivitySink) {
        let provided = provides(&item);
        let _ = out.send(item);
        if let Some(key) = provided {
            *self.seen.entry(key).or_default() += 1;
            if let Some(i) = self.held.iter().position(|(_, k, _)| *k == key) {
                self.claim(key);
                let (_, _, waiting) = self.held.remove(i);
                self.emit(waiting, out);
            }
        }
    }

    fn release_expired(&mut self, now: Instant, out: &ActivitySink) {
        while let Some(i) =
            self.held.iter().position(|(at, _, _)| now.duration_since(*at) >= HOLD_AT_MOST)
        {
            let (_, _, item) = self.held.remove(i);
            self.emit(item, out);
        }
        self.release_end(out);
    }

    fn release_end(&mut self, out: &ActivitySink) {
        if self.held.is_empty() {
            if let Some(end) = self.end.take() {
                let _ = out.send(end);
            }
        }
    }

    fn flush(&mut self, out: &ActivitySink) {
        for (_, _, item) in std::mem::take(&mut self.held) {
            self.emit(item, out);
        }
        self.release_end(out);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bank_core::branch::Request;
    use bank_core::{Cents, LogEntry, Op, OpKind};

    use super::*;

    fn logged(branch: u64, kind: LogKind, peer: Option<u64>) -> Activity {
        Activity::Logged {
            branch: BranchId(branch),
            entry: LogEntry {
                clock: 1,
                step: Default::default(),
                write: None,
                kind,
                customer: CustomerId(7),
                event: EventId(9),
                op: OpKind::Deposit,
                amount: Cents(100),
                peer: peer.map(BranchId),
                balance: None,
                failed: false,
            },
            balance: Cents(0),
            added_writes: BTreeMap::new(),
        }
    }

    fn sent(branch: u64) -> Activity {
        let request = Request {
            customer: CustomerId(7),
            event: EventId(9),
            branch: BranchId(branch),
            op: Op::Deposit(Cents(100)),
            clock: 1,
            guarantees: bank_core::Guarantees::COURSE,
            write_set: bank_core::WriteSet::new(),
            read_set: bank_core::WriteSet::new(),
        };
        Activity::Sent { session: 0, from_browser: false, request }
    }

    fn names(rx: &mut mpsc::UnboundedReceiver<Activity>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(item) = rx.try_recv() {
            out.push(match item {
                Activity::Logged { branch, entry, .. } => format!("{}:{:?}", branch.0, entry.kind),
                Activity::Sent { request, .. } => format!("sent to {}", request.branch.0),
                Activity::RunEnded(_) => "end".into(),
                Activity::Answered { .. } => "answered".into(),
            });
        }
        out
    }

    #[test]
    fn effects_heard_before_their_causes_are_put_after_them() {
        let (out, mut rx) = mpsc::unbounded_channel();
        let mut order = Order::default();
        let now = Instant::now();
        // Branch 2 is heard receiving before branch 1 is heard sending; the
        // branch's request entry before the customer's Sent.
        order.push(logged(2, LogKind::PropagateReceived, Some(1)), now, &out);
        order.push(logged(1, LogKind::Request, None), now, &out);
        order.push(Activity::RunEnded(Err(crate::error::RunError::Cancelled)), now, &out);
        assert!(names(&mut rx).is_empty(), "all three wait");
        order.push(sent(1), now, &out);
        order.push(logged(1, LogKind::PropagateSent, Some(2)), now, &out);
        assert_eq!(
            names(&mut rx),
            ["sent to 1", "1:Request", "1:PropagateSent", "2:PropagateReceived", "end"]
        );
    }

    #[test]
    fn an_effect_whose_cause_never_comes_is_released_after_a_while() {
        let (out, mut rx) = mpsc::unbounded_channel();
        let mut order = Order::default();
        let now = Instant::now();
        order.push(logged(1, LogKind::PropagateAcked, Some(2)), now, &out);
        order.release_expired(now + HOLD_AT_MOST / 2, &out);
        assert!(names(&mut rx).is_empty());
        order.release_expired(now + HOLD_AT_MOST, &out);
        assert_eq!(names(&mut rx), ["1:PropagateAcked"]);
    }
}

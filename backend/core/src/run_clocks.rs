//! The vector clock of every event of a finished run, read from its
//! [`RunRecord`]: what `bank sim --vector-clocks` prints.
//!
//! The run is drawn as [`crate::causality`] wants it: one lane per branch
//! (ascending id), then one per customer session (input entry order); a
//! branch lane's events are its log entries, a session's are each request
//! sent and each answer received, in event order (a session waits for one
//! answer before it sends its next request). The messages are recovered
//! from the logs:
//!
//! - a customer's request → the branch's `Request` entry for that event;
//! - the branch's `Response` entry → the customer receiving its answer;
//! - `PropagateSent` at A to B → `PropagateReceived` at B from A, for the
//!   same write (the k-th send to the k-th receive when it was retried);
//! - B's acknowledgement → `PropagateAcked` at A from B: it leaves from B's
//!   `PropagateExecuted` of that write, or from the `PropagateReceived` when
//!   B had the write already (a duplicate is acknowledged, not executed).
//!
//! A request that never reached its branch (down, cut off) and a message
//! that was lost order nothing, as in the visualizer's space-time diagram,
//! which computes its clocks with the same [`Causality`] from its trace.
//! Under message loss a retried message is paired k-th to k-th, so an edge
//! may start at an earlier attempt than the one that arrived: still a true
//! "happened before", just not the tightest.

use std::collections::HashMap;

use crate::causality::{Causality, CausalityError, EventRef, VectorClock};
use crate::ids::{BranchId, CustomerId, EventId};
use crate::log::LogKind;
use crate::record::RunRecord;

/// One event of the run, with its clocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockedEvent {
    /// Index into [`RunClocks::lanes`].
    pub lane: usize,
    /// Its place on the lane (0 = first).
    pub seq: usize,
    /// The Lamport clock the run recorded for it (branch log entries, and a
    /// customer's request where the format keeps one).
    pub lamport: Option<u64>,
    pub vector: VectorClock,
    /// What happened, in words.
    pub what: String,
}

/// A run's lanes and every event's clocks, lane by lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunClocks {
    /// `B1`, `B2`, …, then `C<customer id>` (`C3#2` for a customer's second session).
    pub lanes: Vec<String>,
    pub events: Vec<ClockedEvent>,
}

impl RunClocks {
    /// The clocks of `record`'s run.
    pub fn of(record: &RunRecord) -> Result<RunClocks, CausalityError> {
        let branches = record.branches.len();
        let mut lanes: Vec<String> =
            record.branches.iter().map(|b| format!("B{}", b.id.0)).collect();
        let mut sessions_of: HashMap<CustomerId, usize> = HashMap::new();
        for c in &record.customers {
            let n = sessions_of.entry(c.customer).or_default();
            *n += 1;
            lanes.push(match *n {
                1 => format!("C{}", c.customer.0),
                n => format!("C{}#{n}", c.customer.0),
            });
        }
        let lane_of_branch: HashMap<BranchId, usize> =
            record.branches.iter().enumerate().map(|(i, b)| (b.id, i)).collect();

        let mut events: Vec<ClockedEvent> = Vec::new();
        let push = |events: &mut Vec<ClockedEvent>, lane, seq, lamport, what| {
            events.push(ClockedEvent { lane, seq, lamport, vector: VectorClock::default(), what });
        };
        // Branch entries by what they are about, in log order.
        type Key = (usize, CustomerId, EventId);
        let mut requests: HashMap<Key, Vec<EventRef>> = HashMap::new();
        let mut responses: HashMap<Key, Vec<EventRef>> = HashMap::new();
        // (from lane, to lane, customer, event)
        type Link = (usize, usize, CustomerId, EventId);
        let mut prop_sent: HashMap<Link, Vec<EventRef>> = HashMap::new();
        let mut prop_received: HashMap<Link, Vec<EventRef>> = HashMap::new();
        let mut ack_sources: HashMap<Link, Vec<EventRef>> = HashMap::new();
        let mut acked: HashMap<Link, Vec<EventRef>> = HashMap::new();
        for (lane, branch) in record.branches.iter().enumerate() {
            for (seq, entry) in branch.log.iter().enumerate() {
                let at = EventRef { lane, seq };
                let (c, e) = (entry.customer, entry.event);
                let peer = entry.peer.and_then(|p| lane_of_branch.get(&p).copied());
                match (entry.kind, peer) {
                    (LogKind::Request, _) => requests.entry((lane, c, e)).or_default().push(at),
                    (LogKind::Response, _) => responses.entry((lane, c, e)).or_default().push(at),
                    (LogKind::PropagateSent, Some(p)) => {
                        prop_sent.entry((lane, p, c, e)).or_default().push(at);
                    }
                    (LogKind::PropagateReceived, Some(p)) => {
                        prop_received.entry((p, lane, c, e)).or_default().push(at);
                        // Acknowledged from here unless executed before the next copy.
                        ack_sources.entry((lane, p, c, e)).or_default().push(at);
                    }
                    (LogKind::PropagateExecuted, Some(p)) => {
                        if let Some(last) =
                            ack_sources.get_mut(&(lane, p, c, e)).and_then(|v| v.last_mut())
                        {
                            *last = at;
                        }
                    }
                    (LogKind::PropagateAcked, Some(p)) => {
                        acked.entry((p, lane, c, e)).or_default().push(at);
                    }
                    _ => {}
                }
                push(&mut events, lane, seq, Some(entry.clock), entry.narrate(branch.id));
            }
        }

        let mut lengths: Vec<usize> = record.branches.iter().map(|b| b.log.len()).collect();
        let mut messages: Vec<(EventRef, EventRef)> = Vec::new();
        let mut taken: HashMap<(bool, Key), usize> = HashMap::new();
        let mut next = |map: &HashMap<Key, Vec<EventRef>>, response: bool, key: Key| {
            let k = taken.entry((response, key)).or_default();
            let found = map.get(&key).and_then(|v| v.get(*k)).copied();
            *k += 1;
            found
        };
        for (i, customer) in record.customers.iter().enumerate() {
            let lane = branches + i;
            let mut seq = 0;
            for result in &customer.results {
                let key = lane_of_branch
                    .get(&result.branch)
                    .map(|&b| (b, customer.customer, result.event));
                let send = EventRef { lane, seq };
                let clock = Some(result.customer_clock).filter(|c| *c > 0);
                push(
                    &mut events,
                    lane,
                    seq,
                    clock,
                    format!("sent {} {} to {}", result.op, result.event, result.branch),
                );
                seq += 1;
                let receive = EventRef { lane, seq };
                push(
                    &mut events,
                    lane,
                    seq,
                    None,
                    format!("received the answer to {}", result.event),
                );
                seq += 1;
                if let Some(key) = key {
                    if let Some(request) = next(&requests, false, key) {
                        messages.push((send, request));
                    }
                    if let Some(response) = next(&responses, true, key) {
                        messages.push((response, receive));
                    }
                }
            }
            lengths.push(seq);
        }
        let pair = |from: &HashMap<Link, Vec<EventRef>>,
                    to: &HashMap<Link, Vec<EventRef>>,
                    out: &mut Vec<_>| {
            for (link, sends) in from {
                if let Some(receives) = to.get(link) {
                    out.extend(sends.iter().copied().zip(receives.iter().copied()));
                }
            }
        };
        pair(&prop_sent, &prop_received, &mut messages);
        pair(&ack_sources, &acked, &mut messages);
        messages.sort_unstable();

        let causality = Causality::compute(&lengths, &messages)?;
        for event in &mut events {
            let at = EventRef { lane: event.lane, seq: event.seq };
            event.vector = causality.clock(at).cloned().unwrap_or_default();
        }
        Ok(RunClocks { lanes, events })
    }

    /// One line per event, lane by lane: `B1 #3  lamport 4  [1,2,0,1]  …`,
    /// after a line naming the vector's entries.
    pub fn table(&self) -> String {
        let mut out = format!("vector clock entries: [{}]\n", self.lanes.join(","));
        for e in &self.events {
            let lamport = e.lamport.map_or_else(|| "-".to_owned(), |c| c.to_string());
            out.push_str(&format!(
                "{:<6} #{:<4} lamport {:>4}  {}  {}\n",
                self.lanes[e.lane],
                e.seq + 1,
                lamport,
                e.vector,
                e.what
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::demo;
    use crate::scenario::Scenario;
    use crate::sim::SimConfig;

    fn scenario() -> Scenario {
        let text = r#"[
            {"id": 1, "type": "branch", "balance": 400},
            {"id": 2, "type": "branch", "balance": 400},
            {"id": 1, "type": "customer", "events": [
                {"id": 1, "interface": "deposit", "money": 70, "branch": 1},
                {"id": 2, "interface": "query", "branch": 2}
            ]}
        ]"#;
        crate::formats::parse_input(text, "test.json").expect("a valid input")
    }

    #[test]
    fn a_propagated_deposit_orders_the_origin_before_the_replica() {
        let s = scenario();
        let format = crate::formats::OutputFormat::default_for(s.shape);
        let run = demo::run_checked(&s, &SimConfig { seed: 1, ..demo::base_for(format) })
            .expect("the run finishes")
            .run;
        let clocks = RunClocks::of(&run.record).expect("a run's messages form no cycle");
        assert_eq!(clocks.lanes, ["B1", "B2", "C1"]);
        let lane_events = |lane: usize| clocks.events.iter().filter(move |e| e.lane == lane);
        // The customer's last event (the query's answer) has seen everything
        // the deposit caused at branch 1 up to its answer, and the query at 2.
        let last = lane_events(2).next_back().expect("the customer's events");
        assert_eq!(last.vector.get(2), 4, "two requests, two answers");
        assert!(last.vector.get(0) >= 1 && last.vector.get(1) >= 1, "{}", clocks.table());
        // Every event's own entry is its place on its lane.
        for e in &clocks.events {
            assert_eq!(e.vector.get(e.lane), e.seq as u64 + 1);
        }
        // Branch 2 received the write from branch 1: from then on its
        // entry for branch 1 is at least the send's.
        let b1 = &run.record.branches[0].log;
        let sent = b1.iter().position(|l| l.kind == LogKind::PropagateSent).expect("propagated");
        let received =
            lane_events(1).find(|e| e.what.contains("received deposit")).expect("received");
        assert!(received.vector.get(0) > sent as u64, "{}", clocks.table());
        assert!(clocks.table().starts_with("vector clock entries: [B1,B2,C1]\n"));
    }
}

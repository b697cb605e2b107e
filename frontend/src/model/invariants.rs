//! The live invariants of the trace at the playback cursor.
//!
//! The checking is `bank_core::check::live` (the same checker as `bank
//! check`); this file only reads the trace into its inputs, once per event
//! ([`LiveTrace::sync`]), and tells it which messages are in flight at the
//! cursor ([`TraceNet`]).

use std::collections::{BTreeSet, HashMap};

use bank_core::branch::Reply;
use bank_core::check::live::{
    self, InFlight, Invariant, InvariantKind, LiveCheck, LiveInput, Verdict,
};
use bank_core::{BranchId, Cents, CustomerId, Guarantees, LogEntry};
use bank_proto::convert::guarantees_or_course;
use bank_proto::{lab_event::Event, ScenarioSummary};

use super::trace::{Node, Trace};

/// The trace read into the live checker's inputs, kept in step with the
/// trace as it grows (a new history starts over).
#[derive(Clone, Debug, Default)]
pub struct LiveTrace {
    generation: u64,
    /// Trace events read so far.
    seen: usize,
    start: Option<LiveCheck>,
    /// Each input with the index of the trace event it came from.
    inputs: Vec<(usize, LiveInput)>,
    /// What each request asked to move, by (customer, event id, branch).
    amounts: HashMap<(u64, u64, u64), Cents>,
}

/// The first moment an invariant broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstBreak {
    /// The cursor that shows it (the breaking event is `cursor - 1`).
    pub cursor: usize,
    pub kind: InvariantKind,
    pub detail: String,
}

impl LiveTrace {
    /// Reads the trace events not read yet.
    pub fn sync(&mut self, trace: &Trace) {
        if trace.generation() != self.generation || trace.len() < self.seen {
            *self = LiveTrace { generation: trace.generation(), ..LiveTrace::default() };
        }
        for (index, event) in trace.events().iter().enumerate().skip(self.seen) {
            self.read(index, event.event.as_ref());
        }
        self.seen = trace.len();
    }

    fn read(&mut self, index: usize, event: Option<&Event>) {
        let input = match event {
            Some(Event::Loaded(summary)) => {
                self.start = Some(start_of(summary));
                self.inputs.clear();
                None
            }
            Some(Event::CustomerSent(sent)) => {
                let Some(req) = &sent.request else { return };
                let key = (req.customer_id, req.event_id, req.branch_id);
                self.amounts.insert(key, Cents(req.amount_cents));
                Some(LiveInput::Sent { session: session(sent.from_browser, sent.session) })
            }
            Some(Event::CustomerAnswered(answered)) => {
                let Some(reply) = answered.reply.as_ref().and_then(|r| Reply::try_from(r).ok())
                else {
                    return;
                };
                let key = (reply.customer.0, reply.event.0, reply.branch.0);
                let amount = self.amounts.get(&key).copied().unwrap_or(Cents::ZERO);
                let session = session(answered.from_browser, answered.session);
                Some(LiveInput::answered(session, &reply, amount))
            }
            Some(Event::BranchLogged(logged)) => logged
                .entry
                .as_ref()
                .and_then(|e| LogEntry::try_from(e).ok())
                .and_then(|e| LiveInput::from_log(BranchId(logged.branch_id), &e)),
            _ => None,
        };
        if let Some(input) = input {
            self.inputs.push((index, input));
        }
    }

    /// The live checker after `trace[..cursor]` (`None` before a load).
    fn at(&self, cursor: usize) -> Option<LiveCheck> {
        let mut live = self.start.clone()?;
        for (_, input) in self.inputs.iter().take_while(|(i, _)| *i < cursor) {
            live.push(input.clone());
        }
        Some(live)
    }

    /// Every invariant after `trace[..cursor]` (empty before a load).
    pub fn status(&self, trace: &Trace, cursor: usize) -> Vec<Invariant> {
        let Some(live) = self.at(cursor) else { return Vec::new() };
        live.status(&live.report(), &TraceNet::at(trace, cursor))
    }

    /// The first cursor at which any invariant is broken, over the whole
    /// recorded trace: the checker's first violation (found by
    /// [`live::first_violation`]) or the first quiet moment at which money
    /// or convergence fails, whichever comes first.
    pub fn first_break(&self, trace: &Trace) -> Option<FirstBreak> {
        let start = self.start.as_ref()?;
        let inputs: Vec<LiveInput> = self.inputs.iter().map(|(_, x)| x.clone()).collect();
        let checked = live::first_violation(start, &inputs).map(|(n, report)| {
            let v = &report.violations[0];
            let kind = match v.anomaly {
                bank_core::check::Anomaly::Broke(g) => InvariantKind::Guarantee(g),
                bank_core::check::Anomaly::Overdraft => InvariantKind::NoOverdraft,
            };
            FirstBreak { cursor: self.inputs[n - 1].0 + 1, kind, detail: v.sentence.clone() }
        });
        let limit = checked.as_ref().map_or(trace.len(), |c| c.cursor);
        self.first_quiet_break(trace, limit).or(checked)
    }

    /// The first cursor before `limit` where money or convergence fails.
    fn first_quiet_break(&self, trace: &Trace, limit: usize) -> Option<FirstBreak> {
        let mut live = self.start.clone()?;
        // Flights opening and closing at each cursor, so each step is cheap.
        let mut opens: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut closes: HashMap<usize, Vec<usize>> = HashMap::new();
        for f in trace.flights() {
            opens.entry(f.start + 1).or_default().push(f.id);
            if let Some(end) = f.end {
                closes.entry(end + 1).or_default().push(f.id);
            }
        }
        let mut net = TraceNet::default();
        let mut next = self.inputs.iter().peekable();
        for cursor in 1..limit {
            for &id in opens.get(&cursor).into_iter().flatten() {
                net.open(trace, id, 1);
            }
            for &id in closes.get(&cursor).into_iter().flatten() {
                net.open(trace, id, -1);
            }
            while let Some((_, input)) = next.next_if(|(i, _)| *i < cursor) {
                live.push(input.clone());
            }
            for invariant in [live.money(&net), live.convergence(&net)] {
                if invariant.verdict == Verdict::Broken {
                    return Some(FirstBreak {
                        cursor,
                        kind: invariant.kind,
                        detail: invariant.detail,
                    });
                }
            }
        }
        None
    }
}

/// Scripted sessions by index; the browser is not one of them.
fn session(from_browser: bool, session: u32) -> Option<usize> {
    (!from_browser).then_some(session as usize)
}

/// A fresh checker for the loaded scenario: its sessions (with the
/// guarantees each asks for) and its branches' starting balances.
fn start_of(summary: &ScenarioSummary) -> LiveCheck {
    let everyone = guarantees_or_course(summary.guarantees);
    let own: HashMap<u64, Guarantees> = summary
        .customer_guarantees
        .iter()
        .filter_map(|c| <(CustomerId, Guarantees)>::try_from(c).ok())
        .map(|(c, g)| (c.0, g))
        .collect();
    let mut sessions: Vec<_> = summary.customers.iter().collect();
    sessions.sort_by_key(|c| c.session);
    LiveCheck::new(
        sessions.into_iter().map(|c| {
            (CustomerId(c.customer_id), own.get(&c.customer_id).copied().unwrap_or(everyone))
        }),
        summary.branches.iter().map(|b| (BranchId(b.id), Cents(b.balance_cents))),
    )
}

/// The messages in flight at a cursor, per branch they touch.
#[derive(Clone, Debug, Default)]
pub struct TraceNet {
    touching: HashMap<u64, i64>,
    total: i64,
}

impl TraceNet {
    /// The messages in flight after `trace[..cursor]`.
    pub fn at(trace: &Trace, cursor: usize) -> TraceNet {
        let mut net = TraceNet::default();
        let ids: BTreeSet<usize> = trace.in_flight(cursor).map(|f| f.id).collect();
        for id in ids {
            net.open(trace, id, 1);
        }
        net
    }

    /// Counts flight `id` in (`by` 1) or out (`by` −1).
    fn open(&mut self, trace: &Trace, id: usize, by: i64) {
        let Some(f) = trace.flights().get(id) else { return };
        self.total += by;
        for node in [f.from, f.to] {
            if let Node::Branch(b) = node {
                *self.touching.entry(b).or_default() += by;
            }
        }
    }
}

impl InFlight for TraceNet {
    fn touches(&self, branch: BranchId) -> bool {
        self.touching.get(&branch.0).is_some_and(|n| *n > 0)
    }

    fn any(&self) -> bool {
        self.total > 0
    }
}

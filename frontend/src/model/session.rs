//! The browser as a customer: its id, event ids, Lamport clock, write set,
//! read set (every write its queries saw) and the guarantees it asks for.

use std::collections::{BTreeMap, BTreeSet};

use bank_proto::{customer_reply, CustomerReply, CustomerRequest, Guarantees, Operation, OriginWrites, Session, WriteId, WriteSet};

use super::format;

/// The customer id the browser uses (scenario customers have small ids).
pub const BROWSER_CUSTOMER_ID: u64 = 1000;
/// The browser's first event id; later ones count up.
pub const FIRST_EVENT_ID: u64 = 1000;

/// The browser's customer session. A new history (load or reset) starts a
/// fresh cluster whose branches never saw the old writes, so it resets too.
#[derive(Clone, Debug, PartialEq)]
pub struct BrowserSession {
    next_event: u64,
    clock: u64,
    write_set: Vec<WriteId>,
    read_set: WriteSet,
    /// `None`: the course's (Read Your Writes and Monotonic Writes).
    guarantees: Option<Guarantees>,
}

impl Default for BrowserSession {
    fn default() -> Self {
        BrowserSession { next_event: FIRST_EVENT_ID, clock: 0, write_set: Vec::new(), read_set: WriteSet::default(), guarantees: None }
    }
}

impl BrowserSession {
    /// The next request: a fresh event id, the clock ticked, the write set attached.
    pub fn request(&mut self, branch_id: u64, operation: Operation, amount_cents: i64) -> CustomerRequest {
        self.clock += 1;
        let event_id = self.next_event;
        self.next_event += 1;
        CustomerRequest {
            customer_id: BROWSER_CUSTOMER_ID,
            event_id,
            branch_id,
            operation: operation as i32,
            amount_cents: if operation == Operation::Query { 0 } else { amount_cents },
            clock: self.clock,
            session: Some(Session {
                write_set: self.write_set.clone(),
                read_set: Some(self.read_set.clone()),
                guarantees: self.guarantees,
            }),
        }
    }

    /// Takes in a reply: the clock catches up, an acknowledged write joins the
    /// write set. Returns the text shown to the person.
    pub fn answered(&mut self, reply: &CustomerReply) -> String {
        self.clock = self.clock.max(reply.clock) + 1;
        match &reply.result {
            Some(customer_reply::Result::Success(s)) => {
                if let Some(write) = &s.write {
                    self.write_set.push(*write);
                }
                if let Some(observed) = &s.observed {
                    self.read_set = union(&self.read_set, observed);
                }
                format!("success: balance {}", format::cents(s.balance_cents))
            }
            Some(customer_reply::Result::Failure(f)) => {
                let message = if f.message.is_empty() { format::failure_reason(f.reason).to_owned() } else { f.message.clone() };
                format!("failure: {message} (balance {})", format::cents(f.balance_cents))
            }
            None => "no result".to_owned(),
        }
    }

    pub fn write_set(&self) -> &[WriteId] {
        &self.write_set
    }

    pub fn read_set(&self) -> &WriteSet {
        &self.read_set
    }

    pub fn guarantees(&self) -> Option<Guarantees> {
        self.guarantees
    }

    /// What the session asks for from now on (`None`: the course's).
    pub fn set_guarantees(&mut self, guarantees: Option<Guarantees>) {
        self.guarantees = guarantees;
    }
}

/// `all`, `none`, `course` or a list like `ryw,mw` (what the server names
/// the loaded scenario's guarantees); `None` if unreadable.
pub fn parse_guarantees(text: &str) -> Option<Guarantees> {
    let mut g = Guarantees::default();
    match text.trim() {
        "all" => return Some(Guarantees { read_your_writes: true, monotonic_reads: true, writes_follow_reads: true, monotonic_writes: true }),
        "none" => return Some(g),
        "course" | "" => return Some(Guarantees { read_your_writes: true, monotonic_writes: true, ..g }),
        list => {
            for part in list.split(',').map(str::trim) {
                match part {
                    "ryw" => g.read_your_writes = true,
                    "mr" => g.monotonic_reads = true,
                    "wfr" => g.writes_follow_reads = true,
                    "mw" => g.monotonic_writes = true,
                    _ => return None,
                }
            }
        }
    }
    Some(g)
}

/// The server's name for a guarantee setting: `all`, `none` or `ryw,mw`.
pub fn guarantees_text(g: &Guarantees) -> String {
    let on = [(g.read_your_writes, "ryw"), (g.monotonic_reads, "mr"), (g.writes_follow_reads, "wfr"), (g.monotonic_writes, "mw")];
    let names: Vec<&str> = on.iter().filter(|(b, _)| *b).map(|(_, n)| *n).collect();
    match names.len() {
        0 => "none".to_owned(),
        4 => "all".to_owned(),
        _ => names.join(","),
    }
}

/// Every write in `a` or `b` (sets of write ids as version vectors with exceptions).
pub fn union(a: &WriteSet, b: &WriteSet) -> WriteSet {
    let mut origins: BTreeMap<u64, (u64, BTreeSet<u64>)> = BTreeMap::new();
    for o in a.origins.iter().chain(&b.origins) {
        let entry = origins.entry(o.origin_branch).or_default();
        entry.0 = entry.0.max(o.prefix);
        entry.1.extend(o.extra.iter().copied());
    }
    WriteSet {
        origins: origins
            .into_iter()
            .map(|(origin, (mut prefix, extra))| {
                let mut extra: BTreeSet<u64> = extra.into_iter().filter(|s| *s > prefix).collect();
                while extra.remove(&(prefix + 1)) {
                    prefix += 1;
                }
                OriginWrites { origin_branch: origin, prefix, extra: extra.into_iter().collect() }
            })
            .collect(),
    }
}

/// `w1.1-3, w2.5`: a write set for people.
pub fn write_set_text(set: &WriteSet) -> String {
    let mut parts = Vec::new();
    for o in &set.origins {
        match o.prefix {
            0 => {}
            1 => parts.push(format!("w{}.1", o.origin_branch)),
            p => parts.push(format!("w{}.1-{p}", o.origin_branch)),
        }
        parts.extend(o.extra.iter().map(|s| format!("w{}.{s}", o.origin_branch)));
    }
    if parts.is_empty() { "empty".to_owned() } else { parts.join(", ") }
}

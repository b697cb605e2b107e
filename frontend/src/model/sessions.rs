//! Every customer session of the run (the browser's too), replayed to the
//! cursor: its write and read sets as they grow, and for every request the
//! guarantees it asked for, what they required, and whether the branch had
//! to park it.
//!
//! The rules are the core's: a session's sets grow by
//! [`bank_core::Session::observe`], what a request requires is
//! [`Guarantees::required`], what the branch lacks is
//! [`WriteSet::missing_from`] and which guarantee asked for a write is
//! [`Guarantees::why_needed`], the very calls the branch makes when it
//! decides to park a request. The trace says what the branch had applied
//! when the request arrived ([`Applied`]) and when it finally executed
//! the request (released) or refused it.
//!
//! [`Sessions::advanced`] replays forward from an earlier cursor, as
//! [`super::trace::World::advanced`] does, so following the cursor costs the
//! events in between.

use bank_core::branch::Reply;
use bank_core::Request;
use bank_core::{
    BranchId, CustomerId, EventId, Guarantee, Guarantees, LogEntry, LogKind, Op, Outcome, Session,
    WriteId, WriteSet,
};
use bank_proto::convert::guarantees_or_course;
use bank_proto::{lab_event::Event, LabEvent, ScenarioSummary};

use super::applied::Applied;
use super::trace::{Node, Trace};

/// Every session, at the cursor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sessions {
    /// Events applied.
    pub cursor: usize,
    pub generation: u64,
    /// Scripted sessions in input order, then the browser.
    pub sessions: Vec<SessionView>,
    applied: Applied,
}

/// One customer session.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionView {
    pub node: Node,
    /// The core's session, fed every answer so far: its write and read sets.
    pub session: Session,
    /// What the session asks for: its latest request's guarantees (before
    /// any, what the lab gives it).
    pub guarantees: Guarantees,
    /// Its requests so far, in issue order.
    pub requests: Vec<RequestView>,
}

/// One request of a session.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestView {
    /// Trace index of the event that sent it.
    pub sent_at: usize,
    pub event: EventId,
    pub branch: BranchId,
    pub op: Op,
    /// What the request asked for.
    pub guarantees: Guarantees,
    /// The session's write and read sets the request carried.
    pub write_set: WriteSet,
    pub read_set: WriteSet,
    /// The writes its guarantees require the branch to have applied.
    pub required: WriteSet,
    /// Trace index of the branch's `Request` entry.
    pub received_at: Option<usize>,
    /// The branch lacked required writes when the request arrived.
    pub parked: Option<Parked>,
    pub answer: Option<AnswerView>,
}

/// A request the branch could not serve at once.
#[derive(Clone, Debug, PartialEq)]
pub struct Parked {
    /// Trace index of the branch's `Request` entry.
    pub at: usize,
    /// What was missing, by origin and by the guarantee that asked for it.
    pub missing: Vec<Missing>,
    /// Missing writes the branch has applied since.
    pub arrived: WriteSet,
    /// How the wait ended (`None`: still waiting at the cursor).
    pub ended: Option<WaitEnd>,
}

/// Writes of one origin that a request needed and its branch lacked.
#[derive(Clone, Debug, PartialEq)]
pub struct Missing {
    pub origin: BranchId,
    /// The guarantee that requires them (`None` cannot happen for a write
    /// in the required set, kept for a hand-made trace).
    pub guarantee: Option<Guarantee>,
    pub writes: WriteSet,
}

/// How a parked request's wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEnd {
    /// The missing writes arrived and the branch executed it (trace index).
    Released(usize),
    /// The branch gave up waiting and refused it (trace index).
    Refused(usize),
}

/// The answer the session received.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerView {
    pub at: usize,
    pub outcome: Outcome,
    pub write: Option<WriteId>,
    pub observed: Option<WriteSet>,
}

impl RequestView {
    /// Parked and not released or refused at the cursor.
    pub fn is_waiting(&self) -> bool {
        self.parked.as_ref().is_some_and(|p| p.ended.is_none())
    }
}

impl Parked {
    /// Every missing write, whatever its origin.
    pub fn all_missing(&self) -> WriteSet {
        let mut all = WriteSet::new();
        for m in &self.missing {
            all.union_with(&m.writes);
        }
        all
    }
}

impl SessionView {
    /// `customer-<session>` or `browser`: for test ids.
    pub fn key(&self) -> String {
        match self.node {
            Node::Customer(session) => format!("customer-{session}"),
            Node::Branch(id) => format!("branch-{id}"),
            Node::Browser => "browser".to_owned(),
        }
    }
}

impl Sessions {
    /// Replays `trace[..cursor]`.
    pub fn at(trace: &Trace, cursor: usize) -> Sessions {
        let mut sessions = Sessions { generation: trace.generation(), ..Sessions::default() };
        for (index, event) in trace.events().iter().enumerate().take(cursor) {
            sessions.apply(index, event);
        }
        sessions
    }

    /// Sessions at `cursor`, replayed forward from these when they are of
    /// the same history and not ahead; equal to `Sessions::at(trace, cursor)`.
    pub fn advanced(&self, trace: &Trace, cursor: usize) -> Sessions {
        let cursor = cursor.min(trace.len());
        if self.generation != trace.generation() || self.cursor > cursor {
            return Sessions::at(trace, cursor);
        }
        let mut next = self.clone();
        for (index, event) in trace.events().iter().enumerate().take(cursor).skip(self.cursor) {
            next.apply(index, event);
        }
        next
    }

    /// The session of `node`, if it has one.
    pub fn session(&self, node: Node) -> Option<&SessionView> {
        self.sessions.iter().find(|s| s.node == node)
    }

    /// Applies the event at trace index `index`.
    pub fn apply(&mut self, index: usize, event: &LabEvent) {
        self.cursor = index + 1;
        let applied = self.applied.apply(event);
        match &event.event {
            Some(Event::Loaded(scenario)) => {
                *self = Sessions {
                    cursor: index + 1,
                    generation: self.generation,
                    sessions: scripted(scenario),
                    applied: Applied::new(),
                };
            }
            Some(Event::CustomerSent(sent)) => {
                let Some(request) = sent.request.as_ref() else { return };
                let Ok(request) = Request::try_from(request) else { return };
                let node =
                    if sent.from_browser { Node::Browser } else { Node::Customer(sent.session) };
                let session = self.session_mut(node, request.customer, request.guarantees);
                let required = request.guarantees.required(
                    request.op.kind(),
                    &request.write_set,
                    &request.read_set,
                );
                session.requests.push(RequestView {
                    sent_at: index,
                    event: request.event,
                    branch: request.branch,
                    op: request.op,
                    guarantees: request.guarantees,
                    required,
                    write_set: request.write_set,
                    read_set: request.read_set,
                    received_at: None,
                    parked: None,
                    answer: None,
                });
                session.guarantees = request.guarantees;
            }
            Some(Event::BranchLogged(logged)) => {
                let branch = BranchId(logged.branch_id);
                if let Some(done) = applied {
                    self.note_arrival(done.branch, done.write);
                }
                let Some(entry) = logged.entry.as_ref().and_then(|e| LogEntry::try_from(e).ok())
                else {
                    return;
                };
                match entry.kind {
                    LogKind::Request => {
                        let have = self.applied.set(branch).clone();
                        let Some(request) = self.pending(branch, entry.customer, entry.event)
                        else {
                            return;
                        };
                        request.received_at = Some(index);
                        if !have.contains_all(&request.required) {
                            request.parked = Some(Parked {
                                at: index,
                                missing: missing(request, &have),
                                arrived: WriteSet::new(),
                                ended: None,
                            });
                        }
                    }
                    LogKind::Execute => {
                        let Some(request) = self.received(branch, entry.customer, entry.event)
                        else {
                            return;
                        };
                        if let Some(parked) = request.parked.as_mut().filter(|p| p.ended.is_none())
                        {
                            let all = parked.all_missing();
                            // A refusal of a request whose writes never came is the
                            // branch giving up; any other Execute is its release.
                            parked.ended =
                                Some(if entry.failed && !parked.arrived.contains_all(&all) {
                                    WaitEnd::Refused(index)
                                } else {
                                    WaitEnd::Released(index)
                                });
                        }
                    }
                    _ => {}
                }
            }
            Some(Event::CustomerAnswered(answered)) => {
                let Some(reply) = answered.reply.as_ref() else { return };
                let Ok(reply) = Reply::try_from(reply) else { return };
                let node = if answered.from_browser {
                    Node::Browser
                } else {
                    Node::Customer(answered.session)
                };
                let Some(session) = self.sessions.iter_mut().find(|s| s.node == node) else {
                    return;
                };
                session.session.observe(&reply);
                let request = session
                    .requests
                    .iter_mut()
                    .rev()
                    .find(|r| r.event == reply.event && r.answer.is_none());
                if let Some(request) = request {
                    request.answer = Some(AnswerView {
                        at: index,
                        outcome: reply.outcome.clone(),
                        write: reply.write,
                        observed: reply.observed.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    fn session_mut(
        &mut self,
        node: Node,
        customer: CustomerId,
        guarantees: Guarantees,
    ) -> &mut SessionView {
        let at = match self.sessions.iter().position(|s| s.node == node) {
            Some(at) => at,
            None => {
                self.sessions.push(SessionView {
                    node,
                    session: Session::with_guarantees(customer, guarantees),
                    guarantees,
                    requests: Vec::new(),
                });
                self.sessions.len() - 1
            }
        };
        &mut self.sessions[at]
    }

    /// The request of `customer`'s event sent to `branch` and not received yet.
    fn pending(
        &mut self,
        branch: BranchId,
        customer: CustomerId,
        event: EventId,
    ) -> Option<&mut RequestView> {
        self.requests_of(customer)
            .find(|r| r.event == event && r.branch == branch && r.received_at.is_none())
    }

    /// The request of `customer`'s event received by `branch` and not executed.
    fn received(
        &mut self,
        branch: BranchId,
        customer: CustomerId,
        event: EventId,
    ) -> Option<&mut RequestView> {
        self.requests_of(customer).find(|r| {
            r.event == event
                && r.branch == branch
                && r.received_at.is_some()
                && r.parked.as_ref().is_none_or(|p| p.ended.is_none())
        })
    }

    fn requests_of(&mut self, customer: CustomerId) -> impl Iterator<Item = &mut RequestView> {
        self.sessions
            .iter_mut()
            .filter(move |s| s.session.customer() == customer)
            .flat_map(|s| s.requests.iter_mut().rev())
    }

    /// `branch` applied `write`: a request parked there for it is one write closer.
    fn note_arrival(&mut self, branch: BranchId, write: WriteId) {
        for session in &mut self.sessions {
            for request in session.requests.iter_mut().filter(|r| r.branch == branch) {
                if let Some(parked) = request.parked.as_mut().filter(|p| p.ended.is_none()) {
                    if parked.missing.iter().any(|m| m.writes.contains(&write)) {
                        parked.arrived.insert(write);
                    }
                }
            }
        }
    }
}

/// The scenario's sessions before any request, with the guarantees the lab
/// gives them (a customer's own, else the scenario's).
fn scripted(scenario: &ScenarioSummary) -> Vec<SessionView> {
    let default = guarantees_or_course(scenario.guarantees);
    let mut customers = scenario.customers.clone();
    customers.sort_by_key(|c| c.session);
    customers
        .iter()
        .map(|c| {
            let own = scenario
                .customer_guarantees
                .iter()
                .find(|g| g.customer_id == c.customer_id)
                .map(|g| guarantees_or_course(g.guarantees));
            let customer = CustomerId(c.customer_id);
            SessionView {
                node: Node::Customer(c.session),
                session: Session::with_guarantees(customer, own.unwrap_or(default)),
                guarantees: own.unwrap_or(default),
                requests: Vec::new(),
            }
        })
        .collect()
}

/// What `request`'s branch lacks of what it requires, by origin and guarantee.
fn missing(request: &RequestView, have: &WriteSet) -> Vec<Missing> {
    let kind = request.op.kind();
    let (writes, reads) = (&request.write_set, &request.read_set);
    let mut out: Vec<Missing> = Vec::new();
    for write in have.missing_iter(&request.required) {
        let guarantee = request.guarantees.why_needed(kind, writes, reads, &write);
        match out.iter_mut().find(|m| m.origin == write.origin && m.guarantee == guarantee) {
            Some(m) => {
                m.writes.insert(write);
            }
            None => out.push(Missing {
                origin: write.origin,
                guarantee,
                writes: [write].into_iter().collect(),
            }),
        }
    }
    out
}

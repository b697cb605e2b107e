//! `lab.proto`: what the browser is shown of a scenario (its summary, why it
//! was refused, the checker's violations, a simulated run) and the faults it
//! can inject. The lab's settings are plain enums and `Guarantees`, converted
//! in `super::enums` and `super::types`.

use bank_core::check::{Evidence, Violation};
use bank_core::experiment::demo::Checked;
use bank_core::formats::InputError;
use bank_core::network::{Delay, Fault};
use bank_core::{
    BranchRecord, BranchSpec, CustomerScript, Guarantees, History, Outcome, Scenario, ScriptEvent,
};

use super::ConvertError;
use crate::v1 as pb;

impl From<&BranchSpec> for pb::BranchInfo {
    fn from(b: &BranchSpec) -> pb::BranchInfo {
        pb::BranchInfo { id: b.id.0, balance_cents: b.balance.0 }
    }
}

/// A branch's final balance.
impl From<&BranchRecord> for pb::BranchInfo {
    fn from(b: &BranchRecord) -> pb::BranchInfo {
        pb::BranchInfo { id: b.id.0, balance_cents: b.balance.0 }
    }
}

impl From<&ScriptEvent> for pb::ScriptedEvent {
    fn from(e: &ScriptEvent) -> pb::ScriptedEvent {
        pb::ScriptedEvent {
            event_id: e.id.0,
            operation: pb::Operation::from(e.op.kind()).into(),
            amount_cents: e.op.amount().0,
            branch_id: e.branch.0,
        }
    }
}

/// The customer entry at index `session` of the scenario.
impl From<(usize, &CustomerScript)> for pb::CustomerInfo {
    fn from((session, c): (usize, &CustomerScript)) -> pb::CustomerInfo {
        pb::CustomerInfo {
            session: session as u32,
            customer_id: c.id.0,
            events: c.events.iter().map(pb::ScriptedEvent::from).collect(),
        }
    }
}

/// The scenario's part of a summary: branches, customers and warnings. The
/// rest (name, format, settings in use) is the lab's to fill in:
/// `pb::ScenarioSummary { name, format, ..pb::ScenarioSummary::from(&scenario) }`.
impl From<&Scenario> for pb::ScenarioSummary {
    fn from(scenario: &Scenario) -> pb::ScenarioSummary {
        pb::ScenarioSummary {
            branches: scenario.branches.iter().map(pb::BranchInfo::from).collect(),
            customers: scenario.customers.iter().enumerate().map(pb::CustomerInfo::from).collect(),
            warnings: scenario.warnings.clone(),
            ..Default::default()
        }
    }
}

/// Why a scenario was refused, and where (column 0: unknown).
impl From<&InputError> for pb::ScenarioError {
    fn from(e: &InputError) -> pb::ScenarioError {
        pb::ScenarioError {
            message: e.message(),
            line: e.line() as u32,
            column: e.column().unwrap_or(0) as u32,
        }
    }
}

/// One checker violation, with the events, branches and writes it involves
/// (each once, in the order the evidence names them), looked up in the
/// history it was found in.
impl From<(&History, &Violation)> for pb::ViolationFound {
    fn from((history, v): (&History, &Violation)) -> pb::ViolationFound {
        fn add<T: PartialEq>(list: &mut Vec<T>, x: T) {
            if !list.contains(&x) {
                list.push(x);
            }
        }
        let mut event_ids: Vec<u64> = Vec::new();
        let mut branch_ids: Vec<u64> = Vec::new();
        let mut writes: Vec<String> = Vec::new();
        for e in &v.evidence {
            match e {
                Evidence::Op { session, index } => {
                    if let Some(op) = history.sessions.get(*session).and_then(|s| s.ops.get(*index))
                    {
                        add(&mut event_ids, op.event.0);
                        add(&mut branch_ids, op.branch.0);
                        if let Some(w) = op.write {
                            add(&mut writes, w.to_string());
                        }
                    }
                }
                Evidence::Apply { branch, write } => {
                    add(&mut branch_ids, branch.0);
                    add(&mut writes, write.to_string());
                    let applied = history
                        .branches
                        .iter()
                        .flat_map(|b| &b.applied)
                        .find(|a| a.write == *write);
                    if let Some(a) = applied {
                        add(&mut event_ids, a.event.0);
                    }
                }
            }
        }
        pb::ViolationFound {
            anomaly: v.anomaly.short().to_owned(),
            name: v.anomaly.to_string(),
            explanation: v.explanation.clone(),
            sentence: v.sentence.clone(),
            guarantee_was_on: v.guarantee_was_on,
            session: v.session.map(|s| s as u32),
            event_ids,
            branch_ids,
            writes,
        }
    }
}

/// A checked simulator run of `scenario` where every customer asked for
/// `guarantees` (but per-customer ones): its operations in the order the
/// customers got their answers, its violations and final balances.
impl From<(&Scenario, Guarantees, &Checked)> for pb::SimulatedRun {
    fn from(
        (scenario, guarantees, checked): (&Scenario, Guarantees, &Checked),
    ) -> pb::SimulatedRun {
        let record = &checked.run.record;
        let mut ops: Vec<(u64, pb::SimulatedOp)> = Vec::new();
        for (s, customer) in record.customers.iter().enumerate() {
            for (i, r) in customer.results.iter().enumerate() {
                let script = scenario.customers.get(s).and_then(|c| c.events.get(i));
                let error = match &r.outcome {
                    Outcome::Failed { reason, .. } => reason.to_string(),
                    Outcome::Success { .. } => String::new(),
                };
                let op = pb::SimulatedOp {
                    session: s as u32,
                    customer_id: customer.customer.0,
                    event_id: r.event.0,
                    branch_id: r.branch.0,
                    operation: pb::Operation::from(r.op).into(),
                    amount_cents: script.map_or(0, |e| e.op.amount().0),
                    ok: r.outcome.is_success(),
                    balance_cents: r.outcome.balance().0,
                    error,
                };
                ops.push((r.completion, op));
            }
        }
        ops.sort_by_key(|(completion, _)| *completion);
        let history = &checked.history;
        pb::SimulatedRun {
            guarantees: Some(guarantees.into()),
            ops: ops.into_iter().map(|(_, op)| op).collect(),
            violations: checked.report.violations.iter().map(|v| (history, v).into()).collect(),
            final_balances: record.branches.iter().map(pb::BranchInfo::from).collect(),
            duration_ms: checked.run.end_us / 1000,
        }
    }
}

impl From<[u64; 2]> for pb::Link {
    fn from([a, b]: [u64; 2]) -> pb::Link {
        pb::Link { a, b }
    }
}

impl From<pb::Link> for [u64; 2] {
    fn from(l: pb::Link) -> [u64; 2] {
        [l.a, l.b]
    }
}

/// A fault the browser can ask for. Only a fixed delay can be set by
/// clicking: a random one ([`Delay::Between`]) has no wire form.
impl TryFrom<&Fault> for pb::FaultRequest {
    type Error = ConvertError;
    fn try_from(fault: &Fault) -> Result<pb::FaultRequest, ConvertError> {
        use pb::fault_request::Fault as F;
        let fault = match *fault {
            Fault::Crash(b) => F::Crash(b),
            Fault::Restart(b) => F::Restart(b),
            Fault::Cut(link) => F::Cut(link.into()),
            Fault::Heal(link) => F::Heal(link.into()),
            Fault::Isolate(b) => F::Isolate(b),
            Fault::Rejoin(b) => F::Rejoin(b),
            Fault::SetDelay { between, delay_ms: Delay::Fixed(ms) } => {
                F::SetDelay(pb::LinkDelay { link: Some(between.into()), delay_ms: ms })
            }
            Fault::SetDelay { delay_ms: Delay::Between(..), .. } => {
                return Err(ConvertError::Unrepresentable {
                    what: fault.to_string(),
                    why: "`LinkDelay` holds one fixed delay, not a range",
                })
            }
        };
        Ok(pb::FaultRequest { fault: Some(fault) })
    }
}

/// A fault the browser asked for, in core terms (whether its branches exist
/// is the lab's to check).
impl TryFrom<&pb::FaultRequest> for Fault {
    type Error = ConvertError;
    fn try_from(request: &pb::FaultRequest) -> Result<Fault, ConvertError> {
        use pb::fault_request::Fault as F;
        Ok(match request.fault.ok_or(ConvertError::MissingField("FaultRequest.fault"))? {
            F::Crash(b) => Fault::Crash(b),
            F::Restart(b) => Fault::Restart(b),
            F::Cut(l) => Fault::Cut(l.into()),
            F::Heal(l) => Fault::Heal(l.into()),
            F::SetDelay(d) => Fault::SetDelay {
                between: d.link.ok_or(ConvertError::MissingField("LinkDelay.link"))?.into(),
                delay_ms: Delay::Fixed(d.delay_ms),
            },
            F::Isolate(b) => Fault::Isolate(b),
            F::Rejoin(b) => Fault::Rejoin(b),
        })
    }
}

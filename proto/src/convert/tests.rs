//! Tests of [`super`]: every core value survives core → proto → bytes →
//! proto → core unchanged (proptest over random values), every enum maps one
//! to one, and every way a message can be malformed is refused with the field
//! named.

use std::collections::BTreeMap;

use bank_core::experiment::parse_experiment;
use bank_core::formats::parse_input;
use bank_core::sim::SimConfig;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use prost::Message;

use bank_core::branch::{Applied, PropagationMode, Reply, RunSettings};
use bank_core::formats::OutputFormat;
use bank_core::network::{Delay, Fault};
use bank_core::{
    BranchId, BranchRecord, Cents, ClockRule, ClockScheme, ClockStep, CustomerId, EventId,
    FailReason, Guarantees, LogEntry, LogKind, Op, OpKind, Outcome, Propagation, PropagationAck,
    Request, Schedule, StoredWrite, WriteId, WriteSet,
};

use super::{enum_field, ConvertError, WireEnum};
use crate::v1 as pb;

// ------------------------------------------------------------- strategies

fn branch_id() -> impl Strategy<Value = BranchId> {
    // Branch ids start at 1 (0 is "no peer" in a log entry).
    (1u64..=20).prop_map(BranchId)
}

fn write_id() -> impl Strategy<Value = WriteId> {
    (1u64..=5, 1u64..=40).prop_map(|(origin, seq)| WriteId { origin: BranchId(origin), seq })
}

fn write_set() -> impl Strategy<Value = WriteSet> {
    vec(write_id(), 0..16).prop_map(|ids| ids.into_iter().collect())
}

fn guarantees() -> impl Strategy<Value = Guarantees> {
    any::<[bool; 4]>().prop_map(|[ryw, mr, wfr, mw]| Guarantees {
        read_your_writes: ryw,
        monotonic_reads: mr,
        writes_follow_reads: wfr,
        monotonic_writes: mw,
    })
}

/// An amount a deposit or withdraw may carry.
fn amount() -> impl Strategy<Value = Cents> {
    (0..=Cents::MAX.0).prop_map(Cents)
}

fn write_op() -> impl Strategy<Value = Op> {
    prop_oneof![amount().prop_map(Op::Deposit), amount().prop_map(Op::Withdraw)]
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![write_op(), Just(Op::Query)]
}

fn op_kind() -> impl Strategy<Value = OpKind> {
    prop_oneof![Just(OpKind::Deposit), Just(OpKind::Withdraw), Just(OpKind::Query)]
}

fn request() -> impl Strategy<Value = Request> {
    (
        any::<u64>(),
        any::<u64>(),
        branch_id(),
        any_op(),
        any::<u64>(),
        guarantees(),
        write_set(),
        write_set(),
    )
        .prop_map(|(customer, event, branch, op, clock, guarantees, write_set, read_set)| {
            Request {
                customer: CustomerId(customer),
                event: EventId(event),
                branch,
                op,
                clock,
                guarantees,
                write_set,
                read_set,
            }
        })
}

/// A failure's reason, where the outcome's balance is `balance`.
fn fail_reason(balance: Cents) -> impl Strategy<Value = FailReason> {
    prop_oneof![
        amount().prop_map(move |requested| FailReason::InsufficientFunds { requested, balance }),
        Just(FailReason::WrongBranch),
        ".{0,40}".prop_map(FailReason::Invalid),
        ".{0,40}".prop_map(FailReason::NotReady),
        amount().prop_map(move |requested| FailReason::BalanceLimit { requested, balance }),
        ".{0,40}".prop_map(FailReason::StorageFailed),
        ".{0,40}".prop_map(FailReason::Unavailable),
    ]
}

/// An outcome with what goes with it: a write and an observed set for a
/// success (maybe), neither for a failure.
fn outcome() -> impl Strategy<Value = (Outcome, Option<WriteId>, Option<WriteSet>)> {
    let success =
        (any::<i64>(), proptest::option::of(write_id()), proptest::option::of(write_set()))
            .prop_map(|(b, write, observed)| {
                (Outcome::Success { balance: Cents(b) }, write, observed)
            });
    let failure = any::<i64>().prop_flat_map(|b| {
        fail_reason(Cents(b))
            .prop_map(move |reason| (Outcome::Failed { reason, balance: Cents(b) }, None, None))
    });
    prop_oneof![success, failure]
}

fn reply() -> impl Strategy<Value = Reply> {
    (branch_id(), any::<u64>(), any::<u64>(), op_kind(), outcome(), any::<u64>()).prop_map(
        |(branch, customer, event, op, (outcome, write, observed), clock)| Reply {
            branch,
            customer: CustomerId(customer),
            event: EventId(event),
            op,
            outcome,
            write,
            observed,
            clock,
        },
    )
}

fn propagation() -> impl Strategy<Value = Propagation> {
    (branch_id(), write_id(), any::<u64>(), any::<u64>(), write_op(), write_set(), any::<u64>())
        .prop_map(|(from, write, customer, event, op, depends_on, clock)| Propagation {
            from,
            write,
            customer: CustomerId(customer),
            event: EventId(event),
            op,
            depends_on,
            clock,
        })
}

fn ack() -> impl Strategy<Value = PropagationAck> {
    (branch_id(), write_id(), any::<bool>(), any::<u64>()).prop_map(
        |(from, write, newly_applied, clock)| PropagationAck { from, write, newly_applied, clock },
    )
}

const LOG_KINDS: [LogKind; 7] = LogKind::ALL;

fn clock_rule() -> impl Strategy<Value = ClockRule> {
    prop_oneof![Just(ClockRule::Receive), Just(ClockRule::Local), Just(ClockRule::Unchanged)]
}

fn log_entry() -> impl Strategy<Value = LogEntry> {
    let kind = proptest::sample::select(LOG_KINDS.to_vec());
    let peer = proptest::option::of(branch_id());
    let balance = proptest::option::of(any::<i64>().prop_map(Cents));
    (
        any::<u64>(),
        kind,
        any::<u64>(),
        any::<u64>(),
        op_kind(),
        any::<i64>(),
        peer,
        balance,
        any::<bool>(),
        (clock_rule(), any::<u64>(), any::<u64>()),
        proptest::option::of(write_id()),
    )
        .prop_map(
            |(clock, kind, customer, event, op, amount, peer, balance, failed, step, write)| {
                let (rule, local, message) = step;
                let message = (rule == ClockRule::Receive).then_some(message);
                LogEntry {
                    clock,
                    step: ClockStep { rule, local, message, result: clock },
                    write,
                    kind,
                    customer: CustomerId(customer),
                    event: EventId(event),
                    op,
                    amount: Cents(amount),
                    peer,
                    balance,
                    failed,
                }
            },
        )
}

fn applied() -> impl Strategy<Value = Applied> {
    (write_id(), any::<u64>(), any::<u64>(), any_op(), write_set(), any::<u64>(), any::<i64>())
        .prop_map(|(write, customer, event, op, depends_on, clock, after)| Applied {
            write: StoredWrite {
                write,
                customer: CustomerId(customer),
                event: EventId(event),
                op,
                depends_on,
                clock,
            },
            balance_after: Cents(after),
        })
}

fn write_sets() -> impl Strategy<Value = BTreeMap<CustomerId, Vec<EventId>>> {
    btree_map(any::<u64>().prop_map(CustomerId), vec(any::<u64>().prop_map(EventId), 0..5), 0..4)
}

fn branch_record() -> impl Strategy<Value = BranchRecord> {
    (
        branch_id(),
        any::<i64>(),
        any::<u64>(),
        write_sets(),
        vec(log_entry(), 0..5),
        vec(applied(), 0..5),
    )
        .prop_map(|(id, balance, clock, write_sets, log, applied)| BranchRecord {
            id,
            balance: Cents(balance),
            clock,
            write_sets,
            log,
            applied,
        })
}

fn link() -> impl Strategy<Value = [u64; 2]> {
    any::<[u64; 2]>()
}

/// Every fault the wire can carry (a set delay is a fixed one).
fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        any::<u64>().prop_map(Fault::Crash),
        any::<u64>().prop_map(Fault::Restart),
        link().prop_map(Fault::Cut),
        link().prop_map(Fault::Heal),
        any::<u64>().prop_map(Fault::Isolate),
        any::<u64>().prop_map(Fault::Rejoin),
        (link(), any::<u64>())
            .prop_map(|(between, ms)| Fault::SetDelay { between, delay_ms: Delay::Fixed(ms) }),
    ]
}

/// The settings of a run a branch process can be reset into (epoch 0 is
/// "no epoch said" on the wire).
fn run_settings() -> impl Strategy<Value = RunSettings> {
    (
        amount(),
        prop_oneof![Just(ClockScheme::ExecuteAndRespond), Just(ClockScheme::SendAndReceive)],
        prop_oneof![
            Just(PropagationMode::Sequential),
            Just(PropagationMode::Parallel),
            Just(PropagationMode::Background)
        ],
        1..=u64::MAX,
    )
        .prop_map(|(balance, clock_scheme, propagation, epoch)| RunSettings {
            balance,
            clock_scheme,
            propagation,
            epoch,
        })
}

/// `message` through its wire bytes and back, as a receiver would see it.
fn over_the_wire<M: Message + Default>(message: M) -> M {
    M::decode(message.encode_to_vec().as_slice()).expect("decodes what it encoded")
}

// ------------------------------------------------------------- round trips

#[test]
fn a_run_of_seqs_is_two_numbers_on_the_wire_however_long() {
    // A customer's writes at a branch others write to too: one run above
    // the prefix. Listed seq by seq, every request of a long session grew.
    let mut set = WriteSet::new();
    set.insert_range(BranchId(2), 1_001, 1_000_000);
    set.insert(WriteId { origin: BranchId(2), seq: 1_000_002 });
    let wire = pb::WriteSet::from(&set);
    let o = &wire.origins[0];
    assert_eq!(
        (o.prefix, &o.extra[..], &o.extra_ranges[..]),
        (0, &[1_000_002][..], &[1_001, 1_000_000][..])
    );
    assert_eq!(WriteSet::from(&over_the_wire(wire)), set);
    // The widest run a hostile peer can name costs the same.
    let mut wide = pb::WriteSet::default();
    wide.origins.push(pb::OriginWrites {
        origin_branch: 3,
        prefix: 0,
        extra: vec![],
        extra_ranges: vec![0, u64::MAX, 9, 5],
    });
    let read = WriteSet::from(&wide);
    assert_eq!(read.len(), u64::MAX, "1..=u64::MAX, and the reversed pair is empty");
}

proptest! {
    #[test]
    fn write_sets_survive_the_round_trip(set in write_set()) {
        prop_assert_eq!(WriteSet::from(&over_the_wire(pb::WriteSet::from(&set))), set);
    }

    /// Any list of origins (repeated, overlapping, empty, with exceptions
    /// below the prefix) reads as the set `WriteSet::from_parts` builds.
    #[test]
    fn any_wire_write_set_reads_as_the_set_of_its_parts(
        parts in vec((1..5u64, 0..6u64, vec(0..10u64, 0..4), vec(0..14u64, 0..5)), 0..6),
    ) {
        let wire = pb::WriteSet {
            origins: parts
                .iter()
                .map(|(origin, prefix, extra, ranges)| pb::OriginWrites {
                    origin_branch: *origin,
                    prefix: *prefix,
                    extra: extra.clone(),
                    extra_ranges: ranges.clone(),
                })
                .collect(),
        };
        // The runs spelled out seq by seq (a reversed pair is empty, an odd
        // last element one seq).
        let expected = WriteSet::from_parts(parts.into_iter().map(|(o, prefix, mut extra, ranges)| {
            for run in ranges.chunks(2) {
                let last = run.get(1).copied().unwrap_or(run[0]);
                extra.extend(run[0]..=last);
            }
            (BranchId(o), prefix, extra)
        }));
        prop_assert_eq!(WriteSet::from(&wire), expected);
    }

    #[test]
    fn guarantees_survive_the_round_trip(g in guarantees()) {
        prop_assert_eq!(Guarantees::from(over_the_wire(pb::Guarantees::from(g))), g);
    }

    #[test]
    fn requests_survive_the_round_trip(request in request()) {
        let wire = over_the_wire(pb::CustomerRequest::from(&request));
        prop_assert_eq!(Request::try_from(&wire), Ok(request));
    }

    #[test]
    fn replies_survive_the_round_trip(reply in reply()) {
        let wire = over_the_wire(pb::CustomerReply::from(&reply));
        prop_assert_eq!(Reply::try_from(&wire), Ok(reply));
    }

    #[test]
    fn propagations_and_acks_survive_the_round_trip(p in propagation(), a in ack()) {
        let wire = over_the_wire(pb::Propagation::from(&p));
        prop_assert_eq!(Propagation::try_from(&wire), Ok(p));
        let wire = over_the_wire(pb::PropagationAck::from(&a));
        prop_assert_eq!(PropagationAck::try_from(&wire), Ok(a));
    }

    #[test]
    fn branch_states_survive_the_round_trip(record in branch_record()) {
        // Log entries, applied writes and write sets are inside.
        let wire = over_the_wire(pb::BranchState::from(&record));
        prop_assert_eq!(BranchRecord::try_from(&wire), Ok(record));
    }

    #[test]
    fn per_customer_guarantees_survive_the_round_trip(
        map in btree_map(any::<u64>().prop_map(CustomerId), guarantees(), 0..5)
    ) {
        let wire: Vec<pb::CustomerGuarantees> =
            map.iter().map(pb::CustomerGuarantees::from).map(over_the_wire).collect();
        let back: Result<BTreeMap<_, _>, _> =
            wire.iter().map(<(CustomerId, Guarantees)>::try_from).collect();
        prop_assert_eq!(back, Ok(map));
    }

    #[test]
    fn run_settings_survive_the_round_trip(run in run_settings()) {
        let wire = over_the_wire(pb::ResetRequest::from(&run));
        prop_assert_eq!(RunSettings::try_from(&wire), Ok(run));
    }

    #[test]
    fn faults_survive_the_round_trip(fault in fault()) {
        let wire = over_the_wire(pb::FaultRequest::try_from(&fault).unwrap());
        prop_assert_eq!(Fault::try_from(&wire), Ok(fault));
    }
}

#[test]
fn every_enum_maps_one_to_one() {
    fn both_ways<C, P>(all: &[C], unspecified: P)
    where
        C: Copy + PartialEq + std::fmt::Debug + TryFrom<P, Error = ConvertError>,
        P: WireEnum + From<C> + Into<i32> + std::fmt::Debug + PartialEq,
    {
        let mut seen = Vec::new();
        for c in all {
            let p = P::from(*c);
            assert_ne!(p, unspecified, "{c:?} has a value of its own");
            assert_eq!(C::try_from(p), Ok(*c));
            assert_eq!(enum_field::<P, C>(p.into(), "x"), Ok(*c));
            seen.push(p.into());
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), all.len(), "no two core values share a proto value");
        // Every proto value but UNSPECIFIED is one of them.
        for raw in 1..=all.len() as i32 {
            assert!(seen.contains(&raw), "{} value {raw} maps to no core value", P::NAME);
        }
    }
    both_ways(&[OpKind::Deposit, OpKind::Withdraw, OpKind::Query], pb::Operation::Unspecified);
    both_ways(&LOG_KINDS, pb::LogKind::Unspecified);
    both_ways(
        &[PropagationMode::Sequential, PropagationMode::Parallel, PropagationMode::Background],
        pb::PropagationMode::Unspecified,
    );
    both_ways(
        &[ClockScheme::ExecuteAndRespond, ClockScheme::SendAndReceive],
        pb::ClockScheme::Unspecified,
    );
    both_ways(&OutputFormat::ALL, pb::OutputFormat::Unspecified);
    both_ways(&Schedule::ALL, pb::Schedule::Unspecified);
}

#[test]
fn a_lab_setting_left_unspecified_is_none() {
    assert_eq!(Option::<OutputFormat>::from(pb::OutputFormat::Unspecified), None);
    assert_eq!(
        Option::<OutputFormat>::from(pb::OutputFormat::P1Money),
        Some(OutputFormat::P1Money)
    );
    assert_eq!(pb::OutputFormat::from(None::<OutputFormat>), pb::OutputFormat::Unspecified);
    assert_eq!(pb::OutputFormat::from(Some(OutputFormat::P2a)), pb::OutputFormat::P2a);
    for mode in [None, Some(PropagationMode::Parallel), Some(PropagationMode::Background)] {
        assert_eq!(Option::<PropagationMode>::from(pb::PropagationMode::from(mode)), mode);
    }
    let chosen = enum_field::<pb::PropagationMode, Option<PropagationMode>>;
    assert_eq!(chosen(0, "LoadRequest.propagation"), Ok(None));
    assert_eq!(chosen(3, "LoadRequest.propagation"), Ok(Some(PropagationMode::Background)));
    // "Not chosen" is 0, not any number.
    assert!(matches!(
        chosen(9, "LoadRequest.propagation"),
        Err(ConvertError::UnknownValue { field: "LoadRequest.propagation", value: 9, .. })
    ));
}

#[test]
fn failure_messages_are_the_reasons_sentences() {
    let reason = FailReason::InsufficientFunds { requested: Cents(50000), balance: Cents(40000) };
    let f = pb::Failure::from(&reason);
    assert_eq!(f.message, reason.to_string());
    assert_eq!(f.requested_cents, 50000);
    assert_eq!(f.reason, pb::FailureReason::InsufficientFunds as i32);
    let invalid = FailReason::Invalid("negative amount -1.00".into());
    let f = pb::Failure::from(&invalid);
    assert_eq!(f.message, "invalid request: negative amount -1.00");
    // Read back once, the details are not prefixed twice.
    assert_eq!(FailReason::try_from(&f), Ok(invalid));
    let limit = FailReason::BalanceLimit { requested: Cents(5), balance: Cents::MAX };
    let mut f = pb::Failure::from(&limit);
    assert_eq!(f.reason, pb::FailureReason::BalanceLimit as i32);
    assert_eq!(f.reason, 6, "the number 6 is the wire contract");
    assert_eq!(f.requested_cents, 5);
    assert!(f.message.contains("above the maximum 9999999999999.99"), "{}", f.message);
    f.balance_cents = Cents::MAX.0;
    assert_eq!(FailReason::try_from(&f), Ok(limit));
}

#[test]
fn amounts_above_the_maximum_are_refused_on_the_wire() {
    let too_much = Cents::MAX.0 + 1;
    let request = pb::CustomerRequest { amount_cents: too_much, ..deposit_request() };
    assert_eq!(
        Request::try_from(&request),
        Err(ConvertError::AmountTooLarge {
            field: "CustomerRequest.amount_cents",
            cents: too_much
        })
    );
    let at_max = pb::CustomerRequest { amount_cents: Cents::MAX.0, ..deposit_request() };
    assert_eq!(Request::try_from(&at_max).unwrap().op, Op::Deposit(Cents::MAX));
    let p = pb::Propagation {
        write: Some(pb::WriteId { origin_branch: 1, seq: 1 }),
        operation: pb::Operation::Deposit as i32,
        amount_cents: i64::MAX,
        ..pb::Propagation::default()
    };
    assert!(matches!(Propagation::try_from(&p), Err(ConvertError::AmountTooLarge { .. })));
}

#[test]
fn an_absent_session_is_a_fresh_one_with_the_course_guarantees() {
    let wire = pb::CustomerRequest {
        customer_id: 1,
        event_id: 2,
        branch_id: 3,
        operation: pb::Operation::Query as i32,
        ..Default::default()
    };
    let request = Request::try_from(&wire).unwrap();
    assert_eq!(request.guarantees, Guarantees::COURSE);
    assert!(request.write_set.is_empty() && request.read_set.is_empty());
    let wire = pb::CustomerRequest { session: Some(pb::Session::default()), ..wire };
    assert_eq!(Request::try_from(&wire).unwrap().guarantees, Guarantees::COURSE);
}

#[test]
fn an_absent_guarantees_field_is_the_course_and_a_present_one_is_itself() {
    assert_eq!(super::guarantees_or_course(None), Guarantees::COURSE);
    for g in [Guarantees::NONE, Guarantees::ALL, Guarantees::COURSE] {
        assert_eq!(super::guarantees_or_course(Some(g.into())), g);
    }
    // An empty message is not absent: it asks for no guarantee at all.
    assert_eq!(super::guarantees_or_course(Some(pb::Guarantees::default())), Guarantees::NONE);
}

// ----------------------------------------------------------------- refusals

fn deposit_request() -> pb::CustomerRequest {
    pb::CustomerRequest::from(&Request {
        customer: CustomerId(1),
        event: EventId(1),
        branch: BranchId(1),
        op: Op::Deposit(Cents(1)),
        clock: 1,
        guarantees: Guarantees::COURSE,
        write_set: WriteSet::new(),
        read_set: WriteSet::new(),
    })
}

#[test]
fn an_unknown_or_unspecified_operation_is_refused() {
    let request = pb::CustomerRequest { operation: 42, ..deposit_request() };
    let error = Request::try_from(&request).unwrap_err();
    assert!(matches!(
        error,
        ConvertError::UnknownValue {
            what: "operation",
            field: "CustomerRequest.operation",
            value: 42,
            ..
        }
    ));
    // What a gRPC caller reads in the status.
    assert!(error.to_string().starts_with("unknown operation 42"), "{error}");
    let request = pb::CustomerRequest { operation: 0, ..deposit_request() };
    assert!(matches!(
        Request::try_from(&request),
        Err(ConvertError::Unspecified { field: "CustomerRequest.operation", .. })
    ));
    let reply = pb::CustomerReply {
        operation: 7,
        result: Some(pb::customer_reply::Result::Success(pb::Success::default())),
        ..Default::default()
    };
    assert!(matches!(
        Reply::try_from(&reply),
        Err(ConvertError::UnknownValue { field: "CustomerReply.operation", value: 7, .. })
    ));
}

#[test]
fn a_negative_amount_is_refused_except_in_a_query() {
    let request = pb::CustomerRequest { amount_cents: -5, ..deposit_request() };
    assert_eq!(
        Request::try_from(&request),
        Err(ConvertError::NegativeAmount { field: "CustomerRequest.amount_cents", cents: -5 })
    );
    let query = pb::CustomerRequest { operation: pb::Operation::Query as i32, ..request };
    assert_eq!(Request::try_from(&query).unwrap().op, Op::Query);

    let p = pb::Propagation {
        write: Some(pb::WriteId { origin_branch: 1, seq: 1 }),
        operation: pb::Operation::Withdraw as i32,
        amount_cents: -1,
        ..Default::default()
    };
    assert_eq!(
        Propagation::try_from(&p),
        Err(ConvertError::NegativeAmount { field: "Propagation.amount_cents", cents: -1 })
    );
    let a = pb::AppliedWrite {
        write: Some(pb::WriteId { origin_branch: 1, seq: 1 }),
        operation: pb::Operation::Deposit as i32,
        amount_cents: -2,
        ..Default::default()
    };
    assert_eq!(
        Applied::try_from(&a),
        Err(ConvertError::NegativeAmount { field: "AppliedWrite.amount_cents", cents: -2 })
    );
}

#[test]
fn a_propagation_must_be_a_write_with_an_id() {
    let query = pb::Propagation {
        write: Some(pb::WriteId { origin_branch: 1, seq: 1 }),
        operation: pb::Operation::Query as i32,
        ..Default::default()
    };
    assert_eq!(
        Propagation::try_from(&query),
        Err(ConvertError::QueryPropagated { field: "Propagation.operation" })
    );
    let nameless =
        pb::Propagation { write: None, operation: pb::Operation::Deposit as i32, ..query };
    assert_eq!(
        Propagation::try_from(&nameless),
        Err(ConvertError::MissingField("Propagation.write"))
    );
    let ack = pb::PropagationAck::default();
    assert_eq!(
        PropagationAck::try_from(&ack),
        Err(ConvertError::MissingField("PropagationAck.write"))
    );
    let applied =
        pb::AppliedWrite { operation: pb::Operation::Deposit as i32, ..Default::default() };
    assert_eq!(Applied::try_from(&applied), Err(ConvertError::MissingField("AppliedWrite.write")));
}

#[test]
fn a_reply_needs_a_result_with_a_known_reason() {
    let empty = pb::CustomerReply { operation: pb::Operation::Query as i32, ..Default::default() };
    assert_eq!(Reply::try_from(&empty), Err(ConvertError::MissingField("CustomerReply.result")));
    let failed = |reason: i32| pb::CustomerReply {
        result: Some(pb::customer_reply::Result::Failure(pb::Failure {
            reason,
            ..Default::default()
        })),
        ..empty.clone()
    };
    assert!(matches!(
        Reply::try_from(&failed(9)),
        Err(ConvertError::UnknownValue { field: "Failure.reason", value: 9, .. })
    ));
    assert!(matches!(
        Reply::try_from(&failed(0)),
        Err(ConvertError::Unspecified { field: "Failure.reason", .. })
    ));
}

#[test]
fn a_log_entry_needs_a_known_kind_and_operation() {
    let entry = pb::LogEntry::from(&LogEntry {
        clock: 1,
        step: ClockStep { rule: ClockRule::Local, local: 0, message: None, result: 1 },
        write: None,
        kind: LogKind::Execute,
        customer: CustomerId(1),
        event: EventId(1),
        op: OpKind::Deposit,
        amount: Cents(1),
        peer: None,
        balance: None,
        failed: false,
    });
    let unknown = pb::LogEntry { kind: 99, ..entry };
    assert!(matches!(
        LogEntry::try_from(&unknown),
        Err(ConvertError::UnknownValue { what: "log kind", field: "LogEntry.kind", value: 99, .. })
    ));
    let unspecified = pb::LogEntry { kind: 0, ..entry };
    assert!(matches!(
        LogEntry::try_from(&unspecified),
        Err(ConvertError::Unspecified { field: "LogEntry.kind", .. })
    ));
    let no_step = pb::LogEntry { clock_step: None, ..entry };
    assert!(matches!(
        LogEntry::try_from(&no_step),
        Err(ConvertError::MissingField("LogEntry.clock_step"))
    ));
    let no_op = pb::LogEntry { operation: 0, ..entry };
    assert!(matches!(
        LogEntry::try_from(&no_op),
        Err(ConvertError::Unspecified { field: "LogEntry.operation", .. })
    ));
    // A bad entry spoils the state it is in.
    let state = pb::BranchState { log: vec![entry, unknown], ..Default::default() };
    assert!(matches!(
        BranchRecord::try_from(&state),
        Err(ConvertError::UnknownValue { field: "LogEntry.kind", .. })
    ));
}

#[test]
fn an_enum_met_on_its_own_names_itself_when_unspecified() {
    assert_eq!(
        OutputFormat::try_from(pb::OutputFormat::Unspecified),
        Err(ConvertError::Unspecified {
            field: "OutputFormat",
            expected: "p1, p1-money, p2a, p2b or p3"
        })
    );
    assert!(matches!(
        Schedule::try_from(pb::Schedule::Unspecified),
        Err(ConvertError::Unspecified { field: "Schedule", .. })
    ));
    assert!(matches!(
        ClockScheme::try_from(pb::ClockScheme::Unspecified),
        Err(ConvertError::Unspecified { field: "ClockScheme", .. })
    ));
    assert!(matches!(
        PropagationMode::try_from(pb::PropagationMode::Unspecified),
        Err(ConvertError::Unspecified { field: "PropagationMode", .. })
    ));
    assert!(matches!(
        OpKind::try_from(pb::Operation::Unspecified),
        Err(ConvertError::Unspecified { field: "Operation", .. })
    ));
    assert!(matches!(
        LogKind::try_from(pb::LogKind::Unspecified),
        Err(ConvertError::Unspecified { field: "LogKind", .. })
    ));
    // Inside a message, the field is named instead.
    assert_eq!(
        enum_field::<pb::Schedule, Schedule>(0, "ScenarioSummary.schedule"),
        Err(ConvertError::Unspecified {
            field: "ScenarioSummary.schedule",
            expected: "sequential, concurrent or writes-first"
        })
    );
    assert!(matches!(
        enum_field::<pb::ClockScheme, ClockScheme>(5, "ResetRequest.clock_scheme"),
        Err(ConvertError::UnknownValue {
            what: "clock scheme",
            field: "ResetRequest.clock_scheme",
            ..
        })
    ));
}

#[test]
fn a_reset_needs_a_balance_modes_and_an_epoch() {
    let reset = pb::ResetRequest::from(&RunSettings {
        balance: Cents(100),
        clock_scheme: ClockScheme::SendAndReceive,
        propagation: PropagationMode::Parallel,
        epoch: 3,
    });
    assert!(RunSettings::try_from(&reset).is_ok());
    let overdrawn = pb::ResetRequest { balance_cents: -1, ..reset };
    assert_eq!(
        RunSettings::try_from(&overdrawn),
        Err(ConvertError::NegativeAmount { field: "ResetRequest.balance_cents", cents: -1 })
    );
    let no_epoch = pb::ResetRequest { epoch: 0, ..reset };
    assert_eq!(
        RunSettings::try_from(&no_epoch),
        Err(ConvertError::MissingField("ResetRequest.epoch"))
    );
    let no_scheme = pb::ResetRequest { clock_scheme: pb::ClockScheme::Unspecified as i32, ..reset };
    assert!(matches!(
        RunSettings::try_from(&no_scheme),
        Err(ConvertError::Unspecified { field: "ResetRequest.clock_scheme", .. })
    ));
    let unknown_mode = pb::ResetRequest { propagation: 9, ..reset };
    assert!(matches!(
        RunSettings::try_from(&unknown_mode),
        Err(ConvertError::UnknownValue { field: "ResetRequest.propagation", value: 9, .. })
    ));
}

#[test]
fn per_customer_guarantees_must_say_which() {
    let nameless = pb::CustomerGuarantees { customer_id: 2, guarantees: None };
    assert_eq!(
        <(CustomerId, Guarantees)>::try_from(&nameless),
        Err(ConvertError::MissingField("CustomerGuarantees.guarantees"))
    );
}

#[test]
fn a_fault_request_must_name_its_fault_and_link() {
    let empty = pb::FaultRequest { fault: None };
    assert_eq!(Fault::try_from(&empty), Err(ConvertError::MissingField("FaultRequest.fault")));
    let linkless = pb::FaultRequest {
        fault: Some(pb::fault_request::Fault::SetDelay(pb::LinkDelay { link: None, delay_ms: 5 })),
    };
    assert_eq!(Fault::try_from(&linkless), Err(ConvertError::MissingField("LinkDelay.link")));
    // A random delay cannot be asked for by clicking.
    let random = Fault::SetDelay { between: [1, 2], delay_ms: Delay::Between(5, 50) };
    let error = pb::FaultRequest::try_from(&random).unwrap_err();
    assert!(matches!(error, ConvertError::Unrepresentable { .. }));
    assert!(error.to_string().starts_with("set the link 1-2 to 5-50 ms cannot be sent"), "{error}");
}

// ------------------------------------------------------------ the lab, one way

const TWO_BRANCHES: &str = r#"[
  { "id": 1, "type": "customer", "events": [
      { "id": 1, "interface": "deposit", "money": 100, "branch": 1 },
      { "id": 2, "interface": "query", "branch": 2 } ] },
  { "id": 7, "type": "customer", "events": [
      { "id": 3, "interface": "withdraw", "money": 2.5, "branch": 2 } ] },
  { "id": 1, "type": "branch", "balance": 0 },
  { "id": 2, "type": "branch", "balance": 40 }
]"#;

#[test]
fn a_summary_lists_the_scenarios_branches_and_customer_entries() {
    let scenario = parse_input(TWO_BRANCHES, "two.json").unwrap();
    let summary = pb::ScenarioSummary::from(&scenario);
    let branches: Vec<(u64, i64)> =
        summary.branches.iter().map(|b| (b.id, b.balance_cents)).collect();
    assert_eq!(branches, [(1, 0), (2, 4000)]);
    let entries: Vec<(u32, u64, usize)> =
        summary.customers.iter().map(|c| (c.session, c.customer_id, c.events.len())).collect();
    assert_eq!(entries, [(0, 1, 2), (1, 7, 1)]);
    let withdraw = &summary.customers[1].events[0];
    assert_eq!(
        (withdraw.event_id, withdraw.operation, withdraw.amount_cents, withdraw.branch_id),
        (3, pb::Operation::Withdraw as i32, 250, 2)
    );
    assert_eq!(summary.warnings, scenario.warnings);
    // The lab's part is left for the lab.
    assert_eq!((summary.name.as_str(), summary.format, summary.guarantees), ("", 0, None));
}

#[test]
fn a_refused_scenario_says_where() {
    let error = parse_input("[\n {\"id\": 1,, }\n]", "pasted").unwrap_err();
    let wire = pb::ScenarioError::from(&error);
    assert_eq!(wire.message, error.message());
    assert_eq!(wire.line, 2);
    assert_eq!(wire.column as usize, error.column().unwrap_or(0));
}

/// Customer 1 deposits at branch 1 and reads at branch 2 over a slow link,
/// with propagation in the background: a stale read unless Read Your Writes.
const STALE_READ: &str = r#"{
  "guarantees": "none", "propagation": "background", "seed": 1,
  "network": { "delay_ms": [1, 5], "links": [{ "between": [1, 2], "delay_ms": 2500 }] },
  "bank": [
    { "id": 1, "type": "customer", "events": [
        { "id": 1, "interface": "deposit", "money": 100, "branch": 1 },
        { "id": 2, "interface": "query", "branch": 2 } ] },
    { "id": 1, "type": "branch", "balance": 0 },
    { "id": 2, "type": "branch", "balance": 0 }
  ]
}"#;

fn simulated(guarantees: Guarantees) -> pb::SimulatedRun {
    let experiment = parse_experiment(STALE_READ, "stale.json").unwrap();
    let base = bank_core::experiment::demo::base_for(OutputFormat::P1);
    let config = SimConfig {
        guarantees,
        ..bank_core::experiment::demo::sim_config(&experiment.settings, base)
    };
    let checked = bank_core::experiment::demo::run_checked(&experiment.scenario, &config).unwrap();
    pb::SimulatedRun::from((&experiment.scenario, guarantees, &checked))
}

#[test]
fn a_simulated_run_shows_its_violation_with_the_events_branches_and_writes() {
    let off = simulated(Guarantees::NONE);
    assert_eq!(off.guarantees, Some(Guarantees::NONE.into()));
    let ops: Vec<(u64, u64, i32, i64, bool, i64)> = off
        .ops
        .iter()
        .map(|o| (o.event_id, o.branch_id, o.operation, o.amount_cents, o.ok, o.balance_cents))
        .collect();
    let (deposit, query) = (pb::Operation::Deposit as i32, pb::Operation::Query as i32);
    // In answer order; the read at branch 2 missed the deposit.
    assert_eq!(ops, [(1, 1, deposit, 10000, true, 10000), (2, 2, query, 0, true, 0)]);
    let ryw = off.violations.iter().find(|v| v.anomaly == "ryw").expect("a stale read");
    assert_eq!(ryw.name, "Read Your Writes");
    assert!(!ryw.guarantee_was_on);
    assert_eq!(ryw.session, Some(0));
    // The offending read first (event 2 at branch 2), then the write it missed.
    assert_eq!(ryw.event_ids, [2, 1]);
    assert_eq!(ryw.branch_ids, [2, 1]);
    assert_eq!(ryw.writes, ["w1.1"]);
    assert!(
        off.final_balances.iter().all(|b| b.balance_cents == 10000),
        "{:?}",
        off.final_balances
    );
    assert!(off.duration_ms > 0);

    let on = simulated(Guarantees::ALL);
    assert!(on.violations.is_empty(), "{:?}", on.violations);
    assert_eq!(on.ops.iter().find(|o| o.event_id == 2).map(|o| o.balance_cents), Some(10000));
}

#[test]
fn every_traced_item_of_a_run_comes_back_from_its_wire_event() {
    use bank_core::sim::paced::Happened;
    let experiment = parse_experiment(STALE_READ, "stale.json").unwrap();
    let base = bank_core::experiment::demo::base_for(OutputFormat::P1);
    let config = bank_core::experiment::demo::sim_config(&experiment.settings, base);
    let (_, happened) = bank_core::sim::run_traced(&experiment.scenario, &config).unwrap();
    let items: Vec<_> = happened
        .into_iter()
        .filter_map(|(_, h)| match h {
            Happened::Traced(t) => Some(t),
            Happened::Network { .. } => None,
        })
        .collect();
    assert!(items.len() > 10, "a run with requests, propagations and answers");
    for item in &items {
        let back = crate::lab_trace::traced(&crate::lab_trace::event(item));
        assert_eq!(back, Some(Ok(item.clone())));
    }
    // Not items of the run.
    let finished = pb::lab_event::Event::Finished(pb::Finished::default());
    assert_eq!(crate::lab_trace::traced(&finished), None);
}

#[test]
fn a_write_set_with_more_parts_than_any_run_gives_is_refused() {
    use crate::convert::MAX_WRITE_SET_PARTS;
    // Every other seq: one part each, as a hostile message of single seqs.
    let spread = |parts: usize| pb::WriteSet {
        origins: vec![pb::OriginWrites {
            origin_branch: 2,
            prefix: 0,
            extra: (0..parts as u64 - 1).map(|i| 2 * i + 2).collect(),
            extra_ranges: vec![],
        }],
    };
    let session = |set| pb::Session { writes: Some(set), ..Default::default() };
    let request = |set| pb::CustomerRequest { session: Some(session(set)), ..deposit_request() };
    let most = Request::try_from(&request(spread(MAX_WRITE_SET_PARTS))).expect("at the bound");
    assert_eq!(most.write_set.len(), MAX_WRITE_SET_PARTS as u64 - 1);
    let err = Request::try_from(&request(spread(MAX_WRITE_SET_PARTS + 1))).unwrap_err();
    assert!(matches!(err, ConvertError::WriteSetTooLarge { field: "Session.writes", .. }), "{err}");
    assert!(err.to_string().contains("more than the 200000"), "{err}");
    // A run of any width is one part.
    let wide = pb::WriteSet {
        origins: vec![pb::OriginWrites {
            origin_branch: 2,
            prefix: 0,
            extra: vec![],
            extra_ranges: vec![1, 1 << 40],
        }],
    };
    assert!(crate::convert::checked_write_set(&wide, "x").is_ok());
    let reversed = pb::WriteSet {
        origins: vec![pb::OriginWrites {
            origin_branch: 2,
            prefix: 0,
            extra: vec![],
            extra_ranges: vec![9, 5],
        }],
    };
    let err = crate::convert::checked_write_set(&reversed, "Session.read_set").unwrap_err();
    assert!(err.to_string().contains("from 9 down to 5"), "{err}");
}

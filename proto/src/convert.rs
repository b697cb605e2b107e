//! Conversions between the core's types (`bank_core`) and the wire's ([`crate::v1`]).
//!
//! The one place where the two meet. The backend's services and clients and the
//! browser all think in core types and talk in proto messages; they cross here,
//! so the rules for reading a message are written once. Every conversion is a
//! `From` (core → proto, and proto → core where nothing can be wrong) or a
//! `TryFrom` (proto → core where a message can be malformed: an unknown enum
//! number, a negative amount, a missing field). Incoming messages are checked
//! once, at the edge, and the core only ever sees well-formed values; a
//! [`ConvertError`] says which field was wrong and why.
//!
//! | core (`bank_core`) | proto (`bank_proto`) | |
//! |---|---|---|
//! | `OpKind` | `Operation` | both ways |
//! | `LogKind`, `ClockScheme`, `Schedule` | the enums of the same name | both ways |
//! | `PropagationMode`, `formats::OutputFormat` | same names (`None`: UNSPECIFIED) | both ways |
//! | `WriteId`, `WriteSet`, `Guarantees` | the messages of the same name | both ways |
//! | `Request` | `CustomerRequest` | both ways |
//! | `branch::Reply` (with its `FailReason`) | `CustomerReply` (`Failure`) | both ways |
//! | `Propagation`, `PropagationAck` | the messages of the same name | both ways |
//! | `LogEntry`, `branch::Applied` | `LogEntry`, `AppliedWrite` | both ways |
//! | `BranchRecord` | `BranchState` | both ways |
//! | `branch::RunSettings` | `ResetRequest` | both ways |
//! | `(CustomerId, Vec<EventId>)` | `CustomerWrites` | both ways |
//! | `(CustomerId, Guarantees)` | `CustomerGuarantees` | both ways |
//! | `network::Fault`, `[u64; 2]` | `FaultRequest`, `Link` | both ways |
//! | `Scenario` (and its parts) | `ScenarioSummary` (its scenario part) | to proto |
//! | `formats::InputError` | `ScenarioError` | to proto |
//! | `(&History, &check::Violation)` | `ViolationFound` | to proto |
//! | `(&Scenario, Guarantees, &demo::Checked)` | `SimulatedRun` | to proto |
//!
//! Conventions:
//! * proto → core takes the message by reference (`Request::try_from(&message)`),
//!   so a caller can still forward or record the message itself;
//! * core → proto takes small `Copy` values by value and the rest by reference;
//! * a conversion that needs more than one value takes a tuple;
//! * an enum field is an `i32` in a prost message: [`enum_field`] reads one,
//!   naming the field in its errors. Where UNSPECIFIED means "not chosen" (the
//!   lab's settings), the enum also converts to and from an `Option` of the
//!   core enum (`None` = UNSPECIFIED).
//!
//! The impls are grouped like the proto files they convert: `enums` (every
//! enum), `types` (the shared vocabulary of `types.proto`), `customer`,
//! `replica`, `admin` and `lab`. Only the error, [`WireEnum`],
//! [`enum_field`] and [`guarantees_or_course`] (an optional `Guarantees`
//! field read with its default) are named from outside; the impls apply
//! wherever the types are in scope.

use std::convert::Infallible;

mod admin;
mod customer;
mod enums;
mod lab;
mod replica;
mod types;

pub use types::{checked_write_set, guarantees_or_course, MAX_WRITE_SET_PARTS};

/// A wire message that cannot be turned into a core value (or, rarely, a core
/// value the wire cannot carry).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// An enum field holds a number the contract does not define.
    #[error("unknown {what} {value} in `{field}` (expected {expected})")]
    UnknownValue { what: &'static str, field: &'static str, value: i32, expected: &'static str },
    /// An enum field is UNSPECIFIED where a value is required.
    #[error("`{field}` is unspecified (expected {expected})")]
    Unspecified { field: &'static str, expected: &'static str },
    /// An amount of money that cannot be negative is.
    #[error("negative amount {cents} cents in `{field}`")]
    NegativeAmount { field: &'static str, cents: i64 },
    /// An amount of money above the maximum
    /// ([`Cents::MAX`](bank_core::Cents::MAX), 9,999,999,999,999.99).
    #[error("amount {cents} cents in `{field}` is above the maximum {} cents", bank_core::Cents::MAX.0)]
    AmountTooLarge { field: &'static str, cents: i64 },
    /// A propagated query: only writes travel between branches.
    #[error("a query cannot be propagated (`{field}` must be a deposit or withdraw)")]
    QueryPropagated { field: &'static str },
    /// A write set with more parts than any run can give.
    #[error(
        "`{field}` has {parts} parts (origins, seqs and runs of seqs), more than the {} a write \
         set may have",
        types::MAX_WRITE_SET_PARTS
    )]
    WriteSetTooLarge { field: &'static str, parts: usize },
    /// A run of seqs written last first.
    #[error(
        "`{field}` has a run of branch {origin}'s seqs from {first} down to {last}: a run goes up"
    )]
    ReversedRun { field: &'static str, origin: u64, first: u64, last: u64 },
    /// A message field that must be set is absent.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A core value that has no wire form.
    #[error("{what} cannot be sent: {why}")]
    Unrepresentable { what: String, why: &'static str },
}

impl ConvertError {
    /// The same error, about `field` (an enum converted inside a message).
    fn in_field(self, field: &'static str) -> ConvertError {
        match self {
            ConvertError::UnknownValue { what, value, expected, .. } => {
                ConvertError::UnknownValue { what, field, value, expected }
            }
            ConvertError::Unspecified { expected, .. } => {
                ConvertError::Unspecified { field, expected }
            }
            other => other,
        }
    }
}

/// A malformed message is the caller's mistake: a service answers it with
/// `INVALID_ARGUMENT` and the error's sentence (so `?` works in a handler).
impl From<ConvertError> for tonic::Status {
    fn from(e: ConvertError) -> tonic::Status {
        tonic::Status::invalid_argument(e.to_string())
    }
}

/// Lets an infallible `From` stand where [`enum_field`] expects a `TryFrom`.
impl From<Infallible> for ConvertError {
    fn from(never: Infallible) -> ConvertError {
        match never {}
    }
}

/// A proto enum with a core counterpart, and how its errors name it.
pub trait WireEnum: TryFrom<i32> + Copy {
    /// Its name in the contract (the field, for an enum met outside a message).
    const NAME: &'static str;
    /// What a value of it is, in words ("unknown operation 42").
    const WHAT: &'static str;
    /// The values a field of it may hold, in words.
    const EXPECTED: &'static str;
}

/// The core value of the raw enum field `raw` (a prost message's `i32`),
/// with `field` (`"CustomerRequest.operation"`) named in the error. `C` is the
/// core enum, or `Option` of it where UNSPECIFIED means "not chosen":
///
/// ```
/// use bank_proto::convert::enum_field;
/// use bank_core::formats::OutputFormat;
/// use bank_proto::v1 as pb;
///
/// let p3 = pb::OutputFormat::P3 as i32;
/// let chosen: Option<OutputFormat> = enum_field::<pb::OutputFormat, _>(p3, "LoadRequest.format")?;
/// assert_eq!(chosen, Some(OutputFormat::P3));
/// // UNSPECIFIED: "the one that goes with the input".
/// let from_input: Option<OutputFormat> =
///     enum_field::<pb::OutputFormat, _>(0, "LoadRequest.format")?;
/// assert_eq!(from_input, None);
/// // Where a format is required, UNSPECIFIED is an error.
/// assert!(enum_field::<pb::OutputFormat, OutputFormat>(0, "Finished.format").is_err());
/// # Ok::<(), bank_proto::ConvertError>(())
/// ```
pub fn enum_field<P, C>(raw: i32, field: &'static str) -> Result<C, ConvertError>
where
    P: WireEnum,
    C: TryFrom<P>,
    C::Error: Into<ConvertError>,
{
    let value = P::try_from(raw).map_err(|_| ConvertError::UnknownValue {
        what: P::WHAT,
        field,
        value: raw,
        expected: P::EXPECTED,
    })?;
    C::try_from(value).map_err(|e| e.into().in_field(field))
}

#[cfg(test)]
mod tests;

//! The enums: each proto enum with a core counterpart maps to it one to one,
//! its UNSPECIFIED aside (converting that is an error, or `None` for the
//! lab's settings, where it means "not chosen"). `FailureReason` only goes
//! to the wire: reading a failure back needs the whole `Failure` (see
//! `super::customer`).

use bank_core::branch::PropagationMode;
use bank_core::formats::OutputFormat;
use bank_core::{ClockRule, ClockScheme, FailReason, LogKind, OpKind, Schedule};

use super::{ConvertError, WireEnum};
use crate::v1 as pb;

/// `From<core> for proto` and `TryFrom<proto> for core` for an enum whose
/// values map one to one (the proto's UNSPECIFIED aside: converting it is an
/// error), and the [`WireEnum`] facts of the proto enum.
macro_rules! one_to_one {
    (
        $core:ident <=> pb::$proto:ident,
        what $what:literal, expected $expected:literal,
        { $($c:ident <=> $p:ident),+ $(,)? }
    ) => {
        impl WireEnum for pb::$proto {
            const NAME: &'static str = stringify!($proto);
            const WHAT: &'static str = $what;
            const EXPECTED: &'static str = $expected;
        }

        impl From<$core> for pb::$proto {
            fn from(value: $core) -> pb::$proto {
                match value {
                    $($core::$c => pb::$proto::$p,)+
                }
            }
        }

        impl TryFrom<pb::$proto> for $core {
            type Error = ConvertError;
            fn try_from(value: pb::$proto) -> Result<$core, ConvertError> {
                match value {
                    $(pb::$proto::$p => Ok($core::$c),)+
                    pb::$proto::Unspecified => Err(ConvertError::Unspecified {
                        field: <pb::$proto as WireEnum>::NAME,
                        expected: $expected,
                    }),
                }
            }
        }
    };
}

/// `From<Option<core>> for proto` and `From<proto> for Option<core>`, for an
/// enum whose UNSPECIFIED means "not chosen" (the lab's settings).
macro_rules! unspecified_is_none {
    ($core:ident <=> pb::$proto:ident) => {
        impl From<Option<$core>> for pb::$proto {
            fn from(value: Option<$core>) -> pb::$proto {
                value.map_or(pb::$proto::Unspecified, pb::$proto::from)
            }
        }

        impl From<pb::$proto> for Option<$core> {
            fn from(value: pb::$proto) -> Option<$core> {
                // Every value but UNSPECIFIED has a core counterpart.
                $core::try_from(value).ok()
            }
        }
    };
}

one_to_one! {
    OpKind <=> pb::Operation,
    what "operation", expected "deposit, withdraw or query",
    { Deposit <=> Deposit, Withdraw <=> Withdraw, Query <=> Query }
}

one_to_one! {
    LogKind <=> pb::LogKind,
    what "log kind",
    expected "request, execute, propagate sent / received / executed / acked, or response",
    {
        Request <=> Request,
        Execute <=> Execute,
        PropagateSent <=> PropagateSent,
        PropagateReceived <=> PropagateReceived,
        PropagateExecuted <=> PropagateExecuted,
        PropagateAcked <=> PropagateAcked,
        Response <=> Response,
    }
}

one_to_one! {
    PropagationMode <=> pb::PropagationMode,
    what "propagation mode", expected "sequential, parallel or background",
    { Sequential <=> Sequential, Parallel <=> Parallel, Background <=> Background }
}
unspecified_is_none!(PropagationMode <=> pb::PropagationMode);

one_to_one! {
    ClockScheme <=> pb::ClockScheme,
    what "clock scheme", expected "execute-and-respond or send-and-receive",
    { ExecuteAndRespond <=> ExecuteAndRespond, SendAndReceive <=> SendAndReceive }
}

one_to_one! {
    ClockRule <=> pb::ClockRule,
    what "clock rule", expected "receive, local or unchanged",
    { Receive <=> Receive, Local <=> Local, Unchanged <=> Unchanged }
}

one_to_one! {
    OutputFormat <=> pb::OutputFormat,
    what "output format", expected "p1, p1-money, p2a, p2b or p3",
    { P1 <=> P1, P1Money <=> P1Money, P2a <=> P2a, P2b <=> P2b, P3 <=> P3 }
}
unspecified_is_none!(OutputFormat <=> pb::OutputFormat);

one_to_one! {
    Schedule <=> pb::Schedule,
    what "schedule", expected "sequential, concurrent or writes-first",
    { Sequential <=> Sequential, Concurrent <=> Concurrent, WritesFirst <=> WritesFirst }
}

impl WireEnum for pb::FailureReason {
    const NAME: &'static str = "FailureReason";
    const WHAT: &'static str = "failure reason";
    const EXPECTED: &'static str =
        "insufficient funds, invalid request, wrong branch, not ready, storage failed, balance \
         limit or unavailable";
}

/// Which kind of failure (the details travel in the rest of `Failure`).
impl From<&FailReason> for pb::FailureReason {
    fn from(reason: &FailReason) -> pb::FailureReason {
        match reason {
            FailReason::InsufficientFunds { .. } => pb::FailureReason::InsufficientFunds,
            FailReason::WrongBranch => pb::FailureReason::WrongBranch,
            FailReason::Invalid(_) => pb::FailureReason::InvalidRequest,
            FailReason::NotReady(_) => pb::FailureReason::NotReady,
            FailReason::BalanceLimit { .. } => pb::FailureReason::BalanceLimit,
            FailReason::StorageFailed(_) => pb::FailureReason::StorageFailed,
            FailReason::Unavailable(_) => pb::FailureReason::Unavailable,
        }
    }
}

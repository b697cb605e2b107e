//! Identifier newtypes, so a branch id can never be passed where a customer id
//! is expected (customer 1 and branch 1 both exist in every course file).

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, " {}"), self.0)
            }
        }
    };
}

id_type!(
    /// A branch (one server holding one replica of the balance).
    BranchId, "branch"
);
id_type!(
    /// A customer, as numbered in the input file.
    CustomerId, "customer"
);
id_type!(
    /// An event's label from the input file (`id` or `customer-request-id`).
    /// Not unique in every course file: never used as a key by the protocol.
    EventId, "event"
);

/// The unique name of one write: the branch that accepted it from a customer
/// and that branch's own sequence number (1, 2, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteId {
    pub origin: BranchId,
    pub seq: u64,
}

impl fmt::Display for WriteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "w{}.{}", self.origin.0, self.seq)
    }
}

//! How a branch is set up: its [`BranchConfig`], the [`PropagationMode`]
//! it propagates its writes in, and the [`RunSettings`] a running branch is
//! reset into when a new run starts.
//!
//! A branch is created once from a [`BranchConfig`] (its id, its peers and
//! the settings of the run). A branch *process* outlives a run: a new run
//! resets it into fresh [`RunSettings`], keeping its id and its peers.

use crate::clock::ClockScheme;
use crate::ids::BranchId;
use crate::money::Cents;

/// How long (ms) whatever carries a branch's writes to a peer keeps trying
/// while the peer fails them (down, cut off, losing them) before it gives
/// up on them and tells the branch ([`crate::branch::Input::Undelivered`]):
/// the branch then stops waiting for that peer and answers a customer
/// waiting for it with an unavailable failure; the peer gets the writes
/// later by anti-entropy. The real cluster's links and the simulator keep
/// this one deadline, so a run with a branch down ends alike on both.
/// Once a peer has been given up on, it is *unreachable*: each later write
/// gets one try, given up at once if that fails, until one gets through.
pub const PEER_DEADLINE_MS: u64 = 2_000;

/// When and how a branch propagates a write it accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PropagationMode {
    /// One peer at a time in ascending id order, each after the previous one
    /// acknowledged; the customer is answered after the last. This is what
    /// the course's reference implementation does.
    #[default]
    Sequential,
    /// All peers at once; the customer is answered after all acknowledged.
    Parallel,
    /// The customer is answered right after the local apply; the peers get
    /// the write in the background. Session guarantees then do real work.
    Background,
}

impl PropagationMode {
    pub const ALL: [PropagationMode; 3] =
        [PropagationMode::Sequential, PropagationMode::Parallel, PropagationMode::Background];

    /// Whether the customer waits for every peer (the course's behaviour).
    pub fn is_synchronous(self) -> bool {
        !matches!(self, PropagationMode::Background)
    }
}

/// How a branch is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchConfig {
    pub id: BranchId,
    /// Every other branch of the bank.
    pub peers: Vec<BranchId>,
    pub initial_balance: Cents,
    pub clock_scheme: ClockScheme,
    pub propagation: PropagationMode,
}

/// A fresh start for a branch process (the `Admin.Reset` RPC): a new run
/// with these settings, on the same id and peers. Everything in flight is
/// dropped: waiting customers and peers get an error, deliveries of the old
/// epoch stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSettings {
    pub balance: Cents,
    pub clock_scheme: ClockScheme,
    pub propagation: PropagationMode,
    /// Names the run. Propagations carry their epoch, and a node refuses
    /// those of another one, so nothing of an earlier run leaks into this.
    pub epoch: u64,
}

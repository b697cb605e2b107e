//! The in-process cluster's network: delays, loss and partitions, on purpose.
//!
//! Real gRPC calls between branches on loopback are fast and never lost, so
//! nothing would ever go wrong. [`Network`] makes the sender side of every
//! branch-to-branch call (propagations and anti-entropy pulls) follow a
//! [`NetworkPlan`] or faults injected live: before a write joins its link's
//! queue (see [`crate::branch::link`]) or a pull leaves, the sender asks
//! [`Network::transit`] whether the link is cut (wait for a heal), the
//! message is lost (retry after a back-off) or how long it takes (sleep that
//! long, then really send). A lost answer ([`Network::reply_lost`]) makes
//! the sender send the whole call again, so the peer sees duplicates. All
//! randomness comes from one seeded generator, so the delays of a run can be
//! replayed. Crashes are the cluster's business ([`crate::cluster::local`]).

use std::sync::Mutex;
use std::time::Duration;

use bank_core::network::{Delay, Fault, LinkState, NetworkPlan, SplitMix64};
use bank_core::BranchId;
use tokio::sync::watch;

/// What happens to one message on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transit {
    /// The link is cut: wait for [`Network::changed`], then ask again.
    Cut,
    /// The message is lost: retry later.
    Lost,
    /// It arrives after this long.
    Delayed(Duration),
}

/// See the module docs. Shared by every node of a cluster.
#[derive(Debug)]
pub struct Network {
    inner: Mutex<Inner>,
    changed: watch::Sender<u64>,
}

#[derive(Debug)]
struct Inner {
    links: LinkState,
    rng: SplitMix64,
    branches: Vec<BranchId>,
}

impl Network {
    pub fn new(plan: &NetworkPlan, seed: u64, branches: Vec<BranchId>) -> Network {
        let inner = Inner { links: LinkState::new(plan), rng: SplitMix64::new(seed), branches };
        Network { inner: Mutex::new(inner), changed: watch::channel(0).0 }
    }

    /// A perfect network (the course's setting).
    pub fn perfect(branches: Vec<BranchId>) -> Network {
        Network::new(&NetworkPlan::default(), 0, branches)
    }

    /// What happens to the next message from `from` to `to`.
    pub fn transit(&self, from: BranchId, to: BranchId) -> Transit {
        let mut inner = self.inner.lock().expect("network lock");
        if inner.links.is_cut(from, to) {
            return Transit::Cut;
        }
        let drop = inner.links.drop_percent;
        if inner.rng.chance(drop) {
            return Transit::Lost;
        }
        let delay = inner.links.delay(from, to);
        Transit::Delayed(Duration::from_micros(delay.sample_us(&mut inner.rng)))
    }

    /// Whether the link from `from` to `to` is cut right now.
    pub fn is_cut(&self, from: BranchId, to: BranchId) -> bool {
        self.inner.lock().expect("network lock").links.is_cut(from, to)
    }

    /// Whether a reply that just came back over the link is lost too.
    pub fn reply_lost(&self) -> bool {
        let mut inner = self.inner.lock().expect("network lock");
        let drop = inner.links.drop_percent;
        inner.rng.chance(drop)
    }

    /// Applies a link fault (cut, heal, isolate, rejoin, set delay).
    pub fn apply(&self, fault: &Fault) {
        {
            let mut inner = self.inner.lock().expect("network lock");
            let branches = inner.branches.clone();
            inner.links.apply(fault, &branches);
        }
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn heal_all(&self) {
        self.inner.lock().expect("network lock").links.heal_all();
        self.changed.send_modify(|n| *n += 1);
    }

    /// Resolves after the next change (a heal, say).
    pub fn changed(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The links as they are right now (cuts and delays).
    pub fn links(&self) -> LinkState {
        self.inner.lock().expect("network lock").links.clone()
    }

    /// Every branch of the network.
    pub fn branches(&self) -> Vec<BranchId> {
        self.inner.lock().expect("network lock").branches.clone()
    }

    /// The links cut right now.
    pub fn cut_links(&self) -> Vec<(BranchId, BranchId)> {
        self.inner.lock().expect("network lock").links.cut_links().collect()
    }

    /// Each link's delay where it differs from no delay at all.
    pub fn delays(&self) -> Vec<(BranchId, BranchId, Delay)> {
        let inner = self.inner.lock().expect("network lock");
        inner.links.delays(&inner.branches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_heal_and_delays_follow_the_plan() {
        let plan = NetworkPlan { delay_ms: Delay::Fixed(7), ..NetworkPlan::default() };
        let net = Network::new(&plan, 1, vec![BranchId(1), BranchId(2), BranchId(3)]);
        assert_eq!(
            net.transit(BranchId(1), BranchId(2)),
            Transit::Delayed(Duration::from_millis(7))
        );
        let changed = net.changed();
        net.apply(&Fault::Isolate(2));
        assert!(changed.has_changed().unwrap());
        assert_eq!(net.transit(BranchId(3), BranchId(2)), Transit::Cut);
        assert_eq!(net.cut_links().len(), 2);
        net.apply(&Fault::Rejoin(2));
        assert_eq!(
            net.transit(BranchId(2), BranchId(1)),
            Transit::Delayed(Duration::from_millis(7))
        );
        assert_eq!(net.delays().len(), 3);
    }
}

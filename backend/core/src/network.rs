//! What the network between branches does: delays, loss, partitions, crashes.
//!
//! A [`NetworkPlan`] is plain data: a default delay for every link between
//! two branches, per-link overrides, a message loss rate, and a timeline of
//! [`Fault`]s (cut or heal a link, isolate a branch, crash and restart one,
//! change a link's delay). The deterministic simulator ([`crate::sim`]) and
//! the real tokio cluster both follow the same plan, and both draw every
//! random number from one seeded [`SplitMix64`], so a run can be replayed.
//!
//! Lost messages are not lost writes: the sender retries a propagation until
//! it is acknowledged, and anti-entropy fills any gap after a crash.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::BranchId;

/// A small, well-known generator (SplitMix64): deterministic, no dependency.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u8) -> bool {
        percent > 0 && self.next_u64() % 100 < u64::from(percent)
    }
}

/// The longest link delay a plan may give: one hour, in milliseconds.
pub const MAX_DELAY_MS: u64 = 3_600_000;

/// The latest time a planned fault may happen: half a simulated day (the
/// simulator's horizon is a day, [`crate::sim::HORIZON_MS`]), in milliseconds.
pub const MAX_FAULT_AT_MS: u64 = 43_200_000;

/// How long a message takes on a link, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Delay {
    /// Always this long: `"delay_ms": 20`.
    Fixed(u64),
    /// Uniformly random in `[min, max]`: `"delay_ms": [5, 50]`.
    Between(u64, u64),
}

impl Default for Delay {
    fn default() -> Self {
        Delay::Fixed(0)
    }
}

impl Delay {
    /// The longest this delay can be, in milliseconds.
    pub fn max_ms(self) -> u64 {
        match self {
            Delay::Fixed(ms) => ms,
            Delay::Between(a, b) => a.max(b),
        }
    }

    /// One message's delay in microseconds (saturating: a delay beyond
    /// [`MAX_DELAY_MS`] is refused when plans are read, never wrapped here).
    pub fn sample_us(self, rng: &mut SplitMix64) -> u64 {
        match self {
            Delay::Fixed(ms) => ms.saturating_mul(1000),
            Delay::Between(a, b) => {
                let (lo, hi) = (a.min(b).saturating_mul(1000), a.max(b).saturating_mul(1000));
                let draw = rng.next_u64();
                match (hi - lo).checked_add(1) {
                    Some(span) => lo + draw % span,
                    None => draw, // the whole u64 range
                }
            }
        }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delay::Fixed(ms) => write!(f, "{ms} ms"),
            Delay::Between(a, b) => write!(f, "{a}-{b} ms"),
        }
    }
}

/// A link override: messages between `between[0]` and `between[1]` (both
/// directions) take `delay_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRule {
    pub between: [u64; 2],
    pub delay_ms: Delay,
}

/// Something that happens to the network or a branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// No message passes between the two branches until healed.
    Cut([u64; 2]),
    Heal([u64; 2]),
    /// Cut every link of the branch (customers still reach it).
    Isolate(u64),
    /// Heal every link of the branch.
    Rejoin(u64),
    /// Stop the branch: its memory is lost, its stored writes are kept.
    Crash(u64),
    /// Start a crashed branch again from its stored writes.
    Restart(u64),
    /// Change the delay of one link.
    SetDelay {
        between: [u64; 2],
        delay_ms: Delay,
    },
}

/// The longest delay a user may give a link while a run goes on.
pub const MAX_INJECTED_DELAY_MS: u64 = 2_000;

impl Fault {
    /// The branches the fault names.
    pub fn branches(&self) -> Vec<u64> {
        match self {
            Fault::Cut([a, b]) | Fault::Heal([a, b]) | Fault::SetDelay { between: [a, b], .. } => {
                vec![*a, *b]
            }
            Fault::Crash(b) | Fault::Restart(b) | Fault::Isolate(b) | Fault::Rejoin(b) => vec![*b],
        }
    }

    /// Why a user may not inject this fault into a bank of the branches
    /// `ids` (a branch it does not have, a link from a branch to itself, a
    /// delay over [`MAX_INJECTED_DELAY_MS`]); `None` when it may.
    pub fn refusal(&self, ids: &[BranchId]) -> Option<String> {
        if let Some(b) = self.branches().into_iter().find(|b| !ids.contains(&BranchId(*b))) {
            return Some(format!("there is no branch {b}"));
        }
        if let Fault::Cut([a, b]) | Fault::Heal([a, b]) | Fault::SetDelay { between: [a, b], .. } =
            self
        {
            if a == b {
                return Some(format!("a link joins two different branches, not {a} and {b}"));
            }
        }
        if let Fault::SetDelay { delay_ms, .. } = self {
            if delay_ms.max_ms() > MAX_INJECTED_DELAY_MS {
                return Some(format!("a link's delay can be at most {MAX_INJECTED_DELAY_MS} ms"));
            }
        }
        None
    }

    /// Why the fault cannot be applied while the branches `down` are
    /// crashed (crash a branch that is down, restart one that is up).
    pub fn refusal_now(&self, down: &[BranchId]) -> Option<String> {
        match self {
            Fault::Crash(b) if down.contains(&BranchId(*b)) => {
                Some(format!("branch {b} is down already"))
            }
            Fault::Restart(b) if !down.contains(&BranchId(*b)) => {
                Some(format!("branch {b} is up: crash it first"))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Cut([a, b]) => write!(f, "cut the link {a}-{b}"),
            Fault::Heal([a, b]) => write!(f, "heal the link {a}-{b}"),
            Fault::Isolate(b) => write!(f, "isolate branch {b}"),
            Fault::Rejoin(b) => write!(f, "reconnect branch {b}"),
            Fault::Crash(b) => write!(f, "crash branch {b}"),
            Fault::Restart(b) => write!(f, "restart branch {b}"),
            Fault::SetDelay { between: [a, b], delay_ms } => {
                write!(f, "set the link {a}-{b} to {delay_ms}")
            }
        }
    }
}

/// A fault at a point in time (milliseconds after the run started).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedFault {
    pub at_ms: u64,
    #[serde(flatten)]
    pub fault: Fault,
}

/// The network a run happens on. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkPlan {
    /// Delay of every branch-to-branch link without an override.
    pub delay_ms: Delay,
    pub links: Vec<LinkRule>,
    /// Percentage of branch-to-branch messages lost (each is retried).
    #[serde(deserialize_with = "drop_percent")]
    pub drop_percent: u8,
    pub faults: Vec<TimedFault>,
}

/// `drop_percent`: a whole percentage. Read from any number, so that 99.9
/// or 300 is told what it may be (serde said "0 to 255"); the plan's check
/// refuses more than 90.
fn drop_percent<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    use serde::de::Error;
    let n = f64::deserialize(d).map_err(|_: D::Error| {
        D::Error::custom("drop_percent is a whole percentage from 0 to 90")
    })?;
    if n.fract() != 0.0 || !(0.0..=255.0).contains(&n) {
        return Err(D::Error::custom(format!(
            "drop_percent is a whole percentage from 0 to 90, found {n}"
        )));
    }
    Ok(n as u8)
}

impl NetworkPlan {
    /// True when nothing is delayed, lost or broken: the course's setting.
    pub fn is_perfect(&self) -> bool {
        self.delay_ms == Delay::Fixed(0)
            && self.links.is_empty()
            && self.drop_percent == 0
            && self.faults.is_empty()
    }

    /// The longest delay, in milliseconds, the plan gives any link (the
    /// upper end of a random range, and delays set by timed faults too).
    pub fn slowest_ms(&self) -> u64 {
        std::iter::once(self.delay_ms)
            .chain(self.links.iter().map(|l| l.delay_ms))
            .chain(self.faults.iter().filter_map(|f| match f.fault {
                Fault::SetDelay { delay_ms, .. } => Some(delay_ms),
                _ => None,
            }))
            .map(Delay::max_ms)
            .max()
            .unwrap_or(0)
    }

    /// Checks the plan against the bank's branches.
    pub fn validate(&self, branches: &[BranchId]) -> Result<(), String> {
        let known = |b: u64| branches.contains(&BranchId(b));
        let check = |b: u64, what: &str| {
            if known(b) {
                Ok(())
            } else {
                Err(format!("{what} names branch {b}, which the bank does not have"))
            }
        };
        if self.drop_percent > 90 {
            return Err(format!(
                "drop_percent {} is above 90: nothing would get through",
                self.drop_percent
            ));
        }
        let bounded = |d: Delay, what: &str| match d {
            _ if d.max_ms() > MAX_DELAY_MS => {
                Err(format!("{what} has a delay of {d}, above the maximum of {MAX_DELAY_MS} ms"))
            }
            Delay::Between(min, max) if min > max => Err(format!(
                "{what} has the delay range [{min}, {max}], which starts above its end; \
                 write [{max}, {min}]"
            )),
            _ => Ok(()),
        };
        bounded(self.delay_ms, "the plan")?;
        // A link joins two different branches; a branch never messages itself.
        let two_ends = |[a, b]: [u64; 2], what: &str| {
            if a == b {
                Err(format!("{what} joins branch {a} to itself; a link needs two branches"))
            } else {
                Ok(())
            }
        };
        let mut ruled = BTreeMap::new();
        for l in &self.links {
            let [a, b] = l.between;
            if let Some(first) = ruled.insert((a.min(b), a.max(b)), [a, b]) {
                return Err(format!(
                    "two link rules name the link between branches {} and {} ({:?} and {:?}); \
                     keep one",
                    a.min(b),
                    a.max(b),
                    first,
                    l.between
                ));
            }
            bounded(l.delay_ms, &format!("the link rule {}-{}", l.between[0], l.between[1]))?;
            check(l.between[0], "a link rule")?;
            check(l.between[1], "a link rule")?;
            two_ends(l.between, "a link rule")?;
        }
        for f in &self.faults {
            let at = format!("the fault at {} ms", f.at_ms);
            if f.at_ms > MAX_FAULT_AT_MS {
                return Err(format!("{at} is later than the maximum of {MAX_FAULT_AT_MS} ms"));
            }
            if let Fault::SetDelay { delay_ms, .. } = f.fault {
                bounded(delay_ms, &at)?;
            }
            match &f.fault {
                Fault::Cut([a, b])
                | Fault::Heal([a, b])
                | Fault::SetDelay { between: [a, b], .. } => {
                    check(*a, &at)?;
                    check(*b, &at)?;
                    two_ends([*a, *b], &at)?;
                }
                Fault::Isolate(b) | Fault::Rejoin(b) | Fault::Crash(b) | Fault::Restart(b) => {
                    check(*b, &at)?
                }
            }
        }
        Ok(())
    }
}

/// Why writes given up on did not reach `to`: the link from `from` is cut
/// (the words the cluster's links and the simulator both give).
pub fn cut_link_reason(from: BranchId, to: BranchId) -> String {
    format!("the link from branch {} to branch {} is cut", from.0, to.0)
}

/// The live state of the links while a run follows a plan.
#[derive(Clone, Debug)]
pub struct LinkState {
    default: Delay,
    delays: BTreeMap<(BranchId, BranchId), Delay>,
    cut: BTreeSet<(BranchId, BranchId)>,
    pub drop_percent: u8,
}

fn key(a: BranchId, b: BranchId) -> (BranchId, BranchId) {
    (a.min(b), a.max(b))
}

impl LinkState {
    pub fn new(plan: &NetworkPlan) -> LinkState {
        let mut state = LinkState {
            default: plan.delay_ms,
            delays: BTreeMap::new(),
            cut: BTreeSet::new(),
            drop_percent: plan.drop_percent,
        };
        for l in &plan.links {
            state.delays.insert(key(BranchId(l.between[0]), BranchId(l.between[1])), l.delay_ms);
        }
        state
    }

    pub fn delay(&self, a: BranchId, b: BranchId) -> Delay {
        self.delays.get(&key(a, b)).copied().unwrap_or(self.default)
    }

    pub fn is_cut(&self, a: BranchId, b: BranchId) -> bool {
        self.cut.contains(&key(a, b))
    }

    pub fn cut_links(&self) -> impl Iterator<Item = (BranchId, BranchId)> + '_ {
        self.cut.iter().copied()
    }

    /// Applies a link fault (crash and restart are the host's business);
    /// `all` lists every branch, for isolate and rejoin.
    pub fn apply(&mut self, fault: &Fault, all: &[BranchId]) {
        match fault {
            Fault::Cut([a, b]) => {
                self.cut.insert(key(BranchId(*a), BranchId(*b)));
            }
            Fault::Heal([a, b]) => {
                self.cut.remove(&key(BranchId(*a), BranchId(*b)));
            }
            Fault::Isolate(b) => {
                for other in all.iter().filter(|o| o.0 != *b) {
                    self.cut.insert(key(BranchId(*b), *other));
                }
            }
            Fault::Rejoin(b) => {
                for other in all {
                    self.cut.remove(&key(BranchId(*b), *other));
                }
            }
            Fault::SetDelay { between: [a, b], delay_ms } => {
                self.delays.insert(key(BranchId(*a), BranchId(*b)), *delay_ms);
            }
            Fault::Crash(_) | Fault::Restart(_) => {}
        }
    }

    pub fn heal_all(&mut self) {
        self.cut.clear();
    }

    /// Each link between the branches `ids` whose delay differs from no
    /// delay at all (lower id first, each pair once).
    pub fn delays(&self, ids: &[BranchId]) -> Vec<(BranchId, BranchId, Delay)> {
        let mut out = Vec::new();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                let d = self.delay(*a, *b);
                if d != Delay::Fixed(0) {
                    out.push(((*a).min(*b), (*a).max(*b), d));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_read_from_json() {
        let plan: NetworkPlan = serde_json::from_str(
            r#"{"delay_ms": [1, 5], "links": [{"between": [1, 2], "delay_ms": 300}],
                "faults": [{"at_ms": 10, "cut": [1, 3]}, {"at_ms": 20, "crash": 2}, {"at_ms": 30, "set_delay": {"between": [1, 2], "delay_ms": 1}}]}"#,
        )
        .unwrap();
        assert_eq!(plan.delay_ms, Delay::Between(1, 5));
        assert_eq!(plan.faults[1].fault, Fault::Crash(2));
        let mut links = LinkState::new(&plan);
        assert_eq!(links.delay(BranchId(2), BranchId(1)), Delay::Fixed(300));
        links.apply(&plan.faults[0].fault, &[]);
        assert!(links.is_cut(BranchId(3), BranchId(1)));
        assert!(plan.validate(&[BranchId(1), BranchId(2)]).unwrap_err().contains("branch 3"));
        assert!(
            serde_json::from_str::<NetworkPlan>(r#"{"delay": 1}"#).is_err(),
            "unknown keys are errors"
        );
    }

    #[test]
    fn delays_stay_in_range_and_replay() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            let d = Delay::Between(5, 10).sample_us(&mut a);
            assert!((5000..=10000).contains(&d));
            assert_eq!(d, Delay::Between(5, 10).sample_us(&mut b));
        }
    }
}

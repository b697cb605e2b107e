//! Balances from one consistent run: can *one* execution explain every
//! read of a submission at once?
//!
//! [`super::answers`] checks each read on its own: a query's balance must
//! be one that the writes it can have seen give. That accepts a submission
//! whose reads each fit some run but no run fits them all: customer 2 reads
//! 500 at branch 2 (customer 1's deposit of 100 had arrived) and then 400
//! there (it had not). This module looks for the contradiction.
//!
//! ## The model
//! Under the course's synchronous propagation a write is applied at its
//! own branch first, then at every other branch, and its customer hears
//! back only after the last: a customer's next write starts after its
//! previous one is everywhere. So at any moment a branch holds, of each
//! customer session's successful writes, a *first few*: the state of
//! branch `b` is a vector of counts `k[s]`, one per session, and a read
//! there sees `start(b) + Σ prefix_s(k[s])`. A withdraw is such a read too:
//! it succeeded only if that sum covered it, failed only if it did not.
//!
//! Each read `r` gets one unknown `k[r][s]` per writing session, with a
//! domain of possible counts: its own session's count is known (its
//! earlier writes; under p1-money's writes-first convention, anything up to
//! all of them), the others' anything at first. Four kinds of constraint
//! tie the unknowns together, and each holds in every legal execution:
//!
//! 1. **The read's value** (sum): `start + Σ prefix_s(k[r][s])` is the
//!    printed balance (or covers the withdraw, or does not).
//! 2. **Time order between two reads** `a` before `b`, for every session
//!    `s`: at the same branch `k[b][s] ≥ k[a][s]` (a branch's applied writes
//!    only grow); at another branch `k[b][s] ≥ k[a][s] − 1` (write number
//!    `k[a][s]` had started, so the ones before it were everywhere), and
//!    equal to `k[a][s] − 1` only while that write is in flight: not when
//!    `b`'s branch is its origin (a write is at its own branch first), nor
//!    when it is `a`'s own write (a customer's own earlier writes are
//!    everywhere). Also `k[b][s]` is at least what `a` knew was complete: the
//!    count of `a`'s own earlier writes.
//! 3. **Which reads come before which.** Program order gives it inside a
//!    session (p1-money: among queries, and among writes, since its
//!    writes-first convention sends a session's writes before its queries).
//!    Between sessions the values give it: a read that saw session `s`'s
//!    write `j` came after the event that sent it, so after `s`'s reads
//!    before that write; a read that did not see write `j` came before that
//!    write was everywhere, so before `s`'s reads after it. These orders
//!    are closed transitively; a cycle is itself a contradiction.
//! 4. **Two reads of one session together.** Constraint 2 ties each
//!    session's count on its own; a refusal for want of money at a branch
//!    (at least 39 withdraws of 10 seen, no matter whose) followed there by
//!    a balance as if none had arrived breaks none of them. So, for each
//!    two reads `a` before `b` of one session, some balance `a` allows,
//!    moved by what every writer can add between them (its step from a
//!    count at `a` to one allowed at `b`), must give one that `b` allows.
//!
//! The check prunes the domains until nothing changes (arc consistency: a
//! count is dropped when no choice of the others' counts supports it, for
//! the sum through the other sessions' possible prefixes, summed as bits
//! on a grid of the amounts' common step, or as [`Sums`] beyond it; for
//! a time order by looking at the other read's counts); every time order
//! found adds constraints of kind 2; then it tests constraint 4. An empty
//! domain, a cycle of time orders or a pair that does not fit proves that
//! no execution gives all these reads. The pruning is polynomial: a few
//! hundred reads of up to a hundred sessions, each round a sum over the
//! sessions of small sets (about 0.3 s in a debug build for the course's
//! 100-customer input). It does not search: when pruning
//! ends without a contradiction the submission is accepted, so a correct
//! run is never rejected, and a contradiction that only a search over
//! combinations would find (a subset-sum puzzle) is not reported.
//!
//! Its cost grows with the square of the reads (and with the amounts'
//! grid): it takes on at most [`MAX_READS`] reads, and pairs a read with
//! the next [`PAIRED_READS`] of its session for constraint 4.
//!
//! ## The explanation
//! A contradiction is narrowed to a minimal set of reads that still
//! cannot all be true (starting from the read where pruning failed and the
//! reads ordered with it, when those suffice; reads are dropped in halves,
//! then one by one, while the rest still contradict), and reported on the
//! last of them, naming the others: "no single execution gives this together with customer 2,
//! event 4 (query at branch 2) answered 500".

use std::collections::VecDeque;

/// The most reads the check takes on. Its table of time orders holds one
/// entry per two reads, and every revision looks at each other read: 6,000
/// reads are 36 MB and a few seconds. A bigger submission gets the
/// per-read checks of [`super::answers`] only ([`contradiction`] finds
/// none), and `bank grade` says so.
pub const MAX_READS: usize = 6_000;

/// Constraint 4 pairs each read with the next this many reads of its
/// session (all of them in a session of the course's size): a contradiction
/// between two reads further apart in a longer session is not looked for.
const PAIRED_READS: usize = 256;

use super::sums::Sums;

/// One session's writes that took effect, in its order.
#[derive(Clone, Debug, Default)]
pub struct Writes {
    /// The index (into the session's events) of each successful write.
    pub at: Vec<usize>,
    /// The branch each was sent to (where it is applied first).
    pub origin: Vec<u64>,
    /// `prefix[k]`: the amounts of the first `k` writes, summed (`k = 0..=len`).
    pub prefix: Vec<i64>,
}

impl Writes {
    /// Adds the next successful write.
    pub fn push(&mut self, at: usize, origin: u64, delta: i64) {
        if self.prefix.is_empty() {
            self.prefix.push(0);
        }
        let last = *self.prefix.last().expect("non-empty");
        self.at.push(at);
        self.origin.push(origin);
        self.prefix.push(last.saturating_add(delta));
    }

    fn len(&self) -> usize {
        self.at.len()
    }
}

/// The least and the greatest count a domain allows (`(0, 0)` when it is
/// empty, which the pruning reports before it looks at the ends).
fn ends(domain: &[bool]) -> (usize, usize) {
    let lo = domain.iter().position(|ok| *ok).unwrap_or(0);
    let hi = domain.iter().rposition(|ok| *ok).unwrap_or(0);
    (lo, hi)
}

/// What a read says about its branch's balance at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A query answered this balance.
    Equal(i64),
    /// A withdraw of this amount succeeded.
    AtLeast(i64),
    /// A withdraw of this amount failed.
    Below(i64),
}

/// One read: a query's answer, or a withdraw's result.
#[derive(Clone, Debug)]
pub struct Read {
    /// Index into the sessions.
    pub session: usize,
    /// Index into the session's events.
    pub event: usize,
    pub branch: u64,
    /// The branch's starting balance.
    pub start: i64,
    /// How many of its session's own writes it counts: at least, at most.
    pub own: (usize, usize),
    pub seen: Seen,
    pub query: bool,
}

/// Every session's writes and every read of a submission.
#[derive(Clone, Debug)]
pub struct Model {
    /// One per session (empty for a session without successful writes).
    pub writes: Vec<Writes>,
    pub reads: Vec<Read>,
    /// p1-money: a session's queries may run after all its writes.
    pub writes_first: bool,
}

/// A minimal set of reads (indices into `model.reads`) that no execution
/// gives together, or `None` if pruning finds no contradiction.
pub fn contradiction(model: &Model) -> Option<Vec<usize>> {
    let n = model.reads.len();
    if n > MAX_READS {
        return None;
    }
    let all = vec![true; n];
    let mut solver = Solver::new(model, &all);
    let at = solver.consistent().err()?;
    // Most contradictions lie between the read where pruning failed and
    // the reads ordered with it: start from those when they suffice.
    let mut active = vec![false; n];
    for i in solver.near(at) {
        active[i] = true;
    }
    if Solver::new(model, &active).consistent().is_ok() {
        active = all.clone();
    }
    let mut chunk = active.iter().filter(|a| **a).count().div_ceil(2).max(1);
    loop {
        let members: Vec<usize> = (0..n).filter(|i| active[*i]).collect();
        for window in members.chunks(chunk) {
            for i in window {
                active[*i] = false;
            }
            if Solver::new(model, &active).consistent().is_ok() {
                for i in window {
                    active[*i] = true;
                }
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    Some((0..n).filter(|i| active[*i]).collect())
}

/// The pruning state for one set of active reads.
struct Solver<'m> {
    model: &'m Model,
    active: &'m [bool],
    /// The sessions with at least one write: the unknowns of every read.
    writers: Vec<usize>,
    /// `dom[r][w][k]`: read `r` may have seen the first `k` writes of writer `w`.
    dom: Vec<Vec<Vec<bool>>>,
    /// `ends[r][w]`: the least and the greatest `k` of `dom[r][w]` (kept
    /// with it), so that a time order that cannot narrow two domains is
    /// seen at once instead of by scanning them (see [`Solver::revise_pair`]).
    ends: Vec<Vec<(usize, usize)>>,
    /// `before[a][b]`: read `a` happened before read `b`.
    before: Vec<Vec<bool>>,
    /// The reads of each session.
    by_session: Vec<Vec<usize>>,
    queue: VecDeque<usize>,
    queued: Vec<bool>,
    /// The fast form of the sums, when every amount fits one.
    grid: Option<Grid>,
}

impl<'m> Solver<'m> {
    fn new(model: &'m Model, active: &'m [bool]) -> Solver<'m> {
        let n = model.reads.len();
        let writers: Vec<usize> =
            (0..model.writes.len()).filter(|s| model.writes[*s].len() > 0).collect();
        let dom: Vec<Vec<Vec<bool>>> = model
            .reads
            .iter()
            .map(|r| {
                writers
                    .iter()
                    .map(|s| {
                        let len = model.writes[*s].len();
                        (0..=len)
                            .map(|k| *s != r.session || (r.own.0..=r.own.1).contains(&k))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut by_session = vec![Vec::new(); model.writes.len()];
        for (i, r) in model.reads.iter().enumerate() {
            if let Some(list) = by_session.get_mut(r.session) {
                list.push(i);
            }
        }
        let mut before = vec![vec![false; n]; n];
        for list in &by_session {
            for (x, a) in list.iter().enumerate() {
                for b in &list[x + 1..] {
                    let (ra, rb) = (&model.reads[*a], &model.reads[*b]);
                    let (a, b) = if ra.event < rb.event { (*a, *b) } else { (*b, *a) };
                    if !model.writes_first || ra.query == rb.query {
                        before[a][b] = true;
                    }
                }
            }
        }
        let ends = dom
            .iter()
            .map(|read: &Vec<Vec<bool>>| read.iter().map(|d| ends(d)).collect())
            .collect();
        Solver {
            model,
            active,
            writers,
            dom,
            ends,
            before,
            by_session,
            queue: (0..n).filter(|i| active[*i]).collect(),
            queued: active.to_vec(),
            grid: Grid::of(model),
        }
    }

    fn push(&mut self, r: usize) {
        if self.active[r] && !self.queued[r] {
            self.queued[r] = true;
            self.queue.push_back(r);
        }
    }

    /// `r` and the reads known to come before or after it.
    fn near(&self, r: usize) -> Vec<usize> {
        let n = self.model.reads.len();
        (0..n).filter(|p| *p == r || self.before[r][*p] || self.before[*p][r]).collect()
    }

    /// Prunes to a fixed point; on a contradiction, the read being revised.
    fn consistent(&mut self) -> Result<(), usize> {
        while let Some(r) = self.queue.pop_front() {
            self.queued[r] = false;
            match self.revise_sum(r) {
                None => return Err(r),
                Some(true) => self.push(r),
                Some(false) => {}
            }
            if !self.derive_orders(r) {
                return Err(r);
            }
            let n = self.model.reads.len();
            for p in 0..n {
                if p == r || !self.active[p] {
                    continue;
                }
                let pair = if self.before[r][p] {
                    Some((r, p))
                } else if self.before[p][r] {
                    Some((p, r))
                } else {
                    None
                };
                let Some((a, b)) = pair else { continue };
                match self.revise_pair(a, b) {
                    None => return Err(r),
                    Some((changed_a, changed_b)) => {
                        if changed_a {
                            self.push(a);
                        }
                        if changed_b {
                            self.push(b);
                        }
                    }
                }
            }
        }
        if let Some(grid) = self.grid {
            for list in &self.by_session {
                for (x, a) in list.iter().enumerate() {
                    let paired = list.len().min(x + 1 + PAIRED_READS);
                    for b in &list[x + 1..paired] {
                        let (a, b) = if self.before[*a][*b] { (*a, *b) } else { (*b, *a) };
                        let both = self.active[a] && self.active[b];
                        if both && self.before[a][b] && !self.pair_fits(a, b, &grid) {
                            return Err(b);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The sum constraint of read `r`: `Some(changed)`, `None` if a domain
    /// emptied.
    fn revise_sum(&mut self, r: usize) -> Option<bool> {
        match self.grid {
            Some(grid) => self.revise_sum_with(r, &grid),
            None => self.revise_sum_with(r, &AnySums),
        }
    }

    fn revise_sum_with<S: SumSets>(&mut self, r: usize, sets: &S) -> Option<bool> {
        let read = &self.model.reads[r];
        let w = self.writers.len();
        let values: Vec<Vec<i64>> = (0..w)
            .map(|i| {
                let prefix = &self.model.writes[self.writers[i]].prefix;
                let ok = self.dom[r][i].iter();
                ok.zip(prefix).filter(|(ok, _)| **ok).map(|(_, sum)| *sum).collect()
            })
            .collect();
        if values.iter().any(Vec::is_empty) {
            return None;
        }
        // before[i]: the sums of writers 0..i; after[i]: of writers i..w.
        let mut before = vec![sets.zero()];
        for v in &values {
            let next = sets.plus(before.last().expect("non-empty"), v);
            before.push(next);
        }
        let mut after = vec![sets.zero(); w + 1];
        for i in (0..w).rev() {
            after[i] = sets.plus(&after[i + 1], &values[i]);
        }
        if w == 0 {
            return sets.fits(read.seen, read.start, &before[0], &after[0]).then_some(false);
        }
        let mut changed = false;
        for i in 0..w {
            let prefix = &self.model.writes[self.writers[i]].prefix;
            for (ok, sum) in self.dom[r][i].iter_mut().zip(prefix) {
                let base = read.start.saturating_add(*sum);
                if *ok && !sets.fits(read.seen, base, &before[i], &after[i + 1]) {
                    *ok = false;
                    changed = true;
                }
            }
            if !self.dom[r][i].contains(&true) {
                return None;
            }
            self.ends[r][i] = ends(&self.dom[r][i]);
        }
        Some(changed)
    }

    /// Time orders between sessions that read `r`'s counts force; false on
    /// a cycle.
    fn derive_orders(&mut self, r: usize) -> bool {
        let read = &self.model.reads[r];
        let mut edges = Vec::new();
        for (i, s) in self.writers.iter().enumerate() {
            if *s == read.session {
                continue;
            }
            let writes = &self.model.writes[*s];
            let lo = self.dom[r][i].iter().position(|ok| *ok).unwrap_or(0);
            let hi = self.dom[r][i].iter().rposition(|ok| *ok).unwrap_or(writes.len());
            for q in &self.by_session[*s] {
                let other = &self.model.reads[*q];
                // Saw write `lo`: after the reads before it was sent.
                if lo >= 1
                    && other.event <= writes.at[lo - 1]
                    && (!self.model.writes_first || !other.query)
                {
                    edges.push((*q, r));
                }
                // Did not see write `hi + 1`: before the reads after it.
                if hi < writes.len() && other.event > writes.at[hi] {
                    edges.push((r, *q));
                }
            }
        }
        for (a, b) in edges {
            if !self.before[a][b] && !self.add_order(a, b) {
                return false;
            }
        }
        true
    }

    /// Records `a` before `b` and what follows transitively; false on a cycle.
    fn add_order(&mut self, a: usize, b: usize) -> bool {
        let n = self.model.reads.len();
        let preds: Vec<usize> = (0..n).filter(|p| *p == a || self.before[*p][a]).collect();
        let succs: Vec<usize> = (0..n).filter(|q| *q == b || self.before[b][*q]).collect();
        for p in &preds {
            for q in &succs {
                if !self.before[*p][*q] {
                    self.before[*p][*q] = true;
                    self.push(*p);
                    self.push(*q);
                }
            }
        }
        (0..n).all(|x| !self.before[x][x])
    }

    /// The time-order constraint `a` before `b`: which domains changed,
    /// `None` if one emptied.
    fn revise_pair(&mut self, a: usize, b: usize) -> Option<(bool, bool)> {
        let (mut changed_a, mut changed_b) = (false, false);
        for i in 0..self.writers.len() {
            // Nothing to drop when `b`'s greatest count supports each of
            // `a`'s (it is at least all of them) and `a`'s least supports
            // each of `b`'s (it is at most all of them): see `allowed`.
            let ((lo_a, hi_a), (lo_b, hi_b)) = (self.ends[a][i], self.ends[b][i]);
            let s = self.writers[i];
            let read_a = &self.model.reads[a];
            let floor = if s == read_a.session { read_a.own.0 } else { 0 };
            if hi_b >= hi_a && lo_b >= lo_a && lo_b >= floor {
                continue;
            }
            let len = self.dom[a][i].len();
            for k1 in 0..len {
                if self.dom[a][i][k1]
                    && !(0..len).any(|k2| self.dom[b][i][k2] && self.allowed(a, b, i, k1, k2))
                {
                    self.dom[a][i][k1] = false;
                    changed_a = true;
                }
            }
            for k2 in 0..len {
                if self.dom[b][i][k2]
                    && !(0..len).any(|k1| self.dom[a][i][k1] && self.allowed(a, b, i, k1, k2))
                {
                    self.dom[b][i][k2] = false;
                    changed_b = true;
                }
            }
            if !self.dom[a][i].contains(&true) || !self.dom[b][i].contains(&true) {
                return None;
            }
            self.ends[a][i] = ends(&self.dom[a][i]);
            self.ends[b][i] = ends(&self.dom[b][i]);
        }
        Some((changed_a, changed_b))
    }

    /// With read `a` before read `b`: may `a` count `k1` of writer `i`'s
    /// writes and `b` count `k2`?
    fn allowed(&self, a: usize, b: usize, i: usize, k1: usize, k2: usize) -> bool {
        let (ra, rb) = (&self.model.reads[a], &self.model.reads[b]);
        let s = self.writers[i];
        let floor = if s == ra.session { ra.own.0 } else { 0 };
        let in_flight =
            || k2 + 1 == k1 && k1 > floor && self.model.writes[s].origin[k1 - 1] != rb.branch;
        k2 >= floor && (k2 >= k1 || (ra.branch != rb.branch && in_flight()))
    }

    /// Reads `a` before `b` of one session, together: some balance `a`
    /// allows, moved by what the writers can add between the two (each
    /// writer's step from its count at `a` to one at `b`), gives one `b`
    /// allows. This catches what no single writer's count shows: a
    /// withdraw refused for want of money, then a query showing more
    /// than all the writes between could have added.
    fn pair_fits(&self, a: usize, b: usize, grid: &Grid) -> bool {
        let (ra, rb) = (&self.model.reads[a], &self.model.reads[b]);
        let moves =
            Grid { low: -grid.step * (grid.len as i64 - 1), len: 2 * grid.len - 1, ..*grid };
        let mut at_a = grid.zero();
        let mut moved = moves.zero();
        for (i, s) in self.writers.iter().enumerate() {
            let prefix = &self.model.writes[*s].prefix;
            let counts = |r: usize| {
                let (lo, hi) = self.ends[r][i];
                (lo..=hi).filter(move |k| self.dom[r][i][*k])
            };
            let here: Vec<i64> = counts(a).map(|k| prefix[k]).collect();
            at_a = grid.plus(&at_a, &here);
            let mut steps: Vec<i64> = counts(a)
                .flat_map(|k1| counts(b).map(move |k2| (k1, k2)))
                .filter(|(k1, k2)| self.allowed(a, b, i, *k1, *k2))
                .map(|(k1, k2)| prefix[k2] - prefix[k1])
                .collect();
            steps.sort_unstable();
            steps.dedup();
            moved = moves.plus(&moved, &steps);
        }
        let (first, last) = (Grid::bits(&moved).next(), Grid::bits(&moved).last());
        let (Some(least), Some(most)) =
            (first.map(|i| moves.value(i)), last.map(|i| moves.value(i)))
        else {
            return false;
        };
        let mut xs =
            Grid::bits(&at_a).map(|i| grid.value(i)).filter(|x| ra.seen.allows(ra.start + x));
        match rb.seen {
            Seen::Equal(balance) => xs.any(|x| moves.has_value(&moved, balance - rb.start - x)),
            Seen::AtLeast(amount) => xs.any(|x| rb.start + x + most >= amount),
            Seen::Below(amount) => xs.any(|x| rb.start + x + least < amount),
        }
    }
}

impl Seen {
    /// Whether the balance `value` gives this reading.
    fn allows(self, value: i64) -> bool {
        match self {
            Seen::Equal(balance) => value == balance,
            Seen::AtLeast(amount) => value >= amount,
            Seen::Below(amount) => value < amount,
        }
    }
}

/// Sets of partial sums of the writers' prefixes, as the sum constraint
/// needs them: [`Sums`] in general, or bits on a [`Grid`] (the common case,
/// and much faster).
trait SumSets {
    type Set: Clone;
    /// Just 0.
    fn zero(&self) -> Self::Set;
    /// Every `x + v`, `x` of `set`, `v` of `values`.
    fn plus(&self, set: &Self::Set, values: &[i64]) -> Self::Set;
    /// Whether some `x` of `before` and `y` of `after` give a balance
    /// `base + x + y` that `seen` allows.
    fn fits(&self, seen: Seen, base: i64, before: &Self::Set, after: &Self::Set) -> bool;
}

/// Any amounts, through [`Sums`] (exact while small, a range beyond).
struct AnySums;

impl SumSets for AnySums {
    type Set = Sums;

    fn zero(&self) -> Sums {
        Sums::one(0)
    }

    fn plus(&self, set: &Sums, values: &[i64]) -> Sums {
        set.plus(&Sums::of(values.iter().copied()))
    }

    fn fits(&self, seen: Seen, base: i64, before: &Sums, after: &Sums) -> bool {
        let (lo, hi) = (
            base.saturating_add(before.min()).saturating_add(after.min()),
            base.saturating_add(before.max()).saturating_add(after.max()),
        );
        match seen {
            Seen::AtLeast(amount) => hi >= amount,
            Seen::Below(amount) => lo < amount,
            Seen::Equal(balance) => match (before.exact(), after.exact()) {
                (Some(x), Some(y)) => {
                    let (small, large) = if x.len() <= y.len() { (x, y) } else { (y, x) };
                    let want = balance.saturating_sub(base);
                    small.iter().any(|v| large.contains(&want.saturating_sub(*v)))
                }
                _ => (lo..=hi).contains(&balance),
            },
        }
    }
}

/// Every partial sum is `low + step * i` for an `i < len`: `step` divides
/// every prefix, `low` is the sum of the smallest prefixes (each at most
/// 0) and `low + step * (len - 1)` of the largest. A set is then `len`
/// bits.
#[derive(Clone, Copy, Debug)]
struct Grid {
    low: i64,
    step: i64,
    len: usize,
}

/// The most bits a [`Grid`] set may have (beyond it, [`AnySums`]).
const GRID_BITS: i64 = 1 << 14;

impl Grid {
    fn of(model: &Model) -> Option<Grid> {
        fn gcd(a: i64, b: i64) -> i64 {
            if b == 0 {
                a
            } else {
                gcd(b, a % b)
            }
        }
        let (mut low, mut high, mut step) = (0i64, 0i64, 0i64);
        for w in &model.writes {
            low = low.checked_add(*w.prefix.iter().min().unwrap_or(&0))?;
            high = high.checked_add(*w.prefix.iter().max().unwrap_or(&0))?;
            step = w.prefix.iter().fold(step, |g, p| gcd(g, p.checked_abs().unwrap_or(0)));
        }
        let step = step.max(1);
        let len = (high - low) / step + 1;
        (len <= GRID_BITS).then(|| Grid { low, step, len: usize::try_from(len).unwrap_or(0) })
    }

    fn words(&self) -> usize {
        self.len.div_ceil(64)
    }

    fn bits(set: &[u64]) -> impl Iterator<Item = usize> + '_ {
        set.iter().enumerate().flat_map(|(j, word)| {
            let mut w = *word;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros() as usize;
                    w &= w - 1;
                    j * 64 + bit
                })
            })
        })
    }

    fn has(set: &[u64], i: usize) -> bool {
        set.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn value(&self, i: usize) -> i64 {
        self.low + self.step * i as i64
    }

    /// Whether `set` holds the amount `value`.
    fn has_value(&self, set: &[u64], value: i64) -> bool {
        let from_low = value - self.low;
        from_low >= 0
            && from_low % self.step == 0
            && usize::try_from(from_low / self.step).is_ok_and(|i| Grid::has(set, i))
    }
}

impl SumSets for Grid {
    type Set = Vec<u64>;

    fn zero(&self) -> Vec<u64> {
        let mut set = vec![0; self.words()];
        let i = usize::try_from(-self.low / self.step).expect("low is at most 0");
        set[i / 64] |= 1 << (i % 64);
        set
    }

    fn plus(&self, set: &Vec<u64>, values: &[i64]) -> Vec<u64> {
        let n = set.len() as isize;
        let mut out = vec![0; set.len()];
        for v in values {
            // Shift every bit up by v / step (down if negative), word-wise.
            let by = (v / self.step) as isize;
            let (q, r) = (by.div_euclid(64), by.rem_euclid(64) as u32);
            for (j, word) in out.iter_mut().enumerate() {
                let from = j as isize - q;
                if (0..n).contains(&from) {
                    *word |= set[from as usize] << r;
                }
                if r > 0 && (0..n).contains(&(from - 1)) {
                    *word |= set[(from - 1) as usize] >> (64 - r);
                }
            }
        }
        out
    }

    fn fits(&self, seen: Seen, base: i64, before: &Vec<u64>, after: &Vec<u64>) -> bool {
        let first = |s: &Vec<u64>| Grid::bits(s).next().map(|i| self.value(i));
        let last = |s: &Vec<u64>| Grid::bits(s).last().map(|i| self.value(i));
        let sum = |a: Option<i64>, b: Option<i64>| Some(base.saturating_add(a?).saturating_add(b?));
        match seen {
            Seen::AtLeast(amount) => sum(last(before), last(after)).is_some_and(|hi| hi >= amount),
            Seen::Below(amount) => sum(first(before), first(after)).is_some_and(|lo| lo < amount),
            Seen::Equal(balance) => {
                // (low + step·a) + (low + step·b) = balance - base.
                let want = balance.saturating_sub(base).saturating_sub(self.low.saturating_mul(2));
                if want < 0 || want % self.step != 0 {
                    return false;
                }
                let Ok(c) = usize::try_from(want / self.step) else { return false };
                Grid::bits(before).any(|a| c >= a && Grid::has(after, c - a))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(list: &[(usize, u64, i64)]) -> Writes {
        let mut w = Writes::default();
        for (at, origin, delta) in list {
            w.push(*at, *origin, *delta);
        }
        w
    }

    fn read(session: usize, event: usize, branch: u64, own: usize, seen: Seen) -> Read {
        Read { session, event, branch, start: 400, own: (own, own), seen, query: true }
    }

    /// Session 0 deposits 100 at branch 1; session 1 reads at branch 2.
    fn deposit_and_reads(reads: Vec<Read>) -> Model {
        Model {
            writes: vec![writes(&[(0, 1, 100)]), Writes::default()],
            reads,
            writes_first: false,
        }
    }

    /// One customer deposits 1 and queries, `n` times, at one branch; the
    /// query at `wrong` (if any) answers one too few.
    fn long_session(n: usize, wrong: Option<usize>) -> Model {
        let mut deposits = Writes::default();
        let mut reads = Vec::new();
        for i in 0..n {
            deposits.push(2 * i, 1, 1);
            let balance = 400 + i as i64 + 1 - i64::from(wrong == Some(i));
            reads.push(read(0, 2 * i + 1, 1, i + 1, Seen::Equal(balance)));
        }
        Model { writes: vec![deposits], reads, writes_first: false }
    }

    #[test]
    fn a_long_session_is_checked_and_one_past_the_cap_is_left_out() {
        // Thousands of reads: each time order is seen to narrow nothing at
        // a glance (the ends of the domains), not by scanning them.
        assert_eq!(contradiction(&long_session(1_000, None)), None);
        assert_eq!(contradiction(&long_session(1_000, Some(999))), Some(vec![999]));
        // Past the cap the check finds nothing (and `grade::notes` says it
        // did not look).
        assert_eq!(contradiction(&long_session(MAX_READS + 1, Some(5))), None);
    }

    #[test]
    fn a_branch_cannot_unsee_a_write() {
        let grow = deposit_and_reads(vec![
            read(1, 0, 2, 0, Seen::Equal(400)),
            read(1, 1, 2, 0, Seen::Equal(500)),
        ]);
        assert_eq!(contradiction(&grow), None);
        let shrink = deposit_and_reads(vec![
            read(1, 0, 2, 0, Seen::Equal(500)),
            read(1, 1, 2, 0, Seen::Equal(400)),
        ]);
        assert_eq!(contradiction(&shrink), Some(vec![0, 1]));
    }

    /// Amounts that no small grid holds go through [`Sums`]: same verdicts.
    #[test]
    fn amounts_off_the_grid_give_the_same_verdicts() {
        for (first, second, contradicts) in [(500, 400, true), (400, 500, false)] {
            let mut model = deposit_and_reads(vec![
                read(1, 0, 2, 0, Seen::Equal(first)),
                read(1, 1, 2, 0, Seen::Equal(second)),
            ]);
            model.writes.push(writes(&[(0, 3, 1_000_003)]));
            assert!(Grid::of(&model).is_none());
            assert_eq!(contradiction(&model).is_some(), contradicts);
        }
        let grid = Grid::of(&deposit_and_reads(vec![])).unwrap();
        assert_eq!((grid.low, grid.step, grid.len), (0, 100, 2));
    }

    #[test]
    fn a_write_is_at_its_own_branch_first() {
        // Seen at branch 2, then not at branch 1 (its origin): impossible;
        // seen at branch 1, then not at branch 2: it was in flight.
        let at = |first: u64, second: u64| {
            deposit_and_reads(vec![
                read(1, 0, first, 0, Seen::Equal(500)),
                read(1, 1, second, 0, Seen::Equal(400)),
            ])
        };
        assert_eq!(contradiction(&at(2, 1)), Some(vec![0, 1]));
        assert_eq!(contradiction(&at(1, 2)), None);
    }

    #[test]
    fn a_withdraw_after_a_read_that_saw_the_money_is_covered() {
        let model = deposit_and_reads(vec![
            read(1, 0, 2, 0, Seen::Equal(500)),
            Read { query: false, ..read(1, 1, 2, 0, Seen::Below(450)) },
        ]);
        assert_eq!(contradiction(&model), Some(vec![0, 1]));
    }

    /// Many customers withdraw 10 at branches 2..=41 while customer 1
    /// deposits 10 at branch 1; customer 0 at branch 1 is refused 20 (so it
    /// had seen at least 39 withdraws), then reads 400 (as many deposits as
    /// withdraws seen, at most one): no single writer's count is forced,
    /// but together the withdraws it saw cannot vanish.
    #[test]
    fn a_refusal_then_a_balance_the_writes_between_cannot_add() {
        let model = |balance: i64| {
            let mut writes_of = vec![Writes::default(), writes(&[(0, 1, 10)])];
            writes_of.extend((2..=41).map(|b| writes(&[(0, b, -10)])));
            Model {
                writes: writes_of,
                reads: vec![
                    Read { query: false, ..read(0, 0, 1, 0, Seen::Below(20)) },
                    read(0, 1, 1, 0, Seen::Equal(balance)),
                ],
                writes_first: false,
            }
        };
        assert_eq!(contradiction(&model(400)), Some(vec![0, 1]));
        assert_eq!(contradiction(&model(10)), None);
    }

    /// Each customer deposits then queries, and each query misses the
    /// other's deposit: each query came before the other's deposit was
    /// everywhere, so before the other's query: a cycle.
    #[test]
    fn two_customers_cannot_each_miss_the_others_write() {
        let model = |second: i64| Model {
            writes: vec![writes(&[(0, 1, 100)]), writes(&[(0, 2, 10)])],
            reads: vec![read(0, 1, 1, 1, Seen::Equal(500)), read(1, 1, 2, 1, Seen::Equal(second))],
            writes_first: false,
        };
        assert_eq!(contradiction(&model(410)), Some(vec![0, 1]));
        assert_eq!(contradiction(&model(510)), None);
    }
}

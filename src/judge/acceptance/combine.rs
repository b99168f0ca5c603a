//! Allowed answers combined: an id's with the other ids of its image, a demand's with the other
//! demands of its entries. Every combination while they are few; past that, the combinations
//! that can place the most entries (a beam), never only the model's own: a request with many
//! ids of one image, each with an alternative, must still find the reading that places them all.

use super::{Accepts, Allowed, Demand, Entry};
use crate::model::ExpectedAnswers;

/// Combinations tried per group of entries before the beam takes over.
pub(super) const COMBINATIONS_MAX: usize = 4096;

/// Partial combinations kept at each step of the beam.
const BEAM_WIDTH: usize = 256;

/// Which of the answer's entries the places of an allowed answer can take, a bit per entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Reach(Vec<u64>);

impl Reach {
    pub(super) fn of(a: &ExpectedAnswers, places: &[(usize, Accepts)], entries: &[Entry]) -> Reach {
        let mut bits = vec![0u64; entries.len().div_ceil(64)];
        for (j, &entry) in entries.iter().enumerate() {
            if places.iter().any(|(_, p)| p.takes(a, entry)) {
                bits[j / 64] |= 1 << (j % 64);
            }
        }
        Reach(bits)
    }

    fn union(&mut self, other: &Reach) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (x, y) in self.0.iter_mut().zip(&other.0) {
            *x |= y;
        }
    }

    fn count(&self) -> usize {
        self.0.iter().map(|x| x.count_ones() as usize).sum()
    }
}

impl Allowed {
    pub(super) fn new(
        a: &ExpectedAnswers,
        entries: &[Entry],
        choices: Vec<(usize, super::Choice)>,
        cost: u32,
        places: Vec<(usize, Accepts)>,
    ) -> Allowed {
        let reach = Reach::of(a, &places, entries);
        Allowed {
            choices,
            cost,
            places,
            reach,
        }
    }

    pub(super) fn nothing() -> Allowed {
        Allowed {
            choices: Vec::new(),
            cost: 0,
            places: Vec::new(),
            reach: Reach::default(),
        }
    }

    /// This answer and another one's together.
    pub(super) fn join(&mut self, other: &Allowed) {
        self.choices.extend(other.choices.iter().copied());
        self.cost += other.cost;
        self.places.extend(other.places.iter().cloned());
        self.reach.union(&other.reach);
    }

    /// How many entries it could place at most: those its places can take, or its places.
    pub(super) fn reach(&self) -> usize {
        self.reach.count().min(self.places.len())
    }
}

/// Keeps the first combination (the model's own answers) and, of the rest, the `width` that
/// reach the most entries, then cost the least (in their order on a tie).
fn keep_best<T>(combos: &mut Vec<T>, width: usize, allowed: impl Fn(&T) -> &Allowed) {
    if combos.len() <= width {
        return;
    }
    let mut rest = combos.split_off(1);
    rest.sort_by_key(|c| (std::cmp::Reverse(allowed(c).reach()), allowed(c).cost));
    rest.truncate(width - 1);
    combos.extend(rest);
}

/// A demand's allowed answers, past [`COMBINATIONS_MAX`] only the beam's width of them.
pub(super) fn trim(options: &mut Vec<Allowed>) {
    if options.len() > COMBINATIONS_MAX {
        keep_best(options, BEAM_WIDTH, |o| o);
    }
}

/// Every combination of one allowed answer per part (the first: each part's first), or past
/// [`COMBINATIONS_MAX`] the beam's.
pub(super) fn product(parts: &[Vec<Allowed>]) -> Vec<Allowed> {
    let exhaustive = parts
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.len().max(1)))
        .is_some_and(|n| n <= COMBINATIONS_MAX);
    let mut combos = vec![Allowed::nothing()];
    for part in parts.iter().filter(|p| !p.is_empty()) {
        let mut next = Vec::with_capacity(combos.len() * part.len());
        for c in &combos {
            for o in part {
                let mut c = c.clone();
                c.join(o);
                next.push(c);
            }
        }
        combos = next;
        if !exhaustive {
            keep_best(&mut combos, BEAM_WIDTH, |c| c);
        }
    }
    combos
}

/// Every combination of one allowed answer per demand of `members` (or the beam's), with the
/// demand each place belongs to.
pub(super) fn combinations(demands: &[Demand], members: &[usize]) -> Vec<(Allowed, Vec<usize>)> {
    let exhaustive = members
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(demands[d].options.len().max(1)))
        .is_some_and(|n| n <= COMBINATIONS_MAX);
    let mut combos = vec![(Allowed::nothing(), Vec::new())];
    for &d in members {
        let options = &demands[d].options;
        if options.is_empty() {
            continue;
        }
        let mut next = Vec::with_capacity(combos.len() * options.len());
        // The first demand's answers vary fastest (the order ties are broken in).
        for o in options {
            for (c, owner) in &combos {
                let mut c = c.clone();
                c.join(o);
                let mut owner = owner.clone();
                owner.extend(std::iter::repeat_n(d, o.places.len()));
                next.push((c, owner));
            }
        }
        combos = next;
        if !exhaustive {
            keep_best(&mut combos, BEAM_WIDTH, |(c, _)| c);
        }
    }
    combos
}

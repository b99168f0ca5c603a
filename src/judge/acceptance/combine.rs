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

/// Which of the answer's entries one place of an allowed answer can take, a bit per entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Fits(Vec<u64>);

impl Fits {
    fn of(a: &ExpectedAnswers, place: &Accepts, entries: &[Entry]) -> Fits {
        let mut bits = vec![0u64; entries.len().div_ceil(64)];
        for (j, &entry) in entries.iter().enumerate() {
            if place.takes(a, entry) {
                bits[j / 64] |= 1 << (j % 64);
            }
        }
        Fits(bits)
    }

    fn has(&self, j: usize) -> bool {
        self.0.get(j / 64).is_some_and(|w| w & (1 << (j % 64)) != 0)
    }

    fn entries(&self) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(w, &bits)| (0..64).filter(move |b| bits & (1 << b) != 0).map(move |b| w * 64 + b))
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
        let fits = places.iter().map(|(_, p)| Fits::of(a, p, entries)).collect();
        Allowed {
            choices,
            cost,
            places,
            fits,
        }
    }

    pub(super) fn nothing() -> Allowed {
        Allowed {
            choices: Vec::new(),
            cost: 0,
            places: Vec::new(),
            fits: Vec::new(),
        }
    }

    /// This answer and another one's together.
    pub(super) fn join(&mut self, other: &Allowed) {
        self.choices.extend(other.choices.iter().copied());
        self.cost += other.cost;
        self.places.extend(other.places.iter().cloned());
        self.fits.extend(other.fits.iter().cloned());
    }

    /// Whether some place of it can take entry `j`.
    pub(super) fn takes_entry(&self, j: usize) -> bool {
        self.fits.iter().any(|f| f.has(j))
    }

    /// The entries some place of it can take.
    pub(super) fn taken(&self) -> std::collections::BTreeSet<usize> {
        self.fits.iter().flat_map(Fits::entries).collect()
    }

    /// How many entries it can place at once, each on a place of its own (whatever their
    /// bodies cost): no reading with it places more.
    pub(super) fn reach(&self) -> usize {
        let mut takers: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
        for (k, f) in self.fits.iter().enumerate() {
            for j in f.entries() {
                takers.entry(j).or_default().push(k);
            }
        }
        let takers: Vec<Vec<usize>> = takers.into_values().collect();
        matching(&takers, self.places.len())
    }
}

/// Keeps the first combination (the model's own answers) and, of the rest, the `width` that
/// reach the most entries, then cost the least (in their order on a tie).
fn keep_best<T>(combos: &mut Vec<T>, width: usize, allowed: impl Fn(&T) -> &Allowed) {
    if combos.len() <= width {
        return;
    }
    let mut rest = combos.split_off(1);
    rest.sort_by_cached_key(|c| (std::cmp::Reverse(allowed(c).reach()), allowed(c).cost));
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

/// The size of a maximum matching of entries to places, `takers[j]` the places entry `j` fits
/// (augmenting paths: the parts are small).
fn matching(takers: &[Vec<usize>], places: usize) -> usize {
    fn augment(j: usize, takers: &[Vec<usize>], seen: &mut [bool], holder: &mut [Option<usize>]) -> bool {
        for &k in &takers[j] {
            if seen[k] {
                continue;
            }
            seen[k] = true;
            if holder[k].is_none_or(|h| augment(h, takers, seen, holder)) {
                holder[k] = Some(j);
                return true;
            }
        }
        false
    }
    let mut holder = vec![None; places];
    let mut size = 0;
    for j in 0..takers.len() {
        if takers[j].is_empty() {
            continue;
        }
        let mut seen = vec![false; places];
        if augment(j, takers, &mut seen, &mut holder) {
            size += 1;
        }
    }
    size
}

#[cfg(test)]
mod tests {
    use super::matching;

    #[test]
    fn a_matching_places_each_entry_on_a_place_of_its_own() {
        // Two entries that fit only the first place, one that fits both: two placed.
        assert_eq!(matching(&[vec![0], vec![0], vec![0, 1]], 2), 2);
        // An augmenting path moves the first entry to make room.
        assert_eq!(matching(&[vec![0, 1], vec![0]], 2), 2);
        assert_eq!(matching(&[vec![], vec![]], 3), 0);
    }
}

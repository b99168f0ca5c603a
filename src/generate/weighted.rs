//! A weighted choice among fixed values: what `prop_oneof![w => Just(v), ...]` draws and how it
//! shrinks, at a fraction of its cost.
//!
//! proptest's `Union` keeps, for every option before the one drawn, a lazily built tree with its
//! own copy of the test runner (its configuration cloned and a fresh generator drawn), so that it
//! can shrink towards them. A request draws a category per id (up to a hundred and more) and one
//! per request, so those copies were a fifth of the harness's time. Here an option is a value, and
//! moving to an earlier one costs nothing. The generator is drawn from exactly as `Union` draws
//! from it (the weighted pick, then one derived generator per earlier option), so that the same
//! seed still gives the same requests; `tests` check both against `prop_oneof!`.

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::fmt::Debug;

/// One of `options` (weight, value), drawn by weight; it shrinks towards the first.
#[derive(Debug, Clone, Copy)]
pub struct Weighted<T: 'static> {
    options: &'static [(u32, T)],
}

/// `options`, drawn by weight. They are not empty and their weights not all zero.
pub const fn weighted<T>(options: &'static [(u32, T)]) -> Weighted<T> {
    Weighted { options }
}

impl<T: Clone + Debug> Strategy for Weighted<T> {
    type Tree = WeightedTree<T>;
    type Value = T;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let sum: u64 = self.options.iter().map(|(w, _)| u64::from(*w)).sum();
        // A range's tree draws its value as `Union` draws its pick: uniform in [0, sum).
        let drawn = (0..sum).new_tree(runner)?.current();
        let pick = self
            .options
            .iter()
            .scan(0u64, |total, (w, _)| {
                *total += u64::from(*w);
                Some(*total)
            })
            .filter(|&end| end <= drawn)
            .count();
        // `Union` gives each earlier option a generator of its own, derived from the runner's.
        for _ in 0..pick {
            runner.new_rng();
        }
        Ok(WeightedTree {
            options: self.options,
            pick,
            min_pick: 0,
            prev_pick: None,
        })
    }
}

/// `Union`'s tree over values: simplifying moves to the previous option, complicating back to
/// the last one left (which then becomes the lowest to try).
#[derive(Debug, Clone, Copy)]
pub struct WeightedTree<T: 'static> {
    options: &'static [(u32, T)],
    pick: usize,
    min_pick: usize,
    prev_pick: Option<usize>,
}

impl<T: Clone + Debug> ValueTree for WeightedTree<T> {
    type Value = T;

    fn current(&self) -> T {
        self.options[self.pick].1.clone()
    }

    fn simplify(&mut self) -> bool {
        if self.pick <= self.min_pick {
            return false;
        }
        self.prev_pick = Some(self.pick);
        self.pick -= 1;
        true
    }

    fn complicate(&mut self) -> bool {
        match self.prev_pick.take() {
            Some(pick) => {
                self.pick = pick;
                self.min_pick = pick;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng};

    const OPTIONS: &[(u32, u8)] = &[(6, 0), (4, 1), (3, 2), (1, 3), (2, 4), (1, 5)];

    fn runner(seed: u8) -> TestRunner {
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]))
    }

    /// What a tree shows through a fixed walk of simplify and complicate steps.
    fn walk<V: ValueTree<Value = u8>>(mut tree: V, steps: &[bool]) -> Vec<(bool, u8)> {
        let mut seen = vec![(true, tree.current())];
        for &simplify in steps {
            let moved = if simplify { tree.simplify() } else { tree.complicate() };
            seen.push((moved, tree.current()));
        }
        seen
    }

    // The same seed gives the same value as `prop_oneof!` of the same options, leaves the
    // runner's generator where `prop_oneof!` leaves it, and shrinks through the same values.
    #[test]
    fn draws_and_shrinks_as_prop_oneof_does() {
        let union = prop_oneof![
            6 => Just(0u8), 4 => Just(1u8), 3 => Just(2u8), 1 => Just(3u8), 2 => Just(4u8), 1 => Just(5u8)
        ];
        let ours = weighted(OPTIONS);
        let walks: [&[bool]; 4] = [
            &[true, true, true, true, true, true, true],
            &[true, false, true, true, false, true],
            &[true, true, false, false, true, true],
            &[false, true, false, true, true, false, true],
        ];
        let mut picks = std::collections::BTreeSet::new();
        for seed in 0..=255u8 {
            let (mut a, mut b) = (runner(seed), runner(seed));
            let (ta, tb) = (union.new_tree(&mut a).unwrap(), ours.new_tree(&mut b).unwrap());
            picks.insert(tb.current());
            for steps in walks {
                assert_eq!(walk(ta.clone(), steps), walk(tb, steps), "seed {seed}, walk {steps:?}");
            }
            let (next_a, next_b): (u64, u64) = (a.rng().next_u64(), b.rng().next_u64());
            assert_eq!(next_a, next_b, "seed {seed}: the generator is left elsewhere");
        }
        assert_eq!(picks.len(), OPTIONS.len(), "every option drawn over 256 seeds");
    }
}

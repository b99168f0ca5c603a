//! The names a run gives things: the properties it checks, its trials as the test harness names
//! them, and where a finding or fault was found as the reports write it. Each is written and read
//! back in exactly one place, here.

use crate::rules::id;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What a finding was found by: the model comparison, seeding, or a metamorphic property. Written
/// as `model`, `seed` or the property's rule id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// Each answer judged against the model.
    Model,
    /// The same request answered the same way twice.
    Idempotent,
    /// The ids in reverse order answered the same way.
    Permute,
    /// The ids split over two requests answered as the whole.
    Split,
    /// The repositories unchanged by the reads.
    ReadOnly,
    /// What seeding showed (the endpoint's answers to the writes that make a state).
    Seed,
}

impl Property {
    /// Every property, in the order the trials list them (`property::NAME`).
    pub const ALL: [Property; 6] = [
        Property::Model,
        Property::Idempotent,
        Property::Permute,
        Property::Split,
        Property::ReadOnly,
        Property::Seed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Property::Model => "model",
            Property::Idempotent => id::P_IDEMPOTENT,
            Property::Permute => id::P_PERMUTE,
            Property::Split => id::P_SPLIT,
            Property::ReadOnly => id::P_READ_ONLY,
            Property::Seed => "seed",
        }
    }

    pub fn parse(text: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Whether the property is a rule of the catalogue (the `P-*` ones; `model` and `seed` judge
    /// by the rules of each answer).
    pub fn is_rule(self) -> bool {
        crate::rules::RULES.iter().any(|r| r.id == self.as_str())
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Property {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Property {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Property::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown property {text:?}")))
    }
}

/// A trial as the test harness names it: a case file (`case::NAME`) or a generated world
/// (`world::N`, from 1). Partitions deal them, filters select them, `report.json` lists them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrialId {
    Case(String),
    World(usize),
}

impl TrialId {
    pub fn parse(text: &str) -> Option<TrialId> {
        if let Some(name) = text.strip_prefix("case::") {
            return Some(TrialId::Case(name.to_string()));
        }
        text.strip_prefix("world::")?.parse().ok().map(TrialId::World)
    }

    pub fn world(&self) -> Option<usize> {
        match self {
            TrialId::World(n) => Some(*n),
            TrialId::Case(_) => None,
        }
    }

    pub fn case(&self) -> Option<&str> {
        match self {
            TrialId::Case(name) => Some(name),
            TrialId::World(_) => None,
        }
    }
}

impl fmt::Display for TrialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrialId::Case(name) => write!(f, "case::{name}"),
            TrialId::World(n) => write!(f, "world::{n}"),
        }
    }
}

/// Where a finding, fault or example was found, as the reports write it: a case file
/// (`case:NAME`), a world (`world-N`: its seeding, its listings), one generated case of a world
/// (`world-N/case-M`, both from 1), or the state a read-only run reads (`read-only`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    CaseFile(String),
    World(usize),
    WorldCase { world: usize, case: usize },
    ReadOnly,
}

impl Origin {
    pub fn parse(text: &str) -> Option<Origin> {
        if text == "read-only" {
            return Some(Origin::ReadOnly);
        }
        if let Some(name) = text.strip_prefix("case:") {
            return Some(Origin::CaseFile(name.to_string()));
        }
        let rest = text.strip_prefix("world-")?;
        match rest.split_once("/case-") {
            Some((w, c)) => Some(Origin::WorldCase {
                world: w.parse().ok()?,
                case: c.parse().ok()?,
            }),
            None => rest.parse().ok().map(Origin::World),
        }
    }

    /// The trial this belongs to (none for a read-only run's state, which is every world's).
    pub fn trial(&self) -> Option<TrialId> {
        match self {
            Origin::CaseFile(name) => Some(TrialId::Case(name.clone())),
            Origin::World(world) | Origin::WorldCase { world, .. } => Some(TrialId::World(*world)),
            Origin::ReadOnly => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::CaseFile(name) => write!(f, "case:{name}"),
            Origin::World(n) => write!(f, "world-{n}"),
            Origin::WorldCase { world, case } => write!(f, "world-{world}/case-{case}"),
            Origin::ReadOnly => f.write_str("read-only"),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Origin::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a trial's place: {text:?}")))
    }
}

/// One part of a run split over several jobs: `index` of `count`, from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub index: usize,
    pub count: usize,
}

impl Partition {
    /// `K/N`, or nextest's spelling `count:K/N`.
    pub fn parse(text: &str) -> Result<Partition, String> {
        let bad = || format!("--partition {text:?}: not K/N with 1 <= K <= N (such as 2/4 or count:2/4)");
        let (k, n) = text
            .strip_prefix("count:")
            .unwrap_or(text)
            .split_once('/')
            .ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Partition { index, count })
    }

    /// This partition's trials: dealt round-robin, the i-th (from 0) to partition i mod N + 1.
    /// Dealt before any filter, so that a trial's partition does not depend on what else ran.
    pub fn deal(self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .enumerate()
            .filter(|(i, _)| i % self.count + 1 == self.index)
            .map(|(_, n)| n.clone())
            .collect()
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_written() {
        for p in Property::ALL {
            assert_eq!(Property::parse(p.as_str()), Some(p));
        }
        assert_eq!(Property::Split.as_str(), "P-SPLIT");
        assert!(Property::ReadOnly.is_rule() && !Property::Model.is_rule() && !Property::Seed.is_rule());
        for t in [TrialId::Case("a-b".into()), TrialId::World(3)] {
            assert_eq!(TrialId::parse(&t.to_string()), Some(t));
        }
        assert_eq!(TrialId::World(3).to_string(), "world::3");
        assert_eq!(TrialId::parse("property::model"), None);
        for o in [
            Origin::CaseFile("x".into()),
            Origin::World(2),
            Origin::WorldCase { world: 2, case: 7 },
            Origin::ReadOnly,
        ] {
            assert_eq!(Origin::parse(&o.to_string()), Some(o));
        }
        assert_eq!(Origin::WorldCase { world: 2, case: 7 }.to_string(), "world-2/case-7");
        assert_eq!(
            Origin::parse("world-2/case-7").and_then(|o| o.trial()),
            Some(TrialId::World(2))
        );
        assert_eq!(Origin::parse("t"), None);
    }
}

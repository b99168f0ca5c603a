//! What a run found, in its own words: findings, faults, minimal examples, per-property and
//! per-rule counts, the shapes of its states, and the names of its properties and trials. The
//! run's vocabulary: the orchestrator fills it, the classes, gate, snapshots and reports read it,
//! and none of them needs the orchestrator for it. Pure: nothing here does I/O.

mod fault;
mod names;

pub use fault::{Fault, FaultKind, Unconfirmed};
pub use names::{Origin, Partition, Property, TrialId};

use crate::generate::{IdCategory, RequestCategory};
use crate::judge::Deviation;
use crate::model::{RegistryPlan, RegistryState};
use crate::rules::Level;
use crate::wire::BatchGetImageRequest;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

/// One deviation, with where it was found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    #[serde(flatten)]
    pub deviation: Deviation,
    pub property: Property,
    pub trial: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<BatchGetImageRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_category: Option<RequestCategory>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub id_categories: Vec<IdCategory>,
}

impl Finding {
    /// A finding with no request of its own (seeding, a world's listings).
    pub fn of_world(deviation: Deviation, property: Property, trial: Origin) -> Finding {
        Finding {
            deviation,
            property,
            trial,
            request: None,
            request_category: None,
            id_categories: Vec::new(),
        }
    }
}

/// A deviation class's key: one behaviour, one class per rule it breaks and per place it was seen
/// (the model comparison, a metamorphic property, seeding). Seed-independent, so that two seeds
/// finding one bug give one class. Written in reports and snapshots: `property` stays the text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassKey {
    pub rule: String,
    pub level: Level,
    /// `model`, `seed`, or a metamorphic property's id.
    pub property: String,
}

impl ClassKey {
    pub fn of(f: &Finding) -> ClassKey {
        Self::from_deviation(f.property, &f.deviation)
    }

    /// The class of a deviation found by `property`.
    pub fn from_deviation(property: Property, d: &Deviation) -> ClassKey {
        ClassKey {
            rule: d.rule.clone(),
            level: d.level,
            property: property.as_str().to_string(),
        }
    }

    /// Whether the class was seen by this property.
    pub fn is(&self, property: Property) -> bool {
        self.property == property.as_str()
    }

    /// One line for people: `I-TAG-CASE (gate, model): tags are case-sensitive; ...`.
    pub fn title(&self) -> String {
        format!(
            "{} ({}, {}): {}",
            self.rule,
            self.level.as_str(),
            self.property,
            crate::rules::rule_by_id(&self.rule).summary
        )
    }

    /// A file-name stem, stable across seeds and runs.
    pub fn slug(&self) -> String {
        let raw = format!("{} {} {}", self.rule, self.level.as_str(), self.property);
        let mut slug = String::with_capacity(raw.len());
        for c in raw.to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        slug.trim_matches('-').to_string()
    }
}

/// A failing case shrunk to a minimal request that still shows the same rule's deviation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Minimal {
    /// The class this is the example of.
    pub class: ClassKey,
    pub trial: Origin,
    /// Ids in the failing request before shrinking.
    pub original_ids: usize,
    /// The minimal request as sent.
    pub request: BatchGetImageRequest,
    /// The minimal state and request with canonical names (`repo-1`, `tag-1`), when the class
    /// reproduced on them; else the shrunk state and request under their generated names.
    pub plan: RegistryPlan,
    pub canonical_request: BatchGetImageRequest,
    pub canonical: bool,
    /// False for a case as it was found (its class was not shrunk: the budget ran out, or the case
    /// did not show the class again): the world's whole state and the request as sent.
    pub shrunk: bool,
    /// The images' digests in the example, in order (for placeholders).
    pub image_digests: Vec<String>,
    pub registry_id: String,
    pub deviation: Deviation,
    /// Requests sent while shrinking the request, and states seeded while shrinking the state.
    pub shrink_steps: usize,
    pub state_steps: usize,
    /// Wall time spent shrinking this class (`shrinkSeconds`; 0 for an example as found): what a
    /// class costs to shrink, for the benchmarks. Timing, so never compared between runs.
    pub shrink_seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct PropertyCount {
    pub checked: usize,
    pub failed: usize,
}

/// What the run's states held, at the most: whether they had the shapes a bug may need (an image
/// with many tags, a repository with many images, names and tags at ECR's length limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateCoverage {
    /// Repositories and images over every world (a read-only run counts its one state once).
    pub repositories: usize,
    pub images: usize,
    pub most_tags_on_an_image: usize,
    pub most_images_in_a_repository: usize,
    /// The longest repository name as the endpoint got it (the run's prefix included).
    pub longest_repository_name: usize,
    pub longest_tag: usize,
}

impl StateCoverage {
    pub fn observe(&mut self, state: &RegistryState) {
        for (name, repo) in &state.repositories {
            self.repositories += 1;
            self.images += repo.images.len();
            self.most_images_in_a_repository = self.most_images_in_a_repository.max(repo.images.len());
            self.longest_repository_name = self.longest_repository_name.max(name.chars().count());
            for image in &repo.images {
                self.most_tags_on_an_image = self.most_tags_on_an_image.max(image.tags.len());
                let longest = image.tags.iter().map(|t| t.chars().count()).max().unwrap_or(0);
                self.longest_tag = self.longest_tag.max(longest);
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct RunOutcome {
    pub findings: Vec<Finding>,
    pub faults: Vec<Fault>,
    pub minimal: Vec<Minimal>,
    /// Per property (`model`, `seed`, a `P-*` id), as `report.json` writes them.
    pub properties: BTreeMap<String, PropertyCount>,
    pub cases_run: usize,
    /// The case files whose request was sent and judged (the trials' report needs which ran).
    pub case_files_run: BTreeSet<String>,
    pub worlds: usize,
    /// The worlds (numbered from 1) that were seeded and whose cases ran.
    pub worlds_run: BTreeSet<usize>,
    pub flaky: usize,
    /// Deviations that a re-send of their request did not show again (trial, what was seen).
    pub unconfirmed: Vec<Unconfirmed>,
    pub skipped_cases: Vec<(String, String)>,
    /// Repositories that could not be deleted at the end.
    pub leftovers: Vec<(String, String)>,
    pub elapsed: Duration,
    /// Why the run stopped before its end, if it did (the endpoint could not be reached at all).
    pub aborted: Option<String>,
    /// Per rule id, how many answers it judged: `BatchGetImage` answers, seeding calls, property
    /// checks. A rule absent here judged nothing: untested, which is not a pass.
    pub checked: BTreeMap<String, usize>,
    /// The shapes the run's states had.
    pub states: StateCoverage,
}

impl RunOutcome {
    /// Counts one check of `property`.
    pub fn count(&mut self, property: Property, failed: bool) {
        let c = self.properties.entry(property.as_str().to_string()).or_default();
        c.checked += 1;
        c.failed += usize::from(failed);
        // A property is a rule of the catalogue too (`model` is not: its rules are counted per
        // answer).
        if property.is_rule() {
            self.judged([property.as_str()]);
        }
    }

    /// Counts one answer (or seeding call, or property check) judged by each of `rules`.
    pub fn judged<'a>(&mut self, rules: impl IntoIterator<Item = &'a str>) {
        for rule in rules {
            *self.checked.entry(rule.to_string()).or_default() += 1;
        }
    }

    pub fn gate_deviations(&self, strict: bool) -> usize {
        self.findings
            .iter()
            .filter(|f| strict || f.deviation.level == Level::Gate)
            .count()
    }
}

/// The result of one case: the answer judged, and the properties checked on it.
#[derive(Debug)]
pub struct CaseResult {
    pub index: usize,
    pub deviations: Vec<Deviation>,
    pub property_results: Vec<(Property, Vec<Deviation>)>,
    pub fault: Option<(FaultKind, String)>,
    pub flaky: bool,
    /// Deviations seen once that a re-send did not show again: flaky, never a finding.
    pub unconfirmed: Vec<String>,
    /// The rules the answer was judged by (empty when it was not judged), its deviations' included.
    pub exercised: BTreeSet<&'static str>,
}

impl CaseResult {
    /// A case not yet sent.
    pub fn new(index: usize) -> CaseResult {
        CaseResult {
            index,
            deviations: Vec::new(),
            property_results: Vec::new(),
            fault: None,
            flaky: false,
            unconfirmed: Vec::new(),
            exercised: BTreeSet::new(),
        }
    }

    /// Every deviation with the property that found it.
    pub fn all(&self) -> impl Iterator<Item = (Property, &Deviation)> {
        self.deviations.iter().map(|d| (Property::Model, d)).chain(
            self.property_results
                .iter()
                .flat_map(|(p, ds)| ds.iter().map(move |d| (*p, d))),
        )
    }

    /// Whether anything deviated.
    pub fn deviates(&self) -> bool {
        !self.deviations.is_empty() || self.property_results.iter().any(|(_, d)| !d.is_empty())
    }
}

/// The run's classes against the baseline (the accepted snapshots of one target).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub target: String,
    pub baseline_dir: PathBuf,
    /// Classes with an accepted snapshot.
    pub known: Vec<String>,
    /// Classes without one: they fail the gate (gate level, or any level under --strict).
    pub new: Vec<String>,
    /// Classes whose accepted snapshot shows another example or other answers than this run: they
    /// fail the gate like new ones (a committed snapshot edited by hand is caught here).
    pub changed: Vec<String>,
    /// Accepted snapshots whose class did not occur: reported as fixed (fail under --strict).
    pub fixed: Vec<String>,
    /// Where the pending snapshots of new classes were written.
    pub pending: Vec<PathBuf>,
}

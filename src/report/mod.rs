//! `report.json`: the verdict of a run and everything behind it. Reports render; they do not
//! decide: the verdict comes from [`Verdict::of`].

use crate::outcome::Comparison;
use crate::outcome::{ClassKey, Fault, Finding, Minimal, PropertyCount, RunOutcome, StateCoverage, Unconfirmed};
use crate::rules::{Level, RULES};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod class_sets;
mod html;
mod junit;
mod markdown;
pub mod matrix;
pub mod merge;
pub mod rules_table;
mod text;

/// Writes every report of a run into `dir`: `report.json`, `junit.xml`, `summary.md` and
/// `report.html`. Returns the path of `report.json`. Each is redacted as written
/// ([`crate::redact`]): an answer or a fault message may quote anything.
pub fn write_all(report: &Report, dir: &Path) -> Result<PathBuf, std::io::Error> {
    let path = report.write(dir)?;
    write_renderings(report, dir)?;
    Ok(path)
}

/// `junit.xml`, `summary.md` and `report.html`: what a person or CI reads, from the report.
fn write_renderings(report: &Report, dir: &Path) -> Result<(), std::io::Error> {
    let out = dir.display().to_string();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), crate::redact::text(text).as_bytes());
    write("junit.xml", &junit::render(report).map_err(std::io::Error::other)?)?;
    write("summary.md", &markdown::render(report, &out))?;
    write("report.html", &html::render(report, &out))?;
    Ok(())
}

/// Writes `report.json` (redacted) into `dir`, whole or not at all.
fn write_json(value: &impl Serialize, dir: &Path) -> Result<PathBuf, std::io::Error> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("report.json");
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    let tmp = dir.join(".report.json.tmp");
    std::fs::write(&tmp, crate::redact::text(&text).as_bytes())?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

pub use crate::gate::Verdict;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSummary {
    pub level: Level,
    pub source: &'static str,
    pub summary: &'static str,
    /// How many answers (seeding calls, property checks) the rule judged: 0 is untested.
    pub checked: usize,
    pub deviations: usize,
    pub gate_deviations: usize,
}

impl RuleSummary {
    pub fn status(&self) -> RuleStatus {
        RuleStatus::of(self.deviations, self.gate_deviations, Some(self.checked))
    }
}

/// What a run says of one rule. A rule no answer was judged by is untested, never a pass: the
/// run cannot tell whether the endpoint keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleStatus {
    /// A gate deviation.
    Fail,
    /// Advisory deviations only.
    Differs,
    /// Judged, and no deviation.
    Pass,
    /// No answer was judged by it.
    Untested,
    /// No deviation, and how many answers it judged is not known (a report from before
    /// coverage was counted).
    Unknown,
}

impl RuleStatus {
    /// `checked`: None where the report does not say.
    pub fn of(deviations: usize, gate_deviations: usize, checked: Option<usize>) -> Self {
        match (gate_deviations, deviations, checked) {
            (g, _, _) if g > 0 => RuleStatus::Fail,
            (_, d, _) if d > 0 => RuleStatus::Differs,
            (_, _, Some(0)) => RuleStatus::Untested,
            (_, _, Some(_)) => RuleStatus::Pass,
            (_, _, None) => RuleStatus::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Fail => "fail",
            RuleStatus::Differs => "differs",
            RuleStatus::Pass => "pass",
            RuleStatus::Untested => "untested",
            RuleStatus::Unknown => "unknown",
        }
    }
}

/// What each status means, for the reports' legends.
pub const RULE_STATUS_LEGEND: &str = "**fail**: a gate deviation; differs: advisory deviations only; pass: judged, no deviation; untested: no answer was judged by the rule (`checked` 0), so the run cannot tell whether the implementation keeps it";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub cases: usize,
    pub worlds: usize,
    pub requests: u64,
    pub retries: u64,
    pub flaky: usize,
    /// Deviations seen once that a re-send did not show again (never gated; listed in `unconfirmed`).
    pub unconfirmed: usize,
    pub deviations: usize,
    pub gate_deviations: usize,
    pub advisory_deviations: usize,
    pub faults: usize,
    /// The faults by kind (`timeout`, `reset`, `too-large`, ...): only the kinds that occurred.
    /// Reports written before kinds were counted lack it.
    #[serde(default)]
    pub faults_by_kind: BTreeMap<String, usize>,
}

impl Counts {
    /// `3 faults`, or with their kinds: `3 faults (2 timeout, 1 reset)`.
    pub fn faults_text(&self) -> String {
        if self.faults_by_kind.is_empty() {
            return format!("{} faults", self.faults);
        }
        let kinds: Vec<String> = self.faults_by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("{} faults ({})", self.faults, kinds.join(", "))
    }
}

/// A report read back (`merge`) has everything the reports render, but not its `deviations` and
/// `minimal` (they hold the comparer's types, which are written, never read: `merge` carries them
/// over as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(deserialize_with = "this_tool")]
    pub tool: Text,
    #[serde(deserialize_with = "this_version")]
    pub version: Text,
    pub verdict: Verdict,
    pub seed: u64,
    pub target: String,
    pub endpoint: String,
    pub region: String,
    pub strict: bool,
    /// Read-only mode: no state was seeded; the examples name the user's repositories.
    pub read_only: bool,
    pub duration_seconds: f64,
    pub counts: Counts,
    pub properties: BTreeMap<String, PropertyCount>,
    #[serde(deserialize_with = "catalogue_rules")]
    pub rules: BTreeMap<Text, RuleSummary>,
    /// The shapes the run's states had (many tags, many images, names and tags at the limits).
    pub states: StateCoverage,
    /// The deviation classes, each with its status against the baseline.
    pub classes: Vec<ClassReport>,
    /// The baseline comparison (absent when the run used no snapshots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Comparison>,
    #[serde(skip_deserializing)]
    pub deviations: Vec<Finding>,
    #[serde(skip_deserializing)]
    pub minimal: Vec<Minimal>,
    pub faults: Vec<Fault>,
    /// Deviations seen once that a re-send of their request did not show again.
    pub unconfirmed: Vec<Unconfirmed>,
    pub skipped_cases: Vec<SkippedCase>,
    pub leftovers: Vec<Leftover>,
    /// Why the run stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
    /// The `--spawn` command the run started the implementation with, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spawn: Option<String>,
    /// The share of the trials this run had (`--partition K/N`), if it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<crate::outcome::Partition>,
    /// The trials this run ran (its partition's, as the filter selected them), in order.
    #[serde(default)]
    pub trials: Vec<String>,
    /// The worlds of the whole run, whatever share of them this report ran: what `merge` checks
    /// the partitions' worlds against.
    #[serde(default)]
    pub worlds_total: usize,
}

/// A text of the tool's own (its name, a rule id, a status word). Named, so that serde's derive
/// does not take the field for one borrowed from the input: a report read back maps each to the
/// tool's static text.
pub type Text = &'static str;

fn this_tool<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let name = String::deserialize(d)?;
    if name == TOOL {
        Ok(TOOL)
    } else {
        Err(serde::de::Error::custom(format!("written by {name:?}, not {TOOL}")))
    }
}

fn this_version<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let version = String::deserialize(d)?;
    if version == VERSION {
        Ok(VERSION)
    } else {
        Err(serde::de::Error::custom(format!(
            "written by version {version}, this is {VERSION}"
        )))
    }
}

/// The tool's name and version, as `report.json` writes them.
pub const TOOL: &str = "ecr-conformance";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A rule's counts as a report wrote them; its texts come from this tool's catalogue.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleCounts {
    checked: usize,
    deviations: usize,
    gate_deviations: usize,
}

fn catalogue_rules<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<&'static str, RuleSummary>, D::Error> {
    let read = BTreeMap::<String, RuleCounts>::deserialize(d)?;
    let mut rules = BTreeMap::new();
    for (id, counts) in read {
        let Some(rule) = RULES.iter().find(|r| r.id == id) else {
            return Err(serde::de::Error::custom(format!(
                "rule {id:?} is not in this tool's catalogue"
            )));
        };
        rules.insert(
            rule.id,
            RuleSummary {
                level: rule.level,
                source: rule.source,
                summary: rule.summary,
                checked: counts.checked,
                deviations: counts.deviations,
                gate_deviations: counts.gate_deviations,
            },
        );
    }
    Ok(rules)
}

fn class_status<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let word = String::deserialize(d)?;
    crate::gate::ClassStatus::parse(&word)
        .map(crate::gate::ClassStatus::as_str)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown class status {word:?}")))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SkippedCase {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Leftover {
    pub repository: String,
    pub error: String,
}

/// A class as the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassReport {
    pub slug: String,
    pub title: String,
    #[serde(flatten)]
    pub key: ClassKey,
    /// What the class's first finding looked like (the id's shape, what was expected, what came).
    #[serde(flatten)]
    pub kinds: crate::classes::Kinds,
    pub count: usize,
    /// `known` (an accepted snapshot), `new`, or `unbaselined` (no snapshots used).
    #[serde(deserialize_with = "class_status")]
    pub status: Text,
    pub fails_gate: bool,
    /// The snapshot's body: the rule, the minimal example, both answers.
    pub snapshot: String,
    /// The self-contained case file that replays the example (relative to the report folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_file: Option<String>,
    /// The minimal request (canonical names), if the class has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<crate::wire::BatchGetImageRequest>,
    /// Both answers of the example, as text with placeholders for digests.
    pub expected: String,
    pub actual: String,
    /// The example's whole exchange: the endpoint's answer, and an answer ECR would give, in the
    /// same wire shape (`{"status", "body"}`), as text with placeholders for digests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecr_answer: Option<String>,
}

/// Where the run was pointed.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub seed: u64,
    pub target: String,
    pub endpoint: String,
    /// The `--spawn` command, when the run started the implementation itself.
    pub spawn: Option<String>,
    pub region: String,
    pub strict: bool,
    /// Read-only mode: the examples' repositories are the user's, and outlive the run.
    pub read_only: bool,
    pub requests: u64,
    pub retries: u64,
}

impl Report {
    pub fn new(
        outcome: &RunOutcome,
        ctx: &RunContext,
        classes: Vec<ClassReport>,
        baseline: Option<Comparison>,
    ) -> Report {
        let gate = outcome
            .findings
            .iter()
            .filter(|f| f.deviation.level == Level::Gate)
            .count();
        let mut rules: BTreeMap<&'static str, RuleSummary> = RULES
            .iter()
            .map(|r| {
                (
                    r.id,
                    RuleSummary {
                        level: r.level,
                        source: r.source,
                        summary: r.summary,
                        checked: outcome.checked.get(r.id).copied().unwrap_or(0),
                        deviations: 0,
                        gate_deviations: 0,
                    },
                )
            })
            .collect();
        for f in &outcome.findings {
            if let Some(r) = rules.get_mut(f.deviation.rule.as_str()) {
                r.deviations += 1;
                r.gate_deviations += usize::from(f.deviation.level == Level::Gate);
            }
        }
        Report {
            tool: TOOL,
            version: VERSION,
            verdict: Verdict::of(
                outcome,
                classes.iter().any(|c| c.fails_gate),
                baseline.as_ref().map_or(0, |b| b.fixed.len()),
                ctx.strict,
            ),
            seed: ctx.seed,
            target: ctx.target.clone(),
            endpoint: ctx.endpoint.clone(),
            region: ctx.region.clone(),
            strict: ctx.strict,
            duration_seconds: outcome.elapsed.as_secs_f64(),
            counts: Counts {
                cases: outcome.cases_run,
                worlds: outcome.worlds,
                requests: ctx.requests,
                retries: ctx.retries,
                flaky: outcome.flaky,
                unconfirmed: outcome.unconfirmed.len(),
                deviations: outcome.findings.len(),
                gate_deviations: gate,
                advisory_deviations: outcome.findings.len() - gate,
                faults: outcome.faults.len(),
                faults_by_kind: crate::outcome::FaultKind::count(&outcome.faults),
            },
            properties: outcome.properties.clone(),
            rules,
            states: outcome.states.clone(),
            classes,
            baseline,
            deviations: outcome.findings.clone(),
            minimal: outcome.minimal.clone(),
            faults: outcome.faults.clone(),
            unconfirmed: outcome.unconfirmed.clone(),
            skipped_cases: outcome
                .skipped_cases
                .iter()
                .map(|(name, reason)| SkippedCase {
                    name: name.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            aborted: outcome.aborted.clone(),
            spawn: ctx.spawn.clone(),
            partition: None,
            trials: Vec::new(),
            worlds_total: 0,
            read_only: ctx.read_only,
            leftovers: outcome
                .leftovers
                .iter()
                .map(|(repository, error)| Leftover {
                    repository: repository.clone(),
                    error: error.clone(),
                })
                .collect(),
        }
    }

    /// Writes `report.json` into `dir` (created if needed); returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, std::io::Error> {
        write_json(self, dir)
    }
}

/// A context for the tests of what renders reports: seed 1, loopback, nothing started.
#[cfg(test)]
impl RunContext {
    pub(crate) fn for_tests(target: &str) -> RunContext {
        RunContext {
            seed: 1,
            target: target.into(),
            endpoint: "http://127.0.0.1:4566".into(),
            spawn: None,
            region: "us-east-1".into(),
            strict: false,
            read_only: false,
            requests: 0,
            retries: 0,
        }
    }
}

#[cfg(test)]
mod tests;

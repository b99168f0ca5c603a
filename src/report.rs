//! `report.json`: the verdict of a run and everything behind it. Reports render; they do not
//! decide: the verdict comes from [`Verdict::of`].

use crate::rules::{Level, RULES};
use crate::runner::{Finding, Minimal, PropertyCount, RunOutcome};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Indeterminate,
}

impl Verdict {
    /// Fail on any gate deviation (any deviation under `strict`); otherwise indeterminate when
    /// faults kept requests from an answer, or nothing was run; else pass.
    pub fn of(outcome: &RunOutcome, strict: bool) -> Verdict {
        if outcome.gate_deviations(strict) > 0 {
            Verdict::Fail
        } else if !outcome.faults.is_empty() || outcome.cases_run == 0 || outcome.aborted.is_some() {
            Verdict::Indeterminate
        } else {
            Verdict::Pass
        }
    }

    /// The exit code of the contract: 0 pass, 1 fail, 2 indeterminate.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Indeterminate => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Indeterminate => "indeterminate",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSummary {
    pub level: Level,
    pub source: &'static str,
    pub summary: &'static str,
    pub deviations: usize,
    pub gate_deviations: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub cases: usize,
    pub worlds: usize,
    pub requests: u64,
    pub retries: u64,
    pub flaky: usize,
    pub deviations: usize,
    pub gate_deviations: usize,
    pub advisory_deviations: usize,
    pub faults: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub verdict: Verdict,
    pub seed: u64,
    pub target: String,
    pub endpoint: String,
    pub region: String,
    pub strict: bool,
    pub duration_seconds: f64,
    pub counts: Counts,
    pub properties: BTreeMap<String, PropertyCount>,
    pub rules: BTreeMap<&'static str, RuleSummary>,
    pub deviations: Vec<Finding>,
    pub minimal: Vec<Minimal>,
    pub faults: Vec<crate::runner::Fault>,
    pub skipped_cases: Vec<SkippedCase>,
    pub leftovers: Vec<Leftover>,
    /// Why the run stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedCase {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Leftover {
    pub repository: String,
    pub error: String,
}

/// Where the run was pointed.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub seed: u64,
    pub target: String,
    pub endpoint: String,
    pub region: String,
    pub strict: bool,
    pub requests: u64,
    pub retries: u64,
}

impl Report {
    pub fn new(outcome: &RunOutcome, ctx: &RunContext) -> Report {
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
            tool: "ecr-conformance",
            version: env!("CARGO_PKG_VERSION"),
            verdict: Verdict::of(outcome, ctx.strict),
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
                deviations: outcome.findings.len(),
                gate_deviations: gate,
                advisory_deviations: outcome.findings.len() - gate,
                faults: outcome.faults.len(),
            },
            properties: outcome.properties.clone(),
            rules,
            deviations: outcome.findings.clone(),
            minimal: outcome.minimal.clone(),
            faults: outcome.faults.clone(),
            skipped_cases: outcome
                .skipped_cases
                .iter()
                .map(|(name, reason)| SkippedCase {
                    name: name.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            aborted: outcome.aborted.clone(),
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
        std::fs::create_dir_all(dir)?;
        let path = dir.join("report.json");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(".report.json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// The short human summary printed at the end of a run.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        if let Some(reason) = &self.aborted {
            return format!(
                "verdict: {} (seed {}, target {}): {reason}\n",
                self.verdict.as_str(),
                self.seed,
                self.target
            );
        }
        let mut s = format!(
            "verdict: {} (seed {}, target {}, {:.1}s)\n{} cases ({} worlds), {} requests, {} deviations ({} gate, {} advisory), {} faults, {} flaky\n",
            self.verdict.as_str(),
            self.seed,
            self.target,
            self.duration_seconds,
            c.cases,
            c.worlds,
            c.requests,
            c.deviations,
            c.gate_deviations,
            c.advisory_deviations,
            c.faults,
            c.flaky
        );
        for (id, r) in self.rules.iter().filter(|(_, r)| r.deviations > 0) {
            s.push_str(&format!(
                "  {id:<22} {:<8} {} deviations  ({})\n",
                r.level.as_str(),
                r.deviations,
                r.summary
            ));
        }
        for m in &self.minimal {
            s.push_str(&format!(
                "  minimal {:<14} {} ids (from {}): {}\n",
                m.rule,
                m.request.image_ids.len(),
                m.original_ids,
                serde_json::to_string(&m.request).unwrap_or_default()
            ));
        }
        for c in &self.skipped_cases {
            s.push_str(&format!("  skipped case {}: {}\n", c.name, wire_abridge(&c.reason)));
        }
        for l in &self.leftovers {
            s.push_str(&format!("  NOT DELETED {}: {}\n", l.repository, l.error));
        }
        for f in self.faults.iter().take(5) {
            s.push_str(&format!("  fault {}: {}\n", f.trial, f.message));
        }
        if self.faults.len() > 5 {
            s.push_str(&format!("  ... and {} more faults\n", self.faults.len() - 5));
        }
        s
    }
}

fn wire_abridge(text: &str) -> String {
    crate::wire::abridge(text, 160)
}

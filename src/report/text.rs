//! The report in words: the counts in a sentence, the summary printed at the end of a run, the
//! replay and AWS CLI commands of an example. What the Markdown, HTML and stderr texts share.

use super::{ClassReport, Report, RuleStatus, RuleSummary};
use crate::rules::RULES;

impl Report {
    /// The counts in one sentence, for the Markdown and HTML reports.
    pub fn counts_sentence(&self) -> String {
        let c = &self.counts;
        format!(
            "{} cases, {} requests, {} deviations ({} gate, {} advisory) in {} classes, {}, {} flaky",
            c.cases,
            c.requests,
            c.deviations,
            c.gate_deviations,
            c.advisory_deviations,
            self.classes.len(),
            c.faults_text(),
            c.flaky
        )
    }

    /// The rules no answer was judged by, in the catalogue's order.
    pub fn untested(&self) -> Vec<&'static str> {
        RULES
            .iter()
            .filter(|r| self.rules.get(r.id).is_some_and(|s| s.status() == RuleStatus::Untested))
            .map(|r| r.id)
            .collect()
    }

    /// The rules in the catalogue's order, with what the run says of each.
    /// The classes in the order a reader needs them: those that fail the gate, then new advisory
    /// ones, then known ones; by title within each.
    pub fn classes_in_reading_order(&self) -> Vec<&ClassReport> {
        let rank = |c: &ClassReport| {
            if c.fails_gate {
                0
            } else if c.status == "known" {
                2
            } else {
                1
            }
        };
        let mut classes: Vec<&ClassReport> = self.classes.iter().collect();
        classes.sort_by(|a, b| (rank(a), a.title.as_str()).cmp(&(rank(b), b.title.as_str())));
        classes
    }

    pub fn rule_statuses(&self) -> impl Iterator<Item = (&'static str, &RuleSummary, RuleStatus)> {
        RULES
            .iter()
            .filter_map(|r| self.rules.get(r.id).map(|s| (r.id, s, s.status())))
    }

    /// `ecr-conformance replay` for a class's case file.
    pub fn replay_command(&self, case_file: &str, out: &str) -> String {
        // A spawned implementation is gone after the run: the replay spawns it again.
        let target = match &self.spawn {
            Some(command) => format!(" --spawn '{}'", command.replace('\'', "'\\''")),
            // The embedded server's target name says its variant and alternatives
            // (`embedded-<variant>+<alternative>...`): the replay serves them again.
            None if self.target.starts_with("embedded") => {
                let mut parts = self.target.split('+');
                let variant = parts
                    .next()
                    .and_then(|v| v.strip_prefix("embedded-"))
                    .map(|v| format!(" --variant {v}"))
                    .unwrap_or_default();
                let alternatives: Vec<&str> = parts.collect();
                if alternatives.is_empty() {
                    variant
                } else {
                    format!("{variant} --alternatives {}", alternatives.join(","))
                }
            }
            None => format!(" --endpoint {}", self.endpoint),
        };
        format!("ecr-conformance replay {out}/{case_file}{target}")
    }

    /// The `aws ecr batch-get-image` command that sends a request (once its repository exists:
    /// only in read-only mode do the examples' repositories outlive the run).
    pub fn aws_command(&self, r: &crate::wire::BatchGetImageRequest) -> String {
        let ids = serde_json::to_string(&r.image_ids).unwrap_or_default();
        let mut c = format!(
            "aws ecr batch-get-image --endpoint-url {} --region {} --repository-name {} --image-ids '{}'",
            self.endpoint,
            self.region,
            r.repository_name,
            ids.replace('\'', "'\\''")
        );
        if let Some(id) = &r.registry_id {
            c.push_str(&format!(" --registry-id {id}"));
        }
        if let Some(types) = &r.accepted_media_types {
            c.push_str(" --accepted-media-types");
            for t in types {
                c.push_str(&format!(" {t}"));
            }
        }
        c
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
            "verdict: {} (seed {}, target {}, {:.1}s)\n{} cases ({} worlds), {} requests, {} deviations ({} gate, {} advisory), {}, {} flaky ({} deviations not seen again)\n",
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
            c.faults_text(),
            c.flaky,
            c.unconfirmed
        );
        if !self.classes.is_empty() {
            s.push_str(&format!("{} deviation classes:\n", self.classes.len()));
        }
        for c in &self.classes {
            let mark = if c.fails_gate { "FAIL" } else { "    " };
            s.push_str(&format!(
                "  {mark} {:<11} {} ({} deviations)\n",
                c.status, c.title, c.count
            ));
        }
        if let Some(b) = &self.baseline {
            for f in &b.fixed {
                s.push_str(&format!(
                    "  fixed       {f} (its snapshot is accepted but the class did not occur)\n"
                ));
            }
            for p in &b.pending {
                s.push_str(&format!("  pending     {}\n", p.display()));
            }
        }
        let untested = self.untested();
        if !untested.is_empty() {
            s.push_str(&format!(
                "  untested: {} rules judged no answer, so they are not passed: {}\n",
                untested.len(),
                untested.join(", ")
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

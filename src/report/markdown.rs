//! `summary.md`: the verdict, the counts and one line per class, ready for a CI step summary.

use super::Report;
use std::fmt::Write as _;

pub(super) fn render(report: &Report, out: &str) -> String {
    let mut s = String::new();
    let icon = match report.verdict {
        super::Verdict::Pass => "✅",
        super::Verdict::Fail => "❌",
        super::Verdict::Indeterminate => "⚠️",
    };
    let _ = writeln!(
        s,
        "## {icon} ecr-conformance: {} ({})\n",
        report.verdict.as_str(),
        report.target
    );
    let _ = writeln!(
        s,
        "Seed `{}` against `{}` ({}): {}.\n",
        report.seed,
        report.endpoint,
        report.region,
        report.counts_sentence()
    );
    if let Some(reason) = &report.aborted {
        let _ = writeln!(s, "**The run stopped early:** {reason}\n");
    }
    let classes = report.classes_in_reading_order();
    if !classes.is_empty() {
        let _ = writeln!(s, "| | class | status | deviations | example |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for class in &classes {
            let mark = if class.fails_gate { "❌" } else { "·" };
            let example = class
                .case_file
                .as_deref()
                .map(|f| format!("`{out}/{f}`"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {mark} | {} | {} | {} | {example} |",
                class.title.replace('|', "\\|"),
                class.status,
                class.count
            );
        }
        let _ = writeln!(s);
        for class in &classes {
            example(class, &mut s);
        }
    }
    rules(report, &mut s);
    if let Some(b) = &report.baseline {
        for f in &b.fixed {
            let _ = writeln!(s, "- fixed: `{f}` (accepted, but it did not occur)");
        }
        if !b.pending.is_empty() {
            let _ = writeln!(
                s,
                "\n{} pending snapshots: accept with `ecr-conformance review --accept` (or `cargo insta review`).",
                b.pending.len()
            );
        }
    }
    s
}

/// Text for a CI step summary, which has a size limit: long answers are cut (report.html has them
/// whole).
fn cut(text: &str) -> String {
    const MAX: usize = 4000;
    if text.len() <= MAX {
        return text.to_string();
    }
    let end = (0..=MAX).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!(
        "{}\n… ({} more bytes: report.html shows it whole)",
        &text[..end],
        text.len() - end
    )
}

/// A class's example, folded: the request, the endpoint's whole answer and an answer ECR gives (in
/// wire shape), what differs, and the rule's reasoning.
fn example(class: &super::ClassReport, s: &mut String) {
    let _ = writeln!(
        s,
        "<details><summary>{} {}</summary>\n",
        if class.fails_gate { "❌" } else { "·" },
        class.title.replace('<', "&lt;")
    );
    if let Some(r) = &class.request {
        let _ = writeln!(
            s,
            "Request:\n```json\n{}\n```",
            serde_json::to_string_pretty(r).unwrap_or_default()
        );
    }
    if let (Some(answer), Some(ecr)) = (&class.answer, &class.ecr_answer) {
        let _ = writeln!(s, "The endpoint answered:\n```json\n{}\n```", cut(answer));
        let _ = writeln!(s, "Amazon ECR answers (by the model):\n```json\n{}\n```", cut(ecr));
    }
    let _ = writeln!(
        s,
        "What differs: expected\n```json\n{}\n```\ngot\n```json\n{}\n```",
        cut(&class.expected),
        cut(&class.actual)
    );
    let rule = crate::rules::rule_by_id(&class.key.rule);
    let _ = writeln!(
        s,
        "Rule `{}` ({}): {}. Evidence: {}.\n\n</details>\n",
        rule.id,
        class.key.level.as_str(),
        rule.summary,
        rule.source
    );
}

/// The rules: a count per status, the untested ones by name (they are not passes), and the whole
/// table folded away.
fn rules(report: &Report, s: &mut String) {
    use super::RuleStatus;
    let statuses: Vec<_> = report.rule_statuses().collect();
    let n = |status: RuleStatus| statuses.iter().filter(|(_, _, x)| *x == status).count();
    let _ = writeln!(
        s,
        "Rules: {} pass, {} fail, {} differ, {} untested.\n",
        n(RuleStatus::Pass),
        n(RuleStatus::Fail),
        n(RuleStatus::Differs),
        n(RuleStatus::Untested)
    );
    let untested = report.untested();
    if !untested.is_empty() {
        let names: Vec<String> = untested.iter().map(|id| format!("`{id}`")).collect();
        let _ = writeln!(
            s,
            "**Untested** (no answer was judged by them, so the run cannot tell whether they hold): {}.\n",
            names.join(", ")
        );
    }
    let _ = writeln!(s, "<details><summary>Every rule</summary>\n");
    let _ = writeln!(s, "| rule | level | status | checked | deviations |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for (id, r, status) in &statuses {
        let status = match status {
            RuleStatus::Fail => "**fail**".to_string(),
            RuleStatus::Untested => "**untested**".to_string(),
            other => other.as_str().to_string(),
        };
        let _ = writeln!(
            s,
            "| `{id}` | {} | {status} | {} | {} |",
            r.level.as_str(),
            r.checked,
            r.deviations
        );
    }
    let _ = writeln!(s, "\n{}\n\n</details>\n", super::RULE_STATUS_LEGEND);
}

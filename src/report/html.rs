//! `report.html`: one self-contained page (no scripts, no external files) that a person would rather
//! read than the JSON: the verdict, the rules as a table, and per class its minimal example with both
//! answers side by side and the commands that reproduce it.

use super::{Report, Verdict};
use std::fmt::Write as _;

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}\
h1{font-size:1.6rem}.verdict{display:inline-block;padding:.2rem .8rem;border-radius:.4rem;color:#fff}\
.pass{background:#2e7d32}.fail{background:#c62828}.indeterminate{background:#ef6c00}\
table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}\
th{background:#f3f3f3}.gate{color:#c62828;font-weight:600}.advisory{color:#6d6d6d}\
.status-fail{color:#c62828;font-weight:600}.status-untested{color:#ef6c00;font-weight:600}\
.class{border:1px solid #ddd;border-radius:.5rem;padding:1rem;margin:1rem 0}.class.failing{border-color:#c62828}\
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}pre{background:#f7f7f7;padding:.6rem;overflow:auto;font-size:.8rem;white-space:pre-wrap;word-break:break-all}\
code{background:#f1f1f1;padding:0 .2rem}";

pub fn render(report: &Report, out: &str) -> String {
    let mut s = String::new();
    let verdict = report.verdict.as_str();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ecr-conformance: {verdict} ({target})</title><style>{STYLE}</style></head><body>",
        target = esc(&report.target)
    );
    let _ = write!(
        s,
        "<h1>ecr-conformance <span id=\"verdict\" class=\"verdict {verdict}\">{verdict}</span></h1>"
    );
    let _ = write!(
        s,
        "<p id=\"context\">Target <b>{}</b> at <code>{}</code>, region {}, seed <code>{}</code>{}: {}, {:.1} s.</p>",
        esc(&report.target),
        esc(&report.endpoint),
        esc(&report.region),
        report.seed,
        if report.strict { ", strict" } else { "" },
        esc(&report.counts_sentence()),
        report.duration_seconds
    );
    if let Some(reason) = &report.aborted {
        let _ = write!(s, "<p><b>The run stopped early:</b> {}</p>", esc(reason));
    }
    if report.verdict == Verdict::Fail {
        let n = report.classes.iter().filter(|c| c.fails_gate).count();
        let _ = write!(s, "<p>{n} classes fail the gate.</p>");
    }

    let _ = write!(s, "<h2>Classes</h2>");
    if report.classes.is_empty() {
        let _ = write!(s, "<p id=\"no-classes\">No deviation.</p>");
    }
    for class in &report.classes {
        let failing = if class.fails_gate { " failing" } else { "" };
        let _ = write!(
            s,
            "<section class=\"class{failing}\" id=\"class-{}\">",
            esc(&class.slug)
        );
        let _ = write!(
            s,
            "<h3>{}</h3><p>Status <b>{}</b>{}, {} deviations, level <span class=\"{}\">{}</span>.</p>",
            esc(&class.title),
            class.status,
            if class.fails_gate { " (fails the gate)" } else { "" },
            class.count,
            class.key.level.as_str(),
            class.key.level.as_str()
        );
        let _ = write!(
            s,
            "<details><summary>Snapshot: rule, evidence, minimal example</summary><pre>{}</pre></details>",
            esc(&class.snapshot)
        );
        let _ = write!(
            s,
            "<div class=\"pair\"><div><h4>Expected (Amazon ECR)</h4><pre class=\"expected\">{}</pre></div><div><h4>Actual</h4><pre class=\"actual\">{}</pre></div></div>",
            esc(&class.expected),
            esc(&class.actual)
        );
        let mut commands = Vec::new();
        if let Some(f) = &class.case_file {
            commands.push(report.replay_command(f, out));
        }
        // A generated example's repositories are deleted when the run ends (and the embedded
        // server is gone): the AWS CLI can reach only the user's own, in read-only mode.
        if let (Some(r), true) = (&class.request, report.read_only) {
            commands.push(report.aws_command(r));
        }
        if !commands.is_empty() {
            let _ = write!(
                s,
                "<h4>Reproduce</h4><pre class=\"commands\">{}</pre>",
                esc(&commands.join("\n"))
            );
        }
        let _ = write!(s, "</section>");
    }
    if let Some(b) = &report.baseline
        && !b.fixed.is_empty()
    {
        let _ = write!(s, "<h2>Fixed</h2><ul>");
        for f in &b.fixed {
            let _ = write!(s, "<li><code>{}</code>: accepted, but it did not occur</li>", esc(f));
        }
        let _ = write!(s, "</ul>");
    }

    let _ = write!(
        s,
        "<h2>Rules</h2><p id=\"rule-legend\">{}</p><table id=\"rules\"><tr><th>rule</th><th>level</th><th>status</th><th>checked</th><th>deviations</th><th>claim</th><th>evidence</th></tr>",
        esc(&super::RULE_STATUS_LEGEND.replace("**", ""))
    );
    for (id, r, status) in report.rule_statuses() {
        let _ = write!(
            s,
            "<tr id=\"rule-{id}\"><td><code>{id}</code></td><td class=\"{lvl}\">{lvl}</td><td class=\"status-{st}\">{st}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.checked,
            r.deviations,
            esc(r.summary),
            esc(r.source),
            lvl = r.level.as_str(),
            st = status.as_str()
        );
    }
    let _ = write!(s, "</table>");
    if !report.faults.is_empty() {
        let _ = write!(s, "<h2>Faults</h2><ul>");
        for f in report.faults.iter().take(50) {
            let _ = write!(s, "<li><code>{}</code>: {}</li>", esc(&f.trial), esc(&f.message));
        }
        let _ = write!(s, "</ul>");
    }
    let _ = writeln!(s, "</body></html>");
    s
}

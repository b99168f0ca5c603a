//! `report.html`: one self-contained page (no scripts, no external files) that a person would rather
//! read than the JSON: the verdict, a table of contents, per class (failing first) the endpoint's
//! whole answer beside an answer ECR gives with the differing entries marked, what differs, the
//! rule's reasoning and the commands that reproduce it; then the rules as a table.

use super::{Report, Verdict};
use serde_json::Value;
use std::fmt::Write as _;

/// What the evidence codes of the catalogue mean (they prefix every rule's source).
const EVIDENCE_LEGEND: [(&str, &str); 5] = [
    ("DOC", "AWS documentation or the service model says so"),
    (
        "OBS",
        "a real ECR response, captured in a public issue or log, shows it",
    ),
    ("AWS-CODE", "client code AWS wrote depends on it"),
    (
        "TEST",
        "a public third-party test suite written against AWS asserts it (not re-validated)",
    ),
    ("INF", "inferred: nothing public shows it"),
];

/// One side of an answer, pretty, with its entries that the other side lacks marked: an image or
/// failure (in `body.images` / `body.failures`) absent from the other's list, or the whole body
/// where either side is not a list of entries. Text that is not JSON is shown as it is.
fn marked(this: &str, other: &str) -> String {
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<Value>(this),
        serde_json::from_str::<Value>(other),
    ) else {
        return esc(this);
    };
    let status_differs = a.get("status") != b.get("status");
    let (body_a, body_b) = (a.get("body"), b.get("body"));
    let lists = |v: Option<&Value>| {
        v.and_then(Value::as_object)
            .filter(|o| o.contains_key("images") || o.contains_key("failures"))
            .is_some()
    };
    if !lists(body_a) || !lists(body_b) {
        let text = esc(&serde_json::to_string_pretty(&a).unwrap_or_default());
        return if a != b { format!("<mark>{text}</mark>") } else { text };
    }
    let status = a.get("status").map(Value::to_string).unwrap_or_default();
    let status = if status_differs {
        format!("<mark>{status}</mark>")
    } else {
        status
    };
    let mut out = format!("{{\n  \"status\": {status},\n  \"body\": {{\n");
    let keys = ["images", "failures"];
    for (k, key) in keys.iter().enumerate() {
        let theirs: Vec<&Value> = body_b
            .and_then(|b| b.get(key))
            .and_then(Value::as_array)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        match body_a.and_then(|x| x.get(key)).and_then(Value::as_array) {
            None => {
                let _ = write!(out, "    <mark>(no \"{key}\")</mark>");
            }
            Some(entries) => {
                let _ = write!(out, "    \"{key}\": [");
                for (i, entry) in entries.iter().enumerate() {
                    let text = serde_json::to_string_pretty(entry)
                        .unwrap_or_default()
                        .replace('\n', "\n      ");
                    let text = esc(&format!("      {text}"));
                    let sep = if i + 1 < entries.len() { "," } else { "" };
                    if theirs.contains(&entry) {
                        let _ = write!(out, "\n{text}{sep}");
                    } else {
                        let _ = write!(out, "\n<mark>{text}</mark>{sep}");
                    }
                }
                out.push_str(if entries.is_empty() { "]" } else { "\n    ]" });
            }
        }
        out.push_str(if k + 1 < keys.len() { ",\n" } else { "\n" });
    }
    out.push_str("  }\n}");
    out
}

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
th{background:#f3f3f3}.gate{font-weight:600}.advisory{color:#6d6d6d}mark{background:#ffe082}\
.toc li.failing a{color:#c62828;font-weight:600}\
.status-fail{color:#c62828;font-weight:600}.status-untested{color:#ef6c00;font-weight:600}\
.class{border:1px solid #ddd;border-radius:.5rem;padding:1rem;margin:1rem 0}.class.failing{border-color:#c62828}\
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}pre{background:#f7f7f7;padding:.6rem;overflow:auto;font-size:.8rem;white-space:pre-wrap;word-break:break-all}\
code{background:#f1f1f1;padding:0 .2rem}";

pub(super) fn render(report: &Report, out: &str) -> String {
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

    let classes = report.classes_in_reading_order();
    if !classes.is_empty() {
        let _ = write!(s, "<nav id=\"toc\" class=\"toc\"><h2>Contents</h2><ol>");
        for class in &classes {
            let _ = write!(
                s,
                "<li class=\"{}\"><a href=\"#class-{}\">{}</a> ({}, {})</li>",
                if class.fails_gate { "failing" } else { "" },
                esc(&class.slug),
                esc(&class.title),
                if class.fails_gate {
                    "fails the gate"
                } else {
                    class.status
                },
                class.count
            );
        }
        let _ = write!(s, "<li><a href=\"#rules\">Rules</a></li></ol></nav>");
    }
    let _ = write!(s, "<h2>Classes</h2>");
    if report.classes.is_empty() {
        let _ = write!(s, "<p id=\"no-classes\">No deviation.</p>");
    }
    for class in classes {
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
        if let Some(r) = &class.request {
            let request = serde_json::to_string_pretty(r).unwrap_or_default();
            let _ = write!(s, "<h4>Request</h4><pre class=\"request\">{}</pre>", esc(&request));
        }
        // The whole exchange, in wire shape: the endpoint's answer beside one ECR gives.
        if let (Some(answer), Some(ecr)) = (&class.answer, &class.ecr_answer) {
            let _ = write!(
                s,
                "<div class=\"pair\"><div><h4>The endpoint answered</h4><pre class=\"answer\">{}</pre></div><div><h4>Amazon ECR answers (by the model)</h4><pre class=\"ecr-answer\">{}</pre></div></div>",
                marked(answer, ecr),
                marked(ecr, answer)
            );
        }
        let _ = write!(
            s,
            "<h4>What differs</h4><div class=\"pair\"><div><h5>Expected for it (the model)</h5><pre class=\"expected\">{}</pre></div><div><h5>What came for it</h5><pre class=\"actual\">{}</pre></div></div>",
            esc(&class.expected),
            esc(&class.actual)
        );
        let rule = crate::rules::rule_by_id(&class.key.rule);
        let _ = write!(
            s,
            "<p class=\"reasoning\">Rule <code>{}</code> ({}): {}. Evidence: {}.</p>",
            esc(rule.id),
            class.key.level.as_str(),
            esc(rule.summary),
            esc(rule.source)
        );
        let _ = write!(
            s,
            "<details><summary>Snapshot: the example with its state</summary><pre>{}</pre></details>",
            esc(&class.snapshot)
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

    let evidence: Vec<String> = EVIDENCE_LEGEND
        .iter()
        .map(|(code, what)| format!("<b>{code}</b>: {}", esc(what)))
        .collect();
    let _ = write!(
        s,
        "<h2>Rules</h2><p id=\"evidence-legend\">Evidence: {}.</p><p id=\"rule-legend\">{}</p><table id=\"rules\"><tr><th>rule</th><th>level</th><th>status</th><th>checked</th><th>deviations</th><th>claim</th><th>evidence</th></tr>",
        evidence.join("; "),
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
            let _ = write!(
                s,
                "<li><code>{}</code>: {}</li>",
                esc(&f.trial.to_string()),
                esc(&f.message)
            );
        }
        let _ = write!(s, "</ul>");
    }
    let _ = writeln!(s, "</body></html>");
    s
}

//! The HTML report renders in a real headless browser (Debian's Chromium, installed by
//! `scripts/install-test-deps.sh`): the verdict, a section per class with both answers and the
//! commands that reproduce it, and the rules table are in the page the browser builds.
//!
//! Ignored by default (it needs Chromium): `cargo test --test html_report -- --include-ignored`.

use ecr_conformance::server::Variant;
use ecr_conformance::session::{self, RunOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ];
    candidates.into_iter().flatten().map(PathBuf::from).find(|p| p.exists())
}

/// Chromium, which these (ignored) tests need: run with `--include-ignored` where it is installed.
fn browser() -> PathBuf {
    chromium().unwrap_or_else(|| {
        panic!("no Chromium (CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser): scripts/install-test-deps.sh installs it")
    })
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
    ])
    .args([
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

// Ignored rather than passing when there is no browser: a test that checks nothing must not say
// `ok`. `.ci/run` installs Chromium and runs it with `--include-ignored`; so can anyone who has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium"]
async fn the_html_report_renders_in_headless_chromium() {
    let browser = browser();
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("out");
    let options = RunOptions {
        seed: Some(5),
        cases: 150,
        cases_dir: None,
        variant: Variant::TagCaseInsensitive.into(),
        snapshots: Some(out.join("snapshots")),
        ci: true,
        out: out.clone(),
        shrink_budget: Duration::from_secs(10),
        ..RunOptions::default()
    };
    let report = session::run_with_env(options, &HashMap::from([("HOME", "/nonexistent")]))
        .await
        .expect("run")
        .report;
    let page = out.join("report.html");
    let url = format!("file://{}", page.display());

    let dom = headless(&browser, &out.join("profile-a"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(r#"id="verdict" class="verdict fail">fail</span>"#),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    for class in &report.classes {
        assert!(
            dom.contains(&format!(r#"id="class-{}""#, class.slug)),
            "no section for {}",
            class.slug
        );
    }
    assert!(dom.contains(r#"class="expected""#) && dom.contains(r#"class="actual""#));
    // Every class replays from its case file; a generated example's repositories are gone after
    // the run, so no AWS CLI command is offered for them.
    assert!(dom.contains("ecr-conformance replay") && !dom.contains("aws ecr batch-get-image"));
    for rule in ecr_conformance::rules::RULES {
        assert!(
            dom.contains(&format!("<code>{}</code>", rule.id)),
            "rule {} missing from the table",
            rule.id
        );
    }
    // I-ORDER is never checked: untested, never a pass.
    let row = dom
        .split(r#"<tr id="rule-I-ORDER">"#)
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("the I-ORDER row");
    assert!(row.contains(r#"class="status-untested">untested<"#), "{row}");

    let shot = out.join("report.png");
    let status = headless(&browser, &out.join("profile-b"))
        .arg("--window-size=1200,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(status.status.success() || shot.exists());
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
}

// The page a user reads when an implementation has a bug: failing classes first, a table of
// contents, and each card with the endpoint's whole answer beside an ECR answer in wire shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium"]
async fn a_failing_run_shows_failing_classes_first_with_both_whole_answers() {
    let browser = browser();
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("out");
    let options = RunOptions {
        // A bug with advisory classes beside its gate class (they come first alphabetically).
        seed: Some(7),
        cases: 400,
        cases_dir: None,
        variant: Variant::parse("malformed-digest-not-found").expect("a variant").into(),
        ci: true,
        out: out.clone(),
        shrink_budget: Duration::from_secs(10),
        ..RunOptions::default()
    };
    let report = session::run_with_env(options, &HashMap::from([("HOME", "/nonexistent")]))
        .await
        .expect("run")
        .report;
    assert!(report.classes.iter().any(|c| !c.fails_gate), "advisory classes too");
    let url = format!("file://{}", out.join("report.html").display());
    let dom = headless(&browser, &out.join("profile"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains(r#"id="toc""#), "a table of contents");
    let first_card = dom.find("<section class=\"class").expect("a class card");
    assert!(
        dom[first_card..].starts_with(r#"<section class="class failing""#),
        "the first card fails the gate: {}",
        &dom[first_card..(first_card + 200).min(dom.len())]
    );
    let cards: Vec<&str> = dom.split("<section class=\"class").skip(1).collect();
    assert_eq!(cards.len(), report.classes.len());
    for card in cards.iter().filter(|c| c.contains("(gate, model)")) {
        // Both whole answers, in wire shape (status and body), the differing entries marked.
        for class in ["answer", "ecr-answer"] {
            let at = card.find(&format!(r#"<pre class="{class}">"#)).expect("both answers");
            let text = &card[at..];
            assert!(text.contains(r#""status""#) && text.contains(r#""body""#), "{class}");
        }
        assert!(card.contains("<mark>"), "the differing entries are marked");
    }
    assert!(dom.contains(r#"id="evidence-legend""#) && dom.contains("AWS-CODE"));
}

//! The HTML report renders in a real headless browser (Debian's Chromium, installed by
//! `scripts/install-test-deps.sh`): the verdict, a section per class with both answers and the
//! commands that reproduce it, and the rules table are in the page the browser builds.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        // CI installs Chromium (scripts/install-test-deps.sh); there its absence is a failure.
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is missing in CI: run scripts/install-test-deps.sh"
        );
        eprintln!("skipped: no Chromium on this machine (scripts/install-test-deps.sh installs it)");
        return;
    };
    let out = std::env::temp_dir().join(format!("ecrc-html-{}", std::process::id()));
    let options = RunOptions {
        seed: Some(5),
        cases: 150,
        cases_dir: None,
        variant: Variant::TagCaseInsensitive,
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
    assert!(dom.contains("ecr-conformance replay") && dom.contains("aws ecr batch-get-image"));
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
    std::fs::remove_dir_all(&out).ok();
}

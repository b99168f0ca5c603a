//! The conformance gate: deviation classes, snapshots as a baseline, pending snapshots for new
//! classes, fixed classes, CI mode, replay of a class's case file, and the reports.

use ecr_conformance::exit::Exit;
use ecr_conformance::report::{Report, Verdict};
use ecr_conformance::server::Variant;
use ecr_conformance::session::{self, RunOptions};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn env() -> HashMap<&'static str, &'static str> {
    HashMap::from([("HOME", "/nonexistent")])
}

/// A test's temporary folder (removed when dropped, a failing test included), and a path in it
/// that does not exist yet.
fn temp_root() -> (tempfile::TempDir, impl Fn(&str) -> PathBuf) {
    let root = tempfile::tempdir().expect("a temporary folder");
    let base = root.path().to_path_buf();
    (root, move |name: &str| base.join(name))
}

async fn run(variant: Variant, seed: u64, snapshots: &Path, out: &Path, ci: bool, strict: bool) -> Report {
    let options = RunOptions {
        seed: Some(seed),
        cases: 300,
        cases_dir: None,
        variant: variant.into(),
        target_name: Some("gated".into()),
        snapshots: Some(snapshots.to_path_buf()),
        out: out.to_path_buf(),
        ci,
        strict,
        shrink_budget: Duration::from_secs(20),
        ..RunOptions::default()
    };
    session::run_with_env(options, &env())
        .await
        .expect("the run completes")
        .report
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().to_string(),
                        std::fs::read_to_string(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_is_stable_across_seeds_accepted_then_passes_and_a_fixed_bug_is_reported() {
    let (_tmp, temp) = temp_root();
    let (snaps_a, snaps_b) = (temp("snaps-a"), temp("snaps-b"));
    let out = temp("out");
    // Two seeds, one bug: the same pending snapshot files, byte for byte.
    let a = run(Variant::WrongRegistryId, 11, &snaps_a, &out, false, false).await;
    let b = run(Variant::WrongRegistryId, 12, &snaps_b, &out, false, false).await;
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(b.verdict, Verdict::Fail);
    let snaps_only = |d: &Path| -> BTreeMap<String, String> {
        files(d).into_iter().filter(|(k, _)| k.ends_with(".snap.new")).collect()
    };
    let (fa, fb) = (snaps_only(&snaps_a.join("gated")), snaps_only(&snaps_b.join("gated")));
    assert!(!fa.is_empty(), "{:?}", fa.keys());
    assert_eq!(fa, fb, "two seeds give the same snapshots");
    // Each with its example's case file (which names the seed that found it).
    for k in fa.keys() {
        let case = snaps_a.join("gated").join(k.replace(".snap.new", ".case.json.new"));
        assert!(case.is_file(), "{case:?}");
    }
    assert!(
        a.classes
            .iter()
            .all(|c| c.status == "new" && c.key.rule == "S-REGISTRY-ID"),
        "{:?}",
        a.classes
    );
    // Every snapshot is an insta snapshot.
    for name in fa.keys() {
        let snap = insta::Snapshot::from_file(&snaps_a.join("gated").join(name)).expect("insta reads it");
        assert!(snap.contents().as_text().is_some());
    }

    // Accepting them makes the next run pass.
    let (accepted, rejected) = session::review(&snaps_a, Some("gated"), |_, _| Some(true)).expect("review");
    assert_eq!((accepted, rejected), (fa.len(), 0));
    let again = run(Variant::WrongRegistryId, 13, &snaps_a, &out, false, false).await;
    assert_eq!(
        again.verdict,
        Verdict::Pass,
        "{:?}",
        again.classes.iter().map(|c| (&c.slug, c.status)).collect::<Vec<_>>()
    );
    assert!(again.classes.iter().all(|c| c.status == "known"));

    // A reviewer's note in a snapshot's header changes nothing; an edited body fails the gate.
    let accepted_dir = snaps_a.join("gated");
    let first = std::fs::read_dir(&accepted_dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "snap"))
        .expect("a snapshot");
    // Each accepted snapshot keeps its example's case file beside it.
    let case = first.with_extension("case.json");
    assert!(case.is_file(), "{case:?}");
    let text = std::fs::read_to_string(&first).expect("read");
    let noted = text.replacen(
        "description: ",
        "description: \"The registry answers another account's id.\" # ",
        1,
    );
    std::fs::write(&first, &noted).expect("write");
    assert_eq!(
        run(Variant::WrongRegistryId, 13, &snaps_a, &out, false, false)
            .await
            .verdict,
        Verdict::Pass
    );
    // An edited body: the seed that recorded it finds its example again, and sees the edit.
    std::fs::write(&first, noted.replace("000000000000", "999999999999")).expect("write");
    let edited = run(Variant::WrongRegistryId, 11, &snaps_a, &out, false, false).await;
    assert_eq!(edited.verdict, Verdict::Fail);
    assert!(edited.classes.iter().any(|c| c.status == "changed"));
    // Another seed may find another example: the accepted one, replayed, still shows the class,
    // so the class is known...
    let other = run(Variant::WrongRegistryId, 13, &snaps_a, &out, false, false).await;
    assert_eq!(
        other.verdict,
        Verdict::Pass,
        "{:?}",
        other.classes.iter().map(|c| (&c.slug, c.status)).collect::<Vec<_>>()
    );
    // ... unless it does not: a case that ECR and the endpoint answer alike shows nothing.
    let case_text = std::fs::read_to_string(&case).expect("case");
    let mut c: serde_json::Value = serde_json::from_str(&case_text).expect("json");
    c["request"]["registryId"] = serde_json::Value::Null;
    c["request"]["imageIds"] = serde_json::json!([{"imageTag": "no-such-tag"}]);
    std::fs::write(&case, serde_json::to_string(&c).expect("json")).expect("write");
    let unshown = run(Variant::WrongRegistryId, 13, &snaps_a, &out, false, false).await;
    assert_eq!(unshown.verdict, Verdict::Fail);
    assert!(unshown.classes.iter().any(|c| c.status == "changed"));
    std::fs::write(&case, &case_text).expect("restore");
    let pending = accepted_dir.join(format!(
        "{}.new",
        first.file_name().and_then(|n| n.to_str()).expect("name")
    ));
    let pending_text = std::fs::read_to_string(&pending).expect("a pending update");
    assert!(
        pending_text.contains("The registry answers another account's id."),
        "the note is kept"
    );
    std::fs::write(&first, &noted).expect("restore");
    std::fs::remove_file(&pending).ok();

    // Reverting the bug: the known classes are reported as fixed; --strict fails on them.
    let fixed = run(Variant::Reference, 13, &snaps_a, &out, false, false).await;
    assert_eq!(fixed.verdict, Verdict::Pass);
    assert_eq!(fixed.baseline.as_ref().map(|b| b.fixed.len()), Some(fa.len()));
    let strict = run(Variant::Reference, 13, &snaps_a, &out, false, true).await;
    assert_eq!(strict.verdict, Verdict::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_ci_nothing_under_snapshots_is_written() {
    let (_tmp, temp) = temp_root();
    let snaps = temp("ci-snaps");
    let out = temp("ci-out");
    let report = run(Variant::TagCaseInsensitive, 5, &snaps, &out, true, false).await;
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(!snaps.exists(), "nothing written under the snapshot root in CI");
    let pending = files(&out.join("snapshots").join("gated"));
    assert!(
        !pending.is_empty()
            && pending
                .keys()
                .all(|k| k.ends_with(".snap.new") || k.ends_with(".case.json.new")),
        "{:?}",
        pending.keys()
    );
    let tag_case = report
        .classes
        .iter()
        .find(|c| c.key.rule == "I-TAG-CASE")
        .expect("an I-TAG-CASE class");
    assert!(tag_case.snapshot.contains("minimal"), "{}", tag_case.snapshot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_case_file_replays_exactly_that_case() {
    let (_tmp, temp) = temp_root();
    let out = temp("replay");
    let report = run(Variant::TagCaseInsensitive, 5, &temp("replay-snaps"), &out, true, false).await;
    let class = report
        .classes
        .iter()
        .find(|c| c.key.rule == "I-TAG-CASE" && c.case_file.is_some())
        .expect("a case file");
    let case_path = out.join(class.case_file.as_deref().expect("path"));
    let case = ecr_conformance::cases::CaseFile::load(&case_path).expect("a valid case file");
    // The recorded answer is the model's: the case agrees with the model.
    assert!(case.check_against_model().expect("readable").is_empty());
    let replay = |variant: Variant| {
        let options = RunOptions {
            cases: 0,
            cases_dir: None,
            case_paths: vec![case_path.clone()],
            variant: variant.into(),
            out: out.join("replayed"),
            ..RunOptions::default()
        };
        async move { session::run_with_env(options, &env()).await.expect("replayed").report }
    };
    let broken = replay(Variant::TagCaseInsensitive).await;
    assert_eq!(broken.verdict, Verdict::Fail);
    assert_eq!(broken.counts.cases, 1);
    assert!(broken.classes.iter().any(|c| c.key.rule == "I-TAG-CASE"));
    let fixed = replay(Variant::Reference).await;
    assert_eq!(fixed.verdict, Verdict::Pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_is_written_and_junit_names_are_stable() {
    let (_tmp, temp) = temp_root();
    let out = temp("reports");
    let report = run(Variant::ErrorsWithoutType, 3, &temp("reports-snaps"), &out, true, false).await;
    for name in ["report.json", "junit.xml", "summary.md", "report.html"] {
        assert!(out.join(name).exists(), "{name}");
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit");
    assert!(junit.starts_with("<?xml"), "{junit}");
    for c in &report.classes {
        assert!(junit.contains(&format!("class::{}", c.slug)), "{}", c.slug);
    }
    assert!(junit.contains("<failure"), "a failing class is a failure");
    let md = std::fs::read_to_string(out.join("summary.md")).expect("md");
    assert!(md.contains("fail") && md.contains("W-ERR-TYPE"), "{md}");
    // Each class's example: the endpoint's whole answer and an ECR answer, in wire shape, and the
    // rule's reasoning; the classes that fail the gate come first.
    assert!(md.contains("The endpoint answered:") && md.contains("Amazon ECR answers (by the model):"));
    assert!(md.contains(r#""status": 400"#) && md.contains("Evidence: "), "{md}");
    let first = md.find("<details><summary>").expect("a folded example");
    assert!(md[first..].starts_with("<details><summary>❌"), "{md}");
}

#[test]
fn an_unreadable_baseline_is_a_configuration_error_naming_the_file() {
    let (_tmp, temp) = temp_root();
    let snaps = temp("bad-baseline");
    std::fs::create_dir_all(snaps.join("gated")).expect("dir");
    std::fs::write(snaps.join("gated").join("x.snap"), "not a snapshot").expect("write");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let options = RunOptions {
        seed: Some(1),
        cases: 20,
        cases_dir: None,
        target_name: Some("gated".into()),
        snapshots: Some(snaps.clone()),
        out: temp("bad-baseline-out"),
        ..RunOptions::default()
    };
    let err = rt
        .block_on(session::run_with_env(options, &env()))
        .expect_err("refused");
    assert_eq!(err.exit_code(), Exit::Usage.code());
    assert!(err.to_string().contains("x.snap"), "{err}");
}

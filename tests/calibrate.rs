//! `ecr-conformance calibrate`: against the embedded server it reports the reference's answer to
//! every open question; against server configurations that embody another alternative it reports
//! that one; its case files replay green against the server they were recorded from, and feed the
//! machinery that checks and replays `cases/recorded/`; its safety is the run's.

mod common;

use ecr_conformance::calibrate::{self, CalibrateOptions, Calibration};
use ecr_conformance::cases::CaseFile;
use ecr_conformance::control::RunControl;
use ecr_conformance::exit::Exit;
use ecr_conformance::report::Verdict;
use ecr_conformance::server::{self, Alternative, Alternatives, RunningServer, ServerConfig, Variant};
use ecr_conformance::session::{self, RunOptions};
use ecr_conformance::target::{self, TargetOptions};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn env() -> HashMap<&'static str, &'static str> {
    // No AWS variables: loopback endpoints are signed with the emulators' test/test.
    HashMap::from([("HOME", "/nonexistent")])
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ecrc-calibrate-")
        .tempdir()
        .expect("a temporary folder")
}

async fn serve(variant: Variant, alternatives: Alternatives) -> RunningServer {
    let config = ServerConfig {
        variant: variant.into(),
        alternatives,
        ..ServerConfig::default()
    };
    server::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the embedded server starts")
}

fn options(endpoint: &str, out: &Path, cases: usize) -> CalibrateOptions {
    CalibrateOptions {
        target: TargetOptions {
            endpoint: Some(endpoint.to_string()),
            ..TargetOptions::default()
        },
        out: out.to_path_buf(),
        seed: Some(1),
        cases,
        shrink_budget: Duration::from_secs(5),
        ..CalibrateOptions::default()
    }
}

/// The repositories an endpoint holds.
async fn repositories(url: &str) -> Vec<String> {
    let (client, _) = target::client_for(url, &TargetOptions::default(), &env()).expect("a client");
    ecr_conformance::seeding::repositories(&client)
        .await
        .expect("the repositories are listed")
}

/// A calibration of a server configuration, checked to have completed and cleaned up.
async fn calibrated(variant: Variant, alternatives: Alternatives, cases: usize) -> (tempfile::TempDir, Calibration) {
    let server = serve(variant, alternatives).await;
    let tmp = scratch();
    let result = calibrate::calibrate(options(&server.url(), &tmp.path().join("out"), cases), &env())
        .await
        .expect("the calibration runs");
    assert_eq!(
        result.exit_code(),
        Exit::Pass.code(),
        "{}",
        calibrate::summary(&result.calibration)
    );
    assert!(result.calibration.complete);
    assert!(
        repositories(&server.url()).await.is_empty(),
        "every repository the calibration created is deleted"
    );
    server.stop().await;
    (tmp, result.calibration)
}

fn question<'a>(c: &'a Calibration, id: &str) -> &'a calibrate::QuestionResult {
    c.questions
        .iter()
        .find(|q| q.id == id)
        .unwrap_or_else(|| panic!("no question {id}"))
}

/// The reference's current answer to every question (the model's first choices, reference
/// revision 2): what a calibration of the embedded reference server must report.
const REFERENCE: [(&str, &str); 17] = [
    ("bad-digest-channel", "per-id-InvalidImageDigest"),
    ("bad-digest-anchoring", "anchored"),
    ("new-name-pattern", "accepted"),
    ("digest-tags", "entry-per-tag"),
    ("same-image-two-tags", "two-entries"),
    ("repeated-id", "once"),
    ("translate-v2-to-oci", "translated"),
    ("translate-oci-to-v2", "translated"),
    ("translate-v2-to-v1", "translated"),
    ("list-without-list-types", "stored"),
    ("empty-digest", "InvalidImageDigest"),
    ("empty-tag", "request-400"),
    ("tag-charset", "InvalidImageTag"),
    ("media-type-field", "present"),
    ("both-lists", "both-present"),
    ("foreign-registry", "AccessDeniedException"),
    ("validation-order", "validation-first"),
];

#[tokio::test]
async fn the_embedded_reference_server_answers_every_question_as_the_reference_does() {
    let (tmp, c) = calibrated(Variant::Reference, Alternatives::NONE, 100).await;
    assert_eq!(c.questions.len(), REFERENCE.len());
    for (id, answer) in REFERENCE {
        let q = question(&c, id);
        assert_eq!(q.answer, Some(answer), "{id}: {q:?}");
        assert_eq!(q.model_answer, Some(answer), "{id}: the model's own first choice");
        assert_eq!(q.model, Some("agrees"), "{id}: {:?}", q.model_deviations);
    }
    assert!(
        c.doubts.is_empty(),
        "the reference server gives no doubt: {:?}",
        c.doubts
    );
    let run = c.generated_run.as_ref().expect("a generated run");
    assert!(run.cases >= 100 && run.faults.is_empty());

    // calibration.json, with the contract's fields.
    let out = tmp.path().join("out");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("calibration.json")).expect("calibration.json"))
            .expect("JSON");
    assert_eq!(json["tool"], "ecr-conformance");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        json["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("http://127.0.0.1:"))
    );
    assert_eq!(json["region"], "us-east-1");
    assert_eq!(
        json["date"],
        calibrate::record::utc_date(std::time::SystemTime::now()),
        "today, UTC"
    );
    assert_eq!(json["doubts"], serde_json::json!([]));
    for q in json["questions"].as_array().expect("questions") {
        assert!(q["id"].is_string() && q["rules"].as_array().is_some_and(|r| !r.is_empty()));
        assert!(q["answer"].is_string(), "{q}");
        let file = out.join(q["caseFile"].as_str().expect("caseFile"));
        let case = CaseFile::load(&file).expect("the case file loads");
        let probe = file.file_stem().and_then(|s| s.to_str()).expect("a name");
        assert!(
            case.name.starts_with(&c.target) && case.name.ends_with(probe) && case.name.contains(&c.date),
            "named after the target, the date and the probe: {}",
            case.name
        );
    }
    let md = std::fs::read_to_string(out.join("calibration.md")).expect("calibration.md");
    assert!(md.contains("`digest-tags`") && md.contains("entry-per-tag"), "{md}");
}

/// The case files a calibration wrote.
fn case_files(out: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(out.join("cases"))
        .expect("cases/ written")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

async fn replay(url: &str, files: Vec<PathBuf>, out: PathBuf) -> ecr_conformance::report::Report {
    let options = RunOptions {
        target: TargetOptions {
            endpoint: Some(url.to_string()),
            ..TargetOptions::default()
        },
        cases: 0,
        case_paths: files,
        cases_dir: None,
        out,
        ..RunOptions::default()
    };
    session::run_with_env(options, &env())
        .await
        .expect("the replay runs")
        .report
}

#[tokio::test]
async fn the_case_files_replay_green_against_the_server_they_were_recorded_from() {
    let configurations = [
        (Variant::Reference, Alternatives::NONE),
        (
            Variant::Reference,
            Alternatives::only(Alternative::DigestOneEntry)
                .with(Alternative::DupEach)
                .with(Alternative::NoTranslation)
                .with(Alternative::NoMediaTypeField)
                .with(Alternative::LookupFirst),
        ),
    ];
    for (variant, alternatives) in configurations {
        let server = serve(variant, alternatives).await;
        let tmp = scratch();
        let out = tmp.path().join("out");
        let result = calibrate::calibrate(options(&server.url(), &out, 0), &env())
            .await
            .expect("the calibration runs");
        assert_eq!(result.exit_code(), Exit::Pass.code());
        let files = case_files(&out);
        assert_eq!(files.len(), 17, "one case file per probe");
        let report = replay(&server.url(), files, tmp.path().join("replay")).await;
        assert_eq!(report.verdict, Verdict::Pass, "{alternatives}: {}", report.summary());
        assert_eq!(report.counts.cases, 17, "{alternatives}: every case replayed");
        assert!(report.skipped_cases.is_empty(), "{:?}", report.skipped_cases);
        if alternatives.is_empty() {
            assert_eq!(report.counts.deviations, 0, "{}", report.summary());
        } else {
            assert!(report.counts.advisory_deviations > 0, "the alternatives are noted");
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn the_recorded_case_machinery_checks_and_replays_a_calibrations_case_files() {
    let server = serve(Variant::Reference, Alternatives::NONE).await;
    let tmp = scratch();
    let out = tmp.path().join("out");
    let result = calibrate::calibrate(options(&server.url(), &out, 0), &env())
        .await
        .expect("the calibration runs");
    let c = &result.calibration;
    // A fixture folder laid out as the repository's: cases/ with a recorded capture under
    // cases/recorded/<target>-<date>/, named in its README.
    let cases = tmp.path().join("fixture").join("cases");
    let folder = format!("{}-{}", c.target, c.date);
    let capture = cases.join("recorded").join(&folder);
    std::fs::create_dir_all(&capture).expect("folder");
    for file in case_files(&out) {
        std::fs::copy(&file, capture.join(file.file_name().expect("a name"))).expect("copy");
    }
    std::fs::write(
        cases.join("recorded").join("README.md"),
        format!(
            "# cases/recorded/\n\n## Captures\n\n| folder | registry | region | date (UTC) | recorded by |\n|---|---|---|---|---|\n| `{folder}` | the embedded server | {} | {} | tests/calibrate.rs |\n",
            c.region, c.date
        ),
    )
    .expect("README");

    // cargo test's check: every case agrees with the model...
    assert_eq!(CaseFile::check_dir(&cases), Ok(17));
    // ... and cases/recorded/ takes real captures only: these come from the embedded server.
    let problems = ecr_conformance::cases::recorded_problems(&cases.join("recorded"));
    assert_eq!(problems.len(), 17, "{problems:#?}");
    assert!(
        problems
            .iter()
            .all(|p| p.contains("not a calibration of a real registry")),
        "{problems:#?}"
    );
    std::fs::write(
        cases.join("recorded").join("README.md"),
        "# cases/recorded/\n\n## Captures\n\n| folder | registry | region | date (UTC) | recorded by |\n|---|---|---|---|---|\n",
    )
    .expect("README");
    let unnamed = ecr_conformance::cases::recorded_problems(&cases.join("recorded"));
    assert!(
        unnamed.iter().any(|p| p.contains("has no row in the captures table")),
        "{unnamed:#?}"
    );

    // Every run replays them: the default case folder, subfolders included, as trials of their own.
    let options = RunOptions {
        target: TargetOptions {
            endpoint: Some(server.url()),
            ..TargetOptions::default()
        },
        seed: Some(2),
        cases: 0,
        cases_dir: Some(cases.clone()),
        out: tmp.path().join("run"),
        ..RunOptions::default()
    };
    let report = session::run_with_env(options, &env()).await.expect("the run").report;
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.summary());
    assert_eq!(report.counts.cases, 17);
    assert_eq!(report.counts.deviations, 0);
    let names = CaseFile::load_dir(&cases).expect("loads");
    assert!(names.iter().all(|(_, case)| case.name.starts_with(&folder)));
    // A recorded case the model does not predict fails the check, naming its file.
    let (path, mut case) = names.into_iter().next().expect("a case");
    case.expected.status = 418;
    std::fs::write(&path, case.to_json()).expect("write");
    let err = CaseFile::check_dir(&cases).expect_err("the model disagrees");
    assert!(err.contains(&path.display().to_string()), "{err}");
    server.stop().await;
}

/// One test per alternative that a server configuration embodies: (question, alternative,
/// variant, alternatives switched on).
macro_rules! embodied {
    ($($name:ident: $question:literal => $answer:literal by $variant:expr, [$($alt:expr),*];)*) => {$(
        #[tokio::test]
        async fn $name() {
            #[allow(unused_mut)]
            let mut alternatives = Alternatives::NONE;
            $(alternatives = alternatives.with($alt);)*
            let (_tmp, c) = calibrated($variant, alternatives, 0).await;
            let q = question(&c, $question);
            assert_eq!(q.answer, Some($answer), "{q:?}");
            assert_ne!(q.model_answer, Some($answer), "the model's first choice is another");
            assert!(q.model.is_some(), "the model judged the recorded answer: {q:?}");
        }
    )*};
}

embodied! {
    bad_digest_channel_other_by_malformed_digest_not_found:
        "bad-digest-channel" => "other" by Variant::MalformedDigestNotFound, [];
    bad_digest_anchoring_unanchored_by_malformed_digest_not_found:
        "bad-digest-anchoring" => "unanchored" by Variant::MalformedDigestNotFound, [];
    new_name_pattern_refused_by_new_name_refused:
        "new-name-pattern" => "refused" by Variant::Reference, [Alternative::NewNameRefused];
    new_name_pattern_other_by_errors_without_type:
        "new-name-pattern" => "other" by Variant::ErrorsWithoutType, [];
    digest_tags_one_entry_by_digest_one_entry:
        "digest-tags" => "one-entry" by Variant::Reference, [Alternative::DigestOneEntry];
    digest_tags_one_entry_by_digest_untagged_entry:
        "digest-tags" => "one-entry" by Variant::Reference, [Alternative::DigestUntaggedEntry];
    digest_tags_one_entry_by_digest_answered_once:
        "digest-tags" => "one-entry" by Variant::DigestAnsweredOnce, [];
    same_image_two_tags_one_entry_by_same_image_once:
        "same-image-two-tags" => "one-entry" by Variant::Reference, [Alternative::SameImageOnce];
    same_image_two_tags_one_entry_by_same_digest_answered_once:
        "same-image-two-tags" => "one-entry" by Variant::SameDigestAnsweredOnce, [];
    repeated_id_each_time_by_dup_each:
        "repeated-id" => "each-time" by Variant::Reference, [Alternative::DupEach];
    repeated_id_each_time_by_duplicates_answered_twice:
        "repeated-id" => "each-time" by Variant::DuplicatesAnsweredTwice, [];
    translate_v2_to_oci_stored_by_no_translation:
        "translate-v2-to-oci" => "stored" by Variant::Reference, [Alternative::NoTranslation];
    translate_v2_to_oci_other_by_media_type_always_docker_v2:
        "translate-v2-to-oci" => "other" by Variant::MediaTypeAlwaysDockerV2, [];
    translate_oci_to_v2_stored_by_no_translation:
        "translate-oci-to-v2" => "stored" by Variant::Reference, [Alternative::NoTranslation];
    translate_oci_to_v2_other_by_media_type_always_docker_v2_untranslated:
        "translate-oci-to-v2" => "other" by Variant::MediaTypeAlwaysDockerV2, [Alternative::NoTranslation];
    translate_v2_to_v1_stored_by_no_translation:
        "translate-v2-to-v1" => "stored" by Variant::Reference, [Alternative::NoTranslation];
    translate_v2_to_v1_other_by_media_type_always_docker_v2:
        "translate-v2-to-v1" => "other" by Variant::MediaTypeAlwaysDockerV2, [];
    list_without_list_types_other_by_media_type_always_docker_v2:
        "list-without-list-types" => "other" by Variant::MediaTypeAlwaysDockerV2, [];
    empty_digest_other_by_malformed_digest_not_found:
        "empty-digest" => "other" by Variant::MalformedDigestNotFound, [];
    empty_tag_other_by_errors_without_type:
        "empty-tag" => "other" by Variant::ErrorsWithoutType, [];
    media_type_field_absent_by_no_media_type_field:
        "media-type-field" => "absent" by Variant::Reference, [Alternative::NoMediaTypeField];
    both_lists_empty_omitted_by_failures_omitted_when_empty:
        "both-lists" => "empty-omitted" by Variant::Reference, [Alternative::FailuresOmittedWhenEmpty];
    foreign_registry_repository_not_found_by_foreign_not_found:
        "foreign-registry" => "RepositoryNotFoundException" by Variant::Reference, [Alternative::ForeignNotFound];
    foreign_registry_other_by_errors_without_type:
        "foreign-registry" => "other" by Variant::ErrorsWithoutType, [];
    validation_order_lookup_first_by_lookup_first:
        "validation-order" => "lookup-first" by Variant::Reference, [Alternative::LookupFirst];
    validation_order_other_by_errors_without_type:
        "validation-order" => "other" by Variant::ErrorsWithoutType, [];
}

#[tokio::test]
async fn a_broken_variant_gives_model_doubts_naming_its_rule_with_an_example() {
    let (tmp, c) = calibrated(Variant::TagCaseInsensitive, Alternatives::NONE, 200).await;
    let doubt = c
        .doubts
        .iter()
        .find(|d| d.rule == "I-TAG-CASE")
        .unwrap_or_else(|| panic!("no I-TAG-CASE doubt: {:?}", c.doubts));
    assert!(doubt.count > 0);
    let example = doubt.example.as_ref().expect("a minimal example");
    assert!(example["request"]["imageIds"].is_array(), "{example}");
    let said = doubt.endpoint_answer.as_ref().expect("what the endpoint said");
    assert_eq!(said["status"], 200, "{said}");
    let file = tmp
        .path()
        .join("out")
        .join(doubt.case_file.as_ref().expect("a case file"));
    CaseFile::load(&file).expect("the doubt's example is a replayable case file");
    let md = std::fs::read_to_string(tmp.path().join("out").join("calibration.md")).expect("calibration.md");
    assert!(md.contains("I-TAG-CASE") && md.contains("The endpoint said"), "{md}");
}

#[tokio::test]
async fn a_probe_that_only_gets_server_errors_is_a_fault_and_the_calibration_incomplete() {
    let server = serve(Variant::ValidationIs500, Alternatives::NONE).await;
    let tmp = scratch();
    let mut o = options(&server.url(), &tmp.path().join("out"), 0);
    o.target.max_attempts = Some(2);
    let result = calibrate::calibrate(o, &env()).await.expect("the calibration runs");
    assert_eq!(
        result.exit_code(),
        Exit::Indeterminate.code(),
        "{}",
        calibrate::summary(&result.calibration)
    );
    let empty_tag = question(&result.calibration, "empty-tag");
    assert_eq!(empty_tag.answer, None);
    assert!(
        empty_tag.fault.as_deref().is_some_and(|f| f.contains("HTTP 500")),
        "{empty_tag:?}"
    );
    assert_eq!(
        question(&result.calibration, "digest-tags").answer,
        Some("entry-per-tag"),
        "the other questions are still answered"
    );
    assert!(repositories(&server.url()).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_stopped_calibration_asks_nothing_creates_nothing_and_is_incomplete() {
    let server = serve(Variant::Reference, Alternatives::NONE).await;
    let tmp = scratch();
    let control = RunControl::new(None);
    control.request_stop("interrupted by SIGINT");
    let mut o = options(&server.url(), &tmp.path().join("out"), 100);
    o.control = Some(control);
    let result = calibrate::calibrate(o, &env()).await.expect("the calibration runs");
    assert_eq!(result.exit_code(), Exit::Indeterminate.code());
    let c = &result.calibration;
    assert_eq!(c.stopped.as_deref(), Some("interrupted by SIGINT"));
    assert!(c.questions.iter().all(|q| q.answer.is_none() && q.fault.is_some()));
    assert!(c.generated_run.is_none());
    assert_eq!(
        server.operations().get("CreateRepository"),
        None,
        "{:?}",
        server.operations()
    );
    assert!(tmp.path().join("out").join("calibration.json").exists());
    server.stop().await;
}

#[tokio::test]
async fn an_endpoints_password_and_the_account_id_are_never_written() {
    let server = serve(Variant::Reference, Alternatives::NONE).await;
    let tmp = scratch();
    let out = tmp.path().join("out");
    let url = server
        .url()
        .replace("http://", "http://someone:pa55word-not-for-files@");
    let result = calibrate::calibrate(options(&url, &out, 50), &env())
        .await
        .expect("the calibration runs");
    assert_eq!(result.exit_code(), Exit::Pass.code());
    assert!(!result.calibration.endpoint.contains("pa55word"));
    let mut texts = vec![std::fs::read_to_string(out.join("calibration.json")).expect("json")];
    texts.push(std::fs::read_to_string(out.join("calibration.md")).expect("md"));
    for f in case_files(&out) {
        texts.push(std::fs::read_to_string(f).expect("case"));
    }
    for t in &texts {
        assert!(!t.contains("pa55word") && !t.contains("someone"), "{t}");
        assert!(
            !t.contains(&ecr_conformance::run::run_prefix(1)),
            "the calibration's prefixes are not in what it writes"
        );
    }
    server.stop().await;
}

// ---- the command line ----

fn code(args: &[&str]) -> (Option<Exit>, String) {
    let o = common::bin_inheriting_ci()
        .args(args)
        .output()
        .expect("the binary runs");
    (common::code(&o), common::stderr(&o))
}

#[test]
fn the_command_calibrates_the_embedded_server_and_exits_0() {
    let tmp = scratch();
    let out = tmp.path().join("out");
    let (status, stderr) = code(&[
        "calibrate",
        "--cases",
        "0",
        "--quiet",
        "--out",
        out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(status, Some(Exit::Pass), "{stderr}");
    assert!(
        stderr.contains("digest-tags") && stderr.contains("entry-per-tag"),
        "{stderr}"
    );
    assert!(out.join("calibration.json").exists() && out.join("calibration.md").exists());
    assert_eq!(case_files(&out).len(), 17);
}

#[test]
fn an_unreachable_endpoint_exits_2_with_what_it_found() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let tmp = scratch();
    let out = tmp.path().join("out");
    let endpoint = format!("http://127.0.0.1:{closed}");
    let (status, stderr) = code(&[
        "calibrate",
        "--endpoint",
        &endpoint,
        "--max-attempts",
        "1",
        "--timeout",
        "2",
        "--out",
        out.to_str().expect("UTF-8"),
    ]);
    assert_eq!(status, Some(Exit::Indeterminate), "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("calibration.json")).expect("written")).expect("JSON");
    assert_eq!(json["complete"], false);
    assert!(
        json["stopped"]
            .as_str()
            .is_some_and(|s| s.contains("stopped answering")),
        "{json}"
    );
}

#[test]
fn usage_errors_exit_3_before_anything_is_sent() {
    let tmp = scratch();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let out = tmp.path().join("out");
    let out = out.to_str().expect("UTF-8");
    for args in [
        vec!["calibrate", "--out", out, "--cases", "many"],
        vec!["calibrate", "--out", out, "--variant", "no-such-variant"],
        vec!["calibrate", "--out", out, "--alternatives", "no-such-alternative"],
        vec!["calibrate", "--out", out, "--endpoint", "not a url"],
        vec!["calibrate", "--out", out, "--timeout", "0"],
        vec!["calibrate", "--out", file.to_str().expect("UTF-8")],
    ] {
        let (status, stderr) = code(&args);
        assert_eq!(status, Some(Exit::Usage), "{args:?}: {stderr}");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn the_readme_states_the_question_contract() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    let section = readme
        .split("## Calibrating the model against real ECR")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README's calibration section");
    let rows: Vec<(String, Vec<String>)> = section
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            let id = cells[0].trim_matches('`').to_string();
            let alternatives = cells[1].split(", ").map(|a| a.trim_matches('`').to_string()).collect();
            (id, alternatives)
        })
        .collect();
    let contract: Vec<(String, Vec<String>)> = calibrate::questions::QUESTIONS
        .iter()
        .map(|q| (q.id.to_string(), q.alternatives.iter().map(|a| a.to_string()).collect()))
        .collect();
    assert_eq!(rows, contract);
}

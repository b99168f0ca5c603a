//! The command line's contract: exit codes, the report file, the seed, one-line errors.

mod common;

use common::*;
use ecr_conformance::exit::Exit;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn a_run_against_the_embedded_server_passes_and_writes_the_report() {
    let tmp = out_dir("pass");
    let dir = tmp.path();
    let o = run(&["run", "--seed", "11", "--cases", "60", "--out", path(dir)]);
    assert_eq!(code(&o), Some(Exit::Pass), "{}", String::from_utf8_lossy(&o.stderr));
    let r = report(dir);
    assert_eq!(r["verdict"], "pass");
    assert_eq!(r["seed"], 11);
    assert_eq!(r["target"], "embedded");
    assert_eq!(r["region"], "us-east-1");
    assert!(r["counts"]["cases"].as_u64().expect("cases") >= 60);
    assert!(r["properties"]["model"]["checked"].as_u64().expect("model") >= 60);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("seed 11"),
        "the seed is printed"
    );
}

#[test]
fn a_gate_deviation_exits_1_and_is_reported_with_rule_request_and_answers() {
    let tmp = out_dir("fail");
    let dir = tmp.path();
    let o = run(&[
        "run",
        "--seed",
        "5",
        "--cases",
        "100",
        "--no-case-files",
        "--variant",
        "tag-case-insensitive",
        "--out",
        path(dir),
    ]);
    assert_eq!(code(&o), Some(Exit::Fail), "{}", String::from_utf8_lossy(&o.stderr));
    let r = report(dir);
    assert_eq!(r["verdict"], "fail");
    let d = r["deviations"]
        .as_array()
        .expect("deviations")
        .iter()
        .find(|d| d["rule"] == "I-TAG-CASE")
        .expect("an I-TAG-CASE deviation");
    assert_eq!(d["level"], "gate");
    assert!(d["request"]["imageIds"].is_array());
    assert!(!d["expected"].is_null() && !d["actual"].is_null());
}

#[test]
fn advisory_deviations_fail_only_under_strict() {
    let tmp = out_dir("advisory");
    let dir = tmp.path();
    let d = path(dir);
    let args = [
        "run",
        "--seed",
        "5",
        "--cases",
        "100",
        "--no-case-files",
        "--variant",
        "digest-answered-once",
        "--out",
        d,
    ];
    assert_eq!(code(&run(&args)), Some(Exit::Pass));
    assert!(report(dir)["counts"]["advisoryDeviations"].as_u64().expect("count") > 0);
    let mut strict = args.to_vec();
    strict.push("--strict");
    assert_eq!(code(&run(&strict)), Some(Exit::Fail));
}

#[test]
fn the_same_seed_sends_the_same_requests() {
    let (a, b) = (out_dir("seed-a"), out_dir("seed-b"));
    for d in [&a, &b] {
        let o = run(&[
            "run",
            "--seed",
            "9",
            "--cases",
            "100",
            "--no-case-files",
            "--variant",
            "wrong-registry-id",
            "--out",
            path(d.path()),
        ]);
        assert_eq!(code(&o), Some(Exit::Fail));
    }
    let requests = |d: &tempfile::TempDir| -> Vec<String> {
        report(d.path())["deviations"]
            .as_array()
            .expect("list")
            .iter()
            .map(|x| x["request"].to_string())
            .collect()
    };
    assert_eq!(requests(&a), requests(&b));
}

#[test]
fn an_endpoint_that_is_not_listening_exits_2_within_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let tmp = out_dir("down");
    let dir = tmp.path();
    let started = Instant::now();
    let endpoint = format!("http://127.0.0.1:{port}");
    let o = run(&[
        "run",
        "--endpoint",
        &endpoint,
        "--seed",
        "1",
        "--cases",
        "20",
        "--timeout",
        "2",
        "--out",
        path(dir),
    ]);
    assert_eq!(
        code(&o),
        Some(Exit::Indeterminate),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("could not connect"), "{stderr}");
    assert_eq!(report(dir)["verdict"], "indeterminate");
}

#[test]
fn usage_errors_exit_3_with_one_line() {
    for args in [
        vec!["run", "--no-such-flag"],
        vec!["run", "--cases", "many"],
        vec!["run", "--endpoint", "not a url"],
        vec!["run", "--endpoint", "http://registry.example.com"],
        vec!["run", "--variant", "nope"],
        vec!["run", "--timeout", "0"],
        vec!["run", "--cases-dir", "Cargo.toml"],
        vec!["frobnicate"],
    ] {
        let o = run(&args);
        assert_eq!(
            code(&o),
            Some(Exit::Usage),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"), "{args:?}");
    }
}

#[test]
fn an_unwritable_report_folder_exits_3() {
    let o = run(&[
        "run",
        "--seed",
        "1",
        "--cases",
        "5",
        "--no-case-files",
        "--out",
        "Cargo.toml/reports",
    ]);
    assert_eq!(code(&o), Some(Exit::Usage), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write the report"));
}

#[test]
fn a_report_folder_that_is_a_file_exits_3_before_any_request() {
    let tmp = out_dir("out-file");
    let file = tmp.path().join("not-a-folder");
    std::fs::write(&file, "mine").expect("write");
    // An endpoint nothing listens on: a run that sent a request would report it unreachable.
    let endpoint = format!("http://127.0.0.1:{}", dead_port());
    let o = run(&[
        "run",
        "--endpoint",
        &endpoint,
        "--seed",
        "1",
        "--cases",
        "20",
        "--timeout",
        "2",
        "--max-attempts",
        "1",
        "--out",
        path(&file),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(Exit::Usage), "{err}");
    assert!(
        err.contains(path(&file)) && err.contains("is a file, not a folder"),
        "{err}"
    );
    assert!(!err.contains("could not connect"), "a request was sent: {err}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "mine");
}

#[test]
fn a_report_that_cannot_be_written_at_the_end_still_prints_the_verdict_and_exits_3() {
    let tmp = out_dir("late-write");
    // The folder is writable (the check before the run passes), but report.json cannot replace
    // a folder of that name.
    std::fs::create_dir_all(tmp.path().join("report.json").join("inside")).expect("dir");
    let o = run(&[
        "run",
        "--seed",
        "1",
        "--cases",
        "20",
        "--no-case-files",
        "--no-snapshots",
        "--out",
        path(tmp.path()),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(Exit::Usage), "{err}");
    assert!(err.contains("verdict: pass"), "the verdict is printed: {err}");
    assert!(err.contains("cannot write the report into"), "{err}");
}

#[test]
fn a_case_folder_named_on_the_command_line_must_exist() {
    let tmp = out_dir("cases-dir");
    let missing = tmp.path().join("no-such-cases");
    let out = tmp.path().join("out");
    let o = run(&[
        "run",
        "--cases-dir",
        path(&missing),
        "--cases",
        "5",
        "--out",
        path(&out),
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(Exit::Usage), "{err}");
    assert!(
        err.contains("--cases-dir") && err.contains(path(&missing)) && err.contains("no such folder"),
        "{err}"
    );
    assert!(!out.exists(), "nothing ran");
    let file = tmp.path().join("cases.json");
    std::fs::write(&file, "{}").expect("write");
    let o = run(&["run", "--cases-dir", path(&file), "--cases", "5", "--out", path(&out)]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(Exit::Usage), "{err}");
    assert!(err.contains(path(&file)) && err.contains("not a folder"), "{err}");
    // The default folder, `cases/`, may be absent: here the working directory has none.
    let o = bin()
        .current_dir(tmp.path())
        .args(["run", "--seed", "1", "--cases", "20", "--no-snapshots", "--out", "out"])
        .output()
        .expect("runs");
    assert_eq!(code(&o), Some(Exit::Pass), "{}", stderr(&o));
    assert_eq!(report(&out)["verdict"], "pass");
}

#[test]
fn a_target_that_is_not_one_plain_name_is_a_usage_error_and_writes_nothing() {
    let tmp = out_dir("target-name");
    let snaps = tmp.path().join("snapshots");
    let out = tmp.path().join("out");
    for name in ["../x", "a/b", "a\\b", "/abs", ".", "..", ""] {
        // Outside CI, so that a run that went ahead would write pending snapshots under
        // `<snapshots>/<target>/`: `../x` would land beside the snapshot root.
        let o = bin()
            .env_remove("CI")
            .args([
                "run",
                "--seed",
                "4",
                "--cases",
                "100",
                "--no-case-files",
                "--variant",
                "wrong-registry-id",
                "--target",
                name,
                "--snapshots",
                path(&snaps),
                "--out",
                path(&out),
            ])
            .output()
            .expect("runs");
        let err = stderr(&o);
        assert_eq!(code(&o), Some(Exit::Usage), "{name:?}: {err}");
        assert!(
            err.contains("--target") && err.contains("not a plain name"),
            "{name:?}: {err}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("read")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "written: {left:?}");
}

#[test]
fn replay_writes_into_its_own_folder_and_leaves_the_runs_reports_alone() {
    let tmp = out_dir("replay");
    let cwd = tmp.path();
    let in_cwd = |args: &[&str]| bin().current_dir(cwd).args(args).output().expect("runs");
    let first = in_cwd(&[
        "run",
        "--seed",
        "5",
        "--cases",
        "100",
        "--no-case-files",
        "--no-snapshots",
        "--variant",
        "tag-case-insensitive",
    ]);
    assert_eq!(code(&first), Some(Exit::Fail), "{}", stderr(&first));
    let reports = cwd.join("reports");
    let case = report(&reports)["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .find_map(|c| c["caseFile"].as_str().map(str::to_string))
        .expect("a class with a case file");
    let stem = Path::new(&case)
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a name")
        .to_string();
    let files = ["report.json", "summary.md", "report.html", "junit.xml"];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(reports.join(f)).expect("written by the run"))
        .collect();
    let case_path = format!("reports/{case}");
    let replay = in_cwd(&["replay", &case_path, "--variant", "tag-case-insensitive"]);
    assert_eq!(code(&replay), Some(Exit::Fail), "{}", stderr(&replay));
    for (f, old) in files.iter().zip(&before) {
        assert!(
            &std::fs::read(reports.join(f)).expect("still there") == old,
            "replay changed the run's {f}"
        );
    }
    let own = reports.join("replay").join(&stem);
    let replayed = report(&own);
    assert_eq!(replayed["counts"]["cases"], 1, "{replayed}");
    assert_eq!(replayed["verdict"], "fail");
    // An explicit --out is used as it is.
    let chosen = cwd.join("chosen");
    let o = in_cwd(&["replay", &case_path, "--out", path(&chosen)]);
    assert_eq!(code(&o), Some(Exit::Pass), "{}", stderr(&o));
    assert_eq!(report(&chosen)["verdict"], "pass");
    assert!(!chosen.join("replay").exists());
}

#[test]
fn rules_prints_the_catalogue_as_text_markdown_and_json() {
    let ids: Vec<&str> = ecr_conformance::rules::RULES.iter().map(|r| r.id).collect();
    let text = run(&["rules"]);
    assert_eq!(code(&text), Some(Exit::Pass), "{}", stderr(&text));
    let t = String::from_utf8_lossy(&text.stdout).into_owned();
    let header = t.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("id") && header.contains("level") && header.contains("source"),
        "{t}"
    );
    assert_eq!(t.lines().count(), ids.len() + 1, "{t}");
    for id in &ids {
        assert!(t.lines().any(|l| l.starts_with(&format!("{id} "))), "{id} missing: {t}");
    }

    let md = run(&["rules", "--format", "markdown"]);
    assert_eq!(code(&md), Some(Exit::Pass));
    let m = String::from_utf8_lossy(&md.stdout).into_owned();
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("| id | level | text level | covers | source | summary |")
    );
    assert_eq!(lines.get(1).copied(), Some("|---|---|---|---|---|---|"));
    // A gate rule says what its evidence covers (rev 3): M-BY-DIGEST only the observed case.
    assert!(
        m.contains("| `M-BY-DIGEST` | gate | gate | digest / docker-v2 / schema1-only |"),
        "{m}"
    );
    assert!(m.contains("| `I-TAG-CASE` | gate | advisory |"), "{m}");

    let json = run(&["rules", "--format", "json"]);
    assert_eq!(code(&json), Some(Exit::Pass));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("rules --format json is JSON");
    let list = v.as_array().expect("an array");
    let got: Vec<&str> = list.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(got, ids);
    for r in list {
        for field in ["level", "textLevel"] {
            assert!(r[field] == "gate" || r[field] == "advisory", "{field}: {r}");
        }
        for field in ["covers", "source", "summary"] {
            assert!(r[field].as_str().is_some_and(|s| !s.is_empty()), "{field}: {r}");
        }
    }
}

#[test]
fn rules_with_an_unknown_format_is_a_usage_error() {
    let o = run(&["rules", "--format", "yaml"]);
    let err = stderr(&o);
    // Bad flags exit 3 like every other usage error (clap's own 2 would read as "indeterminate").
    assert_eq!(code(&o), Some(Exit::Usage), "{err}");
    assert!(err.contains("yaml") && err.contains("markdown"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn nothing_selected_exits_4() {
    let o = run(&["run", "--cases", "0", "--no-case-files"]);
    assert_eq!(
        code(&o),
        Some(Exit::NothingSelected),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn help_and_version_exit_0() {
    assert_eq!(code(&run(&["--help"])), Some(Exit::Pass));
    assert_eq!(code(&run(&["--version"])), Some(Exit::Pass));
    let v = run(&["variants"]);
    assert_eq!(code(&v), Some(Exit::Pass));
    assert!(String::from_utf8_lossy(&v.stdout).contains("tag-case-insensitive"));
}

#[test]
fn alternatives_are_listed_checked_and_named_in_the_target() {
    let v = run(&["variants"]);
    let listing = String::from_utf8_lossy(&v.stdout);
    assert!(
        listing.contains("advisory-mix") && listing.contains("same-image-once"),
        "{listing}"
    );
    let bad = run(&["run", "--alternatives", "dup-each,nonsense", "--cases", "1"]);
    assert_eq!(code(&bad), Some(Exit::Usage));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown alternative"));
    let tmp = out_dir("alternatives");
    let o = run(&[
        "run",
        "--alternatives",
        "dup-each,json-content-type",
        "--cases",
        "100",
        "--no-case-files",
        "--no-snapshots",
        "--shrink-seconds",
        "0",
        "--out",
        path(tmp.path()),
    ]);
    let r = report(tmp.path());
    assert_eq!(code(&o), Some(Exit::Pass), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(r["target"], "embedded+dup-each+json-content-type");
    assert!(String::from_utf8_lossy(&o.stderr).contains("alternatives dup-each,json-content-type"));
}

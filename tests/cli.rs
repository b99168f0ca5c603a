//! The command line's contract: exit codes, the report file, the seed, one-line errors.

use ecr_conformance::exit::Exit;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecr-conformance"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // CI mode: nothing is written under the checkout's snapshots/ (pending ones go to --out).
    c.env("CI", "1");
    // The tests decide the target; a developer's AWS settings must not.
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ECR",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        c.env_remove(var);
    }
    c
}

/// A fresh folder, removed when the value is dropped (a failing test included).
fn out_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ecrc-cli-{name}-"))
        .tempdir()
        .expect("a temporary folder")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// The process's exit, as the contract names it (None: a code outside it, or no code).
fn code(o: &Output) -> Option<Exit> {
    Exit::from_code(o.status.code().expect("exited"))
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A loopback port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
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
        Some("| id | level | text level | source | summary |")
    );
    assert_eq!(lines.get(1).copied(), Some("|---|---|---|---|---|"));
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
        for field in ["source", "summary"] {
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

#[cfg(unix)]
#[test]
fn sigint_during_a_run_deletes_the_runs_repositories_and_exits_2() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    // A separate server process, so that what is left on it can be read after the run is gone.
    let mut server = bin()
        .args(["serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("url");
    let url = line.trim().to_string();
    let tmp = out_dir("sigint");
    let dir = tmp.path();
    let mut child = bin()
        .args([
            "run",
            "--endpoint",
            &url,
            "--seed",
            "8",
            "--cases",
            "2000",
            "--rate-limit",
            "100/s",
            "--no-case-files",
        ])
        .args(["--out", path(dir)])
        // Its trials' block (all without a verdict) would read as a failure in the test's output.
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    // Wait until the run has seeded a world, then interrupt it.
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    for l in stderr.lines().map_while(Result::ok) {
        seen.push(l.clone());
        if l.starts_with("world-1:") {
            break;
        }
    }
    send(child.id(), rustix::process::Signal::INT);
    let status = child.wait().expect("exit");
    assert_eq!(
        status.code().and_then(Exit::from_code),
        Some(Exit::Indeterminate),
        "{seen:?}"
    );
    let r = report(dir);
    assert!(r["aborted"].as_str().is_some_and(|a| a.contains("SIGINT")), "{r}");
    assert!(r["leftovers"].as_array().is_some_and(|l| l.is_empty()));
    // Nothing is left on the server: sweep finds nothing to delete.
    let sweep = bin().args(["sweep", "--endpoint", &url]).output().expect("sweep");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        code(&sweep),
        Some(Exit::Pass),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    assert!(
        String::from_utf8_lossy(&sweep.stderr).contains("0 deleted"),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
}

#[test]
fn read_only_needs_repositories_and_an_endpoint() {
    assert_eq!(code(&run(&["run", "--read-only"])), Some(Exit::Usage));
    assert_eq!(
        code(&run(&["run", "--read-only", "--repository", "prod/web"])),
        Some(Exit::Usage)
    );
    assert_eq!(code(&run(&["run", "--rate-limit", "fast"])), Some(Exit::Usage));
    assert_eq!(code(&run(&["sweep"])), Some(Exit::Usage));
    assert_eq!(
        code(&run(&[
            "sweep",
            "--endpoint",
            "http://127.0.0.1:9",
            "--prefix",
            "prod/"
        ])),
        Some(Exit::Usage)
    );
}

#[test]
fn spawn_starts_the_implementation_runs_against_it_and_stops_it() {
    let tmp = out_dir("spawn");
    let dir = tmp.path();
    let serve = format!(
        "{} serve --port {{port}} --variant wrong-registry-id",
        env!("CARGO_BIN_EXE_ecr-conformance")
    );
    let args = [
        "run",
        "--spawn",
        &serve,
        "--seed",
        "2",
        "--cases",
        "60",
        "--no-case-files",
        "--no-snapshots",
    ];
    let o = bin().args(args).args(["--out", path(dir)]).output().expect("runs");
    // A gate deviation of the spawned (broken) server: exit 1, and the report names it.
    assert_eq!(code(&o), Some(Exit::Fail), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("started"));
    let r = report(dir);
    assert!(
        r["endpoint"]
            .as_str()
            .is_some_and(|e| e.starts_with("http://127.0.0.1:")),
        "{r}"
    );
    assert!(
        r["classes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["rule"] == "S-REGISTRY-ID")),
        "{}",
        r["classes"]
    );
    // The spawned server is gone: its port no longer answers.
    let port: u16 = r["endpoint"]
        .as_str()
        .and_then(|e| e.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the spawned server still listens"
    );
}

#[test]
fn a_spawn_that_cannot_start_exits_3_with_its_output() {
    let o = run(&[
        "run",
        "--spawn",
        "sh -c 'echo no such peer; exit 9'",
        "--cases",
        "5",
        "--no-case-files",
    ]);
    assert_eq!(code(&o), Some(Exit::Usage), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such peer"));
}

#[test]
fn review_accepts_pending_snapshots_and_the_next_run_passes() {
    let snaps = out_dir("review-snaps");
    let out = out_dir("review-out");
    let s = path(snaps.path());
    let o = path(out.path());
    let args = [
        "run",
        "--seed",
        "4",
        "--cases",
        "100",
        "--no-case-files",
        "--variant",
        "wrong-registry-id",
    ];
    // Outside CI, pending snapshots go under the snapshot root.
    let first = bin()
        .env_remove("CI")
        .args(args)
        .args(["--snapshots", s, "--out", o])
        .output()
        .expect("runs");
    assert_eq!(code(&first), Some(Exit::Fail));
    let target = snaps.path().join("embedded-wrong-registry-id");
    // Each pending snapshot with its example's case file, which follows it.
    let pending = std::fs::read_dir(&target)
        .expect("pending")
        .filter_map(Result::ok)
        .filter(|e| e.path().to_string_lossy().ends_with(".snap.new"))
        .count();
    assert!(pending > 0);
    let review = run(&["review", "--snapshots", s, "--accept"]);
    assert_eq!(
        code(&review),
        Some(Exit::Pass),
        "{}",
        String::from_utf8_lossy(&review.stderr)
    );
    let accepted = std::fs::read_dir(&target)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
        .count();
    assert_eq!(accepted, pending);
    let cases = std::fs::read_dir(&target)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().to_string_lossy().ends_with(".case.json"))
        .count();
    assert_eq!(cases, pending, "every accepted snapshot keeps its case file");
    let second = bin()
        .args(args)
        .args(["--snapshots", s, "--out", o])
        .output()
        .expect("runs");
    assert_eq!(
        code(&second),
        Some(Exit::Pass),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
}

#[test]
fn trials_are_listed_in_the_harness_formats() {
    let terse = run(&["run", "--list", "--format", "terse"]);
    assert_eq!(code(&terse), Some(Exit::Pass));
    let text = String::from_utf8_lossy(&terse.stdout);
    assert!(text.lines().any(|l| l == "world::4: test"), "{text}");
    assert!(text.lines().any(|l| l == "case::mixed-failures: test"), "{text}");
    // A filter that selects nothing is "nothing selected".
    assert_eq!(
        code(&run(&["run", "--exact", "property::nope"])),
        Some(Exit::NothingSelected)
    );
}

#[test]
fn the_matrix_check_fails_on_a_stale_readme_and_errors_on_a_bad_report() {
    let tmp = out_dir("matrix");
    let dir = tmp.path();
    let o = path(dir);
    assert_eq!(
        code(&run(&[
            "run",
            "--seed",
            "1",
            "--cases",
            "20",
            "--no-case-files",
            "--no-snapshots",
            "--out",
            o
        ])),
        Some(Exit::Pass)
    );
    let report = format!("{o}/report.json=embedded");
    let readme = dir.join("README.md");
    std::fs::write(&readme, "# x\n<!-- matrix:begin -->\nstale\n<!-- matrix:end -->\n").expect("write");
    let r = path(&readme);
    assert_eq!(
        code(&run(&["matrix", &report, "--readme", r, "--check"])),
        Some(Exit::Fail)
    );
    assert_eq!(code(&run(&["matrix", &report, "--readme", r])), Some(Exit::Pass));
    assert_eq!(
        code(&run(&["matrix", &report, "--readme", r, "--check"])),
        Some(Exit::Pass)
    );
    assert!(
        std::fs::read_to_string(&readme)
            .expect("read")
            .contains("| `I-TAG` | gate | pass |")
    );
    assert_eq!(code(&run(&["matrix", "Cargo.toml"])), Some(Exit::Usage));
}

#[test]
fn classes_exits_0_for_two_seeds_of_one_bug_1_when_the_classes_differ_and_3_on_a_bad_report() {
    let tmp = out_dir("classes");
    let dir = tmp.path();
    let report = |name: &str, seed: &str, variant: &str| {
        let out = dir.join(name);
        let o = path(&out);
        let args = [
            "run",
            "--seed",
            seed,
            "--cases",
            "200",
            "--no-case-files",
            "--no-snapshots",
            "--shrink-seconds",
            "0",
            "--variant",
            variant,
            "--out",
            o,
        ];
        let status = code(&run(&args));
        assert!(matches!(status, Some(Exit::Pass | Exit::Fail)), "run exited {status:?}");
        format!("{o}/report.json")
    };
    let one = report("one", "1", "malformed-digest-not-found");
    let two = report("two", "2", "malformed-digest-not-found");
    let reference = report("reference", "1", "reference");
    assert_eq!(code(&run(&["classes", &one, &two])), Some(Exit::Pass));
    assert_eq!(code(&run(&["classes", &one, &reference])), Some(Exit::Fail));
    assert_eq!(code(&run(&["classes", &one, "Cargo.toml"])), Some(Exit::Usage));
}

/// Sends a signal to a process of the test's.
#[cfg(unix)]
fn send(pid: u32, signal: rustix::process::Signal) {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .expect("a process id");
    rustix::process::kill_process(pid, signal).expect("the signal is sent");
}

/// Whether a process is gone (a zombie is: it runs nothing and holds no port).
#[cfg(target_os = "linux")]
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// The child's exit status, or a failed test (never a hang) if it does not end within `limit`.
#[cfg(target_os = "linux")]
fn wait_within(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The trials' lines that say a trial passed (`test NAME ... ok`), in the pretty format.
fn passed_trials(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("test ") && l.ends_with("... ok"))
        .collect()
}

/// The summary line of the trials' block, `test result: ...`.
fn trials_result(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("test result: "))
        .unwrap_or_else(|| panic!("no test result line: {stdout}"))
}

#[test]
fn trials_that_never_ran_are_not_reported_as_passed() {
    let tmp = out_dir("no-trial-passed");
    let endpoint = format!("http://127.0.0.1:{}", dead_port());
    let down = run(&[
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
        path(&tmp.path().join("down")),
    ]);
    assert_eq!(code(&down), Some(Exit::Indeterminate), "{}", stderr(&down));
    let stdout = String::from_utf8_lossy(&down.stdout);
    assert!(passed_trials(&stdout).is_empty(), "{stdout}");
    let result = trials_result(&stdout);
    assert!(result.starts_with("test result: FAILED. 0 passed;"), "{result}");
    assert!(
        stdout.contains("no verdict: not run, the run stopped: the endpoint did not answer"),
        "{stdout}"
    );

    // Past a one-second deadline while the first state is seeded (at 10 requests a second).
    let late = run(&[
        "run",
        "--seed",
        "3",
        "--cases",
        "100",
        "--no-case-files",
        "--no-snapshots",
        "--rate-limit",
        "10/s",
        "--deadline",
        "1",
        "--out",
        path(&tmp.path().join("late")),
    ]);
    assert_eq!(code(&late), Some(Exit::Indeterminate), "{}", stderr(&late));
    let stdout = String::from_utf8_lossy(&late.stdout);
    assert!(passed_trials(&stdout).is_empty(), "{stdout}");
    let result = trials_result(&stdout);
    assert!(result.starts_with("test result: FAILED. 0 passed;"), "{result}");
    assert!(stdout.contains("the run's deadline passed"), "{stdout}");
    // The duration is the run's, which lasted past its deadline, not the printing's.
    let seconds: f64 = result
        .rsplit_once("finished in ")
        .and_then(|(_, t)| t.strip_suffix('s'))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no duration: {result}"));
    assert!(seconds >= 1.0, "{result}");
}

#[test]
fn a_finished_run_reports_its_trials_as_passed_with_its_duration() {
    let tmp = out_dir("trials-pass");
    let o = run(&[
        "run",
        "--seed",
        "11",
        "--cases",
        "100",
        "--no-snapshots",
        "--out",
        path(tmp.path()),
    ]);
    assert_eq!(code(&o), Some(Exit::Pass), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        passed_trials(&stdout).iter().any(|l| l.contains("world::1")),
        "{stdout}"
    );
    assert!(trials_result(&stdout).starts_with("test result: ok."), "{stdout}");
}

/// A web server that is not ECR: it answers every request with `status` and an HTML page.
struct PlainWebServer {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl PlainWebServer {
    fn start(status: &'static str) -> PlainWebServer {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                // The request's head and body, so that the answer is not cut by a reset.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let page =
                    "<html>\n<head><title>Not Found</title></head>\n<body><h1>Nothing here</h1></body>\n</html>\n";
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
            }
        });
        PlainWebServer { port, stop }
    }
}

impl Drop for PlainWebServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop up, to see the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

#[test]
fn a_plain_web_server_is_not_an_ecr_endpoint_exits_2_and_writes_no_snapshot() {
    for status in ["404 Not Found", "200 OK"] {
        let server = PlainWebServer::start(status);
        let tmp = out_dir("not-ecr");
        let snaps = tmp.path().join("snapshots");
        let out = tmp.path().join("out");
        // Outside CI, where a run writes its pending snapshots under the snapshot root.
        let o = bin()
            .env_remove("CI")
            .args(["run", "--endpoint", &format!("http://127.0.0.1:{}", server.port)])
            .args(["--seed", "1", "--cases", "20", "--timeout", "2"])
            .args(["--snapshots", path(&snaps), "--out", path(&out)])
            .output()
            .expect("runs");
        let err = stderr(&o);
        assert_eq!(code(&o), Some(Exit::Indeterminate), "{status}: {err}");
        assert!(err.contains("not an ECR endpoint"), "{status}: {err}");
        // What it answered, on one line.
        assert!(
            err.contains(&format!("HTTP {}", &status[..3]))
                && err.contains("<html> <head><title>Not Found</title></head> <body>"),
            "{status}: {err}"
        );
        assert!(!snaps.exists(), "{status}: a snapshot root was made");
        assert!(!out.join("snapshots").exists(), "{status}");
        let r = report(&out);
        assert_eq!(r["verdict"], "indeterminate", "{status}");
        assert!(
            r["classes"].as_array().is_some_and(Vec::is_empty),
            "{status}: {}",
            r["classes"]
        );
        assert!(
            r["aborted"]
                .as_str()
                .is_some_and(|a| a.starts_with("not an ECR endpoint")),
            "{status}: {r}"
        );
    }
}

#[test]
fn run_help_says_what_run_does_its_exit_codes_and_only_flags_that_apply() {
    let o = run(&["run", "--help"]);
    assert_eq!(code(&o), Some(Exit::Pass));
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("Usage: ecr-conformance run"), "{help}");
    assert!(help.contains("Run the conformance suite"), "{help}");
    assert!(help.contains("Exit codes:"), "{help}");
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130 "] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(code)),
            "exit code {code}: {help}"
        );
    }
    for absent in ["--logfile", "Usefull", "--test-threads", "--bench", "-Z", "--nocapture"] {
        assert!(!help.contains(absent), "{absent}: {help}");
    }
    for present in ["--exact", "--skip", "--list", "--format", "--include-ignored"] {
        assert!(help.contains(present), "{present}: {help}");
    }
    let sweep = String::from_utf8_lossy(&run(&["sweep", "--help"]).stdout).into_owned();
    assert!(!sweep.contains("else the embedded server"), "{sweep}");
    assert!(sweep.contains("required"), "{sweep}");
    // Flags that did nothing are refused now, as any unknown flag: exit 3.
    assert_eq!(code(&run(&["run", "--test-threads", "2"])), Some(Exit::Usage));
}

#[cfg(target_os = "linux")]
#[test]
fn a_second_sigint_stops_the_spawned_implementation_and_exits_130() {
    use rustix::process::Signal;
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let tmp = out_dir("second-sigint");
    let pidfile = tmp.path().join("spawned.pid");
    // The spawned shell writes its process id, then becomes the server (exec keeps the id).
    let spawn = format!(
        "sh -c 'echo $$ > {}; exec {} serve --port {{port}}'",
        path(&pidfile),
        env!("CARGO_BIN_EXE_ecr-conformance")
    );
    let mut child = bin()
        .args([
            "run",
            "--spawn",
            &spawn,
            "--seed",
            "8",
            "--cases",
            "2000",
            "--no-case-files",
        ])
        .args([
            "--no-snapshots",
            "--rate-limit",
            "20/s",
            "--out",
            path(&tmp.path().join("out")),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let mut wait_for = |prefix: &str, seen: &mut Vec<String>| {
        for l in lines.by_ref().map_while(Result::ok) {
            seen.push(l.clone());
            if l.starts_with(prefix) {
                return;
            }
        }
        panic!("no line starting {prefix:?}: {seen:?}");
    };
    // Running: the spawned server answered, and the run has seeded its first state.
    wait_for("world-1:", &mut seen);
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .expect("the spawned command wrote its pid")
        .trim()
        .parse()
        .expect("a pid");
    assert!(!gone(pid), "the spawned server is not running");
    send(child.id(), Signal::INT);
    // The first signal is taken (the run is stopping and cleaning up); the second aborts.
    wait_for("SIGINT: stopping", &mut seen);
    send(child.id(), Signal::INT);
    let status = wait_within(&mut child, Duration::from_secs(30));
    assert_eq!(status.code().and_then(Exit::from_code), Some(Exit::Aborted), "{seen:?}");
    let started = Instant::now();
    while !gone(pid) && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone(pid), "the spawned server {pid} outlived the tool");
}

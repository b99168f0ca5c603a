//! The command line's longer runs: signals, a spawned implementation, review, the trials, the
//! matrix, classes, and an endpoint that is not ECR.

mod common;

use common::*;
use ecr_conformance::exit::Exit;
use std::time::{Duration, Instant};

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

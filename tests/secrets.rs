//! No secret reaches the output, the reports or any file under `--out`: every subcommand that takes
//! an endpoint is run with a user name and password in the endpoint URL and with a secret key and
//! session token in the environment, against an endpoint that answers, one that does not, and
//! endpoints that are refused before anything is sent.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const USER: &str = "bobUSERMARKER";
const PASSWORD: &str = "hunter2pwMARKER";
const SECRET: &str = "SECRETMARKER123";
const TOKEN: &str = "TOKENMARKER456";
const MARKERS: [&str; 4] = [USER, PASSWORD, SECRET, TOKEN];

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecr-conformance"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // CI mode: nothing is written under the checkout's snapshots/ (pending ones go to --out).
    c.env("CI", "true");
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ECR",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    ] {
        c.env_remove(var);
    }
    c.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN);
    c
}

/// `http://127.0.0.1:PORT` with the marker user name and password in it.
fn with_userinfo(url: &str) -> String {
    url.replacen("://", &format!("://{USER}:{PASSWORD}@"), 1)
}

/// The embedded server in its own process, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(variant: &str) -> Server {
        let mut child = bin()
            .args(["serve", "--variant", variant])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("serve prints its URL");
        Server {
            child,
            url: line.trim().to_string(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Every marker found in a text, with where it was.
fn leaks(what: &str, text: &str) -> Vec<String> {
    MARKERS
        .iter()
        .filter(|m| text.contains(*m))
        .map(|m| format!("{m} in {what}"))
        .collect()
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Runs the command, and returns its exit code and every leak in its stdout, its stderr and the
/// files under `out`.
fn check(label: &str, mut command: Command, out: &Path) -> (i32, Output, Vec<String>) {
    let o = command.output().expect("the binary runs");
    let mut found = leaks(&format!("{label}: stdout"), &String::from_utf8_lossy(&o.stdout));
    found.extend(leaks(&format!("{label}: stderr"), &String::from_utf8_lossy(&o.stderr)));
    let mut files = Vec::new();
    files_under(out, &mut files);
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).expect("readable")).into_owned();
        found.extend(leaks(&format!("{label}: {}", f.display()), &text));
    }
    (o.status.code().expect("exited"), o, found)
}

fn small_run(endpoint_flag: Option<&str>, out: &Path) -> Command {
    let mut c = bin();
    // A second of shrinking gives the classes minimal examples, and so case files.
    c.args(["run", "--seed", "3", "--cases", "20", "--shrink-seconds", "1"])
        .args(["--timeout", "2", "--max-attempts", "1"])
        .arg("--out")
        .arg(out);
    if let Some(e) = endpoint_flag {
        c.args(["--endpoint", e]);
    }
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn no_subcommand_prints_or_writes_a_password_a_secret_key_or_a_session_token() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // A deviating variant, so that the run writes classes, snapshots and case files too.
    let server = Server::start("wrong-registry-id");
    let up = with_userinfo(&server.url);
    let down = with_userinfo(&format!("http://127.0.0.1:{}", closed_port()));
    let mut leaked = Vec::new();
    let mut codes = Vec::new();
    let mut record = |label: &str, command: Command, out: &Path, expected: &[i32]| -> Output {
        let (code, o, found) = check(label, command, out);
        if !expected.contains(&code) {
            codes.push(format!("{label}: exit {code}, expected {expected:?}: {}", stderr(&o)));
        }
        leaked.extend(found);
        o
    };

    // run, reachable. The password goes in the URL (never on the wire: requests go to the URL
    // without it); the variant's class (S-REGISTRY-ID) makes it exit 1.
    let out = tmp.path().join("run-up");
    let o = record("run up", small_run(Some(&up), &out), &out, &[1]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap_or_default()).unwrap_or_default();
    let mut shown = Vec::new();
    if !report["endpoint"].as_str().is_some_and(|e| e.starts_with(&server.url)) {
        shown.push(format!("the report names the endpoint: {}", report["endpoint"]));
    }
    if !stderr(&o).contains(&format!("({})", server.url)) {
        shown.push(format!("the start line shows the endpoint: {}", stderr(&o)));
    }

    // run, reachable, no password in the URL: the whole run (seeding, cases, shrinking, classes,
    // snapshots, case files) with the secret key and token in the environment.
    let out = tmp.path().join("run-full");
    record("run full", small_run(Some(&server.url), &out), &out, &[1]);

    // run, the endpoint from the environment.
    let out = tmp.path().join("run-env");
    let mut c = small_run(None, &out);
    c.env("AWS_ENDPOINT_URL_ECR", &up);
    record("run env", c, &out, &[1]);

    // run, unreachable: no verdict.
    let out = tmp.path().join("run-down");
    record("run down", small_run(Some(&down), &out), &out, &[2]);

    // run, refused before sending: plain HTTP to another host, and an endpoint without a host.
    for (label, endpoint) in [
        (
            "run plain http",
            format!("http://{USER}:{PASSWORD}@registry.example.com"),
        ),
        ("run no host", format!("http://{USER}:{PASSWORD}@")),
    ] {
        let out = tmp.path().join(label.replace(' ', "-"));
        record(label, small_run(Some(&endpoint), &out), &out, &[3]);
    }

    // replay: the case files of the full run.
    let mut replayed = Vec::new();
    files_under(&tmp.path().join("run-full").join("cases"), &mut replayed);
    assert!(!replayed.is_empty(), "the full run wrote case files");
    for (label, endpoint, expected) in [("replay up", &up, &[1][..]), ("replay down", &down, &[2][..])] {
        let out = tmp.path().join(label.replace(' ', "-"));
        let mut c = bin();
        c.arg("replay")
            .args(&replayed)
            .args(["--endpoint", endpoint, "--timeout", "2", "--max-attempts", "1"])
            .arg("--out")
            .arg(&out);
        record(label, c, &out, expected);
    }

    // sweep: it deletes nothing, or cannot reach the endpoint. A password in the URL is not sent
    // (it would go out as a Basic Authorization header beside SigV4's, and be refused).
    for (label, endpoint, expected) in [
        ("sweep up", &server.url, &[0][..]),
        ("sweep up password", &up, &[0][..]),
        ("sweep down", &down, &[2][..]),
    ] {
        let mut c = bin();
        c.args(["sweep", "--endpoint", endpoint, "--timeout", "2", "--max-attempts", "1"]);
        record(label, c, &tmp.path().join("none"), expected);
    }

    // --spawn: the command line is echoed (start line, report, replay commands), and a spawned
    // implementation that fails is quoted with its output.
    let spawned = format!(
        "{} serve --port {{port}} --variant wrong-registry-id # {up} {SECRET} {TOKEN}",
        env!("CARGO_BIN_EXE_ecr-conformance")
    );
    let out = tmp.path().join("spawn-up");
    let mut c = bin();
    c.args([
        "run",
        "--spawn",
        &spawned,
        "--seed",
        "3",
        "--cases",
        "20",
        "--shrink-seconds",
        "0",
    ])
    .arg("--out")
    .arg(&out);
    record("spawn up", c, &out, &[1]);
    let failing = format!("sh -c 'echo {up} {SECRET} {TOKEN}; exit 9'");
    let out = tmp.path().join("spawn-down");
    let mut c = bin();
    c.args(["run", "--spawn", &failing, "--cases", "5", "--no-case-files"])
        .arg("--out")
        .arg(&out);
    record("spawn down", c, &out, &[3]);

    assert!(leaked.is_empty(), "{leaked:#?}");
    assert!(codes.is_empty(), "{codes:#?}");
    assert!(shown.is_empty(), "{shown:#?}");
}

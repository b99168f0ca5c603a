//! What the command line's tests share: the binary with a clean environment, temporary folders,
//! exit codes as the contract names them, signals, and a web server that is not ECR.
// Each test target uses its own part of these.
#![allow(dead_code)]

use ecr_conformance::exit::Exit;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
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

/// [`bin`], with `CI` left as this process has it (as the calibration tests have always run it).
pub fn bin_inheriting_ci() -> Command {
    let mut c = bin();
    match std::env::var_os("CI") {
        Some(ci) => c.env("CI", ci),
        None => c.env_remove("CI"),
    };
    c
}

/// A fresh folder, removed when the value is dropped (a failing test included).
pub fn out_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ecrc-cli-{name}-"))
        .tempdir()
        .expect("a temporary folder")
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// The process's exit, as the contract names it (None: a code outside it, or no code).
pub fn code(o: &Output) -> Option<Exit> {
    Exit::from_code(o.status.code().expect("exited"))
}

pub fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A loopback port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

/// Sends a signal to a process of the test's.
#[cfg(unix)]
pub fn send(pid: u32, signal: rustix::process::Signal) {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .expect("a process id");
    rustix::process::kill_process(pid, signal).expect("the signal is sent");
}

/// Whether a process is gone (a zombie is: it runs nothing and holds no port).
#[cfg(target_os = "linux")]
pub fn gone(pid: u32) -> bool {
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
pub fn wait_within(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
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
pub fn passed_trials(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("test ") && l.ends_with("... ok"))
        .collect()
}

/// The summary line of the trials' block, `test result: ...`.
pub fn trials_result(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("test result: "))
        .unwrap_or_else(|| panic!("no test result line: {stdout}"))
}

/// A web server that is not ECR: it answers every request with `status` and an HTML page.
pub struct PlainWebServer {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl PlainWebServer {
    pub fn start(status: &'static str) -> PlainWebServer {
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

//! `--spawn 'COMMAND'`: the implementation under test started by the tool itself. `{port}` in the
//! command becomes a free loopback port; the tool waits until the port answers HTTP, runs, and
//! stops the process at the end (also on failure and on Ctrl-C: the process is owned by a guard
//! that stops it when dropped).

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("--spawn: no free loopback port: {0}")]
    Port(std::io::Error),
    #[error("--spawn: cannot start {command:?}: {source}")]
    Start { command: String, source: std::io::Error },
    #[error("--spawn: {command:?} exited with {status} before it answered on port {port}{log}")]
    Exited {
        command: String,
        status: String,
        port: u16,
        log: String,
    },
    #[error("--spawn: {command:?} did not answer on port {port} within {seconds} s{log}")]
    NotReady {
        command: String,
        port: u16,
        seconds: u64,
        log: String,
    },
}

/// The process id of the spawned implementation, for an abort that cannot wait for `Drop`.
static RUNNING: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Kills the spawned implementation at once, without waiting for it: a second SIGINT or SIGTERM
/// must not leave it running, nor wait for a grace period. The guard that owns it reaps it when
/// dropped.
pub(crate) fn kill_now() {
    let pid = RUNNING.swap(0, std::sync::atomic::Ordering::SeqCst);
    if pid != 0 {
        let _ = signal(pid, Stop::Kill);
    }
}

/// How a spawned process is asked to stop.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// SIGTERM: the process may clean up.
    Term,
    /// SIGKILL.
    Kill,
}

/// Sends a signal by system call: running `kill` could fail where no `kill` is on the PATH, and
/// costs a process at the moment the tool is being aborted.
#[cfg(unix)]
fn signal(pid: u32, how: Stop) -> std::io::Result<()> {
    use rustix::process::{Pid, Signal, kill_process};
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| std::io::Error::other(format!("{pid} is not a process id")))?;
    let sig = match how {
        Stop::Term => Signal::TERM,
        Stop::Kill => Signal::KILL,
    };
    kill_process(pid, sig).map_err(std::io::Error::from)
}

/// Without Unix signals, only the owner of the `Child` can stop it (`Spawned::stop`).
#[cfg(not(unix))]
fn signal(_pid: u32, _how: Stop) -> std::io::Result<()> {
    Err(std::io::Error::other("no signals on this platform"))
}

/// A spawned implementation; stopped when dropped.
pub(crate) struct Spawned {
    child: Child,
    pub port: u16,
    pub command: String,
    log: std::path::PathBuf,
}

impl Spawned {
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the process: SIGTERM, a grace period, then SIGKILL.
    pub(crate) fn stop(&mut self) {
        let _ = RUNNING.compare_exchange(
            self.child.id(),
            0,
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
        );
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        if signal(self.child.id(), Stop::Term).is_err() {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut l = lines;
    l.reverse();
    format!("; its last output: {}", l.join(" | "))
}

/// Starts `command` (through `sh -c`, with `exec` so that the process is the implementation) with
/// `{port}` replaced, and waits up to `startup` for an HTTP answer on that port.
pub(crate) async fn spawn(command: &str, startup: Duration) -> Result<Spawned, SpawnError> {
    let port = free_port().map_err(SpawnError::Port)?;
    let line = command.replace("{port}", &port.to_string());
    let log = std::env::temp_dir().join(format!("ecrc-spawn-{}-{port}.log", std::process::id()));
    let out = std::fs::File::create(&log).map_err(|source| SpawnError::Start {
        command: line.clone(),
        source,
    })?;
    let err = out.try_clone().map_err(|source| SpawnError::Start {
        command: line.clone(),
        source,
    })?;
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {line}"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|source| SpawnError::Start {
            command: line.clone(),
            source,
        })?;
    RUNNING.store(child.id(), std::sync::atomic::Ordering::SeqCst);
    let mut spawned = Spawned {
        child,
        port,
        command: line.clone(),
        log,
    };
    let deadline = Instant::now() + startup;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().ok();
    loop {
        if let Ok(Some(status)) = spawned.child.try_wait() {
            return Err(SpawnError::Exited {
                command: line,
                status: status.to_string(),
                port,
                log: tail(&spawned.log),
            });
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            // Any HTTP answer means it is serving.
            let answered = match &client {
                Some(c) => c.get(spawned.endpoint()).send().await.is_ok(),
                None => true,
            };
            if answered {
                return Ok(spawned);
            }
        }
        if Instant::now() >= deadline {
            let log = tail(&spawned.log);
            spawned.stop();
            return Err(SpawnError::NotReady {
                command: line,
                port,
                seconds: startup.as_secs(),
                log,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_that_exits_is_reported_with_its_output() {
        let err = spawn("sh -c 'echo broken peer {port}; exit 7'", Duration::from_secs(5))
            .await
            .err()
            .expect("fails");
        let text = err.to_string();
        assert!(text.contains("exited") && text.contains("broken peer"), "{text}");
    }

    #[tokio::test]
    async fn a_command_that_never_listens_times_out_and_is_stopped() {
        let started = Instant::now();
        let err = spawn("sleep 30", Duration::from_secs(1)).await.err().expect("fails");
        assert!(err.to_string().contains("did not answer"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

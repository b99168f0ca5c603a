//! Signals: the first SIGINT or SIGTERM stops the run at its next safe point (it cleans up and
//! writes its report), a second gives up at once.

use crate::control::RunControl;

/// The signal handler's task, stopped when the run is over.
pub(crate) struct Watcher(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// On the first SIGINT or SIGTERM, asks the run to stop (it cleans up and writes its report); on a
/// second, kills the spawned implementation and says so on `abort`: the session returns
/// [`SessionError::Aborted`] and the binary exits 130. The library never exits the process.
pub(crate) fn watch_signals(
    control: RunControl,
    abort: tokio::sync::oneshot::Sender<&'static str>,
) -> tokio::task::JoinHandle<()> {
    // Listening from here, not from the task's first poll: a signal in between would kill the
    // process with the default action and leave the spawned implementation running.
    let mut signals = Signals::listen();
    tokio::spawn(async move {
        let first = signals.next().await;
        crate::console::note(format!(
            "{first}: stopping; deleting the run's repositories (a second signal aborts at once)"
        ));
        control.request_stop(format!("interrupted by {first}"));
        let second = signals.next().await;
        // First, before anything else can go wrong: the tool must not exit and leave it running.
        crate::spawn::kill_now();
        let _ = abort.send(second);
    })
}

/// SIGINT and SIGTERM, listened for from the moment this is made (one pair of listeners for the
/// run: listeners made anew after each signal could miss one sent in between).
#[cfg(unix)]
struct Signals(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

#[cfg(unix)]
impl Signals {
    fn listen() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Signals(
            signal(SignalKind::interrupt())
                .ok()
                .zip(signal(SignalKind::terminate()).ok()),
        )
    }

    async fn next(&mut self) -> &'static str {
        let Some((int, term)) = &mut self.0 else {
            // No listener: the signals keep their default action, and this never returns.
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> Self {
        Signals
    }

    async fn next(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

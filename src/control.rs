//! What lets a run stop cleanly: a stop flag (set by SIGINT/SIGTERM), a whole-run deadline, and the
//! ledger of repositories the run created, kept outside the run so that cleanup always knows them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct RunControl {
    stop: Arc<AtomicBool>,
    reason: Arc<Mutex<Option<String>>>,
    deadline: Option<Instant>,
    ledger: Arc<Mutex<Vec<String>>>,
}

impl RunControl {
    pub fn new(deadline: Option<Instant>) -> Self {
        RunControl {
            deadline,
            ..RunControl::default()
        }
    }

    /// The same control (stop flag, reason, ledger) with another deadline: the signal handler
    /// holds the control from the start, and the deadline counts from when the run begins (a
    /// spawned implementation's start-up is not the run's time).
    pub fn with_deadline(&self, deadline: Option<Instant>) -> Self {
        RunControl {
            deadline,
            ..self.clone()
        }
    }

    /// Asks the run to stop at its next safe point, for `reason`.
    pub fn request_stop(&self, reason: impl Into<String>) {
        let mut r = self.reason.lock().unwrap_or_else(|p| p.into_inner());
        r.get_or_insert_with(|| reason.into());
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Why the run must stop now, if it must: a stop was requested, or the deadline passed.
    pub fn stop_reason(&self) -> Option<String> {
        if let Some(deadline) = self.deadline
            && Instant::now() >= deadline
        {
            self.request_stop("the run's deadline passed");
        }
        if !self.stop.load(Ordering::SeqCst) {
            return None;
        }
        self.reason.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn should_stop(&self) -> bool {
        self.stop_reason().is_some()
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Records a repository the run created, the moment it exists.
    pub fn created(&self, name: &str) {
        self.ledger
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(name.to_string());
    }

    /// The repositories created and not yet deleted.
    pub fn created_repositories(&self) -> Vec<String> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Forgets repositories once they are deleted.
    pub fn deleted(&self, names: &[String]) {
        self.ledger
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|n| !names.contains(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_passed_deadline_stops_the_run_and_says_why() {
        let c = RunControl::new(Some(Instant::now() - Duration::from_secs(1)));
        assert_eq!(c.stop_reason().as_deref(), Some("the run's deadline passed"));
        let open = RunControl::new(Some(Instant::now() + Duration::from_secs(3600)));
        assert!(!open.should_stop());
        open.request_stop("SIGINT");
        open.request_stop("SIGTERM");
        assert_eq!(open.stop_reason().as_deref(), Some("SIGINT"), "the first reason stays");
    }

    #[test]
    fn a_control_with_a_later_deadline_shares_the_stop_and_the_ledger() {
        let early = RunControl::new(None);
        let late = early.with_deadline(Some(Instant::now() + Duration::from_secs(3600)));
        early.request_stop("SIGINT");
        assert_eq!(late.stop_reason().as_deref(), Some("SIGINT"));
        late.created("a");
        assert_eq!(early.created_repositories(), ["a"]);
        assert!(early.deadline().is_none() && late.deadline().is_some());
    }

    #[test]
    fn the_ledger_keeps_what_is_not_yet_deleted() {
        let c = RunControl::default();
        c.created("a");
        c.created("b");
        c.deleted(&["a".to_string()]);
        assert_eq!(c.created_repositories(), ["b"]);
    }
}

//! Faults: requests that got no usable answer, so that the run has no verdict on them. Each has a
//! kind, so that a report can say what kept it from a verdict (timeouts, resets, ...) by count.

use super::names::Origin;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A request that got no usable answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    pub trial: Origin,
    /// What kind of fault (reports before kinds were written read as `other`).
    #[serde(default)]
    pub kind: FaultKind,
    pub message: String,
}

impl Fault {
    pub fn new(trial: Origin, kind: FaultKind, message: impl Into<String>) -> Fault {
        Fault {
            trial,
            kind,
            message: message.into(),
        }
    }
}

/// A deviation seen once that a re-send of its request did not show again: never a finding, and
/// no fault either (the request was answered), but the run does not pass over it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unconfirmed {
    pub trial: Origin,
    pub message: String,
}

/// What kept a request from a usable answer. Written in kebab-case (`too-large`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// No answer within the per-request timeout.
    Timeout,
    /// The connection was reset or closed before the answer was whole.
    Reset,
    /// No connection at all: refused, unreachable, no such host.
    Connect,
    /// An answer longer than the client reads.
    TooLarge,
    /// An answer cut or spoiled: not the operation's answer, not JSON.
    Unreadable,
    /// A server error (5xx) on every attempt.
    ServerError,
    /// Throttled on every attempt.
    Throttled,
    /// A seeding call failed after its retries: the world's state was not made.
    Seeding,
    /// A call the run's stop cut short. Never recorded: the run says why it stopped (`aborted`),
    /// and a call it did not make is no fault of the endpoint.
    Stopped,
    #[default]
    Other,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Timeout,
        FaultKind::Reset,
        FaultKind::Connect,
        FaultKind::TooLarge,
        FaultKind::Unreadable,
        FaultKind::ServerError,
        FaultKind::Throttled,
        FaultKind::Seeding,
        FaultKind::Stopped,
        FaultKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Timeout => "timeout",
            FaultKind::Reset => "reset",
            FaultKind::Connect => "connect",
            FaultKind::TooLarge => "too-large",
            FaultKind::Unreadable => "unreadable",
            FaultKind::ServerError => "server-error",
            FaultKind::Throttled => "throttled",
            FaultKind::Seeding => "seeding",
            FaultKind::Stopped => "stopped",
            FaultKind::Other => "other",
        }
    }

    /// How many faults of each kind, only kinds that occur.
    pub fn count<'a>(faults: impl IntoIterator<Item = &'a Fault>) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for f in faults {
            *counts.entry(f.kind.as_str().to_string()).or_default() += 1;
        }
        counts
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_written_in_kebab_case_and_counted() {
        for k in FaultKind::ALL {
            assert_eq!(serde_json::to_value(k).ok(), Some(serde_json::json!(k.as_str())));
        }
        let f = |kind| Fault::new(Origin::World(1), kind, "x");
        let counts = FaultKind::count(&[f(FaultKind::Timeout), f(FaultKind::Timeout), f(FaultKind::TooLarge)]);
        assert_eq!(counts.get("timeout"), Some(&2));
        assert_eq!(counts.get("too-large"), Some(&1));
        assert_eq!(counts.len(), 2, "only the kinds that occur");
        let old: Fault = serde_json::from_str(r#"{"trial":"world-1","message":"m"}"#).expect("an old fault");
        assert_eq!(old.kind, FaultKind::Other);
    }
}

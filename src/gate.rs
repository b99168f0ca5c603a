//! The gate's decisions, in one pure place: a class's status against the baseline, whether the
//! class fails the gate, and the run's verdict (with its exit code). The session and the reports
//! only carry them out and render them.

use crate::exit::Exit;
use crate::outcome::Comparison;
use crate::outcome::RunOutcome;
use crate::rules::Level;
use serde::Serialize;

/// A class against the target's baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ClassStatus {
    /// An accepted snapshot shows it, as this run found it.
    Known,
    /// No accepted snapshot shows it.
    New,
    /// An accepted snapshot shows it with another example or other answers.
    Changed,
    /// The run used no baseline.
    Unbaselined,
}

impl ClassStatus {
    /// The word `report.json` writes.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ClassStatus::Known => "known",
            ClassStatus::New => "new",
            ClassStatus::Changed => "changed",
            ClassStatus::Unbaselined => "unbaselined",
        }
    }

    /// The status `as_str` wrote.
    pub(crate) fn parse(word: &str) -> Option<ClassStatus> {
        [
            ClassStatus::Known,
            ClassStatus::New,
            ClassStatus::Changed,
            ClassStatus::Unbaselined,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    /// How badly the class stands, for the worst of several partitions' views of it: a class one
    /// partition found changed is changed whatever another found.
    pub(crate) fn severity(self) -> u8 {
        match self {
            ClassStatus::Known => 0,
            ClassStatus::Unbaselined => 1,
            ClassStatus::New => 2,
            ClassStatus::Changed => 3,
        }
    }

    /// The class's status in a baseline comparison (None: no baseline was used).
    pub(crate) fn of(baseline: Option<&Comparison>, slug: &str) -> ClassStatus {
        match baseline {
            Some(b) if b.known.iter().any(|k| k == slug) => ClassStatus::Known,
            Some(b) if b.changed.iter().any(|k| k == slug) => ClassStatus::Changed,
            Some(_) => ClassStatus::New,
            None => ClassStatus::Unbaselined,
        }
    }
}

/// Whether a class fails the gate: any class the baseline does not know as it is, at gate level,
/// or at any level under `--strict`.
pub(crate) fn fails_gate(status: ClassStatus, level: Level, strict: bool) -> bool {
    status != ClassStatus::Known && (strict || level == Level::Gate)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Indeterminate,
}

impl Verdict {
    /// Fail on a class that fails the gate (a new or changed gate class; any such class, or a
    /// fixed one, under `strict`); otherwise indeterminate when faults kept requests from an
    /// answer, a deviation was seen that a re-send did not show again (an endpoint that answers
    /// at random is never confirmed, and never passes), nothing ran, or the run stopped early;
    /// else pass.
    pub fn of(outcome: &RunOutcome, any_class_fails: bool, fixed: usize, strict: bool) -> Verdict {
        let unsure = !outcome.faults.is_empty()
            || !outcome.unconfirmed.is_empty()
            || outcome.cases_run == 0
            || outcome.aborted.is_some();
        Verdict::decide(any_class_fails, fixed, strict, unsure)
    }

    /// The same decision from its parts, for a verdict rebuilt from reports (`merge`): `unsure`
    /// when faults, unconfirmed deviations, no case run or an early stop keep the run from one.
    pub fn decide(any_class_fails: bool, fixed: usize, strict: bool, unsure: bool) -> Verdict {
        if any_class_fails || (strict && fixed > 0) {
            Verdict::Fail
        } else if unsure {
            Verdict::Indeterminate
        } else {
            Verdict::Pass
        }
    }

    /// The verdict's exit of the contract ([`crate::exit`]).
    pub fn exit(self) -> Exit {
        match self {
            Verdict::Pass => Exit::Pass,
            Verdict::Fail => Exit::Fail,
            Verdict::Indeterminate => Exit::Indeterminate,
        }
    }

    pub fn exit_code(self) -> u8 {
        self.exit().code()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Indeterminate => "indeterminate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison() -> Comparison {
        Comparison {
            known: vec!["a".into()],
            changed: vec!["b".into()],
            new: vec!["c".into()],
            ..Comparison::default()
        }
    }

    #[test]
    fn a_class_is_known_changed_new_or_unbaselined() {
        let c = comparison();
        assert_eq!(ClassStatus::of(Some(&c), "a"), ClassStatus::Known);
        assert_eq!(ClassStatus::of(Some(&c), "b"), ClassStatus::Changed);
        assert_eq!(ClassStatus::of(Some(&c), "c"), ClassStatus::New);
        assert_eq!(ClassStatus::of(None, "a"), ClassStatus::Unbaselined);
    }

    #[test]
    fn only_classes_the_baseline_does_not_know_fail_and_advisory_ones_only_under_strict() {
        for status in [ClassStatus::New, ClassStatus::Changed, ClassStatus::Unbaselined] {
            assert!(fails_gate(status, Level::Gate, false));
            assert!(!fails_gate(status, Level::Advisory, false));
            assert!(fails_gate(status, Level::Advisory, true));
        }
        assert!(!fails_gate(ClassStatus::Known, Level::Gate, true));
    }

    #[test]
    fn the_verdict_fails_on_a_failing_class_else_faults_make_it_indeterminate() {
        let mut outcome = RunOutcome {
            cases_run: 1,
            ..RunOutcome::default()
        };
        assert_eq!(Verdict::of(&outcome, false, 0, false), Verdict::Pass);
        assert_eq!(Verdict::of(&outcome, true, 0, false), Verdict::Fail);
        assert_eq!(Verdict::of(&outcome, false, 1, false), Verdict::Pass);
        assert_eq!(Verdict::of(&outcome, false, 1, true), Verdict::Fail);
        outcome.faults.push(crate::outcome::Fault::new(
            crate::outcome::Origin::World(1),
            crate::outcome::FaultKind::Timeout,
            "m",
        ));
        assert_eq!(Verdict::of(&outcome, false, 0, false), Verdict::Indeterminate);
        assert_eq!(Verdict::of(&outcome, true, 0, false).exit_code(), 1);
    }
}

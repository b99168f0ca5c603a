//! Trials: every property and every case file is a named trial run through libtest-mimic, so that
//! the familiar test-harness arguments work on a conformance run (a filter, `--exact`, `--skip`,
//! `--list`, `--format terse`), and a `harness = false` test target can put the same trials under
//! `cargo test` and `cargo nextest run --partition`.
//!
//! The run itself happens once for the selected trials; each trial then reports its part of it.

use crate::cases::CaseFile;
use crate::classes::ClassKey;
use crate::report::Report;
use libtest_mimic::{Arguments, FormatSetting, Trial};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// The generated properties, as trials `property::NAME`.
pub const PROPERTIES: [&str; 6] = ["model", "P-IDEMPOTENT", "P-PERMUTE", "P-SPLIT", "P-READ-ONLY", "seed"];

pub fn case_trial(name: &str) -> String {
    format!("case::{name}")
}

pub fn property_trial(name: &str) -> String {
    format!("property::{name}")
}

/// Every trial of a run with these case files, in order: case files first.
pub fn all(case_files: &[(PathBuf, CaseFile)], generated: bool) -> Vec<String> {
    let mut names: Vec<String> = case_files.iter().map(|(_, c)| case_trial(&c.name)).collect();
    if generated {
        names.extend(PROPERTIES.iter().map(|p| property_trial(p)));
    }
    names
}

/// The trials that are listed as ignored: case files that cannot be seeded on an endpoint (their
/// blobs are not in the file); they are checked against the model by `cargo test` instead.
pub fn ignored(case_files: &[(PathBuf, CaseFile)]) -> BTreeSet<String> {
    case_files
        .iter()
        .filter(|(_, c)| c.plan().build(&c.registry_id).is_err())
        .map(|(_, c)| case_trial(&c.name))
        .collect()
}

/// The trials the harness arguments select (ignored ones only with `--ignored` or
/// `--include-ignored`).
pub fn selected(args: &Arguments, names: &[String], ignored: &BTreeSet<String>) -> Vec<String> {
    names
        .iter()
        .filter(|n| {
            let trial = Trial::test(n.as_str(), || Ok(())).with_ignored_flag(ignored.contains(*n));
            !args.is_filtered_out(&trial) && !args.is_ignored(&trial)
        })
        .cloned()
        .collect()
}

/// What a selection runs: which case files, and which properties of the generated worlds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub case_files: BTreeSet<String>,
    pub properties: BTreeSet<String>,
}

pub fn selection(selected: &[String]) -> Selection {
    let mut s = Selection::default();
    for name in selected {
        if let Some(c) = name.strip_prefix("case::") {
            s.case_files.insert(c.to_string());
        } else if let Some(p) = name.strip_prefix("property::") {
            s.properties.insert(p.to_string());
        }
    }
    s
}

/// The trial a finding belongs to.
fn trial_of(trial: &str, property: &str) -> String {
    match trial.strip_prefix("case:") {
        Some(name) => case_trial(name),
        None => property_trial(property),
    }
}

/// What became of one trial, in the harness's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// With why: its gate findings, or why it has no verdict.
    Failed(String),
    /// With why it was not run.
    Ignored(String),
}

/// Why an ignored trial (`--include-ignored` runs it) is ignored.
const IGNORED: &str = "cannot be seeded on an endpoint: its blobs are not in the file";

/// A trial's outcome from the run's report. It fails on a finding in a class that fails the gate,
/// or when it has no verdict: a fault kept its request from an answer, or the run stopped
/// (interrupted, past its deadline, an endpoint that never answered) before it ran or finished.
/// Only a trial that ran and found nothing passes; one the run had no reason to run (a case file
/// skipped, a property no case exercised) is ignored.
pub fn judge(name: &str, report: &Report, case_files_run: &BTreeSet<String>) -> Outcome {
    let failing: BTreeSet<&str> = report
        .classes
        .iter()
        .filter(|c| c.fails_gate)
        .map(|c| c.slug.as_str())
        .collect();
    let case = name.strip_prefix("case::");
    let faults: Vec<&str> = report
        .faults
        .iter()
        .filter(|f| f.trial.starts_with("case:") && trial_of(&f.trial, "") == name)
        .map(|f| f.message.as_str())
        .collect();
    if !faults.is_empty() {
        return Outcome::Failed(format!("no verdict: {}", faults.join("; ")));
    }
    let mut problems: Vec<String> = report
        .deviations
        .iter()
        .filter(|f| trial_of(&f.trial, &f.property) == name)
        .filter(|f| failing.contains(ClassKey::of(f).slug().as_str()))
        .map(|f| format!("{} ({}): {}", f.deviation.rule, f.trial, f.deviation.summary))
        .collect();
    problems.dedup();
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(10);
        let mut text = problems.into_iter().take(10).collect::<Vec<_>>().join("\n");
        if more > 0 {
            text.push_str(&format!("\n... and {more} more"));
        }
        return Outcome::Failed(text);
    }
    if let Some(skipped) = case.and_then(|c| report.skipped_cases.iter().find(|s| s.name == c)) {
        return Outcome::Ignored(skipped.reason.clone());
    }
    // How many checks the trial made; a case file's one request is sent and judged whole.
    let checks = match (case, name.strip_prefix("property::")) {
        (Some(c), _) => usize::from(case_files_run.contains(c)),
        (None, Some("seed")) => report.counts.worlds,
        (None, Some(p)) => report.properties.get(p).map_or(0, |c| c.checked),
        (None, None) => 0,
    };
    match (&report.aborted, checks) {
        (Some(why), 0) => Outcome::Failed(format!("no verdict: not run, the run stopped: {why}")),
        // A property spans every world: cut short, what it checked is not its verdict.
        (Some(why), n) if case.is_none() => {
            Outcome::Failed(format!("no verdict: the run stopped after {n} of its checks: {why}"))
        }
        (None, 0) if case.is_some() => {
            Outcome::Ignored("not run: seeding its state was refused (S-SEED, in report.json)".into())
        }
        (None, 0) => match report.faults.first() {
            Some(first) => Outcome::Failed(format!(
                "no verdict: nothing was checked; {} faults kept the run's requests from an answer, the first: {}",
                report.faults.len(),
                first.message
            )),
            None => Outcome::Ignored("not exercised: no case of this run checked it".into()),
        },
        _ => Outcome::Passed,
    }
}

/// The trials' results in the test harness's format (`--format pretty`, `terse` or `json`; the
/// words and layout of libtest's), for the selected trials of a run that took `elapsed`. Written
/// here rather than by libtest-mimic, whose trials would all have run in no time: the duration
/// is the run's.
pub fn conclude(
    args: &Arguments,
    names: &[String],
    ignored: &BTreeSet<String>,
    report: &Report,
    case_files_run: &BTreeSet<String>,
    elapsed: Duration,
) -> String {
    let mut filtered_out = 0;
    let mut rows = Vec::new();
    for name in names {
        let trial = Trial::test(name.as_str(), || Ok(())).with_ignored_flag(ignored.contains(name));
        if args.is_filtered_out(&trial) {
            filtered_out += 1;
        } else if args.is_ignored(&trial) {
            rows.push((name.as_str(), Outcome::Ignored(IGNORED.into())));
        } else {
            rows.push((name.as_str(), judge(name, report, case_files_run)));
        }
    }
    let format = if args.quiet {
        FormatSetting::Terse
    } else {
        args.format.unwrap_or(FormatSetting::Pretty)
    };
    render(format, &rows, filtered_out, elapsed)
}

/// The block libtest prints for these outcomes.
fn render(format: FormatSetting, rows: &[(&str, Outcome)], filtered_out: usize, elapsed: Duration) -> String {
    use std::fmt::Write as _;
    let count = |f: fn(&Outcome) -> bool| rows.iter().filter(|(_, o)| f(o)).count();
    let passed = count(|o| matches!(o, Outcome::Passed));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let ignored = count(|o| matches!(o, Outcome::Ignored(_)));
    let seconds = elapsed.as_secs_f64();
    let mut out = String::new();
    if format == FormatSetting::Json {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let _ = writeln!(
            out,
            r#"{{ "type": "suite", "event": "started", "test_count": {} }}"#,
            rows.len()
        );
        for (name, outcome) in rows {
            let name = quote(name);
            let _ = writeln!(out, r#"{{ "type": "test", "event": "started", "name": {name} }}"#);
            let _ = match outcome {
                Outcome::Passed => writeln!(out, r#"{{ "type": "test", "name": {name}, "event": "ok" }}"#),
                Outcome::Failed(why) => writeln!(
                    out,
                    r#"{{ "type": "test", "name": {name}, "event": "failed", "stdout": {} }}"#,
                    quote(&format!("Error: {why:?}\n"))
                ),
                Outcome::Ignored(why) => writeln!(
                    out,
                    r#"{{ "type": "test", "name": {name}, "event": "ignored", "message": {} }}"#,
                    quote(why)
                ),
            };
        }
        let _ = write!(
            out,
            r#"{{ "type": "suite", "event": "{}", "passed": {passed}, "failed": {failed}, "ignored": {ignored}, "measured": 0, "filtered_out": {filtered_out}, "exec_time": {seconds} }}"#,
            if failed > 0 { "failed" } else { "ok" }
        );
        return out;
    }
    let _ = writeln!(
        out,
        "\nrunning {} test{}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    let width = rows.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0);
    for (name, outcome) in rows {
        if format == FormatSetting::Terse {
            out.push(match outcome {
                Outcome::Passed => '.',
                Outcome::Failed(_) => 'F',
                Outcome::Ignored(_) => 'i',
            });
            continue;
        }
        let _ = match outcome {
            Outcome::Passed => writeln!(out, "test {name:<width$} ... ok"),
            Outcome::Failed(_) => writeln!(out, "test {name:<width$} ... FAILED"),
            Outcome::Ignored(why) => writeln!(out, "test {name:<width$} ... ignored ({why})"),
        };
    }
    if format == FormatSetting::Terse && !rows.is_empty() {
        out.push('\n');
    }
    let failures: Vec<(&str, &str)> = rows
        .iter()
        .filter_map(|(n, o)| match o {
            Outcome::Failed(why) => Some((*n, why.as_str())),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("\nfailures:\n\n");
        for (name, why) in &failures {
            let _ = writeln!(out, "---- {name} ----\n{why}\n");
        }
        out.push_str("\nfailures:\n");
        for (name, _) in &failures {
            let _ = writeln!(out, "    {name}");
        }
    }
    let _ = write!(
        out,
        "\ntest result: {}. {passed} passed; {failed} failed; {ignored} ignored; 0 measured; {filtered_out} filtered out; finished in {seconds:.2}s\n",
        if failed > 0 { "FAILED" } else { "ok" }
    );
    out
}

/// The trials as the harness lists them (`--list`; with `--ignored` only the ignored ones):
/// `NAME: test`, one a line.
pub fn list(args: &Arguments, names: &[String], ignored: &BTreeSet<String>) -> String {
    names
        .iter()
        .filter(|n| {
            let trial = Trial::test(n.as_str(), || Ok(())).with_ignored_flag(ignored.contains(*n));
            !args.is_filtered_out(&trial) && (!args.ignored || ignored.contains(*n))
        })
        .map(|n| format!("{n}: test\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Arguments {
        Arguments::from_iter(std::iter::once("x").chain(list.iter().copied()))
    }

    #[test]
    fn filters_exact_and_skip_select_as_the_harness_does() {
        let names = vec![case_trial("a1"), property_trial("model"), property_trial("P-PERMUTE")];
        let none = BTreeSet::new();
        assert_eq!(selected(&args(&["property"]), &names, &none).len(), 2);
        assert_eq!(
            selected(&args(&["--exact", "property::model"]), &names, &none),
            ["property::model"]
        );
        assert_eq!(selected(&args(&["--skip", "P-"]), &names, &none).len(), 2);
        let ignored = BTreeSet::from([case_trial("a1")]);
        assert_eq!(selected(&args(&[]), &names, &ignored).len(), 2);
        assert_eq!(selected(&args(&["--include-ignored"]), &names, &ignored).len(), 3);
        let s = selection(&selected(&args(&[]), &names, &none));
        assert!(s.case_files.contains("a1") && s.properties.contains("model") && s.properties.contains("P-PERMUTE"));
    }

    fn report(outcome: &crate::runner::RunOutcome) -> Report {
        let ctx = crate::report::RunContext {
            seed: 1,
            target: "t".into(),
            endpoint: "http://127.0.0.1:1".into(),
            spawn: None,
            region: "us-east-1".into(),
            strict: false,
            read_only: false,
            requests: 0,
            retries: 0,
        };
        Report::new(outcome, &ctx, Vec::new(), None)
    }

    fn checked(outcome: &mut crate::runner::RunOutcome, property: &str, n: usize) {
        outcome
            .properties
            .insert(property.into(), crate::runner::PropertyCount { checked: n, failed: 0 });
    }

    #[test]
    fn a_trial_that_did_not_run_or_finish_before_the_run_stopped_does_not_pass() {
        let mut outcome = crate::runner::RunOutcome::default();
        checked(&mut outcome, "model", 40);
        outcome.case_files_run.insert("ran".into());
        outcome.worlds = 1;
        outcome.aborted = Some("interrupted by SIGINT".into());
        let r = report(&outcome);
        let run = &outcome.case_files_run;
        assert_eq!(judge("case::ran", &r, run), Outcome::Passed, "a case file runs whole");
        let Outcome::Failed(why) = judge("case::later", &r, run) else {
            panic!("a case file the run never reached passed")
        };
        assert!(
            why.contains("not run") && why.contains("interrupted by SIGINT"),
            "{why}"
        );
        let Outcome::Failed(why) = judge("property::model", &r, run) else {
            panic!("a property cut short passed")
        };
        assert!(why.contains("after 40 of its checks"), "{why}");
        assert!(matches!(judge("property::P-SPLIT", &r, run), Outcome::Failed(_)));
    }

    #[test]
    fn a_finished_run_passes_what_ran_and_ignores_what_nothing_exercised() {
        let mut outcome = crate::runner::RunOutcome::default();
        checked(&mut outcome, "model", 40);
        outcome.worlds = 1;
        let r = report(&outcome);
        let none = BTreeSet::new();
        assert_eq!(judge("property::model", &r, &none), Outcome::Passed);
        assert_eq!(judge("property::seed", &r, &none), Outcome::Passed);
        assert!(matches!(judge("property::P-SPLIT", &r, &none), Outcome::Ignored(w) if w.contains("not exercised")));
        // Nothing checked because of the endpoint's faults: no verdict, not "ignored".
        outcome.faults.push(crate::runner::Fault {
            trial: "world-1".into(),
            message: "HTTP 200 that is not JSON".into(),
        });
        let r = report(&outcome);
        assert!(matches!(judge("property::P-SPLIT", &r, &none), Outcome::Failed(w) if w.contains("not JSON")));
    }

    #[test]
    fn the_block_has_libtests_words_reasons_and_the_real_duration() {
        let rows = [
            ("case::a", Outcome::Passed),
            ("property::model", Outcome::Failed("no verdict: not run".into())),
            ("case::b", Outcome::Ignored("not seedable".into())),
        ];
        let pretty = render(FormatSetting::Pretty, &rows, 2, Duration::from_millis(3250));
        assert!(pretty.starts_with("\nrunning 3 tests\n"), "{pretty}");
        assert!(pretty.contains("test case::a         ... ok\n"), "{pretty}");
        assert!(
            pretty.contains("test case::b         ... ignored (not seedable)\n"),
            "{pretty}"
        );
        assert!(
            pretty.contains("---- property::model ----\nno verdict: not run\n"),
            "{pretty}"
        );
        assert!(
            pretty.ends_with(
                "test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in 3.25s\n"
            ),
            "{pretty}"
        );
        let terse = render(FormatSetting::Terse, &rows, 0, Duration::ZERO);
        assert!(terse.contains("\n.Fi\n"), "{terse}");
        let json = render(FormatSetting::Json, &rows, 0, Duration::from_secs(2));
        for line in json.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect(line);
            assert!(v["type"].is_string(), "{line}");
        }
        assert!(
            json.contains(r#""event": "ignored", "message": "not seedable""#),
            "{json}"
        );
        assert!(json.ends_with(r#""exec_time": 2 }"#), "{json}");
    }
}

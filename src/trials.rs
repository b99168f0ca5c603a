//! Trials: every case file and every generated world is a named trial run through libtest-mimic,
//! so that the familiar test-harness arguments work on a conformance run (a filter, `--exact`,
//! `--skip`, `--list`, `--format terse`), and a `harness = false` test target can put the same
//! trials under `cargo test` and `cargo nextest run --partition`.
//!
//! A world (a seeded state with its cases) is the unit of work: every property is checked on it,
//! so that splitting a run seeds each world once. The older trial names `property::P` still work
//! as filters: they select property P on every world. A partition (`--partition K/N`) is dealt
//! the trials round-robin, and a world is the same whichever partition runs it.
//!
//! The run itself happens once for the selected trials; each trial then reports its part of it.

use crate::cases::CaseFile;
pub use crate::outcome::Partition;
use crate::outcome::{ClassKey, Origin, Property, TrialId};
use crate::report::Report;
use libtest_mimic::{Arguments, FormatSetting, Trial};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

pub fn case_trial(name: &str) -> String {
    TrialId::Case(name.to_string()).to_string()
}

pub fn property_trial(name: &str) -> String {
    format!("property::{name}")
}

/// World `n` (numbered from 1).
pub fn world_trial(n: usize) -> String {
    TrialId::World(n).to_string()
}

/// The worlds a run of `cases` generated requests has.
pub fn worlds_of(cases: usize) -> usize {
    cases.div_ceil(crate::run::CASES_PER_WORLD)
}

/// Every trial of a run with these case files and `worlds` generated worlds, in order: case files
/// first.
pub fn all(case_files: &[(PathBuf, CaseFile)], worlds: usize) -> Vec<String> {
    let mut names: Vec<String> = case_files.iter().map(|(_, c)| case_trial(&c.name)).collect();
    names.extend((1..=worlds).map(world_trial));
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

fn passes(args: &Arguments, name: &str, ignored: bool) -> bool {
    let trial = Trial::test(name, || Ok(())).with_ignored_flag(ignored);
    !args.is_filtered_out(&trial) && !args.is_ignored(&trial)
}

/// The properties a filter names through the old trial names `property::P` (with `--skip`).
fn properties_named(args: &Arguments) -> BTreeSet<Property> {
    Property::ALL
        .into_iter()
        .filter(|p| passes(args, &property_trial(p.as_str()), false))
        .collect()
}

/// The properties a world selected by its own name checks: all but those `--skip` leaves out.
fn properties_unskipped(args: &Arguments) -> BTreeSet<Property> {
    let unfiltered = Arguments {
        filter: None,
        ..args.clone()
    };
    properties_named(&unfiltered)
}

/// Whether a world is selected: by its own name, or by a filter naming a property (then the world
/// runs for that property), unless `--skip` leaves the world out by name.
fn world_selected(args: &Arguments, name: &str) -> bool {
    if passes(args, name, false) {
        return true;
    }
    let unfiltered = Arguments {
        filter: None,
        ..args.clone()
    };
    passes(&unfiltered, name, false) && !properties_named(args).is_empty()
}

/// Whether the filter and `--skip` leave a trial in (a world also through a property's name).
fn filtered_in(args: &Arguments, name: &str) -> bool {
    if TrialId::parse(name).is_some_and(|t| t.world().is_some()) {
        world_selected(args, name)
    } else {
        !args.is_filtered_out(&Trial::test(name, || Ok(())))
    }
}

/// The trials the harness arguments select (ignored ones only with `--ignored` or
/// `--include-ignored`).
pub fn selected(args: &Arguments, names: &[String], ignored: &BTreeSet<String>) -> Vec<String> {
    names
        .iter()
        .filter(|n| match TrialId::parse(n) {
            Some(TrialId::World(_)) => !args.ignored && world_selected(args, n),
            _ => passes(args, n, ignored.contains(*n)),
        })
        .cloned()
        .collect()
}

/// What a selection runs: which case files, which worlds, and which properties on them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub case_files: BTreeSet<String>,
    pub worlds: BTreeSet<usize>,
    pub properties: BTreeSet<Property>,
}

/// The selection behind the `selected` trials, under the arguments that selected them: a world
/// selected by its own name checks every property (`--skip property::P` aside), one selected
/// through `property::P` checks the properties so named.
pub fn selection(args: &Arguments, selected: &[String]) -> Selection {
    let mut s = Selection::default();
    let mut by_name = false;
    for name in selected {
        match TrialId::parse(name) {
            Some(TrialId::Case(c)) => {
                s.case_files.insert(c);
            }
            Some(TrialId::World(w)) => {
                s.worlds.insert(w);
                by_name |= passes(args, name, false);
            }
            None => {}
        }
    }
    s.properties = if by_name {
        properties_unskipped(args)
    } else {
        properties_named(args)
    };
    s
}

/// Whether a finding or fault found at `origin` belongs to the trial `id`.
fn belongs(origin: &Origin, id: Option<&TrialId>) -> bool {
    id.is_some_and(|id| origin.trial().as_ref() == Some(id))
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
/// skipped) is ignored. `ran`: the trials (`case::NAME`, `world::N`) that ran to their end.
pub fn judge(name: &str, report: &Report, ran: &BTreeSet<String>) -> Outcome {
    let failing: BTreeSet<&str> = report
        .classes
        .iter()
        .filter(|c| c.fails_gate)
        .map(|c| c.slug.as_str())
        .collect();
    let id = TrialId::parse(name);
    let faults: Vec<&str> = report
        .faults
        .iter()
        .filter(|f| belongs(&f.trial, id.as_ref()))
        .map(|f| f.message.as_str())
        .collect();
    if !faults.is_empty() {
        return Outcome::Failed(format!("no verdict: {}", faults.join("; ")));
    }
    let mut problems: Vec<String> = report
        .deviations
        .iter()
        .filter(|f| belongs(&f.trial, id.as_ref()))
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
    // A world is skipped under its place's name (`world-N`), a case file under its own.
    let skipped_as = match &id {
        Some(TrialId::World(n)) => Origin::World(*n).to_string(),
        Some(TrialId::Case(c)) => c.clone(),
        None => name.to_string(),
    };
    if let Some(skipped) = report.skipped_cases.iter().find(|s| s.name == skipped_as) {
        return Outcome::Ignored(skipped.reason.clone());
    }
    match (&report.aborted, ran.contains(name)) {
        (Some(why), false) => Outcome::Failed(format!("no verdict: not run, the run stopped: {why}")),
        (None, false) => Outcome::Ignored("not run: seeding its state was refused (S-SEED, in report.json)".into()),
        (_, true) => Outcome::Passed,
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
    ran: &BTreeSet<String>,
    elapsed: Duration,
) -> String {
    let mut filtered_out = 0;
    let mut rows = Vec::new();
    for name in names {
        let trial = Trial::test(name.as_str(), || Ok(())).with_ignored_flag(ignored.contains(name));
        if !filtered_in(args, name) {
            filtered_out += 1;
        } else if args.is_ignored(&trial) {
            rows.push((name.as_str(), Outcome::Ignored(IGNORED.into())));
        } else {
            rows.push((name.as_str(), judge(name, report, ran)));
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
        .filter(|n| filtered_in(args, n) && (!args.ignored || ignored.contains(*n)))
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
        let names = vec![case_trial("a1"), world_trial(1), world_trial(2)];
        let none = BTreeSet::new();
        assert_eq!(selected(&args(&["world"]), &names, &none).len(), 2);
        assert_eq!(selected(&args(&["--exact", "world::2"]), &names, &none), ["world::2"]);
        assert_eq!(selected(&args(&["--skip", "world::1"]), &names, &none).len(), 2);
        let ignored = BTreeSet::from([case_trial("a1")]);
        assert_eq!(selected(&args(&[]), &names, &ignored).len(), 2);
        assert_eq!(selected(&args(&["--include-ignored"]), &names, &ignored).len(), 3);
        let all = |a: &Arguments| selection(a, &selected(a, &names, &none));
        let s = all(&args(&[]));
        assert_eq!(s.case_files, BTreeSet::from(["a1".to_string()]));
        assert_eq!(s.worlds, BTreeSet::from([1, 2]));
        assert_eq!(s.properties.len(), Property::ALL.len());
    }

    #[test]
    fn the_old_property_names_select_that_property_on_every_world() {
        let names = vec![case_trial("a1"), world_trial(1), world_trial(2)];
        let none = BTreeSet::new();
        let exact = args(&["--exact", "property::P-SPLIT"]);
        assert_eq!(selected(&exact, &names, &none), ["world::1", "world::2"]);
        let s = selection(&exact, &selected(&exact, &names, &none));
        assert_eq!(s.properties, BTreeSet::from([Property::Split]));
        assert!(s.case_files.is_empty());
        // A substring naming several properties selects them all, and no case file.
        let p = args(&["property::P-"]);
        let s = selection(&p, &selected(&p, &names, &none));
        assert_eq!(s.worlds, BTreeSet::from([1, 2]));
        assert!(s.properties.contains(&Property::Permute) && !s.properties.contains(&Property::Model));
        // --skip of a property leaves the worlds, without it.
        let skip = args(&["--skip", "property::seed"]);
        let s = selection(&skip, &selected(&skip, &names, &none));
        assert_eq!(s.worlds.len(), 2);
        assert!(!s.properties.contains(&Property::Seed) && s.properties.contains(&Property::Model));
        assert!(selected(&args(&["--exact", "property::nope"]), &names, &none).is_empty());
    }

    #[test]
    fn a_partition_is_dealt_round_robin_and_the_partitions_cover_the_run_once() {
        let names: Vec<String> = ["case::a", "case::b", "world::1", "world::2", "world::3"]
            .map(String::from)
            .to_vec();
        let p = |text: &str| Partition::parse(text).expect(text);
        assert_eq!(p("1/2").deal(&names), ["case::a", "world::1", "world::3"]);
        assert_eq!(p("count:2/2").deal(&names), ["case::b", "world::2"]);
        let mut all: Vec<String> = (1..=3).flat_map(|k| p(&format!("{k}/3")).deal(&names)).collect();
        all.sort();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(all, sorted);
        for bad in ["0/2", "3/2", "2", "a/b", "1/0", "count:"] {
            let e = Partition::parse(bad).expect_err(bad);
            assert!(e.contains("--partition") && e.contains("K/N"), "{e}");
        }
    }

    fn report(outcome: &crate::outcome::RunOutcome) -> Report {
        let ctx = crate::report::RunContext::for_tests("t");
        Report::new(outcome, &ctx, Vec::new(), None)
    }

    #[test]
    fn a_trial_that_did_not_run_or_finish_before_the_run_stopped_does_not_pass() {
        let outcome = crate::outcome::RunOutcome {
            worlds: 1,
            aborted: Some("interrupted by SIGINT".into()),
            ..Default::default()
        };
        let r = report(&outcome);
        let ran = BTreeSet::from([case_trial("ran"), world_trial(1)]);
        assert_eq!(judge("case::ran", &r, &ran), Outcome::Passed, "a case file runs whole");
        assert_eq!(judge("world::1", &r, &ran), Outcome::Passed, "a world that finished");
        let Outcome::Failed(why) = judge("case::later", &r, &ran) else {
            panic!("a case file the run never reached passed")
        };
        assert!(
            why.contains("not run") && why.contains("interrupted by SIGINT"),
            "{why}"
        );
        let Outcome::Failed(why) = judge("world::2", &r, &ran) else {
            panic!("a world cut short passed")
        };
        assert!(why.contains("interrupted by SIGINT"), "{why}");
    }

    #[test]
    fn a_finished_run_passes_what_ran_and_a_worlds_faults_are_its_own() {
        let mut outcome = crate::outcome::RunOutcome {
            worlds: 2,
            ..Default::default()
        };
        let ran = BTreeSet::from([world_trial(1), world_trial(2)]);
        let r = report(&outcome);
        assert_eq!(judge("world::1", &r, &ran), Outcome::Passed);
        outcome.faults.push(crate::outcome::Fault::new(
            Origin::WorldCase { world: 2, case: 7 },
            crate::outcome::FaultKind::Unreadable,
            "HTTP 200 that is not JSON",
        ));
        let r = report(&outcome);
        assert_eq!(judge("world::1", &r, &ran), Outcome::Passed);
        assert!(matches!(judge("world::2", &r, &ran), Outcome::Failed(w) if w.contains("not JSON")));
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

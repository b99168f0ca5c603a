//! Trials: every property and every case file is a named trial run through libtest-mimic, so that
//! the familiar test-harness arguments work on a conformance run (a filter, `--exact`, `--skip`,
//! `--list`, `--format terse`), and a `harness = false` test target can put the same trials under
//! `cargo test` and `cargo nextest run --partition`.
//!
//! The run itself happens once for the selected trials; each trial then reports its part of it.

use crate::cases::CaseFile;
use crate::classes::ClassKey;
use crate::report::Report;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::path::PathBuf;

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

fn redact(text: &str) -> String {
    crate::redact::text(text).into_owned()
}

/// Prints the trials' results in the test harness's format: a trial fails when one of its
/// findings is in a class that fails the gate.
pub fn conclude(args: &Arguments, names: &[String], report: &Report) -> libtest_mimic::Conclusion {
    let failing: BTreeSet<&str> = report
        .classes
        .iter()
        .filter(|c| c.fails_gate)
        .map(|c| c.slug.as_str())
        .collect();
    let trials = names
        .iter()
        .map(|name| {
            let mut problems: Vec<String> = report
                .deviations
                .iter()
                .filter(|f| &trial_of(&f.trial, &f.property) == name)
                .filter(|f| failing.contains(ClassKey::of(f).slug().as_str()))
                // libtest-mimic prints these itself, past the console's redaction.
                .map(|f| redact(&format!("{} ({}): {}", f.deviation.rule, f.trial, f.deviation.summary)))
                .collect();
            problems.dedup();
            let skipped = report
                .skipped_cases
                .iter()
                .find(|c| &case_trial(&c.name) == name)
                .map(|c| c.reason.clone());
            let faults: Vec<String> = report
                .faults
                .iter()
                .filter(|f| f.trial.starts_with("case:") && &trial_of(&f.trial, "") == name)
                .map(|f| redact(&f.message))
                .collect();
            let trial = Trial::test(name.clone(), move || {
                if !faults.is_empty() {
                    return Err(Failed::from(format!("no verdict: {}", faults.join("; "))));
                }
                if problems.is_empty() {
                    Ok(())
                } else {
                    let shown: Vec<String> = problems.iter().take(10).cloned().collect();
                    let more = problems.len().saturating_sub(10);
                    let tail = if more > 0 {
                        format!("\n... and {more} more")
                    } else {
                        String::new()
                    };
                    Err(Failed::from(format!("{}{tail}", shown.join("\n"))))
                }
            });
            match skipped {
                Some(_) => trial.with_ignored_flag(true),
                None => trial,
            }
        })
        .collect();
    libtest_mimic::run(args, trials)
}

/// Lists the trials as the harness does (`--list`, `--format terse`, `--ignored`).
pub fn list(args: &Arguments, names: &[String], ignored: &BTreeSet<String>) -> libtest_mimic::Conclusion {
    let trials = names
        .iter()
        .map(|n| Trial::test(n.clone(), || Ok(())).with_ignored_flag(ignored.contains(n)))
        .collect();
    libtest_mimic::run(args, trials)
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
}

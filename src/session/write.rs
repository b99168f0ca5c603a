//! What a run writes: its classes with their case files, the baseline compared (the accepted
//! examples of changed classes replayed first), and the pending snapshots reviewed.

use super::{RunOptions, SessionError};
use crate::client::EcrClient;
use crate::outcome::{Origin, RunOutcome};
use crate::redact;
use crate::report::{Report, RunContext};
use crate::run::{self, RunConfig};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The baseline's own examples of the classes this run found with another example, replayed
/// (their case files, kept beside the snapshots): the classes whose accepted example still shows
/// them. A seed finds a class from another start; the endpoint's behaviour is what the gate keeps.
pub(super) async fn replay_baseline(
    client: &EcrClient,
    config: &RunConfig,
    dir: &Path,
    outcome: &RunOutcome,
) -> Result<(BTreeSet<String>, Vec<(String, String)>), SessionError> {
    let classes = crate::classes::classify(&outcome.findings);
    let mut case_files = Vec::new();
    for (_, path) in crate::snapshot::to_replay(&classes, &outcome.minimal, dir)? {
        let case = crate::cases::CaseFile::load(&path).map_err(|e| SessionError::Usage(format!("baseline: {e}")))?;
        // The seed that found the accepted example finds it again: there, another example is
        // another behaviour (or an edited snapshot), not another start.
        if case.seed != Some(config.seed) {
            case_files.push((path, case));
        }
    }
    if case_files.is_empty() {
        return Ok((BTreeSet::new(), Vec::new()));
    }
    let mut replay = config.clone();
    replay.case_files = case_files;
    replay.case_files_selected = None;
    replay.cases = 0;
    replay.shrink_budget = std::time::Duration::ZERO;
    replay.prefix = format!("{}b", config.prefix);
    let out = run::run(client, &replay).await;
    // A case reproduces its class where its own trial shows it (a case file is named after it).
    let reproduced = crate::classes::classify(&out.findings)
        .into_iter()
        .filter(|c| {
            out.findings.iter().any(|f| {
                f.trial == Origin::CaseFile(c.slug.clone())
                    && crate::classes::ClassKey::from_deviation(f.property, &f.deviation) == c.key
            })
        })
        .map(|c| c.slug)
        .collect();
    Ok((reproduced, out.leftovers))
}

/// The report built and written into `--out`, with what `merge` needs to tell a whole set of
/// partitions from an incomplete one. The report files are written even when a case file was
/// not: the more of the run is on disk, the better; the first failure is the one reported.
pub(super) fn finish(
    options: &RunOptions,
    outcome: RunOutcome,
    ctx: &RunContext,
    reproduced: &BTreeSet<String>,
    trials: Vec<String>,
    worlds_total: usize,
) -> Result<super::RunResult, SessionError> {
    let (mut report, unwritten) = build_report(options, &outcome, ctx, reproduced)?;
    report.partition = options.partition;
    report.trials = trials;
    report.worlds_total = worlds_total;
    let written = crate::report::write_all(&report, &options.out);
    match (unwritten, written) {
        (None, Ok(report_path)) => Ok(super::RunResult {
            report,
            report_path,
            case_files_run: outcome.case_files_run,
            worlds_run: outcome.worlds_run,
        }),
        (Some((dir, source)), _) => Err(SessionError::ReportNotWritten {
            dir,
            source,
            report: Box::new(report),
        }),
        (None, Err(source)) => Err(SessionError::ReportNotWritten {
            dir: options.out.clone(),
            source,
            report: Box::new(report),
        }),
    }
}

/// A file of the report that could not be written: the folder, and why.
type Unwritten = Option<(PathBuf, std::io::Error)>;

/// Classes, the baseline comparison, the class case files, and the report. A case file that cannot
/// be written is left out of the report and its error returned beside it, so that the verdict is
/// still there to print.
fn build_report(
    options: &RunOptions,
    outcome: &RunOutcome,
    ctx: &RunContext,
    reproduced: &BTreeSet<String>,
) -> Result<(Report, Unwritten), SessionError> {
    let mut unwritten: Unwritten = None;
    let classes = crate::classes::classify(&outcome.findings);
    let baseline = match &options.snapshots {
        Some(root) => {
            let dir = root.join(&ctx.target);
            let pending = if options.ci {
                options.out.join("snapshots").join(&ctx.target)
            } else {
                dir.clone()
            };
            Some(crate::snapshot::against_baseline(
                &classes,
                &outcome.minimal,
                &ctx.target,
                ctx.seed,
                &dir,
                &pending,
                reproduced,
            )?)
        }
        None => None,
    };
    let cases_dir = options.out.join("cases");
    let mut reports = Vec::with_capacity(classes.len());
    for class in &classes {
        let minimal = outcome.minimal.iter().find(|m| m.class == class.key);
        let status = crate::gate::ClassStatus::of(baseline.as_ref(), &class.slug);
        let fails_gate = crate::gate::fails_gate(status, class.key.level, options.strict);
        let case_file = minimal
            .and_then(|m| crate::cases::CaseFile::from_minimal(class, m, ctx.seed, &ctx.target))
            .and_then(|case| write_case_file(&cases_dir, &class.slug, &case, &mut unwritten));
        let (deviation, images, registry) = crate::snapshot::example(class, minimal);
        let text = |v: &serde_json::Value| {
            let pretty = crate::snapshot::strip_run_prefixes(&serde_json::to_string_pretty(v).unwrap_or_default());
            if registry.is_empty() {
                pretty
            } else {
                crate::canonical::placeholders(&pretty, &images, &registry)
            }
        };
        reports.push(crate::report::ClassReport {
            expected: text(&deviation.expected),
            actual: text(&deviation.actual),
            answer: deviation.answers.as_ref().map(|x| text(&x.answer)),
            ecr_answer: deviation.answers.as_ref().map(|x| text(&x.ecr_answer)),
            slug: class.slug.clone(),
            title: class.title.clone(),
            key: class.key.clone(),
            kinds: class.kinds.clone(),
            count: class.count,
            status: status.as_str(),
            fails_gate,
            snapshot: crate::snapshot::render(class, minimal),
            case_file,
            request: minimal
                .map(|m| m.canonical_request.clone())
                .or_else(|| class.first.request.clone()),
        });
    }
    Ok((Report::new(outcome, ctx, reports, baseline), unwritten))
}

/// Writes a class's case file into `cases_dir` (redacted); its path relative to the report folder,
/// or None with the error kept in `unwritten` (the first one only).
fn write_case_file(
    cases_dir: &Path,
    slug: &str,
    case: &crate::cases::CaseFile,
    unwritten: &mut Unwritten,
) -> Option<String> {
    let path = cases_dir.join(format!("{slug}.json"));
    match std::fs::create_dir_all(cases_dir)
        .and_then(|_| std::fs::write(&path, redact::text(&case.to_json()).as_bytes()))
    {
        Ok(()) => Some(format!("cases/{slug}.json")),
        Err(source) => {
            unwritten.get_or_insert((cases_dir.to_path_buf(), source));
            None
        }
    }
}

/// `ecr-conformance review`: accepts or rejects pending snapshots. `decide` is asked for each one
/// (with its path and text) and answers Some(true) to accept, Some(false) to reject, None to skip.
pub fn review(
    root: &Path,
    target: Option<&str>,
    mut decide: impl FnMut(&Path, &str) -> Option<bool>,
) -> std::io::Result<(usize, usize)> {
    let (mut accepted, mut rejected) = (0, 0);
    for pending in crate::snapshot::pending_under(root) {
        if let Some(t) = target
            && pending.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()) != Some(t)
        {
            continue;
        }
        let text = std::fs::read_to_string(&pending)?;
        match decide(&pending, &text) {
            Some(true) => {
                crate::snapshot::decide(&pending, true)?;
                accepted += 1;
            }
            Some(false) => {
                crate::snapshot::decide(&pending, false)?;
                rejected += 1;
            }
            None => {}
        }
    }
    Ok((accepted, rejected))
}

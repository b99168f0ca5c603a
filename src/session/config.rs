//! A run's options checked and mapped: the case files loaded, the report folder and the target
//! name checked before the first request, and the options turned into the run's configuration.

use super::{RunOptions, SessionError};
use crate::cases::CaseFile;
use crate::outcome::TrialId;
use crate::run::RunConfig;
use crate::trials;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where `replay` writes by default: `<root>/replay/<case name>/`, the case name being the file's
/// name without `.case.json` or `.json` (several files: their names joined by `+`, shortened to
/// the first one and a count when that gets long). A replay of `reports/cases/X.json` must not
/// overwrite the reports of the run that wrote it.
pub fn replay_out(root: &Path, files: &[PathBuf]) -> PathBuf {
    let names: Vec<String> = files.iter().map(|f| case_name(f)).collect();
    let joined = names.join("+");
    // Far below the 255 bytes a file name may have, and still readable in a listing.
    let name = if joined.len() <= 100 || names.len() < 2 {
        joined
    } else {
        format!("{}+{}-more", names[0], names.len() - 1)
    };
    root.join("replay").join(name)
}

fn case_name(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".case.json")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    if stem.is_empty() { "case".into() } else { stem.into() }
}

/// A `--target` name is one folder under the snapshot root (and under `<out>/snapshots/` in CI):
/// anything that could climb out of it or nest is refused before anything is written.
pub(super) fn check_target_name(name: &str) -> Result<(), SessionError> {
    let plain = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(SessionError::Usage(format!(
            "--target {name:?}: not a plain name (one path segment: no '/' or '\\', not '.' or '..', not empty)"
        )))
    }
}

/// The report folder, checked before the first request: created, and a file written in it and
/// removed. A run against a production registry must not spend its time and requests and then
/// find it has nowhere to put its verdict.
pub(crate) fn check_out(dir: &Path) -> Result<(), SessionError> {
    let fail = |problem: String| SessionError::OutNotWritable {
        dir: dir.to_path_buf(),
        problem,
    };
    // create_dir_all's own error for a file in the way ("Not a directory") does not say which.
    if let Some(file) = dir.ancestors().find(|a| a.exists() && !a.is_dir()) {
        return Err(fail(if file == dir {
            "it is a file, not a folder".into()
        } else {
            format!("{} is a file, not a folder", file.display())
        }));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
    let probe = dir.join(".report.json.tmp");
    std::fs::write(&probe, b"").map_err(|e| fail(format!("cannot create a file in it: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    let cases = dir.join("cases");
    if cases.exists() && !cases.is_dir() {
        return Err(fail(format!("{} is a file, not a folder", cases.display())));
    }
    Ok(())
}

pub(super) fn load_case_files(options: &RunOptions) -> Result<Vec<(PathBuf, CaseFile)>, SessionError> {
    if !options.case_paths.is_empty() {
        let mut out = Vec::new();
        for p in &options.case_paths {
            out.push((p.clone(), CaseFile::load(p)?));
        }
        return Ok(out);
    }
    match &options.cases_dir {
        Some(dir) if options.require_cases_dir && !dir.is_dir() => Err(SessionError::Usage(format!(
            "--cases-dir {}: {}",
            dir.display(),
            if dir.exists() { "not a folder" } else { "no such folder" }
        ))),
        Some(dir) => Ok(CaseFile::load_dir(dir)?),
        None => Ok(Vec::new()),
    }
}

/// The trials this run runs, in order: its partition's share of all the run's trials (dealt
/// before any filter: a trial's partition does not depend on the filter), then the selection.
pub(super) fn run_trials_of(options: &RunOptions, case_files: &[(PathBuf, CaseFile)]) -> Vec<String> {
    let mut trials = trials::all(case_files, trials::worlds_of(options.cases));
    if let Some(p) = options.partition {
        trials = p.deal(&trials);
    }
    if let Some(sel) = &options.selection {
        trials.retain(|t| match TrialId::parse(t) {
            Some(TrialId::Case(c)) => sel.case_files.contains(&c),
            Some(TrialId::World(w)) => sel.worlds.contains(&w) && !sel.properties.is_empty(),
            None => false,
        });
    }
    trials
}

/// The run's configuration from its options: `trials` are those this run runs (its partition's,
/// as selected), `control` the one the signal handler stops, `embedded` whether the run is
/// against the embedded server (whose registry id is known).
pub(super) fn run_config(
    options: &RunOptions,
    seed: u64,
    case_files: Vec<(PathBuf, CaseFile)>,
    trials: &[String],
    control: &crate::control::RunControl,
    embedded: bool,
) -> RunConfig {
    let mut config = RunConfig::new(seed);
    config.cases = options.cases;
    config.concurrency = options.concurrency;
    config.case_files = case_files;
    config.shrink_budget = options.shrink_budget;
    config.progress = options.progress;
    if embedded {
        config.registry_hint = crate::server::REGISTRY_ID.into();
    }
    config.keep = options.keep;
    config.properties = options.selection.as_ref().map(|s| s.properties.clone());
    let ids: Vec<TrialId> = trials.iter().filter_map(|t| TrialId::parse(t)).collect();
    // Shrinking costs as many requests as the run's cases, and every partition that finds a
    // class would shrink it again: only the partition that runs world 1 (where a single run
    // shrinks the classes every world shows) shrinks; the others keep their examples as found.
    if options.partition.is_some() && !ids.contains(&TrialId::World(1)) {
        config.shrink_budget = Duration::ZERO;
    }
    if options.partition.is_some() || options.selection.is_some() {
        config.worlds = Some(ids.iter().filter_map(TrialId::world).collect());
        config.case_files_selected = Some(ids.iter().filter_map(|t| t.case().map(str::to_string)).collect());
    }
    config.read_only = options.read_only.clone();
    // A caller's control keeps its own deadline; ours counts from here, once the implementation
    // under test is up.
    config.control = match &options.control {
        Some(c) => c.clone(),
        None => control.with_deadline(options.deadline.map(|d| std::time::Instant::now() + d)),
    };
    config
}

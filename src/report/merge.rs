//! `ecr-conformance merge`: the reports of a run's partitions (`run --partition K/N`) made into the
//! one report a single run would have written, with its verdict. The partitions must be of one
//! run (the same seed, target, tool version, size and `--strict`) and all there: a partition
//! missing is an error, never a pass.
//!
//! Counts are sums; classes are united by slug with their counts summed and the worst status any
//! partition gave them; the verdict is decided again, as [`crate::gate`] decides a run's.
//! `deviations` and `minimal` are carried over as JSON (they are written, never read back).

use super::{ClassReport, Counts, Report, RuleSummary};
use crate::gate::{ClassStatus, Verdict};
use crate::outcome::ClassKey;
use crate::outcome::Partition;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {problem}")]
    Unreadable { path: String, problem: String },
    #[error("not one run: {0}")]
    Mismatch(String),
    #[error("{0}")]
    Incomplete(String),
    #[error("nothing to merge: name the partitions' report.json files")]
    Nothing,
    #[error("cannot write the merged report into {}: {source}", dir.display())]
    Write { dir: PathBuf, source: std::io::Error },
}

/// One partition's report: where it is, the report, and what is carried over as JSON.
struct Part {
    path: PathBuf,
    report: Report,
    deviations: Vec<Value>,
    minimal: Vec<Value>,
}

impl Part {
    fn read(path: &Path) -> Result<Part, MergeError> {
        let shown = path.display().to_string();
        let fail = |problem: String| MergeError::Unreadable {
            path: shown.clone(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
        let json: Value =
            serde_json::from_str(&text).map_err(|e| fail(format!("not JSON, so not a report.json: {e}")))?;
        // Said first and plainly: the typed reading below would name the field less clearly.
        if json.get("tool").and_then(Value::as_str) != Some(super::TOOL) {
            return Err(fail(format!("not a report.json of {}", super::TOOL)));
        }
        let array = |name: &str| json.get(name).and_then(Value::as_array).cloned().unwrap_or_default();
        let (deviations, minimal) = (array("deviations"), array("minimal"));
        let report: Report = match serde_json::from_value(json.clone()) {
            Ok(r) => r,
            Err(e) if json.get("version").and_then(Value::as_str) != Some(super::VERSION) => {
                return Err(MergeError::Mismatch(format!(
                    "{shown} was written by version {}, this tool is {} ({e})",
                    json.get("version").and_then(Value::as_str).unwrap_or("?"),
                    super::VERSION
                )));
            }
            Err(e) => return Err(fail(format!("not a readable report.json: {e}"))),
        };
        Ok(Part {
            path: path.to_path_buf(),
            report,
            deviations,
            minimal,
        })
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// Reads the partitions' reports, checks they are one whole run, and writes the merged reports
/// (all formats, with the classes' case files and the pending snapshots) into `out`.
pub fn merge(paths: &[PathBuf], out: &Path) -> Result<Report, MergeError> {
    if paths.is_empty() {
        return Err(MergeError::Nothing);
    }
    let mut parts = paths.iter().map(|p| Part::read(p)).collect::<Result<Vec<_>, _>>()?;
    check_one_run(&parts)?;
    check_complete(&parts)?;
    parts.sort_by_key(|p| p.report.partition.map_or(0, |x| x.index));
    let (report, json, sources) = combine(&parts);
    write(&report, json, &parts, &sources, out).map_err(|source| MergeError::Write {
        dir: out.to_path_buf(),
        source,
    })?;
    // The pending snapshots' new places are in the written report; read them back into it.
    let mut report = report;
    if let Some(b) = &mut report.baseline {
        b.pending = pending_paths(&parts, out);
    }
    Ok(report)
}

/// The same seed, target, tool version (checked on reading), number of worlds and `--strict`.
fn check_one_run(parts: &[Part]) -> Result<(), MergeError> {
    let first = &parts[0];
    for p in &parts[1..] {
        let (a, b) = (&first.report, &p.report);
        let differ = |what: &str, x: String, y: String| {
            MergeError::Mismatch(format!("{} has {what} {x}, {} has {what} {y}", first.name(), p.name()))
        };
        if a.seed != b.seed {
            return Err(differ("seed", a.seed.to_string(), b.seed.to_string()));
        }
        if a.target != b.target {
            return Err(differ("target", a.target.clone(), b.target.clone()));
        }
        if a.worlds_total != b.worlds_total {
            return Err(differ(
                "worldsTotal (--cases)",
                a.worlds_total.to_string(),
                b.worlds_total.to_string(),
            ));
        }
        if a.strict != b.strict {
            return Err(differ("strict", a.strict.to_string(), b.strict.to_string()));
        }
    }
    Ok(())
}

/// Every partition once: by their numbers when they are `--partition` reports, else (reports of
/// single trials, as nextest runs them) every world once.
fn check_complete(parts: &[Part]) -> Result<(), MergeError> {
    let partitioned: Vec<Option<Partition>> = parts.iter().map(|p| p.report.partition).collect();
    if partitioned.iter().all(Option::is_some) {
        let mut seen: BTreeMap<usize, &Part> = BTreeMap::new();
        let count = parts[0].report.partition.map_or(1, |x| x.count);
        for p in parts {
            let Some(x) = p.report.partition else { continue };
            if x.count != count {
                return Err(MergeError::Mismatch(format!(
                    "{} is partition {x}, {} is of {count} partitions",
                    p.name(),
                    parts[0].name()
                )));
            }
            if let Some(other) = seen.insert(x.index, p) {
                return Err(MergeError::Incomplete(format!(
                    "partition {x} given twice: {} and {}",
                    other.name(),
                    p.name()
                )));
            }
        }
        let missing: Vec<String> = (1..=count)
            .filter(|i| !seen.contains_key(i))
            .map(|i| format!("{i}/{count}"))
            .collect();
        if !missing.is_empty() {
            return Err(MergeError::Incomplete(format!(
                "partition{} {} missing: no report given for {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            )));
        }
        return Ok(());
    }
    if partitioned.iter().any(Option::is_some) {
        return Err(MergeError::Mismatch(
            "some reports are --partition reports and some are not".into(),
        ));
    }
    let mut owner: BTreeMap<&str, &Part> = BTreeMap::new();
    for p in parts {
        for t in &p.report.trials {
            if let Some(other) = owner.insert(t.as_str(), p) {
                return Err(MergeError::Incomplete(format!(
                    "trial {t} is in two reports: {} and {}",
                    other.name(),
                    p.name()
                )));
            }
        }
    }
    let total = parts[0].report.worlds_total;
    let missing: Vec<String> = (1..=total)
        .map(|w| crate::outcome::TrialId::World(w).to_string())
        .filter(|w| !owner.contains_key(w.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Incomplete(format!(
            "{} of {total} worlds missing: no report ran {}",
            missing.len(),
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Which partition (an index into the parts) speaks for each class: the one whose minimal example
/// is canonical, else the first that found it.
type Sources = BTreeMap<String, usize>;

fn combine(parts: &[Part]) -> (Report, Value, Sources) {
    let first = &parts[0].report;
    let mut report = first.clone();
    report.partition = None;
    report.duration_seconds = parts.iter().map(|p| p.report.duration_seconds).fold(0.0, f64::max);

    let mut counts = Counts::default();
    for p in parts {
        let c = &p.report.counts;
        counts.cases += c.cases;
        counts.worlds += c.worlds;
        counts.requests += c.requests;
        counts.retries += c.retries;
        counts.flaky += c.flaky;
        counts.unconfirmed += c.unconfirmed;
        counts.deviations += c.deviations;
        counts.gate_deviations += c.gate_deviations;
        counts.advisory_deviations += c.advisory_deviations;
        counts.faults += c.faults;
        for (kind, n) in &c.faults_by_kind {
            *counts.faults_by_kind.entry(kind.clone()).or_default() += n;
        }
    }
    report.counts = counts;

    report.properties = BTreeMap::new();
    for p in parts {
        for (name, c) in &p.report.properties {
            let sum = report.properties.entry(name.clone()).or_default();
            sum.checked += c.checked;
            sum.failed += c.failed;
        }
    }
    for (id, rule) in report.rules.iter_mut() {
        let sum = |f: fn(&RuleSummary) -> usize| parts.iter().filter_map(|p| p.report.rules.get(id)).map(f).sum();
        rule.checked = sum(|r| r.checked);
        rule.deviations = sum(|r| r.deviations);
        rule.gate_deviations = sum(|r| r.gate_deviations);
    }
    let mut states = crate::outcome::StateCoverage::default();
    for p in parts {
        let s = &p.report.states;
        states.repositories += s.repositories;
        states.images += s.images;
        states.most_tags_on_an_image = states.most_tags_on_an_image.max(s.most_tags_on_an_image);
        states.most_images_in_a_repository = states.most_images_in_a_repository.max(s.most_images_in_a_repository);
        states.longest_repository_name = states.longest_repository_name.max(s.longest_repository_name);
        states.longest_tag = states.longest_tag.max(s.longest_tag);
    }
    report.states = states;

    // One minimal example per class: a canonical one where a partition has it.
    let mut minimal: BTreeMap<String, (usize, Value)> = BTreeMap::new();
    for (i, p) in parts.iter().enumerate() {
        for m in &p.minimal {
            let Some(slug) = m
                .get("class")
                .and_then(|c| serde_json::from_value::<ClassKey>(c.clone()).ok())
                .map(|k| k.slug())
            else {
                continue;
            };
            let canonical = m.get("canonical").and_then(Value::as_bool) == Some(true);
            let better = match minimal.get(&slug) {
                None => true,
                Some((_, old)) => canonical && old.get("canonical").and_then(Value::as_bool) != Some(true),
            };
            if better {
                minimal.insert(slug, (i, m.clone()));
            }
        }
    }
    let mut sources: Sources = minimal.iter().map(|(slug, (i, _))| (slug.clone(), *i)).collect();

    // Classes: united by slug, in the order they were first found; counts summed, the worst status.
    let mut classes: Vec<ClassReport> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        for c in &p.report.classes {
            sources.entry(c.slug.clone()).or_insert(i);
            if !classes.iter().any(|k| k.slug == c.slug) {
                classes.push(c.clone());
            }
        }
    }
    for class in &mut classes {
        let views: Vec<(usize, &ClassReport)> = parts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.report.classes.iter().find(|c| c.slug == class.slug).map(|c| (i, c)))
            .collect();
        let count = views.iter().map(|(_, c)| c.count).sum();
        let status = views
            .iter()
            .filter_map(|(_, c)| ClassStatus::parse(c.status))
            .max_by_key(|s| s.severity())
            .unwrap_or(ClassStatus::Unbaselined);
        let source = sources.get(&class.slug).copied().unwrap_or(0);
        if let Some((_, c)) = views.iter().find(|(i, _)| *i == source) {
            *class = (*c).clone();
        }
        class.count = count;
        class.status = status.as_str();
        class.fails_gate = crate::gate::fails_gate(status, class.key.level, report.strict);
    }

    let seen: BTreeSet<&str> = classes.iter().map(|c| c.slug.as_str()).collect();
    if let Some(baseline) = &mut report.baseline {
        let with = |s: ClassStatus| -> Vec<String> {
            classes
                .iter()
                .filter(|c| c.status == s.as_str())
                .map(|c| c.slug.clone())
                .collect()
        };
        baseline.known = with(ClassStatus::Known);
        baseline.new = with(ClassStatus::New);
        baseline.changed = with(ClassStatus::Changed);
        // Fixed only where no partition saw the class: one partition's worlds may lack it.
        let fixed: BTreeSet<String> = parts
            .iter()
            .filter_map(|p| p.report.baseline.as_ref())
            .flat_map(|b| b.fixed.iter().cloned())
            .filter(|f| !seen.contains(f.as_str()))
            .collect();
        baseline.fixed = fixed.into_iter().collect();
        baseline.pending = Vec::new();
    }

    report.faults = parts.iter().flat_map(|p| p.report.faults.clone()).collect();
    report.unconfirmed = parts.iter().flat_map(|p| p.report.unconfirmed.clone()).collect();
    report.skipped_cases = parts.iter().flat_map(|p| p.report.skipped_cases.clone()).collect();
    report.leftovers = parts.iter().flat_map(|p| p.report.leftovers.clone()).collect();
    let stops: Vec<String> = parts
        .iter()
        .filter_map(|p| {
            p.report.aborted.as_ref().map(|why| match p.report.partition {
                Some(x) => format!("partition {x}: {why}"),
                None => why.clone(),
            })
        })
        .collect();
    report.aborted = (!stops.is_empty()).then(|| stops.join("; "));
    let mut trials: Vec<String> = parts.iter().flat_map(|p| p.report.trials.clone()).collect();
    // The run's order: case files, then worlds by number.
    trials.sort_by_key(
        |t| match t.strip_prefix("world::").and_then(|w| w.parse::<usize>().ok()) {
            Some(w) => (1, w),
            None => (0, 0),
        },
    );
    report.trials = trials;
    report.classes = classes;
    let fixed = report.baseline.as_ref().map_or(0, |b| b.fixed.len());
    let unsure = !report.faults.is_empty()
        || !report.unconfirmed.is_empty()
        || report.counts.cases == 0
        || report.aborted.is_some();
    report.verdict = Verdict::decide(
        report.classes.iter().any(|c| c.fails_gate),
        fixed,
        report.strict,
        unsure,
    );

    let mut json = serde_json::to_value(&report).unwrap_or(Value::Null);
    if let Some(object) = json.as_object_mut() {
        let deviations: Vec<Value> = parts.iter().flat_map(|p| p.deviations.clone()).collect();
        object.insert("deviations".into(), Value::Array(deviations));
        object.insert(
            "minimal".into(),
            Value::Array(minimal.into_values().map(|(_, m)| m).collect()),
        );
    }
    (report, json, sources)
}

/// Pending snapshot files under a report folder (`<dir>/snapshots/<target>/`, where a run in CI
/// writes them), with their names.
fn pending_files(dir: &Path, target: &str) -> Vec<PathBuf> {
    let folder = dir.join("snapshots").join(target);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".new"))
        })
        .collect();
    files.sort();
    files
}

/// The slug a pending file is of: `<slug>.snap.new`, `<slug>.case.json.new`.
fn slug_of(file: &Path) -> Option<&str> {
    let name = file.file_name()?.to_str()?;
    name.strip_suffix(".snap.new")
        .or_else(|| name.strip_suffix(".case.json.new"))
}

/// The merged report's pending snapshots: those copied into `out`, and those a partition wrote
/// elsewhere (under the snapshot root, outside CI), once each.
fn pending_paths(parts: &[Part], out: &Path) -> Vec<PathBuf> {
    let target = &parts[0].report.target;
    let mut paths: BTreeSet<PathBuf> = BTreeSet::new();
    for p in parts {
        for pending in p.report.baseline.iter().flat_map(|b| b.pending.iter()) {
            let inside = pending
                .file_name()
                .map(|n| p.dir().join("snapshots").join(target).join(n));
            match inside {
                Some(f) if f.exists() || pending.starts_with(p.dir()) => {
                    if let Some(n) = pending.file_name() {
                        paths.insert(out.join("snapshots").join(target).join(n));
                    }
                }
                _ => {
                    paths.insert(pending.clone());
                }
            }
        }
    }
    paths.into_iter().collect()
}

fn write(report: &Report, json: Value, parts: &[Part], sources: &Sources, out: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    // Each class's case file, from the partition that speaks for the class.
    for class in &report.classes {
        let Some(file) = &class.case_file else { continue };
        let source = sources.get(&class.slug).copied().unwrap_or(0);
        let from = parts[source].dir().join(file);
        if from.is_file() {
            let to = out.join(file);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if from != to {
                std::fs::copy(&from, &to)?;
            }
        }
    }
    // Pending snapshots, one per name: the speaking partition's where it has one.
    let target = &report.target;
    let dest = out.join("snapshots").join(target);
    let mut copied: BTreeSet<String> = BTreeSet::new();
    // First the speaking partitions' files, then any other partition's not yet copied.
    for pass in [true, false] {
        for (i, part) in parts.iter().enumerate() {
            for file in pending_files(part.dir(), target) {
                let Some(name) = file.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
                    continue;
                };
                let speaks = slug_of(&file).is_some_and(|s| sources.get(s) == Some(&i));
                if copied.contains(&name) || (pass && !speaks) {
                    continue;
                }
                std::fs::create_dir_all(&dest)?;
                let to = dest.join(&name);
                if file != to {
                    std::fs::copy(&file, &to)?;
                }
                copied.insert(name);
            }
        }
    }
    let mut json = json;
    if let Some(b) = json.get_mut("baseline").and_then(Value::as_object_mut) {
        let pending: Vec<Value> = pending_paths(parts, out)
            .iter()
            .map(|p| Value::String(p.display().to_string()))
            .collect();
        b.insert("pending".into(), Value::Array(pending));
    }
    super::write_json(&json, out)?;
    let mut shown = report.clone();
    if let Some(b) = &mut shown.baseline {
        b.pending = pending_paths(parts, out);
    }
    super::write_renderings(&shown, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, partition: Option<&str>, trials: &[&str]) -> Part {
        let ctx = crate::report::RunContext::for_tests("t");
        let mut report = Report::new(&crate::outcome::RunOutcome::default(), &ctx, Vec::new(), None);
        report.partition = partition.map(|p| Partition::parse(p).expect(p));
        report.trials = trials.iter().map(|t| t.to_string()).collect();
        report.worlds_total = 3;
        Part {
            path: PathBuf::from(name).join("report.json"),
            report,
            deviations: Vec::new(),
            minimal: Vec::new(),
        }
    }

    #[test]
    fn reports_of_single_trials_must_hold_every_world_once() {
        let whole = [
            part("a", None, &["case::x", "world::1"]),
            part("b", None, &["world::2", "world::3"]),
        ];
        assert!(check_complete(&whole).is_ok());
        let short = [part("a", None, &["world::1"]), part("b", None, &["world::3"])];
        let e = check_complete(&short).expect_err("world 2 missing").to_string();
        assert!(e.contains("world::2") && e.contains("1 of 3 worlds missing"), "{e}");
        let twice = [
            part("a", None, &["world::1", "world::2"]),
            part("b", None, &["world::2", "world::3"]),
        ];
        let e = check_complete(&twice).expect_err("world 2 twice").to_string();
        assert!(e.contains("trial world::2 is in two reports"), "{e}");
        let mixed = [part("a", Some("1/2"), &["world::1"]), part("b", None, &["world::2"])];
        assert!(matches!(check_complete(&mixed), Err(MergeError::Mismatch(_))));
        let counts = [part("a", Some("1/2"), &[]), part("b", Some("2/3"), &[])];
        let e = check_complete(&counts).expect_err("2 and 3 partitions").to_string();
        assert!(e.contains("2/3"), "{e}");
    }
}

//! Snapshots: each deviation class is an insta snapshot file under `snapshots/<target>/`, showing
//! the minimal example (state and request), the endpoint's whole answer and an answer ECR gives,
//! what differs, and below it the rule, its claim and its evidence. Accepted
//! snapshots (`.snap`) are the target's baseline of known deviations; a new class leaves a pending
//! `.snap.new` that `cargo insta review` or `ecr-conformance review` accepts or rejects. In CI
//! (`CI` set) nothing under `snapshots/` is written: pending snapshots go to the report folder.

use crate::canonical::placeholders;
use crate::classes::Class;
use crate::model::RegistryPlan;
pub(crate) use crate::outcome::Comparison;
use crate::outcome::Minimal;
use crate::rules::rule_by_id;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The line that marks a canonical example in a snapshot.
const CANONICAL_MARK: &str = "example: minimal, canonical";

/// A class's example: its minimal one's deviation, images (named `<image-1>`...) and registry
/// id, or its first finding's without names where it has no minimal example.
pub(crate) fn example<'a>(
    class: &'a Class,
    minimal: Option<&'a Minimal>,
) -> (&'a crate::judge::Deviation, Vec<crate::canonical::NamedImage>, String) {
    match minimal {
        Some(m) => (
            &m.deviation,
            crate::canonical::named_images(&m.plan, &m.registry_id, &m.image_digests),
            m.registry_id.clone(),
        ),
        None => (&class.first.deviation, Vec::new(), String::new()),
    }
}

/// The body of a class's snapshot: what a person reviews.
pub(crate) fn render(class: &Class, minimal: Option<&Minimal>) -> String {
    let rule = rule_by_id(&class.key.rule);
    let mut s = String::new();
    let _ = writeln!(s, "class: {}", class.key.title());
    let (deviation, images, registry) = example(class, minimal);
    let mut body = String::new();
    if let Some(m) = minimal {
        let _ = writeln!(
            body,
            "example: {}",
            match (m.shrunk, m.canonical) {
                (false, _) => "as found (not shrunk), on the whole state",
                (true, true) => "minimal, canonical",
                (true, false) => "minimal",
            }
        );
        let _ = writeln!(body, "state:");
        body.push_str(&render_state(&m.plan));
        let _ = writeln!(body, "request:");
        body.push_str(&indent(&pretty(
            &serde_json::to_value(&m.canonical_request).unwrap_or(Value::Null),
        )));
    } else if let Some(r) = &class.first.request {
        let _ = writeln!(body, "example: as found (not shrunk)");
        let _ = writeln!(body, "request:");
        body.push_str(&indent(&pretty(&serde_json::to_value(r).unwrap_or(Value::Null))));
    } else {
        let _ = writeln!(
            body,
            "example: found while {}",
            if class.key.is(crate::outcome::Property::Seed) {
                "seeding"
            } else {
                "comparing listings"
            }
        );
    }
    // The whole exchange first, in wire shape: what the endpoint answered, and an answer ECR gives.
    if let Some(answers) = &deviation.answers {
        let _ = writeln!(body, "answer (the endpoint):");
        body.push_str(&indent(&pretty(&answers.answer)));
        let _ = writeln!(body, "answer (Amazon ECR, by the model):");
        body.push_str(&indent(&pretty(&answers.ecr_answer)));
    }
    let _ = writeln!(body, "deviation: {}", deviation.summary);
    let _ = writeln!(body, "expected:");
    body.push_str(&indent(&pretty(&deviation.expected)));
    let _ = writeln!(body, "actual:");
    body.push_str(&indent(&pretty(&deviation.actual)));
    // The model's reasoning below the example.
    let _ = writeln!(body, "rule: {} ({})", rule.id, class.key.level.as_str());
    let _ = writeln!(body, "claim: {}", rule.summary);
    let _ = writeln!(body, "evidence: {}", rule.source);
    let body = match minimal {
        // The canonical example's repositories are named repo-N under a run prefix: drop it.
        Some(m) => strip_prefixes(&body, &m.request.repository_name, &m.canonical_request.repository_name),
        None => body,
    };
    let body = strip_run_prefixes(&body);
    s.push_str(&placeholders(
        &body,
        &images,
        if registry.is_empty() { "\u{0}" } else { &registry },
    ));
    s
}

fn strip_prefixes(text: &str, sent: &str, canonical: &str) -> String {
    match sent.strip_suffix(canonical) {
        Some(prefix) if !prefix.is_empty() => text.replace(prefix, ""),
        _ => text.to_string(),
    }
}

/// Removes every run prefix (`ecrc-1a2b3c4d-w1/`, `-s12/`, `-c3/`): they name the run, not the bug.
pub(crate) fn strip_run_prefixes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(crate::seeding::TOOL_PREFIX) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos + crate::seeding::TOOL_PREFIX.len()..];
        let hex = tail.bytes().take_while(u8::is_ascii_hexdigit).count();
        let after_hex = &tail[hex..];
        let kind_ok =
            after_hex.len() > 2 && after_hex.as_bytes()[0] == b'-' && after_hex.as_bytes()[1].is_ascii_lowercase();
        let digits = if kind_ok {
            after_hex[2..].bytes().take_while(u8::is_ascii_digit).count()
        } else {
            0
        };
        let end = 2 + digits;
        if hex == 8 && kind_ok && digits > 0 && after_hex[end..].starts_with('/') {
            rest = &after_hex[end + 1..];
        } else {
            out.push_str(crate::seeding::TOOL_PREFIX);
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

fn render_state(plan: &RegistryPlan) -> String {
    let mut s = String::new();
    let Ok(state) = plan.build("000000000000") else {
        return "  (the state does not build)\n".into();
    };
    let mut n = 0;
    for (name, repo) in &state.repositories {
        let _ = writeln!(s, "  {name}:");
        for image in &repo.images {
            n += 1;
            let tags = if image.tags.is_empty() {
                "untagged".to_string()
            } else {
                format!("tags {}", image.tags.join(", "))
            };
            let _ = writeln!(
                s,
                "    image-{n}: {} ({tags}), {} bytes of manifest",
                image.media_type,
                image.manifest.len()
            );
        }
    }
    s
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// An insta snapshot file: a YAML header and the body.
pub(crate) fn file_text(class: &Class, body: &str) -> String {
    let rule = rule_by_id(&class.key.rule);
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "---\nsource: ecr-conformance\ndescription: {}\nexpression: {}\n---\n{body}",
        q(rule.summary),
        q(&class.title)
    )
}

/// What the run's classes are against the target's baseline.
#[cfg(test)]
mod tests {
    #[test]
    fn run_prefixes_are_stripped() {
        let t = "name 'ecrc-0000000a-s12/web' and ecrc-1a2b3c4d-w3/team/x and ecrc-notaprefix";
        assert_eq!(
            super::strip_run_prefixes(t),
            "name 'web' and team/x and ecrc-notaprefix"
        );
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("baseline {path}: {problem}")]
    Baseline { path: PathBuf, problem: String },
    #[error("cannot write snapshot {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// A snapshot file's body: what follows its header. insta compares bodies too; the header's
/// `description` is where a reviewer writes what the implementation does differently.
pub(crate) fn body_of(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(&rest[end + 5..])
}

/// The header of a snapshot file, up to and including its closing `---` line.
fn header_of(text: &str) -> Option<&str> {
    let body = body_of(text)?;
    Some(&text[..text.len() - body.len()])
}

/// The accepted snapshots of a baseline folder: slug to file text.
pub(crate) fn accepted_texts(dir: &Path) -> Result<std::collections::BTreeMap<String, String>, SnapshotError> {
    let mut out = std::collections::BTreeMap::new();
    for slug in accepted(dir)? {
        let path = dir.join(format!("{slug}.snap"));
        let text = std::fs::read_to_string(&path).map_err(|e| SnapshotError::Baseline {
            path,
            problem: e.to_string(),
        })?;
        out.insert(slug, text);
    }
    Ok(out)
}

/// The accepted snapshots of a baseline folder, by class slug.
pub(crate) fn accepted(dir: &Path) -> Result<BTreeSet<String>, SnapshotError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => {
            return Err(SnapshotError::Baseline {
                path: dir.into(),
                problem: e.to_string(),
            });
        }
    };
    let mut out = BTreeSet::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|e| SnapshotError::Baseline {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        if body_of(&text).is_none() {
            return Err(SnapshotError::Baseline {
                path,
                problem: "not an insta snapshot (no --- header)".into(),
            });
        }
        out.insert(stem.to_string());
    }
    Ok(out)
}

/// Compares the classes with the baseline under `dir` and writes the pending snapshots of new
/// classes into `pending_dir` (the baseline folder itself, or the report folder in CI).
/// The classes whose accepted example differs from this run's, where the baseline keeps that
/// example's case file (`<slug>.case.json`) to replay: (slug, the case file's path).
pub(crate) fn to_replay(
    classes: &[Class],
    minimal: &[Minimal],
    dir: &Path,
) -> Result<Vec<(String, PathBuf)>, SnapshotError> {
    let accepted = accepted_texts(dir)?;
    Ok(classes
        .iter()
        .filter(|class| {
            accepted
                .get(&class.slug)
                .is_some_and(|old| differs(old, &render(class, minimal.iter().find(|m| m.class == class.key))))
        })
        .map(|class| (class.slug.clone(), dir.join(format!("{}.{CASE_SUFFIX}", class.slug))))
        .filter(|(_, path)| path.is_file())
        .collect())
}

/// A baseline's case file of a class, beside its snapshot: the accepted example, replayable.
pub(crate) const CASE_SUFFIX: &str = "case.json";

/// Whether an accepted snapshot shows another example than `body`. A canonical example is the
/// same for every run that finds the class from the same start, so its accepted body must match
/// to the byte; an example that could not be made canonical may vary with the endpoint's history,
/// so for it the class's presence is what counts.
fn differs(old: &str, body: &str) -> bool {
    let canonical = |text: &str| text.contains(CANONICAL_MARK);
    body_of(old) != Some(body) && canonical(body) && body_of(old).is_some_and(canonical)
}

/// Compares the classes with the baseline under `dir` and writes the pending snapshots of new
/// and changed classes into `pending_dir` (the baseline folder itself, or the report folder in
/// CI), each with its example's case file. A class whose example differs from the accepted one
/// but whose accepted example, replayed, still shows it (`reproduced`) is known: the seed chose
/// another start, not the endpoint another behaviour.
#[allow(clippy::too_many_arguments)]
pub(crate) fn against_baseline(
    classes: &[Class],
    minimal: &[Minimal],
    target: &str,
    seed: u64,
    dir: &Path,
    pending_dir: &Path,
    reproduced: &BTreeSet<String>,
) -> Result<Comparison, SnapshotError> {
    let accepted = accepted_texts(dir)?;
    let mut c = Comparison {
        target: target.into(),
        baseline_dir: dir.into(),
        ..Comparison::default()
    };
    let write = |path: PathBuf, text: &str| -> Result<PathBuf, SnapshotError> {
        std::fs::create_dir_all(pending_dir).map_err(|source| SnapshotError::Write {
            path: pending_dir.into(),
            source,
        })?;
        std::fs::write(&path, crate::redact::text(text).as_bytes()).map_err(|source| SnapshotError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    };
    for class in classes {
        let m = minimal.iter().find(|m| m.class == class.key);
        let body = render(class, m);
        let case = m
            .and_then(|m| crate::cases::CaseFile::from_minimal(class, m, seed, target))
            .map(|c| c.to_json());
        let text = match accepted.get(&class.slug) {
            Some(old) if !differs(old, &body) || reproduced.contains(&class.slug) => {
                c.known.push(class.slug.clone());
                // The accepted example's case file, where the baseline lacks it and this run's
                // example is that very example.
                let case_path = dir.join(format!("{}.{CASE_SUFFIX}", class.slug));
                if body_of(old) == Some(body.as_str())
                    && !case_path.exists()
                    && dir == pending_dir
                    && let Some(case) = &case
                {
                    write(case_path, case)?;
                }
                continue;
            }
            Some(old) => {
                // Keep the reviewer's header (their note on the class) on the pending update.
                c.changed.push(class.slug.clone());
                format!("{}{body}", header_of(old).unwrap_or_default())
            }
            None => {
                c.new.push(class.slug.clone());
                file_text(class, &body)
            }
        };
        let path = write(pending_dir.join(format!("{}.snap.new", class.slug)), &text)?;
        c.pending.push(path);
        let case_path = pending_dir.join(format!("{}.{CASE_SUFFIX}.new", class.slug));
        match &case {
            Some(case) => {
                write(case_path, case)?;
            }
            None => {
                let _ = std::fs::remove_file(case_path);
            }
        }
    }
    let occurred: BTreeSet<&str> = classes.iter().map(|c| c.slug.as_str()).collect();
    c.fixed = accepted
        .keys()
        .filter(|a| !occurred.contains(a.as_str()))
        .cloned()
        .collect();
    // Pending files of classes that no longer occur are stale: remove them.
    if let Ok(entries) = std::fs::read_dir(pending_dir) {
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| {
                n.strip_suffix(".snap.new")
                    .or_else(|| n.strip_suffix(&format!(".{CASE_SUFFIX}.new")))
            }) && !c.new.iter().chain(&c.changed).any(|n| n == stem)
            {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    Ok(c)
}

/// A pending snapshot accepted (renamed to `.snap`) or rejected (deleted).
/// Its example's case file goes with it, where there is one (else the accepted one, of another
/// example, is removed).
pub(crate) fn decide(pending: &Path, accept: bool) -> std::io::Result<()> {
    let name = pending.to_string_lossy().into_owned();
    let case = name.strip_suffix(".snap.new").map(|stem| {
        (
            PathBuf::from(format!("{stem}.{CASE_SUFFIX}.new")),
            PathBuf::from(format!("{stem}.{CASE_SUFFIX}")),
        )
    });
    if accept {
        let target = PathBuf::from(name.strip_suffix(".new").unwrap_or(&name));
        std::fs::rename(pending, target)?;
        if let Some((new, accepted)) = case {
            if new.exists() {
                std::fs::rename(new, accepted)?;
            } else if accepted.exists() {
                std::fs::remove_file(accepted)?;
            }
        }
        Ok(())
    } else {
        std::fs::remove_file(pending)?;
        if let Some((new, _)) = case
            && new.exists()
        {
            std::fs::remove_file(new)?;
        }
        Ok(())
    }
}

/// Every pending snapshot under `root` (one level of target folders).
pub(crate) fn pending_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(targets) = std::fs::read_dir(root) else {
        return out;
    };
    for t in targets.filter_map(Result::ok) {
        let Ok(files) = std::fs::read_dir(t.path()) else {
            continue;
        };
        for f in files.filter_map(Result::ok) {
            if f.path().to_string_lossy().ends_with(".snap.new") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

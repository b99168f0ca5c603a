//! The conformance matrix: from several runs' `report.json`, a table of rules by implementation,
//! each cell `fail` (a gate deviation), `differs` (advisory deviations only), `pass` (judged, no
//! deviation) or `untested` (no answer was judged by the rule). A report from before coverage was
//! counted has no `checked`: its cells without a deviation are `unknown`, and the matrix says so.

use super::RuleStatus;
use crate::rules::RULES;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("{path}: {problem}")]
    Report { path: String, problem: String },
    #[error("{path}: no `{begin}` ... `{end}` markers to put the matrix between")]
    Markers {
        path: String,
        begin: &'static str,
        end: &'static str,
    },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

pub const BEGIN: &str = "<!-- matrix:begin -->";
pub const END: &str = "<!-- matrix:end -->";

/// One implementation's column: its name and, per rule, (deviations, gate deviations, checked);
/// `checked` is None where the report does not count it.
struct Column {
    name: String,
    rules: std::collections::BTreeMap<String, (u64, u64, Option<u64>)>,
}

impl Column {
    /// Whether the report counts the answers each rule judged (reports before it did not).
    fn counts_coverage(&self) -> bool {
        self.rules.values().any(|(_, _, checked)| checked.is_some())
    }
}

/// A run's `report.json`, read and checked to be one; errors name the file.
pub(crate) fn read_report(path: &Path) -> Result<Value, MatrixError> {
    let bad = |problem: String| MatrixError::Report {
        path: path.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    if v.get("tool").and_then(Value::as_str) != Some("ecr-conformance") {
        return Err(bad("not an ecr-conformance report.json".into()));
    }
    Ok(v)
}

fn load(path: &Path, name: Option<&str>) -> Result<Column, MatrixError> {
    let bad = |problem: String| MatrixError::Report {
        path: path.display().to_string(),
        problem,
    };
    let v = read_report(path)?;
    let rules = v
        .get("rules")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("no `rules`".into()))?
        .iter()
        .map(|(id, r)| {
            let n = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
            (
                id.clone(),
                (
                    n("deviations"),
                    n("gateDeviations"),
                    r.get("checked").and_then(Value::as_u64),
                ),
            )
        })
        .collect();
    Ok(Column {
        name: name
            .map(str::to_string)
            .unwrap_or_else(|| v.get("target").and_then(Value::as_str).unwrap_or("?").to_string()),
        rules,
    })
}

/// The matrix as Markdown. `reports` are `(path, optional column name)`.
pub fn render(reports: &[(std::path::PathBuf, Option<String>)]) -> Result<String, MatrixError> {
    let columns: Vec<Column> = reports
        .iter()
        .map(|(p, n)| load(p, n.as_deref()))
        .collect::<Result<_, _>>()?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| rule | level | {} |",
        columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(s, "|---|---|{}", "---|".repeat(columns.len()));
    for rule in RULES {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match c.rules.get(rule.id) {
                Some(&(all, gate, checked)) => {
                    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
                    match RuleStatus::of(count(all), count(gate), checked.map(count)) {
                        RuleStatus::Fail => "**fail**".to_string(),
                        other => other.as_str().to_string(),
                    }
                }
                None => "—".to_string(),
            })
            .collect();
        let _ = writeln!(s, "| `{}` | {} | {} |", rule.id, rule.level.as_str(), cells.join(" | "));
    }
    let _ = writeln!(
        s,
        "\n{}; —: the report does not know the rule.",
        super::RULE_STATUS_LEGEND
    );
    let uncounted: Vec<String> = columns
        .iter()
        .filter(|c| !c.counts_coverage())
        .map(|c| format!("`{}`", c.name))
        .collect();
    if !uncounted.is_empty() {
        let _ = writeln!(
            s,
            "\nunknown: {} from before coverage was counted (no `checked`): a rule without a deviation there may have judged no answer, so it is not a pass.",
            if uncounted.len() == 1 {
                format!("the report of {} is", uncounted[0])
            } else {
                format!("the reports of {} are", uncounted.join(", "))
            }
        );
    }
    Ok(s)
}

/// `text` with the part between the markers replaced by `matrix`.
pub fn splice(text: &str, matrix: &str, path: &str) -> Result<String, MatrixError> {
    let err = || MatrixError::Markers {
        path: path.into(),
        begin: BEGIN,
        end: END,
    };
    let start = text.find(BEGIN).ok_or_else(err)? + BEGIN.len();
    let end = text[start..].find(END).ok_or_else(err)? + start;
    Ok(format!("{}\n{}{}", &text[..start], matrix, &text[end..]))
}

/// The reports a `matrix` command names: `PATH` or `PATH=NAME` (the column's name).
pub fn parse_reports(args: &[String]) -> Vec<(std::path::PathBuf, Option<String>)> {
    args.iter()
        .map(|r| match r.split_once('=') {
            Some((path, name)) => (path.into(), Some(name.to_string())),
            None => (r.into(), None),
        })
        .collect()
}

/// What `matrix --readme FILE` did, or (with `--check`) would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadmeUpdate {
    /// The file's matrix is the current one.
    Current,
    /// The file's matrix was replaced by the current one.
    Written,
    /// `--check`: the file's matrix is not the current one; nothing was written.
    Stale,
}

/// Puts `table` into the file at `path` between the markers; with `check`, only says whether
/// it is there already.
pub fn update_readme(path: &Path, table: &str, check: bool) -> Result<ReadmeUpdate, MatrixError> {
    let shown = path.display().to_string();
    let io = |source| MatrixError::Io {
        path: shown.clone(),
        source,
    };
    let old = std::fs::read_to_string(path).map_err(io)?;
    let new = splice(&old, table, &shown)?;
    if old == new {
        return Ok(ReadmeUpdate::Current);
    }
    if check {
        return Ok(ReadmeUpdate::Stale);
    }
    std::fs::write(path, new).map_err(io)?;
    Ok(ReadmeUpdate::Written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(dir: &Path, name: &str, target: &str, rules: Value) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(
            &p,
            serde_json::json!({"tool": "ecr-conformance", "target": target, "verdict": "fail", "rules": rules})
                .to_string(),
        )
        .expect("write");
        p
    }

    #[test]
    fn cells_say_pass_fail_differs_or_untested_and_the_legend_says_what_untested_means() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path().to_path_buf();
        let a = report(
            &dir,
            "a.json",
            "moto",
            serde_json::json!({
                "I-TAG": {"checked": 9, "deviations": 3, "gateDeviations": 3},
                "I-DUP-ONCE": {"checked": 4, "deviations": 2, "gateDeviations": 0},
                "I-ECHO": {"checked": 7, "deviations": 0, "gateDeviations": 0},
                "I-ORDER": {"checked": 0, "deviations": 0, "gateDeviations": 0},
            }),
        );
        let m = render(&[(a, None)]).expect("matrix");
        assert!(m.contains("| `I-TAG` | gate | **fail** |"), "{m}");
        assert!(m.contains("| `I-DUP-ONCE` | advisory | differs |"), "{m}");
        assert!(m.contains("| `I-ECHO` | gate | pass |"), "{m}");
        assert!(m.contains("| `I-ORDER` | advisory | untested |"), "{m}");
        assert!(m.contains("untested: no answer was judged by the rule"), "{m}");
        assert!(!m.contains("unknown:"), "{m}");
        let readme = format!("intro\n{BEGIN}\nold\n{END}\nrest\n");
        let spliced = splice(&readme, &m, "README.md").expect("markers");
        assert!(
            spliced.contains("**fail**") && !spliced.contains("old") && spliced.ends_with(&format!("{END}\nrest\n"))
        );
        assert!(splice("no markers", &m, "README.md").is_err());
        std::fs::write(dir.join("bad.json"), "{}").expect("write");
        assert!(render(&[(dir.join("bad.json"), None)]).is_err());
    }

    #[test]
    fn a_report_from_before_coverage_was_counted_loads_and_its_silent_rules_are_unknown() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path().to_path_buf();
        let old = report(
            &dir,
            "old.json",
            "moto",
            serde_json::json!({"I-TAG": {"deviations": 3, "gateDeviations": 3}, "I-ECHO": {"deviations": 0, "gateDeviations": 0}}),
        );
        let new = report(
            &dir,
            "new.json",
            "embedded",
            serde_json::json!({"I-TAG": {"checked": 5, "deviations": 0, "gateDeviations": 0}, "I-ECHO": {"checked": 0, "deviations": 0, "gateDeviations": 0}}),
        );
        let m = render(&[(old, None), (new, None)]).expect("an old report still loads");
        assert!(m.contains("| `I-TAG` | gate | **fail** | pass |"), "{m}");
        assert!(m.contains("| `I-ECHO` | gate | unknown | untested |"), "{m}");
        assert!(
            m.contains("unknown: the report of `moto` is from before coverage was counted"),
            "{m}"
        );
        assert!(!m.contains("| pass | pass"), "{m}");
    }
}

//! The conformance matrix: from several runs' `report.json`, a table of rules by implementation,
//! each cell `pass`, `fail` (a gate deviation) or `differs` (advisory deviations only).

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

/// One implementation's column: its name and, per rule, (deviations, gate deviations).
struct Column {
    name: String,
    rules: std::collections::BTreeMap<String, (u64, u64)>,
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
            (id.clone(), (n("deviations"), n("gateDeviations")))
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
                Some((_, gate)) if *gate > 0 => "**fail**".to_string(),
                Some((all, _)) if *all > 0 => "differs".to_string(),
                Some(_) => "pass".to_string(),
                None => "—".to_string(),
            })
            .collect();
        let _ = writeln!(s, "| `{}` | {} | {} |", rule.id, rule.level.as_str(), cells.join(" | "));
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
    fn cells_say_pass_fail_or_differs() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path().to_path_buf();
        let a = report(
            &dir,
            "a.json",
            "moto",
            serde_json::json!({"I-TAG": {"deviations": 3, "gateDeviations": 3}, "I-DUP-ONCE": {"deviations": 2, "gateDeviations": 0}, "I-ECHO": {"deviations": 0, "gateDeviations": 0}}),
        );
        let m = render(&[(a, None)]).expect("matrix");
        assert!(m.contains("| `I-TAG` | gate | **fail** |"), "{m}");
        assert!(m.contains("| `I-DUP-ONCE` | advisory | differs |"), "{m}");
        assert!(m.contains("| `I-ECHO` | gate | pass |"), "{m}");
        let readme = format!("intro\n{BEGIN}\nold\n{END}\nrest\n");
        let spliced = splice(&readme, &m, "README.md").expect("markers");
        assert!(
            spliced.contains("**fail**") && !spliced.contains("old") && spliced.ends_with(&format!("{END}\nrest\n"))
        );
        assert!(splice("no markers", &m, "README.md").is_err());
        std::fs::write(dir.join("bad.json"), "{}").expect("write");
        assert!(render(&[(dir.join("bad.json"), None)]).is_err());
    }
}

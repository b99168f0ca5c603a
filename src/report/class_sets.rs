//! Several runs' deviation classes side by side: whether runs with different seeds (or on
//! different days) found the same classes, and which classes only some of them found. A class
//! is a finding about the implementation, so a finding that depends on the seed is a finding the
//! gate cannot keep: CI compares two seeds' runs with this.

use super::matrix::MatrixError;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The slugs of the classes of one `report.json`.
pub fn load(path: &Path) -> Result<BTreeSet<String>, MatrixError> {
    let bad = |problem: String| MatrixError::Report {
        path: path.display().to_string(),
        problem,
    };
    super::matrix::read_report(path)?
        .get("classes")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `classes`".into()))?
        .iter()
        .map(|c| {
            c.get("slug")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad("a class without a `slug`".into()))
        })
        .collect()
}

/// The comparison of several reports' classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub reports: Vec<PathBuf>,
    /// Classes every report found.
    pub common: usize,
    /// Each class that some reports found and others did not, with the reports that found it.
    pub partial: BTreeMap<String, Vec<usize>>,
}

impl Comparison {
    pub fn same(&self) -> bool {
        self.partial.is_empty()
    }

    /// One line for the verdict, then one per class that not every report found.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} reports: {} classes found by every one, {} by some only",
            self.reports.len(),
            self.common,
            self.partial.len()
        );
        for (slug, found_by) in &self.partial {
            let names: Vec<String> = found_by
                .iter()
                .map(|&i| self.reports[i].display().to_string())
                .collect();
            let _ = writeln!(s, "  {slug}: only in {}", names.join(", "));
        }
        s
    }
}

pub fn across_reports(reports: &[PathBuf]) -> Result<Comparison, MatrixError> {
    let sets: Vec<BTreeSet<String>> = reports.iter().map(|p| load(p)).collect::<Result<_, _>>()?;
    let all: BTreeSet<&String> = sets.iter().flatten().collect();
    let mut common = 0;
    let mut partial = BTreeMap::new();
    for slug in all {
        let found_by: Vec<usize> = (0..sets.len()).filter(|&i| sets[i].contains(slug)).collect();
        if found_by.len() == sets.len() {
            common += 1;
        } else {
            partial.insert(slug.clone(), found_by);
        }
    }
    Ok(Comparison {
        reports: reports.to_vec(),
        common,
        partial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(dir: &Path, name: &str, slugs: &[&str]) -> PathBuf {
        let path = dir.join(name);
        let classes: Vec<Value> = slugs.iter().map(|s| serde_json::json!({"slug": s})).collect();
        let body = serde_json::json!({"tool": "ecr-conformance", "classes": classes});
        std::fs::write(&path, body.to_string()).expect("write");
        path
    }

    #[test]
    fn the_same_classes_in_another_order_are_the_same() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path().to_path_buf();
        let a = report(&dir, "a.json", &["x", "y"]);
        let b = report(&dir, "b.json", &["y", "x"]);
        let c = across_reports(&[a, b]).expect("compare");
        assert!(c.same());
        assert_eq!(c.common, 2);
    }

    #[test]
    fn a_class_one_run_lacks_is_named_with_the_runs_that_found_it() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path().to_path_buf();
        let a = report(&dir, "a.json", &["x", "y"]);
        let b = report(&dir, "b.json", &["x"]);
        let c = across_reports(&[a.clone(), b]).expect("compare");
        assert!(!c.same());
        assert_eq!(c.partial.get("y"), Some(&vec![0]));
        assert!(
            c.render().contains(&format!("y: only in {}", a.display())),
            "{}",
            c.render()
        );
    }

    #[test]
    fn a_file_that_is_not_a_report_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path().to_path_buf();
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{}").expect("write");
        let e = across_reports(std::slice::from_ref(&bad)).expect_err("not a report");
        assert!(e.to_string().contains("bad.json"), "{e}");
    }
}

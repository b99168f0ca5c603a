//! The session's own checks: where a replay writes, what a target name may be.

use super::config::{check_target_name, replay_out};
use std::path::{Path, PathBuf};

#[test]
fn a_replay_writes_under_replay_named_after_its_case_files() {
    let root = Path::new("reports");
    let out = |files: &[&str]| replay_out(root, &files.iter().map(PathBuf::from).collect::<Vec<_>>());
    assert_eq!(
        out(&["reports/cases/i-tag-case-gate-model.json"]),
        root.join("replay").join("i-tag-case-gate-model")
    );
    assert_eq!(
        out(&["snapshots/moto/i-echo-gate-model.case.json"]),
        root.join("replay").join("i-echo-gate-model")
    );
    assert_eq!(out(&["cases/a.json", "b.json"]), root.join("replay").join("a+b"));
    assert_eq!(out(&[".json"]), root.join("replay").join("case"));
    let many: Vec<String> = (0..20).map(|i| format!("cases/some-long-case-name-{i}.json")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(out(&many), root.join("replay").join("some-long-case-name-0+19-more"));
}

#[test]
fn a_target_name_is_one_plain_segment() {
    for good in ["moto", "embedded-mismatch-ignored+dup-each", "127.0.0.1-4566", "a..b"] {
        assert!(check_target_name(good).is_ok(), "{good}");
    }
    for bad in ["", ".", "..", "../x", "a/b", "/abs", "a\\b", "x/"] {
        let e = check_target_name(bad).expect_err(bad).to_string();
        assert!(e.contains("--target") && e.contains("not a plain name"), "{e}");
    }
}

//! The case files under `cases/` (the AWS documentation examples among them) agree with the model.

use ecr_conformance::cases::CaseFile;
use std::path::Path;

fn cases() -> Vec<(std::path::PathBuf, CaseFile)> {
    CaseFile::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")).expect("cases/ loads")
}

#[test]
fn every_case_file_agrees_with_the_model() {
    // cases/recorded/ included: a captured answer of real ECR is a regression test of the model.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let checked = CaseFile::check_dir(&dir).unwrap_or_else(|problems| panic!("{problems}"));
    assert!(checked >= 5, "cases/ holds {checked} cases");
    assert_eq!(checked, cases().len());
}

#[test]
fn the_documentation_examples_are_cases() {
    let names: Vec<String> = cases().into_iter().map(|(_, c)| c.name).collect();
    for name in [
        "boto3-ubuntu-precise",
        "aws-cli-cluster-autoscaler",
        "aws-cli-two-tags-one-image",
    ] {
        assert!(names.iter().any(|n| n == name), "missing case {name}");
    }
}

#[test]
fn a_case_whose_answer_contradicts_the_model_is_reported() {
    let (_, mut case) = cases()
        .into_iter()
        .find(|(_, c)| c.name == "aws-cli-cluster-autoscaler")
        .expect("case");
    case.expected.body["images"][0]["imageId"]["imageTag"] = serde_json::json!("v9");
    let deviations = case.check_against_model().expect("readable");
    assert!(deviations.iter().any(|d| d.rule == "I-TAG"), "{deviations:?}");
}

#[test]
fn a_malformed_case_file_names_the_file_and_the_problem() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = tmp.path();
    let path = dir.join("broken.json");
    std::fs::write(
        &path,
        r#"{"name": "x", "registryId": "123456789012", "repositories": [], "reqest": {}}"#,
    )
    .expect("write");
    let err = CaseFile::load_dir(dir).expect_err("must fail").to_string();
    assert!(err.contains("broken.json") && err.contains("reqest"), "{err}");
    std::fs::write(
        &path,
        r#"{"name": "x", "registryId": "12", "repositories": [],
        "request": {"repositoryName": "r1", "imageIds": []}, "expected": {"status": 200, "body": {}}}"#,
    )
    .expect("write");
    let err = CaseFile::load_dir(dir).expect_err("must fail").to_string();
    assert!(err.contains("broken.json") && err.contains("registryId"), "{err}");
}

#[test]
fn a_case_folder_includes_its_subfolders_and_names_are_unique_across_them() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = tmp.path();
    let (_, template) = cases()
        .into_iter()
        .find(|(_, c)| c.name == "mixed-failures")
        .expect("case");
    let write = |relative: &str, name: &str| {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folder");
        let mut case = template.clone();
        case.name = name.into();
        std::fs::write(&path, case.to_json()).expect("write");
    };
    write("top.json", "top");
    write("recorded/somewhere-2026-01-01/probe.json", "nested");
    write(".hidden/ignored.json", "hidden");
    std::fs::write(dir.join("recorded").join("README.md"), "not a case").expect("write");
    let names: Vec<String> = CaseFile::load_dir(dir)
        .expect("loads")
        .into_iter()
        .map(|(_, c)| c.name)
        .collect();
    assert_eq!(
        names,
        ["nested", "top"],
        "sorted by path; hidden folders and other files skipped"
    );
    assert_eq!(CaseFile::check_dir(dir), Ok(2));

    write("recorded/other-2026-01-02/probe.json", "top");
    let err = CaseFile::load_dir(dir).expect_err("a name used twice").to_string();
    assert!(err.contains("other-2026-01-02") && err.contains("top.json"), "{err}");
}

#[test]
fn a_case_the_model_does_not_predict_fails_the_folder_check_naming_the_file() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let (_, mut case) = cases()
        .into_iter()
        .find(|(_, c)| c.name == "aws-cli-cluster-autoscaler")
        .expect("case");
    case.expected.body["images"][0]["imageId"]["imageTag"] = serde_json::json!("v9");
    let path = tmp.path().join("recorded").join("capture").join("wrong.json");
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("folder");
    std::fs::write(&path, case.to_json()).expect("write");
    let err = CaseFile::check_dir(tmp.path()).expect_err("the model disagrees");
    assert!(err.contains("wrong.json") && err.contains("I-TAG"), "{err}");
}

#[test]
fn cases_recorded_holds_real_captures_only_each_folder_named_in_its_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases").join("recorded");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("cases/recorded/README.md");
    assert!(
        readme.contains("ecr-conformance calibrate") && readme.contains("## Captures"),
        "the README says how a capture gets there, and lists the captures"
    );
    let problems = ecr_conformance::cases::recorded_problems(&root);
    assert!(problems.is_empty(), "{problems:#?}");
}

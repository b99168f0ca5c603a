//! The case files under `cases/` (the AWS documentation examples among them) agree with the model.

use ecr_conformance::cases::CaseFile;
use std::path::Path;

fn cases() -> Vec<(std::path::PathBuf, CaseFile)> {
    CaseFile::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")).expect("cases/ loads")
}

#[test]
fn every_case_file_agrees_with_the_model() {
    let all = cases();
    assert!(all.len() >= 5, "cases/ holds {} cases", all.len());
    for (path, case) in all {
        let deviations = case
            .check_against_model()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            deviations.is_empty(),
            "{}: the model disagrees with the recorded answer: {deviations:#?}",
            path.display()
        );
    }
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

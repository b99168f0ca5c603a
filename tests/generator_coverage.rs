//! The generators reach every category they promise, and the model, fed by them, reaches every
//! failure code and every rule it decides.

use ecr_conformance::generate::{IdCategory, RequestCategory, plans, requests};
use ecr_conformance::model::{self, Expected, Outcome, RegistryState};
use ecr_conformance::rules::id;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::BTreeSet;
use std::sync::Arc;

fn runner() -> TestRunner {
    TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

#[test]
fn every_category_failure_code_and_model_rule_occurs() {
    let mut runner = runner();
    let mut id_categories = BTreeSet::new();
    let mut request_categories = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut error_types = BTreeSet::new();
    let mut rules = BTreeSet::new();
    let mut manifest_rules = BTreeSet::new();
    for _ in 0..60 {
        let plan = plans::registry_plan().new_tree(&mut runner).expect("plan").current();
        let state = Arc::new(plan.build("123456789012").expect("builds"));
        let cases = requests::case(state.clone());
        for _ in 0..40 {
            let case = cases.new_tree(&mut runner).expect("case").current();
            assert_eq!(case.id_categories.len(), case.request.image_ids.len());
            request_categories.insert(case.category);
            id_categories.extend(case.id_categories.iter().copied());
            match model::batch_get_image(&state, &case.request) {
                Expected::Error(e) => {
                    rules.insert(e.rule);
                    error_types.insert(e.error_types[0]);
                }
                Expected::Answers(a) => {
                    for x in a.ids {
                        rules.insert(x.rule);
                        match x.outcome {
                            Outcome::Failure { code, .. } => {
                                codes.insert(code.as_str().to_string());
                            }
                            Outcome::Image(i) => {
                                manifest_rules.insert(i.manifest_rule);
                            }
                            Outcome::ImagesByDigest { images } => {
                                manifest_rules.extend(images.iter().map(|i| i.manifest_rule));
                            }
                        }
                    }
                }
            }
        }
    }
    let missing: Vec<_> = IdCategory::ALL.iter().filter(|c| !id_categories.contains(c)).collect();
    assert!(missing.is_empty(), "id categories never drawn: {missing:?}");
    let missing: Vec<_> = RequestCategory::ALL
        .iter()
        .filter(|c| !request_categories.contains(c))
        .collect();
    assert!(missing.is_empty(), "request categories never drawn: {missing:?}");
    for code in [
        "ImageNotFound",
        "ImageTagDoesNotMatchDigest",
        "MissingDigestAndTag",
        "InvalidImageDigest",
    ] {
        assert!(codes.contains(code), "failure code {code} never produced: {codes:?}");
    }
    for t in [
        "InvalidParameterException",
        "RepositoryNotFoundException",
        "AccessDeniedException",
    ] {
        assert!(error_types.contains(t), "error {t} never produced: {error_types:?}");
    }
    for rule in [
        id::I_TAG,
        id::I_DIGEST,
        id::I_BOTH,
        id::I_MISMATCH,
        id::I_NOT_FOUND,
        id::I_NEITHER,
        id::I_BAD_DIGEST,
        id::I_BAD_DIGEST_WITH_TAG,
        id::I_BAD_TAG,
        id::I_TAG_CASE,
        id::I_SCOPE,
        id::I_SAME_DIGEST_TAGS,
        id::R_REPO_NOT_FOUND,
        id::R_IDS_EMPTY,
        id::R_IDS_TOO_MANY,
        id::R_REPO_NAME_INVALID,
        id::R_REPO_NAME_NEW_ONLY,
        id::R_REGISTRY_INVALID,
        id::R_REGISTRY_FOREIGN,
        id::R_MEDIA_EMPTY,
        id::R_ORDER,
    ] {
        assert!(rules.contains(rule), "rule {rule} never decided an answer: {rules:?}");
    }
    for rule in [
        id::M_DEFAULT,
        id::M_ACCEPTED,
        id::M_BY_DIGEST,
        id::M_TRANSLATE,
        id::M_UNACCEPTABLE,
    ] {
        assert!(
            manifest_rules.contains(rule),
            "media-type rule {rule} never used: {manifest_rules:?}"
        );
    }
}

#[test]
fn states_have_every_shape_the_reference_talks_about() {
    let mut runner = runner();
    let (
        mut nested,
        mut long,
        mut lists,
        mut indexes,
        mut untagged,
        mut multi_tag,
        mut case_twins,
        mut oci,
        mut formats,
    ) = (false, false, false, false, false, false, false, false, BTreeSet::new());
    for _ in 0..300 {
        let plan = plans::registry_plan().new_tree(&mut runner).expect("plan").current();
        let state: RegistryState = plan.build("123456789012").expect("builds");
        for (name, repo) in &state.repositories {
            nested |= name.contains('/');
            long |= name.len() > 200;
            let tags: Vec<&str> = repo.tags().collect();
            case_twins |= tags
                .iter()
                .any(|a| tags.iter().any(|b| a != b && a.eq_ignore_ascii_case(b)));
            for i in &repo.images {
                lists |= i.media_type == ecr_conformance::wire::media_type::DOCKER_LIST;
                indexes |= i.media_type == ecr_conformance::wire::media_type::OCI_INDEX;
                oci |= i.media_type == ecr_conformance::wire::media_type::OCI_MANIFEST;
                untagged |= i.tags.is_empty();
                multi_tag |= i.tags.len() > 1;
                formats.insert(if i.manifest.contains("\n\t") {
                    "tabs"
                } else if i.manifest.contains('\n') {
                    "pretty"
                } else {
                    "compact"
                });
            }
        }
    }
    assert!(
        nested && long && lists && indexes && untagged && multi_tag && case_twins && oci,
        "nested {nested} long {long} lists {lists} indexes {indexes} untagged {untagged} multi-tag {multi_tag} case twins {case_twins} oci {oci}"
    );
    assert_eq!(formats.len(), 3, "{formats:?}");
}

#[test]
fn id_lists_reach_one_hundred_and_beyond() {
    let mut runner = runner();
    let plan = plans::registry_plan().new_tree(&mut runner).expect("plan").current();
    let state = Arc::new(plan.build("123456789012").expect("builds"));
    let cases = requests::case(state);
    let lens: Vec<usize> = (0..600)
        .map(|_| {
            cases
                .new_tree(&mut runner)
                .expect("case")
                .current()
                .request
                .image_ids
                .len()
        })
        .collect();
    assert!(lens.contains(&0));
    assert!(lens.iter().any(|&n| (50..=100).contains(&n)));
    assert!(lens.iter().any(|&n| n > 100));
}

#[test]
fn shrinking_goes_towards_fewer_repositories_images_and_ids() {
    let mut runner = runner();
    // Shrink a plan as far as a property that always fails allows: the result is minimal.
    let mut tree = plans::registry_plan().new_tree(&mut runner).expect("plan");
    for _ in 0..2000 {
        if !tree.simplify() {
            break;
        }
    }
    let minimal = tree.current();
    assert_eq!(minimal.repositories.len(), 1);
    let repo = &minimal.repositories[0];
    assert!(repo.pushes.len() <= 1, "{repo:?}");
    assert!(repo.name.len() <= 2, "name {:?}", repo.name);
}

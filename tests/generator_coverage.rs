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
    let mut empty_tags = 0;
    for _ in 0..60 {
        let plan = plans::registry_plan().new_tree(&mut runner).expect("plan").current();
        let state = Arc::new(plan.build("123456789012").expect("builds"));
        let cases = requests::case(state.clone());
        for _ in 0..40 {
            let case = cases.new_tree(&mut runner).expect("case").current();
            assert_eq!(case.id_categories.len(), case.request.image_ids.len());
            for (c, i) in case.id_categories.iter().zip(&case.request.image_ids) {
                // An empty tag is I-EMPTY's, labelled so, and only in the request category
                // made for tags that refuse the request.
                if i.image_tag.as_deref() == Some("") {
                    assert_eq!((*c, case.category), (IdCategory::Empty, RequestCategory::TagInvalid));
                    empty_tags += 1;
                }
            }
            request_categories.insert(case.category);
            id_categories.extend(case.id_categories.iter().copied());
            match model::batch_get_image(&state, &case.request) {
                Expected::Error(e) => {
                    rules.insert(e.rule);
                    error_types.insert(e.error_types[0]);
                }
                Expected::Answers(a) => {
                    // Ids naming one image together decide I-SAME-DIGEST-TAGS (rev 3 F7).
                    if !a.shares.is_empty() {
                        rules.insert(id::I_SAME_DIGEST_TAGS);
                    }
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
    assert!(empty_tags > 0);
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
        id::I_EMPTY,
        id::I_TAG_CHARSET,
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
    let (mut most_tags, mut most_images, mut longest_name, mut longest_tag) = (0, 0, 0, 0);
    for _ in 0..300 {
        let plan = plans::registry_plan().new_tree(&mut runner).expect("plan").current();
        let state: RegistryState = plan.build("123456789012").expect("builds");
        for (name, repo) in &state.repositories {
            nested |= name.contains('/');
            long |= name.len() > 200;
            longest_name = longest_name.max(name.len());
            most_images = most_images.max(repo.images.len());
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
                most_tags = most_tags.max(i.tags.len());
                longest_tag = longest_tag.max(i.tags.iter().map(String::len).max().unwrap_or(0));
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
    // As users have them: an image with many tags, a repository with tens of images; and names
    // and tags at the limits (a name at the room left for any prefix, a tag at ECR's 300).
    assert!(
        most_tags >= 15 && most_images >= 10,
        "{most_tags} tags, {most_images} images"
    );
    assert_eq!((longest_name, longest_tag), (plans::MAX_NAME, 300));
}

#[test]
fn a_world_prefix_puts_names_at_the_limit_at_ecrs_256_characters() {
    let mut runner = runner();
    let prefix = "ecrc-0123abcd-w1/";
    let room = 256 - prefix.len();
    let mut at_limit = false;
    for _ in 0..40 {
        let plan = plans::registry_plan_within(room)
            .new_tree(&mut runner)
            .expect("plan")
            .current();
        for r in &plan.with_prefix(prefix).repositories {
            assert!(r.name.len() <= 256, "{} characters", r.name.len());
            assert_ne!(
                model::syntax::repo_name_validity(&r.name),
                model::syntax::RepoNameValidity::Invalid,
                "{}",
                r.name
            );
            at_limit |= r.name.len() == 256;
        }
    }
    assert!(at_limit);
}

#[test]
fn empty_ids_and_tags_outside_the_charset_are_categories_of_their_own() {
    let mut runner = runner();
    let plan = plans::registry_plan().new_tree(&mut runner).expect("plan").current();
    let state = Arc::new(plan.build("123456789012").expect("builds"));
    let repository = state.repositories.keys().next().expect("a repository").clone();
    let one = |category: IdCategory, runner: &mut TestRunner| {
        ecr_conformance::generate::ids::id_list_of(
            state.clone(),
            repository.clone(),
            1..=1,
            proptest::strategy::Just(category).boxed(),
        )
        .new_tree(runner)
        .expect("ids")
        .current()
        .remove(0)
    };
    let rule_of = |id: &ecr_conformance::wire::ImageIdentifier| {
        let request = ecr_conformance::wire::BatchGetImageRequest {
            repository_name: repository.clone(),
            image_ids: vec![id.clone()],
            ..Default::default()
        };
        match model::batch_get_image(&state, &request) {
            Expected::Error(e) => e.rule,
            Expected::Answers(a) => a.ids[0].rule,
        }
    };
    let mut beside_a_tag = false;
    for _ in 0..200 {
        // A malformed digest is never the empty one: that is I-EMPTY's unknown case.
        for category in [IdCategory::MalformedDigest, IdCategory::MalformedDigestWithTag] {
            let g = one(category, &mut runner);
            assert_eq!(g.category, category);
            assert_ne!(g.id.image_digest.as_deref(), Some(""), "{g:?}");
            assert_ne!(rule_of(&g.id), id::I_EMPTY, "{g:?}");
        }
        // In id lists, an empty digest: an empty tag would refuse the whole request.
        let g = one(IdCategory::Empty, &mut runner);
        assert_eq!(g.category, IdCategory::Empty);
        assert_eq!(g.id.image_digest.as_deref(), Some(""), "{g:?}");
        assert_ne!(g.id.image_tag.as_deref(), Some(""), "{g:?}");
        assert_eq!(rule_of(&g.id), id::I_EMPTY, "{g:?}");
        beside_a_tag |= g.id.image_tag.is_some();
        let g = one(IdCategory::TagCharset, &mut runner);
        assert_eq!(g.category, IdCategory::TagCharset);
        let tag = g.id.image_tag.as_deref().expect("a tag");
        assert!((1..=300).contains(&tag.chars().count()), "{tag:?}");
        assert!(!model::syntax::is_tag_charset_valid(tag), "{tag:?}");
        assert_eq!(rule_of(&g.id), id::I_TAG_CHARSET, "{g:?}");
    }
    assert!(beside_a_tag);
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

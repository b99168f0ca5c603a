//! Properties of the model over the generators: what must hold for every state and request.

use ecr_conformance::generate::{plans, requests};
use ecr_conformance::judge::{Judgement, judge};
use ecr_conformance::model::{self, Expected, ExpectedManifest, Outcome, ReferenceAnswer, RegistryState};
use ecr_conformance::wire::{self, HttpReply};
use proptest::prelude::*;
use std::sync::Arc;

const REGISTRY: &str = "123456789012";

/// A plan, its state, and a request against it.
fn world() -> impl Strategy<Value = (Arc<RegistryState>, requests::Case)> {
    plans::registry_plan().prop_flat_map(|plan| {
        let state = Arc::new(plan.build(REGISTRY).expect("generated plans build"));
        let s = state.clone();
        requests::case(state).prop_map(move |case| (s.clone(), case))
    })
}

fn reply_of(e: &Expected) -> HttpReply {
    let (status, body) = match e.reference_answer() {
        ReferenceAnswer::Ok(b) => (200, serde_json::to_vec(&b).expect("json")),
        ReferenceAnswer::Error { status, body } => (status, serde_json::to_vec(&body).expect("json")),
    };
    HttpReply {
        status,
        content_type: Some(wire::CONTENT_TYPE.into()),
        body,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_requested_id_is_accounted_for((state, case) in world()) {
        if let Expected::Answers(a) = model::batch_get_image(&state, &case.request) {
            let total: usize = a.ids.iter().map(|x| x.times).sum();
            prop_assert_eq!(total, case.request.image_ids.len());
            for requested in &case.request.image_ids {
                prop_assert_eq!(a.ids.iter().filter(|x| &x.id == requested).count(), 1);
            }
        }
    }

    #[test]
    fn permuting_ids_permutes_the_answers((state, case) in world(), rotate in 0usize..100) {
        let mut permuted = case.request.clone();
        let n = permuted.image_ids.len().max(1);
        permuted.image_ids.rotate_left(rotate % n);
        permuted.image_ids.reverse();
        let (e1, e2) = (model::batch_get_image(&state, &case.request), model::batch_get_image(&state, &permuted));
        match (e1, e2) {
            (Expected::Answers(a), Expected::Answers(b)) => {
                let key = |x: &model::IdExpectation| format!("{x:?}");
                let mut ka: Vec<String> = a.ids.iter().map(key).collect();
                let mut kb: Vec<String> = b.ids.iter().map(key).collect();
                ka.sort();
                kb.sort();
                prop_assert_eq!(ka, kb);
            }
            (Expected::Error(a), Expected::Error(b)) => prop_assert_eq!(a.error_types, b.error_types),
            (a, b) => prop_assert!(false, "permuting changed the kind of answer: {:?} vs {:?}", a, b),
        }
    }

    #[test]
    fn a_digest_in_an_answer_is_the_sha256_of_its_manifest((state, case) in world()) {
        if let ReferenceAnswer::Ok(body) = model::batch_get_image(&state, &case.request).reference_answer() {
            let repo = state.repository(&case.request.repository_name);
            for img in body.images.unwrap_or_default() {
                // A translation (by tag, the stored type not accepted) keeps the stored digest.
                let stored_type = repo
                    .and_then(|r| r.image_by_digest(img.image_id.image_digest.as_deref().unwrap_or_default()))
                    .map(|i| i.media_type.clone());
                if img.image_manifest_media_type != stored_type { continue; }
                let m = img.image_manifest.expect("manifest");
                prop_assert_eq!(Some(model::syntax::sha256_digest(m.as_bytes())), img.image_id.image_digest);
            }
        }
    }

    #[test]
    fn lookups_never_cross_repositories((state, case) in world()) {
        if let Expected::Answers(a) = model::batch_get_image(&state, &case.request) {
            let repo = state.repository(&a.repository_name).expect("answered repository exists");
            for x in &a.ids {
                let images = match &x.outcome {
                    Outcome::Image(i) => vec![i.clone()],
                    Outcome::ImagesByDigest { images } => images.clone(),
                    Outcome::Failure { .. } => vec![],
                };
                for i in images {
                    let d = i.image_id.image_digest.as_deref().expect("digest");
                    let stored = repo.image_by_digest(d).expect("image of the repository");
                    if let Some(t) = &i.image_id.image_tag { prop_assert!(stored.tags.contains(t)); }
                    if let ExpectedManifest::Stored(m) = &i.manifest { prop_assert_eq!(m, &stored.manifest); }
                }
            }
        }
    }

    #[test]
    fn the_reference_answer_conforms_to_the_model((state, case) in world()) {
        let e = model::batch_get_image(&state, &case.request);
        match judge(&e, &reply_of(&e)) {
            Judgement::Answer(d) => prop_assert!(d.is_empty(), "{:#?}", d),
            Judgement::Fault(f) => prop_assert!(false, "fault {}", f),
        }
    }

    #[test]
    fn generated_plans_are_real_pushes(plan in plans::registry_plan()) {
        let state = plan.build(REGISTRY).expect("builds");
        prop_assert_eq!(state.repositories.len(), plan.repositories.len());
        for (name, repo) in &state.repositories {
            prop_assert!(name.len() <= plans::MAX_NAME);
            prop_assert_eq!(model::syntax::repo_name_validity(name), model::syntax::RepoNameValidity::Valid);
            for image in &repo.images {
                prop_assert_eq!(&model::syntax::sha256_digest(image.manifest.as_bytes()), &image.digest);
            }
        }
    }
}

//! One wrong entry, one finding: a reference answer with one entry mutated (its echo, its tag, a
//! duplicate of it, its manifest) is judged deviating, and every gate deviation concerns an id that
//! entry answers; the ids around it, whatever they share with it, are left alone. (An advisory
//! note of an allowed alternative, a duplicate read as tags of one image answered together, may
//! name the other ids of that image.)

use ecr_conformance::generate::{plans, requests};
use ecr_conformance::judge::{Judgement, judge};
use ecr_conformance::model::{self, Expected, Outcome, ReferenceAnswer, RegistryState};
use ecr_conformance::rules::id;
use ecr_conformance::wire::{self, HttpReply, ImageIdentifier};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;

const REGISTRY: &str = "123456789012";

fn world() -> impl Strategy<Value = (Arc<RegistryState>, requests::Case)> {
    plans::registry_plan().prop_flat_map(|plan| {
        let state = Arc::new(plan.build(REGISTRY).expect("generated plans build"));
        let s = state.clone();
        requests::case(state).prop_map(move |case| (s.clone(), case))
    })
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    /// A failure echoes an id that was not sent.
    Echo,
    /// An image carries a tag that no image has.
    Tag,
    /// The entry comes twice.
    Duplicate,
    /// An image's manifest is other bytes.
    Manifest,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Echo),
        Just(Mutation::Tag),
        Just(Mutation::Duplicate),
        Just(Mutation::Manifest),
    ]
}

fn reply(status: u16, body: &Value) -> HttpReply {
    HttpReply {
        status,
        content_type: Some(wire::CONTENT_TYPE.into()),
        body: serde_json::to_vec(body).expect("json"),
    }
}

/// The requested ids whose answer, as ECR gives it, contains an entry of this identity (with
/// `same_image`, of this image under any imageId).
fn answered_by(e: &model::ExpectedAnswers, entry: &Value, is_image: bool, same_image: bool) -> Vec<ImageIdentifier> {
    let echo: ImageIdentifier = serde_json::from_value(entry["imageId"].clone()).expect("an imageId");
    let fits =
        |i: &model::ExpectedImage| i.image_id == echo || same_image && i.image_id.image_digest == echo.image_digest;
    e.ids
        .iter()
        .filter(|x| match (&x.outcome, is_image) {
            (Outcome::Image(i), true) => fits(i),
            (Outcome::ImagesByDigest { images }, true) => images.iter().any(fits),
            (Outcome::Failure { .. }, false) => x.id == echo,
            _ => false,
        })
        .map(|x| x.id.clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_entry_gives_deviations_of_the_ids_it_answers_only(
        (state, case) in world(),
        how in mutation(),
        pick in any::<prop::sample::Index>(),
    ) {
        let expected = model::batch_get_image(&state, &case.request);
        let (Expected::Answers(a), ReferenceAnswer::Ok(body)) = (&expected, expected.reference_answer()) else {
            return Ok(());
        };
        let mut body = serde_json::to_value(body).expect("json");
        let list = match how {
            Mutation::Echo => "failures",
            Mutation::Tag | Mutation::Manifest => "images",
            Mutation::Duplicate if pick.index(2) == 0 => "images",
            Mutation::Duplicate => "failures",
        };
        let entries = body[list].as_array().cloned().unwrap_or_default();
        if entries.is_empty() {
            return Ok(());
        }
        let k = pick.index(entries.len());
        let original = entries[k].clone();
        let concerned = answered_by(a, &original, list == "images", false);
        let noted = answered_by(a, &original, list == "images", true);
        let target = &mut body[list].as_array_mut().expect("a list")[k];
        match how {
            Mutation::Echo => target["imageId"] = json!({"imageTag": "zz-mutated-echo"}),
            Mutation::Tag => target["imageId"]["imageTag"] = json!("zz-mutated-tag"),
            Mutation::Manifest => target["imageManifest"] = json!("{\"mutated\":true}"),
            Mutation::Duplicate => {
                let copy = target.clone();
                body[list].as_array_mut().expect("a list").push(copy);
            }
        }
        let Judgement::Answer(found) = judge(&expected, &reply(200, &body)) else {
            return Err(TestCaseError::fail("a mutated reference answer is still an answer"));
        };
        // A second sending of a repeated id, or a digest's entry for a tag, may be allowed: a
        // duplicate is only sure to deviate where neither explains it.
        let allowed_duplicate = matches!(how, Mutation::Duplicate);
        let all: Vec<String> = found.iter().map(|d| format!("{} {:?}: {}", d.rule, d.level, d.summary)).collect();
        prop_assert!(allowed_duplicate || !found.is_empty(), "{how:?} of {original} was not noticed");
        for d in &found {
            match &d.image_id {
                Some(x) if d.level == ecr_conformance::rules::Level::Advisory => prop_assert!(
                    noted.contains(x),
                    "{how:?} of {original}: an advisory note about {x}, which shares nothing with \
                     the entry (its image answers {noted:?}): {d:?}"
                ),
                Some(x) => prop_assert!(
                    concerned.contains(x),
                    "{how:?} of {original}: a deviation about {x}, which the entry does not answer \
                     (it answers {concerned:?}): {d:?}; all: {all:#?}"
                ),
                None => prop_assert!(
                    d.rule == id::M_INTEGRITY && matches!(how, Mutation::Manifest),
                    "{how:?} of {original}: a deviation about no id: {d:?}"
                ),
            }
        }
    }
}

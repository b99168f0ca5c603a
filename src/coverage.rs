//! Which rules an answer was judged by: the rules the model's expectation names for it, and the
//! rules the comparer applies to every answer of its kind. A rule that judged no answer in a run
//! is untested there, which a report must never show as a pass. Pure: the runner counts with it
//! where it judges an answer, beside the rules of the deviations it found.
//!
//! Seeding (`S-*`) and the metamorphic properties (`P-*`) are counted where they are checked
//! ([`crate::seeding`], [`crate::runner`]); this module covers the answers to `BatchGetImage`.

use crate::model::{Expected, ExpectedAnswers, ExpectedManifest, Outcome, syntax};
use crate::rules::id;
use crate::wire::BatchGetImageRequest;
use std::collections::BTreeSet;

/// What kind of answer the endpoint gave: the comparer judges a 200 per id, anything else as a
/// refusal of the whole request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerKind {
    /// HTTP 200 with a `BatchGetImage` body.
    Answers,
    /// Any other status.
    Error,
}

impl AnswerKind {
    pub(crate) fn of_status(status: u16) -> Self {
        if status == 200 {
            AnswerKind::Answers
        } else {
            AnswerKind::Error
        }
    }
}

/// The rules an answer of `kind` to `request` is judged by, given the model's expectation.
pub(crate) fn exercised(
    request: &BatchGetImageRequest,
    expected: &Expected,
    kind: AnswerKind,
) -> BTreeSet<&'static str> {
    // Every readable answer says whether the request was taken as sent (W-REQ) and carries a
    // Content-Type (W-CT).
    let mut rules = BTreeSet::from([id::W_REQ, id::W_CT]);
    match expected {
        Expected::Error(e) => {
            rules.insert(e.rule);
            if kind == AnswerKind::Error {
                rules.extend([id::W_ERR_STATUS, id::W_ERR_TYPE]);
            }
            // A refusal for the repository comes after the registry id was found to be the
            // caller's (another one is R-REGISTRY-FOREIGN's answer).
            let repository_rule = [id::R_REPO_NOT_FOUND, id::R_REPO_NAME_NEW_ONLY].contains(&e.rule);
            if repository_rule && request.registry_id.as_deref().is_some_and(syntax::is_registry_id) {
                rules.insert(id::R_REGISTRY_OWN);
            }
        }
        Expected::Answers(a) => {
            rules.insert(id::W_OK);
            // The model answers a request naming the caller's own registry as one naming none:
            // R-REGISTRY-OWN is the rule it decides by not naming it.
            if request.registry_id.as_deref() == Some(a.registry_id.as_str()) {
                rules.insert(id::R_REGISTRY_OWN);
            }
            // A refused request is judged as a whole: no id's answer is looked at (the rule the
            // refusal is blamed on comes with its deviation).
            if kind == AnswerKind::Answers {
                per_id(a, &mut rules);
            }
        }
    }
    rules
}

/// The rules a 200 answer is judged by, id by id and entry by entry.
fn per_id(a: &ExpectedAnswers, rules: &mut BTreeSet<&'static str>) {
    rules.extend([id::W_BOTH_LISTS, id::P_ACCOUNTED]);
    // Ids that name one image together may share its entries (rev 3 F7): that is the rule's case.
    if !a.shares.is_empty() {
        rules.insert(id::I_SAME_DIGEST_TAGS);
    }
    for e in &a.ids {
        rules.insert(e.rule);
        if e.times > 1 {
            rules.extend([id::I_DUP_CONSISTENT, id::I_DUP_ONCE]);
        }
        match &e.outcome {
            Outcome::Failure { .. } => {
                rules.insert(id::I_ECHO);
            }
            Outcome::ImagesByDigest { .. } => {
                rules.insert(id::I_DIGEST_TAGS);
            }
            Outcome::Image(_) => {}
        }
        for image in e.images() {
            // Every image entry: its manifest's rule, its media-type field, its repository
            // (I-SCOPE) and registry (S-REGISTRY-ID); an untranslated manifest, its digest.
            rules.extend([image.manifest_rule, id::M_TYPE_FIELD, id::I_SCOPE, id::S_REGISTRY_ID]);
            if matches!(image.manifest, ExpectedManifest::Stored(_)) {
                rules.insert(id::M_INTEGRITY);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RegistryState, batch_get_image};
    use crate::wire::{ImageIdentifier, media_type};

    const REGISTRY: &str = "123456789012";

    fn state() -> (RegistryState, String) {
        let mut s = RegistryState::new(REGISTRY);
        s.create_repository("web").expect("repository");
        let m = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
        let digest = s.push("web", m, media_type::DOCKER_V2, Some("v1")).expect("push");
        s.push("web", m, media_type::DOCKER_V2, Some("latest"))
            .expect("second tag");
        (s, digest)
    }

    fn request(ids: Vec<ImageIdentifier>) -> BatchGetImageRequest {
        BatchGetImageRequest {
            repository_name: "web".into(),
            image_ids: ids,
            ..BatchGetImageRequest::default()
        }
    }

    fn rules_of(r: &BatchGetImageRequest, kind: AnswerKind) -> BTreeSet<&'static str> {
        let (s, _) = state();
        exercised(r, &batch_get_image(&s, r), kind)
    }

    #[test]
    fn an_answer_per_id_is_judged_by_each_ids_rule_and_each_images_manifest_rule() {
        let (_, digest) = state();
        let r = request(vec![
            ImageIdentifier::tag("v1"),
            ImageIdentifier::digest(&digest),
            ImageIdentifier::tag("missing"),
        ]);
        let rules = rules_of(&r, AnswerKind::Answers);
        for rule in [
            id::W_REQ,
            id::W_OK,
            id::W_CT,
            id::W_BOTH_LISTS,
            id::P_ACCOUNTED,
            id::I_TAG,
            id::I_DIGEST,
            id::I_DIGEST_TAGS,
            id::I_NOT_FOUND,
            id::I_ECHO,
            id::M_DEFAULT,
            id::M_TYPE_FIELD,
            id::M_INTEGRITY,
            id::I_SCOPE,
            id::S_REGISTRY_ID,
        ] {
            assert!(rules.contains(rule), "{rule} missing from {rules:?}");
        }
        // Nothing the request did not ask about.
        for rule in [
            id::W_ERR_STATUS,
            id::W_ERR_TYPE,
            id::I_DUP_ONCE,
            id::I_DUP_CONSISTENT,
            id::R_REGISTRY_OWN,
            id::M_ACCEPTED,
            id::I_ORDER,
        ] {
            assert!(!rules.contains(rule), "{rule} in {rules:?}");
        }
    }

    #[test]
    fn a_refusal_where_ecr_answers_per_id_judges_no_ids_rule() {
        let r = request(vec![ImageIdentifier::tag("v1")]);
        let rules = rules_of(&r, AnswerKind::Error);
        assert_eq!(rules, BTreeSet::from([id::W_REQ, id::W_CT, id::W_OK]));
    }

    #[test]
    fn a_request_level_error_is_judged_by_its_rule_and_the_error_wire_rules_only_when_refused() {
        let r = request(Vec::new());
        assert_eq!(
            rules_of(&r, AnswerKind::Error),
            BTreeSet::from([id::W_REQ, id::W_CT, id::R_IDS_EMPTY, id::W_ERR_STATUS, id::W_ERR_TYPE])
        );
        // Answered with 200 instead: the error's rule, not how an error is written.
        assert_eq!(
            rules_of(&r, AnswerKind::Answers),
            BTreeSet::from([id::W_REQ, id::W_CT, id::R_IDS_EMPTY])
        );
    }

    #[test]
    fn the_callers_own_registry_id_is_judged_where_the_model_answers_as_without_it() {
        let mut r = request(vec![ImageIdentifier::tag("v1")]);
        r.registry_id = Some(REGISTRY.into());
        assert!(rules_of(&r, AnswerKind::Answers).contains(id::R_REGISTRY_OWN));
        r.repository_name = "absent".into();
        let rules = rules_of(&r, AnswerKind::Error);
        assert!(
            rules.contains(id::R_REGISTRY_OWN) && rules.contains(id::R_REPO_NOT_FOUND),
            "{rules:?}"
        );
        r.registry_id = Some("999999999999".into());
        let rules = rules_of(&r, AnswerKind::Error);
        assert!(
            !rules.contains(id::R_REGISTRY_OWN) && rules.contains(id::R_REGISTRY_FOREIGN),
            "{rules:?}"
        );
    }

    #[test]
    fn a_repeated_id_is_judged_for_its_repetitions() {
        let r = request(vec![ImageIdentifier::tag("missing"), ImageIdentifier::tag("missing")]);
        let rules = rules_of(&r, AnswerKind::Answers);
        assert!(
            rules.contains(id::I_DUP_ONCE) && rules.contains(id::I_DUP_CONSISTENT),
            "{rules:?}"
        );
    }

    #[test]
    fn a_translated_manifest_is_not_judged_by_its_digest() {
        let mut r = request(vec![ImageIdentifier::tag("v1")]);
        r.accepted_media_types = Some(vec![media_type::DOCKER_V1.into()]);
        let rules = rules_of(&r, AnswerKind::Answers);
        assert!(rules.contains(id::M_TRANSLATE), "{rules:?}");
        assert!(!rules.contains(id::M_INTEGRITY), "{rules:?}");
    }

    #[test]
    fn the_status_names_the_kind() {
        assert_eq!(AnswerKind::of_status(200), AnswerKind::Answers);
        assert_eq!(AnswerKind::of_status(400), AnswerKind::Error);
        assert_eq!(AnswerKind::of_status(500), AnswerKind::Error);
    }
}

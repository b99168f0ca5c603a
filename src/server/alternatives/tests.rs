use super::*;
use crate::model::{self, ReferenceAnswer};
use crate::wire::media_type;

fn state() -> RegistryState {
    let mut s = RegistryState::new("123456789012");
    s.create_repository("ecrc-00000001-w1/r").expect("repo");
    let v2 = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:c"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2,"digest":"sha256:l"}]}"#;
    for tag in ["b", "a", "c"] {
        s.push("ecrc-00000001-w1/r", v2, media_type::DOCKER_V2, Some(tag))
            .expect("push");
    }
    s
}

fn answer(alts: Alternatives, request: &BatchGetImageRequest) -> Value {
    answer_in(&state(), alts, request)
}

/// The answer's body, its lists sorted (as a multiset), or the error body.
fn answer_in(s: &RegistryState, alts: Alternatives, request: &BatchGetImageRequest) -> Value {
    let prepared = prepare(alts, request);
    let mut expected = model::batch_get_image(s, &prepared.request);
    adjust_expected(alts, s, request, &prepared, &mut expected);
    let mut reply = match expected.reference_answer() {
        ReferenceAnswer::Ok(body) => Reply::new(200, serde_json::to_value(body).unwrap_or(Value::Null)),
        ReferenceAnswer::Error { status, body } => {
            Reply::new(status, serde_json::to_value(body).unwrap_or(Value::Null))
        }
    };
    adjust_reply(alts, &request.repository_name, &mut reply);
    let mut v = reply.body;
    // As a multiset: sorted lists.
    for key in ["images", "failures"] {
        if let Some(list) = v.get_mut(key).and_then(Value::as_array_mut) {
            list.sort_by_key(|x| x.to_string());
        }
    }
    v
}

fn request(ids: Vec<ImageIdentifier>) -> BatchGetImageRequest {
    BatchGetImageRequest {
        repository_name: "ecrc-00000001-w1/r".into(),
        image_ids: ids,
        ..Default::default()
    }
}

#[test]
fn names_parse_and_every_alternative_has_its_own_bit() {
    for (i, a) in Alternative::ALL.into_iter().enumerate() {
        assert_eq!(a as usize, i, "ALL is in declaration order");
        assert_eq!(Alternative::parse(a.name()), Some(a));
        assert_eq!(Alternatives::only(a).iter().collect::<Vec<_>>(), vec![a]);
    }
    let both = Alternatives::from_list("dup-each, type-forms").expect("names");
    assert!(both.contains(Alternative::DupEach) && both.contains(Alternative::TypeForms));
    assert_eq!(both.to_string(), "dup-each,type-forms");
    assert_eq!(
        Alternatives::from_list("nonsense").map_err(|e| e
            .to_string()
            .starts_with("unknown alternative \"nonsense\"; one of: dup-each, ")),
        Err(true)
    );
    assert_eq!(Alternatives::from_list(""), Ok(Alternatives::NONE));
}

#[test]
fn a_run_sees_one_combination_and_seeds_see_different_ones() {
    let a = Alternatives::drawn_for("ecrc-00000001-w1/app");
    assert_eq!(a, Alternatives::drawn_for("ecrc-00000001-c3/other/name"));
    assert_eq!(a, Alternatives::drawn_for("ecrc-00000001-w2/x-missing7"));
    let seeds: BTreeSet<u32> = (1..=20u64)
        .map(|s| Alternatives::drawn_for(&format!("{}-w1/r", crate::run::run_prefix(s))).0)
        .collect();
    assert!(seeds.len() > 15, "{seeds:?}");
    // Over many seeds every alternative is on about half of the time.
    for alt in Alternative::ALL {
        let on = (1..=400u64)
            .filter(|s| Alternatives::drawn_for(&crate::run::run_prefix(*s)).contains(alt))
            .count();
        assert!((120..=280).contains(&on), "{}: {on} of 400", alt.name());
    }
}

#[test]
fn every_alternative_is_independent_of_the_ids_order() {
    let s = state();
    let d = s.repository("ecrc-00000001-w1/r").expect("repo").images[0]
        .digest
        .clone();
    let long = "x".repeat(301);
    let ids = vec![
        ImageIdentifier::tag("c"),
        ImageIdentifier::digest(&d),
        ImageIdentifier::tag("a"),
        ImageIdentifier::tag(&long),
        ImageIdentifier::tag("missing"),
        ImageIdentifier::tag("c"),
        ImageIdentifier::neither(),
    ];
    for alt in Alternative::ALL {
        let alts = Alternatives::only(alt);
        let forward = answer(alts, &request(ids.clone()));
        let mut reversed = ids.clone();
        reversed.reverse();
        assert_eq!(forward, answer(alts, &request(reversed)), "{}", alt.name());
        assert_eq!(forward, answer(alts, &request(ids.clone())), "{}", alt.name());
    }
}

#[test]
fn the_answer_changes_as_each_alternative_says() {
    let s = state();
    let d = s.repository("ecrc-00000001-w1/r").expect("repo").images[0]
        .digest
        .clone();
    let reference = answer(Alternatives::NONE, &request(vec![ImageIdentifier::digest(&d)]));
    assert_eq!(reference["images"].as_array().map(Vec::len), Some(3));
    let one = answer(
        Alternatives::only(Alternative::DigestOneEntry),
        &request(vec![ImageIdentifier::digest(&d)]),
    );
    assert_eq!(one["images"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["images"][0]["imageId"]["imageTag"], "a");
    let untagged = answer(
        Alternatives::only(Alternative::DigestUntaggedEntry).with(Alternative::DigestOneEntry),
        &request(vec![ImageIdentifier::digest(&d)]),
    );
    assert_eq!(untagged["images"][0]["imageId"], json!({ "imageDigest": d }));

    let twice = vec![ImageIdentifier::tag("a"), ImageIdentifier::tag("a")];
    assert_eq!(
        answer(Alternatives::NONE, &request(twice.clone()))["images"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let each = answer(Alternatives::only(Alternative::DupEach), &request(twice));
    assert_eq!(each["images"].as_array().map(Vec::len), Some(2));

    let siblings = vec![
        ImageIdentifier::tag("c"),
        ImageIdentifier::tag("b"),
        ImageIdentifier::tag("b"),
    ];
    let once = answer(
        Alternatives::only(Alternative::SameImageOnce).with(Alternative::DupEach),
        &request(siblings),
    );
    assert_eq!(once["images"].as_array().map(Vec::len), Some(1));
    assert_eq!(once["images"][0]["imageId"]["imageTag"], "b");

    let long = request(vec![ImageIdentifier::tag("x".repeat(301)), ImageIdentifier::tag("a")]);
    assert_eq!(answer(Alternatives::NONE, &long)["__type"], "InvalidParameterException");
    let per_id = answer(Alternatives::only(Alternative::LongTagPerId), &long);
    assert_eq!(per_id["failures"][0]["failureCode"], "InvalidImageTag");
    assert_eq!(per_id["failures"][0]["imageId"], json!({ "imageTag": "x".repeat(301) }));
    assert_eq!(per_id["images"].as_array().map(Vec::len), Some(1));

    let mut oci = request(vec![ImageIdentifier::tag("a"), ImageIdentifier::both("b", &d)]);
    oci.accepted_media_types = Some(vec![media_type::OCI_MANIFEST.into()]);
    let translated = answer(Alternatives::NONE, &oci);
    let by_tag = translated["images"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["imageId"]["imageTag"] == "a"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(by_tag["imageManifestMediaType"], media_type::OCI_MANIFEST);
    assert_eq!(by_tag["imageId"]["imageDigest"], json!(d));
    let by_both = translated["images"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["imageId"]["imageTag"] == "b"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        by_both["imageManifestMediaType"],
        media_type::DOCKER_V2,
        "by digest: no translation"
    );

    let mut v1 = request(vec![ImageIdentifier::tag("a")]);
    v1.accepted_media_types = Some(vec![media_type::DOCKER_V1.into()]);
    let model = answer(Alternatives::NONE, &v1);
    assert_eq!(model["images"][0]["imageManifestMediaType"], media_type::DOCKER_V1);
    let other = answer(Alternatives::only(Alternative::Schema1OtherBody), &v1);
    let body = other["images"][0]["imageManifest"].as_str().unwrap_or_default();
    assert!(model::manifest::is_schema1_for(body, "ecrc-00000001-w1/r", "a"));
    assert_ne!(other, model);
    let stored = answer(Alternatives::only(Alternative::NoTranslation), &v1);
    assert_eq!(stored["images"][0]["imageManifestMediaType"], media_type::DOCKER_V2);
    let untranslated = answer(Alternatives::only(Alternative::NoTranslation), &oci);
    assert_eq!(
        untranslated["images"][0]["imageManifestMediaType"],
        media_type::DOCKER_V2
    );

    // Stored docker v2 asked by tag with v1 and OCI accepted: OCI first, schema 1 beside it.
    let mut both = request(vec![ImageIdentifier::tag("a")]);
    both.accepted_media_types = Some(vec![media_type::DOCKER_V1.into(), media_type::OCI_MANIFEST.into()]);
    assert_eq!(
        answer(Alternatives::NONE, &both)["images"][0]["imageManifestMediaType"],
        media_type::OCI_MANIFEST
    );
    let other = answer(Alternatives::only(Alternative::OtherTranslation), &both);
    assert_eq!(other["images"][0]["imageManifestMediaType"], media_type::DOCKER_V1);
}

#[test]
fn request_level_alternatives_answer_the_other_accepted_error() {
    let mut foreign = request(vec![ImageIdentifier::tag("a")]);
    foreign.registry_id = Some("999999999999".into());
    let e = answer(Alternatives::only(Alternative::ForeignNotFound), &foreign);
    assert_eq!(e["__type"], "RepositoryNotFoundException");
    assert!(e["message"].as_str().is_some_and(|m| m.contains("999999999999")));
    let new_name = BatchGetImageRequest {
        repository_name: "ecrc-00000001-w1/a__b".into(),
        ..request(vec![ImageIdentifier::tag("a")])
    };
    let e = answer(Alternatives::only(Alternative::NewNameRefused), &new_name);
    assert_eq!(e["__type"], "InvalidParameterException");
    let lookup = BatchGetImageRequest {
        repository_name: "ecrc-00000001-w1/missing".into(),
        ..request(Vec::new())
    };
    assert_eq!(
        answer(Alternatives::NONE, &lookup)["__type"],
        "InvalidParameterException"
    );
    let e = answer(Alternatives::only(Alternative::LookupFirst), &lookup);
    assert_eq!(e["__type"], "RepositoryNotFoundException");
    let texts = answer(Alternatives::only(Alternative::OtherTexts), &lookup);
    let message = texts["message"].as_str().unwrap_or_default();
    assert!(message.contains("imageIds"), "{message}");
    assert_ne!(
        message,
        answer(Alternatives::NONE, &lookup)["message"]
            .as_str()
            .unwrap_or_default()
    );
    let mut empty = request(vec![ImageIdentifier::tag("a")]);
    empty.accepted_media_types = Some(Vec::new());
    let ok = answer(Alternatives::only(Alternative::EmptyMediaListAccepted), &empty);
    assert_eq!(ok["images"].as_array().map(Vec::len), Some(1));
}

use crate::generate::{plans, requests};
use proptest::prelude::*;
use std::sync::Arc;

/// A state, a request against it, and a combination of alternatives.
fn world() -> impl Strategy<Value = (RegistryState, BatchGetImageRequest, Alternatives)> {
    plans::registry_plan()
        .prop_filter_map("a plan that builds", |p| p.build("123456789012").ok())
        .prop_filter("a repository", |s| !s.repositories.is_empty())
        .prop_flat_map(|s| {
            let s = Arc::new(s);
            (Just(s.clone()), requests::case(s), any::<u32>())
        })
        .prop_map(|(s, case, bits)| {
            let all = Alternative::ALL.iter().fold(0, |acc, a| acc | a.bit());
            ((*s).clone(), case.request, Alternatives(bits & all))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the combination: the ids' order changes nothing, every failure echoes a
    /// requested id, and every id the model answers is answered (by an entry of its own, or,
    /// for same-image-once, by the entry of a smaller tag of the same image).
    #[test]
    fn combinations_answer_every_id_whatever_the_order((s, request, alts) in world()) {
        let got = answer_in(&s, alts, &request);
        let mut reversed = request.clone();
        reversed.image_ids.reverse();
        prop_assert_eq!(&got, &answer_in(&s, alts, &reversed));
        let Expected::Answers(model) = model::batch_get_image(&s, &request) else {
            return Ok(());
        };
        let failures: Vec<ImageIdentifier> = got["failures"]
            .as_array()
            .map(|l| l.iter().filter_map(|f| serde_json::from_value(f["imageId"].clone()).ok()).collect())
            .unwrap_or_default();
        let images: Vec<ImageIdentifier> = got["images"]
            .as_array()
            .map(|l| l.iter().filter_map(|i| serde_json::from_value(i["imageId"].clone()).ok()).collect())
            .unwrap_or_default();
        // echo-digest-only echoes one member of an id with a tag and an open digest.
        let member_of = |f: &ImageIdentifier, i: &ImageIdentifier| {
            alts.contains(Alternative::EchoDigestOnly)
                && i.image_tag.is_some()
                && i.image_digest.is_some()
                && (f.image_tag.is_none() && f.image_digest == i.image_digest
                    || f.image_digest.is_none() && f.image_tag == i.image_tag)
        };
        for f in &failures {
            prop_assert!(
                request.image_ids.iter().any(|i| i == f || member_of(f, i)),
                "{f} echoes no requested id"
            );
        }
        let refused = |e: &IdExpectation| {
            alts.contains(Alternative::RefuseUnaccepted) && failures.iter().any(|f| f == &e.id || member_of(f, &e.id))
        };
        // Translations and children may come under another digest, one entry may answer every
        // id of its image.
        let under_its_tag = |x: &crate::model::ExpectedImage| {
            images.iter().any(|i| {
                i.image_tag == x.image_id.image_tag
                    && (alts.contains(Alternative::TranslatedDigest) || alts.contains(Alternative::ListChild))
            }) || alts.contains(Alternative::ImageOnce)
                && images.iter().any(|i| i.image_digest == x.image_id.image_digest)
                // A list's child under the child's own digest, which may be the entry of another
                // id that names the child (image-once).
                || alts.contains(Alternative::ListChild)
                    && x.also
                        .iter()
                        .filter_map(|c| c.digest.as_deref())
                        .any(|d| images.iter().any(|i| i.image_digest.as_deref() == Some(d)))
        };
        for e in &model.ids {
            let answered = match &e.outcome {
                Outcome::Failure { or_found, .. } => {
                    failures.iter().any(|f| f == &e.id || member_of(f, &e.id))
                        || alts.contains(Alternative::DigestCaseInsensitive)
                            && (or_found
                                .iter()
                                .any(|x| images.iter().any(|i| i.image_digest == x.image_id.image_digest))
                                || or_found.iter().any(under_its_tag))
                }
                Outcome::ImagesByDigest { images: xs } => {
                    images.iter().any(|i| i.image_digest == xs[0].image_id.image_digest)
                        || refused(e)
                        || xs.iter().any(under_its_tag)
                }
                Outcome::Image(x) => {
                    images.contains(&x.image_id)
                        || refused(e)
                        || under_its_tag(x)
                        || (alts.contains(Alternative::SameImageOnce)
                            && e.id.image_digest.is_none()
                            && images.iter().any(|i| {
                                i.image_digest == x.image_id.image_digest
                                    && i.image_tag < e.id.image_tag
                                    && request.image_ids.contains(&ImageIdentifier {
                                        image_digest: None,
                                        image_tag: i.image_tag.clone(),
                                    })
                            }))
                }
            };
            prop_assert!(answered, "{} is not answered ({alts}): {got}", e.id);
        }
    }
}

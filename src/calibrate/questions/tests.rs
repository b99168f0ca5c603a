use super::*;
use crate::model::{manifest, syntax};
use crate::wire::media_type;
use serde_json::json;

fn probe(id: &str) -> Probe {
    probes().into_iter().find(|p| p.id == id).expect("a probe of that id")
}

fn read(question: &str, answers: &[CaseAnswer]) -> Reading {
    let q = super::question(question).expect("a question of that id");
    let all = probes();
    let ps = q.probes_in(&all);
    assert_eq!(ps.len(), answers.len(), "one answer per probe of {question}");
    let pairs: Vec<(&Probe, &CaseAnswer)> = ps.into_iter().zip(answers).collect();
    q.read(&pairs)
}

fn answer(q: &str, a: CaseAnswer) -> Reading {
    read(q, &[a])
}

fn ok(body: Value) -> CaseAnswer {
    CaseAnswer { status: 200, body }
}

fn error(status: u16, error_type: &str) -> CaseAnswer {
    CaseAnswer {
        status,
        body: json!({"__type": error_type, "message": "whatever the words"}),
    }
}

fn failure(id: Value, code: &str) -> Value {
    json!({"imageId": id, "failureCode": code, "failureReason": "r"})
}

fn entry(digest: &str, tag: Option<&str>, manifest: &str, media: Option<&str>) -> Value {
    let mut id = json!({ "imageDigest": digest });
    if let Some(t) = tag {
        id["imageTag"] = json!(t);
    }
    let mut e = json!({"registryId": REGISTRY_PLACEHOLDER, "repositoryName": REPOSITORY, "imageId": id, "imageManifest": manifest});
    if let Some(m) = media {
        e["imageManifestMediaType"] = json!(m);
    }
    e
}

fn v2() -> (String, String) {
    let p = probe("by-tag");
    let m = p.tagged().expect("an image").manifest.clone();
    (syntax::sha256_digest(m.as_bytes()), m)
}

fn images(list: Vec<Value>) -> CaseAnswer {
    ok(json!({"images": list, "failures": []}))
}

const A: fn(&'static str) -> Reading = Reading::Answer;

#[test]
fn the_questions_are_the_contract_and_name_real_rules_and_probes() {
    let ids: Vec<&str> = QUESTIONS.iter().map(|q| q.id).collect();
    assert_eq!(
        ids,
        [
            "bad-digest-channel",
            "bad-digest-anchoring",
            "new-name-pattern",
            "digest-tags",
            "same-image-two-tags",
            "repeated-id",
            "translate-v2-to-oci",
            "translate-oci-to-v2",
            "translate-v2-to-v1",
            "list-without-list-types",
            "empty-digest",
            "empty-tag",
            "tag-charset",
            "media-type-field",
            "both-lists",
            "foreign-registry",
            "validation-order",
        ]
    );
    let all = probes();
    for q in QUESTIONS {
        for rule in q.rules {
            assert_ne!(crate::rules::rule_by_id(rule).id, "UNKNOWN", "{}: {rule}", q.id);
        }
        assert_eq!(q.probes_in(&all).len(), q.probes.len(), "{}: a probe is missing", q.id);
    }
    for p in &all {
        assert!(
            QUESTIONS.iter().any(|q| q.probes.contains(&p.id)),
            "{} asks nothing",
            p.id
        );
        let case = p.case(p.id.into(), String::new(), Vec::new(), ok(json!({})));
        case.state().expect("a probe's state is one ECR can hold");
        assert!(case.plan().build(REGISTRY_PLACEHOLDER).is_ok(), "{} is seedable", p.id);
    }
}

#[test]
fn the_model_answers_every_question_with_a_named_alternative() {
    let all = probes();
    for q in QUESTIONS {
        let answers: Vec<CaseAnswer> = q
            .probes_in(&all)
            .iter()
            .map(|p| p.model_answer().expect("the model answers"))
            .collect();
        match read(q.id, &answers) {
            Reading::Answer(a) => assert!(q.alternatives.contains(&a) && a != OTHER, "{}: {a}", q.id),
            Reading::NotAsked(why) => panic!("{}: {why}", q.id),
        }
    }
}

#[test]
fn a_malformed_digest_is_read_by_its_channel() {
    let (d, m) = v2();
    let per_id = ok(json!({
        "images": [entry(&d, Some(TAG), &m, Some(media_type::DOCKER_V2))],
        "failures": [failure(json!({"imageDigest": BAD_DIGEST}), "InvalidImageDigest")],
    }));
    assert_eq!(answer("bad-digest-channel", per_id), A("per-id-InvalidImageDigest"));
    assert_eq!(answer("bad-digest-channel", error(400, IPE)), A("request-400"));
    let not_found = ok(json!({
        "images": [],
        "failures": [failure(json!({"imageDigest": BAD_DIGEST}), "ImageNotFound")],
    }));
    assert_eq!(answer("bad-digest-channel", not_found), A(OTHER));
    assert_eq!(answer("bad-digest-channel", error(400, RNF)), A(OTHER));

    let one =
        |code: &str| ok(json!({"images": [], "failures": [failure(json!({"imageDigest": UNANCHORED_DIGEST}), code)]}));
    assert_eq!(answer("bad-digest-anchoring", one("InvalidImageDigest")), A("anchored"));
    assert_eq!(answer("bad-digest-anchoring", error(400, IPE)), A("anchored"));
    assert_eq!(answer("bad-digest-anchoring", one("ImageNotFound")), A("unanchored"));
    assert_eq!(answer("bad-digest-anchoring", one("InvalidImageTag")), A(OTHER));
}

#[test]
fn new_names_are_accepted_only_when_both_are() {
    let (rnf, ipe) = (error(400, RNF), error(400, IPE));
    assert_eq!(read("new-name-pattern", &[rnf.clone(), rnf.clone()]), A("accepted"));
    assert_eq!(read("new-name-pattern", &[ipe.clone(), ipe.clone()]), A("refused"));
    assert_eq!(
        read("new-name-pattern", &[rnf.clone(), ipe]),
        A(OTHER),
        "a__b and a--b apart"
    );
    let namespaced = CaseAnswer {
        status: 400,
        body: json!({"__type": "com.amazonaws.ecr#RepositoryNotFoundException:http://x/", "message": "m"}),
    };
    assert_eq!(read("new-name-pattern", &[namespaced, rnf.clone()]), A("accepted"));
    let untyped = CaseAnswer {
        status: 400,
        body: json!({"message": "m"}),
    };
    assert_eq!(read("new-name-pattern", &[untyped, rnf]), A(OTHER));
}

#[test]
fn entries_of_one_image_are_counted() {
    let (d, m) = v2();
    let e = |tag: Option<&str>| entry(&d, tag, &m, Some(media_type::DOCKER_V2));
    assert_eq!(
        answer("digest-tags", images(vec![e(Some(OTHER_TAG)), e(Some(TAG))])),
        A("entry-per-tag")
    );
    assert_eq!(answer("digest-tags", images(vec![e(Some(TAG))])), A("one-entry"));
    assert_eq!(answer("digest-tags", images(vec![e(None)])), A("one-entry"));
    assert_eq!(answer("digest-tags", images(vec![])), A(OTHER));
    assert_eq!(
        answer("digest-tags", images(vec![e(Some(TAG)), e(Some(TAG))])),
        A(OTHER)
    );

    assert_eq!(
        answer("same-image-two-tags", images(vec![e(Some(TAG)), e(Some(OTHER_TAG))])),
        A("two-entries")
    );
    assert_eq!(
        answer("same-image-two-tags", images(vec![e(Some(OTHER_TAG))])),
        A("one-entry")
    );
    assert_eq!(answer("same-image-two-tags", images(vec![e(None)])), A(OTHER));
    let with_failure = ok(json!({
        "images": [e(Some(TAG))],
        "failures": [failure(json!({"imageTag": OTHER_TAG}), "ImageNotFound")],
    }));
    assert_eq!(answer("same-image-two-tags", with_failure), A(OTHER));

    assert_eq!(answer("repeated-id", images(vec![e(Some(TAG))])), A("once"));
    assert_eq!(
        answer("repeated-id", images(vec![e(Some(TAG)), e(Some(TAG))])),
        A("each-time")
    );
    assert_eq!(
        answer("repeated-id", images(vec![e(Some(TAG)), e(Some(TAG)), e(Some(TAG))])),
        A(OTHER)
    );
    let other_image = entry("sha256:0000", Some(TAG), &m, None);
    assert_eq!(answer("repeated-id", images(vec![other_image])), A(OTHER));
}

#[test]
fn translations_are_read_by_structure_and_type() {
    let (d, m) = v2();
    let oci = manifest::translation(&m, media_type::OCI_MANIFEST).expect("translatable");
    let one = |manifest: &str, media: Option<&str>| images(vec![entry(&d, Some(TAG), manifest, media)]);
    let q = "translate-v2-to-oci";
    assert_eq!(answer(q, one(&oci, Some(media_type::OCI_MANIFEST))), A("translated"));
    assert_eq!(answer(q, one(&oci, None)), A("translated"));
    assert_eq!(answer(q, one(&m, Some(media_type::DOCKER_V2))), A("stored"));
    assert_eq!(answer(q, one(&m, None)), A("stored"));
    assert_eq!(
        answer(q, one(&oci, Some(media_type::DOCKER_V2))),
        A(OTHER),
        "mislabelled"
    );
    assert_eq!(
        answer(q, one(&m, Some(media_type::OCI_MANIFEST))),
        A(OTHER),
        "mislabelled"
    );
    assert_eq!(answer(q, one("{}", Some(media_type::OCI_MANIFEST))), A(OTHER));
    assert_eq!(answer(q, error(400, "UnsupportedImageTypeException")), A("failure"));
    let refused = ok(json!({"images": [], "failures": [failure(json!({"imageTag": TAG}), "ImageNotFound")]}));
    assert_eq!(answer(q, refused), A("failure"));

    let stored_oci = probe("translate-oci-to-v2").tagged().expect("image").manifest.clone();
    let v2_of_it = manifest::translation(&stored_oci, media_type::DOCKER_V2).expect("translatable");
    let q = "translate-oci-to-v2";
    assert_eq!(answer(q, one(&v2_of_it, Some(media_type::DOCKER_V2))), A("translated"));
    assert_eq!(answer(q, one(&stored_oci, Some(media_type::OCI_MANIFEST))), A("stored"));
    assert_eq!(answer(q, one(&stored_oci, Some(media_type::DOCKER_V2))), A(OTHER));

    let q = "translate-v2-to-v1";
    let schema1 = manifest::schema1_translation(&m, REPOSITORY, TAG);
    assert_eq!(answer(q, one(&schema1, Some(media_type::DOCKER_V1))), A("translated"));
    assert_eq!(
        answer(q, one(&schema1, Some(media_type::DOCKER_V1_SIGNED))),
        A("translated")
    );
    assert_eq!(answer(q, one(&schema1, Some(media_type::DOCKER_V2))), A(OTHER));
    assert_eq!(answer(q, one(&m, Some(media_type::DOCKER_V2))), A("stored"));
    assert_eq!(answer(q, error(405, "UnsupportedImageTypeException")), A("failure"));
}

#[test]
fn a_list_asked_without_list_types_is_read_as_what_came() {
    let p = probe("list-without-list-types");
    let child = p.image(0).expect("child").manifest.clone();
    let list = p.image(1).expect("list").manifest.clone();
    let (dc, dl) = (
        syntax::sha256_digest(child.as_bytes()),
        syntax::sha256_digest(list.as_bytes()),
    );
    let q = "list-without-list-types";
    let one = |d: &str, manifest: &str, media: &str| images(vec![entry(d, Some(TAG), manifest, Some(media))]);
    assert_eq!(answer(q, one(&dl, &list, media_type::DOCKER_LIST)), A("stored"));
    assert_eq!(answer(q, one(&dc, &child, media_type::DOCKER_V2)), A("child"));
    assert_eq!(answer(q, one(&dl, &list, media_type::DOCKER_V2)), A(OTHER));
    assert_eq!(answer(q, error(400, IPE)), A("failure"));
}

#[test]
fn empty_strings_and_odd_tags_are_read_by_channel_and_code() {
    let one = |id: Value, code: &str| ok(json!({"images": [], "failures": [failure(id, code)]}));
    let q = "empty-digest";
    assert_eq!(
        answer(q, one(json!({"imageDigest": ""}), "InvalidImageDigest")),
        A("InvalidImageDigest")
    );
    assert_eq!(
        answer(q, one(json!({}), "MissingDigestAndTag")),
        A("MissingDigestAndTag")
    );
    assert_eq!(answer(q, error(400, IPE)), A("request-400"));
    assert_eq!(answer(q, one(json!({"imageDigest": ""}), "ImageNotFound")), A(OTHER));

    let q = "empty-tag";
    assert_eq!(answer(q, error(400, IPE)), A("request-400"));
    assert_eq!(
        answer(q, one(json!({"imageTag": ""}), "InvalidImageTag")),
        A("InvalidImageTag")
    );
    assert_eq!(answer(q, one(json!({"imageTag": ""}), "ImageNotFound")), A(OTHER));
    assert_eq!(answer(q, error(400, "ValidationException")), A(OTHER));

    let q = "tag-charset";
    assert_eq!(answer(q, error(400, IPE)), A("request-400"));
    assert_eq!(
        answer(q, one(json!({"imageTag": CHARSET_TAG}), "InvalidImageTag")),
        A("InvalidImageTag")
    );
    assert_eq!(
        answer(q, one(json!({"imageTag": CHARSET_TAG}), "ImageNotFound")),
        A("ImageNotFound")
    );
    assert_eq!(answer(q, images(vec![])), A(OTHER));
}

#[test]
fn the_fields_of_a_200_are_read_where_the_answer_has_an_image() {
    let (d, m) = v2();
    let q = "media-type-field";
    assert_eq!(
        answer(q, images(vec![entry(&d, Some(TAG), &m, Some(media_type::DOCKER_V2))])),
        A("present")
    );
    assert_eq!(answer(q, images(vec![entry(&d, Some(TAG), &m, None)])), A("absent"));
    assert!(matches!(answer(q, error(400, RNF)), Reading::NotAsked(_)));

    let q = "both-lists";
    let e = entry(&d, Some(TAG), &m, Some(media_type::DOCKER_V2));
    assert_eq!(answer(q, images(vec![e.clone()])), A("both-present"));
    assert_eq!(answer(q, ok(json!({ "images": [e.clone()] }))), A("empty-omitted"));
    let failing = ok(json!({"images": [e], "failures": [failure(json!({"imageTag": "x"}), "ImageNotFound")]}));
    assert!(matches!(answer(q, failing), Reading::NotAsked(_)));
    assert!(matches!(answer(q, error(400, IPE)), Reading::NotAsked(_)));
}

#[test]
fn request_errors_are_read_by_type() {
    let q = "foreign-registry";
    assert_eq!(
        answer(q, error(400, "AccessDeniedException")),
        A("AccessDeniedException")
    );
    assert_eq!(answer(q, error(400, RNF)), A("RepositoryNotFoundException"));
    assert_eq!(answer(q, images(vec![])), A(OTHER));
    let q = "validation-order";
    assert_eq!(answer(q, error(400, IPE)), A("validation-first"));
    assert_eq!(answer(q, error(400, RNF)), A("lookup-first"));
    assert_eq!(
        answer(q, error(500, IPE)),
        A(OTHER),
        "a 500 is no request-level refusal"
    );
}

//! One test per rule of the reference, named after the rule's id (`i_tag_...` for I-TAG), plus the
//! test that checks every rule has one. Wire rules are judged through the comparer, since they
//! are claims about answers rather than about the model's choices.

use crate::judge::{Deviation, Judgement, judge};
use crate::model::*;
use crate::rules::{Level, RULES, id};
use crate::wire::media_type::*;
use crate::wire::{BatchGetImageRequest, HttpReply, ImageFailureCode, ImageIdentifier as Id};
use serde_json::{Value, json};

const REGISTRY: &str = "123456789012";
const REPO: &str = "team/web";

struct Fixture {
    state: RegistryState,
    /// docker v2, tags v1 and latest
    a: String,
    /// OCI manifest, tag v2
    b: String,
    /// docker v2, untagged
    c: String,
    /// docker manifest list over a and b, tag multi
    list: String,
    /// only in the repository "other", tag only-other
    x: String,
}

fn manifest(kind: &str, n: u32) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{kind}","config":{{"digest":"sha256:{n:064x}"}},"layers":[{{"digest":"sha256:{:064x}"}}]}}"#,
        n + 1
    )
}

fn fixture() -> Fixture {
    let mut s = RegistryState::new(REGISTRY);
    s.create_repository(REPO).expect("repo");
    s.create_repository("other").expect("repo");
    let a = s.push(REPO, &manifest(DOCKER_V2, 1), DOCKER_V2, Some("v1")).expect("a");
    s.push(REPO, &manifest(DOCKER_V2, 1), DOCKER_V2, Some("latest"))
        .expect("a again");
    let b = s
        .push(REPO, &manifest(OCI_MANIFEST, 3), OCI_MANIFEST, Some("v2"))
        .expect("b");
    let c = s.push(REPO, &manifest(DOCKER_V2, 5), DOCKER_V2, None).expect("c");
    let list_manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[{{"digest":"{a}"}},{{"digest":"{b}"}}]}}"#
    );
    let list = s.push(REPO, &list_manifest, DOCKER_LIST, Some("multi")).expect("list");
    let x = s
        .push("other", &manifest(DOCKER_V2, 7), DOCKER_V2, Some("only-other"))
        .expect("x");
    Fixture {
        state: s,
        a,
        b,
        c,
        list,
        x,
    }
}

fn request(repo: &str, ids: Vec<Id>) -> BatchGetImageRequest {
    BatchGetImageRequest {
        registry_id: None,
        repository_name: repo.into(),
        image_ids: ids,
        accepted_media_types: None,
    }
}

fn run(state: &RegistryState, req: &BatchGetImageRequest) -> Expected {
    batch_get_image(state, req)
}

fn answers(e: &Expected) -> &ExpectedAnswers {
    match e {
        Expected::Answers(a) => a,
        Expected::Error(err) => panic!("expected answers, got error {err:?}"),
    }
}

fn error(e: &Expected) -> &ExpectedError {
    match e {
        Expected::Error(err) => err,
        Expected::Answers(a) => panic!("expected an error, got answers {a:?}"),
    }
}

fn single(e: &Expected) -> &IdExpectation {
    let a = answers(e);
    assert_eq!(a.ids.len(), 1, "{a:?}");
    &a.ids[0]
}

fn failure_code(x: &IdExpectation) -> &ImageFailureCode {
    match &x.outcome {
        Outcome::Failure { code, .. } => code,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn image(x: &IdExpectation) -> &ExpectedImage {
    match &x.outcome {
        Outcome::Image(i) => i,
        other => panic!("expected one image, got {other:?}"),
    }
}

fn one(f: &Fixture, ids: Vec<Id>) -> Expected {
    run(&f.state, &request(REPO, ids))
}

fn reply(status: u16, content_type: &str, body: &str) -> HttpReply {
    HttpReply {
        status,
        content_type: Some(content_type.into()),
        body: body.as_bytes().to_vec(),
    }
}

fn json_reply(status: u16, body: Value) -> HttpReply {
    reply(status, crate::wire::CONTENT_TYPE, &body.to_string())
}

/// The reference answer as a reply: conforms by construction.
fn reference_reply(e: &Expected) -> HttpReply {
    match e.reference_answer() {
        ReferenceAnswer::Ok(body) => json_reply(200, serde_json::to_value(body).expect("json")),
        ReferenceAnswer::Error { status, body } => json_reply(status, serde_json::to_value(body).expect("json")),
    }
}

fn deviations(e: &Expected, r: &HttpReply) -> Vec<Deviation> {
    match judge(e, r) {
        Judgement::Answer(d) => d,
        Judgement::Fault(f) => panic!("fault: {f}"),
    }
}

/// The reference answer with `edit` applied to its JSON body.
fn edited(e: &Expected, edit: impl FnOnce(&mut Value)) -> HttpReply {
    let r = reference_reply(e);
    let mut v: Value = serde_json::from_slice(&r.body).expect("json");
    edit(&mut v);
    json_reply(r.status, v)
}

fn rules_of(d: &[Deviation]) -> Vec<(&str, Level)> {
    d.iter().map(|x| (x.rule.as_str(), x.level)).collect()
}

// ---- 1. Wire protocol -------------------------------------------------------------------------

#[test]
fn w_req_operations_use_the_ecr_target_and_json_1_1() {
    assert_eq!(crate::wire::TARGET_PREFIX, "AmazonEC2ContainerRegistry_V20150921");
    assert_eq!(crate::wire::CONTENT_TYPE, "application/x-amz-json-1.1");
}

#[test]
fn w_ok_a_refused_request_that_ecr_answers_is_a_deviation() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1")]);
    let d = deviations(
        &e,
        &json_reply(400, json!({"__type": "ValidationException", "message": "boom"})),
    );
    assert_eq!(rules_of(&d), [(id::W_OK, Level::Gate)]);
    // A ServerException that outlasted the retries is outside the model (section 9, rev 2).
    let d = deviations(
        &e,
        &json_reply(500, json!({"__type": "ServerException", "message": "boom"})),
    );
    assert_eq!(rules_of(&d), [(id::X_OUTSIDE, Level::Advisory)]);
}

#[test]
fn w_err_status_an_html_500_where_ecr_answers_400_is_a_deviation() {
    let f = fixture();
    let e = run(&f.state, &request("absent", vec![Id::tag("v1")]));
    let d = deviations(&e, &reply(500, "text/html", "<html>Internal Server Error</html>"));
    let rules: Vec<&str> = d.iter().map(|x| x.rule.as_str()).collect();
    assert!(rules.contains(&id::W_ERR_STATUS), "{d:?}");
    assert!(rules.contains(&id::W_ERR_TYPE), "{d:?}");
    assert!(d.iter().any(|x| x.rule == id::W_ERR_STATUS && x.level == Level::Gate));
}

#[test]
fn w_err_type_namespaced_forms_are_accepted_and_a_wrong_type_is_not() {
    let f = fixture();
    let e = run(&f.state, &request("absent", vec![Id::tag("v1")]));
    let msg = "The repository with name 'absent' does not exist in the registry with id '123456789012'";
    for t in [
        "RepositoryNotFoundException",
        "com.amazonaws.ecr#RepositoryNotFoundException",
        "RepositoryNotFoundException:http://x/",
    ] {
        assert!(
            deviations(&e, &json_reply(400, json!({"__type": t, "message": msg}))).is_empty(),
            "{t}"
        );
    }
    let d = deviations(
        &e,
        &json_reply(400, json!({"__type": "ValidationException", "message": msg})),
    );
    assert_eq!(rules_of(&d), [(id::R_REPO_NOT_FOUND, Level::Gate)]);
}

#[test]
fn w_both_lists_a_missing_failures_list_is_advisory() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1")]);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v.as_object_mut().expect("object").remove("failures");
        }),
    );
    assert_eq!(rules_of(&d), [(id::W_BOTH_LISTS, Level::Advisory)]);
}

#[test]
fn w_ct_another_content_type_is_advisory() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1")]);
    let good = reference_reply(&e);
    let d = deviations(
        &e,
        &HttpReply {
            content_type: Some("application/json".into()),
            ..good
        },
    );
    assert_eq!(rules_of(&d), [(id::W_CT, Level::Advisory)]);
}

// ---- 3. Request-level outcomes -----------------------------------------------------------------

#[test]
fn r_repo_not_found_names_the_repository_and_the_registry() {
    let f = fixture();
    let e = run(&f.state, &request("absent", vec![Id::tag("v1")]));
    let err = error(&e);
    assert_eq!(
        (err.rule, err.status, err.error_types.as_slice()),
        (id::R_REPO_NOT_FOUND, 400, &["RepositoryNotFoundException"][..])
    );
    assert_eq!(
        err.message,
        MessageExpectation::Exact(
            "The repository with name 'absent' does not exist in the registry with id '123456789012'".into()
        )
    );
}

#[test]
fn r_ids_empty_is_invalid_parameter() {
    let f = fixture();
    let err = error(&one(&f, vec![])).clone();
    assert_eq!(
        (err.rule, err.status, err.error_types[0]),
        (id::R_IDS_EMPTY, 400, "InvalidParameterException")
    );
    assert!(err.message.accepts("... 'imageIds' failed to satisfy constraint"));
}

#[test]
fn r_ids_too_many_is_invalid_parameter_past_100() {
    let f = fixture();
    assert!(matches!(one(&f, vec![Id::tag("v1"); 100]), Expected::Answers(_)));
    let err = error(&one(&f, vec![Id::tag("v1"); 101])).clone();
    assert_eq!(
        (err.rule, err.error_types[0]),
        (id::R_IDS_TOO_MANY, "InvalidParameterException")
    );
}

#[test]
fn r_repo_name_invalid_names_are_refused_before_lookup() {
    let f = fixture();
    for name in ["a", "Upper", "-web", "web-", "team//web", &"a".repeat(257)] {
        let err = error(&run(&f.state, &request(name, vec![Id::tag("v1")]))).clone();
        assert_eq!(
            (err.rule, err.error_types[0]),
            (id::R_REPO_NAME_INVALID, "InvalidParameterException"),
            "{name}"
        );
        assert!(err.message.accepts("Invalid parameter at 'repositoryName'"), "{name}");
    }
}

#[test]
fn r_repo_name_new_only_names_are_accepted_and_simply_not_found() {
    let f = fixture();
    let err = error(&run(&f.state, &request("a__b", vec![Id::tag("v1")]))).clone();
    assert_eq!(
        (err.rule, err.error_types[0]),
        (id::R_REPO_NAME_NEW_ONLY, "RepositoryNotFoundException")
    );
    let mut s = f.state.clone();
    s.create_repository("a--b").expect("repo");
    s.push("a--b", "{}", DOCKER_V2, Some("t")).expect("push");
    assert!(matches!(
        single(&run(&s, &request("a--b", vec![Id::tag("t")]))).outcome,
        Outcome::Image(_)
    ));
}

#[test]
fn r_repo_name_new_only_rev2_a_refusal_naming_repository_name_is_accepted_too() {
    let f = fixture();
    let e = run(&f.state, &request("a__b", vec![Id::tag("v1")]));
    let refused = json_reply(
        400,
        json!({"__type": "InvalidParameterException", "message": "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"}),
    );
    assert!(deviations(&e, &refused).is_empty(), "{:?}", deviations(&e, &refused));
    assert!(deviations(&e, &reference_reply(&e)).is_empty());
    // A refusal that names another parameter is still a deviation.
    let other = json_reply(
        400,
        json!({"__type": "InvalidParameterException", "message": "bad imageIds"}),
    );
    assert!(!deviations(&e, &other).is_empty());
}

#[test]
fn request_errors_rev2_are_worded_as_observed() {
    let f = fixture();
    let text = |req: &BatchGetImageRequest| error(&run(&f.state, req)).message.reference_text().to_string();
    let pattern = text(&request("Upper", vec![Id::tag("v1")]));
    assert_eq!(
        pattern,
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"
    );
    assert!(text(&request("a", vec![Id::tag("v1")])).ends_with("'Member must have length greater than or equal to 2'"));
    assert!(
        text(&request(&"a".repeat(257), vec![Id::tag("v1")]))
            .ends_with("'Member must have length less than or equal to 256'")
    );
    let mut req = request(REPO, vec![Id::tag("v1")]);
    req.registry_id = Some("12345".into());
    assert_eq!(
        text(&req),
        "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression [0-9]{12}'"
    );
    let mut req = request(REPO, vec![Id::tag("v1")]);
    req.accepted_media_types = Some(Vec::new());
    assert!(text(&req).ends_with("'Member must have length greater than or equal to 1'"));
    req.accepted_media_types = Some(vec![DOCKER_V2.to_string(); 101]);
    let many = text(&req);
    assert!(
        many.ends_with("'Member must have length less than or equal to 100'"),
        "{many}"
    );
    assert!(!many.contains("between"));
}

#[test]
fn request_errors_with_several_bad_parameters_may_name_any_of_them() {
    let f = fixture();
    let mut ids = vec![Id::tag(""); 1];
    ids.extend((0..101).map(|i| Id::tag(format!("t{i}"))));
    let e = run(&f.state, &request(REPO, ids));
    assert_eq!(error(&e).rule, id::R_IDS_TOO_MANY);
    for parameter in ["imageIds", "imageTag"] {
        let refusal = json_reply(
            400,
            json!({"__type": "InvalidParameterException", "message": format!("Invalid parameter at '{parameter}' failed to satisfy constraint")}),
        );
        assert!(deviations(&e, &refusal).is_empty(), "{parameter}");
    }
    let other = json_reply(
        400,
        json!({"__type": "InvalidParameterException", "message": "registryId"}),
    );
    assert!(!deviations(&e, &other).is_empty());
}

#[test]
fn r_registry_invalid_is_invalid_parameter() {
    let f = fixture();
    let mut req = request(REPO, vec![Id::tag("v1")]);
    req.registry_id = Some("12345".into());
    let err = error(&run(&f.state, &req)).clone();
    assert_eq!(
        (err.rule, err.error_types[0]),
        (id::R_REGISTRY_INVALID, "InvalidParameterException")
    );
}

#[test]
fn r_registry_own_is_the_same_as_omitting_it() {
    let f = fixture();
    let mut req = request(REPO, vec![Id::tag("v1"), Id::digest(&f.b)]);
    let without = run(&f.state, &req);
    req.registry_id = Some(REGISTRY.into());
    assert_eq!(run(&f.state, &req), without);
}

#[test]
fn r_registry_foreign_accepts_access_denied_or_not_found() {
    let f = fixture();
    let mut req = request(REPO, vec![Id::tag("v1")]);
    req.registry_id = Some("999999999999".into());
    let e = run(&f.state, &req);
    let err = error(&e);
    assert_eq!(err.rule, id::R_REGISTRY_FOREIGN);
    assert_eq!(
        err.error_types,
        ["AccessDeniedException", "RepositoryNotFoundException"]
    );
    let msg = "... 999999999999 ...";
    assert!(
        deviations(
            &e,
            &json_reply(400, json!({"__type": "RepositoryNotFoundException", "message": msg}))
        )
        .is_empty()
    );
    assert!(
        deviations(
            &e,
            &json_reply(400, json!({"__type": "AccessDeniedException", "message": msg}))
        )
        .is_empty()
    );
    let d = deviations(&e, &reference_reply(&one(&f, vec![Id::tag("v1")])));
    assert_eq!(rules_of(&d), [(id::R_REGISTRY_FOREIGN, Level::Advisory)]);
}

#[test]
fn r_media_empty_is_invalid_parameter() {
    let f = fixture();
    let mut req = request(REPO, vec![Id::tag("v1")]);
    req.accepted_media_types = Some(vec![]);
    let err = error(&run(&f.state, &req)).clone();
    assert_eq!(
        (err.rule, err.error_types[0]),
        (id::R_MEDIA_EMPTY, "InvalidParameterException")
    );
}

#[test]
fn r_order_validation_precedes_lookup_but_only_advisorily() {
    let f = fixture();
    let err = error(&run(&f.state, &request("absent", vec![]))).clone();
    assert_eq!(
        (err.rule, err.error_types[0]),
        (id::R_ORDER, "InvalidParameterException")
    );
    // An existing repository keeps the gate rule.
    assert_eq!(error(&one(&f, vec![])).rule, id::R_IDS_EMPTY);
}

// ---- 4. Per-id outcomes ----------------------------------------------------------------------

#[test]
fn i_echo_failures_echo_exactly_the_members_sent() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("nope")]);
    // A digest filled in for a tag is an echo deviation.
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["failures"][0]["imageId"]["imageDigest"] = json!(f.a);
        }),
    );
    assert!(
        d.iter().any(|x| x.rule == id::I_ECHO && x.level == Level::Gate),
        "{d:?}"
    );
}

#[test]
fn i_tag_answers_the_requested_tag_even_when_the_image_has_others() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("latest")]);
    let x = single(&e);
    assert_eq!(x.rule, id::I_TAG);
    let img = image(x);
    assert_eq!(img.image_id, Id::both("latest", &f.a));
    assert_eq!(img.manifest, ExpectedManifest::Stored(manifest(DOCKER_V2, 1)));
    assert_eq!(img.media_type, DOCKER_V2);
    let d = deviations(&e, &edited(&e, |v| v["images"][0]["imageId"]["imageTag"] = json!("v1")));
    assert!(d.iter().any(|x| x.rule == id::I_TAG && x.level == Level::Gate), "{d:?}");
}

#[test]
fn i_digest_answers_entries_whose_tags_belong_to_the_digest() {
    let f = fixture();
    let e = one(&f, vec![Id::digest(&f.a)]);
    let x = single(&e);
    assert_eq!(x.rule, id::I_DIGEST);
    // One entry with a foreign tag breaks the gate rule.
    let d = deviations(&e, &edited(&e, |v| v["images"][0]["imageId"]["imageTag"] = json!("v2")));
    assert!(
        d.iter().any(|x| x.rule == id::I_DIGEST && x.level == Level::Gate),
        "{d:?}"
    );
}

#[test]
fn i_digest_tags_one_entry_per_tag_and_fewer_is_advisory() {
    let f = fixture();
    let e = one(&f, vec![Id::digest(&f.a)]);
    let Outcome::ImagesByDigest { images } = &single(&e).outcome else {
        panic!("by digest")
    };
    let tags: Vec<_> = images.iter().map(|i| i.image_id.image_tag.clone()).collect();
    assert_eq!(tags, [Some("v1".to_string()), Some("latest".to_string())]);
    // An untagged image: one entry without a tag.
    let untagged = one(&f, vec![Id::digest(&f.c)]);
    let Outcome::ImagesByDigest { images } = &single(&untagged).outcome else {
        panic!()
    };
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].image_id, Id::digest(&f.c));
    // What the emulators do: one entry.
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["images"].as_array_mut().expect("images").truncate(1);
        }),
    );
    assert_eq!(rules_of(&d), [(id::I_DIGEST_TAGS, Level::Advisory)]);
}

#[test]
fn i_both_a_matching_tag_and_digest_answer_one_image() {
    let f = fixture();
    let x = single(&one(&f, vec![Id::both("v2", &f.b)])).clone();
    assert_eq!(x.rule, id::I_BOTH);
    assert_eq!(image(&x).image_id, Id::both("v2", &f.b));
}

#[test]
fn i_mismatch_a_tag_of_another_digest_fails() {
    let f = fixture();
    let e = one(&f, vec![Id::both("v2", &f.a)]);
    let x = single(&e);
    assert_eq!(
        (x.rule, failure_code(x)),
        (id::I_MISMATCH, &ImageFailureCode::ImageTagDoesNotMatchDigest)
    );
    let d = deviations(
        &e,
        &edited(&e, |v| v["failures"][0]["failureReason"] = json!("mismatch")),
    );
    assert_eq!(rules_of(&d), [(id::I_MISMATCH, Level::Advisory)]);
}

#[test]
fn i_not_found_missing_tags_digests_and_tag_with_existing_digest() {
    let f = fixture();
    let missing = format!("sha256:{}", "0".repeat(64));
    for requested in [Id::tag("nope"), Id::digest(&missing), Id::both("nope", &f.a)] {
        let e = one(&f, vec![requested.clone()]);
        let x = single(&e);
        assert_eq!(
            (x.rule, failure_code(x)),
            (id::I_NOT_FOUND, &ImageFailureCode::ImageNotFound),
            "{requested}"
        );
        let Outcome::Failure { reason, .. } = &x.outcome else {
            unreachable!()
        };
        assert_eq!(reason, "Requested image not found");
    }
}

#[test]
fn i_neither_is_missing_digest_and_tag_with_an_empty_echo() {
    let f = fixture();
    let e = one(&f, vec![Id::neither()]);
    let x = single(&e);
    assert_eq!(
        (x.rule, failure_code(x)),
        (id::I_NEITHER, &ImageFailureCode::MissingDigestAndTag)
    );
    match e.reference_answer() {
        ReferenceAnswer::Ok(body) => {
            assert_eq!(body.failures.expect("failures")[0].image_id, Id::neither())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn i_bad_digest_fails_that_id_and_answers_the_others() {
    let f = fixture();
    let e = one(&f, vec![Id::digest("sha256:xyz"), Id::tag("v1")]);
    let a = answers(&e);
    assert_eq!(
        (a.ids[0].rule, failure_code(&a.ids[0])),
        (id::I_BAD_DIGEST, &ImageFailureCode::InvalidImageDigest)
    );
    assert!(matches!(a.ids[1].outcome, Outcome::Image(_)));
}

#[test]
fn i_bad_digest_gates_only_digests_with_no_match_of_the_pattern_anywhere() {
    let f = fixture();
    for (digest, level) in [
        ("sha256", Level::Gate),
        ("sha256:xyz", Level::Gate),
        (":ab", Level::Gate),
        ("sha256:0123:abcd", Level::Advisory),
        ("sha 256:0123abcd", Level::Advisory),
    ] {
        let x = single(&one(&f, vec![Id::digest(digest)])).clone();
        assert_eq!((x.rule, x.level), (id::I_BAD_DIGEST, level), "{digest}");
        // An unanchored server answers ImageNotFound: a deviation at that level only.
        let e = one(&f, vec![Id::digest(digest)]);
        let d = deviations(
            &e,
            &edited(&e, |v| {
                v["failures"][0]["failureCode"] = json!("ImageNotFound");
                v["failures"][0]["failureReason"] = json!("Requested image not found");
            }),
        );
        assert!(!d.is_empty() && d.iter().all(|x| x.level == level), "{digest}: {d:?}");
    }
}

#[test]
fn i_empty_digest_any_of_its_answers_is_advisory() {
    let f = fixture();
    let e = one(&f, vec![Id::digest(""), Id::tag("v1")]);
    assert_eq!(answers(&e).ids[0].rule, id::I_EMPTY);
    assert_eq!(answers(&e).ids[0].level, Level::Advisory);
    for code in ["MissingDigestAndTag", "InvalidImageDigest"] {
        let d = deviations(&e, &edited(&e, |v| v["failures"][0]["failureCode"] = json!(code)));
        assert!(d.iter().all(|x| x.level == Level::Advisory), "{code}: {d:?}");
    }
    // An empty tag is refused as the length constraint says (either channel accepted).
    let err = error(&one(&f, vec![Id::tag("")])).clone();
    assert_eq!(
        (err.rule, err.error_types[0]),
        (id::I_EMPTY, "InvalidParameterException")
    );
}

#[test]
fn i_tag_charset_a_tag_outside_the_charset_is_invalid_image_tag_advisory() {
    let f = fixture();
    for tag in ["a+b", "a:b", "a b", "caf\u{e9}"] {
        let e = one(&f, vec![Id::tag(tag), Id::tag("v1")]);
        let x = &answers(&e).ids[0];
        assert_eq!(
            (x.rule, x.level, failure_code(x)),
            (id::I_TAG_CHARSET, Level::Advisory, &ImageFailureCode::InvalidImageTag),
            "{tag}"
        );
        // ImageNotFound instead (a server that does not check the charset) is advisory only.
        let d = deviations(
            &e,
            &edited(&e, |v| v["failures"][0]["failureCode"] = json!("ImageNotFound")),
        );
        assert!(
            !d.is_empty() && d.iter().all(|x| x.level == Level::Advisory),
            "{tag}: {d:?}"
        );
    }
}

#[test]
fn i_bad_digest_with_tag_is_invalid_image_digest_advisory() {
    let f = fixture();
    let x = single(&one(&f, vec![Id::both("v1", "nope")])).clone();
    assert_eq!(
        (x.rule, failure_code(&x)),
        (id::I_BAD_DIGEST_WITH_TAG, &ImageFailureCode::InvalidImageDigest)
    );
    assert_eq!(crate::rules::rule_by_id(x.rule).level, Level::Advisory);
}

#[test]
fn i_bad_tag_over_300_characters_refuses_the_request() {
    let f = fixture();
    let err = error(&one(&f, vec![Id::tag("t".repeat(301))])).clone();
    assert_eq!(
        (err.rule, err.error_types[0]),
        (id::I_BAD_TAG, "InvalidParameterException")
    );
    assert!(matches!(one(&f, vec![Id::tag("t".repeat(300))]), Expected::Answers(_)));
}

#[test]
fn i_bad_tag_rev2_either_channel_is_accepted_and_a_wrong_answer_is_still_seen() {
    let f = fixture();
    let long = "t".repeat(301);
    for tag in [long.as_str(), ""] {
        let e = one(&f, vec![Id::tag(tag), Id::tag("v1")]);
        let Expected::Error(err) = &e else { panic!("refused") };
        let per_id = err.per_id.as_deref().expect("a per-id reading");
        assert_eq!(failure_code(&per_id.ids[0]), &ImageFailureCode::InvalidImageTag);
        // The refusal (the reference answer) and the per-id answer both pass without a note.
        assert!(deviations(&e, &reference_reply(&e)).is_empty());
        let per_id_reply = reference_reply(&Expected::Answers(per_id.clone()));
        assert!(
            deviations(&e, &per_id_reply).is_empty(),
            "{tag:?}: {:?}",
            deviations(&e, &per_id_reply)
        );
        // Answered per id but with v1 missing: a gate deviation of v1's rule.
        let broken = {
            let mut v: Value = serde_json::from_slice(&per_id_reply.body).expect("json");
            v["images"] = json!([]);
            json_reply(200, v)
        };
        assert!(deviations(&e, &broken).iter().any(|x| x.level == Level::Gate));
    }
}

#[test]
fn i_tag_charset_and_empty_digest_rev2_a_refusal_naming_the_parameter_is_accepted() {
    let f = fixture();
    for (ids, parameter) in [
        (vec![Id::tag("a+b"), Id::tag("v1")], "imageTag"),
        (vec![Id::digest(""), Id::tag("v1")], "imageDigest"),
    ] {
        let e = one(&f, ids);
        let refusal = json_reply(
            400,
            json!({"__type": "InvalidParameterException", "message": format!("Invalid parameter at '{parameter}' failed to satisfy constraint")}),
        );
        assert!(
            deviations(&e, &refusal).is_empty(),
            "{parameter}: {:?}",
            deviations(&e, &refusal)
        );
        // A refusal for another reason is not.
        let other = json_reply(
            400,
            json!({"__type": "InvalidParameterException", "message": "repositoryName"}),
        );
        assert!(!deviations(&e, &other).is_empty());
    }
    // An empty digest read as no digest at all: MissingDigestAndTag, without a note.
    let e = one(&f, vec![Id::digest(""), Id::tag("v1")]);
    let d = deviations(
        &e,
        &edited(&e, |v| v["failures"][0]["failureCode"] = json!("MissingDigestAndTag")),
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn i_tag_case_tags_match_exactly() {
    let f = fixture();
    let x = single(&one(&f, vec![Id::tag("LATEST")])).clone();
    assert_eq!(
        (x.rule, failure_code(&x)),
        (id::I_TAG_CASE, &ImageFailureCode::ImageNotFound)
    );
    // Found anyway: a gate deviation of I-TAG-CASE.
    let e = one(&f, vec![Id::tag("LATEST")]);
    let found = one(&f, vec![Id::tag("latest")]);
    let d = deviations(&e, &reference_reply(&found));
    assert!(
        d.iter().any(|x| x.rule == id::I_TAG_CASE && x.level == Level::Gate),
        "{d:?}"
    );
    // Both tags exist when they differ only in case: each answers its own image.
    let mut s = f.state.clone();
    s.push(REPO, "{\"other\":1}", DOCKER_V2, Some("Latest")).expect("push");
    let e = run(&s, &request(REPO, vec![Id::tag("Latest"), Id::tag("latest")]));
    let a = answers(&e);
    assert_ne!(
        image(&a.ids[0]).image_id.image_digest,
        image(&a.ids[1]).image_id.image_digest
    );
}

#[test]
fn i_digest_case_upper_case_hex_may_be_read_either_way() {
    // Rev 3 F6: the case of digest hex is open. The model answers ImageNotFound; the image the
    // digest names in lower case, or InvalidImageDigest (the OCI grammar), are accepted.
    let f = fixture();
    let upper = format!("sha256:{}", f.a.trim_start_matches("sha256:").to_uppercase());
    let e = one(&f, vec![Id::digest(&upper)]);
    let x = single(&e).clone();
    assert_eq!(
        (x.rule, x.level, failure_code(&x)),
        (id::I_DIGEST_CASE, Level::Advisory, &ImageFailureCode::ImageNotFound)
    );
    assert!(deviations(&e, &reference_reply(&e)).is_empty());
    // Found: the lower-case digest's entries.
    let found = reference_reply(&one(&f, vec![Id::digest(&f.a)]));
    let d = deviations(&e, &found);
    assert!(d.iter().all(|x| x.level == Level::Advisory), "{d:?}");
    let invalid = edited(&e, |v| v["failures"][0]["failureCode"] = json!("InvalidImageDigest"));
    assert!(deviations(&e, &invalid).iter().all(|x| x.level == Level::Advisory));
    // With a tag, the digest of the tag's own image in upper case: a mismatch, or the image.
    let e = one(&f, vec![Id::both("latest", &upper)]);
    assert_eq!(single(&e).rule, id::I_DIGEST_CASE);
    let d = deviations(&e, &reference_reply(&one(&f, vec![Id::both("latest", &f.a)])));
    assert!(d.iter().all(|x| x.level == Level::Advisory), "{d:?}");
}

#[test]
fn i_scope_lookups_never_cross_repositories() {
    let f = fixture();
    for requested in [Id::tag("only-other"), Id::digest(&f.x)] {
        let x = single(&one(&f, vec![requested.clone()])).clone();
        assert_eq!(
            (x.rule, failure_code(&x)),
            (id::I_SCOPE, &ImageFailureCode::ImageNotFound),
            "{requested}"
        );
    }
}

#[test]
fn i_dup_consistent_a_repeated_id_answered_differently_is_a_gate_deviation() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("nope"), Id::tag("nope")]);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            let first = v["failures"][0].clone();
            let mut second = first.clone();
            second["failureCode"] = json!("InvalidImageTag");
            v["failures"] = json!([first, second]);
        }),
    );
    assert!(
        d.iter()
            .any(|x| x.rule == id::I_DUP_CONSISTENT && x.level == Level::Gate),
        "{d:?}"
    );
}

#[test]
fn i_dup_once_an_identical_id_is_answered_once_and_twice_is_advisory() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1"), Id::tag("v1")]);
    assert_eq!(single(&e).times, 2);
    assert!(deviations(&e, &reference_reply(&e)).is_empty());
    let d = deviations(
        &e,
        &edited(&e, |v| {
            let img = v["images"][0].clone();
            v["images"] = json!([img.clone(), img]);
        }),
    );
    assert_eq!(rules_of(&d), [(id::I_DUP_ONCE, Level::Advisory)]);
}

#[test]
fn i_same_digest_tags_two_tags_of_one_image_give_two_entries() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1"), Id::tag("latest")]);
    let a = answers(&e);
    // Each keeps its own rule (rev 3): the share is an allowed answer of the group, not a rule
    // that lowers what each id's answer says.
    assert_eq!(a.ids.iter().map(|x| x.rule).collect::<Vec<_>>(), [id::I_TAG, id::I_TAG]);
    assert_eq!(a.shares, vec![vec![0, 1]]);
    assert_eq!(image(&a.ids[0]).image_id, Id::both("v1", &f.a));
    assert_eq!(image(&a.ids[1]).image_id, Id::both("latest", &f.a));
    // One entry for both is noted, at the rule's level (advisory since rev 2): whether ECR
    // answers one image once per batch is unknown.
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["images"].as_array_mut().expect("images").truncate(1);
        }),
    );
    assert!(!d.is_empty());
    assert!(
        d.iter()
            .all(|x| x.rule == id::I_SAME_DIGEST_TAGS && x.level == Level::Advisory),
        "{d:?}"
    );
    // An entry under another tag of the image is noted the same way; no tag of the image at all
    // answers neither id.
    let d = deviations(
        &e,
        &edited(&e, |v| v["images"][0]["imageId"]["imageTag"] = json!("latest")),
    );
    assert!(d.iter().all(|x| x.level == Level::Advisory), "{d:?}");
    let d = deviations(
        &e,
        &edited(&e, |v| v["images"][0]["imageId"]["imageTag"] = json!("elsewhere")),
    );
    assert!(d.iter().any(|x| x.level == Level::Gate), "{d:?}");
}

#[test]
fn i_order_answers_in_any_order_conform() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1"), Id::tag("v2"), Id::tag("nope"), Id::neither()]);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["images"].as_array_mut().expect("images").reverse();
            v["failures"].as_array_mut().expect("failures").reverse();
        }),
    );
    assert!(d.is_empty(), "{d:?}");
}

// ---- 5. Media types ----------------------------------------------------------------------------

fn with_types(f: &Fixture, ids: Vec<Id>, types: &[&str]) -> Expected {
    let mut req = request(REPO, ids);
    req.accepted_media_types = Some(types.iter().map(|t| t.to_string()).collect());
    run(&f.state, &req)
}

#[test]
fn m_default_is_gate_for_image_manifests_and_advisory_for_lists() {
    let f = fixture();
    let img = image(single(&one(&f, vec![Id::tag("v2")]))).clone();
    assert_eq!((img.manifest_rule, img.manifest_level), (id::M_DEFAULT, Level::Gate));
    let list = image(single(&one(&f, vec![Id::tag("multi")]))).clone();
    assert_eq!(
        (list.manifest_rule, list.manifest_level),
        (id::M_DEFAULT, Level::Advisory)
    );
    assert_eq!(list.image_id.image_digest.as_deref(), Some(f.list.as_str()));
}

#[test]
fn m_accepted_the_stored_type_comes_back_as_pushed() {
    let f = fixture();
    let img = image(single(&with_types(&f, vec![Id::tag("v2")], &[DOCKER_V2, OCI_MANIFEST]))).clone();
    assert_eq!(
        (img.manifest_rule, img.media_type.as_str()),
        (id::M_ACCEPTED, OCI_MANIFEST)
    );
    assert_eq!(img.manifest, ExpectedManifest::Stored(manifest(OCI_MANIFEST, 3)));
}

#[test]
fn m_by_digest_no_translation() {
    let f = fixture();
    let e = with_types(&f, vec![Id::digest(&f.a)], &[DOCKER_V1]);
    let Outcome::ImagesByDigest { images } = &single(&e).outcome else {
        panic!()
    };
    assert!(
        images
            .iter()
            .all(|i| i.manifest_rule == id::M_BY_DIGEST && i.media_type == DOCKER_V2)
    );
}

#[test]
fn m_translate_docker_v2_by_tag_to_a_v1_only_client_is_schema1() {
    let f = fixture();
    let e = with_types(&f, vec![Id::tag("v1")], &[DOCKER_V1]);
    let img = image(single(&e)).clone();
    assert_eq!(
        (img.manifest_rule, img.media_type.as_str()),
        (id::M_TRANSLATE, DOCKER_V1)
    );
    assert!(matches!(&img.manifest, ExpectedManifest::Schema1 { name, tag, .. } if name == REPO && tag == "v1"));
    assert!(deviations(&e, &reference_reply(&e)).is_empty());
    // The stored manifest instead of a translation is an advisory deviation.
    let stored = reference_reply(&one(&f, vec![Id::tag("v1")]));
    assert!(
        deviations(&e, &stored)
            .iter()
            .all(|d| d.level == Level::Advisory && d.rule == id::M_TRANSLATE)
    );
}

#[test]
fn m_unacceptable_without_translation_the_stored_manifest_comes_back() {
    let f = fixture();
    let img = image(single(&with_types(&f, vec![Id::tag("v2")], &[DOCKER_V1]))).clone();
    assert_eq!(
        (img.manifest_rule, img.media_type.as_str()),
        (id::M_UNACCEPTABLE, OCI_MANIFEST)
    );
}

#[test]
fn m_translate_oci_a_docker_v2_image_by_tag_to_an_oci_only_client_may_come_back_translated() {
    let f = fixture();
    let e = with_types(&f, vec![Id::tag("v1")], &[OCI_MANIFEST]);
    // An OCI translation (same config and layers, OCI types, the stored digest kept): advisory at
    // most, and never M-INTEGRITY (a translation does not hash to the stored digest).
    let translated = manifest(OCI_MANIFEST, 1);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["images"][0]["imageManifest"] = json!(translated);
            v["images"][0]["imageManifestMediaType"] = json!(OCI_MANIFEST);
        }),
    );
    assert!(
        d.iter()
            .all(|x| x.level == Level::Advisory && x.rule != id::M_INTEGRITY),
        "{d:?}"
    );
    // By digest there is no translation (M-BY-DIGEST, gate).
    let e = with_types(&f, vec![Id::digest(&f.c)], &[OCI_MANIFEST]);
    let translated = edited(&e, |v| {
        v["images"][0]["imageManifest"] = json!(manifest(OCI_MANIFEST, 5));
        v["images"][0]["imageManifestMediaType"] = json!(OCI_MANIFEST);
    });
    // By digest, with OCI accepted: no capture says whether ECR translates, refuses or answers
    // the stored manifest (rev 3 F3): the translation is accepted, advisory.
    let d = deviations(&e, &translated);
    assert!(d.iter().all(|x| x.level == Level::Advisory), "{d:?}");
}

#[test]
fn m_translate_oci_rev2_the_model_expects_the_oci_translation_and_the_stored_manifest_is_a_note() {
    let f = fixture();
    let e = with_types(&f, vec![Id::tag("v1")], &[OCI_MANIFEST]);
    let img = image(single(&e)).clone();
    assert_eq!(
        (img.manifest_rule, img.manifest_level, img.media_type.as_str()),
        (id::M_TRANSLATE_OCI, Level::Advisory, OCI_MANIFEST)
    );
    assert!(matches!(&img.manifest, ExpectedManifest::Translated { to, .. } if to == OCI_MANIFEST));
    // The reference answer is a translation, and the comparer takes it without a note.
    let reply = reference_reply(&e);
    assert!(deviations(&e, &reply).is_empty(), "{:?}", deviations(&e, &reply));
    // An emulator that ignores acceptedMediaTypes: an advisory M-TRANSLATE-OCI deviation.
    let stored = reference_reply(&one(&f, vec![Id::tag("v1")]));
    let d = deviations(&e, &stored);
    assert!(!d.is_empty());
    assert!(
        d.iter()
            .all(|x| x.rule == id::M_TRANSLATE_OCI && x.level == Level::Advisory),
        "{d:?}"
    );
}

#[test]
fn m_translate_rev2_where_v1_and_oci_apply_each_is_accepted() {
    let f = fixture();
    let e = with_types(&f, vec![Id::tag("v1")], &[DOCKER_V1, OCI_MANIFEST]);
    let img = image(single(&e)).clone();
    assert_eq!(img.manifest_rule, id::M_TRANSLATE_OCI);
    assert!(matches!(img.also.as_slice(), [c] if c.media_type == DOCKER_V1));
    // A schema 1 answer for it is as good as the OCI one.
    let v1 = reference_reply(&with_types(&f, vec![Id::tag("v1")], &[DOCKER_V1]));
    assert!(deviations(&e, &v1).is_empty(), "{:?}", deviations(&e, &v1));
}

#[test]
fn m_translate_v2_rev2_the_model_expects_the_docker_v2_translation() {
    let f = fixture();
    let e = with_types(&f, vec![Id::tag("v2")], &[DOCKER_V2]);
    let img = image(single(&e)).clone();
    assert_eq!(
        (img.manifest_rule, img.media_type.as_str()),
        (id::M_TRANSLATE_V2, DOCKER_V2)
    );
    assert!(deviations(&e, &reference_reply(&e)).is_empty());
    let stored = reference_reply(&one(&f, vec![Id::tag("v2")]));
    assert!(
        deviations(&e, &stored)
            .iter()
            .any(|x| x.rule == id::M_TRANSLATE_V2 && x.level == Level::Advisory)
    );
    // Stored OCI with only v1 accepted: the stored manifest first, a schema 1 translation beside.
    let e = with_types(&f, vec![Id::tag("v2")], &[DOCKER_V1]);
    let img = image(single(&e)).clone();
    assert_eq!(img.manifest_rule, id::M_UNACCEPTABLE);
    assert!(matches!(img.also.as_slice(), [c] if c.media_type == DOCKER_V1));
}

#[test]
fn m_translate_v2_an_oci_image_by_tag_to_a_docker_v2_only_client_may_come_back_translated() {
    let f = fixture();
    let e = with_types(&f, vec![Id::tag("v2")], &[DOCKER_V2]);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["images"][0]["imageManifest"] = json!(manifest(DOCKER_V2, 3));
            v["images"][0]["imageManifestMediaType"] = json!(DOCKER_V2);
        }),
    );
    assert!(
        d.iter()
            .all(|x| x.level == Level::Advisory && x.rule != id::M_INTEGRITY),
        "{d:?}"
    );
}

#[test]
fn m_type_field_an_entry_without_a_media_type_is_advisory() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1"), Id::digest(&f.c)]);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            for img in v["images"].as_array_mut().expect("images") {
                img.as_object_mut().expect("image").remove("imageManifestMediaType");
            }
        }),
    );
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d.iter()
            .all(|x| x.rule == id::M_TYPE_FIELD && x.level == Level::Advisory),
        "{d:?}"
    );
    // A present but wrong type is the rule that chose the manifest's (M-DEFAULT, gate).
    let d = deviations(
        &e,
        &edited(&e, |v| v["images"][0]["imageManifestMediaType"] = json!(OCI_MANIFEST)),
    );
    assert!(
        d.iter().any(|x| x.rule == id::M_DEFAULT && x.level == Level::Gate),
        "{d:?}"
    );
}

#[test]
fn m_integrity_a_manifest_must_hash_to_its_digest() {
    let f = fixture();
    let e = one(&f, vec![Id::digest(&f.c)]);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["images"][0]["imageManifest"] = json!("{\"reformatted\": true}")
        }),
    );
    assert!(
        d.iter().any(|x| x.rule == id::M_INTEGRITY && x.level == Level::Gate),
        "{d:?}"
    );
    assert!(
        d.iter().any(|x| x.rule == id::M_DEFAULT && x.level == Level::Gate),
        "{d:?}"
    );
}

#[test]
fn m_integrity_rev2_is_advisory_for_schema1() {
    let mut s = fixture().state;
    let signed = r#"{"schemaVersion":1,"name":"team/web","tag":"old","fsLayers":[],"history":[],"signatures":[]}"#;
    s.push(REPO, signed, DOCKER_V1_SIGNED, Some("old")).expect("schema 1");
    let e = run(&s, &request(REPO, vec![Id::tag("old")]));
    // Returned under a digest over its payload, as a registry that signs schema 1 computes it.
    let payload = r#"{"schemaVersion":1,"name":"team/web","tag":"old","fsLayers":[],"history":[]}"#;
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["images"][0]["imageId"]["imageDigest"] = json!(crate::model::syntax::sha256_digest(payload.as_bytes()))
        }),
    );
    assert!(
        d.iter()
            .any(|x| x.rule == id::M_INTEGRITY && x.level == Level::Advisory),
        "{d:?}"
    );
    assert!(!d.iter().any(|x| x.rule == id::M_INTEGRITY && x.level == Level::Gate));
}

// ---- 6. Properties ---------------------------------------------------------------------------

#[test]
fn p_accounted_every_id_is_answered_and_nothing_else() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1"), Id::tag("nope")]);
    let a = answers(&e);
    assert_eq!(a.ids.len(), 2);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            v["failures"] = json!([]);
            v["images"]
                .as_array_mut()
                .expect("images")
                .push(json!({"imageId": {"imageTag": "unasked", "imageDigest": f.b}}));
        }),
    );
    let accounted: Vec<_> = d.iter().filter(|x| x.rule == id::P_ACCOUNTED).collect();
    assert_eq!(accounted.len(), 2, "{d:?}");
}

#[test]
fn p_permute_permuting_ids_permutes_the_expectation() {
    let f = fixture();
    let ids = vec![Id::tag("v1"), Id::digest(&f.b), Id::tag("nope")];
    let mut reversed = ids.clone();
    reversed.reverse();
    let (e1, e2) = (one(&f, ids), one(&f, reversed));
    let mut a: Vec<_> = answers(&e1).ids.iter().map(|x| format!("{x:?}")).collect();
    let mut b: Vec<_> = answers(&e2).ids.iter().map(|x| format!("{x:?}")).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn p_split_a_split_batch_gives_the_same_answers() {
    let f = fixture();
    let whole = one(&f, vec![Id::tag("v2"), Id::digest(&f.c)]);
    let parts = [one(&f, vec![Id::tag("v2")]), one(&f, vec![Id::digest(&f.c)])];
    let joined: Vec<_> = parts.iter().flat_map(|p| answers(p).ids.clone()).collect();
    assert_eq!(answers(&whole).ids, joined);
}

#[test]
fn p_idempotent_the_same_request_gives_the_same_expectation() {
    let f = fixture();
    let req = request(REPO, vec![Id::tag("v1"), Id::digest(&f.a)]);
    assert_eq!(run(&f.state, &req), run(&f.state, &req));
}

#[test]
fn p_read_only_the_model_leaves_the_state_unchanged() {
    let f = fixture();
    let before = f.state.clone();
    let _ = run(&f.state, &request(REPO, vec![Id::tag("v1"), Id::neither()]));
    assert_eq!(f.state, before);
}

// ---- 7. Seeding ------------------------------------------------------------------------------

#[test]
fn s_put_digest_the_image_digest_is_the_sha256_of_the_manifest() {
    let mut s = RegistryState::new(REGISTRY);
    s.create_repository("r1").expect("repo");
    let digest = s.push("r1", "{ }", DOCKER_V2, None).expect("push");
    assert_eq!(digest, syntax::sha256_digest(b"{ }"));
}

#[test]
fn s_seed_pushes_whose_references_are_missing_are_refused() {
    let mut s = RegistryState::new(REGISTRY);
    s.create_repository("r1").expect("repo");
    assert!(s.check_references("r1", &manifest(DOCKER_V2, 1), DOCKER_V2).is_err());
    assert!(s.check_references("r2", "{}", DOCKER_V2).is_err());
}

#[test]
fn s_registry_id_answers_carry_the_registry_id() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1")]);
    assert_eq!(answers(&e).registry_id, REGISTRY);
    let d = deviations(
        &e,
        &edited(&e, |v| v["images"][0]["registryId"] = json!("000000000000")),
    );
    assert_eq!(rules_of(&d), [(id::S_REGISTRY_ID, Level::Gate)]);
}

// ---- The catalogue is covered -----------------------------------------------------------------

#[test]
fn every_rule_has_a_test_named_after_it() {
    let source = include_str!("rule_tests.rs");
    for rule in RULES {
        let prefix = format!("fn {}_", rule.id.to_lowercase().replace('-', "_"));
        assert!(
            source.contains(&prefix),
            "rule {} has no test named `{prefix}...`",
            rule.id
        );
    }
}

#[test]
fn the_reference_answer_conforms_to_its_own_expectation() {
    let f = fixture();
    let all = vec![
        Id::tag("v1"),
        Id::tag("latest"),
        Id::digest(&f.a),
        Id::both("v2", &f.b),
        Id::both("v2", &f.a),
        Id::tag("nope"),
        Id::neither(),
        Id::digest("bad"),
        Id::tag("multi"),
        Id::digest(&f.c),
        Id::tag("v1"),
    ];
    let e = one(&f, all);
    let d = deviations(&e, &reference_reply(&e));
    assert!(d.is_empty(), "{d:#?}");
}

// ---- 9. Outside the model --------------------------------------------------------------------

#[test]
fn x_outside_request_errors_no_state_provokes_are_reported_as_what_they_are() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1")]);
    for (status, shape) in [
        (400, "KmsException"),
        (400, "UnableToGetUpstreamImageException"),
        (400, "LimitExceededException"),
        (500, "ServerException"),
    ] {
        let reply = json_reply(status, json!({"__type": shape, "message": "x"}));
        let d = deviations(&e, &reply);
        assert_eq!(rules_of(&d), [(id::X_OUTSIDE, Level::Advisory)], "{shape}: {d:?}");
    }
    // Any other refusal is still a deviation of the rule that decides the answer.
    let d = deviations(
        &e,
        &json_reply(400, json!({"__type": "ValidationException", "message": "x"})),
    );
    assert!(d.iter().any(|x| x.level == Level::Gate), "{d:?}");
}

#[test]
fn x_outside_failure_codes_answer_their_id_and_the_rest_is_still_judged() {
    let f = fixture();
    let e = one(&f, vec![Id::tag("v1"), Id::tag("v2")]);
    let d = deviations(
        &e,
        &edited(&e, |v| {
            let images = v["images"].as_array_mut().expect("images");
            images.retain(|i| i["imageId"]["imageTag"] != "v1");
            images[0]["imageManifest"] = json!("{}");
            v["failures"] = json!([{"imageId": {"imageTag": "v1"}, "failureCode": "KmsError", "failureReason": "kms"}]);
        }),
    );
    assert!(
        d.iter()
            .any(|x| x.rule == id::X_OUTSIDE && x.image_id.as_ref().and_then(|i| i.image_tag.as_deref()) == Some("v1")),
        "{d:?}"
    );
    // v1 is not judged by its own rule; v2's broken manifest is still a gate deviation.
    assert!(
        !d.iter().any(|x| x.rule == id::I_TAG || x.rule == id::P_ACCOUNTED),
        "{d:?}"
    );
    assert!(d.iter().any(|x| x.level == Level::Gate), "{d:?}");
}

//! Answers of endpoints that echo ids wrongly, answer a sending twice or every repetition:
//! each bug is placed on the id it concerns, and only there.
use crate::judge::{Deviation, Judgement, judge};
use crate::model::{RegistryState, batch_get_image};
use crate::wire::media_type::DOCKER_V2;
use crate::wire::{BatchGetImageRequest, HttpReply, ImageIdentifier as Id};
use serde_json::{Value, json};

const REPO: &str = "team/app";

fn manifest(n: u32) -> String {
    format!(r#"{{"schemaVersion":2,"mediaType":"{DOCKER_V2}","config":{{"digest":"sha256:{n:064x}"}},"layers":[]}}"#)
}

/// A state from pushes of numbered manifests with tags (None: untagged).
fn state(pushes: &[(u32, Option<&str>)]) -> RegistryState {
    let mut s = RegistryState::new("123456789012");
    s.create_repository(REPO).expect("repository");
    for (n, tag) in pushes {
        s.push(REPO, &manifest(*n), DOCKER_V2, *tag).expect("push");
    }
    s
}

fn digest(n: u32) -> String {
    crate::model::syntax::sha256_digest(manifest(n).as_bytes())
}

/// An image entry for manifest `n`, echoed as `echo`.
fn image(n: u32, echo: Value) -> Value {
    json!({"registryId": "123456789012", "repositoryName": REPO, "imageId": echo,
           "imageManifest": manifest(n), "imageManifestMediaType": DOCKER_V2})
}

fn not_found(echo: Value) -> Value {
    json!({"imageId": echo, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"})
}

fn judged(s: &RegistryState, ids: Vec<Id>, images: Vec<Value>, failures: Vec<Value>) -> Vec<Deviation> {
    let request = BatchGetImageRequest {
        repository_name: REPO.into(),
        image_ids: ids,
        ..Default::default()
    };
    let reply = HttpReply {
        status: 200,
        content_type: Some(crate::wire::CONTENT_TYPE.into()),
        body: json!({"images": images, "failures": failures}).to_string().into_bytes(),
    };
    match judge(&batch_get_image(s, &request), &reply) {
        Judgement::Answer(d) => d,
        Judgement::Fault(f) => panic!("fault: {f}"),
    }
}

/// (rule, the concerned id, expected kind -> actual kind), for assertions.
fn found(d: &[Deviation]) -> Vec<(String, Option<String>, String)> {
    d.iter()
        .map(|x| {
            (
                x.rule.clone(),
                x.image_id.as_ref().map(ToString::to_string),
                format!("{} -> {}", x.expected_kind, x.actual_kind),
            )
        })
        .collect()
}

#[test]
fn an_image_under_a_stale_echo_is_placed_by_its_manifest() {
    // Image 1 was pushed as `t`, then `t` moved to image 2; the endpoint still echoes image 1
    // under `t`, and answers the mismatched id with image 1 instead of a failure.
    let s = state(&[(1, Some("t")), (2, Some("t"))]);
    let ids = vec![Id::both("gone", digest(1)), Id::tag("t")];
    let d = judged(
        &s,
        ids,
        vec![
            image(1, json!({"imageDigest": digest(1), "imageTag": "t"})),
            image(2, json!({"imageDigest": digest(2), "imageTag": "t"})),
        ],
        vec![],
    );
    let f = found(&d);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].1.as_deref(),
        Some(Id::both("gone", digest(1)).to_string().as_str())
    );
    assert_eq!(f[0].2, "failure ImageNotFound -> an image");
}

#[test]
fn a_failure_that_echoes_nothing_answers_the_id_left_without_an_answer() {
    // `{"imageTag": "null"}` for a missing digest: an I-ECHO deviation, not a stray entry.
    let s = state(&[(1, Some("t"))]);
    let missing = format!("sha256:{:064x}", 99);
    let d = judged(
        &s,
        vec![Id::digest(&missing), Id::tag("t")],
        vec![image(1, json!({"imageDigest": digest(1), "imageTag": "t"}))],
        vec![not_found(json!({"imageTag": "null"}))],
    );
    let f = found(&d);
    assert_eq!(
        f,
        [(
            "I-ECHO".to_string(),
            Some(Id::digest(&missing).to_string()),
            "echo of digest -> echo of tag".to_string()
        )]
    );
}

#[test]
fn an_id_its_image_answers_is_not_answered_by_elimination() {
    // Image 1 has the tags `v` and `i` and is echoed under `i`; the missing digest, sent
    // twice, gets two `null` failures. Both images are the tag's and the digest's, not the
    // failures'.
    let s = state(&[(1, Some("v")), (1, Some("i"))]);
    let missing = format!("sha256:{:064x}", 99);
    let echo = json!({"imageDigest": digest(1), "imageTag": "i"});
    let d = judged(
        &s,
        vec![
            Id::digest(&missing),
            Id::tag("i"),
            Id::digest(digest(1)),
            Id::digest(&missing),
        ],
        vec![image(1, echo.clone()), image(1, echo)],
        vec![
            not_found(json!({"imageTag": "null"})),
            not_found(json!({"imageTag": "null"})),
        ],
    );
    let rules: Vec<(String, Option<String>)> = found(&d).into_iter().map(|(r, id, _)| (r, id)).collect();
    let missing_id = Some(Id::digest(&missing).to_string());
    assert!(
        rules
            .iter()
            .all(|(_, id)| *id == missing_id || *id == Some(Id::digest(digest(1)).to_string())),
        "{rules:#?}"
    );
    assert!(!rules.iter().any(|(r, _)| r == "P-ACCOUNTED"), "{rules:#?}");
}

#[test]
fn a_sending_answered_twice_is_the_one_with_a_tag_and_a_digest() {
    // An endpoint that answers every image matching the tag or the digest: the mismatched
    // id gets both images, the tag alone its own.
    let s = state(&[(1, Some("a")), (2, Some("b"))]);
    let a = json!({"imageDigest": digest(1), "imageTag": "a"});
    let b = json!({"imageDigest": digest(2), "imageTag": "b"});
    let d = judged(
        &s,
        vec![Id::both("a", digest(2)), Id::tag("a")],
        vec![image(1, a.clone()), image(2, b), image(1, a)],
        vec![],
    );
    let f = found(&d);
    let mismatched = Some(Id::both("a", digest(2)).to_string());
    assert!(f.iter().all(|(_, id, _)| *id == mismatched), "{f:#?}");
    assert!(
        f.iter()
            .any(|(r, _, k)| r == "I-MISMATCH" && k == "failure ImageTagDoesNotMatchDigest -> an image")
    );
}

#[test]
fn an_endpoint_that_answers_every_sending_is_read_per_sending() {
    // Image 1 has two tags and is echoed under its last; the endpoint answers the digest
    // once and the tag and digest at each of its three sendings. Read per tag, the id sent
    // three times would be answered twice (P-ACCOUNTED); read per sending, each repetition
    // has its answer (I-DUP-ONCE, advisory).
    let s = state(&[(1, Some("x")), (1, Some("y"))]);
    let echo = json!({"imageDigest": digest(1), "imageTag": "y"});
    let both = Id::both("x", digest(1));
    let d = judged(
        &s,
        vec![Id::digest(digest(1)), both.clone(), both.clone(), both.clone()],
        vec![
            image(1, echo.clone()),
            image(1, echo.clone()),
            image(1, echo.clone()),
            image(1, echo),
        ],
        vec![],
    );
    let f = found(&d);
    assert!(!f.iter().any(|(r, _, _)| r == "P-ACCOUNTED"), "{f:#?}");
    // Since rev 3 the digest and the tag with its digest may share their entries (F7): the
    // answer is read as that, or as each repetition answered, never as a gate deviation.
    assert!(d.iter().all(|x| x.level == crate::rules::Level::Advisory), "{f:#?}");
    assert!(
        f.iter()
            .any(|(r, id, _)| (r == "I-DUP-ONCE" || r == "I-SAME-DIGEST-TAGS") && *id == Some(both.to_string())),
        "{f:#?}"
    );
}

fn failure(echo: Value, code: &str) -> Value {
    json!({"imageId": echo, "failureCode": code, "failureReason": "whatever"})
}

#[test]
fn an_id_answered_together_with_another_is_judged_by_the_entry_it_shares() {
    // A lookup by digest prefix finds image 1 for `sha256:<prefix>` and answers it together
    // with the full digest, once: the prefix's finding is I-NOT-FOUND, not a missing answer.
    let s = state(&[(1, None)]);
    let prefix = digest(1)[..15].to_string();
    let d = judged(
        &s,
        vec![Id::digest(&prefix), Id::digest(digest(1))],
        vec![image(1, json!({"imageDigest": digest(1)}))],
        vec![],
    );
    let f = found(&d);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].0, "I-NOT-FOUND");
    assert_eq!(f[0].1, Some(Id::digest(&prefix).to_string()));
}

#[test]
fn a_failure_echoing_only_a_digest_answers_the_tag_and_digest_it_dropped_the_tag_of() {
    // Echoes without their tags: `sha256` is no prefix of a digest (it is no digest), and an
    // image that answers the digest better is no reason to leave the malformed id unanswered.
    let s = state(&[(1, Some("t"))]);
    let missing = format!("sha256:{:064x}", 99);
    let ids = vec![
        Id::both("gone", &missing),
        Id::both("t", "sha256"),
        Id::digest(digest(1)),
    ];
    let d = judged(
        &s,
        ids,
        vec![image(1, json!({"imageDigest": digest(1), "imageTag": "t"}))],
        vec![
            not_found(json!({"imageDigest": missing})),
            failure(json!({"imageDigest": "sha256"}), "InvalidImageDigest"),
        ],
    );
    let f = found(&d);
    let echoes: Vec<_> = f.iter().filter(|(rule, ..)| rule == "I-ECHO").collect();
    assert_eq!(echoes.len(), 2, "{f:#?}");
    assert!(
        f.iter()
            .all(|(rule, ..)| rule == "I-ECHO" || rule == "I-BAD-DIGEST-WITH-TAG"),
        "{f:#?}"
    );
    // Each echo at the level of its id's own rule (rev 3 F5): the missing tag's (I-NOT-FOUND)
    // gates, the malformed digest's beside a tag (I-BAD-DIGEST-WITH-TAG) is advisory.
    let level_of = |id: &Id| {
        d.iter()
            .find(|x| x.rule == "I-ECHO" && x.image_id.as_ref() == Some(id))
            .map(|x| x.level)
    };
    assert_eq!(level_of(&Id::both("gone", &missing)), Some(crate::rules::Level::Gate));
    assert_eq!(level_of(&Id::both("t", "sha256")), Some(crate::rules::Level::Advisory));
}

#[test]
fn a_sloppy_echo_closer_to_an_id_is_placed_there() {
    // A case-insensitive lookup answers `TAG-1` with the image of `tag-1` and `{TAG-2, d}`
    // together with `{tag-2, d}`: the case is the finding for both, never I-NOT-FOUND.
    let s = state(&[(1, Some("tag-1")), (1, Some("tag-2"))]);
    let ids = vec![
        Id::tag("TAG-1"),
        Id::both("TAG-2", digest(1)),
        Id::both("tag-2", digest(1)),
    ];
    let d = judged(
        &s,
        ids,
        vec![
            image(1, json!({"imageDigest": digest(1), "imageTag": "tag-1"})),
            image(1, json!({"imageDigest": digest(1), "imageTag": "tag-2"})),
        ],
        vec![],
    );
    let f = found(&d);
    assert!(
        !f.is_empty() && f.iter().all(|(rule, ..)| rule == "I-TAG-CASE"),
        "{f:#?}"
    );
}

#[test]
fn tags_of_one_image_sharing_an_entry_are_read_as_that_not_as_other_alternatives() {
    // One entry for `tag-2` (sent twice) and `tag-3`, and one per tag for the digest: also
    // readable as `tag-2` answered per repetition and the digest answered once, which notes
    // two things where sharing notes one.
    let s = state(&[(1, Some("tag-1")), (1, Some("tag-2")), (1, Some("tag-3"))]);
    let ids = vec![
        Id::tag("tag-2"),
        Id::tag("tag-2"),
        Id::tag("tag-3"),
        Id::digest(digest(1)),
    ];
    let entry = |t: &str| image(1, json!({"imageDigest": digest(1), "imageTag": t}));
    let d = judged(
        &s,
        ids,
        vec![entry("tag-2"), entry("tag-1"), entry("tag-2"), entry("tag-3")],
        vec![],
    );
    let f = found(&d);
    assert!(
        !f.is_empty() && f.iter().all(|(rule, ..)| rule == "I-SAME-DIGEST-TAGS"),
        "{f:#?}"
    );
}

#[test]
fn an_alternative_is_not_read_where_ids_left_without_an_answer_outnumber_the_entries_near_them() {
    // Mismatched ids answered with the tag's image: `{tag-2, d1}`'s image is the same entry as
    // the repeated `{tag-2, d2}`'s, so the repetition is no second answer of `{tag-2, d2}`.
    let s = state(&[(1, Some("tag-1")), (2, Some("tag-2"))]);
    let missing = format!("sha256:{:064x}", 99);
    let ids = vec![
        Id::both("tag-1", &missing),
        Id::both("tag-2", digest(1)),
        Id::both("tag-2", digest(2)),
        Id::both("tag-2", digest(2)),
    ];
    let d = judged(
        &s,
        ids,
        vec![
            image(1, json!({"imageDigest": digest(1), "imageTag": "tag-1"})),
            image(2, json!({"imageDigest": digest(2), "imageTag": "tag-2"})),
            image(2, json!({"imageDigest": digest(2), "imageTag": "tag-2"})),
        ],
        vec![],
    );
    let f = found(&d);
    let mismatched = [
        Id::both("tag-1", &missing).to_string(),
        Id::both("tag-2", digest(1)).to_string(),
    ];
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(
        f.iter()
            .all(|(_, id, _)| id.as_ref().is_some_and(|x| mismatched.contains(x))),
        "{f:#?}"
    );
}

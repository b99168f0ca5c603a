//! Reference revision 3: one test per finding of the third audit (F1 to F10), each failing when
//! its change is undone, and the example answers of issue 26 whose findings moved onto the ids
//! beside them.

use crate::judge::{Deviation, Judgement, judge};
use crate::model::*;
use crate::rules::{Level, id};
use crate::wire::media_type::*;
use crate::wire::{BatchGetImageRequest, HttpReply, ImageIdentifier as Id};
use serde_json::{Value, json};

const REGISTRY: &str = "123456789012";
const REPO: &str = "team/web";

fn manifest(kind: &str, n: u32) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{kind}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:{n:064x}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2,"digest":"sha256:{:064x}"}}]}}"#,
        n + 1
    )
}

/// `v2`: docker v2 image 1 (tags `tag-1`, `latest`); `oci`: OCI image 3 (tag `o`); `list`: a docker
/// list over both (tag `multi`).
struct Fixture {
    state: RegistryState,
    v2: String,
    oci: String,
    list: String,
}

fn fixture() -> Fixture {
    let mut s = RegistryState::new(REGISTRY);
    s.create_repository(REPO).expect("repo");
    let v2 = s
        .push(REPO, &manifest(DOCKER_V2, 1), DOCKER_V2, Some("tag-1"))
        .expect("v2");
    s.push(REPO, &manifest(DOCKER_V2, 1), DOCKER_V2, Some("latest"))
        .expect("v2 again");
    let oci = s
        .push(REPO, &manifest(OCI_MANIFEST, 3), OCI_MANIFEST, Some("o"))
        .expect("oci");
    let list_manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[{{"mediaType":"{DOCKER_V2}","digest":"{v2}"}},{{"mediaType":"{OCI_MANIFEST}","digest":"{oci}"}}]}}"#
    );
    let list = s.push(REPO, &list_manifest, DOCKER_LIST, Some("multi")).expect("list");
    Fixture {
        state: s,
        v2,
        oci,
        list,
    }
}

fn expect(f: &Fixture, ids: Vec<Id>, accepted: Option<&[&str]>) -> Expected {
    let request = BatchGetImageRequest {
        repository_name: REPO.into(),
        image_ids: ids,
        accepted_media_types: accepted.map(|a| a.iter().map(|t| t.to_string()).collect()),
        ..Default::default()
    };
    batch_get_image(&f.state, &request)
}

fn image(manifest: &str, media_type: &str, image_id: Value) -> Value {
    json!({"registryId": REGISTRY, "repositoryName": REPO, "imageId": image_id,
           "imageManifest": manifest, "imageManifestMediaType": media_type})
}

fn failure(echo: Value, code: &str) -> Value {
    json!({"imageId": echo, "failureCode": code, "failureReason": "Requested image not found"})
}

fn judged(e: &Expected, images: Vec<Value>, failures: Vec<Value>) -> Vec<Deviation> {
    let reply = HttpReply {
        status: 200,
        content_type: Some(crate::wire::CONTENT_TYPE.into()),
        body: json!({"images": images, "failures": failures}).to_string().into_bytes(),
    };
    match judge(e, &reply) {
        Judgement::Answer(d) => d,
        Judgement::Fault(f) => panic!("fault: {f}"),
    }
}

fn gate(d: &[Deviation]) -> Vec<(&str, String)> {
    d.iter()
        .filter(|x| x.level == Level::Gate)
        .map(|x| (x.rule.as_str(), x.summary.clone()))
        .collect()
}

#[test]
fn f1_a_translation_may_come_under_the_digest_of_its_own_bytes() {
    let f = fixture();
    let e = expect(&f, vec![Id::tag("tag-1")], Some(&[DOCKER_V1]));
    let schema1 = manifest::schema1_translation(&manifest(DOCKER_V2, 1), REPO, "tag-1");
    let own = syntax::sha256_digest(schema1.as_bytes());
    let d = judged(
        &e,
        vec![image(
            &schema1,
            DOCKER_V1,
            json!({"imageDigest": own, "imageTag": "tag-1"}),
        )],
        vec![],
    );
    // No deviation of the id's identity at all: the digest of the bytes is its digest.
    assert!(
        d.iter().all(|x| x.rule != id::I_TAG && x.rule != id::M_INTEGRITY),
        "{d:?}"
    );
    // Another digest still is one, at the translation's level.
    let d = judged(
        &e,
        vec![image(
            &schema1,
            DOCKER_V1,
            json!({"imageDigest": f.oci, "imageTag": "tag-1"}),
        )],
        vec![],
    );
    assert!(
        d.iter().any(|x| x.rule == id::I_TAG && x.level == Level::Advisory),
        "{d:?}"
    );
    assert!(gate(&d).is_empty(), "{d:?}");
}

#[test]
fn f2_an_image_whose_stored_type_is_not_accepted_may_be_refused() {
    let f = fixture();
    // OCI stored, only docker v1 accepted, by tag: no translation the table names.
    let e = expect(&f, vec![Id::tag("o")], Some(&[DOCKER_V1]));
    let d = judged(&e, vec![], vec![failure(json!({"imageTag": "o"}), "ImageNotFound")]);
    assert!(gate(&d).is_empty(), "{d:?}");
    // The id's own rule stands at advisory there: the evidence names no answer for it.
    let Expected::Answers(a) = &e else { panic!("answers") };
    assert_eq!((a.ids[0].rule, a.ids[0].level), (id::I_TAG, Level::Advisory));
    // With its type accepted, a refusal is a gate deviation of I-TAG.
    let e = expect(&f, vec![Id::tag("o")], Some(&[OCI_MANIFEST]));
    let d = judged(&e, vec![], vec![failure(json!({"imageTag": "o"}), "ImageNotFound")]);
    assert!(gate(&d).iter().any(|(r, _)| *r == id::I_TAG), "{d:?}");
}

#[test]
fn f3_by_digest_only_the_observed_case_gates_the_stored_manifest() {
    let f = fixture();
    let oci_translation = manifest::translation(&manifest(DOCKER_V2, 1), OCI_MANIFEST).expect("translates");
    // Stored docker v2 by digest, only OCI accepted: a translation is accepted.
    let e = expect(&f, vec![Id::digest(&f.v2)], Some(&[OCI_MANIFEST]));
    let entry = |t: &str| {
        image(
            &oci_translation,
            OCI_MANIFEST,
            json!({"imageDigest": f.v2, "imageTag": t}),
        )
    };
    let d = judged(&e, vec![entry("tag-1"), entry("latest")], vec![]);
    assert!(gate(&d).is_empty(), "{d:?}");
    // A tag with its digest, only schema 1 accepted: the translation a lookup by tag gives.
    let e = expect(&f, vec![Id::both("tag-1", &f.v2)], Some(&[DOCKER_V1]));
    let schema1 = manifest::schema1_translation(&manifest(DOCKER_V2, 1), REPO, "tag-1");
    let d = judged(
        &e,
        vec![image(
            &schema1,
            DOCKER_V1,
            json!({"imageDigest": f.v2, "imageTag": "tag-1"}),
        )],
        vec![],
    );
    assert!(gate(&d).is_empty(), "{d:?}");
    // The observed case stays gate: by digest alone, docker v2, only schema 1 accepted.
    let e = expect(&f, vec![Id::digest(&f.v2)], Some(&[DOCKER_V1]));
    let d = judged(
        &e,
        vec![
            image(&schema1, DOCKER_V1, json!({"imageDigest": f.v2, "imageTag": "tag-1"})),
            image(&schema1, DOCKER_V1, json!({"imageDigest": f.v2, "imageTag": "latest"})),
        ],
        vec![],
    );
    assert!(gate(&d).iter().any(|(r, _)| *r == id::M_BY_DIGEST), "{d:?}");
}

#[test]
fn f4_a_list_asked_by_tag_without_list_types_may_be_answered_with_a_child() {
    let f = fixture();
    let e = expect(&f, vec![Id::tag("multi")], Some(&[DOCKER_V2]));
    let child = manifest(DOCKER_V2, 1);
    for digest in [&f.v2, &f.list] {
        let d = judged(
            &e,
            vec![image(
                &child,
                DOCKER_V2,
                json!({"imageDigest": digest, "imageTag": "multi"}),
            )],
            vec![],
        );
        assert!(gate(&d).is_empty(), "under {digest}: {d:?}");
        assert!(!d.iter().any(|x| x.rule == id::I_TAG), "under {digest}: {d:?}");
    }
}

#[test]
fn f5_an_echo_is_judged_at_the_level_of_the_ids_own_rule() {
    let f = fixture();
    let e = expect(&f, vec![Id::both("tag-1", "sha256:xyz")], None);
    let d = judged(
        &e,
        vec![],
        vec![failure(json!({"imageDigest": "sha256:xyz"}), "InvalidImageDigest")],
    );
    assert!(d.iter().any(|x| x.rule == id::I_ECHO), "{d:?}");
    assert!(gate(&d).is_empty(), "{d:?}");
    // The echo of an id whose rule gates keeps the gate.
    let missing = format!("sha256:{:064x}", 99);
    let e = expect(&f, vec![Id::both("gone", &missing)], None);
    let d = judged(
        &e,
        vec![],
        vec![failure(json!({"imageDigest": missing}), "ImageNotFound")],
    );
    assert!(gate(&d).iter().any(|(r, _)| *r == id::I_ECHO), "{d:?}");
}

#[test]
fn f7_any_ids_that_name_one_image_may_share_one_entry() {
    let f = fixture();
    let one = image(
        &manifest(DOCKER_V2, 1),
        DOCKER_V2,
        json!({"imageDigest": f.v2, "imageTag": "tag-1"}),
    );
    for ids in [
        vec![Id::digest(&f.v2), Id::tag("tag-1")],
        vec![Id::both("tag-1", &f.v2), Id::tag("tag-1")],
        vec![Id::digest(&f.v2), Id::both("latest", &f.v2)],
    ] {
        let e = expect(&f, ids.clone(), None);
        let d = judged(&e, vec![one.clone()], vec![]);
        assert!(gate(&d).is_empty(), "{ids:?}: {d:?}");
        assert!(d.iter().any(|x| x.rule == id::I_SAME_DIGEST_TAGS), "{ids:?}: {d:?}");
    }
}

#[test]
fn f8_a_short_sha256_digest_may_be_refused_as_invalid_but_never_found() {
    let f = fixture();
    let short = f.v2[..20].to_string();
    let e = expect(&f, vec![Id::digest(&short)], None);
    let invalid = json!({"imageId": {"imageDigest": short}, "failureCode": "InvalidImageDigest",
                         "failureReason": crate::model::batch_get_image::REASON_NOT_FOUND});
    let d = judged(&e, vec![], vec![invalid]);
    assert!(d.iter().all(|x| x.level == Level::Advisory), "{d:?}");
    // A lookup by prefix that finds the image is still a gate deviation of I-NOT-FOUND.
    let d = judged(
        &e,
        vec![image(&manifest(DOCKER_V2, 1), DOCKER_V2, json!({"imageDigest": f.v2}))],
        vec![],
    );
    assert!(gate(&d).iter().any(|(r, _)| *r == id::I_NOT_FOUND), "{d:?}");
}

#[test]
fn f10_an_unknown_failure_code_is_outside_the_model() {
    let f = fixture();
    let e = expect(&f, vec![Id::tag("missing")], None);
    let d = judged(
        &e,
        vec![],
        vec![failure(json!({"imageTag": "missing"}), "ImageArchivedNow")],
    );
    assert_eq!(
        d.iter().map(|x| (x.rule.as_str(), x.level)).collect::<Vec<_>>(),
        [(id::X_OUTSIDE, Level::Advisory)]
    );
}

#[test]
fn issue_26_a_repetition_answered_each_time_beside_a_mismatch_keeps_its_answers() {
    // `[{tag TAG-1}, {tag TAG-1}, {tag tag-1, digest D}]` answered with three ImageNotFound: the
    // repetition is answered each time (I-DUP-ONCE, advisory) and the mismatched id with the
    // wrong code (I-MISMATCH); its failure is not taken from the repetition (no I-ECHO).
    let f = fixture();
    let e = expect(
        &f,
        vec![Id::tag("TAG-1"), Id::tag("TAG-1"), Id::both("tag-1", &f.oci)],
        None,
    );
    let nf = |echo: Value| failure(echo, "ImageNotFound");
    let d = judged(
        &e,
        vec![],
        vec![
            nf(json!({"imageTag": "TAG-1"})),
            nf(json!({"imageTag": "TAG-1"})),
            nf(json!({"imageTag": "tag-1", "imageDigest": f.oci})),
        ],
    );
    let rules: Vec<(&str, Level)> = d.iter().map(|x| (x.rule.as_str(), x.level)).collect();
    assert!(rules.contains(&(id::I_MISMATCH, Level::Gate)), "{d:?}");
    assert!(rules.contains(&(id::I_DUP_ONCE, Level::Advisory)), "{d:?}");
    assert!(!d.iter().any(|x| x.rule == id::I_ECHO), "{d:?}");
    // The same with the mismatched id answered by the tag's image (a lookup that ignores the
    // digest): the image is its finding, the repetition keeps its two failures.
    let d = judged(
        &e,
        vec![image(
            &manifest(DOCKER_V2, 1),
            DOCKER_V2,
            json!({"imageDigest": f.v2, "imageTag": "tag-1"}),
        )],
        vec![nf(json!({"imageTag": "TAG-1"})), nf(json!({"imageTag": "TAG-1"}))],
    );
    assert_eq!(
        gate(&d).iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        [id::I_MISMATCH],
        "{d:?}"
    );
}

#[test]
fn issue_26_a_digest_answered_untagged_beside_a_mismatch_answered_with_the_tags_image() {
    // `[{tag-1}, {tag-1, D-other}, {D}]`: the tag's image once (for the tag and, wrongly, the
    // mismatched id), the digest untagged (I-DIGEST-TAGS): the mismatch is the only finding.
    let f = fixture();
    let e = expect(
        &f,
        vec![Id::tag("tag-1"), Id::both("tag-1", &f.oci), Id::digest(&f.v2)],
        None,
    );
    let m = manifest(DOCKER_V2, 1);
    let d = judged(
        &e,
        vec![
            image(&m, DOCKER_V2, json!({"imageDigest": f.v2, "imageTag": "tag-1"})),
            image(&m, DOCKER_V2, json!({"imageDigest": f.v2})),
        ],
        vec![],
    );
    assert_eq!(
        gate(&d).iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        [id::I_MISMATCH],
        "{d:?}"
    );
}

#[test]
fn f7_an_entry_shared_by_ids_that_expect_other_manifests_is_judged_as_the_answer_it_fits() {
    // The digest (stored docker v2, only schema 1 accepted: the stored manifest, gate) and one of
    // its tags (the schema 1 translation) answered by one entry, the translation: the tag's
    // answer, shared with the digest; never a translation by digest.
    let f = fixture();
    let e = expect(&f, vec![Id::digest(&f.v2), Id::tag("latest")], Some(&[DOCKER_V1]));
    let schema1 = manifest::schema1_translation(&manifest(DOCKER_V2, 1), REPO, "latest");
    let d = judged(
        &e,
        vec![image(
            &schema1,
            DOCKER_V1,
            json!({"imageDigest": f.v2, "imageTag": "latest"}),
        )],
        vec![],
    );
    assert!(gate(&d).is_empty(), "{d:?}");
    assert!(d.iter().all(|x| x.rule == id::I_SAME_DIGEST_TAGS), "{d:?}");
}

/// Two readings are weighed by their gate deviations as the evidence bounds them: the id sent with
/// both, whose answer is open here (only schema 1 accepted), refused and echoed by its digest
/// alone (advisory), must not make the reading that gives the digest-only id its image look as
/// bad as the one that gives that id the failure (a false I-DIGEST at gate).
#[test]
fn an_open_ids_refusal_echoed_by_its_digest_stays_its_own_beside_the_digest_only_id() {
    let f = fixture();
    let e = expect(
        &f,
        vec![Id::digest(&f.v2), Id::both("tag-1", &f.v2)],
        Some(&[DOCKER_V1]),
    );
    let v2 = manifest(DOCKER_V2, 1);
    let d = judged(
        &e,
        vec![image(&v2, DOCKER_V2, json!({"imageDigest": f.v2}))],
        vec![failure(json!({"imageDigest": f.v2}), "ImageNotFound")],
    );
    assert!(gate(&d).is_empty(), "{d:#?}");
}

/// A failure outside the model that echoes one id exactly may be another id's answer: here the
/// code ECR may add (F10) for the id sent with both, echoed by its digest alone (F5), while the
/// digest-only id got ImageNotFound at each repetition. No failure may move onto the third id.
#[test]
fn an_unknown_code_echoing_a_digest_may_answer_the_id_sent_with_both() {
    let f = fixture();
    let e = expect(
        &f,
        vec![
            Id::digest(&f.oci),
            Id::digest(&f.oci),
            Id::both("o", &f.oci),
            Id::both("nope", &f.oci),
        ],
        Some(&[DOCKER_V1]),
    );
    // The digest-only id answered at each repetition.
    let d = judged(
        &e,
        vec![],
        vec![
            failure(json!({"imageDigest": f.oci}), "ImageNotAvailable"),
            failure(json!({"imageDigest": f.oci}), "ImageNotFound"),
            failure(json!({"imageDigest": f.oci}), "ImageNotFound"),
            failure(json!({"imageDigest": f.oci, "imageTag": "nope"}), "ImageNotFound"),
        ],
    );
    assert!(gate(&d).is_empty(), "{d:#?}");
}

/// A list's child answered for the list's tag and, as one untagged entry, for its digest (F4 with
/// I-DIGEST-TAGS): both entries carry the child's digest, and neither is the answer of an id that
/// names the child with a tag the repository lacks.
#[test]
fn a_lists_child_as_one_untagged_entry_answers_the_lists_digest() {
    let f = fixture();
    let e = expect(
        &f,
        vec![Id::digest(&f.list), Id::tag("multi"), Id::both("nope", &f.oci)],
        Some(&[OCI_MANIFEST]),
    );
    let child = manifest(OCI_MANIFEST, 3);
    let d = judged(
        &e,
        vec![
            image(&child, OCI_MANIFEST, json!({"imageDigest": f.oci, "imageTag": "multi"})),
            image(&child, OCI_MANIFEST, json!({"imageDigest": f.oci})),
        ],
        vec![failure(
            json!({"imageDigest": f.oci, "imageTag": "nope"}),
            "ImageNotFound",
        )],
    );
    assert!(gate(&d).is_empty(), "{d:#?}");
}

/// A digest in upper-case hex may find its image (F6), and that image's open manifest choice may
/// be a list's child, answered as one untagged entry (F4, I-DIGEST-TAGS): all allowed together.
#[test]
fn a_digest_in_other_letters_may_find_a_lists_child_as_one_untagged_entry() {
    let f = fixture();
    let upper = format!("sha256:{}", f.list["sha256:".len()..].to_uppercase());
    let e = expect(&f, vec![Id::digest(&upper)], Some(&[OCI_MANIFEST]));
    let child = manifest(OCI_MANIFEST, 3);
    let d = judged(
        &e,
        vec![image(&child, OCI_MANIFEST, json!({"imageDigest": f.oci}))],
        vec![],
    );
    assert!(gate(&d).is_empty(), "{d:#?}");
}

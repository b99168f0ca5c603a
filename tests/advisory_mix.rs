//! The soundness proof of the comparer: an implementation whose answers differ from the model only
//! where the reference allows several answers, or at advisory level, gets no gate deviation, for
//! every seed. The embedded server's alternatives (`server::Alternative`) are such differences;
//! `advisory-mix` draws a combination of them per seed.
//!
//! - every alternative alone: a run passes the gate, and (for those the comparer can see) reports
//!   at least one advisory deviation, so that the alternative is known to have been exercised;
//! - `advisory-mix` over seeds 1 to 20: no gate deviation, no fault, nothing left behind;
//! - every alternative, the invisible ones included, changes the answer on the wire, and the same
//!   request twice gets the same bytes.
//!
//! These are the acceptance tests of the comparer: where it does not yet accept an alternative,
//! they fail and name the gate classes it reported.

use ecr_conformance::control::RunControl;
use ecr_conformance::model::{Push, RegistryPlan};
use ecr_conformance::report::Report;
use ecr_conformance::server::{self, Alternative, Alternatives, ServerConfig, Variant};
use ecr_conformance::session::{self, RunOptions};
use ecr_conformance::target::{self, TargetOptions};
use ecr_conformance::wire::{BatchGetImageRequest, HttpReply, ImageIdentifier, media_type};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Alternatives that no comparer reports, because the reference says they are no deviation at all:
/// proven to change the answer by `every_alternative_changes_the_answer_on_the_wire` instead.
const INVISIBLE: [(Alternative, &str); 15] = [
    (
        Alternative::TranslatedDigest,
        "rev 3 (F1): a translation's digest may be that of its own bytes",
    ),
    (
        Alternative::TranslateByDigest,
        "rev 3 (F3): outside the observed case, a translation by digest is accepted",
    ),
    (
        Alternative::ListChild,
        "rev 3 (F4): a list asked by tag without list types may be answered with a child",
    ),
    (
        Alternative::StrictDigestForm,
        "rev 3 (F8): a short sha256: digest may be InvalidImageDigest",
    ),
    (
        Alternative::Schema1SignedAfresh,
        "rev 3 (F9): the properties compare translations by structure, not signatures",
    ),
    (
        Alternative::LongTagPerId,
        "I-BAD-TAG accepts a per-id InvalidImageTag (rev 2)",
    ),
    (
        Alternative::NewNameRefused,
        "R-REPO-NAME-NEW-ONLY accepts a refusal naming repositoryName (rev 2)",
    ),
    (
        Alternative::OtherTranslation,
        "section 5: where several translations apply, each is accepted (rev 2)",
    ),
    (
        Alternative::Schema1OtherBody,
        "M-TRANSLATE checks a schema 1 body by structure only",
    ),
    (
        Alternative::TypeForms,
        "W-ERR-TYPE: every __type form is read as its name",
    ),
    (Alternative::ExtraMembers, "section 1: unknown members are no deviation"),
    (Alternative::ReversedOrder, "I-ORDER: the order is never checked"),
    (
        Alternative::PrettyJson,
        "section 1: whitespace and key order are no deviation",
    ),
    (
        Alternative::CapitalisedMessage,
        "W-ERR-TYPE: a capitalised Message is harmless",
    ),
    (
        Alternative::ForeignNotFound,
        "R-REGISTRY-FOREIGN accepts either error type",
    ),
];

/// The seed a lone alternative is run with, when seed 1 generates nothing it changes.
fn seed_for(a: Alternative) -> u64 {
    match a {
        // Seed 1's 200 cases hold no request with invalid parameters and a missing repository.
        Alternative::LookupFirst => 2,
        _ => 1,
    }
}

const CASES: usize = 200;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn run(variant: Variant, alternatives: Alternatives, seed: u64) -> Report {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("out");
    let options = RunOptions {
        seed: Some(seed),
        cases: CASES,
        cases_dir: Some(root().join("cases")),
        variant: variant.into(),
        alternatives,
        out: out.clone(),
        shrink_budget: Duration::ZERO,
        ..RunOptions::default()
    };
    // No AWS variables: the embedded server is the target, signed with test/test.
    let env: HashMap<&str, &str> = HashMap::from([("HOME", "/nonexistent")]);
    let result = session::run_with_env(options, &env).await;
    result.expect("the run completes").report
}

/// The gate classes of a report, one per line: what the comparer would have to accept.
fn gate_classes(report: &Report) -> String {
    report
        .classes
        .iter()
        .filter(|c| c.fails_gate)
        .map(|c| format!("\n  {} ({})", c.title, c.count))
        .collect()
}

/// No gate deviation, no fault, nothing left behind, the run complete.
fn assert_sound(report: &Report, what: &str) {
    assert_eq!(report.counts.faults, 0, "{what}: faults {:?}", report.faults);
    assert!(
        report.leftovers.is_empty(),
        "{what}: left behind {:?}",
        report.leftovers
    );
    assert_eq!(report.aborted, None, "{what}: the run stopped early");
    assert_eq!(
        report.counts.gate_deviations,
        0,
        "{what}: gate deviations where the reference allows the answer; gate classes:{}",
        gate_classes(report)
    );
}

async fn check_alone(a: Alternative) {
    let seed = seed_for(a);
    let report = run(Variant::Reference, Alternatives::only(a), seed).await;
    let what = format!("{} alone (seed {seed})", a.name());
    assert_sound(&report, &what);
    let rules: Vec<&str> = report
        .rules
        .iter()
        .filter(|(_, r)| r.deviations > 0)
        .map(|(id, _)| *id)
        .collect();
    if let Some((_, why)) = INVISIBLE.iter().find(|(x, _)| *x == a) {
        assert_eq!(
            report.counts.deviations, 0,
            "{what} is listed as invisible ({why}), yet reported: {rules:?}"
        );
    } else {
        assert!(
            report.counts.advisory_deviations > 0,
            "{what}: no advisory deviation, so nothing shows that it was exercised (rules reported: {rules:?})"
        );
    }
}

macro_rules! alone {
    ($($name:ident => $alternative:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                check_alone(Alternative::$alternative).await;
            }
        )*

        #[test]
        fn every_alternative_is_run_alone() {
            let tested = [$(Alternative::$alternative),*];
            for a in Alternative::ALL {
                assert!(tested.contains(&a), "alternative {} has no test of its own", a.name());
            }
        }
    };
}

alone! {
    alone_dup_each => DupEach,
    alone_digest_one_entry => DigestOneEntry,
    alone_digest_untagged_entry => DigestUntaggedEntry,
    alone_schema1_other_body => Schema1OtherBody,
    alone_no_translation => NoTranslation,
    alone_other_translation => OtherTranslation,
    alone_no_media_type_field => NoMediaTypeField,
    alone_other_texts => OtherTexts,
    alone_type_forms => TypeForms,
    alone_extra_members => ExtraMembers,
    alone_reversed_order => ReversedOrder,
    alone_pretty_json => PrettyJson,
    alone_capitalised_message => CapitalisedMessage,
    alone_json_content_type => JsonContentType,
    alone_failures_omitted_when_empty => FailuresOmittedWhenEmpty,
    alone_foreign_not_found => ForeignNotFound,
    alone_new_name_refused => NewNameRefused,
    alone_long_tag_per_id => LongTagPerId,
    alone_empty_media_list_accepted => EmptyMediaListAccepted,
    alone_lookup_first => LookupFirst,
    alone_same_image_once => SameImageOnce,
    alone_translated_digest => TranslatedDigest,
    alone_refuse_unaccepted => RefuseUnaccepted,
    alone_translate_by_digest => TranslateByDigest,
    alone_list_child => ListChild,
    alone_echo_digest_only => EchoDigestOnly,
    alone_digest_case_insensitive => DigestCaseInsensitive,
    alone_image_once => ImageOnce,
    alone_strict_digest_form => StrictDigestForm,
    alone_schema1_signed_afresh => Schema1SignedAfresh,
    alone_unknown_failure_code => UnknownFailureCode,
}

async fn check_mix(seed: u64) {
    let drawn = Variant::AdvisoryMix.alternatives_for(&ecr_conformance::run::run_prefix(seed));
    let report = run(Variant::AdvisoryMix, Alternatives::NONE, seed).await;
    assert_sound(&report, &format!("advisory-mix seed {seed} ({drawn})"));
}

macro_rules! mix {
    ($($name:ident => $seed:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                check_mix($seed).await;
            }
        )*
    };
}

mix! {
    mix_seed_01 => 1, mix_seed_02 => 2, mix_seed_03 => 3, mix_seed_04 => 4, mix_seed_05 => 5,
    mix_seed_06 => 6, mix_seed_07 => 7, mix_seed_08 => 8, mix_seed_09 => 9, mix_seed_10 => 10,
    mix_seed_11 => 11, mix_seed_12 => 12, mix_seed_13 => 13, mix_seed_14 => 14, mix_seed_15 => 15,
    mix_seed_16 => 16, mix_seed_17 => 17, mix_seed_18 => 18, mix_seed_19 => 19, mix_seed_20 => 20,
}

#[test]
fn the_seeds_draw_different_combinations_and_each_alternative_is_drawn() {
    let drawn: Vec<Alternatives> = (1..=20u64)
        .map(|s| Variant::AdvisoryMix.alternatives_for(&format!("{}-w1/r", ecr_conformance::run::run_prefix(s))))
        .collect();
    for a in Alternative::ALL {
        assert!(
            drawn.iter().any(|d| d.contains(a)),
            "{} is on for none of seeds 1-20",
            a.name()
        );
        assert!(
            drawn.iter().any(|d| !d.contains(a)),
            "{} is on for all of seeds 1-20",
            a.name()
        );
    }
    assert_eq!(Variant::AdvisoryMix.expected_rule(), None);
    assert!(Variant::SOUNDNESS.contains(&Variant::AdvisoryMix));
    assert!(!Variant::HARMLESS.contains(&Variant::AdvisoryMix) && !Variant::BROKEN.contains(&Variant::AdvisoryMix));
}

/// The repository of `cases/mixed-failures.json` (a docker v2 image tagged `v1`, an OCI image
/// tagged `v2`, their blobs), with `v1b` on the docker v2 image too.
fn plan() -> (RegistryPlan, String) {
    let case = ecr_conformance::cases::CaseFile::load(&root().join("cases/mixed-failures.json")).expect("case file");
    let mut plan = case.plan();
    let repo = &mut plan.repositories[0];
    let v1 = repo
        .pushes
        .iter()
        .find(|p| p.tag.as_deref() == Some("v1"))
        .expect("v1 is pushed")
        .clone();
    let digest = ecr_conformance::model::syntax::sha256_digest(v1.manifest.as_bytes());
    let size = v1.manifest.len();
    repo.pushes.push(Push {
        tag: Some("v1b".into()),
        ..v1
    });
    // A list of the docker v2 image, tagged `list` (for list-child).
    let list = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::DOCKER_LIST,
        "manifests": [{
            "mediaType": media_type::DOCKER_V2,
            "size": size,
            "digest": digest,
            "platform": {"architecture": "amd64", "os": "linux"},
        }],
    });
    repo.pushes.push(Push {
        manifest: list.to_string(),
        media_type: media_type::DOCKER_LIST.into(),
        tag: Some("list".into()),
    });
    (plan, digest)
}

/// Requests that between them give every alternative something to change (`name` is the seeded
/// repository, `d` the digest of `v1`).
fn requests(name: &str, d: &str) -> Vec<BatchGetImageRequest> {
    let tag = ImageIdentifier::tag;
    let ask = |ids: Vec<ImageIdentifier>, types: Option<Vec<&str>>| BatchGetImageRequest {
        registry_id: None,
        repository_name: name.to_string(),
        image_ids: ids,
        accepted_media_types: types.map(|t| t.into_iter().map(str::to_string).collect()),
    };
    let sibling = |suffix: &str| format!("{}{suffix}", name.rsplit_once('/').map_or(name, |(head, _)| head));
    vec![
        ask(
            vec![
                tag("v1"),
                tag("nope"),
                ImageIdentifier::neither(),
                ImageIdentifier::digest("sha256:xyz"),
            ],
            None,
        ),
        ask(vec![tag("v2")], None),
        ask(vec![tag("v1")], Some(vec![media_type::DOCKER_V1])),
        ask(vec![tag("v1")], Some(vec![media_type::OCI_MANIFEST])),
        ask(
            vec![tag("v1")],
            Some(vec![media_type::DOCKER_V1, media_type::OCI_MANIFEST]),
        ),
        ask(vec![tag("v2")], Some(vec![media_type::DOCKER_V2])),
        ask(vec![tag("v1"), tag("v1")], None),
        ask(vec![ImageIdentifier::digest(d)], None),
        ask(vec![tag("v1"), tag("v1b")], None),
        ask(vec![ImageIdentifier::tag("x".repeat(301)), tag("v1")], None),
        ask(vec![tag("v1")], Some(Vec::new())),
        // Revision 3's open answers (F1 to F10).
        ask(vec![ImageIdentifier::both("v1", d)], Some(vec![media_type::DOCKER_V1])),
        ask(vec![tag("list")], Some(vec![media_type::DOCKER_V2])),
        ask(vec![ImageIdentifier::both("v1", "sha256:xyz")], None),
        ask(
            vec![ImageIdentifier::digest(d.to_uppercase().replace("SHA256:", "sha256:"))],
            None,
        ),
        ask(vec![tag("v1"), ImageIdentifier::digest(d)], None),
        ask(
            (0..16).map(|i| ImageIdentifier::tag(format!("absent-{i}"))).collect(),
            None,
        ),
        BatchGetImageRequest {
            registry_id: Some("999999999999".into()),
            ..ask(vec![tag("v1")], None)
        },
        BatchGetImageRequest {
            repository_name: sibling("/absent"),
            ..ask(vec![tag("v1")], None)
        },
        BatchGetImageRequest {
            repository_name: sibling("/a__b"),
            ..ask(vec![tag("v1")], None)
        },
        BatchGetImageRequest {
            repository_name: sibling("/absent"),
            ..ask(Vec::new(), None)
        },
    ]
}

/// The answers of a server with `alternatives` to [`requests`]: status, content type and body text.
async fn wire_answers(alternatives: Alternatives) -> Vec<(u16, Option<String>, String)> {
    let config = ServerConfig {
        alternatives,
        ..ServerConfig::default()
    };
    let running = server::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the server starts");
    let env: HashMap<&str, &str> = HashMap::from([("HOME", "/nonexistent")]);
    let (client, _) = target::client_for(&running.url(), &TargetOptions::default(), &env).expect("a client");
    let (plan, digest) = plan();
    // The run prefix of seed 1, as a run would name it.
    let prefix = format!("{}-w1/", ecr_conformance::run::run_prefix(1));
    let (seeded, error) = ecr_conformance::seeding::populate(
        &client,
        &plan.with_prefix(&prefix),
        server::REGISTRY_ID,
        &RunControl::default(),
    )
    .await;
    assert!(error.is_none(), "seeding: {error:?}");
    assert!(
        seeded.deviations.is_empty(),
        "seeding is never changed: {:?}",
        seeded.deviations
    );
    let name = format!("{prefix}{}", plan.repositories[0].name);
    let mut out = Vec::new();
    for r in requests(&name, &digest) {
        let reply = |x: HttpReply| (x.status, x.content_type, String::from_utf8_lossy(&x.body).to_string());
        let first = reply(client.batch_get_image(&r).await.expect("an answer").reply);
        let again = reply(client.batch_get_image(&r).await.expect("an answer").reply);
        // Signing afresh is the one alternative whose bytes differ between two sends (F9).
        if !alternatives.contains(Alternative::Schema1SignedAfresh) {
            assert_eq!(
                first, again,
                "{alternatives}: the same request answered differently: {r:?}"
            );
        }
        // The second answer too: signing afresh shows only when a request is sent again.
        out.push(first);
        out.push(again);
    }
    running.stop().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alternative_changes_the_answer_on_the_wire() {
    let reference = wire_answers(Alternatives::NONE).await;
    for a in Alternative::ALL {
        let changed = wire_answers(Alternatives::only(a)).await;
        assert!(
            changed != reference,
            "{} changes no answer to the test requests",
            a.name()
        );
    }
}

//! The open questions of the reference (section 10), as data: the probes that ask them (a small
//! state and one request each, in the `cases/` format) and, per question, the function that reads
//! an answer as one of the question's named alternatives. Pure: no I/O, so each reading is tested
//! on literal answers, and the model's own answer to a probe is read by the same function as the
//! endpoint's.
//!
//! The question ids and alternative names are a contract (README, "Calibrating the model against
//! real ECR"): reports and committed captures quote them.

use crate::cases::{CaseAnswer, CaseFile, CaseImage, CaseRepository};
use crate::model::{self, ReferenceAnswer, manifest, syntax};
use crate::rules::id;
use crate::wire::{self, BatchGetImageRequest, ImageIdentifier, media_type};
use serde_json::Value;

/// The account id recorded case files carry in place of the endpoint's: a capture is shared, and
/// an account id is not for sharing. The model needs a 12-digit id; this one is the emulators'.
pub const REGISTRY_PLACEHOLDER: &str = "123456789012";
/// The registry id the foreign-registry probe names (another one when it is the endpoint's own).
pub const FOREIGN_REGISTRY: &str = "999999999999";
/// The repository every probe's state holds (under the calibration's own prefix on the endpoint).
pub const REPOSITORY: &str = "repo-1";
/// A repository no probe's state holds.
pub const MISSING_REPOSITORY: &str = "repo-2";
pub const TAG: &str = "tag-1";
pub const OTHER_TAG: &str = "tag-2";
/// Malformed with no match of the digest pattern anywhere: the gate part of I-BAD-DIGEST.
pub const BAD_DIGEST: &str = "sha256:xyz";
/// Malformed, but holding a match of the pattern (`sha256:0123`): only an anchored check refuses it.
pub const UNANCHORED_DIGEST: &str = "sha256:0123:abcd";
/// Outside the tag character set `[a-zA-Z0-9-_.]`, of a valid length.
pub const CHARSET_TAG: &str = "a+b";

/// One state and one request: a case file without its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The case file's stem (`cases/<id>.json`).
    pub id: &'static str,
    /// What it sends, and why, in a sentence.
    pub description: &'static str,
    pub repositories: Vec<CaseRepository>,
    pub request: BatchGetImageRequest,
}

impl Probe {
    /// The probe as a case file answered by `expected`, with the placeholder account id.
    pub fn case(&self, name: String, source: String, notes: Vec<String>, expected: CaseAnswer) -> CaseFile {
        CaseFile {
            name,
            description: self.description.to_string(),
            source,
            notes,
            seed: None,
            registry_id: REGISTRY_PLACEHOLDER.to_string(),
            repositories: self.repositories.clone(),
            request: self.request.clone(),
            expected,
        }
    }

    /// The answer the model gives first (the reference server's), in the recorded form.
    pub fn model_answer(&self) -> Result<CaseAnswer, String> {
        let placeholder = CaseAnswer {
            status: 200,
            body: Value::Null,
        };
        let case = self.case(self.id.to_string(), String::new(), Vec::new(), placeholder);
        let state = case.state()?;
        let (status, body) = match model::batch_get_image(&state, &self.request).reference_answer() {
            ReferenceAnswer::Ok(body) => (200, serde_json::to_value(body)),
            ReferenceAnswer::Error { status, body } => (status, serde_json::to_value(body)),
        };
        let body = body.map_err(|e| format!("the model's answer cannot be written: {e}"))?;
        Ok(CaseAnswer { status, body })
    }

    /// The `n`th image of the probe's repository, in push order.
    fn image(&self, n: usize) -> Option<&CaseImage> {
        self.repositories.first().and_then(|r| r.images.get(n))
    }

    /// The image the probe's tags name: the last one pushed.
    fn tagged(&self) -> Option<&CaseImage> {
        self.repositories.first().and_then(|r| r.images.last())
    }
}

/// What an answer says about a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// One of the question's alternatives.
    Answer(&'static str),
    /// The answer does not ask the question (it holds no image where the question is about image
    /// entries, say), or the probe could not be sent: why.
    NotAsked(String),
}

/// One open question of the reference.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub id: &'static str,
    /// The rules whose level or first choice the answer decides.
    pub rules: &'static [&'static str],
    /// Its named answers; `other` (where it is one) is any answer that is none of the others.
    pub alternatives: &'static [&'static str],
    /// The question, in a sentence.
    pub asks: &'static str,
    /// The probes (ids) whose answers decide it; several must agree.
    pub probes: &'static [&'static str],
    /// How one probe's answer reads: Answer(one of `alternatives`) or NotAsked.
    classify: fn(&Probe, &CaseAnswer) -> Reading,
}

impl Question {
    /// The question read from its probes' answers: their common reading; `other` when they
    /// disagree (or, for a question without `other`, not asked); not asked when one is not.
    pub fn read(&self, answers: &[(&Probe, &CaseAnswer)]) -> Reading {
        let mut readings = Vec::with_capacity(answers.len());
        for (probe, answer) in answers {
            match (self.classify)(probe, answer) {
                Reading::Answer(a) => readings.push(a),
                not_asked => return not_asked,
            }
        }
        match readings.split_first() {
            None => Reading::NotAsked("no probe was answered".into()),
            Some((first, rest)) if rest.iter().all(|r| r == first) => Reading::Answer(first),
            Some(_) if self.alternatives.contains(&OTHER) => Reading::Answer(OTHER),
            Some(_) => Reading::NotAsked(format!("its probes read differently: {}", readings.join(", "))),
        }
    }

    /// The question's probes, in its order.
    pub fn probes_in<'a>(&self, all: &'a [Probe]) -> Vec<&'a Probe> {
        self.probes
            .iter()
            .filter_map(|p| all.iter().find(|x| x.id == *p))
            .collect()
    }
}

const OTHER: &str = "other";
const IPE: &str = "InvalidParameterException";
const RNF: &str = "RepositoryNotFoundException";

/// Every open question, in the contract's order.
pub const QUESTIONS: &[Question] = &[
    Question {
        id: "bad-digest-channel",
        rules: &[id::I_BAD_DIGEST],
        alternatives: &["per-id-InvalidImageDigest", "request-400", OTHER],
        asks: "Is a malformed digest a per-id InvalidImageDigest failure (the other ids answered) or a request-level 400?",
        probes: &["bad-digest-channel"],
        classify: bad_digest_channel,
    },
    Question {
        id: "bad-digest-anchoring",
        rules: &[id::I_BAD_DIGEST],
        alternatives: &["anchored", "unanchored", OTHER],
        asks: "Is the digest pattern matched whole: is a digest that only contains a match refused as malformed?",
        probes: &["bad-digest-anchoring"],
        classify: bad_digest_anchoring,
    },
    Question {
        id: "new-name-pattern",
        rules: &[id::R_REPO_NAME_NEW_ONLY],
        alternatives: &["accepted", "refused", OTHER],
        asks: "Are names valid only under the newer pattern (a__b, a--b) accepted as names?",
        probes: &["new-name-double-underscore", "new-name-double-dash"],
        classify: new_name_pattern,
    },
    Question {
        id: "digest-tags",
        rules: &[id::I_DIGEST_TAGS],
        alternatives: &["entry-per-tag", "one-entry", OTHER],
        asks: "Does a digest with two tags give an entry per tag or one entry?",
        probes: &["digest-tags"],
        classify: digest_tags,
    },
    Question {
        id: "same-image-two-tags",
        rules: &[id::I_SAME_DIGEST_TAGS, id::P_SPLIT],
        alternatives: &["two-entries", "one-entry", OTHER],
        asks: "Do two tags of one image asked in one request give two entries or one?",
        probes: &["same-image-two-tags"],
        classify: same_image_two_tags,
    },
    Question {
        id: "repeated-id",
        rules: &[id::I_DUP_ONCE],
        alternatives: &["once", "each-time", OTHER],
        asks: "Is an identical id repeated in one request answered once or at each repetition?",
        probes: &["repeated-id"],
        classify: repeated_id,
    },
    Question {
        id: "translate-v2-to-oci",
        rules: &[id::M_TRANSLATE_OCI],
        alternatives: &["translated", "stored", "failure", OTHER],
        asks: "By tag, stored docker v2 and only OCI accepted: an OCI translation, the stored manifest, or a failure?",
        probes: &["translate-v2-to-oci"],
        classify: translate_v2_to_oci,
    },
    Question {
        id: "translate-oci-to-v2",
        rules: &[id::M_TRANSLATE_V2],
        alternatives: &["translated", "stored", "failure", OTHER],
        asks: "By tag, stored OCI and only docker v2 accepted: a docker v2 translation, the stored manifest, or a failure?",
        probes: &["translate-oci-to-v2"],
        classify: translate_oci_to_v2,
    },
    Question {
        id: "translate-v2-to-v1",
        rules: &[id::M_TRANSLATE],
        alternatives: &["translated", "stored", "failure", OTHER],
        asks: "By tag, stored docker v2 and only docker v1 accepted: a schema 1 translation, the stored manifest, or a failure?",
        probes: &["translate-v2-to-v1"],
        classify: translate_v2_to_v1,
    },
    Question {
        id: "list-without-list-types",
        rules: &[id::M_UNACCEPTABLE],
        alternatives: &["stored", "child", "failure", OTHER],
        asks: "By tag, a manifest list asked with only image manifest types accepted: the list, its child, or a failure?",
        probes: &["list-without-list-types"],
        classify: list_without_list_types,
    },
    Question {
        id: "empty-digest",
        rules: &[id::I_EMPTY],
        alternatives: &["InvalidImageDigest", "MissingDigestAndTag", "request-400", OTHER],
        asks: "Which channel answers {\"imageDigest\": \"\"}?",
        probes: &["empty-digest"],
        classify: empty_digest,
    },
    Question {
        id: "empty-tag",
        rules: &[id::I_EMPTY, id::I_BAD_TAG],
        alternatives: &["request-400", "InvalidImageTag", OTHER],
        asks: "Which channel answers {\"imageTag\": \"\"}?",
        probes: &["empty-tag"],
        classify: empty_tag,
    },
    Question {
        id: "tag-charset",
        rules: &[id::I_TAG_CHARSET],
        alternatives: &["request-400", "InvalidImageTag", "ImageNotFound", OTHER],
        asks: "Which channel answers a tag outside [a-zA-Z0-9-_.] (a+b)?",
        probes: &["tag-charset"],
        classify: tag_charset,
    },
    Question {
        id: "media-type-field",
        rules: &[id::M_TYPE_FIELD],
        alternatives: &["present", "absent"],
        asks: "Does every image entry carry imageManifestMediaType?",
        probes: &["by-tag"],
        classify: media_type_field,
    },
    Question {
        id: "both-lists",
        rules: &[id::W_BOTH_LISTS],
        alternatives: &["both-present", "empty-omitted"],
        asks: "Does a 200 body carry failures: [] when nothing failed?",
        probes: &["by-tag"],
        classify: both_lists,
    },
    Question {
        id: "foreign-registry",
        rules: &[id::R_REGISTRY_FOREIGN],
        alternatives: &["AccessDeniedException", "RepositoryNotFoundException", OTHER],
        asks: "Which error answers another account's registryId?",
        probes: &["foreign-registry"],
        classify: foreign_registry,
    },
    Question {
        id: "validation-order",
        rules: &[id::R_ORDER],
        alternatives: &["validation-first", "lookup-first", OTHER],
        asks: "An invalid parameter (imageIds: []) for a missing repository: is the parameter or the repository named?",
        probes: &["validation-order"],
        classify: validation_order,
    },
];

/// The question of an id.
pub fn question(id: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.id == id)
}

// ---- the probes' states ----

/// A config blob, a layer blob and the image manifest over them, of the given manifest type.
fn image(manifest_type: &str, label: &str) -> (Vec<Vec<u8>>, String) {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Labels":{{"ecr-conformance":"{label}"}}}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    )
    .into_bytes();
    let layer = format!("ecr-conformance calibration layer: {label}\n").into_bytes();
    let (config_type, layer_type) = if manifest_type == media_type::OCI_MANIFEST {
        (media_type::OCI_CONFIG, media_type::OCI_LAYER)
    } else {
        (media_type::DOCKER_CONFIG, media_type::DOCKER_LAYER)
    };
    let descriptor = |t: &str, bytes: &[u8]| {
        format!(
            r#"{{"mediaType":"{t}","size":{},"digest":"{}"}}"#,
            bytes.len(),
            syntax::sha256_digest(bytes)
        )
    };
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{manifest_type}","config":{},"layers":[{}]}}"#,
        descriptor(config_type, &config),
        descriptor(layer_type, &layer)
    );
    (vec![config, layer], manifest)
}

fn docker_list(child: &str) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","size":{},"digest":"{}","platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
        media_type::DOCKER_LIST,
        media_type::DOCKER_V2,
        child.len(),
        syntax::sha256_digest(child.as_bytes())
    )
}

fn repository(blobs: Vec<Vec<u8>>, images: Vec<CaseImage>) -> Vec<CaseRepository> {
    vec![CaseRepository {
        name: REPOSITORY.into(),
        blobs,
        images,
    }]
}

fn pushed(manifest: &str, media: &str, tags: &[&str]) -> CaseImage {
    CaseImage {
        manifest: manifest.to_string(),
        media_type: Some(media.to_string()),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

fn request(repository: &str, ids: Vec<ImageIdentifier>) -> BatchGetImageRequest {
    BatchGetImageRequest {
        registry_id: None,
        repository_name: repository.into(),
        image_ids: ids,
        accepted_media_types: None,
    }
}

fn accepting(mut r: BatchGetImageRequest, types: &[&str]) -> BatchGetImageRequest {
    r.accepted_media_types = Some(types.iter().map(|t| t.to_string()).collect());
    r
}

/// Every probe. Probes with the same state are seeded once, in one namespace, and asked in turn.
pub fn probes() -> Vec<Probe> {
    let (v2_blobs, v2) = image(media_type::DOCKER_V2, "docker-v2");
    let (oci_blobs, oci) = image(media_type::OCI_MANIFEST, "oci");
    let list = docker_list(&v2);
    let one_tag = repository(v2_blobs.clone(), vec![pushed(&v2, media_type::DOCKER_V2, &[TAG])]);
    let two_tags = repository(
        v2_blobs.clone(),
        vec![pushed(&v2, media_type::DOCKER_V2, &[TAG, OTHER_TAG])],
    );
    let oci_state = repository(oci_blobs, vec![pushed(&oci, media_type::OCI_MANIFEST, &[TAG])]);
    let list_state = repository(
        v2_blobs,
        vec![
            pushed(&v2, media_type::DOCKER_V2, &[]),
            pushed(&list, media_type::DOCKER_LIST, &[TAG]),
        ],
    );
    let empty = repository(Vec::new(), Vec::new());
    let digest = syntax::sha256_digest(v2.as_bytes());
    let tag = || ImageIdentifier::tag(TAG);
    vec![
        Probe {
            id: "bad-digest-channel",
            description: "A malformed digest with no match of the pattern anywhere, beside a tag that exists: is the digest a per-id failure, the tag still answered, or is the request refused?",
            repositories: one_tag.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest(BAD_DIGEST), tag()]),
        },
        Probe {
            id: "bad-digest-anchoring",
            description: "A malformed digest that contains a match of the digest pattern, in a repository without images: refused as malformed (anchored) or looked up and not found (unanchored)?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest(UNANCHORED_DIGEST)]),
        },
        Probe {
            id: "new-name-double-underscore",
            description: "A missing repository named a__b, valid only under the newer name pattern: RepositoryNotFoundException (accepted) or InvalidParameterException (refused)? (The state's repository only tells the registry id, which the message names.)",
            repositories: empty.clone(),
            request: request("a__b", vec![tag()]),
        },
        Probe {
            id: "new-name-double-dash",
            description: "A missing repository named a--b, valid only under the newer name pattern: RepositoryNotFoundException (accepted) or InvalidParameterException (refused)? (The state's repository only tells the registry id, which the message names.)",
            repositories: empty.clone(),
            request: request("a--b", vec![tag()]),
        },
        Probe {
            id: "digest-tags",
            description: "The digest of an image with two tags: an entry per tag, or one entry?",
            repositories: two_tags.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest(&digest)]),
        },
        Probe {
            id: "same-image-two-tags",
            description: "Both tags of one image in one request: two entries, or one?",
            repositories: two_tags,
            request: request(REPOSITORY, vec![tag(), ImageIdentifier::tag(OTHER_TAG)]),
        },
        Probe {
            id: "repeated-id",
            description: "One tag twice in one request: answered once, or at each repetition?",
            repositories: one_tag.clone(),
            request: request(REPOSITORY, vec![tag(), tag()]),
        },
        Probe {
            id: "translate-v2-to-oci",
            description: "A docker v2 image by tag, only the OCI manifest type accepted: translated to OCI, stored, or refused?",
            repositories: one_tag.clone(),
            request: accepting(request(REPOSITORY, vec![tag()]), &[media_type::OCI_MANIFEST]),
        },
        Probe {
            id: "translate-oci-to-v2",
            description: "An OCI image by tag, only the docker v2 manifest type accepted: translated to docker v2, stored, or refused?",
            repositories: oci_state,
            request: accepting(request(REPOSITORY, vec![tag()]), &[media_type::DOCKER_V2]),
        },
        Probe {
            id: "translate-v2-to-v1",
            description: "A docker v2 image by tag, only docker v1 (schema 1) accepted: translated to schema 1, stored, or refused?",
            repositories: one_tag.clone(),
            request: accepting(request(REPOSITORY, vec![tag()]), &[media_type::DOCKER_V1]),
        },
        Probe {
            id: "list-without-list-types",
            description: "A docker manifest list by tag, only the image manifest types accepted: the list as stored, its child, or refused?",
            repositories: list_state,
            request: accepting(
                request(REPOSITORY, vec![tag()]),
                &[media_type::DOCKER_V2, media_type::OCI_MANIFEST],
            ),
        },
        Probe {
            id: "empty-digest",
            description: "An empty digest: InvalidImageDigest, MissingDigestAndTag (absent), or a request-level 400?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest("")]),
        },
        Probe {
            id: "empty-tag",
            description: "An empty tag: a request-level 400 (the length constraint), or a per-id InvalidImageTag?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::tag("")]),
        },
        Probe {
            id: "tag-charset",
            description: "A tag outside the tag character set: a request-level 400, a per-id InvalidImageTag, or looked up and not found?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::tag(CHARSET_TAG)]),
        },
        Probe {
            id: "by-tag",
            description: "An image by its tag, nothing failing: does the entry carry imageManifestMediaType, and the body failures: []?",
            repositories: one_tag,
            request: request(REPOSITORY, vec![tag()]),
        },
        Probe {
            id: "foreign-registry",
            description: "An existing repository asked under another account's registryId: AccessDeniedException or RepositoryNotFoundException?",
            repositories: empty.clone(),
            request: BatchGetImageRequest {
                registry_id: Some(FOREIGN_REGISTRY.into()),
                ..request(REPOSITORY, vec![tag()])
            },
        },
        Probe {
            id: "validation-order",
            description: "imageIds: [] for a missing repository: the invalid parameter (validation first) or the missing repository (lookup first)? (The state's repository only tells the registry id, which the message names.)",
            repositories: empty,
            request: request(MISSING_REPOSITORY, Vec::new()),
        },
    ]
}

// ---- reading answers ----

/// The normalised `__type` of an error answer (never of a 200).
fn error_type(a: &CaseAnswer) -> Option<&str> {
    if a.status == 200 {
        return None;
    }
    a.body
        .get("__type")
        .and_then(Value::as_str)
        .map(wire::normalise_error_type)
}

/// Whether the answer is a client error (4xx) of this type: a request-level refusal.
fn refused_with(a: &CaseAnswer, error: &str) -> bool {
    (400..500).contains(&a.status) && error_type(a) == Some(error)
}

/// A 200 body's images and failures; an omitted list is empty (W-BOTH-LISTS is its own question).
fn entries(a: &CaseAnswer) -> Option<(Vec<&Value>, Vec<&Value>)> {
    if a.status != 200 || !a.body.is_object() {
        return None;
    }
    let list = |key: &str| -> Vec<&Value> {
        a.body
            .get(key)
            .and_then(Value::as_array)
            .map(|l| l.iter().collect())
            .unwrap_or_default()
    };
    Some((list("images"), list("failures")))
}

/// The failure code of a 200 that answers with one failure and no image.
fn only_failure(a: &CaseAnswer) -> Option<&str> {
    match entries(a)? {
        (images, failures) if images.is_empty() && failures.len() == 1 => {
            failures[0].get("failureCode").and_then(Value::as_str)
        }
        _ => None,
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_str)
}

fn digest_of(image: Option<&CaseImage>) -> String {
    image.map_or_else(String::new, |i| syntax::sha256_digest(i.manifest.as_bytes()))
}

fn bad_digest_channel(_: &Probe, a: &CaseAnswer) -> Reading {
    if refused_with(a, IPE) {
        return Reading::Answer("request-400");
    }
    let per_id = entries(a).is_some_and(|(_, failures)| {
        failures.iter().any(|f| {
            str_at(f, &["imageId", "imageDigest"]) == Some(BAD_DIGEST)
                && f.get("failureCode").and_then(Value::as_str) == Some("InvalidImageDigest")
        })
    });
    Reading::Answer(if per_id { "per-id-InvalidImageDigest" } else { OTHER })
}

fn bad_digest_anchoring(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "anchored",
        Some("InvalidImageDigest") => "anchored",
        Some("ImageNotFound") => "unanchored",
        _ => OTHER,
    })
}

fn new_name_pattern(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(if refused_with(a, RNF) {
        "accepted"
    } else if refused_with(a, IPE) {
        "refused"
    } else {
        OTHER
    })
}

/// The entries of a 200 without failures whose images all carry the probe's image digest: their tags.
fn tags_of_the_image(p: &Probe, a: &CaseAnswer) -> Option<Vec<Option<String>>> {
    let digest = digest_of(p.tagged());
    let (images, failures) = entries(a)?;
    let all_of_it = images
        .iter()
        .all(|i| str_at(i, &["imageId", "imageDigest"]) == Some(digest.as_str()));
    (failures.is_empty() && all_of_it).then(|| {
        let mut tags: Vec<Option<String>> = images
            .iter()
            .map(|i| str_at(i, &["imageId", "imageTag"]).map(str::to_string))
            .collect();
        tags.sort();
        tags
    })
}

fn both_tags() -> Vec<Option<String>> {
    vec![Some(TAG.to_string()), Some(OTHER_TAG.to_string())]
}

fn digest_tags(p: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match tags_of_the_image(p, a) {
        Some(tags) if tags == both_tags() => "entry-per-tag",
        Some(tags) if tags.len() == 1 => "one-entry",
        _ => OTHER,
    })
}

fn same_image_two_tags(p: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match tags_of_the_image(p, a) {
        Some(tags) if tags == both_tags() => "two-entries",
        Some(tags) if tags.len() == 1 && both_tags().contains(&tags[0]) => "one-entry",
        _ => OTHER,
    })
}

fn repeated_id(p: &Probe, a: &CaseAnswer) -> Reading {
    let tag = Some(TAG.to_string());
    Reading::Answer(match tags_of_the_image(p, a) {
        Some(tags) if tags.iter().all(|t| *t == tag) && tags.len() == 1 => "once",
        Some(tags) if tags.iter().all(|t| *t == tag) && tags.len() == 2 => "each-time",
        _ => OTHER,
    })
}

/// A refusal of the image: a client error, or a 200 with one failure and no image.
fn refused_image(a: &CaseAnswer) -> bool {
    ((400..500).contains(&a.status) && a.status != 429) || only_failure(a).is_some()
}

/// The one image entry of a 200 without failures: its manifest and its media type, if any.
fn one_image(a: &CaseAnswer) -> Option<(&str, Option<&str>)> {
    match entries(a)? {
        (images, failures) if images.len() == 1 && failures.is_empty() => Some((
            images[0].get("imageManifest").and_then(Value::as_str)?,
            images[0].get("imageManifestMediaType").and_then(Value::as_str),
        )),
        _ => None,
    }
}

/// Translated, stored, a failure, or other: `translated` says whether a manifest and its media
/// type are the translation asked for.
fn translation(p: &Probe, a: &CaseAnswer, translated: impl Fn(&str, &str, Option<&str>) -> bool) -> Reading {
    if refused_image(a) {
        return Reading::Answer("failure");
    }
    let (Some(stored), Some((got, media))) = (p.tagged(), one_image(a)) else {
        return Reading::Answer(OTHER);
    };
    let stored_type = stored.media_type.as_deref().unwrap_or_default();
    Reading::Answer(if got == stored.manifest {
        if media.is_none_or(|m| m == stored_type) {
            "stored"
        } else {
            OTHER
        }
    } else if translated(got, &stored.manifest, media) {
        "translated"
    } else {
        OTHER
    })
}

/// A translation into another image format, by its structure (the reference's claim), under
/// that format's media type (or none: M-TYPE-FIELD is its own question).
fn image_translation(to: &'static str) -> impl Fn(&str, &str, Option<&str>) -> bool {
    move |got, stored, media| media.is_none_or(|m| m == to) && manifest::is_translation_of(got, stored, to)
}

fn translate_v2_to_oci(p: &Probe, a: &CaseAnswer) -> Reading {
    translation(p, a, image_translation(media_type::OCI_MANIFEST))
}

fn translate_oci_to_v2(p: &Probe, a: &CaseAnswer) -> Reading {
    translation(p, a, image_translation(media_type::DOCKER_V2))
}

fn translate_v2_to_v1(p: &Probe, a: &CaseAnswer) -> Reading {
    // A schema 1 manifest whatever its name and signatures: whether the body is the one the model
    // writes is the model's check of the recorded answer, not this question.
    translation(p, a, |got, _, media| {
        let schema1 = serde_json::from_str::<Value>(got)
            .is_ok_and(|v| v.get("schemaVersion").and_then(Value::as_i64) == Some(1) && v["fsLayers"].is_array());
        schema1 && media.is_none_or(|m| m == media_type::DOCKER_V1 || m == media_type::DOCKER_V1_SIGNED)
    })
}

fn list_without_list_types(p: &Probe, a: &CaseAnswer) -> Reading {
    if refused_image(a) {
        return Reading::Answer("failure");
    }
    let (Some(child), Some(list), Some((got, media))) = (p.image(0), p.image(1), one_image(a)) else {
        return Reading::Answer(OTHER);
    };
    let list_type = list.media_type.as_deref().unwrap_or_default();
    let answered_digest = entries(a)
        .and_then(|(images, _)| images.first().and_then(|i| str_at(i, &["imageId", "imageDigest"])))
        .map(str::to_string);
    Reading::Answer(if got == list.manifest && media.is_none_or(|m| m == list_type) {
        "stored"
    } else if got == child.manifest || answered_digest == Some(digest_of(Some(child))) {
        "child"
    } else {
        OTHER
    })
}

fn empty_digest(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "request-400",
        Some("InvalidImageDigest") => "InvalidImageDigest",
        Some("MissingDigestAndTag") => "MissingDigestAndTag",
        _ => OTHER,
    })
}

fn empty_tag(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "request-400",
        Some("InvalidImageTag") => "InvalidImageTag",
        _ => OTHER,
    })
}

fn tag_charset(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "request-400",
        Some("InvalidImageTag") => "InvalidImageTag",
        Some("ImageNotFound") => "ImageNotFound",
        _ => OTHER,
    })
}

fn media_type_field(_: &Probe, a: &CaseAnswer) -> Reading {
    match entries(a) {
        Some((images, _)) if !images.is_empty() => Reading::Answer(
            if images
                .iter()
                .all(|i| i.get("imageManifestMediaType").is_some_and(Value::is_string))
            {
                "present"
            } else {
                "absent"
            },
        ),
        _ => Reading::NotAsked(format!(
            "the answer (HTTP {}) holds no image entry to look at",
            a.status
        )),
    }
}

fn both_lists(_: &Probe, a: &CaseAnswer) -> Reading {
    let Some((images, failures)) = entries(a) else {
        return Reading::NotAsked(format!("the answer is HTTP {}, not a 200 with images", a.status));
    };
    if images.is_empty() || !failures.is_empty() {
        return Reading::NotAsked(format!(
            "the answer holds {} images and {} failures, not images and nothing failing",
            images.len(),
            failures.len()
        ));
    }
    Reading::Answer(match a.body.get("failures") {
        Some(Value::Array(_)) => "both-present",
        _ => "empty-omitted",
    })
}

fn foreign_registry(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(if refused_with(a, "AccessDeniedException") {
        "AccessDeniedException"
    } else if refused_with(a, RNF) {
        "RepositoryNotFoundException"
    } else {
        OTHER
    })
}

fn validation_order(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(if refused_with(a, IPE) {
        "validation-first"
    } else if refused_with(a, RNF) {
        "lookup-first"
    } else {
        OTHER
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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

        let one = |code: &str| {
            ok(json!({"images": [], "failures": [failure(json!({"imageDigest": UNANCHORED_DIGEST}), code)]}))
        };
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
}

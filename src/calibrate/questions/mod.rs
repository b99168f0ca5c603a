//! The open questions of the reference (section 10), as data: the probes that ask them (a small
//! state and one request each, in the `cases/` format) and, per question, the function that reads
//! an answer as one of the question's named alternatives. Pure: no I/O, so each reading is tested
//! on literal answers, and the model's own answer to a probe is read by the same function as the
//! endpoint's.
//!
//! The question ids and alternative names are a contract (README, "Calibrating the model against
//! real ECR"): reports and committed captures quote them.

mod probe_list;
mod readings;

use crate::cases::{CaseAnswer, CaseFile, CaseImage, CaseRepository};
use crate::model::{self, ReferenceAnswer};
use crate::rules::id;
use crate::wire::BatchGetImageRequest;
pub use probe_list::probes;
use readings::{
    bad_digest_anchoring, bad_digest_channel, both_lists, digest_tags, empty_digest, empty_tag, foreign_registry,
    list_without_list_types, media_type_field, new_name_pattern, repeated_id, same_image_two_tags, tag_charset,
    translate_oci_to_v2, translate_v2_to_oci, translate_v2_to_v1, validation_order,
};
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
    pub fn model_answer(&self) -> Result<CaseAnswer, ModelAnswerError> {
        let placeholder = CaseAnswer {
            status: 200,
            body: Value::Null,
        };
        let case = self.case(self.id.to_string(), String::new(), Vec::new(), placeholder);
        let state = case.state().map_err(ModelAnswerError::State)?;
        let (status, body) = match model::batch_get_image(&state, &self.request).reference_answer() {
            ReferenceAnswer::Ok(body) => (200, serde_json::to_value(body)),
            ReferenceAnswer::Error { status, body } => (status, serde_json::to_value(body)),
        };
        let body = body.map_err(ModelAnswerError::Write)?;
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

/// Why the model gives no answer to a probe: a probe its own table builds wrongly (the tests ask
/// the model every probe).
#[derive(Debug, thiserror::Error)]
pub enum ModelAnswerError {
    /// The probe's state is no registry state (in the case file's words).
    #[error("{0}")]
    State(String),
    #[error("the model's answer cannot be written: {0}")]
    Write(#[source] serde_json::Error),
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

#[cfg(test)]
mod tests;

//! What the model says ECR answers: a request-level error, or per requested id an image, images or
//! a failure. Each part names the rule that decides it, so that a deviation can cite its evidence.

use super::state::ImageRecord;
use crate::rules::Level;
use crate::wire::{ImageFailureCode, ImageIdentifier};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Expected {
    /// The whole request fails: an HTTP error with an AWS JSON 1.1 error body.
    Error(ExpectedError),
    /// HTTP 200 with `images` and `failures`.
    Answers(ExpectedAnswers),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedError {
    pub rule: &'static str,
    pub status: u16,
    /// The accepted `__type` shape names; the first is what the reference server answers.
    pub error_types: Vec<&'static str>,
    pub message: MessageExpectation,
    /// The same request answered per id, where the reference accepts that channel too (a tag's
    /// length checked per id: I-BAD-TAG, I-EMPTY).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_id: Option<Box<ExpectedAnswers>>,
}

/// How much of an error text the reference claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "match", content = "text")]
pub enum MessageExpectation {
    /// The message is exactly this (quoted from real ECR).
    Exact(String),
    /// The message names this parameter; the reference server answers with `text`.
    Mentions { parameter: String, text: String },
    /// Any of these (where the reference accepts several answers); the server answers the first.
    AnyOf(Vec<MessageExpectation>),
}

impl MessageExpectation {
    pub fn reference_text(&self) -> &str {
        match self {
            MessageExpectation::Exact(t) => t,
            MessageExpectation::Mentions { text, .. } => text,
            MessageExpectation::AnyOf(all) => all.first().map_or("", MessageExpectation::reference_text),
        }
    }

    pub fn accepts(&self, actual: &str) -> bool {
        match self {
            MessageExpectation::Exact(t) => t == actual,
            MessageExpectation::Mentions { parameter, .. } => actual.contains(parameter.as_str()),
            MessageExpectation::AnyOf(all) => all.iter().any(|m| m.accepts(actual)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedAnswers {
    pub registry_id: String,
    pub repository_name: String,
    /// One entry per distinct requested id, in order of first appearance.
    pub ids: Vec<IdExpectation>,
    /// A refusal of the whole request that the reference accepts as well (an id whose channel is
    /// unknown: I-TAG-CHARSET, an empty digest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub or_refused: Option<ExpectedError>,
    /// The request's `acceptedMediaTypes`: whether a returned manifest may be a translation.
    #[serde(skip)]
    pub accepted_media_types: Option<Vec<String>>,
    /// The repository's images: what lets the comparer recognise an answered image by its
    /// manifest when the endpoint's echo of the id cannot be trusted.
    #[serde(skip)]
    pub held: Vec<ImageRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdExpectation {
    /// The id exactly as sent.
    pub id: ImageIdentifier,
    /// How many times the request carries it (I-DUP-ONCE, I-DUP-CONSISTENT).
    pub times: usize,
    /// The rule that decides this id's outcome.
    pub rule: &'static str,
    /// That rule's level for this id: the rule's own, or lower where the reference gates only
    /// part of a rule (I-BAD-DIGEST for a digest that contains a match of the pattern).
    pub level: Level,
    pub outcome: Outcome,
}

impl IdExpectation {
    /// The images ECR answers for the id (none for a failure).
    pub fn images(&self) -> &[ExpectedImage] {
        match &self.outcome {
            Outcome::Image(x) => std::slice::from_ref(x),
            Outcome::ImagesByDigest { images } => images,
            Outcome::Failure { .. } => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Outcome {
    /// Exactly this one image (I-TAG, I-BOTH, I-SAME-DIGEST-TAGS).
    Image(ExpectedImage),
    /// By digest (I-DIGEST): at least one entry with the digest, each entry's tag (if any) one of
    /// the image's tags; ECR answers one entry per tag, or one untagged entry (I-DIGEST-TAGS).
    ImagesByDigest { images: Vec<ExpectedImage> },
    /// One failure echoing the id (I-ECHO).
    Failure { code: ImageFailureCode, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedImage {
    pub image_id: ImageIdentifier,
    pub manifest: ExpectedManifest,
    pub media_type: String,
    /// The media-type rule that decides the manifest (M-DEFAULT, M-ACCEPTED, ...), and its level
    /// for this image (M-DEFAULT gates docker v2 and OCI manifests, not lists and indexes).
    pub manifest_rule: &'static str,
    pub manifest_level: Level,
    /// Other manifests the same rule accepts where several translations could apply (section 5:
    /// "each is accepted"); the reference server answers `manifest`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<ManifestChoice>,
}

/// A manifest and the media type it comes back under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestChoice {
    pub manifest: ExpectedManifest,
    pub media_type: String,
}

impl ExpectedImage {
    /// Whether a returned manifest is one the rule accepts: the first choice or one of `also`.
    pub fn manifest_fits(&self, got: Option<&str>) -> bool {
        got.is_some_and(|g| self.manifest.fits(g) || self.also.iter().any(|c| c.manifest.fits(g)))
    }

    /// This expectation with the accepted choice that `got` is in place of the first choice, so
    /// that its media type is judged against that choice's. Itself when `got` is the first choice
    /// or none.
    pub fn as_answered(&self, got: Option<&str>) -> ExpectedImage {
        let mut x = self.clone();
        if let Some(g) = got.filter(|g| !self.manifest.fits(g))
            && let Some(c) = self.also.iter().find(|c| c.manifest.fits(g))
        {
            x.manifest = c.manifest.clone();
            x.media_type = c.media_type.clone();
        }
        x
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum ExpectedManifest {
    /// Byte for byte what was pushed.
    Stored(String),
    /// A docker schema 1 manifest for `name:tag` (M-TRANSLATE), checked by structure.
    Schema1 {
        name: String,
        tag: String,
        layers: Vec<String>,
    },
    /// The stored image manifest translated into the other image format, `to` (M-TRANSLATE-OCI,
    /// M-TRANSLATE-V2), checked by structure against `stored`.
    Translated { to: String, stored: String },
}

impl ExpectedManifest {
    /// Whether `got` is this manifest: byte for byte, or by the structure the rule claims.
    pub fn fits(&self, got: &str) -> bool {
        match self {
            ExpectedManifest::Stored(m) => m == got,
            ExpectedManifest::Schema1 { name, tag, .. } => super::manifest::is_schema1_for(got, name, tag),
            ExpectedManifest::Translated { to, stored } => super::manifest::is_translation_of(got, stored, to),
        }
    }
}

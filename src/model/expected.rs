//! What the model says ECR answers: a request-level error, or per requested id an image, images or
//! a failure. Each part names the rule that decides it, so that a deviation can cite its evidence.

use super::state::ImageRecord;
use crate::rules::{Context, Level};
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
    /// Groups of ids (indexes into `ids`) that name one image: tags of it, its digest, a tag with
    /// its digest. Whether ECR answers such a group with an entry per id or with entries shared
    /// among them is not known (I-SAME-DIGEST-TAGS, rev 3 F7): both are accepted.
    #[serde(skip)]
    pub shares: Vec<Vec<usize>>,
}

impl ExpectedAnswers {
    /// The same expectation for the ids `keep` keeps (the groups of ids naming one image renumbered).
    pub fn only(&self, keep: impl Fn(&IdExpectation) -> bool) -> ExpectedAnswers {
        let kept: Vec<usize> = (0..self.ids.len()).filter(|&i| keep(&self.ids[i])).collect();
        let shares = self
            .shares
            .iter()
            .map(|g| {
                g.iter()
                    .filter_map(|i| kept.iter().position(|k| k == i))
                    .collect::<Vec<_>>()
            })
            .filter(|g| g.len() > 1)
            .collect();
        ExpectedAnswers {
            ids: kept.iter().map(|&i| self.ids[i].clone()).collect(),
            shares,
            ..self.clone()
        }
    }
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
    /// That rule's level for this id: the rule's own where its evidence covers the id's context,
    /// advisory elsewhere (rev 3), or lower where the reference gates only part of a rule
    /// (I-BAD-DIGEST for a digest that contains a match of the pattern).
    pub level: Level,
    pub outcome: Outcome,
    /// The id's shape, the type it names and what the request accepts: where the gate's
    /// evidence covers it ([`crate::rules::covers`]).
    #[serde(skip)]
    pub context: Context,
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

    /// The images the id may be answered with: ECR's, or for an id ECR may answer with a failure
    /// or with the image (I-DIGEST-CASE), the image found.
    pub fn named_images(&self) -> &[ExpectedImage] {
        match &self.outcome {
            Outcome::Failure { or_found, .. } => or_found,
            _ => self.images(),
        }
    }

    /// The digest of the image the id names: the one ECR answers, or for an id ECR may answer
    /// with a failure or with the image (I-DIGEST-CASE), the image found.
    pub fn named_digest(&self) -> Option<&str> {
        let first = match &self.outcome {
            Outcome::Failure { or_found, .. } => or_found.first(),
            _ => self.images().first(),
        };
        first.and_then(|x| x.image_id.image_digest.as_deref())
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
    Failure {
        code: ImageFailureCode,
        reason: String,
        /// Other codes the reference accepts as well (an empty digest read as none: I-EMPTY; a
        /// sha256 digest of other than 64 hex digits refused: I-NOT-FOUND, rev 3 F8).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        also: Vec<ImageFailureCode>,
        /// The images a lookup that ignores the case of digest hex finds, which the reference
        /// accepts instead (I-DIGEST-CASE, rev 3 F6); answered as by digest.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        or_found: Vec<ExpectedImage>,
    },
}

impl Outcome {
    pub fn failure(code: ImageFailureCode, reason: impl Into<String>) -> Outcome {
        Outcome::Failure {
            code,
            reason: reason.into(),
            also: Vec::new(),
            or_found: Vec::new(),
        }
    }
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
    /// "each is accepted"), or where the choice is open (rev 3: a translation by digest, a list's
    /// child); the reference server answers `manifest`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<ManifestChoice>,
}

/// A manifest and the media type it comes back under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestChoice {
    pub manifest: ExpectedManifest,
    pub media_type: String,
    /// A digest it may come under instead of the image's: a list's child under its own (F4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl ExpectedImage {
    /// Whether a returned manifest is one the rule accepts: the first choice or one of `also`.
    pub fn manifest_fits(&self, got: Option<&str>) -> bool {
        got.is_some_and(|g| self.manifest.fits(g) || self.also.iter().any(|c| c.manifest.fits(g)))
    }

    /// Whether an answered image carries this image's identity: its tag (or none, as expected)
    /// and its digest, or, where the manifest choice is open (rev 3 F1, F4), the digest of the
    /// translated bytes it carries, or the digest of the child of a list it carries.
    pub fn identity_fits(&self, img: &crate::wire::Image) -> bool {
        img.image_id.image_tag == self.image_id.image_tag && self.digest_fits(img)
    }

    /// Whether an answered image carries this image's digest, whatever its tag: the digest
    /// itself, or where the manifest choice is open that of the bytes it carries (see
    /// [`Self::identity_fits`]).
    pub fn digest_fits(&self, img: &crate::wire::Image) -> bool {
        if img.image_id.image_digest == self.image_id.image_digest {
            return true;
        }
        if self.manifest_level == Level::Gate {
            return false;
        }
        let (Some(got), Some(digest)) = (img.image_manifest.as_deref(), img.image_id.image_digest.as_deref()) else {
            return false;
        };
        let translated = |c: &ExpectedManifest| !matches!(c, ExpectedManifest::Stored(_)) && c.fits(got);
        let of_bytes = digest == super::syntax::sha256_digest(got.as_bytes());
        (of_bytes && (translated(&self.manifest) || self.also.iter().any(|c| translated(&c.manifest))))
            || self
                .also
                .iter()
                .any(|c| c.digest.as_deref() == Some(digest) && c.manifest.fits(got))
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

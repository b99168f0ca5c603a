//! The reference model: what real Amazon ECR does, as a pure function of a registry state and a
//! request. No I/O, no clock, no randomness: the same inputs always give the same answer.
//!
//! - [`syntax`]: the checks ECR makes on names, ids, digests and tags before any lookup;
//! - [`state`]: the registry's contents and ECR's push semantics (tags move, pushes that change
//!   nothing are refused), and plans: states as the pushes that build them;
//! - [`manifest`]: the references a manifest makes and the translations ECR serves by tag;
//! - [`batch_get_image`](mod@batch_get_image): the operation itself, rule by rule;
//! - [`expected`]: what it returns, each part naming the rule that decides it.

pub mod batch_get_image;
pub mod deviation;
pub mod expected;
pub mod manifest;
mod media;
pub mod state;
pub mod syntax;

pub use batch_get_image::batch_get_image;
pub use deviation::{Answers, Deviation};
pub use expected::*;
pub use state::{ImageRecord, Push, PushError, RegistryPlan, RegistryState, Repository, RepositoryPlan};

use crate::wire::{BatchGetImageResponse, ErrorBody, Image, ImageFailure, ImageIdentifier};

/// An answer as the reference server sends it: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceAnswer {
    Ok(BatchGetImageResponse),
    Error { status: u16, body: ErrorBody },
}

impl Expected {
    /// The one concrete answer that the reference server gives for this expectation: the model's
    /// first choice wherever the reference allows several (one entry per tag by digest, an
    /// identical id answered once, the first accepted error type).
    pub fn reference_answer(&self) -> ReferenceAnswer {
        match self {
            Expected::Error(e) => ReferenceAnswer::Error {
                status: e.status,
                body: ErrorBody::new(
                    e.error_types.first().copied().unwrap_or("ServerException"),
                    e.message.reference_text(),
                ),
            },
            Expected::Answers(a) => {
                let mut images = Vec::new();
                let mut failures = Vec::new();
                let image = |x: &ExpectedImage| Image {
                    registry_id: Some(a.registry_id.clone()),
                    repository_name: Some(a.repository_name.clone()),
                    image_id: x.image_id.clone(),
                    image_manifest: Some(match &x.manifest {
                        ExpectedManifest::Stored(m) => m.clone(),
                        ExpectedManifest::Schema1 { name, tag, layers } => schema1_from_layers(name, tag, layers),
                        // The model only expects a translation where one can be made.
                        ExpectedManifest::Translated { to, stored } => {
                            manifest::translation(stored, to).unwrap_or_else(|| stored.clone())
                        }
                    }),
                    image_manifest_media_type: Some(x.media_type.clone()),
                };
                for e in &a.ids {
                    match &e.outcome {
                        Outcome::Image(x) => images.push(image(x)),
                        Outcome::ImagesByDigest { images: xs } => images.extend(xs.iter().map(image)),
                        Outcome::Failure { code, reason, .. } => failures.push(ImageFailure {
                            image_id: e.id.clone(),
                            failure_code: Some(code.clone()),
                            failure_reason: Some(reason.clone()),
                        }),
                    }
                }
                ReferenceAnswer::Ok(BatchGetImageResponse {
                    images: Some(images),
                    failures: Some(failures),
                })
            }
        }
    }
}

fn schema1_from_layers(name: &str, tag: &str, layers: &[String]) -> String {
    // Rebuild a v2-shaped stand-in whose layers are these, so that the translation code is shared.
    let stand_in = serde_json::json!({
        "schemaVersion": 2,
        "config": {"digest": "sha256:0"},
        "layers": layers.iter().map(|d| serde_json::json!({"digest": d})).collect::<Vec<_>>(),
    });
    manifest::schema1_translation(&stand_in.to_string(), name, tag)
}

/// The id's members as a short label for reports: `tag`, `digest`, `both` or `neither`.
pub fn id_shape(id: &ImageIdentifier) -> &'static str {
    match (&id.image_tag, &id.image_digest) {
        (Some(_), Some(_)) => "both",
        (Some(_), None) => "tag",
        (None, Some(_)) => "digest",
        (None, None) => "neither",
    }
}

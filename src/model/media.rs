//! Which manifest an answered image carries (section 5 of the reference): the stored one, a
//! translation, or, where the evidence leaves the choice open (rev 3), any of the plausible
//! answers; and the context that says where the gate's evidence covers an id.

use super::expected::{ExpectedImage, ExpectedManifest, ManifestChoice};
use super::manifest;
use super::state::{ImageRecord, Repository};
use crate::rules::{Accepted, Context, Level, Shape, Stored, id, rule_by_id};
use crate::wire::{BatchGetImageRequest, ImageIdentifier, media_type};

/// Where an id's answer is judged: its shape, the type of the image it names (by its tag; else by
/// its digest), and the request's accepted list against that type.
pub(super) fn context(repo: &Repository, requested: &ImageIdentifier, accepted: Option<&[String]>) -> Context {
    let shape = match (&requested.image_tag, &requested.image_digest) {
        (Some(_), Some(_)) => Shape::Both,
        (Some(_), None) => Shape::Tag,
        (None, Some(_)) => Shape::Digest,
        (None, None) => Shape::Neither,
    };
    let named = requested
        .image_tag
        .as_deref()
        .and_then(|t| repo.image_by_tag(t))
        .or_else(|| requested.image_digest.as_deref().and_then(|d| repo.image_by_digest(d)));
    let stored_type = named.map(|i| i.media_type.as_str());
    Context {
        shape,
        stored: stored_type.map_or(Stored::Absent, Stored::of_media_type),
        accepted: Accepted::of(accepted, stored_type),
    }
}

/// The image entry for `image`, asked for in `shape` (under `tag` where the entry carries one),
/// with the manifest that `acceptedMediaTypes` selects and the level the evidence gives it.
pub(super) fn expected_image(
    repo_name: &str,
    repo: &Repository,
    image: &ImageRecord,
    tag: Option<&str>,
    shape: Shape,
    request: &BatchGetImageRequest,
) -> ExpectedImage {
    let accepted = request.accepted_media_types.as_deref();
    let context = Context {
        shape,
        stored: Stored::of_media_type(&image.media_type),
        accepted: Accepted::of(accepted, Some(&image.media_type)),
    };
    let stored = ManifestChoice {
        manifest: ExpectedManifest::Stored(image.manifest.clone()),
        media_type: image.media_type.clone(),
        digest: None,
    };
    let (rule, first, also) = match context.accepted {
        // M-DEFAULT: gate for image manifests, advisory for lists and indexes.
        Accepted::Omitted => (id::M_DEFAULT, stored, Vec::new()),
        Accepted::WithStored => (id::M_ACCEPTED, stored, Vec::new()),
        _ => match (shape, tag) {
            // By tag: the translation the user guide's table names, if any (M-TRANSLATE*).
            (Shape::Tag, Some(t)) => by_tag(repo_name, repo, image, t, accepted.unwrap_or_default()),
            // M-BY-DIGEST: no translation by digest. Observed for stored docker v2 with only
            // schema 1 accepted (gate); elsewhere, and with a tag beside the digest, whether ECR
            // answers the stored manifest, the translation a lookup by tag gives, or a failure is
            // open (rev 3 F3): the stored manifest first, the others accepted.
            _ => {
                let r = rule_by_id(id::M_BY_DIGEST);
                let covered = r.level_for(r.level, &context, r.level) == Level::Gate;
                let also = match tag {
                    Some(t) if !covered => {
                        let (_, first, mut also) = by_tag(repo_name, repo, image, t, accepted.unwrap_or_default());
                        also.insert(0, first);
                        also.retain(|c| !matches!(c.manifest, ExpectedManifest::Stored(_)) || c.digest.is_some());
                        also
                    }
                    None if !covered => translations(image, accepted.unwrap_or_default())
                        .into_iter()
                        .filter(|c| !matches!(c.manifest, ExpectedManifest::Schema1 { .. }))
                        .collect(),
                    _ => Vec::new(),
                };
                (id::M_BY_DIGEST, stored, also)
            }
        },
    };
    let r = rule_by_id(rule);
    ExpectedImage {
        image_id: ImageIdentifier {
            image_digest: Some(image.digest.clone()),
            image_tag: tag.map(str::to_string),
        },
        manifest: first.manifest,
        media_type: first.media_type,
        manifest_rule: rule,
        manifest_level: r.level_for(r.level, &context, r.level),
        also,
    }
}

/// The manifests ECR serves by tag for a stored type the list does not accept: the rule that
/// chooses, its first choice, and the others it accepts.
fn by_tag(
    repo_name: &str,
    repo: &Repository,
    image: &ImageRecord,
    tag: &str,
    accepted: &[String],
) -> (&'static str, ManifestChoice, Vec<ManifestChoice>) {
    let accepts = |t: &str| accepted.iter().any(|a| a == t);
    let accepts_v1 = accepts(media_type::DOCKER_V1) || accepts(media_type::DOCKER_V1_SIGNED);
    let schema1 = ManifestChoice {
        manifest: ExpectedManifest::Schema1 {
            name: repo_name.to_string(),
            tag: tag.to_string(),
            layers: manifest::references(&image.manifest, &image.media_type)
                .blobs
                .into_iter()
                .skip(1)
                .collect(),
        },
        media_type: media_type::DOCKER_V1.to_string(),
        digest: None,
    };
    let stored = ManifestChoice {
        manifest: ExpectedManifest::Stored(image.manifest.clone()),
        media_type: image.media_type.clone(),
        digest: None,
    };
    let translated = |to: &str| translated(image, to);
    match image.media_type.as_str() {
        // Stored docker v2 to an OCI client: "Translated to OCI" (M-TRANSLATE-OCI); a schema 1
        // translation too where v1 is accepted beside OCI (both apply, each is accepted).
        media_type::DOCKER_V2 if accepts(media_type::OCI_MANIFEST) => {
            if let Some(oci) = translated(media_type::OCI_MANIFEST) {
                let also = if accepts_v1 { vec![schema1] } else { Vec::new() };
                return (id::M_TRANSLATE_OCI, oci, also);
            }
        }
        media_type::DOCKER_V2 if accepts_v1 => return (id::M_TRANSLATE, schema1, Vec::new()),
        // Stored OCI to a docker v2 client: "Translated to V2, schema 2" (M-TRANSLATE-V2).
        media_type::OCI_MANIFEST if accepts(media_type::DOCKER_V2) => {
            if let Some(v2) = translated(media_type::DOCKER_V2) {
                return (id::M_TRANSLATE_V2, v2, Vec::new());
            }
        }
        // Stored OCI to a v1-only client: the guide's versions disagree; the stored manifest or a
        // schema 1 translation (M-UNACCEPTABLE).
        media_type::OCI_MANIFEST if accepts_v1 => return (id::M_UNACCEPTABLE, stored, vec![schema1]),
        // A list asked by tag without any list type: the stored list, or one of its children,
        // as a registry that picks the platform for the client serves it (rev 3 F4).
        t if media_type::is_list(t) && !accepted.iter().any(|a| media_type::is_list(a)) => {
            return (id::M_UNACCEPTABLE, stored, children(repo, image));
        }
        _ => {}
    }
    (id::M_UNACCEPTABLE, stored, Vec::new())
}

/// The image-format translations of a stored image manifest into the accepted types (the ones by
/// tag, less schema 1, which needs a tag): what a registry that translates by digest serves.
fn translations(image: &ImageRecord, accepted: &[String]) -> Vec<ManifestChoice> {
    [media_type::OCI_MANIFEST, media_type::DOCKER_V2]
        .into_iter()
        .filter(|to| *to != image.media_type && accepted.iter().any(|a| a == to))
        .filter_map(|to| translated(image, to))
        .collect()
}

/// The stored image manifest translated into the other image format (only an image manifest that
/// can be read as one is translated).
fn translated(image: &ImageRecord, to: &str) -> Option<ManifestChoice> {
    manifest::translation(&image.manifest, to).map(|_| ManifestChoice {
        manifest: ExpectedManifest::Translated {
            to: to.to_string(),
            stored: image.manifest.clone(),
        },
        media_type: to.to_string(),
        digest: None,
    })
}

/// A list's children that the repository holds, each under its own digest or the list's.
fn children(repo: &Repository, list: &ImageRecord) -> Vec<ManifestChoice> {
    manifest::references(&list.manifest, &list.media_type)
        .children
        .iter()
        .filter_map(|d| repo.image_by_digest(d))
        .map(|child| ManifestChoice {
            manifest: ExpectedManifest::Stored(child.manifest.clone()),
            media_type: child.media_type.clone(),
            digest: Some(child.digest.clone()),
        })
        .collect()
}

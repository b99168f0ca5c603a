//! One answered image against the one ECR serves: manifest bytes, type and integrity.

use crate::model::deviation::QUOTE_LIMIT;
use crate::model::{Deviation, ExpectedAnswers, ExpectedImage, ExpectedManifest, IdExpectation, manifest, syntax};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::{self, Image, ImageIdentifier, media_type};
use serde_json::{Value, json};

pub(super) fn judge_image_body(
    a: &ExpectedAnswers,
    e: &IdExpectation,
    x: &ExpectedImage,
    img: &Image,
    out: &mut Vec<Deviation>,
) {
    let dev = |rule: &str, level: Level, summary: String, expected: Value, actual: Value| {
        Deviation::new(rule, level, summary, expected, actual).about(&e.id)
    };
    // The registry and the repository are every entry's, whatever the id's rule: at gate.
    if img.registry_id.as_deref() != Some(a.registry_id.as_str()) {
        out.push(
            dev(
                id::S_REGISTRY_ID,
                rule_by_id(id::S_REGISTRY_ID).level,
                format!(
                    "{}: registryId {:?} where ECR answers {}",
                    e.id, img.registry_id, a.registry_id
                ),
                json!(a.registry_id),
                json!(img.registry_id),
            )
            .kinds("the registry's id", "another registryId"),
        );
    }
    if img.repository_name.as_deref() != Some(a.repository_name.as_str()) {
        out.push(
            dev(
                id::I_SCOPE,
                rule_by_id(id::I_SCOPE).level,
                format!("{}: repositoryName {:?}", e.id, img.repository_name),
                json!(a.repository_name),
                json!(img.repository_name),
            )
            .kinds("the repository's name", "another repositoryName"),
        );
    }
    // The manifest rule's own level: an id whose answer is uncertain only in its imageId or count
    // (I-SAME-DIGEST-TAGS) still gets the image's body as pushed.
    let manifest_level = x.manifest_level;
    let got = img.image_manifest.as_deref();
    // Where the rule accepts several manifests, the one that came is judged (its media type).
    let x = &x.as_answered(got);
    // The image's own manifest as pushed, whatever form the rule expects it in.
    let own = match &x.manifest {
        ExpectedManifest::Stored(m) | ExpectedManifest::Translated { stored: m, .. } => Some(m.as_str()),
        ExpectedManifest::Schema1 { .. } => a
            .held
            .iter()
            .find(|h| Some(&h.digest) == x.image_id.image_digest.as_ref())
            .map(|h| h.manifest.as_str()),
    };
    // (A list's child is another image too, and one the reference accepts where it is open.)
    let other_image = a
        .held
        .iter()
        .find(|h| Some(h.manifest.as_str()) != own && got == Some(h.manifest.as_str()) && !x.manifest_fits(got));
    if let Some(h) = other_image {
        // Another image of the repository, as it was pushed: the id is answered with the wrong
        // image (its rule, at its level), not with a wrongly rendered manifest.
        out.push(
            dev(
                e.rule,
                e.level,
                format!(
                    "{}: the manifest of another image ({}) where ECR answers its own",
                    e.id, h.digest
                ),
                json!(own.map(|m| wire::abridge(m, QUOTE_LIMIT))),
                json!(got.map(|m| wire::abridge(m, QUOTE_LIMIT))),
            )
            .kinds("the image's manifest", "another image's manifest"),
        );
    } else if !x.manifest.fits(got.unwrap_or_default()) || got.is_none() {
        let (summary, expected, kinds) = match &x.manifest {
            ExpectedManifest::Stored(m) => (
                format!("{}: imageManifest is not byte-identical to what was pushed", e.id),
                json!(wire::abridge(m, QUOTE_LIMIT)),
                ("the manifest as pushed", "another manifest"),
            ),
            ExpectedManifest::Schema1 { name, tag, .. } => (
                format!("{}: not a schema 1 manifest for {name}:{tag}", e.id),
                json!({"schemaVersion": 1, "name": name, "tag": tag}),
                ("a schema 1 manifest", "another manifest"),
            ),
            ExpectedManifest::Translated { to, stored } => (
                format!(
                    "{}: not a translation to {to} (the same config and layers under its types)",
                    e.id
                ),
                json!(manifest::translation(stored, to).map(|m| wire::abridge(&m, QUOTE_LIMIT))),
                if got == Some(stored.as_str()) {
                    ("a translation", "the stored manifest")
                } else {
                    ("a translation", "another manifest")
                },
            ),
        };
        out.push(
            dev(
                x.manifest_rule,
                manifest_level,
                summary,
                expected,
                json!(got.map(|m| wire::abridge(m, QUOTE_LIMIT))),
            )
            .kinds(kinds.0, kinds.1),
        );
    }
    let t = img.image_manifest_media_type.as_deref();
    let its_own_type = other_image.is_some_and(|h| t == Some(h.media_type.as_str()));
    // A schema 1 translation may come back under either docker v1 type.
    let type_fits = t == Some(x.media_type.as_str())
        || matches!(x.manifest, ExpectedManifest::Schema1 { .. }) && t == Some(media_type::DOCKER_V1_SIGNED);
    if t.is_none() {
        out.push(type_field_missing(e, &x.media_type));
    } else if !its_own_type && !type_fits {
        out.push(
            dev(
                x.manifest_rule,
                manifest_level,
                format!(
                    "{}: imageManifestMediaType {t:?} where ECR answers {}",
                    e.id,
                    if matches!(x.manifest, ExpectedManifest::Schema1 { .. }) {
                        "docker v1"
                    } else {
                        x.media_type.as_str()
                    }
                ),
                json!(x.media_type),
                json!(t),
            )
            .kinds(
                match x.manifest {
                    ExpectedManifest::Stored(_) => "the stored media type",
                    ExpectedManifest::Schema1 { .. } => "docker v1",
                    ExpectedManifest::Translated { .. } => "the translated media type",
                },
                "another media type",
            ),
        );
    }
}

/// M-TYPE-FIELD: an image entry without `imageManifestMediaType` (advisory; a present but wrong
/// type is a deviation of the rule that chose the manifest).
fn type_field_missing(e: &IdExpectation, expected: &str) -> Deviation {
    Deviation::new(
        id::M_TYPE_FIELD,
        rule_by_id(id::M_TYPE_FIELD).level,
        format!("{}: no imageManifestMediaType (ECR answers {expected})", e.id),
        json!(expected),
        Value::Null,
    )
    .about(&e.id)
    .kinds("a media type", "none")
}

/// M-INTEGRITY: an untranslated manifest hashes to the digest it is returned under; only advisory
/// for a schema 1 manifest (hashed over its payload). A translation (by tag, of an image whose
/// stored type was not accepted) is not checked.
pub(super) fn check_integrity(
    a: &ExpectedAnswers,
    img: &Image,
    about: Option<&ImageIdentifier>,
    out: &mut Vec<Deviation>,
) {
    let (Some(m), Some(d)) = (&img.image_manifest, &img.image_id.image_digest) else {
        return;
    };
    // Schema 1 is advisory (rev 2): a registry may hash a signed schema 1 manifest over its payload.
    let t = img.image_manifest_media_type.as_deref();
    let schema1 = t == Some(media_type::DOCKER_V1) || t == Some(media_type::DOCKER_V1_SIGNED) || is_schema1(m);
    let translated = a.accepted_media_types.as_ref().is_some_and(|accepted| {
        a.held
            .iter()
            .find(|h| &h.digest == d)
            .is_some_and(|h| !accepted.contains(&h.media_type) && &h.manifest != m)
    });
    // A schema 1 image returned as the repository holds it: its digest may have been computed
    // over the payload (as a captured case file records it). Only schema 1: for the other types a
    // held pair that does not hash is the endpoint's (seeding or a read-only state took it from
    // there), and M-INTEGRITY is what says so.
    let as_held = schema1 && a.held.iter().any(|h| &h.digest == d && &h.manifest == m);
    if translated || as_held {
        return;
    }
    let actual = syntax::sha256_digest(m.as_bytes());
    if &actual != d {
        let deviation = Deviation::new(
            id::M_INTEGRITY,
            if schema1 { Level::Advisory } else { Level::Gate },
            format!("the manifest returned under {d} hashes to {actual}"),
            json!(d),
            json!(actual),
        )
        .kinds("the manifest's sha256", "another digest");
        out.push(match about {
            Some(id) => deviation.about(id),
            // About an answered image that answers no id for sure: classed with the request.
            None => deviation,
        });
    }
}

/// Whether a manifest's text is a schema 1 manifest, whatever type it came under.
fn is_schema1(manifest: &str) -> bool {
    serde_json::from_str::<Value>(manifest)
        .ok()
        .and_then(|v| v.get("schemaVersion").and_then(Value::as_i64))
        == Some(1)
}

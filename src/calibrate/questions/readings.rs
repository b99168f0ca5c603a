//! How one probe's answer reads as one of its question's named alternatives (or not asked).

use super::{BAD_DIGEST, IPE, OTHER, OTHER_TAG, Probe, RNF, Reading, TAG};
use crate::cases::{CaseAnswer, CaseImage};
use crate::model::{manifest, syntax};
use crate::wire::{self, media_type};
use serde_json::Value;

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
pub(super) fn entries(a: &CaseAnswer) -> Option<(Vec<&Value>, Vec<&Value>)> {
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

pub(super) fn bad_digest_channel(_: &Probe, a: &CaseAnswer) -> Reading {
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

pub(super) fn bad_digest_anchoring(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "anchored",
        Some("InvalidImageDigest") => "anchored",
        Some("ImageNotFound") => "unanchored",
        _ => OTHER,
    })
}

pub(super) fn new_name_pattern(_: &Probe, a: &CaseAnswer) -> Reading {
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

pub(super) fn digest_tags(p: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match tags_of_the_image(p, a) {
        Some(tags) if tags == both_tags() => "entry-per-tag",
        Some(tags) if tags.len() == 1 => "one-entry",
        _ => OTHER,
    })
}

pub(super) fn same_image_two_tags(p: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match tags_of_the_image(p, a) {
        Some(tags) if tags == both_tags() => "two-entries",
        Some(tags) if tags.len() == 1 && both_tags().contains(&tags[0]) => "one-entry",
        _ => OTHER,
    })
}

pub(super) fn repeated_id(p: &Probe, a: &CaseAnswer) -> Reading {
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
pub(super) fn translation(p: &Probe, a: &CaseAnswer, translated: impl Fn(&str, &str, Option<&str>) -> bool) -> Reading {
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

pub(super) fn translate_v2_to_oci(p: &Probe, a: &CaseAnswer) -> Reading {
    translation(p, a, image_translation(media_type::OCI_MANIFEST))
}

pub(super) fn translate_oci_to_v2(p: &Probe, a: &CaseAnswer) -> Reading {
    translation(p, a, image_translation(media_type::DOCKER_V2))
}

pub(super) fn translate_v2_to_v1(p: &Probe, a: &CaseAnswer) -> Reading {
    // A schema 1 manifest whatever its name and signatures: whether the body is the one the model
    // writes is the model's check of the recorded answer, not this question.
    translation(p, a, |got, _, media| {
        let schema1 = serde_json::from_str::<Value>(got)
            .is_ok_and(|v| v.get("schemaVersion").and_then(Value::as_i64) == Some(1) && v["fsLayers"].is_array());
        schema1 && media.is_none_or(|m| m == media_type::DOCKER_V1 || m == media_type::DOCKER_V1_SIGNED)
    })
}

pub(super) fn list_without_list_types(p: &Probe, a: &CaseAnswer) -> Reading {
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

pub(super) fn empty_digest(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "request-400",
        Some("InvalidImageDigest") => "InvalidImageDigest",
        Some("MissingDigestAndTag") => "MissingDigestAndTag",
        _ => OTHER,
    })
}

pub(super) fn empty_tag(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "request-400",
        Some("InvalidImageTag") => "InvalidImageTag",
        _ => OTHER,
    })
}

pub(super) fn tag_charset(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(match only_failure(a) {
        _ if refused_with(a, IPE) => "request-400",
        Some("InvalidImageTag") => "InvalidImageTag",
        Some("ImageNotFound") => "ImageNotFound",
        _ => OTHER,
    })
}

pub(super) fn media_type_field(_: &Probe, a: &CaseAnswer) -> Reading {
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

pub(super) fn both_lists(_: &Probe, a: &CaseAnswer) -> Reading {
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

pub(super) fn foreign_registry(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(if refused_with(a, "AccessDeniedException") {
        "AccessDeniedException"
    } else if refused_with(a, RNF) {
        "RepositoryNotFoundException"
    } else {
        OTHER
    })
}

pub(super) fn validation_order(_: &Probe, a: &CaseAnswer) -> Reading {
    Reading::Answer(if refused_with(a, IPE) {
        "validation-first"
    } else if refused_with(a, RNF) {
        "lookup-first"
    } else {
        OTHER
    })
}

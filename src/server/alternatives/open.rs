//! The answers revision 3 of the reference leaves open (findings F1 to F10 of the third audit),
//! each an alternative the embedded server can give: a server that gives any of them still
//! answers as ECR plausibly might, so a run against it must pass the gate.

use super::{Alternative, Alternatives, Reply, choose};
use crate::model::batch_get_image::{REASON_BAD_DIGEST, REASON_NOT_FOUND};
use crate::model::{ExpectedAnswers, ExpectedManifest, ImageRecord, Outcome, syntax};
use crate::rules::{Accepted, Level, id};
use crate::wire::{ImageFailureCode, ImageIdentifier};
use serde_json::{Value, json};

/// The alternatives that change which images answer an id, before tags and repetitions are
/// shared out: the image found in other letters (F6), a refusal (F2, F3), a translation by digest
/// (F3), a list's child (F4), one entry for the ids of one image (F7).
pub(super) fn images(alts: Alternatives, a: &mut ExpectedAnswers, named: &super::Named) {
    for e in &mut a.ids {
        if alts.contains(Alternative::DigestCaseInsensitive)
            && e.rule == id::I_DIGEST_CASE
            && let Outcome::Failure { or_found, .. } = &e.outcome
            && !or_found.is_empty()
        {
            let found = or_found.clone();
            e.outcome = if e.id.image_tag.is_some() {
                Outcome::Image(found[0].clone())
            } else {
                Outcome::ImagesByDigest { images: found }
            };
        }
        let open_type =
            e.level == Level::Advisory && matches!(e.context.accepted, Accepted::Schema1Only | Accepted::Without);
        if alts.contains(Alternative::RefuseUnaccepted) && open_type && !matches!(e.outcome, Outcome::Failure { .. }) {
            e.outcome = Outcome::failure(ImageFailureCode::ImageNotFound, REASON_NOT_FOUND);
            continue;
        }
        let by_digest = alts.contains(Alternative::TranslateByDigest) && !alts.contains(Alternative::NoTranslation);
        let list_child = alts.contains(Alternative::ListChild);
        let child_digest = choose(&a.repository_name, "list-child", 2) == 0;
        let images: &mut [crate::model::ExpectedImage] = match &mut e.outcome {
            Outcome::Image(x) => std::slice::from_mut(x),
            Outcome::ImagesByDigest { images } => images,
            Outcome::Failure { .. } => &mut [],
        };
        for x in images {
            let translation = x
                .also
                .iter()
                .find(|c| c.digest.is_none() && !matches!(c.manifest, ExpectedManifest::Stored(_)))
                .cloned();
            let child = x.also.iter().find(|c| c.digest.is_some()).cloned();
            if by_digest
                && x.manifest_rule == id::M_BY_DIGEST
                && x.manifest_level == Level::Advisory
                && let Some(t) = translation
            {
                x.manifest = t.manifest;
                x.media_type = t.media_type;
            } else if list_child && let Some(c) = child {
                x.manifest = c.manifest;
                x.media_type = c.media_type;
                if child_digest {
                    x.image_id.image_digest = c.digest;
                }
            }
        }
    }
    if alts.contains(Alternative::ImageOnce) {
        image_once(a, named);
    }
}

/// image-once: every group of ids that name one image (`named`) is answered by one entry: the smallest of
/// the images they would get apart (by tag, then digest), on the group's first id.
fn image_once(a: &mut ExpectedAnswers, named: &super::Named) {
    let mut dropped = std::collections::BTreeSet::new();
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, e) in a.ids.iter().enumerate() {
        if let Some(d) = named.get(&e.id) {
            groups.entry(d).or_default().push(i);
        }
    }
    for group in groups.into_values() {
        // In the ids' own order (not the request's), so that a tie between two ids' images is
        // broken the same whatever the order they came in.
        let mut members: Vec<usize> = group
            .into_iter()
            .filter(|&i| !matches!(a.ids[i].outcome, Outcome::Failure { .. }))
            .collect();
        members.sort_by(|&x, &y| a.ids[x].id.cmp(&a.ids[y].id));
        if members.len() < 2 {
            continue;
        }
        let Some(one) = members
            .iter()
            .flat_map(|&i| a.ids[i].images().iter().cloned())
            .min_by(|x, y| {
                (&x.image_id.image_tag, &x.image_id.image_digest)
                    .cmp(&(&y.image_id.image_tag, &y.image_id.image_digest))
            })
        else {
            continue;
        };
        let first = members[0];
        a.ids[first].outcome = Outcome::Image(one);
        a.ids[first].times = 1;
        dropped.extend(members[1..].iter().copied());
    }
    let mut index = 0;
    a.ids.retain(|_| {
        let keep = !dropped.contains(&index);
        index += 1;
        keep
    });
    a.shares.clear();
}

/// The alternatives of failures: the strict form of digests (F6, F8), the echo of one member
/// (F5), a code this build does not know (F10).
pub(super) fn failures(alts: Alternatives, a: &mut ExpectedAnswers) {
    for e in &mut a.ids {
        let Outcome::Failure { code, reason, also, .. } = &mut e.outcome else {
            continue;
        };
        if alts.contains(Alternative::StrictDigestForm) && also.contains(&ImageFailureCode::InvalidImageDigest) {
            *code = ImageFailureCode::InvalidImageDigest;
            *reason = REASON_BAD_DIGEST.into();
        }
        if alts.contains(Alternative::UnknownFailureCode)
            && *code == ImageFailureCode::ImageNotFound
            && choose(&a.repository_name, &e.id.to_string(), 8) == 0
        {
            *code = ImageFailureCode::Unknown("ImageNotAvailable".into());
            *reason = "The image is not available".into();
        }
        if alts.contains(Alternative::EchoDigestOnly)
            && e.level == Level::Advisory
            && let (Some(tag), Some(digest)) = (&e.id.image_tag, &e.id.image_digest)
        {
            e.id = if digest.is_empty() {
                ImageIdentifier::tag(tag.clone())
            } else {
                ImageIdentifier::digest(digest.clone())
            };
        }
    }
}

/// The alternatives of the answer as written: schema 1 signed afresh at every send but the first
/// (`repeat`: how many times the server saw this request before, F9), then a translation under
/// the digest of its own bytes (F1).
pub(super) fn reply(alts: Alternatives, held: &[ImageRecord], repeat: u64, reply: &mut Reply) {
    let Some(images) = reply.body.get_mut("images").and_then(Value::as_array_mut) else {
        return;
    };
    for img in images {
        let Some(text) = img.get("imageManifest").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        let mut text = text;
        let digest = img
            .get("imageId")
            .and_then(|i| i.get("imageDigest"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let translated = |text: &str| {
            digest
                .as_deref()
                .and_then(|d| held.iter().find(|h| h.digest == d))
                .is_some_and(|h| h.manifest != text)
        };
        // Only a translation is signed by the registry: a stored manifest comes back as pushed.
        if alts.contains(Alternative::Schema1SignedAfresh)
            && repeat > 0
            && translated(&text)
            && let Ok(mut v) = serde_json::from_str::<Value>(&text)
            && v.get("schemaVersion").and_then(Value::as_i64) == Some(1)
        {
            let signature = syntax::sha256_digest(format!("{text}\n{repeat}").as_bytes());
            v["signatures"] = json!([{
                "header": {"alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256", "kid": "ECRC:AFRESH"}},
                "signature": signature.trim_start_matches("sha256:"),
                "protected": format!("send-{repeat}"),
            }]);
            text = v.to_string();
            img["imageManifest"] = json!(text);
        }
        if alts.contains(Alternative::TranslatedDigest) && translated(&text) {
            img["imageId"]["imageDigest"] = json!(syntax::sha256_digest(text.as_bytes()));
        }
    }
}

//! A 200's entries against the ids ECR answers: which entry answers which id, and what is left.

use super::acceptance::{Choice, Readings};
use super::attribution::{Attributed, Attribution, Attributor, Stray};
use super::image_body::{check_integrity, judge_image_body};
use super::per_id::judge_id;
use super::{acceptance, attribution};
use crate::model::deviation::QUOTE_LIMIT;
use crate::model::{Deviation, ExpectedAnswers, IdExpectation};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::{self, BatchGetImageResponse, Image, ImageFailure, ImageFailureCode, ImageIdentifier};
use serde_json::{Value, json};

pub(super) fn judge_answers(a: &ExpectedAnswers, resp: &BatchGetImageResponse, out: &mut Vec<Deviation>) {
    if resp.images.is_none() || resp.failures.is_none() {
        out.push(
            Deviation::new(
                id::W_BOTH_LISTS,
                Level::Advisory,
                "a 200 body lacks `images` or `failures`",
                json!({"images": [], "failures": []}),
                json!({"images": resp.images.is_some(), "failures": resp.failures.is_some()}),
            )
            .kinds("both lists", "a list missing"),
        );
    }
    let images: &[Image] = resp.images.as_deref().unwrap_or(&[]);
    let failures: &[ImageFailure] = resp.failures.as_deref().unwrap_or(&[]);
    // Failures outside the model (section 9), echoing a requested id.
    let outside: Vec<&ImageFailure> = failures
        .iter()
        .filter(|f| f.failure_code.as_ref().is_some_and(is_outside_failure) && a.ids.iter().any(|e| e.id == f.image_id))
        .collect();
    if outside.is_empty() {
        out.extend(judge_read(a, images, failures));
        return;
    }
    // Read with each such failure answering the id it echoes, and read as any failure (which an
    // id whose answer is open may get, under any of its members): of the two, the one with fewer
    // gate deviations, then fewer in all (the first on a tie). A failure outside the model that
    // echoes one id exactly may still be the answer of another id sent with both.
    // (A reading's deviations are bounded by the evidence as it is judged; the X-OUTSIDE ones
    // of `apart` here.)
    let mut apart = judge_apart(a, resp, &outside);
    let together = judge_read(a, images, failures);
    super::bound_ids(&a.ids, None, &mut apart);
    out.extend(if weight(&together) < weight(&apart) {
        together
    } else {
        apart
    });
}

/// The reading where each failure outside the model answers the id it echoes, as what it is
/// (X-OUTSIDE), and the rest of the answer is judged without them.
fn judge_apart(a: &ExpectedAnswers, resp: &BatchGetImageResponse, outside: &[&ImageFailure]) -> Vec<Deviation> {
    let failures: &[ImageFailure] = resp.failures.as_deref().unwrap_or(&[]);
    let mut out = Vec::new();
    for f in outside {
        let code = f
            .failure_code
            .as_ref()
            .map(ImageFailureCode::as_str)
            .unwrap_or_default();
        out.push(
            Deviation::new(
                id::X_OUTSIDE,
                rule_by_id(id::X_OUTSIDE).level,
                format!(
                    "{}: failure {code}, an answer outside the model (reference section 9)",
                    f.image_id
                ),
                json!("an answer the model decides"),
                json!(f),
            )
            .about(&f.image_id)
            .kinds("an answer the model decides", format!("failure {code}")),
        );
    }
    let inside = a.only(|e| !outside.iter().any(|f| f.image_id == e.id));
    let rest = BatchGetImageResponse {
        images: resp.images.clone(),
        failures: Some(
            failures
                .iter()
                .filter(|f| !outside.iter().any(|o| std::ptr::eq(*o, *f)))
                .cloned()
                .collect(),
        ),
    };
    judge_answers(&inside, &rest, &mut out);
    out
}

/// The deviations of a 200's entries read by identity, with the alternatives the reference allows
/// and with the model's own answers only.
fn judge_read(a: &ExpectedAnswers, images: &[Image], failures: &[ImageFailure]) -> Vec<Deviation> {
    // Read by identity first, taking the alternatives the reference allows; where a reading took
    // one, again with the model's own answers only. Of the two, the one that explains the answer
    // with fewer gate deviations, then fewer in all, is kept (the alternatives on a tie): an
    // alternative explains what it can, and never pulls an entry from the id it answers better.
    let (allowed, took_alternatives) = judge_reading(a, images, failures, Readings::Allowed);
    if !took_alternatives {
        return allowed;
    }
    let (own, _) = judge_reading(a, images, failures, Readings::ModelsOwn);
    if weight(&own) < weight(&allowed) { own } else { allowed }
}

/// What a reading's deviations weigh against another's: gate ones first, then all.
fn weight(d: &[Deviation]) -> (usize, usize) {
    (d.iter().filter(|x| x.level == Level::Gate).count(), d.len())
}

/// One reading of a 200's entries: placed by identity (`acceptance`), the rest by likeness
/// (`attribution`: every id, its placed entries fixed), then judged id by id. Whether it took an
/// alternative of the reference.
fn judge_reading(
    a: &ExpectedAnswers,
    images: &[Image],
    failures: &[ImageFailure],
    readings: Readings,
) -> (Vec<Deviation>, bool) {
    let split = acceptance::accept(a, images, failures, readings);
    let attributor = Attributor::new(a, images, failures, &split.placed);
    // The readings of what is left that can differ, and the one whose counts explain it better:
    // fewer entries left unaccounted for (P-ACCOUNTED), then fewer deviations of multiplicity
    // (I-DUP-ONCE, I-DIGEST-TAGS), then fewer in all; the first (per sending) on a tie.
    let mut best: Option<((usize, usize, usize), Vec<Deviation>)> = None;
    for &reading in attributor.readings() {
        let mut found = Vec::new();
        judge_attribution(
            a,
            &split,
            &attributor.attribute(reading),
            (images, failures),
            &mut found,
        );
        super::bound_ids(&a.ids, None, &mut found);
        let count = |rules: &[&str]| found.iter().filter(|d| rules.contains(&d.rule.as_str())).count();
        let score = (
            count(&[id::P_ACCOUNTED]),
            count(&[id::I_DUP_ONCE, id::I_DIGEST_TAGS]),
            found.len(),
        );
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, found));
        }
    }
    (
        best.map(|(_, found)| found).unwrap_or_default(),
        split.took_alternatives,
    )
}

/// Per-id failure codes the model never decides (reference section 9): KMS, pull-through-cache
/// upstreams, archived or inaccessible images, an image a manifest list references, and a code
/// this build does not know (the service model's list grows: rev 3 F10).
fn is_outside_failure(code: &ImageFailureCode) -> bool {
    matches!(
        code,
        ImageFailureCode::Unknown(_)
            | ImageFailureCode::KmsError
            | ImageFailureCode::UpstreamAccessDenied
            | ImageFailureCode::UpstreamTooManyRequests
            | ImageFailureCode::UpstreamUnavailable
            | ImageFailureCode::ImageInaccessible
            | ImageFailureCode::ImageReferencedByManifestList
    )
}

/// The notes on an id whose entries are an answer the reference allows: the alternative it took
/// (advisory), and what its bodies and texts say.
fn judge_accepted(a: &ExpectedAnswers, e: &IdExpectation, got: &Attributed, choice: Choice, out: &mut Vec<Deviation>) {
    if choice != Choice::Shared {
        judge_id(a, e, got, out);
        return;
    }
    // I-SAME-DIGEST-TAGS: the entries of one image shared among the ids that name it (noted on
    // each id that did not get its own entries); each entry's body is still this image's.
    if !acceptance::is_own(e, got) {
        out.push(
            Deviation::new(
                id::I_SAME_DIGEST_TAGS,
                Level::Advisory,
                format!(
                    "{}: one image answered for several of the ids that name it together",
                    e.id
                ),
                expected_value(e),
                actual_value(got),
            )
            .about(&e.id)
            .kinds("an entry per id, with its own identity", "entries shared among the ids"),
        );
    }
    for img in &got.images {
        let images = e.images();
        let x = images
            .iter()
            .find(|x| x.image_id.image_tag == img.image_id.image_tag)
            .or(images.first());
        if let Some(x) = x {
            judge_image_body(a, e, x, img, out);
        }
    }
}

/// The deviations of an answer read: each id answered in full by an allowed answer (and nothing
/// more) is noted as such; every other id by its entries (echoes, I-ECHO; an id left without an
/// entry by what it shares with another); then the strays.
fn judge_attribution(
    a: &ExpectedAnswers,
    split: &acceptance::Split,
    at: &Attribution,
    whole: (&[Image], &[ImageFailure]),
    out: &mut Vec<Deviation>,
) {
    let all = a;
    for (i, (e, got)) in a.ids.iter().zip(&at.slots).enumerate() {
        let placed = split.placed.iter().filter(|(_, x)| *x == i).count();
        // I-ECHO: a failure answers its id but does not echo it as sent (an id whose answer is
        // open may be echoed by one member: noted at its level).
        for f in got.failures.iter().filter(|f| f.image_id != e.id) {
            out.push(echo_deviation(e, f));
        }
        if split.filled[i] && got.images.len() + got.failures.len() == placed {
            judge_accepted(a, e, got, split.choices[i], out);
        } else {
            if got.images.is_empty()
                && got.failures.is_empty()
                && let Some(found) = judge_merged(a, e, whole)
            {
                out.extend(found);
                continue;
            }
            judge_id(a, e, got, out);
        }
        for img in &got.images {
            check_integrity(a, img, Some(&e.id), out);
        }
    }
    for stray in &at.strays {
        let (kind, entry, stray_id) = match stray {
            Stray::Image(img) => (
                "an unrequested image",
                json!({"image": summarise_image(img)}),
                &img.image_id,
            ),
            Stray::Failure(f) => ("an unrequested failure", json!({"failure": f}), &f.image_id),
        };
        // An entry that is exactly an answer ECR gives for a requested id (already answered) is
        // that id answered once more; any other answers nothing that was asked.
        let owner = all.ids.iter().find(|e| match stray {
            Stray::Image(_) => e.images().iter().any(|x| &x.image_id == stray_id),
            Stray::Failure(_) => &e.id == stray_id,
        });
        out.push(match owner {
            Some(e) => Deviation::new(
                id::P_ACCOUNTED,
                rule_by_id(id::P_ACCOUNTED).level,
                format!("{} is answered once more than ECR answers it", e.id),
                expected_value(e),
                entry,
            )
            .about(&e.id)
            .kinds("answered once", "answered more often"),
            None => Deviation::new(
                id::P_ACCOUNTED,
                rule_by_id(id::P_ACCOUNTED).level,
                "an entry answers no requested id",
                json!(a.ids.iter().map(|e| &e.id).collect::<Vec<_>>()),
                entry,
            )
            .about(stray_id)
            .kinds("no other entry", kind),
        });
        if let Stray::Image(img) = stray {
            check_integrity(a, img, None, out);
        }
    }
}

/// An id without an entry of its own, where the answer holds an entry that a sloppy lookup of
/// the id would give (a tag in another case, a digest's prefix: see `loosely_related`): the
/// endpoint most likely answered it together with another id, with that entry. What that entry
/// says about the id is the finding, under the id's own rule, if it breaks a gate rule; else
/// (the entry would be a fine answer, or only an advisory one) the missing answer is.
fn judge_merged(a: &ExpectedAnswers, e: &IdExpectation, whole: (&[Image], &[ImageFailure])) -> Option<Vec<Deviation>> {
    let closeness = |x: &ImageIdentifier| (x != &e.id).then(|| attribution::loose_score(&e.id, x)).flatten();
    // The closest such entry (on a tie, an image before a failure, then the first).
    let image = whole
        .0
        .iter()
        .filter_map(|img| Some((closeness(&img.image_id)?, img)))
        .max_by_key(|(c, _)| *c);
    let failure = whole
        .1
        .iter()
        .filter_map(|f| Some((closeness(&f.image_id)?, f)))
        .max_by_key(|(c, _)| *c);
    let borrowed = match (image, failure) {
        (Some((ci, img)), Some((cf, _))) if ci >= cf => Attributed {
            images: vec![img],
            failures: Vec::new(),
        },
        (Some((_, img)), None) => Attributed {
            images: vec![img],
            failures: Vec::new(),
        },
        (_, Some((_, f))) => Attributed {
            images: Vec::new(),
            failures: vec![f],
        },
        (None, None) => return None,
    };
    let mut found = Vec::new();
    for f in &borrowed.failures {
        found.push(echo_deviation(e, f));
    }
    judge_id(a, e, &borrowed, &mut found);
    super::bound_ids(&a.ids, None, &mut found);
    if !found.iter().any(|d| d.level == Level::Gate) {
        return None;
    }
    for d in &mut found {
        d.summary = format!("{} (its only answer is an entry it shares with another id)", d.summary);
    }
    Some(found)
}

/// I-ECHO: a failure answers an id but does not echo it as sent.
fn echo_deviation(e: &IdExpectation, f: &ImageFailure) -> Deviation {
    Deviation::new(
        id::I_ECHO,
        rule_by_id(id::I_ECHO).level,
        format!("failure echoes {} where the request sent {}", f.image_id, e.id),
        json!(e.id),
        json!(f.image_id),
    )
    .kinds(
        format!("echo of {}", crate::model::id_shape(&e.id)),
        format!("echo of {}", crate::model::id_shape(&f.image_id)),
    )
    .about(&e.id)
}

fn summarise_image(img: &Image) -> Value {
    json!({
        "registryId": img.registry_id,
        "repositoryName": img.repository_name,
        "imageId": img.image_id,
        "imageManifestMediaType": img.image_manifest_media_type,
        "imageManifest": img.image_manifest.as_deref().map(|m| wire::abridge(m, QUOTE_LIMIT)),
    })
}

pub(super) fn expected_value(e: &IdExpectation) -> Value {
    let mut v = serde_json::to_value(&e.outcome).unwrap_or(Value::Null);
    // Manifests can be long; a deviation quotes them abridged.
    if let Some(s) = v
        .pointer_mut("/manifest/value")
        .and_then(|m| m.as_str().map(str::to_string))
    {
        v["manifest"]["value"] = json!(wire::abridge(&s, QUOTE_LIMIT));
    }
    v
}

pub(super) fn actual_value(got: &Attributed) -> Value {
    json!({
        "images": got.images.iter().map(|i| summarise_image(i)).collect::<Vec<_>>(),
        "failures": got.failures,
    })
}

//! One requested id against the entries attributed to it.

use super::answers::{actual_value, expected_value};
use super::attribution::Attributed;
use super::image_body::judge_image_body;
use super::{image_id_kind, outcome_kind};
use crate::model::{Deviation, ExpectedAnswers, IdExpectation, Outcome};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::Image;

/// An id's levels: its rule's, lowered where the model lowers it for this id.
struct Levels {
    level: Level,
    text_level: Level,
}

impl Levels {
    fn of(e: &IdExpectation) -> Self {
        Levels {
            level: e.level,
            text_level: rule_by_id(e.rule).text_level.max(e.level),
        }
    }
}

pub(super) fn judge_id(a: &ExpectedAnswers, e: &IdExpectation, got: &Attributed, out: &mut Vec<Deviation>) {
    let r = Levels::of(e);
    let dev = |rule: &str, level: Level, summary: String| {
        Deviation::new(rule, level, summary, expected_value(e), actual_value(got)).about(&e.id)
    };
    let answers = got.images.len() + got.failures.len();
    if answers == 0 {
        out.push(
            dev(
                id::P_ACCOUNTED,
                rule_by_id(id::P_ACCOUNTED).level,
                format!("no answer for {}", e.id),
            )
            .kinds(outcome_kind(&e.outcome), "no answer"),
        );
        return;
    }
    // An id that ECR answers with its image(s), answered with a failure only.
    if !matches!(e.outcome, Outcome::Failure { .. }) && got.images.is_empty() {
        let code = got
            .failures
            .first()
            .and_then(|f| f.failure_code.as_ref())
            .map_or("(none)", |c| c.as_str());
        out.push(
            dev(
                e.rule,
                r.level,
                format!("{}: failure {code} where ECR answers the image", e.id),
            )
            .kinds(outcome_kind(&e.outcome), format!("failure {code}")),
        );
        return;
    }
    match &e.outcome {
        Outcome::Failure { code, reason, also, .. } => {
            if let Some(img) = got.images.first() {
                let (rule, level) = match found_how(a, e, img) {
                    Some(rule) => (rule, rule_by_id(rule).level.max(e.level)),
                    None => (e.rule, r.level),
                };
                out.push(
                    dev(
                        rule,
                        level,
                        format!("{}: image returned where ECR answers {code}", e.id),
                    )
                    .kinds(outcome_kind(&e.outcome), "an image"),
                );
                return;
            }
            for f in &got.failures {
                let actual_code = f.failure_code.as_ref().map_or("(none)", |c| c.as_str());
                // Another code the reference accepts as well (an empty digest read as none, a
                // sha256 digest of another length refused).
                if f.failure_code.as_ref().is_some_and(|c| also.contains(c)) {
                    continue;
                }
                if f.failure_code.as_ref() != Some(code) {
                    out.push(
                        dev(
                            e.rule,
                            r.level,
                            format!("{}: failureCode {actual_code} where ECR answers {code}", e.id),
                        )
                        .kinds(outcome_kind(&e.outcome), format!("failure {actual_code}")),
                    );
                } else if f.failure_reason.as_deref() != Some(reason.as_str()) {
                    out.push(
                        dev(
                            e.rule,
                            r.text_level,
                            format!("{}: failureReason differs from ECR's", e.id),
                        )
                        .kinds("ECR's reason", "another reason"),
                    );
                }
            }
            judge_multiplicity(e, got.failures.len(), 1, got, out);
            if got
                .failures
                .windows(2)
                .any(|w| w[0].failure_code != w[1].failure_code || w[0].failure_reason != w[1].failure_reason)
            {
                out.push(
                    dev(
                        id::I_DUP_CONSISTENT,
                        Level::Gate,
                        format!("{} answered differently within one request", e.id),
                    )
                    .kinds("the same answer each time", "different answers"),
                );
            }
        }
        Outcome::Image(x) => {
            for img in &got.images {
                if !x.identity_fits(img) {
                    out.push(
                        dev(
                            e.rule,
                            r.level,
                            format!("{}: imageId {} where ECR answers {}", e.id, img.image_id, x.image_id),
                        )
                        .kinds("the requested imageId", image_id_kind(&x.image_id, &img.image_id)),
                    );
                }
                judge_image_body(a, e, x, img, out);
            }
            judge_multiplicity(e, got.images.len(), 1, got, out);
        }
        Outcome::ImagesByDigest { images } => {
            let digest = e.id.image_digest.as_deref().unwrap_or_default();
            let tags: Vec<Option<&str>> = images.iter().map(|x| x.image_id.image_tag.as_deref()).collect();
            let mut foreign = false;
            for img in &got.images {
                let tag = img.image_id.image_tag.as_deref();
                let tag_ok = tag.is_none() || tags.contains(&tag);
                if img.image_id.image_digest.as_deref() != Some(digest) || !tag_ok {
                    out.push(
                        dev(
                            id::I_DIGEST,
                            Level::Gate,
                            format!("{}: imageId {} is not an id of that digest", e.id, img.image_id),
                        )
                        .kinds("an id of the digest", "another id"),
                    );
                    foreign = true;
                    continue;
                }
                let model = images
                    .iter()
                    .find(|x| x.image_id.image_tag.as_deref() == tag)
                    .unwrap_or(&images[0]);
                judge_image_body(a, e, model, img, out);
            }
            // I-DIGEST-TAGS: one entry per tag (advisory). Compare tag multisets per sending.
            let mut got_tags: Vec<Option<&str>> = got.images.iter().map(|i| i.image_id.image_tag.as_deref()).collect();
            got_tags.sort();
            let mut want = tags.clone();
            want.sort();
            let mut want_each: Vec<Option<&str>> = (0..e.times).flat_map(|_| want.iter().copied()).collect();
            want_each.sort();
            // (Not where an entry is no id of the digest at all: that is I-DIGEST, said above.)
            if !foreign && got_tags != want && got_tags != want_each {
                out.push(
                    dev(
                        id::I_DIGEST_TAGS,
                        Level::Advisory,
                        format!(
                            "{}: {} entries where ECR answers one per tag ({})",
                            e.id,
                            got_tags.len(),
                            want.len()
                        ),
                    )
                    .kinds(
                        "one entry per tag",
                        if got_tags.len() < want.len() {
                            "fewer entries"
                        } else {
                            "other entries"
                        },
                    ),
                );
            } else {
                judge_multiplicity(e, got.images.len(), want.len(), got, out);
            }
        }
    }
}

/// How an endpoint found an image for an id that ECR does not find, by what the image is: the
/// requested tag or digest in other letters (I-TAG-CASE), an image this repository does not hold
/// (I-SCOPE), or one it holds under another name (I-NOT-FOUND). Only for ids ECR does not find.
fn found_how(a: &ExpectedAnswers, e: &IdExpectation, img: &Image) -> Option<&'static str> {
    if ![id::I_NOT_FOUND, id::I_TAG_CASE, id::I_SCOPE].contains(&e.rule) {
        return None;
    }
    let other_case = |asked: &Option<String>, got: &Option<String>| match (asked, got) {
        (Some(x), Some(y)) => x != y && x.eq_ignore_ascii_case(y),
        _ => false,
    };
    let img_digest = img.image_id.image_digest.as_deref();
    let held = |h: &&crate::model::ImageRecord| img_digest.is_some_and(|d| d.eq_ignore_ascii_case(&h.digest));
    let held_here = a.held.iter().any(|h| held(&h));
    if !held_here {
        return Some(id::I_SCOPE);
    }
    // A lookup in another case finds the id, and the image answered is the one it finds (whatever
    // the image's echo says: it may be another id's entry, shared with this one).
    let found_in_other_case = a.held.iter().filter(held).any(|h| {
        let tag =
            e.id.image_tag
                .as_ref()
                .map(|t| h.tags.iter().any(|x| x.eq_ignore_ascii_case(t)));
        let digest = e.id.image_digest.as_ref().map(|d| d.eq_ignore_ascii_case(&h.digest));
        let differs = e.id.image_tag.as_ref().is_some_and(|t| !h.tags.contains(t))
            || e.id.image_digest.as_ref().is_some_and(|d| d != &h.digest);
        tag != Some(false) && digest != Some(false) && (tag.is_some() || digest.is_some()) && differs
    });
    if found_in_other_case
        || other_case(&e.id.image_tag, &img.image_id.image_tag)
        || other_case(&e.id.image_digest, &img.image_id.image_digest)
    {
        return Some(id::I_TAG_CASE);
    }
    Some(id::I_NOT_FOUND)
}

/// I-DUP-ONCE and P-ACCOUNTED: an id sent `times` times is answered once (or, advisory, once per
/// sending); one sent once is answered once.
fn judge_multiplicity(e: &IdExpectation, count: usize, per_sending: usize, got: &Attributed, out: &mut Vec<Deviation>) {
    let per_sending = per_sending.max(1);
    if count == per_sending {
        return;
    }
    let (rule, level, summary) = if e.times > 1 && count == per_sending * e.times {
        (
            id::I_DUP_ONCE,
            Level::Advisory,
            format!("{} sent {} times is answered {} times", e.id, e.times, e.times),
        )
    } else {
        (
            id::P_ACCOUNTED,
            Level::Gate,
            format!("{} is answered {count} times", e.id),
        )
    };
    let actual_kind = if rule == id::I_DUP_ONCE {
        "answered per repetition"
    } else if count > per_sending {
        "answered more often"
    } else {
        "answered less often"
    };
    out.push(
        Deviation::new(rule, level, summary, expected_value(e), actual_value(got))
            .about(&e.id)
            .kinds("answered once", actual_kind),
    );
}

//! Judges one answer against the model's expectation: images and failures as multisets (order never
//! matters, I-ORDER), each entry matched to the requested id it answers, every difference a
//! [`Deviation`] naming its rule and level.
//!
//! An HTTP answer is an answer: an HTML 500 where ECR answers 400 is a deviation. Only an answer
//! that cannot be read at all (a 200 that is not a `BatchGetImage` body) is a fault, which the
//! runner reports apart from verdicts.
//!
//! Its parts: [`parse`](parse_reply) reads the reply; this module judges the whole answer; `error`
//! an error answer; `answers` a 200's entries, placed by `attribution` and `acceptance`;
//! `per_id` and `image_body` one id and one image.

mod acceptance;
mod answers;
mod attribution;
mod error;
#[cfg(test)]
mod fuzz;
mod image_body;
mod parse;
mod per_id;
// The per-rule tests judge the model's answers through the comparer, so they live above both.
#[cfg(test)]
mod revision3_tests;
#[cfg(test)]
mod rule_tests;

pub use crate::model::{Answers, Deviation};
pub use parse::{ParsedReply, UnreadableReply, parse_reply};

use crate::model::{Expected, ExpectedAnswers, ExpectedError, IdExpectation, Outcome};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::{self, ErrorBody, HttpReply, ImageIdentifier};
use answers::judge_answers;
use error::judge_error;
use serde_json::json;

/// What an id expects, in seed-free words (for classes).
fn outcome_kind(o: &Outcome) -> String {
    match o {
        Outcome::Image(_) => "an image".into(),
        Outcome::ImagesByDigest { .. } => "images by digest".into(),
        Outcome::Failure { code, .. } => format!("failure {code}"),
    }
}

/// How an answered imageId differs from the expected one, in seed-free words.
fn image_id_kind(expected: &ImageIdentifier, actual: &ImageIdentifier) -> String {
    let part = |e: &Option<String>, a: &Option<String>, name: &str| match (e, a) {
        (Some(_), None) => Some(format!("no {name}")),
        (None, Some(_)) => Some(format!("an extra {name}")),
        (Some(x), Some(y)) if x != y => Some(format!("another {name}")),
        _ => None,
    };
    let parts: Vec<String> = [
        part(&expected.image_tag, &actual.image_tag, "tag"),
        part(&expected.image_digest, &actual.image_digest, "digest"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "the same imageId".into()
    } else {
        parts.join(" and ")
    }
}

/// The judgement of one answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// The answer could be read; these are its deviations (none: it conforms).
    Answer(Vec<Deviation>),
    /// The answer could not be read as any answer: a fault of the endpoint, not a verdict.
    Fault(String),
}

/// Compares one reply with the expectation.
pub fn judge(expected: &Expected, reply: &HttpReply) -> Judgement {
    judge_with_culprit(expected, reply, None)
}

/// Compares one reply with the expectation, knowing which id of the request the endpoint refuses
/// alone where ECR answers it per id (`culprit`: the model's expectation of that id sent alone), if
/// the endpoint refused the request: the culprit's rule is the one broken, whatever else the
/// request carried (another invalid parameter that ECR would have named instead, other ids).
pub fn judge_with_culprit(expected: &Expected, reply: &HttpReply, culprit: Option<&IdExpectation>) -> Judgement {
    match judge_unbounded(expected, reply, culprit) {
        Judgement::Answer(mut d) => {
            bound_by_evidence(expected, culprit, &mut d);
            Judgement::Answer(d)
        }
        fault => fault,
    }
}

/// Every deviation about an id at the level the evidence gives its rule there: outside what a gate
/// rule's evidence covers (the id's shape, the type it names, the accepted list), advisory; a rule
/// of the id's answer as a whole (its echo, whether it is answered) at the level of the id's own
/// rule (reference revision 3). The one place where the gate meets the evidence, for every
/// deviation the judge finds ([`crate::rules::covers`]).
fn bound_by_evidence(expected: &Expected, culprit: Option<&IdExpectation>, deviations: &mut [Deviation]) {
    let ids: &[IdExpectation] = match expected {
        Expected::Answers(a) => &a.ids,
        Expected::Error(ExpectedError { per_id: Some(a), .. }) => &a.ids,
        Expected::Error(_) => &[],
    };
    bound_ids(ids, culprit, deviations);
}

/// [`bound_by_evidence`] for the deviations about these ids: also where the judge weighs two
/// readings of one answer against each other, so that a deviation the evidence does not gate
/// never makes a reading look worse than one with a real gate deviation.
pub(crate) fn bound_ids(ids: &[IdExpectation], culprit: Option<&IdExpectation>, deviations: &mut [Deviation]) {
    for d in deviations {
        let Some(about) = &d.image_id else { continue };
        if let Some(e) = ids.iter().chain(culprit).find(|e| &e.id == about) {
            d.level = rule_by_id(&d.rule).level_for(d.level, &e.context, e.level);
        }
    }
}

fn judge_unbounded(expected: &Expected, reply: &HttpReply, culprit: Option<&IdExpectation>) -> Judgement {
    let parsed = match parse_reply(reply) {
        Ok(p) => p,
        Err(fault) => return Judgement::Fault(fault.to_string()),
    };
    let mut out = Vec::new();
    // W-CT: advisory, and only worth saying for answers that are otherwise JSON.
    let ct_ok = reply
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with(wire::CONTENT_TYPE));
    if !ct_ok {
        out.push(
            Deviation::new(
                id::W_CT,
                Level::Advisory,
                format!(
                    "Content-Type is {:?}, not {}",
                    reply.content_type.as_deref().unwrap_or("absent"),
                    wire::CONTENT_TYPE
                ),
                json!(wire::CONTENT_TYPE),
                json!(reply.content_type),
            )
            .kinds("content-type json 1.1", "another content-type"),
        );
    }
    if let ParsedReply::Error { status, body, text } = &parsed
        && let Some(shape) = body.as_ref().and_then(ErrorBody::shape_name)
        && is_outside_error(*status, shape)
        && !matches!(expected, Expected::Error(e) if e.error_types.contains(&shape))
    {
        out.push(
            Deviation::new(
                id::X_OUTSIDE,
                rule_by_id(id::X_OUTSIDE).level,
                format!("HTTP {status} {shape}: an answer outside the model (reference section 9)"),
                json!("an answer the model decides"),
                json!({"status": status, "body": text}),
            )
            .kinds("an answer the model decides", format!("error {shape}")),
        );
        return Judgement::Answer(out);
    }
    match (expected, parsed) {
        (Expected::Error(e), ParsedReply::Error { status, body, text }) => {
            let mut found = Vec::new();
            judge_error(e, status, body.as_ref(), &text, &mut found);
            match culprit {
                Some(c) if !found.is_empty() => out.push(
                    Deviation::new(
                        c.rule,
                        c.level,
                        format!("the request is refused for {}, which ECR answers per id", c.id),
                        json!({"status": e.status, "__type": e.error_types}),
                        json!({"status": status, "body": text}),
                    )
                    .about(&c.id)
                    .kinds(outcome_kind(&c.outcome), "the request refused"),
                ),
                _ => out.extend(found),
            }
        }
        // Answered per id, where the reference accepts that channel too: judged as such answers.
        (Expected::Error(ExpectedError { per_id: Some(a), .. }), ParsedReply::Ok(resp)) => {
            judge_answers(a, &resp, &mut out)
        }
        (Expected::Error(e), ParsedReply::Ok(resp)) => {
            let r = rule_by_id(e.rule);
            out.push(
                Deviation::new(
                    e.rule,
                    r.level,
                    format!(
                        "expected HTTP {} {}, got HTTP 200 with answers",
                        e.status,
                        e.error_types.join(" or ")
                    ),
                    json!({"status": e.status, "__type": e.error_types}),
                    json!({"status": 200, "body": resp}),
                )
                .kinds(format!("error {}", e.error_types[0]), "answers"),
            );
        }
        (Expected::Answers(a), ParsedReply::Error { status, body, text })
            if a.or_refused.as_ref().is_some_and(|r| {
                let mut found = Vec::new();
                judge_error(r, status, body.as_ref(), &text, &mut found);
                found.is_empty()
            }) => {}
        (Expected::Answers(a), ParsedReply::Error { status, body, text }) => {
            let blamed = culprit;
            let (rule, level) = match blamed {
                Some(e) => (e.rule, e.level),
                None => {
                    let rule = whole_request_rule(a);
                    (rule, rule_by_id(rule).level)
                }
            };
            let shape = body.as_ref().and_then(|b| b.shape_name().map(str::to_string));
            let deviation = Deviation::new(
                rule,
                level,
                format!(
                    "expected HTTP 200 with answers, got HTTP {status} {}",
                    shape.as_deref().unwrap_or("(no __type)")
                ),
                json!({"status": 200}),
                json!({"status": status, "__type": shape, "body": text}),
            )
            .kinds(
                "answers",
                format!("HTTP {status} {}", shape.as_deref().unwrap_or("without __type")),
            );
            out.push(match blamed {
                Some(e) => deviation.about(&e.id),
                None => deviation,
            });
        }
        (Expected::Answers(a), ParsedReply::Ok(resp)) => judge_answers(a, &resp, &mut out),
    }
    Judgement::Answer(out)
}

/// Request-level errors that no generated state provokes (reference section 9): pull-through-cache
/// and KMS failures, quotas, and a well-formed `ServerException` that outlasted the retries.
fn is_outside_error(status: u16, shape: &str) -> bool {
    matches!(
        shape,
        "UnableToGetUpstreamImageException"
            | "UnableToGetUpstreamLayerException"
            | "KmsException"
            | "LimitExceededException"
    ) || (shape == "ServerException" && status >= 500)
}

/// When ECR answers 200 but the endpoint refuses the whole request, the id most likely to have
/// provoked it names the rule: the first one ECR answers with a failure, else W-OK.
fn whole_request_rule(a: &ExpectedAnswers) -> &'static str {
    a.ids
        .iter()
        .find(|e| matches!(e.outcome, Outcome::Failure { .. }))
        .map_or(id::W_OK, |e| e.rule)
}

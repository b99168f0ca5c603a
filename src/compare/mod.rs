//! Judges one answer against the model's expectation: images and failures as multisets (order never
//! matters, I-ORDER), each entry matched to the requested id it answers, every difference a
//! [`Deviation`] naming its rule and level.
//!
//! An HTTP answer is an answer: an HTML 500 where ECR answers 400 is a deviation. Only an answer
//! that cannot be read at all (a 200 that is not a `BatchGetImage` body) is a fault, which the
//! runner reports apart from verdicts.

mod acceptance;
mod attribution;
// The per-rule tests judge the model's answers through the comparer, so they live above both.
#[cfg(test)]
mod rule_tests;

use crate::model::{Expected, ExpectedAnswers, ExpectedError, ExpectedImage, ExpectedManifest, IdExpectation, Outcome};
use crate::model::{manifest, syntax};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::{
    self, BatchGetImageResponse, ErrorBody, HttpReply, Image, ImageFailure, ImageFailureCode, ImageIdentifier,
    media_type,
};
use attribution::{Attributed, Attribution, Attributor, Stray};
use serde::Serialize;
use serde_json::{Value, json};

/// How much of a body a deviation quotes.
const QUOTE_LIMIT: usize = 2048;

/// One way the endpoint's answer differs from ECR's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deviation {
    pub rule: String,
    pub level: Level,
    /// One line: what differed.
    pub summary: String,
    /// The requested id concerned, when the deviation is about one id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<ImageIdentifier>,
    pub expected: Value,
    pub actual: Value,
    /// What was expected and what came, in seed-free words (the deviation's class).
    #[serde(default)]
    pub expected_kind: String,
    #[serde(default)]
    pub actual_kind: String,
    /// The whole exchange the deviation was seen in: the endpoint's answer and an answer ECR would
    /// give, both in wire shape (attached by the runner; reports show them, `deviations` does not).
    #[serde(skip)]
    pub answers: Option<std::sync::Arc<Answers>>,
}

/// An endpoint's whole answer and one ECR would give, as `{"status", "body"}` in wire shape, long
/// manifests abridged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answers {
    pub answer: Value,
    pub ecr_answer: Value,
}

impl Answers {
    pub fn of(expected: &Expected, reply: &HttpReply) -> Self {
        let answer = match serde_json::from_slice::<Value>(&reply.body) {
            Ok(body) => json!({"status": reply.status, "body": abridged_manifests(body)}),
            Err(_) => json!({"status": reply.status, "body": reply.abridged_body(QUOTE_LIMIT)}),
        };
        let ecr_answer = match expected.reference_answer() {
            crate::model::ReferenceAnswer::Ok(body) => {
                json!({"status": 200, "body": abridged_manifests(serde_json::to_value(body).unwrap_or(Value::Null))})
            }
            crate::model::ReferenceAnswer::Error { status, body } => json!({"status": status, "body": body}),
        };
        Answers { answer, ecr_answer }
    }
}

fn abridged_manifests(mut body: Value) -> Value {
    if let Some(images) = body.get_mut("images").and_then(Value::as_array_mut) {
        for img in images {
            if let Some(m) = img.get("imageManifest").and_then(Value::as_str).map(str::to_string) {
                img["imageManifest"] = json!(wire::abridge(&m, QUOTE_LIMIT));
            }
        }
    }
    body
}

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

impl Deviation {
    /// Names what was expected and what came, in words that do not depend on the seed: the
    /// deviation's class is made of them.
    pub fn kinds(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        self.expected_kind = expected.into();
        self.actual_kind = actual.into();
        self
    }

    pub fn new(rule: &str, level: Level, summary: impl Into<String>, expected: Value, actual: Value) -> Self {
        Deviation {
            rule: rule.to_string(),
            level,
            summary: summary.into(),
            image_id: None,
            expected,
            actual,
            expected_kind: String::new(),
            actual_kind: String::new(),
            answers: None,
        }
    }

    fn about(mut self, image_id: &ImageIdentifier) -> Self {
        self.image_id = Some(image_id.clone());
        self
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

/// The answer's entries as the comparer reads them.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedReply {
    Ok(BatchGetImageResponse),
    Error {
        status: u16,
        body: Option<ErrorBody>,
        text: String,
    },
}

/// Reads an HTTP reply: a 200 must be a `BatchGetImage` body, anything else is an error answer
/// whatever its body.
pub fn parse_reply(reply: &HttpReply) -> Result<ParsedReply, String> {
    if reply.status == 200 {
        return serde_json::from_slice::<BatchGetImageResponse>(&reply.body)
            .map(ParsedReply::Ok)
            .map_err(|e| {
                format!(
                    "HTTP 200 whose body is not a BatchGetImage answer ({e}): {}",
                    reply.abridged_body(200)
                )
            });
    }
    let body = serde_json::from_slice::<ErrorBody>(&reply.body).ok();
    Ok(ParsedReply::Error {
        status: reply.status,
        body,
        text: reply.abridged_body(QUOTE_LIMIT),
    })
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
    let parsed = match parse_reply(reply) {
        Ok(p) => p,
        Err(fault) => return Judgement::Fault(fault),
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

/// Per-id failure codes the model never decides (reference section 9): KMS, pull-through-cache
/// upstreams, archived or inaccessible images, an image a manifest list references.
fn is_outside_failure(code: &ImageFailureCode) -> bool {
    matches!(
        code,
        ImageFailureCode::KmsError
            | ImageFailureCode::UpstreamAccessDenied
            | ImageFailureCode::UpstreamTooManyRequests
            | ImageFailureCode::UpstreamUnavailable
            | ImageFailureCode::ImageInaccessible
            | ImageFailureCode::ImageReferencedByManifestList
    )
}

/// When ECR answers 200 but the endpoint refuses the whole request, the id most likely to have
/// provoked it names the rule: the first one ECR answers with a failure, else W-OK.
fn whole_request_rule(a: &ExpectedAnswers) -> &'static str {
    a.ids
        .iter()
        .find(|e| matches!(e.outcome, Outcome::Failure { .. }))
        .map_or(id::W_OK, |e| e.rule)
}

fn judge_error(e: &ExpectedError, status: u16, body: Option<&ErrorBody>, text: &str, out: &mut Vec<Deviation>) {
    let r = rule_by_id(e.rule);
    // A deviation never gates more than the rule that predicts the error.
    let cap = |level: Level| level.max(r.level);
    if status != e.status {
        out.push(
            Deviation::new(
                id::W_ERR_STATUS,
                cap(rule_by_id(id::W_ERR_STATUS).level),
                format!("HTTP {status} where ECR answers {} ({})", e.status, e.rule),
                json!(e.status),
                json!({"status": status, "body": text}),
            )
            .kinds(format!("HTTP {}", e.status), format!("HTTP {status}")),
        );
    }
    match body.and_then(ErrorBody::shape_name) {
        None => out.push(
            Deviation::new(
                id::W_ERR_TYPE,
                cap(rule_by_id(id::W_ERR_TYPE).level),
                format!("error body has no __type (expected {})", e.error_types.join(" or ")),
                json!({"__type": e.error_types}),
                json!(text),
            )
            .kinds(format!("error {}", e.error_types[0]), "no __type"),
        ),
        Some(shape) if !e.error_types.contains(&shape) => out.push(
            Deviation::new(
                e.rule,
                r.level,
                format!("__type {shape} where ECR answers {}", e.error_types.join(" or ")),
                json!(e.error_types),
                json!(body.and_then(|b| b.error_type.clone())),
            )
            .kinds(format!("error {}", e.error_types[0]), format!("error {shape}")),
        ),
        Some(_) => {
            let message = body.and_then(ErrorBody::text).unwrap_or("");
            if !e.message.accepts(message) {
                out.push(
                    Deviation::new(
                        e.rule,
                        r.text_level,
                        "error message differs from ECR's",
                        serde_json::to_value(&e.message).unwrap_or(Value::Null),
                        json!(message),
                    )
                    .kinds("ECR's message", "another message"),
                );
            }
        }
    }
}

fn judge_answers(a: &ExpectedAnswers, resp: &BatchGetImageResponse, out: &mut Vec<Deviation>) {
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
    // Failures outside the model (section 9) answer their id as what they are; the rest of the
    // answer is judged without them.
    let outside: Vec<&ImageFailure> = failures
        .iter()
        .filter(|f| f.failure_code.as_ref().is_some_and(is_outside_failure) && a.ids.iter().any(|e| e.id == f.image_id))
        .collect();
    if !outside.is_empty() {
        for f in &outside {
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
        let inside = ExpectedAnswers {
            ids: a
                .ids
                .iter()
                .filter(|e| !outside.iter().any(|f| f.image_id == e.id))
                .cloned()
                .collect(),
            ..a.clone()
        };
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
        return judge_answers(&inside, &rest, out);
    }
    // The whole answer first: what the reference allows breaks no rule of identity, and only its
    // bodies and the alternatives it took remain to be noted.
    let split = acceptance::accept(a, images, failures);
    judge_accepted(a, &split, out);
    if split.is_whole() {
        return;
    }
    // What is left is explained by likeness, among the entries and ids that are left: the readings
    // of it that can differ, and the one whose counts explain it better: fewer entries left
    // unaccounted for (P-ACCOUNTED), then fewer deviations of multiplicity (I-DUP-ONCE,
    // I-DIGEST-TAGS), then fewer in all; the first (per sending) on a tie.
    let left = ExpectedAnswers {
        ids: split.left_ids.iter().map(|&i| a.ids[i].clone()).collect(),
        ..a.clone()
    };
    let left_images: Vec<Image> = split.left_images.iter().map(|&x| x.clone()).collect();
    let left_failures: Vec<ImageFailure> = split.left_failures.iter().map(|&x| x.clone()).collect();
    let attributor = Attributor::new(&left, &left_images, &left_failures);
    let mut best: Option<((usize, usize, usize), Vec<Deviation>)> = None;
    for &reading in attributor.readings() {
        let mut found = Vec::new();
        judge_attribution(&left, &attributor.attribute(reading), a, (images, failures), &mut found);
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
    out.extend(best.map(|(_, found)| found).unwrap_or_default());
    for img in &left_images {
        check_integrity(a, img, None, out);
    }
}

/// The notes on an answer the reference allows: the alternatives it took (advisory), and what its
/// bodies and texts say.
fn judge_accepted(a: &ExpectedAnswers, split: &acceptance::Split, out: &mut Vec<Deviation>) {
    for ((e, got), choice) in a.ids.iter().zip(&split.slots).zip(&split.choices) {
        let Some(got) = got else { continue };
        if *choice == acceptance::Choice::Shared {
            // I-SAME-DIGEST-TAGS: the entries of one image shared among its requested tags (noted
            // on each tag that did not get its own entry once); each entry's body is still this
            // image's.
            let own = matches!(&e.outcome, Outcome::Image(x)
                if got.images.len() == 1 && got.images[0].image_id == x.image_id && got.failures.is_empty());
            if !own {
                out.push(
                    Deviation::new(
                        id::I_SAME_DIGEST_TAGS,
                        Level::Advisory,
                        format!("{}: one image answered for several of its tags together", e.id),
                        expected_value(e),
                        actual_value(got),
                    )
                    .about(&e.id)
                    .kinds("an entry per tag, with its own tag", "entries shared among the tags"),
                );
            }
            if let Outcome::Image(x) = &e.outcome {
                for img in &got.images {
                    judge_image_body(a, e, x, img, out);
                }
            }
        } else {
            judge_id(a, e, got, out);
        }
        for img in &got.images {
            check_integrity(a, img, Some(&e.id), out);
        }
    }
}

/// The deviations of an answer attributed to its ids: echoes (I-ECHO), each id's entries, strays.
fn judge_attribution(
    a: &ExpectedAnswers,
    at: &Attribution,
    all: &ExpectedAnswers,
    whole: (&[Image], &[ImageFailure]),
    out: &mut Vec<Deviation>,
) {
    // I-ECHO: a failure answers its id but does not echo it as sent.
    for (e, got) in a.ids.iter().zip(&at.slots) {
        for f in got.failures.iter().filter(|f| f.image_id != e.id) {
            out.push(echo_deviation(e, f));
        }
    }
    for (e, got) in a.ids.iter().zip(&at.slots) {
        if got.images.is_empty()
            && got.failures.is_empty()
            && let Some(found) = judge_merged(a, e, whole)
        {
            out.extend(found);
            continue;
        }
        judge_id(a, e, got, out);
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

fn expected_value(e: &IdExpectation) -> Value {
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

fn actual_value(got: &Attributed) -> Value {
    json!({
        "images": got.images.iter().map(|i| summarise_image(i)).collect::<Vec<_>>(),
        "failures": got.failures,
    })
}

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

fn judge_id(a: &ExpectedAnswers, e: &IdExpectation, got: &Attributed, out: &mut Vec<Deviation>) {
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
        Outcome::Failure { code, reason } => {
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
                // An empty digest may be read as no digest at all (I-EMPTY, rev 2).
                let also_accepted = e.rule == id::I_EMPTY
                    && e.id.image_digest.as_deref() == Some("")
                    && f.failure_code == Some(ImageFailureCode::MissingDigestAndTag);
                if also_accepted {
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
                if img.image_id != x.image_id {
                    // I-SAME-DIGEST-TAGS lets one image answer under another of its tags; under no
                    // tag of it, the id is answered wrongly (I-TAG).
                    let (rule, level) = if e.rule == id::I_SAME_DIGEST_TAGS && !is_id_of_held(a, &img.image_id) {
                        (id::I_TAG, rule_by_id(id::I_TAG).level)
                    } else {
                        (e.rule, r.level)
                    };
                    out.push(
                        dev(
                            rule,
                            level,
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

/// Whether an imageId is one of a held image's: its digest, and one of its tags or none.
fn is_id_of_held(a: &ExpectedAnswers, x: &ImageIdentifier) -> bool {
    a.held.iter().any(|h| {
        x.image_digest.as_deref() == Some(h.digest.as_str()) && x.image_tag.as_ref().is_none_or(|t| h.tags.contains(t))
    })
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

fn judge_image_body(a: &ExpectedAnswers, e: &IdExpectation, x: &ExpectedImage, img: &Image, out: &mut Vec<Deviation>) {
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
    let other_image = a
        .held
        .iter()
        .find(|h| Some(h.manifest.as_str()) != own && got == Some(h.manifest.as_str()));
    if let Some(h) = other_image {
        // Another image of the repository, as it was pushed: the id is answered with the wrong
        // image (its rule, or I-TAG where that rule allows other imageIds only), not with a
        // wrongly rendered manifest.
        let rule = if e.rule == id::I_SAME_DIGEST_TAGS {
            id::I_TAG
        } else {
            e.rule
        };
        out.push(
            dev(
                rule,
                rule_by_id(rule).level,
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
fn check_integrity(a: &ExpectedAnswers, img: &Image, about: Option<&ImageIdentifier>, out: &mut Vec<Deviation>) {
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

#[cfg(test)]
mod fuzz {
    //! The response parser and the comparer never panic, whatever the bytes.
    use super::*;
    use crate::model::{RegistryState, batch_get_image};
    use crate::wire::{BatchGetImageRequest, ImageIdentifier};
    use proptest::prelude::*;

    fn expectations() -> Vec<Expected> {
        let mut s = RegistryState::new("123456789012");
        s.create_repository("r1").expect("repo");
        s.push("r1", "{}", crate::wire::media_type::DOCKER_V2, Some("t"))
            .expect("push");
        let ids = vec![
            ImageIdentifier::tag("t"),
            ImageIdentifier::digest("bad"),
            ImageIdentifier::neither(),
            ImageIdentifier::tag("t"),
        ];
        let ok = BatchGetImageRequest {
            repository_name: "r1".into(),
            image_ids: ids,
            ..Default::default()
        };
        let missing = BatchGetImageRequest {
            repository_name: "r2".into(),
            ..ok.clone()
        };
        vec![batch_get_image(&s, &ok), batch_get_image(&s, &missing)]
    }

    /// JSON-ish fragments that reach deeper into the parser than random bytes do.
    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let atom = prop_oneof![
            Just("{\"images\":".to_string()),
            Just("{\"failures\":[{\"imageId\":{\"imageTag\":\"t\"},\"failureCode\":".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("}".to_string()),
            Just(",".to_string()),
            Just("null".to_string()),
            Just("\"imageManifest\":\"{}\"".to_string()),
            Just("{\"__type\":\"a#B:c\",\"message\":1}".to_string()),
            "[ -~]{0,12}",
        ];
        prop::collection::vec(atom, 0..24).prop_map(|parts| parts.concat().into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in prop_oneof![Just(200u16), Just(400), Just(500), 100u16..600]) {
            for e in expectations() {
                let reply = HttpReply { status, content_type: None, body: body.clone() };
                let _ = judge(&e, &reply);
            }
        }

        #[test]
        fn json_shaped_bytes_never_panic(body in jsonish(), status in prop_oneof![Just(200u16), Just(400)]) {
            for e in expectations() {
                let reply = HttpReply { status, content_type: Some(crate::wire::CONTENT_TYPE.into()), body: body.clone() };
                let _ = judge(&e, &reply);
            }
        }
    }
}

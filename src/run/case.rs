//! One case: a request sent, its answer judged against the model, and with `metamorphic` the
//! properties that compare answers with each other (P-IDEMPOTENT, P-PERMUTE, P-SPLIT). What a
//! glitch of the endpoint or the network looks like (a cut answer, a passing server error) is
//! asked again before it counts: only a deviation a re-send shows again is one.

use super::book::call_fault_kind;
use crate::client::{CallError, EcrClient};
use crate::judge::{self, Deviation, Judgement};
use crate::model::{self, Expected, RegistryState};
use crate::outcome::{CaseResult, FaultKind, Property};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::{BatchGetImageRequest, HttpReply, Image, ImageFailure};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait before re-sending a request that got a server error on every attempt.
const RESEND_AFTER: Duration = Duration::from_millis(250);

/// Why a case (or one of its properties) has no verdict: the fault's kind, and what happened.
type CaseFault = (FaultKind, String);

fn call_fault(e: &CallError) -> CaseFault {
    (call_fault_kind(e), e.to_string())
}

/// An answer reduced to what the properties compare: status, error type, and entry multisets
/// (each list sorted, so that order does not count).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Normalised {
    Entries {
        images: Vec<Image>,
        failures: Vec<ImageFailure>,
    },
    Error {
        status: u16,
        error_type: Option<String>,
    },
}

fn normalise(reply: &HttpReply) -> Option<Normalised> {
    match judge::parse_reply(reply).ok()? {
        judge::ParsedReply::Ok(body) => {
            let mut images = body.images.unwrap_or_default();
            images.iter_mut().for_each(unsigned);
            let mut failures = body.failures.unwrap_or_default();
            // An entry's fields are its JSON: two entries are equal exactly when their JSON is.
            images.sort();
            failures.sort();
            Some(Normalised::Entries { images, failures })
        }
        judge::ParsedReply::Error { status, body, .. } => Some(Normalised::Error {
            status,
            error_type: body.and_then(|b| b.shape_name().map(str::to_string)),
        }),
    }
}

/// A schema 1 manifest is signed, and a registry may sign each translation afresh (rev 3 F9): the
/// properties compare one by what it says, without its signatures (and a digest of its own bytes
/// as the digest of what it says).
fn unsigned(img: &mut Image) {
    let Some(text) = img.image_manifest.as_deref() else {
        return;
    };
    let Ok(mut v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if v.get("schemaVersion").and_then(Value::as_i64) != Some(1) {
        return;
    }
    let of_bytes = img.image_id.image_digest.as_deref() == Some(model::syntax::sha256_digest(text.as_bytes()).as_str());
    if let Some(o) = v.as_object_mut() {
        o.remove("signatures");
    }
    let said = v.to_string();
    if of_bytes {
        img.image_id.image_digest = Some(model::syntax::sha256_digest(said.as_bytes()));
    }
    img.image_manifest = Some(said);
}

/// Entries as a finding shows them: each entry's JSON (keys in order), the texts sorted.
fn entry_texts<T: serde::Serialize>(entries: &[T]) -> Vec<String> {
    let mut texts: Vec<String> = entries.iter().map(|e| json!(e).to_string()).collect();
    texts.sort();
    texts
}

fn as_value(n: &Normalised) -> Value {
    match n {
        Normalised::Entries { images, failures } => {
            json!({"images": images.len(), "failures": entry_texts(failures), "imageEntries": entry_texts(images)})
        }
        Normalised::Error { status, error_type } => json!({"status": status, "__type": error_type}),
    }
}

fn property_deviation(rule: &str, summary: &str, first: &Normalised, second: &Normalised) -> Deviation {
    Deviation::new(rule, rule_by_id(rule).level, summary, as_value(first), as_value(second))
        .kinds("the same answers", "different answers")
}

/// Sends `request` and compares its answer with `first`: a deviation of `rule` when they differ.
async fn same_answer(
    client: &EcrClient,
    request: &BatchGetImageRequest,
    first: &Normalised,
    rule: &str,
    summary: &str,
) -> Result<Vec<Deviation>, CaseFault> {
    let second = readable(client, request).await?;
    Ok(if &second != first {
        vec![property_deviation(rule, summary, first, &second)]
    } else {
        Vec::new()
    })
}

/// P-SPLIT: the request's ids sent in two halves, their answers joined and compared with the
/// whole's (`first`). None: not comparable (a half refused); Err: a fault.
async fn split_check(
    client: &EcrClient,
    request: &BatchGetImageRequest,
    first: &Normalised,
) -> Result<Option<Vec<Deviation>>, CaseFault> {
    let Normalised::Entries { images, failures } = first else {
        return Ok(None);
    };
    let mid = request.image_ids.len() / 2;
    let halves = [request.image_ids[..mid].to_vec(), request.image_ids[mid..].to_vec()];
    let mut joined_images = BTreeSet::new();
    let mut joined_failures = BTreeSet::new();
    for half in halves {
        let part = BatchGetImageRequest {
            image_ids: half,
            ..request.clone()
        };
        match readable(client, &part).await? {
            Normalised::Entries { images, failures } => {
                joined_images.extend(images);
                joined_failures.extend(failures);
            }
            Normalised::Error { .. } => return Ok(None),
        }
    }
    // Sets, not multisets: a repeated id may fall in both halves (I-DUP-ONCE is its own rule).
    let whole_images: BTreeSet<Image> = images.iter().cloned().collect();
    let whole_failures: BTreeSet<ImageFailure> = failures.iter().cloned().collect();
    if whole_images == joined_images && whole_failures == joined_failures {
        return Ok(Some(Vec::new()));
    }
    let joined = Normalised::Entries {
        images: joined_images.into_iter().collect(),
        failures: joined_failures.into_iter().collect(),
    };
    Ok(Some(vec![property_deviation(
        id::P_SPLIT,
        "the ids split over two requests are answered differently",
        first,
        &joined,
    )]))
}

/// P-SPLIT on a fresh answer of the whole request, which must be the first one again (None
/// where it is not).
async fn fresh_split_check(
    client: &EcrClient,
    request: &BatchGetImageRequest,
    first: &Normalised,
) -> Result<Option<Vec<Deviation>>, CaseFault> {
    let whole = readable(client, request).await?;
    if &whole != first {
        return Ok(None);
    }
    split_check(client, request, &whole).await
}

/// Whether a second look shows the very difference the first showed.
fn same_difference(first: &[Deviation], second: &[Deviation]) -> bool {
    !first.is_empty() && first.len() == second.len() && first.iter().zip(second).all(|(x, y)| x.actual == y.actual)
}

/// `same_answer`, and where it finds a difference, once more on a fresh pair (the original
/// request's answer again, and the compared request's): a difference the fresh pair does not show
/// as it was is a glitch of the endpoint or the network (noted in `unconfirmed`, which keeps the
/// run from passing), not the property broken.
async fn same_answer_twice(
    client: &EcrClient,
    original: &BatchGetImageRequest,
    request: &BatchGetImageRequest,
    first: &Normalised,
    rule: &str,
    summary: &str,
    unconfirmed: &mut Vec<String>,
) -> Result<Vec<Deviation>, CaseFault> {
    let d = same_answer(client, request, first, rule, summary).await?;
    if d.is_empty() {
        return Ok(d);
    }
    // A fresh pair: the original request again, then the compared one; each must be answered
    // as before (a glitch rarely strikes the same answer the same way twice).
    let fresh = readable(client, original).await?;
    if &fresh == first && same_difference(&d, &same_answer(client, request, &fresh, rule, summary).await?) {
        return Ok(d);
    }
    unconfirmed.push(format!("{rule}: {summary}, once and not on a second look"));
    Ok(Vec::new())
}

/// The answer to `request` as a property compares it; an unreadable one (cut or spoiled on the
/// way) is asked for once more, as the case's own answer is.
async fn readable(client: &EcrClient, request: &BatchGetImageRequest) -> Result<Normalised, CaseFault> {
    let reply = client.batch_get_image(request).await.map_err(|e| call_fault(&e))?.reply;
    if crate::client::retryable(&reply) {
        return usable(&reply);
    }
    if let Some(read) = read(&reply) {
        return Ok(read);
    }
    usable(&client.batch_get_image(request).await.map_err(|e| call_fault(&e))?.reply)
}

/// The answer normalised, unless it was cut or spoiled on the way: a body that is not an answer at
/// all (it does not normalise), or an error whose body is not JSON (its `__type` lost). Only an
/// error's (small) body is parsed again.
fn read(reply: &HttpReply) -> Option<Normalised> {
    let cut_error = || reply.status != 200 && serde_json::from_slice::<serde::de::IgnoredAny>(&reply.body).is_err();
    normalise(reply).filter(|_| !cut_error())
}

/// An answer a property can compare: not a server error or throttling after every retry, and
/// readable. Anything else is a fault, and the property is not checked for that case.
fn usable(reply: &HttpReply) -> Result<Normalised, CaseFault> {
    if crate::client::retryable(reply) {
        return Err((
            retried_kind(reply),
            format!("HTTP {} after every retry: {}", reply.status, reply.abridged_body(200)),
        ));
    }
    normalise(reply).ok_or_else(|| {
        (
            FaultKind::Unreadable,
            format!("an answer that cannot be read: {}", reply.abridged_body(200)),
        )
    })
}

/// The kind of a fault that is an answer retried to the end: throttling, else a server error.
fn retried_kind(reply: &HttpReply) -> FaultKind {
    if crate::client::throttled(reply) {
        FaultKind::Throttled
    } else {
        FaultKind::ServerError
    }
}

/// Sends one request and judges it against the model; with `metamorphic`, also checks the
/// properties that compare answers with each other.
pub async fn run_case(
    client: EcrClient,
    state: Arc<RegistryState>,
    index: usize,
    request: BatchGetImageRequest,
    metamorphic: bool,
) -> CaseResult {
    let mut result = CaseResult::new(index);
    let expected = model::batch_get_image(&state, &request);
    let Some((exchange, judgement)) = judged_answer(&client, &state, &request, &expected, &mut result).await else {
        return result;
    };
    match judgement {
        Judgement::Answer(mut d) => {
            // Judged: the rules the expectation names for an answer of this kind, and any rule
            // a deviation names beside them (how an image was found, a culprit's own rule).
            result.exercised = crate::coverage::exercised(
                &request,
                &expected,
                crate::coverage::AnswerKind::of_status(exchange.reply.status),
            );
            result
                .exercised
                .extend(d.iter().map(|x| crate::rules::rule_by_id(&x.rule).id));
            if !d.is_empty() {
                let answers = Arc::new(judge::Answers::of(&expected, &exchange.reply));
                for x in &mut d {
                    x.answers = Some(answers.clone());
                }
            }
            result.deviations = d;
        }
        Judgement::Fault(f) => {
            result.fault = Some((FaultKind::Unreadable, f));
            return result;
        }
    }
    if !metamorphic {
        return result;
    }
    let Ok(first) = usable(&exchange.reply) else {
        return result;
    };
    check_properties(&client, &request, &expected, &first, &mut result).await;
    result
}

/// The answer to judge, and its judgement, once what looks like a glitch has been asked again;
/// None when the case has no verdict (its fault, or its unconfirmed deviations, are in `result`).
async fn judged_answer(
    client: &EcrClient,
    state: &RegistryState,
    request: &BatchGetImageRequest,
    expected: &Expected,
    result: &mut CaseResult,
) -> Option<(crate::client::Exchange, Judgement)> {
    let mut exchange = first_answer(client, request, result).await?;
    let mut judgement = judge::judge(expected, &exchange.reply);
    // An answer that cannot be read (cut, spoiled on the way) is a passing fault far more often
    // than the endpoint's way of answering: the request is sent once more, and a readable answer
    // then is the one judged (the case counts as flaky). Unreadable twice stays a fault.
    // A 200 that cannot be read is already a fault (the judge has read it); only an error's
    // (small) body is read again.
    let unreadable = |reply: &HttpReply, j: &Judgement| {
        matches!(j, Judgement::Fault(_)) || reply.status != 200 && read(reply).is_none()
    };
    if unreadable(&exchange.reply, &judgement)
        && let Ok(again) = client.batch_get_image(request).await
        && !crate::client::retryable(&again.reply)
    {
        let second = judge::judge(expected, &again.reply);
        if !unreadable(&again.reply, &second) {
            exchange = again;
            judgement = second;
            result.flaky = true;
        }
    }
    // A request refused where it should not have been, or not as ECR refuses it: which of its ids,
    // sent alone, is refused too where ECR answers it.
    if exchange.reply.status != 200
        && matches!(&judgement, Judgement::Answer(d) if !d.is_empty())
        && let Some(culprit) = refused_alone(client, state, request).await
    {
        judgement = judge::judge_with_culprit(expected, &exchange.reply, Some(&culprit));
    }
    confirmed(client, request, &exchange.reply, &judgement, result).await?;
    Some((exchange, judgement))
}

/// The request's first answer: a server error or throttling on every attempt is the endpoint's
/// passing state unless a later re-send gets it again; throttling never is an answer. None: a
/// fault (in `result`).
async fn first_answer(
    client: &EcrClient,
    request: &BatchGetImageRequest,
    result: &mut CaseResult,
) -> Option<crate::client::Exchange> {
    let exchange = match client.batch_get_image(request).await {
        Ok(x) => x,
        Err(e) => {
            result.fault = Some(call_fault(&e));
            return None;
        }
    };
    result.flaky = exchange.attempts > 1;
    if !crate::client::retryable(&exchange.reply) {
        return Some(exchange);
    }
    let reply = &exchange.reply;
    if crate::client::throttled(reply) {
        result.fault = Some((
            FaultKind::Throttled,
            format!("throttled on every attempt (HTTP {})", reply.status),
        ));
        return None;
    }
    tokio::time::sleep(RESEND_AFTER).await;
    match client.batch_get_image(request).await {
        Ok(again) if again.reply.status == reply.status && crate::client::retryable(&again.reply) => Some(exchange),
        Ok(again) => {
            result.fault = Some((
                FaultKind::ServerError,
                format!(
                    "HTTP {} on every attempt, then HTTP {} on a re-send: not reproducible",
                    reply.status, again.reply.status
                ),
            ));
            None
        }
        Err(e) => {
            result.fault = Some(call_fault(&e));
            None
        }
    }
}

/// Only a deviation that a re-send shows again is one: a corrupted or truncated answer, a passing
/// glitch, is not the endpoint's answer to the request. None: not confirmed (the case is flaky,
/// its deviations unconfirmed), or a fault; either is in `result`. (A 5xx on every attempt was
/// re-sent already.)
async fn confirmed(
    client: &EcrClient,
    request: &BatchGetImageRequest,
    reply: &HttpReply,
    judgement: &Judgement,
    result: &mut CaseResult,
) -> Option<()> {
    if crate::client::retryable(reply)
        || !matches!(judgement, Judgement::Answer(d) if d.iter().any(|x| x.level == Level::Gate))
    {
        return Some(());
    }
    // An error without a readable type (a cut or spoiled body reads so, and a fault injector
    // cuts the same body at the same place) must come back twice more: a server that answers
    // so does it every time, a passing fault twice in a row seldom and thrice almost never.
    let first = normalise(reply);
    let resends = if matches!(first, Some(Normalised::Error { error_type: None, .. })) {
        2
    } else {
        1
    };
    for _ in 0..resends {
        // A server error on every attempt of the re-send is the endpoint's passing state too:
        // once more, later.
        let mut resent = client.batch_get_image(request).await;
        if resent.as_ref().is_ok_and(|x| crate::client::retryable(&x.reply)) {
            tokio::time::sleep(RESEND_AFTER).await;
            resent = client.batch_get_image(request).await;
        }
        match resent {
            Ok(again) if !crate::client::retryable(&again.reply) => {
                // The same answer again (read as the properties read it: order and layout
                // aside), not merely the same rules broken: two spoiled answers break the
                // same rules.
                if first.is_none() || first != normalise(&again.reply) {
                    result.flaky = true;
                    if let Judgement::Answer(d) = judgement {
                        result.unconfirmed = d.iter().map(|x| format!("{}: {}", x.rule, x.summary)).collect();
                    }
                    return None;
                }
            }
            Ok(again) => {
                result.fault = Some((
                    retried_kind(&again.reply),
                    format!(
                        "a deviation could not be confirmed: the re-send got HTTP {}",
                        again.reply.status
                    ),
                ));
                return None;
            }
            Err(e) => {
                result.fault = Some(call_fault(&e));
                return None;
            }
        }
    }
    Some(())
}

/// The metamorphic properties of a case whose answer (`first`) could be read.
async fn check_properties(
    client: &EcrClient,
    request: &BatchGetImageRequest,
    expected: &Expected,
    first: &Normalised,
    result: &mut CaseResult,
) {
    // P-IDEMPOTENT
    let again = same_answer_twice(
        client,
        request,
        request,
        first,
        id::P_IDEMPOTENT,
        "the same request answered differently the second time",
        &mut result.unconfirmed,
    );
    match again.await {
        Ok(d) => result.property_results.push((Property::Idempotent, d)),
        Err(e) => result.fault = Some(e),
    }
    // Permuting and splitting say something only of a request ECR answers per id.
    let Expected::Answers(answers) = expected else {
        return;
    };
    if request.image_ids.len() < 2 {
        return;
    }
    // P-PERMUTE
    let mut permuted = request.clone();
    permuted.image_ids.reverse();
    match same_answer_twice(
        client,
        request,
        &permuted,
        first,
        id::P_PERMUTE,
        "the ids in reverse order are answered differently",
        &mut result.unconfirmed,
    )
    .await
    {
        Ok(d) => result.property_results.push((Property::Permute, d)),
        Err(e) => result.fault = Some(e),
    }
    // P-SPLIT: only where the whole is answered per id, so that both halves are too, and where
    // no two ids name one image: whether ECR answers one image once per batch is unknown
    // (I-SAME-DIGEST-TAGS), so an answer there may depend on the batch, and the model judges
    // each of them on its own.
    if matches!(first, Normalised::Entries { .. }) && !two_ids_name_one_image(answers) {
        match split_check(client, request, first).await {
            Ok(Some(d)) if !d.is_empty() => match fresh_split_check(client, request, first).await {
                Ok(Some(again)) if same_difference(&d, &again) => result.property_results.push((Property::Split, d)),
                Ok(_) => result.unconfirmed.push(format!(
                    "{}: the ids split over two requests are answered differently, once and not on a second look",
                    id::P_SPLIT
                )),
                Err(e) => result.fault = Some(e),
            },
            Ok(Some(d)) => result.property_results.push((Property::Split, d)),
            Ok(None) => {}
            Err(e) => result.fault = Some(e),
        }
    }
}

/// The id of a refused request that the endpoint also refuses when it is sent alone, in a plain
/// request (the same repository if it exists, nothing else) that ECR answers per id: the model's expectation of
/// it. The ids are put in one order (failures first, as ECR's own answer for them is a failure,
/// then by the catalogue's order of their rules), and the shortest refused prefix found by halving
/// names the first culprit in that order: the same request blames the same id, whatever the order
/// of its ids, in about log2(n) + 2 requests.
async fn refused_alone(
    client: &EcrClient,
    state: &RegistryState,
    request: &BatchGetImageRequest,
) -> Option<model::IdExpectation> {
    let rank = |rule: &str| {
        crate::rules::RULES
            .iter()
            .position(|r| r.id == rule)
            .unwrap_or(usize::MAX)
    };
    // The request's repository, or, where it does not exist (a request ECR refuses for its
    // repository), one that does: the probe asks only whether an id alone is refused.
    let repository = if state.repository(&request.repository_name).is_some() {
        request.repository_name.clone()
    } else {
        state.repositories.keys().next()?.clone()
    };
    let plain = |ids: &[crate::wire::ImageIdentifier]| BatchGetImageRequest {
        repository_name: repository.clone(),
        image_ids: ids.to_vec(),
        ..BatchGetImageRequest::default()
    };
    let mut candidates: Vec<model::IdExpectation> = Vec::new();
    for id in &request.image_ids {
        if let Expected::Answers(a) = model::batch_get_image(state, &plain(std::slice::from_ref(id)))
            && let Some(e) = a.ids.into_iter().next()
            && !candidates.iter().any(|c| c.id == e.id)
        {
            candidates.push(e);
        }
    }
    candidates.sort_by_key(|e| {
        (
            !matches!(e.outcome, model::Outcome::Failure { .. }),
            rank(e.rule),
            e.id.clone(),
        )
    });
    candidates.truncate(crate::model::syntax::IDS_MAX);
    let ids: Vec<crate::wire::ImageIdentifier> = candidates.iter().map(|e| e.id.clone()).collect();
    let refused = |n: usize| {
        let probe = plain(&ids[..n]);
        async move {
            match client.batch_get_image(&probe).await {
                Ok(x) => Some(x.reply.status != 200 && !crate::client::retryable(&x.reply)),
                Err(_) => None,
            }
        }
    };
    if ids.is_empty() || !refused(ids.len()).await? {
        return None;
    }
    let (mut lo, mut hi) = (1, ids.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if refused(mid).await? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let culprit = candidates.into_iter().nth(lo - 1)?;
    let alone = plain(std::slice::from_ref(&culprit.id));
    match client.batch_get_image(&alone).await {
        Ok(x) if x.reply.status != 200 && !crate::client::retryable(&x.reply) => Some(culprit),
        _ => None,
    }
}

/// Whether two requested ids name the same image (so that the image may be answered once).
fn two_ids_name_one_image(a: &model::ExpectedAnswers) -> bool {
    // The model's groups: an image a tag, a digest or a digest in other letters (I-DIGEST-CASE,
    // rev 3) names, as the judge reads them.
    !a.shares.is_empty()
}

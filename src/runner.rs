//! A conformance run: case files first, then generated worlds. Each world is a generated registry
//! state, seeded once, against which many generated requests run concurrently; each answer is
//! judged against the model, a sample is also checked for the metamorphic properties, and the
//! first failing case of each kind is shrunk to a minimal request. The runner orchestrates; it
//! knows neither ECR (the model does) nor HTTP (the client does).

use crate::cases::CaseFile;
use crate::classes::ClassKey;
use crate::client::EcrClient;
use crate::compare::{self, Deviation, Judgement};
use crate::control::RunControl;
use crate::generate::{IdCategory, RequestCategory, plans, requests};
use crate::model::{self, Expected, RegistryPlan, RegistryState};
use crate::rules::{Level, id, rule_by_id};
use crate::seed;
use crate::shrink::ShrinkContext;
use crate::wire::{BatchGetImageRequest, HttpReply};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Generated requests per world: one seeded state serves this many cases.
pub const CASES_PER_WORLD: usize = 100;
/// Every how many cases the metamorphic properties are checked too.
pub const METAMORPHIC_EVERY: usize = 4;
/// How long to wait before re-sending a request that got a server error on every attempt.
const RESEND_AFTER: Duration = Duration::from_millis(250);

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub seed: u64,
    /// Generated requests in all (case files come on top).
    pub cases: usize,
    pub concurrency: usize,
    /// Requests sent while shrinking one failing case, at most.
    pub shrink_steps: usize,
    /// Time spent shrinking in all, at most.
    pub shrink_budget: Duration,
    pub case_files: Vec<(PathBuf, CaseFile)>,
    /// Every repository the run creates starts with this (`ecrc-...`).
    pub prefix: String,
    /// The registry id assumed until the endpoint names its own.
    pub registry_hint: String,
    /// Progress lines on stderr.
    pub progress: bool,
    /// Stop flag, deadline and the ledger of created repositories.
    pub control: RunControl,
    /// Leave the created repositories in place (`--keep`), for debugging.
    pub keep: bool,
    /// Read-only mode: no seeding; the generated requests run against these repositories as they are.
    pub read_only: Option<Vec<String>>,
    /// The properties selected (`model`, `seed`, the `P-*` ids); None: all.
    pub properties: Option<BTreeSet<String>>,
    /// The worlds (numbered from 1) this run seeds and runs; None: all. A partition runs only its
    /// own, each drawn from its own generator, so it is the world a whole run would have had.
    pub worlds: Option<BTreeSet<usize>>,
    /// The case files (by name) this run sends; None: all. The others keep their place, so that a
    /// case file's repositories are named alike whichever partition runs it.
    pub case_files_selected: Option<BTreeSet<String>>,
}

impl RunConfig {
    /// Whether a property (`model`, `seed`, a `P-*` id) is selected.
    pub fn checks(&self, property: &str) -> bool {
        self.properties.as_ref().is_none_or(|p| p.contains(property))
    }

    /// Whether any generated world is needed.
    fn generates(&self) -> bool {
        crate::trials::PROPERTIES.iter().any(|p| self.checks(p))
    }

    pub fn new(seed: u64) -> Self {
        RunConfig {
            seed,
            cases: 400,
            concurrency: 8,
            shrink_steps: 200,
            shrink_budget: Duration::from_secs(30),
            case_files: Vec::new(),
            prefix: run_prefix(seed),
            registry_hint: "000000000000".into(),
            progress: false,
            control: RunControl::default(),
            keep: false,
            read_only: None,
            properties: None,
            worlds: None,
            case_files_selected: None,
        }
    }
}

/// The repository prefix of a run: derived from the seed, so that the same seed sends the same
/// requests, and marked `ecrc-` so that a sweep knows what is the tool's.
pub fn run_prefix(seed: u64) -> String {
    format!("ecrc-{:08x}", (seed ^ (seed >> 32)) as u32)
}

/// One deviation, with where it was found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    #[serde(flatten)]
    pub deviation: Deviation,
    /// `model` (judged against the model), `seed`, or the metamorphic property's id.
    pub property: String,
    /// The trial: `case:NAME` or `world-N/case-M`.
    pub trial: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<BatchGetImageRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_category: Option<RequestCategory>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub id_categories: Vec<IdCategory>,
}

/// A request that got no usable answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Fault {
    pub trial: String,
    pub message: String,
}

/// A failing case shrunk to a minimal request that still shows the same rule's deviation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Minimal {
    /// The class this is the example of.
    pub class: ClassKey,
    pub trial: String,
    /// Ids in the failing request before shrinking.
    pub original_ids: usize,
    /// The minimal request as sent.
    pub request: BatchGetImageRequest,
    /// The minimal state and request with canonical names (`repo-1`, `tag-1`), when the class
    /// reproduced on them; else the shrunk state and request under their generated names.
    pub plan: RegistryPlan,
    pub canonical_request: BatchGetImageRequest,
    pub canonical: bool,
    /// False for a case as it was found (its class was not shrunk: the budget ran out, or the case
    /// did not show the class again): the world's whole state and the request as sent.
    pub shrunk: bool,
    /// The images' digests in the example, in order (for placeholders).
    pub image_digests: Vec<String>,
    pub registry_id: String,
    pub deviation: Deviation,
    /// Requests sent while shrinking the request, and states seeded while shrinking the state.
    pub shrink_steps: usize,
    pub state_steps: usize,
    /// Wall time spent shrinking this class (`shrinkSeconds`; 0 for an example as found): what a
    /// class costs to shrink, for the benchmarks. Timing, so never compared between runs.
    pub shrink_seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct PropertyCount {
    pub checked: usize,
    pub failed: usize,
}

/// What the run's states held, at the most: whether they had the shapes a bug may need (an image
/// with many tags, a repository with many images, names and tags at ECR's length limits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateCoverage {
    /// Repositories and images over every world (a read-only run counts its one state once).
    pub repositories: usize,
    pub images: usize,
    pub most_tags_on_an_image: usize,
    pub most_images_in_a_repository: usize,
    /// The longest repository name as the endpoint got it (the run's prefix included).
    pub longest_repository_name: usize,
    pub longest_tag: usize,
}

impl StateCoverage {
    pub fn observe(&mut self, state: &RegistryState) {
        for (name, repo) in &state.repositories {
            self.repositories += 1;
            self.images += repo.images.len();
            self.most_images_in_a_repository = self.most_images_in_a_repository.max(repo.images.len());
            self.longest_repository_name = self.longest_repository_name.max(name.chars().count());
            for image in &repo.images {
                self.most_tags_on_an_image = self.most_tags_on_an_image.max(image.tags.len());
                let longest = image.tags.iter().map(|t| t.chars().count()).max().unwrap_or(0);
                self.longest_tag = self.longest_tag.max(longest);
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct RunOutcome {
    pub findings: Vec<Finding>,
    pub faults: Vec<Fault>,
    pub minimal: Vec<Minimal>,
    pub properties: BTreeMap<String, PropertyCount>,
    pub cases_run: usize,
    /// The case files whose request was sent and judged (the trials' report needs which ran).
    pub case_files_run: BTreeSet<String>,
    pub worlds: usize,
    /// The worlds (numbered from 1) that were seeded and whose cases ran.
    pub worlds_run: BTreeSet<usize>,
    pub flaky: usize,
    /// Deviations that a re-send of their request did not show again (trial, what was seen).
    pub unconfirmed: Vec<Fault>,
    pub skipped_cases: Vec<(String, String)>,
    /// Repositories that could not be deleted at the end.
    pub leftovers: Vec<(String, String)>,
    pub elapsed: Duration,
    /// Why the run stopped before its end, if it did (the endpoint could not be reached at all).
    pub aborted: Option<String>,
    /// Per rule id, how many answers it judged: `BatchGetImage` answers, seeding calls, property
    /// checks. A rule absent here judged nothing: untested, which is not a pass.
    pub checked: BTreeMap<String, usize>,
    /// The shapes the run's states had.
    pub states: StateCoverage,
}

impl RunOutcome {
    fn count(&mut self, property: &str, failed: bool) {
        let c = self.properties.entry(property.to_string()).or_default();
        c.checked += 1;
        c.failed += usize::from(failed);
        // A property is a rule of the catalogue too (`model` is not: its rules are counted per
        // answer).
        if crate::rules::RULES.iter().any(|r| r.id == property) {
            self.judged([property]);
        }
    }

    /// Counts one answer (or seeding call, or property check) judged by each of `rules`.
    fn judged<'a>(&mut self, rules: impl IntoIterator<Item = &'a str>) {
        for rule in rules {
            *self.checked.entry(rule.to_string()).or_default() += 1;
        }
    }

    pub fn gate_deviations(&self, strict: bool) -> usize {
        self.findings
            .iter()
            .filter(|f| strict || f.deviation.level == Level::Gate)
            .count()
    }
}

/// The result of one case, computed in a task.
pub(crate) struct CaseResult {
    pub(crate) index: usize,
    pub(crate) deviations: Vec<Deviation>,
    pub(crate) property_results: Vec<(String, Vec<Deviation>)>,
    pub(crate) fault: Option<String>,
    pub(crate) flaky: bool,
    /// Deviations seen once that a re-send did not show again: flaky, never a finding.
    pub(crate) unconfirmed: Vec<String>,
    /// The rules the answer was judged by (empty when it was not judged), its deviations' included.
    pub(crate) exercised: BTreeSet<&'static str>,
}

impl CaseResult {
    /// Every deviation with the property that found it (`model` or a property id).
    pub(crate) fn all(&self) -> impl Iterator<Item = (&str, &Deviation)> {
        self.deviations.iter().map(|d| ("model", d)).chain(
            self.property_results
                .iter()
                .flat_map(|(p, ds)| ds.iter().map(move |d| (p.as_str(), d))),
        )
    }
}

/// An answer reduced to what the properties compare: status, error type, and entry multisets.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Normalised {
    Entries { images: Vec<String>, failures: Vec<String> },
    Error { status: u16, error_type: Option<String> },
}

fn normalise(reply: &HttpReply) -> Option<Normalised> {
    match compare::parse_reply(reply).ok()? {
        compare::ParsedReply::Ok(body) => {
            let mut images: Vec<String> = body
                .images
                .unwrap_or_default()
                .iter()
                .map(|i| json!(i).to_string())
                .collect();
            let mut failures: Vec<String> = body
                .failures
                .unwrap_or_default()
                .iter()
                .map(|f| json!(f).to_string())
                .collect();
            images.sort();
            failures.sort();
            Some(Normalised::Entries { images, failures })
        }
        compare::ParsedReply::Error { status, body, .. } => Some(Normalised::Error {
            status,
            error_type: body.and_then(|b| b.shape_name().map(str::to_string)),
        }),
    }
}

fn as_value(n: &Normalised) -> Value {
    match n {
        Normalised::Entries { images, failures } => {
            json!({"images": images.len(), "failures": failures, "imageEntries": images})
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
) -> Result<Vec<Deviation>, String> {
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
) -> Result<Option<Vec<Deviation>>, String> {
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
    let whole_images: BTreeSet<String> = images.iter().cloned().collect();
    let whole_failures: BTreeSet<String> = failures.iter().cloned().collect();
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
) -> Result<Option<Vec<Deviation>>, String> {
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
) -> Result<Vec<Deviation>, String> {
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
async fn readable(client: &EcrClient, request: &BatchGetImageRequest) -> Result<Normalised, String> {
    let reply = client.batch_get_image(request).await.map_err(|e| e.to_string())?.reply;
    if crate::client::retryable(&reply) || !unreadable(&reply) {
        return usable(&reply);
    }
    usable(&client.batch_get_image(request).await.map_err(|e| e.to_string())?.reply)
}

/// An answer cut or spoiled on the way reads so: a body that is not an answer at all, or an error
/// whose body is not JSON (its `__type` lost). Only an error's (small) body is parsed again; a
/// 200 that cannot be read does not normalise.
fn unreadable(reply: &HttpReply) -> bool {
    normalise(reply).is_none()
        || reply.status != 200 && serde_json::from_slice::<serde::de::IgnoredAny>(&reply.body).is_err()
}

/// An answer a property can compare: not a server error or throttling after every retry, and
/// readable. Anything else is a fault, and the property is not checked for that case.
fn usable(reply: &HttpReply) -> Result<Normalised, String> {
    if crate::client::retryable(reply) {
        return Err(format!(
            "HTTP {} after every retry: {}",
            reply.status,
            reply.abridged_body(200)
        ));
    }
    normalise(reply).ok_or_else(|| format!("an answer that cannot be read: {}", reply.abridged_body(200)))
}

/// Sends one request and judges it against the model; with `metamorphic`, also checks the
/// properties that compare answers with each other.
pub(crate) async fn run_case(
    client: EcrClient,
    state: Arc<RegistryState>,
    index: usize,
    request: BatchGetImageRequest,
    metamorphic: bool,
) -> CaseResult {
    let mut result = CaseResult {
        index,
        deviations: Vec::new(),
        property_results: Vec::new(),
        fault: None,
        flaky: false,
        unconfirmed: Vec::new(),
        exercised: BTreeSet::new(),
    };
    let expected = model::batch_get_image(&state, &request);
    let mut exchange = match client.batch_get_image(&request).await {
        Ok(x) => x,
        Err(e) => {
            result.fault = Some(e.to_string());
            return result;
        }
    };
    result.flaky = exchange.attempts > 1;
    if crate::client::retryable(&exchange.reply) {
        // A server error or throttling on every attempt is the endpoint's passing state unless a
        // later re-send gets it again; throttling never is an answer.
        let reply = &exchange.reply;
        if crate::client::throttled(reply) {
            result.fault = Some(format!("throttled on every attempt (HTTP {})", reply.status));
            return result;
        }
        tokio::time::sleep(RESEND_AFTER).await;
        match client.batch_get_image(&request).await {
            Ok(again) if again.reply.status == reply.status && crate::client::retryable(&again.reply) => {}
            Ok(again) => {
                result.fault = Some(format!(
                    "HTTP {} on every attempt, then HTTP {} on a re-send: not reproducible",
                    reply.status, again.reply.status
                ));
                return result;
            }
            Err(e) => {
                result.fault = Some(e.to_string());
                return result;
            }
        }
    }
    // A request refused where it should not have been, or not as ECR refuses it: which of its ids,
    // sent alone, is refused too where ECR answers it.
    let mut judgement = compare::judge(&expected, &exchange.reply);
    // An answer that cannot be read (cut, spoiled on the way) is a passing fault far more often
    // than the endpoint's way of answering: the request is sent once more, and a readable answer
    // then is the one judged (the case counts as flaky). Unreadable twice stays a fault.
    // A 200 that cannot be read is already a fault; only an error's (small) body is parsed again.
    let unreadable = |reply: &HttpReply, j: &Judgement| matches!(j, Judgement::Fault(_)) || unreadable(reply);
    if unreadable(&exchange.reply, &judgement)
        && let Ok(again) = client.batch_get_image(&request).await
        && !crate::client::retryable(&again.reply)
    {
        let second = compare::judge(&expected, &again.reply);
        if !unreadable(&again.reply, &second) {
            exchange = again;
            judgement = second;
            result.flaky = true;
        }
    }
    if exchange.reply.status != 200
        && matches!(&judgement, Judgement::Answer(d) if !d.is_empty())
        && let Some(culprit) = refused_alone(&client, &state, &request).await
    {
        judgement = compare::judge_with_culprit(&expected, &exchange.reply, Some(&culprit));
    }
    // Only a deviation that a re-send shows again is one: a corrupted or truncated answer, a
    // passing glitch, is not the endpoint's answer to the request.
    // (A 5xx on every attempt was re-sent above already.)
    if !crate::client::retryable(&exchange.reply)
        && matches!(&judgement, Judgement::Answer(d) if d.iter().any(|x| x.level == Level::Gate))
    {
        // An error without a readable type (a cut or spoiled body reads so, and a fault injector
        // cuts the same body at the same place) must come back twice more: a server that answers
        // so does it every time, a passing fault twice in a row seldom and thrice almost never.
        let first = normalise(&exchange.reply);
        let resends = if matches!(first, Some(Normalised::Error { error_type: None, .. })) {
            2
        } else {
            1
        };
        for _ in 0..resends {
            // A server error on every attempt of the re-send is the endpoint's passing state too:
            // once more, later.
            let mut resent = client.batch_get_image(&request).await;
            if resent.as_ref().is_ok_and(|x| crate::client::retryable(&x.reply)) {
                tokio::time::sleep(RESEND_AFTER).await;
                resent = client.batch_get_image(&request).await;
            }
            match resent {
                Ok(again) if !crate::client::retryable(&again.reply) => {
                    // The same answer again (read as the properties read it: order and layout
                    // aside), not merely the same rules broken: two spoiled answers break the
                    // same rules.
                    if first.is_none() || first != normalise(&again.reply) {
                        result.flaky = true;
                        if let Judgement::Answer(d) = &judgement {
                            result.unconfirmed = d.iter().map(|x| format!("{}: {}", x.rule, x.summary)).collect();
                        }
                        return result;
                    }
                }
                Ok(again) => {
                    result.fault = Some(format!(
                        "a deviation could not be confirmed: the re-send got HTTP {}",
                        again.reply.status
                    ));
                    return result;
                }
                Err(e) => {
                    result.fault = Some(e.to_string());
                    return result;
                }
            }
        }
    }
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
                let answers = Arc::new(compare::Answers::of(&expected, &exchange.reply));
                for x in &mut d {
                    x.answers = Some(answers.clone());
                }
            }
            result.deviations = d;
        }
        Judgement::Fault(f) => {
            result.fault = Some(f);
            return result;
        }
    }
    if !metamorphic {
        return result;
    }
    let Ok(first) = usable(&exchange.reply) else {
        return result;
    };
    // P-IDEMPOTENT
    let again = same_answer_twice(
        &client,
        &request,
        &request,
        &first,
        id::P_IDEMPOTENT,
        "the same request answered differently the second time",
        &mut result.unconfirmed,
    );
    match again.await {
        Ok(d) => result.property_results.push((id::P_IDEMPOTENT.into(), d)),
        Err(e) => result.fault = Some(e),
    }
    // Permuting and splitting say something only of a request ECR answers per id.
    let Expected::Answers(answers) = &expected else {
        return result;
    };
    if request.image_ids.len() < 2 {
        return result;
    }
    // P-PERMUTE
    let mut permuted = request.clone();
    permuted.image_ids.reverse();
    match same_answer_twice(
        &client,
        &request,
        &permuted,
        &first,
        id::P_PERMUTE,
        "the ids in reverse order are answered differently",
        &mut result.unconfirmed,
    )
    .await
    {
        Ok(d) => result.property_results.push((id::P_PERMUTE.into(), d)),
        Err(e) => result.fault = Some(e),
    }
    // P-SPLIT: only where the whole is answered per id, so that both halves are too, and where
    // no two ids name one image: whether ECR answers one image once per batch is unknown
    // (I-SAME-DIGEST-TAGS), so an answer there may depend on the batch, and the model judges
    // each of them on its own.
    if matches!(first, Normalised::Entries { .. }) && !two_ids_name_one_image(answers) {
        match split_check(&client, &request, &first).await {
            Ok(Some(d)) if !d.is_empty() => match fresh_split_check(&client, &request, &first).await {
                Ok(Some(again)) if same_difference(&d, &again) => result.property_results.push((id::P_SPLIT.into(), d)),
                Ok(_) => result.unconfirmed.push(format!(
                    "{}: the ids split over two requests are answered differently, once and not on a second look",
                    id::P_SPLIT
                )),
                Err(e) => result.fault = Some(e),
            },
            Ok(Some(d)) => result.property_results.push((id::P_SPLIT.into(), d)),
            Ok(None) => {}
            Err(e) => result.fault = Some(e),
        }
    }
    result
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
    let mut digests = BTreeSet::new();
    for e in &a.ids {
        let named: BTreeSet<&str> = match &e.outcome {
            model::Outcome::Image(x) => x.image_id.image_digest.iter().map(String::as_str).collect(),
            model::Outcome::ImagesByDigest { images } => images
                .iter()
                .filter_map(|x| x.image_id.image_digest.as_deref())
                .collect(),
            model::Outcome::Failure { .. } => BTreeSet::new(),
        };
        for d in named {
            if !digests.insert(d) {
                return true;
            }
        }
    }
    false
}

fn progress(config: &RunConfig, line: impl AsRef<str>) {
    if config.progress {
        crate::console::note(line);
    }
}

/// Runs the whole conformance run against `client`.
pub async fn run(client: &EcrClient, config: &RunConfig) -> RunOutcome {
    let started = Instant::now();
    // One bound on calls in flight for the whole run: the next world's seeding runs beside this
    // world's cases and shrinking, and together they stay within `--concurrency`.
    let limited = client.with_max_in_flight(config.concurrency);
    let client = &limited;
    let mut out = RunOutcome::default();
    let mut shrink_left = config.shrink_budget;
    let control = &config.control;

    if config.read_only.is_none() {
        run_case_files(client, config, &mut out).await;
    } else {
        for (_, case) in &config.case_files {
            out.skipped_cases
                .push((case.name.clone(), "read-only run: case files need seeding".into()));
        }
    }

    // In read-only mode, one state read from the endpoint serves every world's cases.
    let mut read_state: Option<Arc<RegistryState>> = None;
    if let Some(repositories) = &config.read_only {
        match seed::read_state(client, repositories, &config.registry_hint).await {
            Ok(state) => read_state = Some(Arc::new(state)),
            Err(e) => {
                out.aborted = Some(format!("cannot read the named repositories: {e}"));
                out.faults.push(Fault {
                    trial: "read-only".into(),
                    message: e.to_string(),
                });
            }
        }
    }

    let worlds = if config.generates() {
        config.cases.div_ceil(CASES_PER_WORLD)
    } else {
        0
    };
    let mut remaining = config.cases;
    // World w + 1 is generated and seeded while world w's cases run (and its classes shrink): the
    // endpoint's wait is spent on both. Each world draws from its own generator, and the
    // outcome takes each world's seeding when that world's turn comes, so the same seed gives
    // the same requests and the same report, whatever finished first. A world seeded ahead that
    // never runs (the run stopped) is in the control's ledger, and cleaned up with the rest.
    let mut ahead: Option<PreparedWorld> = None;
    for w in 0..worlds {
        if out.aborted.is_some() {
            break;
        }
        if let Some(reason) = control.stop_reason() {
            out.aborted = Some(reason);
            break;
        }
        let n = remaining.min(CASES_PER_WORLD);
        remaining -= n;
        if config.worlds.as_ref().is_some_and(|own| !own.contains(&(w + 1))) {
            continue;
        }
        let world = format!("world-{}", w + 1);
        let (state, plan, world_prefix, mut rng_runner) = match &read_state {
            Some(state) => (state.clone(), None, String::new(), world_rng(config.seed, w)),
            None => {
                let prepared = match ahead.take() {
                    Some(p) => p,
                    None => Box::pin(prepare_world(client, config, w)).await,
                };
                match admit_world(config, prepared, &world, &mut out) {
                    Some((state, plan, prefix, rng)) => (state, Some(plan), prefix, rng),
                    None => continue,
                }
            }
        };
        out.worlds += 1;
        // A read-only run's one state serves every world: it is counted once.
        if read_state.is_none() || w == 0 {
            out.states.observe(&state);
        }
        let images: usize = state.repositories.values().map(|r| r.images.len()).sum();
        progress(
            config,
            format!(
                "{world}: {} repositories, {images} images; {n} cases",
                state.repositories.len()
            ),
        );
        let seeded = SeededWorld {
            name: &world,
            state,
            plan: plan.as_ref(),
            prefix: &world_prefix,
        };
        // The next world this run runs (a partition skips the others) is seeded while this one's
        // cases run. Boxed: both futures are large, and side by side in this one they would be on
        // the stack (a test's thread overflows in a debug build).
        let next_world = (w + 1..worlds).find(|x| config.worlds.as_ref().is_none_or(|own| own.contains(&(x + 1))));
        let next = next_world
            .filter(|_| read_state.is_none())
            .map(|x| Box::pin(prepare_world(client, config, x)));
        let this = Box::pin(run_world(
            client,
            config,
            &mut rng_runner,
            seeded,
            n,
            &mut out,
            &mut shrink_left,
        ));
        ahead = match next {
            Some(next) => tokio::join!(this, next).1.into(),
            None => {
                this.await;
                None
            }
        };
        // A world cut short by a stop is no verdict of its trial.
        if out.aborted.is_none() && !control.should_stop() {
            out.worlds_run.insert(w + 1);
        }
    }

    if config.keep {
        progress(
            config,
            format!("keeping {} repositories (--keep)", control.created_repositories().len()),
        );
    } else {
        let created = control.created_repositories();
        progress(config, format!("cleaning up {} repositories", created.len()));
        out.leftovers = seed::cleanup(client, &created).await;
        control.deleted(&created);
    }
    if out.aborted.is_none()
        && let Some(reason) = control.stop_reason()
    {
        out.aborted = Some(reason);
    }
    out.elapsed = started.elapsed();
    out
}

async fn run_case_files(client: &EcrClient, config: &RunConfig, out: &mut RunOutcome) {
    for (i, (path, case)) in config.case_files.iter().enumerate() {
        if let Some(reason) = config.control.stop_reason() {
            out.aborted = Some(reason);
            return;
        }
        if config
            .case_files_selected
            .as_ref()
            .is_some_and(|own| !own.contains(&case.name))
        {
            continue;
        }
        let trial = format!("case:{}", case.name);
        let plan = case.plan();
        if let Err(e) = plan.build(&case.registry_id) {
            out.skipped_cases.push((
                case.name.clone(),
                format!("{}: not seedable on an endpoint ({e})", path.display()),
            ));
            continue;
        }
        let prefix = format!("{}-c{}/", config.prefix, i + 1);
        // A name the generators made at ECR's limit under a world's prefix does not fit under a
        // longer one: ECR would refuse the repository, which is not the endpoint's deviation.
        if let Some(long) = plan
            .repositories
            .iter()
            .find(|r| prefix.len() + r.name.len() > crate::model::syntax::REPO_NAME_MAX)
        {
            out.skipped_cases.push((
                case.name.clone(),
                format!(
                    "{}: a repository name of {} characters does not fit under this run's prefix {prefix} (ECR's limit is {})",
                    path.display(),
                    long.name.len(),
                    crate::model::syntax::REPO_NAME_MAX
                ),
            ));
            continue;
        }
        let (seeded, error) = seed::seed(
            client,
            &plan.with_prefix(&prefix),
            &config.registry_hint,
            &config.control,
        )
        .await;
        record_seeding(out, &trial, &seeded, error.as_ref());
        if unreachable(out, &seeded, error.as_ref()) {
            return;
        }
        if error.is_some() {
            continue;
        }
        if let Some(reason) = case_meaning_lost(&plan, &case.request, &seeded.state, &prefix) {
            out.skipped_cases
                .push((case.name.clone(), format!("{}: {reason}", path.display())));
            continue;
        }
        let mut request = case.request.clone();
        request.repository_name = format!("{prefix}{}", request.repository_name);
        if request.registry_id.as_deref() == Some(case.registry_id.as_str()) {
            request.registry_id = Some(seeded.state.registry_id.clone());
        }
        let state = Arc::new(seeded.state);
        let r = run_case(client.clone(), state, 0, request.clone(), true).await;
        absorb(out, &trial, &request, None, &[], r, true);
        out.cases_run += 1;
        out.case_files_run.insert(case.name.clone());
    }
}

/// Why a seeded case file no longer asks what it was written to ask, if it does not: its request
/// names an image by the digest ECR gives it, and the endpoint gave that image another digest
/// (S-PUT-DIGEST, reported apart), or it names a tag or digest under which the endpoint holds an
/// image the model cannot predict. (Generated requests avoid both by construction.)
fn case_meaning_lost(
    plan: &RegistryPlan,
    request: &BatchGetImageRequest,
    seeded: &RegistryState,
    prefix: &str,
) -> Option<String> {
    let repo = seeded.repository(&format!("{prefix}{}", request.repository_name))?;
    let held: BTreeSet<&str> = repo.images.iter().map(|i| i.digest.as_str()).collect();
    let pushed: BTreeSet<String> = plan
        .repositories
        .iter()
        .flat_map(|r| {
            r.pushes
                .iter()
                .map(|p| crate::model::syntax::sha256_digest(p.manifest.as_bytes()))
        })
        .collect();
    for id in &request.image_ids {
        if let Some(d) = &id.image_digest
            && pushed.contains(d)
            && !held.contains(d.as_str())
        {
            return Some(format!("the endpoint gave the image {d} another digest"));
        }
        let names = id.image_digest.iter().chain(id.image_tag.iter());
        if let Some(name) = names.into_iter().find(|n| repo.unpredictable.contains(*n)) {
            return Some(format!(
                "the endpoint holds {name} for an image the model cannot predict"
            ));
        }
    }
    None
}

/// A world's plan generated and seeded, not yet taken into the run's outcome: seeding the next
/// world while this one's cases run needs no access to the outcome, and the outcome takes the
/// worlds in their order.
struct PreparedWorld {
    index: usize,
    /// The world's generator, past its plan: its cases are drawn from it next.
    rng: TestRunner,
    prefix: String,
    /// The plan, with what seeding it gave; Err: the plan could not be generated.
    seeded: Result<(RegistryPlan, seed::Seeded, Option<seed::SeedError>), String>,
}

/// Generates world `index`'s registry plan and seeds it.
async fn prepare_world(client: &EcrClient, config: &RunConfig, index: usize) -> PreparedWorld {
    // Each world draws from its own generator, seeded by the run's seed and its number: a
    // world is the same whichever worlds run before it (a partition runs only its own), and the
    // next world's plan can be drawn and seeded while this one's cases run.
    let mut rng = world_rng(config.seed, index);
    let prefix = format!("{}-w{}/", config.prefix, index + 1);
    // Names at the generators' limit are at ECR's 256 characters once under this prefix.
    let room = crate::model::syntax::REPO_NAME_MAX.saturating_sub(prefix.len());
    let seeded = match plans::registry_plan_within(room).new_tree(&mut rng) {
        Ok(tree) => {
            let plan: RegistryPlan = tree.current();
            let (seeded, error) = seed::seed(
                client,
                &plan.with_prefix(&prefix),
                &config.registry_hint,
                &config.control,
            )
            .await;
            Ok((plan, seeded, error))
        }
        Err(e) => Err(format!("cannot generate a state: {e}")),
    };
    PreparedWorld {
        index,
        rng,
        prefix,
        seeded,
    }
}

/// Takes a prepared world's seeding into the outcome; None when the world cannot run.
fn admit_world(
    config: &RunConfig,
    prepared: PreparedWorld,
    world: &str,
    out: &mut RunOutcome,
) -> Option<(Arc<RegistryState>, RegistryPlan, String, TestRunner)> {
    debug_assert_eq!(world, format!("world-{}", prepared.index + 1));
    let (plan, mut seeded, error) = match prepared.seeded {
        Ok(s) => s,
        Err(message) => {
            out.faults.push(Fault {
                trial: world.into(),
                message,
            });
            return None;
        }
    };
    if !config.checks("seed") {
        seeded.deviations.clear();
        seeded.checked.clear();
    }
    record_seeding(out, world, &seeded, error.as_ref());
    if unreachable(out, &seeded, error.as_ref()) {
        return None;
    }
    if let Some(e) = error {
        if let seed::SeedError::Stopped(reason) = e {
            out.aborted = Some(reason);
        }
        progress(config, format!("{world}: seeding stopped; its cases are not run"));
        return None;
    }
    Some((Arc::new(seeded.state), plan, prepared.prefix, prepared.rng))
}

/// A world ready for its cases.
struct SeededWorld<'a> {
    name: &'a str,
    state: Arc<RegistryState>,
    /// The plan seeded, without its prefix (None in read-only mode).
    plan: Option<&'a RegistryPlan>,
    prefix: &'a str,
}

/// Runs `n` generated cases against one state, checks P-READ-ONLY over them, and shrinks the
/// first failing case of each deviation class into its minimal example.
async fn run_world(
    client: &EcrClient,
    config: &RunConfig,
    rng: &mut TestRunner,
    seeded: SeededWorld<'_>,
    n: usize,
    out: &mut RunOutcome,
    shrink_left: &mut Duration,
) {
    let world = seeded.name;
    let state = seeded.state.clone();
    let before = listings(client, &state).await;
    // One request of each category first, then any: every world reaches every request-level
    // rule, whatever the seed.
    let any = requests::case(state.clone());
    let mut trees = Vec::with_capacity(n);
    for i in 0..n {
        let strategy = match RequestCategory::ALL.get(i) {
            Some(&category) => requests::case_of(state.clone(), category),
            None => any.clone(),
        };
        match strategy.new_tree(rng) {
            Ok(t) => trees.push(t),
            Err(e) => out.faults.push(Fault {
                trial: world.into(),
                message: format!("cannot generate a case: {e}"),
            }),
        }
    }
    let cases: Vec<requests::Case> = trees.iter().map(|t| t.current()).collect();
    let mut set = JoinSet::new();
    let mut tasks = std::collections::HashMap::new();
    let mut results = Vec::with_capacity(cases.len());
    let mut watch = StateWatch {
        before: before.clone().filter(|_| config.checks(id::P_READ_ONLY)),
        seen: None,
        since: 0,
    };
    for (i, case) in cases.iter().enumerate() {
        if let Some(reason) = config.control.stop_reason() {
            out.aborted = Some(reason);
            break;
        }
        while set.len() >= config.concurrency.max(1) {
            if let Some(r) = set.join_next().await {
                results.push(joined(r, &tasks));
                watch.after(client, &state, results.last()).await;
            }
        }
        let metamorphic = i % METAMORPHIC_EVERY == 0;
        let task = set.spawn(run_case(
            client.clone(),
            state.clone(),
            i,
            case.request.clone(),
            metamorphic,
        ));
        tasks.insert(task.id(), i);
    }
    while let Some(r) = set.join_next().await {
        results.push(joined(r, &tasks));
        watch.after(client, &state, results.last()).await;
    }
    results.sort_by_key(|r| r.index);
    // P-READ-ONLY: the listings after all those reads are those before. Where they are not, the
    // answers were given on a state the model does not know (which read changed it, and when, is
    // unknown): they are not judged, and the change is the one finding.
    // The listing that differs: the last one, else the one seen while the cases ran.
    let after = match (listings(client, &state).await, watch.seen) {
        (Some(last), _) if Some(&last) != before.as_ref() => Some(last),
        (last, seen) => seen.or(last),
    };
    let changed = config.checks(id::P_READ_ONLY) && matches!((&before, &after), (Some(b), Some(a)) if b != a);
    if changed {
        out.skipped_cases.push((
            world.into(),
            format!(
                "{} cases not judged: the repositories changed under BatchGetImage (P-READ-ONLY), so their answers cannot be compared with the state as seeded",
                results.len()
            ),
        ));
    }
    let mut failing: Vec<(usize, ClassKey)> = Vec::new();
    // Each class's first deviation here, for an example as found where shrinking does not happen.
    let mut first_seen: BTreeMap<ClassKey, (usize, Deviation)> = BTreeMap::new();
    for r in results {
        let case = &cases[r.index];
        let trial = format!("{world}/case-{}", r.index + 1);
        let mut r = r;
        if changed {
            if let Some(fault) = r.fault.take() {
                out.faults.push(Fault { trial, message: fault });
            }
            out.cases_run += 1;
            continue;
        }
        if !config.checks("model") {
            r.deviations.clear();
        }
        r.property_results.retain(|(p, _)| config.checks(p));
        for (p, d) in r.all() {
            let key = ClassKey::from_deviation(p, d);
            first_seen.entry(key.clone()).or_insert_with(|| (r.index, d.clone()));
            failing.push((r.index, key));
        }
        absorb(
            out,
            &trial,
            &case.request,
            Some(case.category),
            &case.id_categories,
            r,
            config.checks("model"),
        );
        out.cases_run += 1;
    }
    if let (Some(before), Some(after), true) = (before, after, config.checks(id::P_READ_ONLY)) {
        out.count(id::P_READ_ONLY, changed);
        if changed {
            out.findings.push(Finding {
                deviation: Deviation::new(
                    id::P_READ_ONLY,
                    rule_by_id(id::P_READ_ONLY).level,
                    "the repositories list other images or tags after the BatchGetImage calls",
                    json!(before),
                    json!(after),
                )
                .kinds("the same listing", "another listing"),
                property: id::P_READ_ONLY.into(),
                trial: world.into(),
                request: None,
                request_category: None,
                id_categories: Vec::new(),
            });
        }
    }
    // Shrink each class not yet shrunk, from its first failing case that no other class has
    // shrunk already (a value tree shrinks once); a case that no longer shows the class gives
    // way to the next.
    let mut done: BTreeSet<ClassKey> = out
        .minimal
        .iter()
        .filter(|m| m.shrunk)
        .map(|m| m.class.clone())
        .collect();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut tries: std::collections::BTreeMap<ClassKey, usize> = std::collections::BTreeMap::new();
    for (index, key) in failing {
        if done.contains(&key) || used.contains(&index) || shrink_left.is_zero() || config.control.should_stop() {
            continue;
        }
        let attempts = tries.entry(key.clone()).or_default();
        if *attempts >= 3 {
            continue;
        }
        *attempts += 1;
        used.insert(index);
        let t0 = Instant::now();
        let trial = format!("{world}/case-{}", index + 1);
        let mut deadline = t0 + *shrink_left;
        if let Some(d) = config.control.deadline() {
            deadline = deadline.min(d);
        }
        let ctx = ShrinkContext {
            client,
            control: &config.control,
            run_prefix: &config.prefix,
            state: state.clone(),
            world_prefix: seeded.prefix,
            plan: seeded.plan,
            max_steps: config.shrink_steps,
            deadline,
            registry_hint: &config.registry_hint,
        };
        if let Some(mut m) = crate::shrink::minimise(&ctx, trees[index].as_mut(), &key, &trial).await {
            m.shrink_seconds = t0.elapsed().as_secs_f64();
            out.minimal.retain(|x| x.class != key);
            done.insert(key);
            out.minimal.push(m);
        }
        *shrink_left = shrink_left.saturating_sub(t0.elapsed());
    }
    // A class left unshrunk still gets an example that replays: its first case here as found, on
    // the world's whole state (none in read-only mode, where the state is not ours to seed).
    if let Some(plan) = seeded.plan {
        for (key, (index, deviation)) in first_seen {
            if out.minimal.iter().any(|m| m.class == key) {
                continue;
            }
            let sent = &cases[index].request;
            let request = BatchGetImageRequest {
                repository_name: sent.repository_name.replacen(seeded.prefix, "", 1),
                ..sent.clone()
            };
            out.minimal.push(Minimal {
                class: key,
                trial: format!("{world}/case-{}", index + 1),
                original_ids: sent.image_ids.len(),
                request: sent.clone(),
                plan: plan.clone(),
                canonical_request: request,
                canonical: false,
                shrunk: false,
                image_digests: state
                    .repositories
                    .values()
                    .flat_map(|r| r.images.iter().map(|i| i.digest.clone()))
                    .collect(),
                registry_id: state.registry_id.clone(),
                deviation,
                shrink_steps: 0,
                state_steps: 0,
                shrink_seconds: 0.0,
            });
        }
    }
}

/// Whether the world's repositories changed under its reads, looked at while its cases run: after
/// a case that deviates (at most once in `STATE_CHECK_EVERY` cases), since reads that move a tag
/// and move it back leave the final listing as it was.
struct StateWatch {
    before: Option<BTreeMap<String, Vec<Value>>>,
    /// The first listing seen that differs from `before`.
    seen: Option<BTreeMap<String, Vec<Value>>>,
    since: usize,
}

const STATE_CHECK_EVERY: usize = 5;

impl StateWatch {
    async fn after(&mut self, client: &EcrClient, state: &RegistryState, result: Option<&CaseResult>) {
        self.since += 1;
        let deviates =
            result.is_some_and(|r| !r.deviations.is_empty() || r.property_results.iter().any(|(_, d)| !d.is_empty()));
        let Some(before) = &self.before else { return };
        if self.seen.is_some() || !deviates || self.since < STATE_CHECK_EVERY {
            return;
        }
        self.since = 0;
        self.seen = listings(client, state).await.filter(|now| now != before);
    }
}

/// A case task's result; one that panicked is the case's fault, never a verdict.
fn joined(
    r: Result<CaseResult, tokio::task::JoinError>,
    tasks: &std::collections::HashMap<tokio::task::Id, usize>,
) -> CaseResult {
    r.unwrap_or_else(|e| CaseResult {
        index: tasks.get(&e.id()).copied().unwrap_or_default(),
        deviations: Vec::new(),
        property_results: Vec::new(),
        fault: Some(format!("the case's task stopped: {e}")),
        flaky: false,
        unconfirmed: Vec::new(),
        exercised: BTreeSet::new(),
    })
}

/// The generator of world `index` (from 0) of a run with `seed`.
pub fn world_rng(seed: u64, index: usize) -> TestRunner {
    let mut bytes = seed_bytes(seed);
    // The world's number folded into the key (world 0 keeps the run's key).
    for (b, x) in bytes
        .iter_mut()
        .zip((index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03).to_le_bytes())
    {
        *b ^= x;
    }
    TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_add(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes());
    }
    bytes
}

async fn listings(client: &EcrClient, state: &RegistryState) -> Option<BTreeMap<String, Vec<Value>>> {
    let mut out = BTreeMap::new();
    for name in state.repositories.keys() {
        let listing = seed::listing(client, name).await.ok()?;
        out.insert(name.clone(), listing.into_iter().map(|i| json!(i)).collect());
    }
    Some(out)
}

/// Whether the endpoint has never answered at all: then nothing later will go better, and the
/// run stops with one reason instead of one fault per world.
fn unreachable(out: &mut RunOutcome, seeded: &seed::Seeded, error: Option<&seed::SeedError>) -> bool {
    let never_answered = out.cases_run == 0 && out.worlds == 0 && seeded.created.is_empty();
    if let Some(seed::SeedError::Stopped(reason)) = error {
        out.aborted = Some(reason.clone());
        return true;
    }
    if let (true, Some(seed::SeedError::Fault(e))) = (never_answered, error) {
        out.aborted = Some(format!("the endpoint did not answer: {e}"));
        return true;
    }
    false
}

fn record_seeding(out: &mut RunOutcome, trial: &str, seeded: &seed::Seeded, error: Option<&seed::SeedError>) {
    for (rule, n) in &seeded.checked {
        *out.checked.entry(rule.to_string()).or_default() += n;
    }
    // A refusal that stopped seeding was judged too (S-SEED names it).
    if let Some(seed::SeedError::Refused(_)) = error {
        out.judged([id::S_SEED]);
    }
    for d in &seeded.deviations {
        out.findings.push(Finding {
            deviation: d.clone(),
            property: "seed".into(),
            trial: trial.into(),
            request: None,
            request_category: None,
            id_categories: Vec::new(),
        });
    }
    match error {
        Some(seed::SeedError::Fault(e)) => out.faults.push(Fault {
            trial: trial.into(),
            message: e.to_string(),
        }),
        Some(e @ seed::SeedError::Unavailable(_)) => out.faults.push(Fault {
            trial: trial.into(),
            message: e.to_string(),
        }),
        Some(seed::SeedError::Stopped(_)) => {}
        Some(seed::SeedError::Refused(e)) => out.findings.push(Finding {
            deviation: Deviation::new(
                id::S_SEED,
                rule_by_id(id::S_SEED).level,
                format!("seeding stopped: {e}"),
                json!("the repository is created"),
                json!(e.to_string()),
            )
            .kinds(
                "CreateRepository accepted",
                format!(
                    "CreateRepository refused with {}",
                    e.error_type().unwrap_or("no __type")
                ),
            ),
            property: "seed".into(),
            trial: trial.into(),
            request: None,
            request_category: None,
            id_categories: Vec::new(),
        }),
        None => {}
    }
}

fn absorb(
    out: &mut RunOutcome,
    trial: &str,
    request: &BatchGetImageRequest,
    category: Option<RequestCategory>,
    ids: &[IdCategory],
    r: CaseResult,
    count_model: bool,
) {
    if let Some(fault) = r.fault {
        out.faults.push(Fault {
            trial: trial.into(),
            message: fault,
        });
    }
    out.flaky += usize::from(r.flaky);
    for message in r.unconfirmed {
        out.unconfirmed.push(Fault {
            trial: trial.into(),
            message,
        });
    }
    let finding = |d: Deviation, property: &str| Finding {
        deviation: d,
        property: property.into(),
        trial: trial.into(),
        request: Some(request.clone()),
        request_category: category,
        id_categories: ids.to_vec(),
    };
    if count_model {
        out.count("model", !r.deviations.is_empty());
        out.judged(r.exercised.iter().copied());
    }
    for d in r.deviations {
        out.findings.push(finding(d, "model"));
    }
    for (property, deviations) in r.property_results {
        out.count(&property, !deviations.is_empty());
        for d in deviations {
            out.findings.push(finding(d, &property));
        }
    }
}

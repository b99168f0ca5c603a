//! A registry plan made real on an endpoint, the way a real push does it: each repository created,
//! its blobs uploaded before the manifests that reference them, children before lists, tags pushed
//! in order. What the endpoint answers becomes the model's state (its registry id, the digests it
//! assigned), and where those answers differ from ECR's, a deviation is recorded once and seeding
//! goes on, so that one bug does not hide the others.

use crate::client::{ApiError, CallError, EcrClient};
use crate::control::RunControl;
use crate::model::Deviation;
use crate::model::{RegistryPlan, RegistryState, Repository, syntax};
use crate::rules::{id, rule_by_id};
use crate::wire::{self, ImageIdentifier};
use base64::Engine as _;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// What seeding left behind.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The model of what the endpoint now holds.
    pub state: RegistryState,
    /// Every repository this seeding created (all of them are to be deleted at the end).
    pub created: Vec<String>,
    /// Seeding answers that differ from ECR, each kind once.
    pub deviations: Vec<Deviation>,
    /// How many seeding answers each `S-*` rule judged (the run's coverage).
    pub checked: BTreeMap<&'static str, usize>,
}

/// Seeding stopped: the endpoint could not be reached, or refused to create a repository.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SeedError {
    #[error("seeding could not reach the endpoint: {0}")]
    Fault(CallError),
    #[error("seeding was refused: {0}")]
    Refused(ApiError),
    /// A server error or throttling after every retry, or an answer that cannot be read: the
    /// endpoint's passing state, a fault of the world being seeded, never a finding.
    #[error("seeding got no usable answer: {0}")]
    Unavailable(ApiError),
    #[error("seeding stopped: {0}")]
    Stopped(String),
}

#[derive(Default)]
struct Recorder {
    seen: HashSet<(String, String)>,
    /// Each with its (rule, kind), so that recorders of repositories seeded apart merge into one
    /// that holds each kind once, as one recorder over the whole plan would.
    deviations: Vec<((String, String), Deviation)>,
    checked: BTreeMap<&'static str, usize>,
}

impl Recorder {
    /// Counts an answer that these rules judged (a refusal included; no answer at all is not one).
    fn judged(&mut self, rules: &[&'static str]) {
        for rule in rules {
            *self.checked.entry(rule).or_default() += 1;
        }
    }

    /// Records a deviation unless one of the same rule and kind is already recorded.
    fn once(
        &mut self,
        rule: &str,
        kind: &str,
        summary: String,
        expected: serde_json::Value,
        actual: serde_json::Value,
    ) {
        let key = (rule.to_string(), kind.to_string());
        if self.seen.insert(key.clone()) {
            let expected_kind = match rule {
                id::S_PUT_DIGEST => "the manifest's sha256",
                id::S_REGISTRY_ID => "a 12-digit registryId",
                _ => "accepted",
            };
            self.deviations.push((
                key,
                Deviation::new(rule, rule_by_id(rule).level, summary, expected, actual).kinds(expected_kind, kind),
            ));
        }
    }

    /// Takes in another recorder's counts and deviations (the kinds it does not hold yet), after
    /// its own.
    fn merge(&mut self, other: Recorder) {
        for (rule, n) in other.checked {
            *self.checked.entry(rule).or_default() += n;
        }
        for (key, d) in other.deviations {
            if self.seen.insert(key.clone()) {
                self.deviations.push((key, d));
            }
        }
    }
}

fn fault_or_refusal(e: ApiError) -> SeedError {
    match e {
        ApiError::Call(c) => SeedError::Fault(c),
        e if unusable(&e) => SeedError::Unavailable(e),
        other => SeedError::Refused(other),
    }
}

/// Whether a failed call got no usable answer: no answer at all, a server error or throttling
/// after every retry, or an answer that cannot be read. Seeding stops there: the world's fault.
fn unusable(e: &ApiError) -> bool {
    match e {
        ApiError::Call(_) | ApiError::Unreadable { .. } => true,
        ApiError::Service { status, error_type, .. } => crate::client::is_transient(*status, error_type.as_deref()),
    }
}

/// Seeds `plan`. `registry_hint` is the registry id assumed until the endpoint names its own.
/// On error, the returned `Seeded` still lists what was created, for cleanup.
///
/// Repositories are seeded in parallel, and the blobs of each; a repository's pushes go in the
/// plan's order (children before lists, the pushes that move a tag in turn). How many calls are in
/// flight is the client's bound (`EcrClient::with_max_in_flight`), its rate the client's too. The
/// repositories' results are merged in the plan's order, so that the outcome is the one sequential
/// seeding gives whatever order the answers came in: the same state, deviations and counts, and
/// the error of the first repository (in the plan's order) that failed. Repositories after it
/// may have been created meanwhile: they are in `created` (and the control's ledger), nothing
/// else of them is kept.
pub async fn seed(
    client: &EcrClient,
    plan: &RegistryPlan,
    registry_hint: &str,
    control: &RunControl,
) -> (Seeded, Option<SeedError>) {
    let mut tasks = tokio::task::JoinSet::new();
    let mut index_of = std::collections::HashMap::new();
    for (i, repo) in plan.repositories.iter().enumerate() {
        let (client, control, hint) = (client.clone(), control.clone(), registry_hint.to_string());
        let repo = Arc::new(repo.clone());
        let task = tasks.spawn(async move { (i, seed_repository(&client, repo, &hint, &control).await) });
        index_of.insert(task.id(), i);
    }
    let mut results: Vec<Option<RepositorySeeded>> = plan.repositories.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next_with_id().await {
        let (i, seeded) = match joined {
            Ok((_, (i, seeded))) => (i, seeded),
            // A task that panicked: its repository may exist (cleanup deletes what is not there
            // without complaint), and the world has no usable seeding.
            Err(e) => {
                let i = index_of.get(&e.id()).copied().unwrap_or_default();
                let seeded = RepositorySeeded {
                    created: true,
                    error: Some(SeedError::Fault(CallError::Transport {
                        operation: "seeding".into(),
                        message: format!("the seeding task stopped: {e}"),
                    })),
                    ..RepositorySeeded::default()
                };
                (i, seeded)
            }
        };
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(seeded);
        }
    }
    let mut seeded = Seeded {
        state: RegistryState::new(registry_hint),
        created: Vec::new(),
        deviations: Vec::new(),
        checked: BTreeMap::new(),
    };
    let mut rec = Recorder::default();
    let mut registry_known = false;
    let mut error = None;
    for (repo, result) in plan.repositories.iter().zip(results) {
        let Some(result) = result else { continue };
        if result.created {
            seeded.created.push(repo.name.clone());
        }
        // Sequential seeding would have stopped at the first error: what came after it is not
        // the outcome.
        if error.is_some() {
            continue;
        }
        rec.merge(result.recorder);
        if !registry_known && let Some(id) = result.registry_id {
            seeded.state.registry_id = id;
            registry_known = true;
        }
        if let Some(repository) = result.repository {
            seeded.state.repositories.insert(repo.name.clone(), repository);
        }
        error = result.error;
    }
    seeded.deviations = rec.deviations.into_iter().map(|(_, d)| d).collect();
    seeded.checked = rec.checked;
    (seeded, error)
}

/// What seeding one repository left behind.
#[derive(Default)]
struct RepositorySeeded {
    /// Whether the repository was created (then it is to be deleted at the end).
    created: bool,
    /// The model of what the repository holds, once created.
    repository: Option<Repository>,
    /// The registry id the endpoint named first while seeding it.
    registry_id: Option<String>,
    recorder: Recorder,
    error: Option<SeedError>,
}

/// None: created by an attempt whose answer was lost (a retry found it in place).
async fn create(client: &EcrClient, name: &str) -> Result<Option<wire::RepositoryResponse>, ApiError> {
    const OPERATION: &str = "CreateRepository";
    let request = wire::CreateRepositoryRequest {
        repository_name: name.to_string(),
    };
    let body = serde_json::to_vec(&request).map_err(|e| ApiError::Unreadable {
        operation: OPERATION.into(),
        detail: e.to_string(),
    })?;
    let exchange = client.call_raw(OPERATION, body, true).await?;
    // Every run's first write is a CreateRepository: its answer tells whether the endpoint speaks
    // the ECR API at all (the session reads it once the run is over).
    if let Some(foreign) = speaks_ecr(&exchange.reply) {
        client.stats().answered(foreign);
    }
    EcrClient::write_answer(OPERATION, exchange, "RepositoryAlreadyExistsException")
}

/// Whether an answer to CreateRepository is one of the ECR API, an AWS JSON 1.1 body: a JSON
/// object with the created `repository`, or an error's `__type`. Some(None): it is;
/// Some(Some(what)): it is not, and what it was (an HTML page, JSON of another API); None: it
/// tells nothing (a server error or throttling: a proxy's passing error page in front of a real
/// registry must not make it "not ECR"). 501 is no passing state: a plain web server's answer
/// to a POST (Python's `http.server`, for one).
pub fn speaks_ecr(reply: &wire::HttpReply) -> Option<Option<String>> {
    if reply.status != 501 && crate::client::is_transient(reply.status, None) {
        return None;
    }
    let body: Option<serde_json::Value> = serde_json::from_slice(&reply.body).ok();
    let ecr = body.as_ref().and_then(serde_json::Value::as_object).is_some_and(|o| {
        o.get("__type").is_some_and(serde_json::Value::is_string)
            || o.get("repository").is_some_and(serde_json::Value::is_object)
    });
    if ecr {
        return Some(None);
    }
    let what = match &body {
        Some(_) => "JSON without `repository` or `__type`",
        None => "not JSON",
    };
    // One line, whatever the page's layout: it is quoted in an error message and the report.
    let text = String::from_utf8_lossy(&reply.body);
    let words: Vec<&str> = text.split_whitespace().collect();
    let shown = if words.is_empty() {
        "(an empty body)".to_string()
    } else {
        wire::abridge(&words.join(" "), 200)
    };
    let content_type = reply
        .content_type
        .as_deref()
        .map_or(String::new(), |c| format!(", {c}"));
    Some(Some(format!(
        "CreateRepository was answered HTTP {}{content_type}, {what}: {shown}",
        reply.status
    )))
}

async fn seed_repository(
    client: &EcrClient,
    repo: Arc<crate::model::RepositoryPlan>,
    registry_hint: &str,
    control: &RunControl,
) -> RepositorySeeded {
    // Each repository is seeded into a state of its own, merged into the world's afterwards.
    let mut seeded = RepositoryState {
        state: RegistryState::new(registry_hint),
        registry_known: false,
    };
    let mut out = RepositorySeeded::default();
    let result = seed_repository_into(client, &repo, &mut seeded, &mut out, control).await;
    out.error = result.err();
    out.repository = seeded.state.repositories.remove(&repo.name);
    out.registry_id = seeded.registry_known.then_some(seeded.state.registry_id);
    out
}

/// One repository's model while it is seeded, and whether the endpoint named its registry id.
struct RepositoryState {
    state: RegistryState,
    registry_known: bool,
}

async fn seed_repository_into(
    client: &EcrClient,
    repo: &Arc<crate::model::RepositoryPlan>,
    seeded: &mut RepositoryState,
    out: &mut RepositorySeeded,
    control: &RunControl,
) -> Result<(), SeedError> {
    if let Some(reason) = control.stop_reason() {
        return Err(SeedError::Stopped(reason));
    }
    let rec = &mut out.recorder;
    let registry_known = &mut seeded.registry_known;
    let name = &repo.name;
    // A repository of that name is not this run's: never touched, the world is not seeded.
    let created = create(client, name).await.map_err(fault_or_refusal)?;
    control.created(name);
    out.created = true;
    seeded.state.create_repository(name).ok();
    // An answer lost to a retry (None) says nothing of the registry id.
    rec.judged(if created.is_some() {
        &[id::S_SEED, id::S_REGISTRY_ID]
    } else {
        &[id::S_SEED]
    });
    match created.map(|c| c.repository.and_then(|r| r.registry_id)) {
        None => {}
        Some(Some(id)) if syntax::is_registry_id(&id) && !*registry_known => {
            seeded.state.registry_id = id;
            *registry_known = true;
        }
        Some(Some(id)) if syntax::is_registry_id(&id) => {}
        Some(other) => rec.once(
            id::S_REGISTRY_ID,
            "no registryId",
            "CreateRepository does not answer a 12-digit repository.registryId".into(),
            json!("12 digits"),
            json!(other),
        ),
    }

    if let Some(reason) = control.stop_reason() {
        return Err(SeedError::Stopped(reason));
    }
    // The blobs in parallel (each distinct digest once); their answers are taken in the plan's
    // order, so that the first unusable one in that order stops the repository, as before.
    let mut uploaded = BTreeSet::new();
    let mut uploads = tokio::task::JoinSet::new();
    let mut order = Vec::new();
    for (b, blob) in repo.blobs.iter().enumerate() {
        let digest = syntax::sha256_digest(blob);
        if !uploaded.insert(digest.clone()) {
            continue;
        }
        let (client, repo, sent) = (client.clone(), Arc::clone(repo), digest.clone());
        let task = uploads.spawn(async move {
            let blob = &repo.blobs[b];
            // A blob upload cut short (a connection reset mid-way) starts again once, with a new
            // upload: its parts are the run's own, and a layer already complete says so.
            let mut uploaded_now = upload_blob(&client, &repo.name, &sent, blob).await;
            if uploaded_now.as_ref().is_err_and(unusable) {
                uploaded_now = upload_blob(&client, &repo.name, &sent, blob).await;
            }
            uploaded_now
        });
        order.push((task.id(), b, digest));
    }
    let mut answers = std::collections::HashMap::new();
    while let Some(joined) = uploads.join_next_with_id().await {
        match joined {
            Ok((task, answer)) => answers.insert(task, answer),
            Err(e) => answers.insert(
                e.id(),
                Err(ApiError::Call(CallError::Transport {
                    operation: "InitiateLayerUpload".into(),
                    message: format!("the upload's task stopped: {e}"),
                })),
            ),
        };
    }
    for (task, b, digest) in order {
        let blob = &repo.blobs[b];
        let Some(uploaded_now) = answers.remove(&task) else {
            continue;
        };
        if !uploaded_now.as_ref().is_err_and(unusable) {
            rec.judged(&[id::S_SEED]);
        }
        match uploaded_now {
            Ok(()) => {
                let _ = seeded.state.put_blob(name, &digest, blob);
            }
            Err(e) if unusable(&e) => return Err(fault_or_refusal(e)),
            Err(e) if e.error_type() == Some("LayerAlreadyExistsException") => {
                let _ = seeded.state.put_blob(name, &digest, blob);
            }
            Err(e) => rec.once(
                id::S_SEED,
                "a blob upload refused",
                format!("uploading a blob fails: {e}"),
                json!("the blob is stored"),
                json!(e.to_string()),
            ),
        }
    }

    let mut manifest_of: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut digest_of: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut ambiguous: BTreeSet<String> = BTreeSet::new();
    for push in &repo.pushes {
        if let Some(reason) = control.stop_reason() {
            return Err(SeedError::Stopped(reason));
        }
        let request = wire::PutImageRequest {
            repository_name: name.clone(),
            image_manifest: push.manifest.clone(),
            image_manifest_media_type: Some(push.media_type.clone()),
            image_tag: push.tag.clone(),
        };
        let answer: Result<Option<wire::PutImageResponse>, ApiError> = client
            .call_write("PutImage", &request, "ImageAlreadyExistsException")
            .await;
        let computed = syntax::sha256_digest(push.manifest.as_bytes());
        // Pushed by an attempt whose answer was lost: in place, under the manifest's digest.
        let answer = answer.map(|a| {
            a.unwrap_or_else(|| wire::PutImageResponse {
                image: Some(wire::Image {
                    image_id: wire::ImageIdentifier::digest(computed.clone()),
                    ..Default::default()
                }),
            })
        });
        match &answer {
            Err(e) if unusable(e) => {}
            Err(_) => rec.judged(&[id::S_SEED]),
            Ok(_) => rec.judged(&[id::S_SEED, id::S_PUT_DIGEST]),
        }
        match answer {
            Err(e) if unusable(&e) => return Err(fault_or_refusal(e)),
            Err(e) => {
                // The push did not happen: the model leaves it out, and the run goes on.
                rec.once(
                    id::S_SEED,
                    &format!("PutImage refused with {}", e.error_type().unwrap_or("no __type")),
                    format!("PutImage of a valid {} manifest is refused: {e}", push.media_type),
                    json!({"status": 200}),
                    json!(e.to_string()),
                );
            }
            Ok(response) => {
                let image = response.image.unwrap_or_default();
                let assigned = image.image_id.image_digest.clone();
                let digest = match assigned {
                    Some(d) if d == computed => d,
                    Some(d) => {
                        rec.once(
                            id::S_PUT_DIGEST,
                            "another digest",
                            format!("PutImage assigns {d}, not the SHA-256 of the manifest bytes ({computed})"),
                            json!(computed),
                            json!(d),
                        );
                        d
                    }
                    None => {
                        rec.once(
                            id::S_PUT_DIGEST,
                            "no digest",
                            "PutImage answers no image.imageId.imageDigest".into(),
                            json!(computed),
                            json!(null),
                        );
                        computed
                    }
                };
                if !*registry_known && let Some(id) = image.registry_id.filter(|i| syntax::is_registry_id(i)) {
                    seeded.state.registry_id = id;
                    *registry_known = true;
                }
                // Two different manifests under one digest: what the endpoint now holds under it
                // cannot be predicted. The model forgets that image and that digest (and the
                // generators, which draw from the model, leave them alone), so one seeding bug
                // does not turn into a deviation in every later answer.
                let holder = manifest_of
                    .entry(digest.clone())
                    .or_insert_with(|| push.manifest.clone());
                if *holder != push.manifest {
                    rec.once(
                        id::S_PUT_DIGEST,
                        "one digest for two manifests",
                        format!("PutImage gives two different manifests the same digest {digest}"),
                        json!("a digest per manifest"),
                        json!(digest),
                    );
                    ambiguous.insert(digest.clone());
                }
                // The converse: one manifest pushed again under another digest (an endpoint that
                // draws digests at random, and forgets the image when its tag moves away). Which
                // of the two it still holds cannot be predicted either.
                let earlier = digest_of.entry(push.manifest.clone()).or_insert_with(|| digest.clone());
                if *earlier != digest {
                    rec.once(
                        id::S_PUT_DIGEST,
                        "two digests for one manifest",
                        format!("PutImage gives one manifest the digests {earlier} and {digest}"),
                        json!(earlier.clone()),
                        json!(digest),
                    );
                    ambiguous.insert(earlier.clone());
                    ambiguous.insert(digest.clone());
                    let earlier = earlier.clone();
                    forget(&mut seeded.state, name, &earlier, None);
                }
                if ambiguous.contains(&digest) {
                    forget(&mut seeded.state, name, &digest, push.tag.as_deref());
                    continue;
                }
                let _ = seeded
                    .state
                    .push_as(name, &push.manifest, &push.media_type, push.tag.as_deref(), digest);
            }
        }
    }
    Ok(())
}

/// Removes an image (by digest) from the model, and a tag that was just pushed onto it from
/// every image (the endpoint moved it to the ambiguous image).
fn forget(state: &mut RegistryState, repo: &str, digest: &str, tag: Option<&str>) {
    if let Some(r) = state.repositories.get_mut(repo) {
        // The forgotten image's tags go with it: the endpoint may still hold them anywhere.
        let tags: Vec<String> = r
            .images
            .iter()
            .filter(|i| i.digest == digest)
            .flat_map(|i| i.tags.iter().cloned())
            .collect();
        r.images.retain(|i| i.digest != digest);
        r.unpredictable.extend(tags);
        r.unpredictable.insert(digest.to_string());
        if let Some(t) = tag {
            r.unpredictable.insert(t.to_string());
            for image in &mut r.images {
                image.tags.retain(|x| x != t);
            }
        }
    }
}

async fn upload_blob(client: &EcrClient, repo: &str, digest: &str, blob: &[u8]) -> Result<(), ApiError> {
    let init: wire::InitiateLayerUploadResponse = client
        .call(
            "InitiateLayerUpload",
            &wire::InitiateLayerUploadRequest {
                repository_name: repo.into(),
            },
            true,
        )
        .await?;
    let upload_id = init.upload_id.ok_or_else(|| ApiError::Unreadable {
        operation: "InitiateLayerUpload".into(),
        detail: "no uploadId".into(),
    })?;
    let part_size = init.part_size.filter(|&p| p > 0).unwrap_or(blob.len() as u64).max(1) as usize;
    let mut first = 0usize;
    for part in blob.chunks(part_size) {
        let request = wire::UploadLayerPartRequest {
            repository_name: repo.into(),
            upload_id: upload_id.clone(),
            part_first_byte: first as u64,
            part_last_byte: (first + part.len() - 1) as u64,
            layer_part_blob: base64::engine::general_purpose::STANDARD.encode(part),
        };
        let _: serde_json::Value = client.call("UploadLayerPart", &request, true).await?;
        first += part.len();
    }
    let complete = wire::CompleteLayerUploadRequest {
        repository_name: repo.into(),
        upload_id,
        layer_digests: vec![digest.into()],
    };
    let _: wire::CompleteLayerUploadResponse = client.call("CompleteLayerUpload", &complete, true).await?;
    Ok(())
}

pub async fn delete(client: &EcrClient, name: &str) -> Result<(), ApiError> {
    let request = wire::DeleteRepositoryRequest {
        repository_name: name.into(),
        force: true,
    };
    match client
        .call::<_, serde_json::Value>("DeleteRepository", &request, true)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.error_type() == Some("RepositoryNotFoundException") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes every repository of `names`; returns the ones that could not be deleted, with why.
pub async fn cleanup(client: &EcrClient, names: &[String]) -> Vec<(String, String)> {
    let mut left = Vec::new();
    for name in names {
        if let Err(e) = delete(client, name).await {
            left.push((name.clone(), e.to_string()));
        }
    }
    left
}

/// Every item of a paginated read: `request(token)` builds each page's request, `items(page)`
/// takes its items and its `nextToken`. Bounded, so an endpoint that never stops paging cannot
/// hang the run.
async fn all_pages<Req: serde::Serialize, Page: serde::de::DeserializeOwned, T>(
    client: &EcrClient,
    operation: &str,
    request: impl Fn(Option<String>) -> Req,
    items: impl Fn(Page) -> (Vec<T>, Option<String>),
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..10_000 {
        let page: Page = client.call(operation, &request(token.clone()), true).await?;
        let (found, next) = items(page);
        out.extend(found);
        token = next.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// What a repository lists: every (digest, tag) pair and every untagged digest (P-READ-ONLY).
pub async fn listing(client: &EcrClient, repo: &str) -> Result<BTreeSet<ImageIdentifier>, ApiError> {
    let request = |next_token| wire::ListImagesRequest {
        repository_name: repo.into(),
        next_token,
        max_results: Some(1000),
    };
    let ids = all_pages(client, "ListImages", request, |p: wire::ListImagesResponse| {
        (p.image_ids, p.next_token)
    })
    .await?;
    Ok(ids.into_iter().collect())
}

/// Every repository of the registry (DescribeRepositories, all pages).
pub async fn repositories(client: &EcrClient) -> Result<Vec<String>, ApiError> {
    let request = |next_token| wire::DescribeRepositoriesRequest {
        next_token,
        max_results: Some(1000),
    };
    let repos = all_pages(
        client,
        "DescribeRepositories",
        request,
        |p: wire::DescribeRepositoriesResponse| (p.repositories, p.next_token),
    )
    .await?;
    Ok(repos.into_iter().filter_map(|r| r.repository_name).collect())
}

/// The tool's own mark: every repository a run creates starts with it, and `sweep` deletes
/// nothing else.
pub const TOOL_PREFIX: &str = "ecrc-";

/// Deletes the leftovers of earlier runs: the repositories whose names start with `prefix`, which
/// must itself start with [`TOOL_PREFIX`]. Returns the deleted names and the failures.
pub async fn sweep(client: &EcrClient, prefix: &str) -> Result<(Vec<String>, Vec<(String, String)>), ApiError> {
    let ours: Vec<String> = repositories(client)
        .await?
        .into_iter()
        .filter(|n| prefix.starts_with(TOOL_PREFIX) && n.starts_with(prefix))
        .collect();
    let failed = cleanup(client, &ours).await;
    let deleted = ours
        .into_iter()
        .filter(|n| !failed.iter().any(|(f, _)| f == n))
        .collect();
    Ok((deleted, failed))
}

/// Read-only mode: the model's state read from the named repositories as they are
/// (DescribeImages for digests, tags and types; BatchGetImage by digest for the manifests).
pub async fn read_state(client: &EcrClient, names: &[String], registry_hint: &str) -> Result<RegistryState, ApiError> {
    let mut state = RegistryState::new(registry_hint);
    let mut registry_known = false;
    for name in names {
        let request = |next_token| wire::DescribeImagesRequest {
            repository_name: name.clone(),
            next_token,
            max_results: Some(1000),
        };
        let details = all_pages(client, "DescribeImages", request, |p: wire::DescribeImagesResponse| {
            (p.image_details, p.next_token)
        })
        .await?;
        state.create_repository(name).ok();
        let digests: Vec<String> = details.iter().filter_map(|d| d.image_digest.clone()).collect();
        let mut manifests = std::collections::HashMap::new();
        for chunk in digests.chunks(syntax::IDS_MAX) {
            let request = wire::BatchGetImageRequest {
                registry_id: None,
                repository_name: name.clone(),
                image_ids: chunk.iter().map(ImageIdentifier::digest).collect(),
                accepted_media_types: None,
            };
            let answer: wire::BatchGetImageResponse = client.call("BatchGetImage", &request, true).await?;
            for image in answer.images.unwrap_or_default() {
                if !registry_known && let Some(id) = image.registry_id.clone().filter(|i| syntax::is_registry_id(i)) {
                    state.registry_id = id;
                    registry_known = true;
                }
                if let (Some(d), Some(m)) = (image.image_id.image_digest, image.image_manifest) {
                    manifests.insert(d, (m, image.image_manifest_media_type));
                }
            }
        }
        for detail in details {
            let Some(digest) = detail.image_digest else { continue };
            let Some((manifest, answered_type)) = manifests.get(&digest) else {
                continue;
            };
            let media_type = detail
                .image_manifest_media_type
                .or_else(|| answered_type.clone())
                .unwrap_or_else(|| wire::media_type::DOCKER_V2.to_string());
            let tags = detail.image_tags.unwrap_or_default();
            if tags.is_empty() {
                let _ = state.push_as(name, manifest, &media_type, None, digest.clone());
            }
            for tag in tags {
                let _ = state.push_as(name, manifest, &media_type, Some(&tag), digest.clone());
            }
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, content_type: &str, body: &str) -> wire::HttpReply {
        wire::HttpReply {
            status,
            content_type: Some(content_type.into()),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn an_answer_speaks_ecr_with_a_repository_or_an_error_type() {
        let json = "application/x-amz-json-1.1";
        let created = r#"{"repository": {"repositoryName": "a", "registryId": "123456789012"}}"#;
        assert_eq!(speaks_ecr(&reply(200, json, created)), Some(None));
        let refused = r#"{"__type": "InvalidParameterException", "message": "no"}"#;
        assert_eq!(speaks_ecr(&reply(400, json, refused)), Some(None));
        // Say nothing: a passing 5xx page or throttling in front of a real registry.
        assert_eq!(speaks_ecr(&reply(502, "text/html", "<html>Bad Gateway</html>")), None);
        assert_eq!(speaks_ecr(&reply(429, "text/plain", "slow down")), None);
        let unsupported = speaks_ecr(&reply(501, "text/html", "<p>Unsupported method ('POST')</p>"));
        assert!(unsupported.flatten().is_some_and(|w| w.contains("HTTP 501")));
    }

    #[test]
    fn a_web_page_or_another_apis_json_is_not_ecr_and_is_quoted_on_one_line() {
        let page = "<html>\n  <body>\n    <h1>Not Found</h1>\n  </body>\n</html>";
        let what = speaks_ecr(&reply(404, "text/html", page)).flatten().expect("not ECR");
        assert!(what.contains("HTTP 404, text/html, not JSON"), "{what}");
        assert!(what.contains("<html> <body> <h1>Not Found</h1>"), "{what}");
        assert!(!what.contains('\n'), "{what}");
        let other = speaks_ecr(&reply(200, "application/json", r#"{"ok": true}"#))
            .flatten()
            .expect("not ECR");
        assert!(other.contains("JSON without `repository` or `__type`"), "{other}");
        for body in ["[]", r#"{"repository": "a"}"#, ""] {
            assert!(
                speaks_ecr(&reply(200, "application/json", body)).flatten().is_some(),
                "{body}"
            );
        }
        let long = format!("<p>{}</p>", "x".repeat(5000));
        let what = speaks_ecr(&reply(200, "text/html", &long)).flatten().expect("not ECR");
        assert!(what.len() < 400 && what.contains("bytes more"), "{what}");
    }
}

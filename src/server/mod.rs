//! The embedded reference server: the ECR operations the harness uses, answering from the model,
//! so that it conforms by construction. [`Variant`]s break it on purpose, to prove that the harness
//! catches realistic bugs, or change it harmlessly, to prove that it raises no false alarms.
//! [`Alternatives`] switch on the answers the reference allows beside the model's first choice, to
//! prove that the comparer fails no implementation for them (the `advisory-mix` variant draws them).

mod alternatives;
mod translate;
mod variants;

pub use alternatives::{Alternative, Alternatives, UnknownAlternative};
pub use variants::Variant;

use crate::model::{self, ReferenceAnswer, RegistryState, syntax};
use crate::wire::{self, BatchGetImageRequest, ErrorBody, ImageIdentifier};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The account id the embedded server answers with (the moto convention).
pub const REGISTRY_ID: &str = "123456789012";

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub registry_id: String,
    pub region: String,
    pub variant: Variant,
    /// Alternative answers switched on for every repository, beside those the variant draws.
    pub alternatives: Alternatives,
    /// Every answer waits this long before it goes out (`serve --latency-ms`): a remote
    /// registry's round trip, to measure what it costs a run.
    pub latency: std::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            registry_id: REGISTRY_ID.into(),
            region: "us-east-1".into(),
            variant: Variant::Reference,
            alternatives: Alternatives::NONE,
            latency: std::time::Duration::ZERO,
        }
    }
}

struct Upload {
    repository: String,
    bytes: Vec<u8>,
}

pub(crate) struct Inner {
    pub(crate) state: RegistryState,
    uploads: HashMap<String, Upload>,
    next_upload: u64,
}

/// How many calls of each operation the server answered: what tests read to prove, for example,
/// that a read-only run made no write call.
pub type OperationLog = Arc<Mutex<std::collections::BTreeMap<String, usize>>>;

#[derive(Clone)]
struct Shared {
    config: Arc<ServerConfig>,
    inner: Arc<Mutex<Inner>>,
    log: OperationLog,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A handler that panicked mid-update leaves the state as it was at the panic; the server
        // keeps answering rather than failing every later request.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A server listening on loopback, stopped when dropped or by [`RunningServer::stop`].
pub struct RunningServer {
    pub addr: SocketAddr,
    log: OperationLog,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls answered so far, by operation.
    pub fn operations(&self) -> std::collections::BTreeMap<String, usize> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the server on `addr` (port 0: any free port) in the current runtime.
pub async fn start(config: ServerConfig, addr: SocketAddr) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let log = OperationLog::default();
    let app = router_with_log(config, log.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningServer {
        addr,
        log,
        stop: Some(tx),
        task: Some(task),
    })
}

fn router_with_log(config: ServerConfig, log: OperationLog) -> Router {
    let inner = Inner {
        state: RegistryState::new(&config.registry_id),
        uploads: HashMap::new(),
        next_upload: 0,
    };
    let shared = Shared {
        config: Arc::new(config),
        inner: Arc::new(Mutex::new(inner)),
        log,
    };
    // Large enough for ECR's own limits to be the ones that refuse: a 20 MiB layer part in base64,
    // a manifest over 4 MiB (axum's default would cut both at 2 MB, with a reply that is no AWS
    // error).
    Router::new()
        .route("/", axum::routing::post(handle))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_MAX))
        .with_state(shared)
}

/// The largest request body the server reads.
const BODY_MAX: usize = 32 * 1024 * 1024;

/// An answer before the variant's rendering: status and JSON body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    /// The alternatives of a `BatchGetImage` answer that act on its text and headers (pretty-json,
    /// json-content-type); none for the other operations, which alternatives never change.
    pub(crate) alternatives: Alternatives,
}

impl Reply {
    pub(crate) fn new(status: u16, body: Value) -> Self {
        Reply {
            status,
            body,
            alternatives: Alternatives::NONE,
        }
    }

    fn ok(body: Value) -> Self {
        Self::new(200, body)
    }

    pub(crate) fn error(status: u16, error_type: &str, message: impl Into<String>) -> Self {
        Self::new(
            status,
            serde_json::to_value(ErrorBody::new(error_type, message)).unwrap_or(Value::Null),
        )
    }

    fn client_error(error_type: &str, message: impl Into<String>) -> Self {
        Self::error(400, error_type, message)
    }
}

async fn handle(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = dispatch(&shared, &headers, &body);
    // After the work and outside the state's lock, as a network's delay is: answers wait side by
    // side, not one after another.
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let reply = shared.config.variant.render(reply);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = if reply.alternatives.contains(Alternative::PrettyJson) {
        variants::pretty_reordered(&reply.body)
    } else {
        shared.config.variant.serialise(&reply.body)
    };
    let content_type = if reply.alternatives.contains(Alternative::JsonContentType) {
        "application/json"
    } else {
        wire::CONTENT_TYPE
    };
    (status, [(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// W-REQ: the checks a real endpoint makes before it reads the body.
fn check_request(headers: &HeaderMap) -> Result<String, Reply> {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let auth = text(header::AUTHORIZATION);
    if !auth.starts_with("AWS4-HMAC-SHA256 ") {
        return Err(Reply::client_error(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    }
    if !auth.contains("/ecr/aws4_request") {
        return Err(Reply::client_error(
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'ecr'.",
        ));
    }
    if !text(header::CONTENT_TYPE).starts_with(wire::CONTENT_TYPE) {
        return Err(Reply::client_error(
            "UnknownOperationException",
            "Content-Type must be application/x-amz-json-1.1",
        ));
    }
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    match target.split_once('.') {
        Some((prefix, op)) if prefix == wire::TARGET_PREFIX => Ok(op.to_string()),
        _ => Err(Reply::client_error(
            "UnknownOperationException",
            format!("unknown target {target:?}"),
        )),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|e| Reply::client_error("SerializationException", e.to_string()))
}

fn dispatch(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Reply {
    let op = match check_request(headers) {
        Ok(op) => op,
        Err(reply) => return reply,
    };
    *shared
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(op.clone())
        .or_default() += 1;
    let result = match op.as_str() {
        "BatchGetImage" => parse(body).map(|r| batch_get_image(shared, r)),
        "CreateRepository" => parse(body).map(|r| create_repository(shared, r)),
        "DeleteRepository" => parse(body).map(|r| delete_repository(shared, r)),
        "InitiateLayerUpload" => parse(body).map(|r| initiate_layer_upload(shared, r)),
        "UploadLayerPart" => parse(body).map(|r| upload_layer_part(shared, r)),
        "CompleteLayerUpload" => parse(body).map(|r| complete_layer_upload(shared, r)),
        "PutImage" => parse(body).map(|r| put_image(shared, r)),
        "ListImages" => parse(body).map(|r| list_images(shared, r)),
        "DescribeImages" => parse(body).map(|r| describe_images(shared, r)),
        "DescribeRepositories" => {
            parse::<wire::DescribeRepositoriesRequest>(body).map(|_| describe_repositories(shared))
        }
        other => Err(Reply::client_error(
            "UnknownOperationException",
            format!("{other} is not an operation of this server"),
        )),
    };
    result.unwrap_or_else(|reply| reply)
}

fn repo_not_found(shared: &Shared, name: &str) -> Reply {
    Reply::client_error(
        "RepositoryNotFoundException",
        format!(
            "The repository with name '{name}' does not exist in the registry with id '{}'",
            shared.config.registry_id
        ),
    )
}

fn repository_json(shared: &Shared, name: &str) -> Value {
    let c = &shared.config;
    json!({
        "registryId": c.registry_id,
        "repositoryName": name,
        "repositoryArn": format!("arn:aws:ecr:{}:{}:repository/{name}", c.region, c.registry_id),
        "repositoryUri": format!("{}.dkr.ecr.{}.amazonaws.com/{name}", c.registry_id, c.region),
        "imageTagMutability": "MUTABLE",
    })
}

fn batch_get_image(shared: &Shared, request: BatchGetImageRequest) -> Reply {
    let mut inner = shared.lock();
    let variant = shared.config.variant;
    if let Some(reply) = variant.intercept(&inner.state, &request) {
        return reply;
    }
    let request = variant.rewrite_request(&inner.state, request);
    let alternatives = shared
        .config
        .alternatives
        .union(variant.alternatives_for(&request.repository_name));
    let prepared = alternatives::prepare(alternatives, &request);
    let mut expected = model::batch_get_image(&inner.state, &prepared.request);
    variant.adjust_expected(&inner.state, &request, &mut expected);
    alternatives::adjust_expected(alternatives, &inner.state, &request, &prepared, &mut expected);
    let mut reply = match expected.reference_answer() {
        ReferenceAnswer::Ok(body) => Reply::ok(serde_json::to_value(body).unwrap_or(Value::Null)),
        ReferenceAnswer::Error { status, body } => {
            Reply::new(status, serde_json::to_value(body).unwrap_or(Value::Null))
        }
    };
    variant.adjust_answer(&inner.state, &request, &mut reply);
    alternatives::adjust_reply(alternatives, &request.repository_name, &mut reply);
    variant.side_effect(&mut inner.state, &request);
    reply
}

fn create_repository(shared: &Shared, r: wire::CreateRepositoryRequest) -> Reply {
    if syntax::repo_name_validity(&r.repository_name) == syntax::RepoNameValidity::Invalid {
        // Worded as real ECR words it (rev 2), as the model expects it.
        let constraint = syntax::repo_name_constraint(&r.repository_name);
        return Reply::client_error(
            "InvalidParameterException",
            format!("Invalid parameter at 'repositoryName' failed to satisfy constraint: '{constraint}'"),
        );
    }
    let mut inner = shared.lock();
    match inner.state.create_repository(&r.repository_name) {
        Ok(()) => Reply::ok(json!({ "repository": repository_json(shared, &r.repository_name) })),
        Err(e) => Reply::client_error(
            e.error_type(),
            format!(
                "The repository with name '{}' already exists in the registry with id '{}'",
                r.repository_name, shared.config.registry_id
            ),
        ),
    }
}

fn delete_repository(shared: &Shared, r: wire::DeleteRepositoryRequest) -> Reply {
    let mut inner = shared.lock();
    let Some(repo) = inner.state.repository(&r.repository_name) else {
        return repo_not_found(shared, &r.repository_name);
    };
    if !r.force && !repo.images.is_empty() {
        return Reply::client_error(
            "RepositoryNotEmptyException",
            format!(
                "The repository with name '{}' in registry with id '{}' cannot be deleted because it still contains images",
                r.repository_name, shared.config.registry_id
            ),
        );
    }
    let _ = inner.state.delete_repository(&r.repository_name);
    inner.uploads.retain(|_, u| u.repository != r.repository_name);
    Reply::ok(json!({ "repository": repository_json(shared, &r.repository_name) }))
}

fn initiate_layer_upload(shared: &Shared, r: wire::InitiateLayerUploadRequest) -> Reply {
    let mut inner = shared.lock();
    if inner.state.repository(&r.repository_name).is_none() {
        return repo_not_found(shared, &r.repository_name);
    }
    inner.next_upload += 1;
    let id = upload_id(&shared.config.registry_id, inner.next_upload);
    inner.uploads.insert(
        id.clone(),
        Upload {
            repository: r.repository_name,
            bytes: Vec::new(),
        },
    );
    Reply::ok(json!({ "uploadId": id, "partSize": 10_485_760 }))
}

/// An upload id in the service model's UUID pattern (a version-4 layout), unique per upload and
/// the same for the same upload number: the server stays deterministic.
fn upload_id(registry: &str, n: u64) -> String {
    use sha2::{Digest as _, Sha256};
    let h = Sha256::digest(format!("{registry}/upload/{n}").as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn upload_layer_part(shared: &Shared, r: wire::UploadLayerPartRequest) -> Reply {
    let mut inner = shared.lock();
    let Some(upload) = inner
        .uploads
        .get_mut(&r.upload_id)
        .filter(|u| u.repository == r.repository_name)
    else {
        return Reply::client_error(
            "UploadNotFoundException",
            format!("Upload with id '{}' is not found", r.upload_id),
        );
    };
    let Ok(part) = base64::engine::general_purpose::STANDARD.decode(&r.layer_part_blob) else {
        return Reply::client_error("InvalidParameterException", "layerPartBlob is not base64");
    };
    let expected_last = (r.part_first_byte + part.len() as u64).checked_sub(1);
    if r.part_first_byte != upload.bytes.len() as u64 || expected_last != Some(r.part_last_byte) {
        return Reply::client_error("InvalidLayerPartException", "The layer part is not in sequence");
    }
    upload.bytes.extend_from_slice(&part);
    let last = upload.bytes.len().saturating_sub(1);
    Reply::ok(json!({
        "registryId": shared.config.registry_id, "repositoryName": r.repository_name,
        "uploadId": r.upload_id, "lastByteReceived": last,
    }))
}

fn complete_layer_upload(shared: &Shared, r: wire::CompleteLayerUploadRequest) -> Reply {
    // The service model's limits on layerDigests (1 to 100 items, each a digest), checked before
    // the upload is looked up, as a parameter check is.
    let refused = |constraint: &str| {
        Reply::client_error(
            "InvalidParameterException",
            format!("Invalid parameter at 'layerDigests' failed to satisfy constraint: '{constraint}'"),
        )
    };
    if r.layer_digests.len() > 100 {
        return refused("Member must have length less than or equal to 100");
    }
    if r.layer_digests.iter().any(|d| !syntax::is_well_formed_digest(d)) {
        return refused("Member must satisfy regular expression pattern: [a-zA-Z0-9-_+.]+:[a-fA-F0-9]+");
    }
    if r.layer_digests.is_empty() {
        return refused("Member must have length greater than or equal to 1");
    }
    let mut inner = shared.lock();
    let Some(upload) = inner
        .uploads
        .remove(&r.upload_id)
        .filter(|u| u.repository == r.repository_name)
    else {
        return Reply::client_error(
            "UploadNotFoundException",
            format!("Upload with id '{}' is not found", r.upload_id),
        );
    };
    if upload.bytes.is_empty() {
        return Reply::client_error("EmptyUploadException", "The upload has no parts");
    }
    let Some(digest) = r.layer_digests.first() else {
        return refused("Member must have length greater than or equal to 1");
    };
    if inner
        .state
        .repository(&r.repository_name)
        .is_some_and(|repo| repo.blobs.contains(digest))
    {
        return Reply::client_error(
            "LayerAlreadyExistsException",
            format!("The layer '{digest}' already exists in the repository"),
        );
    }
    match inner.state.put_blob(&r.repository_name, digest, &upload.bytes) {
        Ok(()) => Reply::ok(json!({
            "registryId": shared.config.registry_id, "repositoryName": r.repository_name,
            "uploadId": r.upload_id, "layerDigest": digest,
        })),
        Err(e) => Reply::client_error(e.error_type(), e.to_string()),
    }
}

/// The largest manifest PutImage takes (4 MiB, the service model's limit).
const MANIFEST_MAX: usize = 4 * 1024 * 1024;

fn put_image(shared: &Shared, r: wire::PutImageRequest) -> Reply {
    if r.image_manifest.len() > MANIFEST_MAX {
        return Reply::client_error(
            "InvalidParameterException",
            format!(
                "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length less than or equal to {MANIFEST_MAX}'"
            ),
        );
    }
    // A manifest that names no media type of itself, pushed without one, is refused, not guessed
    // (rev 2, as ECR words it).
    let declared = serde_json::from_str::<Value>(&r.image_manifest)
        .ok()
        .and_then(|v| v.get("mediaType").and_then(Value::as_str).map(str::to_string));
    let Some(media_type) = r.image_manifest_media_type.clone().or(declared) else {
        return Reply::client_error(
            "InvalidParameterException",
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
        );
    };
    let mut inner = shared.lock();
    if let Err(e) = inner
        .state
        .check_references(&r.repository_name, &r.image_manifest, &media_type)
    {
        return match e {
            model::PushError::RepositoryNotFound(name) => repo_not_found(shared, &name),
            e => Reply::client_error(e.error_type(), e.to_string()),
        };
    }
    let digest = shared.config.variant.assigned_digest(&r.image_manifest);
    match inner.state.push_as(
        &r.repository_name,
        &r.image_manifest,
        &media_type,
        r.image_tag.as_deref(),
        digest,
    ) {
        Ok(digest) => Reply::ok(json!({ "image": {
            "registryId": shared.config.registry_id,
            "repositoryName": r.repository_name,
            "imageId": ImageIdentifier { image_digest: Some(digest), image_tag: r.image_tag },
            "imageManifest": r.image_manifest,
            "imageManifestMediaType": media_type,
        }})),
        Err(e) => Reply::client_error(e.error_type(), e.to_string()),
    }
}

fn list_images(shared: &Shared, r: wire::ListImagesRequest) -> Reply {
    let inner = shared.lock();
    let Some(repo) = inner.state.repository(&r.repository_name) else {
        return repo_not_found(shared, &r.repository_name);
    };
    let mut ids = Vec::new();
    for image in &repo.images {
        if image.tags.is_empty() {
            ids.push(ImageIdentifier::digest(&image.digest));
        }
        ids.extend(image.tags.iter().map(|t| ImageIdentifier::both(t, &image.digest)));
    }
    Reply::ok(json!({ "imageIds": ids }))
}

fn describe_images(shared: &Shared, r: wire::DescribeImagesRequest) -> Reply {
    let inner = shared.lock();
    let Some(repo) = inner.state.repository(&r.repository_name) else {
        return repo_not_found(shared, &r.repository_name);
    };
    let details: Vec<Value> = repo
        .images
        .iter()
        .map(|i| {
            let mut d = json!({
                "registryId": shared.config.registry_id,
                "repositoryName": r.repository_name,
                "imageDigest": i.digest,
                "imageManifestMediaType": i.media_type,
                "imageSizeInBytes": i.manifest.len(),
            });
            if !i.tags.is_empty() {
                d["imageTags"] = json!(i.tags);
            }
            d
        })
        .collect();
    Reply::ok(json!({ "imageDetails": details }))
}

fn describe_repositories(shared: &Shared) -> Reply {
    let inner = shared.lock();
    let repositories: Vec<Value> = inner
        .state
        .repositories
        .keys()
        .map(|name| repository_json(shared, name))
        .collect();
    Reply::ok(json!({ "repositories": repositories }))
}

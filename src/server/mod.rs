//! The embedded reference server: the ECR operations the harness uses, answering from the model,
//! so that it conforms by construction. [`Variant`]s break it on purpose, to prove that the harness
//! catches realistic bugs, or change it harmlessly, to prove that it raises no false alarms.
//! [`Alternatives`] switch on the answers the reference allows beside the model's first choice, to
//! prove that the comparer fails no implementation for them (the `advisory-mix` variant draws them).

mod alternatives;
mod operations;
mod translate;
mod variants;

pub use alternatives::{Alternative, Alternatives, UnknownAlternative};
pub use variants::{Variant, Variants, VariantsError};

use crate::model::RegistryState;
use crate::wire::{self, ErrorBody};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use operations::{
    batch_get_image, complete_layer_upload, create_repository, delete_repository, describe_images,
    describe_repositories, initiate_layer_upload, list_images, put_image, upload_layer_part,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// `ecr-conformance variants --format json`: every variant with its group and the rule it breaks,
/// every alternative with the rule that allows it and the variants whose bug it masks.
pub fn listing_json() -> Value {
    let variants: Vec<Value> = Variant::all()
        .map(|v| {
            serde_json::json!({
                "name": v.name(),
                "group": v.group(),
                "rule": v.expected_rule(),
                "description": v.description(),
                "changesStateOnReads": v.changes_state_on_reads(),
            })
        })
        .collect();
    let alternatives: Vec<Value> = Alternative::ALL
        .iter()
        .map(|&a| {
            let masks: Vec<Value> = Variant::all()
                .filter_map(|v| {
                    v.masked_by(a)
                        .map(|reason| serde_json::json!({"variant": v.name(), "reason": reason}))
                })
                .collect();
            serde_json::json!({
                "name": a.name(),
                "rule": a.rule(),
                "description": a.description(),
                "masks": masks,
            })
        })
        .collect();
    serde_json::json!({"variants": variants, "alternatives": alternatives})
}

/// The account id the embedded server answers with (the moto convention).
pub const REGISTRY_ID: &str = "123456789012";

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub registry_id: String,
    pub region: String,
    /// The variants served (none: the reference).
    pub variant: Variants,
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
            variant: Variants::default(),
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
    /// How many times each `BatchGetImage` request came (for `schema1-signed-afresh`).
    sends: HashMap<String, u64>,
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
        sends: HashMap::new(),
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

//! Signed calls to an ECR-compatible endpoint: AWS JSON 1.1 over HTTP, SigV4 with service `ecr`
//! (W-REQ), per-request timeouts, bounded bodies, and retries as the AWS SDKs do them. It knows
//! HTTP and AWS, not ECR's semantics: what an answer means is the comparer's business.

mod error;
mod retry;
mod send;
mod signing;

pub use error::{ApiError, CallError, TransportKind, TransportSource};
pub use retry::{is_throttling, is_transient, retryable, throttled};

use retry::AdaptiveRate;

use crate::control::RunControl;
use crate::credentials::Credentials;
use crate::wire::{self, ErrorBody, HttpReply};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The largest answer a legal `BatchGetImage` can give: 100 images of at most 4 MiB of manifest
/// each, and room for the rest. Anything longer is not read.
pub const MAX_BODY: usize = 100 * 4 * 1024 * 1024 + 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: String,
    pub region: String,
    pub credentials: Credentials,
    /// For each attempt.
    pub timeout: Duration,
    /// Attempts per call, the first included, for server errors and transport errors.
    pub max_attempts: u32,
    /// Attempts per call for throttling answers, counted apart: a registry under load throttles
    /// for longer than a server error lasts, and the adaptive rate slows the run down meanwhile.
    pub max_throttle_attempts: u32,
    /// The first backoff; it doubles per attempt up to `max_backoff`, with full jitter.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    pub max_body: usize,
    /// Requests per second at most, over all concurrent calls (`--rate-limit`).
    pub rate_limit: Option<f64>,
    /// Refuse every operation that writes (`--read-only`): a guard below the runner, so that no
    /// code path can write to a registry the user pointed the tool at read-only.
    pub read_only: bool,
}

/// The operations that only read; in read-only mode, nothing else is sent.
pub const READ_OPERATIONS: &[&str] = &[
    "BatchGetImage",
    "ListImages",
    "DescribeImages",
    "DescribeRepositories",
    "BatchCheckLayerAvailability",
];

impl ClientConfig {
    pub fn new(endpoint: impl Into<String>, region: impl Into<String>, credentials: Credentials) -> Self {
        ClientConfig {
            endpoint: endpoint.into(),
            region: region.into(),
            credentials,
            timeout: Duration::from_secs_f64(crate::defaults::TIMEOUT_SECONDS),
            max_attempts: crate::defaults::MAX_ATTEMPTS,
            max_throttle_attempts: crate::defaults::MAX_THROTTLE_ATTEMPTS,
            base_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            max_body: MAX_BODY,
            rate_limit: None,
            read_only: false,
        }
    }
}

/// One answered call: the reply, and how many attempts it took (more than one: a flaky case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub reply: HttpReply,
    pub attempts: u32,
}

/// Counters a run reports.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    /// Answers in the ECR API's shape to the calls that tell (CreateRepository, see
    /// `seeding::speaks_ecr`).
    ecr_answers: AtomicU64,
    /// The first answer that was not in that shape, described.
    foreign_answer: std::sync::Mutex<Option<String>>,
}

impl ClientStats {
    /// Records whether an answer was one of the ECR API (`foreign`: None) or not (what it was).
    pub fn answered(&self, foreign: Option<String>) {
        match foreign {
            None => {
                self.ecr_answers.fetch_add(1, Ordering::Relaxed);
            }
            Some(what) => {
                let mut first = self.foreign_answer.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert(what);
            }
        }
    }

    /// What the endpoint answered when it never answered as the ECR API does, and answered
    /// something else at least once: then it is not an ECR endpoint at all (a web server, another
    /// API), and its answers are no findings. One ECR answer is enough to say it is one: a
    /// corrupted answer now and then is a fault, not another API.
    pub fn not_ecr(&self) -> Option<String> {
        if self.ecr_answers.load(Ordering::Relaxed) > 0 {
            return None;
        }
        self.foreign_answer.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[derive(Clone)]
pub struct EcrClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    url: String,
    stats: Arc<ClientStats>,
    jitter: Arc<AtomicU64>,
    /// When the next request may start, under `rate_limit` and the adaptive rate.
    next_slot: Arc<tokio::sync::Mutex<tokio::time::Instant>>,
    adaptive: Arc<std::sync::Mutex<AdaptiveRate>>,
    /// Calls in flight at most, over every clone (`with_max_in_flight`): seeding, cases and
    /// shrinking share one bound, whatever runs beside what.
    in_flight: Option<Arc<tokio::sync::Semaphore>>,
    /// The run's stop (`with_stop`): once it says stop, no call starts, waits for its turn or
    /// retries; it ends [`CallError::Stopped`]. What is on the wire finishes.
    stop: Option<RunControl>,
}

impl std::fmt::Debug for EcrClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcrClient")
            .field("url", &crate::redact::endpoint(&self.url))
            .field("region", &self.config.region)
            .finish()
    }
}

impl EcrClient {
    pub fn new(config: ClientConfig, http: reqwest::Client) -> Self {
        let url = format!("{}/", config.endpoint.trim_end_matches('/'));
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        EcrClient {
            http,
            config: Arc::new(config),
            url,
            stats: Arc::default(),
            jitter: Arc::new(AtomicU64::new(seed)),
            next_slot: Arc::new(tokio::sync::Mutex::new(tokio::time::Instant::now())),
            adaptive: Arc::default(),
            in_flight: None,
            stop: None,
        }
    }

    /// The same client, whose calls end once `control` says the run stops, instead of retrying
    /// or waiting for their turn: a run under throttling stops by its deadline, not tens of
    /// seconds after it.
    pub fn with_stop(&self, control: &RunControl) -> Self {
        EcrClient {
            stop: Some(control.clone()),
            ..self.clone()
        }
    }

    /// The same client without the run's stop: cleanup deletes what the run created after it
    /// stopped, with every retry.
    pub fn without_stop(&self) -> Self {
        EcrClient {
            stop: None,
            ..self.clone()
        }
    }

    /// The same client (its counters and rates shared) with at most `n` calls in flight over it
    /// and its clones (at least one).
    pub fn with_max_in_flight(&self, n: usize) -> Self {
        EcrClient {
            in_flight: Some(Arc::new(tokio::sync::Semaphore::new(n.max(1)))),
            ..self.clone()
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// A typed call: a 200 is parsed as `Resp`, anything else is an [`ApiError::Service`].
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        operation: &str,
        request: &Req,
        idempotent: bool,
    ) -> Result<Resp, ApiError> {
        let body = serde_json::to_vec(request).map_err(|e| ApiError::Unreadable {
            operation: operation.into(),
            detail: e.to_string(),
        })?;
        let exchange = self.call_raw(operation, body, idempotent).await?;
        Self::typed(operation, exchange.reply)
    }

    /// A typed call of a write that is safe to send again (its repository names are the run's
    /// own): retried after transport errors too, since a connection cut before the answer may
    /// or may not have carried the request. After a retry, `already_exists` (the error ECR
    /// answers when the write is in place) is the earlier attempt's success: Ok(None).
    pub async fn call_write<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        operation: &str,
        request: &Req,
        already_exists: &str,
    ) -> Result<Option<Resp>, ApiError> {
        let body = serde_json::to_vec(request).map_err(|e| ApiError::Unreadable {
            operation: operation.into(),
            detail: e.to_string(),
        })?;
        let exchange = self.call_raw(operation, body, true).await?;
        Self::write_answer(operation, exchange, already_exists)
    }

    /// The answer to a write sent by `call_raw` as `call_write` reads it, for a caller that
    /// looks at the raw reply first.
    pub fn write_answer<Resp: DeserializeOwned>(
        operation: &str,
        exchange: Exchange,
        already_exists: &str,
    ) -> Result<Option<Resp>, ApiError> {
        let retried = exchange.attempts > 1;
        match Self::typed(operation, exchange.reply) {
            Err(e) if retried && e.error_type() == Some(already_exists) => Ok(None),
            other => other.map(Some),
        }
    }

    fn typed<Resp: DeserializeOwned>(operation: &str, reply: HttpReply) -> Result<Resp, ApiError> {
        if reply.status != 200 {
            let parsed = serde_json::from_slice::<ErrorBody>(&reply.body).ok();
            return Err(ApiError::Service {
                operation: operation.into(),
                status: reply.status,
                error_type: parsed.as_ref().and_then(|b| b.error_type.clone()),
                message: parsed
                    .as_ref()
                    .and_then(|b| b.text().map(str::to_string))
                    .or_else(|| Some(reply.abridged_body(300))),
            });
        }
        serde_json::from_slice(&reply.body).map_err(|e| ApiError::Unreadable {
            operation: operation.into(),
            detail: format!("{e}: {}", reply.abridged_body(300)),
        })
    }

    pub async fn batch_get_image(&self, request: &wire::BatchGetImageRequest) -> Result<Exchange, CallError> {
        let body = serde_json::to_vec(request).map_err(|e| CallError::Signing {
            operation: "BatchGetImage".into(),
            message: e.to_string(),
        })?;
        self.call_raw("BatchGetImage", body, true).await
    }
}

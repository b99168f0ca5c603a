//! Signed calls to an ECR-compatible endpoint: AWS JSON 1.1 over HTTP, SigV4 with service `ecr`
//! (W-REQ), per-request timeouts, bounded bodies, and retries as the AWS SDKs do them. It knows
//! HTTP and AWS, not ECR's semantics: what an answer means is the comparer's business.

use crate::credentials::Credentials;
use crate::wire::{self, ErrorBody, HttpReply};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
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
            timeout: Duration::from_secs(10),
            max_attempts: 3,
            max_throttle_attempts: 10,
            base_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            max_body: MAX_BODY,
            rate_limit: None,
            read_only: false,
        }
    }
}

/// A call that got no usable HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("{operation}: {message}")]
    Transport { operation: String, message: String },
    #[error("{operation}: the answer is longer than {limit} bytes; not read further")]
    TooLarge { operation: String, limit: usize },
    #[error("{operation}: cannot sign the request: {message}")]
    Signing { operation: String, message: String },
    #[error("{operation}: refused: the run is read-only and {operation} writes")]
    ReadOnly { operation: String },
}

/// A typed call that did not give the typed answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("{operation}: HTTP {status} {}: {}", error_type.as_deref().unwrap_or("(no __type)"), message.as_deref().unwrap_or(""))]
    Service {
        operation: String,
        status: u16,
        error_type: Option<String>,
        message: Option<String>,
    },
    #[error("{operation}: HTTP 200 whose body is not the operation's answer: {detail}")]
    Unreadable { operation: String, detail: String },
}

impl ApiError {
    /// The normalised `__type` of a service error.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            ApiError::Service {
                error_type: Some(t), ..
            } => Some(wire::normalise_error_type(t)),
            _ => None,
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
    /// `seed::speaks_ecr`).
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
}

impl std::fmt::Debug for EcrClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcrClient")
            .field("url", &crate::redact::endpoint(&self.url))
            .field("region", &self.config.region)
            .finish()
    }
}

/// Whether an answer is worth another attempt, as the SDKs' standard retry mode decides: a server
/// error, or throttling.
pub fn retryable(reply: &HttpReply) -> bool {
    reply.status != 200 && is_transient(reply.status, error_shape(reply).as_deref())
}

/// The `__type` of an error answer (a 200 is never read as one: its body can be megabytes of
/// images, and no throttling or server error is a 200).
fn error_shape(reply: &HttpReply) -> Option<String> {
    if reply.status == 200 {
        return None;
    }
    serde_json::from_slice::<ErrorBody>(&reply.body)
        .ok()
        .and_then(|b| b.shape_name().map(str::to_string))
}

/// Whether an error answer is the endpoint's passing state rather than its answer to the request:
/// a 5xx or a 429, or a throttling error type. Never a conformance finding by itself.
pub fn is_transient(status: u16, error_type: Option<&str>) -> bool {
    status == 429 || status >= 500 || is_throttling(status, error_type)
}

/// Whether an error answer says the caller is sending too fast: 429, or one of the codes the AWS
/// SDKs' standard retry mode treats as throttling (botocore's list, less `LimitExceededException`,
/// which ECR answers for a quota reached: no retry lifts it).
pub fn is_throttling(status: u16, error_type: Option<&str>) -> bool {
    status == 429
        || matches!(
            error_type,
            Some(
                "Throttling"
                    | "ThrottlingException"
                    | "ThrottledException"
                    | "RequestThrottledException"
                    | "TooManyRequestsException"
                    | "ProvisionedThroughputExceededException"
                    | "TransactionInProgressException"
                    | "RequestLimitExceeded"
                    | "BandwidthLimitExceeded"
                    | "RequestThrottled"
                    | "SlowDown"
                    | "PriorRequestNotComplete"
                    | "EC2ThrottledException"
            )
        )
}

/// Whether an answer is a throttling answer (see [`is_throttling`]).
pub fn throttled(reply: &HttpReply) -> bool {
    reply.status != 200 && is_throttling(reply.status, error_shape(reply).as_deref())
}

/// The client-side rate of the SDKs' adaptive retry mode, simplified: unlimited until the endpoint
/// throttles; then 0.7 times the rate at which requests were going out (botocore's beta), 0.7
/// times less at each further throttling (once for answers throttled together), rising by a fifth
/// with every answer that is not throttled, and unlimited again once above twice the rate
/// measured: it recovers where a fifth of the answers are throttled, and falls where half are.
#[derive(Debug, Default)]
struct AdaptiveRate {
    /// Requests per second at most; None: no limit of its own.
    rate: Option<f64>,
    /// Where the limit stops: twice the rate measured when it was throttled.
    ceiling: f64,
    /// When the latest requests went out (the last second's, at most `SENT_KEPT`).
    sent: std::collections::VecDeque<tokio::time::Instant>,
    /// When the rate was last lowered.
    lowered: Option<tokio::time::Instant>,
}

const SENT_KEPT: usize = 1024;
/// The lowest adaptive rate, in requests per second.
const MIN_RATE: f64 = 2.0;
/// What a throttling answer multiplies the rate by.
const BETA: f64 = 0.7;
/// What an answer that is not throttled multiplies a lowered rate by.
const ALPHA: f64 = 1.2;
/// Throttling answers closer together than this lower the rate once.
const LOWER_AT_MOST_EVERY: Duration = Duration::from_millis(100);

impl AdaptiveRate {
    fn sent_now(&mut self, now: tokio::time::Instant) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
            || self.sent.len() >= SENT_KEPT
        {
            self.sent.pop_front();
        }
        self.sent.push_back(now);
    }

    fn throttled(&mut self, now: tokio::time::Instant) {
        // Requests in flight together are throttled together: one decrease for them all.
        if self
            .lowered
            .is_some_and(|t| now.duration_since(t) < LOWER_AT_MOST_EVERY)
        {
            return;
        }
        self.lowered = Some(now);
        let measured = (self.sent.len() as f64).max(1.0);
        let rate = (self.rate.unwrap_or(measured).min(measured) * BETA).max(MIN_RATE);
        self.rate = Some(rate);
        self.ceiling = (2.0 * measured).max(2.0 * MIN_RATE);
    }

    fn answered(&mut self) {
        if let Some(r) = self.rate {
            let next = r * ALPHA;
            self.rate = (next < self.ceiling).then_some(next);
        }
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

    /// A number in [0, 1) for backoff jitter (xorshift: jitter need not be reproducible).
    fn jitter(&self) -> f64 {
        let mut x = self.jitter.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.jitter.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let cap = self
            .config
            .base_backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.config.max_backoff);
        let jittered = cap.mul_f64(self.jitter());
        retry_after.map_or(jittered, |r| {
            r.min(self.config.max_backoff.max(Duration::from_secs(1)) * 4)
                .max(jittered)
        })
    }

    /// Sends one operation with a JSON body and returns the raw answer, retrying throttling, 429
    /// and 5xx answers (and transport errors when `idempotent`). Throttling has its own budget
    /// (`max_throttle_attempts`) and slows every later request down (the adaptive rate); other
    /// errors have `max_attempts`. A status that persists through the retries comes back as the
    /// answer.
    pub async fn call_raw(&self, operation: &str, body: Vec<u8>, idempotent: bool) -> Result<Exchange, CallError> {
        if self.config.read_only && !READ_OPERATIONS.contains(&operation) {
            return Err(CallError::ReadOnly {
                operation: operation.to_string(),
            });
        }
        let (mut attempt, mut throttles) = (0u32, 0u32);
        loop {
            // Held for the attempt only, never over a backoff: a call waiting to retry leaves its
            // place to others. The semaphore is never closed, so acquiring cannot fail.
            let permit = match &self.in_flight {
                Some(s) => s.acquire().await.ok(),
                None => None,
            };
            self.wait_for_slot().await;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = self.attempt(operation, &body).await;
            drop(permit);
            let total = attempt + throttles + 1;
            match outcome {
                Ok((reply, retry_after)) if throttled(&reply) => {
                    throttles += 1;
                    self.adapt(|a| a.throttled(tokio::time::Instant::now()));
                    if throttles >= self.config.max_throttle_attempts.max(1) {
                        return Ok(Exchange { reply, attempts: total });
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(throttles, retry_after)).await;
                }
                Ok((reply, retry_after)) => {
                    attempt += 1;
                    self.adapt(AdaptiveRate::answered);
                    if attempt >= self.config.max_attempts.max(1) || !retryable(&reply) {
                        return Ok(Exchange { reply, attempts: total });
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt, retry_after)).await;
                }
                Err(e @ (CallError::TooLarge { .. } | CallError::Signing { .. } | CallError::ReadOnly { .. })) => {
                    return Err(e);
                }
                Err(e) => {
                    attempt += 1;
                    if attempt >= self.config.max_attempts.max(1) || !idempotent {
                        return Err(e);
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt, None)).await;
                }
            }
        }
    }

    fn adapt(&self, f: impl FnOnce(&mut AdaptiveRate)) {
        if let Ok(mut a) = self.adaptive.lock() {
            f(&mut a);
        }
    }

    /// Spaces requests `1 / rate` seconds apart, whatever the concurrency, where `rate` is the
    /// lower of `rate_limit` and the adaptive rate.
    async fn wait_for_slot(&self) {
        let adaptive = self.adaptive.lock().ok().and_then(|a| a.rate);
        let configured = self.config.rate_limit.filter(|r| *r > 0.0);
        let rate = match (configured, adaptive) {
            (Some(c), Some(a)) => Some(c.min(a)),
            (c, a) => c.or(a),
        };
        let start = match rate {
            None => tokio::time::Instant::now(),
            Some(rate) => {
                let interval = Duration::from_secs_f64(1.0 / rate);
                let mut next = self.next_slot.lock().await;
                let now = tokio::time::Instant::now();
                let start = (*next).max(now);
                *next = start + interval;
                start
            }
        };
        tokio::time::sleep_until(start).await;
        self.adapt(|a| a.sent_now(start));
    }

    fn signed_headers(&self, operation: &str, body: &[u8]) -> Result<Vec<(String, String)>, CallError> {
        let signing_error = |message: String| CallError::Signing {
            operation: operation.to_string(),
            message,
        };
        let target = format!("{}.{operation}", wire::TARGET_PREFIX);
        let headers = [("content-type", wire::CONTENT_TYPE), ("x-amz-target", target.as_str())];
        let c = &self.config.credentials;
        let identity = aws_credential_types::Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            c.session_token.clone(),
            None,
            "ecr-conformance",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name("ecr")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing_error(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            self.url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| signing_error(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| signing_error(e.to_string()))?
            .into_parts();
        let mut out: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        out.extend(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())));
        Ok(out)
    }

    async fn attempt(&self, operation: &str, body: &[u8]) -> Result<(HttpReply, Option<Duration>), CallError> {
        let transport = |message: String| CallError::Transport {
            operation: operation.to_string(),
            message,
        };
        let mut request = self
            .http
            .post(&self.url)
            .timeout(self.config.timeout)
            .body(body.to_vec());
        for (k, v) in self.signed_headers(operation, body)? {
            request = request.header(k, v);
        }
        let mut response = request.send().await.map_err(|e| transport(describe(e)))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if let Some(len) = response.content_length()
            && len as usize > self.config.max_body
        {
            return Err(CallError::TooLarge {
                operation: operation.into(),
                limit: self.config.max_body,
            });
        }
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > self.config.max_body {
                        return Err(CallError::TooLarge {
                            operation: operation.into(),
                            limit: self.config.max_body,
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(transport(format!(
                        "the answer broke off after {} bytes: {}",
                        bytes.len(),
                        describe(e)
                    )));
                }
            }
        }
        Ok((
            HttpReply {
                status,
                content_type,
                body: bytes,
            },
            retry_after,
        ))
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

/// A transport error in one line, with its cause (reqwest's top line alone says little). Without
/// its URL: reqwest quotes the URL with its user name and password.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the body could not be read"
    } else {
        "the request failed"
    };
    let e = e.without_url();
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    match causes.last() {
        Some(root) => format!("{kind}: {root}"),
        None => format!("{kind}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_lowers_the_rate_and_answers_bring_it_back_to_unlimited() {
        let mut a = AdaptiveRate::default();
        let t0 = tokio::time::Instant::now();
        for k in 0..40 {
            a.sent_now(t0 + Duration::from_millis(k * 10));
        }
        assert_eq!(a.rate, None, "no limit before the endpoint throttles");
        let later = t0 + Duration::from_millis(400);
        a.throttled(later);
        assert_eq!(
            a.rate,
            Some(40.0 * BETA),
            "0.7 times the 40 requests of the last second"
        );
        a.throttled(later + Duration::from_millis(10));
        assert_eq!(a.rate, Some(40.0 * BETA), "throttled together: lowered once");
        a.throttled(later + Duration::from_millis(200));
        assert_eq!(a.rate, Some(40.0 * BETA * BETA), "throttled again: lowered again");
        let mut answers = 0;
        while a.rate.is_some() {
            a.answered();
            answers += 1;
            assert!(answers < 100, "the rate recovers");
        }
        assert!(answers > 3, "it recovers gradually: {answers}");
    }

    #[test]
    fn the_rate_never_falls_below_its_floor() {
        let mut a = AdaptiveRate::default();
        let t0 = tokio::time::Instant::now();
        for k in 0..20 {
            a.throttled(t0 + Duration::from_secs(k));
        }
        assert_eq!(a.rate, Some(MIN_RATE));
    }

    #[test]
    fn the_sdks_throttling_codes_are_throttling_and_a_quota_is_not() {
        for code in ["Throttling", "ThrottlingException", "SlowDown", "RequestLimitExceeded"] {
            assert!(is_throttling(400, Some(code)), "{code}");
        }
        assert!(is_throttling(429, None));
        assert!(!is_throttling(400, Some("LimitExceededException")));
        assert!(!is_throttling(500, Some("ServerException")));
    }
}

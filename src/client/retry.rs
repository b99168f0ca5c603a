//! Retries as the AWS SDKs do them: which answers are worth another attempt, backoff with
//! jitter, throttling's own budget, and the client-side rate (configured and adaptive).

use super::{CallError, EcrClient, Exchange, READ_OPERATIONS};
use crate::control::RunControl;
use crate::wire::{ErrorBody, HttpReply};
use std::sync::atomic::Ordering;
use std::time::Duration;

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
pub(super) struct AdaptiveRate {
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
/// How often a pause looks whether the run has stopped.
const STOP_LOOKED_AT: Duration = Duration::from_millis(100);
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
            // After the wait for a place, which may have outlasted the run.
            self.stopped(operation)?;
            self.wait_for_slot(operation).await?;
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
                    self.pause(self.backoff(throttles, retry_after), operation).await?;
                }
                Ok((reply, retry_after)) => {
                    attempt += 1;
                    self.adapt(AdaptiveRate::answered);
                    if attempt >= self.config.max_attempts.max(1) || !retryable(&reply) {
                        return Ok(Exchange { reply, attempts: total });
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    self.pause(self.backoff(attempt, retry_after), operation).await?;
                }
                Err(
                    e @ (CallError::TooLarge { .. }
                    | CallError::Signing { .. }
                    | CallError::ReadOnly { .. }
                    | CallError::Stopped { .. }),
                ) => {
                    return Err(e);
                }
                Err(e) => {
                    attempt += 1;
                    if attempt >= self.config.max_attempts.max(1) || !idempotent {
                        return Err(e);
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    self.pause(self.backoff(attempt, None), operation).await?;
                }
            }
        }
    }

    fn adapt(&self, f: impl FnOnce(&mut AdaptiveRate)) {
        if let Ok(mut a) = self.adaptive.lock() {
            f(&mut a);
        }
    }

    /// Err when the run this client serves has stopped (`with_stop`).
    fn stopped(&self, operation: &str) -> Result<(), CallError> {
        match self.stop.as_ref().and_then(RunControl::stop_reason) {
            Some(reason) => Err(CallError::Stopped {
                operation: operation.to_string(),
                reason,
            }),
            None => Ok(()),
        }
    }

    /// Sleeps until `until`, or less when the run stops meanwhile (looked at every
    /// `STOP_LOOKED_AT`): a backoff or a turn under a collapsed rate can be seconds long.
    async fn pause_until(&self, until: tokio::time::Instant, operation: &str) -> Result<(), CallError> {
        loop {
            self.stopped(operation)?;
            let now = tokio::time::Instant::now();
            if now >= until {
                return Ok(());
            }
            let step = if self.stop.is_some() {
                (until - now).min(STOP_LOOKED_AT)
            } else {
                until - now
            };
            tokio::time::sleep(step).await;
        }
    }

    async fn pause(&self, d: Duration, operation: &str) -> Result<(), CallError> {
        self.pause_until(tokio::time::Instant::now() + d, operation).await
    }

    /// Spaces requests `1 / rate` seconds apart, whatever the concurrency, where `rate` is the
    /// lower of `rate_limit` and the adaptive rate.
    async fn wait_for_slot(&self, operation: &str) -> Result<(), CallError> {
        let adaptive = self.adaptive.lock().ok().and_then(|a| a.rate);
        let configured = self.config.rate_limit.filter(|r| *r > 0.0);
        let rate = match (configured, adaptive) {
            (Some(c), Some(a)) => Some(c.min(a)),
            (c, a) => c.or(a),
        };
        let (start, interval) = match rate {
            None => (tokio::time::Instant::now(), Duration::ZERO),
            Some(rate) => {
                let interval = Duration::from_secs_f64(1.0 / rate);
                let mut next = self.next_slot.lock().await;
                let now = tokio::time::Instant::now();
                let start = (*next).max(now);
                *next = start + interval;
                (start, interval)
            }
        };
        // Only a slot ahead is slept for: the timer rounds up to its next millisecond tick, so a
        // sleep until now would add up to a millisecond to every request.
        if start > tokio::time::Instant::now()
            && let Err(stopped) = self.pause_until(start, operation).await
        {
            // The calls that stop give their turns back: at a rate fallen to two a second, the
            // turns they held would keep cleanup's deletions waiting for seconds after the stop.
            let mut next = self.next_slot.lock().await;
            *next = (*next).min(tokio::time::Instant::now() + interval);
            return Err(stopped);
        }
        self.adapt(|a| a.sent_now(start));
        Ok(())
    }
}

#[cfg(test)]
mod tests;

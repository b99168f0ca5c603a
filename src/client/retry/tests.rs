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

fn client(rate_limit: Option<f64>) -> EcrClient {
    let credentials = crate::credentials::Credentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
        source: "test".into(),
    };
    let mut config = super::super::ClientConfig::new("http://127.0.0.1:9", "us-east-1", credentials);
    config.rate_limit = rate_limit;
    EcrClient::new(config, reqwest::Client::new())
}

// Without a rate, a request waits for no timer: the timer's millisecond ticks once made every
// request of a loopback run wait up to a millisecond, a third of a run's time. The clock is
// paused, so that only a timer moves it: what is measured is timers, not time.
#[tokio::test(start_paused = true)]
async fn without_a_rate_no_request_waits_for_a_timer() {
    let unlimited = client(None);
    let t0 = tokio::time::Instant::now();
    for _ in 0..100 {
        // Between two ticks, as a real clock always is: a timer set for now would wait for the
        // next tick.
        tokio::time::advance(Duration::from_micros(300)).await;
        unlimited.wait_for_slot("X").await.expect("no stop");
    }
    assert_eq!(t0.elapsed(), Duration::from_micros(300 * 100), "no request slept");

    // With a rate, they are spaced by it (the test would pass vacuously if nothing slept).
    let limited = client(Some(100.0));
    let t0 = tokio::time::Instant::now();
    for _ in 0..11 {
        limited.wait_for_slot("X").await.expect("no stop");
    }
    assert_eq!(t0.elapsed(), Duration::from_millis(100), "ten intervals of 10 ms");
}

// A backoff (here 5 s) ends at the run's stop, not at its end; without a stop it runs its course.
// The clock is paused: the stop comes 300 ms in, by a timer of the test's own.
#[tokio::test(start_paused = true)]
async fn a_pause_ends_at_the_stop_and_says_so() {
    let control = RunControl::default();
    let stopping = control.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stopping.request_stop("interrupted");
    });
    let t0 = tokio::time::Instant::now();
    let e = client(None)
        .with_stop(&control)
        .pause(Duration::from_secs(5), "BatchGetImage")
        .await
        .expect_err("stopped");
    assert_eq!(e.kind(), super::super::TransportKind::Stopped);
    assert!(e.to_string().contains("interrupted"), "{e}");
    assert!(t0.elapsed() < Duration::from_millis(500), "{:?}", t0.elapsed());

    // Deletions are made without the stop: their backoff is whole.
    let t0 = tokio::time::Instant::now();
    client(None)
        .with_stop(&control)
        .without_stop()
        .pause(Duration::from_secs(5), "DeleteRepository")
        .await
        .expect("no stop");
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
}

// Calls that stop while waiting for their turns give them back: a deletion after the stop waits
// one interval at most, not behind the turns of ten calls that will never be made.
#[tokio::test(start_paused = true)]
async fn calls_that_stop_give_their_turns_back() {
    let control = RunControl::default();
    let limited = client(Some(1.0));
    let stopping = limited.with_stop(&control);
    let mut waiting = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let c = stopping.clone();
        waiting.spawn(async move { c.wait_for_slot("BatchGetImage").await });
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    control.request_stop("interrupted");
    let mut stopped = 0;
    while let Some(done) = waiting.join_next().await {
        stopped += usize::from(done.expect("a task").is_err());
    }
    assert!(
        stopped >= 9,
        "{stopped} of 10 stopped (one may have had its turn at once)"
    );
    let t0 = tokio::time::Instant::now();
    limited
        .without_stop()
        .wait_for_slot("DeleteRepository")
        .await
        .expect("no stop");
    assert!(t0.elapsed() <= Duration::from_secs(1), "{:?}", t0.elapsed());
}

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

//! Robustness against faulty endpoints: a fault-injecting proxy in front of the embedded reference
//! server answers `BatchGetImage` badly (connection reset, slow answers, non-JSON 200s, oversized or
//! truncated bodies, throttling then recovery, 500s) while seeding goes through. For each mode the
//! run ends within its deadline, with the right exit code and verdict, without a panic, with a
//! report written and no repository left behind.

use ecr_conformance::exit::Exit;
use ecr_conformance::outcome::FaultKind;
use ecr_conformance::report::Verdict;
use ecr_conformance::rules::Level;
use ecr_conformance::server::{self, RunningServer, ServerConfig};
use ecr_conformance::session::{self, RunOptions};
use ecr_conformance::target::TargetOptions;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Reset,
    Slow,
    NotJson,
    Oversized,
    Truncated,
    /// The first N BatchGetImage calls are throttled, then all go through.
    ThrottleThenRecover(usize),
    ServerError,
    /// A quarter of all calls but cleanup's, drawn at random, get a well-formed 500 ServerException.
    RandomServerException,
    /// One call in twenty, drawn at random, gets a well-formed 500 ServerException.
    FewServerExceptions,
    /// Every seventh BatchGetImage answer that echoes a digest has one byte of it changed (to
    /// another letter each time): valid JSON, a wrong answer, once.
    CorruptSome,
    /// Every error answer to BatchGetImage is cut in half, the same way, the first two times one
    /// request is sent, and comes whole the third time (a fault injector that truncates a fixed
    /// fraction, striking twice in a row).
    CutErrorsTwice,
    /// One request body in five gets its first answer cut in half, then whole answers.
    CutSomeOnce,
    /// Every error answer to BatchGetImage is cut in half the second and the fourth time one
    /// request is sent: the case's own answer is whole, a property's re-send is cut, and so is the
    /// re-send that would confirm the difference.
    CutSecondAndFourthErrors,
    /// By the request's body: some requests are always reset, the others always get a 200 that
    /// is not JSON (faults of two kinds in one run).
    ResetOrNotJson,
}

/// How often each request body was answered, for [`Fault::CutErrorsTwice`].
/// (Tests run side by side with the same seed, so the same bodies: each fault counts its own.)
type Seen = std::sync::Mutex<HashMap<(String, Vec<u8>), usize>>;
static SEEN: std::sync::LazyLock<Seen> = std::sync::LazyLock::new(Default::default);

struct Proxy {
    addr: SocketAddr,
    backend: RunningServer,
    batch_calls: Arc<AtomicUsize>,
}

/// Reads one HTTP/1.1 request: the head and a body of Content-Length bytes.
async fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf))
}

async fn forward(raw: &[u8], backend: SocketAddr) -> Option<Vec<u8>> {
    // Ask the backend to close after answering, so that its answer ends at EOF.
    let text = String::from_utf8_lossy(raw);
    let (head, _) = text.split_once("\r\n\r\n")?;
    let head_len = head.len() + 4;
    let mut request = format!("{head}\r\nconnection: close\r\n\r\n").into_bytes();
    request.extend_from_slice(&raw[head_len..]);
    let mut b = TcpStream::connect(backend).await.ok()?;
    b.write_all(&request).await.ok()?;
    let mut answer = Vec::new();
    b.read_to_end(&mut answer).await.ok()?;
    Some(answer)
}

fn canned(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve_one(mut s: TcpStream, fault: Fault, backend: SocketAddr, calls: Arc<AtomicUsize>) {
    let Some((head, raw)) = read_request(&mut s).await else {
        return;
    };
    let lower = head.to_ascii_lowercase();
    let is_batch = lower.contains("x-amz-target: amazonec2containerregistry_v20150921.batchgetimage");
    if matches!(fault, Fault::RandomServerException | Fault::FewServerExceptions) && !lower.contains("deleterepository")
    {
        let n = calls.fetch_add(1, Ordering::SeqCst) as u64;
        // A quarter (a twentieth) of the calls, scattered by a multiplicative hash of their number.
        let one_in = if fault == Fault::RandomServerException { 4 } else { 20 };
        if (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40).is_multiple_of(one_in) {
            let _ = s
                .write_all(&canned(
                    "500 Internal Server Error",
                    "application/x-amz-json-1.1",
                    r#"{"__type":"ServerException","message":"Internal error"}"#,
                ))
                .await;
            let _ = s.shutdown().await;
            return;
        }
        if let Some(a) = forward(&raw, backend).await {
            let _ = s.write_all(&a).await;
        }
        let _ = s.shutdown().await;
        return;
    }
    if is_batch {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let answer: Option<Vec<u8>> = match fault {
            Fault::ResetOrNotJson => {
                let body_at = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |i| i + 4);
                let hash = raw[body_at..]
                    .iter()
                    .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)));
                if hash % 2 == 0 {
                    let _ = s.set_zero_linger();
                    return;
                }
                Some(canned("200 OK", "text/html", "<html>maintenance</html>"))
            }
            Fault::Reset => {
                let _ = s.set_zero_linger();
                return; // dropped with SO_LINGER 0: the client sees a reset
            }
            Fault::Slow => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                None
            }
            Fault::NotJson => Some(canned("200 OK", "text/html", "<html>maintenance</html>")),
            Fault::Oversized => Some(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 900000000\r\nconnection: close\r\n\r\n{\"images\":["
                    .as_bytes()
                    .to_vec(),
            ),
            Fault::Truncated => Some(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n{\"images\":[{\"imageId\""
                    .as_bytes()
                    .to_vec(),
            ),
            Fault::ThrottleThenRecover(k) if n < k => Some(canned(
                "400 Bad Request",
                "application/x-amz-json-1.1",
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            )),
            Fault::ServerError => Some(canned("500 Internal Server Error", "text/html", "<html>oops</html>")),
            Fault::CorruptSome => forward(&raw, backend).await.map(|mut a| {
                let pattern = b"\"imageDigest\":\"sha256:";
                if let Some(i) = a.windows(pattern.len()).position(|w| w == pattern)
                    && n % 7 == 3
                {
                    // Another letter each time: a glitch does not strike twice the same way.
                    a[i + pattern.len() - 1] = b'A' + (n / 7 % 26) as u8;
                }
                a
            }),
            Fault::CutErrorsTwice | Fault::CutSecondAndFourthErrors => forward(&raw, backend).await.map(|a| {
                let text = String::from_utf8_lossy(&a).to_string();
                let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
                let status = head.lines().next().unwrap_or("").split_once(' ').map_or("", |x| x.1).to_string();
                let times = {
                    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
                    // By the request's body: its head carries the signature's timestamp.
                    let body_at = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |i| i + 4);
                    let k = seen.entry((format!("{fault:?}"), raw[body_at..].to_vec())).or_insert(0);
                    *k += 1;
                    *k
                };
                let cut = match fault {
                    Fault::CutErrorsTwice => times <= 2,
                    _ => times == 2 || times == 4,
                };
                if status.starts_with("200") || !cut {
                    return a;
                }
                canned(&status, "application/x-amz-json-1.1", &body[..body.len() / 2])
            }),
            Fault::CutSomeOnce => forward(&raw, backend).await.map(|a| {
                let body_at = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |i| i + 4);
                let body = raw[body_at..].to_vec();
                let chosen = body.iter().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b))) % 5 == 0;
                let times = {
                    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
                    let k = seen.entry((format!("{fault:?}"), body)).or_insert(0);
                    *k += 1;
                    *k
                };
                if !chosen || times > 1 {
                    return a;
                }
                let text = String::from_utf8_lossy(&a).to_string();
                let (head, answer) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
                let status = head.lines().next().unwrap_or("").split_once(' ').map_or("", |x| x.1).to_string();
                canned(&status, "application/x-amz-json-1.1", &answer[..answer.len() / 2])
            }),
            Fault::ThrottleThenRecover(_) | Fault::RandomServerException | Fault::FewServerExceptions => {
                forward(&raw, backend).await
            }
        };
        if let Some(a) = answer {
            let _ = s.write_all(&a).await;
        }
        let _ = s.shutdown().await;
        return;
    }
    if let Some(a) = forward(&raw, backend).await {
        let _ = s.write_all(&a).await;
    }
    let _ = s.shutdown().await;
}

async fn proxy_before(fault: Fault, config: ServerConfig) -> Proxy {
    let backend = server::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("backend");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, b) = (calls.clone(), backend.addr);
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve_one(s, fault, b, c.clone()));
        }
    });
    Proxy {
        addr,
        backend,
        batch_calls: calls,
    }
}

fn env() -> HashMap<&'static str, &'static str> {
    HashMap::from([("HOME", "/nonexistent")])
}

async fn run_through(
    fault: Fault,
    cases: usize,
    deadline: Duration,
) -> (ecr_conformance::report::Report, Proxy, Duration) {
    run_through_to(fault, ServerConfig::default(), cases, deadline).await
}

async fn run_through_to(
    fault: Fault,
    backend: ServerConfig,
    cases: usize,
    deadline: Duration,
) -> (ecr_conformance::report::Report, Proxy, Duration) {
    let p = proxy_before(fault, backend).await;
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("out");
    let options = RunOptions {
        target: TargetOptions {
            endpoint: Some(format!("http://{}", p.addr)),
            timeout: Some(Duration::from_secs(2)),
            max_attempts: Some(3),
            ..TargetOptions::default()
        },
        seed: Some(3),
        cases,
        concurrency: 4,
        cases_dir: None,
        out: out.clone(),
        shrink_budget: Duration::from_secs(2),
        deadline: Some(deadline),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let result = session::run_with_env(options, &env()).await.expect("the run completes");
    let took = started.elapsed();
    assert!(result.report_path.exists(), "a report is written");
    (result.report, p, took)
}

fn assert_no_litter(p: &Proxy) {
    let ops = p.backend.operations();
    let created = ops.get("CreateRepository").copied().unwrap_or(0);
    let deleted = ops.get("DeleteRepository").copied().unwrap_or(0);
    assert!(created > 0, "seeding happened: {ops:?}");
    assert_eq!(created, deleted, "every created repository is deleted: {ops:?}");
}

async fn expect_indeterminate(fault: Fault) {
    let (report, p, took) = run_through(fault, 8, Duration::from_secs(60)).await;
    assert_eq!(
        report.verdict,
        Verdict::Indeterminate,
        "{fault:?}: {:?}",
        report.faults.first()
    );
    assert_eq!(report.verdict.exit(), Exit::Indeterminate);
    assert!(report.counts.faults > 0, "{fault:?}");
    assert_eq!(
        report.counts.deviations,
        0,
        "{fault:?}: a fault is not a deviation: {:?}",
        report.deviations.first()
    );
    assert!(took < Duration::from_secs(60), "{fault:?} took {took:?}");
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_faults() {
    expect_indeterminate(Fault::Reset).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_200s_are_faults_quoting_what_came() {
    let (report, p, _) = run_through(Fault::NotJson, 4, Duration::from_secs(60)).await;
    assert_eq!(report.verdict, Verdict::Indeterminate);
    assert!(
        report.faults.iter().any(|f| f.message.contains("maintenance")),
        "{:?}",
        report.faults.first()
    );
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_not_read() {
    expect_indeterminate(Fault::Oversized).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_are_faults() {
    expect_indeterminate(Fault::Truncated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_time_out_and_the_run_ends_by_its_deadline() {
    let (report, p, took) = run_through(Fault::Slow, 200, Duration::from_secs(8)).await;
    assert_eq!(report.verdict, Verdict::Indeterminate);
    assert!(took < Duration::from_secs(25), "took {took:?}");
    assert!(
        report.aborted.as_deref().is_some_and(|a| a.contains("deadline")),
        "{:?}",
        report.aborted
    );
    assert_no_litter(&p);
}

// Throttled without end, calls back off (up to 5 s a time, ten times) and wait behind a rate
// fallen to two requests a second: they end at the stop instead, and the run ends by its
// deadline, not tens of seconds after it. No call the stop cut short is a fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_without_end_stops_by_the_deadline_and_cut_calls_are_no_faults() {
    let deadline = Duration::from_secs(3);
    let (report, p, took) = run_through(Fault::ThrottleThenRecover(usize::MAX), 200, deadline).await;
    assert_eq!(report.verdict, Verdict::Indeterminate);
    assert!(
        report.aborted.as_deref().is_some_and(|a| a.contains("deadline")),
        "{:?}",
        report.aborted
    );
    // After the stop, only the deletions: they keep their turns at the rate the throttling
    // lowered (about two seconds for a world's repositories here). Without the stop, 25 s.
    assert!(took < deadline + Duration::from_secs(8), "took {took:?}");
    assert!(
        report.faults.iter().all(|f| f.kind != FaultKind::Stopped),
        "{:?}",
        report.counts.faults_by_kind
    );
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_that_recovers_passes_and_counts_as_flaky() {
    let (report, p, _) = run_through(Fault::ThrottleThenRecover(2), 20, Duration::from_secs(60)).await;
    assert_eq!(report.verdict, Verdict::Pass, "{:?}", report.faults);
    assert_eq!(report.verdict.exit(), Exit::Pass);
    assert!(
        report.counts.retries >= 2 && report.counts.flaky >= 1,
        "{:?}",
        report.counts
    );
    assert!(p.batch_calls.load(Ordering::SeqCst) > 20);
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_html_500_is_a_deviation_not_a_fault() {
    let (report, p, _) = run_through(Fault::ServerError, 10, Duration::from_secs(60)).await;
    assert_eq!(report.verdict, Verdict::Fail);
    assert_eq!(report.counts.faults, 0, "{:?}", report.faults.first());
    assert!(
        report
            .rules
            .iter()
            .any(|(id, r)| ["W-OK", "W-ERR-STATUS"].contains(id) && r.deviations > 0)
    );
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_quarter_of_server_exceptions_is_never_a_gate_deviation() {
    // Retried, most go through; one that every attempt got and a re-send does not get again is a
    // fault of its case (or of its world, in seeding), never a finding.
    let (report, p, _) = run_through(Fault::RandomServerException, 200, Duration::from_secs(120)).await;
    assert_ne!(report.verdict, Verdict::Fail, "{:#?}", report.classes.first());
    assert!([0, 2].contains(&report.verdict.exit_code()), "{:?}", report.verdict);
    assert_eq!(report.counts.gate_deviations, 0, "{:?}", report.deviations.first());
    assert!(report.counts.retries > 0, "{:?}", report.counts);
    assert!(p.batch_calls.load(Ordering::SeqCst) > 200);
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_requested_during_seeding_leaves_no_repository_behind() {
    // The stop comes from the control a signal would set; the signal path itself is tested
    // through the binary in tests/cli.rs.
    let backend = server::start(ServerConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("backend");
    let url = backend.url();
    let control = ecr_conformance::control::RunControl::new(None);
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let options = RunOptions {
        control: Some(control.clone()),
        target: TargetOptions {
            endpoint: Some(url),
            rate_limit: Some(200.0),
            ..TargetOptions::default()
        },
        seed: Some(4),
        cases: 400,
        cases_dir: None,
        out: tmp.path().join("out"),
        ..RunOptions::default()
    };
    let environment = env();
    let run = session::run_with_env(options, &environment);
    // Once seeding has started, stop.
    let stopper = async {
        for _ in 0..500 {
            if backend.operations().get("PutImage").copied().unwrap_or(0) > 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        control.request_stop("test stop");
    };
    let (result, ()) = tokio::join!(run, stopper);
    let report = result.expect("report").report;
    assert!(report.aborted.is_some());
    let ops = backend.operations();
    assert!(
        ops.get("CreateRepository").copied().unwrap_or(0) > 0,
        "seeding had started: {ops:?}"
    );
    assert_eq!(ops.get("CreateRepository"), ops.get("DeleteRepository"), "{ops:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_cut_once_is_sent_again_and_the_run_passes() {
    // A fifth of the requests get a cut first answer: each is sent once more, the whole answer is
    // judged, and a conforming server passes (the cases count as flaky).
    let (report, _, _) = run_through(Fault::CutSomeOnce, 120, Duration::from_secs(120)).await;
    assert_eq!(report.counts.faults, 0, "{:?}", report.faults.first());
    assert!(report.counts.flaky > 0, "{:?}", report.counts);
    assert_eq!(report.verdict, Verdict::Pass, "{:?}", report.deviations.first());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_cut_the_same_way_twice_in_a_row_is_not_gated() {
    // A conforming server whose error answers are cut in half twice in a row per request: the cut
    // body has no readable __type both times, the third answer is whole. Not a finding.
    let (report, _, _) = run_through(Fault::CutErrorsTwice, 120, Duration::from_secs(120)).await;
    assert_eq!(report.counts.gate_deviations, 0, "{:?}", report.deviations.first());
    assert!(report.counts.unconfirmed > 0, "{:?}", report.counts);
    assert_eq!(report.verdict, Verdict::Indeterminate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_property_resend_cut_twice_is_asked_again_not_confirmed() {
    // The case's answer is whole; the property's re-send and the re-send that would confirm a
    // difference are cut the same way. Each cut answer is asked for again, so no property
    // differs and a conforming server passes.
    let (report, _, _) = run_through(Fault::CutSecondAndFourthErrors, 120, Duration::from_secs(120)).await;
    assert_eq!(report.counts.gate_deviations, 0, "{:?}", report.deviations.first());
    assert_eq!(report.counts.faults, 0, "{:?}", report.faults.first());
    assert_eq!(report.verdict, Verdict::Pass, "{:?}", report.counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deviation_seen_once_and_not_on_a_resend_is_flaky_not_gated() {
    // A conforming server behind a proxy that spoils one answer now and then: the spoiled answer
    // deviates, the re-send does not, so it is counted, listed, and never a finding (the run is
    // indeterminate: what was seen once cannot be called a pass either).
    let (report, p, _) = run_through(Fault::CorruptSome, 120, Duration::from_secs(120)).await;
    assert_eq!(
        report.verdict,
        Verdict::Indeterminate,
        "{:?}",
        report.deviations.first()
    );
    // Only a gate deviation is looked at twice (an advisory one never fails the gate, so it is
    // not worth a request): a spoiled echo of an id whose own rule is advisory (rev 3 F5) may
    // stay an advisory note; no spoiled answer is ever a gate finding.
    assert_eq!(report.counts.gate_deviations, 0, "{:?}", report.deviations.first());
    assert!(
        report.deviations.iter().all(|d| d.deviation.level == Level::Advisory),
        "{:?}",
        report.deviations
    );
    assert!(report.counts.unconfirmed > 0, "{:?}", report.counts);
    assert_eq!(report.counts.unconfirmed, report.unconfirmed.len());
    assert!(report.counts.flaky > 0);
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_bug_still_fails_the_gate_under_injected_faults() {
    let backend = ServerConfig {
        variant: ecr_conformance::server::Variant::MismatchIgnored.into(),
        ..ServerConfig::default()
    };
    let (report, p, _) = run_through_to(Fault::FewServerExceptions, backend, 200, Duration::from_secs(120)).await;
    assert_eq!(report.verdict, Verdict::Fail, "{:?}", report.counts);
    assert!(
        report
            .classes
            .iter()
            .any(|c| c.key.rule == "I-MISMATCH" && c.fails_gate),
        "{:?}",
        report.classes.iter().map(|c| &c.slug).collect::<Vec<_>>()
    );
    assert_no_litter(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_counted_by_kind() {
    // Resets and 200s that are not JSON in one run: report.json counts each kind apart, and names
    // each fault's kind.
    let (report, p, _) = run_through(Fault::ResetOrNotJson, 12, Duration::from_secs(60)).await;
    assert_eq!(report.verdict, Verdict::Indeterminate);
    let kinds = &report.counts.faults_by_kind;
    assert!(kinds.get("reset").is_some_and(|n| *n > 0), "{kinds:?}");
    assert!(kinds.get("unreadable").is_some_and(|n| *n > 0), "{kinds:?}");
    assert_eq!(kinds.values().sum::<usize>(), report.counts.faults, "{kinds:?}");
    assert!(kinds.values().all(|n| *n > 0), "only kinds that occurred: {kinds:?}");
    assert!(
        kinds.keys().all(|k| k == "reset" || k == "unreadable"),
        "{kinds:?}: {:?}",
        report
            .faults
            .iter()
            .find(|f| f.kind.as_str() != "reset" && f.kind.as_str() != "unreadable")
    );
    let json = serde_json::to_value(&report).expect("the report as JSON");
    assert_eq!(json["counts"]["faultsByKind"]["reset"], kinds["reset"]);
    let named: Vec<&str> = json["faults"]
        .as_array()
        .expect("faults")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert_eq!(named.len(), report.faults.len(), "every fault has its kind");
    assert!(named.contains(&"reset") && named.contains(&"unreadable"), "{named:?}");
    assert!(
        report.counts_sentence().contains("reset"),
        "{}",
        report.counts_sentence()
    );
    assert_no_litter(&p);
}

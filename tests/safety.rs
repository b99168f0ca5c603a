//! Safe against real registries: read-only mode writes nothing, sweep deletes only the tool's own
//! repositories, secrets never reach a report or the output, TLS settings are checked.

use ecr_conformance::client::{ClientConfig, EcrClient};
use ecr_conformance::control::RunControl;
use ecr_conformance::credentials::Credentials;
use ecr_conformance::generate::plans;
use ecr_conformance::server::{self, RunningServer, ServerConfig};
use ecr_conformance::session::{self, RunOptions};
use ecr_conformance::target::TargetOptions;
use ecr_conformance::{seeding, wire};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

const WRITES: [&str; 7] = [
    "CreateRepository",
    "DeleteRepository",
    "PutImage",
    "InitiateLayerUpload",
    "UploadLayerPart",
    "CompleteLayerUpload",
    "BatchDeleteImage",
];

async fn backend() -> RunningServer {
    server::start(ServerConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("server")
}

fn creds() -> Credentials {
    Credentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
        source: "test".into(),
    }
}

fn client(url: &str) -> EcrClient {
    EcrClient::new(ClientConfig::new(url, "us-east-1", creds()), reqwest::Client::new())
}

fn env() -> HashMap<&'static str, &'static str> {
    HashMap::from([("HOME", "/nonexistent")])
}

fn writes(server: &RunningServer) -> usize {
    let ops = server.operations();
    WRITES.iter().map(|w| ops.get(*w).copied().unwrap_or(0)).sum()
}

/// A registry holding "production" images the tool did not create.
async fn populated() -> (RunningServer, Vec<String>) {
    let server = backend().await;
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]));
    let plan = plans::registry_plan()
        .new_tree(&mut runner)
        .expect("plan")
        .current()
        .with_prefix("prod/");
    let (seeded, error) =
        seeding::populate(&client(&server.url()), &plan, "123456789012", &RunControl::default()).await;
    assert!(error.is_none(), "{error:?}");
    (server, seeded.created)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_makes_no_write_call() {
    let (server, repositories) = populated().await;
    let writes_before = writes(&server);
    let listing_before = seeding::repositories(&client(&server.url())).await.expect("list");
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let options = RunOptions {
        target: TargetOptions {
            endpoint: Some(server.url()),
            ..TargetOptions::default()
        },
        seed: Some(2),
        cases: 150,
        out: out.clone(),
        read_only: Some(repositories.clone()),
        ..RunOptions::default()
    };
    let result = session::run_with_env(options, &env()).await.expect("run");
    assert_eq!(
        writes(&server),
        writes_before,
        "no write call: {:?}",
        server.operations()
    );
    assert!(server.operations().get("BatchGetImage").copied().unwrap_or(0) > 150);
    assert_eq!(
        result.report.verdict,
        ecr_conformance::report::Verdict::Pass,
        "{:?}",
        result.report.deviations.first()
    );
    assert_eq!(result.report.counts.cases, 150);
    assert_eq!(
        seeding::repositories(&client(&server.url())).await.expect("list"),
        listing_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_refuses_writes_in_read_only_mode() {
    let server = backend().await;
    let mut config = ClientConfig::new(server.url(), "us-east-1", creds());
    config.read_only = true;
    let c = EcrClient::new(config, reqwest::Client::new());
    let err = c
        .call::<_, serde_json::Value>(
            "CreateRepository",
            &wire::CreateRepositoryRequest {
                repository_name: "x1".into(),
            },
            false,
        )
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(
        server.operations().is_empty(),
        "nothing was sent: {:?}",
        server.operations()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_deletes_only_the_tools_repositories() {
    let (server, production) = populated().await;
    let c = client(&server.url());
    for name in ["ecrc-0badc0de-w1/left", "ecrc-0badc0de-c1/over"] {
        c.call::<_, serde_json::Value>(
            "CreateRepository",
            &wire::CreateRepositoryRequest {
                repository_name: name.into(),
            },
            false,
        )
        .await
        .expect("create");
    }
    let target = TargetOptions {
        endpoint: Some(server.url()),
        ..TargetOptions::default()
    };
    let (deleted, failed) = session::sweep(&target, "ecrc-", &env()).await.expect("sweep");
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    assert!(failed.is_empty());
    let left = seeding::repositories(&c).await.expect("list");
    assert_eq!(
        left.len(),
        production.len(),
        "production repositories untouched: {left:?}"
    );
    assert!(
        session::sweep(&target, "prod/", &env()).await.is_err(),
        "a prefix that is not the tool's is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_the_run_did_not_create_is_never_deleted() {
    // A repository with the run's own name, created by someone else, makes seeding stop; it stays.
    let server = backend().await;
    let c = client(&server.url());
    let prefix = ecr_conformance::run::run_prefix(5);
    let squatter = format!("{prefix}-w1/someone-elses");
    c.call::<_, serde_json::Value>(
        "CreateRepository",
        &wire::CreateRepositoryRequest {
            repository_name: squatter.clone(),
        },
        false,
    )
    .await
    .expect("create");
    let tmp = tempfile::tempdir().expect("temp dir");
    let options = RunOptions {
        target: TargetOptions {
            endpoint: Some(server.url()),
            ..TargetOptions::default()
        },
        seed: Some(5),
        cases: 50,
        cases_dir: None,
        out: tmp.path().join("out"),
        ..RunOptions::default()
    };
    session::run_with_env(options, &env()).await.expect("run");
    assert!(seeding::repositories(&c).await.expect("list").contains(&squatter));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_report_or_the_summary() {
    let server = backend().await;
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY";
    let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKENVALUE";
    let env: HashMap<&str, &str> = HashMap::from([
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_SESSION_TOKEN", token),
    ]);
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let options = RunOptions {
        target: TargetOptions {
            endpoint: Some(server.url()),
            ..TargetOptions::default()
        },
        seed: Some(1),
        cases: 30,
        out: out.clone(),
        variant: ecr_conformance::server::Variant::Reference.into(),
        ..RunOptions::default()
    };
    let result = session::run_with_env(options, &env).await.expect("run");
    let text = std::fs::read_to_string(&result.report_path).expect("report");
    for s in [secret, token, "AKIAIOSFODNN7EXAMPLE"] {
        assert!(!text.contains(s), "the report leaks {s}");
        assert!(!result.report.summary().contains(s));
    }
}

#[test]
fn a_ca_bundle_that_cannot_be_used_is_a_configuration_error_naming_the_file() {
    let env: HashMap<&str, &str> = HashMap::from([("HOME", "/nonexistent"), ("AWS_CA_BUNDLE", "/nonexistent/ca.pem")]);
    let err = ecr_conformance::target::client_for("https://127.0.0.1:9", &TargetOptions::default(), &env)
        .expect_err("refused");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    let tmp = tempfile::tempdir().expect("temp dir");
    let not_pem = tmp.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    let options = TargetOptions {
        ca_bundle: Some(not_pem.clone()),
        ..TargetOptions::default()
    };
    let err =
        ecr_conformance::target::client_for("https://127.0.0.1:9", &options, &HashMap::new()).expect_err("refused");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_space_requests() {
    let server = backend().await;
    let mut config = ClientConfig::new(server.url(), "us-east-1", creds());
    config.rate_limit = Some(50.0);
    let c = EcrClient::new(config, reqwest::Client::new());
    let started = tokio::time::Instant::now();
    let request = wire::BatchGetImageRequest {
        repository_name: "r1".into(),
        image_ids: vec![wire::ImageIdentifier::tag("t")],
        ..Default::default()
    };
    let calls: Vec<_> = (0..11).map(|_| c.batch_get_image(&request)).collect();
    for call in calls {
        call.await.expect("answered");
    }
    // 11 requests at 50/s need at least 10 intervals of 20 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(195),
        "{:?}",
        started.elapsed()
    );
}

//! Seeding runs repositories and blobs in parallel: its outcome (the model's state, what was
//! created, the seeding deviations and counts) must not depend on how many calls were in flight or
//! in which order the answers came.

use ecr_conformance::client::{ClientConfig, EcrClient};
use ecr_conformance::control::RunControl;
use ecr_conformance::credentials::Credentials;
use ecr_conformance::generate::plans;
use ecr_conformance::model::RegistryPlan;
use ecr_conformance::outcome::Origin;
use ecr_conformance::run::{run_prefix, world_rng};
use ecr_conformance::seeding;
use ecr_conformance::server::{self, ServerConfig, Variant};
use proptest::strategy::{Strategy, ValueTree};
use std::net::SocketAddr;

fn client(url: &str) -> EcrClient {
    let creds = Credentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
        source: "test".into(),
    };
    EcrClient::new(ClientConfig::new(url, "us-east-1", creds), reqwest::Client::new())
}

/// World `w`'s plan of a run with seed 1, as the runner draws it.
fn plan(w: usize) -> RegistryPlan {
    let mut rng = world_rng(1, w);
    plans::registry_plan_within(200)
        .new_tree(&mut rng)
        .expect("a plan")
        .current()
}

/// The outcome of seeding `plan` under `prefix`, as comparable text (state, created, deviations'
/// rule, kinds and values, counts) and the error, if any.
async fn seeded(variant: Variant, plan: &RegistryPlan, prefix: &str, in_flight: usize) -> String {
    let config = ServerConfig {
        variant: variant.into(),
        ..ServerConfig::default()
    };
    let running = server::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the server starts");
    let client = client(&running.url()).with_max_in_flight(in_flight);
    let control = RunControl::default();
    let (seeded, error) = seeding::populate(&client, &plan.with_prefix(prefix), "000000000000", &control).await;
    let mut ledger = control.created_repositories();
    ledger.sort();
    let mut created = seeded.created.clone();
    created.sort();
    assert_eq!(ledger, created, "the control knows every repository created");
    let deviations: Vec<String> = seeded
        .deviations
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {:?} {} {}",
                d.rule, d.expected_kind, d.actual_kind, d.expected, d.actual
            )
        })
        .collect();
    running.stop().await;
    format!(
        "state {}\ncreated {:?}\ndeviations {deviations:#?}\nchecked {:?}\nerror {error:?}",
        serde_json::to_string(&seeded.state).expect("serialisable"),
        seeded.created,
        seeded.checked
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_endpoint_holds_the_plan_as_the_model_builds_it() {
    let prefix = format!("{}-w1/", run_prefix(1));
    for w in 0..3 {
        let plan = plan(w);
        let running = server::start(ServerConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("the server starts");
        let client = client(&running.url()).with_max_in_flight(8);
        let (seeded, error) = seeding::populate(
            &client,
            &plan.with_prefix(&prefix),
            "000000000000",
            &RunControl::default(),
        )
        .await;
        assert!(error.is_none(), "{error:?}");
        assert!(seeded.deviations.is_empty(), "{:?}", seeded.deviations);
        let built = plan
            .with_prefix(&prefix)
            .build(server::REGISTRY_ID)
            .expect("the plan builds");
        assert_eq!(seeded.state, built, "world {w}");
        let names: Vec<String> = plan
            .repositories
            .iter()
            .map(|r| format!("{prefix}{}", r.name))
            .collect();
        assert_eq!(seeded.created, names, "created in the plan's order");
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_call_or_many_in_flight_seed_the_same_outcome_deviations_included() {
    let prefix = format!("{}-w2/", run_prefix(1));
    for variant in [
        Variant::Reference,
        Variant::PutDigestOfReserialised,
        Variant::WrongRegistryId,
    ] {
        for w in 0..2 {
            let plan = plan(w);
            let one = seeded(variant, &plan, &prefix, 1).await;
            let many = seeded(variant, &plan, &prefix, 16).await;
            assert_eq!(one, many, "{} world {w}", variant.name());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_s_repositories_are_deleted_when_its_cases_are_done_not_at_the_run_s_end() {
    // Five worlds against the reference server, its repositories listed all along: the endpoint
    // never holds the run's repositories at once (one world, and the next one seeded ahead), and
    // nothing is left at the end.
    let running = server::start(ServerConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the server starts");
    let c = client(&running.url()).with_max_in_flight(8);
    let mut config = ecr_conformance::run::RunConfig::new(7);
    config.cases = 500;
    let watching = c.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let watch = tokio::spawn(async move {
        let mut peak = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(names) = seeding::repositories(&watching).await {
                peak = peak.max(names.len());
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        peak
    });
    let outcome = ecr_conformance::run::run(&c, &config).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = watch.await.expect("the watcher ends");
    assert_eq!(outcome.worlds_run.len(), 5, "{:?}", outcome.aborted);
    assert!(outcome.leftovers.is_empty(), "{:?}", outcome.leftovers);
    let total = outcome.states.repositories;
    assert!(peak > 0, "the watcher saw no repository");
    assert!(
        peak < total,
        "{peak} repositories at once, {total} in the run: the worlds were not deleted as they ended"
    );
    assert_eq!(
        seeding::repositories(&c).await.expect("a listing"),
        Vec::<String>::new()
    );
}

/// What went through the recording proxy: each call's operation and repository, in order.
type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A proxy in front of `backend` that records each call (its `X-Amz-Target` operation and the
/// body's `repositoryName`) as it comes in; its URL.
async fn recording_proxy(backend: String, calls: Calls) -> String {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (http, backend, calls) = (http.clone(), backend.clone(), calls.clone());
        async move {
            let operation = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.rsplit('.').next())
                .unwrap_or("")
                .to_string();
            let repository = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["repositoryName"].as_str().map(str::to_string))
                .unwrap_or_default();
            calls.lock().expect("the log").push((operation, repository));
            let mut request = http.post(format!("{backend}/")).body(body);
            for (k, v) in &headers {
                if k != "host" && k != "content-length" {
                    request = request.header(k, v);
                }
            }
            let answer = request.send().await.expect("the backend answers");
            let status = StatusCode::from_u16(answer.status().as_u16()).expect("a status");
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let bytes = answer.bytes().await.expect("a body");
            (status, [("content-type", content_type)], bytes)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_2_s_cases_run_while_world_1_s_classes_shrink() {
    // A broken variant whose classes world 1 finds and shrinks, each step of shrinking the state
    // seeded into repositories of its own (`-s<n>/`); the answers 2 ms late, so that shrinking
    // lasts. World 2's cases do not wait for it: some are sent before its last step.
    let backend = ServerConfig {
        variant: Variant::parse("tag-case-insensitive").expect("a variant").into(),
        latency: std::time::Duration::from_millis(2),
        ..ServerConfig::default()
    };
    let running = server::start(backend, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the server starts");
    let calls = Calls::default();
    let proxy = recording_proxy(running.url(), calls.clone()).await;
    let c = client(&proxy).with_max_in_flight(8);
    let mut config = ecr_conformance::run::RunConfig::new(1);
    config.cases = 200;
    let outcome = ecr_conformance::run::run(&c, &config).await;
    assert_eq!(outcome.worlds_run.len(), 2, "{:?}", outcome.aborted);
    assert!(
        outcome
            .minimal
            .iter()
            .any(|m| m.shrunk && matches!(m.trial, Origin::WorldCase { world: 1, .. })),
        "world 1 shrinks a class: {:?}",
        outcome
            .minimal
            .iter()
            .map(|m| (m.trial.to_string(), m.shrunk))
            .collect::<Vec<_>>()
    );
    let calls = calls.lock().expect("the log").clone();
    let prefix = run_prefix(1);
    let step = |r: &str| r.starts_with(&format!("{prefix}-s"));
    let world_2 = |r: &str| r.starts_with(&format!("{prefix}-w2/"));
    let last_step = calls
        .iter()
        .rposition(|(op, r)| op == "BatchGetImage" && step(r))
        .expect("shrinking seeds states of its own");
    let first_case = calls
        .iter()
        .position(|(op, r)| op == "BatchGetImage" && world_2(r))
        .expect("world 2's cases");
    assert!(
        first_case < last_step,
        "world 2's first case (call {first_case}) waited for world 1's shrinking (last step: call {last_step})"
    );
}

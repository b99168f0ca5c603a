//! One `ecr-conformance run` from options to written report: resolve the target (starting the
//! embedded server when no endpoint is given), load the case files, run, write the report.
//! `main.rs` only parses the command line into [`RunOptions`] and maps the result to an exit code.

use crate::cases::{CaseError, CaseFile};
use crate::credentials::{Env, ProcessEnv};
use crate::report::{Report, RunContext, Verdict};
use crate::runner::{self, RunConfig};
use crate::server::{self, ServerConfig, Variant};
use crate::target::{self, ConfigError, TargetOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub target: TargetOptions,
    pub seed: Option<u64>,
    pub cases: usize,
    pub concurrency: usize,
    pub out: PathBuf,
    pub strict: bool,
    /// The folder of case files run first (`cases/`); None: no case files.
    pub cases_dir: Option<PathBuf>,
    /// The embedded server's behaviour (a broken variant, to see the harness catch it).
    pub variant: Variant,
    pub shrink_budget: Duration,
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: TargetOptions::default(),
            seed: None,
            cases: 400,
            concurrency: 8,
            out: PathBuf::from("reports"),
            strict: false,
            cases_dir: Some(PathBuf::from("cases")),
            variant: Variant::Reference,
            shrink_budget: Duration::from_secs(30),
            progress: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Cases(#[from] CaseError),
    #[error("nothing to run: --cases is 0 and there are no case files")]
    NothingSelected,
    #[error("cannot start the embedded server: {0}")]
    Server(std::io::Error),
    #[error("cannot write the report into {dir}: {source}")]
    Report { dir: PathBuf, source: std::io::Error },
}

impl SessionError {
    /// The exit code of the contract: 3 usage or configuration, 4 nothing selected.
    pub fn exit_code(&self) -> u8 {
        match self {
            SessionError::NothingSelected => 4,
            _ => 3,
        }
    }
}

#[derive(Debug)]
pub struct RunResult {
    pub report: Report,
    pub report_path: PathBuf,
}

impl RunResult {
    pub fn exit_code(&self) -> u8 {
        self.report.verdict.exit_code()
    }
}

/// A seed for a run that was given none.
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ (u64::from(std::process::id()) << 32)) % 1_000_000_000
}

pub async fn run(options: RunOptions) -> Result<RunResult, SessionError> {
    run_with_env(options, &ProcessEnv).await
}

pub async fn run_with_env(options: RunOptions, env: &dyn Env) -> Result<RunResult, SessionError> {
    let case_files = match &options.cases_dir {
        Some(dir) => CaseFile::load_dir(dir)?,
        None => Vec::new(),
    };
    if options.cases == 0 && case_files.is_empty() {
        return Err(SessionError::NothingSelected);
    }
    let seed = options.seed.unwrap_or_else(fresh_seed);
    let endpoint = target::endpoint_from(&options.target, env);
    // The embedded reference server lives as long as this run.
    let (embedded, url) = match &endpoint {
        Some(e) => (None, e.clone()),
        None => {
            let config = ServerConfig {
                variant: options.variant,
                region: target::region_from(&options.target, env),
                ..ServerConfig::default()
            };
            let running = server::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .map_err(SessionError::Server)?;
            let url = running.url();
            (Some(running), url)
        }
    };
    let (client, credentials) = target::client_for(&url, &options.target, env)?;
    let name = target::target_name(endpoint.as_deref());
    if options.progress {
        eprintln!(
            "ecr-conformance: seed {seed}, target {name} ({url}), region {}, credentials from {}",
            client.config().region,
            credentials.source
        );
    }
    let mut config = RunConfig::new(seed);
    config.cases = options.cases;
    config.concurrency = options.concurrency;
    config.case_files = case_files;
    config.shrink_budget = options.shrink_budget;
    config.progress = options.progress;
    if embedded.is_some() {
        config.registry_hint = server::REGISTRY_ID.into();
    }
    let outcome = runner::run(&client, &config).await;
    if let Some(server) = embedded {
        server.stop().await;
    }
    let ctx = RunContext {
        seed,
        target: name,
        endpoint: url,
        region: client.config().region.clone(),
        strict: options.strict,
        requests: client.stats().requests.load(Ordering::Relaxed),
        retries: client.stats().retries.load(Ordering::Relaxed),
    };
    let report = Report::new(&outcome, &ctx);
    let report_path = report.write(&options.out).map_err(|source| SessionError::Report {
        dir: options.out.clone(),
        source,
    })?;
    Ok(RunResult { report, report_path })
}

/// The embedded server for `serve`, until the returned future is dropped or interrupted.
pub async fn serve(port: u16, variant: Variant) -> Result<server::RunningServer, SessionError> {
    let config = ServerConfig {
        variant,
        ..ServerConfig::default()
    };
    server::start(config, SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(SessionError::Server)
}

/// The verdict's name, for callers that print it.
pub fn verdict_name(v: Verdict) -> &'static str {
    v.as_str()
}

//! One `ecr-conformance run` from options to written report: resolve the target (starting the
//! embedded server when no endpoint is given), load the case files, run, write the report.
//! `main.rs` only parses the command line into [`RunOptions`] and maps the result to an exit code.
//!
//! Its parts: `config` (checks before the first request, and the options mapped into the run's
//! configuration), `endpoint` (what the run runs against), `signals`, and `write` (classes, case
//! files, the baseline, the report's files).

mod config;
mod endpoint;
mod signals;
#[cfg(test)]
mod tests;
mod write;

pub(crate) use config::check_out;
pub use config::replay_out;
pub(crate) use endpoint::{embedded_name, endpoint_or_embedded};
pub use endpoint::{serve, sweep};
pub(crate) use signals::{Watcher, watch_signals};
pub use write::review;

use crate::cases::{CaseError, CaseFile};
use crate::control::RunControl;
use crate::credentials::{Env, ProcessEnv};
use crate::defaults;
use crate::exit::Exit;
use crate::outcome::TrialId;
use crate::redact;
use crate::report::{Report, RunContext};
use crate::run;
use crate::server::{Alternatives, Variants};
use crate::target::{self, ConfigError, TargetOptions};
use std::collections::BTreeSet;
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
    /// The case folder was named by the user (`--cases-dir`): its absence is an error, where the
    /// default folder may be absent (a checkout without `cases/`, an installed binary).
    pub require_cases_dir: bool,
    /// The embedded server's behaviour (a broken variant, to see the harness catch it).
    pub variant: Variants,
    /// Alternative answers of the embedded server, switched on by hand (beside the variant's).
    pub alternatives: Alternatives,
    pub shrink_budget: Duration,
    pub progress: bool,
    /// The whole run's deadline; past it the run stops, cleans up and reports what it has.
    pub deadline: Option<Duration>,
    /// Leave the created repositories in place.
    pub keep: bool,
    /// Read-only mode: seed nothing, run against these repositories as they are.
    pub read_only: Option<Vec<String>>,
    /// Stop on SIGINT and SIGTERM (clean up, write the report); a second signal kills a spawned
    /// implementation and gives up at once ([`SessionError::Aborted`]).
    pub handle_signals: bool,
    /// A control of the caller's, to stop the run from outside (else one is made from `deadline`).
    pub control: Option<RunControl>,
    /// The implementation's name for its snapshots (`snapshots/<target>/`); default: derived from
    /// the endpoint (`embedded`, `embedded-<variant>`, `host-port`).
    pub target_name: Option<String>,
    /// The snapshot root (`snapshots/`); None: no baseline, no snapshots written.
    pub snapshots: Option<PathBuf>,
    /// In CI nothing under the snapshot root is written: pending snapshots go to the report folder.
    pub ci: bool,
    /// The trials selected (None: all).
    pub selection: Option<crate::trials::Selection>,
    /// Run only this partition's share of the trials (`--partition K/N`).
    pub partition: Option<crate::trials::Partition>,
    /// Case files given by path (`replay`), run instead of `cases_dir`.
    pub case_paths: Vec<PathBuf>,
    /// Start the implementation under test with this command (`{port}`: a free loopback port) and
    /// stop it at the end.
    pub spawn: Option<String>,
    /// How long a spawned implementation may take to answer.
    pub spawn_startup: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: TargetOptions::default(),
            seed: None,
            cases: defaults::CASES,
            concurrency: defaults::CONCURRENCY,
            out: PathBuf::from(defaults::OUT),
            strict: false,
            cases_dir: Some(PathBuf::from(defaults::CASES_DIR)),
            require_cases_dir: false,
            variant: Variants::default(),
            alternatives: Alternatives::NONE,
            shrink_budget: defaults::shrink_budget(),
            progress: false,
            deadline: Some(defaults::deadline()),
            keep: false,
            read_only: None,
            handle_signals: false,
            control: None,
            target_name: None,
            snapshots: None,
            ci: false,
            selection: None,
            partition: None,
            case_paths: Vec::new(),
            spawn: None,
            spawn_startup: defaults::spawn_startup(),
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
    #[error(
        "--read-only needs at least one --repository, and an --endpoint (the embedded server holds nothing to read)"
    )]
    ReadOnlyWithoutRepositories,
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Endpoint(String),
    #[error("cannot start the embedded server: {0}")]
    Server(std::io::Error),
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error(transparent)]
    Spawn(#[from] crate::spawn::SpawnError),
    /// Found before the first request: the run would have nowhere to put its verdict.
    #[error("--out {}: cannot write the report there: {problem}", dir.display())]
    OutNotWritable { dir: PathBuf, problem: String },
    /// A second SIGINT or SIGTERM: the spawned implementation is killed, and the run gives up at
    /// once, without cleanup or report.
    #[error(
        "{signal} again: aborted at once; the run's repositories may be left (`ecr-conformance sweep` deletes them)"
    )]
    Aborted { signal: &'static str },
    /// The run finished but its files could not all be written: `report` holds the verdict, which
    /// the caller still prints.
    #[error("cannot write the report into {}: {source}", dir.display())]
    ReportNotWritten {
        dir: PathBuf,
        source: std::io::Error,
        report: Box<Report>,
    },
}

impl SessionError {
    /// The exit code of the contract: 2 endpoint, 3 usage or configuration (a report that could
    /// not be written included, whatever its verdict: CI must not read a pass with no report
    /// behind it), 4 nothing selected, 130 aborted by a second signal (the shells' 128 + SIGINT).
    pub fn exit_code(&self) -> u8 {
        let exit = match self {
            SessionError::NothingSelected => Exit::NothingSelected,
            SessionError::Endpoint(_) => Exit::Indeterminate,
            SessionError::Aborted { .. } => Exit::Aborted,
            _ => Exit::Usage,
        };
        exit.code()
    }

    /// The run's report when the run finished but writing it failed.
    pub fn report(&self) -> Option<&Report> {
        match self {
            SessionError::ReportNotWritten { report, .. } => Some(report),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct RunResult {
    pub report: Report,
    pub report_path: PathBuf,
    /// The case files whose request was sent and judged: a trial that did not run does not pass.
    pub case_files_run: BTreeSet<String>,
    /// The worlds (from 1) that were seeded and whose cases all ran.
    pub worlds_run: BTreeSet<usize>,
}

impl RunResult {
    /// The trials (`case::NAME`, `world::N`) that ran to their end.
    pub fn trials_run(&self) -> BTreeSet<String> {
        let cases = self.case_files_run.iter().map(|c| TrialId::Case(c.clone()));
        let worlds = self.worlds_run.iter().map(|w| TrialId::World(*w));
        cases.chain(worlds).map(|t| t.to_string()).collect()
    }

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
    target::register_secrets(&options.target, env);
    if let Some(name) = &options.target_name {
        config::check_target_name(name)?;
    }
    let case_files = if options.read_only.is_some() {
        Vec::new()
    } else {
        config::load_case_files(&options)?
    };
    let trials = config::run_trials_of(&options, &case_files);
    if trials.is_empty() {
        return Err(SessionError::NothingSelected);
    }
    if let Some(repos) = &options.read_only
        && (repos.is_empty() || target::endpoint_from(&options.target, env).is_none())
    {
        return Err(SessionError::ReadOnlyWithoutRepositories);
    }
    check_out(&options.out)?;
    let control = options.control.clone().unwrap_or_default();
    if !options.handle_signals {
        return run_checked(options, case_files, trials, control, env).await;
    }
    // In place before anything is started, so that a second signal always finds the spawned
    // implementation to stop. The run's future is dropped on a second signal: the spawned
    // implementation's guard and the embedded server go with it.
    let (abort, aborted) = tokio::sync::oneshot::channel();
    let _watcher = Watcher(watch_signals(control.clone(), abort));
    tokio::select! {
        result = run_checked(options, case_files, trials, control, env) => result,
        Ok(signal) = aborted => Err(SessionError::Aborted { signal }),
    }
}

/// The run once its options are checked: start what it runs against, run, write the report.
/// `control` is the one the signal handler stops.
async fn run_checked(
    options: RunOptions,
    case_files: Vec<(PathBuf, CaseFile)>,
    trials: Vec<String>,
    control: RunControl,
    env: &dyn Env,
) -> Result<RunResult, SessionError> {
    let seed = options.seed.unwrap_or_else(fresh_seed);
    let mut options = options;
    // A spawned implementation lives as long as this function (stopped when dropped, on every path).
    let _spawned = endpoint::spawn_asked(&mut options).await?;
    let endpoint = target::endpoint_from(&options.target, env);
    // The embedded reference server lives as long as this run.
    let (embedded, url) =
        endpoint_or_embedded(&endpoint, &options.target, &options.variant, options.alternatives, env).await?;
    let mut target_options = options.target.clone();
    target_options.read_only |= options.read_only.is_some();
    let (client, credentials) = target::client_for(&url, &target_options, env)?;
    let name = options
        .target_name
        .clone()
        .unwrap_or_else(|| match (&endpoint, &options.variant) {
            (None, v) => embedded_name(v, options.alternatives),
            (Some(e), _) => target::target_name(Some(e)),
        });
    if options.progress {
        let region = &client.config().region;
        endpoint::announce(
            &options,
            seed,
            &name,
            &url,
            region,
            &credentials.source,
            endpoint.is_none(),
        );
    }
    let config = config::run_config(&options, seed, case_files, &trials, &control, embedded.is_some());
    let worlds_total = crate::trials::worlds_of(options.cases);
    let mut outcome = run::run(&client, &config).await;
    // Not the ECR API at all (a web server, another service): its answers are no deviations of
    // ECR's, and no baseline is compared or snapshot written for it.
    if let Some(answer) = client.stats().not_ecr() {
        outcome.findings.clear();
        outcome.minimal.clear();
        outcome.aborted = Some(format!("not an ECR endpoint: {answer}"));
        options.snapshots = None;
    }
    // Classes whose example differs from the accepted one: the accepted example, replayed.
    let reproduced = match &options.snapshots {
        Some(root) if !config.control.should_stop() => {
            let (reproduced, leftovers) = write::replay_baseline(&client, &config, &root.join(&name), &outcome).await?;
            outcome.leftovers.extend(leftovers);
            reproduced
        }
        _ => BTreeSet::new(),
    };
    if let Some(server) = embedded {
        server.stop().await;
    }
    let ctx = RunContext {
        seed,
        target: name,
        endpoint: redact::endpoint(&url),
        region: client.config().region.clone(),
        strict: options.strict,
        read_only: options.read_only.is_some(),
        // Replay commands quote it: whatever secret the command line holds stays out of them.
        spawn: options.spawn.as_deref().map(|c| redact::text(c).into_owned()),
        requests: client.stats().requests.load(Ordering::Relaxed),
        retries: client.stats().retries.load(Ordering::Relaxed),
    };
    write::finish(&options, outcome, &ctx, &reproduced, trials, worlds_total)
}

/// What a trial run did.
#[derive(Debug)]
pub enum TrialsOutcome {
    /// `--list`: the trials were listed, nothing ran.
    Listed,
    Ran(Box<RunResult>),
}

/// A run whose selection and output follow the test-harness arguments: `--list` lists the trials,
/// a filter (`--exact`, `--skip`) selects some, and the trials' results are printed in the
/// harness's format on stdout (the summary goes to stderr).
pub async fn run_trials(
    mut options: RunOptions,
    args: &libtest_mimic::Arguments,
    env: &dyn Env,
) -> Result<TrialsOutcome, SessionError> {
    let case_files = if options.read_only.is_some() {
        Vec::new()
    } else {
        config::load_case_files(&options)?
    };
    let mut names = crate::trials::all(&case_files, crate::trials::worlds_of(options.cases));
    if let Some(p) = options.partition {
        names = p.deal(&names);
    }
    let ignored = crate::trials::ignored(&case_files);
    if args.list {
        let listing = crate::trials::list(args, &names, &ignored);
        if !listing.is_empty() {
            crate::console::out(listing.trim_end());
        }
        return Ok(TrialsOutcome::Listed);
    }
    let selected = crate::trials::selected(args, &names, &ignored);
    if selected.is_empty() {
        return Err(SessionError::NothingSelected);
    }
    options.selection = Some(crate::trials::selection(args, &selected));
    if args.quiet {
        options.progress = false;
    }
    let started = std::time::Instant::now();
    let result = run_with_env(options, env).await?;
    // The exit code is the verdict's, not the harness's: a known (accepted) class passes its trial.
    let block = crate::trials::conclude(
        args,
        &names,
        &ignored,
        &result.report,
        &result.trials_run(),
        started.elapsed(),
    );
    crate::console::out(block.trim_end_matches('\n'));
    Ok(TrialsOutcome::Ran(Box::new(result)))
}

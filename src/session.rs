//! One `ecr-conformance run` from options to written report: resolve the target (starting the
//! embedded server when no endpoint is given), load the case files, run, write the report.
//! `main.rs` only parses the command line into [`RunOptions`] and maps the result to an exit code.

use crate::cases::{CaseError, CaseFile};
use crate::control::RunControl;
use crate::credentials::{Env, ProcessEnv};
use crate::defaults;
use crate::exit::Exit;
use crate::redact;
use crate::report::{Report, RunContext};
use crate::run::{self, RunConfig};
use crate::server::{self, Alternatives, ServerConfig, Variant};
use crate::target::{self, ConfigError, TargetOptions};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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
    pub variant: Variant,
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
            variant: Variant::Reference,
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

/// Where `replay` writes by default: `<root>/replay/<case name>/`, the case name being the file's
/// name without `.case.json` or `.json` (several files: their names joined by `+`, shortened to
/// the first one and a count when that gets long). A replay of `reports/cases/X.json` must not
/// overwrite the reports of the run that wrote it.
pub fn replay_out(root: &Path, files: &[PathBuf]) -> PathBuf {
    let names: Vec<String> = files.iter().map(|f| case_name(f)).collect();
    let joined = names.join("+");
    // Far below the 255 bytes a file name may have, and still readable in a listing.
    let name = if joined.len() <= 100 || names.len() < 2 {
        joined
    } else {
        format!("{}+{}-more", names[0], names.len() - 1)
    };
    root.join("replay").join(name)
}

fn case_name(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".case.json")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    if stem.is_empty() { "case".into() } else { stem.into() }
}

/// A `--target` name is one folder under the snapshot root (and under `<out>/snapshots/` in CI):
/// anything that could climb out of it or nest is refused before anything is written.
fn check_target_name(name: &str) -> Result<(), SessionError> {
    let plain = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(SessionError::Usage(format!(
            "--target {name:?}: not a plain name (one path segment: no '/' or '\\', not '.' or '..', not empty)"
        )))
    }
}

/// The report folder, checked before the first request: created, and a file written in it and
/// removed. A run against a production registry must not spend its time and requests and then
/// find it has nowhere to put its verdict.
pub(crate) fn check_out(dir: &Path) -> Result<(), SessionError> {
    let fail = |problem: String| SessionError::OutNotWritable {
        dir: dir.to_path_buf(),
        problem,
    };
    // create_dir_all's own error for a file in the way ("Not a directory") does not say which.
    if let Some(file) = dir.ancestors().find(|a| a.exists() && !a.is_dir()) {
        return Err(fail(if file == dir {
            "it is a file, not a folder".into()
        } else {
            format!("{} is a file, not a folder", file.display())
        }));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
    let probe = dir.join(".report.json.tmp");
    std::fs::write(&probe, b"").map_err(|e| fail(format!("cannot create a file in it: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    let cases = dir.join("cases");
    if cases.exists() && !cases.is_dir() {
        return Err(fail(format!("{} is a file, not a folder", cases.display())));
    }
    Ok(())
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
        let cases = self.case_files_run.iter().map(|c| crate::trials::case_trial(c));
        let worlds = self.worlds_run.iter().map(|w| crate::trials::world_trial(*w));
        cases.chain(worlds).collect()
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
        check_target_name(name)?;
    }
    let case_files = if options.read_only.is_some() {
        Vec::new()
    } else {
        load_case_files(&options)?
    };
    let trials = run_trials_of(&options, &case_files);
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

/// The trials this run runs, in order: its partition's share of all the run's trials (dealt
/// before any filter: a trial's partition does not depend on the filter), then the selection.
fn run_trials_of(options: &RunOptions, case_files: &[(PathBuf, CaseFile)]) -> Vec<String> {
    let mut trials = crate::trials::all(case_files, crate::trials::worlds_of(options.cases));
    if let Some(p) = options.partition {
        trials = p.deal(&trials);
    }
    if let Some(sel) = &options.selection {
        trials.retain(|t| match (t.strip_prefix("case::"), t.strip_prefix("world::")) {
            (Some(c), _) => sel.case_files.contains(c),
            (_, Some(w)) => w.parse().is_ok_and(|w| sel.worlds.contains(&w)) && !sel.properties.is_empty(),
            _ => false,
        });
    }
    trials
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
    // A spawned implementation lives as long as this function (stopped when dropped, on every path).
    let mut options = options;
    let _spawned = match &options.spawn {
        Some(command) => {
            let spawned = crate::spawn::spawn(command, options.spawn_startup).await?;
            if options.progress {
                crate::console::note(format!(
                    "ecr-conformance: started {:?} on {}",
                    spawned.command,
                    spawned.endpoint()
                ));
            }
            options.target.endpoint = Some(spawned.endpoint());
            Some(spawned)
        }
        None => None,
    };
    let endpoint = target::endpoint_from(&options.target, env);
    // The embedded reference server lives as long as this run.
    let (embedded, url) =
        endpoint_or_embedded(&endpoint, &options.target, options.variant, options.alternatives, env).await?;
    let mut target_options = options.target.clone();
    target_options.read_only |= options.read_only.is_some();
    let (client, credentials) = target::client_for(&url, &target_options, env)?;
    let name = options
        .target_name
        .clone()
        .unwrap_or_else(|| match (&endpoint, options.variant) {
            (None, v) => embedded_name(v, options.alternatives),
            (Some(e), _) => target::target_name(Some(e)),
        });
    if options.progress {
        crate::console::note(format!(
            "ecr-conformance: seed {seed}, target {name} ({}), region {}, credentials from {}",
            redact::endpoint(&url),
            client.config().region,
            credentials.source
        ));
        // The alternatives the embedded server serves this run's repositories (all named with the
        // run's prefix), so that a failing advisory-mix seed says what it was made of.
        let served = options
            .alternatives
            .union(options.variant.alternatives_for(&run::run_prefix(seed)));
        if endpoint.is_none() && !served.is_empty() {
            crate::console::note(format!("ecr-conformance: alternatives {served}"));
        }
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
    config.keep = options.keep;
    config.properties = options.selection.as_ref().map(|s| s.properties.clone());
    let worlds_total = crate::trials::worlds_of(options.cases);
    // Shrinking costs as many requests as the run's cases, and every partition that finds a
    // class would shrink it again: only the partition that runs world 1 (where a single run
    // shrinks the classes every world shows) shrinks; the others keep their examples as found.
    if options.partition.is_some() && !trials.iter().any(|t| t == "world::1") {
        config.shrink_budget = Duration::ZERO;
    }
    if options.partition.is_some() || options.selection.is_some() {
        config.worlds = Some(
            trials
                .iter()
                .filter_map(|t| t.strip_prefix("world::").and_then(|w| w.parse().ok()))
                .collect(),
        );
        config.case_files_selected = Some(
            trials
                .iter()
                .filter_map(|t| t.strip_prefix("case::").map(str::to_string))
                .collect(),
        );
    }
    config.read_only = options.read_only.clone();
    // A caller's control keeps its own deadline; ours counts from here, once the implementation
    // under test is up.
    config.control = match &options.control {
        Some(c) => c.clone(),
        None => control.with_deadline(options.deadline.map(|d| std::time::Instant::now() + d)),
    };
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
            let (reproduced, leftovers) = replay_baseline(&client, &config, &root.join(&name), &outcome).await?;
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
    let (mut report, unwritten) = build_report(&options, &outcome, &ctx, &reproduced)?;
    // What `merge` needs to tell a whole set of partitions from an incomplete one.
    report.partition = options.partition;
    report.trials = trials;
    report.worlds_total = worlds_total;
    // The report files are written even when a case file was not: the more of the run is on disk,
    // the better; the first failure is the one reported.
    let written = crate::report::write_all(&report, &options.out);
    match (unwritten, written) {
        (None, Ok(report_path)) => Ok(RunResult {
            report,
            report_path,
            case_files_run: outcome.case_files_run,
            worlds_run: outcome.worlds_run,
        }),
        (Some((dir, source)), _) => Err(SessionError::ReportNotWritten {
            dir,
            source,
            report: Box::new(report),
        }),
        (None, Err(source)) => Err(SessionError::ReportNotWritten {
            dir: options.out.clone(),
            source,
            report: Box::new(report),
        }),
    }
}

/// The baseline's own examples of the classes this run found with another example, replayed
/// (their case files, kept beside the snapshots): the classes whose accepted example still shows
/// them. A seed finds a class from another start; the endpoint's behaviour is what the gate keeps.
async fn replay_baseline(
    client: &crate::client::EcrClient,
    config: &RunConfig,
    dir: &Path,
    outcome: &crate::outcome::RunOutcome,
) -> Result<(BTreeSet<String>, Vec<(String, String)>), SessionError> {
    let classes = crate::classes::classify(&outcome.findings);
    let mut case_files = Vec::new();
    for (_, path) in crate::snapshot::to_replay(&classes, &outcome.minimal, dir)? {
        let case = crate::cases::CaseFile::load(&path).map_err(|e| SessionError::Usage(format!("baseline: {e}")))?;
        // The seed that found the accepted example finds it again: there, another example is
        // another behaviour (or an edited snapshot), not another start.
        if case.seed != Some(config.seed) {
            case_files.push((path, case));
        }
    }
    if case_files.is_empty() {
        return Ok((BTreeSet::new(), Vec::new()));
    }
    let mut replay = config.clone();
    replay.case_files = case_files;
    replay.case_files_selected = None;
    replay.cases = 0;
    replay.shrink_budget = std::time::Duration::ZERO;
    replay.prefix = format!("{}b", config.prefix);
    let out = run::run(client, &replay).await;
    // A case reproduces its class where its own trial shows it (a case file is named after it).
    let reproduced = crate::classes::classify(&out.findings)
        .into_iter()
        .filter(|c| {
            out.findings.iter().any(|f| {
                f.trial == crate::outcome::Origin::CaseFile(c.slug.clone())
                    && crate::classes::ClassKey::from_deviation(f.property, &f.deviation) == c.key
            })
        })
        .map(|c| c.slug)
        .collect();
    Ok((reproduced, out.leftovers))
}

/// The embedded server's target name: `embedded`, `embedded-<variant>`, and `+<alternative>` for
/// each alternative switched on by hand, so that their snapshots never mix with the reference's.
pub(crate) fn embedded_name(variant: Variant, alternatives: Alternatives) -> String {
    let mut name = match variant {
        Variant::Reference => "embedded".to_string(),
        v => format!("embedded-{}", v.name()),
    };
    for a in alternatives.iter() {
        name.push('+');
        name.push_str(a.name());
    }
    name
}

/// The embedded server for `serve`, until the returned future is dropped or interrupted.
pub async fn serve(port: u16, config: ServerConfig) -> Result<server::RunningServer, SessionError> {
    server::start(config, SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(SessionError::Server)
}

/// The endpoint's URL, or the embedded reference server (with this variant and these
/// alternatives) started on loopback when no endpoint is given: it lives as long as the caller
/// keeps it.
pub(crate) async fn endpoint_or_embedded(
    endpoint: &Option<String>,
    target: &TargetOptions,
    variant: Variant,
    alternatives: Alternatives,
    env: &dyn Env,
) -> Result<(Option<server::RunningServer>, String), SessionError> {
    if let Some(e) = endpoint {
        return Ok((None, e.clone()));
    }
    let config = ServerConfig {
        variant,
        alternatives,
        region: target::region_from(target, env),
        ..ServerConfig::default()
    };
    let running = server::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(SessionError::Server)?;
    let url = running.url();
    Ok((Some(running), url))
}

/// The signal handler's task, stopped when the run is over.
pub(crate) struct Watcher(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// On the first SIGINT or SIGTERM, asks the run to stop (it cleans up and writes its report); on a
/// second, kills the spawned implementation and says so on `abort`: the session returns
/// [`SessionError::Aborted`] and the binary exits 130. The library never exits the process.
pub(crate) fn watch_signals(
    control: RunControl,
    abort: tokio::sync::oneshot::Sender<&'static str>,
) -> tokio::task::JoinHandle<()> {
    // Listening from here, not from the task's first poll: a signal in between would kill the
    // process with the default action and leave the spawned implementation running.
    let mut signals = Signals::listen();
    tokio::spawn(async move {
        let first = signals.next().await;
        crate::console::note(format!(
            "{first}: stopping; deleting the run's repositories (a second signal aborts at once)"
        ));
        control.request_stop(format!("interrupted by {first}"));
        let second = signals.next().await;
        // First, before anything else can go wrong: the tool must not exit and leave it running.
        crate::spawn::kill_now();
        let _ = abort.send(second);
    })
}

/// SIGINT and SIGTERM, listened for from the moment this is made (one pair of listeners for the
/// run: listeners made anew after each signal could miss one sent in between).
#[cfg(unix)]
struct Signals(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

#[cfg(unix)]
impl Signals {
    fn listen() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Signals(
            signal(SignalKind::interrupt())
                .ok()
                .zip(signal(SignalKind::terminate()).ok()),
        )
    }

    async fn next(&mut self) -> &'static str {
        let Some((int, term)) = &mut self.0 else {
            // No listener: the signals keep their default action, and this never returns.
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> Self {
        Signals
    }

    async fn next(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// `ecr-conformance sweep`: deletes the repositories of earlier runs (names starting with
/// `prefix`, which must start with the tool's own `ecrc-`).
pub async fn sweep(
    target: &TargetOptions,
    prefix: &str,
    env: &dyn Env,
) -> Result<(Vec<String>, Vec<(String, String)>), SessionError> {
    if !prefix.starts_with(crate::seed::TOOL_PREFIX) {
        return Err(SessionError::Usage(format!(
            "--prefix must start with {:?}: sweep deletes only the tool's repositories",
            crate::seed::TOOL_PREFIX
        )));
    }
    target::register_secrets(target, env);
    let Some(endpoint) = target::endpoint_from(target, env) else {
        return Err(SessionError::Usage(
            "sweep needs --endpoint (or AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL)".into(),
        ));
    };
    let (client, _) = target::client_for(&endpoint, target, env)?;
    crate::seed::sweep(&client, prefix)
        .await
        .map_err(|e| SessionError::Endpoint(format!("sweep: {e}")))
}

fn load_case_files(options: &RunOptions) -> Result<Vec<(PathBuf, CaseFile)>, SessionError> {
    if !options.case_paths.is_empty() {
        let mut out = Vec::new();
        for p in &options.case_paths {
            out.push((p.clone(), CaseFile::load(p)?));
        }
        return Ok(out);
    }
    match &options.cases_dir {
        Some(dir) if options.require_cases_dir && !dir.is_dir() => Err(SessionError::Usage(format!(
            "--cases-dir {}: {}",
            dir.display(),
            if dir.exists() { "not a folder" } else { "no such folder" }
        ))),
        Some(dir) => Ok(CaseFile::load_dir(dir)?),
        None => Ok(Vec::new()),
    }
}

/// A file of the report that could not be written: the folder, and why.
type Unwritten = Option<(PathBuf, std::io::Error)>;

/// Classes, the baseline comparison, the class case files, and the report. A case file that cannot
/// be written is left out of the report and its error returned beside it, so that the verdict is
/// still there to print.
fn build_report(
    options: &RunOptions,
    outcome: &crate::outcome::RunOutcome,
    ctx: &RunContext,
    reproduced: &BTreeSet<String>,
) -> Result<(Report, Unwritten), SessionError> {
    let mut unwritten: Unwritten = None;
    let classes = crate::classes::classify(&outcome.findings);
    let baseline = match &options.snapshots {
        Some(root) => {
            let dir = root.join(&ctx.target);
            let pending = if options.ci {
                options.out.join("snapshots").join(&ctx.target)
            } else {
                dir.clone()
            };
            Some(crate::snapshot::compare(
                &classes,
                &outcome.minimal,
                &ctx.target,
                ctx.seed,
                &dir,
                &pending,
                reproduced,
            )?)
        }
        None => None,
    };
    let cases_dir = options.out.join("cases");
    let mut reports = Vec::with_capacity(classes.len());
    for class in &classes {
        let minimal = outcome.minimal.iter().find(|m| m.class == class.key);
        let status = crate::gate::ClassStatus::of(baseline.as_ref(), &class.slug);
        let fails_gate = crate::gate::fails_gate(status, class.key.level, options.strict);
        let case_file =
            match minimal.and_then(|m| crate::cases::CaseFile::from_minimal(class, m, ctx.seed, &ctx.target)) {
                Some(case) => {
                    let path = cases_dir.join(format!("{}.json", class.slug));
                    match std::fs::create_dir_all(&cases_dir)
                        .and_then(|_| std::fs::write(&path, redact::text(&case.to_json()).as_bytes()))
                    {
                        Ok(()) => Some(format!("cases/{}.json", class.slug)),
                        Err(source) => {
                            unwritten.get_or_insert((cases_dir.clone(), source));
                            None
                        }
                    }
                }
                None => None,
            };
        let (deviation, images, registry) = match minimal {
            Some(m) => (
                &m.deviation,
                crate::canonical::named_images(&m.plan, &m.registry_id, &m.image_digests),
                m.registry_id.clone(),
            ),
            None => (&class.first.deviation, Vec::new(), String::new()),
        };
        let text = |v: &serde_json::Value| {
            let pretty = crate::snapshot::strip_run_prefixes(&serde_json::to_string_pretty(v).unwrap_or_default());
            if registry.is_empty() {
                pretty
            } else {
                crate::canonical::placeholders(&pretty, &images, &registry)
            }
        };
        reports.push(crate::report::ClassReport {
            expected: text(&deviation.expected),
            actual: text(&deviation.actual),
            answer: deviation.answers.as_ref().map(|x| text(&x.answer)),
            ecr_answer: deviation.answers.as_ref().map(|x| text(&x.ecr_answer)),
            slug: class.slug.clone(),
            title: class.title.clone(),
            key: class.key.clone(),
            kinds: class.kinds.clone(),
            count: class.count,
            status: status.as_str(),
            fails_gate,
            snapshot: crate::snapshot::render(class, minimal),
            case_file,
            request: minimal
                .map(|m| m.canonical_request.clone())
                .or_else(|| class.first.request.clone()),
        });
    }
    Ok((Report::new(outcome, ctx, reports, baseline), unwritten))
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
        load_case_files(&options)?
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

/// `ecr-conformance review`: accepts or rejects pending snapshots. `decide` is asked for each one
/// (with its path and text) and answers Some(true) to accept, Some(false) to reject, None to skip.
pub fn review(
    root: &Path,
    target: Option<&str>,
    mut decide: impl FnMut(&Path, &str) -> Option<bool>,
) -> std::io::Result<(usize, usize)> {
    let (mut accepted, mut rejected) = (0, 0);
    for pending in crate::snapshot::pending_under(root) {
        if let Some(t) = target
            && pending.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()) != Some(t)
        {
            continue;
        }
        let text = std::fs::read_to_string(&pending)?;
        match decide(&pending, &text) {
            Some(true) => {
                crate::snapshot::decide(&pending, true)?;
                accepted += 1;
            }
            Some(false) => {
                crate::snapshot::decide(&pending, false)?;
                rejected += 1;
            }
            None => {}
        }
    }
    Ok((accepted, rejected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_writes_under_replay_named_after_its_case_files() {
        let root = Path::new("reports");
        let out = |files: &[&str]| replay_out(root, &files.iter().map(PathBuf::from).collect::<Vec<_>>());
        assert_eq!(
            out(&["reports/cases/i-tag-case-gate-model.json"]),
            root.join("replay").join("i-tag-case-gate-model")
        );
        assert_eq!(
            out(&["snapshots/moto/i-echo-gate-model.case.json"]),
            root.join("replay").join("i-echo-gate-model")
        );
        assert_eq!(out(&["cases/a.json", "b.json"]), root.join("replay").join("a+b"));
        assert_eq!(out(&[".json"]), root.join("replay").join("case"));
        let many: Vec<String> = (0..20).map(|i| format!("cases/some-long-case-name-{i}.json")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(out(&many), root.join("replay").join("some-long-case-name-0+19-more"));
    }

    #[test]
    fn a_target_name_is_one_plain_segment() {
        for good in ["moto", "embedded-mismatch-ignored+dup-each", "127.0.0.1-4566", "a..b"] {
            assert!(check_target_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "../x", "a/b", "/abs", "a\\b", "x/"] {
            let e = check_target_name(bad).expect_err(bad).to_string();
            assert!(e.contains("--target") && e.contains("not a plain name"), "{e}");
        }
    }
}

//! `ecr-conformance calibrate`: the endpoint is the truth and the model is checked against it (the
//! reverse of `run`). Each open question of the reference is asked by probes, small states seeded
//! into the calibration's own `ecrc-` namespace and one request each; the answers are read as the
//! questions' named alternatives ([`questions`]) and recorded as case files ready for
//! `cases/recorded/` ([`record`]). A short generated run follows, whose deviations are doubts
//! about the model. `calibration.json` and `calibration.md` say what was found ([`report`]).
//!
//! The run's safety applies unchanged, from the same plumbing: the same target, credentials and
//! client (TLS verified, `--rate-limit`), the same stop flag and signal handling, cleanup of every
//! repository created on every exit, and the same redaction of everything written.

mod probe;
pub mod questions;
pub mod record;
mod report;

pub use report::{Calibration, Doubt, QuestionResult};

use crate::control::RunControl;
use crate::credentials::Env;
use crate::run::{self, RunConfig};
use crate::server::{self, Alternatives, Variants};
use crate::session::{self, SessionError};
use crate::target::{self, ConfigError, TargetOptions};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    pub target: TargetOptions,
    /// Where `calibration.json`, `calibration.md`, `cases/` and `doubts/` go.
    pub out: PathBuf,
    /// The generated run's seed (and the namespace's); None: a fresh one.
    pub seed: Option<u64>,
    /// Generated cases after the probes; 0: none.
    pub cases: usize,
    pub concurrency: usize,
    pub shrink_budget: Duration,
    pub deadline: Option<Duration>,
    /// Leave the created repositories in place.
    pub keep: bool,
    /// Without an endpoint: the embedded server's variant and alternatives.
    pub variant: Variants,
    pub alternatives: Alternatives,
    pub progress: bool,
    pub handle_signals: bool,
    /// A control of the caller's, to stop the calibration from outside.
    pub control: Option<RunControl>,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            target: TargetOptions::default(),
            out: PathBuf::from(crate::defaults::CALIBRATE_OUT),
            seed: None,
            cases: crate::defaults::CALIBRATE_CASES,
            concurrency: crate::defaults::CONCURRENCY,
            shrink_budget: crate::defaults::shrink_budget(),
            deadline: Some(crate::defaults::deadline()),
            keep: false,
            variant: Variants::default(),
            alternatives: Alternatives::NONE,
            progress: false,
            handle_signals: false,
            control: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The calibration ran but its files could not all be written: `calibration` holds what it
    /// found, which the caller still prints.
    #[error("cannot write the calibration into {}: {source}", dir.display())]
    NotWritten {
        dir: PathBuf,
        source: std::io::Error,
        calibration: Box<Calibration>,
    },
}

impl CalibrateError {
    /// 2 for an endpoint that could not be reached at all, 3 for usage and configuration (a
    /// calibration whose files could not be written included).
    pub fn exit_code(&self) -> u8 {
        match self {
            CalibrateError::Session(e) => e.exit_code(),
            _ => crate::exit::Exit::Usage.code(),
        }
    }

    pub fn calibration(&self) -> Option<&Calibration> {
        match self {
            CalibrateError::NotWritten { calibration, .. } => Some(calibration),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct CalibrationResult {
    pub calibration: Calibration,
    /// `calibration.json`.
    pub path: PathBuf,
}

impl CalibrationResult {
    /// 0 when the calibration completed, whatever it found; 2 when faults or a stop kept it from
    /// completing.
    pub fn exit_code(&self) -> u8 {
        let exit = if self.calibration.complete {
            crate::exit::Exit::Pass
        } else {
            crate::exit::Exit::Indeterminate
        };
        exit.code()
    }
}

/// Calibrates the endpoint of `options` (the embedded server when none is given) and writes what
/// it found into `options.out`.
pub async fn calibrate(options: CalibrateOptions, env: &dyn Env) -> Result<CalibrationResult, CalibrateError> {
    let control = options
        .control
        .clone()
        .unwrap_or_else(|| RunControl::new(options.deadline.map(|d| std::time::Instant::now() + d)));
    if !options.handle_signals {
        return calibrate_with(options, env, control).await;
    }
    // As a run: the first signal stops and cleans up, a second gives up at once (exit 130).
    let (abort, aborted) = tokio::sync::oneshot::channel();
    let _watcher = session::Watcher(session::watch_signals(control.clone(), abort));
    tokio::select! {
        result = calibrate_with(options, env, control) => result,
        Ok(signal) = aborted => Err(SessionError::Aborted { signal }.into()),
    }
}

async fn calibrate_with(
    options: CalibrateOptions,
    env: &dyn Env,
    control: RunControl,
) -> Result<CalibrationResult, CalibrateError> {
    target::register_secrets(&options.target, env);
    if options.target.read_only {
        return Err(SessionError::Usage("calibrate seeds its probes: it cannot run read-only".into()).into());
    }
    session::check_out(&options.out)?;
    let seed = options.seed.unwrap_or_else(session::fresh_seed);
    let endpoint = target::endpoint_from(&options.target, env);
    // The embedded reference server lives as long as the calibration.
    let (embedded, url) =
        session::endpoint_or_embedded(&endpoint, &options.target, &options.variant, options.alternatives, env).await?;
    let (client, credentials) = target::client_for(&url, &options.target, env)?;
    let target_name = match &endpoint {
        None => session::embedded_name(&options.variant, options.alternatives),
        Some(e) => target::target_name(Some(e)),
    };
    let shown = crate::redact::endpoint(&url);
    let region = client.config().region.clone();
    let date = record::utc_date(std::time::SystemTime::now());
    if options.progress {
        crate::console::note(format!(
            "ecr-conformance calibrate: seed {seed}, target {target_name} ({shown}), region {region}, credentials from {}",
            credentials.source
        ));
    }
    let registry_hint = if embedded.is_some() {
        server::REGISTRY_ID
    } else {
        "000000000000"
    };
    let probes = questions::probes();
    let prefix = run::run_prefix(seed);
    let asked = probe::ask_all(&client, &probes, &prefix, registry_hint, &control, options.progress).await;
    let mut leftovers = Vec::new();
    let created = control.created_repositories();
    if !options.keep {
        leftovers = crate::seeding::cleanup(&client, &created).await;
        control.deleted(&created);
    }
    let generated = if options.cases > 0 && asked.stopped.is_none() && !control.should_stop() {
        let mut config = RunConfig::new(seed);
        config.cases = options.cases;
        config.concurrency = options.concurrency;
        config.shrink_budget = options.shrink_budget;
        config.progress = options.progress;
        config.registry_hint = asked.account.clone();
        config.keep = options.keep;
        config.control = control.clone();
        let outcome = run::run(&client, &config).await;
        leftovers.extend(outcome.leftovers.iter().cloned());
        Some(outcome)
    } else {
        None
    };
    if let Some(server) = embedded {
        server.stop().await;
    }
    let ctx = report::Context {
        endpoint: shown,
        region,
        date,
        target: target_name,
        seed,
        requests: client.stats().requests.load(Ordering::Relaxed),
        leftovers,
    };
    let (calibration, files) = report::build(&ctx, &probes, &asked, generated.as_ref());
    match write(&options.out, &calibration, &files) {
        Ok(path) => Ok(CalibrationResult { calibration, path }),
        Err(source) => Err(CalibrateError::NotWritten {
            dir: options.out.clone(),
            source,
            calibration: Box::new(calibration),
        }),
    }
}

/// Writes `calibration.json`, `calibration.md` and the case files, each through the redaction.
fn write(dir: &std::path::Path, calibration: &Calibration, files: &[(String, String)]) -> std::io::Result<PathBuf> {
    let put = |relative: &str, text: &str| -> std::io::Result<()> {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, crate::redact::text(text).as_bytes())
    };
    // The case files first: calibration.json names them, and must not name files that are not there.
    for (relative, text) in files {
        put(relative, text)?;
    }
    let json = serde_json::to_string_pretty(calibration).map_err(std::io::Error::other)?;
    put("calibration.json", &(json + "\n"))?;
    put("calibration.md", &report::markdown(calibration))?;
    Ok(dir.join("calibration.json"))
}

/// The calibration's summary for the terminal: one line per question, the doubts, the folder.
pub fn summary(c: &Calibration) -> String {
    let mut out = format!(
        "calibration of {} ({}, {}): {}\n",
        c.target,
        c.endpoint,
        c.date,
        if c.complete { "complete" } else { "incomplete" }
    );
    for q in &c.questions {
        let answer = match (q.answer, &q.not_asked, &q.fault) {
            (Some(a), _, _) if Some(a) == q.model_answer => format!("{a} (as the model)"),
            (Some(a), _, _) => format!("{a} (the model: {})", q.model_answer.unwrap_or("none")),
            (None, Some(why), _) => format!("not asked: {why}"),
            (None, _, Some(why)) => format!("no answer: {why}"),
            (None, None, None) => "no answer".into(),
        };
        out.push_str(&format!("  {:<26} {answer}\n", q.id));
    }
    match &c.generated_run {
        Some(g) => out.push_str(&format!(
            "  generated run: {} cases, {} model doubts\n",
            g.cases,
            c.doubts.len()
        )),
        None => out.push_str("  no generated run\n"),
    }
    if let Some(why) = &c.stopped {
        out.push_str(&format!("  stopped: {why}\n"));
    }
    out
}

//! A conformance run: case files first, then generated worlds. Each world is a generated registry
//! state, seeded once, against which many generated requests run concurrently; each answer is
//! judged against the model, a sample is also checked for the metamorphic properties, and the
//! first failing case of each kind is shrunk to a minimal request. The run orchestrates; it
//! knows neither ECR (the model does) nor HTTP (the client does).
//!
//! Its parts: [`case`] sends one request and judges it (the model and the metamorphic
//! properties); `world` schedules the worlds (generate, seed, run, shrink); `files` runs the case
//! files; `book` takes each result into the [`RunOutcome`]; [`shrink`] makes a failing case
//! minimal. What the run finds is written in [`crate::outcome`]'s words.

mod book;
pub mod case;
mod files;
pub mod shrink;
mod world;

use crate::cases::CaseFile;
use crate::client::EcrClient;
use crate::control::RunControl;
use crate::model::RegistryState;
use crate::outcome::{Fault, Property, RunOutcome};
use crate::seeding;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generated requests per world: one seeded state serves this many cases.
pub const CASES_PER_WORLD: usize = 100;
/// Every how many cases the metamorphic properties are checked too.
pub const METAMORPHIC_EVERY: usize = 4;

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub seed: u64,
    /// Generated requests in all (case files come on top).
    pub cases: usize,
    pub concurrency: usize,
    /// Requests sent while shrinking one failing case, at most.
    pub shrink_steps: usize,
    /// Time spent shrinking in all, at most.
    pub shrink_budget: Duration,
    pub case_files: Vec<(PathBuf, CaseFile)>,
    /// Every repository the run creates starts with this (`ecrc-...`).
    pub prefix: String,
    /// The registry id assumed until the endpoint names its own.
    pub registry_hint: String,
    /// Progress lines on stderr.
    pub progress: bool,
    /// Stop flag, deadline and the ledger of created repositories.
    pub control: RunControl,
    /// Leave the created repositories in place (`--keep`), for debugging.
    pub keep: bool,
    /// Read-only mode: no seeding; the generated requests run against these repositories as they are.
    pub read_only: Option<Vec<String>>,
    /// The properties selected; None: all.
    pub properties: Option<BTreeSet<Property>>,
    /// The worlds (numbered from 1) this run seeds and runs; None: all. A partition runs only its
    /// own, each drawn from its own generator, so it is the world a whole run would have had.
    pub worlds: Option<BTreeSet<usize>>,
    /// The case files (by name) this run sends; None: all. The others keep their place, so that a
    /// case file's repositories are named alike whichever partition runs it.
    pub case_files_selected: Option<BTreeSet<String>>,
}

impl RunConfig {
    /// Whether a property is selected.
    pub fn checks(&self, property: Property) -> bool {
        self.properties.as_ref().is_none_or(|p| p.contains(&property))
    }

    /// Whether this run runs world `index` (from 0): every world, or its partition's own.
    fn runs_world(&self, index: usize) -> bool {
        self.worlds.as_ref().is_none_or(|own| own.contains(&(index + 1)))
    }

    /// Whether any generated world is needed.
    fn generates(&self) -> bool {
        Property::ALL.iter().any(|p| self.checks(*p))
    }

    /// The defaults ([`crate::defaults`]) for a run with `seed`.
    pub fn new(seed: u64) -> Self {
        use crate::defaults;
        RunConfig {
            seed,
            cases: defaults::CASES,
            concurrency: defaults::CONCURRENCY,
            shrink_steps: defaults::SHRINK_STEPS,
            shrink_budget: defaults::shrink_budget(),
            case_files: Vec::new(),
            prefix: run_prefix(seed),
            registry_hint: defaults::REGISTRY_HINT.into(),
            progress: false,
            control: RunControl::default(),
            keep: false,
            read_only: None,
            properties: None,
            worlds: None,
            case_files_selected: None,
        }
    }
}

/// The repository prefix of a run: derived from the seed, so that the same seed sends the same
/// requests, and marked `ecrc-` so that a sweep knows what is the tool's.
pub fn run_prefix(seed: u64) -> String {
    format!("ecrc-{:08x}", (seed ^ (seed >> 32)) as u32)
}

fn progress(config: &RunConfig, line: impl AsRef<str>) {
    if config.progress {
        crate::console::note(line);
    }
}

/// Runs the whole conformance run against `client`.
pub async fn run(client: &EcrClient, config: &RunConfig) -> RunOutcome {
    let started = Instant::now();
    // One bound on calls in flight for the whole run: the next world's seeding runs beside this
    // world's cases and shrinking, and together they stay within `--concurrency`.
    // Its calls end at the run's stop rather than retry or wait for their turn past it (a run
    // throttled hard would end tens of seconds after its deadline); deletions are made without
    // it (`clean_up`, and each world's).
    let limited = client.with_max_in_flight(config.concurrency).with_stop(&config.control);
    let client = &limited;
    let mut out = RunOutcome::default();

    let mut first = None;
    if config.read_only.is_none() {
        // The first world is generated and seeded while the case files run.
        first = tokio::join!(
            Box::pin(files::run_case_files(client, config, &mut out)),
            world::prepare_first(client, config)
        )
        .1;
    } else {
        for (_, case) in &config.case_files {
            out.skipped_cases
                .push((case.name.clone(), "read-only run: case files need seeding".into()));
        }
    }
    let read_state = read_only_state(client, config, &mut out).await;
    world::run_worlds(client, config, read_state, first, &mut out).await;
    clean_up(client, config, &mut out).await;
    out.elapsed = started.elapsed();
    out
}

/// In read-only mode, the one state read from the endpoint that serves every world's cases.
async fn read_only_state(client: &EcrClient, config: &RunConfig, out: &mut RunOutcome) -> Option<Arc<RegistryState>> {
    let repositories = config.read_only.as_ref()?;
    match seeding::read_state(client, repositories, &config.registry_hint).await {
        Ok(state) => Some(Arc::new(state)),
        Err(crate::client::ApiError::Call(crate::client::CallError::Stopped { reason, .. })) => {
            out.aborted = Some(reason);
            None
        }
        Err(e) => {
            out.aborted = Some(format!("cannot read the named repositories: {e}"));
            out.faults.push(Fault::new(
                crate::outcome::Origin::ReadOnly,
                book::api_fault_kind(&e),
                e.to_string(),
            ));
            None
        }
    }
}

/// Deletes what the run created (unless `--keep`), and notes a stop that came at the end.
async fn clean_up(client: &EcrClient, config: &RunConfig, out: &mut RunOutcome) {
    let control = &config.control;
    if config.keep {
        progress(
            config,
            format!("keeping {} repositories (--keep)", control.created_repositories().len()),
        );
    } else {
        let created = control.created_repositories();
        progress(config, format!("cleaning up {} repositories", created.len()));
        out.leftovers = seeding::cleanup(&client.without_stop(), &created).await;
        control.deleted(&created);
    }
    if out.aborted.is_none()
        && let Some(reason) = control.stop_reason()
    {
        out.aborted = Some(reason);
    }
}

/// The generator of world `index` (from 0) of a run with `seed`.
pub fn world_rng(seed: u64, index: usize) -> TestRunner {
    let mut bytes = seed_bytes(seed);
    // The world's number folded into the key (world 0 keeps the run's key).
    for (b, x) in bytes
        .iter_mut()
        .zip((index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03).to_le_bytes())
    {
        *b ^= x;
    }
    TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_add(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes());
    }
    bytes
}

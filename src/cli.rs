//! The command line's shape: clap's structs, their defaults ([`ecr_conformance::defaults`]), and
//! their mapping into the library's options. Parsing only; `main.rs` dispatches.

use clap::{Args, Parser, Subcommand, ValueEnum};
use ecr_conformance::calibrate::CalibrateOptions;
use ecr_conformance::defaults;
use ecr_conformance::exit::RUN_EXIT_CODES;
use ecr_conformance::server::{Alternatives, ServerConfig, Variants};
use ecr_conformance::session::RunOptions;
use ecr_conformance::target::TargetOptions;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ecr-conformance",
    version,
    about = "How well does an ECR-compatible registry implement BatchGetImage?"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the conformance suite against an endpoint (default: the embedded reference server).
    ///
    /// Seeds generated registry states, and those of the case files, into the endpoint, sends BatchGetImage
    /// requests, compares every answer with the reference model of ECR, and writes the reports.
    /// Every case file and every generated world is a trial (`case::NAME`, `world::N`; a filter
    /// `property::P` selects property P on every world): a FILTER, --exact, --skip and --list select
    /// them as a test harness does, and their results are printed on stdout in its format.
    #[command(after_help = RUN_EXIT_CODES)]
    Run(Box<RunArgs>),
    /// Calibrate the model against an endpoint taken as the truth: ask the reference's open
    /// questions, record the answers as case files, and report the model's doubts.
    Calibrate(Box<CalibrateArgs>),
    /// Re-run exactly the cases of case files (for example a class's `reports/cases/*.json`).
    #[command(after_help = RUN_EXIT_CODES)]
    Replay(ReplayArgs),
    /// Accept or reject pending snapshots (`.snap.new`) of new deviation classes.
    Review {
        /// The snapshot root.
        #[arg(long, default_value = defaults::SNAPSHOTS)]
        snapshots: PathBuf,
        /// Only this target's snapshots.
        #[arg(long)]
        target: Option<String>,
        /// Accept every pending snapshot.
        #[arg(long, conflicts_with = "reject")]
        accept: bool,
        /// Reject every pending snapshot.
        #[arg(long)]
        reject: bool,
    },
    /// Serve the embedded reference server on loopback until interrupted.
    Serve {
        /// The loopback port to listen on (0: a free one; the URL is printed on stdout).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve a deliberately broken (or harmlessly different) variant instead of the reference;
        /// several (`A,B`) serve their bugs together.
        #[arg(long, value_name = "NAME[,NAME...]", default_value = "reference", value_parser = parse_variant)]
        variant: Variants,
        /// Switch on these alternative answers (the reference allows them; `variants` lists them).
        #[arg(long, value_name = "NAME,...", default_value = "", value_parser = Alternatives::from_list)]
        alternatives: Alternatives,
        /// Delay every answer by this many milliseconds, as a remote registry's round trip would
        /// (to measure what one costs a run).
        #[arg(long, value_name = "N", default_value_t = 0)]
        latency_ms: u64,
    },
    /// The conformance matrix (rules by implementation) from report files: `REPORT[=NAME]...`.
    Matrix {
        /// Reports of runs (`report.json`), each optionally named for its column: `PATH=NAME`
        /// (default: the report's target).
        #[arg(required = true, value_name = "REPORT[=NAME]")]
        reports: Vec<String>,
        /// Put the matrix into this file, between `<!-- matrix:begin -->` and `<!-- matrix:end -->`.
        #[arg(long)]
        readme: Option<PathBuf>,
        /// With --readme: change nothing; exit 1 if the file's matrix is not the current one.
        #[arg(long, requires = "readme")]
        check: bool,
    },
    /// Compare the deviation classes of several runs' reports (two seeds, say): exit 0 when every
    /// report found the same classes, 1 when not (the classes only some found are listed).
    #[command(after_help = "Exit codes: 0 the same classes, 1 not, 3 a file that is not a readable report.json.")]
    Classes {
        /// Two or more reports of runs (`report.json`) against one implementation.
        #[arg(required = true, num_args = 2.., value_name = "REPORT")]
        reports: Vec<PathBuf>,
    },
    /// Merge the reports of a run's partitions (`run --partition K/N`) into the one report, verdict,
    /// classes and pending snapshots a single run would have had.
    #[command(
        after_help = "Exit codes: as the single run's: 0 pass, 1 fail, 2 indeterminate; 3 reports of different seeds, targets, tool versions or sizes, an unreadable report, or a partition missing or given twice."
    )]
    Merge {
        /// Every partition's `report.json` (the folders beside them hold their case files and
        /// pending snapshots).
        #[arg(required = true, value_name = "REPORT")]
        reports: Vec<PathBuf>,
        /// Where the merged reports go.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the rule catalogue: each rule's id, level, the level of its texts, its evidence and
    /// what it claims.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// List the embedded server's variants, one per line: name, the rule it breaks, what it does;
    /// then its alternative answers: name, the rule that allows it, what it changes.
    Variants {
        /// `json`: {"variants": [{name, group, rule, description, changesStateOnReads}],
        /// "alternatives": [{name, rule, description, masks: [{variant, reason}]}]}.
        #[arg(long, value_enum, default_value_t = VariantsFormat::Text)]
        format: VariantsFormat,
    },
    /// Delete the repositories earlier runs left behind (only names starting with the tool's `ecrc-`).
    #[command(
        mut_arg("endpoint", |a| a.help(
            "The endpoint to sweep (else AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL): required, the embedded server holds nothing to sweep"
        )),
        after_help = "Exit codes: 0 every repository found was deleted, 2 some could not be, 3 usage error."
    )]
    Sweep {
        #[command(flatten)]
        target: TargetArgs,
        /// Only repositories whose names start with this (must start with `ecrc-`).
        #[arg(long, default_value = "ecrc-")]
        prefix: String,
    },
}

/// `rules --format`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum RulesFormat {
    Text,
    Markdown,
    Json,
}

/// `variants --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum VariantsFormat {
    Text,
    Json,
}

/// Where the implementation under test is and how to reach it.
#[derive(Args)]
pub(crate) struct TargetArgs {
    /// The endpoint (else AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL, else the embedded server).
    #[arg(long)]
    endpoint: Option<String>,
    /// The region to sign for (else AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = defaults::TIMEOUT_SECONDS)]
    timeout: f64,
    /// Attempts per request, the first included (throttling, 429 and 5xx are retried).
    #[arg(long, default_value_t = defaults::MAX_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// Attempts per request for throttling answers, counted apart from --max-attempts (each one
    /// also slows the client-side rate down, as the SDKs' adaptive retry mode does).
    #[arg(long, default_value_t = defaults::MAX_THROTTLE_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_throttle_attempts: u32,
    /// Requests per second at most, e.g. `20/s`.
    #[arg(long, value_parser = parse_rate)]
    rate_limit: Option<f64>,
    /// Trust these PEM roots instead of the system's (else AWS_CA_BUNDLE).
    #[arg(long)]
    ca_bundle: Option<PathBuf>,
    /// Accept any TLS certificate (never for a real registry).
    #[arg(long)]
    insecure: bool,
    /// Allow plain HTTP to a host that is not loopback.
    #[arg(long)]
    allow_http: bool,
}

impl TargetArgs {
    pub(crate) fn options(&self, read_only: bool) -> Result<TargetOptions, String> {
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            return Err("--timeout must be a positive number of seconds".into());
        }
        Ok(TargetOptions {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            timeout: Some(Duration::from_secs_f64(self.timeout)),
            max_attempts: Some(self.max_attempts),
            max_throttle_attempts: Some(self.max_throttle_attempts),
            allow_http: self.allow_http,
            ca_bundle: self.ca_bundle.clone(),
            insecure: self.insecure,
            rate_limit: self.rate_limit,
            read_only,
        })
    }
}

#[derive(Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Makes the run reproducible; printed and written in the report. Default: a fresh one.
    #[arg(long)]
    seed: Option<u64>,
    /// How many generated requests to send (case files come on top).
    #[arg(long, default_value_t = defaults::CASES)]
    cases: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = defaults::CONCURRENCY as u64, value_parser = clap::value_parser!(u64).range(1..=256))]
    concurrency: u64,
    /// Where the reports go.
    #[arg(long, default_value = defaults::OUT)]
    out: PathBuf,
    /// Advisory deviations and fixed classes fail the run too.
    #[arg(long)]
    strict: bool,
    /// The implementation's name: its snapshots live in `<snapshots>/<target>/`.
    #[arg(long = "target")]
    target_name: Option<String>,
    /// The snapshot root.
    #[arg(long, default_value = defaults::SNAPSHOTS)]
    snapshots: PathBuf,
    /// Use no baseline and write no snapshot.
    #[arg(long)]
    no_snapshots: bool,
    /// The folder of case files run first (default `cases/`, skipped when absent; a folder named
    /// here must exist).
    #[arg(long)]
    cases_dir: Option<PathBuf>,
    /// Run no case files.
    #[arg(long)]
    no_case_files: bool,
    /// Without --endpoint: run against this variant of the embedded server (several, `A,B`: their
    /// bugs together).
    #[arg(long, value_name = "NAME[,NAME...]", default_value = "reference", value_parser = parse_variant)]
    variant: Variants,
    /// Without --endpoint: switch on these alternative answers of the embedded server (answers the
    /// reference allows beside the model's; `variants` lists them). The run must pass the gate.
    #[arg(long, value_name = "NAME,...", default_value = "", value_parser = Alternatives::from_list)]
    alternatives: Alternatives,
    /// Seconds spent shrinking failing cases, at most.
    #[arg(long, default_value_t = defaults::SHRINK_SECONDS)]
    shrink_seconds: u64,
    /// The whole run's deadline, in seconds: past it the run stops, cleans up and reports.
    #[arg(long, default_value_t = defaults::DEADLINE_SECONDS)]
    deadline: u64,
    /// Run only partition K of N (`K/N`, or nextest's `count:K/N`): the run's trials, case files
    /// then worlds, are dealt round-robin; `merge` makes the partitions' reports one.
    #[arg(long, value_name = "K/N", value_parser = ecr_conformance::trials::Partition::parse)]
    partition: Option<ecr_conformance::trials::Partition>,
    /// Leave the repositories the run created, for debugging (`sweep` deletes them later).
    #[arg(long)]
    keep: bool,
    /// Seed nothing and write nothing: run against the named repositories as they are.
    #[arg(long, requires = "repository")]
    read_only: bool,
    /// A repository to read in --read-only mode (repeatable).
    #[arg(long = "repository", value_name = "NAME", num_args = 1.., requires = "read_only")]
    repository: Vec<String>,
    /// Start the implementation under test with this command (`{port}` becomes a free loopback
    /// port), wait until it answers, run against it, and stop it at the end.
    #[arg(long, conflicts_with = "endpoint")]
    spawn: Option<String>,
    /// Seconds a spawned implementation may take to answer.
    #[arg(long, default_value_t = defaults::SPAWN_TIMEOUT_SECONDS)]
    spawn_timeout: u64,
    #[command(flatten)]
    harness: HarnessArgs,
}

/// The test-harness arguments that mean something for a run's trials (`run --list` names them).
/// libtest-mimic's own parser is not used: it brings flags that do nothing here (benchmarks,
/// threads, a log file) and would replace the command's usage line and help.
#[derive(Args)]
#[command(next_help_heading = "Trials (as a test harness selects them)")]
pub(crate) struct HarnessArgs {
    /// Run only the trials whose name contains FILTER (`property::model`, `case::NAME`, ...).
    #[arg(value_name = "FILTER")]
    filter: Option<String>,
    /// FILTER and --skip match whole trial names, not parts.
    #[arg(long)]
    exact: bool,
    /// Leave out the trials whose name contains PATTERN (repeatable).
    #[arg(long, value_name = "PATTERN")]
    skip: Vec<String>,
    /// List the trials, run nothing.
    #[arg(long)]
    list: bool,
    /// Also run the ignored trials (case files that cannot be seeded on an endpoint).
    #[arg(long, conflicts_with = "ignored")]
    include_ignored: bool,
    /// Run only the ignored trials.
    #[arg(long)]
    ignored: bool,
    /// How the trials' results are printed on stdout.
    #[arg(long, value_enum)]
    format: Option<TrialsFormat>,
    /// The terse format, and no progress on stderr.
    #[arg(short, long, conflicts_with = "format")]
    quiet: bool,
}

/// `run --format`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum TrialsFormat {
    /// One line per trial.
    Pretty,
    /// One character per trial.
    Terse,
    /// libtest's JSON events, one a line.
    Json,
}

impl HarnessArgs {
    pub(crate) fn arguments(&self) -> libtest_mimic::Arguments {
        use libtest_mimic::FormatSetting;
        libtest_mimic::Arguments {
            filter: self.filter.clone(),
            exact: self.exact,
            skip: self.skip.clone(),
            list: self.list,
            include_ignored: self.include_ignored,
            ignored: self.ignored,
            quiet: self.quiet,
            format: self.format.map(|f| match f {
                TrialsFormat::Pretty => FormatSetting::Pretty,
                TrialsFormat::Terse => FormatSetting::Terse,
                TrialsFormat::Json => FormatSetting::Json,
            }),
            ..libtest_mimic::Arguments::default()
        }
    }
}

#[derive(Args)]
pub(crate) struct CalibrateArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Where calibration.json, calibration.md, cases/ (one case file per probe) and doubts/ go.
    #[arg(long, default_value = defaults::CALIBRATE_OUT)]
    out: PathBuf,
    /// The generated run's seed (and the calibration's repository prefix). Default: a fresh one.
    #[arg(long)]
    seed: Option<u64>,
    /// Generated requests after the probes, whose deviations are model doubts; 0: none.
    #[arg(long, default_value_t = defaults::CALIBRATE_CASES)]
    cases: usize,
    /// Requests in flight at once in the generated run.
    #[arg(long, default_value_t = defaults::CONCURRENCY as u64, value_parser = clap::value_parser!(u64).range(1..=256))]
    concurrency: u64,
    /// Seconds spent shrinking the generated run's deviations, at most.
    #[arg(long, default_value_t = defaults::SHRINK_SECONDS)]
    shrink_seconds: u64,
    /// The whole calibration's deadline, in seconds: past it, it stops, cleans up and reports.
    #[arg(long, default_value_t = defaults::DEADLINE_SECONDS)]
    deadline: u64,
    /// Leave the repositories the calibration created, for debugging (`sweep` deletes them later).
    #[arg(long)]
    keep: bool,
    /// Without --endpoint: calibrate this variant of the embedded server (several: `A,B`).
    #[arg(long, value_name = "NAME[,NAME...]", default_value = "reference", value_parser = parse_variant)]
    variant: Variants,
    /// Without --endpoint: switch on these alternative answers of the embedded server.
    #[arg(long, value_name = "NAME,...", default_value = "", value_parser = Alternatives::from_list)]
    alternatives: Alternatives,
    /// No progress lines.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.strip_suffix("/s").unwrap_or(text);
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!("{text:?} is not a rate such as 20/s")),
    }
}

fn parse_variant(list: &str) -> Result<Variants, String> {
    Variants::parse(list).map_err(|e| e.to_string())
}

/// The embedded server's configuration for `serve`.
pub(crate) fn serve_config(variant: Variants, alternatives: Alternatives, latency_ms: u64) -> ServerConfig {
    ServerConfig {
        variant,
        alternatives,
        latency: Duration::from_millis(latency_ms),
        ..ServerConfig::default()
    }
}

impl RunArgs {
    /// The run's options and the trials' harness arguments.
    pub(crate) fn options(self) -> Result<(RunOptions, libtest_mimic::Arguments), String> {
        let target = self.target.options(self.read_only)?;
        let harness = self.harness.arguments();
        let options = RunOptions {
            target,
            seed: self.seed,
            cases: self.cases,
            concurrency: self.concurrency as usize,
            out: self.out,
            strict: self.strict,
            require_cases_dir: self.cases_dir.is_some(),
            cases_dir: (!self.no_case_files)
                .then(|| self.cases_dir.unwrap_or_else(|| PathBuf::from(defaults::CASES_DIR))),
            variant: self.variant,
            alternatives: self.alternatives,
            shrink_budget: Duration::from_secs(self.shrink_seconds),
            progress: true,
            deadline: Some(Duration::from_secs(self.deadline)),
            keep: self.keep,
            read_only: self.read_only.then_some(self.repository),
            handle_signals: true,
            target_name: self.target_name,
            snapshots: (!self.no_snapshots).then_some(self.snapshots),
            ci: std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0"),
            spawn: self.spawn,
            spawn_startup: Duration::from_secs(self.spawn_timeout),
            partition: self.partition,
            ..RunOptions::default()
        };
        Ok((options, harness))
    }
}

impl CalibrateArgs {
    pub(crate) fn options(self) -> Result<CalibrateOptions, String> {
        Ok(CalibrateOptions {
            target: self.target.options(false)?,
            out: self.out,
            seed: self.seed,
            cases: self.cases,
            concurrency: self.concurrency as usize,
            shrink_budget: Duration::from_secs(self.shrink_seconds),
            deadline: Some(Duration::from_secs(self.deadline)),
            keep: self.keep,
            variant: self.variant,
            alternatives: self.alternatives,
            progress: !self.quiet,
            handle_signals: true,
            control: None,
        })
    }
}

/// `replay`'s options: the case files' run, and nothing generated.
#[derive(Args)]
pub(crate) struct ReplayArgs {
    /// Case files.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Where the replay's reports go. Default: `reports/replay/<case name>/`, so that the
    /// run's own reports beside the case file stay as they were.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Advisory deviations fail the replay too.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Without --endpoint: replay against this variant of the embedded server (several: `A,B`).
    #[arg(long, value_name = "NAME[,NAME...]", default_value = "reference", value_parser = parse_variant)]
    pub(crate) variant: Variants,
    /// Without --endpoint: switch on these alternative answers of the embedded server.
    #[arg(long, value_name = "NAME,...", default_value = "", value_parser = Alternatives::from_list)]
    pub(crate) alternatives: Alternatives,
    /// Start the implementation with this command (`{port}`: a free loopback port), as `run`.
    #[arg(long, conflicts_with = "endpoint")]
    pub(crate) spawn: Option<String>,
}

impl ReplayArgs {
    pub(crate) fn options(self) -> Result<RunOptions, String> {
        let out = self
            .out
            .unwrap_or_else(|| ecr_conformance::session::replay_out(std::path::Path::new(defaults::OUT), &self.files));
        Ok(RunOptions {
            target: self.target.options(false)?,
            cases: 0,
            out,
            strict: self.strict,
            variant: self.variant,
            alternatives: self.alternatives,
            case_paths: self.files,
            cases_dir: None,
            spawn: self.spawn,
            progress: true,
            handle_signals: true,
            ..RunOptions::default()
        })
    }
}

//! The command line only: parse, call the library, map errors to exit codes.

use clap::{Args, Parser, Subcommand, ValueEnum};
use ecr_conformance::console;
use ecr_conformance::credentials::ProcessEnv;
use ecr_conformance::report::rules_table;
use ecr_conformance::server::{Alternative, Alternatives, ServerConfig, Variant};
use ecr_conformance::session::{self, RunOptions, TrialsOutcome};
use ecr_conformance::target::TargetOptions;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code for usage and configuration errors.
const USAGE: u8 = 3;

/// The exit codes of `run` and `replay`, the contract CI reads (the README's table).
const RUN_EXIT_CODES: &str = "\
Exit codes:
  0    pass: no deviation class fails the gate
  1    fail: a new or changed deviation class of gate level (of any level with --strict, which
       also fails on an accepted class that no longer occurs)
  2    indeterminate: the endpoint's faults, a stop (signal, --deadline) or an endpoint that is
       not the ECR API kept the run from a verdict
  3    usage or configuration error, found before the first request; or a report that could not
       be written at the end (its verdict is printed all the same)
  4    nothing selected to run (--cases 0 and no case files, or a filter that matches nothing)
  130  a second SIGINT or SIGTERM aborted the run at once (repositories may be left: run sweep)";

#[derive(Parser)]
#[command(
    name = "ecr-conformance",
    version,
    about = "How well does an ECR-compatible registry implement BatchGetImage?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    Replay {
        /// Case files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        target: TargetArgs,
        /// Where the replay's reports go. Default: `reports/replay/<case name>/`, so that the
        /// run's own reports beside the case file stay as they were.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Advisory deviations fail the replay too.
        #[arg(long)]
        strict: bool,
        /// Without --endpoint: replay against this variant of the embedded server.
        #[arg(long, default_value = "reference", value_parser = parse_variant)]
        variant: Variant,
        /// Without --endpoint: switch on these alternative answers of the embedded server.
        #[arg(long, value_name = "NAME,...", default_value = "", value_parser = parse_alternatives)]
        alternatives: Alternatives,
        /// Start the implementation with this command (`{port}`: a free loopback port), as `run`.
        #[arg(long, conflicts_with = "endpoint")]
        spawn: Option<String>,
    },
    /// Accept or reject pending snapshots (`.snap.new`) of new deviation classes.
    Review {
        /// The snapshot root.
        #[arg(long, default_value = "snapshots")]
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
        /// Serve a deliberately broken (or harmlessly different) variant instead of the reference.
        #[arg(long, default_value = "reference", value_parser = parse_variant)]
        variant: Variant,
        /// Switch on these alternative answers (the reference allows them; `variants` lists them).
        #[arg(long, value_name = "NAME,...", default_value = "", value_parser = parse_alternatives)]
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
    Variants,
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
enum RulesFormat {
    Text,
    Markdown,
    Json,
}

/// Where the implementation under test is and how to reach it.
#[derive(Args)]
struct TargetArgs {
    /// The endpoint (else AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL, else the embedded server).
    #[arg(long)]
    endpoint: Option<String>,
    /// The region to sign for (else AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Attempts per request, the first included (throttling, 429 and 5xx are retried).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// Attempts per request for throttling answers, counted apart from --max-attempts (each one
    /// also slows the client-side rate down, as the SDKs' adaptive retry mode does).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
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
    fn options(&self, read_only: bool) -> Result<TargetOptions, String> {
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
struct RunArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Makes the run reproducible; printed and written in the report. Default: a fresh one.
    #[arg(long)]
    seed: Option<u64>,
    /// How many generated requests to send (case files come on top).
    #[arg(long, default_value_t = 400)]
    cases: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    concurrency: u64,
    /// Where the reports go.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Advisory deviations and fixed classes fail the run too.
    #[arg(long)]
    strict: bool,
    /// The implementation's name: its snapshots live in `<snapshots>/<target>/`.
    #[arg(long = "target")]
    target_name: Option<String>,
    /// The snapshot root.
    #[arg(long, default_value = "snapshots")]
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
    /// Without --endpoint: run against this variant of the embedded server.
    #[arg(long, default_value = "reference", value_parser = parse_variant)]
    variant: Variant,
    /// Without --endpoint: switch on these alternative answers of the embedded server (answers the
    /// reference allows beside the model's; `variants` lists them). The run must pass the gate.
    #[arg(long, value_name = "NAME,...", default_value = "", value_parser = parse_alternatives)]
    alternatives: Alternatives,
    /// Seconds spent shrinking failing cases, at most.
    #[arg(long, default_value_t = 30)]
    shrink_seconds: u64,
    /// The whole run's deadline, in seconds: past it the run stops, cleans up and reports.
    #[arg(long, default_value_t = 1800)]
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
    #[arg(long, default_value_t = 90)]
    spawn_timeout: u64,
    #[command(flatten)]
    harness: HarnessArgs,
}

/// The test-harness arguments that mean something for a run's trials (`run --list` names them).
/// libtest-mimic's own parser is not used: it brings flags that do nothing here (benchmarks,
/// threads, a log file) and would replace the command's usage line and help.
#[derive(Args)]
#[command(next_help_heading = "Trials (as a test harness selects them)")]
struct HarnessArgs {
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
enum TrialsFormat {
    /// One line per trial.
    Pretty,
    /// One character per trial.
    Terse,
    /// libtest's JSON events, one a line.
    Json,
}

impl HarnessArgs {
    fn arguments(&self) -> libtest_mimic::Arguments {
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
struct CalibrateArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Where calibration.json, calibration.md, cases/ (one case file per probe) and doubts/ go.
    #[arg(long, default_value = "reports/calibration")]
    out: PathBuf,
    /// The generated run's seed (and the calibration's repository prefix). Default: a fresh one.
    #[arg(long)]
    seed: Option<u64>,
    /// Generated requests after the probes, whose deviations are model doubts; 0: none.
    #[arg(long, default_value_t = 200)]
    cases: usize,
    /// Requests in flight at once in the generated run.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    concurrency: u64,
    /// Seconds spent shrinking the generated run's deviations, at most.
    #[arg(long, default_value_t = 30)]
    shrink_seconds: u64,
    /// The whole calibration's deadline, in seconds: past it, it stops, cleans up and reports.
    #[arg(long, default_value_t = 1800)]
    deadline: u64,
    /// Leave the repositories the calibration created, for debugging (`sweep` deletes them later).
    #[arg(long)]
    keep: bool,
    /// Without --endpoint: calibrate this variant of the embedded server.
    #[arg(long, default_value = "reference", value_parser = parse_variant)]
    variant: Variant,
    /// Without --endpoint: switch on these alternative answers of the embedded server.
    #[arg(long, value_name = "NAME,...", default_value = "", value_parser = parse_alternatives)]
    alternatives: Alternatives,
    /// No progress lines.
    #[arg(long, short)]
    quiet: bool,
}

/// A usage error: one line, exit 3.
fn usage(problem: &str) -> ExitCode {
    console::note(format!("error: {problem}"));
    ExitCode::from(USAGE)
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.strip_suffix("/s").unwrap_or(text);
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!("{text:?} is not a rate such as 20/s")),
    }
}

fn parse_variant(name: &str) -> Result<Variant, String> {
    Variant::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Variant::all().map(Variant::name).collect();
        format!("unknown variant {name:?}; one of: {}", names.join(", "))
    })
}

/// Panic messages through the redaction: one may quote an endpoint, or a value holding a secret.
fn redacting_panic_hook(info: &std::panic::PanicHookInfo<'_>) {
    let thread = std::thread::current();
    console::note(format!("thread '{}' {info}", thread.name().unwrap_or("<unnamed>")));
    let backtrace = std::backtrace::Backtrace::capture();
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        console::note(format!("stack backtrace:\n{backtrace}"));
    } else {
        console::note("note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace");
    }
}

fn parse_alternatives(list: &str) -> Result<Alternatives, String> {
    Alternatives::parse(list)
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(redacting_panic_hook));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // Plain text through the redaction: the error may quote an argument, a URL with a
            // password say.
            console::note(e.render().to_string().trim_end());
            return ExitCode::from(USAGE);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            console::note(format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(USAGE);
        }
    };
    match cli.command {
        Command::Run(args) => runtime.block_on(run(*args)),
        Command::Calibrate(args) => runtime.block_on(calibrate(*args)),
        Command::Replay {
            files,
            target,
            out,
            strict,
            variant,
            alternatives,
            spawn,
        } => runtime.block_on(replay(files, target, out, strict, variant, alternatives, spawn)),
        Command::Review {
            snapshots,
            target,
            accept,
            reject,
        } => review(&snapshots, target.as_deref(), accept, reject),
        Command::Serve {
            port,
            variant,
            alternatives,
            latency_ms,
        } => runtime.block_on(serve(port, serve_config(variant, alternatives, latency_ms))),
        Command::Sweep { target, prefix } => runtime.block_on(sweep(target, prefix)),
        Command::Matrix { reports, readme, check } => matrix(&reports, readme.as_deref(), check),
        Command::Merge { reports, out } => merge(&reports, &out),
        Command::Classes { reports } => match ecr_conformance::report::classes::compare(&reports) {
            Ok(c) => {
                console::out(c.render().trim_end());
                ExitCode::from(u8::from(!c.same()))
            }
            Err(e) => {
                console::note(format!("error: {e}"));
                ExitCode::from(USAGE)
            }
        },
        Command::Rules { format } => {
            let format = match format {
                RulesFormat::Text => rules_table::Format::Text,
                RulesFormat::Markdown => rules_table::Format::Markdown,
                RulesFormat::Json => rules_table::Format::Json,
            };
            console::out(rules_table::render(format).trim_end());
            ExitCode::SUCCESS
        }
        Command::Variants => {
            for v in Variant::all() {
                let rule = match v.expected_rule() {
                    Some(rule) => rule,
                    None if Variant::SOUNDNESS.contains(&v) => "(gate passes)",
                    None => "(conforms)",
                };
                console::out(format!("{:<30} {:<16} {}", v.name(), rule, v.description()));
            }
            console::out("\nalternatives (run, serve, replay --alternatives NAME,...; drawn per run by advisory-mix):");
            for a in Alternative::ALL {
                console::out(format!("{:<30} {:<20} {}", a.name(), a.rule(), a.description()));
            }
            ExitCode::SUCCESS
        }
    }
}

async fn finish(options: RunOptions, harness: &libtest_mimic::Arguments) -> ExitCode {
    match session::run_trials(options, harness, &ProcessEnv).await {
        Ok(TrialsOutcome::Listed) => ExitCode::SUCCESS,
        Ok(TrialsOutcome::Ran(result)) => {
            console::note(result.report.summary().trim_end());
            console::note(format!("report: {}", result.report_path.display()));
            ExitCode::from(result.exit_code())
        }
        Err(e) => {
            // The run finished and only its files are missing: its verdict is still news.
            if let Some(report) = e.report() {
                console::note(report.summary().trim_end());
            }
            console::note(format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(args: RunArgs) -> ExitCode {
    let target = match args.target.options(args.read_only) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let options = RunOptions {
        target,
        seed: args.seed,
        cases: args.cases,
        concurrency: args.concurrency as usize,
        out: args.out,
        strict: args.strict,
        require_cases_dir: args.cases_dir.is_some(),
        cases_dir: (!args.no_case_files).then(|| args.cases_dir.unwrap_or_else(|| PathBuf::from("cases"))),
        variant: args.variant,
        alternatives: args.alternatives,
        shrink_budget: Duration::from_secs(args.shrink_seconds),
        progress: true,
        deadline: Some(Duration::from_secs(args.deadline)),
        keep: args.keep,
        read_only: args.read_only.then_some(args.repository),
        handle_signals: true,
        target_name: args.target_name,
        snapshots: (!args.no_snapshots).then_some(args.snapshots),
        ci: std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0"),
        spawn: args.spawn,
        spawn_startup: Duration::from_secs(args.spawn_timeout),
        partition: args.partition,
        ..RunOptions::default()
    };
    finish(options, &args.harness.arguments()).await
}

async fn calibrate(args: CalibrateArgs) -> ExitCode {
    use ecr_conformance::calibrate::{self, CalibrateOptions};
    let target = match args.target.options(false) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let options = CalibrateOptions {
        target,
        out: args.out,
        seed: args.seed,
        cases: args.cases,
        concurrency: args.concurrency as usize,
        shrink_budget: Duration::from_secs(args.shrink_seconds),
        deadline: Some(Duration::from_secs(args.deadline)),
        keep: args.keep,
        variant: args.variant,
        alternatives: args.alternatives,
        progress: !args.quiet,
        handle_signals: true,
        control: None,
    };
    match calibrate::calibrate(options, &ProcessEnv).await {
        Ok(result) => {
            console::note(calibrate::summary(&result.calibration).trim_end());
            console::note(format!("calibration: {}", result.path.display()));
            ExitCode::from(result.exit_code())
        }
        Err(e) => {
            if let Some(c) = e.calibration() {
                console::note(calibrate::summary(c).trim_end());
            }
            console::note(format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

async fn replay(
    files: Vec<PathBuf>,
    target: TargetArgs,
    out: Option<PathBuf>,
    strict: bool,
    variant: Variant,
    alternatives: Alternatives,
    spawn: Option<String>,
) -> ExitCode {
    let out = out.unwrap_or_else(|| session::replay_out(std::path::Path::new("reports"), &files));
    let target = match target.options(false) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let options = RunOptions {
        target,
        cases: 0,
        out,
        strict,
        variant,
        alternatives,
        case_paths: files,
        cases_dir: None,
        spawn,
        progress: true,
        handle_signals: true,
        ..RunOptions::default()
    };
    finish(options, &libtest_mimic::Arguments::default()).await
}

fn review(root: &std::path::Path, target: Option<&str>, accept: bool, reject: bool) -> ExitCode {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let outcome = session::review(root, target, |path, text| {
        if accept || reject {
            console::note(format!(
                "{} {}",
                if accept { "accepted" } else { "rejected" },
                path.display()
            ));
            return Some(accept);
        }
        console::out(format!("\n{}\n{text}", path.display()));
        console::out("[a]ccept, [r]eject, [s]kip?");
        match lines.next() {
            Some(Ok(answer)) if answer.trim().starts_with('a') => Some(true),
            Some(Ok(answer)) if answer.trim().starts_with('r') => Some(false),
            _ => None,
        }
    });
    match outcome {
        Ok((a, r)) => {
            console::note(format!("{a} accepted, {r} rejected"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            console::note(format!("error: {e}"));
            ExitCode::from(USAGE)
        }
    }
}

/// The embedded server's configuration for `serve`.
fn serve_config(variant: Variant, alternatives: Alternatives, latency_ms: u64) -> ServerConfig {
    ServerConfig {
        variant,
        alternatives,
        latency: Duration::from_millis(latency_ms),
        ..ServerConfig::default()
    }
}

async fn serve(port: u16, config: ServerConfig) -> ExitCode {
    let (variant, alternatives) = (config.variant, config.alternatives);
    let server = match session::serve(port, config).await {
        Ok(s) => s,
        Err(e) => {
            console::note(format!("error: {e}"));
            return ExitCode::from(e.exit_code());
        }
    };
    console::out(server.url());
    console::note(format!(
        "serving the embedded reference server ({}{}) on {}; Ctrl-C stops it",
        variant.name(),
        if alternatives.is_empty() {
            String::new()
        } else {
            format!(", alternatives {alternatives}")
        },
        server.url()
    ));
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    ExitCode::SUCCESS
}

async fn sweep(target: TargetArgs, prefix: String) -> ExitCode {
    let target = match target.options(false) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    match session::sweep(&target, &prefix, &ProcessEnv).await {
        Ok((deleted, failed)) => {
            for name in &deleted {
                console::out(format!("deleted {name}"));
            }
            for (name, why) in &failed {
                console::note(format!("not deleted {name}: {why}"));
            }
            console::note(format!("{} deleted, {} not deleted", deleted.len(), failed.len()));
            ExitCode::from(if failed.is_empty() { 0 } else { 2 })
        }
        Err(e) => {
            console::note(format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

fn merge(reports: &[PathBuf], out: &std::path::Path) -> ExitCode {
    match ecr_conformance::report::merge::merge(reports, out) {
        Ok(report) => {
            console::note(report.summary().trim_end());
            console::note(format!("report: {}", out.join("report.json").display()));
            ExitCode::from(report.verdict.exit_code())
        }
        Err(e) => {
            console::note(format!("error: {e}"));
            ExitCode::from(USAGE)
        }
    }
}

fn matrix(reports: &[String], readme: Option<&std::path::Path>, check: bool) -> ExitCode {
    use ecr_conformance::report::matrix;
    let parsed: Vec<(PathBuf, Option<String>)> = reports
        .iter()
        .map(|r| match r.split_once('=') {
            Some((path, name)) => (PathBuf::from(path), Some(name.to_string())),
            None => (PathBuf::from(r), None),
        })
        .collect();
    let table = match matrix::render(&parsed) {
        Ok(t) => t,
        Err(e) => {
            console::note(format!("error: {e}"));
            return ExitCode::from(USAGE);
        }
    };
    let Some(path) = readme else {
        console::out(table.trim_end());
        return ExitCode::SUCCESS;
    };
    let shown = path.display().to_string();
    let result = std::fs::read_to_string(path)
        .map_err(|source| matrix::MatrixError::Io {
            path: shown.clone(),
            source,
        })
        .and_then(|text| matrix::splice(&text, &table, &shown).map(|new| (text, new)));
    match result {
        Ok((old, new)) if check => {
            if old == new {
                ExitCode::SUCCESS
            } else {
                console::note(format!(
                    "{shown}: the matrix is not the current one; run `ecr-conformance matrix ... --readme {shown}`"
                ));
                ExitCode::from(1)
            }
        }
        Ok((_, new)) => match std::fs::write(path, new) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                console::note(format!("error: {shown}: {e}"));
                ExitCode::from(USAGE)
            }
        },
        Err(e) => {
            console::note(format!("error: {e}"));
            ExitCode::from(USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The delay itself is a matter of timing (measured by `scripts/bench.sh`, never asserted):
    /// what is checked is that the option reaches the server's configuration.
    #[test]
    fn serve_latency_ms_is_carried_into_the_server_config() {
        let cli = Cli::try_parse_from(["ecr-conformance", "serve", "--latency-ms", "20"]).expect("parses");
        let Command::Serve {
            variant,
            alternatives,
            latency_ms,
            ..
        } = cli.command
        else {
            panic!("not the serve command");
        };
        assert_eq!(latency_ms, 20);
        assert_eq!(
            serve_config(variant, alternatives, latency_ms).latency,
            Duration::from_millis(20)
        );
        let cli = Cli::try_parse_from(["ecr-conformance", "serve"]).expect("parses");
        let Command::Serve { latency_ms, .. } = cli.command else {
            panic!("not the serve command");
        };
        assert_eq!(latency_ms, 0, "no delay unless asked");
        assert!(Cli::try_parse_from(["ecr-conformance", "serve", "--latency-ms", "-1"]).is_err());
    }
}

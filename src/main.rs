//! The command line only: parse, call the library, map errors to exit codes.

use clap::{Parser, Subcommand};
use ecr_conformance::server::Variant;
use ecr_conformance::session::{self, RunOptions};
use ecr_conformance::target::TargetOptions;
use std::path::PathBuf;
use std::process::ExitCode;

use ecr_conformance::console;

macro_rules! console_note { ($($t:tt)*) => { console::note(format!($($t)*)) }; }
macro_rules! console_out { ($($t:tt)*) => { console::out(format!($($t)*)) }; }
use std::time::Duration;

/// Exit code for usage and configuration errors.
const USAGE: u8 = 3;

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
    Run(RunArgs),
    /// Serve the embedded reference server on loopback until interrupted.
    Serve {
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve a deliberately broken (or harmlessly different) variant instead of the reference.
        #[arg(long, default_value = "reference", value_parser = parse_variant)]
        variant: Variant,
    },
    /// List the embedded server's variants, one per line: name, the rule it breaks, what it does.
    Variants,
    /// Delete the repositories earlier runs left behind (only names starting with the tool's `ecrc-`).
    Sweep {
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long)]
        region: Option<String>,
        /// Only repositories whose names start with this (must start with `ecrc-`).
        #[arg(long, default_value = "ecrc-")]
        prefix: String,
        #[arg(long)]
        ca_bundle: Option<PathBuf>,
        #[arg(long)]
        insecure: bool,
        #[arg(long)]
        allow_http: bool,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// The endpoint (else AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL, else the embedded server).
    #[arg(long)]
    endpoint: Option<String>,
    /// The region to sign for (else AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Makes the run reproducible; printed and written in the report. Default: a fresh one.
    #[arg(long)]
    seed: Option<u64>,
    /// How many generated requests to send (case files come on top).
    #[arg(long, default_value_t = 400)]
    cases: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    concurrency: u64,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Attempts per request, the first included (throttling, 429 and 5xx are retried).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// Where report.json goes.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Advisory deviations fail the run too.
    #[arg(long)]
    strict: bool,
    /// The folder of case files run first.
    #[arg(long, default_value = "cases")]
    cases_dir: PathBuf,
    /// Run no case files.
    #[arg(long)]
    no_case_files: bool,
    /// Without --endpoint: run against this variant of the embedded server.
    #[arg(long, default_value = "reference", value_parser = parse_variant)]
    variant: Variant,
    /// Seconds spent shrinking failing cases, at most.
    #[arg(long, default_value_t = 30)]
    shrink_seconds: u64,
    /// Allow plain HTTP to a host that is not loopback.
    #[arg(long)]
    allow_http: bool,
    /// Trust these PEM roots instead of the system's (else AWS_CA_BUNDLE).
    #[arg(long)]
    ca_bundle: Option<PathBuf>,
    /// Accept any TLS certificate (never for a real registry).
    #[arg(long)]
    insecure: bool,
    /// Requests per second at most, e.g. `20/s`.
    #[arg(long, value_parser = parse_rate)]
    rate_limit: Option<f64>,
    /// The whole run's deadline, in seconds: past it the run stops, cleans up and reports.
    #[arg(long, default_value_t = 1800)]
    deadline: u64,
    /// Leave the repositories the run created, for debugging (`sweep` deletes them later).
    #[arg(long)]
    keep: bool,
    /// Seed nothing and write nothing: run against the named repositories as they are.
    #[arg(long, requires = "repository")]
    read_only: bool,
    /// A repository to read in --read-only mode (repeatable).
    #[arg(long = "repository", value_name = "NAME", num_args = 1.., requires = "read_only")]
    repository: Vec<String>,
    /// No progress on stderr.
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

fn parse_variant(name: &str) -> Result<Variant, String> {
    Variant::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Variant::all().map(Variant::name).collect();
        format!("unknown variant {name:?}; one of: {}", names.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            console_note!("error: cannot start the async runtime: {e}");
            return ExitCode::from(USAGE);
        }
    };
    match cli.command {
        Command::Run(args) => runtime.block_on(run(args)),
        Command::Serve { port, variant } => runtime.block_on(serve(port, variant)),
        Command::Sweep {
            endpoint,
            region,
            prefix,
            ca_bundle,
            insecure,
            allow_http,
        } => {
            let target = TargetOptions {
                endpoint,
                region,
                ca_bundle,
                insecure,
                allow_http,
                ..TargetOptions::default()
            };
            runtime.block_on(sweep(target, prefix))
        }
        Command::Variants => {
            for v in Variant::all() {
                console_out!(
                    "{:<30} {:<16} {}",
                    v.name(),
                    v.expected_rule().unwrap_or("(conforms)"),
                    v.description()
                );
            }
            ExitCode::SUCCESS
        }
    }
}

async fn run(args: RunArgs) -> ExitCode {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        console_note!("error: --timeout must be a positive number of seconds");
        return ExitCode::from(USAGE);
    }
    let options = RunOptions {
        target: TargetOptions {
            endpoint: args.endpoint,
            region: args.region,
            timeout: Some(Duration::from_secs_f64(args.timeout)),
            max_attempts: Some(args.max_attempts),
            allow_http: args.allow_http,
            ca_bundle: args.ca_bundle,
            insecure: args.insecure,
            rate_limit: args.rate_limit,
            read_only: args.read_only,
        },
        seed: args.seed,
        cases: args.cases,
        concurrency: args.concurrency as usize,
        out: args.out,
        strict: args.strict,
        cases_dir: (!args.no_case_files).then_some(args.cases_dir),
        variant: args.variant,
        shrink_budget: Duration::from_secs(args.shrink_seconds),
        progress: !args.quiet,
        deadline: Some(Duration::from_secs(args.deadline)),
        keep: args.keep,
        read_only: args.read_only.then_some(args.repository),
        handle_signals: true,
        control: None,
    };
    match session::run(options).await {
        Ok(result) => {
            console_note!("{}", result.report.summary().trim_end());
            console_note!("report: {}", result.report_path.display());
            ExitCode::from(result.exit_code())
        }
        Err(e) => {
            console_note!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn serve(port: u16, variant: Variant) -> ExitCode {
    let server = match session::serve(port, variant).await {
        Ok(s) => s,
        Err(e) => {
            console_note!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    console_out!("{}", server.url());
    console_note!(
        "serving the embedded reference server ({}) on {}; Ctrl-C stops it",
        variant.name(),
        server.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    ExitCode::SUCCESS
}

async fn sweep(target: TargetOptions, prefix: String) -> ExitCode {
    match session::sweep(&target, &prefix, &ecr_conformance::credentials::ProcessEnv).await {
        Ok((deleted, failed)) => {
            for name in &deleted {
                console_out!("deleted {name}");
            }
            for (name, why) in &failed {
                console_note!("not deleted {name}: {why}");
            }
            console_note!("{} deleted, {} not deleted", deleted.len(), failed.len());
            ExitCode::from(if failed.is_empty() { 0 } else { 2 })
        }
        Err(e) => {
            console_note!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

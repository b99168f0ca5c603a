//! The command line only: parse, call the library, map errors to exit codes.

use clap::{Parser, Subcommand};
use ecr_conformance::server::Variant;
use ecr_conformance::session::{self, RunOptions};
use ecr_conformance::target::TargetOptions;
use std::path::PathBuf;
use std::process::ExitCode;
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
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
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
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(USAGE);
        }
    };
    match cli.command {
        Command::Run(args) => runtime.block_on(run(args)),
        Command::Serve { port, variant } => runtime.block_on(serve(port, variant)),
        Command::Variants => {
            for v in Variant::all() {
                println!(
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
        eprintln!("error: --timeout must be a positive number of seconds");
        return ExitCode::from(USAGE);
    }
    let options = RunOptions {
        target: TargetOptions {
            endpoint: args.endpoint,
            region: args.region,
            timeout: Some(Duration::from_secs_f64(args.timeout)),
            max_attempts: Some(args.max_attempts),
            allow_http: args.allow_http,
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
    };
    match session::run(options).await {
        Ok(result) => {
            eprint!("{}", result.report.summary());
            eprintln!("report: {}", result.report_path.display());
            ExitCode::from(result.exit_code())
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn serve(port: u16, variant: Variant) -> ExitCode {
    let server = match session::serve(port, variant).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    println!("{}", server.url());
    eprintln!(
        "serving the embedded reference server ({}) on {}; Ctrl-C stops it",
        variant.name(),
        server.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    ExitCode::SUCCESS
}

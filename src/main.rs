//! The command line only: parse ([`cli`]), call the library, map the result to an exit code of
//! the contract ([`ecr_conformance::exit`]).

mod cli;

use clap::Parser;
use cli::{Cli, Command, RulesFormat};
use ecr_conformance::console;
use ecr_conformance::credentials::ProcessEnv;
use ecr_conformance::exit::Exit;
use ecr_conformance::report::rules_table;
use ecr_conformance::server::{self, Alternative, ServerConfig, Variant};
use ecr_conformance::session::{self, RunOptions, TrialsOutcome};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A usage error: one line, exit 3.
fn usage(problem: &str) -> ExitCode {
    console::note(format!("error: {problem}"));
    Exit::Usage.into()
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

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(redacting_panic_hook));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // Plain text through the redaction: the error may quote an argument, a URL with a
            // password say.
            console::note(e.render().to_string().trim_end());
            return Exit::Usage.into();
        }
        Err(e) => {
            let _ = e.print();
            return Exit::Pass.into();
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            console::note(format!("error: cannot start the async runtime: {e}"));
            return Exit::Usage.into();
        }
    };
    match cli.command {
        Command::Run(args) => match args.options() {
            Ok((options, harness)) => runtime.block_on(finish(options, &harness)),
            Err(e) => usage(&e),
        },
        Command::Calibrate(args) => match args.options() {
            Ok(options) => runtime.block_on(calibrate(options)),
            Err(e) => usage(&e),
        },
        Command::Replay(args) => match args.options() {
            Ok(options) => runtime.block_on(finish(options, &libtest_mimic::Arguments::default())),
            Err(e) => usage(&e),
        },
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
        } => runtime.block_on(serve(port, cli::serve_config(variant, alternatives, latency_ms))),
        Command::Sweep { target, prefix } => match target.options(false) {
            Ok(target) => runtime.block_on(sweep(target, prefix)),
            Err(e) => usage(&e),
        },
        Command::Matrix { reports, readme, check } => matrix(&reports, readme.as_deref(), check),
        Command::Merge { reports, out } => merge(&reports, &out),
        Command::Classes { reports } => classes(&reports),
        Command::Rules { format } => rules(format),
        Command::Variants { format } => variants(format),
    }
}

async fn finish(options: RunOptions, harness: &libtest_mimic::Arguments) -> ExitCode {
    match session::run_trials(options, harness, &ProcessEnv).await {
        Ok(TrialsOutcome::Listed) => Exit::Pass.into(),
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

async fn calibrate(options: ecr_conformance::calibrate::CalibrateOptions) -> ExitCode {
    use ecr_conformance::calibrate;
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

fn review(root: &Path, target: Option<&str>, accept: bool, reject: bool) -> ExitCode {
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
            Exit::Pass.into()
        }
        Err(e) => usage(&e.to_string()),
    }
}

async fn serve(port: u16, config: ServerConfig) -> ExitCode {
    let (variant, alternatives) = (config.variant.clone(), config.alternatives);
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
    Exit::Pass.into()
}

async fn sweep(target: ecr_conformance::target::TargetOptions, prefix: String) -> ExitCode {
    match session::sweep(&target, &prefix, &ProcessEnv).await {
        Ok((deleted, failed)) => {
            for name in &deleted {
                console::out(format!("deleted {name}"));
            }
            for (name, why) in &failed {
                console::note(format!("not deleted {name}: {why}"));
            }
            console::note(format!("{} deleted, {} not deleted", deleted.len(), failed.len()));
            if failed.is_empty() {
                Exit::Pass
            } else {
                Exit::Indeterminate
            }
            .into()
        }
        Err(e) => {
            console::note(format!("error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

fn merge(reports: &[PathBuf], out: &Path) -> ExitCode {
    match ecr_conformance::report::merge::merge(reports, out) {
        Ok(report) => {
            console::note(report.summary().trim_end());
            console::note(format!("report: {}", out.join("report.json").display()));
            report.verdict.exit().into()
        }
        Err(e) => usage(&e.to_string()),
    }
}

fn classes(reports: &[PathBuf]) -> ExitCode {
    match ecr_conformance::report::class_sets::across_reports(reports) {
        Ok(c) => {
            console::out(c.render().trim_end());
            if c.same() { Exit::Pass } else { Exit::Fail }.into()
        }
        Err(e) => usage(&e.to_string()),
    }
}

fn matrix(reports: &[String], readme: Option<&Path>, check: bool) -> ExitCode {
    use ecr_conformance::report::matrix::{self, ReadmeUpdate};
    let table = match matrix::render(&matrix::parse_reports(reports)) {
        Ok(t) => t,
        Err(e) => return usage(&e.to_string()),
    };
    let Some(path) = readme else {
        console::out(table.trim_end());
        return Exit::Pass.into();
    };
    match matrix::update_readme(path, &table, check) {
        Ok(ReadmeUpdate::Current | ReadmeUpdate::Written) => Exit::Pass.into(),
        Ok(ReadmeUpdate::Stale) => {
            let shown = path.display();
            console::note(format!(
                "{shown}: the matrix is not the current one; run `ecr-conformance matrix ... --readme {shown}`"
            ));
            Exit::Fail.into()
        }
        Err(e) => usage(&e.to_string()),
    }
}

fn rules(format: RulesFormat) -> ExitCode {
    let format = match format {
        RulesFormat::Text => rules_table::Format::Text,
        RulesFormat::Markdown => rules_table::Format::Markdown,
        RulesFormat::Json => rules_table::Format::Json,
    };
    console::out(rules_table::render(format).trim_end());
    Exit::Pass.into()
}

fn variants(format: cli::VariantsFormat) -> ExitCode {
    if format == cli::VariantsFormat::Json {
        console::out(server::listing_json().to_string());
        return Exit::Pass.into();
    }
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
    Exit::Pass.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
            cli::serve_config(variant, alternatives, latency_ms).latency,
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

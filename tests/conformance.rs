//! The conformance trials as a test target (`harness = false`): `cargo test --test conformance`
//! and `cargo nextest run --test conformance --partition count:K/N` run the same trials as
//! `ecr-conformance run`, with the test harness's own arguments (filters, `--list`, `--exact`).
//!
//! Configured by environment variables: `ECRC_ENDPOINT` (default: the embedded reference server),
//! `ECRC_SEED` (default 1), `ECRC_CASES` (default 200), `ECRC_TARGET`, `ECRC_SNAPSHOTS` (a snapshot
//! root: gate against its baseline), `ECRC_STRICT`, `ECRC_VARIANT`, `ECRC_OUT` (the report folder).
//!
//! nextest runs each trial in a process of its own, all with the same `ECRC_OUT`: a process given a
//! filter (nextest's `--exact world::3`) writes under `ECRC_OUT/<filter>/`, so that no process
//! overwrites another's report, and `ecr-conformance merge ECRC_OUT/*/report.json --out DIR` makes
//! them one (it checks that every world is there once).

use ecr_conformance::credentials::ProcessEnv;
use ecr_conformance::exit::Exit;
use ecr_conformance::server::Variants;
use ecr_conformance::session::{self, RunOptions, TrialsOutcome};
use ecr_conformance::target::TargetOptions;
use std::path::PathBuf;
use std::process::ExitCode;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The report folder of a process that runs a selection: `<out>/<filter>` (its characters that
/// are not plain in a file name replaced), else `out` itself.
fn per_selection(out: PathBuf, args: &libtest_mimic::Arguments) -> PathBuf {
    match &args.filter {
        Some(filter) if !args.list => {
            let name: String = filter
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            out.join(name)
        }
        _ => out,
    }
}

fn main() -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Without ECRC_OUT the reports go to a temporary folder, removed at the end unless the run
    // fails (then it is kept and named, for its report.html).
    let (out, scratch) = match var("ECRC_OUT") {
        Some(dir) => (per_selection(PathBuf::from(dir), &args), None),
        None => match tempfile::Builder::new().prefix("ecrc-conformance-").tempdir() {
            Ok(dir) => (dir.path().to_path_buf(), Some(dir)),
            Err(e) => {
                ecr_conformance::console::note(format!("cannot make a temporary report folder: {e}"));
                return Exit::Usage.into();
            }
        },
    };
    let variant = match var("ECRC_VARIANT").map(|v| Variants::parse(&v)) {
        None => Variants::default(),
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            ecr_conformance::console::note(format!("ECRC_VARIANT: {e}"));
            return Exit::Usage.into();
        }
    };
    let number = |name: &str, default: u64| -> Result<u64, String> {
        var(name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{name}: {v:?} is not a number"))
        })
    };
    let (seed, cases) = match (number("ECRC_SEED", 1), number("ECRC_CASES", 200)) {
        (Ok(s), Ok(c)) => (s, c as usize),
        (Err(e), _) | (_, Err(e)) => {
            ecr_conformance::console::note(e);
            return Exit::Usage.into();
        }
    };
    let options = RunOptions {
        target: TargetOptions {
            endpoint: var("ECRC_ENDPOINT"),
            ..TargetOptions::default()
        },
        seed: Some(seed),
        cases,
        out,
        strict: var("ECRC_STRICT").is_some_and(|v| v != "0" && v != "false"),
        cases_dir: Some(root.join("cases")),
        variant,
        target_name: var("ECRC_TARGET"),
        snapshots: var("ECRC_SNAPSHOTS").map(PathBuf::from),
        ci: true,
        progress: false,
        ..RunOptions::default()
    };
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread().enable_all().build() else {
        ecr_conformance::console::note("cannot start the async runtime");
        return Exit::Usage.into();
    };
    match runtime.block_on(session::run_trials(options, &args, &ProcessEnv)) {
        Ok(TrialsOutcome::Listed) => ExitCode::SUCCESS,
        Ok(TrialsOutcome::Ran(result)) if result.exit_code() == Exit::Pass.code() => ExitCode::SUCCESS,
        Ok(TrialsOutcome::Ran(result)) => {
            ecr_conformance::console::note(result.report.summary());
            if let Some(dir) = scratch {
                ecr_conformance::console::note(format!("reports kept in {}", dir.keep().display()));
            }
            Exit::HarnessFailed.into()
        }
        // A filter that selects nothing is no failure for a test harness (nextest runs each
        // partition with its own filter).
        Err(e) if e.exit_code() == Exit::NothingSelected.code() => ExitCode::SUCCESS,
        Err(e) => {
            ecr_conformance::console::note(format!("error: {e}"));
            Exit::Usage.into()
        }
    }
}

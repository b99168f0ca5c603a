//! The command line only: parse, call the library, map errors to exit codes.

use ecr_conformance::cases::CaseFile;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = Path::new("cases");
    let cases = match CaseFile::load_dir(dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    let mut disagreements = 0;
    for (path, case) in &cases {
        match case.check_against_model() {
            Ok(d) if d.is_empty() => println!("ok    {}", case.name),
            Ok(d) => {
                disagreements += 1;
                println!(
                    "FAIL  {} ({}): {} deviations",
                    case.name,
                    path.display(),
                    d.len()
                );
            }
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::from(3);
            }
        }
    }
    println!(
        "{} passed, {} failed",
        cases.len() - disagreements,
        disagreements
    );
    if disagreements > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

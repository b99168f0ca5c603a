//! The exit codes: a contract CI reads (the README's table, `run --help`). Every command maps its
//! result to one of these; no other code is returned.

/// An exit code and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// No deviation class fails the gate (other commands: done, nothing wrong).
    Pass = 0,
    /// A deviation class fails the gate (`classes`: the reports differ; `matrix --check`: the
    /// file's matrix is not the current one).
    Fail = 1,
    /// No verdict: the endpoint's faults, a stop (signal, deadline), or an endpoint that is not
    /// the ECR API (`sweep`: some repositories could not be deleted).
    Indeterminate = 2,
    /// A usage or configuration error, found before the first request; or a report that could not
    /// be written at the end.
    Usage = 3,
    /// Nothing selected to run.
    NothingSelected = 4,
    /// A test harness's failure: what `cargo test` reads from a `harness = false` target whose
    /// trials failed (libtest's own code for it).
    HarnessFailed = 101,
    /// A second SIGINT or SIGTERM aborted the run at once (the shells' 128 + SIGINT).
    Aborted = 130,
}

impl Exit {
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The exit a process code stands for, if it is one of the contract's.
    pub fn from_code(code: i32) -> Option<Exit> {
        [
            Exit::Pass,
            Exit::Fail,
            Exit::Indeterminate,
            Exit::Usage,
            Exit::NothingSelected,
            Exit::HarnessFailed,
            Exit::Aborted,
        ]
        .into_iter()
        .find(|e| i32::from(e.code()) == code)
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

/// The exit codes of `run` and `replay`, as `--help` lists them.
pub const RUN_EXIT_CODES: &str = "\
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_lists_every_code_of_a_run() {
        for e in [
            Exit::Pass,
            Exit::Fail,
            Exit::Indeterminate,
            Exit::Usage,
            Exit::NothingSelected,
            Exit::Aborted,
        ] {
            assert!(
                RUN_EXIT_CODES.contains(&format!("\n  {:<4} ", e.code())),
                "{e:?} is not in the help"
            );
        }
    }
}

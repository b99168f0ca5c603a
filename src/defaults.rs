//! The defaults of a run, in one place: the command line shows them (`--help`), the library's
//! options start from them, and the README's table names them.

use std::time::Duration;

/// Generated requests in all (`--cases`; case files come on top).
pub const CASES: usize = 400;
/// Calls in flight at once (`--concurrency`).
pub const CONCURRENCY: usize = 8;
/// Requests sent while shrinking one failing case, at most.
pub const SHRINK_STEPS: usize = 200;
/// Seconds spent shrinking in all, at most (`--shrink-seconds`).
pub const SHRINK_SECONDS: u64 = 30;
/// The whole run's deadline, in seconds (`--deadline`).
pub const DEADLINE_SECONDS: u64 = 30 * 60;
/// Seconds a spawned implementation may take to answer (`--spawn-timeout`).
pub const SPAWN_TIMEOUT_SECONDS: u64 = 90;
/// Where the reports go (`--out`).
pub const OUT: &str = "reports";
/// The snapshot root (`--snapshots`).
pub const SNAPSHOTS: &str = "snapshots";
/// The folder of case files (`--cases-dir`).
pub const CASES_DIR: &str = "cases";
/// The registry id assumed until the endpoint names its own.
pub const REGISTRY_HINT: &str = "000000000000";
/// Generated requests of a calibration's run (`calibrate --cases`).
pub const CALIBRATE_CASES: usize = 200;
/// Where a calibration's files go (`calibrate --out`).
pub const CALIBRATE_OUT: &str = "reports/calibration";

pub const fn shrink_budget() -> Duration {
    Duration::from_secs(SHRINK_SECONDS)
}

pub const fn deadline() -> Duration {
    Duration::from_secs(DEADLINE_SECONDS)
}

pub const fn spawn_startup() -> Duration {
    Duration::from_secs(SPAWN_TIMEOUT_SECONDS)
}

/// Per-request timeout, in seconds (`--timeout`).
pub const TIMEOUT_SECONDS: f64 = 10.0;
/// Attempts per request, the first included (`--max-attempts`).
pub const MAX_ATTEMPTS: u32 = 3;
/// Attempts per request for throttling answers (`--max-throttle-attempts`).
pub const MAX_THROTTLE_ATTEMPTS: u32 = 10;

//! Writing to the terminal without ever panicking: a closed stdout or stderr (a pipe whose reader
//! went away, `| head`) must not turn a conformance run into a crash, nor stop its cleanup.
//! Every line is redacted ([`crate::redact`]): terminals end up in CI logs.

use std::io::Write;

/// A line on stderr (progress, summaries, errors); a failed write is ignored.
pub fn note(line: impl AsRef<str>) {
    let _ = writeln!(std::io::stderr().lock(), "{}", crate::redact::text(line.as_ref()));
}

/// A line on stdout (machine-readable output); a failed write is ignored.
pub fn out(line: impl AsRef<str>) {
    let _ = writeln!(std::io::stdout().lock(), "{}", crate::redact::text(line.as_ref()));
}

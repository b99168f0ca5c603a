//! # ecr-conformance
//!
//! Tells the truth about how well an ECR-compatible registry implements `BatchGetImage`: it
//! generates registry states and requests, makes the states real on an endpoint, sends the
//! requests, and compares every answer with a pure reference model of Amazon ECR.
//!
//! ## Layout
//!
//! Each module has one job; a module with several parts is a folder behind one facade (`run/`:
//! worlds, the case checker, case files, bookkeeping, shrinking; `judge/`: reading the reply,
//! error answers, entries, one id, acceptance and attribution; `seeding/`: push, read-back,
//! cleanup; `client/`: errors, retries and rate, signing, one attempt; `session/`: options,
//! endpoint, signals, writing; `server/`: routing, operations, variants and alternatives, each
//! declared in one table). "Seed" is only the generator's seed; making a state real is seeding.
//!
//! The pure core (no I/O; `tests/architecture.rs` keeps it so, and keeps the modules free of
//! cycles):
//! - [`rules`]: the catalogue: every rule's id, level (gate or advisory) and evidence. Data.
//! - [`wire`]: the AWS JSON 1.1 shapes of the ECR operations, the error body, `__type` forms.
//! - [`model`]: registry state with ECR's push semantics, and
//!   `batch_get_image(state, request) -> Expected`, each part naming its rule.
//! - [`generate`]: proptest strategies: manifests and blobs, registry plans, id lists by category,
//!   request-level cases. They know nothing of HTTP.
//! - [`judge`]: one answer against the expectation, into [`judge::Deviation`]s; its
//!   `attribution` places each entry of the answer on the requested id it answers.
//! - [`coverage`]: the rules an answer is judged by, so that a rule no answer reached is reported
//!   untested rather than passed.
//! - [`outcome`]: the run's vocabulary: findings, faults (each with a [`outcome::FaultKind`]),
//!   minimal examples, counts, the class key, the baseline comparison, and the names of
//!   properties ([`outcome::Property`]), trials ([`outcome::TrialId`]: `case::NAME`,
//!   `world::N`) and where things were found ([`outcome::Origin`]: `case:NAME`,
//!   `world-N/case-M`). The run fills it; classes, gate, snapshots and reports read it.
//! - [`classes`]: deviations grouped by a seed-independent signature.
//! - [`canonical`]: examples rebuilt with stable names, so two seeds give one example.
//! - [`gate`]: the decisions: a class's status, whether it fails the gate, the verdict.
//! - [`exit`]: the exit codes, the contract CI reads. [`defaults`]: a run's defaults, once.
//!
//! The shell around it:
//! - [`credentials`], [`target`], [`client`]: who signs, which endpoint, signed HTTP with retries.
//! - [`seeding`]: a plan made real on an endpoint (and read back, in read-only mode); cleanup, sweep.
//! - [`control`]: the run's stop flag, deadline and ledger of created repositories.
//! - [`cases`]: the human-editable case files under `cases/`: state, request, ECR's answer.
//! - [`run`]: the run: case files, then worlds of generated cases (the next one seeded while this
//!   one runs), each case judged by [`run::case`] against the model and the metamorphic
//!   properties, its results booked into the outcome, failing cases made minimal by
//!   [`run::shrink`].
//! - [`snapshot`]: classes as insta snapshots; the baseline: known, new, changed, fixed.
//! - [`trials`]: the run's trials (case files and worlds) for the test-harness arguments
//!   (libtest-mimic), and partitions of them (`run --partition K/N`).
//! - [`report`]: `report.json`, `junit.xml`, `summary.md`, `report.html`, the matrix (and
//!   `matrix --readme`), the rule catalogue for `rules`, and `merge` (partitions' reports into one
//!   run's, the verdict decided again by [`gate`]). They render; they do not decide.
//! - [`server`]: the embedded reference server (the model over HTTP), its broken and harmless
//!   variants, and its alternative answers (what the reference allows beside the model's first
//!   choice; `advisory-mix` draws them per seed: the comparer's soundness proof).
//! - [`spawn`]: an implementation under test started and stopped by the tool.
//! - [`session`]: one run from options to written reports: its options checked and mapped into
//!   the run's configuration, the endpoint started (spawned, named or embedded), signals, and what
//!   is written (classes, case files, baseline, report). The binary's `main.rs` only parses (its
//!   private `cli` module) and dispatches.
//! - [`calibrate`]: the reverse of a run, the endpoint as the truth: the reference's open
//!   questions asked by probes and read as their named answers, recorded as case files for
//!   `cases/recorded/`, and a short generated run whose deviations are doubts about the model.
//! - [`console`]: terminal output that never panics.
//! - [`redact`]: the one redaction of URLs' user names and passwords and of the run's secrets
//!   that everything printed or written goes through.
//!
//! ## How a request flows
//!
//! ```text
//! generate ──> (RegistryPlan, Case)
//!                 │            │
//!            seeding ──> endpoint <── client (SigV4, retries, timeouts)
//!                              │
//! model::batch_get_image ──> Expected │ HttpReply
//!                           judge ──> [Deviation] ──> outcome ──> classes ──> shrink + canonical
//!                                                                    │
//!                                          gate ── snapshot (baseline)   report (json, junit, md, html)
//! ```

// The modules the binary, the tests and users' tools use are public; the rest (canonical names,
// classes, coverage, the gate, redaction, snapshots, spawning) are the crate's own, and every
// `pub` item must be reachable from outside, so rustc sees dead code.
#![warn(unreachable_pub)]

pub mod calibrate;
pub(crate) mod canonical;
pub mod cases;
pub(crate) mod classes;
pub mod client;
pub mod console;
pub mod control;
pub(crate) mod coverage;
pub mod credentials;
pub mod defaults;
pub mod exit;
pub(crate) mod gate;
pub mod generate;
pub mod judge;
pub mod model;
pub mod outcome;
pub(crate) mod redact;
pub mod report;
pub mod rules;
pub mod run;
pub mod seeding;
pub mod server;
pub mod session;
pub(crate) mod snapshot;
pub(crate) mod spawn;
pub mod target;
pub mod trials;
pub mod wire;

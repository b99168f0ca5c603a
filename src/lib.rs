//! # ecr-conformance
//!
//! Tells the truth about how well an ECR-compatible registry implements `BatchGetImage`: it
//! generates registry states and requests, makes the states real on an endpoint, sends the
//! requests, and compares every answer with a pure reference model of Amazon ECR.
//!
//! ## Layout
//!
//! - [`rules`]: the catalogue: every rule's id, level (gate or advisory) and evidence. Data.
//! - [`wire`]: the AWS JSON 1.1 shapes of the ECR operations, the error body, `__type` forms.
//! - [`model`]: the pure core: registry state with ECR's push semantics, and
//!   `batch_get_image(state, request) -> Expected`, each part naming its rule.
//! - [`generate`]: proptest strategies: manifests and blobs, registry plans, id lists by category,
//!   request-level cases. They know nothing of HTTP.
//! - [`compare`]: one answer against the expectation, into [`compare::Deviation`]s.
//! - [`cases`]: the human-editable case files under `cases/`: state, request, ECR's answer.
//!
//! ## How a request flows
//!
//! ```text
//! gen ──> (RegistryPlan, Case) ──> model::batch_get_image ──> Expected ─┐
//!                                                                      compare ──> [Deviation]
//!                       endpoint's HTTP answer (wire::HttpReply) ───────┘
//! ```

pub mod canonical;
pub mod cases;
pub mod classes;
pub mod client;
pub mod compare;
pub mod console;
pub mod control;
pub mod credentials;
pub mod generate;
pub mod model;
pub mod report;
pub mod rules;
pub mod runner;
pub mod seed;
pub mod server;
pub mod session;
pub mod shrink;
pub mod snapshot;
pub mod spawn;
pub mod target;
pub mod trials;
pub mod wire;

//! Generators: proptest strategies for registry states and requests. They know nothing of HTTP.
//! Every strategy shrinks towards fewer repositories, images, tags and ids, and simpler names.
//!
//! - [`json_style`]: manifests written compact or pretty, keys in varied order;
//! - [`plans`]: registry states as plans of real pushes (blobs, images, lists, tags);
//! - [`ids`]: id lists by category against a state, near misses included;
//! - [`requests`]: whole requests, including the request-level cases.

pub mod ids;
pub mod json_style;
pub mod plans;
pub mod requests;

pub use ids::{GeneratedId, IdCategory};
pub use requests::{Case, RequestCategory};

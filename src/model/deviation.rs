//! What the comparer finds: a deviation from ECR's answer, named by its rule and level, and the
//! whole exchange it was seen in. Part of the model's vocabulary so that seeding, which finds
//! deviations of its own, needs no comparer.

use super::Expected;
use crate::rules::Level;
use crate::wire::{self, HttpReply, ImageIdentifier};
use serde::Serialize;
use serde_json::{Value, json};

/// How much of a body a deviation quotes.
pub(crate) const QUOTE_LIMIT: usize = 2048;

/// One way the endpoint's answer differs from ECR's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deviation {
    pub rule: String,
    pub level: Level,
    /// One line: what differed.
    pub summary: String,
    /// The requested id concerned, when the deviation is about one id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<ImageIdentifier>,
    pub expected: Value,
    pub actual: Value,
    /// What was expected and what came, in seed-free words (the deviation's class).
    #[serde(default)]
    pub expected_kind: String,
    #[serde(default)]
    pub actual_kind: String,
    /// The whole exchange the deviation was seen in: the endpoint's answer and an answer ECR would
    /// give, both in wire shape (attached by the runner; reports show them, `deviations` does not).
    #[serde(skip)]
    pub answers: Option<std::sync::Arc<Answers>>,
}

/// An endpoint's whole answer and one ECR would give, as `{"status", "body"}` in wire shape, long
/// manifests abridged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answers {
    pub answer: Value,
    pub ecr_answer: Value,
}

impl Answers {
    pub fn of(expected: &Expected, reply: &HttpReply) -> Self {
        let answer = match serde_json::from_slice::<Value>(&reply.body) {
            Ok(body) => json!({"status": reply.status, "body": abridged_manifests(body)}),
            Err(_) => json!({"status": reply.status, "body": reply.abridged_body(QUOTE_LIMIT)}),
        };
        let ecr_answer = match expected.reference_answer() {
            crate::model::ReferenceAnswer::Ok(body) => {
                json!({"status": 200, "body": abridged_manifests(serde_json::to_value(body).unwrap_or(Value::Null))})
            }
            crate::model::ReferenceAnswer::Error { status, body } => json!({"status": status, "body": body}),
        };
        Answers { answer, ecr_answer }
    }
}

fn abridged_manifests(mut body: Value) -> Value {
    if let Some(images) = body.get_mut("images").and_then(Value::as_array_mut) {
        for img in images {
            if let Some(m) = img.get("imageManifest").and_then(Value::as_str).map(str::to_string) {
                img["imageManifest"] = json!(wire::abridge(&m, QUOTE_LIMIT));
            }
        }
    }
    body
}

impl Deviation {
    /// Names what was expected and what came, in words that do not depend on the seed: the
    /// deviation's class is made of them.
    pub fn kinds(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        self.expected_kind = expected.into();
        self.actual_kind = actual.into();
        self
    }

    pub fn new(rule: &str, level: Level, summary: impl Into<String>, expected: Value, actual: Value) -> Self {
        Deviation {
            rule: rule.to_string(),
            level,
            summary: summary.into(),
            image_id: None,
            expected,
            actual,
            expected_kind: String::new(),
            actual_kind: String::new(),
            answers: None,
        }
    }

    pub(crate) fn about(mut self, image_id: &ImageIdentifier) -> Self {
        self.image_id = Some(image_id.clone());
        self
    }
}

//! An error answer where ECR answers the same error: status, `__type` and message.

use crate::model::{Deviation, ExpectedError};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::ErrorBody;
use serde_json::{Value, json};

pub(super) fn judge_error(
    e: &ExpectedError,
    status: u16,
    body: Option<&ErrorBody>,
    text: &str,
    out: &mut Vec<Deviation>,
) {
    let r = rule_by_id(e.rule);
    // A deviation never gates more than the rule that predicts the error.
    let cap = |level: Level| level.max(r.level);
    if status != e.status {
        out.push(
            Deviation::new(
                id::W_ERR_STATUS,
                cap(rule_by_id(id::W_ERR_STATUS).level),
                format!("HTTP {status} where ECR answers {} ({})", e.status, e.rule),
                json!(e.status),
                json!({"status": status, "body": text}),
            )
            .kinds(format!("HTTP {}", e.status), format!("HTTP {status}")),
        );
    }
    match body.and_then(ErrorBody::shape_name) {
        None => out.push(
            Deviation::new(
                id::W_ERR_TYPE,
                cap(rule_by_id(id::W_ERR_TYPE).level),
                format!("error body has no __type (expected {})", e.error_types.join(" or ")),
                json!({"__type": e.error_types}),
                json!(text),
            )
            .kinds(format!("error {}", e.error_types[0]), "no __type"),
        ),
        Some(shape) if !e.error_types.contains(&shape) => out.push(
            Deviation::new(
                e.rule,
                r.level,
                format!("__type {shape} where ECR answers {}", e.error_types.join(" or ")),
                json!(e.error_types),
                json!(body.and_then(|b| b.error_type.clone())),
            )
            .kinds(format!("error {}", e.error_types[0]), format!("error {shape}")),
        ),
        Some(_) => {
            let message = body.and_then(ErrorBody::text).unwrap_or("");
            if !e.message.accepts(message) {
                out.push(
                    Deviation::new(
                        e.rule,
                        r.text_level,
                        "error message differs from ECR's",
                        serde_json::to_value(&e.message).unwrap_or(Value::Null),
                        json!(message),
                    )
                    .kinds("ECR's message", "another message"),
                );
            }
        }
    }
}

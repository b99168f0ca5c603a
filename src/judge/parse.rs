//! Reading a reply before judging it: only a 200 that is no `BatchGetImage` body is unreadable.

use crate::model::deviation::QUOTE_LIMIT;
use crate::wire::{BatchGetImageResponse, ErrorBody, HttpReply};

/// The answer's entries as the comparer reads them.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedReply {
    Ok(BatchGetImageResponse),
    Error {
        status: u16,
        body: Option<ErrorBody>,
        text: String,
    },
}

/// A 200 that is not a `BatchGetImage` body: no answer at all, a fault of the endpoint.
#[derive(Debug, thiserror::Error)]
#[error("HTTP 200 whose body is not a BatchGetImage answer ({source}): {body}")]
pub struct UnreadableReply {
    source: serde_json::Error,
    /// The body as quoted (abridged).
    body: String,
}

/// Reads an HTTP reply: a 200 must be a `BatchGetImage` body, anything else is an error answer
/// whatever its body.
pub fn parse_reply(reply: &HttpReply) -> Result<ParsedReply, UnreadableReply> {
    if reply.status == 200 {
        return serde_json::from_slice::<BatchGetImageResponse>(&reply.body)
            .map(ParsedReply::Ok)
            .map_err(|source| UnreadableReply {
                source,
                body: reply.abridged_body(200),
            });
    }
    let body = serde_json::from_slice::<ErrorBody>(&reply.body).ok();
    Ok(ParsedReply::Error {
        status: reply.status,
        body,
        text: reply.abridged_body(QUOTE_LIMIT),
    })
}

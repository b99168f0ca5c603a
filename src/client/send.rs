//! One attempt of a call: the signed request sent, the answer read within its bounds.

use super::{CallError, EcrClient};
use crate::wire::HttpReply;
use std::time::Duration;

impl EcrClient {
    pub(super) async fn attempt(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Result<(HttpReply, Option<Duration>), CallError> {
        let mut request = self
            .http
            .post(&self.url)
            .timeout(self.config.timeout)
            .body(body.to_vec());
        for (k, v) in self.signed_headers(operation, body)? {
            request = request.header(k, v);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| CallError::transport(operation, e, None))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if let Some(len) = response.content_length()
            && len as usize > self.config.max_body
        {
            return Err(CallError::TooLarge {
                operation: operation.into(),
                limit: self.config.max_body,
            });
        }
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > self.config.max_body {
                        return Err(CallError::TooLarge {
                            operation: operation.into(),
                            limit: self.config.max_body,
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(CallError::transport(operation, e, Some(bytes.len())));
                }
            }
        }
        Ok((
            HttpReply {
                status,
                content_type,
                body: bytes,
            },
            retry_after,
        ))
    }
}

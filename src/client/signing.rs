//! SigV4 with service `ecr` (W-REQ), by the official signer: our signatures are AWS's own.

use super::{CallError, EcrClient};
use crate::wire;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use std::time::SystemTime;

impl EcrClient {
    pub(super) fn signed_headers(&self, operation: &str, body: &[u8]) -> Result<Vec<(String, String)>, CallError> {
        let signing_error = |message: String| CallError::Signing {
            operation: operation.to_string(),
            message,
        };
        let target = format!("{}.{operation}", wire::TARGET_PREFIX);
        let headers = [("content-type", wire::CONTENT_TYPE), ("x-amz-target", target.as_str())];
        let c = &self.config.credentials;
        let identity = aws_credential_types::Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            c.session_token.clone(),
            None,
            "ecr-conformance",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name("ecr")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing_error(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            self.url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| signing_error(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| signing_error(e.to_string()))?
            .into_parts();
        let mut out: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        out.extend(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())));
        Ok(out)
    }
}

//! The AWS JSON 1.1 shapes of the ECR operations the harness uses, with the wire names exactly as
//! the service model spells them, and the error body with its `__type` normalisation (W-ERR-TYPE).
//!
//! These types know the format, not the semantics: what ECR answers is the model's business.

pub mod json_style;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The `X-Amz-Target` prefix of every ECR operation (W-REQ).
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921";
/// The content type of every request and of ECR's answers (W-REQ, W-CT).
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub mod media_type {
    pub const DOCKER_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    pub const DOCKER_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    pub const DOCKER_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// The manifest types a client may list in `acceptedMediaTypes` (section 2 of the reference).
    pub const MANIFEST_TYPES: &[&str] = &[DOCKER_V1, DOCKER_V2, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX];

    /// Manifest lists and indexes: their children are other images of the repository.
    pub fn is_list(media_type: &str) -> bool {
        media_type == DOCKER_LIST || media_type == OCI_INDEX
    }
}

/// `ImageIdentifier`: a tag, a digest, both or (invalidly) neither, exactly as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tag: Option<String>,
}

impl ImageIdentifier {
    pub fn tag(tag: impl Into<String>) -> Self {
        ImageIdentifier {
            image_digest: None,
            image_tag: Some(tag.into()),
        }
    }
    pub fn digest(digest: impl Into<String>) -> Self {
        ImageIdentifier {
            image_digest: Some(digest.into()),
            image_tag: None,
        }
    }
    pub fn both(tag: impl Into<String>, digest: impl Into<String>) -> Self {
        ImageIdentifier {
            image_digest: Some(digest.into()),
            image_tag: Some(tag.into()),
        }
    }
    pub fn neither() -> Self {
        ImageIdentifier::default()
    }
}

impl fmt::Display for ImageIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.image_tag, &self.image_digest) {
            (Some(t), Some(d)) => write!(f, "{{tag {t:?}, digest {d:?}}}"),
            (Some(t), None) => write!(f, "{{tag {t:?}}}"),
            (None, Some(d)) => write!(f, "{{digest {d:?}}}"),
            (None, None) => write!(f, "{{}}"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetImageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
    pub repository_name: String,
    pub image_ids: Vec<ImageIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_media_types: Option<Vec<String>>,
}

/// `Image`: one answered image. Every member is optional on the wire; the comparer says which
/// absences are deviations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_name: Option<String>,
    #[serde(default)]
    pub image_id: ImageIdentifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_manifest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_manifest_media_type: Option<String>,
}

/// Declares the known failure codes once, each written as its name: the enum (with `Unknown` for
/// the rest), `ALL` and `as_str` derive from the one list.
macro_rules! failure_codes {
    ($($code:ident,)*) => {
        /// `ImageFailureCode`: the eleven codes of the service model. A code this build does not
        /// know is kept as text, so that an endpoint inventing one is a finding, not a parse error.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ImageFailureCode {
            $($code,)*
            Unknown(String),
        }

        impl ImageFailureCode {
            pub const ALL: [ImageFailureCode; [$(stringify!($code)),*].len()] = [$(ImageFailureCode::$code),*];

            pub fn as_str(&self) -> &str {
                match self {
                    $(ImageFailureCode::$code => stringify!($code),)*
                    ImageFailureCode::Unknown(text) => text,
                }
            }
        }
    };
}

failure_codes! {
    InvalidImageDigest,
    InvalidImageTag,
    ImageTagDoesNotMatchDigest,
    ImageNotFound,
    MissingDigestAndTag,
    ImageReferencedByManifestList,
    KmsError,
    UpstreamAccessDenied,
    UpstreamTooManyRequests,
    UpstreamUnavailable,
    ImageInaccessible,
}

impl ImageFailureCode {
    pub fn parse(text: &str) -> Self {
        Self::ALL
            .iter()
            .find(|c| c.as_str() == text)
            .cloned()
            .unwrap_or_else(|| ImageFailureCode::Unknown(text.to_string()))
    }
}

impl fmt::Display for ImageFailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ImageFailureCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ImageFailureCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(ImageFailureCode::parse(&text))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFailure {
    #[serde(default)]
    pub image_id: ImageIdentifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<ImageFailureCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// A 200 answer of `BatchGetImage`. The lists are optional on the wire (W-BOTH-LISTS is advisory),
/// so their absence is kept apart from an empty list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetImageResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<Vec<ImageFailure>>,
}

/// The body of every AWS JSON 1.1 error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "__type", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Some servers capitalise it; harmless (W-ERR-TYPE).
    #[serde(rename = "Message", default, skip_serializing_if = "Option::is_none")]
    pub message_capitalised: Option<String>,
}

impl ErrorBody {
    pub fn new(error_type: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            error_type: Some(error_type.to_string()),
            message: Some(message.into()),
            message_capitalised: None,
        }
    }

    /// The shape name with any `ns#` prefix and `:uri` suffix removed (W-ERR-TYPE).
    pub fn shape_name(&self) -> Option<&str> {
        self.error_type.as_deref().map(normalise_error_type)
    }

    pub fn text(&self) -> Option<&str> {
        self.message.as_deref().or(self.message_capitalised.as_deref())
    }
}

/// `aws.ecr#RepositoryNotFoundException:http://...` to `RepositoryNotFoundException`, as the
/// AWS SDKs read `__type` (W-ERR-TYPE).
pub fn normalise_error_type(raw: &str) -> &str {
    let after_hash = raw.rsplit_once('#').map_or(raw, |(_, name)| name);
    after_hash.split_once(':').map_or(after_hash, |(name, _)| name).trim()
}

// ---- The seeding and reading operations -----------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRepositoryRequest {
    pub repository_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_uri: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryResponse {
    #[serde(default)]
    pub repository: Option<Repository>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRepositoriesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRepositoriesResponse {
    #[serde(default)]
    pub repositories: Vec<Repository>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteRepositoryRequest {
    pub repository_name: String,
    pub force: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiateLayerUploadRequest {
    pub repository_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiateLayerUploadResponse {
    #[serde(default)]
    pub upload_id: Option<String>,
    #[serde(default)]
    pub part_size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadLayerPartRequest {
    pub repository_name: String,
    pub upload_id: String,
    pub part_first_byte: u64,
    pub part_last_byte: u64,
    /// Base64, as the JSON protocol carries blobs.
    pub layer_part_blob: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteLayerUploadRequest {
    pub repository_name: String,
    pub upload_id: String,
    pub layer_digests: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteLayerUploadResponse {
    #[serde(default)]
    pub layer_digest: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageRequest {
    pub repository_name: String,
    pub image_manifest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_manifest_media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tag: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageResponse {
    #[serde(default)]
    pub image: Option<Image>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListImagesRequest {
    pub repository_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListImagesResponse {
    #[serde(default)]
    pub image_ids: Vec<ImageIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImagesRequest {
    pub repository_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetail {
    #[serde(default)]
    pub image_digest: Option<String>,
    #[serde(default)]
    pub image_tags: Option<Vec<String>>,
    #[serde(default)]
    pub image_manifest_media_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImagesResponse {
    #[serde(default)]
    pub image_details: Vec<ImageDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_forms_normalise_to_the_shape_name() {
        for raw in [
            "RepositoryNotFoundException",
            "com.amazonaws.ecr#RepositoryNotFoundException",
            "RepositoryNotFoundException:http://internal.amazon.com/coral/com.amazonaws.ecr/",
            "aws.ecr#RepositoryNotFoundException:http://x/",
        ] {
            assert_eq!(normalise_error_type(raw), "RepositoryNotFoundException", "{raw}");
        }
    }

    #[test]
    fn capitalised_message_is_read_when_lower_case_is_absent() {
        let body: ErrorBody = serde_json::from_str(r#"{"__type":"X","Message":"hello"}"#).expect("valid json");
        assert_eq!(body.text(), Some("hello"));
    }

    #[test]
    fn failure_codes_round_trip_and_unknown_codes_are_kept_as_text() {
        for code in ImageFailureCode::ALL {
            let json = serde_json::to_string(&code).expect("serialise");
            let back: ImageFailureCode = serde_json::from_str(&json).expect("parse");
            assert_eq!(back, code);
        }
        let odd: ImageFailureCode = serde_json::from_str("\"TagGoneFishing\"").expect("parse");
        assert_eq!(odd, ImageFailureCode::Unknown("TagGoneFishing".into()));
        assert_eq!(serde_json::to_string(&odd).expect("serialise"), "\"TagGoneFishing\"");
    }

    #[test]
    fn wire_names_are_the_service_model_names() {
        let req = BatchGetImageRequest {
            registry_id: Some("123456789012".into()),
            repository_name: "ubuntu".into(),
            image_ids: vec![ImageIdentifier::both("precise", "sha256:ab")],
            accepted_media_types: Some(vec![media_type::DOCKER_V2.into()]),
        };
        let v = serde_json::to_value(&req).expect("serialise");
        assert_eq!(
            v,
            serde_json::json!({
                "registryId": "123456789012",
                "repositoryName": "ubuntu",
                "imageIds": [{"imageDigest": "sha256:ab", "imageTag": "precise"}],
                "acceptedMediaTypes": [media_type::DOCKER_V2],
            })
        );
        let resp: BatchGetImageResponse = serde_json::from_value(serde_json::json!({
            "images": [{"registryId": "1", "repositoryName": "r", "imageId": {"imageTag": "t"},
                        "imageManifest": "{}", "imageManifestMediaType": "m"}],
            "failures": [{"imageId": {}, "failureCode": "MissingDigestAndTag", "failureReason": "x"}]
        }))
        .expect("parse");
        assert_eq!(resp.images.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            resp.failures.expect("failures")[0].failure_code,
            Some(ImageFailureCode::MissingDigestAndTag)
        );
    }
}

/// One HTTP answer as received: what the comparer judges. The client bounds `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl HttpReply {
    /// The body as text for reports, cut to `limit` bytes at a character boundary.
    pub fn abridged_body(&self, limit: usize) -> String {
        abridge(&String::from_utf8_lossy(&self.body), limit)
    }
}

/// `text` cut to at most `limit` bytes, saying how much was cut.
pub fn abridge(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes more)", &text[..end], text.len() - end)
}

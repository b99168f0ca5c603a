//! What the model needs to know of manifests: which blobs and child images one references (real ECR
//! refuses a push whose references are missing), and the schema 1 form ECR serves to a client that
//! accepts only docker v1 (M-TRANSLATE).

use crate::wire::media_type;
use serde_json::{Value, json};

/// The digests a manifest points at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Config and layer blobs (image manifests).
    pub blobs: Vec<String>,
    /// Child manifests (manifest lists and indexes).
    pub children: Vec<String>,
}

/// Reads the references of a manifest of the given media type. Unparseable manifests reference
/// nothing: the model stores bytes and does not judge them beyond this.
pub fn references(manifest: &str, media_type: &str) -> References {
    let Ok(v) = serde_json::from_str::<Value>(manifest) else {
        return References::default();
    };
    let digests_of = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("digest").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    if media_type::is_list(media_type) {
        return References {
            blobs: Vec::new(),
            children: digests_of("manifests"),
        };
    }
    let mut blobs: Vec<String> = v
        .get("config")
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    blobs.extend(digests_of("layers"));
    References {
        blobs,
        children: Vec::new(),
    }
}

/// The media type a manifest declares of itself, for a push that names none.
pub fn declared_media_type(manifest: &str) -> Option<String> {
    let v: Value = serde_json::from_str(manifest).ok()?;
    if let Some(t) = v.get("mediaType").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    match v.get("schemaVersion").and_then(Value::as_i64) {
        Some(1) => Some(media_type::DOCKER_V1_SIGNED.to_string()),
        // An OCI manifest may omit mediaType; ECR reads it as OCI when it has a config.
        Some(2) if v.get("config").is_some() => Some(media_type::OCI_MANIFEST.to_string()),
        Some(2) if v.get("manifests").is_some() => Some(media_type::OCI_INDEX.to_string()),
        _ => None,
    }
}

/// The docker schema 1 manifest served for a docker v2 image to a client that accepts only v1
/// (M-TRANSLATE). Only its structure is a claim of the reference: `schemaVersion` 1, `name`, `tag`,
/// one `fsLayers` entry per layer (newest first, as schema 1 orders them).
pub fn schema1_translation(manifest: &str, repository: &str, tag: &str) -> String {
    let layers = references(manifest, media_type::DOCKER_V2).blobs.into_iter().skip(1);
    let mut fs_layers: Vec<Value> = layers.map(|d| json!({ "blobSum": d })).collect();
    fs_layers.reverse();
    let history: Vec<Value> = fs_layers.iter().map(|_| json!({ "v1Compatibility": "{}" })).collect();
    let v = json!({
        "schemaVersion": 1,
        "name": repository,
        "tag": tag,
        "architecture": "amd64",
        "fsLayers": fs_layers,
        "history": history,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Whether a manifest has the structure M-TRANSLATE promises for `repository:tag`.
pub fn is_schema1_for(manifest: &str, repository: &str, tag: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(manifest) else {
        return false;
    };
    v.get("schemaVersion").and_then(Value::as_i64) == Some(1)
        && v.get("name").and_then(Value::as_str) == Some(repository)
        && v.get("tag").and_then(Value::as_str) == Some(tag)
        && v.get("fsLayers").is_some_and(Value::is_array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_manifests_reference_config_then_layers_and_lists_reference_children() {
        let m = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
            "config":{"digest":"sha256:c"},"layers":[{"digest":"sha256:l1"},{"digest":"sha256:l2"}]}"#;
        assert_eq!(
            references(m, media_type::DOCKER_V2).blobs,
            ["sha256:c", "sha256:l1", "sha256:l2"]
        );
        let l = r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:a"},{"digest":"sha256:b"}]}"#;
        assert_eq!(references(l, media_type::OCI_INDEX).children, ["sha256:a", "sha256:b"]);
        assert_eq!(references("not json", media_type::DOCKER_V2), References::default());
    }

    #[test]
    fn translation_has_the_schema1_structure() {
        let m = r#"{"schemaVersion":2,"config":{"digest":"sha256:c"},"layers":[{"digest":"sha256:l1"}]}"#;
        let t = schema1_translation(m, "team/web", "v1");
        assert!(is_schema1_for(&t, "team/web", "v1"));
        assert!(!is_schema1_for(&t, "team/web", "v2"));
        assert!(!is_schema1_for(m, "team/web", "v1"));
    }

    #[test]
    fn declared_media_type_reads_the_manifest() {
        assert_eq!(
            declared_media_type(r#"{"schemaVersion":2,"mediaType":"x"}"#).as_deref(),
            Some("x")
        );
        assert_eq!(
            declared_media_type(r#"{"schemaVersion":2,"config":{}}"#).as_deref(),
            Some(media_type::OCI_MANIFEST)
        );
        assert_eq!(declared_media_type("[]"), None);
    }
}

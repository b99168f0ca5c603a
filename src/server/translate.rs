//! Manifest translations that the reference allows beside the model's first choice (section 5 of
//! the reference): docker v2 to OCI (M-TRANSLATE-OCI), OCI to docker v2 (M-TRANSLATE-V2), and a
//! schema 1 body written differently from the model's (M-TRANSLATE checks only its structure).
//!
//! Self-contained on purpose: they work from the stored manifest's text, not from the model's
//! `ExpectedManifest`, so that the model can gain translation kinds of its own without this code
//! following it.

use super::variants::reverse_keys;
use crate::model::syntax;
use crate::wire::media_type;
use serde::Serialize as _;
use serde_json::{Map, Value, json};

/// The layer media types that have a counterpart in the other format: (docker, OCI).
const LAYER_TYPES: [(&str, &str); 3] = [
    (media_type::DOCKER_LAYER, media_type::OCI_LAYER),
    (
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.oci.image.layer.v1.tar",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Docker,
    Oci,
}

/// A docker v2 image manifest as an OCI image manifest: the same config and layers (digests,
/// sizes, urls) under OCI media types. None when the text is not an image manifest.
pub fn docker_v2_to_oci(stored: &str) -> Option<String> {
    translate(stored, Format::Oci)
}

/// An OCI image manifest as a docker v2 schema 2 manifest (annotations, which docker v2 lacks, are
/// dropped). None when the text is not an image manifest.
pub fn oci_to_docker_v2(stored: &str) -> Option<String> {
    translate(stored, Format::Docker)
}

fn translate(stored: &str, to: Format) -> Option<String> {
    let v: Value = serde_json::from_str(stored).ok()?;
    let config = v.get("config")?;
    let layers = v.get("layers").and_then(Value::as_array).cloned().unwrap_or_default();
    let (manifest_type, config_type) = match to {
        Format::Oci => (media_type::OCI_MANIFEST, media_type::OCI_CONFIG),
        Format::Docker => (media_type::DOCKER_V2, media_type::DOCKER_CONFIG),
    };
    let layers: Option<Vec<Value>> = layers
        .iter()
        .map(|l| descriptor(l, layer_type(l.get("mediaType").and_then(Value::as_str), to)))
        .collect();
    let mut out = json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": descriptor(config, config_type.to_string())?,
        "layers": layers?,
    });
    if let (Format::Oci, Some(annotations)) = (to, v.get("annotations")) {
        out["annotations"] = annotations.clone();
    }
    serde_json::to_string(&out).ok()
}

/// A descriptor with the members both formats know, under `media`.
fn descriptor(d: &Value, media: String) -> Option<Value> {
    let digest = d.get("digest")?.clone();
    let mut out = Map::new();
    out.insert("mediaType".into(), json!(media));
    out.insert("digest".into(), digest);
    out.insert("size".into(), d.get("size").cloned().unwrap_or(json!(0)));
    if let Some(urls) = d.get("urls") {
        out.insert("urls".into(), urls.clone());
    }
    Some(Value::Object(out))
}

/// A layer's media type in the other format; one without a counterpart is kept as it is.
fn layer_type(from: Option<&str>, to: Format) -> String {
    let from = from.unwrap_or(match to {
        Format::Oci => media_type::DOCKER_LAYER,
        Format::Docker => media_type::OCI_LAYER,
    });
    LAYER_TYPES
        .iter()
        .find_map(|(docker, oci)| match to {
            Format::Oci if *docker == from => Some(*oci),
            Format::Docker if *oci == from => Some(*docker),
            _ => None,
        })
        .unwrap_or(from)
        .to_string()
}

/// A schema 1 manifest for `name:tag` over `layers` (config excluded, in push order) written as a
/// registry that signs its schema 1 answers writes it: keys in another order than the model's, a
/// three-space indent, `history` entries with `v1Compatibility` strings, and `signatures`. Still
/// `schemaVersion` 1 with the right `name`, `tag` and `fsLayers`, which is all M-TRANSLATE claims.
pub fn schema1_signed_body(name: &str, tag: &str, layers: &[String]) -> String {
    // Schema 1 lists the newest layer first.
    let newest_first: Vec<&String> = layers.iter().rev().collect();
    let ids: Vec<String> = newest_first
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let id = syntax::sha256_digest(format!("{name}:{tag}:{i}:{d}").as_bytes());
            id.trim_start_matches("sha256:").to_string()
        })
        .collect();
    let history: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut compat = json!({
                "id": id,
                "created": "1970-01-01T00:00:00Z",
                "container_config": {"Cmd": [""]},
            });
            if let Some(parent) = ids.get(i + 1) {
                compat["parent"] = json!(parent);
            }
            if i == 0 {
                compat["architecture"] = json!("amd64");
                compat["os"] = json!("linux");
            }
            json!({ "v1Compatibility": compat.to_string() })
        })
        .collect();
    let payload_hash = syntax::sha256_digest(format!("{name}:{tag}:{}", layers.join(",")).as_bytes());
    let v = json!({
        "schemaVersion": 1,
        "name": name,
        "tag": tag,
        "architecture": "amd64",
        "fsLayers": newest_first.iter().map(|d| json!({ "blobSum": d })).collect::<Vec<_>>(),
        "history": history,
        "signatures": [{
            "header": {
                "jwk": {"crv": "P-256", "kid": "ECRC:ALTERNATIVE:SCHEMA1", "kty": "EC", "x": "AAAA", "y": "AAAA"},
                "alg": "ES256",
            },
            "signature": payload_hash.trim_start_matches("sha256:"),
            "protected": "eyJmb3JtYXRMZW5ndGgiOjAsImZvcm1hdFRhaWwiOiJJSDAiLCJ0aW1lIjoiMTk3MC0wMS0wMVQwMDowMDowMFoifQ",
        }],
    });
    let mut out = Vec::new();
    let mut writer =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"   "));
    // Writing into a Vec cannot fail; an empty body would only make the comparer report it.
    if reverse_keys(&v).serialize(&mut writer).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest;

    const DOCKER: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"sha256:c"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3,"digest":"sha256:l1"}]}"#;

    #[test]
    fn docker_v2_and_oci_translate_into_each_other_with_the_same_blobs() {
        let oci = docker_v2_to_oci(DOCKER).expect("an image manifest");
        let v: Value = serde_json::from_str(&oci).expect("json");
        assert_eq!(v["mediaType"], media_type::OCI_MANIFEST);
        assert_eq!(v["config"]["mediaType"], media_type::OCI_CONFIG);
        assert_eq!(v["config"]["digest"], "sha256:c");
        assert_eq!(v["config"]["size"], 7);
        assert_eq!(v["layers"][0]["mediaType"], media_type::OCI_LAYER);
        assert_eq!(v["layers"][0]["size"], 3);
        assert_eq!(
            manifest::references(&oci, media_type::OCI_MANIFEST),
            manifest::references(DOCKER, media_type::DOCKER_V2)
        );
        let back = oci_to_docker_v2(&oci).expect("an image manifest");
        let b: Value = serde_json::from_str(&back).expect("json");
        assert_eq!(b["mediaType"], media_type::DOCKER_V2);
        assert_eq!(b["config"]["mediaType"], media_type::DOCKER_CONFIG);
        assert_eq!(b["layers"][0]["mediaType"], media_type::DOCKER_LAYER);
        assert_eq!(docker_v2_to_oci("[]"), None);
        assert_eq!(oci_to_docker_v2(r#"{"manifests":[]}"#), None);
    }

    #[test]
    fn the_other_schema1_body_has_the_promised_structure_and_another_text() {
        let layers = vec!["sha256:l1".to_string(), "sha256:l2".to_string()];
        let body = schema1_signed_body("team/web", "v1", &layers);
        assert!(manifest::is_schema1_for(&body, "team/web", "v1"), "{body}");
        assert!(body.contains("\n   \""), "three-space indent: {body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["fsLayers"][0]["blobSum"], "sha256:l2");
        assert_eq!(v["history"].as_array().map(Vec::len), Some(2));
        assert!(v["history"][0]["v1Compatibility"].is_string());
        assert!(v["signatures"].is_array());
        let model = manifest::schema1_translation(
            r#"{"config":{"digest":"sha256:c"},"layers":[{"digest":"sha256:l1"},{"digest":"sha256:l2"}]}"#,
            "team/web",
            "v1",
        );
        assert_ne!(body, model);
        assert_eq!(body, schema1_signed_body("team/web", "v1", &layers));
    }
}

//! A schema 1 translation written as a registry that signs its schema 1 answers writes it, beside
//! the model's own (the `schema1-other-body` alternative: M-TRANSLATE checks only its structure).
//! The model's translations between docker v2 and OCI are in `model::manifest`.

use super::variants::reverse_keys;
use crate::model::syntax;
use serde::Serialize as _;
use serde_json::{Value, json};

/// A schema 1 manifest for `name:tag` over `layers` (config excluded, in push order) written as a
/// registry that signs its schema 1 answers writes it: keys in another order than the model's, a
/// three-space indent, `history` entries with `v1Compatibility` strings, and `signatures`. Still
/// `schemaVersion` 1 with the right `name`, `tag` and `fsLayers`, which is all M-TRANSLATE claims.
pub(crate) fn schema1_signed_body(name: &str, tag: &str, layers: &[String]) -> String {
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

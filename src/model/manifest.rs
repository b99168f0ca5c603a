//! What the model needs to know of manifests: which blobs and child images one references (real ECR
//! refuses a push whose references are missing), the schema 1 form ECR serves to a client that
//! accepts only docker v1 (M-TRANSLATE), and the translations between docker v2 and OCI image
//! manifests that ECR serves by tag (M-TRANSLATE-OCI, M-TRANSLATE-V2).

use crate::wire::media_type;
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

/// The image-manifest formats ECR translates between by tag.
fn format_of(media: &str) -> Option<(&'static str, &'static str)> {
    // (manifest type, config type)
    match media {
        media_type::OCI_MANIFEST => Some((media_type::OCI_MANIFEST, media_type::OCI_CONFIG)),
        media_type::DOCKER_V2 => Some((media_type::DOCKER_V2, media_type::DOCKER_CONFIG)),
        _ => None,
    }
}

/// A layer's media type in the format of `to` (a manifest type); one without a counterpart, or
/// absent, keeps what it is (absent: the target's plain layer type).
fn layer_type(from: Option<&str>, to: &str) -> String {
    let to_oci = to == media_type::OCI_MANIFEST;
    let Some(from) = from else {
        return if to_oci {
            media_type::OCI_LAYER
        } else {
            media_type::DOCKER_LAYER
        }
        .to_string();
    };
    LAYER_TYPES
        .iter()
        .find_map(|(docker, oci)| match to_oci {
            true if *docker == from => Some(*oci),
            false if *oci == from => Some(*docker),
            _ => None,
        })
        .unwrap_or(from)
        .to_string()
}

/// The translation of an image manifest into the other image format (`to`: the docker v2 or the
/// OCI manifest type): the same config and layers (digest, size, urls) under `to`'s media types.
/// The model's own rendering, which the reference server serves; what the reference claims of a
/// translation is only its structure ([`is_translation_of`]). None when `stored` is not an image
/// manifest or `to` not one of the two formats.
pub fn translation(stored: &str, to: &str) -> Option<String> {
    let (manifest_type, config_type) = format_of(to)?;
    let v: Value = serde_json::from_str(stored).ok()?;
    let descriptor = |d: &Value, media: String| -> Option<Value> {
        let mut out = Map::new();
        out.insert("mediaType".into(), json!(media));
        out.insert("digest".into(), d.get("digest")?.clone());
        // Members the stored descriptor has are kept, no more: a translation claims the same blobs.
        for member in ["size", "urls"] {
            if let Some(value) = d.get(member) {
                out.insert(member.into(), value.clone());
            }
        }
        Some(Value::Object(out))
    };
    let layers: Option<Vec<Value>> = v
        .get("layers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|l| descriptor(l, layer_type(l.get("mediaType").and_then(Value::as_str), to)))
        .collect();
    let mut out = json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": descriptor(v.get("config")?, config_type.to_string())?,
        "layers": layers?,
    });
    // Docker v2 has no annotations; OCI keeps them.
    if let (media_type::OCI_MANIFEST, Some(annotations)) = (manifest_type, v.get("annotations")) {
        out["annotations"] = annotations.clone();
    }
    serde_json::to_string(&out).ok()
}

/// Whether `got` has the structure the reference claims for a translation of `stored` into `to`
/// (section 5): `schemaVersion` 2, `to` as its `mediaType` (an OCI manifest may omit it), the same
/// config and layer digests and sizes in the same order, under `to`'s config and layer types.
pub fn is_translation_of(got: &str, stored: &str, to: &str) -> bool {
    let (Some((manifest_type, config_type)), Ok(g), Ok(s)) = (
        format_of(to),
        serde_json::from_str::<Value>(got),
        serde_json::from_str::<Value>(stored),
    ) else {
        return false;
    };
    let same_blob = |a: &Value, b: &Value| {
        a.get("digest").is_some() && a.get("digest") == b.get("digest") && a.get("size") == b.get("size")
    };
    let declared = g.get("mediaType").and_then(Value::as_str);
    let type_ok = declared == Some(manifest_type) || (declared.is_none() && manifest_type == media_type::OCI_MANIFEST);
    let (Some(gc), Some(sc)) = (g.get("config"), s.get("config")) else {
        return false;
    };
    let config_ok = same_blob(gc, sc) && gc.get("mediaType").and_then(Value::as_str) == Some(config_type);
    let empty = Vec::new();
    let gl = g.get("layers").and_then(Value::as_array).unwrap_or(&empty);
    let sl = s.get("layers").and_then(Value::as_array).unwrap_or(&empty);
    let layers_ok = gl.len() == sl.len()
        && gl.iter().zip(sl).all(|(a, b)| {
            same_blob(a, b)
                && a.get("mediaType").and_then(Value::as_str)
                    == Some(layer_type(b.get("mediaType").and_then(Value::as_str), to).as_str())
        });
    g.get("schemaVersion").and_then(Value::as_i64) == Some(2) && type_ok && config_ok && layers_ok
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

    const DOCKER: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"sha256:c"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3,"digest":"sha256:l1"}]}"#;

    #[test]
    fn docker_v2_and_oci_translate_into_each_other_with_the_same_blobs() {
        let oci = translation(DOCKER, media_type::OCI_MANIFEST).expect("an image manifest");
        let v: Value = serde_json::from_str(&oci).expect("json");
        assert_eq!(v["mediaType"], media_type::OCI_MANIFEST);
        assert_eq!(v["config"]["mediaType"], media_type::OCI_CONFIG);
        assert_eq!(
            (&v["config"]["digest"], &v["config"]["size"]),
            (&json!("sha256:c"), &json!(7))
        );
        assert_eq!(v["layers"][0]["mediaType"], media_type::OCI_LAYER);
        assert!(is_translation_of(&oci, DOCKER, media_type::OCI_MANIFEST));
        assert_eq!(
            references(&oci, media_type::OCI_MANIFEST),
            references(DOCKER, media_type::DOCKER_V2)
        );
        let back = translation(&oci, media_type::DOCKER_V2).expect("an image manifest");
        let b: Value = serde_json::from_str(&back).expect("json");
        assert_eq!(b["config"]["mediaType"], media_type::DOCKER_CONFIG);
        assert_eq!(b["layers"][0]["mediaType"], media_type::DOCKER_LAYER);
        assert!(is_translation_of(&back, &oci, media_type::DOCKER_V2));
        assert_eq!(translation("[]", media_type::OCI_MANIFEST), None);
        assert_eq!(translation(r#"{"manifests":[]}"#, media_type::DOCKER_V2), None);
        assert_eq!(translation(DOCKER, media_type::OCI_INDEX), None);
    }

    #[test]
    fn a_translation_is_judged_by_its_structure() {
        let oci = translation(DOCKER, media_type::OCI_MANIFEST).expect("an image manifest");
        // Written otherwise (pretty, mediaType omitted as OCI allows): still a translation.
        let mut v: Value = serde_json::from_str(&oci).expect("json");
        v.as_object_mut().map(|o| o.remove("mediaType"));
        let pretty = serde_json::to_string_pretty(&v).expect("json");
        assert!(is_translation_of(&pretty, DOCKER, media_type::OCI_MANIFEST));
        // The stored manifest itself, another layer size, a docker layer type: not one.
        assert!(!is_translation_of(DOCKER, DOCKER, media_type::OCI_MANIFEST));
        let mut other = serde_json::from_str::<Value>(&oci).expect("json");
        other["layers"][0]["size"] = json!(4);
        assert!(!is_translation_of(&other.to_string(), DOCKER, media_type::OCI_MANIFEST));
        let mut kept = serde_json::from_str::<Value>(&oci).expect("json");
        kept["layers"][0]["mediaType"] = json!(media_type::DOCKER_LAYER);
        assert!(!is_translation_of(&kept.to_string(), DOCKER, media_type::OCI_MANIFEST));
        assert!(!is_translation_of("not json", DOCKER, media_type::OCI_MANIFEST));
    }
}

//! Canonical examples: the same bug found from two seeds must give the same example, byte for
//! byte. A minimal (plan, request) pair is rebuilt with stable names in order of appearance
//! (`repo-1`, `tag-1`, images with canonical manifests, so their digests are fixed too), and the
//! request is rewritten to keep every relation it had to the state: a tag's case variant stays a
//! case variant, a digest prefix stays a prefix of the same image's digest, a missing digest stays
//! missing.

use crate::model::syntax::{is_well_formed_digest, sha256_digest};
use crate::model::{Push, RegistryPlan, RepositoryPlan, manifest};
use crate::wire::json_style::{self, Json, Style};
use crate::wire::{BatchGetImageRequest, ImageIdentifier, media_type};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Canonical {
    pub plan: RegistryPlan,
    pub request: BatchGetImageRequest,
    /// The canonical digest of each image, in order (`image-1` first).
    pub image_digests: Vec<String>,
}

/// Case-aware tag names: every spelling of one tag (ignoring case) maps to a spelling of one
/// canonical tag with the same case relation to the group's first spelling.
struct TagNames {
    groups: Vec<(String, String)>, // (first spelling, canonical base)
    map: HashMap<String, String>,
    missing: usize,
}

fn flip(c: char) -> char {
    if c.is_ascii_lowercase() {
        c.to_ascii_uppercase()
    } else {
        c.to_ascii_lowercase()
    }
}

impl TagNames {
    fn new() -> Self {
        TagNames {
            groups: Vec::new(),
            map: HashMap::new(),
            missing: 0,
        }
    }

    /// Names a tag of the state.
    fn known(&mut self, tag: &str) -> String {
        self.name(tag, "tag")
    }

    fn name(&mut self, tag: &str, stem: &str) -> String {
        if let Some(n) = self.map.get(tag) {
            return n.clone();
        }
        let named = if tag.is_empty() {
            String::new()
        } else if tag.len() > crate::model::syntax::TAG_MAX {
            "x".repeat(crate::model::syntax::TAG_MAX + 1)
        } else if let Some(g) = self.groups.iter().position(|(f, _)| f.eq_ignore_ascii_case(tag)) {
            // A case variant of a known tag: the first variant is the base in upper case, a
            // second one the base with its first letter flipped (which variant a seed drew does
            // not matter; that it differs only in case does).
            let base = self.groups[g].1.clone();
            let variants = self
                .map
                .iter()
                .filter(|(k, v)| k.eq_ignore_ascii_case(tag) && **v != base)
                .count();
            if variants == 0 {
                base.chars().map(flip).collect()
            } else {
                let mut out = String::new();
                let mut done = false;
                for c in base.chars() {
                    if !done && c.is_ascii_alphabetic() {
                        out.push(flip(c));
                        done = true;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        } else {
            let base = if stem == "tag" {
                format!("tag-{}", self.groups.len() + 1)
            } else {
                self.missing += 1;
                format!("missing-{}", self.missing)
            };
            self.groups.push((tag.to_string(), base.clone()));
            base
        };
        self.map.insert(tag.to_string(), named.clone());
        named
    }
}

/// How far the rebuild simplifies the images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Every image, lists and indexes included, becomes a plain docker v2 image.
    Flat,
    /// Image manifests become docker v2, lists docker manifest lists.
    Docker,
    /// Media types are kept.
    Typed,
}

impl Form {
    pub(crate) const ALL: [Form; 3] = [Form::Flat, Form::Docker, Form::Typed];
}

/// Rewrites a requested digest by its relation to the images' old digests.
fn map_digest(d: &str, old_to_new: &[(String, String)], missing: &mut Vec<String>) -> String {
    if !is_well_formed_digest(d) {
        return d.to_string();
    }
    for (old, new) in old_to_new {
        if d == old {
            return new.clone();
        }
        if d.eq_ignore_ascii_case(old) {
            // Upper-case hex of the same digest.
            return format!("sha256:{}", new.trim_start_matches("sha256:").to_ascii_uppercase());
        }
        if old.starts_with(d) {
            return new[..d.len().min(new.len())].to_string();
        }
        if d.len() == old.len() {
            let diffs: Vec<usize> = d
                .bytes()
                .zip(old.bytes())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, _)| i)
                .collect();
            if let [at] = diffs[..] {
                let mut bytes = new.clone().into_bytes();
                bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
                return String::from_utf8(bytes).unwrap_or_else(|_| new.clone());
            }
        }
    }
    // A well-formed digest of no image: the n-th missing one.
    let n = match missing.iter().position(|m| m == d) {
        Some(n) => n,
        None => {
            missing.push(d.to_string());
            missing.len() - 1
        }
    };
    format!("sha256:{:064x}", n + 1)
}

fn canonical_image(n: usize, kind: &str) -> (Vec<Vec<u8>>, String) {
    let config =
        format!(r#"{{"architecture":"amd64","os":"linux","config":{{"Labels":{{"image":"{n}"}}}}}}"#).into_bytes();
    let layer = format!("layer of image {n}").into_bytes();
    let (config_type, layer_type) = if kind == media_type::OCI_MANIFEST {
        (media_type::OCI_CONFIG, media_type::OCI_LAYER)
    } else {
        (media_type::DOCKER_CONFIG, media_type::DOCKER_LAYER)
    };
    let descriptor = |t: &str, b: &[u8]| {
        Json::object([
            ("mediaType", Json::str(t)),
            ("size", Json::Number(b.len() as u64)),
            ("digest", Json::str(sha256_digest(b))),
        ])
    };
    let m = Json::object([
        ("schemaVersion", Json::Number(2)),
        ("mediaType", Json::str(kind)),
        ("config", descriptor(config_type, &config)),
        ("layers", Json::Array(vec![descriptor(layer_type, &layer)])),
    ]);
    (vec![config, layer], json_style::write(&m, Style::COMPACT))
}

fn canonical_list(kind: &str, children: &[(String, String, usize)]) -> String {
    let entries = children
        .iter()
        .map(|(digest, child_type, size)| {
            Json::object([
                ("mediaType", Json::str(child_type.as_str())),
                ("size", Json::Number(*size as u64)),
                ("digest", Json::str(digest.as_str())),
                (
                    "platform",
                    Json::object([("architecture", Json::str("amd64")), ("os", Json::str("linux"))]),
                ),
            ])
        })
        .collect();
    let m = Json::object([
        ("schemaVersion", Json::Number(2)),
        ("mediaType", Json::str(kind)),
        ("manifests", Json::Array(entries)),
    ]);
    json_style::write(&m, Style::COMPACT)
}

/// Rebuilds `plan` and `request` canonically, simplifying the images as far as `form` says.
pub(crate) fn canonicalise(plan: &RegistryPlan, request: &BatchGetImageRequest, form: Form) -> Canonical {
    let docker_only = form != Form::Typed;
    let mut tags = TagNames::new();
    let mut old_to_new: Vec<(String, String)> = Vec::new();
    let mut image_digests = Vec::new();
    let mut repositories = Vec::new();
    let mut repo_names: Vec<(String, String)> = Vec::new();
    for (r, repo) in plan.repositories.iter().enumerate() {
        let name = format!("repo-{}", r + 1);
        repo_names.push((repo.name.clone(), name.clone()));
        let mut blobs = Vec::new();
        let mut pushes = Vec::new();
        // Old digest to the canonical image: (digest, media type, manifest text).
        let mut new_of: HashMap<String, (String, String, String)> = HashMap::new();
        for p in &repo.pushes {
            let old = sha256_digest(p.manifest.as_bytes());
            if !new_of.contains_key(&old) {
                let n = image_digests.len() + 1;
                let (text, kind) = if media_type::is_list(&p.media_type) && form != Form::Flat {
                    let kind = if docker_only {
                        media_type::DOCKER_LIST
                    } else {
                        p.media_type.as_str()
                    };
                    let children: Vec<(String, String, usize)> = manifest::references(&p.manifest, &p.media_type)
                        .children
                        .iter()
                        .filter_map(|c| new_of.get(c).map(|(d, t, m)| (d.clone(), t.clone(), m.len())))
                        .collect();
                    (canonical_list(kind, &children), kind.to_string())
                } else {
                    let kind = if docker_only || p.media_type != media_type::OCI_MANIFEST {
                        media_type::DOCKER_V2
                    } else {
                        media_type::OCI_MANIFEST
                    };
                    let (b, text) = canonical_image(n, kind);
                    blobs.extend(b);
                    (text, kind.to_string())
                };
                let new = sha256_digest(text.as_bytes());
                old_to_new.push((old.clone(), new.clone()));
                image_digests.push(new.clone());
                new_of.insert(old.clone(), (new, kind, text));
            }
            let Some((_, kind, manifest_text)) = new_of.get(&old).cloned() else {
                continue;
            };
            pushes.push(Push {
                manifest: manifest_text,
                media_type: kind,
                tag: p.tag.as_deref().map(|t| tags.known(t)),
            });
        }
        repositories.push(RepositoryPlan { name, blobs, pushes });
    }

    let mut missing = Vec::new();
    let image_ids: Vec<ImageIdentifier> = request
        .image_ids
        .iter()
        .map(|id| ImageIdentifier {
            image_tag: id.image_tag.as_deref().map(|t| tags.name(t, "missing")),
            image_digest: id
                .image_digest
                .as_deref()
                .map(|d| map_digest(d, &old_to_new, &mut missing)),
        })
        .collect();
    // The order of ids is no part of an example (P-PERMUTE): a fixed order, so two seeds agree.
    let mut image_ids: Vec<ImageIdentifier> = image_ids;
    image_ids.sort_by_key(|i| (i.image_tag.is_none(), i.image_tag.clone(), i.image_digest.clone()));
    let repository_name = rename_repository(&request.repository_name, &repo_names);
    Canonical {
        plan: RegistryPlan { repositories },
        request: BatchGetImageRequest {
            repository_name,
            image_ids,
            ..request.clone()
        },
        image_digests,
    }
}

/// The request's repository name with the state's names replaced (longest first), and the
/// generator's random numbers in the rest (`-missing123`) zeroed.
fn rename_repository(name: &str, names: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = names.iter().collect();
    sorted.sort_by_key(|(old, _)| std::cmp::Reverse(old.len()));
    for (old, new) in sorted {
        if let Some(pos) = name.find(old.as_str()) {
            let (before, after) = (&name[..pos], &name[pos + old.len()..]);
            return format!("{}{new}{}", zero_digits(before), zero_digits(after));
        }
    }
    zero_digits(name)
}

fn zero_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('0');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// An image of an example as placeholders name it: its digest, and the blobs its manifest
/// references (config first, then layers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamedImage {
    pub digest: String,
    pub blobs: Vec<String>,
}

#[cfg(test)]
impl NamedImage {
    /// An image whose blobs are unknown (named by its digest only).
    pub(crate) fn bare(digest: &str) -> NamedImage {
        NamedImage {
            digest: digest.to_string(),
            blobs: Vec::new(),
        }
    }
}

/// The images of an example, in the order of `digests`, with their blobs from the plan's state.
pub(crate) fn named_images(plan: &RegistryPlan, registry_id: &str, digests: &[String]) -> Vec<NamedImage> {
    let state = plan.build(registry_id).ok();
    digests
        .iter()
        .map(|d| {
            let blobs = state
                .as_ref()
                .and_then(|s| s.repositories.values().find_map(|r| r.image_by_digest(d)))
                .map(|i| manifest::references(&i.manifest, &i.media_type).blobs)
                .unwrap_or_default();
            NamedImage {
                digest: d.clone(),
                blobs,
            }
        })
        .collect()
}

/// Replaces every digest in `text` with a placeholder that says what it is: an image's digest
/// with `<image-N>`, its config with `<config of image-N>`, its layers with `<layer-K of
/// image-N>`, any other `sha256:` digest with `<digest-N>` in order of appearance.
pub(crate) fn placeholders(text: &str, images: &[NamedImage], registry_id: &str) -> String {
    let mut out = text.to_string();
    for (i, image) in images.iter().enumerate() {
        out = out.replace(image.digest.as_str(), &format!("<image-{}>", i + 1));
    }
    let mut named: std::collections::HashSet<&str> = images.iter().map(|i| i.digest.as_str()).collect();
    for (i, image) in images.iter().enumerate() {
        for (k, blob) in image.blobs.iter().enumerate() {
            // A blob two images share keeps the name of the first.
            if !blob.starts_with("sha256:") || !named.insert(blob.as_str()) {
                continue;
            }
            let name = match k {
                0 => format!("<config of image-{}>", i + 1),
                k => format!("<layer-{k} of image-{}>", i + 1),
            };
            out = out.replace(blob.as_str(), &name);
        }
    }
    let mut others: Vec<String> = Vec::new();
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(pos) = rest.find("sha256:") {
        let hex_len = rest[pos + 7..].bytes().take_while(|b| b.is_ascii_hexdigit()).count();
        if hex_len == 64 {
            let d = &rest[pos..pos + 71];
            let n = others.iter().position(|o| o == d).unwrap_or_else(|| {
                others.push(d.to_string());
                others.len() - 1
            });
            result.push_str(&rest[..pos]);
            result.push_str(&format!("<digest-{}>", n + 1));
            rest = &rest[pos + 71..];
        } else {
            result.push_str(&rest[..pos + 7]);
            rest = &rest[pos + 7..];
        }
    }
    result.push_str(rest);
    whole_token_replaced(&result, registry_id, "<registry>")
}

/// `text` with every occurrence of `token` that stands alone (no letter or digit right before or
/// after it) replaced: a registry id of twelve zeros is a registry id in a message or an ARN, not
/// in the middle of a digest.
fn whole_token_replaced(text: &str, token: &str, by: &str) -> String {
    if token.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(token) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + token.len()..].chars().next();
        let alone = !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..pos]);
        out.push_str(if alone { by } else { token });
        rest = &rest[pos + token.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_id_is_replaced_where_it_stands_alone_never_inside_a_digest() {
        let zeros = "000000000000";
        let digest = format!("sha256:{}5", "0".repeat(63));
        let text = format!("registry {zeros}, arn:aws:ecr:r:{zeros}:repository/x, '{zeros}', {digest}");
        let out = placeholders(&text, &[], zeros);
        assert_eq!(
            out,
            "registry <registry>, arn:aws:ecr:r:<registry>:repository/x, '<registry>', <digest-1>"
        );
        // A digest that is no 64-hex digest keeps its zeros.
        let short = format!("sha256:{zeros}{zeros}1");
        assert_eq!(placeholders(&short, &[], zeros), short);
    }
    use crate::wire::media_type::{DOCKER_V2, OCI_MANIFEST};

    fn plan(name: &str, tags: &[&str], kind: &str, salt: &str) -> RegistryPlan {
        let m =
            format!(r#"{{"schemaVersion":2,"mediaType":"{kind}","config":{{"digest":"sha256:{salt}"}},"layers":[]}}"#);
        RegistryPlan {
            repositories: vec![RepositoryPlan {
                name: name.into(),
                blobs: vec![],
                pushes: tags
                    .iter()
                    .map(|t| Push {
                        manifest: m.clone(),
                        media_type: kind.into(),
                        tag: Some(t.to_string()),
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn two_seeds_worth_of_the_same_example_are_the_same_canonically() {
        let a = plan("ab3/x", &["latest"], DOCKER_V2, "aa");
        let b = plan("q9-z", &["v1.2"], OCI_MANIFEST, "bb");
        let ra = BatchGetImageRequest {
            repository_name: "ab3/x".into(),
            image_ids: vec![ImageIdentifier::tag("LATEST")],
            ..Default::default()
        };
        let rb = BatchGetImageRequest {
            repository_name: "q9-z".into(),
            image_ids: vec![ImageIdentifier::tag("V1.2")],
            ..Default::default()
        };
        let (ca, cb) = (canonicalise(&a, &ra, Form::Docker), canonicalise(&b, &rb, Form::Docker));
        assert_eq!(ca, cb);
        assert_eq!(ca.request.image_ids[0], ImageIdentifier::tag("TAG-1"));
        assert_eq!(ca.plan.repositories[0].name, "repo-1");
        assert_eq!(ca.plan.build("123456789012").map(|s| s.repositories.len()), Ok(1));
    }

    #[test]
    fn digest_relations_survive() {
        let p = plan("r1", &["t"], DOCKER_V2, "aa");
        let old = sha256_digest(p.repositories[0].pushes[0].manifest.as_bytes());
        let upper = format!("sha256:{}", old[7..].to_uppercase());
        let ids = vec![
            ImageIdentifier::digest(&old),
            ImageIdentifier::digest(&old[..20]),
            ImageIdentifier::digest(&upper),
            ImageIdentifier::digest(format!("sha256:{}", "7".repeat(64))),
            ImageIdentifier::digest("sha256:xyz"),
            ImageIdentifier::tag("nope"),
        ];
        let r = BatchGetImageRequest {
            repository_name: "r1-missing42".into(),
            image_ids: ids,
            ..Default::default()
        };
        let c = canonicalise(&p, &r, Form::Docker);
        let new = &c.image_digests[0];
        let got: Vec<_> = c
            .request
            .image_ids
            .iter()
            .map(|i| i.image_digest.clone().or(i.image_tag.clone()).unwrap_or_default())
            .collect();
        // The ids come in a fixed order, so the relations are checked as a set.
        for want in [
            new.clone(),
            new[..20].to_string(),
            format!("sha256:{}", new[7..].to_uppercase()),
            format!("sha256:{:064x}", 1),
            "sha256:xyz".to_string(),
            "missing-1".to_string(),
        ] {
            assert!(got.contains(&want), "{want} not in {got:?}");
        }
        assert_eq!(c.request.repository_name, "repo-1-missing0");
    }

    #[test]
    fn placeholders_replace_every_digest_and_the_registry() {
        let d1 = format!("sha256:{}", "a".repeat(64));
        let d2 = format!("sha256:{}", "b".repeat(64));
        let text = format!("{d1} {d2} {d2} 123456789012 sha256:xyz");
        assert_eq!(
            placeholders(&text, &[NamedImage::bare(&d1)], "123456789012"),
            "<image-1> <digest-1> <digest-1> <registry> sha256:xyz"
        );
    }

    #[test]
    fn placeholders_name_images_and_their_blobs_apart() {
        let [image, config, layer, other] = ["a", "c", "e", "f"].map(|x| format!("sha256:{}", x.repeat(64)));
        let images = [NamedImage {
            digest: image.clone(),
            blobs: vec![config.clone(), layer.clone()],
        }];
        assert_eq!(
            placeholders(&format!("{image} {config} {layer} {other}"), &images, "123456789012"),
            "<image-1> <config of image-1> <layer-1 of image-1> <digest-1>"
        );
    }
}

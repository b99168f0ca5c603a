//! Registry states, as plans of real pushes: repositories with valid names, config and layer blobs
//! whose digests are the SHA-256 of their bytes, image manifests of docker v2 and OCI form, lists
//! and indexes over images of the same repository, tags that move and images left untagged.

use super::json_style::{self, Json, Style};
use crate::model::syntax::sha256_digest;
use crate::model::{Push, RegistryPlan, RepositoryPlan};
use crate::wire::media_type;
use proptest::collection::vec;
use proptest::prelude::*;

/// Room left in a generated repository name for a run's prefix, so that the seeded name still fits
/// ECR's 256 characters.
pub const PREFIX_ROOM: usize = 40;
/// The longest name the generators make.
pub const MAX_NAME: usize = crate::model::syntax::REPO_NAME_MAX - PREFIX_ROOM;

/// A word of a name: lower-case letters and digits. Shrinks towards "a".
fn word() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,8}"
}

/// One path component: words joined by `.`, `_` or `-` (valid under both name patterns).
fn component() -> impl Strategy<Value = String> {
    (
        word(),
        vec((prop_oneof![Just('-'), Just('.'), Just('_')], word()), 0..3),
    )
        .prop_map(|(first, rest)| {
            let mut s = first;
            for (sep, w) in rest {
                s.push(sep);
                s.push_str(&w);
            }
            s
        })
}

/// A valid repository name: flat or nested (`team/app/web`), sometimes long (near [`MAX_NAME`]).
pub fn repository_name() -> impl Strategy<Value = String> {
    (vec(component(), 1..4), prop::bool::weighted(0.08), 0usize..=24).prop_map(|(parts, long, slack)| {
        let mut name = parts.join("/");
        if long {
            let target = MAX_NAME - slack;
            while name.len() < target {
                name.push_str(if name.len() + 2 <= target { "-x" } else { "y" });
            }
            name.truncate(target.max(2));
            while name.ends_with(['-', '.', '_', '/']) {
                name.pop();
            }
        }
        // ECR's names have at least two characters.
        if name.len() < 2 {
            name.push('0');
        }
        name
    })
}

/// A tag: letters (both cases), digits, `_`, `.`, `-`, not starting with `.` or `-`.
pub fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9]{0,6}",
        2 => "v[0-9]{1,2}\\.[0-9]{1,2}(\\.[0-9]{1,2})?",
        2 => "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        1 => Just("latest".to_string()),
        1 => Just("Latest".to_string()),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    DockerV2,
    Oci,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    DockerList,
    OciIndex,
}

/// What an image is made of, before it is written.
#[derive(Debug, Clone)]
struct ImageSpec {
    kind: ImageKind,
    architecture: &'static str,
    label: String,
    layers: Vec<Vec<u8>>,
    style: Style,
}

#[derive(Debug, Clone)]
struct ListSpec {
    kind: ListKind,
    /// Indices into the repository's images (taken modulo their number).
    children: Vec<usize>,
    tag: Option<prop::sample::Index>,
    style: Style,
}

const ARCHITECTURES: [&str; 4] = ["amd64", "arm64", "arm", "s390x"];

fn image_spec() -> impl Strategy<Value = ImageSpec> {
    (
        prop_oneof![Just(ImageKind::DockerV2), Just(ImageKind::Oci)],
        prop::sample::select(&ARCHITECTURES[..]),
        "[a-z]{0,6}",
        vec(vec(any::<u8>(), 1..48), 0..3),
        json_style::style(),
    )
        .prop_map(|(kind, architecture, label, layers, style)| ImageSpec {
            kind,
            architecture,
            label,
            layers,
            style,
        })
}

fn list_spec() -> impl Strategy<Value = ListSpec> {
    (
        prop_oneof![Just(ListKind::DockerList), Just(ListKind::OciIndex)],
        vec(0usize..8, 1..4),
        prop::option::weighted(0.7, any::<prop::sample::Index>()),
        json_style::style(),
    )
        .prop_map(|(kind, children, tag, style)| ListSpec {
            kind,
            children,
            tag,
            style,
        })
}

fn descriptor(media: &str, bytes: &[u8]) -> Json {
    Json::object([
        ("mediaType", Json::str(media)),
        ("size", Json::Number(bytes.len() as u64)),
        ("digest", Json::str(sha256_digest(bytes))),
    ])
}

/// The config blob, the layer blobs and the manifest of one image.
fn write_image(spec: &ImageSpec) -> (Vec<Vec<u8>>, String, &'static str) {
    let config = format!(
        r#"{{"architecture":"{}","os":"linux","config":{{"Labels":{{"gen":"{}"}}}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#,
        spec.architecture, spec.label
    )
    .into_bytes();
    let (manifest_type, config_type, layer_type) = match spec.kind {
        ImageKind::DockerV2 => (
            media_type::DOCKER_V2,
            media_type::DOCKER_CONFIG,
            media_type::DOCKER_LAYER,
        ),
        ImageKind::Oci => (media_type::OCI_MANIFEST, media_type::OCI_CONFIG, media_type::OCI_LAYER),
    };
    let manifest = Json::object([
        ("schemaVersion", Json::Number(2)),
        ("mediaType", Json::str(manifest_type)),
        ("config", descriptor(config_type, &config)),
        (
            "layers",
            Json::Array(spec.layers.iter().map(|l| descriptor(layer_type, l)).collect()),
        ),
    ]);
    let mut blobs = vec![config];
    blobs.extend(spec.layers.iter().cloned());
    (blobs, json_style::write(&manifest, spec.style), manifest_type)
}

/// An image as written: its manifest, media type and architecture.
type Written = (String, &'static str, &'static str);

/// The blobs of all the images, and each image as written.
fn write_images(specs: &[ImageSpec]) -> (Vec<Vec<u8>>, Vec<Written>) {
    let mut blobs = Vec::new();
    let mut written = Vec::with_capacity(specs.len());
    for spec in specs {
        let (b, m, t) = write_image(spec);
        blobs.extend(b);
        written.push((m, t, spec.architecture));
    }
    (blobs, written)
}

fn write_list(spec: &ListSpec, children: &[(String, &'static str, &'static str)]) -> (String, &'static str) {
    let list_type = match spec.kind {
        ListKind::DockerList => media_type::DOCKER_LIST,
        ListKind::OciIndex => media_type::OCI_INDEX,
    };
    let entries = children
        .iter()
        .map(|(manifest, child_type, arch)| {
            Json::object([
                ("mediaType", Json::str(*child_type)),
                ("size", Json::Number(manifest.len() as u64)),
                ("digest", Json::str(sha256_digest(manifest.as_bytes()))),
                (
                    "platform",
                    Json::object([("architecture", Json::str(*arch)), ("os", Json::str("linux"))]),
                ),
            ])
        })
        .collect();
    let list = Json::object([
        ("schemaVersion", Json::Number(2)),
        ("mediaType", Json::str(list_type)),
        ("manifests", Json::Array(entries)),
    ]);
    (json_style::write(&list, spec.style), list_type)
}

/// One repository: images pushed with their first tag (or none), then lists, then further tag
/// pushes that add tags to images or move them between images.
pub fn repository_plan() -> impl Strategy<Value = RepositoryPlan> {
    (
        repository_name(),
        vec(image_spec(), 1..5),
        vec(list_spec(), 0..2),
        vec(tag(), 0..6),
        vec(
            (
                any::<prop::sample::Index>(),
                prop::option::weighted(0.8, any::<prop::sample::Index>()),
            ),
            0..6,
        ),
        vec(prop::option::weighted(0.75, any::<prop::sample::Index>()), 5),
    )
        .prop_map(|(name, images, lists, tag_pool, retags, first_tags)| {
            let (blobs, mut manifests) = write_images(&images);
            let pick_tag = |i: &prop::sample::Index| (!tag_pool.is_empty()).then(|| i.get(&tag_pool).clone());
            let mut pushes: Vec<Push> = manifests
                .iter()
                .enumerate()
                .map(|(i, (m, t, _))| Push {
                    manifest: m.clone(),
                    media_type: t.to_string(),
                    tag: first_tags.get(i).cloned().flatten().as_ref().and_then(pick_tag),
                })
                .collect();
            for spec in &lists {
                let mut chosen: Vec<usize> = spec.children.iter().map(|c| c % manifests.len()).collect();
                chosen.dedup();
                let children: Vec<_> = chosen.iter().map(|&c| manifests[c].clone()).collect();
                let (m, t) = write_list(spec, &children);
                manifests.push((m.clone(), t, "amd64"));
                pushes.push(Push {
                    manifest: m,
                    media_type: t.to_string(),
                    tag: spec.tag.as_ref().and_then(pick_tag),
                });
            }
            for (which, tag) in retags {
                let (m, t, _) = which.get(&manifests);
                pushes.push(Push {
                    manifest: m.clone(),
                    media_type: t.to_string(),
                    tag: tag.as_ref().and_then(pick_tag),
                });
            }
            RepositoryPlan { name, blobs, pushes }
        })
}

/// The repository every world holds besides its random ones: random images under a fixed story of
/// pushes, so that the state changes whose deviations are otherwise rare combinations occur in
/// every run, whatever its seed. A tag moves from one image to another (leaving the first
/// untagged); a list loses its tag to an image and is pushed again under a new tag; one image
/// carries two tags.
pub fn scenario_repository_plan() -> impl Strategy<Value = RepositoryPlan> {
    (
        repository_name(),
        [image_spec(), image_spec(), image_spec()],
        list_spec(),
        [tag(), tag(), tag(), tag()],
    )
        .prop_map(|(name, images, list, tags)| {
            // Four distinct tags, whatever the draw.
            let mut distinct: Vec<String> = Vec::with_capacity(tags.len());
            for (i, t) in tags.into_iter().enumerate() {
                let t = if distinct.contains(&t) { format!("{t}-{i}") } else { t };
                distinct.push(t);
            }
            let (blobs, written) = write_images(&images);
            // The list references the images pushed before it.
            let (list_manifest, list_type) = write_list(&list, &written[..2]);
            let push = |manifest: &str, media_type: &str, tag: &str| Push {
                manifest: manifest.to_string(),
                media_type: media_type.to_string(),
                tag: Some(tag.to_string()),
            };
            let image = |i: usize, tag: &str| push(&written[i].0, written[i].1, tag);
            let pushes = vec![
                image(0, &distinct[0]),
                image(1, &distinct[0]),
                push(&list_manifest, list_type, &distinct[1]),
                image(2, &distinct[1]),
                push(&list_manifest, list_type, &distinct[2]),
                image(1, &distinct[3]),
            ];
            RepositoryPlan { name, blobs, pushes }
        })
}

/// A registry: the scenario repository and one to four random ones. Normalised, so every push in
/// it is one ECR accepts. Shrinking can drop the scenario repository too.
pub fn registry_plan() -> impl Strategy<Value = RegistryPlan> {
    (
        prop::bool::weighted(1.0),
        scenario_repository_plan(),
        vec(repository_plan(), 1..5),
    )
        .prop_map(|(with_scenario, scenario, random)| {
            let repositories = with_scenario.then_some(scenario).into_iter().chain(random).collect();
            RegistryPlan { repositories }.normalised()
        })
}

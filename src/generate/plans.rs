//! Registry states, as plans of real pushes: repositories with valid names, config and layer blobs
//! whose digests are the SHA-256 of their bytes, image manifests of docker v2 and OCI form, lists
//! and indexes over images of the same repository, tags that move and images left untagged; a
//! repository as a team's CI leaves it (tens of images, one with many tags); names and tags at
//! ECR's length limits.

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
    repository_name_within(MAX_NAME)
}

/// A valid repository name of at most `room` characters: flat or nested, sometimes long, and then
/// half the time exactly `room` long (at the limit, where a prefix of `256 - room` characters
/// puts it at ECR's 256).
pub fn repository_name_within(room: usize) -> impl Strategy<Value = String> {
    (
        vec(component(), 1..4),
        prop::bool::weighted(0.08),
        prop_oneof![Just(0usize), 1usize..=24],
    )
        .prop_map(move |(parts, long, slack)| {
            let name = parts.join("/");
            let name = if long {
                stretched(name, room.saturating_sub(slack))
            } else {
                name
            };
            at_least_two(name)
        })
}

/// `name` lengthened (or cut) to exactly `target` characters, still a valid name.
fn stretched(mut name: String, target: usize) -> String {
    while name.len() < target {
        name.push_str(if name.len() + 2 <= target { "-x" } else { "y" });
    }
    name.truncate(target.max(2));
    // A cut can leave a separator at the end; a letter takes its place, so the length stays.
    if name.ends_with(['-', '.', '_', '/']) {
        name.pop();
        name.push('z');
    }
    name
}

/// ECR's names have at least two characters.
fn at_least_two(mut name: String) -> String {
    if name.len() < 2 {
        name.push('0');
    }
    name
}

/// A tag: letters (both cases), digits, `_`, `.`, `-`, not starting with `.` or `-`; sometimes
/// exactly 300 characters long (ECR's limit).
pub fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9]{0,6}",
        2 => "v[0-9]{1,2}\\.[0-9]{1,2}(\\.[0-9]{1,2})?",
        2 => "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        1 => Just("latest".to_string()),
        1 => Just("Latest".to_string()),
        1 => "[a-z][a-z0-9]{0,6}".prop_map(|t| longest_tag(&t)),
    ]
}

/// A tag of exactly [`TAG_MAX`](crate::model::syntax::TAG_MAX) characters that starts with `stem`.
pub fn longest_tag(stem: &str) -> String {
    let mut t = format!("{stem}-");
    while t.len() < crate::model::syntax::TAG_MAX {
        t.push(if t.len() % 10 == 9 { '.' } else { 'x' });
    }
    t.truncate(crate::model::syntax::TAG_MAX);
    t
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
    repository_plan_within(MAX_NAME)
}

/// [`repository_plan`] with a name of at most `room` characters.
pub fn repository_plan_within(room: usize) -> impl Strategy<Value = RepositoryPlan> {
    (
        repository_name_within(room),
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
    scenario_repository_plan_within(MAX_NAME)
}

/// [`scenario_repository_plan`] with a name of at most `room` characters.
pub fn scenario_repository_plan_within(room: usize) -> impl Strategy<Value = RepositoryPlan> {
    (
        repository_name_within(room),
        [image_spec(), image_spec(), image_spec()],
        list_spec(),
        [tag(), tag(), tag(), tag()],
    )
        .prop_map(|(name, images, list, tags)| {
            // Four distinct tags, whatever the draw.
            let mut distinct: Vec<String> = Vec::with_capacity(tags.len());
            for (i, t) in tags.into_iter().enumerate() {
                let t = if distinct.contains(&t) {
                    // Within the length limit, should the drawn tag be at it.
                    let suffix = format!("-{i}");
                    let keep = t.len().min(crate::model::syntax::TAG_MAX - suffix.len());
                    format!("{}{suffix}", &t[..keep])
                } else {
                    t
                };
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

/// How many builds a release repository holds: ten or a few more most of the time, twenty to
/// thirty in a quarter of the worlds; bounded so that seeding a world stays cheap.
pub const RELEASE_BUILDS: std::ops::RangeInclusive<usize> = 10..=30;
/// The layers a release repository's builds pick from: enough for a different set per build
/// (2^5 - 1 sets for at most 30 builds).
const RELEASE_LAYERS: usize = 5;
/// How many tags the newest build of a release repository carries.
pub const RELEASE_NEWEST_TAGS: std::ops::RangeInclusive<usize> = 3..=20;

/// The channels a team promotes its newest build to, after `latest`, its commit, its version and
/// the version's prefixes (seven names): twenty in all.
const NEWEST_ALIASES: [&str; 13] = [
    "stable", "main", "prod", "release", "rc", "canary", "staging", "qa", "blue", "green", "edge", "nightly",
    "deployed",
];

/// A repository as a team's CI leaves it: one image per build (10 to 30), each pushed under its
/// commit's sha, every third one under a version too, every fifth one under `latest` instead of
/// its sha (left untagged when `latest` moves on, unless it has a version); the newest build
/// carries 3 to 20 tags at once (`latest`, its sha, its version and the version's prefixes, the
/// channels it is promoted to). Half the time
/// its name is exactly `room` characters long, and half the time the newest build's commit tag is
/// 300 characters long: the limits, on the state that users have.
///
/// Seeding it stays cheap: the builds share one config and a pool of layers, each build a
/// different selection of them, so that a world uploads a handful of blobs for all its builds.
pub fn release_repository_plan(room: usize) -> impl Strategy<Value = RepositoryPlan> {
    (
        repository_name_within(room),
        prop::bool::ANY,
        prop_oneof![3 => 10usize..=12, 1 => 20usize..=*RELEASE_BUILDS.end()],
        // Most images carry a few tags; some carry many.
        prop_oneof![3 => 3usize..=6, 1 => RELEASE_NEWEST_TAGS],
        (
            prop_oneof![Just(ImageKind::DockerV2), Just(ImageKind::Oci)],
            json_style::style(),
        ),
        (any::<[u8; 8]>(), 0u8..3, 0u8..12),
        (prop::bool::ANY, prop::bool::ANY),
    )
        .prop_map(
            move |(
                name,
                name_at_limit,
                builds,
                newest_tags,
                (kind, style),
                (commits, major, minor),
                (short_sha, long_tag),
            )| {
                let name = if name_at_limit { stretched(name, room) } else { name };
                let sha = |build: usize| {
                    let full = sha256_digest(format!("{commits:?} {build}").as_bytes());
                    full["sha256:".len().."sha256:".len() + 40].to_string()
                };
                let version = |build: usize| format!("v{major}.{minor}.{build}");
                // The newest build's commit tag is the one at the length limit, when there is one.
                let commit_tag = |build: usize| {
                    if long_tag && build + 1 == builds {
                        longest_tag(&format!("release-{}", sha(build)))
                    } else if short_sha {
                        sha(build)[..7].to_string()
                    } else {
                        sha(build)
                    }
                };
                let pool: Vec<Vec<u8>> = (0..RELEASE_LAYERS)
                    .map(|k| format!("layer {k} of {commits:?}").into_bytes())
                    .collect();
                // Build b: the pool's layers picked by the bits of b + 1, a different set each.
                let selection = |build: usize| -> Vec<Vec<u8>> {
                    (0..RELEASE_LAYERS)
                        .filter(|k| (build + 1) & (1 << k) != 0)
                        .map(|k| pool[k].clone())
                        .collect()
                };
                let mut blobs = Vec::new();
                let mut manifests = Vec::with_capacity(builds);
                for build in 0..builds {
                    let spec = ImageSpec {
                        kind,
                        architecture: "amd64",
                        label: format!("release{major}x{minor}"),
                        layers: selection(build),
                        style,
                    };
                    let (image_blobs, manifest, media) = write_image(&spec);
                    for b in image_blobs {
                        if !blobs.contains(&b) {
                            blobs.push(b);
                        }
                    }
                    manifests.push((manifest, media));
                }
                let push = |build: usize, tag: String| Push {
                    manifest: manifests[build].0.clone(),
                    media_type: manifests[build].1.to_string(),
                    tag: Some(tag),
                };
                let mut pushes = Vec::new();
                let newest = builds - 1;
                for build in 0..newest {
                    pushes.push(push(
                        build,
                        if build % 5 == 4 {
                            "latest".into()
                        } else {
                            commit_tag(build)
                        },
                    ));
                    if build % 3 == 0 {
                        pushes.push(push(build, version(build)));
                    }
                }
                // The newest build: `latest`, its commit, then its other names up to its count.
                let candidates = [
                    "latest".to_string(),
                    commit_tag(newest),
                    version(newest),
                    format!("v{major}.{minor}"),
                    format!("v{major}"),
                    format!("build-{builds}"),
                    format!("sha-{}", &sha(newest)[..7]),
                ]
                .into_iter()
                .chain(NEWEST_ALIASES.iter().map(|a| a.to_string()));
                let mut tags: Vec<String> = Vec::new();
                for t in candidates {
                    if tags.len() >= newest_tags {
                        break;
                    }
                    if !tags.contains(&t) {
                        tags.push(t.clone());
                        pushes.push(push(newest, t));
                    }
                }
                RepositoryPlan { name, blobs, pushes }
            },
        )
}

/// [`registry_plan_within`] with room for any of the run's prefixes ([`MAX_NAME`]).
pub fn registry_plan() -> impl Strategy<Value = RegistryPlan> {
    registry_plan_within(MAX_NAME)
}

/// A registry whose repository names have at most `room` characters: the scenario repository, a
/// release repository and one to three random ones (three, not more: the release repository's
/// tens of images cost seeding time enough). A run passes the room its world's prefix leaves, so
/// that a name at the limit is at ECR's 256 characters on the wire. Normalised, so every push in
/// it is one ECR accepts. Shrinking can drop the scenario and the release repository too.
pub fn registry_plan_within(room: usize) -> impl Strategy<Value = RegistryPlan> {
    let room = room.min(crate::model::syntax::REPO_NAME_MAX);
    (
        prop::bool::weighted(1.0),
        scenario_repository_plan_within(room),
        prop::bool::weighted(1.0),
        release_repository_plan(room),
        vec(repository_plan_within(room), 1..4),
    )
        .prop_map(|(with_scenario, scenario, with_release, release, random)| {
            let repositories = with_scenario
                .then_some(scenario)
                .into_iter()
                .chain(with_release.then_some(release))
                .chain(random)
                .collect();
            RegistryPlan { repositories }.normalised()
        })
}

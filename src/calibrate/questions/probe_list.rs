//! The probes: per question, a small state and one request, built from literal manifests so that
//! their digests never change.

use super::{
    BAD_DIGEST, CHARSET_TAG, FOREIGN_REGISTRY, MISSING_REPOSITORY, OTHER_TAG, Probe, REPOSITORY, TAG, UNANCHORED_DIGEST,
};
use crate::cases::{CaseImage, CaseRepository};
use crate::model::syntax;
use crate::wire::{BatchGetImageRequest, ImageIdentifier, media_type};

// ---- the probes' states ----

/// A config blob, a layer blob and the image manifest over them, of the given manifest type.
pub(super) fn image(manifest_type: &str, label: &str) -> (Vec<Vec<u8>>, String) {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Labels":{{"ecr-conformance":"{label}"}}}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    )
    .into_bytes();
    let layer = format!("ecr-conformance calibration layer: {label}\n").into_bytes();
    let (config_type, layer_type) = if manifest_type == media_type::OCI_MANIFEST {
        (media_type::OCI_CONFIG, media_type::OCI_LAYER)
    } else {
        (media_type::DOCKER_CONFIG, media_type::DOCKER_LAYER)
    };
    let descriptor = |t: &str, bytes: &[u8]| {
        format!(
            r#"{{"mediaType":"{t}","size":{},"digest":"{}"}}"#,
            bytes.len(),
            syntax::sha256_digest(bytes)
        )
    };
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{manifest_type}","config":{},"layers":[{}]}}"#,
        descriptor(config_type, &config),
        descriptor(layer_type, &layer)
    );
    (vec![config, layer], manifest)
}

fn docker_list(child: &str) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","size":{},"digest":"{}","platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
        media_type::DOCKER_LIST,
        media_type::DOCKER_V2,
        child.len(),
        syntax::sha256_digest(child.as_bytes())
    )
}

pub(super) fn repository(blobs: Vec<Vec<u8>>, images: Vec<CaseImage>) -> Vec<CaseRepository> {
    vec![CaseRepository {
        name: REPOSITORY.into(),
        blobs,
        images,
    }]
}

pub(super) fn pushed(manifest: &str, media: &str, tags: &[&str]) -> CaseImage {
    CaseImage {
        manifest: manifest.to_string(),
        media_type: Some(media.to_string()),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

pub(super) fn request(repository: &str, ids: Vec<ImageIdentifier>) -> BatchGetImageRequest {
    BatchGetImageRequest {
        registry_id: None,
        repository_name: repository.into(),
        image_ids: ids,
        accepted_media_types: None,
    }
}

fn accepting(mut r: BatchGetImageRequest, types: &[&str]) -> BatchGetImageRequest {
    r.accepted_media_types = Some(types.iter().map(|t| t.to_string()).collect());
    r
}

/// Every probe. Probes with the same state are seeded once, in one namespace, and asked in turn.
pub fn probes() -> Vec<Probe> {
    let (v2_blobs, v2) = image(media_type::DOCKER_V2, "docker-v2");
    let (oci_blobs, oci) = image(media_type::OCI_MANIFEST, "oci");
    let list = docker_list(&v2);
    let one_tag = repository(v2_blobs.clone(), vec![pushed(&v2, media_type::DOCKER_V2, &[TAG])]);
    let two_tags = repository(
        v2_blobs.clone(),
        vec![pushed(&v2, media_type::DOCKER_V2, &[TAG, OTHER_TAG])],
    );
    let oci_state = repository(oci_blobs, vec![pushed(&oci, media_type::OCI_MANIFEST, &[TAG])]);
    let list_state = repository(
        v2_blobs,
        vec![
            pushed(&v2, media_type::DOCKER_V2, &[]),
            pushed(&list, media_type::DOCKER_LIST, &[TAG]),
        ],
    );
    let empty = repository(Vec::new(), Vec::new());
    let digest = syntax::sha256_digest(v2.as_bytes());
    let tag = || ImageIdentifier::tag(TAG);
    vec![
        Probe {
            id: "bad-digest-channel",
            description: "A malformed digest with no match of the pattern anywhere, beside a tag that exists: is the digest a per-id failure, the tag still answered, or is the request refused?",
            repositories: one_tag.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest(BAD_DIGEST), tag()]),
        },
        Probe {
            id: "bad-digest-anchoring",
            description: "A malformed digest that contains a match of the digest pattern, in a repository without images: refused as malformed (anchored) or looked up and not found (unanchored)?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest(UNANCHORED_DIGEST)]),
        },
        Probe {
            id: "new-name-double-underscore",
            description: "A missing repository named a__b, valid only under the newer name pattern: RepositoryNotFoundException (accepted) or InvalidParameterException (refused)? (The state's repository only tells the registry id, which the message names.)",
            repositories: empty.clone(),
            request: request("a__b", vec![tag()]),
        },
        Probe {
            id: "new-name-double-dash",
            description: "A missing repository named a--b, valid only under the newer name pattern: RepositoryNotFoundException (accepted) or InvalidParameterException (refused)? (The state's repository only tells the registry id, which the message names.)",
            repositories: empty.clone(),
            request: request("a--b", vec![tag()]),
        },
        Probe {
            id: "digest-tags",
            description: "The digest of an image with two tags: an entry per tag, or one entry?",
            repositories: two_tags.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest(&digest)]),
        },
        Probe {
            id: "same-image-two-tags",
            description: "Both tags of one image in one request: two entries, or one?",
            repositories: two_tags,
            request: request(REPOSITORY, vec![tag(), ImageIdentifier::tag(OTHER_TAG)]),
        },
        Probe {
            id: "repeated-id",
            description: "One tag twice in one request: answered once, or at each repetition?",
            repositories: one_tag.clone(),
            request: request(REPOSITORY, vec![tag(), tag()]),
        },
        Probe {
            id: "translate-v2-to-oci",
            description: "A docker v2 image by tag, only the OCI manifest type accepted: translated to OCI, stored, or refused?",
            repositories: one_tag.clone(),
            request: accepting(request(REPOSITORY, vec![tag()]), &[media_type::OCI_MANIFEST]),
        },
        Probe {
            id: "translate-oci-to-v2",
            description: "An OCI image by tag, only the docker v2 manifest type accepted: translated to docker v2, stored, or refused?",
            repositories: oci_state,
            request: accepting(request(REPOSITORY, vec![tag()]), &[media_type::DOCKER_V2]),
        },
        Probe {
            id: "translate-v2-to-v1",
            description: "A docker v2 image by tag, only docker v1 (schema 1) accepted: translated to schema 1, stored, or refused?",
            repositories: one_tag.clone(),
            request: accepting(request(REPOSITORY, vec![tag()]), &[media_type::DOCKER_V1]),
        },
        Probe {
            id: "list-without-list-types",
            description: "A docker manifest list by tag, only the image manifest types accepted: the list as stored, its child, or refused?",
            repositories: list_state,
            request: accepting(
                request(REPOSITORY, vec![tag()]),
                &[media_type::DOCKER_V2, media_type::OCI_MANIFEST],
            ),
        },
        Probe {
            id: "empty-digest",
            description: "An empty digest: InvalidImageDigest, MissingDigestAndTag (absent), or a request-level 400?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::digest("")]),
        },
        Probe {
            id: "empty-tag",
            description: "An empty tag: a request-level 400 (the length constraint), or a per-id InvalidImageTag?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::tag("")]),
        },
        Probe {
            id: "tag-charset",
            description: "A tag outside the tag character set: a request-level 400, a per-id InvalidImageTag, or looked up and not found?",
            repositories: empty.clone(),
            request: request(REPOSITORY, vec![ImageIdentifier::tag(CHARSET_TAG)]),
        },
        Probe {
            id: "by-tag",
            description: "An image by its tag, nothing failing: does the entry carry imageManifestMediaType, and the body failures: []?",
            repositories: one_tag,
            request: request(REPOSITORY, vec![tag()]),
        },
        Probe {
            id: "foreign-registry",
            description: "An existing repository asked under another account's registryId: AccessDeniedException or RepositoryNotFoundException?",
            repositories: empty.clone(),
            request: BatchGetImageRequest {
                registry_id: Some(FOREIGN_REGISTRY.into()),
                ..request(REPOSITORY, vec![tag()])
            },
        },
        Probe {
            id: "validation-order",
            description: "imageIds: [] for a missing repository: the invalid parameter (validation first) or the missing repository (lookup first)? (The state's repository only tells the registry id, which the message names.)",
            repositories: empty,
            request: request(MISSING_REPOSITORY, Vec::new()),
        },
    ]
}

//! The operations the server answers, each as ECR does: `BatchGetImage` through the model (and
//! the variant's bugs), and the seeding and read-back operations on the registry state.

use super::alternatives;
use super::{Reply, Shared, Upload};
use crate::model::{self, ReferenceAnswer, syntax};
use crate::wire::{self, BatchGetImageRequest, ImageIdentifier};
use base64::Engine as _;
use serde_json::{Value, json};

fn repo_not_found(shared: &Shared, name: &str) -> Reply {
    Reply::client_error(
        "RepositoryNotFoundException",
        format!(
            "The repository with name '{name}' does not exist in the registry with id '{}'",
            shared.config.registry_id
        ),
    )
}

fn repository_json(shared: &Shared, name: &str) -> Value {
    let c = &shared.config;
    json!({
        "registryId": c.registry_id,
        "repositoryName": name,
        "repositoryArn": format!("arn:aws:ecr:{}:{}:repository/{name}", c.region, c.registry_id),
        "repositoryUri": format!("{}.dkr.ecr.{}.amazonaws.com/{name}", c.registry_id, c.region),
        "imageTagMutability": "MUTABLE",
    })
}

pub(super) fn batch_get_image(shared: &Shared, request: BatchGetImageRequest) -> Reply {
    let mut inner = shared.lock();
    let variant = &shared.config.variant;
    if let Some(reply) = variant.intercept(&inner.state, &request) {
        return reply;
    }
    let request = variant.rewrite_request(&inner.state, request);
    let alternatives = shared
        .config
        .alternatives
        .union(variant.alternatives_for(&request.repository_name));
    let prepared = alternatives::prepare(alternatives, &request);
    let mut expected = model::batch_get_image(&inner.state, &prepared.request);
    variant.adjust_expected(&inner.state, &request, &mut expected);
    alternatives::adjust_expected(alternatives, &inner.state, &request, &prepared, &mut expected);
    let mut reply = match expected.reference_answer() {
        ReferenceAnswer::Ok(body) => Reply::ok(serde_json::to_value(body).unwrap_or(Value::Null)),
        ReferenceAnswer::Error { status, body } => {
            Reply::new(status, serde_json::to_value(body).unwrap_or(Value::Null))
        }
    };
    variant.adjust_answer(&inner.state, &request, &mut reply);
    let repeat = if alternatives.contains(alternatives::Alternative::Schema1SignedAfresh) {
        // How many times this very request came before: a signature made afresh differs from
        // the first one only on a second send, so that the first answer is the same in every run.
        let key = serde_json::to_string(&request).unwrap_or_default();
        let seen = inner.sends.entry(key).or_insert(0);
        *seen += 1;
        *seen - 1
    } else {
        0
    };
    let held: &[model::ImageRecord] = inner
        .state
        .repository(&request.repository_name)
        .map_or(&[], |r| &r.images);
    alternatives::adjust_reply_of(alternatives, &request.repository_name, held, repeat, &mut reply);
    variant.side_effect(&mut inner.state, &request);
    reply
}

pub(super) fn create_repository(shared: &Shared, r: wire::CreateRepositoryRequest) -> Reply {
    if syntax::repo_name_validity(&r.repository_name) == syntax::RepoNameValidity::Invalid {
        // Worded as real ECR words it (rev 2), as the model expects it.
        let constraint = syntax::repo_name_constraint(&r.repository_name);
        return Reply::client_error(
            "InvalidParameterException",
            format!("Invalid parameter at 'repositoryName' failed to satisfy constraint: '{constraint}'"),
        );
    }
    let mut inner = shared.lock();
    match inner.state.create_repository(&r.repository_name) {
        Ok(()) => Reply::ok(json!({ "repository": repository_json(shared, &r.repository_name) })),
        Err(e) => Reply::client_error(
            e.error_type(),
            format!(
                "The repository with name '{}' already exists in the registry with id '{}'",
                r.repository_name, shared.config.registry_id
            ),
        ),
    }
}

pub(super) fn delete_repository(shared: &Shared, r: wire::DeleteRepositoryRequest) -> Reply {
    let mut inner = shared.lock();
    let Some(repo) = inner.state.repository(&r.repository_name) else {
        return repo_not_found(shared, &r.repository_name);
    };
    if !r.force && !repo.images.is_empty() {
        return Reply::client_error(
            "RepositoryNotEmptyException",
            format!(
                "The repository with name '{}' in registry with id '{}' cannot be deleted because it still contains images",
                r.repository_name, shared.config.registry_id
            ),
        );
    }
    let _ = inner.state.delete_repository(&r.repository_name);
    inner.uploads.retain(|_, u| u.repository != r.repository_name);
    Reply::ok(json!({ "repository": repository_json(shared, &r.repository_name) }))
}

pub(super) fn initiate_layer_upload(shared: &Shared, r: wire::InitiateLayerUploadRequest) -> Reply {
    let mut inner = shared.lock();
    if inner.state.repository(&r.repository_name).is_none() {
        return repo_not_found(shared, &r.repository_name);
    }
    inner.next_upload += 1;
    let id = upload_id(&shared.config.registry_id, inner.next_upload);
    inner.uploads.insert(
        id.clone(),
        Upload {
            repository: r.repository_name,
            bytes: Vec::new(),
        },
    );
    Reply::ok(json!({ "uploadId": id, "partSize": 10_485_760 }))
}

/// An upload id in the service model's UUID pattern (a version-4 layout), unique per upload and
/// the same for the same upload number: the server stays deterministic.
fn upload_id(registry: &str, n: u64) -> String {
    use sha2::{Digest as _, Sha256};
    let h = Sha256::digest(format!("{registry}/upload/{n}").as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

pub(super) fn upload_layer_part(shared: &Shared, r: wire::UploadLayerPartRequest) -> Reply {
    let mut inner = shared.lock();
    let Some(upload) = inner
        .uploads
        .get_mut(&r.upload_id)
        .filter(|u| u.repository == r.repository_name)
    else {
        return Reply::client_error(
            "UploadNotFoundException",
            format!("Upload with id '{}' is not found", r.upload_id),
        );
    };
    let Ok(part) = base64::engine::general_purpose::STANDARD.decode(&r.layer_part_blob) else {
        return Reply::client_error("InvalidParameterException", "layerPartBlob is not base64");
    };
    let expected_last = (r.part_first_byte + part.len() as u64).checked_sub(1);
    if r.part_first_byte != upload.bytes.len() as u64 || expected_last != Some(r.part_last_byte) {
        return Reply::client_error("InvalidLayerPartException", "The layer part is not in sequence");
    }
    upload.bytes.extend_from_slice(&part);
    let last = upload.bytes.len().saturating_sub(1);
    Reply::ok(json!({
        "registryId": shared.config.registry_id, "repositoryName": r.repository_name,
        "uploadId": r.upload_id, "lastByteReceived": last,
    }))
}

pub(super) fn complete_layer_upload(shared: &Shared, r: wire::CompleteLayerUploadRequest) -> Reply {
    // The service model's limits on layerDigests (1 to 100 items, each a digest), checked before
    // the upload is looked up, as a parameter check is.
    let refused = |constraint: &str| {
        Reply::client_error(
            "InvalidParameterException",
            format!("Invalid parameter at 'layerDigests' failed to satisfy constraint: '{constraint}'"),
        )
    };
    if r.layer_digests.len() > 100 {
        return refused("Member must have length less than or equal to 100");
    }
    if r.layer_digests.iter().any(|d| !syntax::is_well_formed_digest(d)) {
        return refused("Member must satisfy regular expression pattern: [a-zA-Z0-9-_+.]+:[a-fA-F0-9]+");
    }
    if r.layer_digests.is_empty() {
        return refused("Member must have length greater than or equal to 1");
    }
    let mut inner = shared.lock();
    let Some(upload) = inner
        .uploads
        .remove(&r.upload_id)
        .filter(|u| u.repository == r.repository_name)
    else {
        return Reply::client_error(
            "UploadNotFoundException",
            format!("Upload with id '{}' is not found", r.upload_id),
        );
    };
    if upload.bytes.is_empty() {
        return Reply::client_error("EmptyUploadException", "The upload has no parts");
    }
    let Some(digest) = r.layer_digests.first() else {
        return refused("Member must have length greater than or equal to 1");
    };
    if inner
        .state
        .repository(&r.repository_name)
        .is_some_and(|repo| repo.blobs.contains(digest))
    {
        return Reply::client_error(
            "LayerAlreadyExistsException",
            format!("The layer '{digest}' already exists in the repository"),
        );
    }
    match inner.state.put_blob(&r.repository_name, digest, &upload.bytes) {
        Ok(()) => Reply::ok(json!({
            "registryId": shared.config.registry_id, "repositoryName": r.repository_name,
            "uploadId": r.upload_id, "layerDigest": digest,
        })),
        Err(e) => Reply::client_error(e.error_type(), e.to_string()),
    }
}

/// The largest manifest PutImage takes (4 MiB, the service model's limit).
const MANIFEST_MAX: usize = 4 * 1024 * 1024;

pub(super) fn put_image(shared: &Shared, r: wire::PutImageRequest) -> Reply {
    if r.image_manifest.len() > MANIFEST_MAX {
        return Reply::client_error(
            "InvalidParameterException",
            format!(
                "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length less than or equal to {MANIFEST_MAX}'"
            ),
        );
    }
    // A manifest that names no media type of itself, pushed without one, is refused, not guessed
    // (rev 2, as ECR words it).
    let declared = serde_json::from_str::<Value>(&r.image_manifest)
        .ok()
        .and_then(|v| v.get("mediaType").and_then(Value::as_str).map(str::to_string));
    let Some(media_type) = r.image_manifest_media_type.clone().or(declared) else {
        return Reply::client_error(
            "InvalidParameterException",
            "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
        );
    };
    let mut inner = shared.lock();
    if let Err(e) = inner
        .state
        .check_references(&r.repository_name, &r.image_manifest, &media_type)
    {
        return match e {
            model::PushError::RepositoryNotFound(name) => repo_not_found(shared, &name),
            e => Reply::client_error(e.error_type(), e.to_string()),
        };
    }
    let digest = shared.config.variant.assigned_digest(&r.image_manifest);
    match inner.state.push_as(
        &r.repository_name,
        &r.image_manifest,
        &media_type,
        r.image_tag.as_deref(),
        digest,
    ) {
        Ok(digest) => Reply::ok(json!({ "image": {
            "registryId": shared.config.registry_id,
            "repositoryName": r.repository_name,
            "imageId": ImageIdentifier { image_digest: Some(digest), image_tag: r.image_tag },
            "imageManifest": r.image_manifest,
            "imageManifestMediaType": media_type,
        }})),
        Err(e) => Reply::client_error(e.error_type(), e.to_string()),
    }
}

pub(super) fn list_images(shared: &Shared, r: wire::ListImagesRequest) -> Reply {
    let inner = shared.lock();
    let Some(repo) = inner.state.repository(&r.repository_name) else {
        return repo_not_found(shared, &r.repository_name);
    };
    let mut ids = Vec::new();
    for image in &repo.images {
        if image.tags.is_empty() {
            ids.push(ImageIdentifier::digest(&image.digest));
        }
        ids.extend(image.tags.iter().map(|t| ImageIdentifier::both(t, &image.digest)));
    }
    Reply::ok(json!({ "imageIds": ids }))
}

pub(super) fn describe_images(shared: &Shared, r: wire::DescribeImagesRequest) -> Reply {
    let inner = shared.lock();
    let Some(repo) = inner.state.repository(&r.repository_name) else {
        return repo_not_found(shared, &r.repository_name);
    };
    let details: Vec<Value> = repo
        .images
        .iter()
        .map(|i| {
            let mut d = json!({
                "registryId": shared.config.registry_id,
                "repositoryName": r.repository_name,
                "imageDigest": i.digest,
                "imageManifestMediaType": i.media_type,
                "imageSizeInBytes": i.manifest.len(),
            });
            if !i.tags.is_empty() {
                d["imageTags"] = json!(i.tags);
            }
            d
        })
        .collect();
    Reply::ok(json!({ "imageDetails": details }))
}

pub(super) fn describe_repositories(shared: &Shared) -> Reply {
    let inner = shared.lock();
    let repositories: Vec<Value> = inner
        .state
        .repositories
        .keys()
        .map(|name| repository_json(shared, name))
        .collect();
    Reply::ok(json!({ "repositories": repositories }))
}

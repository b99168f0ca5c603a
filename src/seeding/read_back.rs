//! Reading back what a registry holds: its repositories, their images, and the state they make.

use crate::client::{ApiError, EcrClient};
use crate::model::{RegistryState, syntax};
use crate::wire::{self, ImageIdentifier};
use std::collections::BTreeSet;

/// Every item of a paginated read: `request(token)` builds each page's request, `items(page)`
/// takes its items and its `nextToken`. Bounded, so an endpoint that never stops paging cannot
/// hang the run.
async fn all_pages<Req: serde::Serialize, Page: serde::de::DeserializeOwned, T>(
    client: &EcrClient,
    operation: &str,
    request: impl Fn(Option<String>) -> Req,
    items: impl Fn(Page) -> (Vec<T>, Option<String>),
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..10_000 {
        let page: Page = client.call(operation, &request(token.clone()), true).await?;
        let (found, next) = items(page);
        out.extend(found);
        token = next.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// What a repository lists: every (digest, tag) pair and every untagged digest (P-READ-ONLY).
pub async fn listing(client: &EcrClient, repo: &str) -> Result<BTreeSet<ImageIdentifier>, ApiError> {
    let request = |next_token| wire::ListImagesRequest {
        repository_name: repo.into(),
        next_token,
        max_results: Some(1000),
    };
    let ids = all_pages(client, "ListImages", request, |p: wire::ListImagesResponse| {
        (p.image_ids, p.next_token)
    })
    .await?;
    Ok(ids.into_iter().collect())
}

/// Every repository of the registry (DescribeRepositories, all pages).
pub async fn repositories(client: &EcrClient) -> Result<Vec<String>, ApiError> {
    let request = |next_token| wire::DescribeRepositoriesRequest {
        next_token,
        max_results: Some(1000),
    };
    let repos = all_pages(
        client,
        "DescribeRepositories",
        request,
        |p: wire::DescribeRepositoriesResponse| (p.repositories, p.next_token),
    )
    .await?;
    Ok(repos.into_iter().filter_map(|r| r.repository_name).collect())
}

/// Read-only mode: the model's state read from the named repositories as they are
/// (DescribeImages for digests, tags and types; BatchGetImage by digest for the manifests).
pub async fn read_state(client: &EcrClient, names: &[String], registry_hint: &str) -> Result<RegistryState, ApiError> {
    let mut state = RegistryState::new(registry_hint);
    let mut registry_known = false;
    for name in names {
        let request = |next_token| wire::DescribeImagesRequest {
            repository_name: name.clone(),
            next_token,
            max_results: Some(1000),
        };
        let details = all_pages(client, "DescribeImages", request, |p: wire::DescribeImagesResponse| {
            (p.image_details, p.next_token)
        })
        .await?;
        state.create_repository(name).ok();
        let digests: Vec<String> = details.iter().filter_map(|d| d.image_digest.clone()).collect();
        let mut manifests = std::collections::HashMap::new();
        for chunk in digests.chunks(syntax::IDS_MAX) {
            let request = wire::BatchGetImageRequest {
                registry_id: None,
                repository_name: name.clone(),
                image_ids: chunk.iter().map(ImageIdentifier::digest).collect(),
                accepted_media_types: None,
            };
            let answer: wire::BatchGetImageResponse = client.call("BatchGetImage", &request, true).await?;
            for image in answer.images.unwrap_or_default() {
                if !registry_known && let Some(id) = image.registry_id.clone().filter(|i| syntax::is_registry_id(i)) {
                    state.registry_id = id;
                    registry_known = true;
                }
                if let (Some(d), Some(m)) = (image.image_id.image_digest, image.image_manifest) {
                    manifests.insert(d, (m, image.image_manifest_media_type));
                }
            }
        }
        for detail in details {
            let Some(digest) = detail.image_digest else { continue };
            let Some((manifest, answered_type)) = manifests.get(&digest) else {
                continue;
            };
            let media_type = detail
                .image_manifest_media_type
                .or_else(|| answered_type.clone())
                .unwrap_or_else(|| wire::media_type::DOCKER_V2.to_string());
            let tags = detail.image_tags.unwrap_or_default();
            if tags.is_empty() {
                let _ = state.push_as(name, manifest, &media_type, None, digest.clone());
            }
            for tag in tags {
                let _ = state.push_as(name, manifest, &media_type, Some(&tag), digest.clone());
            }
        }
    }
    Ok(state)
}

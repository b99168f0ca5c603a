//! A registry's contents and ECR's push semantics: what `PutImage` does to tags and images.

use super::manifest;
use super::syntax::sha256_digest;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One image of a repository: the manifest exactly as pushed, and the tags that point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRecord {
    pub digest: String,
    pub manifest: String,
    pub media_type: String,
    /// In the order they were pushed.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// In the order they were first pushed.
    pub images: Vec<ImageRecord>,
    /// Digests of the blobs uploaded to the repository.
    #[serde(default)]
    pub blobs: BTreeSet<String>,
    /// Digests and tags under which the endpoint holds images the model cannot predict (it gave
    /// two manifests one digest, or one manifest two): nothing is asked about them, not even as
    /// another repository's. (A digest has a `:`, a tag never.)
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unpredictable: BTreeSet<String>,
}

impl Repository {
    pub fn image_by_digest(&self, digest: &str) -> Option<&ImageRecord> {
        self.images.iter().find(|i| i.digest == digest)
    }

    pub fn image_by_tag(&self, tag: &str) -> Option<&ImageRecord> {
        self.images.iter().find(|i| i.tags.iter().any(|t| t == tag))
    }

    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.images.iter().flat_map(|i| i.tags.iter().map(String::as_str))
    }
}

/// The whole registry as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryState {
    /// The 12-digit account id of the registry (what every answer's `registryId` carries).
    pub registry_id: String,
    pub repositories: BTreeMap<String, Repository>,
}

/// Why a push was refused, with the exception ECR answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("RepositoryNotFoundException: the repository with name '{0}' does not exist")]
    RepositoryNotFound(String),
    #[error("RepositoryAlreadyExistsException: the repository with name '{0}' already exists")]
    RepositoryAlreadyExists(String),
    #[error("LayersNotFoundException: the layers {0:?} were not uploaded")]
    LayersNotFound(Vec<String>),
    #[error("ReferencedImagesNotFoundException: the images {0:?} are not in the repository")]
    ReferencedImagesNotFound(Vec<String>),
    #[error(
        "ImageAlreadyExistsException: the image has already been pushed, and there were no changes to the manifest or image tag"
    )]
    ImageAlreadyExists,
    #[error("InvalidParameterException: the manifest is not valid JSON")]
    InvalidManifest,
    #[error("InvalidLayerException: the layer's digest {expected} does not match its bytes ({actual})")]
    LayerDigestMismatch { expected: String, actual: String },
}

impl PushError {
    /// The `__type` ECR answers for it.
    pub fn error_type(&self) -> &'static str {
        match self {
            PushError::RepositoryNotFound(_) => "RepositoryNotFoundException",
            PushError::RepositoryAlreadyExists(_) => "RepositoryAlreadyExistsException",
            PushError::LayersNotFound(_) => "LayersNotFoundException",
            PushError::ReferencedImagesNotFound(_) => "ReferencedImagesNotFoundException",
            PushError::ImageAlreadyExists => "ImageAlreadyExistsException",
            PushError::InvalidManifest => "InvalidParameterException",
            PushError::LayerDigestMismatch { .. } => "InvalidLayerException",
        }
    }
}

impl RegistryState {
    pub fn new(registry_id: impl Into<String>) -> Self {
        RegistryState {
            registry_id: registry_id.into(),
            repositories: BTreeMap::new(),
        }
    }

    pub fn repository(&self, name: &str) -> Option<&Repository> {
        self.repositories.get(name)
    }

    pub fn create_repository(&mut self, name: &str) -> Result<(), PushError> {
        if self.repositories.contains_key(name) {
            return Err(PushError::RepositoryAlreadyExists(name.to_string()));
        }
        self.repositories.insert(name.to_string(), Repository::default());
        Ok(())
    }

    pub fn delete_repository(&mut self, name: &str) -> Result<Repository, PushError> {
        self.repositories
            .remove(name)
            .ok_or_else(|| PushError::RepositoryNotFound(name.into()))
    }

    /// A completed layer upload: the digest must be the SHA-256 of the bytes.
    pub fn put_blob(&mut self, repo: &str, digest: &str, bytes: &[u8]) -> Result<(), PushError> {
        let actual = sha256_digest(bytes);
        if actual != digest {
            return Err(PushError::LayerDigestMismatch {
                expected: digest.into(),
                actual,
            });
        }
        let r = self.repo_mut(repo)?;
        r.blobs.insert(actual);
        Ok(())
    }

    /// What real ECR checks before it accepts a manifest: the blobs it references were uploaded,
    /// and the children of a list are images of the repository.
    pub fn check_references(&self, repo: &str, manifest: &str, media_type: &str) -> Result<(), PushError> {
        let r = self
            .repository(repo)
            .ok_or_else(|| PushError::RepositoryNotFound(repo.into()))?;
        if serde_json::from_str::<serde_json::Value>(manifest).is_err() {
            return Err(PushError::InvalidManifest);
        }
        let refs = manifest::references(manifest, media_type);
        let missing: Vec<String> = refs.blobs.into_iter().filter(|d| !r.blobs.contains(d)).collect();
        if !missing.is_empty() {
            return Err(PushError::LayersNotFound(missing));
        }
        let missing: Vec<String> = refs
            .children
            .into_iter()
            .filter(|d| r.image_by_digest(d).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(PushError::ReferencedImagesNotFound(missing));
        }
        Ok(())
    }

    /// ECR's `PutImage` semantics for tags and digests, without the reference checks:
    /// - a new manifest becomes a new image, with the tag if one is given;
    /// - the same manifest again adds the tag to the existing image;
    /// - a tag that already points elsewhere moves, leaving the old image untagged if it was its
    ///   last tag (the image stays);
    /// - a push that changes nothing is `ImageAlreadyExistsException`.
    ///
    /// Returns the image's digest: the SHA-256 of the exact manifest bytes.
    pub fn push(
        &mut self,
        repo: &str,
        manifest: &str,
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<String, PushError> {
        self.push_as(repo, manifest, media_type, tag, sha256_digest(manifest.as_bytes()))
    }

    /// [`push`](Self::push) under a digest that an endpoint assigned: the harness's model of an
    /// endpoint that computes digests wrongly (S-PUT-DIGEST) goes on with what it was told, so that
    /// one seeding bug does not turn every later answer into a deviation.
    pub fn push_as(
        &mut self,
        repo: &str,
        manifest: &str,
        media_type: &str,
        tag: Option<&str>,
        digest: String,
    ) -> Result<String, PushError> {
        let r = self.repo_mut(repo)?;
        if let Some(existing) = r.images.iter().find(|i| i.digest == digest) {
            match tag {
                None => return Err(PushError::ImageAlreadyExists),
                Some(t) if existing.tags.iter().any(|x| x == t) => {
                    return Err(PushError::ImageAlreadyExists);
                }
                Some(_) => {}
            }
        }
        if let Some(t) = tag {
            for image in &mut r.images {
                image.tags.retain(|x| x != t);
            }
        }
        match r.images.iter_mut().find(|i| i.digest == digest) {
            Some(image) => image.tags.extend(tag.map(str::to_string)),
            None => r.images.push(ImageRecord {
                digest: digest.clone(),
                manifest: manifest.to_string(),
                media_type: media_type.to_string(),
                tags: tag.map(str::to_string).into_iter().collect(),
            }),
        }
        Ok(digest)
    }

    /// Removes a tag (`BatchDeleteImage` by tag): the image stays while other tags point at it,
    /// and goes with its last tag, as in ECR.
    pub fn untag(&mut self, repo: &str, tag: &str) -> Result<(), PushError> {
        let r = self.repo_mut(repo)?;
        let Some(pos) = r.images.iter().position(|i| i.tags.iter().any(|t| t == tag)) else {
            return Ok(());
        };
        r.images[pos].tags.retain(|t| t != tag);
        if r.images[pos].tags.is_empty() {
            r.images.remove(pos);
        }
        Ok(())
    }

    fn repo_mut(&mut self, repo: &str) -> Result<&mut Repository, PushError> {
        self.repositories
            .get_mut(repo)
            .ok_or_else(|| PushError::RepositoryNotFound(repo.into()))
    }
}

// ---- Plans: a state as the sequence of operations that builds it ------------------------------

/// One `PutImage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Push {
    pub manifest: String,
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// A repository as the pushes that make it: blobs first, then manifests in order (children before
/// the lists that reference them), so replaying it on an endpoint is a real push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryPlan {
    pub name: String,
    #[serde(default, with = "blob_list")]
    pub blobs: Vec<Vec<u8>>,
    pub pushes: Vec<Push>,
}

/// A registry state as the operations that build it: what the generators make, what seeding
/// replays, and what shrinking cuts down.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryPlan {
    pub repositories: Vec<RepositoryPlan>,
}

impl RegistryPlan {
    /// The state the plan leaves, built with the same checks ECR makes (blobs and children must be
    /// there before a manifest that references them).
    pub fn build(&self, registry_id: &str) -> Result<RegistryState, PushError> {
        let mut state = RegistryState::new(registry_id);
        for repo in &self.repositories {
            state.create_repository(&repo.name)?;
            for blob in &repo.blobs {
                state.put_blob(&repo.name, &sha256_digest(blob), blob)?;
            }
            for p in &repo.pushes {
                state.check_references(&repo.name, &p.manifest, &p.media_type)?;
                state.push(&repo.name, &p.manifest, &p.media_type, p.tag.as_deref())?;
            }
        }
        Ok(state)
    }

    /// Drops pushes that ECR would refuse as changing nothing, and pushes whose references are not
    /// (or no longer) there, so that every plan the generators make is a valid sequence of pushes.
    pub fn normalised(mut self) -> Self {
        let mut scratch = RegistryState::new("000000000000");
        // A name that comes twice keeps its first repository.
        self.repositories.retain(|r| scratch.create_repository(&r.name).is_ok());
        for repo in &mut self.repositories {
            for blob in &repo.blobs {
                let _ = scratch.put_blob(&repo.name, &sha256_digest(blob), blob);
            }
            repo.pushes.retain(|p| {
                scratch.check_references(&repo.name, &p.manifest, &p.media_type).is_ok()
                    && scratch
                        .push(&repo.name, &p.manifest, &p.media_type, p.tag.as_deref())
                        .is_ok()
            });
        }
        self
    }
}

/// Blobs travel in case files as base64.
pub(crate) mod blob_list {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(blobs: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(blobs.iter().map(|b| STANDARD.encode(b)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| STANDARD.decode(t).map_err(serde::de::Error::custom))
            .collect()
    }
}

impl RegistryPlan {
    /// The same plan with every repository name under `prefix` (a run's own namespace).
    pub fn with_prefix(&self, prefix: &str) -> RegistryPlan {
        RegistryPlan {
            repositories: self
                .repositories
                .iter()
                .map(|r| RepositoryPlan {
                    name: format!("{prefix}{}", r.name),
                    ..r.clone()
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::media_type::{DOCKER_LIST, DOCKER_V2};

    fn state() -> RegistryState {
        let mut s = RegistryState::new("123456789012");
        s.create_repository("team/app/web").expect("new repository");
        s
    }

    #[test]
    fn pushing_an_existing_tag_moves_it_and_leaves_the_old_image_untagged() {
        let mut s = state();
        let a = s
            .push("team/app/web", "{\"a\":1}", DOCKER_V2, Some("latest"))
            .expect("push a");
        let b = s
            .push("team/app/web", "{\"b\":1}", DOCKER_V2, Some("latest"))
            .expect("push b");
        let r = s.repository("team/app/web").expect("repo");
        assert_eq!(r.image_by_tag("latest").map(|i| i.digest.as_str()), Some(b.as_str()));
        assert_eq!(r.image_by_digest(&a).map(|i| i.tags.len()), Some(0));
        assert_eq!(r.images.len(), 2);
    }

    #[test]
    fn pushing_the_same_manifest_again_adds_a_tag_to_the_same_image() {
        let mut s = state();
        let a = s.push("team/app/web", "{}", DOCKER_V2, Some("v1")).expect("push");
        let again = s.push("team/app/web", "{}", DOCKER_V2, Some("v2")).expect("push again");
        assert_eq!(a, again);
        let r = s.repository("team/app/web").expect("repo");
        assert_eq!(r.images.len(), 1);
        assert_eq!(r.images[0].tags, ["v1", "v2"]);
    }

    #[test]
    fn a_push_that_changes_nothing_is_refused() {
        let mut s = state();
        s.push("team/app/web", "{}", DOCKER_V2, Some("v1")).expect("push");
        assert_eq!(
            s.push("team/app/web", "{}", DOCKER_V2, Some("v1")),
            Err(PushError::ImageAlreadyExists)
        );
        assert_eq!(
            s.push("team/app/web", "{}", DOCKER_V2, None),
            Err(PushError::ImageAlreadyExists)
        );
    }

    #[test]
    fn untag_keeps_an_image_with_other_tags_and_drops_it_with_its_last() {
        let mut s = state();
        s.push("team/app/web", "{}", DOCKER_V2, Some("v1")).expect("push");
        s.push("team/app/web", "{}", DOCKER_V2, Some("v2")).expect("push");
        s.untag("team/app/web", "v1").expect("untag");
        assert_eq!(s.repository("team/app/web").expect("repo").images[0].tags, ["v2"]);
        s.untag("team/app/web", "v2").expect("untag");
        assert!(s.repository("team/app/web").expect("repo").images.is_empty());
    }

    #[test]
    fn the_digest_is_the_sha256_of_the_exact_bytes() {
        let mut s = state();
        let compact = s.push("team/app/web", "{\"a\":1}", DOCKER_V2, None).expect("push");
        let spaced = s.push("team/app/web", "{ \"a\": 1 }", DOCKER_V2, None).expect("push");
        assert_ne!(compact, spaced);
        assert_eq!(compact, sha256_digest(b"{\"a\":1}"));
    }

    #[test]
    fn references_must_exist_before_the_push() {
        let mut s = state();
        let config = b"{}".to_vec();
        let digest = sha256_digest(&config);
        let manifest = format!(r#"{{"schemaVersion":2,"config":{{"digest":"{digest}"}},"layers":[]}}"#);
        assert!(matches!(
            s.check_references("team/app/web", &manifest, DOCKER_V2),
            Err(PushError::LayersNotFound(_))
        ));
        s.put_blob("team/app/web", &digest, &config).expect("blob");
        s.check_references("team/app/web", &manifest, DOCKER_V2)
            .expect("references now there");
        let list = r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:00"}]}"#;
        assert!(matches!(
            s.check_references("team/app/web", list, DOCKER_LIST),
            Err(PushError::ReferencedImagesNotFound(_))
        ));
        assert!(matches!(
            s.put_blob("team/app/web", "sha256:00", b"x"),
            Err(PushError::LayerDigestMismatch { .. })
        ));
    }
}

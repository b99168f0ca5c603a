//! `BatchGetImage` as real ECR answers it: the request checks (section 3 of the reference), then
//! one outcome per requested id (section 4), with the manifest chosen by `acceptedMediaTypes`
//! (section 5). Each branch cites the rule it implements.

use super::expected::*;
use super::manifest;
use super::state::{ImageRecord, RegistryState, Repository};
use super::syntax::{self, RepoNameValidity};
use crate::rules::{Level, id, rule_by_id};
use crate::wire::{BatchGetImageRequest, ImageFailureCode, ImageIdentifier, media_type};

pub const REASON_NOT_FOUND: &str = "Requested image not found";
pub const REASON_MISMATCH: &str = "Invalid request parameters: given tag does not map to the given digest";
pub const REASON_NEITHER: &str = "Invalid request parameters: both tag and digest cannot be null";
pub const REASON_BAD_TAG: &str = "Invalid request parameters: image tag should have between 1 and 300 characters";
pub const REASON_BAD_DIGEST: &str =
    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'";

/// What real ECR answers to `request` against `state`. Pure: the same inputs give the same answer.
pub fn batch_get_image(state: &RegistryState, request: &BatchGetImageRequest) -> Expected {
    evaluate(state, request, Tags::Refused)
}

/// Where a tag of a bad length is answered: ECR's constraint refuses the request; a per-id
/// `InvalidImageTag` is accepted as well (I-BAD-TAG, rev 2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tags {
    Refused,
    PerId,
}

fn evaluate(state: &RegistryState, request: &BatchGetImageRequest, tags: Tags) -> Expected {
    if let Some(mut error) = request_error(state, request, tags) {
        if tags == Tags::Refused
            && matches!(error.rule, id::I_BAD_TAG | id::I_EMPTY)
            && let Expected::Answers(a) = evaluate(state, request, Tags::PerId)
        {
            error.per_id = Some(Box::new(a));
        }
        return Expected::Error(error);
    }
    let repo_name = &request.repository_name;
    // request_error has established that the repository exists.
    let Some(repo) = state.repository(repo_name) else {
        return Expected::Error(repository_not_found(state, repo_name, id::R_REPO_NOT_FOUND));
    };
    let mut ids: Vec<IdExpectation> = Vec::new();
    for requested in &request.image_ids {
        if let Some(seen) = ids.iter_mut().find(|e| &e.id == requested) {
            seen.times += 1;
            continue;
        }
        let (rule, outcome) = outcome_for(state, repo_name, repo, requested, request);
        let level = match (rule, requested.image_digest.as_deref()) {
            // I-BAD-DIGEST gates only digests with no match of the pattern anywhere (rev 2).
            (id::I_BAD_DIGEST, Some(d)) if syntax::digest_matches_somewhere(d) => Level::Advisory,
            _ => rule_by_id(rule).level,
        };
        ids.push(IdExpectation {
            id: requested.clone(),
            times: 1,
            rule,
            level,
            outcome,
        });
    }
    // An id whose channel is unknown lets a refusal of the whole request pass too (advisory).
    let or_refused = ids.iter().find_map(|e| match (e.rule, &e.id) {
        (id::I_TAG_CHARSET, _) => Some(invalid_parameter(
            id::I_TAG_CHARSET,
            "imageTag",
            "must satisfy regular expression '[a-zA-Z0-9-_.]+'",
        )),
        (
            id::I_EMPTY,
            ImageIdentifier {
                image_digest: Some(d), ..
            },
        ) if d.is_empty() => Some(invalid_parameter(
            id::I_EMPTY,
            "imageDigest",
            "Member must have length greater than or equal to 1",
        )),
        _ => None,
    });
    Expected::Answers(ExpectedAnswers {
        registry_id: state.registry_id.clone(),
        repository_name: repo_name.clone(),
        ids,
        or_refused,
        accepted_media_types: request.accepted_media_types.clone(),
        held: repo.images.clone(),
    })
}

fn invalid_parameter(rule: &'static str, parameter: &str, constraint: &str) -> ExpectedError {
    ExpectedError {
        rule,
        status: 400,
        error_types: vec!["InvalidParameterException"],
        message: MessageExpectation::Mentions {
            parameter: parameter.to_string(),
            text: format!("Invalid parameter at '{parameter}' failed to satisfy constraint: '{constraint}'"),
        },
        per_id: None,
    }
}

fn repository_not_found(state: &RegistryState, name: &str, rule: &'static str) -> ExpectedError {
    // R-REPO-NOT-FOUND: the message as real ECR words it (advisory text).
    ExpectedError {
        rule,
        status: 400,
        error_types: vec!["RepositoryNotFoundException"],
        message: MessageExpectation::Exact(format!(
            "The repository with name '{name}' does not exist in the registry with id '{}'",
            state.registry_id
        )),
        per_id: None,
    }
}

/// The request-level checks, in ECR's order: parameters first (R-ORDER), then the registry and
/// the repository.
fn request_error(state: &RegistryState, request: &BatchGetImageRequest, tags: Tags) -> Option<ExpectedError> {
    let name = request.repository_name.as_str();
    let validity = syntax::repo_name_validity(name);
    let exists = state.repository(name).is_some();
    let parameter_error = parameter_error(request, validity, tags);
    if let Some(mut error) = parameter_error {
        // R-ORDER: that validation precedes the lookup is inferred, so when the repository is also
        // missing the answer's type is only advisory. An invalid name can never exist, so
        // R-REPO-NAME-INVALID keeps its own level.
        if !exists && error.rule != id::R_REPO_NAME_INVALID && rule_by_id(error.rule).level == Level::Gate {
            error.rule = id::R_ORDER;
        }
        return Some(error);
    }
    if let Some(registry) = &request.registry_id
        && registry != &state.registry_id
    {
        // R-REGISTRY-FOREIGN: either answer is accepted.
        return Some(ExpectedError {
            rule: id::R_REGISTRY_FOREIGN,
            status: 400,
            error_types: vec!["AccessDeniedException", "RepositoryNotFoundException"],
            message: MessageExpectation::Mentions {
                parameter: registry.clone(),
                text: format!(
                    "User is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:{registry}:repository/{name}"
                ),
            },
            per_id: None,
        });
    }
    // R-REGISTRY-OWN: the caller's own id is the same as none; nothing to do.
    if !exists {
        if validity == RepoNameValidity::NewPatternOnly {
            // R-REPO-NAME-NEW-ONLY (rev 2): either the name behaves as any other, or it is refused
            // under the older pattern that server messages still quote.
            let mut error = repository_not_found(state, name, id::R_REPO_NAME_NEW_ONLY);
            let refused = invalid_parameter(
                id::R_REPO_NAME_NEW_ONLY,
                "repositoryName",
                &syntax::older_pattern_constraint(),
            );
            error.error_types.extend(refused.error_types);
            error.message = MessageExpectation::AnyOf(vec![error.message, refused.message]);
            return Some(error);
        }
        return Some(repository_not_found(state, name, id::R_REPO_NOT_FOUND));
    }
    None
}

fn parameter_error(
    request: &BatchGetImageRequest,
    validity: RepoNameValidity,
    tags_checked: Tags,
) -> Option<ExpectedError> {
    // Every violated constraint, in the order the model checks them: the first names the rule;
    // the message may name any of them (which one ECR reports first is not observed).
    let mut errors: Vec<ExpectedError> = Vec::new();
    if validity == RepoNameValidity::Invalid {
        let constraint = syntax::repo_name_constraint(&request.repository_name);
        errors.push(invalid_parameter(
            id::R_REPO_NAME_INVALID,
            "repositoryName",
            &constraint,
        ));
    }
    if let Some(registry) = &request.registry_id
        && !syntax::is_registry_id(registry)
    {
        // The regex unquoted, as observed (rev 2).
        errors.push(invalid_parameter(
            id::R_REGISTRY_INVALID,
            "registryId",
            "must satisfy regular expression [0-9]{12}",
        ));
    }
    if request.image_ids.is_empty() {
        errors.push(invalid_parameter(
            id::R_IDS_EMPTY,
            "imageIds",
            "Member must have length greater than or equal to 1",
        ));
    }
    if request.image_ids.len() > syntax::IDS_MAX {
        errors.push(invalid_parameter(
            id::R_IDS_TOO_MANY,
            "imageIds",
            "Member must have length less than or equal to 100",
        ));
    }
    let tags = || {
        request
            .image_ids
            .iter()
            .filter_map(|i| i.image_tag.as_deref())
            .filter(|_| tags_checked == Tags::Refused)
    };
    if tags().any(str::is_empty) {
        // I-EMPTY: an empty tag breaks the length constraint, as I-BAD-TAG (either channel).
        errors.push(invalid_parameter(
            id::I_EMPTY,
            "imageTag",
            "Member must have length greater than or equal to 1",
        ));
    }
    if tags().any(|t| !syntax::is_tag_length_valid(t)) {
        errors.push(invalid_parameter(
            id::I_BAD_TAG,
            "imageTag",
            "Member must have length less than or equal to 300",
        ));
    }
    if let Some(types) = &request.accepted_media_types
        && (types.is_empty() || types.len() > syntax::MEDIA_TYPES_MAX)
    {
        // List lengths are worded as one bound, never "between" (rev 2).
        let constraint = if types.is_empty() {
            "Member must have length greater than or equal to 1".to_string()
        } else {
            format!(
                "Member must have length less than or equal to {}",
                syntax::MEDIA_TYPES_MAX
            )
        };
        errors.push(invalid_parameter(id::R_MEDIA_EMPTY, "acceptedMediaTypes", &constraint));
    }
    let mut errors = errors.into_iter();
    let mut first = errors.next()?;
    let others: Vec<MessageExpectation> = errors.map(|e| e.message).collect();
    if !others.is_empty() {
        let mut all = vec![first.message];
        all.extend(others);
        first.message = MessageExpectation::AnyOf(all);
    }
    Some(first)
}

fn failure(rule: &'static str, code: ImageFailureCode, reason: &str) -> (&'static str, Outcome) {
    (
        rule,
        Outcome::Failure {
            code,
            reason: reason.to_string(),
        },
    )
}

/// Why a well-formed tag or digest is not found: the rule that a sloppy matcher would break.
fn not_found_rule(
    state: &RegistryState,
    repo_name: &str,
    repo: &Repository,
    requested: &ImageIdentifier,
) -> &'static str {
    let tag = requested.image_tag.as_deref();
    let digest = requested.image_digest.as_deref();
    let case_twin = tag.is_some_and(|t| repo.tags().any(|x| x != t && x.eq_ignore_ascii_case(t)))
        || (tag.is_none()
            && digest.is_some_and(|d| {
                repo.images
                    .iter()
                    .any(|i| i.digest != d && i.digest.eq_ignore_ascii_case(d))
            }));
    if case_twin {
        return id::I_TAG_CASE; // I-TAG-CASE
    }
    let elsewhere = state
        .repositories
        .iter()
        .filter(|(n, _)| n.as_str() != repo_name)
        .any(|(_, other)| match (tag, digest) {
            (Some(t), _) => other.image_by_tag(t).is_some(),
            (None, Some(d)) => other.image_by_digest(d).is_some(),
            (None, None) => false,
        });
    if elsewhere { id::I_SCOPE } else { id::I_NOT_FOUND }
}

fn outcome_for(
    state: &RegistryState,
    repo_name: &str,
    repo: &Repository,
    requested: &ImageIdentifier,
    request: &BatchGetImageRequest,
) -> (&'static str, Outcome) {
    let tag = requested.image_tag.as_deref();
    let digest = requested.image_digest.as_deref();
    match (tag, digest) {
        // I-NEITHER
        (None, None) => failure(id::I_NEITHER, ImageFailureCode::MissingDigestAndTag, REASON_NEITHER),
        // I-EMPTY: an empty digest; InvalidImageDigest, MissingDigestAndTag or a 400 (advisory).
        (_, Some("")) => failure(id::I_EMPTY, ImageFailureCode::InvalidImageDigest, REASON_BAD_DIGEST),
        // I-BAD-DIGEST, I-BAD-DIGEST-WITH-TAG: the digest's form is checked before any lookup.
        (t, Some(d)) if !syntax::is_well_formed_digest(d) => {
            let rule = if t.is_some() {
                id::I_BAD_DIGEST_WITH_TAG
            } else {
                id::I_BAD_DIGEST
            };
            failure(rule, ImageFailureCode::InvalidImageDigest, REASON_BAD_DIGEST)
        }
        // I-BAD-TAG, I-EMPTY: a tag of a bad length answered per id (where the request is not
        // refused for it; see `Tags`).
        (Some(t), _) if !syntax::is_tag_length_valid(t) => failure(
            if t.is_empty() { id::I_EMPTY } else { id::I_BAD_TAG },
            ImageFailureCode::InvalidImageTag,
            REASON_BAD_TAG,
        ),
        // I-TAG-CHARSET: a per-id InvalidImageTag or a request-level 400 (advisory).
        (Some(t), _) if !syntax::is_tag_charset_valid(t) => failure(
            id::I_TAG_CHARSET,
            ImageFailureCode::InvalidImageTag,
            "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9-_.]+'",
        ),
        (Some(t), d) => match repo.image_by_tag(t) {
            None => failure(
                not_found_rule(state, repo_name, repo, requested),
                ImageFailureCode::ImageNotFound,
                REASON_NOT_FOUND,
            ),
            // I-MISMATCH (I-TAG-CASE when the digest differs from the right one only in case)
            Some(image) if d.is_some_and(|d| d != image.digest) => {
                let rule = if d.is_some_and(|d| d.eq_ignore_ascii_case(&image.digest)) {
                    id::I_TAG_CASE
                } else {
                    id::I_MISMATCH
                };
                failure(rule, ImageFailureCode::ImageTagDoesNotMatchDigest, REASON_MISMATCH)
            }
            Some(image) => {
                let rule = if d.is_some() {
                    id::I_BOTH
                } else if shares_digest_with_another_requested_tag(request, repo, t, &image.digest) {
                    id::I_SAME_DIGEST_TAGS
                } else {
                    id::I_TAG
                };
                let by_digest = d.is_some();
                (
                    rule,
                    Outcome::Image(expected_image(repo_name, image, Some(t), by_digest, request)),
                )
            }
        },
        (None, Some(d)) => match repo.image_by_digest(d) {
            None => failure(
                not_found_rule(state, repo_name, repo, requested),
                ImageFailureCode::ImageNotFound,
                REASON_NOT_FOUND,
            ),
            Some(image) => {
                // I-DIGEST, I-DIGEST-TAGS: one entry per tag, or one untagged entry.
                let images = if image.tags.is_empty() {
                    vec![expected_image(repo_name, image, None, true, request)]
                } else {
                    image
                        .tags
                        .iter()
                        .map(|t| expected_image(repo_name, image, Some(t), true, request))
                        .collect()
                };
                (id::I_DIGEST, Outcome::ImagesByDigest { images })
            }
        },
    }
}

fn shares_digest_with_another_requested_tag(
    request: &BatchGetImageRequest,
    repo: &Repository,
    tag: &str,
    digest: &str,
) -> bool {
    request.image_ids.iter().any(|other| {
        other.image_digest.is_none()
            && other.image_tag.as_deref().is_some_and(|t| t != tag)
            && other
                .image_tag
                .as_deref()
                .and_then(|t| repo.image_by_tag(t))
                .is_some_and(|i| i.digest == digest)
    })
}

/// The image entry for `image`, with the manifest that `acceptedMediaTypes` selects (section 5).
fn expected_image(
    repo_name: &str,
    image: &ImageRecord,
    tag: Option<&str>,
    by_digest: bool,
    request: &BatchGetImageRequest,
) -> ExpectedImage {
    let image_id = ImageIdentifier {
        image_digest: Some(image.digest.clone()),
        image_tag: tag.map(str::to_string),
    };
    let stored = |rule: &'static str, level: Level| ExpectedImage {
        image_id: image_id.clone(),
        manifest: ExpectedManifest::Stored(image.manifest.clone()),
        media_type: image.media_type.clone(),
        manifest_rule: rule,
        manifest_level: level,
        also: Vec::new(),
    };
    let Some(accepted) = &request.accepted_media_types else {
        // M-DEFAULT: gate for image manifests, advisory for lists and indexes.
        let level = if media_type::is_list(&image.media_type) {
            Level::Advisory
        } else {
            Level::Gate
        };
        return stored(id::M_DEFAULT, level);
    };
    if accepted.iter().any(|t| t == &image.media_type) {
        return stored(id::M_ACCEPTED, Level::Gate);
    }
    if by_digest {
        // M-BY-DIGEST: no translation by digest (gate, rev 2).
        return stored(id::M_BY_DIGEST, Level::Gate);
    }
    let accepts = |t: &str| accepted.iter().any(|a| a == t);
    let accepts_v1 = accepts(media_type::DOCKER_V1) || accepts(media_type::DOCKER_V1_SIGNED);
    let schema1 = |tag: &str| ManifestChoice {
        manifest: ExpectedManifest::Schema1 {
            name: repo_name.to_string(),
            tag: tag.to_string(),
            layers: manifest::references(&image.manifest, &image.media_type)
                .blobs
                .into_iter()
                .skip(1)
                .collect(),
        },
        media_type: media_type::DOCKER_V1.to_string(),
    };
    // Only an image manifest that can be read as one is translated; anything else comes back as
    // stored (M-UNACCEPTABLE).
    let translated = |to: &str| {
        manifest::translation(&image.manifest, to).map(|_| ManifestChoice {
            manifest: ExpectedManifest::Translated {
                to: to.to_string(),
                stored: image.manifest.clone(),
            },
            media_type: to.to_string(),
        })
    };
    let choose = |rule: &'static str, first: ManifestChoice, also: Vec<ManifestChoice>| ExpectedImage {
        image_id: image_id.clone(),
        manifest: first.manifest,
        media_type: first.media_type,
        manifest_rule: rule,
        manifest_level: Level::Advisory,
        also,
    };
    let Some(tag) = tag else {
        return stored(id::M_UNACCEPTABLE, Level::Advisory);
    };
    match image.media_type.as_str() {
        // Stored docker v2 to an OCI client: "Translated to OCI" (M-TRANSLATE-OCI); a schema 1
        // translation too where v1 is accepted beside OCI (both apply, each is accepted).
        media_type::DOCKER_V2 if accepts(media_type::OCI_MANIFEST) => {
            if let Some(oci) = translated(media_type::OCI_MANIFEST) {
                let also = if accepts_v1 { vec![schema1(tag)] } else { Vec::new() };
                return choose(id::M_TRANSLATE_OCI, oci, also);
            }
        }
        media_type::DOCKER_V2 if accepts_v1 => return choose(id::M_TRANSLATE, schema1(tag), Vec::new()),
        // Stored OCI to a docker v2 client: "Translated to V2, schema 2" (M-TRANSLATE-V2).
        media_type::OCI_MANIFEST if accepts(media_type::DOCKER_V2) => {
            if let Some(v2) = translated(media_type::DOCKER_V2) {
                return choose(id::M_TRANSLATE_V2, v2, Vec::new());
            }
        }
        // Stored OCI to a v1-only client: the guide's versions disagree; the stored manifest or a
        // schema 1 translation (M-UNACCEPTABLE).
        media_type::OCI_MANIFEST if accepts_v1 => {
            let first = ManifestChoice {
                manifest: ExpectedManifest::Stored(image.manifest.clone()),
                media_type: image.media_type.clone(),
            };
            return choose(id::M_UNACCEPTABLE, first, vec![schema1(tag)]);
        }
        _ => {}
    }
    stored(id::M_UNACCEPTABLE, Level::Advisory)
}

//! `BatchGetImage` as real ECR answers it: the request checks (section 3 of the reference), then
//! one outcome per requested id (section 4), with the manifest chosen by `acceptedMediaTypes`
//! (section 5). Each branch cites the rule it implements.

use super::expected::*;
use super::media;
use super::state::{RegistryState, Repository};
use super::syntax::{self, RepoNameValidity};
use crate::rules::{Level, Shape, id, rule_by_id};
use crate::wire::{BatchGetImageRequest, ImageFailureCode, ImageIdentifier};

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
        let context = media::context(repo, requested, request.accepted_media_types.as_deref());
        let (rule, outcome) = outcome_for(state, repo_name, repo, requested, request);
        let r = rule_by_id(rule);
        let level = match (rule, requested.image_digest.as_deref()) {
            // I-BAD-DIGEST gates only digests with no match of the pattern anywhere (rev 2).
            (id::I_BAD_DIGEST, Some(d)) if syntax::digest_matches_somewhere(d) => Level::Advisory,
            // Outside what its evidence covers, a gate rule is advisory for the id (rev 3).
            _ => r.level_for(r.level, &context, r.level),
        };
        ids.push(IdExpectation {
            id: requested.clone(),
            times: 1,
            rule,
            level,
            outcome,
            context,
        });
    }
    let shares = shares(&ids);
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
        shares,
    })
}

/// The groups of two ids or more that name one image (its tags, its digest, a tag with its
/// digest): each may be answered by its own entries or by entries shared among the group (F7).
pub fn shares(ids: &[IdExpectation]) -> Vec<Vec<usize>> {
    let mut by_digest: std::collections::BTreeMap<&str, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, e) in ids.iter().enumerate() {
        if let Some(d) = e.named_digest() {
            by_digest.entry(d).or_default().push(i);
        }
    }
    by_digest.into_values().filter(|g| g.len() > 1).collect()
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
    (rule, Outcome::failure(code, reason))
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
    if tag.is_some_and(|t| repo.tags().any(|x| x != t && x.eq_ignore_ascii_case(t))) {
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

/// The answers a lookup by digest gives for an image: one entry per tag, or one untagged entry.
fn by_digest(
    repo_name: &str,
    repo: &Repository,
    image: &super::ImageRecord,
    request: &BatchGetImageRequest,
) -> Vec<ExpectedImage> {
    if image.tags.is_empty() {
        vec![media::expected_image(
            repo_name,
            repo,
            image,
            None,
            Shape::Digest,
            request,
        )]
    } else {
        image
            .tags
            .iter()
            .map(|t| media::expected_image(repo_name, repo, image, Some(t), Shape::Digest, request))
            .collect()
    }
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
    // I-DIGEST-CASE (rev 3): upper-case hex may be read in either case; the image it names in
    // lower case, if any, is accepted beside the model's answer.
    let lower_case_image = digest
        .filter(|d| d.bytes().any(|b| b.is_ascii_uppercase()) && syntax::is_well_formed_digest(d))
        .and_then(|d| repo.image_by_digest(&d.to_ascii_lowercase()));
    let (rule, mut outcome) = match (tag, digest) {
        // I-NEITHER
        (None, None) => failure(id::I_NEITHER, ImageFailureCode::MissingDigestAndTag, REASON_NEITHER),
        // I-EMPTY: an empty digest; InvalidImageDigest, MissingDigestAndTag or a 400 (advisory).
        (_, Some("")) => {
            let mut o = Outcome::failure(ImageFailureCode::InvalidImageDigest, REASON_BAD_DIGEST);
            if let Outcome::Failure { also, .. } = &mut o {
                also.push(ImageFailureCode::MissingDigestAndTag);
            }
            (id::I_EMPTY, o)
        }
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
            // I-MISMATCH (I-DIGEST-CASE when the digest differs from the right one only in case)
            Some(image) if d.is_some_and(|d| d != image.digest) => {
                let rule = if d.is_some_and(|d| d.eq_ignore_ascii_case(&image.digest)) {
                    id::I_DIGEST_CASE
                } else {
                    id::I_MISMATCH
                };
                let mut o = Outcome::failure(ImageFailureCode::ImageTagDoesNotMatchDigest, REASON_MISMATCH);
                if rule == id::I_DIGEST_CASE
                    && let Outcome::Failure { or_found, .. } = &mut o
                {
                    or_found.push(media::expected_image(
                        repo_name,
                        repo,
                        image,
                        Some(t),
                        Shape::Both,
                        request,
                    ));
                }
                (rule, o)
            }
            Some(image) => {
                let (rule, shape) = if d.is_some() {
                    (id::I_BOTH, Shape::Both)
                } else {
                    (id::I_TAG, Shape::Tag)
                };
                (
                    rule,
                    Outcome::Image(media::expected_image(repo_name, repo, image, Some(t), shape, request)),
                )
            }
        },
        (None, Some(d)) => match repo.image_by_digest(d) {
            None if lower_case_image.is_some() => {
                let mut o = Outcome::failure(ImageFailureCode::ImageNotFound, REASON_NOT_FOUND);
                if let (Outcome::Failure { or_found, .. }, Some(image)) = (&mut o, lower_case_image) {
                    *or_found = by_digest(repo_name, repo, image, request);
                }
                (id::I_DIGEST_CASE, o)
            }
            None => failure(
                not_found_rule(state, repo_name, repo, requested),
                ImageFailureCode::ImageNotFound,
                REASON_NOT_FOUND,
            ),
            // I-DIGEST, I-DIGEST-TAGS: one entry per tag, or one untagged entry.
            Some(image) => (
                id::I_DIGEST,
                Outcome::ImagesByDigest {
                    images: by_digest(repo_name, repo, image, request),
                },
            ),
        },
    };
    // A sha256 digest of other than 64 hex digits is well formed by ECR's pattern, but a registry
    // that checks the algorithm's length refuses it (rev 3 F8), as one that follows the OCI
    // grammar refuses upper-case hex (F6): either failure is accepted.
    if let (Outcome::Failure { code, also, .. }, Some(d)) = (&mut outcome, digest)
        && syntax::is_well_formed_digest(d)
        && (!syntax::is_sha256_length(d) || d.bytes().any(|b| b.is_ascii_uppercase()))
        && *code != ImageFailureCode::InvalidImageDigest
    {
        also.push(ImageFailureCode::InvalidImageDigest);
    }
    (rule, outcome)
}

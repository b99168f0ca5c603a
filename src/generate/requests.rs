//! Whole `BatchGetImage` requests against a state: id lists of every size (including over the
//! limit and empty), `acceptedMediaTypes` choices, and the request-level cases (missing or invalid
//! repository names, registry ids).

use super::ids::{self, GeneratedId, IdCategory};
use crate::model::RegistryState;
use crate::model::syntax::IDS_MAX;
use crate::wire::{BatchGetImageRequest, media_type};
use proptest::prelude::*;
use proptest::sample::Index;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

named_enum! {
    /// What kind of request a generated one is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum RequestCategory {
        /// Ids against an existing repository (the per-id categories say more).
        Ids => "ids",
        /// More than 100 ids.
        IdsTooMany => "ids-too-many",
        IdsEmpty => "ids-empty",
        MissingRepository => "missing-repository",
        NameTooShort => "name-too-short",
        NameTooLong => "name-too-long",
        NameUpperCase => "name-upper-case",
        NameBadSeparator => "name-bad-separator",
        NameNewPatternOnly => "name-new-pattern-only",
        RegistryMalformed => "registry-malformed",
        RegistryOwn => "registry-own",
        RegistryForeign => "registry-foreign",
        MediaTypesEmpty => "media-types-empty",
        /// One id's tag is empty (I-EMPTY) or longer than 300 characters (I-BAD-TAG).
        TagInvalid => "tag-invalid",
        /// A missing repository and an invalid parameter together (R-ORDER).
        ValidationBeforeLookup => "validation-before-lookup",
    }
}

/// A generated request, with what kind it is and what kind each id is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub category: RequestCategory,
    pub request: BatchGetImageRequest,
    /// One per `request.image_ids`, in order.
    pub id_categories: Vec<IdCategory>,
}

impl Case {
    pub fn new(category: RequestCategory, request: BatchGetImageRequest, ids: &[GeneratedId]) -> Self {
        let id_categories = ids.iter().map(|g| g.category).collect();
        Case {
            category,
            request,
            id_categories,
        }
    }
}

/// `acceptedMediaTypes`: absent most often, else one type or a mixture of types.
pub fn accepted_media_types() -> impl Strategy<Value = Option<Vec<String>>> {
    let one = prop::sample::select(media_type::MANIFEST_TYPES).prop_map(str::to_string);
    prop_oneof![
        5 => Just(None),
        3 => one.clone().prop_map(|t| Some(vec![t])),
        2 => prop::sample::subsequence(media_type::MANIFEST_TYPES, 2..=4)
            .prop_map(|ts| Some(ts.into_iter().map(str::to_string).collect())),
    ]
}

fn request_category() -> impl Strategy<Value = RequestCategory> {
    use RequestCategory::*;
    const CATEGORIES: &[(u32, RequestCategory)] = &[
        (40, Ids),
        (1, IdsTooMany),
        (1, IdsEmpty),
        (2, MissingRepository),
        (1, NameTooShort),
        (1, NameTooLong),
        (1, NameUpperCase),
        (1, NameBadSeparator),
        (1, NameNewPatternOnly),
        (1, RegistryMalformed),
        (2, RegistryOwn),
        (1, RegistryForeign),
        (1, MediaTypesEmpty),
        (2, TagInvalid),
        (1, ValidationBeforeLookup),
    ];
    super::weighted::weighted(CATEGORIES)
}

/// Id-list length ranges: mostly short lists, sometimes up to the limit. Each range starts at 1 so
/// that shrinking can take a long list down to one id.
fn list_len() -> impl Strategy<Value = std::ops::RangeInclusive<usize>> {
    const LENGTHS: &[(u32, std::ops::RangeInclusive<usize>)] = &[(8, 1..=6), (2, 1..=30), (1, 1..=IDS_MAX)];
    super::weighted::weighted(LENGTHS)
}

/// Requests against `state`, every category. Needs a state with at least one repository.
pub fn case(state: Arc<RegistryState>) -> BoxedStrategy<Case> {
    case_with(state, request_category().boxed())
}

/// Requests of one category against `state`: a run draws one of each first in every world, so
/// that every request-level rule is reached whatever the seed (each category is rare otherwise).
pub fn case_of(state: Arc<RegistryState>, category: RequestCategory) -> BoxedStrategy<Case> {
    case_with(state, Just(category).boxed())
}

fn case_with(state: Arc<RegistryState>, categories: BoxedStrategy<RequestCategory>) -> BoxedStrategy<Case> {
    let names: Vec<String> = state.repositories.keys().cloned().collect();
    if names.is_empty() {
        return Just(Case::new(
            RequestCategory::MissingRepository,
            BatchGetImageRequest {
                repository_name: "no-repository".into(),
                image_ids: vec![Default::default()],
                ..Default::default()
            },
            &[GeneratedId {
                category: IdCategory::Neither,
                id: Default::default(),
            }],
        ))
        .boxed();
    }
    (
        categories,
        any::<Index>(),
        list_len(),
        accepted_media_types(),
        0u64..1_000_000,
    )
        .prop_flat_map(move |(category, repo, len, media, salt)| {
            let name = repo.get(&names).clone();
            let state = state.clone();
            let len = match category {
                RequestCategory::IdsTooMany => IDS_MAX + 1..=IDS_MAX + 20,
                RequestCategory::IdsEmpty | RequestCategory::ValidationBeforeLookup => 0..=0,
                _ => len,
            };
            ids::id_list(state.clone(), name.clone(), len).prop_map(move |mut generated| {
                if category == RequestCategory::TagInvalid && !generated.is_empty() {
                    let at = (salt as usize) % generated.len();
                    // Empty (I-EMPTY, labelled so), just over the limit, or far over it (I-BAD-TAG).
                    let over = if salt.is_multiple_of(2) {
                        1
                    } else {
                        1 + (salt % 50) as usize
                    };
                    generated[at] = if salt % 3 == 1 {
                        GeneratedId {
                            category: IdCategory::Empty,
                            id: crate::wire::ImageIdentifier::tag(""),
                        }
                    } else {
                        GeneratedId {
                            category: IdCategory::TagTooLong,
                            id: crate::wire::ImageIdentifier::tag("x".repeat(crate::model::syntax::TAG_MAX + over)),
                        }
                    };
                }
                let mut request = BatchGetImageRequest {
                    registry_id: None,
                    repository_name: name.clone(),
                    image_ids: generated.iter().map(|g| g.id.clone()).collect(),
                    accepted_media_types: media.clone(),
                };
                shape_request(category, &mut request, &state, salt);
                Case::new(category, request, &generated)
            })
        })
        .boxed()
}

/// `name` then `suffix`, the name cut where both would not fit ECR's 256 characters: a name made
/// from a repository's at the limit stays of its category (missing, upper-case, valid only under
/// the newer pattern), not merely too long.
fn within_limit(name: &str, suffix: &str) -> String {
    let keep = crate::model::syntax::REPO_NAME_MAX.saturating_sub(suffix.chars().count());
    let mut base: String = name.chars().take(keep).collect();
    // Cut after a separator, the name would end in one (or, for a suffix that starts with one,
    // hold two in a row): the cut goes back to the last letter or digit.
    while base.ends_with(['-', '.', '_', '/']) {
        base.pop();
    }
    format!("{base}{suffix}")
}

/// Makes a request of the category out of an ordinary one.
fn shape_request(category: RequestCategory, request: &mut BatchGetImageRequest, state: &RegistryState, salt: u64) {
    use RequestCategory::*;
    let name = request.repository_name.clone();
    match category {
        Ids | IdsTooMany | IdsEmpty | TagInvalid => {}
        MissingRepository | ValidationBeforeLookup => {
            request.repository_name = within_limit(&name, &format!("-missing{salt}"))
        }
        NameTooShort => request.repository_name = "a".into(),
        NameTooLong => request.repository_name = format!("{name}/{}", "x".repeat(257)),
        NameUpperCase => request.repository_name = within_limit(&name, &format!("/Upper{salt}")),
        NameBadSeparator => {
            request.repository_name = match salt % 4 {
                0 => format!("-{name}"),
                1 => format!("{name}-"),
                2 => format!("{name}/"),
                _ => format!("{name}//x"),
            }
        }
        NameNewPatternOnly => {
            request.repository_name = if salt.is_multiple_of(2) {
                within_limit(&name, &format!("/a__b{salt}"))
            } else {
                within_limit(&name, &format!("/a--b{salt}"))
            }
        }
        RegistryMalformed => {
            request.registry_id = Some(match salt % 3 {
                0 => "12345".into(),
                1 => "1234567890123".into(),
                _ => "12345678901a".into(),
            })
        }
        RegistryOwn => request.registry_id = Some(state.registry_id.clone()),
        RegistryForeign => {
            let foreign = if state.registry_id == "999999999999" {
                "111111111111"
            } else {
                "999999999999"
            };
            request.registry_id = Some(foreign.into())
        }
        MediaTypesEmpty => request.accepted_media_types = Some(Vec::new()),
    }
}

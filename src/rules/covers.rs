//! What a gate rule's evidence covers (reference revision 3): the id shapes, stored types and
//! accepted lists that a document or a capture names. A deviation of a gate rule outside them is
//! judged at advisory level, where the reference accepts every plausible answer. The model sets
//! each id's levels from here and the judge bounds every deviation by it: the one place where
//! the gate meets the evidence.

use super::Level;
use crate::wire::media_type;
use serde::Serialize;
use std::fmt;

/// How a requested id names an image: the members it was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    Tag,
    Digest,
    Both,
    Neither,
}

/// The type of the manifest the id names (the image its tag or digest finds; the image a
/// well-formed digest names where the tag does not find one), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stored {
    DockerV2,
    Oci,
    DockerList,
    OciIndex,
    Schema1,
    /// A type the model knows nothing of (a case file's).
    Other,
    /// The id names no image of the repository.
    Absent,
}

impl Stored {
    pub fn of_media_type(t: &str) -> Stored {
        match t {
            media_type::DOCKER_V2 => Stored::DockerV2,
            media_type::OCI_MANIFEST => Stored::Oci,
            media_type::DOCKER_LIST => Stored::DockerList,
            media_type::OCI_INDEX => Stored::OciIndex,
            media_type::DOCKER_V1 | media_type::DOCKER_V1_SIGNED => Stored::Schema1,
            _ => Stored::Other,
        }
    }
}

/// The request's `acceptedMediaTypes` against the stored type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Accepted {
    /// No list: ECR's default.
    Omitted,
    /// A list that holds the stored type.
    WithStored,
    /// Only docker schema 1 types (the observed case of aws/containers-roadmap 1075), without
    /// the stored type.
    Schema1Only,
    /// Any other list without the stored type.
    Without,
}

impl Accepted {
    pub fn of(accepted: Option<&[String]>, stored_type: Option<&str>) -> Accepted {
        let Some(list) = accepted else {
            return Accepted::Omitted;
        };
        if stored_type.is_some_and(|s| list.iter().any(|t| t == s)) {
            return Accepted::WithStored;
        }
        let schema1 = |t: &String| t == media_type::DOCKER_V1 || t == media_type::DOCKER_V1_SIGNED;
        if !list.is_empty() && list.iter().all(schema1) {
            Accepted::Schema1Only
        } else {
            Accepted::Without
        }
    }
}

/// Where one id's answer is judged: its shape, what it names, what the request accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    pub shape: Shape,
    pub stored: Stored,
    pub accepted: Accepted,
}

/// One block of contexts a rule's evidence covers: every combination of these shapes, stored
/// types and accepted lists (an empty list: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub shapes: &'static [Shape],
    pub stored: &'static [Stored],
    pub accepted: &'static [Accepted],
}

impl Cell {
    fn holds(&self, c: &Context) -> bool {
        (self.shapes.is_empty() || self.shapes.contains(&c.shape))
            && (self.stored.is_empty() || self.stored.contains(&c.stored))
            && (self.accepted.is_empty() || self.accepted.contains(&c.accepted))
    }
}

/// What a rule's evidence covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers {
    /// A rule of the whole request, the wire or seeding: every request it applies to.
    Requests,
    /// A per-id rule gated in these contexts only.
    Ids(&'static [Cell]),
    /// A rule about an id's answer as a whole (its echo, whether it is answered): at the level
    /// its own rule has for it, so that an id whose answer the evidence leaves open decides no
    /// gate rule through them (I-ECHO, rev 3 F5).
    TheIdsOwn,
}

impl Covers {
    /// The level of a deviation of a rule of `level` about an id in `context`, whose own rule
    /// stands at `id_level` there: the rule's, or advisory outside its evidence.
    pub fn level(self, level: Level, context: &Context, id_level: Level) -> Level {
        let covered = match self {
            Covers::Requests => true,
            Covers::Ids(cells) => cells.iter().any(|cell| cell.holds(context)),
            Covers::TheIdsOwn => id_level == Level::Gate,
        };
        if covered { level } else { Level::Advisory }
    }
}

impl fmt::Display for Covers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn names<T: Serialize>(items: &[T], any: &str) -> String {
            if items.is_empty() {
                return any.to_string();
            }
            items
                .iter()
                .map(|x| {
                    serde_json::to_value(x)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(",")
        }
        match self {
            Covers::Requests => f.write_str("every request"),
            Covers::TheIdsOwn => f.write_str("as the id's own rule"),
            Covers::Ids(cells) => {
                let parts: Vec<String> = cells
                    .iter()
                    .map(|c| {
                        format!(
                            "{} / {} / {}",
                            names(c.shapes, "any shape"),
                            names(c.stored, "any stored"),
                            names(c.accepted, "any accepted")
                        )
                    })
                    .collect();
                f.write_str(&parts.join("; "))
            }
        }
    }
}

// The blocks the catalogue's rules use.
use Accepted::{Omitted, Schema1Only, WithStored};
use Shape::{Both, Digest, Neither, Tag};
use Stored::{DockerV2, Oci};

const ANY: &[Shape] = &[];
const IMAGE_MANIFESTS: &[Stored] = &[DockerV2, Oci];

/// The identity of an answer by tag: stored docker v2 or OCI without a list (M-DEFAULT's gate),
/// or any stored type the list accepts (M-ACCEPTED).
pub const BY_TAG: &[Cell] = &[
    Cell {
        shapes: &[Tag],
        stored: IMAGE_MANIFESTS,
        accepted: &[Omitted],
    },
    Cell {
        shapes: &[Tag],
        stored: &[],
        accepted: &[WithStored],
    },
];

/// The same for a tag with its digest: translations and unaccepted types are advisory (F3).
pub const BY_BOTH: &[Cell] = &[
    Cell {
        shapes: &[Both],
        stored: IMAGE_MANIFESTS,
        accepted: &[Omitted],
    },
    Cell {
        shapes: &[Both],
        stored: &[],
        accepted: &[WithStored],
    },
];

/// By digest: as by tag, and the observed case of M-BY-DIGEST (stored docker v2, only schema 1
/// accepted: the stored manifest).
pub const BY_DIGEST: &[Cell] = &[
    Cell {
        shapes: &[Digest],
        stored: IMAGE_MANIFESTS,
        accepted: &[Omitted],
    },
    Cell {
        shapes: &[Digest],
        stored: &[],
        accepted: &[WithStored],
    },
    Cell {
        shapes: &[Digest],
        stored: &[DockerV2],
        accepted: &[Schema1Only],
    },
];

pub const M_DEFAULT: &[Cell] = &[Cell {
    shapes: ANY,
    stored: IMAGE_MANIFESTS,
    accepted: &[Omitted],
}];

pub const M_ACCEPTED: &[Cell] = &[Cell {
    shapes: ANY,
    stored: &[],
    accepted: &[WithStored],
}];

pub const M_BY_DIGEST: &[Cell] = &[Cell {
    shapes: &[Digest],
    stored: &[DockerV2],
    accepted: &[Schema1Only],
}];

/// Every manifest but schema 1, which registries hash over its payload.
pub const HASHED: &[Cell] = &[Cell {
    shapes: ANY,
    stored: &[DockerV2, Oci, Stored::DockerList, Stored::OciIndex],
    accepted: &[],
}];

/// Ids that name something: a tag, a digest, or both.
pub const NAMING: &[Cell] = &[Cell {
    shapes: &[Tag, Digest, Both],
    stored: &[],
    accepted: &[],
}];

pub const WITH_TAG: &[Cell] = &[Cell {
    shapes: &[Tag, Both],
    stored: &[],
    accepted: &[],
}];

pub const BOTH: &[Cell] = &[Cell {
    shapes: &[Both],
    stored: &[],
    accepted: &[],
}];

pub const DIGEST_ONLY: &[Cell] = &[Cell {
    shapes: &[Digest],
    stored: &[],
    accepted: &[],
}];

pub const NEITHER: &[Cell] = &[Cell {
    shapes: &[Neither],
    stored: &[],
    accepted: &[],
}];

/// Any id.
pub const ANY_ID: &[Cell] = &[Cell {
    shapes: ANY,
    stored: &[],
    accepted: &[],
}];

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(shape: Shape, stored: Stored, accepted: Accepted) -> Context {
        Context {
            shape,
            stored,
            accepted,
        }
    }

    #[test]
    fn a_gate_rule_outside_its_cells_is_advisory() {
        let by_tag = Covers::Ids(BY_TAG);
        assert_eq!(
            by_tag.level(Level::Gate, &ctx(Tag, DockerV2, Omitted), Level::Gate),
            Level::Gate
        );
        assert_eq!(
            by_tag.level(Level::Gate, &ctx(Tag, Stored::DockerList, WithStored), Level::Gate),
            Level::Gate
        );
        // A translation (F1, F2) and a list without a list type asked (F4) are open.
        for open in [
            ctx(Tag, DockerV2, Schema1Only),
            ctx(Tag, Oci, Accepted::Without),
            ctx(Tag, Stored::DockerList, Omitted),
        ] {
            assert_eq!(
                by_tag.level(Level::Gate, &open, Level::Gate),
                Level::Advisory,
                "{open:?}"
            );
        }
        // M-BY-DIGEST: the observed case only (F3).
        let by_digest = Covers::Ids(M_BY_DIGEST);
        assert_eq!(
            by_digest.level(Level::Gate, &ctx(Digest, DockerV2, Schema1Only), Level::Gate),
            Level::Gate
        );
        for open in [ctx(Both, DockerV2, Schema1Only), ctx(Digest, Oci, Accepted::Without)] {
            assert_eq!(by_digest.level(Level::Gate, &open, Level::Gate), Level::Advisory);
        }
    }

    #[test]
    fn a_rule_of_the_ids_own_follows_the_id_and_a_request_rule_every_request() {
        let any = ctx(Tag, DockerV2, Omitted);
        assert_eq!(
            Covers::TheIdsOwn.level(Level::Gate, &any, Level::Advisory),
            Level::Advisory
        );
        assert_eq!(Covers::TheIdsOwn.level(Level::Gate, &any, Level::Gate), Level::Gate);
        assert_eq!(Covers::Requests.level(Level::Gate, &any, Level::Advisory), Level::Gate);
        // Never raised.
        assert_eq!(
            Covers::Requests.level(Level::Advisory, &any, Level::Gate),
            Level::Advisory
        );
    }

    #[test]
    fn the_accepted_list_is_read_against_the_stored_type() {
        let v1 = media_type::DOCKER_V1.to_string();
        let v2 = media_type::DOCKER_V2.to_string();
        assert_eq!(Accepted::of(None, Some(&v2)), Omitted);
        assert_eq!(Accepted::of(Some(&[v1.clone(), v2.clone()]), Some(&v2)), WithStored);
        assert_eq!(Accepted::of(Some(std::slice::from_ref(&v1)), Some(&v2)), Schema1Only);
        assert_eq!(
            Accepted::of(Some(&[media_type::OCI_MANIFEST.to_string()]), Some(&v2)),
            Accepted::Without
        );
    }

    #[test]
    fn coverage_prints_its_cells() {
        assert_eq!(
            Covers::Ids(M_BY_DIGEST).to_string(),
            "digest / docker-v2 / schema1-only"
        );
        assert_eq!(Covers::Ids(ANY_ID).to_string(), "any shape / any stored / any accepted");
    }
}

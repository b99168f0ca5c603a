//! Image-id lists against a given state, by category: the valid ways to name an image, the ways to
//! name nothing, and the near misses that catch sloppy matching.

use crate::model::RegistryState;
use crate::wire::ImageIdentifier;
use proptest::prelude::*;
use proptest::sample::Index;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

named_enum! {
    /// What kind of id a generated one is. Kept with the id so that coverage can be measured and a
    /// deviation can say what kind of request found it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum IdCategory {
        ExistingTag => "existing-tag",
        ExistingDigest => "existing-digest",
        BothMatching => "both-matching",
        Mismatched => "mismatched",
        MissingTag => "missing-tag",
        MissingDigest => "missing-digest",
        MissingTagExistingDigest => "missing-tag-existing-digest",
        Neither => "neither",
        MalformedDigest => "malformed-digest",
        MalformedDigestWithTag => "malformed-digest-with-tag",
        TagTooLong => "tag-too-long",
        Duplicate => "duplicate",
        OtherRepoTag => "other-repo-tag",
        OtherRepoDigest => "other-repo-digest",
        TagCaseVariant => "tag-case-variant",
        DigestPrefix => "digest-prefix",
        DigestOneHexChanged => "digest-one-hex-changed",
        DigestUpperHex => "digest-upper-hex",
        /// Another tag of the image an earlier id names (I-SAME-DIGEST-TAGS).
        SiblingTag => "sibling-tag",
        /// An empty `imageDigest` (alone or beside a tag) or an empty `imageTag` (I-EMPTY): an unknown
        /// case, kept apart from the malformed digests so that it never decides a gate rule. Id lists
        /// draw empty digests; an empty tag is `RequestCategory::TagInvalid`'s.
        Empty => "empty",
        /// A tag of valid length with a character outside `[a-zA-Z0-9-_.]` (I-TAG-CHARSET).
        TagCharset => "tag-charset",
    }
}

/// A generated id and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedId {
    pub category: IdCategory,
    pub id: ImageIdentifier,
}

/// What a repository holds, and what only the others hold, for choosing ids.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// (tag, digest) of the target repository, in push order.
    pub tags: Vec<(String, String)>,
    pub digests: Vec<String>,
    /// Tags and digests found in other repositories and not in the target.
    pub foreign_tags: Vec<String>,
    pub foreign_digests: Vec<String>,
    /// Tags and digests the endpoint may hold here though the model cannot say for which image.
    pub unpredictable: std::collections::BTreeSet<String>,
}

impl Catalogue {
    pub fn new(state: &RegistryState, repository: &str) -> Self {
        let mut c = Catalogue::default();
        if let Some(r) = state.repository(repository) {
            c.unpredictable = r.unpredictable.clone();
            for image in &r.images {
                c.digests.push(image.digest.clone());
                c.tags
                    .extend(image.tags.iter().map(|t| (t.clone(), image.digest.clone())));
            }
        }
        for (name, other) in &state.repositories {
            if name == repository {
                continue;
            }
            for image in &other.images {
                if !c.digests.contains(&image.digest)
                    && !c.foreign_digests.contains(&image.digest)
                    && !c.unpredictable.contains(&image.digest)
                {
                    c.foreign_digests.push(image.digest.clone());
                }
                for t in &image.tags {
                    if !c.tags.iter().any(|(x, _)| x == t)
                        && !c.foreign_tags.contains(t)
                        && !c.unpredictable.contains(t)
                    {
                        c.foreign_tags.push(t.clone());
                    }
                }
            }
        }
        c
    }

    /// Whether the tag is in use here: one of the repository's, or one it may hold unpredictably.
    fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|(t, _)| t == tag) || self.unpredictable.contains(tag)
    }
}

/// The random choices behind one id; [`realise`] turns them into an id against a catalogue.
#[derive(Debug, Clone)]
pub struct IdPicks {
    pub category: IdCategory,
    pub first: Index,
    pub second: Index,
    pub fresh_tag: String,
    pub fresh_hex: [u8; 32],
}

/// Digests that are not well formed. The empty digest is not one of them: it is I-EMPTY, whose
/// answer the reference does not know ([`IdCategory::Empty`]).
const MALFORMED_DIGESTS: [&str; 8] = [
    "sha256",
    "sha256:",
    ":0123abcd",
    "sha256:xyz",
    "sha256@0123abcd",
    "sha256:0123:abcd",
    "sha 256:0123abcd",
    "latest",
];

/// Characters outside a tag's `[a-zA-Z0-9-_.]` that users and tools do write: a build's `+`, a
/// reference's `:` and `@`, a path's `/`, a space, and a letter outside ASCII.
const TAG_CHARSET_BREAKERS: [char; 6] = ['+', ':', '@', '/', ' ', 'é'];

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The category chosen when the wanted one cannot be made against this catalogue (no tags, say).
fn fallback(category: IdCategory) -> Option<IdCategory> {
    use IdCategory::*;
    match category {
        ExistingTag | TagCaseVariant | OtherRepoTag | BothMatching | Mismatched => Some(MissingTag),
        ExistingDigest | OtherRepoDigest | DigestPrefix | DigestOneHexChanged | DigestUpperHex => Some(MissingDigest),
        MissingTagExistingDigest => Some(MissingTag),
        Duplicate | SiblingTag => Some(ExistingTag),
        _ => None,
    }
}

/// Turns picks into an id of the category, or of its fallback when the catalogue cannot give one.
/// `earlier` are the ids already in the list (for duplicates).
pub fn realise(picks: &IdPicks, catalogue: &Catalogue, earlier: &[GeneratedId]) -> GeneratedId {
    let mut category = picks.category;
    loop {
        if let Some(id) = try_realise(category, picks, catalogue, earlier) {
            return GeneratedId { category, id };
        }
        match fallback(category) {
            Some(next) => category = next,
            // MissingTag and the categories without a fallback always succeed; this is a guard.
            None => {
                return GeneratedId {
                    category: IdCategory::Neither,
                    id: ImageIdentifier::neither(),
                };
            }
        }
    }
}

fn try_realise(category: IdCategory, p: &IdPicks, c: &Catalogue, earlier: &[GeneratedId]) -> Option<ImageIdentifier> {
    use IdCategory::*;
    let pick_tag = || (!c.tags.is_empty()).then(|| p.first.get(&c.tags).clone());
    let pick_digest = || (!c.digests.is_empty()).then(|| p.first.get(&c.digests).clone());
    let missing_tag = || {
        let mut t = p.fresh_tag.clone();
        while c.has_tag(&t) {
            t.push_str("-missing");
        }
        t
    };
    let missing_digest = || format!("sha256:{}", hex(&p.fresh_hex));
    Some(match category {
        ExistingTag => ImageIdentifier::tag(pick_tag()?.0),
        ExistingDigest => ImageIdentifier::digest(pick_digest()?),
        BothMatching => {
            let (t, d) = pick_tag()?;
            ImageIdentifier::both(t, d)
        }
        Mismatched => {
            let (t, d) = pick_tag()?;
            let others: Vec<&String> = c.digests.iter().filter(|x| **x != d).collect();
            let other = if others.is_empty() {
                missing_digest()
            } else {
                p.second.get(&others).to_string()
            };
            ImageIdentifier::both(t, other)
        }
        MissingTag => ImageIdentifier::tag(missing_tag()),
        MissingDigest => ImageIdentifier::digest(missing_digest()),
        MissingTagExistingDigest => {
            // The tag is new here, or, as often, a near miss: a tag of this repository in another
            // case, or another repository's tag (I-TAG-CASE and I-SCOPE with a digest beside them).
            let digest = pick_digest()?;
            let case_variant = pick_tag().and_then(|(t, _)| {
                [flip_all(&t), flip_first_letter(&t)]
                    .into_iter()
                    .find(|v| *v != t && !c.has_tag(v))
            });
            let foreign = (!c.foreign_tags.is_empty()).then(|| p.second.get(&c.foreign_tags).clone());
            let tag = match p.fresh_hex[1] % 4 {
                0 => case_variant,
                1 => foreign,
                _ => None,
            };
            ImageIdentifier::both(tag.unwrap_or_else(missing_tag), digest)
        }
        Neither => ImageIdentifier::neither(),
        MalformedDigest => ImageIdentifier::digest(*p.second.get(&MALFORMED_DIGESTS)),
        MalformedDigestWithTag => {
            // With a tag the repository holds or one it does not: an endpoint that looks the tag
            // up before it checks the digest answers the two differently.
            let t = match pick_tag() {
                Some((t, _)) if p.fresh_hex[0].is_multiple_of(2) => t,
                _ => missing_tag(),
            };
            ImageIdentifier::both(t, *p.second.get(&MALFORMED_DIGESTS))
        }
        TagTooLong => ImageIdentifier::tag(format!("{}{}", p.fresh_tag, "x".repeat(301))),
        Duplicate => {
            if earlier.is_empty() {
                return None;
            }
            p.first.get(earlier).id.clone()
        }
        OtherRepoTag => {
            if c.foreign_tags.is_empty() {
                return None;
            }
            ImageIdentifier::tag(p.first.get(&c.foreign_tags).clone())
        }
        OtherRepoDigest => {
            if c.foreign_digests.is_empty() {
                return None;
            }
            ImageIdentifier::digest(p.first.get(&c.foreign_digests).clone())
        }
        TagCaseVariant => {
            // Flip the case of one tag's letters so that the result is not itself a tag here.
            let (t, _) = pick_tag()?;
            [flip_all(&t), flip_first_letter(&t)]
                .into_iter()
                .find(|v| *v != t && !c.has_tag(v))
                .map(ImageIdentifier::tag)?
        }
        DigestPrefix => {
            let d = pick_digest()?;
            let keep = 7 + 1 + p.second.index(62);
            ImageIdentifier::digest(d[..keep.min(d.len() - 1)].to_string())
        }
        DigestOneHexChanged => {
            let d = pick_digest()?;
            let mut bytes = d.into_bytes();
            let at = 7 + p.second.index(bytes.len() - 7);
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            ImageIdentifier::digest(String::from_utf8(bytes).ok()?)
        }
        SiblingTag => {
            // The digests that earlier ids name, by tag or digest, whose image has other tags.
            let named: Vec<&String> = earlier
                .iter()
                .filter_map(|g| {
                    g.id.image_digest.as_ref().or_else(|| {
                        let t = g.id.image_tag.as_ref()?;
                        c.tags.iter().find(|(x, _)| x == t).map(|(_, d)| d)
                    })
                })
                .collect();
            let siblings: Vec<&String> = c
                .tags
                .iter()
                .filter(|(t, d)| named.contains(&d) && !earlier.iter().any(|g| g.id.image_tag.as_ref() == Some(t)))
                .map(|(t, _)| t)
                .collect();
            if siblings.is_empty() {
                return None;
            }
            ImageIdentifier::tag(p.second.get(&siblings).to_string())
        }
        Empty => {
            // An empty digest, alone or beside a tag. An empty tag refuses the whole request (the
            // length constraint): it comes in the request category made for that
            // (`RequestCategory::TagInvalid`), never beside another request-level refusal.
            if p.fresh_hex[2].is_multiple_of(3) {
                ImageIdentifier::both(pick_tag().map_or_else(missing_tag, |(t, _)| t), "")
            } else {
                ImageIdentifier::digest("")
            }
        }
        TagCharset => {
            // A tag of the repository (or a fresh one) with one character it cannot hold, so that
            // a lookup that drops or ignores the character finds an image. One character short of
            // the length limit at most: the length is I-BAD-TAG's, not this category's.
            let base: String = match pick_tag() {
                Some((t, _)) if p.fresh_hex[3].is_multiple_of(2) => t,
                _ => p.fresh_tag.clone(),
            }
            .chars()
            .take(crate::model::syntax::TAG_MAX - 1)
            .collect();
            let breaker = TAG_CHARSET_BREAKERS[p.second.index(TAG_CHARSET_BREAKERS.len())];
            let at = usize::from(p.fresh_hex[4]) % (base.chars().count() + 1);
            let mut tag: String = base.chars().take(at).collect();
            tag.push(breaker);
            tag.extend(base.chars().skip(at));
            ImageIdentifier::tag(tag)
        }
        DigestUpperHex => {
            let d = pick_digest()?;
            let upper = format!("sha256:{}", d.trim_start_matches("sha256:").to_ascii_uppercase());
            if upper == d {
                return None;
            }
            ImageIdentifier::digest(upper)
        }
    })
}

fn flip_all(t: &str) -> String {
    t.chars()
        .map(|ch| {
            if ch.is_ascii_lowercase() {
                ch.to_ascii_uppercase()
            } else {
                ch.to_ascii_lowercase()
            }
        })
        .collect()
}

fn flip_first_letter(t: &str) -> String {
    let mut done = false;
    t.chars()
        .map(|ch| {
            if !done && ch.is_ascii_alphabetic() {
                done = true;
                if ch.is_ascii_lowercase() {
                    ch.to_ascii_uppercase()
                } else {
                    ch.to_ascii_lowercase()
                }
            } else {
                ch
            }
        })
        .collect()
}

/// The category distribution: valid ids most often, every other kind regularly. The first one
/// listed is where shrinking goes.
pub fn category() -> impl Strategy<Value = IdCategory> {
    use IdCategory::*;
    const CATEGORIES: &[(u32, IdCategory)] = &[
        (6, ExistingTag),
        (4, ExistingDigest),
        (3, BothMatching),
        (2, Mismatched),
        (2, MissingTag),
        (2, MissingDigest),
        (2, MissingTagExistingDigest),
        (1, Neither),
        (1, MalformedDigest),
        (1, MalformedDigestWithTag),
        (1, Duplicate),
        (2, OtherRepoTag),
        (2, OtherRepoDigest),
        (2, TagCaseVariant),
        (1, DigestPrefix),
        (1, DigestOneHexChanged),
        (1, DigestUpperHex),
        (3, SiblingTag),
        (1, Empty),
        (1, TagCharset),
    ];
    super::weighted::weighted(CATEGORIES)
}

/// A tag no image has: the pattern compiled once (a `&str` strategy compiles it for every value
/// it draws), its values those of the pattern as a `&str`.
fn fresh_tag() -> &'static proptest::string::RegexGeneratorStrategy<String> {
    static FRESH_TAG: std::sync::LazyLock<proptest::string::RegexGeneratorStrategy<String>> =
        std::sync::LazyLock::new(|| {
            proptest::string::string_regex("[a-z][a-z0-9]{0,7}").expect("a fixed pattern that compiles")
        });
    &FRESH_TAG
}

pub fn picks(category: impl Strategy<Value = IdCategory>) -> impl Strategy<Value = IdPicks> {
    (category, any::<Index>(), any::<Index>(), fresh_tag(), any::<[u8; 32]>()).prop_map(
        |(category, first, second, fresh_tag, fresh_hex)| IdPicks {
            category,
            first,
            second,
            fresh_tag,
            fresh_hex,
        },
    )
}

/// A list of `len` ids against `repository` of `state`.
pub fn id_list(
    state: Arc<RegistryState>,
    repository: String,
    len: std::ops::RangeInclusive<usize>,
) -> BoxedStrategy<Vec<GeneratedId>> {
    id_list_of(state, repository, len, category().boxed())
}

/// Like [`id_list`], with the categories drawn from `categories`.
pub fn id_list_of(
    state: Arc<RegistryState>,
    repository: String,
    len: std::ops::RangeInclusive<usize>,
    categories: BoxedStrategy<IdCategory>,
) -> BoxedStrategy<Vec<GeneratedId>> {
    let catalogue = Arc::new(Catalogue::new(&state, &repository));
    proptest::collection::vec(picks(categories), len)
        .prop_map(move |all| {
            let mut out: Vec<GeneratedId> = Vec::with_capacity(all.len());
            for p in &all {
                let id = realise(p, &catalogue, &out);
                out.push(id);
            }
            out
        })
        .boxed()
}

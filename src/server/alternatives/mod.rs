//! The answers the reference allows beside the model's first choice, each switchable: where the
//! reference accepts several answers (R-REGISTRY-FOREIGN, I-BAD-TAG, ...), or ranks a difference
//! only advisory (I-DUP-ONCE, M-TYPE-FIELD, W-CT, ...). A server that differs from the model only
//! in these must pass the gate: that is the soundness proof of the comparer, and the
//! `advisory-mix` variant draws a combination of them per seed.
//!
//! Every alternative is a function of the repository name, the request's ids as a set (with their
//! multiplicities) and `acceptedMediaTypes`, never of the ids' order, so that sending a request
//! again, or its ids in another order, gives the same multiset of answers (P-IDEMPOTENT,
//! P-PERMUTE). None touches seeding, `ListImages` or `DescribeImages`.

use super::{Reply, translate, variants};
use crate::model::batch_get_image::REASON_BAD_TAG;
use crate::model::syntax::{self, RepoNameValidity};
use crate::model::{Expected, ExpectedAnswers, ExpectedError, ExpectedManifest, MessageExpectation, Outcome};
use crate::model::{IdExpectation, ImageRecord, RegistryState};
use crate::rules::id;
use crate::wire::{BatchGetImageRequest, ImageFailureCode, ImageIdentifier};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Declares the alternatives once, each with its name, the reference's rule that allows it
/// (revision 2 ids, some not yet in the catalogue) and what it changes; the order is the bits'.
macro_rules! alternatives {
    ($($alternative:ident => ($name:literal, $rule:literal, $description:literal),)*) => {
        /// One answer the reference allows beside the model's.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Alternative {
            $($alternative,)*
        }

        impl Alternative {
            /// Every alternative; its index here is its bit in [`Alternatives`] and in the hash
            /// that `advisory-mix` draws from.
            pub const ALL: [Alternative; [$(stringify!($alternative)),*].len()] =
                [$(Alternative::$alternative),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Alternative::$alternative => $name,)*
                }
            }

            /// The reference's rule that allows it.
            pub fn rule(self) -> &'static str {
                match self {
                    $(Alternative::$alternative => $rule,)*
                }
            }

            /// What it changes, in a line.
            pub fn description(self) -> &'static str {
                match self {
                    $(Alternative::$alternative => $description,)*
                }
            }
        }
    };
}

alternatives! {
    DupEach => ("dup-each", "I-DUP-ONCE", "an identical id repeated in one request is answered at each repetition"),
    DigestOneEntry => ("digest-one-entry", "I-DIGEST-TAGS", "{imageDigest} of a tagged image answers one entry, with its lexicographically smallest tag"),
    DigestUntaggedEntry => ("digest-untagged-entry", "I-DIGEST-TAGS", "{imageDigest} of a tagged image answers one entry without a tag (wins over digest-one-entry)"),
    Schema1OtherBody => ("schema1-other-body", "M-TRANSLATE", "a schema 1 translation is written otherwise: 3-space indent, other key order, history, signatures"),
    NoTranslation => ("no-translation", "M-TRANSLATE*", "where the model translates (schema 1, OCI, docker v2), the stored manifest and type (wins over other-translation and schema1-other-body)"),
    OtherTranslation => ("other-translation", "M-TRANSLATE-OCI", "where a rule accepts a second manifest (schema 1 beside OCI for stored docker v2 with v1 and OCI accepted; schema 1 for stored OCI with only v1 accepted), that one"),
    NoMediaTypeField => ("no-media-type-field", "M-TYPE-FIELD", "images carry no imageManifestMediaType"),
    OtherTexts => ("other-texts", "(texts)", "every failureReason and error message in other words (a parameter the model looks for is kept)"),
    TypeForms => ("type-forms", "W-ERR-TYPE", "__type as ns#Name:uri, Name:uri or ns#Name (by repository and type)"),
    ExtraMembers => ("extra-members", "(section 1)", "members clients do not know (as the extra-members variant)"),
    ReversedOrder => ("reversed-order", "(section 1)", "images and failures in reverse order (as the reversed-order variant)"),
    PrettyJson => ("pretty-json", "(section 1)", "pretty-printed JSON, keys in another order (as pretty-json-reordered-keys)"),
    CapitalisedMessage => ("capitalised-message", "W-ERR-TYPE", "the error message as Message, beside or instead of message (by repository)"),
    JsonContentType => ("json-content-type", "W-CT", "Content-Type: application/json"),
    FailuresOmittedWhenEmpty => ("failures-omitted-when-empty", "W-BOTH-LISTS", "a 200 body without failures when there are none"),
    ForeignNotFound => ("foreign-not-found", "R-REGISTRY-FOREIGN", "a foreign registryId is RepositoryNotFoundException (the model's first choice is AccessDeniedException)"),
    NewNameRefused => ("new-name-refused", "R-REPO-NAME-NEW-ONLY", "a missing repository named only under the newer pattern (a__b, a--b) is InvalidParameterException naming repositoryName"),
    LongTagPerId => ("long-tag-per-id", "I-BAD-TAG", "a tag over 300 characters is a per-id InvalidImageTag failure; the other ids are answered"),
    EmptyMediaListAccepted => ("empty-media-list-accepted", "R-MEDIA-EMPTY", "acceptedMediaTypes: [] is answered as if omitted"),
    LookupFirst => ("lookup-first", "R-ORDER", "invalid parameters and a missing repository (R-ORDER) are RepositoryNotFoundException"),
    SameImageOnce => ("same-image-once", "I-SAME-DIGEST-TAGS", "tag-only ids naming one image are answered by one entry, with the smallest of their tags"),
    // Revision 3: the answers the evidence leaves open (F1 to F10).
    TranslatedDigest => ("translated-digest", "M-TRANSLATE*", "a translated manifest comes under the digest of its own bytes, not the stored image's (F1)"),
    RefuseUnaccepted => ("refuse-unaccepted", "M-UNACCEPTABLE", "an image whose stored type the list does not accept, where no gate rule decides the manifest, is ImageNotFound (F2, F3)"),
    TranslateByDigest => ("translate-by-digest", "M-BY-DIGEST", "by digest, or by tag and digest, outside the observed case: the translation a lookup by tag gives (F3; no-translation wins)"),
    ListChild => ("list-child", "M-UNACCEPTABLE", "a list asked by tag without list types: its first child, under the child's digest or the list's (by repository) (F4)"),
    EchoDigestOnly => ("echo-digest-only", "I-ECHO", "a failure for a tag with an open digest (malformed: the digest alone; empty: the tag alone) echoes one member (F5)"),
    DigestCaseInsensitive => ("digest-case-insensitive", "I-DIGEST-CASE", "a digest in upper-case hex finds the image it names in lower case (F6)"),
    ImageOnce => ("image-once", "I-SAME-DIGEST-TAGS", "ids naming one image (tags, its digest, a tag with its digest) are answered by one entry (F7)"),
    StrictDigestForm => ("strict-digest-form", "I-NOT-FOUND", "a digest other than sha256: and 64 lower-case hex digits is InvalidImageDigest (F6, F8)"),
    Schema1SignedAfresh => ("schema1-signed-afresh", "P-IDEMPOTENT", "a schema 1 translation is signed afresh each time a request is sent again (F9)"),
    UnknownFailureCode => ("unknown-failure-code", "X-OUTSIDE", "an eighth of the ImageNotFound failures (by repository and id) carry a code this build does not know (F10)"),
}

impl Alternative {
    fn bit(self) -> u32 {
        // ALL is in declaration order, so the discriminant is the index (a test checks it).
        1 << (self as u32)
    }

    pub fn parse(name: &str) -> Option<Alternative> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A set of alternatives; empty is the reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Alternatives(u32);

impl Alternatives {
    pub const NONE: Alternatives = Alternatives(0);

    pub fn only(a: Alternative) -> Self {
        Alternatives(a.bit())
    }

    pub fn with(self, a: Alternative) -> Self {
        Alternatives(self.0 | a.bit())
    }

    pub fn union(self, other: Alternatives) -> Self {
        Alternatives(self.0 | other.0)
    }

    pub fn contains(self, a: Alternative) -> bool {
        self.0 & a.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Alternative> {
        Alternative::ALL.into_iter().filter(move |a| self.contains(*a))
    }

    /// `NAME,NAME,...` (empty: none).
    pub fn from_list(list: &str) -> Result<Self, UnknownAlternative> {
        let mut out = Alternatives::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match Alternative::parse(name) {
                Some(a) => out = out.with(a),
                None => return Err(UnknownAlternative { name: name.to_string() }),
            }
        }
        Ok(out)
    }

    /// The combination `advisory-mix` serves to a repository: each alternative on with
    /// probability 1/2, drawn from the SHA-256 of the run's prefix (`ecrc-XXXXXXXX`, the first 13
    /// characters, derived from the seed), else of the whole name. The server never sees the seed;
    /// every repository a run creates starts with its prefix, so one run sees one combination and
    /// another seed another.
    pub fn drawn_for(repository_name: &str) -> Self {
        let key = match repository_name.get(..13) {
            Some(prefix) if repository_name.starts_with("ecrc-") => prefix,
            _ => repository_name,
        };
        let hash = Sha256::digest(key.as_bytes());
        let bits = u32::from_le_bytes([hash[0], hash[1], hash[2], hash[3]]);
        let all = Alternative::ALL.iter().fold(0, |acc, a| acc | a.bit());
        Alternatives(bits & all)
    }
}

/// A name in an alternatives list that names none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown alternative {name:?}; one of: {}", Alternative::ALL.map(Alternative::name).join(", "))]
pub struct UnknownAlternative {
    pub name: String,
}

impl std::str::FromStr for Alternatives {
    type Err = UnknownAlternative;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Alternatives::from_list(list)
    }
}

impl fmt::Display for Alternatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Alternative::name).collect();
        f.write_str(&names.join(","))
    }
}

/// What the model is asked instead of the request, and what to undo in its answer.
pub(super) struct Prepared {
    pub(super) request: BatchGetImageRequest,
    /// long-tag-per-id: stand-in ids for the ids whose tag is too long, and the ids they stand for.
    stand_ins: BTreeMap<ImageIdentifier, ImageIdentifier>,
}

/// Rewrites the request before the model answers it: `acceptedMediaTypes: []` dropped
/// (empty-media-list-accepted), and tags over 300 characters replaced by stand-ins that no
/// repository holds (long-tag-per-id), so that the model answers the rest of the request and each
/// stand-in's answer can be replaced by the id's own failure.
pub(super) fn prepare(alts: Alternatives, request: &BatchGetImageRequest) -> Prepared {
    let mut request = request.clone();
    if alts.contains(Alternative::EmptyMediaListAccepted)
        && request.accepted_media_types.as_ref().is_some_and(Vec::is_empty)
    {
        request.accepted_media_types = None;
    }
    let mut stand_ins = BTreeMap::new();
    if alts.contains(Alternative::LongTagPerId) {
        // One stand-in per distinct long tag, numbered in sorted order so that the ids' order
        // cannot matter; a control character keeps it from naming any pushed tag.
        let long: BTreeSet<String> = request
            .image_ids
            .iter()
            .filter_map(|i| i.image_tag.clone())
            .filter(|t| t.chars().count() > syntax::TAG_MAX)
            .collect();
        let names: BTreeMap<String, String> = long
            .into_iter()
            .enumerate()
            .map(|(n, t)| (t, format!("\u{1}long-tag-{n}")))
            .collect();
        for i in &mut request.image_ids {
            if let Some(stand_in) = i.image_tag.as_ref().and_then(|t| names.get(t)) {
                let original = i.clone();
                i.image_tag = Some(stand_in.clone());
                stand_ins.insert(i.clone(), original);
            }
        }
    }
    Prepared { request, stand_ins }
}

/// Changes the model's expectation into the alternative answer before it is rendered.
/// `request` is the request as sent.
pub(super) fn adjust_expected(
    alts: Alternatives,
    state: &RegistryState,
    request: &BatchGetImageRequest,
    prepared: &Prepared,
    expected: &mut Expected,
) {
    if alts.is_empty() {
        return;
    }
    match expected {
        Expected::Error(e) => adjust_error(alts, state, request, e),
        Expected::Answers(a) => adjust_answers(alts, prepared, a),
    }
}

fn repository_not_found_text(name: &str, registry: &str) -> String {
    format!("The repository with name '{name}' does not exist in the registry with id '{registry}'")
}

fn adjust_error(alts: Alternatives, state: &RegistryState, request: &BatchGetImageRequest, e: &mut ExpectedError) {
    let name = request.repository_name.as_str();
    let registry = request
        .registry_id
        .as_deref()
        .filter(|r| syntax::is_registry_id(r))
        .unwrap_or(&state.registry_id);
    if alts.contains(Alternative::LookupFirst) && e.rule == id::R_ORDER {
        // The repository is looked up before the parameters are validated.
        e.error_types = vec!["RepositoryNotFoundException"];
        e.message = MessageExpectation::Exact(repository_not_found_text(name, registry));
    } else if alts.contains(Alternative::NewNameRefused)
        && e.rule == id::R_REPO_NAME_NEW_ONLY
        && syntax::repo_name_validity(name) == RepoNameValidity::NewPatternOnly
    {
        // The name is checked against the older pattern, as server messages still quote it.
        e.error_types = vec!["InvalidParameterException"];
        e.message = MessageExpectation::Mentions {
            parameter: "repositoryName".into(),
            text: "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''".into(),
        };
    } else if alts.contains(Alternative::ForeignNotFound)
        && e.rule == id::R_REGISTRY_FOREIGN
        && let Some(other) = e.error_types.get(1).copied()
    {
        // The accepted type the model does not answer first.
        let text = match other {
            "RepositoryNotFoundException" => repository_not_found_text(name, registry),
            "AccessDeniedException" => format!(
                "User is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:{registry}:repository/{name}"
            ),
            _ => e.message.reference_text().to_string(),
        };
        e.error_types = vec![other];
        e.message = match &e.message {
            MessageExpectation::Mentions { parameter, .. } => MessageExpectation::Mentions {
                parameter: parameter.clone(),
                text,
            },
            MessageExpectation::Exact(_) | MessageExpectation::AnyOf(_) => MessageExpectation::Exact(text),
        };
    }
    if alts.contains(Alternative::OtherTexts) {
        let error_type = e.error_types.first().copied().unwrap_or("ServerException");
        e.message = match &e.message {
            MessageExpectation::Exact(_) | MessageExpectation::AnyOf(_) => {
                MessageExpectation::Exact(other_message(error_type, None, name, registry))
            }
            MessageExpectation::Mentions { parameter, .. } => MessageExpectation::Mentions {
                parameter: parameter.clone(),
                text: other_message(error_type, Some(parameter), name, registry),
            },
        };
    }
}

/// An error message in other words than ECR's; it names `parameter` when the model looks for it.
fn other_message(error_type: &str, parameter: Option<&str>, name: &str, registry: &str) -> String {
    let text = match (error_type, parameter) {
        ("InvalidParameterException", Some(p)) => {
            format!("1 validation error detected: Value at '{p}' failed to satisfy constraint")
        }
        ("InvalidParameterException", None) => "1 validation error detected".to_string(),
        ("RepositoryNotFoundException", _) => format!("Repository {name} not found in registry {registry}"),
        ("AccessDeniedException", _) => format!("Access to registry {registry} is denied"),
        (other, _) => format!("{other}: the request was refused"),
    };
    match parameter {
        Some(p) if !text.contains(p) => format!("{text} ({p})"),
        _ => text,
    }
}

/// A failure reason in other words than ECR's, the same for every id with that code (a repeated
/// id must get the same answer each time, I-DUP-CONSISTENT).
fn other_reason(code: &ImageFailureCode) -> String {
    match code {
        ImageFailureCode::ImageNotFound => "Image not found".into(),
        ImageFailureCode::ImageTagDoesNotMatchDigest => "The tag does not point at the given digest".into(),
        ImageFailureCode::MissingDigestAndTag => "An image id needs a tag or a digest".into(),
        ImageFailureCode::InvalidImageDigest => "The digest is not a valid digest".into(),
        ImageFailureCode::InvalidImageTag => "The tag is not a valid tag".into(),
        other => format!("Failed: {other}"),
    }
}

fn adjust_answers(alts: Alternatives, prepared: &Prepared, a: &mut ExpectedAnswers) {
    // long-tag-per-id: each stand-in becomes its id again, answered by InvalidImageTag.
    for e in &mut a.ids {
        if let Some(original) = prepared.stand_ins.get(&e.id) {
            e.id = original.clone();
            e.rule = id::I_BAD_TAG;
            e.outcome = Outcome::failure(ImageFailureCode::InvalidImageTag, REASON_BAD_TAG);
        }
    }
    // The ids that name one image, as the variant left them and before any alternative changes
    // what answers them (a list's child, a translation under its own digest): the groups the
    // judge reads an answer of one entry per image by.
    let named: Named = a
        .ids
        .iter()
        .filter_map(|e| Some((e.id.clone(), e.named_digest()?.to_string())))
        .collect();
    translate_manifests(alts, a);
    open::images(alts, a, &named);
    if alts.contains(Alternative::DigestUntaggedEntry) || alts.contains(Alternative::DigestOneEntry) {
        let untagged = alts.contains(Alternative::DigestUntaggedEntry);
        for e in &mut a.ids {
            if let Outcome::ImagesByDigest { images } = &mut e.outcome
                && images.iter().any(|x| x.image_id.image_tag.is_some())
            {
                // The entry of the smallest tag: a choice that no order of the ids can change.
                images.sort_by(|x, y| x.image_id.image_tag.cmp(&y.image_id.image_tag));
                images.truncate(1);
                if untagged {
                    for x in images.iter_mut() {
                        x.image_id.image_tag = None;
                    }
                }
            }
        }
    }
    if alts.contains(Alternative::SameImageOnce) {
        same_image_once(a, &named);
    }
    if alts.contains(Alternative::DupEach) {
        let mut each = Vec::with_capacity(a.ids.len());
        for e in &a.ids {
            for _ in 0..e.times {
                each.push(IdExpectation { times: 1, ..e.clone() });
            }
        }
        a.ids = each;
    }
    open::failures(alts, a);
    if alts.contains(Alternative::OtherTexts) {
        for e in &mut a.ids {
            if let Outcome::Failure { code, reason, .. } = &mut e.outcome {
                *reason = other_reason(code);
            }
        }
    }
}

/// The wire-form alternatives of a rendered `BatchGetImage` answer, with the repository's images
/// (to tell a translation) and how many times the server saw the same request before.
pub(super) fn adjust_reply_of(
    alts: Alternatives,
    repository: &str,
    held: &[ImageRecord],
    repeat: u64,
    reply: &mut Reply,
) {
    if reply.status == 200 {
        open::reply(alts, held, repeat, reply);
    }
    adjust_reply(alts, repository, reply);
}

/// The digest of the image each id names, as the variant left the answers and before any
/// alternative changes what answers them (a list's child, a translation under its own digest):
/// what the judge groups the ids of one image by.
pub(super) type Named = BTreeMap<ImageIdentifier, String>;

/// same-image-once: the tag-only ids that name one image, two distinct tags or more, are answered
/// by one entry: the smallest of their tags, once.
fn same_image_once(a: &mut ExpectedAnswers, named: &Named) {
    let mut by_image: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for (i, e) in a.ids.iter().enumerate() {
        if let (None, Some(tag), Outcome::Image(_), Some(digest)) =
            (&e.id.image_digest, &e.id.image_tag, &e.outcome, named.get(&e.id))
        {
            by_image.entry(digest.clone()).or_default().push((tag.clone(), i));
        }
    }
    let mut dropped = BTreeSet::new();
    let mut once = BTreeSet::new();
    for mut group in by_image.into_values().filter(|g| g.len() > 1) {
        group.sort();
        let mut rest = group.into_iter().map(|(_, i)| i);
        once.extend(rest.next());
        dropped.extend(rest);
    }
    let mut index = 0;
    a.ids.retain_mut(|e| {
        let keep = !dropped.contains(&index);
        if once.contains(&index) {
            e.times = 1;
        }
        index += 1;
        keep
    });
}

/// The translations: by tag only (by digest there is none, and the model expects none), from the
/// stored manifest.
fn translate_manifests(alts: Alternatives, a: &mut ExpectedAnswers) {
    let held = a.held.clone();
    for e in &mut a.ids {
        let Outcome::Image(x) = &mut e.outcome else {
            continue;
        };
        let Some(stored) = held
            .iter()
            .find(|i| Some(&i.digest) == x.image_id.image_digest.as_ref())
        else {
            continue;
        };
        let translates = !matches!(x.manifest, ExpectedManifest::Stored(_));
        if alts.contains(Alternative::NoTranslation) && translates {
            x.manifest = ExpectedManifest::Stored(stored.manifest.clone());
            x.media_type = stored.media_type.clone();
            x.also.clear();
            continue;
        }
        if alts.contains(Alternative::OtherTranslation)
            && let Some(other) = x.also.first().cloned()
        {
            x.manifest = other.manifest;
            x.media_type = other.media_type;
        }
        if let ExpectedManifest::Schema1 { name, tag, layers } = &x.manifest
            && alts.contains(Alternative::Schema1OtherBody)
        {
            x.manifest = ExpectedManifest::Stored(translate::schema1_signed_body(name, tag, layers));
        }
    }
}

/// A small deterministic choice among `n` from the repository name and a word of the answer.
fn choose(repository: &str, word: &str, n: u8) -> u8 {
    let hash = Sha256::digest(format!("{repository}\n{word}").as_bytes());
    hash[0] % n
}

/// The wire-form alternatives of a rendered `BatchGetImage` answer.
pub(super) fn adjust_reply(alts: Alternatives, repository: &str, reply: &mut Reply) {
    reply.alternatives = alts;
    if alts.is_empty() {
        return;
    }
    let error_type = reply.body.get("__type").and_then(Value::as_str).map(str::to_string);
    match error_type {
        Some(t) => {
            if alts.contains(Alternative::TypeForms) {
                let form = match choose(repository, &t, 3) {
                    0 => variants::namespaced_type(&t),
                    1 => format!("{t}:http://internal.amazon.com/coral/com.amazonaws.ecr/"),
                    _ => format!("com.amazonaws.ecr#{t}"),
                };
                reply.body["__type"] = json!(form);
            }
            if alts.contains(Alternative::CapitalisedMessage) {
                let beside = choose(repository, "Message", 2) == 0;
                variants::capitalise_message(&mut reply.body, beside);
            }
        }
        None if reply.status == 200 => {
            if alts.contains(Alternative::NoMediaTypeField)
                && let Some(images) = reply.body.get_mut("images").and_then(Value::as_array_mut)
            {
                for image in images.iter_mut().filter_map(Value::as_object_mut) {
                    image.remove("imageManifestMediaType");
                }
            }
            if alts.contains(Alternative::FailuresOmittedWhenEmpty)
                && reply
                    .body
                    .get("failures")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty)
                && let Some(body) = reply.body.as_object_mut()
            {
                body.remove("failures");
            }
            if alts.contains(Alternative::ExtraMembers) {
                variants::add_extra_members(&mut reply.body);
            }
            if alts.contains(Alternative::ReversedOrder) {
                variants::reverse_lists(&mut reply.body);
            }
        }
        None => {}
    }
}

#[cfg(test)]
mod tests;

mod open;

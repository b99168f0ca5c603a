//! Deliberately broken variants of the reference server, each the kind of bug an emulator really
//! has, and harmless variants that differ from ECR only where clients cannot see. The harness must
//! catch every broken one by the rule it breaks, and pass every harmless one.

use super::Reply;
use super::alternatives::{Alternative, Alternatives};
use crate::model::{Expected, Outcome, RegistryState, syntax};
use crate::rules::id;
use crate::wire::{BatchGetImageRequest, ImageIdentifier};
use serde_json::{Value, json};
use std::fmt;

/// Declares the variants once, each in its group with its name, what it does and (broken ones)
/// the rule a run against it must report: the enum, its lists and its lookups derive from the one
/// table, so adding a variant is one row here and its behaviour below.
macro_rules! variants {
    (
        reference: $reference:ident => ($reference_name:literal, $reference_description:literal),
        broken: [$($broken:ident => ($broken_name:literal, $rule:expr, $broken_description:literal),)*]
        harmless: [$($harmless:ident => ($harmless_name:literal, $harmless_description:literal),)*]
        soundness: [$($sound:ident => ($sound_name:literal, $sound_description:literal),)*]
    ) => {
        /// The reference itself, a broken variant, a harmless one, or a soundness one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Variant {
            /// The model itself.
            $reference,
            $($broken,)*
            $($harmless,)*
            $($sound,)*
        }

        impl Variant {
            /// Variants with a bug a run must catch, by the rule it breaks.
            pub const BROKEN: [Variant; [$(stringify!($broken)),*].len()] = [$(Variant::$broken),*];

            /// Variants that differ from ECR only where clients cannot see: a run must pass.
            pub const HARMLESS: [Variant; [$(stringify!($harmless)),*].len()] = [$(Variant::$harmless),*];

            /// Variants that differ from the model only where the reference allows it (several
            /// accepted answers, or advisory rules): a run reports advisory deviations and must pass
            /// the gate.
            pub const SOUNDNESS: [Variant; [$(stringify!($sound)),*].len()] = [$(Variant::$sound),*];

            pub fn name(self) -> &'static str {
                match self {
                    Variant::$reference => $reference_name,
                    $(Variant::$broken => $broken_name,)*
                    $(Variant::$harmless => $harmless_name,)*
                    $(Variant::$sound => $sound_name,)*
                }
            }

            /// What the bug is, in a line.
            pub fn description(self) -> &'static str {
                match self {
                    Variant::$reference => $reference_description,
                    $(Variant::$broken => $broken_description,)*
                    $(Variant::$harmless => $harmless_description,)*
                    $(Variant::$sound => $sound_description,)*
                }
            }

            /// The rule a run against this variant must report (None: the run must pass).
            pub fn expected_rule(self) -> Option<&'static str> {
                match self {
                    $(Variant::$broken => Some($rule),)*
                    _ => None,
                }
            }
        }
    };
}

variants! {
    reference: Reference => ("reference", "answers exactly as the model"),
    broken: [
        TagCaseInsensitive => ("tag-case-insensitive", id::I_TAG_CASE, "matches tags ignoring case"),
        DigestPrefixMatch => ("digest-prefix-match", id::I_NOT_FOUND, "matches a well-formed digest by unique prefix"),
        CrossRepositoryLookup => ("cross-repository-lookup", id::I_SCOPE, "finds tags and digests in other repositories"),
        MismatchIgnored => ("mismatch-ignored", id::I_MISMATCH, "answers the tag's image when tag and digest disagree"),
        EchoDropsTag => ("echo-drops-tag", id::I_ECHO, "a failure for {tag, digest} echoes only the digest"),
        MissingTagIsInvalidTag => ("missing-tag-is-invalid-tag", id::I_NOT_FOUND, "a missing tag fails with InvalidImageTag"),
        NeitherRefusesRequest => ("neither-refuses-request", id::I_NEITHER, "an id with neither tag nor digest refuses the whole request"),
        MalformedDigestNotFound => ("malformed-digest-not-found", id::I_BAD_DIGEST, "a malformed digest is ImageNotFound"),
        RepositoryNotFoundIs404 => ("repository-not-found-is-404", id::W_ERR_STATUS, "a missing repository is HTTP 404"),
        ErrorsWithoutType => ("errors-without-type", id::W_ERR_TYPE, "error bodies carry a message but no __type"),
        NoIdLimit => ("no-id-limit", id::R_IDS_TOO_MANY, "accepts more than 100 ids"),
        EmptyIdsAccepted => ("empty-ids-accepted", id::R_IDS_EMPTY, "accepts an empty id list"),
        RegistryIdUnchecked => ("registry-id-unchecked", id::R_REGISTRY_INVALID, "ignores a malformed registryId"),
        RepositoryNameUnchecked => ("repository-name-unchecked", id::R_REPO_NAME_INVALID, "looks up invalid repository names instead of refusing them"),
        ManifestReserialised => ("manifest-reserialised", id::M_INTEGRITY, "returns manifests re-serialised instead of byte for byte"),
        MediaTypeAlwaysDockerV2 => ("media-type-always-docker-v2", id::M_DEFAULT, "answers every manifest as docker v2"),
        SameDigestAnsweredOnce => ("same-digest-answered-once", id::I_SAME_DIGEST_TAGS, "answers two tags of one image once (advisory)"),
        WrongRegistryId => ("wrong-registry-id", id::S_REGISTRY_ID, "answers images with another registryId"),
        PutDigestOfReserialised => ("put-digest-of-reserialised", id::S_PUT_DIGEST, "PutImage digests a re-serialised manifest"),
        GetMovesMismatchedTag => ("get-moves-mismatched-tag", id::P_READ_ONLY, "BatchGetImage of a mismatched tag and digest moves the tag"),
        ValidationIs500 => ("validation-is-500", id::W_ERR_STATUS, "parameter errors are HTTP 500"),
        DigestAnsweredOnce => ("digest-answered-once", id::I_DIGEST_TAGS, "by digest answers one entry, whatever the tags (advisory)"),
        DuplicatesAnsweredTwice => ("duplicates-answered-twice", id::I_DUP_ONCE, "answers a repeated id at each repetition (advisory)"),
    ]
    harmless: [
        ReversedOrder => ("reversed-order", "lists images and failures in reverse order"),
        PrettyJsonReorderedKeys => ("pretty-json-reordered-keys", "pretty-prints its JSON with keys in another order"),
        ExtraMembers => ("extra-members", "adds members clients do not know"),
        NamespacedErrorType => ("namespaced-error-type", "writes __type as namespace#Name:uri"),
        CapitalisedMessage => ("capitalised-message", "writes the error message as Message"),
    ]
    soundness: [
        AdvisoryMix => ("advisory-mix", "per run a combination of the alternative answers the reference allows (`ecr-conformance variants` lists them), each on with probability 1/2, drawn from the SHA-256 of the repository name's first 13 characters (the seed's ecrc-XXXXXXXX prefix) or of the whole name: advisory deviations only, the gate must pass"),
    ]
}

impl Variant {
    pub fn all() -> impl Iterator<Item = Variant> {
        std::iter::once(Variant::Reference)
            .chain(Self::BROKEN)
            .chain(Self::HARMLESS)
            .chain(Self::SOUNDNESS)
    }

    /// The alternatives this variant serves to a repository (see [`Alternatives::drawn_for`]).
    pub fn alternatives_for(self, repository_name: &str) -> Alternatives {
        match self {
            Variant::AdvisoryMix => Alternatives::drawn_for(repository_name),
            _ => Alternatives::NONE,
        }
    }

    pub fn parse(name: &str) -> Option<Variant> {
        Self::all().find(|v| v.name() == name)
    }

    /// The variant's group in the table: `reference`, `broken`, `harmless` or `soundness`.
    pub fn group(self) -> &'static str {
        if Self::BROKEN.contains(&self) {
            "broken"
        } else if Self::HARMLESS.contains(&self) {
            "harmless"
        } else if Self::SOUNDNESS.contains(&self) {
            "soundness"
        } else {
            "reference"
        }
    }

    /// Whether the variant changes the registry on reads (so that its findings depend on the
    /// order its requests come in: a run against it sends one at a time to be repeatable).
    pub fn changes_state_on_reads(self) -> bool {
        self == Variant::GetMovesMismatchedTag
    }

    /// Why an alternative makes this variant's wrong answer right, where it does: it removes or
    /// replaces what the variant gets wrong, so that served together the bug is not on the wire
    /// (or only in part). None: the bug stays on the wire beside the alternative.
    pub fn masked_by(self, alternative: Alternative) -> Option<&'static str> {
        match (self, alternative) {
            (Variant::MediaTypeAlwaysDockerV2, Alternative::NoMediaTypeField) => Some(
                "no-media-type-field removes imageManifestMediaType, the field media-type-always-docker-v2 gets wrong",
            ),
            _ => None,
        }
    }

    /// Answers some requests before the model sees them.
    pub(super) fn intercept(self, state: &RegistryState, r: &BatchGetImageRequest) -> Option<Reply> {
        match self {
            Variant::NeitherRefusesRequest
                if r.image_ids
                    .iter()
                    .any(|i| i.image_tag.is_none() && i.image_digest.is_none()) =>
            {
                Some(Reply::error(
                    400,
                    "InvalidParameterException",
                    "imageIds must name a tag or a digest",
                ))
            }
            Variant::EmptyIdsAccepted if r.image_ids.is_empty() && state.repository(&r.repository_name).is_some() => {
                Some(Reply::new(200, json!({"images": [], "failures": []})))
            }
            Variant::RepositoryNameUnchecked
                if syntax::repo_name_validity(&r.repository_name) == syntax::RepoNameValidity::Invalid =>
            {
                Some(Reply::error(
                    400,
                    "RepositoryNotFoundException",
                    format!(
                        "The repository with name '{}' does not exist in the registry with id '{}'",
                        r.repository_name, state.registry_id
                    ),
                ))
            }
            _ => None,
        }
    }

    /// Changes what the model is asked: the lookup bugs.
    pub(super) fn rewrite_request(self, state: &RegistryState, mut r: BatchGetImageRequest) -> BatchGetImageRequest {
        let Some(repo) = state.repository(&r.repository_name) else {
            return r;
        };
        match self {
            Variant::TagCaseInsensitive => {
                for i in &mut r.image_ids {
                    if let Some(t) = &i.image_tag
                        && repo.image_by_tag(t).is_none()
                        && let Some(stored) = repo.tags().find(|x| x.eq_ignore_ascii_case(t))
                    {
                        i.image_tag = Some(stored.to_string());
                    }
                }
            }
            Variant::DigestPrefixMatch => {
                for i in &mut r.image_ids {
                    // A lookup bug, after validation: a malformed digest is still refused.
                    if let Some(d) = &i.image_digest
                        && syntax::is_well_formed_digest(d)
                        && repo.image_by_digest(d).is_none()
                    {
                        let matches: Vec<&str> = repo
                            .images
                            .iter()
                            .map(|x| x.digest.as_str())
                            .filter(|x| x.starts_with(d.as_str()))
                            .collect();
                        if let [one] = matches[..] {
                            i.image_digest = Some(one.to_string());
                        }
                    }
                }
            }
            Variant::MismatchIgnored => {
                for i in &mut r.image_ids {
                    let tagged = i.image_tag.as_deref().and_then(|t| repo.image_by_tag(t));
                    if tagged.is_some_and(|x| i.image_digest.as_ref().is_some_and(|d| d != &x.digest))
                        && i.image_digest.as_deref().is_some_and(syntax::is_well_formed_digest)
                    {
                        i.image_digest = None;
                    }
                }
            }
            Variant::NoIdLimit => r.image_ids.truncate(syntax::IDS_MAX),
            Variant::RegistryIdUnchecked if r.registry_id.as_deref().is_some_and(|x| !syntax::is_registry_id(x)) => {
                r.registry_id = None;
            }
            _ => {}
        }
        r
    }

    /// Changes the model's expectation before it is rendered: the answering bugs.
    pub(super) fn adjust_expected(self, _state: &RegistryState, _r: &BatchGetImageRequest, e: &mut Expected) {
        let Expected::Answers(a) = e else { return };
        match self {
            Variant::DigestAnsweredOnce => {
                for x in &mut a.ids {
                    if let Outcome::ImagesByDigest { images } = &mut x.outcome {
                        images.truncate(1);
                    }
                }
            }
            Variant::DuplicatesAnsweredTwice => {
                let mut repeated = Vec::new();
                for x in &a.ids {
                    for _ in 0..x.times {
                        repeated.push(crate::model::IdExpectation { times: 1, ..x.clone() });
                    }
                }
                a.ids = repeated;
            }
            Variant::SameDigestAnsweredOnce => {
                // One entry per image for its tags asked for apart: the tag that sorts first, so
                // that the answer does not depend on the ids' order.
                let first_tag = |d: &str| {
                    a.ids
                        .iter()
                        .filter_map(|x| match &x.outcome {
                            Outcome::Image(i)
                                if x.id.image_digest.is_none() && i.image_id.image_digest.as_deref() == Some(d) =>
                            {
                                x.id.image_tag.clone()
                            }
                            _ => None,
                        })
                        .min()
                };
                let keep: Vec<bool> = a
                    .ids
                    .iter()
                    .map(|x| match &x.outcome {
                        Outcome::Image(i) if x.id.image_digest.is_none() => {
                            let d = i.image_id.image_digest.clone().unwrap_or_default();
                            first_tag(&d) == x.id.image_tag
                        }
                        _ => true,
                    })
                    .collect();
                let mut keep = keep.into_iter();
                a.ids.retain(|_| keep.next().unwrap_or(true));
            }
            Variant::MissingTagIsInvalidTag => {
                for x in &mut a.ids {
                    if let Outcome::Failure { code, .. } = &mut x.outcome
                        && *code == crate::wire::ImageFailureCode::ImageNotFound
                        && x.id.image_digest.is_none()
                    {
                        *code = crate::wire::ImageFailureCode::InvalidImageTag;
                    }
                }
            }
            Variant::MalformedDigestNotFound => {
                for x in &mut a.ids {
                    if let Outcome::Failure { code, reason, .. } = &mut x.outcome
                        && *code == crate::wire::ImageFailureCode::InvalidImageDigest
                    {
                        *code = crate::wire::ImageFailureCode::ImageNotFound;
                        *reason = crate::model::batch_get_image::REASON_NOT_FOUND.into();
                    }
                }
            }
            _ => {}
        }
    }

    /// Changes the rendered answer: the bugs of the wire form.
    pub(super) fn adjust_answer(self, state: &RegistryState, r: &BatchGetImageRequest, reply: &mut Reply) {
        let images = |reply: &mut Reply| -> Vec<Value> {
            reply
                .body
                .get("images")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        match self {
            Variant::CrossRepositoryLookup if reply.status == 200 => {
                // ImageNotFound ids are looked up in the other repositories.
                let mut found = images(reply);
                let failures: Vec<Value> = reply.body["failures"].as_array().cloned().unwrap_or_default();
                let mut kept = Vec::new();
                for f in failures {
                    let id: ImageIdentifier = serde_json::from_value(f["imageId"].clone()).unwrap_or_default();
                    let hit = (f["failureCode"] == "ImageNotFound")
                        .then(|| {
                            state
                                .repositories
                                .iter()
                                .filter(|(n, _)| **n != r.repository_name)
                                .find_map(|(_, other)| {
                                    id.image_tag
                                        .as_deref()
                                        .and_then(|t| other.image_by_tag(t))
                                        .or_else(|| id.image_digest.as_deref().and_then(|d| other.image_by_digest(d)))
                                })
                        })
                        .flatten();
                    match hit {
                        Some(image) => found.push(json!({
                            "registryId": state.registry_id, "repositoryName": r.repository_name,
                            "imageId": {"imageDigest": image.digest, "imageTag": id.image_tag},
                            "imageManifest": image.manifest, "imageManifestMediaType": image.media_type,
                        })),
                        None => kept.push(f),
                    }
                }
                reply.body["images"] = json!(found);
                reply.body["failures"] = json!(kept);
            }
            Variant::EchoDropsTag if reply.status == 200 => {
                if let Some(failures) = reply.body["failures"].as_array_mut() {
                    for f in failures {
                        if f["imageId"].get("imageDigest").is_some()
                            && let Some(obj) = f["imageId"].as_object_mut()
                        {
                            obj.remove("imageTag");
                        }
                    }
                }
            }
            Variant::ManifestReserialised | Variant::MediaTypeAlwaysDockerV2 | Variant::WrongRegistryId
                if reply.status == 200 =>
            {
                if let Some(list) = reply.body["images"].as_array_mut() {
                    for img in list {
                        match self {
                            Variant::ManifestReserialised => {
                                let reserialised = img["imageManifest"]
                                    .as_str()
                                    .and_then(|m| serde_json::from_str::<Value>(m).ok())
                                    .map(|v| v.to_string());
                                if let Some(m) = reserialised {
                                    img["imageManifest"] = json!(m);
                                }
                            }
                            Variant::MediaTypeAlwaysDockerV2 => {
                                img["imageManifestMediaType"] = json!(crate::wire::media_type::DOCKER_V2)
                            }
                            _ => img["registryId"] = json!("000000000000"),
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Changes the state after a `BatchGetImage`: the side-effect bugs.
    pub(super) fn side_effect(self, state: &mut RegistryState, r: &BatchGetImageRequest) {
        if self != Variant::GetMovesMismatchedTag {
            return;
        }
        for i in &r.image_ids {
            let (Some(t), Some(d)) = (&i.image_tag, &i.image_digest) else {
                continue;
            };
            let Some(repo) = state.repositories.get_mut(&r.repository_name) else {
                return;
            };
            if repo.image_by_tag(t).is_some_and(|x| &x.digest != d) && repo.image_by_digest(d).is_some() {
                for image in &mut repo.images {
                    image.tags.retain(|x| x != t);
                    if &image.digest == d {
                        image.tags.push(t.clone());
                    }
                }
            }
        }
    }

    /// The digest PutImage assigns to a manifest.
    pub(super) fn assigned_digest(self, manifest: &str) -> String {
        match self {
            Variant::PutDigestOfReserialised => {
                let text = serde_json::from_str::<Value>(manifest)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|_| manifest.to_string());
                syntax::sha256_digest(text.as_bytes())
            }
            _ => syntax::sha256_digest(manifest.as_bytes()),
        }
    }

    /// Status and error-body changes.
    pub(super) fn render(self, mut reply: Reply) -> Reply {
        // The shape's name, whatever form an alternative wrote `__type` in (`ns#Name:uri`): the
        // bug is the status or the body, not the form.
        let error_type = reply
            .body
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| crate::wire::normalise_error_type(t).to_string());
        match (self, error_type.as_deref()) {
            (Variant::RepositoryNotFoundIs404, Some("RepositoryNotFoundException")) => reply.status = 404,
            (Variant::ValidationIs500, Some("InvalidParameterException")) => reply.status = 500,
            (Variant::ErrorsWithoutType, Some(_)) => {
                if let Some(obj) = reply.body.as_object_mut() {
                    obj.remove("__type");
                }
            }
            (Variant::NamespacedErrorType, Some(t)) => reply.body["__type"] = json!(namespaced_type(t)),
            (Variant::CapitalisedMessage, Some(_)) => capitalise_message(&mut reply.body, false),
            (Variant::ReversedOrder, None) => reverse_lists(&mut reply.body),
            (Variant::ExtraMembers, None) => add_extra_members(&mut reply.body),
            _ => {}
        }
        reply
    }

    /// The body's text.
    pub(super) fn serialise(self, body: &Value) -> String {
        match self {
            Variant::PrettyJsonReorderedKeys => pretty_reordered(body),
            _ => body.to_string(),
        }
    }
}

/// The variants one server serves together (`--variant A,B`; `reference` alone is none): each
/// one's bugs, applied in the table's order, so that `A,B` and `B,A` are the same server. A
/// broken variant with `advisory-mix` is a bug among the answers the reference allows; two broken
/// ones are two bugs side by side: what the harness finds of each must not depend on the other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Variants(Vec<Variant>);

impl From<Variant> for Variants {
    fn from(v: Variant) -> Self {
        match v {
            Variant::Reference => Variants::default(),
            v => Variants(vec![v]),
        }
    }
}

/// A `--variant` list that names no variant, or names `reference` beside others.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariantsError {
    #[error("unknown variant {name:?}; one of: {}", Variant::all().map(Variant::name).collect::<Vec<_>>().join(", "))]
    Unknown { name: String },
    #[error("`reference` is the server without any variant: it cannot be combined with {others}")]
    ReferenceCombined { others: String },
}

impl Variants {
    /// `NAME` or `NAME,NAME,...`; `reference` (alone) is the reference.
    pub fn parse(list: &str) -> Result<Variants, VariantsError> {
        let mut out: Vec<Variant> = Vec::new();
        let mut reference = false;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match Variant::parse(name) {
                Some(Variant::Reference) => reference = true,
                Some(v) => out.push(v),
                None => return Err(VariantsError::Unknown { name: name.to_string() }),
            }
        }
        out.sort();
        out.dedup();
        if reference && !out.is_empty() {
            let others = Variants(out).name();
            return Err(VariantsError::ReferenceCombined { others });
        }
        Ok(Variants(out))
    }

    /// The list as `--variant` takes it: `reference`, or the names joined by commas.
    pub fn name(&self) -> String {
        if self.0.is_empty() {
            return Variant::Reference.name().to_string();
        }
        self.0.iter().map(|v| v.name()).collect::<Vec<_>>().join(",")
    }

    pub fn is_reference(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, v: Variant) -> bool {
        self.0.contains(&v)
    }

    pub fn iter(&self) -> impl Iterator<Item = Variant> + '_ {
        self.0.iter().copied()
    }

    /// The alternatives these variants serve to a repository (`advisory-mix`'s draw).
    pub fn alternatives_for(&self, repository_name: &str) -> Alternatives {
        self.iter().fold(Alternatives::NONE, |all, v| {
            all.union(v.alternatives_for(repository_name))
        })
    }

    /// The first variant's answer to a request it answers before the model sees it.
    pub(super) fn intercept(&self, state: &RegistryState, r: &BatchGetImageRequest) -> Option<Reply> {
        self.iter().find_map(|v| v.intercept(state, r))
    }

    pub(super) fn rewrite_request(&self, state: &RegistryState, r: BatchGetImageRequest) -> BatchGetImageRequest {
        self.iter().fold(r, |r, v| v.rewrite_request(state, r))
    }

    pub(super) fn adjust_expected(&self, state: &RegistryState, r: &BatchGetImageRequest, e: &mut Expected) {
        for v in self.iter() {
            v.adjust_expected(state, r, e);
        }
    }

    pub(super) fn adjust_answer(&self, state: &RegistryState, r: &BatchGetImageRequest, reply: &mut Reply) {
        for v in self.iter() {
            v.adjust_answer(state, r, reply);
        }
    }

    pub(super) fn side_effect(&self, state: &mut RegistryState, r: &BatchGetImageRequest) {
        for v in self.iter() {
            v.side_effect(state, r);
        }
    }

    pub(super) fn assigned_digest(&self, manifest: &str) -> String {
        // Only one variant changes the digest; the others give the reference's.
        let reference = syntax::sha256_digest(manifest.as_bytes());
        self.iter()
            .map(|v| v.assigned_digest(manifest))
            .find(|d| d != &reference)
            .unwrap_or(reference)
    }

    pub(super) fn render(&self, reply: Reply) -> Reply {
        self.iter().fold(reply, |reply, v| v.render(reply))
    }

    pub(super) fn serialise(&self, body: &Value) -> String {
        if self.contains(Variant::PrettyJsonReorderedKeys) {
            Variant::PrettyJsonReorderedKeys.serialise(body)
        } else {
            body.to_string()
        }
    }
}

impl fmt::Display for Variants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::str::FromStr for Variants {
    type Err = VariantsError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Variants::parse(list)
    }
}

// The harmless differences, shared by the harmless variants and the alternatives (`alternatives`).

/// `__type` in the namespaced form with a URI suffix (W-ERR-TYPE).
pub(super) fn namespaced_type(t: &str) -> String {
    format!("com.amazonaws.ecr#{t}:http://internal.amazon.com/coral/com.amazonaws.ecr/")
}

/// The error message as `Message`: beside `message`, or instead of it.
pub(super) fn capitalise_message(body: &mut Value, beside: bool) {
    if let Some(obj) = body.as_object_mut()
        && let Some(m) = obj.get("message").cloned()
    {
        if !beside {
            obj.remove("message");
        }
        obj.insert("Message".into(), m);
    }
}

/// `images` and `failures` in reverse order (I-ORDER).
pub(super) fn reverse_lists(body: &mut Value) {
    for key in ["images", "failures"] {
        if let Some(list) = body.get_mut(key).and_then(Value::as_array_mut) {
            list.reverse();
        }
    }
}

/// Members that clients do not know, in the images and at the top.
pub(super) fn add_extra_members(body: &mut Value) {
    if let Some(list) = body.get_mut("images").and_then(Value::as_array_mut) {
        for img in list {
            img["imageSizeInBytes"] = json!(1234);
            img["x-emulator"] = json!({"cached": true});
        }
    }
    if body.is_object() {
        body["ResponseMetadata"] = json!({"RequestId": "00000000-0000-0000-0000-000000000000"});
    }
}

/// Pretty-printed with every object's members in reverse order.
pub(super) fn pretty_reordered(body: &Value) -> String {
    serde_json::to_string_pretty(&reverse_keys(body)).unwrap_or_default()
}

/// The same JSON with every object's members in reverse order (serde_json keeps them sorted, so
/// this writes them by hand).
pub(super) fn reverse_keys(v: &Value) -> ReversedJson<'_> {
    ReversedJson(v)
}

pub(super) struct ReversedJson<'a>(&'a Value);

impl serde::Serialize for ReversedJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map.iter().rev() {
                    m.serialize_entry(k, &ReversedJson(v))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&ReversedJson(item))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

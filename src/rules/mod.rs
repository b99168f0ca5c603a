//! The catalogue of rules: every behaviour of Amazon ECR's `BatchGetImage` that the model encodes,
//! with its stable id, level and the evidence behind it (`shared/ecr-batchgetimage.md`).
//!
//! Rules are data. The model names the rule that decides each expected answer, the comparer names
//! it on each deviation, and the reports print the evidence from here.

pub mod covers;

pub use covers::{Accepted, Context, Covers, Shape, Stored};
use serde::{Deserialize, Serialize};

/// Whether a deviation from a rule fails the conformance gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Documented, observed or relied on by AWS's own code: a deviation fails the gate.
    Gate,
    /// Inferred or disputed: a deviation is reported, and fails the gate only under `--strict`.
    Advisory,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Gate => "gate",
            Level::Advisory => "advisory",
        }
    }
}

/// One rule of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    /// The level of the rule's main claim (the error type, the failure code, the images).
    pub level: Level,
    /// The level of the human-readable text (message, failure reason) where the rule fixes one.
    /// ECR's texts are quoted from observations; several rules gate the code but not the words.
    pub text_level: Level,
    pub source: &'static str,
    pub summary: &'static str,
    /// What the evidence of a gate rule covers: outside it, a deviation is advisory (rev 3).
    pub covers: Covers,
}

const fn rule(id: &'static str, level: Level, text_level: Level, source: &'static str, summary: &'static str) -> Rule {
    Rule {
        id,
        level,
        text_level,
        source,
        summary,
        covers: Covers::Requests,
    }
}

impl Rule {
    const fn covering(mut self, covers: Covers) -> Rule {
        self.covers = covers;
        self
    }

    const fn ids(self, cells: &'static [covers::Cell]) -> Rule {
        self.covering(Covers::Ids(cells))
    }

    /// The level of a deviation of this rule about an id in `context` whose own rule stands at
    /// `id_level` there (a deviation of `level`, which is never raised).
    pub fn level_for(&self, level: Level, context: &Context, id_level: Level) -> Level {
        self.covers.level(level, context, id_level)
    }
}

use Level::{Advisory as A, Gate as G};

/// Every rule of the reference, in the reference's order.
pub const RULES: &[Rule] = &[
    // 1. Wire protocol
    rule(
        "W-REQ",
        G,
        G,
        "DOC: botocore service-2.json metadata",
        "POST / with AWS JSON 1.1 headers and SigV4 (service ecr)",
    ),
    rule("W-OK", G, G, "DOC", "success is HTTP 200 with a JSON body"),
    rule(
        "W-ERR-STATUS",
        G,
        G,
        "DOC (no status overrides; ServerException is a fault); OBS",
        "every modelled client error is HTTP 400; ServerException is 500",
    ),
    rule(
        "W-ERR-TYPE",
        G,
        A,
        "DOC: Smithy awsJson1_1 protocol",
        "error body {\"__type\", \"message\"}; __type compared after stripping ns# and :uri",
    ),
    rule(
        "W-BOTH-LISTS",
        A,
        A,
        "OBS for BatchDeleteImage (aws-cli 6424); INF",
        "a 200 BatchGetImage body carries both images and failures",
    ),
    rule(
        "W-CT",
        A,
        A,
        "OBS",
        "the response Content-Type is application/x-amz-json-1.1",
    ),
    // 3. Request-level outcomes
    rule(
        "R-REPO-NOT-FOUND",
        G,
        A,
        "OBS: messages quoted in public issues (steampipe-plugin-aws 1938)",
        "a missing repository is 400 RepositoryNotFoundException",
    ),
    rule(
        "R-IDS-EMPTY",
        G,
        A,
        "OBS",
        "imageIds: [] is 400 InvalidParameterException",
    ),
    rule(
        "R-IDS-TOO-MANY",
        G,
        A,
        "OBS",
        "more than 100 imageIds is 400 InvalidParameterException",
    ),
    rule(
        "R-REPO-NAME-INVALID",
        G,
        A,
        "OBS (int128/create-ecr-repository-action 231 and others)",
        "an invalid repositoryName is 400 InvalidParameterException",
    ),
    rule(
        "R-REPO-NAME-NEW-ONLY",
        A,
        A,
        "DOC (service model) vs OBS (server messages quoting the older pattern through 2024)",
        "a name valid only under the newer pattern (a__b, a--b): looked up as any other, or refused naming repositoryName (either accepted)",
    ),
    rule(
        "R-REGISTRY-INVALID",
        G,
        A,
        "OBS (chanzuckerberg/single-cell-data-portal PR 3781)",
        "a registryId that is not 12 digits is 400 InvalidParameterException",
    ),
    rule(
        "R-REGISTRY-OWN",
        G,
        G,
        "DOC: the default registry is assumed",
        "registryId equal to the caller's is the same as omitting it",
    ),
    rule(
        "R-REGISTRY-FOREIGN",
        A,
        A,
        "OBS pattern of AccessDenied texts",
        "another account's registryId is AccessDeniedException or RepositoryNotFoundException",
    ),
    rule(
        "R-MEDIA-EMPTY",
        A,
        A,
        "DOC constraint, INF response",
        "acceptedMediaTypes: [] is 400 InvalidParameterException",
    ),
    rule(
        "R-ORDER",
        A,
        A,
        "INF",
        "parameter validation comes before the repository lookup",
    ),
    // 4. Per-id outcomes
    rule(
        "I-ECHO",
        G,
        G,
        "TEST; OBS for ImageNotFound",
        "a failure's imageId echoes exactly the members that were sent (judged at the level of the id's own rule, rev 3)",
    )
    .covering(Covers::TheIdsOwn),
    rule(
        "I-TAG",
        G,
        G,
        "DOC example (boto3, CLI); OBS (CLI example 1 is a capture); TEST",
        "an existing tag yields one image with the requested tag and the stored manifest",
    )
    .ids(covers::BY_TAG),
    rule(
        "I-DIGEST",
        G,
        G,
        "TEST",
        "an existing digest yields at least one image with that digest, tags only of that digest",
    )
    .ids(covers::BY_DIGEST),
    rule(
        "I-DIGEST-TAGS",
        A,
        A,
        "TEST only (LocalStack's ECR tests, not re-validated)",
        "a digest with n tags yields n entries, one per tag",
    ),
    rule(
        "I-BOTH",
        G,
        G,
        "TEST; AWS-CODE (amazon-ecr-containerd-resolver)",
        "a matching tag and digest yield one image with both",
    )
    .ids(covers::BY_BOTH),
    rule(
        "I-MISMATCH",
        G,
        A,
        "TEST; AWS-CODE (the resolver handles this code)",
        "a tag pointing at another digest is ImageTagDoesNotMatchDigest",
    )
    .ids(covers::BOTH),
    rule(
        "I-NOT-FOUND",
        G,
        A,
        "OBS; TEST",
        "a well-formed tag or digest the repository lacks is ImageNotFound (a sha256 digest of other than 64 hex digits: ImageNotFound or InvalidImageDigest, rev 3)",
    )
    .ids(covers::NAMING),
    rule(
        "I-NEITHER",
        G,
        A,
        "TEST; code DOC",
        "an id with neither tag nor digest is MissingDigestAndTag",
    )
    .ids(covers::NEITHER),
    rule(
        "I-BAD-DIGEST",
        G,
        A,
        "TEST; AWS-CODE (the containerd resolver handles a per-id InvalidImageDigest)",
        "a malformed digest is InvalidImageDigest; the other ids are still answered (gate only for digests with no match of the pattern anywhere)",
    )
    .ids(covers::DIGEST_ONLY),
    rule(
        "I-BAD-DIGEST-WITH-TAG",
        A,
        A,
        "INF",
        "a malformed digest beside a tag is InvalidImageDigest",
    ),
    rule(
        "I-BAD-TAG",
        A,
        A,
        "DOC (constraint); AWS-CODE (the containerd resolver handles a per-id InvalidImageTag)",
        "a tag of more than 300 characters is a request-level 400 naming imageTag, or a per-id InvalidImageTag (either accepted)",
    ),
    rule(
        "I-TAG-CHARSET",
        A,
        A,
        "OBS in DescribeImages and the scan API; the channel for BatchGetImage is unknown",
        "a tag outside [a-zA-Z0-9-_.] is a request-level 400 naming imageTag or a per-id InvalidImageTag",
    ),
    rule(
        "I-EMPTY",
        A,
        A,
        "INF",
        "an empty tag is as I-BAD-TAG; an empty digest is InvalidImageDigest, MissingDigestAndTag or a 400",
    ),
    rule(
        "I-TAG-CASE",
        G,
        A,
        "DOC (OCI/Docker tag grammar)",
        "tags are case-sensitive (rev 3: tags only)",
    )
    .ids(covers::WITH_TAG),
    rule(
        "I-DIGEST-CASE",
        A,
        A,
        "INF; the service model puts no pattern on ImageDigest (rev 3)",
        "a digest in upper-case hex is ImageNotFound, or the image it names in lower case is found (both accepted)",
    ),
    rule(
        "I-SCOPE",
        G,
        A,
        "DOC (images belong to a repository)",
        "lookups never cross repositories",
    )
    .ids(covers::NAMING),
    rule(
        "I-DUP-CONSISTENT",
        G,
        G,
        "INF (anything else contradicts itself)",
        "an id repeated in one request gets the same answer each time",
    )
    .ids(covers::ANY_ID),
    rule(
        "I-DUP-ONCE",
        A,
        A,
        "INF; emulators answer it twice",
        "an identical id repeated in one request is answered once",
    ),
    rule(
        "I-SAME-DIGEST-TAGS",
        A,
        A,
        "INF; CLI example 2 shows it, but it is illustrative, not a capture (rev 2); LocalStack answers one entry for a tag and a digest of one image (BatchDeleteImage)",
        "ids naming one image (tags, a digest, both) each get their own entry; one entry shared among them is accepted too (rev 3)",
    ),
    rule(
        "I-ORDER",
        A,
        A,
        "DOC silent",
        "the order of images and failures is unspecified (never checked)",
    ),
    // 5. Media types
    rule(
        "M-DEFAULT",
        G,
        G,
        "OBS (CLI retag procedure)",
        "without acceptedMediaTypes the stored manifest and type come back (advisory for lists and indexes)",
    )
    .ids(covers::M_DEFAULT),
    rule(
        "M-ACCEPTED",
        G,
        G,
        "DOC",
        "an accepted stored type comes back as pushed",
    )
    .ids(covers::M_ACCEPTED),
    rule(
        "M-BY-DIGEST",
        G,
        G,
        "DOC (no translation by digest); OBS (containers-roadmap 1075)",
        "by digest, stored docker v2 and only schema 1 accepted: the stored manifest as pushed (elsewhere the stored manifest, a translation or a failure, advisory: rev 3)",
    )
    .ids(covers::M_BY_DIGEST),
    rule(
        "M-TRANSLATE",
        A,
        A,
        "DOC (user guide manifest-format table)",
        "by tag, docker v2 stored and only docker v1 accepted: a schema 1 manifest",
    ),
    rule(
        "M-TRANSLATE-OCI",
        A,
        A,
        "DOC (user guide manifest-format table: \"Translated to OCI\")",
        "by tag, docker v2 stored, OCI accepted and docker v2 not: an OCI image manifest",
    ),
    rule(
        "M-TRANSLATE-V2",
        A,
        A,
        "DOC (user guide manifest-format table: \"Translated to V2, schema 2\")",
        "by tag, OCI stored, docker v2 accepted and OCI not: a docker v2 schema 2 manifest",
    ),
    rule(
        "M-UNACCEPTABLE",
        A,
        A,
        "INF; DOC (\"client falls back\")",
        "by tag, stored type not accepted and no translation applies: the stored manifest, a failure, or for a list a child (rev 3)",
    ),
    rule(
        "M-TYPE-FIELD",
        A,
        A,
        "TEST (LocalStack); the one genuine capture (2019) lacks it",
        "every image entry carries imageManifestMediaType",
    ),
    rule(
        "M-INTEGRITY",
        G,
        G,
        "DOC (the digest is the sha256 of the manifest)",
        "every untranslated manifest hashes to its imageDigest (advisory for schema 1)",
    )
    .ids(covers::HASHED),
    // 6. Metamorphic properties
    rule(
        "P-ACCOUNTED",
        G,
        G,
        "property",
        "every requested id is answered; nothing is answered that was not asked",
    )
    .covering(Covers::TheIdsOwn),
    rule(
        "P-PERMUTE",
        G,
        G,
        "property",
        "permuting the ids does not change the multiset of answers",
    ),
    rule(
        "P-SPLIT",
        G,
        G,
        "property",
        "one batch and the same ids over several batches give the same answers",
    ),
    rule(
        "P-IDEMPOTENT",
        G,
        G,
        "property",
        "the same request twice gives the same answers",
    ),
    rule("P-READ-ONLY", G, G, "property", "BatchGetImage changes no state"),
    // 7. Seeding
    rule(
        "S-PUT-DIGEST",
        G,
        G,
        "DOC: PutImage computes sha256 over the manifest bytes",
        "PutImage answers the digest ECR computes: sha256 of the exact manifest bytes",
    ),
    rule(
        "S-SEED",
        G,
        G,
        "DOC: CreateRepository, layer upload and PutImage succeed for a valid push",
        "the operations that build a state succeed for valid input",
    ),
    rule(
        "S-REGISTRY-ID",
        G,
        G,
        "DOC: CreateRepository answers the registryId to expect",
        "later answers carry the registryId the endpoint gave at CreateRepository",
    ),
    // 9. Outside the model
    rule(
        "X-OUTSIDE",
        A,
        A,
        "reference section 9: real registries give answers no generated state provokes",
        "pull-through-cache, KMS, quota and server errors, the failure codes of archived or inaccessible images, and failure codes this build does not know, are reported as what they are, never as a deviation of another rule",
    ),
];

/// The rule with this id. Ids are compile-time constants of this crate, so an unknown one is a bug
/// in the caller; it still comes back as a rule (advisory, "unknown") rather than a panic.
pub fn rule_by_id(id: &str) -> Rule {
    RULES.iter().copied().find(|r| r.id == id).unwrap_or(Rule {
        id: "UNKNOWN",
        level: Level::Advisory,
        text_level: Level::Advisory,
        source: "not in the catalogue",
        summary: "a rule id this build does not know",
        covers: Covers::Requests,
    })
}

/// Typed names for the ids, so a misspelt id is a compile error rather than an "UNKNOWN" rule.
pub mod id {
    macro_rules! ids {
        ($($name:ident = $value:literal),* $(,)?) => { $(pub const $name: &str = $value;)* };
    }
    ids! {
        W_REQ = "W-REQ", W_OK = "W-OK", W_ERR_STATUS = "W-ERR-STATUS", W_ERR_TYPE = "W-ERR-TYPE",
        W_BOTH_LISTS = "W-BOTH-LISTS", W_CT = "W-CT",
        R_REPO_NOT_FOUND = "R-REPO-NOT-FOUND", R_IDS_EMPTY = "R-IDS-EMPTY",
        R_IDS_TOO_MANY = "R-IDS-TOO-MANY", R_REPO_NAME_INVALID = "R-REPO-NAME-INVALID",
        R_REPO_NAME_NEW_ONLY = "R-REPO-NAME-NEW-ONLY", R_REGISTRY_INVALID = "R-REGISTRY-INVALID",
        R_REGISTRY_OWN = "R-REGISTRY-OWN", R_REGISTRY_FOREIGN = "R-REGISTRY-FOREIGN",
        R_MEDIA_EMPTY = "R-MEDIA-EMPTY", R_ORDER = "R-ORDER",
        I_ECHO = "I-ECHO", I_TAG = "I-TAG", I_DIGEST = "I-DIGEST", I_DIGEST_TAGS = "I-DIGEST-TAGS",
        I_BOTH = "I-BOTH", I_MISMATCH = "I-MISMATCH", I_NOT_FOUND = "I-NOT-FOUND",
        I_NEITHER = "I-NEITHER", I_BAD_DIGEST = "I-BAD-DIGEST",
        I_BAD_DIGEST_WITH_TAG = "I-BAD-DIGEST-WITH-TAG", I_BAD_TAG = "I-BAD-TAG",
        I_TAG_CHARSET = "I-TAG-CHARSET", I_EMPTY = "I-EMPTY", I_TAG_CASE = "I-TAG-CASE",
        I_DIGEST_CASE = "I-DIGEST-CASE", I_SCOPE = "I-SCOPE", I_DUP_CONSISTENT = "I-DUP-CONSISTENT",
        I_DUP_ONCE = "I-DUP-ONCE", I_SAME_DIGEST_TAGS = "I-SAME-DIGEST-TAGS", I_ORDER = "I-ORDER",
        M_DEFAULT = "M-DEFAULT", M_ACCEPTED = "M-ACCEPTED", M_BY_DIGEST = "M-BY-DIGEST",
        M_TRANSLATE = "M-TRANSLATE", M_TRANSLATE_OCI = "M-TRANSLATE-OCI", M_TRANSLATE_V2 = "M-TRANSLATE-V2",
        M_UNACCEPTABLE = "M-UNACCEPTABLE", M_TYPE_FIELD = "M-TYPE-FIELD", M_INTEGRITY = "M-INTEGRITY",
        P_ACCOUNTED = "P-ACCOUNTED", P_PERMUTE = "P-PERMUTE", P_SPLIT = "P-SPLIT",
        P_IDEMPOTENT = "P-IDEMPOTENT", P_READ_ONLY = "P-READ-ONLY",
        S_PUT_DIGEST = "S-PUT-DIGEST", S_SEED = "S-SEED", S_REGISTRY_ID = "S-REGISTRY-ID",
        X_OUTSIDE = "X-OUTSIDE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rule_ids_are_unique() {
        let mut seen = HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
        }
    }

    #[test]
    fn every_rule_in_the_reference_document_is_in_the_catalogue() {
        // The ids of shared/ecr-batchgetimage.md, copied here so that a rule dropped from the
        // catalogue fails this test even where the document is not beside the checkout.
        let reference = [
            "W-REQ",
            "W-OK",
            "W-ERR-STATUS",
            "W-ERR-TYPE",
            "W-BOTH-LISTS",
            "W-CT",
            "R-REPO-NOT-FOUND",
            "R-IDS-EMPTY",
            "R-IDS-TOO-MANY",
            "R-REPO-NAME-INVALID",
            "R-REPO-NAME-NEW-ONLY",
            "R-REGISTRY-INVALID",
            "R-REGISTRY-OWN",
            "R-REGISTRY-FOREIGN",
            "R-MEDIA-EMPTY",
            "R-ORDER",
            "I-ECHO",
            "I-TAG",
            "I-DIGEST",
            "I-DIGEST-TAGS",
            "I-BOTH",
            "I-MISMATCH",
            "I-NOT-FOUND",
            "I-NEITHER",
            "I-BAD-DIGEST",
            "I-BAD-DIGEST-WITH-TAG",
            "I-BAD-TAG",
            "I-TAG-CHARSET",
            "I-EMPTY",
            "I-TAG-CASE",
            "I-DIGEST-CASE",
            "I-SCOPE",
            "I-DUP-CONSISTENT",
            "I-DUP-ONCE",
            "I-SAME-DIGEST-TAGS",
            "I-ORDER",
            "M-DEFAULT",
            "M-ACCEPTED",
            "M-BY-DIGEST",
            "M-TRANSLATE",
            "M-TRANSLATE-OCI",
            "M-TRANSLATE-V2",
            "M-UNACCEPTABLE",
            "M-TYPE-FIELD",
            "M-INTEGRITY",
            "P-ACCOUNTED",
            "P-PERMUTE",
            "P-SPLIT",
            "P-IDEMPOTENT",
            "P-READ-ONLY",
        ];
        for id in reference {
            assert_eq!(rule_by_id(id).id, id, "{id} is missing from RULES");
        }
    }

    // The document lives beside the checkout, not in it: ignored rather than passing without it.
    // `.ci/run` runs it (`--include-ignored`) when the file is there.
    #[test]
    #[ignore = "needs ../shared/ecr-batchgetimage.md beside the checkout"]
    fn the_catalogue_matches_the_reference_document_when_it_is_present() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/ecr-batchgetimage.md");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let ids: HashSet<&str> = RULES.iter().map(|r| r.id).collect();
        for line in text.lines().filter(|l| l.starts_with("| ")) {
            let cell = line.trim_start_matches("| ").split(" |").next().unwrap_or("");
            let looks_like_id =
                cell.len() > 2 && cell.chars().all(|c| c.is_ascii_uppercase() || c == '-') && cell.contains('-');
            if looks_like_id {
                assert!(ids.contains(cell), "rule {cell} of the reference is not in RULES");
                // The level the reference gives: the first cell that starts with one.
                let level = line
                    .split('|')
                    .map(str::trim)
                    .skip(2)
                    .find_map(|c| match c.split_whitespace().next() {
                        Some("gate") => Some(Level::Gate),
                        Some("advisory") => Some(Level::Advisory),
                        _ => None,
                    });
                if let Some(level) = level {
                    assert_eq!(rule_by_id(cell).level, level, "the level of {cell}: {line}");
                }
            }
        }
    }

    #[test]
    fn gate_text_is_never_stricter_than_the_rule() {
        for r in RULES {
            assert!(!(r.level == Level::Advisory && r.text_level == Level::Gate), "{}", r.id);
        }
    }
}

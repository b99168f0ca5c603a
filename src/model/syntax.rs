//! The syntax ECR checks before it looks anything up: repository names, registry ids, digests,
//! tags, and the digest of a manifest.

use regex::Regex;
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;

/// The repository-name pattern of the current service model (allows `__` and runs of `-`).
static NAME_NEW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$").expect("constant pattern")
});
/// The older pattern that real server messages still quote, as they quote it.
pub const OLDER_REPO_NAME_PATTERN: &str = "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*";
static NAME_OLD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{OLDER_REPO_NAME_PATTERN}$")).expect("constant pattern"));
/// I-BAD-DIGEST: the regex ECR quotes in its failure reason, matched whole.
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9\-_+.]+:[a-fA-F0-9]+$").expect("constant pattern"));

/// The same pattern, unanchored: whether a digest contains a match anywhere (I-BAD-DIGEST gates only
/// digests that do not; anchoring is not observed for digests).
static DIGEST_ANYWHERE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[a-zA-Z0-9\-_+.]+:[a-fA-F0-9]+").expect("constant pattern"));

pub const REPO_NAME_MIN: usize = 2;
pub const REPO_NAME_MAX: usize = 256;
pub const TAG_MAX: usize = 300;
pub const IDS_MAX: usize = 100;
pub const MEDIA_TYPES_MAX: usize = 100;

/// How a repository name fares against the two patterns ECR has used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoNameValidity {
    /// Valid under both patterns.
    Valid,
    /// Valid only under the newer pattern (`a__b`, `a--b`): R-REPO-NAME-NEW-ONLY.
    NewPatternOnly,
    /// Invalid under both, or of a bad length: R-REPO-NAME-INVALID.
    Invalid,
}

pub fn repo_name_validity(name: &str) -> RepoNameValidity {
    if !(REPO_NAME_MIN..=REPO_NAME_MAX).contains(&name.chars().count()) {
        return RepoNameValidity::Invalid;
    }
    match (NAME_OLD.is_match(name), NAME_NEW.is_match(name)) {
        (true, _) => RepoNameValidity::Valid,
        (false, true) => RepoNameValidity::NewPatternOnly,
        (false, false) => RepoNameValidity::Invalid,
    }
}

/// The constraint text ECR gives for a name refused at `R-REPO-NAME-INVALID` (rev 2): a name too
/// short or too long is refused for its length, any other for the older pattern, quoted.
pub fn repo_name_constraint(name: &str) -> String {
    let length = name.chars().count();
    if length < REPO_NAME_MIN {
        format!("Member must have length greater than or equal to {REPO_NAME_MIN}")
    } else if length > REPO_NAME_MAX {
        format!("Member must have length less than or equal to {REPO_NAME_MAX}")
    } else {
        older_pattern_constraint()
    }
}

/// The constraint text of a name refused by its pattern: the older one, which server messages
/// quote.
pub fn older_pattern_constraint() -> String {
    format!("must satisfy regular expression '{OLDER_REPO_NAME_PATTERN}'")
}

pub fn is_registry_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_well_formed_digest(digest: &str) -> bool {
    DIGEST.is_match(digest)
}

/// Whether a digest is `sha256:` and 64 hex digits (of either case): the only digests the
/// observations of `ImageNotFound` name (rev 3 F8).
pub fn is_sha256_length(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a malformed digest still contains a match of the digest pattern (`sha256:0123:abcd`):
/// an unanchored check would take it, so its failure is only advisory (I-BAD-DIGEST, rev 2).
pub fn digest_matches_somewhere(digest: &str) -> bool {
    DIGEST_ANYWHERE.is_match(digest)
}

/// I-TAG-CHARSET: the characters the server accepts in a tag (observed in DescribeImages).
pub fn is_tag_charset_valid(tag: &str) -> bool {
    tag.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// I-BAD-TAG: the `imageTag` length constraint of the service model.
pub fn is_tag_length_valid(tag: &str) -> bool {
    (1..=TAG_MAX).contains(&tag.chars().count())
}

/// `sha256:` and the lower-case hex SHA-256 of the exact bytes (M-INTEGRITY).
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_both_patterns() {
        for ok in ["ab", "ubuntu", "team/app/web", "a.b_c-d", "a-b/c.d", "x1/y2"] {
            assert_eq!(repo_name_validity(ok), RepoNameValidity::Valid, "{ok}");
        }
        for new in ["a__b", "a--b", "team/a__b"] {
            assert_eq!(repo_name_validity(new), RepoNameValidity::NewPatternOnly, "{new}");
        }
        let long = "a".repeat(257);
        for bad in [
            "a",
            "Upper",
            "-ab",
            "ab-",
            "a//b",
            "/ab",
            "ab/",
            "a b",
            "",
            long.as_str(),
        ] {
            assert_eq!(repo_name_validity(bad), RepoNameValidity::Invalid, "{bad}");
        }
        assert_eq!(repo_name_validity(&"a".repeat(256)), RepoNameValidity::Valid);
    }

    #[test]
    fn digests_match_the_quoted_regex_whole() {
        assert!(is_well_formed_digest("sha256:abcDEF0123"));
        assert!(is_well_formed_digest("my-alg_1+x.y:ab"));
        for bad in ["sha256", "sha256:", ":ab", "sha256:xyz", "sha256:ab ", "sha 256:ab", ""] {
            assert!(!is_well_formed_digest(bad), "{bad}");
        }
    }

    #[test]
    fn sha256_digest_is_lower_case_hex_of_the_bytes() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn registry_ids_are_twelve_digits() {
        assert!(is_registry_id("123456789012"));
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(!is_registry_id(bad));
        }
    }
}

//! An endpoint's answer made fit to commit and share: without the calibration's repository
//! prefixes (a case file names its repositories as the replay will seed them), with the account id
//! and the caller's identity replaced by placeholders (a capture is published; an account id and an
//! IAM user name are not for publishing). Pure.

use super::questions::REGISTRY_PLACEHOLDER;
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// Where a caller's IAM or STS identity may be quoted (AccessDeniedException's message).
static PRINCIPAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"arn:aws[a-z-]*:(?:iam|sts)::[0-9]{12}:[^\s"',]+"#).expect("constant pattern"));

/// What a caller's identity in a message is replaced by.
pub const PRINCIPAL_PLACEHOLDER: &str = "arn:aws:iam::123456789012:user/ecr-conformance";

/// Members whose text is a digest or a manifest's bytes: a run of twelve digits in them is part of
/// a hash, never an account id.
const OPAQUE: [&str; 2] = ["imageDigest", "imageManifest"];

/// `value` with every string rewritten: run prefixes (`ecrc-1a2b3c4d-q3/`) removed, `account`
/// replaced by [`REGISTRY_PLACEHOLDER`] where it stands alone (outside digests and manifests),
/// IAM and STS principals replaced by [`PRINCIPAL_PLACEHOLDER`].
pub fn shareable(value: &Value, account: &str) -> Value {
    walk(value, account, false)
}

fn walk(value: &Value, account: &str, opaque: bool) -> Value {
    match value {
        Value::String(s) => Value::String(text(s, account, opaque)),
        Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, account, opaque)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), walk(v, account, OPAQUE.contains(&k.as_str()))))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One string as [`shareable`] rewrites it; `opaque` keeps account-like digit runs (a digest's).
pub fn text(s: &str, account: &str, opaque: bool) -> String {
    let stripped = crate::snapshot::strip_run_prefixes(s);
    if opaque {
        return stripped;
    }
    let principals = PRINCIPAL.replace_all(&stripped, PRINCIPAL_PLACEHOLDER);
    if account.is_empty() || account == REGISTRY_PLACEHOLDER {
        return principals.into_owned();
    }
    whole_token_replaced(&principals, account, REGISTRY_PLACEHOLDER)
}

/// `token` replaced where no letter or digit touches it: an account id inside a longer number or a
/// hex run is something else.
fn whole_token_replaced(text: &str, token: &str, by: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(token) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + token.len()..].chars().next();
        let alone =
            !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_alphanumeric());
        out.push_str(&rest[..pos]);
        out.push_str(if alone { by } else { token });
        rest = &rest[pos + token.len()..];
    }
    out.push_str(rest);
    out
}

/// The UTC calendar date (`YYYY-MM-DD`) of a time, from the system clock's seconds since the
/// epoch; times before the epoch give the epoch's date.
pub fn utc_date(time: std::time::SystemTime) -> String {
    let seconds = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((seconds / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn an_answer_loses_its_prefixes_account_and_caller() {
        let digest = format!("sha256:ab{}cd", "111122223333");
        let answer = json!({
            "images": [{
                "registryId": "111122223333",
                "repositoryName": "ecrc-1a2b3c4d-q3/repo-1",
                "imageId": {"imageDigest": digest, "imageTag": "tag-1"},
                "imageManifest": "{\"name\":\"ecrc-1a2b3c4d-q3/repo-1\",\"n\":111122223333}",
            }],
            "message": "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-1:999999999999:repository/ecrc-1a2b3c4d-q9/repo-1 because ...",
            "other": "The repository with name 'ecrc-1a2b3c4d-q2/a__b' does not exist in the registry with id '111122223333'",
            "number": 111122223333u64,
        });
        let shared = shareable(&answer, "111122223333");
        assert_eq!(shared["images"][0]["registryId"], REGISTRY_PLACEHOLDER);
        assert_eq!(shared["images"][0]["repositoryName"], "repo-1");
        assert_eq!(
            shared["images"][0]["imageId"]["imageDigest"],
            json!(digest),
            "a digest is kept whole"
        );
        assert_eq!(
            shared["images"][0]["imageManifest"], "{\"name\":\"repo-1\",\"n\":111122223333}",
            "a manifest loses the prefix (a schema 1 name) and nothing else"
        );
        assert_eq!(
            shared["message"],
            format!(
                "User: {PRINCIPAL_PLACEHOLDER} is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-1:999999999999:repository/repo-1 because ..."
            )
        );
        assert_eq!(
            shared["other"],
            format!("The repository with name 'a__b' does not exist in the registry with id '{REGISTRY_PLACEHOLDER}'")
        );
        assert_eq!(shared["number"], 111122223333u64, "numbers are not texts");
        assert!(!shared.to_string().contains("alice"));
    }

    #[test]
    fn an_account_id_inside_a_longer_run_of_digits_is_kept() {
        assert_eq!(
            whole_token_replaced("1111222233334 x111122223333 111122223333.", "111122223333", "N"),
            "1111222233334 x111122223333 N."
        );
        assert_eq!(text("id 123456789012", REGISTRY_PLACEHOLDER, false), "id 123456789012");
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
        assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29");
        assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(1_767_225_599)), "2025-12-31");
        assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(1_767_225_600)), "2026-01-01");
        assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(4_107_542_400)), "2100-03-01");
    }
}

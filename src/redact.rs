//! The one redaction every text the tool prints or writes goes through: the user name and
//! password of any URL in it are removed, and the secrets of the run (the secret access key, the
//! session token, the endpoint's password) are replaced by `<redacted>`.
//!
//! The secrets are registered where they are resolved ([`crate::target`]) and kept process-wide,
//! so that the sinks need no argument to redact: [`crate::console`] for stdout and stderr,
//! [`crate::report`], the case files and the snapshots for files, the trials' messages, and the
//! binary's panic hook. A sink that forgot to ask could leak; a value that is not registered is
//! still safe inside a URL.

use std::borrow::Cow;
use std::sync::{PoisonError, RwLock};

/// What a secret is replaced by.
pub(crate) const REDACTED: &str = "<redacted>";

/// Shorter values are not searched for: emulators are run with placeholder keys such as `test`
/// and `testing`, and replacing those everywhere would garble every report (`latest` tags) while
/// hiding nothing. Real secret keys have 40 characters, session tokens hundreds.
pub(crate) const MIN_SECRET_CHARS: usize = 8;

/// Every registered secret in each form it can take in a text (as is, JSON-escaped, HTML- and
/// XML-escaped), longest first so that a secret containing another is replaced whole.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret: from now on, [`text`] replaces it. Short values are ignored
/// ([`MIN_SECRET_CHARS`]).
pub(crate) fn register(secret: &str) {
    if secret.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(secret);
    let forms = [
        secret.to_string(),
        json.to_string(),
        escape_markup(secret, "&#39;"),
        escape_markup(secret, "&apos;"),
    ];
    let mut secrets = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    for form in forms {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers the password of an endpoint URL, as written and percent-decoded: outside a URL (an
/// error quoting a part of it, say) it is not recognisable as one.
pub(crate) fn register_url_password(url: &str) {
    let Ok(parsed) = url::Url::parse(url) else {
        return;
    };
    if let Some(password) = parsed.password() {
        register(password);
        if let Ok(decoded) = percent_decode(password) {
            register(&decoded);
        }
    }
}

/// A text as it may be shown: URLs without user name and password, secrets replaced.
pub(crate) fn text(text: &str) -> Cow<'_, str> {
    // URLs first: a secret replaced inside a URL's userinfo would hide the `@` from the scan and
    // leave the user name behind.
    let mut out = strip_userinfo(text);
    let secrets = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
        }
    }
    out
}

/// An endpoint as it is shown to users: without user name and password, whether it is a valid
/// URL or not (an endpoint refused as malformed is quoted in the error).
pub(crate) fn endpoint(endpoint: &str) -> String {
    if let Ok(mut u) = url::Url::parse(endpoint)
        && u.host().is_some()
    {
        if u.username().is_empty() && u.password().is_none() {
            return endpoint.to_string();
        }
        // As written, less the userinfo (the parser's form would add a `/`): its authority ends
        // where the parser ends it, and the userinfo at its last `@`.
        if let Some(start) = endpoint.find("://").map(|i| i + 3) {
            let rest = &endpoint[start..];
            let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
            if let Some(at) = rest[..end].rfind('@') {
                return format!("{}{}", &endpoint[..start], &rest[at + 1..]);
            }
        }
        let _ = u.set_username("");
        let _ = u.set_password(None);
        return u.to_string();
    }
    // Not a URL with a host (`bob:pw@host` parses as the scheme `bob`): whatever precedes its
    // last `@` may be a user name and password.
    match (endpoint.rfind('@'), endpoint.find("://")) {
        (Some(at), Some(scheme_end)) if scheme_end < at => {
            format!("{}{}", &endpoint[..scheme_end + 3], &endpoint[at + 1..])
        }
        (Some(at), _) => endpoint[at + 1..].to_string(),
        (None, _) => endpoint.to_string(),
    }
}

/// Removes `user:password@` from every `scheme://` in a text. The authority is read up to a
/// character that cannot be in it unescaped (a path, query or fragment start, whitespace, a
/// quote or angle bracket) and loses everything up to its last `@`, as URL parsers read it.
fn strip_userinfo(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        let after = &rest[start..];
        let len = after
            .find(|c: char| {
                c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '"' | '<' | '>' | '\\' | '`')
            })
            .unwrap_or(after.len());
        let authority = &after[..len];
        out.push_str(&rest[..start]);
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(&authority[at + 1..]);
                changed = true;
            }
            None => out.push_str(authority),
        }
        rest = &after[len..];
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// HTML and XML escaping of the characters reports escape; `apostrophe` is the entity used.
fn escape_markup(text: &str, apostrophe: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apostrophe),
            c => out.push(c),
        }
    }
    out
}

fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|b| hex(*b)),
            bytes.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_user_name_and_password_wherever_they_are_quoted() {
        for (shown, expected) in [
            (
                "target x (http://bob:pw@127.0.0.1:5000), region",
                "target x (http://127.0.0.1:5000), region",
            ),
            (
                "endpoint \"https://u:p@host/x?y\" is bad",
                "endpoint \"https://host/x?y\" is bad",
            ),
            ("--spawn 'peer http://a:b@[::1]:9'", "--spawn 'peer http://[::1]:9'"),
            ("http://p@ss:w@rd@h:1 and ftp://x@y", "http://h:1 and ftp://y"),
            ("&#39;http://bob:pw@host&#39;", "&#39;http://host&#39;"),
            ("http://127.0.0.1:5000/a@b", "http://127.0.0.1:5000/a@b"),
            ("no url here, user@example.com", "no url here, user@example.com"),
        ] {
            assert_eq!(text(shown), expected);
        }
        assert!(matches!(text("http://127.0.0.1:1 untouched"), Cow::Borrowed(_)));
    }

    #[test]
    fn registered_secrets_are_replaced_in_every_form_short_ones_are_not() {
        register("wJalrXUtnFEMI/K7MDENG+bPxRfi\"CY'<Q>&");
        register("test");
        let shown = [
            "raw wJalrXUtnFEMI/K7MDENG+bPxRfi\"CY'<Q>&",
            "json wJalrXUtnFEMI/K7MDENG+bPxRfi\\\"CY'<Q>&",
            "html wJalrXUtnFEMI/K7MDENG+bPxRfi&quot;CY&#39;&lt;Q&gt;&amp;",
            "xml wJalrXUtnFEMI/K7MDENG+bPxRfi&quot;CY&apos;&lt;Q&gt;&amp;",
        ];
        for s in shown {
            let redacted = text(s);
            assert!(redacted.ends_with(" <redacted>"), "{redacted}");
        }
        assert_eq!(text("latest test"), "latest test");
    }

    #[test]
    fn a_url_password_is_registered_as_written_and_decoded() {
        register_url_password("http://bob:s3cr%40tPassw0rd@127.0.0.1:1");
        assert_eq!(text("s3cr@tPassw0rd and s3cr%40tPassw0rd"), "<redacted> and <redacted>");
    }

    #[test]
    fn endpoints_are_shown_without_user_name_and_password_even_when_malformed() {
        assert_eq!(endpoint("https://user:pa55@host:8443/x"), "https://host:8443/x");
        assert_eq!(endpoint("http://bob:a\"b@127.0.0.1:1"), "http://127.0.0.1:1");
        assert_eq!(endpoint("http://127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(endpoint("http://bob:pw@"), "http://");
        assert_eq!(endpoint("bob:pw@host:5000"), "host:5000");
        assert_eq!(endpoint("not a url"), "not a url");
    }
}

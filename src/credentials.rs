//! AWS credentials, resolved as the AWS CLI resolves them for static keys: the environment, then the
//! shared credentials and config files under `AWS_PROFILE`. Where none are found and the endpoint
//! is on loopback, the emulator convention `test`/`test`.
//!
//! Why not `aws-config`: its default chain ends in the instance-metadata service, a network call to
//! a link-local address that a conformance tool must never make on a developer's machine or in CI.
//! Static keys, profiles and session tokens are what a conformance run uses.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Where they came from, for the run's log (never the values).
    pub source: String,
}

/// Secrets never reach a log: the debug form shows only the key id's first characters.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &redact(&self.access_key_id))
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("source", &self.source)
            .finish()
    }
}

/// `AKIA…` keeps four characters, so a user can tell which key was used.
pub fn redact(key: &str) -> String {
    let shown: String = key.chars().take(4).collect();
    format!("{shown}…")
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    #[error(
        "no AWS credentials found (environment, {files}) for profile {profile:?}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
    )]
    NotFound { profile: String, files: String },
    #[error("profile {profile:?} in {file} has {present} but not {missing}")]
    Incomplete {
        profile: String,
        file: String,
        present: &'static str,
        missing: &'static str,
    },
}

/// The environment to read: a closure, so that tests need not touch the process environment.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for HashMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| v.to_string()).filter(|v| !v.is_empty())
    }
}

fn home(env: &dyn Env) -> Option<PathBuf> {
    env.var("HOME").or_else(|| env.var("USERPROFILE")).map(PathBuf::from)
}

/// Resolves credentials. `loopback` allows the `test`/`test` fallback.
pub fn resolve(env: &dyn Env, loopback: bool) -> Result<Credentials, CredentialsError> {
    if let (Some(id), Some(secret)) = (env.var("AWS_ACCESS_KEY_ID"), env.var("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env.var("AWS_SESSION_TOKEN"),
            source: "environment".into(),
        });
    }
    let profile = env
        .var("AWS_PROFILE")
        .or_else(|| env.var("AWS_DEFAULT_PROFILE"))
        .unwrap_or_else(|| "default".into());
    let credentials_file = env
        .var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home(env).map(|h| h.join(".aws").join("credentials")));
    let config_file = env
        .var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home(env).map(|h| h.join(".aws").join("config")));
    // The credentials file names sections by profile; the config file by "profile NAME" (but
    // "default" as is).
    let config_section = if profile == "default" {
        profile.clone()
    } else {
        format!("profile {profile}")
    };
    for (file, section) in [
        (credentials_file.as_ref(), profile.clone()),
        (config_file.as_ref(), config_section),
    ] {
        let Some(file) = file else { continue };
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        if let Some(values) = parse_ini(&text).remove(&section) {
            return from_profile(&profile, file, &values);
        }
    }
    if loopback {
        return Ok(Credentials {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: None,
            source: "emulator default test/test (loopback endpoint, no credentials found)".into(),
        });
    }
    let files = [credentials_file, config_file]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(CredentialsError::NotFound { profile, files })
}

fn from_profile(profile: &str, file: &Path, values: &HashMap<String, String>) -> Result<Credentials, CredentialsError> {
    let id = values.get("aws_access_key_id");
    let secret = values.get("aws_secret_access_key");
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Credentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: values.get("aws_session_token").cloned(),
            source: format!("profile {profile:?} in {}", file.display()),
        }),
        (Some(_), None) => Err(CredentialsError::Incomplete {
            profile: profile.into(),
            file: file.display().to_string(),
            present: "aws_access_key_id",
            missing: "aws_secret_access_key",
        }),
        (None, Some(_)) => Err(CredentialsError::Incomplete {
            profile: profile.into(),
            file: file.display().to_string(),
            present: "aws_secret_access_key",
            missing: "aws_access_key_id",
        }),
        (None, None) => Err(CredentialsError::Incomplete {
            profile: profile.into(),
            file: file.display().to_string(),
            present: "no static keys (SSO, roles and processes are not supported)",
            missing: "aws_access_key_id",
        }),
    }
}

/// The INI dialect of the AWS files: `[section]`, `key = value`, `#` and `;` comments.
fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_string();
            out.entry(name.clone()).or_default();
            section = Some(name);
        } else if let (Some(s), Some((k, v))) = (&section, line.split_once('=')) {
            out.entry(s.clone())
                .or_default()
                .insert(k.trim().to_lowercase(), v.trim().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn environment_keys_win_and_carry_the_session_token() {
        let env = HashMap::from([
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_SESSION_TOKEN", "tok"),
        ]);
        let c = resolve(&env, false).expect("found");
        assert_eq!(
            (c.access_key_id.as_str(), c.session_token.as_deref()),
            ("AKIAEXAMPLE", Some("tok"))
        );
    }

    #[test]
    fn profiles_come_from_the_credentials_then_the_config_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let creds = temp(
            &dir,
            "credentials",
            "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[ci]\naws_access_key_id=C\naws_secret_access_key=CS\naws_session_token = T\n",
        );
        let config = temp(
            &dir,
            "config",
            "[profile other]\naws_access_key_id = O\naws_secret_access_key = OS\n",
        );
        let (cp, fp) = (creds.display().to_string(), config.display().to_string());
        let base = [
            ("AWS_SHARED_CREDENTIALS_FILE", cp.as_str()),
            ("AWS_CONFIG_FILE", fp.as_str()),
        ];
        let env: HashMap<&str, &str> = HashMap::from(base);
        assert_eq!(resolve(&env, false).expect("default").access_key_id, "D");
        let mut env_ci = env.clone();
        env_ci.insert("AWS_PROFILE", "ci");
        let c = resolve(&env_ci, false).expect("ci");
        assert_eq!((c.access_key_id.as_str(), c.session_token.as_deref()), ("C", Some("T")));
        let mut env_other = env.clone();
        env_other.insert("AWS_PROFILE", "other");
        assert_eq!(resolve(&env_other, false).expect("other").access_key_id, "O");
        let mut env_missing = env;
        env_missing.insert("AWS_PROFILE", "nope");
        assert!(matches!(
            resolve(&env_missing, false),
            Err(CredentialsError::NotFound { .. })
        ));
        assert_eq!(resolve(&env_missing, true).expect("loopback").access_key_id, "test");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let c = Credentials {
            access_key_id: "AKIASECRETKEYID".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
            session_token: Some("FwoGZXIvYXdz".into()),
            source: "env".into(),
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("wJalrXUtnFEMI") && !shown.contains("FwoGZXIvYXdz") && !shown.contains("SECRETKEYID"),
            "{shown}"
        );
    }
}

//! The implementation under test: which endpoint, which region, which credentials, and the HTTP
//! client that reaches it, resolved as the AWS SDKs resolve them.

use crate::client::{ClientConfig, EcrClient};
use crate::credentials::{self, Credentials, Env};
use crate::redact;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    /// `--endpoint`; None: the environment, else the embedded server.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub timeout: Option<Duration>,
    pub max_attempts: Option<u32>,
    /// Attempts for throttling answers (`--max-throttle-attempts`).
    pub max_throttle_attempts: Option<u32>,
    pub allow_http: bool,
    /// PEM roots to trust instead of the system's (`--ca-bundle`, else `AWS_CA_BUNDLE`).
    pub ca_bundle: Option<std::path::PathBuf>,
    /// Accept any TLS certificate (`--insecure`).
    pub insecure: bool,
    /// Requests per second at most.
    pub rate_limit: Option<f64>,
    /// Refuse every write call.
    pub read_only: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The endpoints in these errors are as shown ([`redact::endpoint`]), not as given.
    #[error("endpoint {0:?} is not an http(s) URL with a host")]
    BadEndpoint(String),
    #[error(
        "endpoint {0} is plain HTTP to a host that is not loopback: credentials would travel unencrypted (pass --allow-http to do it anyway)"
    )]
    PlainHttp(String),
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    #[error("CA bundle {path}: {problem}")]
    CaBundle { path: String, problem: String },
}

/// Where the endpoint came from.
pub fn endpoint_from(options: &TargetOptions, env: &dyn Env) -> Option<String> {
    options
        .endpoint
        .clone()
        .or_else(|| env.var("AWS_ENDPOINT_URL_ECR"))
        .or_else(|| env.var("AWS_ENDPOINT_URL"))
}

pub fn region_from(options: &TargetOptions, env: &dyn Env) -> String {
    options
        .region
        .clone()
        .or_else(|| env.var("AWS_REGION"))
        .or_else(|| env.var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into())
}

/// Whether a URL's host is this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A target's short name for reports and snapshots: `embedded`, or the endpoint's host and port.
pub fn target_name(endpoint: Option<&str>) -> String {
    let Some(e) = endpoint else {
        return "embedded".into();
    };
    match reqwest::Url::parse(e) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("endpoint").replace(['[', ']', ':'], "-");
            match u.port() {
                Some(p) => format!("{host}-{p}"),
                None => host,
            }
        }
        Err(_) => "endpoint".into(),
    }
}

/// Registers for redaction every secret a command with these options may come to print: the
/// endpoint's password, and the credentials (those of the environment even when incomplete).
/// Called before anything runs: a spawned implementation's output, say, is quoted before the
/// client is built.
pub fn register_secrets(options: &TargetOptions, env: &dyn Env) {
    if let Some(endpoint) = endpoint_from(options, env) {
        redact::register_url_password(&endpoint);
    }
    for var in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        if let Some(value) = env.var(var) {
            redact::register(&value);
        }
    }
    if let Ok(found) = credentials::resolve(env, false) {
        register_credentials(&found);
    }
}

fn register_credentials(credentials: &Credentials) {
    redact::register(&credentials.secret_access_key);
    if let Some(token) = &credentials.session_token {
        redact::register(token);
    }
}

/// Checks an endpoint URL and builds the client for it.
pub fn client_for(
    endpoint: &str,
    options: &TargetOptions,
    env: &dyn Env,
) -> Result<(EcrClient, Credentials), ConfigError> {
    redact::register_url_password(endpoint);
    let url = reqwest::Url::parse(endpoint).map_err(|_| ConfigError::BadEndpoint(redact::endpoint(endpoint)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::BadEndpoint(redact::endpoint(endpoint)));
    }
    let loopback = is_loopback(&url);
    if url.scheme() == "http" && !loopback && !options.allow_http {
        return Err(ConfigError::PlainHttp(redact::endpoint(endpoint)));
    }
    let credentials = credentials::resolve(env, loopback)?;
    register_credentials(&credentials);
    let mut builder = reqwest::Client::builder()
        // A redirect would carry a signed request somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(
            options
                .timeout
                .unwrap_or(Duration::from_secs_f64(crate::defaults::TIMEOUT_SECONDS)),
        );
    let bundle = options
        .ca_bundle
        .clone()
        .or_else(|| env.var("AWS_CA_BUNDLE").map(Into::into));
    if let Some(path) = bundle {
        let shown = path.display().to_string();
        let pem = std::fs::read(&path).map_err(|e| ConfigError::CaBundle {
            path: shown.clone(),
            problem: e.to_string(),
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ConfigError::CaBundle {
            path: shown.clone(),
            problem: e.to_string(),
        })?;
        if certs.is_empty() {
            return Err(ConfigError::CaBundle {
                path: shown,
                problem: "no PEM certificate in it".into(),
            });
        }
        // As the AWS CLI does: the bundle replaces the system's roots.
        builder = builder.tls_certs_only(certs);
    }
    if options.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    let http = builder.build().map_err(ConfigError::Http)?;
    // A user name and password in the URL are no AWS credential: sent, they would go out as a
    // Basic Authorization header beside SigV4's (and be refused). Requests go to the URL without.
    let mut sent = url.clone();
    let _ = sent.set_username("");
    let _ = sent.set_password(None);
    let mut config = ClientConfig::new(
        sent.as_str().trim_end_matches('/'),
        region_from(options, env),
        credentials.clone(),
    );
    if let Some(t) = options.timeout {
        config.timeout = t;
    }
    if let Some(a) = options.max_attempts {
        config.max_attempts = a;
    }
    if let Some(a) = options.max_throttle_attempts {
        config.max_throttle_attempts = a;
    }
    config.rate_limit = options.rate_limit;
    config.read_only = options.read_only;
    Ok((EcrClient::new(config, http), credentials))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn endpoint_and_region_come_from_flags_then_the_environment() {
        let env = HashMap::from([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ]);
        assert_eq!(
            endpoint_from(&TargetOptions::default(), &env).as_deref(),
            Some("http://127.0.0.1:1")
        );
        let env2 = HashMap::from([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:2"),
            ("AWS_REGION", "ap-south-1"),
        ]);
        assert_eq!(
            endpoint_from(&TargetOptions::default(), &env2).as_deref(),
            Some("http://127.0.0.1:2")
        );
        let flags = TargetOptions {
            endpoint: Some("http://localhost:3".into()),
            region: Some("us-west-2".into()),
            ..Default::default()
        };
        assert_eq!(endpoint_from(&flags, &env2).as_deref(), Some("http://localhost:3"));
        assert_eq!(region_from(&TargetOptions::default(), &env), "eu-west-1");
        assert_eq!(region_from(&TargetOptions::default(), &env2), "ap-south-1");
        assert_eq!(region_from(&flags, &env2), "us-west-2");
        assert_eq!(region_from(&TargetOptions::default(), &HashMap::new()), "us-east-1");
        assert_eq!(endpoint_from(&TargetOptions::default(), &HashMap::new()), None);
    }

    #[test]
    fn plain_http_to_another_host_is_refused_without_allow_http() {
        let env = HashMap::from([("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")]);
        let opts = TargetOptions::default();
        assert!(matches!(
            client_for("http://registry.example.com", &opts, &env),
            Err(ConfigError::PlainHttp(_))
        ));
        assert!(
            client_for(
                "http://registry.example.com",
                &TargetOptions {
                    allow_http: true,
                    ..opts.clone()
                },
                &env
            )
            .is_ok()
        );
        assert!(client_for("http://127.0.0.1:9", &opts, &env).is_ok());
        assert!(matches!(
            client_for("ftp://x", &opts, &env),
            Err(ConfigError::BadEndpoint(_))
        ));
        assert!(matches!(
            client_for("not a url", &opts, &env),
            Err(ConfigError::BadEndpoint(_))
        ));
    }

    #[test]
    fn loopback_endpoints_without_credentials_sign_with_test_test() {
        let (_, c) = client_for(
            "http://[::1]:9",
            &TargetOptions::default(),
            &HashMap::from([("HOME", "/nonexistent")]),
        )
        .expect("loopback");
        assert_eq!(c.access_key_id, "test");
        assert!(
            client_for(
                "https://api.ecr.us-east-1.amazonaws.com",
                &TargetOptions::default(),
                &HashMap::from([("HOME", "/nonexistent")])
            )
            .is_err()
        );
    }

    #[test]
    fn target_names_are_file_name_safe() {
        assert_eq!(target_name(None), "embedded");
        assert_eq!(target_name(Some("http://127.0.0.1:5000")), "127.0.0.1-5000");
        assert_eq!(
            target_name(Some("https://api.ecr.us-east-1.amazonaws.com")),
            "api.ecr.us-east-1.amazonaws.com"
        );
    }
}

//! What a run runs against: a spawned implementation, the endpoint named, or the embedded
//! reference server; and the commands that only need an endpoint (`serve`, `sweep`).

use super::SessionError;
use crate::credentials::Env;
use crate::server::{self, Alternatives, ServerConfig, Variants};
use crate::target::{self, TargetOptions};
use std::net::SocketAddr;

/// The embedded server's target name: `embedded`, `embedded-<variant>`, and `+<alternative>` for
/// each alternative switched on by hand, so that their snapshots never mix with the reference's.
pub(crate) fn embedded_name(variant: &Variants, alternatives: Alternatives) -> String {
    let mut name = if variant.is_reference() {
        "embedded".to_string()
    } else {
        format!("embedded-{variant}")
    };
    for a in alternatives.iter() {
        name.push('+');
        name.push_str(a.name());
    }
    name
}

/// The embedded server for `serve`, until the returned future is dropped or interrupted.
pub async fn serve(port: u16, config: ServerConfig) -> Result<server::RunningServer, SessionError> {
    server::start(config, SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(SessionError::Server)
}

/// The endpoint's URL, or the embedded reference server (with this variant and these
/// alternatives) started on loopback when no endpoint is given: it lives as long as the caller
/// keeps it.
pub(crate) async fn endpoint_or_embedded(
    endpoint: &Option<String>,
    target: &TargetOptions,
    variant: &Variants,
    alternatives: Alternatives,
    env: &dyn Env,
) -> Result<(Option<server::RunningServer>, String), SessionError> {
    if let Some(e) = endpoint {
        return Ok((None, e.clone()));
    }
    let config = ServerConfig {
        variant: variant.clone(),
        alternatives,
        region: target::region_from(target, env),
        ..ServerConfig::default()
    };
    let running = server::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(SessionError::Server)?;
    let url = running.url();
    Ok((Some(running), url))
}

/// `ecr-conformance sweep`: deletes the repositories of earlier runs (names starting with
/// `prefix`, which must start with the tool's own `ecrc-`).
pub async fn sweep(
    target: &TargetOptions,
    prefix: &str,
    env: &dyn Env,
) -> Result<(Vec<String>, Vec<(String, String)>), SessionError> {
    if !prefix.starts_with(crate::seeding::TOOL_PREFIX) {
        return Err(SessionError::Usage(format!(
            "--prefix must start with {:?}: sweep deletes only the tool's repositories",
            crate::seeding::TOOL_PREFIX
        )));
    }
    target::register_secrets(target, env);
    let Some(endpoint) = target::endpoint_from(target, env) else {
        return Err(SessionError::Usage(
            "sweep needs --endpoint (or AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL)".into(),
        ));
    };
    let (client, _) = target::client_for(&endpoint, target, env)?;
    crate::seeding::sweep(&client, prefix)
        .await
        .map_err(|e| SessionError::Endpoint(format!("sweep: {e}")))
}

/// Starts the implementation under test when `--spawn` asks for it, and points the run at it. It
/// is stopped when the returned guard is dropped.
pub(super) async fn spawn_asked(
    options: &mut super::RunOptions,
) -> Result<Option<crate::spawn::Spawned>, SessionError> {
    let Some(command) = &options.spawn else {
        return Ok(None);
    };
    let spawned = crate::spawn::spawn(command, options.spawn_startup).await?;
    if options.progress {
        crate::console::note(format!(
            "ecr-conformance: started {:?} on {}",
            spawned.command,
            spawned.endpoint()
        ));
    }
    options.target.endpoint = Some(spawned.endpoint());
    Ok(Some(spawned))
}

/// The run's first progress lines: what it runs against, and how.
pub(super) fn announce(
    options: &super::RunOptions,
    seed: u64,
    name: &str,
    url: &str,
    region: &str,
    credentials: &str,
    embedded: bool,
) {
    crate::console::note(format!(
        "ecr-conformance: seed {seed}, target {name} ({}), region {region}, credentials from {credentials}",
        crate::redact::endpoint(url),
    ));
    // The alternatives the embedded server serves this run's repositories (all named with the
    // run's prefix), so that a failing advisory-mix seed says what it was made of.
    let served = options
        .alternatives
        .union(options.variant.alternatives_for(&crate::run::run_prefix(seed)));
    if embedded && !served.is_empty() {
        crate::console::note(format!("ecr-conformance: alternatives {served}"));
    }
}

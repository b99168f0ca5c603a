//! Deleting what a run created, and what earlier runs left behind (the tool's own prefix only).

use super::read_back::repositories;
use crate::client::{ApiError, EcrClient};
use crate::wire;

pub(super) async fn delete(client: &EcrClient, name: &str) -> Result<(), ApiError> {
    let request = wire::DeleteRepositoryRequest {
        repository_name: name.into(),
        force: true,
    };
    match client
        .call::<_, serde_json::Value>("DeleteRepository", &request, true)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.error_type() == Some("RepositoryNotFoundException") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes every repository of `names`; returns the ones that could not be deleted, with why.
pub async fn cleanup(client: &EcrClient, names: &[String]) -> Vec<(String, String)> {
    let mut left = Vec::new();
    for name in names {
        if let Err(e) = delete(client, name).await {
            left.push((name.clone(), e.to_string()));
        }
    }
    left
}

/// The tool's own mark: every repository a run creates starts with it, and `sweep` deletes
/// nothing else.
pub const TOOL_PREFIX: &str = "ecrc-";

/// Deletes the leftovers of earlier runs: the repositories whose names start with `prefix`, which
/// must itself start with [`TOOL_PREFIX`]. Returns the deleted names and the failures.
pub async fn sweep(client: &EcrClient, prefix: &str) -> Result<(Vec<String>, Vec<(String, String)>), ApiError> {
    let ours: Vec<String> = repositories(client)
        .await?
        .into_iter()
        .filter(|n| prefix.starts_with(TOOL_PREFIX) && n.starts_with(prefix))
        .collect();
    let failed = cleanup(client, &ours).await;
    let deleted = ours
        .into_iter()
        .filter(|n| !failed.iter().any(|(f, _)| f == n))
        .collect();
    Ok((deleted, failed))
}

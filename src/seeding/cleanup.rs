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

const DELETIONS_IN_FLIGHT: usize = 8;

/// Deletes every repository of `names`, side by side (within the client's bound of calls in
/// flight: against a remote registry each deletion is a round trip); returns the ones that could
/// not be deleted, with why, in the order of `names`.
pub async fn cleanup(client: &EcrClient, names: &[String]) -> Vec<(String, String)> {
    // At most this many at once, whatever bound the client has (`sweep` may find thousands).
    let bound = std::sync::Arc::new(tokio::sync::Semaphore::new(DELETIONS_IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, name) in names.iter().enumerate() {
        let (client, name, bound) = (client.clone(), name.clone(), bound.clone());
        tasks.spawn(async move {
            let _permit = bound.acquire_owned().await;
            (i, delete(&client, &name).await.map_err(|e| e.to_string()))
        });
    }
    let mut answered = vec![false; names.len()];
    let mut left = Vec::new();
    while let Some(done) = tasks.join_next().await {
        // A task that stopped (it panicked) answers for no name: it is found below.
        if let Ok((i, outcome)) = done {
            answered[i] = true;
            if let Err(e) = outcome {
                left.push((i, e));
            }
        }
    }
    left.extend(
        (0..names.len())
            .filter(|i| !answered[*i])
            .map(|i| (i, "the deletion's task stopped".to_string())),
    );
    left.sort_by_key(|(i, _)| *i);
    left.into_iter().map(|(i, e)| (names[i].clone(), e)).collect()
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

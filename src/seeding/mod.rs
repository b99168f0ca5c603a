//! A registry plan made real on an endpoint, the way a real push does it: each repository created,
//! its blobs uploaded before the manifests that reference them, children before lists, tags pushed
//! in order. What the endpoint answers becomes the model's state (its registry id, the digests it
//! assigned), and where those answers differ from ECR's, a deviation is recorded once and seeding
//! goes on, so that one bug does not hide the others.

mod cleanup;
mod push;
mod read_back;

use crate::client::{ApiError, CallError, EcrClient};
use crate::control::RunControl;
use crate::model::Deviation;
use crate::model::{RegistryPlan, RegistryState, Repository};
use crate::rules::{id, rule_by_id};
use push::seed_repository;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

pub use cleanup::{TOOL_PREFIX, cleanup, sweep};
pub use read_back::{listing, read_state, repositories};

/// What seeding left behind.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The model of what the endpoint now holds.
    pub state: RegistryState,
    /// Every repository this seeding created (all of them are to be deleted at the end).
    pub created: Vec<String>,
    /// Seeding answers that differ from ECR, each kind once.
    pub deviations: Vec<Deviation>,
    /// How many seeding answers each `S-*` rule judged (the run's coverage).
    pub checked: BTreeMap<&'static str, usize>,
}

/// Seeding stopped: the endpoint could not be reached, or refused to create a repository.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SeedError {
    #[error("seeding could not reach the endpoint: {0}")]
    Fault(CallError),
    #[error("seeding was refused: {0}")]
    Refused(ApiError),
    /// A server error or throttling after every retry, or an answer that cannot be read: the
    /// endpoint's passing state, a fault of the world being seeded, never a finding.
    #[error("seeding got no usable answer: {0}")]
    Unavailable(ApiError),
    #[error("seeding stopped: {0}")]
    Stopped(String),
}

#[derive(Default)]
struct Recorder {
    seen: HashSet<(String, String)>,
    /// Each with its (rule, kind), so that recorders of repositories seeded apart merge into one
    /// that holds each kind once, as one recorder over the whole plan would.
    deviations: Vec<((String, String), Deviation)>,
    checked: BTreeMap<&'static str, usize>,
}

impl Recorder {
    /// Counts an answer that these rules judged (a refusal included; no answer at all is not one).
    fn judged(&mut self, rules: &[&'static str]) {
        for rule in rules {
            *self.checked.entry(rule).or_default() += 1;
        }
    }

    /// Records a deviation unless one of the same rule and kind is already recorded.
    fn once(
        &mut self,
        rule: &str,
        kind: &str,
        summary: String,
        expected: serde_json::Value,
        actual: serde_json::Value,
    ) {
        let key = (rule.to_string(), kind.to_string());
        if self.seen.insert(key.clone()) {
            let expected_kind = match rule {
                id::S_PUT_DIGEST => "the manifest's sha256",
                id::S_REGISTRY_ID => "a 12-digit registryId",
                _ => "accepted",
            };
            self.deviations.push((
                key,
                Deviation::new(rule, rule_by_id(rule).level, summary, expected, actual).kinds(expected_kind, kind),
            ));
        }
    }

    /// Takes in another recorder's counts and deviations (the kinds it does not hold yet), after
    /// its own.
    fn merge(&mut self, other: Recorder) {
        for (rule, n) in other.checked {
            *self.checked.entry(rule).or_default() += n;
        }
        for (key, d) in other.deviations {
            if self.seen.insert(key.clone()) {
                self.deviations.push((key, d));
            }
        }
    }
}

fn fault_or_refusal(e: ApiError) -> SeedError {
    match e {
        ApiError::Call(CallError::Stopped { reason, .. }) => SeedError::Stopped(reason),
        ApiError::Call(c) => SeedError::Fault(c),
        e if unusable(&e) => SeedError::Unavailable(e),
        other => SeedError::Refused(other),
    }
}

/// Whether a failed call got no usable answer: no answer at all, a server error or throttling
/// after every retry, or an answer that cannot be read. Seeding stops there: the world's fault.
fn unusable(e: &ApiError) -> bool {
    match e {
        ApiError::Call(_) | ApiError::Unreadable { .. } => true,
        ApiError::Service { status, error_type, .. } => crate::client::is_transient(*status, error_type.as_deref()),
    }
}

/// Seeds `plan`. `registry_hint` is the registry id assumed until the endpoint names its own.
/// On error, the returned `Seeded` still lists what was created, for cleanup.
///
/// Repositories are seeded in parallel, and the blobs of each; a repository's pushes go in the
/// plan's order (children before lists, the pushes that move a tag in turn). How many calls are in
/// flight is the client's bound (`EcrClient::with_max_in_flight`), its rate the client's too. The
/// repositories' results are merged in the plan's order, so that the outcome is the one sequential
/// seeding gives whatever order the answers came in: the same state, deviations and counts, and
/// the error of the first repository (in the plan's order) that failed. Repositories after it
/// may have been created meanwhile: they are in `created` (and the control's ledger), nothing
/// else of them is kept.
pub async fn populate(
    client: &EcrClient,
    plan: &RegistryPlan,
    registry_hint: &str,
    control: &RunControl,
) -> (Seeded, Option<SeedError>) {
    let mut tasks = tokio::task::JoinSet::new();
    let mut index_of = std::collections::HashMap::new();
    for (i, repo) in plan.repositories.iter().enumerate() {
        let (client, control, hint) = (client.clone(), control.clone(), registry_hint.to_string());
        let repo = Arc::new(repo.clone());
        let task = tasks.spawn(async move { (i, seed_repository(&client, repo, &hint, &control).await) });
        index_of.insert(task.id(), i);
    }
    let mut results: Vec<Option<RepositorySeeded>> = plan.repositories.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next_with_id().await {
        let (i, seeded) = match joined {
            Ok((_, (i, seeded))) => (i, seeded),
            // A task that panicked: its repository may exist (cleanup deletes what is not there
            // without complaint), and the world has no usable seeding.
            Err(e) => {
                let i = index_of.get(&e.id()).copied().unwrap_or_default();
                let seeded = RepositorySeeded {
                    created: true,
                    error: Some(SeedError::Fault(CallError::Transport {
                        operation: "seeding".into(),
                        message: format!("the seeding task stopped: {e}"),
                        source: Some(std::sync::Arc::new(e)),
                    })),
                    ..RepositorySeeded::default()
                };
                (i, seeded)
            }
        };
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(seeded);
        }
    }
    let mut seeded = Seeded {
        state: RegistryState::new(registry_hint),
        created: Vec::new(),
        deviations: Vec::new(),
        checked: BTreeMap::new(),
    };
    let mut rec = Recorder::default();
    let mut registry_known = false;
    let mut error = None;
    for (repo, result) in plan.repositories.iter().zip(results) {
        let Some(result) = result else { continue };
        if result.created {
            seeded.created.push(repo.name.clone());
        }
        // Sequential seeding would have stopped at the first error: what came after it is not
        // the outcome.
        if error.is_some() {
            continue;
        }
        rec.merge(result.recorder);
        if !registry_known && let Some(id) = result.registry_id {
            seeded.state.registry_id = id;
            registry_known = true;
        }
        if let Some(repository) = result.repository {
            seeded.state.repositories.insert(repo.name.clone(), repository);
        }
        error = result.error;
    }
    seeded.deviations = rec.deviations.into_iter().map(|(_, d)| d).collect();
    seeded.checked = rec.checked;
    (seeded, error)
}

/// What seeding one repository left behind.
#[derive(Default)]
struct RepositorySeeded {
    /// Whether the repository was created (then it is to be deleted at the end).
    created: bool,
    /// The model of what the repository holds, once created.
    repository: Option<Repository>,
    /// The registry id the endpoint named first while seeding it.
    registry_id: Option<String>,
    recorder: Recorder,
    error: Option<SeedError>,
}

#[cfg(test)]
mod tests;

//! The case files of a run: each seeded under its own prefix, its request sent and judged as a
//! generated case is (the metamorphic properties included).

use super::RunConfig;
use super::book::{absorb, record_seeding, unreachable};
use super::case::run_case;
use crate::cases::CaseFile;
use crate::client::EcrClient;
use crate::control::RunControl;
use crate::model::{RegistryPlan, RegistryState};
use crate::outcome::{CaseResult, Fault, FaultKind, Origin, RunOutcome};
use crate::seeding;
use crate::wire::BatchGetImageRequest;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Sends every selected case file's request against its own seeded state. The files are seeded
/// and sent side by side (each under its own prefix; against a remote registry each is a chain of
/// round trips), and taken into the outcome in their order, so the report is that of one file
/// after the other.
pub(super) async fn run_case_files(client: &EcrClient, config: &RunConfig, out: &mut RunOutcome) {
    if let Some(reason) = config.control.stop_reason() {
        out.aborted = Some(reason);
        return;
    }
    // What needs no endpoint first: a file whose state cannot be built, or whose names do not
    // fit under the run's prefix, is skipped (in its place among the others).
    let mut planned: Vec<(&std::path::Path, &CaseFile, Result<usize, String>)> = Vec::new();
    let mut tasks = JoinSet::new();
    for (i, (path, case)) in config.case_files.iter().enumerate() {
        if config
            .case_files_selected
            .as_ref()
            .is_some_and(|own| !own.contains(&case.name))
        {
            continue;
        }
        let plan = case.plan();
        if let Err(e) = plan.build(&case.registry_id) {
            planned.push((
                path,
                case,
                Err(format!("{}: not seedable on an endpoint ({e})", path.display())),
            ));
            continue;
        }
        let prefix = format!("{}-c{}/", config.prefix, i + 1);
        // A name the generators made at ECR's limit under a world's prefix does not fit under a
        // longer one: ECR would refuse the repository, which is not the endpoint's deviation.
        if let Some(long) = plan
            .repositories
            .iter()
            .find(|r| prefix.len() + r.name.len() > crate::model::syntax::REPO_NAME_MAX)
        {
            planned.push((
                path,
                case,
                Err(format!(
                    "{}: a repository name of {} characters does not fit under this run's prefix {prefix} (ECR's limit is {})",
                    path.display(),
                    long.name.len(),
                    crate::model::syntax::REPO_NAME_MAX
                )),
            ));
            continue;
        }
        let k = planned.len();
        planned.push((path, case, Ok(k)));
        let sending = Sending {
            client: client.clone(),
            plan,
            prefix,
            request: case.request.clone(),
            registry_id: case.registry_id.clone(),
            registry_hint: config.registry_hint.clone(),
            control: config.control.clone(),
        };
        tasks.spawn(async move { (k, sending.go().await) });
    }
    let mut sent: Vec<Option<Sent>> = (0..planned.len()).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        // A task that stopped (it panicked) leaves its file without a result: a fault below.
        if let Ok((k, result)) = done {
            sent[k] = Some(result);
        }
    }
    for (path, case, plan) in planned {
        if let Some(reason) = config.control.stop_reason() {
            out.aborted = Some(reason);
            return;
        }
        let trial = Origin::CaseFile(case.name.clone());
        let k = match plan {
            Ok(k) => k,
            Err(reason) => {
                out.skipped_cases.push((case.name.clone(), reason));
                continue;
            }
        };
        let Some(result) = sent[k].take() else {
            out.faults
                .push(Fault::new(trial, FaultKind::Other, "the case file's task stopped"));
            continue;
        };
        record_seeding(out, &trial, &result.seeded, result.error.as_ref());
        if unreachable(out, &result.seeded, result.error.as_ref()) {
            return;
        }
        match result.then {
            Then::NotSent => {}
            Then::MeaningLost(reason) => out
                .skipped_cases
                .push((case.name.clone(), format!("{}: {reason}", path.display()))),
            Then::Answered(request, r) => {
                absorb(out, &trial, &request, None, &[], *r, true);
                out.cases_run += 1;
                out.case_files_run.insert(case.name.clone());
            }
        }
    }
}

/// One case file to seed and send, owned, so that it runs in a task of its own.
struct Sending {
    client: EcrClient,
    plan: RegistryPlan,
    prefix: String,
    request: BatchGetImageRequest,
    registry_id: String,
    registry_hint: String,
    control: RunControl,
}

/// What came of a case file: its seeding, and then its request's result.
struct Sent {
    seeded: seeding::Seeded,
    error: Option<seeding::SeedError>,
    then: Then,
}

enum Then {
    /// Seeding failed: nothing was sent.
    NotSent,
    /// The seeded state no longer lets the request ask what it was written to ask.
    MeaningLost(String),
    Answered(BatchGetImageRequest, Box<CaseResult>),
}

impl Sending {
    async fn go(self) -> Sent {
        let (seeded, error) = seeding::populate(
            &self.client,
            &self.plan.with_prefix(&self.prefix),
            &self.registry_hint,
            &self.control,
        )
        .await;
        if error.is_some() {
            return Sent {
                seeded,
                error,
                then: Then::NotSent,
            };
        }
        if let Some(reason) = case_meaning_lost(&self.plan, &self.request, &seeded.state, &self.prefix) {
            return Sent {
                seeded,
                error,
                then: Then::MeaningLost(reason),
            };
        }
        let mut request = self.request;
        request.repository_name = format!("{}{}", self.prefix, request.repository_name);
        if request.registry_id.as_deref() == Some(self.registry_id.as_str()) {
            request.registry_id = Some(seeded.state.registry_id.clone());
        }
        let state = Arc::new(seeded.state.clone());
        let r = run_case(self.client.clone(), state, 0, request.clone(), true).await;
        Sent {
            seeded,
            error,
            then: Then::Answered(request, Box::new(r)),
        }
    }
}

/// Why a seeded case file no longer asks what it was written to ask, if it does not: its request
/// names an image by the digest ECR gives it, and the endpoint gave that image another digest
/// (S-PUT-DIGEST, reported apart), or it names a tag or digest under which the endpoint holds an
/// image the model cannot predict. (Generated requests avoid both by construction.)
fn case_meaning_lost(
    plan: &RegistryPlan,
    request: &BatchGetImageRequest,
    seeded: &RegistryState,
    prefix: &str,
) -> Option<String> {
    let repo = seeded.repository(&format!("{prefix}{}", request.repository_name))?;
    let held: BTreeSet<&str> = repo.images.iter().map(|i| i.digest.as_str()).collect();
    let pushed: BTreeSet<String> = plan
        .repositories
        .iter()
        .flat_map(|r| {
            r.pushes
                .iter()
                .map(|p| crate::model::syntax::sha256_digest(p.manifest.as_bytes()))
        })
        .collect();
    for id in &request.image_ids {
        if let Some(d) = &id.image_digest
            && pushed.contains(d)
            && !held.contains(d.as_str())
        {
            return Some(format!("the endpoint gave the image {d} another digest"));
        }
        let names = id.image_digest.iter().chain(id.image_tag.iter());
        if let Some(name) = names.into_iter().find(|n| repo.unpredictable.contains(*n)) {
            return Some(format!(
                "the endpoint holds {name} for an image the model cannot predict"
            ));
        }
    }
    None
}

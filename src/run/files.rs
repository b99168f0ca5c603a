//! The case files of a run: each seeded under its own prefix, its request sent and judged as a
//! generated case is (the metamorphic properties included).

use super::RunConfig;
use super::book::{absorb, record_seeding, unreachable};
use super::case::run_case;
use crate::client::EcrClient;
use crate::model::{RegistryPlan, RegistryState};
use crate::outcome::{Origin, RunOutcome};
use crate::seeding;
use crate::wire::BatchGetImageRequest;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Sends every selected case file's request against its own seeded state.
pub(super) async fn run_case_files(client: &EcrClient, config: &RunConfig, out: &mut RunOutcome) {
    for (i, (path, case)) in config.case_files.iter().enumerate() {
        if let Some(reason) = config.control.stop_reason() {
            out.aborted = Some(reason);
            return;
        }
        if config
            .case_files_selected
            .as_ref()
            .is_some_and(|own| !own.contains(&case.name))
        {
            continue;
        }
        let trial = Origin::CaseFile(case.name.clone());
        let plan = case.plan();
        if let Err(e) = plan.build(&case.registry_id) {
            out.skipped_cases.push((
                case.name.clone(),
                format!("{}: not seedable on an endpoint ({e})", path.display()),
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
            out.skipped_cases.push((
                case.name.clone(),
                format!(
                    "{}: a repository name of {} characters does not fit under this run's prefix {prefix} (ECR's limit is {})",
                    path.display(),
                    long.name.len(),
                    crate::model::syntax::REPO_NAME_MAX
                ),
            ));
            continue;
        }
        let (seeded, error) = seeding::populate(
            client,
            &plan.with_prefix(&prefix),
            &config.registry_hint,
            &config.control,
        )
        .await;
        record_seeding(out, &trial, &seeded, error.as_ref());
        if unreachable(out, &seeded, error.as_ref()) {
            return;
        }
        if error.is_some() {
            continue;
        }
        if let Some(reason) = case_meaning_lost(&plan, &case.request, &seeded.state, &prefix) {
            out.skipped_cases
                .push((case.name.clone(), format!("{}: {reason}", path.display())));
            continue;
        }
        let mut request = case.request.clone();
        request.repository_name = format!("{prefix}{}", request.repository_name);
        if request.registry_id.as_deref() == Some(case.registry_id.as_str()) {
            request.registry_id = Some(seeded.state.registry_id.clone());
        }
        let state = Arc::new(seeded.state);
        let r = run_case(client.clone(), state, 0, request.clone(), true).await;
        absorb(out, &trial, &request, None, &[], r, true);
        out.cases_run += 1;
        out.case_files_run.insert(case.name.clone());
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

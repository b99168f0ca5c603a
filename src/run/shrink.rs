//! Minimal examples: a failing case is shrunk, first the request (cheap: no re-seeding), with
//! proptest's value tree, then the registry state (each step re-seeded into fresh repositories),
//! by removing repositories and pushes while the deviation's class still shows; last, the example
//! is rebuilt canonically (see [`crate::canonical`]) and kept in that form if the class still shows
//! there, so that two seeds finding one bug give one example.

use super::case::run_case;
use crate::canonical;
use crate::client::EcrClient;
use crate::control::RunControl;
use crate::generate::requests::Case;
use crate::judge::Deviation;
use crate::model::{RegistryPlan, RegistryState};
use crate::outcome::{ClassKey, Minimal, Origin, Property};
use crate::seeding;
use crate::wire::BatchGetImageRequest;
use proptest::strategy::ValueTree;
use std::sync::Arc;
use std::time::Instant;

/// What shrinking may use.
pub struct ShrinkContext<'a> {
    pub client: &'a EcrClient,
    pub control: &'a RunControl,
    /// The run's prefix: each re-seeded state gets `{prefix}-s{n}/`.
    pub run_prefix: &'a str,
    /// The world's seeded state and the prefix its repositories carry.
    pub state: Arc<RegistryState>,
    pub world_prefix: &'a str,
    /// The world's plan, without the prefix (None in read-only mode: the state is not ours).
    pub plan: Option<&'a RegistryPlan>,
    pub max_steps: usize,
    pub deadline: Instant,
    pub registry_hint: &'a str,
}

/// Sends `request` against `state` (metamorphic properties too when the class is one) and returns
/// the deviation of class `key`, if it shows.
async fn shows(
    client: &EcrClient,
    state: Arc<RegistryState>,
    request: &BatchGetImageRequest,
    key: &ClassKey,
) -> Option<Deviation> {
    let metamorphic = !key.is(Property::Model);
    // A fault, or a deviation a re-send did not confirm, says nothing of the candidate: it is
    // looked at again (twice at most), so that a glitch does not steer the shrinking elsewhere.
    for _ in 0..LOOKS {
        let result = run_case(client.clone(), state.clone(), 0, request.clone(), metamorphic).await;
        if result.fault.is_none() && result.unconfirmed.is_empty() {
            return result
                .all()
                .find(|(p, d)| &ClassKey::from_deviation(*p, d) == key)
                .map(|(_, d)| d.clone());
        }
    }
    None
}

/// How many times a candidate is tried when faults keep it from an answer.
const LOOKS: usize = 3;

/// A counter of seeded attempts, for fresh prefixes.
static ATTEMPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Seeds `plan` under a fresh prefix, sends `request` (whose repository name is under
/// `from_prefix`), checks for the class, and deletes what it seeded.
async fn attempt(
    ctx: &ShrinkContext<'_>,
    plan: &RegistryPlan,
    request: &BatchGetImageRequest,
    from_prefix: &str,
    key: &ClassKey,
) -> Option<(Deviation, BatchGetImageRequest, String)> {
    for _ in 0..LOOKS {
        match attempt_once(ctx, plan, request, from_prefix, key).await {
            Attempt::Faulted => continue,
            Attempt::Shown(shown) => return shown.map(|b| *b),
        }
    }
    None
}

/// The prefix of attempt `n`: `{run}-s{n}/`, or, where the plan's longest name would not fit ECR's
/// 256 characters under it (a name the generators made at the limit under its world's shorter
/// prefix), `n` cut to its last digits so that the name keeps the length it had in its world.
/// Every attempt deletes what it seeded, so a prefix used again many attempts later is free.
fn attempt_prefix(run_prefix: &str, n: usize, longest: usize) -> String {
    let full = format!("{run_prefix}-s{n}/");
    let room = crate::model::syntax::REPO_NAME_MAX.saturating_sub(longest);
    if full.len() <= room {
        return full;
    }
    let digits = room.saturating_sub(run_prefix.len() + "-s/".len()).clamp(1, 9);
    format!("{run_prefix}-s{}/", n % 10usize.pow(digits as u32))
}

enum Attempt {
    /// Seeding got no usable answer: the candidate is tried again.
    Faulted,
    Shown(Option<Box<(Deviation, BatchGetImageRequest, String)>>),
}

async fn attempt_once(
    ctx: &ShrinkContext<'_>,
    plan: &RegistryPlan,
    request: &BatchGetImageRequest,
    from_prefix: &str,
    key: &ClassKey,
) -> Attempt {
    if ctx.control.should_stop() {
        return Attempt::Shown(None);
    }
    let n = ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let longest = plan.repositories.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let prefix = attempt_prefix(ctx.run_prefix, n, longest);
    let (seeded, error) =
        seeding::populate(ctx.client, &plan.with_prefix(&prefix), ctx.registry_hint, ctx.control).await;
    let mut shown = None;
    if error.is_none() {
        let mut sent = request.clone();
        sent.repository_name = if from_prefix.is_empty() {
            format!("{prefix}{}", request.repository_name)
        } else {
            request.repository_name.replacen(from_prefix, &prefix, 1)
        };
        let registry_id = seeded.state.registry_id.clone();
        if let Some(d) = shows(ctx.client, Arc::new(seeded.state.clone()), &sent, key).await {
            shown = Some((d, sent, registry_id));
        }
    }
    let left = seeding::cleanup(&ctx.client.without_stop(), &seeded.created).await;
    let deleted: Vec<String> = seeded
        .created
        .iter()
        .filter(|c| !left.iter().any(|(l, _)| l == *c))
        .cloned()
        .collect();
    ctx.control.deleted(&deleted);
    match error {
        Some(seeding::SeedError::Fault(_) | seeding::SeedError::Unavailable(_)) => Attempt::Faulted,
        _ => Attempt::Shown(shown.map(Box::new)),
    }
}

/// The smaller plans to try: without one repository (not the request's), without one push, or
/// with one push untagged.
fn smaller_plans(plan: &RegistryPlan, target: &str) -> Vec<RegistryPlan> {
    let mut out = Vec::new();
    for (r, repo) in plan.repositories.iter().enumerate() {
        if repo.name != target {
            let mut p = plan.clone();
            p.repositories.remove(r);
            out.push(p);
        }
    }
    for (r, repo) in plan.repositories.iter().enumerate() {
        for k in (0..repo.pushes.len()).rev() {
            let mut p = plan.clone();
            p.repositories[r].pushes.remove(k);
            out.push(p.normalised());
        }
    }
    // An untagged push is simpler than a tagged one.
    for (r, repo) in plan.repositories.iter().enumerate() {
        for k in 0..repo.pushes.len() {
            if repo.pushes[k].tag.is_some() {
                let mut p = plan.clone();
                p.repositories[r].pushes[k].tag = None;
                out.push(p.normalised());
            }
        }
    }
    out.retain(|p| p != plan);
    out
}

/// The target repository's name in the plan (the request's name without the world prefix).
fn target_in(plan: &RegistryPlan, request: &BatchGetImageRequest, world_prefix: &str) -> String {
    let name = request
        .repository_name
        .strip_prefix(world_prefix)
        .unwrap_or(&request.repository_name);
    plan.repositories
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| name.starts_with(n) || name.contains(n))
        .max_by_key(|n| n.len())
        .unwrap_or("")
        .to_string()
}

type Found = (Deviation, BatchGetImageRequest, String);

/// Simpler requests: without `acceptedMediaTypes`, without `registryId`, without one of the ids,
/// or with an image named by its tag instead of its digest.
fn simpler_requests(r: &BatchGetImageRequest, plan: &RegistryPlan) -> Vec<BatchGetImageRequest> {
    let mut out = Vec::new();
    // A deviation of the whole request seldom depends on which ids it carries: the same number of
    // one plain id, or that id alone, gives every seed the same example (101 ids included).
    let plain = crate::wire::ImageIdentifier::tag("tag-1");
    if r.image_ids.iter().any(|id| id != &plain) {
        out.push(BatchGetImageRequest {
            image_ids: vec![plain.clone(); r.image_ids.len()],
            ..r.clone()
        });
    }
    if r.image_ids.len() > 1 {
        out.push(BatchGetImageRequest {
            image_ids: vec![plain],
            ..r.clone()
        });
    }
    // A registry id that is not ours, in one spelling for every seed: malformed, or another
    // account's.
    if let Some(id) = &r.registry_id {
        for canonical in ["12345678901a", "210987654321"] {
            if id != canonical {
                out.push(BatchGetImageRequest {
                    registry_id: Some(canonical.into()),
                    ..r.clone()
                });
            }
        }
    }
    let tag_of = |digest: &str| {
        plan.repositories
            .iter()
            .flat_map(|repo| repo.pushes.iter())
            .find_map(|p| {
                (crate::model::syntax::sha256_digest(p.manifest.as_bytes()) == digest)
                    .then(|| p.tag.clone())
                    .flatten()
            })
    };
    for (i, id) in r.image_ids.iter().enumerate() {
        if let (None, Some(d)) = (&id.image_tag, &id.image_digest)
            && let Some(t) = tag_of(d)
        {
            let mut by_tag = r.clone();
            by_tag.image_ids[i] = crate::wire::ImageIdentifier::tag(t);
            out.push(by_tag);
        }
    }
    if r.accepted_media_types.is_some() {
        out.push(BatchGetImageRequest {
            accepted_media_types: None,
            ..r.clone()
        });
    }
    if r.registry_id.is_some() {
        out.push(BatchGetImageRequest {
            registry_id: None,
            ..r.clone()
        });
    }
    if r.image_ids.len() > 1 {
        for i in 0..r.image_ids.len() {
            let mut fewer = r.clone();
            fewer.image_ids.remove(i);
            out.push(fewer);
        }
    }
    out
}

/// The last pass, in canonical form: simpler requests and smaller states while the class shows,
/// re-canonicalised after each change so that names stay in order of appearance.
async fn polish(
    ctx: &ShrinkContext<'_>,
    mut c: canonical::Canonical,
    mut found: Found,
    form: canonical::Form,
    key: &ClassKey,
    steps: &mut usize,
) -> (canonical::Canonical, Found, bool) {
    for _ in 0..POLISH_ROUNDS {
        let mut changed: Option<(RegistryPlan, BatchGetImageRequest)> = None;
        for r in simpler_requests(&c.request, &c.plan) {
            if Instant::now() >= ctx.deadline {
                break;
            }
            *steps += 1;
            if attempt(ctx, &c.plan, &r, "", key).await.is_some() {
                changed = Some((c.plan.clone(), r));
                break;
            }
        }
        if changed.is_none() {
            let target = target_in(&c.plan, &c.request, "");
            for p in smaller_plans(&c.plan, &target) {
                if Instant::now() >= ctx.deadline {
                    break;
                }
                *steps += 1;
                if attempt(ctx, &p, &c.request, "", key).await.is_some() {
                    changed = Some((p, c.request.clone()));
                    break;
                }
            }
        }
        let Some((plan, request)) = changed else {
            // Nothing simpler shows the class: the example is as small as this search makes it,
            // unless time ran out before every candidate was tried.
            let converged = Instant::now() < ctx.deadline;
            return (c, found, converged);
        };
        let again = canonical::canonicalise(&plan, &request, form);
        *steps += 1;
        match attempt(ctx, &again.plan, &again.request, "", key).await {
            Some(f) => {
                c = again;
                found = f;
            }
            None => return (c, found, false),
        }
    }
    (c, found, false)
}

/// Rounds of the last pass, at most.
const POLISH_ROUNDS: usize = 12;

/// Shrinks one failing case of class `key` into its minimal example.
pub async fn minimise(
    ctx: &ShrinkContext<'_>,
    tree: &mut dyn ValueTree<Value = Case>,
    key: &ClassKey,
    trial: &Origin,
) -> Option<Minimal> {
    let original = tree.current();
    let mut deviation = shows(ctx.client, ctx.state.clone(), &original.request, key).await?;
    let mut request = original.request.clone();

    // 1. The request, against the seeded world.
    let mut steps = 0;
    if tree.simplify() {
        while steps < ctx.max_steps && Instant::now() < ctx.deadline && !ctx.control.should_stop() {
            steps += 1;
            let current = tree.current();
            let candidate = current.request;
            let more = match shows(ctx.client, ctx.state.clone(), &candidate, key).await {
                Some(d) => {
                    request = candidate;
                    deviation = d;
                    tree.simplify()
                }
                None => tree.complicate(),
            };
            if !more {
                break;
            }
        }
    }

    let mut example = Minimal {
        class: key.clone(),
        trial: trial.clone(),
        original_ids: original.request.image_ids.len(),
        request: request.clone(),
        plan: RegistryPlan::default(),
        canonical_request: request.clone(),
        canonical: false,
        shrunk: true,
        image_digests: ctx
            .state
            .repositories
            .values()
            .flat_map(|r| r.images.iter().map(|i| i.digest.clone()))
            .collect(),
        registry_id: ctx.state.registry_id.clone(),
        deviation: deviation.clone(),
        shrink_steps: steps,
        state_steps: 0,
        // The caller measures it, around the whole of `minimise`.
        shrink_seconds: 0.0,
    };
    let Some(plan) = ctx.plan else { return Some(example) };

    // 2. The state: drop repositories and pushes while the class still shows.
    let mut plan = plan.clone();
    let unprefixed = |r: &BatchGetImageRequest| BatchGetImageRequest {
        repository_name: r.repository_name.replacen(ctx.world_prefix, "", 1),
        ..r.clone()
    };
    let current = unprefixed(&request);
    let target = target_in(&plan, &request, ctx.world_prefix);
    let mut improved = true;
    while improved && Instant::now() < ctx.deadline {
        improved = false;
        for candidate in smaller_plans(&plan, &target) {
            if Instant::now() >= ctx.deadline {
                break;
            }
            example.state_steps += 1;
            if let Some((d, sent, _)) = attempt(ctx, &candidate, &current, "", key).await {
                plan = candidate;
                example.deviation = d;
                example.request = sent;
                improved = true;
                break;
            }
        }
    }
    example.plan = plan.clone();
    example.canonical_request = current.clone();

    // 3. Canonical names and manifests, the simplest form first; then, in that form, a last pass
    // over the request and the state.
    for form in canonical::Form::ALL {
        if Instant::now() >= ctx.deadline {
            break;
        }
        let c = canonical::canonicalise(&plan, &current, form);
        example.state_steps += 1;
        let Some(found) = attempt(ctx, &c.plan, &c.request, "", key).await else {
            continue;
        };
        let (c, found, converged) = polish(ctx, c, found, form, key, &mut example.state_steps).await;
        let (d, sent, registry_id) = found;
        example.plan = c.plan;
        example.canonical_request = c.request;
        example.image_digests = c.image_digests;
        example.registry_id = registry_id;
        example.deviation = d;
        example.request = sent;
        // Only an example the last pass finished is the same from every seed, and compared byte
        // for byte with a baseline; one cut short by the shrinking budget is compared by presence.
        example.canonical = converged;
        break;
    }
    if !example.canonical {
        // Keep the shrunk, uncanonical form, with its images' digests for placeholders.
        if let Ok(state) = example.plan.build(&example.registry_id) {
            example.image_digests = state
                .repositories
                .values()
                .flat_map(|r| r.images.iter().map(|i| i.digest.clone()))
                .collect();
        }
    }
    Some(example)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_keeps_a_name_at_the_limit_at_it_and_others_get_a_fresh_prefix() {
        let run = "ecrc-0123abcd";
        let at_limit = crate::model::syntax::REPO_NAME_MAX - format!("{run}-w1/").len();
        let p = attempt_prefix(run, 1234, at_limit);
        assert_eq!(p, format!("{run}-s4/"));
        assert_eq!(p.len() + at_limit, crate::model::syntax::REPO_NAME_MAX);
        assert_eq!(attempt_prefix(run, 1234, 40), format!("{run}-s1234/"));
        // A world with a longer prefix leaves more digits.
        let at_limit = crate::model::syntax::REPO_NAME_MAX - format!("{run}-w12/").len();
        assert_eq!(attempt_prefix(run, 1234, at_limit), format!("{run}-s34/"));
    }
}

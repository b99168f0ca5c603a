//! The worlds of a run: each generated, seeded (the next one while this one's cases run), its
//! cases sent and judged, its state watched for changes (P-READ-ONLY), and its classes shrunk
//! (while the next world's cases run).

use super::book::{absorb, record_seeding, unreachable};
use super::case::run_case;
use super::shrink::ShrinkContext;
use super::{CASES_PER_WORLD, METAMORPHIC_EVERY, RunConfig, progress, world_rng};
use crate::client::EcrClient;
use crate::generate::{RequestCategory, plans, requests};
use crate::judge::Deviation;
use crate::model::{RegistryPlan, RegistryState};
use crate::outcome::{CaseResult, ClassKey, Fault, FaultKind, Finding, Minimal, Origin, Property, RunOutcome};
use crate::rules::{id, rule_by_id};
use crate::seeding;
use crate::wire::BatchGetImageRequest;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Runs the generated worlds this run runs (all, or its partition's), each against its own seeded
/// state, or against `read_state` in read-only mode.
pub(super) async fn run_worlds(
    client: &EcrClient,
    config: &RunConfig,
    read_state: Option<Arc<RegistryState>>,
    first: Option<PreparedWorld>,
    out: &mut RunOutcome,
) {
    let control = &config.control;
    let mut shrink_left = config.shrink_budget;
    let worlds = if config.generates() {
        config.cases.div_ceil(CASES_PER_WORLD)
    } else {
        0
    };
    let mut remaining = config.cases;
    // World w + 1 is generated and seeded while world w's cases run (and its classes shrink): the
    // endpoint's wait is spent on both. Each world draws from its own generator, and the
    // outcome takes each world's seeding when that world's turn comes, so the same seed gives
    // the same requests and the same report, whatever finished first. A world seeded ahead that
    // never runs (the run stopped) is in the control's ledger, and cleaned up with the rest.
    let mut ahead: Option<PreparedWorld> = first;
    // The world before this one, its classes still to shrink: they shrink while this world's
    // cases run, so that shrinking (its steps one after the other, each a round trip or a
    // seeding) does not hold up the worlds after it. Shrinking is done world after world, as the
    // outcome takes the worlds, so that a class shrinks in the first world that finds it.
    let mut shrinking: Option<RanWorld> = None;
    for w in 0..worlds {
        if out.aborted.is_some() {
            break;
        }
        if let Some(reason) = control.stop_reason() {
            out.aborted = Some(reason);
            break;
        }
        let n = remaining.min(CASES_PER_WORLD);
        remaining -= n;
        if !config.runs_world(w) {
            continue;
        }
        let Some((state, plan, world_prefix, mut rng_runner)) =
            open_world(client, config, w, read_state.as_ref(), ahead.take(), n, out).await
        else {
            continue;
        };
        let seeded = SeededWorld {
            number: w + 1,
            state,
            plan,
            prefix: world_prefix,
        };
        // The next world this run runs (a partition skips the others) is seeded while this one's
        // cases run. Boxed: both futures are large, and side by side in this one they would be on
        // the stack (a test's thread overflows in a debug build).
        let next_world = (w + 1..worlds).find(|&x| config.runs_world(x));
        let next = Box::pin(async {
            match next_world.filter(|_| read_state.is_none()) {
                Some(x) => Some(prepare_world(client, config, x).await),
                None => None,
            }
        });
        // The outcome's examples go to the shrinking beside, which alone adds to them.
        let mut minimal = std::mem::take(&mut out.minimal);
        let this = Box::pin(run_world(client, config, &mut rng_runner, seeded, n, out));
        let before = Box::pin(async {
            if let Some(earlier) = shrinking.as_mut() {
                shrink_world(client, config, earlier, &mut minimal, &mut shrink_left).await;
            }
        });
        let (ran, (), prepared) = tokio::join!(this, before, next);
        ahead = prepared;
        out.minimal = minimal;
        if let Some(earlier) = shrinking.take() {
            close_world(client, config, earlier, out).await;
        }
        shrinking = Some(ran);
    }
    if let Some(mut last) = shrinking {
        shrink_world(client, config, &mut last, &mut out.minimal, &mut shrink_left).await;
        close_world(client, config, last, out).await;
    }
}

/// A world whose cases ran and whose classes shrank: taken as a trial's verdict unless the run
/// stopped, and its repositories deleted.
async fn close_world(client: &EcrClient, config: &RunConfig, world: RanWorld, out: &mut RunOutcome) {
    let control = &config.control;
    // A world cut short by a stop is no verdict of its trial.
    if out.aborted.is_none() && !control.should_stop() {
        out.worlds_run.insert(world.seeded.number);
    }
    // Its repositories go now, not at the run's end, so that the endpoint holds two or three
    // worlds at a time (a registry's repository quota; memory flat in the number of cases). Only
    // what the ledger says this run created.
    if !config.keep {
        let created = control.created_repositories();
        let names: Vec<String> = world
            .seeded
            .state
            .repositories
            .keys()
            .filter(|n| created.contains(n))
            .cloned()
            .collect();
        out.leftovers
            .extend(seeding::cleanup(&client.without_stop(), &names).await);
        control.deleted(&names);
    }
}

/// World `w` (from 0) ready for its `n` cases and taken into the outcome: the read-only state, or
/// its plan seeded (ahead, or now) and admitted. None: it cannot run.
async fn open_world(
    client: &EcrClient,
    config: &RunConfig,
    w: usize,
    read_state: Option<&Arc<RegistryState>>,
    ahead: Option<PreparedWorld>,
    n: usize,
    out: &mut RunOutcome,
) -> Option<(Arc<RegistryState>, Option<RegistryPlan>, String, TestRunner)> {
    let (state, plan, prefix, rng) = match read_state {
        Some(state) => (state.clone(), None, String::new(), world_rng(config.seed, w)),
        None => {
            let prepared = match ahead.filter(|p| p.index == w) {
                Some(p) => p,
                None => Box::pin(prepare_world(client, config, w)).await,
            };
            let (state, plan, prefix, rng) = admit_world(config, prepared, out)?;
            (state, Some(plan), prefix, rng)
        }
    };
    out.worlds += 1;
    // A read-only run's one state serves every world: it is counted once.
    if read_state.is_none() || w == 0 {
        out.states.observe(&state);
    }
    let images: usize = state.repositories.values().map(|r| r.images.len()).sum();
    progress(
        config,
        format!(
            "{}: {} repositories, {images} images; {n} cases",
            Origin::World(w + 1),
            state.repositories.len()
        ),
    );
    Some((state, plan, prefix, rng))
}

/// The first world this run runs (a partition's first own), generated and seeded: the run
/// prepares it while the case files run. None: no world is to be generated.
pub(super) async fn prepare_first(client: &EcrClient, config: &RunConfig) -> Option<PreparedWorld> {
    if !config.generates() || config.read_only.is_some() {
        return None;
    }
    let worlds = config.cases.div_ceil(CASES_PER_WORLD);
    let first = (0..worlds).find(|&x| config.runs_world(x))?;
    Some(Box::pin(prepare_world(client, config, first)).await)
}

/// A world's plan generated and seeded, not yet taken into the run's outcome: seeding the next
/// world while this one's cases run needs no access to the outcome, and the outcome takes the
/// worlds in their order.
pub(super) struct PreparedWorld {
    index: usize,
    /// The world's generator, past its plan: its cases are drawn from it next.
    rng: TestRunner,
    prefix: String,
    /// The plan, with what seeding it gave; Err: the plan could not be generated.
    seeded: Result<(RegistryPlan, seeding::Seeded, Option<seeding::SeedError>), String>,
}

/// Generates world `index`'s registry plan and seeds it.
async fn prepare_world(client: &EcrClient, config: &RunConfig, index: usize) -> PreparedWorld {
    // Each world draws from its own generator, seeded by the run's seed and its number: a
    // world is the same whichever worlds run before it (a partition runs only its own), and the
    // next world's plan can be drawn and seeded while this one's cases run.
    let mut rng = world_rng(config.seed, index);
    let prefix = format!("{}-w{}/", config.prefix, index + 1);
    // Names at the generators' limit are at ECR's 256 characters once under this prefix.
    let room = crate::model::syntax::REPO_NAME_MAX.saturating_sub(prefix.len());
    let seeded = match plans::registry_plan_within(room).new_tree(&mut rng) {
        Ok(tree) => {
            let plan: RegistryPlan = tree.current();
            let (seeded, error) = seeding::populate(
                client,
                &plan.with_prefix(&prefix),
                &config.registry_hint,
                &config.control,
            )
            .await;
            Ok((plan, seeded, error))
        }
        Err(e) => Err(format!("cannot generate a state: {e}")),
    };
    PreparedWorld {
        index,
        rng,
        prefix,
        seeded,
    }
}

/// Takes a prepared world's seeding into the outcome; None when the world cannot run.
fn admit_world(
    config: &RunConfig,
    prepared: PreparedWorld,
    out: &mut RunOutcome,
) -> Option<(Arc<RegistryState>, RegistryPlan, String, TestRunner)> {
    let world = Origin::World(prepared.index + 1);
    let (plan, mut seeded, error) = match prepared.seeded {
        Ok(s) => s,
        Err(message) => {
            out.faults.push(Fault::new(world, FaultKind::Other, message));
            return None;
        }
    };
    if !config.checks(Property::Seed) {
        seeded.deviations.clear();
        seeded.checked.clear();
    }
    record_seeding(out, &world, &seeded, error.as_ref());
    if unreachable(out, &seeded, error.as_ref()) {
        return None;
    }
    if let Some(e) = error {
        if let seeding::SeedError::Stopped(reason) = e {
            out.aborted = Some(reason);
        }
        progress(config, format!("{world}: seeding stopped; its cases are not run"));
        return None;
    }
    Some((Arc::new(seeded.state), plan, prepared.prefix, prepared.rng))
}

/// A world ready for its cases.
struct SeededWorld {
    /// Its number, from 1.
    number: usize,
    state: Arc<RegistryState>,
    /// The plan seeded, without its prefix (None in read-only mode).
    plan: Option<RegistryPlan>,
    prefix: String,
}

impl SeededWorld {
    fn origin(&self) -> Origin {
        Origin::World(self.number)
    }

    /// Where the world's case `index` (from 0) was found.
    fn case(&self, index: usize) -> Origin {
        Origin::WorldCase {
            world: self.number,
            case: index + 1,
        }
    }
}

/// The failing cases of a world, each with its class (in the order found), and each class's first
/// deviation, for an example as found where shrinking does not happen.
#[derive(Default)]
struct Failing {
    cases: Vec<(usize, ClassKey)>,
    first_seen: BTreeMap<ClassKey, (usize, Deviation)>,
}

/// A world whose cases have run, with what shrinking its classes needs.
struct RanWorld {
    seeded: SeededWorld,
    trees: Vec<Box<dyn ValueTree<Value = requests::Case>>>,
    cases: Vec<requests::Case>,
    failing: Failing,
}

/// Runs `n` generated cases against one state and checks P-READ-ONLY over them; the world, with
/// its failing cases, for [`shrink_world`].
async fn run_world(
    client: &EcrClient,
    config: &RunConfig,
    rng: &mut TestRunner,
    seeded: SeededWorld,
    n: usize,
    out: &mut RunOutcome,
) -> RanWorld {
    let state = seeded.state.clone();
    let before = listings(client, &state).await;
    let trees = generate_cases(&seeded, rng, n, out);
    let cases: Vec<requests::Case> = trees.iter().map(|t| t.current()).collect();
    let watch = StateWatch {
        before: before.clone().filter(|_| config.checks(Property::ReadOnly)),
        seen: None,
        since: 0,
    };
    let (results, seen) = send_cases(client, config, &state, &cases, watch, out).await;
    // P-READ-ONLY: the listings after all those reads are those before. Where they are not, the
    // answers were given on a state the model does not know (which read changed it, and when, is
    // unknown): they are not judged, and the change is the one finding.
    // The listing that differs: the last one, else the one seen while the cases ran.
    let after = match (listings(client, &state).await, seen) {
        (Some(last), _) if Some(&last) != before.as_ref() => Some(last),
        (last, seen) => seen.or(last),
    };
    let changed = config.checks(Property::ReadOnly) && matches!((&before, &after), (Some(b), Some(a)) if b != a);
    if changed {
        out.skipped_cases.push((
            seeded.origin().to_string(),
            format!(
                "{} cases not judged: the repositories changed under BatchGetImage (P-READ-ONLY), so their answers cannot be compared with the state as seeded",
                results.len()
            ),
        ));
    }
    let failing = take_results(config, &seeded, &cases, results, changed, out);
    if let (Some(before), Some(after), true) = (before, after, config.checks(Property::ReadOnly)) {
        out.count(Property::ReadOnly, changed);
        if changed {
            let deviation = Deviation::new(
                id::P_READ_ONLY,
                rule_by_id(id::P_READ_ONLY).level,
                "the repositories list other images or tags after the BatchGetImage calls",
                json!(before),
                json!(after),
            )
            .kinds("the same listing", "another listing");
            out.findings
                .push(Finding::of_world(deviation, Property::ReadOnly, seeded.origin()));
        }
    }
    RanWorld {
        seeded,
        trees,
        cases,
        failing,
    }
}

/// Shrinks the first failing case of each deviation class of a world into its minimal example,
/// and gives the classes left unshrunk their examples as found, in `minimal` (the outcome's).
async fn shrink_world(
    client: &EcrClient,
    config: &RunConfig,
    world: &mut RanWorld,
    minimal: &mut Vec<Minimal>,
    shrink_left: &mut Duration,
) {
    let failing = std::mem::take(&mut world.failing);
    shrink_classes(
        client,
        config,
        &world.seeded,
        &mut world.trees,
        &failing.cases,
        minimal,
        shrink_left,
    )
    .await;
    examples_as_found(&world.seeded, &world.cases, failing.first_seen, minimal);
}

/// The world's `n` cases: one request of each category first, then any, so that every world
/// reaches every request-level rule, whatever the seed.
fn generate_cases(
    seeded: &SeededWorld,
    rng: &mut TestRunner,
    n: usize,
    out: &mut RunOutcome,
) -> Vec<Box<dyn ValueTree<Value = requests::Case>>> {
    let state = &seeded.state;
    let any = requests::case(state.clone());
    let mut trees = Vec::with_capacity(n);
    for i in 0..n {
        let strategy = match RequestCategory::ALL.get(i) {
            Some(&category) => requests::case_of(state.clone(), category),
            None => any.clone(),
        };
        match strategy.new_tree(rng) {
            Ok(t) => trees.push(t),
            Err(e) => out.faults.push(Fault::new(
                seeded.origin(),
                FaultKind::Other,
                format!("cannot generate a case: {e}"),
            )),
        }
    }
    trees
}

/// Sends the cases, `--concurrency` at a time, watching the state as they go; their results in
/// the cases' order, and the first listing seen that differs from the one before.
async fn send_cases(
    client: &EcrClient,
    config: &RunConfig,
    state: &Arc<RegistryState>,
    cases: &[requests::Case],
    mut watch: StateWatch,
    out: &mut RunOutcome,
) -> (Vec<CaseResult>, Option<Listings>) {
    let mut set = JoinSet::new();
    let mut tasks = std::collections::HashMap::new();
    let mut results = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        if let Some(reason) = config.control.stop_reason() {
            out.aborted = Some(reason);
            break;
        }
        while set.len() >= config.concurrency.max(1) {
            if let Some(r) = set.join_next().await {
                results.push(joined(r, &tasks));
                watch.after(client, state, results.last()).await;
            }
        }
        let metamorphic = i % METAMORPHIC_EVERY == 0;
        let task = set.spawn(run_case(
            client.clone(),
            state.clone(),
            i,
            case.request.clone(),
            metamorphic,
        ));
        tasks.insert(task.id(), i);
    }
    while let Some(r) = set.join_next().await {
        results.push(joined(r, &tasks));
        watch.after(client, state, results.last()).await;
    }
    results.sort_by_key(|r| r.index);
    (results, watch.seen)
}

/// Takes the cases' results into the outcome (only their faults when the state changed under
/// them); the failing cases with their classes.
fn take_results(
    config: &RunConfig,
    seeded: &SeededWorld,
    cases: &[requests::Case],
    results: Vec<CaseResult>,
    changed: bool,
    out: &mut RunOutcome,
) -> Failing {
    let mut failing = Failing::default();
    for r in results {
        let case = &cases[r.index];
        let trial = seeded.case(r.index);
        let mut r = r;
        if changed {
            if let Some((kind, message)) = r.fault.take() {
                out.faults.push(Fault::new(trial, kind, message));
            }
            out.cases_run += 1;
            continue;
        }
        if !config.checks(Property::Model) {
            r.deviations.clear();
        }
        r.property_results.retain(|(p, _)| config.checks(*p));
        for (p, d) in r.all() {
            let key = ClassKey::from_deviation(p, d);
            failing
                .first_seen
                .entry(key.clone())
                .or_insert_with(|| (r.index, d.clone()));
            failing.cases.push((r.index, key));
        }
        absorb(
            out,
            &trial,
            &case.request,
            Some(case.category),
            &case.id_categories,
            r,
            config.checks(Property::Model),
        );
        out.cases_run += 1;
    }
    failing
}

/// Shrinks each class not yet shrunk, from its first failing case that no other class has shrunk
/// already (a value tree shrinks once); a case that no longer shows the class gives way to the
/// next.
async fn shrink_classes(
    client: &EcrClient,
    config: &RunConfig,
    seeded: &SeededWorld,
    trees: &mut [Box<dyn ValueTree<Value = requests::Case>>],
    failing: &[(usize, ClassKey)],
    minimal: &mut Vec<Minimal>,
    shrink_left: &mut Duration,
) {
    let mut done: BTreeSet<ClassKey> = minimal.iter().filter(|m| m.shrunk).map(|m| m.class.clone()).collect();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut tries: BTreeMap<ClassKey, usize> = BTreeMap::new();
    for (index, key) in failing.iter().cloned() {
        if done.contains(&key) || used.contains(&index) || shrink_left.is_zero() || config.control.should_stop() {
            continue;
        }
        let attempts = tries.entry(key.clone()).or_default();
        if *attempts >= 3 {
            continue;
        }
        *attempts += 1;
        used.insert(index);
        let t0 = Instant::now();
        let mut deadline = t0 + *shrink_left;
        if let Some(d) = config.control.deadline() {
            deadline = deadline.min(d);
        }
        let ctx = ShrinkContext {
            client,
            control: &config.control,
            run_prefix: &config.prefix,
            state: seeded.state.clone(),
            world_prefix: &seeded.prefix,
            plan: seeded.plan.as_ref(),
            max_steps: config.shrink_steps,
            deadline,
            registry_hint: &config.registry_hint,
        };
        if let Some(mut m) = super::shrink::minimise(&ctx, trees[index].as_mut(), &key, &seeded.case(index)).await {
            m.shrink_seconds = t0.elapsed().as_secs_f64();
            minimal.retain(|x| x.class != key);
            done.insert(key);
            minimal.push(m);
        }
        *shrink_left = shrink_left.saturating_sub(t0.elapsed());
    }
}

/// A class left unshrunk still gets an example that replays: its first case here as found, on the
/// world's whole state (none in read-only mode, where the state is not ours to seed).
fn examples_as_found(
    seeded: &SeededWorld,
    cases: &[requests::Case],
    first_seen: BTreeMap<ClassKey, (usize, Deviation)>,
    minimal: &mut Vec<Minimal>,
) {
    let Some(plan) = &seeded.plan else { return };
    let state = &seeded.state;
    for (key, (index, deviation)) in first_seen {
        if minimal.iter().any(|m| m.class == key) {
            continue;
        }
        let sent = &cases[index].request;
        let request = BatchGetImageRequest {
            repository_name: sent.repository_name.replacen(&seeded.prefix, "", 1),
            ..sent.clone()
        };
        minimal.push(Minimal {
            class: key,
            trial: seeded.case(index),
            original_ids: sent.image_ids.len(),
            request: sent.clone(),
            plan: plan.clone(),
            canonical_request: request,
            canonical: false,
            shrunk: false,
            image_digests: state
                .repositories
                .values()
                .flat_map(|r| r.images.iter().map(|i| i.digest.clone()))
                .collect(),
            registry_id: state.registry_id.clone(),
            deviation,
            shrink_steps: 0,
            state_steps: 0,
            shrink_seconds: 0.0,
        });
    }
}

/// Each repository's listing, as JSON (for comparing before and after).
type Listings = BTreeMap<String, Vec<Value>>;

/// Whether the world's repositories changed under its reads, looked at while its cases run: after
/// a case that deviates (at most once in `STATE_CHECK_EVERY` cases), since reads that move a tag
/// and move it back leave the final listing as it was.
struct StateWatch {
    before: Option<Listings>,
    /// The first listing seen that differs from `before`.
    seen: Option<Listings>,
    since: usize,
}

const STATE_CHECK_EVERY: usize = 5;

impl StateWatch {
    async fn after(&mut self, client: &EcrClient, state: &RegistryState, result: Option<&CaseResult>) {
        self.since += 1;
        let deviates = result.is_some_and(CaseResult::deviates);
        let Some(before) = &self.before else { return };
        if self.seen.is_some() || !deviates || self.since < STATE_CHECK_EVERY {
            return;
        }
        self.since = 0;
        self.seen = listings(client, state).await.filter(|now| now != before);
    }
}

/// A case task's result; one that panicked is the case's fault, never a verdict.
fn joined(
    r: Result<CaseResult, tokio::task::JoinError>,
    tasks: &std::collections::HashMap<tokio::task::Id, usize>,
) -> CaseResult {
    r.unwrap_or_else(|e| {
        let mut result = CaseResult::new(tasks.get(&e.id()).copied().unwrap_or_default());
        result.fault = Some((FaultKind::Other, format!("the case's task stopped: {e}")));
        result
    })
}

async fn listings(client: &EcrClient, state: &RegistryState) -> Option<Listings> {
    // Side by side: each listing is a round trip, and they are independent.
    let mut tasks = JoinSet::new();
    for name in state.repositories.keys() {
        let (client, name) = (client.clone(), name.clone());
        tasks.spawn(async move {
            let listing = seeding::listing(&client, &name).await.ok();
            (name, listing)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (name, listing) = done.ok()?;
        out.insert(name, listing?.into_iter().map(|i| json!(i)).collect());
    }
    Some(out)
}

//! The run's bookkeeping: each case's result, and each world's seeding, taken into the
//! [`RunOutcome`]: findings, faults (with their kinds), property and rule counts.

use crate::client::{ApiError, CallError, TransportKind};
use crate::generate::{IdCategory, RequestCategory};
use crate::judge::Deviation;
use crate::outcome::{CaseResult, Fault, FaultKind, Finding, Origin, Property, RunOutcome, Unconfirmed};
use crate::rules::{id, rule_by_id};
use crate::seeding;
use crate::wire::BatchGetImageRequest;
use serde_json::json;

/// The kind of a failed call, as the client read it from the error itself (never its words).
pub(crate) fn call_fault_kind(e: &CallError) -> FaultKind {
    match e.kind() {
        TransportKind::Timeout => FaultKind::Timeout,
        TransportKind::Reset => FaultKind::Reset,
        TransportKind::Connect => FaultKind::Connect,
        TransportKind::TooLarge => FaultKind::TooLarge,
        TransportKind::Stopped => FaultKind::Stopped,
        TransportKind::Signing | TransportKind::ReadOnly | TransportKind::Other => FaultKind::Other,
    }
}

/// The kind of a failed typed call: its transport's, or what the endpoint answered.
pub(crate) fn api_fault_kind(e: &ApiError) -> FaultKind {
    match e {
        ApiError::Call(c) => call_fault_kind(c),
        ApiError::Service { status, .. } if *status == 429 => FaultKind::Throttled,
        ApiError::Service { status, .. } if *status >= 500 => FaultKind::ServerError,
        ApiError::Unreadable { .. } => FaultKind::Unreadable,
        ApiError::Service { .. } => FaultKind::Other,
    }
}

/// Whether the endpoint has never answered at all: then nothing later will go better, and the
/// run stops with one reason instead of one fault per world.
pub(super) fn unreachable(out: &mut RunOutcome, seeded: &seeding::Seeded, error: Option<&seeding::SeedError>) -> bool {
    let never_answered = out.cases_run == 0 && out.worlds == 0 && seeded.created.is_empty();
    if let Some(seeding::SeedError::Stopped(reason)) = error {
        out.aborted = Some(reason.clone());
        return true;
    }
    if let (true, Some(seeding::SeedError::Fault(e))) = (never_answered, error) {
        out.aborted = Some(format!("the endpoint did not answer: {e}"));
        return true;
    }
    false
}

/// Takes a state's seeding into the outcome: the rules its calls were judged by, its findings,
/// and the fault or refusal that stopped it.
pub(super) fn record_seeding(
    out: &mut RunOutcome,
    trial: &Origin,
    seeded: &seeding::Seeded,
    error: Option<&seeding::SeedError>,
) {
    for (rule, n) in &seeded.checked {
        *out.checked.entry(rule.to_string()).or_default() += n;
    }
    // A refusal that stopped seeding was judged too (S-SEED names it).
    if let Some(seeding::SeedError::Refused(_)) = error {
        out.judged([id::S_SEED]);
    }
    for d in &seeded.deviations {
        out.findings
            .push(Finding::of_world(d.clone(), Property::Seed, trial.clone()));
    }
    match error {
        Some(seeding::SeedError::Fault(e)) => {
            out.faults
                .push(Fault::new(trial.clone(), FaultKind::Seeding, e.to_string()))
        }
        Some(e @ seeding::SeedError::Unavailable(_)) => {
            out.faults
                .push(Fault::new(trial.clone(), FaultKind::Seeding, e.to_string()))
        }
        Some(seeding::SeedError::Stopped(_)) => {}
        Some(seeding::SeedError::Refused(e)) => {
            let deviation = Deviation::new(
                id::S_SEED,
                rule_by_id(id::S_SEED).level,
                format!("seeding stopped: {e}"),
                json!("the repository is created"),
                json!(e.to_string()),
            )
            .kinds(
                "CreateRepository accepted",
                format!(
                    "CreateRepository refused with {}",
                    e.error_type().unwrap_or("no __type")
                ),
            );
            out.findings
                .push(Finding::of_world(deviation, Property::Seed, trial.clone()));
        }
        None => {}
    }
}

/// Takes one case's result into the outcome.
pub(super) fn absorb(
    out: &mut RunOutcome,
    trial: &Origin,
    request: &BatchGetImageRequest,
    category: Option<RequestCategory>,
    ids: &[IdCategory],
    r: CaseResult,
    count_model: bool,
) {
    // A call the stop cut short is no fault: the run says it stopped.
    if let Some((kind, message)) = r.fault
        && kind != FaultKind::Stopped
    {
        out.faults.push(Fault::new(trial.clone(), kind, message));
    }
    out.flaky += usize::from(r.flaky);
    for message in r.unconfirmed {
        out.unconfirmed.push(Unconfirmed {
            trial: trial.clone(),
            message,
        });
    }
    let finding = |d: Deviation, property: Property| Finding {
        deviation: d,
        property,
        trial: trial.clone(),
        request: Some(request.clone()),
        request_category: category,
        id_categories: ids.to_vec(),
    };
    if count_model {
        out.count(Property::Model, !r.deviations.is_empty());
        out.judged(r.exercised.iter().copied());
    }
    for d in r.deviations {
        out.findings.push(finding(d, Property::Model));
    }
    for (property, deviations) in r.property_results {
        out.count(property, !deviations.is_empty());
        for d in deviations {
            out.findings.push(finding(d, property));
        }
    }
}

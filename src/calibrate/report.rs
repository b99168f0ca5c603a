//! What a calibration found, as `calibration.json`, `calibration.md` and the files beside them:
//! one case file per answered probe (`cases/<probe>.json`, the endpoint's answer as `expected`)
//! and one per model doubt with a minimal example (`doubts/<slug>.json`, the model's answer as
//! `expected`, to replay). Everything is made shareable ([`super::record`]) before it is written.

use super::probe::{Asked, Outcome};
use super::questions::{self, Probe, Question, Reading};
use super::record;
use crate::cases::{CaseAnswer, CaseFile};
use crate::outcome::RunOutcome;
use crate::rules::Level;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Calibration {
    pub tool: &'static str,
    pub version: &'static str,
    /// As shown: without user name and password.
    pub endpoint: String,
    pub region: String,
    /// The UTC date of the calibration.
    pub date: String,
    pub target: String,
    pub seed: u64,
    /// Every probe got an answer (or the endpoint's own behaviour kept it from asking) and the
    /// generated run ran without faults: the exit code is 0; else 2.
    pub complete: bool,
    /// Why the calibration stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub questions: Vec<QuestionResult>,
    /// Every deviation class the generated run found: with the endpoint as the truth, each is a
    /// doubt about the model.
    pub doubts: Vec<Doubt>,
    /// The generated run (absent with `--cases 0`, or when the probing stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_run: Option<GeneratedRun>,
    /// Answers to the probes' seeding that differ from ECR's (each kind once).
    pub seeding: Vec<Value>,
    /// HTTP requests sent in all, retries included.
    pub requests: u64,
    /// Bytes the probes pushed: blobs and manifests.
    pub probe_bytes: usize,
    /// Repositories that could not be deleted (`sweep` deletes them).
    pub leftovers: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionResult {
    pub id: &'static str,
    pub rules: Vec<&'static str>,
    pub asks: &'static str,
    pub alternatives: Vec<&'static str>,
    /// The endpoint's answer: one of `alternatives`; null when not answered.
    pub answer: Option<&'static str>,
    /// The model's first choice, read from its own answer to the same probes.
    pub model_answer: Option<&'static str>,
    /// How the model judges the recorded answers: `agrees` (no deviation: its own answer, or one
    /// it accepts as well), `allowed` (advisory deviations only: an answer the reference allows
    /// beside its first choice, or the deviation of an advisory rule), or `contradicted` (a gate
    /// deviation). Only `agrees` passes as a case under `cases/recorded/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'static str>,
    /// The model's deviations on the recorded answers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub model_deviations: Vec<Value>,
    /// The endpoint's behaviour kept the probe from asking: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_asked: Option<String>,
    /// No usable answer: why (the calibration is incomplete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The first probe's case file, relative to the calibration folder.
    pub case_file: Option<String>,
    /// Every probe's case file (two for new-name-pattern).
    pub case_files: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Doubt {
    pub rule: String,
    pub level: Level,
    /// `model`, `seed`, or the metamorphic property's id.
    pub property: String,
    pub title: String,
    pub count: usize,
    /// What differed, in a line.
    pub summary: String,
    /// The state and request of the minimal example.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
    /// What the endpoint said, and what the model says ECR answers (`{"status", "body"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_answer: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_answer: Option<Value>,
    /// The parts concerned.
    pub expected: Value,
    pub actual: Value,
    /// The example as a case file (the model's answer as `expected`), for `replay`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_file: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedRun {
    pub cases: usize,
    pub worlds: usize,
    pub faults: Vec<crate::outcome::Fault>,
    /// Deviations a re-send did not show again: not doubts.
    pub unconfirmed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
}

/// Where and when: what the files name.
pub(super) struct Context {
    pub endpoint: String,
    pub region: String,
    pub date: String,
    pub target: String,
    pub seed: u64,
    pub requests: u64,
    pub leftovers: Vec<(String, String)>,
}

/// A calibration and the files to write beside it: (path relative to the folder, text).
pub(super) fn build(
    ctx: &Context,
    probes: &[Probe],
    asked: &Asked,
    generated: Option<&RunOutcome>,
) -> (Calibration, Vec<(String, String)>) {
    let account = asked.account.as_str();
    let mut files = Vec::new();
    // Each answered probe, recorded: its case file and its place in `files`.
    let recorded: Vec<Option<(CaseFile, String)>> = probes
        .iter()
        .zip(&asked.outcomes)
        .map(|(probe, outcome)| match outcome {
            Some(Outcome::Answered(raw, sent)) => {
                let case = recorded_case(ctx, probe, raw, sent, account);
                let path = format!("cases/{}.json", probe.id);
                files.push((path.clone(), case.to_json()));
                Some((case, path))
            }
            _ => None,
        })
        .collect();
    let questions: Vec<QuestionResult> = questions::QUESTIONS
        .iter()
        .map(|q| question_result(q, probes, asked, &recorded))
        .collect();
    let (doubts, doubt_files) = generated.map(|g| doubts(ctx, g, account)).unwrap_or_default();
    files.extend(doubt_files);
    let faulted = asked
        .outcomes
        .iter()
        .any(|o| !matches!(o, Some(Outcome::Answered(..) | Outcome::NotAsked(_))));
    let generated_ok = generated.is_none_or(|g| g.faults.is_empty() && g.aborted.is_none());
    let calibration = Calibration {
        tool: "ecr-conformance",
        version: env!("CARGO_PKG_VERSION"),
        endpoint: ctx.endpoint.clone(),
        region: ctx.region.clone(),
        date: ctx.date.clone(),
        target: ctx.target.clone(),
        seed: ctx.seed,
        complete: !faulted && asked.stopped.is_none() && generated_ok,
        stopped: asked
            .stopped
            .clone()
            .or_else(|| generated.and_then(|g| g.aborted.clone())),
        questions,
        doubts,
        generated_run: generated.map(|g| GeneratedRun {
            cases: g.cases_run,
            worlds: g.worlds,
            faults: g.faults.clone(),
            unconfirmed: g.unconfirmed.len(),
            aborted: g.aborted.clone(),
        }),
        seeding: asked
            .seeding
            .iter()
            .map(|d| {
                let v = json!({"rule": d.rule, "level": d.level, "summary": d.summary, "expected": d.expected, "actual": d.actual});
                record::shareable(&v, account)
            })
            .collect(),
        requests: ctx.requests,
        probe_bytes: probe_bytes(probes),
        leftovers: ctx
            .leftovers
            .iter()
            .map(|(repository, error)| json!({"repository": repository, "error": error}))
            .collect(),
    };
    (calibration, files)
}

/// The blobs and manifests the probes push (each distinct state once, as they are seeded).
fn probe_bytes(probes: &[Probe]) -> usize {
    let mut seen: Vec<&Vec<crate::cases::CaseRepository>> = Vec::new();
    let mut bytes = 0;
    for p in probes {
        if seen.contains(&&p.repositories) {
            continue;
        }
        seen.push(&p.repositories);
        for r in &p.repositories {
            let mut blobs: Vec<&Vec<u8>> = r.blobs.iter().collect();
            blobs.dedup();
            bytes += blobs.iter().map(|b| b.len()).sum::<usize>();
            bytes += r
                .images
                .iter()
                .map(|i| i.manifest.len() * i.tags.len().max(1))
                .sum::<usize>();
        }
    }
    bytes
}

/// A probe with the endpoint's answer: the case file to commit under `cases/recorded/`.
fn recorded_case(
    ctx: &Context,
    probe: &Probe,
    raw: &CaseAnswer,
    sent: &crate::wire::BatchGetImageRequest,
    account: &str,
) -> CaseFile {
    let expected = CaseAnswer {
        status: raw.status,
        body: record::shareable(&raw.body, account),
    };
    let mut case = probe.case(
        format!("{}-{}-{}", ctx.target, ctx.date, probe.id),
        format!(
            "ecr-conformance {} calibrate against {} (target {}), region {}, on {}: expected is the endpoint's answer",
            env!("CARGO_PKG_VERSION"),
            ctx.endpoint,
            ctx.target,
            ctx.region,
            ctx.date
        ),
        vec![
            "The state was seeded, and the request sent, under the calibration's own repository prefix (ecrc-<hash>-q<N>/), removed here and in the answer.".into(),
            format!(
                "The endpoint's account id is written {}, and a caller's IAM identity in a message {}.",
                questions::REGISTRY_PLACEHOLDER,
                record::PRINCIPAL_PLACEHOLDER
            ),
        ],
        expected,
    );
    case.request = sent.clone();
    case
}

fn question_result(
    q: &Question,
    probes: &[Probe],
    asked: &Asked,
    recorded: &[Option<(CaseFile, String)>],
) -> QuestionResult {
    let index = |id: &str| probes.iter().position(|p| p.id == id);
    let mut pairs = Vec::new();
    let mut case_files = Vec::new();
    let mut cases = Vec::new();
    let (mut not_asked, mut fault) = (None, None);
    for id in q.probes {
        let Some(i) = index(id) else {
            fault.get_or_insert_with(|| format!("probe {id} is not defined"));
            continue;
        };
        match (&asked.outcomes[i], &recorded[i]) {
            (Some(Outcome::Answered(..)), Some((case, path))) => {
                pairs.push((&probes[i], &case.expected));
                case_files.push(path.clone());
                cases.push(case);
            }
            (Some(Outcome::NotAsked(why)), _) => {
                not_asked.get_or_insert_with(|| format!("probe {id}: {why}"));
            }
            (Some(Outcome::Unanswered(why)), _) => {
                fault.get_or_insert_with(|| format!("probe {id}: {why}"));
            }
            _ => {
                fault.get_or_insert_with(|| format!("probe {id}: not asked"));
            }
        }
    }
    let answer = if fault.is_none() && not_asked.is_none() {
        match q.read(&pairs) {
            Reading::Answer(a) => Some(a),
            Reading::NotAsked(why) => {
                not_asked = Some(why);
                None
            }
        }
    } else {
        None
    };
    let model_answers: Option<Vec<(&Probe, CaseAnswer)>> = q
        .probes_in(probes)
        .into_iter()
        .map(|p| p.model_answer().ok().map(|a| (p, a)))
        .collect();
    let model_answer = model_answers.and_then(|answers| {
        let pairs: Vec<(&Probe, &CaseAnswer)> = answers.iter().map(|(p, a)| (*p, a)).collect();
        match q.read(&pairs) {
            Reading::Answer(a) => Some(a),
            Reading::NotAsked(_) => None,
        }
    });
    let (model, model_deviations) = judged_by_model(&cases);
    QuestionResult {
        id: q.id,
        rules: q.rules.to_vec(),
        asks: q.asks,
        alternatives: q.alternatives.to_vec(),
        answer,
        model_answer,
        model,
        model_deviations,
        not_asked,
        fault,
        case_file: case_files.first().cloned(),
        case_files,
    }
}

/// The model's judgement of recorded cases: `agrees`, `allowed` or `contradicted`, with the
/// deviations behind it.
fn judged_by_model(cases: &[&CaseFile]) -> (Option<&'static str>, Vec<Value>) {
    if cases.is_empty() {
        return (None, Vec::new());
    }
    let mut notes = Vec::new();
    let mut gate = false;
    for case in cases {
        match case.check_against_model() {
            Ok(deviations) => {
                for d in deviations {
                    gate |= d.level == Level::Gate;
                    notes.push(json!({"case": case.name, "rule": d.rule, "level": d.level, "summary": d.summary}));
                }
            }
            Err(problem) => {
                gate = true;
                notes.push(json!({"case": case.name, "problem": problem}));
            }
        }
    }
    let word = match (notes.is_empty(), gate) {
        (true, _) => "agrees",
        (false, false) => "allowed",
        (false, true) => "contradicted",
    };
    (Some(word), notes)
}

/// The generated run's classes as doubts, and their examples' case files.
fn doubts(ctx: &Context, outcome: &RunOutcome, account: &str) -> (Vec<Doubt>, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut doubts = Vec::new();
    for class in crate::classes::classify(&outcome.findings) {
        let minimal = outcome.minimal.iter().find(|m| m.class == class.key);
        let deviation = minimal.map_or(&class.first.deviation, |m| &m.deviation);
        let case = minimal.and_then(|m| CaseFile::from_minimal(&class, m, ctx.seed, &ctx.target));
        let case_file = case.as_ref().and_then(|c| {
            let value = serde_json::to_value(c).ok()?;
            let text = serde_json::to_string_pretty(&record::shareable(&value, account)).ok()?;
            let path = format!("doubts/{}.json", class.slug);
            files.push((path.clone(), text + "\n"));
            Some(path)
        });
        let example = case
            .as_ref()
            .map(|c| {
                let state: Vec<Value> = c
                    .repositories
                    .iter()
                    .map(|r| json!({"name": r.name, "images": r.images}))
                    .collect();
                json!({"registryId": c.registry_id, "repositories": state, "request": c.request})
            })
            .or_else(|| class.first.request.as_ref().map(|r| json!({ "request": r })));
        let share = |v: &Value| record::shareable(v, account);
        doubts.push(Doubt {
            rule: class.key.rule.clone(),
            level: class.key.level,
            property: class.key.property.clone(),
            title: class.title.clone(),
            count: class.count,
            summary: record::text(&deviation.summary, account, false),
            example: example.as_ref().map(share),
            endpoint_answer: deviation.answers.as_ref().map(|a| share(&a.answer)),
            model_answer: deviation.answers.as_ref().map(|a| share(&a.ecr_answer)),
            expected: share(&deviation.expected),
            actual: share(&deviation.actual),
            case_file,
        });
    }
    (doubts, files)
}

/// `calibration.md`: the answers, the doubts, and how to share them.
pub(super) fn markdown(c: &Calibration) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("# Calibration of `{}`\n", c.target));
    line(format!(
        "Endpoint `{}`, region `{}`, {} (UTC), ecr-conformance {}, seed {}: {} requests.\n",
        c.endpoint, c.region, c.date, c.version, c.seed, c.requests
    ));
    if c.complete {
        line("The calibration is complete: the endpoint is taken as the truth below.\n".into());
    } else {
        line(format!(
            "**The calibration is incomplete**{}: the answers below are what the endpoint gave before it stopped, or around its faults.\n",
            c.stopped.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
        ));
    }
    line("## Open questions\n".into());
    line("| question | rules | answer | model's answer | the model on the answer | case file |".into());
    line("|---|---|---|---|---|---|".into());
    for q in &c.questions {
        let answer = match (q.answer, &q.not_asked, &q.fault) {
            (Some(a), _, _) if Some(a) != q.model_answer => format!("**{a}**"),
            (Some(a), _, _) => a.to_string(),
            (None, Some(why), _) => format!("not asked: {}", cell(why)),
            (None, _, Some(why)) => format!("no answer: {}", cell(why)),
            (None, None, None) => "none".into(),
        };
        let judged = match q.model {
            Some(word) if q.model_deviations.is_empty() => word.to_string(),
            Some(word) => {
                let rules: Vec<String> = q
                    .model_deviations
                    .iter()
                    .filter_map(|d| Some(format!("{} {}", d.get("rule")?.as_str()?, d.get("level")?.as_str()?)))
                    .collect();
                format!("{word} ({})", rules.join(", "))
            }
            None => String::new(),
        };
        line(format!(
            "| `{}` | {} | {answer} | {} | {judged} | {} |",
            q.id,
            q.rules.join(", "),
            q.model_answer.unwrap_or(""),
            q.case_files
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    line(String::new());
    line("An answer in bold is not the model's first choice: the rules it names are to be revisited.\n".into());
    line("## Model doubts\n".into());
    match &c.generated_run {
        None => line("No generated run (`--cases 0`, or the probing stopped).\n".into()),
        Some(g) => {
            line(format!(
                "A generated run of {} cases in {} world{}{}{}. With the endpoint as the truth, every deviation class it found is a doubt about the model.\n",
                g.cases,
                g.worlds,
                if g.worlds == 1 { "" } else { "s" },
                if g.faults.is_empty() {
                    String::new()
                } else {
                    format!(", {} faults", g.faults.len())
                },
                if g.unconfirmed == 0 {
                    String::new()
                } else {
                    format!(", {} deviations not confirmed by a re-send (not doubts)", g.unconfirmed)
                },
            ));
            if c.doubts.is_empty() {
                line("None: the model predicted every answer.\n".into());
            }
        }
    }
    for d in &c.doubts {
        line(format!("### {}\n", d.title));
        line(format!("{} (seen {} times).\n", d.summary, d.count));
        if let Some(example) = &d.example {
            line(format!("Minimal example:\n\n```json\n{}\n```\n", pretty(example)));
        }
        if let Some(answer) = &d.endpoint_answer {
            line(format!("The endpoint said:\n\n```json\n{}\n```\n", pretty(answer)));
        }
        if let Some(answer) = &d.model_answer {
            line(format!("The model says:\n\n```json\n{}\n```\n", pretty(answer)));
        }
        if let Some(file) = &d.case_file {
            line(format!("Replay: `ecr-conformance replay {file} --endpoint URL`.\n"));
        }
    }
    line("## Sharing\n".into());
    line(format!(
        "`calibration.json` holds all of this. The case files under `cases/` beside it are the probes with the endpoint's answers, ready to commit (from a checkout: `mkdir -p cases/recorded/{0}-{1}` and copy them there), with a row for the folder in `cases/recorded/README.md` naming the registry, region and date. The account id is written {2}; credentials are never written.",
        c.target,
        c.date,
        questions::REGISTRY_PLACEHOLDER
    ));
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

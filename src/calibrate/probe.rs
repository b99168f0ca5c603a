//! Asking the probes: each state seeded once into the calibration's own namespace
//! (`ecrc-<hash>-q<N>/`), each probe's request sent until two answers agree. What came back is
//! kept raw; reading and recording it are pure ([`super::questions`], [`super::record`]).

use super::questions::{FOREIGN_REGISTRY, Probe};
use crate::cases::CaseAnswer;
use crate::client::{self, EcrClient};
use crate::control::RunControl;
use crate::judge::{self, Deviation};
use crate::seeding::{self, SeedError};
use crate::wire::{BatchGetImageRequest, HttpReply};
use serde_json::Value;

/// Sends of one probe at most: two must agree.
const SENDS: usize = 4;

/// What became of one probe.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The endpoint's answer as it came (the namespace and account id still in it), and the
    /// request as sent, without the namespace.
    Answered(CaseAnswer, BatchGetImageRequest),
    /// The endpoint's own behaviour kept the probe from asking (its state was refused, or
    /// seeded otherwise than ECR does): not a fault, the calibration goes on.
    NotAsked(String),
    /// No usable answer (a fault, or the calibration stopped): the calibration is incomplete.
    Unanswered(String),
}

/// Every probe's outcome, and what the seeding showed.
#[derive(Debug, Default)]
pub(crate) struct Asked {
    pub outcomes: Vec<Option<Outcome>>,
    /// The account id the endpoint answers with (from CreateRepository), else the hint.
    pub account: String,
    /// Seeding answers that differ from ECR's.
    pub seeding: Vec<Deviation>,
    /// Why the probing stopped before the end, if it did.
    pub stopped: Option<String>,
}

/// Seeds each distinct state once (probes are grouped by their repositories, in first-appearance
/// order) under `<prefix>-q<N>/` and asks its probes in turn.
pub(crate) async fn ask_all(
    client: &EcrClient,
    probes: &[Probe],
    prefix: &str,
    registry_hint: &str,
    control: &RunControl,
    progress: bool,
) -> Asked {
    let mut asked = Asked {
        outcomes: vec![None; probes.len()],
        account: registry_hint.to_string(),
        ..Asked::default()
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, p) in probes.iter().enumerate() {
        match groups.iter_mut().find(|g| probes[g[0]].repositories == p.repositories) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    for (n, group) in groups.iter().enumerate() {
        if asked.stopped.is_none() {
            asked.stopped = control.stop_reason();
        }
        if let Some(reason) = &asked.stopped {
            for &i in group {
                asked.outcomes[i] = Some(Outcome::Unanswered(format!("not asked: {reason}")));
            }
            continue;
        }
        let namespace = format!("{prefix}-q{}/", n + 1);
        let first = &probes[group[0]];
        let placeholder = CaseAnswer {
            status: 200,
            body: Value::Null,
        };
        let plan = first.case(String::new(), String::new(), Vec::new(), placeholder).plan();
        let mut why_not: Option<String> = None;
        if !plan.repositories.is_empty() {
            let (seeded, error) =
                seeding::populate(client, &plan.with_prefix(&namespace), &asked.account, control).await;
            asked.seeding.extend(seeded.deviations.iter().cloned());
            asked.account = seeded.state.registry_id.clone();
            match error {
                Some(e @ (SeedError::Fault(_) | SeedError::Unavailable(_) | SeedError::Stopped(_))) => {
                    let reason = format!("state {} not seeded: {e}", n + 1);
                    for &i in group {
                        asked.outcomes[i] = Some(Outcome::Unanswered(reason.clone()));
                    }
                    asked.stopped = Some(match e {
                        SeedError::Stopped(r) => r,
                        other => format!("the endpoint stopped answering: {other}"),
                    });
                    continue;
                }
                Some(refused) => why_not = Some(format!("its state was not seeded: {refused}")),
                None => why_not = lost_meaning(&plan, &namespace, &seeded.state),
            }
        }
        for &i in group {
            let probe = &probes[i];
            if let Some(why) = &why_not {
                asked.outcomes[i] = Some(Outcome::NotAsked(why.clone()));
                continue;
            }
            if let Some(reason) = control.stop_reason() {
                asked.outcomes[i] = Some(Outcome::Unanswered(format!("not asked: {reason}")));
                continue;
            }
            let mut sent = probe.request.clone();
            if sent.registry_id.as_deref() == Some(asked.account.as_str()) {
                // The probe names another account: never the endpoint's own.
                sent.registry_id = Some(other_account(FOREIGN_REGISTRY));
            }
            let mut request = sent.clone();
            request.repository_name = format!("{namespace}{}", request.repository_name);
            let outcome = match ask(client, &request).await {
                Ok(answer) => Outcome::Answered(answer, sent),
                Err(Fault::Transport(e)) => {
                    asked.stopped = Some(format!("the endpoint stopped answering: {e}"));
                    Outcome::Unanswered(e)
                }
                Err(Fault::Unusable(e)) => Outcome::Unanswered(e),
            };
            if progress {
                let shown = match &outcome {
                    Outcome::Answered(a, _) => format!("HTTP {}", a.status),
                    Outcome::NotAsked(why) | Outcome::Unanswered(why) => why.clone(),
                };
                crate::console::note(format!("calibrate: probe {}: {shown}", probe.id));
            }
            asked.outcomes[i] = Some(outcome);
            if asked.stopped.is_some() {
                break;
            }
        }
        if let Some(reason) = asked.stopped.clone() {
            for &i in group {
                asked.outcomes[i].get_or_insert_with(|| Outcome::Unanswered(format!("not asked: {reason}")));
            }
        }
    }
    asked
}

/// A registry id that differs from `id` in its last digit.
fn other_account(id: &str) -> String {
    let mut digits: Vec<u8> = id.bytes().collect();
    if let Some(last) = digits.last_mut() {
        *last = if *last == b'9' { b'8' } else { b'9' };
    }
    String::from_utf8(digits).unwrap_or_else(|_| id.to_string())
}

/// Why a seeded state no longer asks what its probes ask, if it does not: an image the endpoint
/// holds under another digest than the SHA-256 of its manifest (S-PUT-DIGEST), or a tag that does
/// not name the image it was pushed onto.
fn lost_meaning(
    plan: &crate::model::RegistryPlan,
    namespace: &str,
    state: &crate::model::RegistryState,
) -> Option<String> {
    for repo in &plan.repositories {
        let name = format!("{namespace}{}", repo.name);
        let Some(held) = state.repository(&name) else {
            return Some(format!("the endpoint does not hold repository {}", repo.name));
        };
        for push in &repo.pushes {
            let digest = crate::model::syntax::sha256_digest(push.manifest.as_bytes());
            if held.image_by_digest(&digest).is_none() {
                return Some(format!(
                    "the endpoint does not hold the pushed image under its digest {digest}"
                ));
            }
            if let Some(tag) = &push.tag
                && held.image_by_tag(tag).is_none_or(|i| i.digest != digest)
            {
                return Some(format!(
                    "the endpoint's tag {tag} does not name the image pushed with it"
                ));
            }
        }
    }
    None
}

enum Fault {
    /// No HTTP answer after every attempt: the endpoint is not answering at all.
    Transport(String),
    /// An answer that is no answer to the request: a server error or throttling after every
    /// attempt, or a body that cannot be read, or answers that never agree.
    Unusable(String),
}

/// Sends `request` until two answers agree (images and failures compared as multisets: their order
/// is unspecified), at most [`SENDS`] times: a spoiled answer is never taken for the endpoint's.
async fn ask(client: &EcrClient, request: &BatchGetImageRequest) -> Result<CaseAnswer, Fault> {
    let mut seen: Vec<CaseAnswer> = Vec::new();
    let mut unreadable = None;
    for _ in 0..SENDS {
        let exchange = client.batch_get_image(request).await.map_err(|e| match e {
            e @ client::CallError::Transport { .. } => Fault::Transport(e.to_string()),
            other => Fault::Unusable(other.to_string()),
        })?;
        if client::retryable(&exchange.reply) {
            return Err(Fault::Unusable(format!(
                "HTTP {} after every attempt: {}",
                exchange.reply.status,
                exchange.reply.abridged_body(300)
            )));
        }
        match answer_of(&exchange.reply) {
            Err(why) => unreadable = Some(why.to_string()),
            Ok(answer) => {
                if let Some(same) = seen.iter().find(|s| same_answer(s, &answer)) {
                    return Ok(same.clone());
                }
                seen.push(answer);
            }
        }
    }
    Err(Fault::Unusable(match (seen.len(), unreadable) {
        (0, Some(why)) => why,
        (n, _) => format!("{n} different answers in {SENDS} sends, none twice"),
    }))
}

/// An HTTP reply as a recorded answer: a 200 must be a `BatchGetImage` body; an error's body is
/// kept as JSON where it is JSON, else as its text.
fn answer_of(reply: &HttpReply) -> Result<CaseAnswer, judge::UnreadableReply> {
    judge::parse_reply(reply)?;
    let body = serde_json::from_slice::<Value>(&reply.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&reply.body).into_owned()));
    Ok(CaseAnswer {
        status: reply.status,
        body,
    })
}

/// Whether two answers are the same, the order of `images` and `failures` aside.
pub(crate) fn same_answer(a: &CaseAnswer, b: &CaseAnswer) -> bool {
    a.status == b.status && sorted_lists(&a.body) == sorted_lists(&b.body)
}

fn sorted_lists(body: &Value) -> Value {
    let mut body = body.clone();
    for key in ["images", "failures"] {
        if let Some(list) = body.get_mut(key).and_then(Value::as_array_mut) {
            list.sort_by_key(Value::to_string);
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_agree_whatever_the_order_of_their_lists() {
        let a = CaseAnswer {
            status: 200,
            body: json!({"images": [{"a": 1}, {"b": 2}], "failures": []}),
        };
        let reordered = CaseAnswer {
            status: 200,
            body: json!({"failures": [], "images": [{"b": 2}, {"a": 1}]}),
        };
        assert!(same_answer(&a, &reordered));
        let other = CaseAnswer {
            status: 200,
            body: json!({"images": [{"a": 1}], "failures": []}),
        };
        assert!(!same_answer(&a, &other));
        let error = CaseAnswer {
            status: 400,
            body: a.body.clone(),
        };
        assert!(!same_answer(&a, &error));
    }

    #[test]
    fn a_foreign_account_is_never_the_endpoints() {
        assert_eq!(other_account("999999999999"), "999999999998");
        assert_eq!(other_account("123456789012"), "123456789019");
    }

    #[test]
    fn an_unreadable_200_is_no_answer_and_an_error_page_is_one() {
        let reply = |status, body: &str| HttpReply {
            status,
            content_type: None,
            body: body.as_bytes().to_vec(),
        };
        assert!(answer_of(&reply(200, "<html>")).is_err());
        let page = answer_of(&reply(400, "<html>bad</html>")).expect("an error page is an answer");
        assert_eq!(page.body, json!("<html>bad</html>"));
        let typed = answer_of(&reply(400, r#"{"__type":"X","message":"m"}"#)).expect("an answer");
        assert_eq!(typed.body["__type"], "X");
    }
}

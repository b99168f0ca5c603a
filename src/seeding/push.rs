//! Pushing one repository's plan: the repository, its blobs, its images, each answer checked
//! against ECR's (a refusal ECR would not give is a deviation of seeding).

use super::{RepositorySeeded, SeedError, fault_or_refusal, unusable};
use crate::client::{ApiError, CallError, EcrClient};
use crate::control::RunControl;
use crate::model::{RegistryState, syntax};
use crate::rules::id;
use crate::wire;
use base64::Engine as _;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

/// None: created by an attempt whose answer was lost (a retry found it in place).
pub(super) async fn create(client: &EcrClient, name: &str) -> Result<Option<wire::RepositoryResponse>, ApiError> {
    const OPERATION: &str = "CreateRepository";
    let request = wire::CreateRepositoryRequest {
        repository_name: name.to_string(),
    };
    let body = serde_json::to_vec(&request).map_err(|e| ApiError::Unreadable {
        operation: OPERATION.into(),
        detail: e.to_string(),
    })?;
    let exchange = client.call_raw(OPERATION, body, true).await?;
    // Every run's first write is a CreateRepository: its answer tells whether the endpoint speaks
    // the ECR API at all (the session reads it once the run is over).
    if let Some(foreign) = speaks_ecr(&exchange.reply) {
        client.stats().answered(foreign);
    }
    EcrClient::write_answer(OPERATION, exchange, "RepositoryAlreadyExistsException")
}

/// Whether an answer to CreateRepository is one of the ECR API, an AWS JSON 1.1 body: a JSON
/// object with the created `repository`, or an error's `__type`. Some(None): it is;
/// Some(Some(what)): it is not, and what it was (an HTML page, JSON of another API); None: it
/// tells nothing (a server error or throttling: a proxy's passing error page in front of a real
/// registry must not make it "not ECR"). 501 is no passing state: a plain web server's answer
/// to a POST (Python's `http.server`, for one).
pub(super) fn speaks_ecr(reply: &wire::HttpReply) -> Option<Option<String>> {
    if reply.status != 501 && crate::client::is_transient(reply.status, None) {
        return None;
    }
    let body: Option<serde_json::Value> = serde_json::from_slice(&reply.body).ok();
    let ecr = body.as_ref().and_then(serde_json::Value::as_object).is_some_and(|o| {
        o.get("__type").is_some_and(serde_json::Value::is_string)
            || o.get("repository").is_some_and(serde_json::Value::is_object)
    });
    if ecr {
        return Some(None);
    }
    let what = match &body {
        Some(_) => "JSON without `repository` or `__type`",
        None => "not JSON",
    };
    // One line, whatever the page's layout: it is quoted in an error message and the report.
    let text = String::from_utf8_lossy(&reply.body);
    let words: Vec<&str> = text.split_whitespace().collect();
    let shown = if words.is_empty() {
        "(an empty body)".to_string()
    } else {
        wire::abridge(&words.join(" "), 200)
    };
    let content_type = reply
        .content_type
        .as_deref()
        .map_or(String::new(), |c| format!(", {c}"));
    Some(Some(format!(
        "CreateRepository was answered HTTP {}{content_type}, {what}: {shown}",
        reply.status
    )))
}

pub(super) async fn seed_repository(
    client: &EcrClient,
    repo: Arc<crate::model::RepositoryPlan>,
    registry_hint: &str,
    control: &RunControl,
) -> RepositorySeeded {
    // Each repository is seeded into a state of its own, merged into the world's afterwards.
    let mut seeded = RepositoryState {
        state: RegistryState::new(registry_hint),
        registry_known: false,
    };
    let mut out = RepositorySeeded::default();
    let result = seed_repository_into(client, &repo, &mut seeded, &mut out, control).await;
    out.error = result.err();
    out.repository = seeded.state.repositories.remove(&repo.name);
    out.registry_id = seeded.registry_known.then_some(seeded.state.registry_id);
    out
}

/// One repository's model while it is seeded, and whether the endpoint named its registry id.
struct RepositoryState {
    state: RegistryState,
    registry_known: bool,
}

async fn seed_repository_into(
    client: &EcrClient,
    repo: &Arc<crate::model::RepositoryPlan>,
    seeded: &mut RepositoryState,
    out: &mut RepositorySeeded,
    control: &RunControl,
) -> Result<(), SeedError> {
    if let Some(reason) = control.stop_reason() {
        return Err(SeedError::Stopped(reason));
    }
    let rec = &mut out.recorder;
    let registry_known = &mut seeded.registry_known;
    let name = &repo.name;
    // A repository of that name is not this run's: never touched, the world is not seeded.
    let created = create(client, name).await.map_err(fault_or_refusal)?;
    control.created(name);
    out.created = true;
    seeded.state.create_repository(name).ok();
    // An answer lost to a retry (None) says nothing of the registry id.
    rec.judged(if created.is_some() {
        &[id::S_SEED, id::S_REGISTRY_ID]
    } else {
        &[id::S_SEED]
    });
    match created.map(|c| c.repository.and_then(|r| r.registry_id)) {
        None => {}
        Some(Some(id)) if syntax::is_registry_id(&id) && !*registry_known => {
            seeded.state.registry_id = id;
            *registry_known = true;
        }
        Some(Some(id)) if syntax::is_registry_id(&id) => {}
        Some(other) => rec.once(
            id::S_REGISTRY_ID,
            "no registryId",
            "CreateRepository does not answer a 12-digit repository.registryId".into(),
            json!("12 digits"),
            json!(other),
        ),
    }

    if let Some(reason) = control.stop_reason() {
        return Err(SeedError::Stopped(reason));
    }
    // The blobs in parallel (each distinct digest once); their answers are taken in the plan's
    // order, so that the first unusable one in that order stops the repository, as before.
    let mut uploaded = BTreeSet::new();
    let mut uploads = tokio::task::JoinSet::new();
    let mut order = Vec::new();
    for (b, blob) in repo.blobs.iter().enumerate() {
        let digest = syntax::sha256_digest(blob);
        if !uploaded.insert(digest.clone()) {
            continue;
        }
        let (client, repo, sent, control) = (client.clone(), Arc::clone(repo), digest.clone(), control.clone());
        let task = uploads.spawn(async move {
            // The run stopped while this upload waited its turn (under throttling, a long wait):
            // it is not started; the stop is taken below, before any answer is judged.
            if control.should_stop() {
                return Err(ApiError::Call(CallError::Transport {
                    operation: "InitiateLayerUpload".into(),
                    message: "not sent: the run stopped".into(),
                    source: None,
                }));
            }
            let blob = &repo.blobs[b];
            // A blob upload cut short (a connection reset mid-way) starts again once, with a new
            // upload: its parts are the run's own, and a layer already complete says so.
            let mut uploaded_now = upload_blob(&client, &repo.name, &sent, blob).await;
            if uploaded_now.as_ref().is_err_and(unusable) {
                uploaded_now = upload_blob(&client, &repo.name, &sent, blob).await;
            }
            uploaded_now
        });
        order.push((task.id(), b, digest));
    }
    let mut answers = std::collections::HashMap::new();
    while let Some(joined) = uploads.join_next_with_id().await {
        match joined {
            Ok((task, answer)) => answers.insert(task, answer),
            Err(e) => answers.insert(
                e.id(),
                Err(ApiError::Call(CallError::Transport {
                    operation: "InitiateLayerUpload".into(),
                    message: format!("the upload's task stopped: {e}"),
                    source: Some(std::sync::Arc::new(e)),
                })),
            ),
        };
    }
    if let Some(reason) = control.stop_reason() {
        return Err(SeedError::Stopped(reason));
    }
    for (task, b, digest) in order {
        let blob = &repo.blobs[b];
        let Some(uploaded_now) = answers.remove(&task) else {
            continue;
        };
        if !uploaded_now.as_ref().is_err_and(unusable) {
            rec.judged(&[id::S_SEED]);
        }
        match uploaded_now {
            Ok(()) => {
                let _ = seeded.state.put_blob(name, &digest, blob);
            }
            Err(e) if unusable(&e) => return Err(fault_or_refusal(e)),
            Err(e) if e.error_type() == Some("LayerAlreadyExistsException") => {
                let _ = seeded.state.put_blob(name, &digest, blob);
            }
            Err(e) => rec.once(
                id::S_SEED,
                "a blob upload refused",
                format!("uploading a blob fails: {e}"),
                json!("the blob is stored"),
                json!(e.to_string()),
            ),
        }
    }

    let mut manifest_of: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut digest_of: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut ambiguous: BTreeSet<String> = BTreeSet::new();
    for push in &repo.pushes {
        if let Some(reason) = control.stop_reason() {
            return Err(SeedError::Stopped(reason));
        }
        let request = wire::PutImageRequest {
            repository_name: name.clone(),
            image_manifest: push.manifest.clone(),
            image_manifest_media_type: Some(push.media_type.clone()),
            image_tag: push.tag.clone(),
        };
        let answer: Result<Option<wire::PutImageResponse>, ApiError> = client
            .call_write("PutImage", &request, "ImageAlreadyExistsException")
            .await;
        let computed = syntax::sha256_digest(push.manifest.as_bytes());
        // Pushed by an attempt whose answer was lost: in place, under the manifest's digest.
        let answer = answer.map(|a| {
            a.unwrap_or_else(|| wire::PutImageResponse {
                image: Some(wire::Image {
                    image_id: wire::ImageIdentifier::digest(computed.clone()),
                    ..Default::default()
                }),
            })
        });
        match &answer {
            Err(e) if unusable(e) => {}
            Err(_) => rec.judged(&[id::S_SEED]),
            Ok(_) => rec.judged(&[id::S_SEED, id::S_PUT_DIGEST]),
        }
        match answer {
            Err(e) if unusable(&e) => return Err(fault_or_refusal(e)),
            Err(e) => {
                // The push did not happen: the model leaves it out, and the run goes on.
                rec.once(
                    id::S_SEED,
                    &format!("PutImage refused with {}", e.error_type().unwrap_or("no __type")),
                    format!("PutImage of a valid {} manifest is refused: {e}", push.media_type),
                    json!({"status": 200}),
                    json!(e.to_string()),
                );
            }
            Ok(response) => {
                let image = response.image.unwrap_or_default();
                let assigned = image.image_id.image_digest.clone();
                let digest = match assigned {
                    Some(d) if d == computed => d,
                    Some(d) => {
                        rec.once(
                            id::S_PUT_DIGEST,
                            "another digest",
                            format!("PutImage assigns {d}, not the SHA-256 of the manifest bytes ({computed})"),
                            json!(computed),
                            json!(d),
                        );
                        d
                    }
                    None => {
                        rec.once(
                            id::S_PUT_DIGEST,
                            "no digest",
                            "PutImage answers no image.imageId.imageDigest".into(),
                            json!(computed),
                            json!(null),
                        );
                        computed
                    }
                };
                if !*registry_known && let Some(id) = image.registry_id.filter(|i| syntax::is_registry_id(i)) {
                    seeded.state.registry_id = id;
                    *registry_known = true;
                }
                // Two different manifests under one digest: what the endpoint now holds under it
                // cannot be predicted. The model forgets that image and that digest (and the
                // generators, which draw from the model, leave them alone), so one seeding bug
                // does not turn into a deviation in every later answer.
                let holder = manifest_of
                    .entry(digest.clone())
                    .or_insert_with(|| push.manifest.clone());
                if *holder != push.manifest {
                    rec.once(
                        id::S_PUT_DIGEST,
                        "one digest for two manifests",
                        format!("PutImage gives two different manifests the same digest {digest}"),
                        json!("a digest per manifest"),
                        json!(digest),
                    );
                    ambiguous.insert(digest.clone());
                }
                // The converse: one manifest pushed again under another digest (an endpoint that
                // draws digests at random, and forgets the image when its tag moves away). Which
                // of the two it still holds cannot be predicted either.
                let earlier = digest_of.entry(push.manifest.clone()).or_insert_with(|| digest.clone());
                if *earlier != digest {
                    rec.once(
                        id::S_PUT_DIGEST,
                        "two digests for one manifest",
                        format!("PutImage gives one manifest the digests {earlier} and {digest}"),
                        json!(earlier.clone()),
                        json!(digest),
                    );
                    ambiguous.insert(earlier.clone());
                    ambiguous.insert(digest.clone());
                    let earlier = earlier.clone();
                    forget(&mut seeded.state, name, &earlier, None);
                }
                if ambiguous.contains(&digest) {
                    forget(&mut seeded.state, name, &digest, push.tag.as_deref());
                    continue;
                }
                let _ = seeded
                    .state
                    .push_as(name, &push.manifest, &push.media_type, push.tag.as_deref(), digest);
            }
        }
    }
    Ok(())
}

/// Removes an image (by digest) from the model, and a tag that was just pushed onto it from
/// every image (the endpoint moved it to the ambiguous image).
fn forget(state: &mut RegistryState, repo: &str, digest: &str, tag: Option<&str>) {
    if let Some(r) = state.repositories.get_mut(repo) {
        // The forgotten image's tags go with it: the endpoint may still hold them anywhere.
        let tags: Vec<String> = r
            .images
            .iter()
            .filter(|i| i.digest == digest)
            .flat_map(|i| i.tags.iter().cloned())
            .collect();
        r.images.retain(|i| i.digest != digest);
        r.unpredictable.extend(tags);
        r.unpredictable.insert(digest.to_string());
        if let Some(t) = tag {
            r.unpredictable.insert(t.to_string());
            for image in &mut r.images {
                image.tags.retain(|x| x != t);
            }
        }
    }
}

async fn upload_blob(client: &EcrClient, repo: &str, digest: &str, blob: &[u8]) -> Result<(), ApiError> {
    let init: wire::InitiateLayerUploadResponse = client
        .call(
            "InitiateLayerUpload",
            &wire::InitiateLayerUploadRequest {
                repository_name: repo.into(),
            },
            true,
        )
        .await?;
    let upload_id = init.upload_id.ok_or_else(|| ApiError::Unreadable {
        operation: "InitiateLayerUpload".into(),
        detail: "no uploadId".into(),
    })?;
    let part_size = init.part_size.filter(|&p| p > 0).unwrap_or(blob.len() as u64).max(1) as usize;
    let mut first = 0usize;
    for part in blob.chunks(part_size) {
        let request = wire::UploadLayerPartRequest {
            repository_name: repo.into(),
            upload_id: upload_id.clone(),
            part_first_byte: first as u64,
            part_last_byte: (first + part.len() - 1) as u64,
            layer_part_blob: base64::engine::general_purpose::STANDARD.encode(part),
        };
        let _: serde_json::Value = client.call("UploadLayerPart", &request, true).await?;
        first += part.len();
    }
    let complete = wire::CompleteLayerUploadRequest {
        repository_name: repo.into(),
        upload_id,
        layer_digests: vec![digest.into()],
    };
    let _: wire::CompleteLayerUploadResponse = client.call("CompleteLayerUpload", &complete, true).await?;
    Ok(())
}

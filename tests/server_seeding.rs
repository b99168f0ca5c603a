//! The embedded server's seeding operations follow revision 2 of the reference (section 7): it
//! refuses what ECR refuses, with ECR's words, so that it stays the reference by construction.

use ecr_conformance::server::{self, RunningServer, ServerConfig};
use serde_json::{Value, json};
use std::net::SocketAddr;

async fn backend() -> RunningServer {
    server::start(ServerConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("server")
}

/// One call, as a signed client sends it (the embedded server checks the scope, not the
/// signature).
async fn call(server: &RunningServer, operation: &str, body: Value) -> (u16, Value) {
    let reply = reqwest::Client::new()
        .post(server.url())
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AmazonEC2ContainerRegistry_V20150921.{operation}"),
        )
        .body(body.to_string())
        .send()
        .await
        .expect("loopback call");
    let status = reply.status().as_u16();
    let bytes = reply.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes).expect("a JSON body");
    (status, body)
}

/// The digest of `{}`, the one blob these tests upload.
const CONFIG: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

async fn repository_with_config(server: &RunningServer) {
    let (status, _) = call(server, "CreateRepository", json!({"repositoryName": "team/web"})).await;
    assert_eq!(status, 200);
    let (status, upload) = call(server, "InitiateLayerUpload", json!({"repositoryName": "team/web"})).await;
    assert_eq!(status, 200);
    let id = upload["uploadId"].as_str().expect("an uploadId").to_string();
    let (status, _) = call(
        server,
        "UploadLayerPart",
        json!({"repositoryName": "team/web", "uploadId": id, "partFirstByte": 0, "partLastByte": 1, "layerPartBlob": "e30="}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        server,
        "CompleteLayerUpload",
        json!({"repositoryName": "team/web", "uploadId": id, "layerDigests": [CONFIG]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_manifest_without_any_media_type_is_refused_naming_image_manifest() {
    let server = backend().await;
    repository_with_config(&server).await;
    let manifest = json!({"schemaVersion": 2, "config": {"digest": CONFIG, "size": 2}, "layers": []}).to_string();
    let (status, body) = call(
        &server,
        "PutImage",
        json!({"repositoryName": "team/web", "imageManifest": manifest, "imageTag": "v1"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "InvalidParameterException");
    assert_eq!(
        body["message"],
        "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
    );
    // The same manifest with its type given is taken.
    let (status, body) = call(
        &server,
        "PutImage",
        json!({"repositoryName": "team/web", "imageManifest": manifest, "imageTag": "v1",
               "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn upload_ids_are_uuids_and_layer_digests_and_manifests_keep_their_limits() {
    let server = backend().await;
    call(&server, "CreateRepository", json!({"repositoryName": "team/web"})).await;
    let uuid = regex::Regex::new("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        .expect("pattern");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (_, upload) = call(&server, "InitiateLayerUpload", json!({"repositoryName": "team/web"})).await;
        let id = upload["uploadId"].as_str().expect("an uploadId").to_string();
        assert!(uuid.is_match(&id), "{id}");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    call(
        &server,
        "UploadLayerPart",
        json!({"repositoryName": "team/web", "uploadId": ids[0], "partFirstByte": 0, "partLastByte": 1, "layerPartBlob": "e30="}),
    )
    .await;
    for (digests, words) in [
        (json!([]), "greater than or equal to 1"),
        (json!(vec![CONFIG; 101]), "less than or equal to 100"),
        (json!(["sha256"]), "regular expression"),
    ] {
        let (status, body) = call(
            &server,
            "CompleteLayerUpload",
            json!({"repositoryName": "team/web", "uploadId": ids[0], "layerDigests": digests}),
        )
        .await;
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some("InvalidParameterException"))
        );
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("'layerDigests'") && message.contains(words),
            "{message}"
        );
    }
    let huge = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{{"a":"{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    let (status, body) = call(
        &server,
        "PutImage",
        json!({"repositoryName": "team/web", "imageManifest": huge, "imageTag": "big"}),
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidParameterException"))
    );
    assert!(body["message"].as_str().is_some_and(|m| m.contains("4194304")));
    server.stop().await;
}

#[tokio::test]
async fn names_are_refused_in_ecrs_words() {
    let server = backend().await;
    let (status, short) = call(&server, "CreateRepository", json!({"repositoryName": "a"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        short["message"],
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must have length greater than or equal to 2'"
    );
    let (_, upper) = call(&server, "CreateRepository", json!({"repositoryName": "Upper"})).await;
    assert_eq!(
        upper["message"],
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"
    );
    server.stop().await;
}

use super::push::speaks_ecr;
use crate::wire;

fn reply(status: u16, content_type: &str, body: &str) -> wire::HttpReply {
    wire::HttpReply {
        status,
        content_type: Some(content_type.into()),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn an_answer_speaks_ecr_with_a_repository_or_an_error_type() {
    let json = "application/x-amz-json-1.1";
    let created = r#"{"repository": {"repositoryName": "a", "registryId": "123456789012"}}"#;
    assert_eq!(speaks_ecr(&reply(200, json, created)), Some(None));
    let refused = r#"{"__type": "InvalidParameterException", "message": "no"}"#;
    assert_eq!(speaks_ecr(&reply(400, json, refused)), Some(None));
    // Say nothing: a passing 5xx page or throttling in front of a real registry.
    assert_eq!(speaks_ecr(&reply(502, "text/html", "<html>Bad Gateway</html>")), None);
    assert_eq!(speaks_ecr(&reply(429, "text/plain", "slow down")), None);
    let unsupported = speaks_ecr(&reply(501, "text/html", "<p>Unsupported method ('POST')</p>"));
    assert!(unsupported.flatten().is_some_and(|w| w.contains("HTTP 501")));
}

#[test]
fn a_web_page_or_another_apis_json_is_not_ecr_and_is_quoted_on_one_line() {
    let page = "<html>\n  <body>\n    <h1>Not Found</h1>\n  </body>\n</html>";
    let what = speaks_ecr(&reply(404, "text/html", page)).flatten().expect("not ECR");
    assert!(what.contains("HTTP 404, text/html, not JSON"), "{what}");
    assert!(what.contains("<html> <body> <h1>Not Found</h1>"), "{what}");
    assert!(!what.contains('\n'), "{what}");
    let other = speaks_ecr(&reply(200, "application/json", r#"{"ok": true}"#))
        .flatten()
        .expect("not ECR");
    assert!(other.contains("JSON without `repository` or `__type`"), "{other}");
    for body in ["[]", r#"{"repository": "a"}"#, ""] {
        assert!(
            speaks_ecr(&reply(200, "application/json", body)).flatten().is_some(),
            "{body}"
        );
    }
    let long = format!("<p>{}</p>", "x".repeat(5000));
    let what = speaks_ecr(&reply(200, "text/html", &long)).flatten().expect("not ECR");
    assert!(what.len() < 400 && what.contains("bytes more"), "{what}");
}

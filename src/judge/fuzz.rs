//! The response parser and the comparer never panic, whatever the bytes.
use super::*;
use crate::model::{RegistryState, batch_get_image};
use crate::wire::{BatchGetImageRequest, ImageIdentifier};
use proptest::prelude::*;

fn expectations() -> Vec<Expected> {
    let mut s = RegistryState::new("123456789012");
    s.create_repository("r1").expect("repo");
    s.push("r1", "{}", crate::wire::media_type::DOCKER_V2, Some("t"))
        .expect("push");
    let ids = vec![
        ImageIdentifier::tag("t"),
        ImageIdentifier::digest("bad"),
        ImageIdentifier::neither(),
        ImageIdentifier::tag("t"),
    ];
    let ok = BatchGetImageRequest {
        repository_name: "r1".into(),
        image_ids: ids,
        ..Default::default()
    };
    let missing = BatchGetImageRequest {
        repository_name: "r2".into(),
        ..ok.clone()
    };
    vec![batch_get_image(&s, &ok), batch_get_image(&s, &missing)]
}

/// JSON-ish fragments that reach deeper into the parser than random bytes do.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        Just("{\"images\":".to_string()),
        Just("{\"failures\":[{\"imageId\":{\"imageTag\":\"t\"},\"failureCode\":".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("}".to_string()),
        Just(",".to_string()),
        Just("null".to_string()),
        Just("\"imageManifest\":\"{}\"".to_string()),
        Just("{\"__type\":\"a#B:c\",\"message\":1}".to_string()),
        "[ -~]{0,12}",
    ];
    prop::collection::vec(atom, 0..24).prop_map(|parts| parts.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in prop_oneof![Just(200u16), Just(400), Just(500), 100u16..600]) {
        for e in expectations() {
            let reply = HttpReply { status, content_type: None, body: body.clone() };
            let _ = judge(&e, &reply);
        }
    }

    #[test]
    fn json_shaped_bytes_never_panic(body in jsonish(), status in prop_oneof![Just(200u16), Just(400)]) {
        for e in expectations() {
            let reply = HttpReply { status, content_type: Some(crate::wire::CONTENT_TYPE.into()), body: body.clone() };
            let _ = judge(&e, &reply);
        }
    }
}

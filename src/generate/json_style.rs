//! Manifests' JSON styles as a generated choice; the writer itself is [`crate::wire::json_style`].

pub use crate::wire::json_style::{Json, Style, write};
use proptest::prelude::*;

/// Shrinks towards compact JSON in the canonical key order.
pub fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just(None), Just(Some(3u8)), Just(Some(2)), Just(Some(4)), Just(Some(0))],
        0u8..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(indent, rotate_keys, space_after_colon, trailing_newline)| Style {
            indent,
            rotate_keys,
            space_after_colon,
            trailing_newline,
        })
}

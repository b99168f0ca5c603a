//! Generators: proptest strategies for registry states and requests. They know nothing of HTTP.
//! Every strategy shrinks towards fewer repositories, images, tags and ids, and simpler names.
//!
//! - [`json_style`]: manifests written compact or pretty, keys in varied order;
//! - [`plans`]: registry states as plans of real pushes (blobs, images, lists, tags);
//! - [`ids`]: id lists by category against a state, near misses included;
//! - [`requests`]: whole requests, including the request-level cases.

/// An enum of unit variants, each with its name, and `ALL` in declaration order: one table, from
/// which the lookups derive (the names are the serde names too, which a test checks).
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $name:literal,)*
        }
    ) => {
        $(#[$meta])*
        $vis enum $enum {
            $($(#[$variant_meta])* $variant,)*
        }

        impl $enum {
            pub const ALL: [$enum; [$(stringify!($variant)),*].len()] = [$($enum::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)*
                }
            }
        }
    };
}

pub mod ids;
pub mod json_style;
pub mod plans;
pub mod requests;
pub mod weighted;

pub use ids::{GeneratedId, IdCategory};
pub use requests::{Case, RequestCategory};

#[cfg(test)]
mod named_tests {
    use super::{IdCategory, RequestCategory};

    // Reports name categories by `name()` and case files by serde: the two must agree.
    #[test]
    fn every_category_name_is_its_serde_name() {
        for c in IdCategory::ALL {
            assert_eq!(serde_json::to_value(c).ok(), Some(c.name().into()), "{c:?}");
        }
        for c in RequestCategory::ALL {
            assert_eq!(serde_json::to_value(c).ok(), Some(c.name().into()), "{c:?}");
        }
    }
}

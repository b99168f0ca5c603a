//! Deviation classes: many generated cases hit the same bug, so deviations are grouped by a
//! signature that does not depend on the seed: the rule (and level), where it was seen (the model
//! comparison, a metamorphic property, seeding), the shape of the id concerned, and what was
//! expected and what came, in seed-free words. One class, one finding.

pub(crate) use crate::outcome::ClassKey;
use crate::outcome::{Finding, Property};
use serde::Serialize;
use std::collections::BTreeMap;

/// What one finding of a class looked like, in seed-free words: shown with the class, never part
/// of its key (which id came along, and which way an entry was read, are incidental to the bug).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kinds {
    /// The id concerned: `tag`, `digest`, `both`, `neither`; else `request`, `seeding` or `world`.
    pub shape: String,
    pub expected_kind: String,
    pub actual_kind: String,
}

impl Kinds {
    pub fn of(f: &Finding) -> Kinds {
        let d = &f.deviation;
        let shape = match (&d.image_id, &f.request) {
            (Some(id), _) => crate::model::id_shape(id).to_string(),
            (None, Some(_)) => match f.request_category {
                Some(category) if d.rule.starts_with("W-") => format!("request {}", category.name()),
                _ => "request".to_string(),
            },
            (None, None) if f.property == Property::Seed => "seeding".to_string(),
            (None, None) => "world".to_string(),
        };
        Kinds {
            shape,
            expected_kind: d.expected_kind.clone(),
            actual_kind: d.actual_kind.clone(),
        }
    }
}

/// One class and the findings in it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Class {
    pub key: ClassKey,
    pub title: String,
    pub slug: String,
    /// How many deviations fell in it.
    pub count: usize,
    /// What its first finding looked like.
    pub kinds: Kinds,
    /// The first finding of the class (the one shrunk into the minimal example).
    pub first: Finding,
}

/// Groups findings into classes, in the order of their keys (stable across seeds).
pub(crate) fn classify(findings: &[Finding]) -> Vec<Class> {
    let mut by_key: BTreeMap<ClassKey, Class> = BTreeMap::new();
    for f in findings {
        let key = ClassKey::of(f);
        by_key
            .entry(key.clone())
            .and_modify(|c| c.count += 1)
            .or_insert_with(|| Class {
                title: key.title(),
                slug: key.slug(),
                key,
                count: 1,
                kinds: Kinds::of(f),
                first: f.clone(),
            });
    }
    by_key.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::Deviation;
    use crate::rules::Level;
    use crate::wire::{BatchGetImageRequest, ImageIdentifier};
    use serde_json::json;

    fn finding(tag: &str, digest: &str) -> Finding {
        let mut d = Deviation::new(
            "I-TAG",
            Level::Gate,
            format!("{tag} {digest}"),
            json!(digest),
            json!(tag),
        )
        .kinds("an image", "failure ImageNotFound");
        d.image_id = Some(ImageIdentifier::tag(tag));
        Finding {
            deviation: d,
            property: Property::Model,
            trial: crate::outcome::Origin::CaseFile(tag.into()),
            request: Some(BatchGetImageRequest {
                repository_name: format!("repo-{digest}"),
                ..Default::default()
            }),
            request_category: None,
            id_categories: Vec::new(),
        }
    }

    #[test]
    fn the_same_bug_from_different_data_is_one_class() {
        let classes = classify(&[finding("v1", "sha256:aa"), finding("latest", "sha256:bb")]);
        assert_eq!(classes.len(), 1);
        assert_eq!(classes[0].count, 2);
        assert_eq!(classes[0].slug, "i-tag-gate-model");
    }

    #[test]
    fn the_same_rule_broken_another_way_or_on_another_id_is_still_one_class() {
        let mut other = finding("v1", "sha256:aa");
        other.deviation = other.deviation.kinds("an image", "failure InvalidImageTag");
        other.deviation.image_id = Some(ImageIdentifier::both("v1", "sha256:aa"));
        let classes = classify(&[finding("v1", "sha256:aa"), other]);
        assert_eq!(classes.len(), 1);
        // The class shows its first finding's kinds.
        assert_eq!(classes[0].kinds.actual_kind, "failure ImageNotFound");
    }

    #[test]
    fn another_rule_level_or_property_is_another_class() {
        let mut advisory = finding("v1", "sha256:aa");
        advisory.deviation.level = Level::Advisory;
        let mut property = finding("v1", "sha256:aa");
        property.property = Property::Permute;
        let mut rule = finding("v1", "sha256:aa");
        rule.deviation.rule = "I-BOTH".into();
        assert_eq!(
            classify(&[finding("v1", "sha256:aa"), advisory, property, rule]).len(),
            4
        );
    }

    #[test]
    fn slugs_are_file_name_safe() {
        let mut f = finding("v1", "sha256:aa");
        f.property = Property::ReadOnly;
        f.deviation = f.deviation.kinds("x".repeat(300), "y/../z");
        let slug = ClassKey::of(&f).slug();
        assert_eq!(slug, "i-tag-gate-p-read-only");
    }
}

//! Deviation classes: many generated cases hit the same bug, so deviations are grouped by a
//! signature that does not depend on the seed: the rule (and level), where it was seen (the model
//! comparison, a metamorphic property, seeding), the shape of the id concerned, and what was
//! expected and what came, in seed-free words. One class, one finding.

use crate::rules::Level;
use crate::runner::Finding;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassKey {
    pub rule: String,
    pub level: Level,
    /// `model`, `seed`, or a metamorphic property's id.
    pub property: String,
    /// The id concerned: `tag`, `digest`, `both`, `neither`; else `request`, `seeding` or `world`.
    pub shape: String,
    pub expected_kind: String,
    pub actual_kind: String,
}

impl ClassKey {
    pub fn of(f: &Finding) -> ClassKey {
        let request = f.request.as_ref().map(|_| f.request_category);
        Self::from_deviation(&f.property, &f.deviation, request)
    }

    /// The class of a deviation found by `property`; `request` is Some when it is about a request
    /// (with the request's generated category, if it has one).
    pub fn from_deviation(
        property: &str,
        d: &crate::compare::Deviation,
        request: Option<Option<crate::generate::RequestCategory>>,
    ) -> ClassKey {
        // A deviation about one id is classed by the id's shape; one about the whole request by
        // the kind of request (which invalid parameter, which missing repository).
        let shape = match (&d.image_id, request) {
            (Some(id), _) => crate::model::id_shape(id).to_string(),
            // The wire rules apply to every kind of request: which kind says where. Other rules
            // name the kind of request themselves.
            (None, Some(Some(category))) if d.rule.starts_with("W-") => format!("request {}", category.name()),
            (None, Some(_)) => "request".to_string(),
            (None, None) if property == "seed" => "seeding".to_string(),
            (None, None) => "world".to_string(),
        };
        ClassKey {
            rule: d.rule.clone(),
            level: d.level,
            property: property.to_string(),
            shape,
            expected_kind: d.expected_kind.clone(),
            actual_kind: d.actual_kind.clone(),
        }
    }

    /// One line for people: `I-TAG-CASE (gate, model, tag): failure ImageNotFound -> an image`.
    pub fn title(&self) -> String {
        format!(
            "{} ({}, {}, {}): {} -> {}",
            self.rule,
            self.level.as_str(),
            self.property,
            self.shape,
            self.expected_kind,
            self.actual_kind
        )
    }

    /// A file-name stem, stable across seeds and runs.
    pub fn slug(&self) -> String {
        let raw = self.title();
        let mut slug = String::with_capacity(raw.len());
        for c in raw.to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_matches('-').to_string();
        if slug.len() <= 150 {
            return slug;
        }
        // Too long for a file name: a readable start and a hash of the whole key.
        let hash = crate::model::syntax::sha256_digest(raw.as_bytes());
        format!("{}-{}", &slug[..120].trim_end_matches('-'), &hash[7..19])
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
    /// The first finding of the class (the one shrunk into the minimal example).
    pub first: Finding,
}

/// Groups findings into classes, in the order of their keys (stable across seeds).
pub fn classify(findings: &[Finding]) -> Vec<Class> {
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
                first: f.clone(),
            });
    }
    by_key.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Deviation;
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
            property: "model".into(),
            trial: format!("world-1/case-{tag}"),
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
        assert_eq!(classes[0].slug, "i-tag-gate-model-tag-an-image-failure-imagenotfound");
    }

    #[test]
    fn another_kind_of_answer_is_another_class() {
        let mut other = finding("v1", "sha256:aa");
        other.deviation = other.deviation.kinds("an image", "failure InvalidImageTag");
        assert_eq!(classify(&[finding("v1", "sha256:aa"), other]).len(), 2);
    }

    #[test]
    fn slugs_are_file_name_safe_and_bounded() {
        let mut f = finding("v1", "sha256:aa");
        f.deviation = f.deviation.kinds("x".repeat(300), "y/../z");
        let slug = ClassKey::of(&f).slug();
        assert!(slug.len() <= 150, "{slug}");
        assert!(slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{slug}");
    }
}

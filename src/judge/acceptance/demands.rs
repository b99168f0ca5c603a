//! What each id, alone or with the ids that name its image, allows as answers.

use super::cost::NOTE;
use super::{Accepts, Allowed, COMBINATIONS_MAX, Choice, Demand};
use crate::model::{ExpectedAnswers, Outcome};
use crate::rules::Level;

/// The allowed answers of every requested id: the ids that name one image (`shares`: its tags, its
/// digest, a tag with its digest) form one demand, every other id its own.
pub(super) fn demands(a: &ExpectedAnswers) -> Vec<Demand> {
    let mut out = Vec::new();
    let mut grouped = vec![false; a.ids.len()];
    for group in &a.shares {
        let Some(digest) = a.ids[group[0]]
            .images()
            .first()
            .and_then(|x| x.image_id.image_digest.clone())
        else {
            continue;
        };
        for &k in group {
            grouped[k] = true;
        }
        out.push(Demand {
            options: together(a, group, &digest),
            ids: group.clone(),
        });
    }
    for i in (0..a.ids.len()).filter(|&i| !grouped[i]) {
        out.push(Demand {
            ids: vec![i],
            options: alone(a, i),
        });
    }
    out.sort_by_key(|d| d.ids[0]);
    out
}

/// Places for the images ECR answers for an id by digest (`images`, of the id `i`, read through
/// `place`): one per tag, or (I-DIGEST-TAGS, advisory) one entry of the image for all of them.
fn by_digest(
    i: usize,
    count: usize,
    digest: Option<String>,
    tags: Vec<Option<String>>,
    place: impl Fn(usize) -> Accepts,
) -> Vec<(Vec<Accepts>, Choice, u32)> {
    let each: Vec<Accepts> = (0..count).map(place).collect();
    let mut out = vec![(each, Choice::Reference, 0)];
    // One entry for all of the tags is the emulators' way (I-DIGEST-TAGS, advisory).
    if count > 1 || tags.iter().any(Option::is_some) {
        let mut tags = tags;
        tags.push(None);
        out.push((
            vec![Accepts::ImageOf {
                digest: digest.unwrap_or_default(),
                tags,
                answering: vec![i],
            }],
            Choice::OneEntry,
            NOTE as u32,
        ));
    }
    out
}

/// An id's allowed answers on its own: the model's, the alternatives the reference allows beside
/// it (an answer per repetition, one entry by digest), and where the id's answer is open (its
/// level advisory: the evidence does not cover its context) any failure, or the image a lookup
/// in other letters finds.
fn alone(a: &ExpectedAnswers, i: usize) -> Vec<Allowed> {
    let e = &a.ids[i];
    let counts: Vec<(usize, Choice, u32)> = if e.times > 1 {
        vec![(1, Choice::Reference, 0), (e.times, Choice::PerRepetition, NOTE as u32)]
    } else {
        vec![(1, Choice::Reference, 0)]
    };
    let open = e.level == Level::Advisory;
    // The shapes of one sending's answer: places, the choice they stand for, their cost.
    let mut shapes: Vec<(Vec<Accepts>, Choice, u32)> = Vec::new();
    match &e.outcome {
        Outcome::Failure { .. } if open => shapes.push((vec![Accepts::AnyAnswerTo(e.id.clone())], Choice::Reference, 0)),
        Outcome::Failure { code, also, .. } => {
            let mut codes = vec![code.clone()];
            codes.extend(also.iter().cloned());
            shapes.push((vec![Accepts::Failure(e.id.clone(), codes)], Choice::Reference, 0));
        }
        Outcome::Image(_) => shapes.push((vec![Accepts::Image { id: i, image: 0 }], Choice::Reference, 0)),
        Outcome::ImagesByDigest { images } => shapes.extend(by_digest(
            i,
            images.len(),
            e.id.image_digest.clone(),
            images.iter().map(|x| x.image_id.image_tag.clone()).collect(),
            |k| Accepts::Image { id: i, image: k },
        )),
    }
    if let Outcome::Failure { or_found, .. } = &e.outcome
        && !or_found.is_empty()
    {
        // I-DIGEST-CASE: the image found in lower case, answered as by digest (or as by tag).
        let digest = or_found[0].image_id.image_digest.clone();
        let tags = or_found.iter().map(|x| x.image_id.image_tag.clone()).collect();
        for (places, _, cost) in by_digest(i, or_found.len(), digest, tags, |k| Accepts::Found { id: i, image: k }) {
            shapes.push((places, Choice::Open, cost + NOTE as u32));
        }
    }
    if open && !matches!(e.outcome, Outcome::Failure { .. }) {
        // An image whose manifest choice is open may be refused (rev 3 F2, F3).
        shapes.push((vec![Accepts::AnyAnswerTo(e.id.clone())], Choice::Open, NOTE as u32));
    }
    let mut options = Vec::new();
    for &(n, count_choice, count_cost) in &counts {
        for (places, choice, cost) in &shapes {
            let choice = if *choice == Choice::Reference {
                count_choice
            } else {
                *choice
            };
            options.push(Allowed {
                choices: vec![(i, choice)],
                cost: count_cost + cost,
                places: (0..n).flat_map(|_| places.iter().map(|p| (i, p.clone()))).collect(),
            });
        }
    }
    options
}

/// The allowed answers of ids that name one image: each its own answer (as alone), or entries of
/// that image under any of its tags or none, from one for all of them to as many as they would
/// get apart (I-SAME-DIGEST-TAGS, advisory, rev 3 F7).
pub(super) fn together(a: &ExpectedAnswers, members: &[usize], digest: &str) -> Vec<Allowed> {
    let mut options = vec![Allowed {
        choices: Vec::new(),
        cost: 0,
        places: Vec::new(),
    }];
    for &i in members {
        let mut next = Vec::new();
        for o in &options {
            for alt in alone(a, i) {
                let mut o = o.clone();
                o.choices.extend(alt.choices);
                o.cost += alt.cost;
                o.places.extend(alt.places);
                next.push(o);
            }
        }
        options = next;
        if options.len() > COMBINATIONS_MAX {
            options.truncate(1);
        }
    }
    let mut tags: Vec<Option<String>> = a
        .held
        .iter()
        .find(|h| h.digest == digest)
        .map(|h| h.tags.iter().cloned().map(Some).collect())
        .unwrap_or_default();
    tags.push(None);
    let most: usize = members.iter().map(|&i| a.ids[i].times * a.ids[i].images().len().max(1)).sum();
    for k in 1..=most {
        options.push(Allowed {
            choices: members.iter().map(|&i| (i, Choice::Shared)).collect(),
            // Each id without an entry of its own, or with more than one, is a note (at least
            // one), and the share one more.
            cost: NOTE as u32 * u32::try_from(members.len().abs_diff(k).max(1)).unwrap_or(u32::MAX / 4) + 1,
            places: (0..k)
                .map(|n| {
                    (
                        members[n % members.len()],
                        Accepts::ImageOf {
                            digest: digest.to_string(),
                            tags: tags.clone(),
                            answering: members.to_vec(),
                        },
                    )
                })
                .collect(),
        });
    }
    options
}

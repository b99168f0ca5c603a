//! What each id, alone or with the ids that share its image, allows as answers.

use super::cost::NOTE;
use super::{Accepts, Allowed, COMBINATIONS_MAX, Choice, Demand};
use crate::model::{ExpectedAnswers, IdExpectation, Outcome};
use crate::rules::{Level, id};

/// The allowed answers of every requested id: the tags of one image asked for apart (I-SAME-
/// DIGEST-TAGS) form one demand, every other id its own.
pub(super) fn demands(a: &ExpectedAnswers) -> Vec<Demand> {
    let mut out = Vec::new();
    let mut grouped = vec![false; a.ids.len()];
    for (i, e) in a.ids.iter().enumerate() {
        if grouped[i] {
            continue;
        }
        let shared_digest = match &e.outcome {
            Outcome::Image(x) if e.rule == id::I_SAME_DIGEST_TAGS => x.image_id.image_digest.clone(),
            _ => None,
        };
        let Some(digest) = shared_digest else {
            out.push(Demand {
                ids: vec![i],
                options: alone(i, e),
            });
            continue;
        };
        let members: Vec<usize> = (i..a.ids.len())
            .filter(|&k| {
                let other = &a.ids[k];
                other.rule == id::I_SAME_DIGEST_TAGS
                    && matches!(&other.outcome, Outcome::Image(x) if x.image_id.image_digest.as_deref() == Some(digest.as_str()))
            })
            .collect();
        for &k in &members {
            grouped[k] = true;
        }
        out.push(Demand {
            options: together(a, &members, &digest),
            ids: members,
        });
    }
    out
}

/// An id's allowed answers on its own.
fn alone(i: usize, e: &IdExpectation) -> Vec<Allowed> {
    let counts: Vec<(usize, Choice, u32)> = if e.times > 1 {
        vec![(1, Choice::Reference, 0), (e.times, Choice::PerRepetition, NOTE as u32)]
    } else {
        vec![(1, Choice::Reference, 0)]
    };
    let repeat = |n: usize, accepts: &[Accepts]| -> Vec<(usize, Accepts)> {
        (0..n).flat_map(|_| accepts.iter().map(|x| (i, x.clone()))).collect()
    };
    let mut options = Vec::new();
    for &(n, choice, cost) in &counts {
        match &e.outcome {
            Outcome::Failure { .. } if e.level == Level::Advisory => options.push(Allowed {
                choices: vec![(i, choice)],
                cost,
                places: repeat(n, &[Accepts::AnyAnswerTo(e.id.clone())]),
            }),
            Outcome::Failure { code, .. } => options.push(Allowed {
                choices: vec![(i, choice)],
                cost,
                places: repeat(n, &[Accepts::Failure(e.id.clone(), code.clone())]),
            }),
            Outcome::Image(x) => options.push(Allowed {
                choices: vec![(i, choice)],
                cost,
                places: repeat(n, &[Accepts::Image(x.image_id.clone())]),
            }),
            Outcome::ImagesByDigest { images } => {
                let each: Vec<Accepts> = images.iter().map(|x| Accepts::Image(x.image_id.clone())).collect();
                options.push(Allowed {
                    choices: vec![(i, choice)],
                    cost,
                    places: repeat(n, &each),
                });
                // I-DIGEST: every entry's tag, if any, is a tag of the digest; one entry for all of
                // them is the emulators' way (I-DIGEST-TAGS, advisory).
                if images.len() > 1 || images.iter().any(|x| x.image_id.image_tag.is_some()) {
                    let digest = e.id.image_digest.clone().unwrap_or_default();
                    let mut tags: Vec<Option<String>> = images.iter().map(|x| x.image_id.image_tag.clone()).collect();
                    tags.push(None);
                    options.push(Allowed {
                        choices: vec![(i, Choice::OneEntry)],
                        cost: cost + NOTE as u32,
                        places: repeat(
                            n,
                            &[Accepts::ImageOf {
                                digest,
                                tags,
                                answering: vec![i],
                            }],
                        ),
                    });
                }
            }
        }
    }
    options
}

/// The allowed answers of tags of one image asked for apart: each its own entry (once or per
/// repetition), or entries of that image under any of its tags, from one for all of them to one
/// per sending (I-SAME-DIGEST-TAGS, advisory).
pub(super) fn together(a: &ExpectedAnswers, members: &[usize], digest: &str) -> Vec<Allowed> {
    let mut options = vec![Allowed {
        choices: Vec::new(),
        cost: 0,
        places: Vec::new(),
    }];
    for &i in members {
        let mut next = Vec::new();
        for o in &options {
            for alt in alone(i, &a.ids[i]) {
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
    let sendings: usize = members.iter().map(|&i| a.ids[i].times).sum();
    for k in 1..=sendings {
        options.push(Allowed {
            choices: members.iter().map(|&i| (i, Choice::Shared)).collect(),
            // Each tag without an entry of its own, or with more than one, is a note (at least
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

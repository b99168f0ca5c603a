//! What each id, alone or with the ids that name its image, allows as answers.

use super::combine::{product, trim};
use super::cost::NOTE;
use super::{Accepts, Allowed, Choice, Demand, Entry};
use crate::model::{ExpectedAnswers, Outcome};
use crate::rules::Level;

/// The allowed answers of every requested id: the ids that name one image (`shares`: its tags, its
/// digest, a tag with its digest) form one demand, every other id its own.
pub(super) fn demands(a: &ExpectedAnswers, entries: &[Entry]) -> Vec<Demand> {
    let mut out = Vec::new();
    let mut grouped = vec![false; a.ids.len()];
    for group in &a.shares {
        let Some(digest) = a.ids[group[0]].named_digest().map(str::to_string) else {
            continue;
        };
        for &k in group {
            grouped[k] = true;
        }
        out.push(Demand {
            options: together(a, group, &digest, entries),
            ids: group.clone(),
        });
    }
    for i in (0..a.ids.len()).filter(|&i| !grouped[i]) {
        out.push(Demand {
            ids: vec![i],
            options: alone(a, i, entries),
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
fn alone(a: &ExpectedAnswers, i: usize, entries: &[Entry]) -> Vec<Allowed> {
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
        Outcome::Failure { .. } if open => {
            shapes.push((vec![Accepts::AnyAnswerTo(e.id.clone())], Choice::Reference, 0))
        }
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
            options.push(Allowed::new(
                a,
                entries,
                vec![(i, choice)],
                count_cost + cost,
                (0..n).flat_map(|_| places.iter().map(|p| (i, p.clone()))).collect(),
            ));
        }
    }
    useful(options)
}

/// Of an id's allowed answers (the model's own first), those that can make a difference to this
/// answer: the model's own, and each alternative that can take an entry the model's own cannot,
/// more of them, or all it asks for where the model's own cannot. The others place no more and
/// cost more, and would only multiply the readings of a request with many ids of one image.
fn useful(options: Vec<Allowed>) -> Vec<Allowed> {
    let reach = |o: &Allowed| {
        let taken = o.taken();
        let n = taken.len().min(o.places.len());
        (taken, n)
    };
    let Some(own) = options.first() else {
        return options;
    };
    let (own_taken, own_n) = reach(own);
    let own_fills = own_n == own.places.len();
    options
        .into_iter()
        .enumerate()
        .filter(|(k, o)| {
            let (taken, n) = reach(o);
            *k == 0 || n > own_n || !taken.is_subset(&own_taken) || (n == o.places.len() && !own_fills)
        })
        .map(|(_, o)| o)
        .collect()
}

/// The allowed answers of ids that name one image: each its own answer (as alone), or entries of
/// that image under any of its tags or none, from one for all of them to as many as they would
/// get apart (I-SAME-DIGEST-TAGS, advisory, rev 3 F7). An id ECR answers with a failure, or with
/// the image (I-DIGEST-CASE), may take part in the share or keep its own answer.
pub(super) fn together(a: &ExpectedAnswers, members: &[usize], digest: &str, entries: &[Entry]) -> Vec<Allowed> {
    let mut options = each_alone(a, members, entries);
    let mut tags: Vec<Option<String>> = a
        .held
        .iter()
        .find(|h| h.digest == digest)
        .map(|h| h.tags.iter().cloned().map(Some).collect())
        .unwrap_or_default();
    tags.push(None);
    let (failing, imaged): (Vec<usize>, Vec<usize>) = members
        .iter()
        .partition(|&&i| matches!(a.ids[i].outcome, Outcome::Failure { .. }));
    // Past a few such ids, they share all together or none does.
    let masks: Vec<u32> = if failing.len() <= SHARE_CHOICES_MAX {
        (0..1u32 << failing.len()).collect()
    } else {
        vec![0, u32::MAX]
    };
    for mask in masks {
        let (sharers, stayers): (Vec<usize>, Vec<usize>) = members.iter().partition(|&&i| {
            imaged.contains(&i)
                || failing
                    .iter()
                    .position(|&f| f == i)
                    .is_some_and(|p| mask & (1u32 << p.min(31)) != 0)
        });
        if sharers.len() < 2 {
            continue;
        }
        let stay = each_alone(a, &stayers, entries);
        // As many shared entries as they would get apart, but no more than the answer has.
        let most: usize = sharers
            .iter()
            .map(|&i| a.ids[i].times * a.ids[i].images().len().max(1))
            .sum();
        let share_place = Accepts::ImageOf {
            digest: digest.to_string(),
            tags: tags.clone(),
            answering: sharers.clone(),
        };
        let present = entries.iter().filter(|&&e| share_place.takes(a, e)).count();
        for k in 1..=most.min(present.max(1)) {
            let share = Allowed::new(
                a,
                entries,
                sharers.iter().map(|&i| (i, Choice::Shared)).collect(),
                // Each id without an entry of its own, or with more than one, is a note (at
                // least one), and the share one more.
                NOTE as u32 * u32::try_from(sharers.len().abs_diff(k).max(1)).unwrap_or(u32::MAX / 4) + 1,
                (0..k)
                    .map(|n| (sharers[n % sharers.len()], share_place.clone()))
                    .collect(),
            );
            for s in &stay {
                let mut o = share.clone();
                o.join(s);
                options.push(o);
            }
        }
    }
    trim(&mut options);
    options
}

/// How many ids of a group that ECR answers with failures choose apart whether they share.
const SHARE_CHOICES_MAX: usize = 3;

/// Every combination of the ids' own allowed answers (past [`super::combine::COMBINATIONS_MAX`],
/// those that reach the most entries).
fn each_alone(a: &ExpectedAnswers, ids: &[usize], entries: &[Entry]) -> Vec<Allowed> {
    let parts: Vec<Vec<Allowed>> = ids.iter().map(|&i| alone(a, i, entries)).collect();
    product(&parts)
}

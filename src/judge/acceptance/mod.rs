//! The whole answer first: which of its entries are, read as a multiset compared on their identity
//! (an image's imageId; a failure's echo and failureCode), answers the reference allows for the
//! ids they name? (An image's registryId and repositoryName are checked on every entry, at gate,
//! as part of its body: a wrong one everywhere is one finding, not a reason to read every entry
//! apart.)
//!
//! The model gives ECR's first choice; the reference allows others wherever it is unsure: an
//! identical id answered once or at each repetition (I-DUP-ONCE), a digest answered with one entry
//! per tag or with one entry (I-DIGEST-TAGS), ids naming one image answered apart or by shared
//! entries (I-SAME-DIGEST-TAGS), and, for an id whose answer the evidence leaves open (its level
//! advisory), a failure of any code. An entry belongs to the ids whose identity it carries (a
//! failure to the id it echoes): those ids, and the entries they could take, are read together,
//! and the reading that places the most entries, then answers the most ids in full, then keeps
//! the most gate rules in its bodies, then notes the least, is taken. An entry so placed stays
//! where it is: a bug beside it cannot move it onto another id (rev 3: one bug's findings do not
//! depend on the allowed answers around it). Only the rest, the ids not answered in full and the
//! entries no reading places, is explained by likeness (`attribution`).

mod combine;
mod cost;
mod demands;

use super::attribution::Attributed;
use crate::model::{ExpectedAnswers, IdExpectation, Outcome};
use crate::wire::{Image, ImageFailure, ImageFailureCode, ImageIdentifier};
use combine::{Fits, combinations};
use cost::{GATE_COST, NOTE, PLACEMENTS_MAX, body_cost, partial_assignment, place_cost};
use demands::demands;

/// Which of the allowed answers an id got. Everything but `Reference` is noted (advisory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Choice {
    /// What the model answers.
    Reference,
    /// A repeated id answered at each repetition (I-DUP-ONCE).
    PerRepetition,
    /// A digest answered with one entry whatever its tags (I-DIGEST-TAGS), once or per repetition.
    OneEntry,
    /// Ids of one image answered together, or under each other's identities (I-SAME-DIGEST-TAGS).
    Shared,
    /// An answer the evidence leaves open: a failure for an image whose manifest choice is open,
    /// an image found in other letters (judged, and noted, by the id's own rule at its level).
    Open,
}

/// How the answer's entries are read by identity: which entry is placed on which id (entries
/// numbered as the images, then the failures), which ids got an allowed answer in full (with the
/// choice they took), and whether any of them took an alternative.
pub(super) struct Split {
    /// (entry, id) for every entry placed by identity.
    pub(super) placed: Vec<(usize, usize)>,
    /// Per id: whether its demand was answered in full by an allowed answer.
    pub(super) filled: Vec<bool>,
    pub(super) choices: Vec<Choice>,
    /// Whether a reading took an alternative of the reference (a choice that costs something).
    pub(super) took_alternatives: bool,
}

/// Which answers a reading may take: every allowed one, or only the model's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Readings {
    Allowed,
    ModelsOwn,
}

/// An entry of the answer.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Image(&'a Image),
    Failure(&'a ImageFailure),
}

/// What one place in an allowed answer takes.
#[derive(Debug, Clone)]
enum Accepts {
    /// An image with the identity of image `image` ECR answers for the id `id` (its imageId, or
    /// where the manifest choice is open the digest of what it carries: `identity_fits`).
    Image { id: usize, image: usize },
    /// An image with the identity of an image a lookup in other letters finds for the id `id`.
    Found { id: usize, image: usize },
    /// A failure echoing exactly this id with one of these codes.
    Failure(ImageIdentifier, Vec<ImageFailureCode>),
    /// An image of the repository with this digest and one of these tags (None: untagged), whose
    /// body answers one of these ids (ids of one image answered together: any of them).
    ImageOf {
        digest: String,
        tags: Vec<Option<String>>,
        answering: Vec<usize>,
    },
    /// Any failure echoing an id whose answer is open, whatever its code.
    AnyAnswerTo(ImageIdentifier),
}

impl Accepts {
    fn takes(&self, a: &ExpectedAnswers, entry: Entry) -> bool {
        match (self, entry) {
            (Accepts::Image { id, image }, Entry::Image(img)) => {
                a.ids[*id].images().get(*image).is_some_and(|x| x.identity_fits(img))
            }
            (Accepts::Found { id, image }, Entry::Image(img)) => match &a.ids[*id].outcome {
                Outcome::Failure { or_found, .. } => or_found.get(*image).is_some_and(|x| x.identity_fits(img)),
                _ => false,
            },
            (Accepts::Failure(x, codes), Entry::Failure(f)) => {
                &f.image_id == x && f.failure_code.as_ref().is_some_and(|c| codes.contains(c))
            }
            (
                Accepts::ImageOf {
                    digest,
                    tags,
                    answering,
                },
                Entry::Image(img),
            ) => {
                // The image's digest, or where an id's manifest choice is open the digest of
                // what it carries instead (a list's child, a translation's own).
                tags.contains(&img.image_id.image_tag)
                    && (img.image_id.image_digest.as_deref() == Some(digest.as_str())
                        || answering
                            .iter()
                            .any(|&i| a.ids[i].named_images().iter().any(|x| x.digest_fits(img))))
            }
            (Accepts::AnyAnswerTo(x), Entry::Failure(f)) => &f.image_id == x || echoes_one_member(&f.image_id, x),
            _ => false,
        }
    }
}

/// Whether a failure's echo is one member of an id sent with both (its tag alone, or its digest
/// alone): for an id whose answer is open, as plausible an echo as the whole id (rev 3 F5).
fn echoes_one_member(echo: &ImageIdentifier, sent: &ImageIdentifier) -> bool {
    let both = sent.image_tag.is_some() && sent.image_digest.is_some();
    let tag_alone = echo.image_digest.is_none() && echo.image_tag.is_some() && echo.image_tag == sent.image_tag;
    let digest_alone =
        echo.image_tag.is_none() && echo.image_digest.is_some() && echo.image_digest == sent.image_digest;
    both && (tag_alone || digest_alone)
}

/// One allowed answer of a demand: its places, each for one id, and what it costs (the
/// reference's own answer costs nothing).
#[derive(Debug, Clone)]
struct Allowed {
    choices: Vec<(usize, Choice)>,
    cost: u32,
    places: Vec<(usize, Accepts)>,
    /// Per place, the entries it can take.
    fits: Vec<Fits>,
}

/// The ids that answer together (one id, or the ids of one image), and their allowed answers.
struct Demand {
    ids: Vec<usize>,
    options: Vec<Allowed>,
}

/// The answer's entries placed on the ids, group by group of ids whose identities they carry.
pub(super) fn accept(a: &ExpectedAnswers, images: &[Image], failures: &[ImageFailure], readings: Readings) -> Split {
    let entries: Vec<Entry> = images
        .iter()
        .map(Entry::Image)
        .chain(failures.iter().map(Entry::Failure))
        .collect();
    let demands = demands(a, &entries);
    // The demands an entry belongs to: those whose answers can take it, and for a failure the one
    // whose id it echoes, whatever its code.
    let owners: Vec<Vec<usize>> = entries
        .iter()
        .enumerate()
        .map(|(j, &entry)| {
            (0..demands.len())
                .filter(|&d| {
                    let echoes =
                        matches!(entry, Entry::Failure(f) if demands[d].ids.iter().any(|&i| a.ids[i].id == f.image_id));
                    echoes || demands[d].options.iter().any(|o| o.takes_entry(j))
                })
                .collect()
        })
        .collect();
    let mut group: Vec<usize> = (0..demands.len()).collect();
    fn root(group: &mut [usize], mut x: usize) -> usize {
        while group[x] != x {
            group[x] = group[group[x]];
            x = group[x];
        }
        x
    }
    for o in &owners {
        for w in o.windows(2) {
            let (x, y) = (root(&mut group, w[0]), root(&mut group, w[1]));
            group[x] = y;
        }
    }
    let mut split = Split {
        placed: Vec::new(),
        filled: vec![false; a.ids.len()],
        choices: vec![Choice::Reference; a.ids.len()],
        took_alternatives: false,
    };
    let roots: std::collections::BTreeSet<usize> = (0..demands.len()).map(|d| root(&mut group, d)).collect();
    for r in roots {
        let members: Vec<usize> = (0..demands.len()).filter(|&d| root(&mut group, d) == r).collect();
        let mine: Vec<usize> = (0..entries.len())
            .filter(|&j| owners[j].first().is_some_and(|&d| root(&mut group, d) == r))
            .collect();
        let reading = read(a, &demands, &members, &entries, &mine, readings);
        split.took_alternatives |= reading.cost > 0;
        for &d in &reading.filled {
            for &i in &demands[d].ids {
                split.filled[i] = true;
            }
        }
        for (i, c) in reading.choices {
            split.choices[i] = c;
        }
        let mut placed: Vec<(usize, usize)> = reading.placed.iter().map(|&(j, i, _)| (j, i)).collect();
        for &d in &reading.filled {
            if demands[d].ids.iter().any(|&i| split.choices[i] == Choice::Shared) {
                share_out(a, &demands[d].ids, &entries, &mut placed);
            }
        }
        split.placed.extend(placed);
    }
    split
}

/// How a group of demands reads its entries: (entry, id, demand) for each entry placed, the
/// choices of the demands answered in full, and those demands.
struct Reading {
    placed: Vec<(usize, usize, usize)>,
    choices: Vec<(usize, Choice)>,
    filled: Vec<usize>,
    cost: u32,
}

/// The best reading of a group: of the combinations of its demands' allowed answers, the one that
/// places the most entries, then answers the most demands in full, then leaves the fewest gate
/// differences in its bodies, then notes the least (its alternatives and advisory differences);
/// the first in the demands' order on a tie.
fn read(
    a: &ExpectedAnswers,
    demands: &[Demand],
    members: &[usize],
    entries: &[Entry],
    mine: &[usize],
    readings: Readings,
) -> Reading {
    let mut combos = combinations(demands, members);
    if readings == Readings::ModelsOwn {
        combos.retain(|(c, _)| c.cost == 0);
    }
    // The combinations that can place the most entries first, then those whose number of places
    // is nearest the entries' (an exact answer has as many), the cheapest among those.
    combos.sort_by_cached_key(|(c, _)| {
        (
            std::cmp::Reverse(c.reach()),
            c.places.len().abs_diff(mine.len()),
            c.cost,
        )
    });
    let mut best: Option<((usize, usize, i64, i64), Reading)> = None;
    for (combo, owner) in combos.into_iter().take(PLACEMENTS_MAX) {
        let (columns, placed, body) = partial_assignment(mine.len(), combo.places.len(), |row, col| {
            let (i, accepts) = &combo.places[col];
            accepts
                .takes(a, entries[mine[row]])
                .then(|| place_cost(a, *i, accepts, entries[mine[row]]))
        });
        let mut taken = vec![false; combo.places.len()];
        for col in columns.iter().flatten() {
            taken[*col] = true;
        }
        let filled: Vec<usize> = members
            .iter()
            .copied()
            .filter(|d| (0..combo.places.len()).all(|p| owner[p] != *d || taken[p]))
            .collect();
        let score = (
            placed,
            filled.len(),
            -(body / GATE_COST),
            -(i64::from(combo.cost) + NOTE * (body % GATE_COST)),
        );
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            let placed = columns
                .iter()
                .enumerate()
                .filter_map(|(row, col)| col.map(|c| (mine[row], combo.places[c].0, owner[c])))
                .collect();
            let choices = combo
                .choices
                .iter()
                .copied()
                .filter(|(i, _)| filled.iter().any(|&d| demands[d].ids.contains(i)))
                .collect();
            best = Some((
                score,
                Reading {
                    placed,
                    choices,
                    filled,
                    cost: combo.cost,
                },
            ));
        }
    }
    best.map(|(_, r)| r).unwrap_or(Reading {
        placed: Vec::new(),
        choices: Vec::new(),
        filled: Vec::new(),
        cost: 0,
    })
}

/// The entries of ids of one image answered together, shared out again among those ids: each to
/// the id whose body it is, then whose identity it carries, else the first (any share is allowed;
/// this one notes only the ids that did not get their own entries, and judges each body against
/// the answer it fits).
fn share_out(a: &ExpectedAnswers, ids: &[usize], entries: &[Entry], placed: &mut [(usize, usize)]) {
    for (j, i) in placed.iter_mut().filter(|(_, i)| ids.contains(i)) {
        let Entry::Image(img) = entries[*j] else { continue };
        *i = ids
            .iter()
            .copied()
            .min_by_key(|&k| {
                let carried = a.ids[k].images().iter().any(|x| x.image_id == img.image_id);
                (body_cost(a, &a.ids[k], Entry::Image(img)), !carried)
            })
            .unwrap_or(ids[0]);
    }
}

/// Whether an id's entries are exactly its own answer, once or at each repetition: what the notes
/// of a shared answer look at.
pub(super) fn is_own(e: &IdExpectation, got: &Attributed) -> bool {
    let mut want: Vec<&ImageIdentifier> = e.images().iter().map(|x| &x.image_id).collect();
    want.sort();
    let mut have: Vec<&ImageIdentifier> = got.images.iter().map(|img| &img.image_id).collect();
    have.sort();
    let mut each: Vec<&ImageIdentifier> = (0..e.times).flat_map(|_| want.iter().copied()).collect();
    each.sort();
    got.failures.is_empty() && !want.is_empty() && (have == want || have == each)
}

//! Which requested id each entry of an answer answers. An endpoint's echo of an id can lie (a
//! stale tag, a tag of another image, `{"imageTag": "null"}` for a digest), an endpoint may
//! answer a sending twice or a repeated id once per sending, so an entry is placed by all the
//! evidence it carries: its echo, and for an image its manifest, recognised among the images the
//! repository holds. Every (entry, id) pair has an [`Affinity`], and one maximum-weight assignment
//! over all entries takes the best ([`assign`]). A correct answer fits its ids exactly, so on a
//! conforming endpoint every entry lands where ECR put it; on a deviating one, one wrong echo does
//! not pull the other answers out of place with it, and one bug stays one deviation.

use crate::model::syntax;
use crate::model::{ExpectedAnswers, IdExpectation, ImageRecord, Outcome};
use crate::wire::{Image, ImageFailure, ImageIdentifier};

/// The entries attributed to one requested id.
#[derive(Default)]
pub(super) struct Attributed<'a> {
    pub(super) images: Vec<&'a Image>,
    pub(super) failures: Vec<&'a ImageFailure>,
}

/// An entry that answers no requested id.
pub(super) enum Stray<'a> {
    Image(&'a Image),
    Failure(&'a ImageFailure),
}

/// Every requested id's entries (in the order of `ExpectedAnswers::ids`), and the strays.
pub(super) struct Attribution<'a> {
    pub(super) slots: Vec<Attributed<'a>>,
    pub(super) strays: Vec<Stray<'a>>,
}

/// How an answer to a repeated id by digest is read when the evidence is even: ECR's way (one
/// entry per tag, a repeated id answered once) or the way of endpoints that answer every sending
/// (one entry per sending). The comparer judges the readings that can differ and keeps the one
/// that explains the answer with fewer deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    PerTag,
    PerSending,
}

/// An answer's entries with their affinity to each requested id, computed once for every
/// reading of the answer.
pub(super) struct Attributor<'a> {
    a: &'a ExpectedAnswers,
    images: &'a [Image],
    failures: &'a [ImageFailure],
    /// One row per entry (the images, then the failures), one column per requested id.
    affinities: Vec<Vec<Option<Affinity>>>,
    places: Vec<Places>,
}

impl<'a> Attributor<'a> {
    /// `fixed`: entries (rows: the images, then the failures) that belong to one id already, by
    /// the identity they carry: they are placed there and nowhere else.
    pub(super) fn new(
        a: &'a ExpectedAnswers,
        images: &'a [Image],
        failures: &'a [ImageFailure],
        fixed: &[(usize, usize)],
    ) -> Self {
        let held_of = |img: &Image| -> Option<&ImageRecord> {
            let m = img.image_manifest.as_deref()?;
            a.held.iter().find(|h| h.manifest == m)
        };
        let mut affinities: Vec<Vec<Option<Affinity>>> = images
            .iter()
            .map(|img| {
                let held = held_of(img);
                a.ids.iter().map(|e| image_affinity(e, img, held)).collect()
            })
            .chain(failures.iter().map(|f| {
                let row: Vec<Option<Affinity>> = a.ids.iter().map(|e| failure_affinity(e, f)).collect();
                // Only a failure whose echo keeps nothing of any requested id answers by elimination.
                let related = row.iter().any(|x| *x != Some(Affinity::Elimination));
                row.into_iter()
                    .map(|x| x.filter(|x| !related || *x != Affinity::Elimination))
                    .collect()
            }))
            .collect();
        // And only an id that nothing else surely answers is answered by elimination (an entry
        // that answers another id better does not count: an image of a digest asked for, that
        // also carries the tag of a failed id, answers the digest).
        let best: Vec<Option<Affinity>> = affinities
            .iter()
            .map(|row| row.iter().copied().max().flatten())
            .collect();
        for i in 0..a.ids.len() {
            if affinities
                .iter()
                .zip(&best)
                .any(|(row, best)| row[i] >= Some(Affinity::Loose(0)) && row[i] == *best)
            {
                for row in &mut affinities {
                    row[i] = row[i].filter(|x| *x != Affinity::Elimination);
                }
            }
        }
        for &(row, i) in fixed {
            if let Some(r) = affinities.get_mut(row) {
                for (k, x) in r.iter_mut().enumerate() {
                    *x = (k == i).then_some(Affinity::Exact);
                }
            }
        }
        Attributor {
            a,
            images,
            failures,
            affinities,
            places: a.ids.iter().map(places_for).collect(),
        }
    }

    /// The readings that can place the entries differently: per tag only where some id by digest
    /// has places for further tags.
    pub(super) fn readings(&self) -> &'static [Reading] {
        if self.places.iter().any(|p| p.per_tag > 0) {
            &[Reading::PerSending, Reading::PerTag]
        } else {
            &[Reading::PerSending]
        }
    }

    /// The entries attributed to the requested ids under one reading.
    pub(super) fn attribute(&self, reading: Reading) -> Attribution<'a> {
        let (a, images, failures, affinities) = (self.a, self.images, self.failures, &self.affinities);
        let mut slots: Vec<Attributed> = a.ids.iter().map(|_| Attributed::default()).collect();
        let mut strays: Vec<Stray> = Vec::new();
        let mut assigned = vec![false; affinities.len()];
        let mut pairs = assign(affinities, &self.places, reading);
        let mut exact = vec![false; a.ids.len()];
        for &(j, i) in &pairs {
            exact[i] |= affinities[j][i] == Some(Affinity::Exact);
        }
        // A copy of an entry that another id holds exactly is that id's answer repeated: it is not
        // the answer of a repetition of an id already answered exactly, which it only partly
        // matches (one bug's entry never becomes a neighbour's deviation).
        let entry_eq = |x: usize, y: usize| match (x.checked_sub(images.len()), y.checked_sub(images.len())) {
            (None, None) => images[x] == images[y],
            (Some(k), Some(l)) => failures[k] == failures[l],
            _ => false,
        };
        let moves: Vec<(usize, usize)> = pairs
            .iter()
            .filter(|&&(j, i)| exact[i] && affinities[j][i] != Some(Affinity::Exact))
            .filter_map(|&(j, _)| {
                pairs
                    .iter()
                    .find(|&&(j2, i2)| j2 != j && entry_eq(j, j2) && affinities[j][i2] == Some(Affinity::Exact))
                    .map(|&(_, i2)| (j, i2))
            })
            .collect();
        for (j, to) in moves {
            if let Some(p) = pairs.iter_mut().find(|p| p.0 == j) {
                p.1 = to;
            }
        }
        for (j, i) in pairs {
            assigned[j] = true;
            match j.checked_sub(images.len()) {
                None => slots[i].images.push(&images[j]),
                Some(k) => slots[i].failures.push(&failures[k]),
            }
        }
        // What is left answers an id one time too many (the one it answers best), or none.
        for (j, row) in affinities.iter().enumerate() {
            if assigned[j] {
                continue;
            }
            // An endpoint that answers one sending twice answers it with two different entries (the
            // image of the tag and the image of the digest): among the ids the entry surely answers
            // (its image, or one the id names), the one that does not hold this entry yet is the
            // likelier one.
            let holds = |i: usize| match j.checked_sub(images.len()) {
                None => slots[i].images.iter().any(|x| **x == images[j]),
                Some(k) => slots[i].failures.iter().any(|x| **x == failures[k]),
            };
            // An id already answered exactly as ECR answers it (its failure echoed as sent, or its
            // image) is not the likelier home of one more entry: an entry repeated beside a
            // neighbour's exact answer stays a repetition, never a deviation of the neighbour.
            let open = |i: usize| !holds(i) && !exact[i];
            let best = (0..a.ids.len())
                .filter_map(|i| {
                    row[i].filter(|x| x.answers_more_than_once()).map(|x| {
                        let sure = x >= Affinity::Named;
                        let id = &a.ids[i].id;
                        // Only an id with a tag and a digest can match two different images.
                        let both = id.image_tag.is_some() && id.image_digest.is_some();
                        (
                            sure,
                            sure && open(i),
                            sure && both && open(i),
                            x,
                            specificity(id),
                            std::cmp::Reverse(i),
                        )
                    })
                })
                .max()
                .map(|(.., std::cmp::Reverse(i))| i);
            match (j.checked_sub(images.len()), best) {
                (None, Some(i)) => slots[i].images.push(&images[j]),
                (None, None) => strays.push(Stray::Image(&images[j])),
                (Some(k), Some(i)) => slots[i].failures.push(&failures[k]),
                (Some(k), None) => strays.push(Stray::Failure(&failures[k])),
            }
        }
        Attribution { slots, strays }
    }
}

/// The answers an id has room for: one per sending, and by digest one more per further tag of
/// the image (ECR answers one entry per tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Places {
    per_sending: usize,
    per_tag: usize,
}

fn places_for(e: &IdExpectation) -> Places {
    let tags = match &e.outcome {
        Outcome::ImagesByDigest { images } => images.len().saturating_sub(1),
        _ => 0,
    };
    Places {
        per_sending: e.times,
        per_tag: e.times * tags,
    }
}

/// How surely an entry of the answer answers a requested id, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Affinity {
    /// A failure whose echo keeps nothing of the id: it can only be the answer of a sending that
    /// is otherwise left without any.
    Elimination,
    /// A sloppy echo: a tag that differs in case, a digest that differs in case or one character,
    /// or a prefix (`2 * (1 to 4)`, better last), plus one where the entry is of the kind ECR
    /// answers for the id (the same failure code; an image for an id ECR answers with images).
    Loose(u8),
    /// An image whose echoed digest is one ECR answers for the id.
    EchoedDigest,
    /// An image whose echo claims the id, though its manifest is another image's.
    Claims,
    /// An image whose manifest is an image the id names (by digest, or by tag), whatever its echo.
    Named,
    /// An image whose echo claims the id and whose manifest is one the id names (or is unknown).
    ClaimsNamed,
    /// An image whose manifest is the image ECR answers for the id, under another echo.
    Content,
    /// An image whose identity (imageId, registry, repository) is one ECR answers for the id, with
    /// another body: a body is judged after placing, never a reason to place elsewhere.
    Identity,
    /// Exactly what ECR answers for the id: the echo as sent (a failure), or the image.
    Exact,
}

impl Affinity {
    /// Whether an entry left over may still be given to this id, as one answer too many: not by
    /// elimination, which only ever fills a sending's free place.
    fn answers_more_than_once(self) -> bool {
        self != Affinity::Elimination
    }

    /// The affinity's rank in the assignment's weights, 1 to 10: a sloppy echo of the right kind
    /// of answer outranks one of another kind.
    fn rank(self) -> u32 {
        match self {
            Affinity::Elimination => 1,
            Affinity::Loose(score) => 2 + u32::from(score % 2),
            Affinity::EchoedDigest => 4,
            Affinity::Claims => 5,
            Affinity::Named => 6,
            Affinity::ClaimsNamed => 7,
            Affinity::Content => 8,
            Affinity::Identity => 9,
            Affinity::Exact => 10,
        }
    }
}

/// Assigns the answer's entries (rows of `affinities`, one entry per id) to the ids' places: a
/// maximum-weight assignment (Kuhn-Munkres) whose weights make it best-first. In order: as many
/// entries as can be placed are (an endpoint answers each sending somehow); as many ids as can be
/// answered are (an entry is sooner an id's first answer than another's second); read per
/// sending, as many sendings as can be answered are; then the better affinities, one pair of a
/// better affinity outweighing any number of worse ones; last, read per tag, entries fill tags'
/// places before further sendings' on equal affinity. Neither a failure by elimination nor a
/// sloppy echo takes a per-tag place. Returns (entry, id) pairs, by entry; an entry without a
/// place is left out.
fn assign(affinities: &[Vec<Option<Affinity>>], places: &[Places], reading: Reading) -> Vec<(usize, usize)> {
    use pathfinding::kuhn_munkres::kuhn_munkres;
    use pathfinding::matrix::Matrix;
    let rows: Vec<usize> = (0..affinities.len())
        .filter(|&j| affinities[j].iter().any(Option::is_some))
        .collect();
    // (id, first place, a sending's place), capped at the entries there are to place.
    let columns: Vec<(usize, bool, bool)> = places
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            (0..(p.per_sending + p.per_tag).min(rows.len())).map(move |k| (i, k == 0, k < p.per_sending))
        })
        .collect();
    if rows.is_empty() || columns.is_empty() {
        return Vec::new();
    }
    // Powers of a base above the number of entries keep each term above any sum of the lower
    // ones: placed 14, first place 13, a sending's place 12, affinities 2 to 11, a sloppy echo's
    // closeness 1, a tag's place 0.
    // i128 holds 4 * 256^14 summed over 256 entries.
    // Below the affinities, a sloppy echo's closeness (0 to 3, so the base is four times the
    // entries) weighs, then a tag's place.
    let base = i128::try_from(4 * (rows.len() + 1)).unwrap_or(256).min(256);
    let weight = |a: Option<Affinity>, first: bool, sending: bool| match a {
        None => -1,
        Some(Affinity::Elimination | Affinity::Loose(_)) if !sending => -1,
        Some(a) => {
            // Read per sending, a sending's place counts before a tag's; read per tag, a tag's
            // place counts as much, and on equal affinity first.
            let place = match reading {
                Reading::PerSending => i128::from(sending) * base.pow(12),
                Reading::PerTag => base.pow(12) + i128::from(!sending),
            };
            let closeness = match a {
                Affinity::Loose(score) => i128::from((score / 2).saturating_sub(1)),
                _ => 0,
            };
            base.pow(14) + i128::from(first) * base.pow(13) + place + base.pow(a.rank() + 1) + closeness * base
        }
    };
    // After the places, one "no place" column per entry, so that any entry can stay unassigned.
    let width = columns.len() + rows.len();
    let mut weights = Vec::with_capacity(rows.len() * width);
    for &j in &rows {
        weights.extend(
            columns
                .iter()
                .map(|&(i, first, sending)| weight(affinities[j][i], first, sending)),
        );
        weights.extend(std::iter::repeat_n(0, rows.len()));
    }
    let Ok(matrix) = Matrix::from_vec(rows.len(), width, weights) else {
        return Vec::new();
    };
    let (_, chosen) = kuhn_munkres(&matrix);
    rows.iter()
        .zip(chosen)
        .filter_map(|(&j, c)| {
            let &(i, first, sending) = columns.get(c)?;
            (weight(affinities[j][i], first, sending) > 0).then_some((j, i))
        })
        .collect()
}

/// How a failure relates to an id: its echo is the id as sent, or a sloppy echo of it, or (by
/// elimination) nothing, for an id that ECR answers with a failure too or with images.
fn failure_affinity(e: &IdExpectation, f: &ImageFailure) -> Option<Affinity> {
    if f.image_id == e.id {
        // An echo is exact evidence only where ECR answers a failure too: for an id ECR answers
        // with images, the failure may as well be another id's under a sloppy echo (a tag and
        // digest echoed as the digest alone).
        return Some(match e.outcome {
            Outcome::Failure { .. } => Affinity::Exact,
            _ => Affinity::Claims,
        });
    }
    let same_code = matches!(&e.outcome, Outcome::Failure { code, .. } if f.failure_code.as_ref() == Some(code));
    Some(
        loose_score(&e.id, &f.image_id).map_or(Affinity::Elimination, |s| Affinity::Loose(2 * s + u8::from(same_code))),
    )
}

/// How an answered image relates to an id. `held` is the repository's image with the answered
/// manifest, if any. None: the image does not answer the id.
fn image_affinity(e: &IdExpectation, img: &Image, held: Option<&ImageRecord>) -> Option<Affinity> {
    if fits(e, img) {
        return Some(Affinity::Exact);
    }
    if e.images().iter().any(|x| x.image_id == img.image_id) {
        return Some(Affinity::Identity);
    }
    if held.is_some_and(|h| expected_digests(e).any(|d| d == h.digest)) {
        return Some(Affinity::Content);
    }
    let named = held.map(|h| {
        e.id.image_digest.as_deref() == Some(h.digest.as_str())
            || e.id.image_tag.as_ref().is_some_and(|t| h.tags.contains(t))
    });
    match (claims(e, img), named) {
        (true, Some(true) | None) => return Some(Affinity::ClaimsNamed),
        (false, Some(true)) => return Some(Affinity::Named),
        (true, Some(false)) => return Some(Affinity::Claims),
        (false, _) => {}
    }
    let digest = img.image_id.image_digest.as_deref();
    if digest.is_some() && expected_digests(e).any(|d| Some(d) == digest) {
        return Some(Affinity::EchoedDigest);
    }
    let images_expected = !matches!(e.outcome, Outcome::Failure { .. });
    loose_score(&e.id, &img.image_id).map(|s| Affinity::Loose(2 * s + u8::from(images_expected)))
}

/// Whether an answered image's echo is consistent with every member the id was sent with.
pub(super) fn claims(e: &IdExpectation, img: &Image) -> bool {
    (e.id.image_tag.is_some() || e.id.image_digest.is_some())
        && e.id
            .image_tag
            .as_ref()
            .is_none_or(|t| img.image_id.image_tag.as_ref() == Some(t))
        && e.id
            .image_digest
            .as_ref()
            .is_none_or(|d| img.image_id.image_digest.as_ref() == Some(d))
}

/// How much of an id is given: a tag says more than a digest, which says more than nothing.
fn specificity(x: &ImageIdentifier) -> usize {
    usize::from(x.image_tag.is_some()) * 2 + usize::from(x.image_digest.is_some())
}

/// Whether an image is exactly one the id expects: when two ids claim the same imageId (a tag
/// alone, and the tag with its digest), the manifest tells which answer is which.
fn fits(e: &IdExpectation, img: &Image) -> bool {
    e.images()
        .iter()
        .any(|x| x.image_id == img.image_id && x.manifest_fits(img.image_manifest.as_deref()))
}

fn expected_digests(e: &IdExpectation) -> impl Iterator<Item = &str> {
    e.images().iter().filter_map(|x| x.image_id.image_digest.as_deref())
}

/// How plausibly an answered id answers a requested one it does not equal, 4 (best) to 1: the same
/// tag (with another digest or none), a tag that differs only in case, a digest that differs in
/// case or one character, a well-formed digest that is a prefix of the other. None: unrelated.
/// A malformed requested digest relates only to itself.
pub(super) fn loose_score(requested: &ImageIdentifier, answered: &ImageIdentifier) -> Option<u8> {
    if let (Some(r), Some(x)) = (&requested.image_tag, &answered.image_tag) {
        if r == x {
            return Some(4);
        }
        if r.eq_ignore_ascii_case(x) {
            return Some(3);
        }
    }
    let (Some(r), Some(x)) = (&requested.image_digest, &answered.image_digest) else {
        return None;
    };
    // The very digest sent (malformed or not), with other members: a member dropped.
    if r == x {
        return Some(2);
    }
    if !syntax::is_well_formed_digest(r) {
        return None;
    }
    let (r, x) = (r.to_ascii_lowercase(), x.to_ascii_lowercase());
    if r == x || differs_in_one_char(&r, &x) {
        Some(2)
    } else if x.starts_with(&r) || r.starts_with(&x) && syntax::is_well_formed_digest(&x) {
        Some(1)
    } else {
        None
    }
}

fn differs_in_one_char(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count() == 1
}

#[cfg(test)]
mod tests;

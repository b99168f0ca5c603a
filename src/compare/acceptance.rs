//! The whole answer first: is it, read as a multiset of entries compared on their identity (an
//! image's imageId; a failure's echo and failureCode), one of the answers the reference allows?
//! (An image's registryId and repositoryName are checked on every entry, at gate, as part of its
//! body: a wrong one everywhere is one finding, not a reason to read every entry apart.)
//!
//! The model gives ECR's first choice; the reference allows others wherever it is unsure: an
//! identical id answered once or at each repetition (I-DUP-ONCE), a digest answered with one entry
//! per tag or with one entry (I-DIGEST-TAGS), two tags of one image answered apart or by one entry
//! (I-SAME-DIGEST-TAGS), and, for an id whose rule is advisory, any answer that answers it. If the
//! answer is one of these, it breaks no rule of identity, whatever its bodies say: each entry is
//! placed on an id whose identity it carries (among entries of one identity, the bodies decide
//! which answers which), and only then are bodies judged. Placing entries by likeness
//! (`attribution`) is left to answers outside that set, to explain what is wrong with them.

use super::attribution::Attributed;
use crate::model::{ExpectedAnswers, ExpectedImage, IdExpectation, Outcome};
use crate::rules::{Level, id};
use crate::wire::{Image, ImageFailure, ImageFailureCode, ImageIdentifier};

/// Which of the allowed answers an id got. Everything but `Reference` is noted (advisory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Choice {
    /// What the model answers.
    Reference,
    /// A repeated id answered at each repetition (I-DUP-ONCE).
    PerRepetition,
    /// A digest answered with one entry whatever its tags (I-DIGEST-TAGS), once or per repetition.
    OneEntry,
    /// Tags of one image answered together, or under each other's tags (I-SAME-DIGEST-TAGS).
    Shared,
}

/// The answer split in two: the ids whose entries are an allowed answer, placed (None for the
/// others), and what is left to explain: the other ids and the entries none of those took.
pub(super) struct Split<'a> {
    pub(super) slots: Vec<Option<Attributed<'a>>>,
    pub(super) choices: Vec<Choice>,
    pub(super) left_ids: Vec<usize>,
    pub(super) left_images: Vec<&'a Image>,
    pub(super) left_failures: Vec<&'a ImageFailure>,
}

impl Split<'_> {
    /// Whether the whole answer is one the reference allows.
    pub(super) fn is_whole(&self) -> bool {
        self.left_ids.is_empty() && self.left_images.is_empty() && self.left_failures.is_empty()
    }
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
    /// An image of the repository with exactly this imageId.
    Image(ImageIdentifier),
    /// A failure echoing exactly this id with this code.
    Failure(ImageIdentifier, ImageFailureCode),
    /// An image of the repository with this digest and one of these tags (None: untagged).
    ImageOf { digest: String, tags: Vec<Option<String>> },
    /// Any answer to an id whose rule is advisory: a failure echoing it with any code, or an image
    /// whose imageId carries a member that was sent.
    AnyAnswerTo(ImageIdentifier),
}

impl Accepts {
    fn takes(&self, entry: Entry) -> bool {
        match (self, entry) {
            (Accepts::Image(x), Entry::Image(img)) => &img.image_id == x,
            (Accepts::Failure(x, code), Entry::Failure(f)) => &f.image_id == x && f.failure_code.as_ref() == Some(code),
            (Accepts::ImageOf { digest, tags }, Entry::Image(img)) => {
                img.image_id.image_digest.as_deref() == Some(digest.as_str()) && tags.contains(&img.image_id.image_tag)
            }
            (Accepts::AnyAnswerTo(x), Entry::Failure(f)) => &f.image_id == x,
            (Accepts::AnyAnswerTo(x), Entry::Image(img)) => {
                x.image_tag.is_some() && img.image_id.image_tag == x.image_tag
                    || x.image_digest.is_some() && img.image_id.image_digest == x.image_digest
            }
            _ => false,
        }
    }
}

/// One allowed answer of a demand: its places, each for one id, and what it costs (the
/// reference's own answer costs nothing; the cheapest allowed answer that fits is taken).
#[derive(Debug, Clone)]
struct Allowed {
    choices: Vec<(usize, Choice)>,
    cost: u32,
    places: Vec<(usize, Accepts)>,
}

/// The ids that answer together (one id, or the tags of one image), and their allowed answers.
struct Demand {
    ids: Vec<usize>,
    options: Vec<Allowed>,
}

/// Combinations tried per group of entries before the answer is left to attribution.
const COMBINATIONS_MAX: usize = 4096;

/// The answer's entries placed on the ids, as far as they are an allowed answer. Ids that share no
/// entry are decided apart: where the whole answer is allowed, every id is placed; where it is not,
/// a group of ids is placed only if it got exactly the model's answer, so that a deviation is
/// explained among the entries and ids it concerns, and never spreads to the ids around it.
pub(super) fn accept<'a>(a: &ExpectedAnswers, images: &'a [Image], failures: &'a [ImageFailure]) -> Split<'a> {
    let entries: Vec<Entry<'a>> = images
        .iter()
        .map(Entry::Image)
        .chain(failures.iter().map(Entry::Failure))
        .collect();
    let demands = demands(a);
    // Which demands could take each entry; an entry that none can take answers nothing asked.
    let takers: Vec<Vec<usize>> = entries
        .iter()
        .map(|&entry| {
            (0..demands.len())
                .filter(|&d| {
                    demands[d]
                        .options
                        .iter()
                        .any(|o| o.places.iter().any(|(_, p)| p.takes(entry)))
                })
                .collect()
        })
        .collect();
    // Demands that can share an entry are decided together.
    let mut group: Vec<usize> = (0..demands.len()).collect();
    fn root(group: &mut [usize], mut x: usize) -> usize {
        while group[x] != x {
            group[x] = group[group[x]];
            x = group[x];
        }
        x
    }
    for t in &takers {
        for w in t.windows(2) {
            let (x, y) = (root(&mut group, w[0]), root(&mut group, w[1]));
            group[x] = y;
        }
    }
    let roots: std::collections::BTreeSet<usize> = (0..demands.len()).map(|d| root(&mut group, d)).collect();
    let mut decided = Vec::new();
    let mut dropped: Vec<usize> = Vec::new();
    for r in roots {
        let members: Vec<usize> = (0..demands.len()).filter(|&d| root(&mut group, d) == r).collect();
        let mine: Vec<usize> = (0..entries.len())
            .filter(|&j| takers[j].first().is_some_and(|&d| root(&mut group, d) == r))
            .collect();
        match decide(a, &demands, &members, &entries, &mine) {
            Some((_, placed)) => decided.push((members, mine, Some(placed), false)),
            None => match salvage(a, &demands, &members, &entries, &mine) {
                Some((kept, mine, placed)) => {
                    dropped.extend(members.iter().filter(|d| !kept.contains(d)).copied());
                    decided.push((kept, mine, Some(placed), true));
                }
                None => decided.push((members, mine, None, false)),
            },
        }
    }
    let whole =
        takers.iter().all(|t| !t.is_empty()) && decided.iter().all(|(_, _, p, salvaged)| p.is_some() && !salvaged);
    if !whole {
        // In part, a group is placed only if it got exactly the model's answer and no entry left
        // over could be one of its ids' too (a repeated id answered a second, different time).
        loop {
            let mut taken = vec![false; entries.len()];
            for (_, mine, placed, _) in &decided {
                if placed.as_ref().is_some_and(|p| p.cost == 0) {
                    for &j in mine {
                        taken[j] = true;
                    }
                }
            }
            let mut changed = false;
            for (members, _, placed, salvaged) in &mut decided {
                // A salvaged group left out what relates to it on purpose.
                let claimed = placed.is_some()
                    && !*salvaged
                    && members
                        .iter()
                        .flat_map(|&d| &demands[d].ids)
                        .any(|&i| (0..entries.len()).any(|j| !taken[j] && relates(&a.ids[i], entries[j])));
                if claimed {
                    *placed = None;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
    let mut split = Split {
        slots: a.ids.iter().map(|_| None).collect(),
        choices: vec![Choice::Reference; a.ids.len()],
        left_ids: Vec::new(),
        left_images: Vec::new(),
        left_failures: Vec::new(),
    };
    let mut taken = vec![false; entries.len()];
    split
        .left_ids
        .extend(dropped.iter().flat_map(|&d| demands[d].ids.iter().copied()));
    for (members, mine, placed, _) in decided {
        match placed {
            Some(placed) if whole || placed.cost == 0 => {
                for &d in &members {
                    for &i in &demands[d].ids {
                        split.slots[i] = Some(Attributed::default());
                    }
                }
                for (&j, (i, _)) in mine.iter().zip(&placed.places) {
                    taken[j] = true;
                    if let Some(slot) = split.slots[*i].as_mut() {
                        match entries[j] {
                            Entry::Image(img) => slot.images.push(img),
                            Entry::Failure(f) => slot.failures.push(f),
                        }
                    }
                }
                for (i, c) in placed.choices {
                    split.choices[i] = c;
                }
            }
            _ => split
                .left_ids
                .extend(members.iter().flat_map(|&d| demands[d].ids.iter().copied())),
        }
    }
    split.left_ids.sort_unstable();
    for (j, entry) in entries.iter().enumerate() {
        match (*entry, taken[j]) {
            (_, true) => {}
            (Entry::Image(img), false) => split.left_images.push(img),
            (Entry::Failure(f), false) => split.left_failures.push(f),
        }
    }
    split
}

/// Whether an entry says it answers this id: a failure echoing it, an image under one of the
/// imageIds ECR answers for it, or one whose imageId carries every member the id was sent with.
fn relates(e: &IdExpectation, entry: Entry) -> bool {
    match entry {
        Entry::Failure(f) => f.image_id == e.id,
        Entry::Image(img) => {
            let expected = match &e.outcome {
                Outcome::Image(x) => std::slice::from_ref(x),
                Outcome::ImagesByDigest { images } => images.as_slice(),
                Outcome::Failure { .. } => &[],
            };
            let claims = (e.id.image_tag.is_some() || e.id.image_digest.is_some())
                && e.id
                    .image_tag
                    .as_ref()
                    .is_none_or(|t| img.image_id.image_tag.as_ref() == Some(t))
                && e.id
                    .image_digest
                    .as_ref()
                    .is_none_or(|d| img.image_id.image_digest.as_ref() == Some(d));
            claims || expected.iter().any(|x| x.image_id == img.image_id)
        }
    }
}

/// How many entries, at most, are left out of a group to find the part of it that is the model's
/// answer.
const SALVAGE_ENTRIES: usize = 2;
/// How many tries, at most, that search makes in one group.
const SALVAGE_TRIES: usize = 256;

/// The largest part of a group that is exactly the model's answer, leaving out one or two
/// entries, or one demand: what a deviation is confined to, so that one wrong entry (an id answered
/// with another id's image) is one deviation of the id it answers, not a disorder of every id that
/// shares its image. Of the entries that could be left out, the ones whose rest fits best are;
/// on a tie, the first in the order of their identity, so the same answer always leaves out the
/// same ones.
fn salvage(
    a: &ExpectedAnswers,
    demands: &[Demand],
    members: &[usize],
    entries: &[Entry],
    mine: &[usize],
) -> Option<(Vec<usize>, Vec<usize>, Allowed)> {
    let mut order: Vec<usize> = mine.to_vec();
    order.sort_by_cached_key(|&j| identity_key(entries[j]));
    let mut tries = 0;
    let mut attempt = |members: &[usize], mine: &[usize]| -> Option<(Score, Allowed)> {
        tries += 1;
        if tries > SALVAGE_TRIES {
            return None;
        }
        decide(a, demands, members, entries, mine).filter(|(_, p)| p.cost == 0)
    };
    // Of the ways to leave out n entries, the one whose rest fits best (the first on a tie).
    for n in 1..=SALVAGE_ENTRIES.min(order.len()) {
        let mut best: Option<(Score, Vec<usize>, Allowed)> = None;
        let mut pick: Vec<usize> = (0..n).collect();
        loop {
            let kept: Vec<usize> = order
                .iter()
                .enumerate()
                .filter(|(k, _)| !pick.contains(k))
                .map(|(_, &j)| j)
                .collect();
            if let Some((score, placed)) = attempt(members, &kept)
                && best.as_ref().is_none_or(|(b, ..)| score < *b)
            {
                best = Some((score, kept, placed));
            }
            // The next combination of n positions, in order.
            let Some(k) = (0..n).rev().find(|&k| pick[k] < order.len() - n + k) else {
                break;
            };
            pick[k] += 1;
            for m in k + 1..n {
                pick[m] = pick[m - 1] + 1;
            }
        }
        if let Some((_, kept, placed)) = best {
            return Some((members.to_vec(), kept, placed));
        }
    }
    // Demands whose places take any of several answers are left out first: an exact place is the
    // stronger claim on an entry.
    let mut loosest: Vec<usize> = members.to_vec();
    loosest.sort_by_key(|&d| {
        let exact = demands[d].options.iter().all(|o| {
            o.places
                .iter()
                .all(|(_, p)| matches!(p, Accepts::Image(_) | Accepts::Failure(..)))
        });
        (exact, d)
    });
    for &d in &loosest {
        let kept: Vec<usize> = members.iter().copied().filter(|&x| x != d).collect();
        if let Some((_, placed)) = attempt(&kept, mine) {
            return Some((kept, mine.to_vec(), placed));
        }
    }
    None
}

/// An entry's identity as text, for a stable order.
fn identity_key(entry: Entry) -> String {
    match entry {
        Entry::Image(img) => format!("image {:?} {:?}", img.image_id, img.image_manifest),
        Entry::Failure(f) => format!("failure {:?} {:?}", f.image_id, f.failure_code),
    }
}

/// The cheapest allowed answer of these demands that these entries are, with each entry's place
/// (in the order of `mine`).
fn decide(
    a: &ExpectedAnswers,
    demands: &[Demand],
    members: &[usize],
    entries: &[Entry],
    mine: &[usize],
) -> Option<(Score, Allowed)> {
    let combos = members
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(demands[d].options.len()))?;
    if combos > COMBINATIONS_MAX {
        return None;
    }
    let mut all: Vec<Allowed> = Vec::with_capacity(combos);
    for k in 0..combos {
        let mut rest = k;
        let mut combo = Allowed {
            choices: Vec::new(),
            cost: 0,
            places: Vec::new(),
        };
        for &d in members {
            let options = &demands[d].options;
            let o = &options[rest % options.len()];
            rest /= options.len();
            combo.choices.extend(o.choices.iter().copied());
            combo.cost += o.cost;
            combo.places.extend(o.places.iter().cloned());
        }
        if combo.places.len() == mine.len() {
            all.push(combo);
        }
    }
    // The allowed answer that leaves the fewest gate differences in the bodies (an answer is
    // never read so that its bodies break a gate rule when another reading lets them keep it),
    // then the one nearest the model's own, then the fewest advisory differences.
    all.sort_by_key(|c| c.cost);
    let mut best: Option<(Score, Allowed)> = None;
    for combo in all.into_iter().take(PLACEMENTS_MAX) {
        let cost = combo.cost;
        if let Some((placed, body)) = place(a, combo, entries, mine) {
            let score = (body / GATE_COST, cost, body % GATE_COST);
            if score.0 == 0 {
                return Some((score, placed));
            }
            if best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((score, placed));
            }
        }
    }
    best
}

/// How well an allowed answer fits: gate differences in its bodies, how far it is from the
/// model's own answer, advisory differences in its bodies (less is better, in that order).
type Score = (i64, u32, i64);

/// Placements tried per group, at most, in search of one whose bodies keep every gate rule.
const PLACEMENTS_MAX: usize = 64;
/// What one gate difference in a body weighs against any number of advisory ones.
const GATE_COST: i64 = 1000;

/// Places the entries on the combination's places, one each, preferring places whose id the
/// entry's body answers best; None if some entry fits no free place.
fn place(a: &ExpectedAnswers, mut combo: Allowed, entries: &[Entry], mine: &[usize]) -> Option<(Allowed, i64)> {
    use pathfinding::kuhn_munkres::kuhn_munkres;
    use pathfinding::matrix::Matrix;
    const TAKEN: i64 = 1_000_000_000;
    let n = mine.len();
    if n == 0 {
        return Some((combo, 0));
    }
    let mut weights = Vec::with_capacity(n * n);
    for &j in mine {
        for (i, accepts) in &combo.places {
            weights.push(if accepts.takes(entries[j]) {
                TAKEN - body_cost(a, &a.ids[*i], entries[j])
            } else {
                -TAKEN
            });
        }
    }
    let matrix = Matrix::from_vec(n, n, weights.clone()).ok()?;
    let (_, chosen) = kuhn_munkres(&matrix);
    if chosen.iter().enumerate().any(|(row, &col)| weights[row * n + col] < 0) {
        return None;
    }
    let body: i64 = chosen
        .iter()
        .enumerate()
        .map(|(row, &col)| TAKEN - weights[row * n + col])
        .sum();
    let places = std::mem::take(&mut combo.places);
    combo.places = chosen.into_iter().map(|col| places[col].clone()).collect();
    Some((combo, body))
}

/// How badly an entry's body answers an id whose identity it carries: a gate difference outweighs
/// any number of advisory ones.
fn body_cost(a: &ExpectedAnswers, e: &IdExpectation, entry: Entry) -> i64 {
    match (entry, &e.outcome) {
        (Entry::Image(img), Outcome::Image(x)) => image_cost(a, e, x, img),
        (Entry::Image(img), Outcome::ImagesByDigest { images }) => images
            .iter()
            .find(|x| x.image_id.image_tag == img.image_id.image_tag)
            .or(images.first())
            .map_or(0, |x| image_cost(a, e, x, img)),
        (Entry::Failure(f), Outcome::Failure { code, reason }) => {
            let other_code = f.failure_code.as_ref() != Some(code);
            level_cost(e.level) * i64::from(other_code)
                + i64::from(f.failure_reason.as_deref() != Some(reason.as_str()))
        }
        _ => level_cost(e.level),
    }
}

fn level_cost(level: Level) -> i64 {
    match level {
        Level::Gate => GATE_COST,
        Level::Advisory => 1,
    }
}

fn image_cost(a: &ExpectedAnswers, e: &IdExpectation, x: &ExpectedImage, img: &Image) -> i64 {
    let mut found = Vec::new();
    super::judge_image_body(a, e, x, img, &mut found);
    found.iter().map(|d| level_cost(d.level)).sum()
}

/// The allowed answers of every requested id: the tags of one image asked for apart (I-SAME-
/// DIGEST-TAGS) form one demand, every other id its own.
fn demands(a: &ExpectedAnswers) -> Vec<Demand> {
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
        vec![(1, Choice::Reference, 0), (e.times, Choice::PerRepetition, 1)]
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
                        cost: cost + 2,
                        places: repeat(n, &[Accepts::ImageOf { digest, tags }]),
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
fn together(a: &ExpectedAnswers, members: &[usize], digest: &str) -> Vec<Allowed> {
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
            cost: 4,
            places: (0..k)
                .map(|n| {
                    (
                        members[n % members.len()],
                        Accepts::ImageOf {
                            digest: digest.to_string(),
                            tags: tags.clone(),
                        },
                    )
                })
                .collect(),
        });
    }
    options
}

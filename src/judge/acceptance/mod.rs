//! The whole answer first: is it, read as a multiset of entries compared on their identity (an
//! image's imageId; a failure's echo and failureCode), one of the answers the reference allows?
//! (An image's registryId and repositoryName are checked on every entry, at gate, as part of its
//! body: a wrong one everywhere is one finding, not a reason to read every entry apart.)
//!
//! The model gives ECR's first choice; the reference allows others wherever it is unsure: an
//! identical id answered once or at each repetition (I-DUP-ONCE), a digest answered with one entry
//! per tag or with one entry (I-DIGEST-TAGS), two tags of one image answered apart or by one entry
//! (I-SAME-DIGEST-TAGS), and, for an id whose rule is advisory, a failure of any code. If the
//! answer is one of these, it breaks no rule of identity, whatever its bodies say: each entry is
//! placed on an id whose identity it carries (among entries of one identity, the bodies decide
//! which answers which), and only then are bodies judged. Placing entries by likeness
//! (`attribution`) is left to answers outside that set, to explain what is wrong with them.

mod cost;
mod demands;

use super::attribution::Attributed;
use crate::model::{ExpectedAnswers, IdExpectation, Outcome};
use crate::wire::{Image, ImageFailure, ImageFailureCode, ImageIdentifier};
use cost::{GATE_COST, NOTE, PLACEMENTS_MAX, Score, best_assignment, body_cost, place, place_cost};
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
    /// An image of the repository with this digest and one of these tags (None: untagged), whose
    /// body answers one of these ids (the tags of one image answered together: any of them).
    ImageOf {
        digest: String,
        tags: Vec<Option<String>>,
        answering: Vec<usize>,
    },
    /// Any failure echoing an id whose rule is advisory, whatever its code. (An image for it is
    /// left to be explained apart: taken here, an image with a broken body would escape the gate
    /// of the id it really answers.)
    AnyAnswerTo(ImageIdentifier),
}

impl Accepts {
    fn takes(&self, entry: Entry) -> bool {
        match (self, entry) {
            (Accepts::Image(x), Entry::Image(img)) => &img.image_id == x,
            (Accepts::Failure(x, code), Entry::Failure(f)) => &f.image_id == x && f.failure_code.as_ref() == Some(code),
            (Accepts::ImageOf { digest, tags, .. }, Entry::Image(img)) => {
                img.image_id.image_digest.as_deref() == Some(digest.as_str()) && tags.contains(&img.image_id.image_tag)
            }
            (Accepts::AnyAnswerTo(x), Entry::Failure(f)) => &f.image_id == x,
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
        let placed = decide(a, &demands, &members, &entries, &mine).map(|(_, p)| p);
        decided.push((members, mine, placed, false));
    }
    let whole = takers.iter().all(|t| !t.is_empty()) && decided.iter().all(|(_, _, p, _)| p.is_some());
    if !whole {
        // In part, an allowed alternative is placed only where no id left without any answer near
        // it could claim one of its entries (an id repeated and answered twice is that, unless
        // the second answer may be another id's that got none); else, and for a group that is no
        // allowed answer, its largest part that is the model's own answer is.
        let mut free = vec![true; entries.len()];
        for (_, mine, placed, _) in &decided {
            if placed.is_some() {
                for &j in mine {
                    free[j] = false;
                }
            }
        }
        // The ids of groups that are no allowed answer are needy unless each can have a free
        // entry near it of its own (two such ids and one such entry: both are).
        let unplaced: Vec<usize> = decided
            .iter()
            .filter(|(.., placed, _)| placed.is_none())
            .flat_map(|(members, ..)| members.iter().flat_map(|&d| demands[d].ids.iter().copied()))
            .collect();
        let nearby: Vec<usize> = (0..entries.len()).filter(|&j| free[j]).collect();
        let covered = matching_size(unplaced.len(), nearby.len(), |r, c| {
            near(&a.ids[unplaced[r]], entries[nearby[c]])
        });
        let needy: Vec<usize> = if covered == unplaced.len() {
            Vec::new()
        } else {
            unplaced
        };
        for (members, mine, placed, _) in &mut decided {
            let ids = || members.iter().flat_map(|&d| demands[d].ids.iter().copied());
            // A free entry that looks like one of the group's own answers (its echo, or its image)
            // says the group may have lost an answer that the alternative only papers over.
            let claimed_from_outside = (0..entries.len())
                .any(|j| free[j] && ids().any(|i| near(&a.ids[i], entries[j]) || of_image(&a.ids[i], entries[j])));
            if let Some(p) = placed.as_mut()
                && p.cost > 0
                && !claimed_from_outside
                && !mine.iter().any(|&j| needy.iter().any(|&i| near(&a.ids[i], entries[j])))
            {
                // Allowed, and nobody else's: placed as the model's own would be.
                p.cost = 0;
            }
        }
        for (members, mine, placed, salvaged) in &mut decided {
            if placed.as_ref().is_some_and(|p| p.cost == 0) {
                continue;
            }
            if let Some((kept, kept_entries, p)) = salvage(a, &demands, members, &entries, mine) {
                dropped.extend(members.iter().filter(|d| !kept.contains(d)).copied());
                *members = kept;
                *mine = kept_entries;
                *placed = Some(p);
                *salvaged = true;
            }
        }
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
                for &d in &members {
                    if demands[d].ids.iter().any(|&i| split.choices[i] == Choice::Shared) {
                        share_out(a, &demands[d].ids, &mut split.slots);
                    }
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

/// The size of a maximum matching of rows to columns (augmenting paths; rows and columns are few).
fn matching_size(rows: usize, columns: usize, edge: impl Fn(usize, usize) -> bool) -> usize {
    fn augment(
        r: usize,
        columns: usize,
        edge: &dyn Fn(usize, usize) -> bool,
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for c in 0..columns {
            if edge(r, c) && !seen[c] {
                seen[c] = true;
                if owner[c].is_none_or(|o| augment(o, columns, edge, seen, owner)) {
                    owner[c] = Some(r);
                    return true;
                }
            }
        }
        false
    }
    let mut owner = vec![None; columns];
    (0..rows)
        .filter(|&r| augment(r, columns, &edge, &mut vec![false; columns], &mut owner))
        .count()
}

/// The entries of tags of one image answered together, shared out again among those tags: each
/// tag its own entry where there is one, any further one to the tag whose body it is (any share is
/// allowed; this one notes only the tags that did not get their own entry once).
fn share_out<'a>(a: &ExpectedAnswers, ids: &[usize], slots: &mut [Option<Attributed<'a>>]) {
    let mut pool: Vec<&'a Image> = Vec::new();
    for &i in ids {
        if let Some(slot) = slots[i].as_mut() {
            pool.append(&mut slot.images);
        }
    }
    for &i in ids {
        let Outcome::Image(x) = &a.ids[i].outcome else { continue };
        if let Some(k) = pool.iter().position(|img| img.image_id == x.image_id)
            && let Some(slot) = slots[i].as_mut()
        {
            slot.images.push(pool.remove(k));
        }
    }
    for img in pool {
        // To the tag whose body it is, the one it carries on a tie, else the first.
        let mine = ids
            .iter()
            .copied()
            .min_by_key(|&i| {
                let carried = matches!(&a.ids[i].outcome, Outcome::Image(x) if x.image_id == img.image_id);
                (body_cost(a, &a.ids[i], Entry::Image(img)), !carried)
            })
            .unwrap_or(ids[0]);
        if let Some(slot) = slots[mine].as_mut() {
            slot.images.push(img);
        }
    }
}

/// Whether an entry's echo shares a tag (in any case) or a digest (in any case) with an id, or
/// names a digest that differs in one character or is a prefix of the other: what could make it
/// that id's answer, under a sloppy echo or a sloppy lookup.
fn near(e: &IdExpectation, entry: Entry) -> bool {
    let echo = match entry {
        Entry::Image(img) => &img.image_id,
        Entry::Failure(f) => &f.image_id,
    };
    let same =
        |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x.eq_ignore_ascii_case(y));
    same(&e.id.image_tag, &echo.image_tag)
        || same(&e.id.image_digest, &echo.image_digest)
        || super::attribution::loose_score(&e.id, echo).is_some()
}

/// Whether an entry is an image ECR answers for this id, by its manifest (whatever its imageId).
fn of_image(e: &IdExpectation, entry: Entry) -> bool {
    let Entry::Image(img) = entry else { return false };
    e.images().iter().any(|x| {
        x.manifest_fits(img.image_manifest.as_deref())
            || x.image_id.image_digest.is_some() && x.image_id.image_digest == img.image_id.image_digest
    })
}

/// Whether an entry says it answers this id: a failure echoing it, an image under one of the
/// imageIds ECR answers for it, or one whose imageId carries every member the id was sent with.
fn relates(e: &IdExpectation, entry: Entry) -> bool {
    match entry {
        Entry::Failure(f) => f.image_id == e.id,
        Entry::Image(img) => {
            super::attribution::claims(e, img) || e.images().iter().any(|x| x.image_id == img.image_id)
        }
    }
}

/// The largest part of a group that is exactly the model's answer: all its demands, or all but
/// one, each given the entries that fit it best, and what is left (the demand, the entries no
/// place took) explained apart. That is what a deviation is confined to, so that one wrong entry
/// (an id answered with another id's image, an entry under a tag no image has) is one deviation
/// of the id it answers, not a disorder of every id that shares its image. Of the ways to do it,
/// the one that leaves out the fewest demands and entries is taken, then the best fitting; on a
/// tie, the first in a fixed order (entries by identity, demands by position).
fn salvage(
    a: &ExpectedAnswers,
    demands: &[Demand],
    members: &[usize],
    entries: &[Entry],
    mine: &[usize],
) -> Option<(Vec<usize>, Vec<usize>, Allowed)> {
    let mut order: Vec<usize> = mine.to_vec();
    order.sort_by_cached_key(|&j| identity_key(entries[j]));
    let mut best: Option<Salvaged> = None;
    let mut consider = |kept: Vec<usize>, left_out: usize| {
        let takable: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&j| {
                kept.iter().any(|&x| {
                    demands[x]
                        .options
                        .iter()
                        .any(|o| o.places.iter().any(|(_, p)| p.takes(entries[j])))
                })
            })
            .collect();
        if let Some((score, kept_entries, placed)) = fill(a, demands, &kept, entries, &takable) {
            let key = (left_out + order.len() - kept_entries.len(), score);
            if best.as_ref().is_none_or(|(b, ..)| key < *b) {
                best = Some((key, kept, kept_entries, placed));
            }
        }
    };
    consider(members.to_vec(), 0);
    for &d in members {
        consider(members.iter().copied().filter(|&x| x != d).collect(), 1);
    }
    best.filter(|(_, kept, ..)| !kept.is_empty())
        .map(|(_, kept, kept_entries, placed)| (kept, kept_entries, placed))
}

/// A salvaged part of a group: (what it leaves out, how well it fits), its demands, its entries,
/// their places.
type Salvaged = ((usize, Score), Vec<usize>, Vec<usize>, Allowed);

/// The model's own answer of these demands (each its first allowed answer), its places filled
/// with the entries that fit them best, some entries left over if there are more: the entries
/// kept, in the order of the places, or None if some place stays empty.
fn fill(
    a: &ExpectedAnswers,
    demands: &[Demand],
    members: &[usize],
    entries: &[Entry],
    mine: &[usize],
) -> Option<(Score, Vec<usize>, Allowed)> {
    let mut combo = Allowed {
        choices: Vec::new(),
        cost: 0,
        places: Vec::new(),
    };
    for &d in members {
        let own = demands[d].options.iter().find(|o| o.cost == 0)?;
        combo.choices.extend(own.choices.iter().copied());
        combo.places.extend(own.places.iter().cloned());
    }
    if combo.places.len() > mine.len() {
        return None;
    }
    // One row per place, one column per entry: the entries left over are those no row takes.
    let (chosen, body) = best_assignment(combo.places.len(), mine.len(), |row, col| {
        let (i, accepts) = &combo.places[row];
        accepts
            .takes(entries[mine[col]])
            .then(|| place_cost(a, *i, accepts, entries[mine[col]]))
    })?;
    let kept: Vec<usize> = chosen.iter().map(|&col| mine[col]).collect();
    Some(((body / GATE_COST, NOTE * (body % GATE_COST)), kept, combo))
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
    // An allowed answer whose bodies keep every gate rule, if there is one (an answer is never
    // read so that its bodies break a gate rule when another reading lets them keep it); else the
    // model's own answer, if the entries are that: bodies broken everywhere are broken whatever
    // the reading. An alternative that still leaves a body broken is no explanation: it may
    // paper over an entry too many or too few, which the answer's parts then show.
    all.sort_by_key(|c| c.cost);
    let mut free: Option<(Score, Allowed)> = None;
    let mut own: Option<(Score, Allowed)> = None;
    for combo in all.into_iter().take(PLACEMENTS_MAX) {
        let cost = i64::from(combo.cost);
        // Sorted by cost: no later combination notes fewer things than the best found.
        if free.as_ref().is_some_and(|(b, _)| cost >= b.1) {
            break;
        }
        if let Some((placed, body)) = place(a, combo, entries, mine) {
            let score = (body / GATE_COST, cost + NOTE * (body % GATE_COST));
            if score.0 == 0 {
                if free.as_ref().is_none_or(|(b, _)| score < *b) {
                    free = Some((score, placed));
                }
            } else if cost == 0 && own.as_ref().is_none_or(|(b, _)| score < *b) {
                own = Some((score, placed));
            }
        }
    }
    free.or(own)
}

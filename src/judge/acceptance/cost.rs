//! What placing entries on ids costs: the cheapest allowed placement is the reading kept.

use super::{Accepts, Allowed, Entry};
use crate::model::{ExpectedAnswers, ExpectedImage, IdExpectation, Outcome};
use crate::rules::Level;
use crate::wire::Image;

/// How well an allowed answer fits: gate differences in its bodies, then how much it gives to
/// note (the alternatives it takes, and the advisory differences in its bodies; less is better).
/// Of the readings an answer allows, the one with the fewest notes is the likeliest: an endpoint
/// that shares one entry among tags is not read as repeating one tag and answering a digest once
/// with a body to spare.
pub(super) type Score = (i64, i64);

/// What an advisory difference in a body, or an alternative an id takes, counts in a score (a
/// share among tags counts one more, so that an even reading is another one's).
pub(super) const NOTE: i64 = 2;

/// Placements tried per group, at most, in search of one whose bodies keep every gate rule.
pub(super) const PLACEMENTS_MAX: usize = 64;

/// What one gate difference in a body weighs against any number of advisory ones.
pub(super) const GATE_COST: i64 = 1000;

/// Places the entries on the combination's places, one each, preferring places whose id the
/// entry's body answers best; None if some entry fits no free place.
pub(super) fn place(
    a: &ExpectedAnswers,
    mut combo: Allowed,
    entries: &[Entry],
    mine: &[usize],
) -> Option<(Allowed, i64)> {
    let n = mine.len();
    if n == 0 {
        return Some((combo, 0));
    }
    // One row per entry, one column per place.
    let (chosen, body) = best_assignment(n, combo.places.len(), |row, col| {
        let (i, accepts) = &combo.places[col];
        accepts
            .takes(entries[mine[row]])
            .then(|| place_cost(a, *i, accepts, entries[mine[row]]))
    })?;
    let places = std::mem::take(&mut combo.places);
    combo.places = chosen.into_iter().map(|col| places[col].clone()).collect();
    Some((combo, body))
}

/// The maximum-weight assignment (Kuhn-Munkres) of every row to a column of its own (rows at most
/// as many as columns), where `cost(row, column)` is None for a pair that cannot be and otherwise
/// what the pair costs: each row's column, and the assignment's total cost. None if some row gets
/// no column it can take.
pub(super) fn best_assignment(
    rows: usize,
    columns: usize,
    cost: impl Fn(usize, usize) -> Option<i64>,
) -> Option<(Vec<usize>, i64)> {
    use pathfinding::kuhn_munkres::kuhn_munkres;
    use pathfinding::matrix::Matrix;
    const TAKEN: i64 = 1_000_000_000;
    if rows > columns {
        return None;
    }
    if rows == 0 {
        return Some((Vec::new(), 0));
    }
    let mut weights = Vec::with_capacity(rows * columns);
    for row in 0..rows {
        for col in 0..columns {
            weights.push(cost(row, col).map_or(-TAKEN, |c| TAKEN - c));
        }
    }
    let matrix = Matrix::from_vec(rows, columns, weights.clone()).ok()?;
    let (_, chosen) = kuhn_munkres(&matrix);
    let cell = |row: usize, col: usize| weights[row * columns + col];
    if chosen.iter().enumerate().any(|(row, &col)| cell(row, col) < 0) {
        return None;
    }
    let total = chosen
        .iter()
        .enumerate()
        .map(|(row, &col)| TAKEN - cell(row, col))
        .sum();
    Some((chosen, total))
}

/// How badly an entry's body answers its place: the place's id, or the best of the ids it may
/// answer (an entry shared among tags goes to the tag whose body it is).
pub(super) fn place_cost(a: &ExpectedAnswers, i: usize, accepts: &Accepts, entry: Entry) -> i64 {
    match accepts {
        Accepts::ImageOf { answering, .. } if !answering.is_empty() => answering
            .iter()
            .map(|&k| body_cost(a, &a.ids[k], entry))
            .min()
            .unwrap_or_default(),
        _ => body_cost(a, &a.ids[i], entry),
    }
}

/// How badly an entry's body answers an id whose identity it carries: a gate difference outweighs
/// any number of advisory ones.
pub(super) fn body_cost(a: &ExpectedAnswers, e: &IdExpectation, entry: Entry) -> i64 {
    match (entry, &e.outcome) {
        // Under another imageId of the image (tags of one image answered together), an entry
        // costs a little: each tag's own entry is placed on it where there is one.
        (Entry::Image(img), Outcome::Image(x)) => image_cost(a, e, x, img) + i64::from(img.image_id != x.image_id),
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
    crate::judge::image_body::judge_image_body(a, e, x, img, &mut found);
    found.iter().map(|d| level_cost(d.level)).sum()
}

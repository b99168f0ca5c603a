//! What placing entries on ids costs: the cheapest allowed placement is the reading kept.

use super::{Accepts, Entry};
use crate::model::{ExpectedAnswers, ExpectedImage, IdExpectation, Outcome};
use crate::rules::Level;
use crate::wire::Image;

/// What an advisory difference in a body, or an alternative an id takes, counts in a score (a
/// share among tags counts one more, so that an even reading is another one's).
pub(super) const NOTE: i64 = 2;

/// Placements tried per group, at most, in search of one whose bodies keep every gate rule.
pub(super) const PLACEMENTS_MAX: usize = 64;

/// What one gate difference in a body weighs against any number of advisory ones.
pub(super) const GATE_COST: i64 = 1000;

/// What one more entry placed weighs in an assignment: more than any body's cost, so that as
/// many entries as can be placed are.
const PLACED: i64 = 1_000_000_000;

/// The maximum-weight assignment (Kuhn-Munkres) of rows to columns of their own, each row placed
/// where it can be or left out: as many rows placed as can be, then the cheapest such assignment,
/// where `cost(row, column)` is None for a pair that cannot be and otherwise what the pair costs.
/// Each row's column (None: left out), how many are placed, and their total cost.
pub(super) fn partial_assignment(
    rows: usize,
    columns: usize,
    cost: impl Fn(usize, usize) -> Option<i64>,
) -> (Vec<Option<usize>>, usize, i64) {
    use pathfinding::kuhn_munkres::kuhn_munkres;
    use pathfinding::matrix::Matrix;
    if rows == 0 || columns == 0 {
        return (vec![None; rows], 0, 0);
    }
    // After the columns, one column per row for "left out", worth nothing.
    let width = columns + rows;
    let mut weights = Vec::with_capacity(rows * width);
    for row in 0..rows {
        for col in 0..columns {
            weights.push(cost(row, col).map_or(-PLACED, |c| PLACED - c));
        }
        weights.extend(std::iter::repeat_n(0, rows));
    }
    let Ok(matrix) = Matrix::from_vec(rows, width, weights.clone()) else {
        return (vec![None; rows], 0, 0);
    };
    let (_, chosen) = kuhn_munkres(&matrix);
    let mut placed = 0;
    let mut total = 0;
    let columns_of: Vec<Option<usize>> = chosen
        .iter()
        .enumerate()
        .map(|(row, &col)| {
            let w = weights[row * width + col];
            (col < columns && w > 0).then(|| {
                placed += 1;
                total += PLACED - w;
                col
            })
        })
        .collect();
    (columns_of, placed, total)
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
        (Entry::Image(img), Outcome::Image(x)) => image_cost(a, e, x, img) + i64::from(!x.identity_fits(img)),
        (Entry::Image(img), Outcome::ImagesByDigest { images }) => images
            .iter()
            .find(|x| x.image_id.image_tag == img.image_id.image_tag)
            .or(images.first())
            .map_or(0, |x| image_cost(a, e, x, img)),
        (Entry::Image(img), Outcome::Failure { or_found, .. }) if !or_found.is_empty() => or_found
            .iter()
            .find(|x| x.image_id.image_tag == img.image_id.image_tag)
            .or(or_found.first())
            .map_or(0, |x| image_cost(a, e, x, img) + 1),
        (Entry::Failure(f), Outcome::Failure { code, reason, also, .. }) => {
            let other_code = f.failure_code.as_ref().is_none_or(|c| c != code && !also.contains(c));
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

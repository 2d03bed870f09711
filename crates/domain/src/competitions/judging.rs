//! Judged contests (skills, speech): the criteria judges score against, a judge's score
//! sheet, the three ways a panel's sheets become one score, and the conflict-of-interest
//! rule.

use super::pointer_token;
use super::score::{PER_HUNDREDTH, Score, ratio_half_up};
use crate::ids::{OrgId, UserId};
use crate::insurance::{FieldProblem, wire_enum};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// A weight of 1, in basis points. Weights are integers so that a weighted sum is an
/// exact fraction; 30% is `3_000`, "counts double" is `20_000`.
pub const WEIGHT_ONE_BP: u32 = 10_000;

/// The heaviest weight: ten times. Beyond it a criterion would swamp the rest, which is
/// a different contest.
pub const MAX_WEIGHT_BP: u32 = 100_000;

/// The highest maximum a criterion may have: 1,000 points, in hundredths. It keeps a
/// typo out and every total far inside an `i64`.
pub const MAX_SCORE_HUNDREDTHS: i64 = 100_000;

/// The most criteria a competition may have.
pub const MAX_CRITERIA: usize = 20;

pub const MAX_CRITERION_KEY_CHARS: usize = 32;
pub const MAX_CRITERION_NAME_CHARS: usize = 100;

/// One thing judges score, e.g. `{"key": "safety", "name": "Safe working", "weight_bp":
/// 3000, "max_hundredths": 3000}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// How sheets, tie-breaks and results name it: lowercase ASCII letters, digits and
    /// `_`, starting with a letter, so it is safe in a JSON Pointer, a map key and a
    /// tie-break's `criterion:<key>`.
    pub key: String,
    /// For people.
    pub name: String,
    /// Basis points ([`WEIGHT_ONE_BP`] is 1), 1 to [`MAX_WEIGHT_BP`]. Read only by
    /// [`ScoringMethod::WeightedSum`]; left out, it is 1.
    #[serde(default = "weight_one")]
    pub weight_bp: u32,
    /// The most a judge may give, in hundredths of a point, 1 to
    /// [`MAX_SCORE_HUNDREDTHS`].
    pub max_hundredths: i64,
}

fn weight_one() -> u32 {
    WEIGHT_ONE_BP
}

/// Every problem with a competition's criteria, each pointing under `/criteria/<i>`:
/// a key that is blank (`required`), badly formed (`invalid_key`), too long or used
/// twice (`duplicate`); a blank or too long name; a weight or maximum out of range;
/// more than [`MAX_CRITERIA`] criteria (`too_many`, at `/criteria`). Whether a
/// competition needs criteria at all depends on its kind; see
/// [`CompetitionTerms::validate`](super::CompetitionTerms::validate).
pub fn validate_criteria(criteria: &[Criterion]) -> Result<(), Vec<FieldProblem>> {
    let mut problems = Vec::new();
    if criteria.len() > MAX_CRITERIA {
        problems.push(FieldProblem::new(
            "/criteria",
            "too_many",
            format!("at most {MAX_CRITERIA} criteria, not {}", criteria.len()),
        ));
    }
    for (i, c) in criteria.iter().enumerate() {
        let at = |field: &str| format!("/criteria/{i}/{field}");
        if c.key.is_empty() {
            problems.push(FieldProblem::new(
                at("key"),
                "required",
                "a key is required",
            ));
        } else if c.key.chars().count() > MAX_CRITERION_KEY_CHARS {
            problems.push(FieldProblem::new(
                at("key"),
                "too_long",
                format!("at most {MAX_CRITERION_KEY_CHARS} characters"),
            ));
        } else if !is_key(&c.key) {
            problems.push(FieldProblem::new(
                at("key"),
                "invalid_key",
                "lowercase letters, digits and _, starting with a letter",
            ));
        } else if criteria[..i].iter().any(|earlier| earlier.key == c.key) {
            problems.push(FieldProblem::new(
                at("key"),
                "duplicate",
                format!("the key {} is used twice", c.key),
            ));
        }
        if c.name.trim().is_empty() {
            problems.push(FieldProblem::new(
                at("name"),
                "required",
                "a name is required",
            ));
        } else if c.name.chars().count() > MAX_CRITERION_NAME_CHARS {
            problems.push(FieldProblem::new(
                at("name"),
                "too_long",
                format!("at most {MAX_CRITERION_NAME_CHARS} characters"),
            ));
        }
        if !(1..=MAX_WEIGHT_BP).contains(&c.weight_bp) {
            problems.push(FieldProblem::new(
                at("weight_bp"),
                "out_of_range",
                format!(
                    "must be 1 to {MAX_WEIGHT_BP} basis points, not {}",
                    c.weight_bp
                ),
            ));
        }
        if !(1..=MAX_SCORE_HUNDREDTHS).contains(&c.max_hundredths) {
            problems.push(FieldProblem::new(
                at("max_hundredths"),
                "out_of_range",
                format!(
                    "must be 1 to {MAX_SCORE_HUNDREDTHS} hundredths of a point, not {}",
                    c.max_hundredths
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn is_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// One judge's scores for one entrant: criterion key → hundredths of a point.
/// Corrections replace the sheet (storage keeps the history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreSheet {
    pub judge: UserId,
    pub scores: BTreeMap<String, i64>,
}

impl ScoreSheet {
    /// Every problem with the sheet against the competition's criteria, each pointing
    /// at `/scores/<key>`: a criterion not scored (`required`), a key that is no
    /// criterion (`unknown_criterion`), a score below 0 or above the criterion's
    /// maximum (`out_of_range`). Every criterion must be scored: a blank would make the
    /// judge's total incomparable with the others'.
    pub fn validate(&self, criteria: &[Criterion]) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        for c in criteria {
            let at = format!("/scores/{}", pointer_token(&c.key));
            match self.scores.get(&c.key) {
                None => problems.push(FieldProblem::new(
                    at,
                    "required",
                    format!("{} must be scored", c.name),
                )),
                Some(&s) if !(0..=c.max_hundredths).contains(&s) => {
                    problems.push(FieldProblem::new(
                        at,
                        "out_of_range",
                        format!(
                            "{} is scored 0 to {} hundredths of a point, not {s}",
                            c.name, c.max_hundredths
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        for key in self.scores.keys() {
            if !criteria.iter().any(|c| &c.key == key) {
                problems.push(FieldProblem::new(
                    format!("/scores/{}", pointer_token(key)),
                    "unknown_criterion",
                    format!("{key} is not one of this competition's criteria"),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The judge's total: the sum of their scores on every criterion, unweighted, in
    /// hundredths.
    fn total(&self, criteria: &[Criterion]) -> i128 {
        criteria.iter().map(|c| i128::from(self.score(c))).sum()
    }

    fn score(&self, criterion: &Criterion) -> i64 {
        self.scores.get(&criterion.key).copied().unwrap_or(0)
    }
}

wire_enum!(
    /// How a panel's sheets become an entrant's score. A judge's *total* is the sum of
    /// their scores on every criterion, unweighted.
    ScoringMethod {
        /// The mean of the judges' totals.
        Mean => "mean",
        /// The mean of the judges' totals after setting the extremes aside: with four
        /// or more judges, one highest and one lowest total are dropped; with three,
        /// the two closest totals are averaged; with two, their mean; with one, theirs.
        TrimmedMean => "trimmed_mean",
        /// Over the criteria, weight × the judges' mean score on it.
        WeightedSum => "weighted_sum",
    }
);

/// An entrant's aggregated score and what it was made of, for the results sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub score: Score,
    /// Each criterion's mean over every judge, unweighted and untrimmed, rounded half
    /// up: what a `criterion` tie-break compares.
    pub criterion_means: BTreeMap<String, Score>,
    /// The judges whose totals the score counts, in the order of the sheets: all of
    /// them, except those a trimmed mean set aside.
    pub counted: Vec<UserId>,
}

/// Why sheets couldn't be aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AggregateError {
    #[error("no judge has scored this entrant")]
    NoSheets,
    #[error("judge {judge} has two sheets for this entrant")]
    DuplicateJudge { judge: UserId },
    #[error("judge {judge}'s sheet doesn't fit the criteria")]
    InvalidSheet { judge: UserId },
    #[error("the score is too large to represent")]
    Overflow,
}

/// One entrant's score from their judges' sheets (one per judge, each fitting the
/// criteria), by `method`. The arithmetic is exact on integers and rounds once, half
/// up, to a ten-thousandth of a point:
///
/// - `mean`: Σ totals ÷ judges.
/// - `trimmed_mean`: totals ordered low to high (equal totals by judge id; which of two
///   equal totals is dropped doesn't change the score).
///   - 1 judge: their total; 2: the mean.
///   - 3 judges, totals a ≤ b ≤ c: the mean of the closer pair, (a+b)/2 when b−a < c−b
///     and (b+c)/2 when c−b < b−a. When the two gaps are equal, b: the middle total,
///     which is also the mean of the two equally close pairs, so the rule leans neither
///     up nor down (picking one pair would systematically favour or penalise the
///     entrant). Only b is reported as counted.
///   - 4 or more: drop one lowest and one highest total, mean of the rest.
/// - `weighted_sum`: Σ over criteria of weight × (Σ judges' scores ÷ judges), as one
///   fraction, so the criterion means are not rounded before weighting.
pub fn aggregate(
    method: ScoringMethod,
    criteria: &[Criterion],
    sheets: &[ScoreSheet],
) -> Result<Aggregate, AggregateError> {
    if sheets.is_empty() {
        return Err(AggregateError::NoSheets);
    }
    for (i, sheet) in sheets.iter().enumerate() {
        if sheets[..i].iter().any(|s| s.judge == sheet.judge) {
            return Err(AggregateError::DuplicateJudge { judge: sheet.judge });
        }
        if sheet.validate(criteria).is_err() {
            return Err(AggregateError::InvalidSheet { judge: sheet.judge });
        }
    }
    let judges = i128::try_from(sheets.len()).map_err(|_| AggregateError::Overflow)?;
    let hundredth = i128::from(PER_HUNDREDTH);

    let mut criterion_means = BTreeMap::new();
    for c in criteria {
        let sum: i128 = sheets.iter().map(|s| i128::from(s.score(c))).sum();
        let mean = mean_of(sum, judges, hundredth)?;
        criterion_means.insert(c.key.clone(), mean);
    }

    let all = || sheets.iter().map(|s| s.judge).collect::<Vec<_>>();
    let (score, counted) = match method {
        ScoringMethod::Mean => {
            let sum: i128 = sheets.iter().map(|s| s.total(criteria)).sum();
            (mean_of(sum, judges, hundredth)?, all())
        }
        ScoringMethod::TrimmedMean => trimmed_mean(criteria, sheets, hundredth)?,
        ScoringMethod::WeightedSum => {
            let mut sum: i128 = 0;
            for c in criteria {
                for s in sheets {
                    let weighted = i128::from(c.weight_bp) * i128::from(s.score(c));
                    sum = sum.checked_add(weighted).ok_or(AggregateError::Overflow)?;
                }
            }
            // Σ w·s / (judges × WEIGHT_ONE_BP) hundredths, in ten-thousandths.
            let units = sum.checked_mul(hundredth).ok_or(AggregateError::Overflow)?;
            let per = judges
                .checked_mul(i128::from(WEIGHT_ONE_BP))
                .ok_or(AggregateError::Overflow)?;
            (to_score(ratio_half_up(units, per))?, all())
        }
    };
    Ok(Aggregate {
        score,
        criterion_means,
        counted,
    })
}

fn trimmed_mean(
    criteria: &[Criterion],
    sheets: &[ScoreSheet],
    hundredth: i128,
) -> Result<(Score, Vec<UserId>), AggregateError> {
    let mut totals: Vec<(i128, UserId)> = sheets
        .iter()
        .map(|s| (s.total(criteria), s.judge))
        .collect();
    totals.sort();
    let kept: &[(i128, UserId)] = match totals.as_slice() {
        [a, b, c] => {
            let (low_gap, high_gap) = (b.0 - a.0, c.0 - b.0);
            if low_gap < high_gap {
                &totals[..2]
            } else if high_gap < low_gap {
                &totals[1..]
            } else {
                &totals[1..2]
            }
        }
        [_, middle @ .., _] if middle.len() >= 2 => middle,
        everything => everything,
    };
    let sum: i128 = kept.iter().map(|t| t.0).sum();
    let count = i128::try_from(kept.len()).map_err(|_| AggregateError::Overflow)?;
    let score = mean_of(sum, count, hundredth)?;
    let counted = sheets
        .iter()
        .map(|s| s.judge)
        .filter(|j| kept.iter().any(|t| t.1 == *j))
        .collect();
    Ok((score, counted))
}

/// `sum_hundredths ÷ count` as a [`Score`], half up.
fn mean_of(sum_hundredths: i128, count: i128, hundredth: i128) -> Result<Score, AggregateError> {
    let units = sum_hundredths
        .checked_mul(hundredth)
        .ok_or(AggregateError::Overflow)?;
    to_score(ratio_half_up(units, count))
}

fn to_score(units: Option<i128>) -> Result<Score, AggregateError> {
    units
        .and_then(|u| i64::try_from(u).ok())
        .map(Score)
        .ok_or(AggregateError::Overflow)
}

/// Whether a judge may not score an entrant because both belong to the same
/// grassroots union, when the competition applies the rule. A judge from no union (an
/// outside expert) conflicts with nobody.
pub fn judge_conflicts(judge_union: Option<OrgId>, entrant_union: OrgId) -> bool {
    judge_union == Some(entrant_union)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use uuid::Uuid;

    /// Technique (max 50), safety (max 30), speed (max 20): 100 points in all,
    /// weighted 50% / 30% / 20%.
    pub(crate) fn criteria() -> Vec<Criterion> {
        vec![
            criterion("technique", 5_000, 5_000),
            criterion("safety", 3_000, 3_000),
            criterion("speed", 2_000, 2_000),
        ]
    }

    fn criterion(key: &str, weight_bp: u32, max_hundredths: i64) -> Criterion {
        Criterion {
            key: key.to_owned(),
            name: key.to_uppercase(),
            weight_bp,
            max_hundredths,
        }
    }

    fn judge(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    /// Judge `n`'s sheet with these technique, safety and speed scores (hundredths).
    fn sheet(n: u128, technique: i64, safety: i64, speed: i64) -> ScoreSheet {
        ScoreSheet {
            judge: judge(n),
            scores: BTreeMap::from([
                ("technique".to_owned(), technique),
                ("safety".to_owned(), safety),
                ("speed".to_owned(), speed),
            ]),
        }
    }

    /// Sheets whose totals are these, all on technique (within its maximum of 5000
    /// the rest is put on safety, then speed).
    fn totals(totals: &[i64]) -> Vec<ScoreSheet> {
        totals
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let technique = t.min(5_000);
                let safety = (t - technique).min(3_000);
                sheet(i as u128 + 1, technique, safety, t - technique - safety)
            })
            .collect()
    }

    fn score(method: ScoringMethod, sheets: &[ScoreSheet]) -> Score {
        aggregate(method, &criteria(), sheets).unwrap().score
    }

    fn counted(method: ScoringMethod, sheets: &[ScoreSheet]) -> Vec<UserId> {
        aggregate(method, &criteria(), sheets).unwrap().counted
    }

    #[test]
    fn wire_names_round_trip() {
        for m in ScoringMethod::ALL {
            assert_eq!(m.as_str().parse::<ScoringMethod>(), Ok(*m));
        }
        assert_eq!(
            serde_json::to_string(&ScoringMethod::TrimmedMean).unwrap(),
            "\"trimmed_mean\""
        );
    }

    #[test]
    fn a_criterion_left_without_a_weight_weighs_one() {
        let c: Criterion =
            serde_json::from_str(r#"{"key":"poise","name":"Poise","max_hundredths":1000}"#)
                .unwrap();
        assert_eq!(c.weight_bp, WEIGHT_ONE_BP);
    }

    #[test]
    fn criteria_need_good_keys_names_weights_and_maxima() {
        assert_eq!(validate_criteria(&criteria()), Ok(()));
        assert_eq!(validate_criteria(&[]), Ok(()));
        let bad = vec![
            criterion("technique", 1, 1),
            criterion("technique", 0, 0),
            criterion("Speed", MAX_WEIGHT_BP + 1, MAX_SCORE_HUNDREDTHS + 1),
            criterion("", MAX_WEIGHT_BP, MAX_SCORE_HUNDREDTHS),
            criterion("1st", 1, 1),
            criterion(&"k".repeat(MAX_CRITERION_KEY_CHARS + 1), 1, 1),
            Criterion {
                name: " ".to_owned(),
                ..criterion("poise", 1, 1)
            },
            Criterion {
                name: "n".repeat(MAX_CRITERION_NAME_CHARS + 1),
                ..criterion("voice", 1, 1)
            },
        ];
        let found: Vec<_> = validate_criteria(&bad)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect();
        let expected: Vec<(String, &str)> = [
            ("/criteria/1/key", "duplicate"),
            ("/criteria/1/weight_bp", "out_of_range"),
            ("/criteria/1/max_hundredths", "out_of_range"),
            ("/criteria/2/key", "invalid_key"),
            ("/criteria/2/weight_bp", "out_of_range"),
            ("/criteria/2/max_hundredths", "out_of_range"),
            ("/criteria/3/key", "required"),
            ("/criteria/3/name", "required"),
            ("/criteria/4/key", "invalid_key"),
            ("/criteria/5/key", "too_long"),
            ("/criteria/6/name", "required"),
            ("/criteria/7/name", "too_long"),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_owned(), c))
        .collect();
        assert_eq!(found, expected);

        let many: Vec<_> = (0..=MAX_CRITERIA)
            .map(|i| criterion(&format!("c{i}"), 1, 1))
            .collect();
        let problems = validate_criteria(&many).unwrap_err();
        assert_eq!(
            (problems[0].pointer.as_str(), problems[0].code),
            ("/criteria", "too_many")
        );
    }

    #[test]
    fn sheets_must_score_every_criterion_within_its_maximum() {
        let c = criteria();
        assert_eq!(sheet(1, 5_000, 0, 2_000).validate(&c), Ok(()));
        let mut bad = sheet(1, 5_001, -1, 0);
        bad.scores.remove("speed");
        bad.scores.insert("poise/~".to_owned(), 10);
        let found: Vec<_> = bad
            .validate(&c)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect();
        assert_eq!(
            found,
            vec![
                ("/scores/technique".to_owned(), "out_of_range"),
                ("/scores/safety".to_owned(), "out_of_range"),
                ("/scores/speed".to_owned(), "required"),
                ("/scores/poise~1~0".to_owned(), "unknown_criterion"),
            ]
        );
    }

    #[test]
    fn aggregation_refuses_what_it_cannot_score() {
        let c = criteria();
        assert_eq!(
            aggregate(ScoringMethod::Mean, &c, &[]),
            Err(AggregateError::NoSheets)
        );
        let twice = [sheet(1, 1, 1, 1), sheet(2, 1, 1, 1), sheet(1, 2, 2, 2)];
        assert_eq!(
            aggregate(ScoringMethod::TrimmedMean, &c, &twice),
            Err(AggregateError::DuplicateJudge { judge: judge(1) })
        );
        let over = [sheet(1, 1, 1, 1), sheet(2, 1, 3_001, 1)];
        assert_eq!(
            aggregate(ScoringMethod::WeightedSum, &c, &over),
            Err(AggregateError::InvalidSheet { judge: judge(2) })
        );
    }

    #[test]
    fn mean_averages_every_total_and_rounds_half_up() {
        use ScoringMethod::Mean;
        // One judge: their total, 87.50.
        assert_eq!(score(Mean, &totals(&[8_750])), Score(875_000));
        // Two: 80.00 and 81.01 make 80.505.
        assert_eq!(score(Mean, &totals(&[8_000, 8_101])), Score(805_050));
        // Three: 260.01 / 3 = 86.67 exactly; 260.02 / 3 = 86.67333… → 86.6733;
        // 260.00 / 3 = 86.6666… → 86.6667.
        assert_eq!(score(Mean, &totals(&[8_000, 9_000, 9_001])), Score(866_700));
        assert_eq!(score(Mean, &totals(&[8_000, 9_001, 9_001])), Score(866_733));
        assert_eq!(score(Mean, &totals(&[8_000, 9_000, 9_000])), Score(866_667));
        // Eight: a lone hundredth is 0.00125, exactly half a ten-thousandth: up.
        assert_eq!(score(Mean, &totals(&[1, 0, 0, 0, 0, 0, 0, 0])), Score(13));
        // Three hundredths over eight judges is 0.00375: up to 0.0038.
        assert_eq!(score(Mean, &totals(&[1, 1, 1, 0, 0, 0, 0, 0])), Score(38));
        assert_eq!(
            counted(Mean, &totals(&[1, 2, 3])),
            vec![judge(1), judge(2), judge(3)]
        );
    }

    #[test]
    fn trimmed_mean_with_one_or_two_judges_is_the_mean() {
        use ScoringMethod::TrimmedMean;
        assert_eq!(score(TrimmedMean, &totals(&[7_333])), Score(733_300));
        assert_eq!(score(TrimmedMean, &totals(&[8_000, 8_101])), Score(805_050));
        assert_eq!(
            counted(TrimmedMean, &totals(&[8_000, 8_101])),
            vec![judge(1), judge(2)]
        );
    }

    #[test]
    fn trimmed_mean_with_three_judges_averages_the_closest_two() {
        use ScoringMethod::TrimmedMean;
        // 70, 85, 88: 85 and 88 are closer (3 < 15).
        let upper = totals(&[7_000, 8_500, 8_800]);
        assert_eq!(score(TrimmedMean, &upper), Score(865_000));
        assert_eq!(counted(TrimmedMean, &upper), vec![judge(2), judge(3)]);
        // 84, 85, 99: 84 and 85 are closer, whatever order the sheets come in.
        let lower = totals(&[9_900, 8_500, 8_400]);
        assert_eq!(score(TrimmedMean, &lower), Score(845_000));
        assert_eq!(counted(TrimmedMean, &lower), vec![judge(2), judge(3)]);
        // Gaps differing by a hundredth still decide: 80.00, 85.00, 90.01.
        assert_eq!(
            score(TrimmedMean, &totals(&[8_000, 8_500, 9_001])),
            Score(825_000)
        );
        // Two equal totals are the closest pair: 85, 85, 60.
        assert_eq!(
            score(TrimmedMean, &totals(&[8_500, 6_000, 8_500])),
            Score(850_000)
        );
        // Equally close pairs (80, 85, 90): the middle total, not either pair's mean.
        let even = totals(&[9_000, 8_000, 8_500]);
        assert_eq!(score(TrimmedMean, &even), Score(850_000));
        assert_eq!(counted(TrimmedMean, &even), vec![judge(3)]);
        // Odd-hundredth gaps (80.01, 85.00, 89.99): still the middle, exactly.
        assert_eq!(
            score(TrimmedMean, &totals(&[8_001, 8_500, 8_999])),
            Score(850_000)
        );
        // All three equal.
        assert_eq!(
            score(TrimmedMean, &totals(&[7_777, 7_777, 7_777])),
            Score(777_700)
        );
        // The closer pair's mean may fall on a half hundredth: (85.00 + 85.01) / 2.
        assert_eq!(
            score(TrimmedMean, &totals(&[7_000, 8_500, 8_501])),
            Score(850_050)
        );
    }

    #[test]
    fn trimmed_mean_with_four_or_more_drops_one_highest_and_one_lowest() {
        use ScoringMethod::TrimmedMean;
        // 60, 80, 82, 99 → mean of 80 and 82.
        let four = totals(&[9_900, 8_000, 6_000, 8_200]);
        assert_eq!(score(TrimmedMean, &four), Score(810_000));
        assert_eq!(counted(TrimmedMean, &four), vec![judge(2), judge(4)]);
        // Five: 70, 80, 81, 83, 95 → (80 + 81 + 83) / 3 = 81.3333… → 81.3333.
        assert_eq!(
            score(TrimmedMean, &totals(&[7_000, 8_000, 8_100, 8_300, 9_500])),
            Score(813_333)
        );
        // (80 + 81 + 82) / 3 = 81 exactly; (80 + 81 + 81.02) / 3 = 80.6733….
        assert_eq!(
            score(TrimmedMean, &totals(&[1_000, 8_000, 8_100, 8_200, 9_999])),
            Score(810_000)
        );
        assert_eq!(
            score(TrimmedMean, &totals(&[1_000, 8_000, 8_100, 8_102, 9_999])),
            Score(806_733)
        );
        // A shared highest total is dropped once: 90, 90, 80, 70 → mean of 90 and 80.
        let tied_top = totals(&[9_000, 9_000, 8_000, 7_000]);
        assert_eq!(score(TrimmedMean, &tied_top), Score(850_000));
        assert_eq!(counted(TrimmedMean, &tied_top).len(), 2);
        // A shared lowest likewise: 70, 70, 80, 90 → mean of 70 and 80.
        assert_eq!(
            score(TrimmedMean, &totals(&[7_000, 7_000, 8_000, 9_000])),
            Score(750_000)
        );
        // All four equal.
        assert_eq!(
            score(TrimmedMean, &totals(&[6_543, 6_543, 6_543, 6_543])),
            Score(654_300)
        );
        // Ten judges: eight counted, half a ten-thousandth rounds up.
        assert_eq!(
            score(TrimmedMean, &totals(&[0, 1, 0, 0, 0, 0, 0, 0, 0, 5_000])),
            Score(13)
        );
    }

    #[test]
    fn weighted_sum_weights_each_criterions_mean() {
        use ScoringMethod::WeightedSum;
        // Technique 40 and 45 (mean 42.5), safety 30 and 20 (25), speed 10 and 15
        // (12.5): 0.5 × 42.5 + 0.3 × 25 + 0.2 × 12.5 = 21.25 + 7.5 + 2.5 = 31.25.
        let two = [sheet(1, 4_000, 3_000, 1_000), sheet(2, 4_500, 2_000, 1_500)];
        assert_eq!(score(WeightedSum, &two), Score(312_500));
        // Technique 10.00, 10.00, 10.01: mean 10.003333…, × 0.5 = 5.0016666… → 5.0017.
        let three = [
            sheet(1, 1_000, 0, 0),
            sheet(2, 1_000, 0, 0),
            sheet(3, 1_001, 0, 0),
        ];
        assert_eq!(score(WeightedSum, &three), Score(50_017));
        // Safety 0.01, 0, 0: mean 0.003333…, × 0.3 = 0.001 exactly. Rounding the mean
        // first (0.0033 × 0.3 = 0.00099) would lose it.
        let exact = [sheet(1, 0, 1, 0), sheet(2, 0, 0, 0), sheet(3, 0, 0, 0)];
        assert_eq!(score(WeightedSum, &exact), Score(10));
        // Weights of 1 make it the sum of the criterion means, i.e. the mean.
        let ones: Vec<_> = criteria()
            .into_iter()
            .map(|c| Criterion {
                weight_bp: WEIGHT_ONE_BP,
                ..c
            })
            .collect();
        let sheets = totals(&[7_000, 8_001, 9_002]);
        assert_eq!(
            aggregate(WeightedSum, &ones, &sheets).unwrap().score,
            score(ScoringMethod::Mean, &sheets)
        );
    }

    #[test]
    fn mean_and_trimmed_mean_ignore_weights() {
        let heavy: Vec<_> = criteria()
            .into_iter()
            .map(|c| Criterion {
                weight_bp: MAX_WEIGHT_BP,
                ..c
            })
            .collect();
        let sheets = [sheet(1, 4_000, 3_000, 1_000), sheet(2, 4_500, 2_000, 1_500)];
        for method in [ScoringMethod::Mean, ScoringMethod::TrimmedMean] {
            assert_eq!(
                aggregate(method, &heavy, &sheets).unwrap().score,
                Score(800_000)
            );
        }
    }

    #[test]
    fn criterion_means_count_every_judge() {
        let sheets = [
            sheet(1, 4_000, 3_000, 1_000),
            sheet(2, 4_500, 2_000, 1_500),
            sheet(3, 4_501, 0, 0),
        ];
        let means = aggregate(ScoringMethod::TrimmedMean, &criteria(), &sheets)
            .unwrap()
            .criterion_means;
        assert_eq!(means["technique"], Score(433_367)); // 130.01 / 3 = 43.33666…
        assert_eq!(means["safety"], Score(166_667));
        assert_eq!(means["speed"], Score(83_333));
    }

    #[test]
    fn judges_conflict_only_with_entrants_of_their_own_union() {
        let ours = OrgId(Uuid::from_u128(1));
        let theirs = OrgId(Uuid::from_u128(2));
        assert!(judge_conflicts(Some(ours), ours));
        assert!(!judge_conflicts(Some(ours), theirs));
        assert!(!judge_conflicts(None, ours));
    }
}

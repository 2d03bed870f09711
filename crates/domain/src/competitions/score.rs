//! [`Score`]: a computed score, exact to a ten-thousandth of a point, and the one
//! rounding rule every computation uses.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Ten-thousandths per point: a [`Score`] of `871_250` is 87.125 points.
///
/// Judges enter hundredths, so a mean of two judges is exact, and a mean of three or
/// more, or a weighted sum, is a fraction that four decimal places resolve far below
/// any difference a judge could mean; entrants who differ only beyond that share a rank
/// (then tie-breaks decide), which is what a person reading the results expects.
pub const SCORE_SCALE: i64 = 10_000;

/// Ten-thousandths in a hundredth of a point, the judges' unit.
pub(crate) const PER_HUNDREDTH: i64 = SCORE_SCALE / 100;

/// A computed score in ten-thousandths of a point ([`SCORE_SCALE`]). Ordered like the
/// points it stands for; serialized as the plain integer, so clients and storage never
/// meet a float.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Score(pub i64);

impl Score {
    /// Whole points, as a quiz counts them.
    pub fn from_points(points: i64) -> Option<Score> {
        points.checked_mul(SCORE_SCALE).map(Score)
    }

    /// Hundredths of a point, as judges enter them.
    pub fn from_hundredths(hundredths: i64) -> Option<Score> {
        hundredths.checked_mul(PER_HUNDREDTH).map(Score)
    }

    /// The stored and wire value: ten-thousandths of a point.
    pub fn ten_thousandths(self) -> i64 {
        self.0
    }
}

/// Points with two to four decimals, as many as it takes to be exact: `87.50`,
/// `87.125`, `86.6667`.
impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = SCORE_SCALE.unsigned_abs();
        let mut decimals = format!("{:04}", abs % scale);
        while decimals.len() > 2 && decimals.ends_with('0') {
            decimals.pop();
        }
        write!(f, "{sign}{}.{decimals}", abs / scale)
    }
}

/// `numerator / denominator`, rounded half up (for the non-negative values every use
/// passes: scores are never negative). None when `denominator` isn't positive or the
/// arithmetic doesn't fit.
pub(crate) fn ratio_half_up(numerator: i128, denominator: i128) -> Option<i128> {
    if denominator <= 0 {
        return None;
    }
    let doubled = numerator.checked_mul(2)?.checked_add(denominator)?;
    Some(doubled.div_euclid(denominator.checked_mul(2)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scores_print_as_many_decimals_as_they_need() {
        assert_eq!(Score(875_000).to_string(), "87.50");
        assert_eq!(Score(871_250).to_string(), "87.125");
        assert_eq!(Score(866_667).to_string(), "86.6667");
        assert_eq!(Score(0).to_string(), "0.00");
        assert_eq!(Score(5).to_string(), "0.0005");
        assert_eq!(Score(-5).to_string(), "-0.0005");
        assert_eq!(Score::from_hundredths(8_750).unwrap(), Score(875_000));
        assert_eq!(Score::from_points(95).unwrap(), Score(950_000));
        assert_eq!(Score::from_points(i64::MAX), None);
    }

    #[test]
    fn scores_serialize_as_integers() {
        assert_eq!(serde_json::to_string(&Score(871_250)).unwrap(), "871250");
        assert_eq!(
            serde_json::from_str::<Score>("871250").unwrap(),
            Score(871_250)
        );
    }

    #[test]
    fn ratios_round_half_up() {
        assert_eq!(ratio_half_up(7, 2), Some(4)); // 3.5
        assert_eq!(ratio_half_up(5, 4), Some(1)); // 1.25
        assert_eq!(ratio_half_up(7, 4), Some(2)); // 1.75
        assert_eq!(ratio_half_up(10, 3), Some(3)); // 3.33…
        assert_eq!(ratio_half_up(20, 3), Some(7)); // 6.66…
        assert_eq!(ratio_half_up(0, 3), Some(0));
        assert_eq!(ratio_half_up(1, 0), None);
        assert_eq!(ratio_half_up(i128::MAX, 3), None);
    }
}

//! Mutual-aid insurance: plans, who may enrol, which claims a plan accepts, and what a
//! claim pays, with every step of the arithmetic explained.
//!
//! Three kinds of plan, each with its own benefit rules held as data
//! ([`BenefitRules`]): a daily hospital allowance, accident cover (medical expenses,
//! disability, death) and critical illness. Every amount is integer fen (¥1 = 100 fen)
//! in an `i64`; intermediate products are `i128` and anything that doesn't fit back is
//! an error, never a wrap. There are no floats anywhere.
//!
//! Conventions the rest of the service relies on:
//!
//! - **Per share.** Every amount in [`BenefitRules`] is per share, except the accident
//!   `expense_deductible_fen` and `reimbursement_ratio_bp`, which apply to the claim's
//!   actual expenses (a member with more shares isn't reimbursed more than they spent;
//!   shares raise the pot the reimbursement draws on).
//! - **Days of cover.** The date cover starts is day 0; day `n` is `n` days later
//!   ([`cover_day`]). A waiting period of 30 days excludes days 0–29; a tier
//!   `from_day: 30` applies from day 30.
//! - **Term.** A plan's term runs from `term_start` to `term_end`, both inclusive.
//! - **Pots.** An enrollment has one pot per term: hospital allowance `term_cap_fen` ×
//!   shares; accident `sum_insured_fen` × shares, shared by medical, disability and
//!   death claims; critical illness pays once. Callers pass what the enrollment's
//!   approved and paid claims already took; a payout never exceeds what remains.
//! - **Rounding.** Only the accident reimbursement ratio and benefit percentages can
//!   produce a fraction of a fen; they round half up, to the fen.

mod claims;
mod enrollment;
mod payout;
mod plan;

pub use claims::{
    ApprovalProblem, ClaimAction, ClaimFacts, ClaimKind, ClaimStatus, ClaimTransitionError,
    Decision, approved_amount_check, check_claim,
};
pub use enrollment::{PaidBy, SkipReason, eligible};
pub use payout::{ExplanationLine, Payout, PayoutError, PayoutRule, compute_payout};
pub use plan::{
    BenefitRules, Eligibility, GradePercent, IllnessTier, PlanKind, PlanStatus, PlanTerms,
    standard_disability_table,
};

use chrono::NaiveDate;
use thiserror::Error;

/// Wire enums: snake_case on the wire and in storage, `as_str`, `FromStr`, `Display`
/// and `ALL` in the order the spec lists them.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in the order the spec lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

/// One thing wrong with a plan or a claim, shaped like the API's field errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// JSON Pointer to the field in the request body, e.g. `/benefits/daily_allowance_fen`.
    pub pointer: String,
    /// A stable machine-readable code (`negative`, `out_of_range`, `waiting_period` …).
    pub code: &'static str,
    /// A sentence for a person.
    pub detail: String,
}

impl FieldProblem {
    pub(crate) fn new(
        pointer: impl Into<String>,
        code: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        FieldProblem {
            pointer: pointer.into(),
            code,
            detail: detail.into(),
        }
    }
}

/// A problem with a plan's terms or benefit rules.
pub type RuleProblem = FieldProblem;

/// A reason a claim can't be filed as it stands.
pub type ClaimProblem = FieldProblem;

/// Arithmetic on amounts that would not fit in an `i64` of fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AmountError {
    #[error("the amount is too large to represent")]
    Overflow,
}

/// The day of cover `date` falls on: the cover start date is day 0, the next day is
/// day 1, and a date before cover started is negative.
pub fn cover_day(cover_start: NaiveDate, date: NaiveDate) -> i64 {
    (date - cover_start).num_days()
}

/// An amount for people: `¥4,500.00`, `-¥0.05`.
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    let yuan = (abs / 100).to_string();
    let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
    for (i, c) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", abs % 100)
}

/// `n × per_share × shares`, as `i128` so that no valid input overflows before the
/// caps apply.
pub(crate) fn times_shares(per_share: i64, n: i128, shares: u32) -> Option<i128> {
    i128::from(per_share)
        .checked_mul(n)?
        .checked_mul(i128::from(shares))
}

/// `amount × numerator / denominator`, rounded half up to the fen. Both `amount` and
/// `numerator` are non-negative in every use; `denominator` is positive.
pub(crate) fn share_of(amount: i128, numerator: i128, denominator: i128) -> Option<i128> {
    let doubled = amount.checked_mul(numerator)?.checked_mul(2)?;
    Some(doubled.checked_add(denominator)? / (2 * denominator))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn yuan_are_grouped_and_signed() {
        assert_eq!(format_yuan(0), "¥0.00");
        assert_eq!(format_yuan(5), "¥0.05");
        assert_eq!(format_yuan(5000), "¥50.00");
        assert_eq!(format_yuan(450_000), "¥4,500.00");
        assert_eq!(format_yuan(2_000_000), "¥20,000.00");
        assert_eq!(format_yuan(100_000_000), "¥1,000,000.00");
        assert_eq!(format_yuan(-5), "-¥0.05");
        assert_eq!(format_yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
    }

    #[test]
    fn cover_days_count_from_zero() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(cover_day(start, start), 0);
        assert_eq!(
            cover_day(start, NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()),
            30
        );
        assert_eq!(
            cover_day(start, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()),
            -1
        );
    }

    #[test]
    fn shares_of_an_amount_round_half_up() {
        // 80% of 333 fen is 266.4 fen.
        assert_eq!(share_of(333, 8000, 10_000), Some(266));
        // 50% of 333 fen is 166.5 fen.
        assert_eq!(share_of(333, 5000, 10_000), Some(167));
        // 0.01% of 4_999 fen is 0.4999 fen; of 5_000 fen, exactly half a fen.
        assert_eq!(share_of(4_999, 1, 10_000), Some(0));
        assert_eq!(share_of(5_000, 1, 10_000), Some(1));
        assert_eq!(share_of(0, 10_000, 10_000), Some(0));
        assert_eq!(share_of(i128::MAX, 2, 100), None);
    }
}

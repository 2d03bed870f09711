//! What a claim pays, and why, line by line.
//!
//! The lines of a [`Payout`] add up to its amount: each rule that changes the amount
//! has a line with what it adds (or, for caps, takes away), and rules that only
//! explain (deductibles, what was already paid) have a line of 0 fen. A reviewer
//! reading them top to bottom can redo the sum by hand.

use super::{
    BenefitRules, ClaimFacts, ClaimKind, PlanKind, cover_day, format_yuan, share_of, times_shares,
    wire_enum,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

wire_enum!(
    /// The rule behind an explanation line. What `quantity` counts depends on it.
    PayoutRule {
        /// Quantity: days of the stay not paid (the deductible, or the whole stay if
        /// shorter). Amount 0.
        DeductibleDays => "deductible_days",
        /// Quantity: days paid. Amount: days × daily allowance × shares.
        DailyAllowance => "daily_allowance",
        /// Quantity: the claim's cap, per-share cap × shares, in fen. Amount: minus
        /// what exceeds it.
        PerClaimCap => "per_claim_cap",
        /// Quantity: the deductible in fen. Amount 0.
        ExpenseDeductible => "expense_deductible",
        /// Quantity: the ratio in basis points. Amount: the reimbursement.
        ReimbursementRatio => "reimbursement_ratio",
        /// Quantity: the grade. Amount: its percentage of the sum insured × shares.
        DisabilityGrade => "disability_grade",
        /// Quantity: the death percentage. Amount: that much of the sum insured × shares.
        DeathBenefit => "death_benefit",
        /// Quantity: the day of cover of the diagnosis. Amount: the tier × shares.
        IllnessTier => "illness_tier",
        /// Quantity: what the enrollment already had approved or paid this term, in
        /// fen. Amount 0.
        AlreadyPaid => "already_paid",
        /// Quantity: what remained of the term's pot before this claim, in fen.
        /// Amount: minus what exceeds it.
        TermCap => "term_cap",
    }
);

/// One step of a payout calculation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplanationLine {
    pub rule: PayoutRule,
    /// Days, fen, basis points, a grade or a percentage, as [`PayoutRule`] says.
    pub quantity: i64,
    /// What this step adds to the payout; negative for a cap, 0 for an explanation.
    pub amount_fen: i64,
    /// The step in a sentence, e.g. "5 days in hospital minus 3 deductible days =
    /// 2 days × ¥50.00 × 2 shares".
    pub note: String,
}

/// What a claim pays and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payout {
    /// The sum of the lines' amounts, never negative and never more than
    /// `remaining_cap_before_fen`.
    pub amount_fen: i64,
    /// What was left of the enrollment's pot for the term before this claim.
    pub remaining_cap_before_fen: i64,
    pub lines: Vec<ExplanationLine>,
}

/// Why a payout couldn't be computed. Each is something [`check_claim`] or plan
/// validation refuses first; seeing one here means a caller skipped that step.
///
/// [`check_claim`]: super::check_claim
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PayoutError {
    #[error("the plan's benefit rules are not valid")]
    InvalidRules,
    #[error("{plan} plans don't pay {claim} claims")]
    KindNotCovered { plan: PlanKind, claim: ClaimKind },
    /// The pointer of a fact that is missing or out of range for the claim's kind.
    #[error("{0} is missing or out of range")]
    BadFact(&'static str),
    #[error("the amount already paid can't be negative")]
    NegativeAlreadyPaid,
    #[error("the amount is too large to represent")]
    Overflow,
}

/// What a claim with these `facts` pays on an enrollment of `shares` shares under
/// `rules`, given that the enrollment's approved and paid claims have already taken
/// `already_paid_fen` this term (one pot per enrollment and term; for accident plans
/// medical, disability and death claims share it).
///
/// - Hospital stay: (days − deductible days, at least 0) × daily allowance × shares;
///   then at most `per_claim_cap_fen` × shares; then at most what remains of
///   `term_cap_fen` × shares.
/// - Accident medical: (expenses − deductible, at least 0) × ratio, rounded half up
///   to the fen (not multiplied by shares: you can't be reimbursed more than you
///   spent); then at most what remains of `sum_insured_fen` × shares.
/// - Accident disability / death: the grade's (or the death) percentage of
///   `sum_insured_fen` × shares, rounded half up; then at most what remains.
/// - Critical illness: the tier in force on the diagnosis's day of cover (day 0 is
///   `cover_start`) × shares, once per term: anything already paid leaves nothing.
pub fn compute_payout(
    rules: &BenefitRules,
    shares: u32,
    facts: &ClaimFacts,
    cover_start: NaiveDate,
    already_paid_fen: i64,
) -> Result<Payout, PayoutError> {
    if rules.validate().is_err() {
        return Err(PayoutError::InvalidRules);
    }
    if !rules.kind().accepts(facts.kind) {
        return Err(PayoutError::KindNotCovered {
            plan: rules.kind(),
            claim: facts.kind,
        });
    }
    if already_paid_fen < 0 {
        return Err(PayoutError::NegativeAlreadyPaid);
    }
    let already_paid = i128::from(already_paid_fen);
    let mut lines = Vec::new();
    let per_share = rules.coverage_per_share_fen();
    let pot = times_shares(per_share, 1, shares).ok_or(PayoutError::Overflow)?;
    let gross = match rules {
        BenefitRules::HospitalAllowance {
            daily_allowance_fen,
            deductible_days,
            per_claim_cap_fen,
            ..
        } => {
            let days = facts
                .hospital_days
                .filter(|d| *d > 0)
                .ok_or(PayoutError::BadFact("/hospital_days"))?;
            let deductible = i128::from(*deductible_days);
            let deducted = deductible.min(i128::from(days));
            let paid_days = i128::from(days) - deducted;
            lines.push(line(
                PayoutRule::DeductibleDays,
                deducted,
                0,
                format!(
                    "the first {} of each stay are not paid",
                    count(deductible, "day")
                ),
            )?);
            let allowance = times_shares(*daily_allowance_fen, paid_days, shares)
                .ok_or(PayoutError::Overflow)?;
            lines.push(line(
                PayoutRule::DailyAllowance,
                paid_days,
                allowance,
                format!(
                    "{} in hospital minus {} = {} × {} × {}",
                    count(i128::from(days), "day"),
                    count(deducted, "deductible day"),
                    count(paid_days, "day"),
                    format_yuan(*daily_allowance_fen),
                    count(i128::from(shares), "share"),
                ),
            )?);
            match *per_claim_cap_fen {
                Some(cap_per_share) => {
                    let cap =
                        times_shares(cap_per_share, 1, shares).ok_or(PayoutError::Overflow)?;
                    if allowance > cap {
                        lines.push(line(
                            PayoutRule::PerClaimCap,
                            cap,
                            cap - allowance,
                            format!(
                                "a stay pays at most {} × {} = {}; {} above that is not paid",
                                format_yuan(cap_per_share),
                                count(i128::from(shares), "share"),
                                yuan(cap)?,
                                yuan(allowance - cap)?,
                            ),
                        )?);
                        cap
                    } else {
                        allowance
                    }
                }
                None => allowance,
            }
        }
        BenefitRules::Accident {
            sum_insured_fen,
            expense_deductible_fen,
            reimbursement_ratio_bp,
            death_percent,
            ..
        } => match facts.kind {
            ClaimKind::AccidentMedical => {
                let expenses = facts
                    .expenses_fen
                    .filter(|e| *e >= 0)
                    .ok_or(PayoutError::BadFact("/expenses_fen"))?;
                let above = (i128::from(expenses) - i128::from(*expense_deductible_fen)).max(0);
                lines.push(line(
                    PayoutRule::ExpenseDeductible,
                    i128::from(*expense_deductible_fen),
                    0,
                    if above > 0 {
                        format!(
                            "expenses of {} minus the {} deductible = {}",
                            format_yuan(expenses),
                            format_yuan(*expense_deductible_fen),
                            yuan(above)?,
                        )
                    } else {
                        format!(
                            "expenses of {} don't exceed the {} deductible",
                            format_yuan(expenses),
                            format_yuan(*expense_deductible_fen),
                        )
                    },
                )?);
                let ratio = i128::from(*reimbursement_ratio_bp);
                let reimbursed = share_of(above, ratio, 10_000).ok_or(PayoutError::Overflow)?;
                lines.push(line(
                    PayoutRule::ReimbursementRatio,
                    ratio,
                    reimbursed,
                    format!(
                        "{} of {} = {}, rounded half up to the fen",
                        percent_of_bp(*reimbursement_ratio_bp),
                        yuan(above)?,
                        yuan(reimbursed)?,
                    ),
                )?);
                reimbursed
            }
            ClaimKind::AccidentDisability => {
                let grade = facts
                    .disability_grade
                    .ok_or(PayoutError::BadFact("/disability_grade"))?;
                let percent = rules
                    .disability_percent(grade)
                    .ok_or(PayoutError::BadFact("/disability_grade"))?;
                let amount =
                    share_of(pot, i128::from(percent), 100).ok_or(PayoutError::Overflow)?;
                lines.push(line(
                    PayoutRule::DisabilityGrade,
                    i128::from(grade),
                    amount,
                    format!(
                        "grade {grade} disability pays {percent}% of the sum insured, {} × {}",
                        format_yuan(*sum_insured_fen),
                        count(i128::from(shares), "share"),
                    ),
                )?);
                amount
            }
            ClaimKind::AccidentDeath => {
                let percent = *death_percent;
                let amount =
                    share_of(pot, i128::from(percent), 100).ok_or(PayoutError::Overflow)?;
                lines.push(line(
                    PayoutRule::DeathBenefit,
                    i128::from(percent),
                    amount,
                    format!(
                        "death pays {percent}% of the sum insured, {} × {}",
                        format_yuan(*sum_insured_fen),
                        count(i128::from(shares), "share"),
                    ),
                )?);
                amount
            }
            other => {
                return Err(PayoutError::KindNotCovered {
                    plan: PlanKind::Accident,
                    claim: other,
                });
            }
        },
        BenefitRules::CriticalIllness { tiers } => {
            let day = cover_day(cover_start, facts.incident_date);
            if day < 0 {
                return Err(PayoutError::BadFact("/incident_date"));
            }
            let (amount, note) = match rules.illness_tier_on(day) {
                Some(tier) => (
                    times_shares(tier.amount_per_share_fen, 1, shares)
                        .ok_or(PayoutError::Overflow)?,
                    format!(
                        "diagnosed on day {day} of cover: the tier from day {} pays {} × {}",
                        tier.from_day,
                        format_yuan(tier.amount_per_share_fen),
                        count(i128::from(shares), "share"),
                    ),
                ),
                None => (
                    0,
                    format!(
                        "diagnosed on day {day} of cover, before the first tier (from day {}): \
                         nothing is paid",
                        tiers.first().map_or(0, |t| t.from_day)
                    ),
                ),
            };
            lines.push(line(
                PayoutRule::IllnessTier,
                i128::from(day),
                amount,
                note,
            )?);
            amount
        }
    };

    let once_per_term = rules.kind() == PlanKind::CriticalIllness;
    let remaining = if once_per_term && already_paid > 0 {
        0
    } else {
        (pot - already_paid).max(0)
    };
    if already_paid > 0 {
        let note = if once_per_term {
            format!(
                "critical illness pays once per term, and {} has already been approved or paid",
                yuan(already_paid)?
            )
        } else {
            format!(
                "{} of this term's {} ({} × {}) is already approved or paid; {} remains",
                yuan(already_paid)?,
                pot_name(rules),
                format_yuan(per_share),
                count(i128::from(shares), "share"),
                yuan(remaining)?,
            )
        };
        lines.push(line(PayoutRule::AlreadyPaid, already_paid, 0, note)?);
    }
    let amount = if gross > remaining {
        lines.push(line(
            PayoutRule::TermCap,
            remaining,
            remaining - gross,
            if remaining == 0 {
                format!("nothing remains this term; {} is not paid", yuan(gross)?)
            } else {
                format!(
                    "only {} remains this term; {} above that is not paid",
                    yuan(remaining)?,
                    yuan(gross - remaining)?,
                )
            },
        )?);
        remaining
    } else {
        gross
    };
    Ok(Payout {
        amount_fen: fen(amount)?,
        remaining_cap_before_fen: fen(remaining)?,
        lines,
    })
}

fn line(
    rule: PayoutRule,
    quantity: i128,
    amount: i128,
    note: String,
) -> Result<ExplanationLine, PayoutError> {
    Ok(ExplanationLine {
        rule,
        quantity: fen(quantity)?,
        amount_fen: fen(amount)?,
        note,
    })
}

fn fen(amount: i128) -> Result<i64, PayoutError> {
    i64::try_from(amount).map_err(|_| PayoutError::Overflow)
}

fn yuan(amount: i128) -> Result<String, PayoutError> {
    fen(amount).map(format_yuan)
}

fn pot_name(rules: &BenefitRules) -> &'static str {
    match rules {
        BenefitRules::HospitalAllowance { .. } => "cap",
        BenefitRules::Accident { .. } => "sum insured",
        BenefitRules::CriticalIllness { .. } => "cover",
    }
}

/// "1 day", "3 days".
fn count(n: i128, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// 8000 → "80%", 8050 → "80.5%", 8055 → "80.55%".
fn percent_of_bp(bp: i32) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    match frac {
        0 => format!("{whole}%"),
        f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::plan::tests::{
        accident_rules, accident_rules_with, day, hospital_rules, hospital_rules_with,
        illness_rules,
    };
    use super::*;
    use chrono::Days;

    fn cover() -> NaiveDate {
        day(2026, 1, 1)
    }

    fn stay(days: u32) -> ClaimFacts {
        ClaimFacts {
            kind: ClaimKind::HospitalStay,
            incident_date: day(2026, 5, 1),
            hospital_days: Some(days),
            expenses_fen: None,
            disability_grade: None,
            diagnosis: None,
        }
    }

    fn accident(kind: ClaimKind) -> ClaimFacts {
        ClaimFacts { kind, ..stay(1) }
    }

    /// Checks the lines add up and no payout exceeds what remained, then hands it back.
    fn pay(rules: &BenefitRules, shares: u32, facts: &ClaimFacts, already_paid: i64) -> Payout {
        let payout = compute_payout(rules, shares, facts, cover(), already_paid).unwrap();
        let sum: i64 = payout.lines.iter().map(|l| l.amount_fen).sum();
        assert_eq!(sum, payout.amount_fen, "{payout:#?}");
        assert!(payout.amount_fen >= 0);
        assert!(payout.amount_fen <= payout.remaining_cap_before_fen);
        payout
    }

    fn rules_of(payout: &Payout) -> Vec<(PayoutRule, i64, i64)> {
        payout
            .lines
            .iter()
            .map(|l| (l.rule, l.quantity, l.amount_fen))
            .collect()
    }

    #[test]
    fn a_stay_of_exactly_the_deductible_days_pays_nothing_and_one_more_pays_a_day() {
        use PayoutRule::*;
        let three = pay(&hospital_rules(), 1, &stay(3), 0);
        assert_eq!(three.amount_fen, 0);
        assert_eq!(
            rules_of(&three),
            vec![(DeductibleDays, 3, 0), (DailyAllowance, 0, 0)]
        );
        let four = pay(&hospital_rules(), 1, &stay(4), 0);
        assert_eq!(four.amount_fen, 5_000);
        assert_eq!(
            four.lines[1].note,
            "4 days in hospital minus 3 deductible days = 1 day × ¥50.00 × 1 share"
        );
        let one = pay(&hospital_rules(), 2, &stay(1), 0);
        assert_eq!(
            rules_of(&one),
            vec![(DeductibleDays, 1, 0), (DailyAllowance, 0, 0)]
        );
        assert_eq!(
            one.lines[1].note,
            "1 day in hospital minus 1 deductible day = 0 days × ¥50.00 × 2 shares"
        );
    }

    #[test]
    fn five_days_on_two_shares_pays_two_days_twice() {
        let payout = pay(&hospital_rules(), 2, &stay(5), 0);
        assert_eq!(payout.amount_fen, 20_000);
        assert_eq!(payout.remaining_cap_before_fen, 900_000);
        assert_eq!(
            payout.lines[0].note,
            "the first 3 days of each stay are not paid"
        );
        assert_eq!(
            payout.lines[1].note,
            "5 days in hospital minus 3 deductible days = 2 days × ¥50.00 × 2 shares"
        );
        assert_eq!(
            serde_json::to_value(&payout.lines[1]).unwrap(),
            serde_json::json!({
                "rule": "daily_allowance",
                "quantity": 2,
                "amount_fen": 20000,
                "note": "5 days in hospital minus 3 deductible days = 2 days × ¥50.00 × 2 shares"
            })
        );
    }

    #[test]
    fn the_term_cap_holds_across_claims() {
        use PayoutRule::*;
        // ¥9,000 cap on 2 shares, ¥8,900 already taken: a ¥200 stay gets ¥100.
        let payout = pay(&hospital_rules(), 2, &stay(5), 890_000);
        assert_eq!(payout.amount_fen, 10_000);
        assert_eq!(payout.remaining_cap_before_fen, 10_000);
        assert_eq!(
            rules_of(&payout),
            vec![
                (DeductibleDays, 3, 0),
                (DailyAllowance, 2, 20_000),
                (AlreadyPaid, 890_000, 0),
                (TermCap, 10_000, -10_000),
            ]
        );
        assert_eq!(
            payout.lines[2].note,
            "¥8,900.00 of this term's cap (¥4,500.00 × 2 shares) is already approved or paid; ¥100.00 remains"
        );
        assert_eq!(
            payout.lines[3].note,
            "only ¥100.00 remains this term; ¥100.00 above that is not paid"
        );

        // Exactly what remains: no cap line.
        let exact = pay(&hospital_rules(), 2, &stay(5), 880_000);
        assert_eq!(exact.amount_fen, 20_000);
        assert!(exact.lines.iter().all(|l| l.rule != TermCap));

        // Exhausted, or (inconsistent data) overdrawn: nothing.
        for paid in [900_000, 1_000_000] {
            let nothing = pay(&hospital_rules(), 2, &stay(5), paid);
            assert_eq!(nothing.amount_fen, 0);
            assert_eq!(nothing.remaining_cap_before_fen, 0);
            assert_eq!(
                nothing.lines.last().unwrap().note,
                "nothing remains this term; ¥200.00 is not paid"
            );
        }

        // A long stay on a fresh enrollment stops at the cap: 100 days pay 97 × ¥50
        // = ¥4,850 against ¥4,500.
        let long = pay(&hospital_rules(), 1, &stay(100), 0);
        assert_eq!(long.amount_fen, 450_000);
        assert_eq!(long.lines.last().unwrap().amount_fen, -35_000);
    }

    #[test]
    fn the_per_claim_cap_applies_before_the_term_cap() {
        use PayoutRule::*;
        let rules = hospital_rules_with(5_000, 3, 450_000, Some(10_000));
        // 10 days: 7 × ¥50 × 2 = ¥700, capped at ¥100 × 2 = ¥200.
        let payout = pay(&rules, 2, &stay(10), 0);
        assert_eq!(payout.amount_fen, 20_000);
        assert_eq!(
            rules_of(&payout),
            vec![
                (DeductibleDays, 3, 0),
                (DailyAllowance, 7, 70_000),
                (PerClaimCap, 20_000, -50_000),
            ]
        );
        assert_eq!(
            payout.lines[2].note,
            "a stay pays at most ¥100.00 × 2 shares = ¥200.00; ¥500.00 above that is not paid"
        );
        // 5 days: 2 × ¥50 × 2 = ¥200, exactly the per-claim cap: no cap line.
        let exact = pay(&rules, 2, &stay(5), 0);
        assert_eq!(exact.amount_fen, 20_000);
        assert_eq!(exact.lines.len(), 2);
        // Both caps: ¥50 of the term remains.
        let both = pay(&rules, 2, &stay(10), 895_000);
        assert_eq!(both.amount_fen, 5_000);
        assert_eq!(
            rules_of(&both)[2..],
            [
                (PerClaimCap, 20_000, -50_000),
                (AlreadyPaid, 895_000, 0),
                (TermCap, 5_000, -15_000),
            ]
        );
    }

    #[test]
    fn medical_expenses_are_reimbursed_above_the_deductible_rounded_half_up() {
        use PayoutRule::*;
        let rules = accident_rules(); // ¥100 deductible, 80%
        let mut claim = accident(ClaimKind::AccidentMedical);

        // 333 fen above the deductible: 80% is 266.4 fen → 266.
        claim.expenses_fen = Some(10_333);
        let payout = pay(&rules, 2, &claim, 0);
        assert_eq!(payout.amount_fen, 266);
        assert_eq!(
            rules_of(&payout),
            vec![
                (ExpenseDeductible, 10_000, 0),
                (ReimbursementRatio, 8_000, 266)
            ]
        );
        assert_eq!(
            payout.lines[0].note,
            "expenses of ¥103.33 minus the ¥100.00 deductible = ¥3.33"
        );
        assert_eq!(
            payout.lines[1].note,
            "80% of ¥3.33 = ¥2.66, rounded half up to the fen"
        );
        // Shares raise the pot, not the reimbursement.
        assert_eq!(payout.remaining_cap_before_fen, 4_000_000);
        assert_eq!(pay(&rules, 1, &claim, 0).amount_fen, 266);

        // Half a fen rounds up: 50% of 333 fen is 166.5 → 167; 33.33% of 3 fen is
        // 0.9999 → 1.
        let half = accident_rules_with(2_000_000, 10_000, 5_000, 100);
        assert_eq!(pay(&half, 1, &claim, 0).amount_fen, 167);
        let third = accident_rules_with(2_000_000, 10_000, 3_333, 100);
        claim.expenses_fen = Some(10_003);
        let payout = pay(&third, 1, &claim, 0);
        assert_eq!(payout.amount_fen, 1);
        assert_eq!(
            payout.lines[1].note,
            "33.33% of ¥0.03 = ¥0.01, rounded half up to the fen"
        );

        // At or under the deductible: nothing.
        for expenses in [0, 9_999, 10_000] {
            claim.expenses_fen = Some(expenses);
            assert_eq!(pay(&rules, 1, &claim, 0).amount_fen, 0, "{expenses}");
        }
        claim.expenses_fen = Some(5_000);
        assert_eq!(
            pay(&rules, 1, &claim, 0).lines[0].note,
            "expenses of ¥50.00 don't exceed the ¥100.00 deductible"
        );
        // 100% of everything above the deductible.
        let full = accident_rules_with(2_000_000, 10_000, 10_000, 100);
        claim.expenses_fen = Some(123_456);
        assert_eq!(pay(&full, 1, &claim, 0).amount_fen, 113_456);
    }

    #[test]
    fn disability_pays_the_graded_share_of_the_sum_insured() {
        let rules = accident_rules();
        let mut claim = accident(ClaimKind::AccidentDisability);
        claim.disability_grade = Some(1);
        let grade1 = pay(&rules, 2, &claim, 0);
        assert_eq!(grade1.amount_fen, 4_000_000);
        assert_eq!(
            grade1.lines[0].note,
            "grade 1 disability pays 100% of the sum insured, ¥20,000.00 × 2 shares"
        );
        claim.disability_grade = Some(10);
        let grade10 = pay(&rules, 2, &claim, 0);
        assert_eq!(
            rules_of(&grade10),
            vec![(PayoutRule::DisabilityGrade, 10, 400_000)]
        );
        for bad in [None, Some(0), Some(11)] {
            claim.disability_grade = bad;
            assert_eq!(
                compute_payout(&rules, 2, &claim, cover(), 0),
                Err(PayoutError::BadFact("/disability_grade"))
            );
        }
    }

    #[test]
    fn percentages_of_the_sum_insured_round_half_up() {
        let odd = accident_rules_with(2_005, 10_000, 8_000, 100);
        let mut claim = accident(ClaimKind::AccidentDisability);
        // Grade 10 pays 10%: of 2,005 fen that is 200.5 fen → 201; of 2,004, 200.4 → 200.
        claim.disability_grade = Some(10);
        assert_eq!(pay(&odd, 1, &claim, 0).amount_fen, 201);
        let odd = accident_rules_with(2_004, 10_000, 8_000, 100);
        assert_eq!(pay(&odd, 1, &claim, 0).amount_fen, 200);
    }

    #[test]
    fn accident_claims_share_one_pot() {
        use PayoutRule::*;
        let rules = accident_rules();
        let death = accident(ClaimKind::AccidentDeath);
        let fresh = pay(&rules, 2, &death, 0);
        assert_eq!(rules_of(&fresh), vec![(DeathBenefit, 100, 4_000_000)]);
        assert_eq!(
            fresh.lines[0].note,
            "death pays 100% of the sum insured, ¥20,000.00 × 2 shares"
        );
        // ¥39,000 of ¥40,000 already went on medical bills and a disability.
        let after = pay(&rules, 2, &death, 3_900_000);
        assert_eq!(after.amount_fen, 100_000);
        assert_eq!(
            rules_of(&after),
            vec![
                (DeathBenefit, 100, 4_000_000),
                (AlreadyPaid, 3_900_000, 0),
                (TermCap, 100_000, -3_900_000),
            ]
        );
        assert_eq!(
            after.lines[1].note,
            "¥39,000.00 of this term's sum insured (¥20,000.00 × 2 shares) is already approved or paid; ¥1,000.00 remains"
        );
        let half_death = accident_rules_with(2_000_000, 10_000, 8_000, 50);
        assert_eq!(pay(&half_death, 1, &death, 0).amount_fen, 1_000_000);
    }

    #[test]
    fn illness_tiers_on_days_29_30_90_91() {
        let rules = illness_rules();
        let diagnosed = |day_of_cover: u64| ClaimFacts {
            kind: ClaimKind::CriticalIllness,
            incident_date: cover().checked_add_days(Days::new(day_of_cover)).unwrap(),
            diagnosis: Some("stroke".into()),
            ..stay(1)
        };
        assert_eq!(diagnosed(90).incident_date, day(2026, 4, 1));
        for (d, per_share) in [(0, 0), (29, 0), (30, 50_000), (90, 50_000), (91, 1_000_000)] {
            let payout = pay(&rules, 2, &diagnosed(d), 0);
            assert_eq!(payout.amount_fen, per_share * 2, "day {d}");
            assert_eq!(payout.lines[0].rule, PayoutRule::IllnessTier);
            assert_eq!(payout.lines[0].quantity, d as i64);
            assert_eq!(payout.remaining_cap_before_fen, 2_000_000);
        }
        assert_eq!(
            pay(&rules, 2, &diagnosed(29), 0).lines[0].note,
            "diagnosed on day 29 of cover, before the first tier (from day 30): nothing is paid"
        );
        assert_eq!(
            pay(&rules, 2, &diagnosed(30), 0).lines[0].note,
            "diagnosed on day 30 of cover: the tier from day 30 pays ¥500.00 × 2 shares"
        );
        assert_eq!(
            pay(&rules, 1, &diagnosed(91), 0).lines[0].note,
            "diagnosed on day 91 of cover: the tier from day 91 pays ¥10,000.00 × 1 share"
        );
        let before_cover = ClaimFacts {
            incident_date: day(2025, 12, 31),
            ..diagnosed(0)
        };
        assert_eq!(
            compute_payout(&rules, 1, &before_cover, cover(), 0),
            Err(PayoutError::BadFact("/incident_date"))
        );
    }

    #[test]
    fn critical_illness_pays_once_per_term() {
        use PayoutRule::*;
        let rules = illness_rules();
        let claim = ClaimFacts {
            kind: ClaimKind::CriticalIllness,
            incident_date: day(2026, 6, 1),
            diagnosis: Some("stroke".into()),
            ..stay(1)
        };
        // A ¥500 payout earlier in the term leaves nothing for the ¥10,000 tier.
        let payout = pay(&rules, 1, &claim, 50_000);
        assert_eq!(payout.amount_fen, 0);
        assert_eq!(payout.remaining_cap_before_fen, 0);
        assert_eq!(
            rules_of(&payout),
            vec![
                (IllnessTier, 151, 1_000_000),
                (AlreadyPaid, 50_000, 0),
                (TermCap, 0, -1_000_000),
            ]
        );
        assert_eq!(
            payout.lines[1].note,
            "critical illness pays once per term, and ¥500.00 has already been approved or paid"
        );
    }

    #[test]
    fn bad_inputs_are_refused_not_guessed() {
        let rules = hospital_rules();
        assert_eq!(
            compute_payout(&rules, 1, &accident(ClaimKind::AccidentDeath), cover(), 0),
            Err(PayoutError::KindNotCovered {
                plan: PlanKind::HospitalAllowance,
                claim: ClaimKind::AccidentDeath
            })
        );
        for days in [None, Some(0)] {
            let claim = ClaimFacts {
                hospital_days: days,
                ..stay(1)
            };
            assert_eq!(
                compute_payout(&rules, 1, &claim, cover(), 0),
                Err(PayoutError::BadFact("/hospital_days"))
            );
        }
        assert_eq!(
            compute_payout(&rules, 1, &stay(5), cover(), -1),
            Err(PayoutError::NegativeAlreadyPaid)
        );
        let invalid = hospital_rules_with(-1, 3, 450_000, None);
        assert_eq!(
            compute_payout(&invalid, 1, &stay(5), cover(), 0),
            Err(PayoutError::InvalidRules)
        );
        let medical = accident(ClaimKind::AccidentMedical);
        let accident_rules = accident_rules();
        for expenses in [None, Some(-1)] {
            let claim = ClaimFacts {
                expenses_fen: expenses,
                ..medical.clone()
            };
            assert_eq!(
                compute_payout(&accident_rules, 1, &claim, cover(), 0),
                Err(PayoutError::BadFact("/expenses_fen"))
            );
        }
    }

    #[test]
    fn amounts_too_large_to_represent_are_an_error() {
        let rules = hospital_rules_with(i64::MAX / 2, 0, i64::MAX, None);
        // One day fits; three days of allowance don't.
        assert_eq!(pay(&rules, 1, &stay(1), 0).amount_fen, i64::MAX / 2);
        assert_eq!(
            compute_payout(&rules, 1, &stay(3), cover(), 0),
            Err(PayoutError::Overflow)
        );
        // The largest numbers of days and shares don't overflow in the arithmetic
        // itself, only when the line can't be written down.
        assert_eq!(
            compute_payout(&hospital_rules(), u32::MAX, &stay(u32::MAX), cover(), 0),
            Err(PayoutError::Overflow)
        );
        // A pot beyond i64 (more shares than any valid plan allows) is refused too.
        let huge = accident_rules_with(i64::MAX, 10_000, 8_000, 100);
        let mut claim = accident(ClaimKind::AccidentMedical);
        claim.expenses_fen = Some(20_000);
        assert_eq!(
            compute_payout(&huge, 2, &claim, cover(), 0),
            Err(PayoutError::Overflow)
        );
    }

    #[test]
    fn bp_render_as_percentages() {
        assert_eq!(percent_of_bp(8_000), "80%");
        assert_eq!(percent_of_bp(8_050), "80.5%");
        assert_eq!(percent_of_bp(8_055), "80.55%");
        assert_eq!(percent_of_bp(5), "0.05%");
        assert_eq!(percent_of_bp(10_000), "100%");
    }
}

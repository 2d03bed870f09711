//! Labour-dispute mediation: the cases a mediation room takes in, how they move from
//! receipt to a closing outcome, the fifteen-day rule after which the parties may go
//! to arbitration, and the arithmetic of the success rate.
//!
//! Conventions the rest of the service relies on:
//!
//! - **States.** `received → in_mediation → closed`. Assigning a mediator to a
//!   received case starts the mediation ([`CaseAction::Assign`]); more mediators may
//!   join while it lasts. A closed case never changes again.
//! - **Outcomes.** Only a mediation can end in `agreement` or `no_agreement`, so those
//!   need a case `in_mediation`; `withdrawn` and `referred_to_court` may also close a
//!   case nobody has mediated yet ([`CaseAction::Close`]). An agreement records the
//!   agreed amount (zero or more, and it may exceed the claim: agreements can add
//!   compensation the worker never claimed); other outcomes carry no amount.
//! - **Days.** "Today" is the local date in the room organisation's time zone
//!   ([`today_in`]); the day a case is received is day 0 ([`days_since_received`]).
//! - **The fifteen-day rule** (Labour Dispute Mediation and Arbitration Law, art. 14:
//!   if no agreement is reached within fifteen days of the mediation organisation
//!   receiving the application, the parties may apply for arbitration). A case is
//!   flagged [`may_proceed_to_arbitration`] from day 15 on unless it closed with an
//!   agreement or was withdrawn: an open case, one closed without agreement and one
//!   referred to court are all flagged from day 15. Storage filters with the same
//!   rule through [`arbitration_cutoff`].
//! - **Success rate** = agreements ÷ (closed − withdrawn): a withdrawn case was never
//!   decided either way. Shown as a percentage with two decimals, rounded half up
//!   ([`percent_half_up`]); no rate when nothing was decided.
//! - **Money** is integer fen, `0..=`[`MAX_AMOUNT_FEN`].

use crate::insurance::{FieldProblem, wire_enum};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use std::fmt;
use thiserror::Error;

/// Days after receipt from which the parties may apply for arbitration (art. 14).
pub const ARBITRATION_WAITING_DAYS: i64 = 15;

/// The largest amount a case may claim or agree: ¥10,000,000,000. Sums over a
/// million such cases still fit an `i64`.
pub const MAX_AMOUNT_FEN: i64 = 1_000_000_000_000;

wire_enum!(
    /// What the dispute is about.
    CaseCategory {
        /// Unpaid or underpaid wages.
        Wages => "wages",
        /// Social insurance contributions not paid or not registered.
        SocialInsurance => "social_insurance",
        /// A work injury or occupational disease.
        Injury => "injury",
        /// Dismissal, or the end of a contract and its compensation.
        ContractTermination => "contract_termination",
        Other => "other",
    }
);

wire_enum!(
    /// How the case reached the mediation room.
    Channel {
        WalkIn => "walk_in",
        /// Sent by a court for pre-litigation mediation (诉调对接).
        CourtReferral => "court_referral",
        Hotline => "hotline",
        Online => "online",
    }
);

wire_enum!(
    /// Where a case stands: `received → in_mediation → closed`.
    CaseStatus {
        Received => "received",
        InMediation => "in_mediation",
        Closed => "closed",
    }
);

wire_enum!(
    /// How a closed case ended.
    Outcome {
        /// The parties signed a mediation agreement.
        Agreement => "agreement",
        /// Mediation ended without agreement.
        NoAgreement => "no_agreement",
        /// The applicant withdrew the application.
        Withdrawn => "withdrawn",
        /// Sent (back) to the court.
        ReferredToCourt => "referred_to_court",
    }
);

wire_enum!(
    /// The capacity a mediator serves a case in.
    MediatorRole {
        Lawyer => "lawyer",
        LabourRelationsCoordinator => "labour_relations_coordinator",
        /// Occupational health and safety engineer, for injury cases above all.
        HealthEngineer => "health_engineer",
    }
);

impl Outcome {
    /// Whether the outcome needs a mediation to have taken place.
    pub fn needs_mediation(self) -> bool {
        matches!(self, Outcome::Agreement | Outcome::NoAgreement)
    }

    /// Whether a case closed this way is out of the fifteen-day rule: the parties
    /// agreed, or the applicant gave up.
    pub fn ends_the_dispute(self) -> bool {
        matches!(self, Outcome::Agreement | Outcome::Withdrawn)
    }
}

// ─── Transitions ────────────────────────────────────────────────────────────

/// Something that moves a case along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseAction {
    /// A mediator is assigned.
    Assign,
    /// The case closes with an outcome.
    Close(Outcome),
}

impl CaseAction {
    /// The status after this action from `from`, or why it isn't allowed.
    pub fn apply(self, from: CaseStatus) -> Result<CaseStatus, TransitionError> {
        use CaseStatus::*;
        let to = match (self, from) {
            (CaseAction::Assign, Received | InMediation) => Some(InMediation),
            (CaseAction::Close(outcome), Received) if !outcome.needs_mediation() => Some(Closed),
            (CaseAction::Close(_), InMediation) => Some(Closed),
            _ => None,
        };
        to.ok_or(TransitionError { from, action: self })
    }
}

/// Why a case can't move: it names the state the case is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub struct TransitionError {
    pub from: CaseStatus,
    pub action: CaseAction,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.from, self.action) {
            (CaseStatus::Closed, CaseAction::Assign) => {
                f.write_str("the case is closed, so no mediator can be assigned")
            }
            (CaseStatus::Closed, CaseAction::Close(_)) => {
                f.write_str("the case is closed already; its outcome can't change")
            }
            (status, CaseAction::Close(outcome)) => write!(
                f,
                "the case is {}, so it can't close with {outcome}: assign a mediator first",
                status.in_words()
            ),
            (status, CaseAction::Assign) => {
                write!(
                    f,
                    "the case is {}; no mediator can be assigned",
                    status.in_words()
                )
            }
        }
    }
}

impl CaseStatus {
    fn in_words(self) -> &'static str {
        match self {
            CaseStatus::InMediation => "in mediation",
            other => other.as_str(),
        }
    }
}

// ─── Input rules ────────────────────────────────────────────────────────────

/// An amount claimed or agreed: zero up to [`MAX_AMOUNT_FEN`]. `pointer` names the
/// body field.
pub fn check_amount(pointer: &str, fen: i64) -> Result<(), FieldProblem> {
    if fen < 0 {
        Err(FieldProblem::new(
            pointer,
            "negative",
            format!("must be zero or more, not {fen}"),
        ))
    } else if fen > MAX_AMOUNT_FEN {
        Err(FieldProblem::new(
            pointer,
            "out_of_range",
            format!("must be at most {MAX_AMOUNT_FEN} fen"),
        ))
    } else {
        Ok(())
    }
}

/// The day a case was received: not after `today` (the room's local date).
pub fn check_received_on(received_on: NaiveDate, today: NaiveDate) -> Result<(), FieldProblem> {
    if received_on > today {
        Err(FieldProblem::new(
            "/received_on",
            "in_future",
            format!("the case can't be received on {received_on}, after today ({today})"),
        ))
    } else {
        Ok(())
    }
}

/// The amount an outcome records: required (and within range) for an agreement,
/// forbidden otherwise. Problems point at `/agreed_fen`.
pub fn check_outcome(outcome: Outcome, agreed_fen: Option<i64>) -> Result<(), FieldProblem> {
    match (outcome, agreed_fen) {
        (Outcome::Agreement, None) => Err(FieldProblem::new(
            "/agreed_fen",
            "required",
            "an agreement records the agreed amount (0 if nothing is paid)",
        )),
        (Outcome::Agreement, Some(fen)) => check_amount("/agreed_fen", fen),
        (other, Some(_)) => Err(FieldProblem::new(
            "/agreed_fen",
            "forbidden",
            format!("only an agreement records an amount, not {other}"),
        )),
        (_, None) => Ok(()),
    }
}

/// When a case closes: today, but never before the day it was received (which a
/// room in a time zone behind the one the case was dated in could otherwise see).
pub fn closed_on(received_on: NaiveDate, today: NaiveDate) -> NaiveDate {
    today.max(received_on)
}

// ─── The fifteen-day rule ───────────────────────────────────────────────────

/// The local date in `tz` at `now`: the room's "today".
pub fn today_in(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// Days from receipt to `today`; the day of receipt is day 0.
pub fn days_since_received(received_on: NaiveDate, today: NaiveDate) -> i64 {
    (today - received_on).num_days()
}

/// The latest receipt date that has reached day 15 by `today`: cases received on or
/// before it may be flagged. `None` only at the edge of the calendar.
pub fn arbitration_cutoff(today: NaiveDate) -> Option<NaiveDate> {
    today.checked_sub_signed(TimeDelta::days(ARBITRATION_WAITING_DAYS))
}

/// Day 15 of a case: from this date the parties may apply for arbitration unless it
/// closed with an agreement or a withdrawal. `None` only at the edge of the calendar.
pub fn arbitration_opens_on(received_on: NaiveDate) -> Option<NaiveDate> {
    received_on.checked_add_signed(TimeDelta::days(ARBITRATION_WAITING_DAYS))
}

/// Whether the parties may now apply for arbitration under the fifteen-day rule: day
/// 15 or later, and the case did not close with an agreement or a withdrawal.
pub fn may_proceed_to_arbitration(
    received_on: NaiveDate,
    outcome: Option<Outcome>,
    today: NaiveDate,
) -> bool {
    days_since_received(received_on, today) >= ARBITRATION_WAITING_DAYS
        && !outcome.is_some_and(Outcome::ends_the_dispute)
}

// ─── Figures ────────────────────────────────────────────────────────────────

/// `numerator ÷ denominator` as a percentage with two decimals, rounded half up
/// (`292 ÷ 417` is 70.0239…% → `"70.02"`). `None` when the denominator is 0 or
/// either side is negative (no rate exists).
pub fn percent_half_up(numerator: i64, denominator: i64) -> Option<String> {
    if denominator <= 0 || numerator < 0 {
        return None;
    }
    // Hundredths of a percent: n × 10 000 / d, half up, in i128 so nothing overflows.
    let (n, d) = (i128::from(numerator), i128::from(denominator));
    let hundredths = (n * 10_000 * 2 + d) / (2 * d);
    Some(format!("{}.{:02}", hundredths / 100, hundredths % 100))
}

/// A success rate with the counts it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessRate {
    /// Cases closed with an agreement.
    pub numerator: i64,
    /// Cases closed other than by withdrawal.
    pub denominator: i64,
    /// The percentage with two decimals; `None` when the denominator is 0.
    pub percent: Option<String>,
}

/// What a set of cases adds up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases received (every case in the set).
    pub accepted: i64,
    /// Of those, closed with any outcome.
    pub closed: i64,
    /// Closed with an agreement.
    pub agreements: i64,
    /// Closed by withdrawal.
    pub withdrawn: i64,
    /// The sum of the amounts claimed.
    pub claimed_fen: i64,
    /// The sum of the amounts agreed.
    pub agreed_fen: i64,
}

impl Tally {
    /// Adds `count` cases with the same outcome (`None`: still open) and their sums.
    pub fn add(&mut self, outcome: Option<Outcome>, count: i64, claimed_fen: i64, agreed_fen: i64) {
        self.accepted += count;
        self.claimed_fen += claimed_fen;
        self.agreed_fen += agreed_fen;
        if let Some(outcome) = outcome {
            self.closed += count;
            match outcome {
                Outcome::Agreement => self.agreements += count,
                Outcome::Withdrawn => self.withdrawn += count,
                Outcome::NoAgreement | Outcome::ReferredToCourt => {}
            }
        }
    }

    /// Adds another tally's cases.
    pub fn absorb(&mut self, other: &Tally) {
        self.accepted += other.accepted;
        self.closed += other.closed;
        self.agreements += other.agreements;
        self.withdrawn += other.withdrawn;
        self.claimed_fen += other.claimed_fen;
        self.agreed_fen += other.agreed_fen;
    }

    /// Cases not closed yet.
    pub fn open(&self) -> i64 {
        self.accepted - self.closed
    }

    /// Agreements ÷ (closed − withdrawn).
    pub fn success_rate(&self) -> SuccessRate {
        let denominator = self.closed - self.withdrawn;
        SuccessRate {
            numerator: self.agreements,
            denominator,
            percent: percent_half_up(self.agreements, denominator),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn wire_names_round_trip() {
        for c in CaseCategory::ALL {
            assert_eq!(c.as_str().parse::<CaseCategory>(), Ok(*c));
        }
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(*c));
        }
        for s in CaseStatus::ALL {
            assert_eq!(s.as_str().parse::<CaseStatus>(), Ok(*s));
        }
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(*o));
        }
        for r in MediatorRole::ALL {
            assert_eq!(r.as_str().parse::<MediatorRole>(), Ok(*r));
        }
        assert_eq!(
            serde_json::to_string(&MediatorRole::LabourRelationsCoordinator).unwrap(),
            "\"labour_relations_coordinator\""
        );
        assert!("arbitration".parse::<Outcome>().is_err());
    }

    #[test]
    fn day_14_is_not_flagged_and_day_15_is() {
        let received = day(2026, 11, 1);
        assert!(!may_proceed_to_arbitration(
            received,
            None,
            day(2026, 11, 15)
        )); // day 14
        assert!(may_proceed_to_arbitration(
            received,
            None,
            day(2026, 11, 16)
        )); // day 15
        assert!(may_proceed_to_arbitration(received, None, day(2027, 1, 1)));
        assert!(!may_proceed_to_arbitration(received, None, received)); // day 0
        assert_eq!(days_since_received(received, day(2026, 11, 15)), 14);
        assert_eq!(days_since_received(received, day(2026, 11, 16)), 15);
        assert_eq!(arbitration_opens_on(received), Some(day(2026, 11, 16)));
        assert_eq!(arbitration_opens_on(NaiveDate::MAX), None);
    }

    #[test]
    fn the_days_cross_month_year_and_leap_day() {
        // 2028 is a leap year: Feb 20 + 15 days is Mar 6, passing Feb 29.
        let received = day(2028, 2, 20);
        assert!(!may_proceed_to_arbitration(received, None, day(2028, 3, 5)));
        assert!(may_proceed_to_arbitration(received, None, day(2028, 3, 6)));
        let received = day(2026, 12, 20);
        assert!(!may_proceed_to_arbitration(received, None, day(2027, 1, 3)));
        assert!(may_proceed_to_arbitration(received, None, day(2027, 1, 4)));
    }

    #[test]
    fn only_an_agreement_or_a_withdrawal_ends_the_rule() {
        let received = day(2026, 11, 1);
        let day_15 = day(2026, 11, 16);
        for (outcome, flagged) in [
            (Some(Outcome::Agreement), false),
            (Some(Outcome::Withdrawn), false),
            (Some(Outcome::NoAgreement), true),
            (Some(Outcome::ReferredToCourt), true),
            (None, true),
        ] {
            assert_eq!(
                may_proceed_to_arbitration(received, outcome, day_15),
                flagged,
                "{outcome:?}"
            );
            // Before day 15 nothing is flagged, whatever the outcome.
            assert!(!may_proceed_to_arbitration(
                received,
                outcome,
                day(2026, 11, 15)
            ));
        }
    }

    #[test]
    fn the_cutoff_is_the_last_flagged_receipt_date() {
        let today = day(2026, 11, 30);
        let cutoff = arbitration_cutoff(today).unwrap();
        assert_eq!(cutoff, day(2026, 11, 15));
        assert!(may_proceed_to_arbitration(cutoff, None, today));
        assert!(!may_proceed_to_arbitration(
            cutoff.succ_opt().unwrap(),
            None,
            today
        ));
        assert_eq!(arbitration_cutoff(NaiveDate::MIN), None);
    }

    #[test]
    fn today_is_the_rooms_local_date() {
        // 16:30 UTC on Nov 15 is 00:30 on Nov 16 in Shanghai, still Nov 15 in London.
        let now = DateTime::parse_from_rfc3339("2026-11-15T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(today_in(chrono_tz::Asia::Shanghai, now), day(2026, 11, 16));
        assert_eq!(today_in(chrono_tz::Europe::London, now), day(2026, 11, 15));
        // So a case received on Nov 1 is on day 15 in Shanghai, day 14 in London.
        let received = day(2026, 11, 1);
        assert!(may_proceed_to_arbitration(
            received,
            None,
            today_in(chrono_tz::Asia::Shanghai, now)
        ));
        assert!(!may_proceed_to_arbitration(
            received,
            None,
            today_in(chrono_tz::Europe::London, now)
        ));
    }

    #[test]
    fn cases_move_from_receipt_to_closing() {
        use CaseAction::*;
        use CaseStatus::*;
        assert_eq!(Assign.apply(Received), Ok(InMediation));
        assert_eq!(Assign.apply(InMediation), Ok(InMediation));
        assert!(Assign.apply(Closed).is_err());
        for outcome in Outcome::ALL {
            assert_eq!(Close(*outcome).apply(InMediation), Ok(Closed));
            assert!(Close(*outcome).apply(Closed).is_err());
            assert_eq!(
                Close(*outcome).apply(Received).is_ok(),
                !outcome.needs_mediation(),
                "{outcome}"
            );
        }
        assert_eq!(
            Close(Outcome::Agreement)
                .apply(Received)
                .unwrap_err()
                .to_string(),
            "the case is received, so it can't close with agreement: assign a mediator first"
        );
        assert_eq!(
            Close(Outcome::Withdrawn)
                .apply(Closed)
                .unwrap_err()
                .to_string(),
            "the case is closed already; its outcome can't change"
        );
        assert_eq!(
            Assign.apply(Closed).unwrap_err().to_string(),
            "the case is closed, so no mediator can be assigned"
        );
    }

    #[test]
    fn an_agreement_needs_an_amount_and_nothing_else_takes_one() {
        assert_eq!(check_outcome(Outcome::Agreement, Some(0)), Ok(()));
        assert_eq!(
            check_outcome(Outcome::Agreement, Some(MAX_AMOUNT_FEN)),
            Ok(())
        );
        let code = |o, fen| check_outcome(o, fen).unwrap_err().code;
        assert_eq!(code(Outcome::Agreement, None), "required");
        assert_eq!(code(Outcome::Agreement, Some(-1)), "negative");
        assert_eq!(
            code(Outcome::Agreement, Some(MAX_AMOUNT_FEN + 1)),
            "out_of_range"
        );
        for other in [
            Outcome::NoAgreement,
            Outcome::Withdrawn,
            Outcome::ReferredToCourt,
        ] {
            assert_eq!(check_outcome(other, None), Ok(()));
            assert_eq!(code(other, Some(0)), "forbidden");
        }
        assert_eq!(
            check_outcome(Outcome::NoAgreement, Some(5))
                .unwrap_err()
                .pointer,
            "/agreed_fen"
        );
    }

    #[test]
    fn amounts_and_receipt_dates_are_checked() {
        assert_eq!(check_amount("/claimed_fen", 0), Ok(()));
        assert_eq!(
            check_amount("/claimed_fen", -1).unwrap_err().code,
            "negative"
        );
        let today = day(2026, 11, 30);
        assert_eq!(check_received_on(today, today), Ok(()));
        let future = check_received_on(day(2026, 12, 1), today).unwrap_err();
        assert_eq!(
            (future.pointer.as_str(), future.code),
            ("/received_on", "in_future")
        );
        assert_eq!(closed_on(day(2026, 11, 1), today), today);
        assert_eq!(closed_on(day(2026, 12, 1), today), day(2026, 12, 1));
    }

    #[test]
    fn the_pilot_rate_is_70_02() {
        assert_eq!(percent_half_up(292, 417).as_deref(), Some("70.02"));
        // The headline figure: 5,643 resolved of 6,436 accepted.
        assert_eq!(percent_half_up(5_643, 6_436).as_deref(), Some("87.68"));
    }

    #[test]
    fn rates_round_half_up_to_two_decimals() {
        assert_eq!(percent_half_up(1, 3).as_deref(), Some("33.33"));
        assert_eq!(percent_half_up(2, 3).as_deref(), Some("66.67"));
        // Exactly half a hundredth rounds up: 1/800 = 0.125%, 1/1600 = 0.0625%.
        assert_eq!(percent_half_up(1, 800).as_deref(), Some("0.13"));
        assert_eq!(percent_half_up(1, 1_600).as_deref(), Some("0.06"));
        assert_eq!(percent_half_up(1, 8).as_deref(), Some("12.50"));
        assert_eq!(percent_half_up(0, 5).as_deref(), Some("0.00"));
        assert_eq!(percent_half_up(5, 5).as_deref(), Some("100.00"));
        assert_eq!(percent_half_up(1, 0), None);
        assert_eq!(percent_half_up(0, 0), None);
        assert_eq!(percent_half_up(-1, 5), None);
        assert_eq!(
            percent_half_up(i64::MAX, i64::MAX).as_deref(),
            Some("100.00")
        );
    }

    #[test]
    fn a_tally_leaves_withdrawals_out_of_the_rate() {
        let mut t = Tally::default();
        t.add(Some(Outcome::Agreement), 292, 29_200_000, 20_000_000);
        t.add(Some(Outcome::NoAgreement), 100, 10_000_000, 0);
        t.add(Some(Outcome::ReferredToCourt), 25, 2_500_000, 0);
        t.add(Some(Outcome::Withdrawn), 18, 1_800_000, 0);
        t.add(None, 20, 2_000_000, 0);
        assert_eq!(
            t,
            Tally {
                accepted: 455,
                closed: 435,
                agreements: 292,
                withdrawn: 18,
                claimed_fen: 45_500_000,
                agreed_fen: 20_000_000,
            }
        );
        assert_eq!(t.open(), 20);
        assert_eq!(
            t.success_rate(),
            SuccessRate {
                numerator: 292,
                denominator: 417,
                percent: Some("70.02".into()),
            }
        );
        let mut sum = Tally::default();
        sum.absorb(&t);
        sum.absorb(&t);
        assert_eq!(sum.accepted, 910);
        assert_eq!(sum.success_rate().denominator, 834);
    }

    #[test]
    fn no_decided_case_means_no_rate() {
        let mut t = Tally::default();
        assert_eq!(t.success_rate().percent, None);
        t.add(Some(Outcome::Withdrawn), 3, 0, 0);
        t.add(None, 2, 0, 0);
        let rate = t.success_rate();
        assert_eq!(
            (rate.numerator, rate.denominator, rate.percent),
            (0, 0, None)
        );
    }
}

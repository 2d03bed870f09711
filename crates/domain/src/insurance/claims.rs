//! Claims: their kinds, the facts a member files, whether a claim can be filed at all,
//! how it moves from submission to payment, and what a reviewer may approve.

use super::{ClaimProblem, PlanKind, PlanTerms, cover_day, format_yuan, wire_enum};
use chrono::NaiveDate;
use std::fmt;
use thiserror::Error;

wire_enum!(
    /// What a claim is for. Each belongs to one [`PlanKind`].
    ClaimKind {
        /// A hospital stay, under a hospital allowance plan.
        HospitalStay => "hospital_stay",
        /// Medical expenses after an accident.
        AccidentMedical => "accident_medical",
        /// Disability after an accident, assessed at a grade 1–10.
        AccidentDisability => "accident_disability",
        /// Death in an accident.
        AccidentDeath => "accident_death",
        /// Diagnosis of a critical illness.
        CriticalIllness => "critical_illness",
    }
);

impl ClaimKind {
    /// The kind of plan that pays this claim.
    pub fn plan_kind(self) -> PlanKind {
        match self {
            ClaimKind::HospitalStay => PlanKind::HospitalAllowance,
            ClaimKind::AccidentMedical
            | ClaimKind::AccidentDisability
            | ClaimKind::AccidentDeath => PlanKind::Accident,
            ClaimKind::CriticalIllness => PlanKind::CriticalIllness,
        }
    }

    /// Whether the plan's waiting period can exclude this claim. Accidents are
    /// exempt: nobody can be "already ill" with an accident before enrolling, which is
    /// what a waiting period guards against. This is a fixed rule, not a plan setting.
    pub fn waiting_period_applies(self) -> bool {
        self.plan_kind() != PlanKind::Accident
    }
}

/// What a member files. Which of the optional facts are needed depends on the kind;
/// facts a kind doesn't read are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimFacts {
    pub kind: ClaimKind,
    /// The day of the accident, admission to hospital, or diagnosis.
    pub incident_date: NaiveDate,
    /// Days in hospital, counted as the hospital's bill counts them (`hospital_stay`).
    pub hospital_days: Option<u32>,
    /// Medical expenses (`accident_medical`).
    pub expenses_fen: Option<i64>,
    /// The assessed disability grade, 1–10 (`accident_disability`).
    pub disability_grade: Option<u8>,
    /// The diagnosis (`critical_illness`).
    pub diagnosis: Option<String>,
}

/// Every reason a claim can't be filed under `plan` by an enrollment whose cover
/// started on `cover_start`, as of `today`. Each problem points at the claim body's
/// field (`/kind`, `/incident_date`, `/hospital_days` …). Codes:
///
/// - `kind_not_covered`: the plan doesn't pay this kind of claim;
/// - `in_future`: the incident is after `today`;
/// - `outside_term`: the incident is outside the plan's term;
/// - `before_cover`: the incident is within the term but before this enrollment's cover;
/// - `waiting_period`: a first enrollment, a kind the waiting period applies to, and
///   the incident on days `0..waiting_days` of cover;
/// - `required`: a fact this kind needs is missing (a blank diagnosis counts as missing);
/// - `negative`, `out_of_range`: a fact is present but impossible (expenses below
///   zero, a stay of 0 days, a grade outside 1–10).
///
/// Duplicate claims are storage's to detect.
pub fn check_claim(
    plan: &PlanTerms,
    cover_start: NaiveDate,
    first_enrollment: bool,
    facts: &ClaimFacts,
    today: NaiveDate,
) -> Result<(), Vec<ClaimProblem>> {
    let mut problems = Vec::new();
    let kind = facts.kind;
    if !plan.kind().accepts(kind) {
        let pays: Vec<&str> = plan
            .kind()
            .claim_kinds()
            .iter()
            .map(|k| k.as_str())
            .collect();
        problems.push(ClaimProblem::new(
            "/kind",
            "kind_not_covered",
            format!(
                "{} plans don't pay {kind} claims; they pay {}",
                plan.kind(),
                pays.join(", ")
            ),
        ));
    }

    let date = facts.incident_date;
    if date > today {
        problems.push(ClaimProblem::new(
            "/incident_date",
            "in_future",
            format!("the incident date {date} is after today ({today})"),
        ));
    }
    if !plan.in_term(date) {
        problems.push(ClaimProblem::new(
            "/incident_date",
            "outside_term",
            format!(
                "the incident date {date} is outside the plan's term, {} to {}",
                plan.term_start, plan.term_end
            ),
        ));
    } else if date < cover_start {
        problems.push(ClaimProblem::new(
            "/incident_date",
            "before_cover",
            format!("the incident date {date} is before cover started on {cover_start}"),
        ));
    }
    let day = cover_day(cover_start, date);
    if first_enrollment
        && kind.waiting_period_applies()
        && (0..i64::from(plan.waiting_days)).contains(&day)
    {
        problems.push(ClaimProblem::new(
            "/incident_date",
            "waiting_period",
            format!(
                "the incident fell on day {day} of cover, within the {}-day waiting period \
                 of a first enrollment (days 0 to {})",
                plan.waiting_days,
                plan.waiting_days - 1
            ),
        ));
    }

    match (kind, facts.hospital_days) {
        (ClaimKind::HospitalStay, None) => problems.push(required("/hospital_days", kind)),
        (_, Some(0)) => problems.push(ClaimProblem::new(
            "/hospital_days",
            "out_of_range",
            "a stay is at least 1 day",
        )),
        _ => {}
    }
    match (kind, facts.expenses_fen) {
        (ClaimKind::AccidentMedical, None) => problems.push(required("/expenses_fen", kind)),
        (_, Some(fen)) if fen < 0 => problems.push(ClaimProblem::new(
            "/expenses_fen",
            "negative",
            format!("must be zero or more, not {fen}"),
        )),
        _ => {}
    }
    match (kind, facts.disability_grade) {
        (ClaimKind::AccidentDisability, None) => {
            problems.push(required("/disability_grade", kind));
        }
        (_, Some(grade)) if !(1..=10).contains(&grade) => problems.push(ClaimProblem::new(
            "/disability_grade",
            "out_of_range",
            format!("disability grade must be 1 to 10, not {grade}"),
        )),
        _ => {}
    }
    if kind == ClaimKind::CriticalIllness
        && facts
            .diagnosis
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
    {
        problems.push(required("/diagnosis", kind));
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn required(pointer: &str, kind: ClaimKind) -> ClaimProblem {
    let field = pointer.trim_start_matches('/');
    ClaimProblem::new(pointer, "required", format!("{kind} claims need {field}"))
}

wire_enum!(
    /// Where a claim stands: `submitted → under_review → approved | rejected |
    /// returned`, `approved → paid`, and a returned claim comes back as `submitted`.
    ClaimStatus {
        Submitted => "submitted",
        UnderReview => "under_review",
        Approved => "approved",
        Rejected => "rejected",
        /// Sent back to the member for more facts or documents.
        Returned => "returned",
        Paid => "paid",
    }
);

impl ClaimStatus {
    /// Whether a claim in this state has taken its amount from the enrollment's pot:
    /// the sum of these is the `already_paid_fen` the payout rules need.
    pub fn counts_against_cap(self) -> bool {
        matches!(self, ClaimStatus::Approved | ClaimStatus::Paid)
    }

    fn in_words(self) -> &'static str {
        match self {
            ClaimStatus::UnderReview => "under review",
            other => other.as_str(),
        }
    }
}

wire_enum!(
    /// A reviewer's decision on a submitted or under-review claim.
    Decision {
        Approve => "approve",
        Reject => "reject",
        /// Send back to the member, who may resubmit.
        Return => "return",
    }
);

impl Decision {
    /// The status the decision leads to.
    pub fn outcome(self) -> ClaimStatus {
        match self {
            Decision::Approve => ClaimStatus::Approved,
            Decision::Reject => ClaimStatus::Rejected,
            Decision::Return => ClaimStatus::Returned,
        }
    }

    /// Whether the decision needs a reason whatever the amount: the member is owed
    /// an explanation of a refusal or a return. (An approval needs one only when it
    /// lowers the payout; see [`approved_amount_check`].)
    pub fn reason_required(self) -> bool {
        matches!(self, Decision::Reject | Decision::Return)
    }

    /// The status after deciding a claim in `from`.
    pub fn apply(self, from: ClaimStatus) -> Result<ClaimStatus, ClaimTransitionError> {
        ClaimAction::Decide(self).apply(from)
    }
}

/// Something that moves a claim along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimAction {
    /// A reviewer takes up a submitted claim.
    StartReview,
    /// A reviewer decides a submitted or under-review claim.
    Decide(Decision),
    /// The member files a returned claim again.
    Resubmit,
    /// The payment of an approved claim is recorded.
    Pay,
}

impl ClaimAction {
    fn past_participle(self) -> &'static str {
        match self {
            ClaimAction::StartReview => "taken up for review",
            ClaimAction::Decide(Decision::Approve) => "approved",
            ClaimAction::Decide(Decision::Reject) => "rejected",
            ClaimAction::Decide(Decision::Return) => "returned",
            ClaimAction::Resubmit => "resubmitted",
            ClaimAction::Pay => "paid",
        }
    }

    /// The status after this action from `from`, or why it isn't allowed.
    pub fn apply(self, from: ClaimStatus) -> Result<ClaimStatus, ClaimTransitionError> {
        use ClaimStatus::*;
        let to = match (self, from) {
            (ClaimAction::StartReview, Submitted) => Some(UnderReview),
            (ClaimAction::Decide(d), Submitted | UnderReview) => Some(d.outcome()),
            (ClaimAction::Resubmit, Returned) => Some(Submitted),
            (ClaimAction::Pay, Approved) => Some(Paid),
            _ => None,
        };
        to.ok_or(ClaimTransitionError { from, action: self })
    }
}

/// Why a claim can't move: it names the state the claim is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub struct ClaimTransitionError {
    pub from: ClaimStatus,
    pub action: ClaimAction,
}

impl fmt::Display for ClaimTransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the claim is {}, so it can't be {}",
            self.from.in_words(),
            self.action.past_participle()
        )
    }
}

/// Why an approved amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ApprovalProblem {
    #[error("approved_fen can't be negative")]
    Negative,
    #[error(
        "approved_fen can't be more than the rules pay for this claim now, {}",
        format_yuan(*computed_fen)
    )]
    AboveComputed { computed_fen: i64 },
    #[error("approving less than the rules pay needs a reason")]
    ReasonRequired,
}

impl ApprovalProblem {
    /// The decision body's field at fault.
    pub fn pointer(self) -> &'static str {
        match self {
            ApprovalProblem::Negative | ApprovalProblem::AboveComputed { .. } => "/approved_fen",
            ApprovalProblem::ReasonRequired => "/reason",
        }
    }

    /// A stable machine-readable code for API error details.
    pub fn code(self) -> &'static str {
        match self {
            ApprovalProblem::Negative => "negative",
            ApprovalProblem::AboveComputed { .. } => "above_computed",
            ApprovalProblem::ReasonRequired => "required",
        }
    }
}

/// The amount an approval grants. `computed_fen` is [`compute_payout`]'s amount
/// worked out at decision time against what the enrollment has already had approved
/// or paid, so it is already within the remaining cap.
///
/// No `requested_fen`: the computed amount. A lower one needs a non-blank reason; a
/// higher one is refused (the rules, not the reviewer, set the ceiling).
///
/// [`compute_payout`]: super::compute_payout
pub fn approved_amount_check(
    computed_fen: i64,
    requested_fen: Option<i64>,
    reason: Option<&str>,
) -> Result<i64, ApprovalProblem> {
    let Some(requested) = requested_fen else {
        return Ok(computed_fen);
    };
    if requested < 0 {
        Err(ApprovalProblem::Negative)
    } else if requested > computed_fen {
        Err(ApprovalProblem::AboveComputed { computed_fen })
    } else if requested < computed_fen && reason.is_none_or(|r| r.trim().is_empty()) {
        Err(ApprovalProblem::ReasonRequired)
    } else {
        Ok(requested)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::plan::tests::{accident_plan, day, hospital_plan, illness_plan};
    use super::*;

    fn facts(kind: ClaimKind, incident_date: NaiveDate) -> ClaimFacts {
        ClaimFacts {
            kind,
            incident_date,
            hospital_days: None,
            expenses_fen: None,
            disability_grade: None,
            diagnosis: None,
        }
    }

    fn codes(result: Result<(), Vec<ClaimProblem>>) -> Vec<(String, &'static str)> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect()
    }

    fn owned(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        list.iter().map(|(p, c)| (p.to_string(), *c)).collect()
    }

    /// Cover starts with the term.
    fn cover() -> NaiveDate {
        day(2026, 1, 1)
    }

    #[test]
    fn wire_names_round_trip() {
        for k in ClaimKind::ALL {
            assert_eq!(k.as_str().parse::<ClaimKind>(), Ok(*k));
        }
        for s in ClaimStatus::ALL {
            assert_eq!(s.as_str().parse::<ClaimStatus>(), Ok(*s));
            assert_eq!(s.to_string(), s.as_str());
        }
        for d in Decision::ALL {
            assert_eq!(d.as_str().parse::<Decision>(), Ok(*d));
        }
        assert_eq!(
            serde_json::to_string(&ClaimStatus::UnderReview).unwrap(),
            "\"under_review\""
        );
    }

    #[test]
    fn a_complete_claim_in_cover_passes() {
        let today = day(2026, 6, 1);
        let mut stay = facts(ClaimKind::HospitalStay, day(2026, 5, 1));
        stay.hospital_days = Some(5);
        assert_eq!(
            check_claim(&hospital_plan(), cover(), true, &stay, today),
            Ok(())
        );

        let mut medical = facts(ClaimKind::AccidentMedical, day(2026, 5, 1));
        medical.expenses_fen = Some(0);
        assert_eq!(
            check_claim(&accident_plan(), cover(), true, &medical, today),
            Ok(())
        );

        let mut illness = facts(ClaimKind::CriticalIllness, day(2026, 5, 1));
        illness.diagnosis = Some("acute myocardial infarction".into());
        assert_eq!(
            check_claim(&illness_plan(), cover(), true, &illness, today),
            Ok(())
        );

        let death = facts(ClaimKind::AccidentDeath, today);
        assert_eq!(
            check_claim(&accident_plan(), cover(), true, &death, today),
            Ok(())
        );
    }

    #[test]
    fn every_reason_is_reported_at_once() {
        // An accident claim on a hospital plan, in the future, missing its expenses,
        // with a stay of 0 days and grade 11 thrown in.
        let today = day(2026, 1, 10);
        let mut claim = facts(ClaimKind::AccidentMedical, day(2026, 1, 11));
        claim.hospital_days = Some(0);
        claim.disability_grade = Some(11);
        let problems = check_claim(&hospital_plan(), cover(), true, &claim, today).unwrap_err();
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.pointer.as_str(), p.code))
                .collect::<Vec<_>>(),
            vec![
                ("/kind", "kind_not_covered"),
                ("/incident_date", "in_future"),
                ("/hospital_days", "out_of_range"),
                ("/expenses_fen", "required"),
                ("/disability_grade", "out_of_range"),
            ]
        );
        assert_eq!(
            problems[0].detail,
            "hospital_allowance plans don't pay accident_medical claims; they pay hospital_stay"
        );
        assert_eq!(
            problems[3].detail,
            "accident_medical claims need expenses_fen"
        );
    }

    #[test]
    fn each_kind_requires_its_facts() {
        let today = day(2026, 12, 31);
        let when = day(2026, 6, 1);
        let check = |plan: &PlanTerms, claim: &ClaimFacts| {
            codes(check_claim(plan, cover(), false, claim, today))
        };
        assert_eq!(
            check(&hospital_plan(), &facts(ClaimKind::HospitalStay, when)),
            owned(&[("/hospital_days", "required")])
        );
        assert_eq!(
            check(&accident_plan(), &facts(ClaimKind::AccidentMedical, when)),
            owned(&[("/expenses_fen", "required")])
        );
        assert_eq!(
            check(
                &accident_plan(),
                &facts(ClaimKind::AccidentDisability, when)
            ),
            owned(&[("/disability_grade", "required")])
        );
        let mut blank = facts(ClaimKind::CriticalIllness, when);
        blank.diagnosis = Some("  ".into());
        assert_eq!(
            check(&illness_plan(), &blank),
            owned(&[("/diagnosis", "required")])
        );

        let mut negative = facts(ClaimKind::AccidentMedical, when);
        negative.expenses_fen = Some(-1);
        assert_eq!(
            check(&accident_plan(), &negative),
            owned(&[("/expenses_fen", "negative")])
        );
        for (grade, ok) in [(0, false), (1, true), (10, true), (11, false)] {
            let mut claim = facts(ClaimKind::AccidentDisability, when);
            claim.disability_grade = Some(grade);
            let expected = if ok {
                vec![]
            } else {
                owned(&[("/disability_grade", "out_of_range")])
            };
            assert_eq!(check(&accident_plan(), &claim), expected, "grade {grade}");
        }
    }

    #[test]
    fn incidents_must_fall_within_the_term_and_the_cover() {
        let plan = accident_plan();
        let today = day(2027, 3, 1);
        let cover_start = day(2026, 3, 1);
        let death = |date| facts(ClaimKind::AccidentDeath, date);
        let check = |date| codes(check_claim(&plan, cover_start, true, &death(date), today));
        assert_eq!(
            check(day(2025, 12, 31)),
            owned(&[("/incident_date", "outside_term")])
        );
        assert_eq!(
            check(day(2027, 1, 1)),
            owned(&[("/incident_date", "outside_term")])
        );
        assert_eq!(
            check(day(2026, 2, 28)),
            owned(&[("/incident_date", "before_cover")])
        );
        assert_eq!(check(day(2026, 3, 1)), vec![]);
        assert_eq!(check(day(2026, 12, 31)), vec![]);
        // Today is fine; tomorrow is not.
        let today = day(2026, 6, 1);
        assert_eq!(
            codes(check_claim(&plan, cover_start, true, &death(today), today)),
            vec![]
        );
        assert_eq!(
            codes(check_claim(
                &plan,
                cover_start,
                true,
                &death(day(2026, 6, 2)),
                today
            )),
            owned(&[("/incident_date", "in_future")])
        );
    }

    #[test]
    fn the_waiting_period_covers_days_0_to_29_of_a_first_enrollment() {
        let plan = hospital_plan(); // waiting_days: 30
        let today = day(2026, 12, 31);
        let stay = |date| ClaimFacts {
            hospital_days: Some(5),
            ..facts(ClaimKind::HospitalStay, date)
        };
        let waiting = owned(&[("/incident_date", "waiting_period")]);
        let check = |date, first| codes(check_claim(&plan, cover(), first, &stay(date), today));
        assert_eq!(check(day(2026, 1, 1), true), waiting); // day 0
        assert_eq!(check(day(2026, 1, 30), true), waiting); // day 29
        assert_eq!(check(day(2026, 1, 31), true), vec![]); // day 30
        // A renewal has no waiting period.
        assert_eq!(check(day(2026, 1, 1), false), vec![]);
        let problems =
            check_claim(&plan, cover(), true, &stay(day(2026, 1, 13)), today).unwrap_err();
        assert_eq!(
            problems[0].detail,
            "the incident fell on day 12 of cover, within the 30-day waiting period \
             of a first enrollment (days 0 to 29)"
        );

        // Critical illness waits too; no waiting days, no waiting.
        let mut illness = facts(ClaimKind::CriticalIllness, day(2026, 1, 5));
        illness.diagnosis = Some("stroke".into());
        assert_eq!(
            codes(check_claim(&illness_plan(), cover(), true, &illness, today)),
            waiting
        );
        let mut no_wait = illness_plan();
        no_wait.waiting_days = 0;
        assert_eq!(
            codes(check_claim(&no_wait, cover(), true, &illness, today)),
            vec![]
        );
    }

    #[test]
    fn accidents_never_wait() {
        let plan = accident_plan(); // waiting_days: 30, ignored
        let today = day(2026, 12, 31);
        for kind in PlanKind::Accident.claim_kinds() {
            assert!(!kind.waiting_period_applies());
            let claim = ClaimFacts {
                expenses_fen: Some(1_000),
                disability_grade: Some(5),
                ..facts(*kind, cover())
            };
            assert_eq!(
                codes(check_claim(&plan, cover(), true, &claim, today)),
                vec![]
            );
        }
        assert!(ClaimKind::HospitalStay.waiting_period_applies());
        assert!(ClaimKind::CriticalIllness.waiting_period_applies());
    }

    #[test]
    fn claims_move_from_submission_to_payment() {
        use ClaimAction::*;
        use ClaimStatus::*;
        assert_eq!(StartReview.apply(Submitted), Ok(UnderReview));
        for from in [Submitted, UnderReview] {
            assert_eq!(Decision::Approve.apply(from), Ok(Approved));
            assert_eq!(Decision::Reject.apply(from), Ok(Rejected));
            assert_eq!(Decision::Return.apply(from), Ok(Returned));
        }
        assert_eq!(Resubmit.apply(Returned), Ok(Submitted));
        assert_eq!(Pay.apply(Approved), Ok(Paid));

        let mut allowed = 0;
        for from in ClaimStatus::ALL {
            for action in [
                StartReview,
                Decide(Decision::Approve),
                Decide(Decision::Reject),
                Decide(Decision::Return),
                Resubmit,
                Pay,
            ] {
                if action.apply(*from).is_ok() {
                    allowed += 1;
                }
            }
        }
        assert_eq!(allowed, 9);

        assert_eq!(
            Decision::Approve.apply(Paid).unwrap_err().to_string(),
            "the claim is paid, so it can't be approved"
        );
        assert_eq!(
            Pay.apply(UnderReview).unwrap_err().to_string(),
            "the claim is under review, so it can't be paid"
        );
        assert_eq!(
            Resubmit.apply(Rejected).unwrap_err().to_string(),
            "the claim is rejected, so it can't be resubmitted"
        );
        let err = StartReview.apply(UnderReview).unwrap_err();
        assert_eq!(err.from, UnderReview);

        assert!(Approved.counts_against_cap() && Paid.counts_against_cap());
        assert!(!Submitted.counts_against_cap() && !Rejected.counts_against_cap());
        assert!(Decision::Reject.reason_required() && Decision::Return.reason_required());
        assert!(!Decision::Approve.reason_required());
    }

    #[test]
    fn an_approval_may_lower_the_payout_with_a_reason_but_never_raise_it() {
        assert_eq!(approved_amount_check(20_000, None, None), Ok(20_000));
        assert_eq!(
            approved_amount_check(20_000, Some(20_000), None),
            Ok(20_000)
        );
        assert_eq!(
            approved_amount_check(
                20_000,
                Some(15_000),
                Some("one day was an outpatient visit")
            ),
            Ok(15_000)
        );
        assert_eq!(
            approved_amount_check(20_000, Some(15_000), Some(" ")),
            Err(ApprovalProblem::ReasonRequired)
        );
        assert_eq!(
            approved_amount_check(20_000, Some(15_000), None),
            Err(ApprovalProblem::ReasonRequired)
        );
        let above = approved_amount_check(20_000, Some(20_001), Some("generous")).unwrap_err();
        assert_eq!(
            above,
            ApprovalProblem::AboveComputed {
                computed_fen: 20_000
            }
        );
        assert_eq!(
            above.to_string(),
            "approved_fen can't be more than the rules pay for this claim now, ¥200.00"
        );
        assert_eq!(
            (above.pointer(), above.code()),
            ("/approved_fen", "above_computed")
        );
        assert_eq!(
            approved_amount_check(20_000, Some(-1), Some("x")),
            Err(ApprovalProblem::Negative)
        );
        assert_eq!(approved_amount_check(0, Some(0), None), Ok(0));
        assert_eq!(ApprovalProblem::ReasonRequired.pointer(), "/reason");
    }
}

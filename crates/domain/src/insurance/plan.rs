//! Plans: their kinds and statuses, the benefit rules of each kind, who may enrol, and
//! the checks that keep a plan's numbers sensible before anyone can enrol in it.

use super::{AmountError, ClaimKind, RuleProblem, wire_enum};
use crate::members::{EmploymentForm, Occupation};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

wire_enum!(
    /// What a plan pays for. Each kind has its own [`BenefitRules`] and accepts its own
    /// [`ClaimKind`]s.
    PlanKind {
        /// A daily allowance for hospital stays.
        HospitalAllowance => "hospital_allowance",
        /// Accidental injury: medical expenses, disability and death.
        Accident => "accident",
        /// A lump sum on diagnosis of a critical illness.
        CriticalIllness => "critical_illness",
    }
);

impl PlanKind {
    /// The claim kinds a plan of this kind pays.
    pub fn claim_kinds(self) -> &'static [ClaimKind] {
        match self {
            PlanKind::HospitalAllowance => &[ClaimKind::HospitalStay],
            PlanKind::Accident => &[
                ClaimKind::AccidentMedical,
                ClaimKind::AccidentDisability,
                ClaimKind::AccidentDeath,
            ],
            PlanKind::CriticalIllness => &[ClaimKind::CriticalIllness],
        }
    }

    /// Whether a plan of this kind pays `claim`.
    pub fn accepts(self, claim: ClaimKind) -> bool {
        claim.plan_kind() == self
    }
}

wire_enum!(
    /// Where a plan stands: `draft → open → closed`, and never back, so members who
    /// enrolled always know the rules they enrolled under.
    PlanStatus {
        /// Being written: rules may change, nobody can enrol.
        Draft => "draft",
        /// Members can enrol; rules are frozen.
        Open => "open",
        /// No new enrollments; claims for incidents within the term are still taken.
        Closed => "closed",
    }
);

impl PlanStatus {
    /// Whether a plan may move from `self` to `to`: only `draft → open` and
    /// `open → closed`.
    pub fn can_move_to(self, to: PlanStatus) -> bool {
        matches!(
            (self, to),
            (PlanStatus::Draft, PlanStatus::Open) | (PlanStatus::Open, PlanStatus::Closed)
        )
    }

    /// Whether the plan's terms and benefit rules may still be edited. Once a plan is
    /// open, members have paid for the rules as they stand.
    pub fn terms_editable(self) -> bool {
        self == PlanStatus::Draft
    }

    /// Whether members can enrol.
    pub fn accepts_enrollments(self) -> bool {
        self == PlanStatus::Open
    }

    /// Whether claims can be filed: a closed plan still owes its members for incidents
    /// within the term.
    pub fn accepts_claims(self) -> bool {
        matches!(self, PlanStatus::Open | PlanStatus::Closed)
    }
}

/// One row of an accident plan's disability table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GradePercent {
    /// Disability grade, 1 (most severe) to 10 (least), as assessed under GB/T 16180.
    pub grade: u8,
    /// The share of the sum insured paid at this grade, 0–100.
    pub percent: i32,
}

/// The customary disability table: grade 1 pays 100%, each grade after it 10 points
/// less, down to 10% at grade 10.
pub fn standard_disability_table() -> Vec<GradePercent> {
    (1..=10u8)
        .map(|grade| GradePercent {
            grade,
            percent: (11 - i32::from(grade)) * 10,
        })
        .collect()
}

/// One step of a critical illness plan's payout: from this day of cover on (day 0 is
/// the day cover started), a diagnosis pays this much per share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IllnessTier {
    pub from_day: i32,
    pub amount_per_share_fen: i64,
}

/// What a plan pays, by kind. On the wire the kind is a tag beside the fields:
/// `{"kind": "hospital_allowance", "daily_allowance_fen": 5000, "deductible_days": 3,
/// "term_cap_fen": 450000, "per_claim_cap_fen": null}`.
///
/// Amounts are per share, except the accident `expense_deductible_fen` and
/// `reimbursement_ratio_bp`, which apply to a claim's actual expenses. (Variants
/// rather than one struct per kind: that way unknown fields are refused and the
/// OpenAPI schema still admits the `kind` tag.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BenefitRules {
    /// A daily allowance for each day of a hospital stay beyond the deductible days.
    HospitalAllowance {
        /// Paid per share for each day of a stay beyond the deductible days.
        daily_allowance_fen: i64,
        /// The first days of each stay that are not paid: with 3, a 3-day stay pays
        /// nothing and a 5-day stay pays 2 days.
        deductible_days: i32,
        /// The most one share pays over the whole term, across all claims.
        term_cap_fen: i64,
        /// The most one share pays for a single stay; none when absent.
        #[serde(default)]
        per_claim_cap_fen: Option<i64>,
    },
    /// Accidental injury. Medical, disability and death claims all draw on one pot per
    /// term: the sum insured × shares.
    Accident {
        /// What one share covers over the term, across all accident claims.
        sum_insured_fen: i64,
        /// The part of each claim's medical expenses that is not reimbursed (per
        /// claim, not per share).
        expense_deductible_fen: i64,
        /// The share of expenses above the deductible that is reimbursed, in basis
        /// points (8000 = 80%), 0–10000.
        reimbursement_ratio_bp: i32,
        /// Grades 1 to 10, each exactly once, with the percentage of the sum insured
        /// each pays.
        disability_table: Vec<GradePercent>,
        /// The percentage of the sum insured paid on accidental death, 0–100. Death is
        /// not read from the disability table.
        death_percent: i32,
    },
    /// A lump sum on diagnosis: the tier in force on the diagnosis's day of cover, once
    /// per term; before the first tier, nothing.
    CriticalIllness {
        /// Strictly increasing `from_day`s. With `[{from_day: 30, ..: 50000},
        /// {from_day: 91, ..: 1000000}]`, days 0–29 pay nothing, 30–90 ¥500 and from
        /// day 91 on ¥10,000.
        tiers: Vec<IllnessTier>,
    },
}

impl BenefitRules {
    pub fn kind(&self) -> PlanKind {
        match self {
            BenefitRules::HospitalAllowance { .. } => PlanKind::HospitalAllowance,
            BenefitRules::Accident { .. } => PlanKind::Accident,
            BenefitRules::CriticalIllness { .. } => PlanKind::CriticalIllness,
        }
    }

    /// The most one share can pay over a term, for the "total coverage" figures: the
    /// hospital term cap, the accident sum insured, the largest illness tier.
    pub fn coverage_per_share_fen(&self) -> i64 {
        match self {
            BenefitRules::HospitalAllowance { term_cap_fen, .. } => *term_cap_fen,
            BenefitRules::Accident {
                sum_insured_fen, ..
            } => *sum_insured_fen,
            BenefitRules::CriticalIllness { tiers } => tiers
                .iter()
                .map(|t| t.amount_per_share_fen)
                .max()
                .unwrap_or(0),
        }
    }

    /// The percentage of the sum insured a disability of `grade` pays: None for a
    /// grade the table lacks, or a plan that isn't an accident plan.
    pub fn disability_percent(&self, grade: u8) -> Option<i32> {
        match self {
            BenefitRules::Accident {
                disability_table, ..
            } => disability_table
                .iter()
                .find(|row| row.grade == grade)
                .map(|row| row.percent),
            _ => None,
        }
    }

    /// The illness tier in force on day `day` of cover: None before the first tier,
    /// or for a plan that isn't a critical illness plan.
    pub fn illness_tier_on(&self, day: i64) -> Option<&IllnessTier> {
        match self {
            BenefitRules::CriticalIllness { tiers } => {
                tiers.iter().rev().find(|t| i64::from(t.from_day) <= day)
            }
            _ => None,
        }
    }

    /// Every problem with the rules, each pointing at its field under `/benefits`.
    pub fn validate(&self) -> Result<(), Vec<RuleProblem>> {
        let mut problems = Vec::new();
        self.check_into(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn check_into(&self, problems: &mut Vec<RuleProblem>) {
        match self {
            BenefitRules::HospitalAllowance {
                daily_allowance_fen,
                deductible_days,
                term_cap_fen,
                per_claim_cap_fen,
            } => {
                non_negative(
                    problems,
                    "/benefits/daily_allowance_fen",
                    *daily_allowance_fen,
                );
                non_negative(
                    problems,
                    "/benefits/deductible_days",
                    i64::from(*deductible_days),
                );
                non_negative(problems, "/benefits/term_cap_fen", *term_cap_fen);
                if let Some(cap) = per_claim_cap_fen {
                    non_negative(problems, "/benefits/per_claim_cap_fen", *cap);
                }
            }
            BenefitRules::Accident {
                sum_insured_fen,
                expense_deductible_fen,
                reimbursement_ratio_bp,
                disability_table,
                death_percent,
            } => {
                non_negative(problems, "/benefits/sum_insured_fen", *sum_insured_fen);
                non_negative(
                    problems,
                    "/benefits/expense_deductible_fen",
                    *expense_deductible_fen,
                );
                in_range(
                    problems,
                    "/benefits/reimbursement_ratio_bp",
                    *reimbursement_ratio_bp,
                    0,
                    10_000,
                );
                in_range(problems, "/benefits/death_percent", *death_percent, 0, 100);
                check_disability_table(problems, disability_table);
            }
            BenefitRules::CriticalIllness { tiers } => check_tiers(problems, tiers),
        }
    }
}
fn check_disability_table(problems: &mut Vec<RuleProblem>, table: &[GradePercent]) {
    let mut seen = [false; 10];
    for (i, row) in table.iter().enumerate() {
        let pointer = format!("/benefits/disability_table/{i}");
        match row.grade {
            1..=10 => {
                let slot = &mut seen[usize::from(row.grade - 1)];
                if *slot {
                    problems.push(RuleProblem::new(
                        format!("{pointer}/grade"),
                        "duplicate",
                        format!("grade {} appears more than once", row.grade),
                    ));
                }
                *slot = true;
            }
            other => problems.push(RuleProblem::new(
                format!("{pointer}/grade"),
                "out_of_range",
                format!("grade must be 1 to 10, not {other}"),
            )),
        }
        in_range(problems, &format!("{pointer}/percent"), row.percent, 0, 100);
    }
    let missing: Vec<String> = (1..=10u8)
        .filter(|g| !seen[usize::from(g - 1)])
        .map(|g| g.to_string())
        .collect();
    if !missing.is_empty() {
        problems.push(RuleProblem::new(
            "/benefits/disability_table",
            "missing_grade",
            format!(
                "the table must list grades 1 to 10; missing: {}",
                missing.join(", ")
            ),
        ));
    }
}

fn check_tiers(problems: &mut Vec<RuleProblem>, tiers: &[IllnessTier]) {
    if tiers.is_empty() {
        problems.push(RuleProblem::new(
            "/benefits/tiers",
            "empty",
            "a critical illness plan needs at least one tier",
        ));
    }
    let mut previous: Option<i32> = None;
    for (i, tier) in tiers.iter().enumerate() {
        let pointer = format!("/benefits/tiers/{i}");
        non_negative(
            problems,
            &format!("{pointer}/from_day"),
            i64::from(tier.from_day),
        );
        non_negative(
            problems,
            &format!("{pointer}/amount_per_share_fen"),
            tier.amount_per_share_fen,
        );
        if let Some(before) = previous
            && tier.from_day <= before
        {
            problems.push(RuleProblem::new(
                format!("{pointer}/from_day"),
                "not_increasing",
                format!(
                    "from_day must be later than the previous tier's ({before}), not {}",
                    tier.from_day
                ),
            ));
        }
        previous = Some(tier.from_day);
    }
}

fn non_negative(problems: &mut Vec<RuleProblem>, pointer: &str, value: i64) {
    if value < 0 {
        problems.push(RuleProblem::new(
            pointer,
            "negative",
            format!("must be zero or more, not {value}"),
        ));
    }
}

fn in_range(problems: &mut Vec<RuleProblem>, pointer: &str, value: i32, min: i32, max: i32) {
    if !(min..=max).contains(&value) {
        problems.push(RuleProblem::new(
            pointer,
            "out_of_range",
            format!("must be {min} to {max}, not {value}"),
        ));
    }
}

/// Who may enrol. An absent filter admits everyone; a member must pass every filter
/// present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// The occupations admitted. Absent: any. An empty list is refused, since it would
    /// admit nobody.
    #[serde(default)]
    pub occupations: Option<Vec<Occupation>>,
    /// The employment form admitted. Absent: either.
    #[serde(default)]
    pub employment_form: Option<EmploymentForm>,
}

impl Eligibility {
    /// Whether a member with this occupation and employment form passes the filters.
    pub fn admits(&self, occupation: Occupation, employment_form: EmploymentForm) -> bool {
        self.occupations
            .as_ref()
            .is_none_or(|list| list.contains(&occupation))
            && self.employment_form.is_none_or(|f| f == employment_form)
    }
}

/// The terms of a plan: everything the rules read. (Its id, name, owning org and
/// status are storage's business.) The JSON pointers in [`PlanTerms::validate`]'s
/// problems assume a request body with these field names, `eligibility` and
/// `benefits` nested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTerms {
    /// What one share costs for the term.
    pub share_premium_fen: i64,
    /// The most shares one member may hold in this plan, at least 1.
    pub max_shares: i32,
    /// First day of cover, inclusive.
    pub term_start: NaiveDate,
    /// Last day of cover, inclusive; after `term_start`.
    pub term_end: NaiveDate,
    /// On a member's first enrollment, incidents on days `0..waiting_days` of cover
    /// are not paid. Accident claims are exempt ([`ClaimKind::waiting_period_applies`]),
    /// so an accident plan's value has no effect.
    pub waiting_days: i32,
    pub eligibility: Eligibility,
    pub benefits: BenefitRules,
}

impl PlanTerms {
    pub fn kind(&self) -> PlanKind {
        self.benefits.kind()
    }

    /// Whether `date` is within the term.
    pub fn in_term(&self, date: NaiveDate) -> bool {
        self.term_start <= date && date <= self.term_end
    }

    /// The day cover starts for someone enrolling on `enrolled_on`: the term start, or
    /// the enrollment day once the term has begun. None once the term is over.
    pub fn cover_start_for(&self, enrolled_on: NaiveDate) -> Option<NaiveDate> {
        let start = enrolled_on.max(self.term_start);
        (start <= self.term_end).then_some(start)
    }

    /// Every problem with the terms and their benefit rules.
    ///
    /// Beyond each field's own range, the premium and coverage of `max_shares` shares
    /// must fit in an `i64`, so that arithmetic on any valid enrollment can't overflow.
    pub fn validate(&self) -> Result<(), Vec<RuleProblem>> {
        let mut problems = Vec::new();
        non_negative(&mut problems, "/share_premium_fen", self.share_premium_fen);
        if self.max_shares < 1 {
            problems.push(RuleProblem::new(
                "/max_shares",
                "out_of_range",
                format!("must be at least 1, not {}", self.max_shares),
            ));
        }
        if self.term_end <= self.term_start {
            problems.push(RuleProblem::new(
                "/term_end",
                "not_after_start",
                format!(
                    "term_end ({}) must be after term_start ({})",
                    self.term_end, self.term_start
                ),
            ));
        }
        non_negative(&mut problems, "/waiting_days", i64::from(self.waiting_days));
        if self
            .eligibility
            .occupations
            .as_ref()
            .is_some_and(Vec::is_empty)
        {
            problems.push(RuleProblem::new(
                "/eligibility/occupations",
                "empty",
                "an empty list would admit nobody; leave it out to admit any occupation",
            ));
        }
        self.benefits.check_into(&mut problems);
        if let Ok(most) = u32::try_from(self.max_shares)
            && (self.premium_fen(most).is_err() || self.coverage_fen(most).is_err())
        {
            problems.push(RuleProblem::new(
                "/max_shares",
                "overflow",
                "the premium or coverage of this many shares is too large to represent",
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether a member may hold `shares` shares: 1 to `max_shares`.
    pub fn check_shares(&self, shares: u32) -> Result<(), RuleProblem> {
        if shares >= 1 && i64::from(shares) <= i64::from(self.max_shares) {
            Ok(())
        } else {
            Err(RuleProblem::new(
                "/shares",
                "out_of_range",
                format!(
                    "shares must be 1 to {} for this plan, not {shares}",
                    self.max_shares
                ),
            ))
        }
    }

    /// The premium for `shares` shares.
    pub fn premium_fen(&self, shares: u32) -> Result<i64, AmountError> {
        self.share_premium_fen
            .checked_mul(i64::from(shares))
            .ok_or(AmountError::Overflow)
    }

    /// The most `shares` shares can pay over the term: the coverage per share × shares.
    pub fn coverage_fen(&self, shares: u32) -> Result<i64, AmountError> {
        self.benefits
            .coverage_per_share_fen()
            .checked_mul(i64::from(shares))
            .ok_or(AmountError::Overflow)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Hospital allowance rules with these numbers.
    pub(crate) fn hospital_rules_with(
        daily_allowance_fen: i64,
        deductible_days: i32,
        term_cap_fen: i64,
        per_claim_cap_fen: Option<i64>,
    ) -> BenefitRules {
        BenefitRules::HospitalAllowance {
            daily_allowance_fen,
            deductible_days,
            term_cap_fen,
            per_claim_cap_fen,
        }
    }

    /// ¥50 a day beyond 3 days, capped at ¥4,500 per share per term.
    pub(crate) fn hospital_rules() -> BenefitRules {
        hospital_rules_with(5_000, 3, 450_000, None)
    }

    /// Accident rules with these numbers and the standard disability table.
    pub(crate) fn accident_rules_with(
        sum_insured_fen: i64,
        expense_deductible_fen: i64,
        reimbursement_ratio_bp: i32,
        death_percent: i32,
    ) -> BenefitRules {
        BenefitRules::Accident {
            sum_insured_fen,
            expense_deductible_fen,
            reimbursement_ratio_bp,
            disability_table: standard_disability_table(),
            death_percent,
        }
    }

    /// ¥20,000 sum insured per share, 80% of expenses above ¥100, standard table.
    pub(crate) fn accident_rules() -> BenefitRules {
        accident_rules_with(2_000_000, 10_000, 8_000, 100)
    }

    /// Critical illness rules with tiers `(from_day, amount_per_share_fen)`.
    pub(crate) fn illness_rules_with(tiers: &[(i32, i64)]) -> BenefitRules {
        BenefitRules::CriticalIllness {
            tiers: tiers
                .iter()
                .map(|&(from_day, amount_per_share_fen)| IllnessTier {
                    from_day,
                    amount_per_share_fen,
                })
                .collect(),
        }
    }

    /// ¥500 from day 30, ¥10,000 from day 91 ("after day 90"), nothing before day 30.
    pub(crate) fn illness_rules() -> BenefitRules {
        illness_rules_with(&[(30, 50_000), (91, 1_000_000)])
    }

    /// A 2026 plan with a 30-day waiting period and up to 5 shares.
    pub(crate) fn terms(premium: i64, benefits: BenefitRules) -> PlanTerms {
        PlanTerms {
            share_premium_fen: premium,
            max_shares: 5,
            term_start: day(2026, 1, 1),
            term_end: day(2026, 12, 31),
            waiting_days: 30,
            eligibility: Eligibility::default(),
            benefits,
        }
    }

    pub(crate) fn hospital_plan() -> PlanTerms {
        terms(8_000, hospital_rules())
    }

    pub(crate) fn accident_plan() -> PlanTerms {
        terms(4_000, accident_rules())
    }

    pub(crate) fn illness_plan() -> PlanTerms {
        terms(10_000, illness_rules())
    }

    fn pointers(problems: &[RuleProblem]) -> Vec<(&str, &str)> {
        problems
            .iter()
            .map(|p| (p.pointer.as_str(), p.code))
            .collect()
    }

    #[test]
    fn wire_names_round_trip() {
        for k in PlanKind::ALL {
            assert_eq!(k.as_str().parse::<PlanKind>(), Ok(*k));
            assert_eq!(k.to_string(), k.as_str());
        }
        for s in PlanStatus::ALL {
            assert_eq!(s.as_str().parse::<PlanStatus>(), Ok(*s));
        }
        assert!("life".parse::<PlanKind>().is_err());
        assert_eq!(
            serde_json::to_string(&PlanKind::HospitalAllowance).unwrap(),
            "\"hospital_allowance\""
        );
    }

    #[test]
    fn each_plan_kind_accepts_its_own_claims() {
        for kind in PlanKind::ALL {
            for claim in ClaimKind::ALL {
                assert_eq!(
                    kind.accepts(*claim),
                    kind.claim_kinds().contains(claim),
                    "{kind} {claim}"
                );
            }
        }
        assert!(PlanKind::Accident.accepts(ClaimKind::AccidentDeath));
        assert!(!PlanKind::Accident.accepts(ClaimKind::HospitalStay));
        assert!(!PlanKind::HospitalAllowance.accepts(ClaimKind::CriticalIllness));
    }

    #[test]
    fn plans_go_draft_open_closed_and_never_back() {
        use PlanStatus::*;
        for from in PlanStatus::ALL {
            for to in PlanStatus::ALL {
                let allowed = matches!((from, to), (Draft, Open) | (Open, Closed));
                assert_eq!(from.can_move_to(*to), allowed, "{from} → {to}");
            }
        }
        assert!(Draft.terms_editable() && !Open.terms_editable());
        assert!(Open.accepts_enrollments() && !Draft.accepts_enrollments());
        assert!(!Closed.accepts_enrollments());
        assert!(Closed.accepts_claims() && Open.accepts_claims() && !Draft.accepts_claims());
    }

    #[test]
    fn benefit_rules_are_tagged_by_kind_on_the_wire() {
        let rules = hospital_rules();
        let json = serde_json::to_value(&rules).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "hospital_allowance",
                "daily_allowance_fen": 5000,
                "deductible_days": 3,
                "term_cap_fen": 450000,
                "per_claim_cap_fen": null
            })
        );
        let back: BenefitRules = serde_json::from_value(json).unwrap();
        assert_eq!(back, rules);

        let without_cap: BenefitRules = serde_json::from_str(
            r#"{"kind":"hospital_allowance","daily_allowance_fen":5000,"deductible_days":3,"term_cap_fen":450000}"#,
        )
        .unwrap();
        assert_eq!(without_cap, rules);

        let illness: BenefitRules = serde_json::from_str(
            r#"{"kind":"critical_illness","tiers":[{"from_day":30,"amount_per_share_fen":50000},{"from_day":91,"amount_per_share_fen":1000000}]}"#,
        )
        .unwrap();
        assert_eq!(illness, illness_rules());

        let accident = accident_rules();
        let round: BenefitRules =
            serde_json::from_str(&serde_json::to_string(&accident).unwrap()).unwrap();
        assert_eq!(round, accident);

        for bad in [
            r#"{"kind":"hospital_allowance","daily_allowance_fen":5000,"deductible_days":3,"term_cap_fen":450000,"bonus_fen":1}"#,
            r#"{"kind":"life","sum_fen":1}"#,
            r#"{"daily_allowance_fen":5000,"deductible_days":3,"term_cap_fen":450000}"#,
        ] {
            assert!(serde_json::from_str::<BenefitRules>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coverage_per_share_is_the_most_a_share_pays() {
        assert_eq!(hospital_plan().benefits.coverage_per_share_fen(), 450_000);
        assert_eq!(accident_plan().benefits.coverage_per_share_fen(), 2_000_000);
        assert_eq!(illness_plan().benefits.coverage_per_share_fen(), 1_000_000);
        // The largest tier, not the last.
        let falling = illness_rules_with(&[(0, 900), (10, 100)]);
        assert_eq!(falling.coverage_per_share_fen(), 900);
    }

    #[test]
    fn premium_and_coverage_scale_with_shares_and_refuse_overflow() {
        let plan = hospital_plan();
        assert_eq!(plan.premium_fen(1), Ok(8_000));
        assert_eq!(plan.premium_fen(3), Ok(24_000));
        assert_eq!(plan.coverage_fen(2), Ok(900_000));
        assert_eq!(plan.coverage_fen(0), Ok(0));
        assert_eq!(accident_plan().premium_fen(2), Ok(8_000));
        assert_eq!(accident_plan().coverage_fen(2), Ok(4_000_000));
        assert_eq!(illness_plan().coverage_fen(2), Ok(2_000_000));

        let mut huge = hospital_plan();
        huge.share_premium_fen = i64::MAX / 2 + 1;
        assert_eq!(huge.premium_fen(1), Ok(i64::MAX / 2 + 1));
        assert_eq!(huge.premium_fen(2), Err(AmountError::Overflow));
        huge.benefits = hospital_rules_with(5_000, 3, i64::MAX, None);
        assert_eq!(huge.coverage_fen(2), Err(AmountError::Overflow));
    }

    #[test]
    fn shares_must_be_one_to_the_plan_maximum() {
        let plan = hospital_plan();
        assert!(plan.check_shares(1).is_ok());
        assert!(plan.check_shares(5).is_ok());
        let err = plan.check_shares(6).unwrap_err();
        assert_eq!(
            (err.pointer.as_str(), err.code),
            ("/shares", "out_of_range")
        );
        assert!(plan.check_shares(0).is_err());
    }

    #[test]
    fn the_example_plans_are_valid() {
        assert_eq!(hospital_plan().validate(), Ok(()));
        assert_eq!(accident_plan().validate(), Ok(()));
        assert_eq!(illness_plan().validate(), Ok(()));
    }

    #[test]
    fn plan_validation_names_every_bad_field() {
        let mut plan = terms(-1, hospital_rules_with(-5_000, -1, -1, Some(-1)));
        plan.max_shares = 0;
        plan.term_end = plan.term_start;
        plan.waiting_days = -1;
        plan.eligibility.occupations = Some(vec![]);
        let problems = plan.validate().unwrap_err();
        assert_eq!(
            pointers(&problems),
            vec![
                ("/share_premium_fen", "negative"),
                ("/max_shares", "out_of_range"),
                ("/term_end", "not_after_start"),
                ("/waiting_days", "negative"),
                ("/eligibility/occupations", "empty"),
                ("/benefits/daily_allowance_fen", "negative"),
                ("/benefits/deductible_days", "negative"),
                ("/benefits/term_cap_fen", "negative"),
                ("/benefits/per_claim_cap_fen", "negative"),
            ]
        );
        assert_eq!(problems[0].detail, "must be zero or more, not -1");
    }

    #[test]
    fn plan_validation_refuses_shares_whose_totals_overflow() {
        let mut plan = hospital_plan();
        plan.max_shares = i32::MAX;
        plan.share_premium_fen = i64::MAX / 1_000;
        let problems = plan.validate().unwrap_err();
        assert_eq!(pointers(&problems), vec![("/max_shares", "overflow")]);

        let mut plan = accident_plan();
        plan.benefits = accident_rules_with(i64::MAX / 4, 10_000, 8_000, 100);
        assert_eq!(
            pointers(&plan.validate().unwrap_err()),
            vec![("/max_shares", "overflow")]
        );
        plan.max_shares = 4;
        assert_eq!(plan.validate(), Ok(()));
    }

    #[test]
    fn accident_validation_checks_ratio_percentages_and_the_whole_grade_table() {
        let mut table = standard_disability_table();
        table[1].percent = 101; // grade 2
        table[2].grade = 2; // grade 3 missing, grade 2 twice
        table[9].grade = 11; // grade 10 missing
        table.push(GradePercent {
            grade: 0,
            percent: -1,
        });
        let rules = BenefitRules::Accident {
            sum_insured_fen: -1,
            expense_deductible_fen: -1,
            reimbursement_ratio_bp: 10_001,
            disability_table: table,
            death_percent: 101,
        };
        let problems = rules.validate().unwrap_err();
        assert_eq!(
            pointers(&problems),
            vec![
                ("/benefits/sum_insured_fen", "negative"),
                ("/benefits/expense_deductible_fen", "negative"),
                ("/benefits/reimbursement_ratio_bp", "out_of_range"),
                ("/benefits/death_percent", "out_of_range"),
                ("/benefits/disability_table/1/percent", "out_of_range"),
                ("/benefits/disability_table/2/grade", "duplicate"),
                ("/benefits/disability_table/9/grade", "out_of_range"),
                ("/benefits/disability_table/10/grade", "out_of_range"),
                ("/benefits/disability_table/10/percent", "out_of_range"),
                ("/benefits/disability_table", "missing_grade"),
            ]
        );
        assert_eq!(
            problems[9].detail,
            "the table must list grades 1 to 10; missing: 3, 10"
        );

        // The edges of each range are fine.
        let edges = BenefitRules::Accident {
            sum_insured_fen: 0,
            expense_deductible_fen: 0,
            reimbursement_ratio_bp: 10_000,
            disability_table: (1..=10u8)
                .rev()
                .map(|grade| GradePercent {
                    grade,
                    percent: if grade == 1 { 100 } else { 0 },
                })
                .collect(),
            death_percent: 0,
        };
        assert_eq!(edges.validate(), Ok(()));
        let empty_table = BenefitRules::Accident {
            sum_insured_fen: 2_000_000,
            expense_deductible_fen: 10_000,
            reimbursement_ratio_bp: 8_000,
            disability_table: vec![],
            death_percent: 100,
        };
        assert_eq!(
            pointers(&empty_table.validate().unwrap_err()),
            vec![("/benefits/disability_table", "missing_grade")]
        );
    }

    #[test]
    fn grade_lookups_cover_one_to_ten_only() {
        let rules = accident_rules();
        assert_eq!(rules.disability_percent(1), Some(100));
        assert_eq!(rules.disability_percent(10), Some(10));
        assert_eq!(rules.disability_percent(0), None);
        assert_eq!(rules.disability_percent(11), None);
        assert_eq!(hospital_rules().disability_percent(1), None);
    }

    #[test]
    fn tiers_must_be_strictly_increasing_and_non_negative() {
        let rules = illness_rules_with(&[(-1, 100), (30, -1), (30, 200), (10, 300)]);
        assert_eq!(
            pointers(&rules.validate().unwrap_err()),
            vec![
                ("/benefits/tiers/0/from_day", "negative"),
                ("/benefits/tiers/1/amount_per_share_fen", "negative"),
                ("/benefits/tiers/2/from_day", "not_increasing"),
                ("/benefits/tiers/3/from_day", "not_increasing"),
            ]
        );
        let none = illness_rules_with(&[]);
        assert_eq!(
            pointers(&none.validate().unwrap_err()),
            vec![("/benefits/tiers", "empty")]
        );
    }

    #[test]
    fn the_tier_in_force_on_days_29_30_90_91() {
        let rules = illness_rules();
        let amount = |d| rules.illness_tier_on(d).map(|t| t.amount_per_share_fen);
        assert_eq!(amount(-1), None);
        assert_eq!(amount(0), None);
        assert_eq!(amount(29), None);
        assert_eq!(amount(30), Some(50_000));
        assert_eq!(amount(90), Some(50_000));
        assert_eq!(amount(91), Some(1_000_000));
        assert_eq!(amount(365), Some(1_000_000));
        assert_eq!(hospital_rules().illness_tier_on(365), None);
    }

    #[test]
    fn cover_starts_at_the_term_or_on_enrollment() {
        let plan = hospital_plan();
        assert_eq!(
            plan.cover_start_for(day(2025, 12, 1)),
            Some(day(2026, 1, 1))
        );
        assert_eq!(
            plan.cover_start_for(day(2026, 3, 15)),
            Some(day(2026, 3, 15))
        );
        assert_eq!(
            plan.cover_start_for(day(2026, 12, 31)),
            Some(day(2026, 12, 31))
        );
        assert_eq!(plan.cover_start_for(day(2027, 1, 1)), None);
        assert!(plan.in_term(day(2026, 1, 1)) && plan.in_term(day(2026, 12, 31)));
        assert!(!plan.in_term(day(2025, 12, 31)) && !plan.in_term(day(2027, 1, 1)));
    }

    #[test]
    fn eligibility_filters_are_all_or_nothing() {
        use EmploymentForm::*;
        use Occupation::*;
        let anyone = Eligibility::default();
        assert!(anyone.admits(Courier, Standard));
        let riders = Eligibility {
            occupations: Some(vec![DeliveryRider, Courier]),
            employment_form: Some(Gig),
        };
        assert!(riders.admits(DeliveryRider, Gig));
        assert!(riders.admits(Courier, Gig));
        assert!(!riders.admits(Courier, Standard));
        assert!(!riders.admits(TruckDriver, Gig));
        let json = serde_json::to_value(&riders).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"occupations": ["delivery_rider", "courier"], "employment_form": "gig"})
        );
        assert_eq!(
            serde_json::from_str::<Eligibility>("{}").unwrap(),
            Eligibility::default()
        );
    }
}

#[cfg(all(test, feature = "openapi"))]
mod schema_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn the_spec_admits_the_kind_tag_beside_the_fields() {
        let schema = serde_json::to_value(BenefitRules::schema()).unwrap();
        let variants = schema["oneOf"].as_array().unwrap();
        assert_eq!(variants.len(), 3);
        let hospital = &variants[0];
        assert_eq!(
            hospital["properties"]["kind"]["enum"],
            serde_json::json!(["hospital_allowance"])
        );
        assert!(hospital["properties"]["daily_allowance_fen"].is_object());
        // A `false` here would refuse the `kind` tag itself.
        assert_ne!(hospital["additionalProperties"], serde_json::json!(false));
    }
}

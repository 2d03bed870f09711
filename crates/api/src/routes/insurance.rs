//! Mutual-aid insurance: plans offered by a union to its subtree, individual and group
//! enrollments (often paid by the union), claims checked and priced by the domain's
//! rules with explanation lines, their review, decision and payment, and the stats.
//!
//! Who may do what:
//! - plans: created and changed by `federation_admin` / `union_admin` for an
//!   organisation in their reach; staff see their reach's plans and the published
//!   (open or closed) plans of the organisations above it; members see the published
//!   plans of their union and the organisations above it;
//! - enrollments: a member for themself (`paid_by: member`), or an administrator for
//!   members in reach, one by one or as a group;
//! - claims: filed by the member on their own enrollment, or by an administrator or
//!   `insurance_reviewer` whose reach covers the member's union; taken up for review,
//!   decided and marked paid only by an `insurance_reviewer` in reach (whoever enrolls
//!   and files for members does not approve their payouts); corrected and resubmitted
//!   while `returned` by whoever may file;
//! - stats: administrators and reviewers, over their reach.
//!
//! Anything outside the caller's reach is a 404, as if it didn't exist.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, with_etag};
use crate::idempotency::{self, Created};
use crate::pagination::{ListResponse, encode_cursor, page_request};
use crate::pii::{Field, PiiCipher};
use crate::routes::members::{actor, org_in_reach, today_in_china};
use crate::state::State;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use unionhall_domain::insurance::{
    BenefitRules, ClaimAction, ClaimFacts, ClaimKind, ClaimStatus, ClaimTransitionError, Decision,
    Eligibility, FieldProblem, PaidBy, Payout, PayoutError, PayoutRule, PlanKind, PlanStatus,
    PlanTerms, SkipReason, approved_amount_check, check_claim, compute_payout, eligible,
};
use unionhall_domain::members::{EmploymentForm, Occupation};
use unionhall_domain::orgs::Reach;
use unionhall_domain::roles::Role;
use unionhall_domain::{MemberId, OrgId, UserId};
use unionhall_persistence::insurance::{
    self as repo, Candidate, Claim, ClaimData, ClaimEvent, ClaimFilter, ClaimStep, ClaimUpdate,
    Enrollment, EnrollmentFilter, NewClaim, NewEnrollment, NewPlan, OwnerScope, Plan, PlanChanges,
    PlanFilter, PlanScope, Selector,
};
use unionhall_persistence::members::Actor;
use unionhall_persistence::{ConnectionTrait, DatabaseTransaction, StoreError, db};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

/// Most members one group enrollment may name by id (a selector has no limit).
pub const MAX_MEMBER_IDS: usize = 10_000;

// ─── Wire types ─────────────────────────────────────────────────────────────

/// A mutual-aid plan. Amounts are integer fen; benefit amounts are per share.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    pub id: Uuid,
    /// The union offering the plan: members of its subtree may enrol.
    pub org_id: Uuid,
    #[schema(example = "2026年度职工住院互助保障")]
    pub name: String,
    /// The kind, as the benefit rules' `kind` says.
    pub kind: PlanKind,
    pub status: PlanStatus,
    #[schema(example = 8000)]
    pub share_premium_fen: i64,
    pub max_shares: i32,
    /// First day of cover, inclusive.
    pub term_start: NaiveDate,
    /// Last day of cover, inclusive.
    pub term_end: NaiveDate,
    /// On a first enrollment, incidents on days 0 to `waiting_days - 1` of cover are
    /// not paid (accident claims are exempt).
    pub waiting_days: i32,
    pub eligibility: Eligibility,
    pub benefits: BenefitRules,
    /// The most one share pays over the term (hospital term cap, accident sum
    /// insured, largest illness tier).
    pub coverage_per_share_fen: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Plan> for PlanOut {
    fn from(p: Plan) -> Self {
        PlanOut {
            id: p.id,
            org_id: p.org_id.0,
            name: p.name,
            kind: p.terms.kind(),
            status: p.status,
            share_premium_fen: p.terms.share_premium_fen,
            max_shares: p.terms.max_shares,
            term_start: p.terms.term_start,
            term_end: p.terms.term_end,
            waiting_days: p.terms.waiting_days,
            coverage_per_share_fen: p.terms.benefits.coverage_per_share_fen(),
            eligibility: p.terms.eligibility,
            benefits: p.terms.benefits,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A new plan; it starts as a `draft`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "2026年度职工住院互助保障")]
    pub name: String,
    /// The union offering the plan; it must be in the caller's reach.
    pub org_id: Uuid,
    /// Optional; if sent, it must agree with `benefits.kind`.
    pub kind: Option<PlanKind>,
    /// The premium of one share for the term.
    #[schema(example = 8000)]
    pub share_premium_fen: i64,
    /// At least 1.
    #[schema(example = 5)]
    pub max_shares: i32,
    pub term_start: NaiveDate,
    /// After `term_start`.
    pub term_end: NaiveDate,
    /// Default 0.
    #[serde(default)]
    pub waiting_days: i32,
    /// Default: everyone in the subtree.
    #[serde(default)]
    pub eligibility: Eligibility,
    pub benefits: BenefitRules,
}

/// Changes to a plan; absent fields stay. `status` moves `draft → open → closed`.
/// The terms (every field but `name` and `status`) can change only while the plan is
/// a draft, which is before anyone can enrol.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PlanPatch {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub status: Option<PlanStatus>,
    pub share_premium_fen: Option<i64>,
    pub max_shares: Option<i32>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub waiting_days: Option<i32>,
    pub eligibility: Option<Eligibility>,
    pub benefits: Option<BenefitRules>,
}

impl PlanPatch {
    fn touches_terms(&self) -> bool {
        self.share_premium_fen.is_some()
            || self.max_shares.is_some()
            || self.term_start.is_some()
            || self.term_end.is_some()
            || self.waiting_days.is_some()
            || self.eligibility.is_some()
            || self.benefits.is_some()
    }
}

/// A group enrollment's selector: the active members of an organisation's subtree.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SelectorIn {
    /// In the caller's reach.
    pub org_id: Uuid,
    pub occupation: Option<Occupation>,
    pub employment_form: Option<EmploymentForm>,
}

/// An enrollment: exactly one of `member_id` (one member), `member_ids` or `selector`
/// (a group, administrators only). A member enrolling themself may leave all three
/// out, and pays themself (`paid_by: member`).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentIn {
    pub plan_id: Uuid,
    /// 1 to the plan's `max_shares`.
    #[schema(minimum = 1, example = 1)]
    pub shares: u32,
    pub paid_by: PaidBy,
    pub member_id: Option<Uuid>,
    #[validate(length(min = 1, max = 10000))]
    #[schema(min_items = 1, max_items = 10000)]
    pub member_ids: Option<Vec<Uuid>>,
    #[validate(nested)]
    pub selector: Option<SelectorIn>,
}

/// A member a group enrollment didn't enrol, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SkippedOut {
    pub member_id: Uuid,
    pub reason: SkipReason,
}

/// What an enrollment request did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentReport {
    pub plan_id: Uuid,
    /// Members enrolled by this request.
    pub enrolled: u64,
    /// The enrollment made, for a one-member request; list a group's with
    /// `GET /v1/insurance/enrollments?plan_id=`.
    pub enrollment_id: Option<Uuid>,
    /// Everyone named (or selected) and not enrolled, with the reason.
    pub skipped: Vec<SkippedOut>,
    /// The premiums of the enrollments made.
    pub total_premium_fen: i64,
    /// The coverage of the enrollments made.
    pub total_coverage_fen: i64,
}

/// A member's cover under a plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollmentOut {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub member_id: Uuid,
    pub shares: u32,
    pub paid_by: PaidBy,
    pub premium_fen: i64,
    /// The pot: the most this enrollment pays over the term.
    pub coverage_fen: i64,
    /// What approved and paid claims have taken from the pot.
    pub committed_fen: i64,
    /// Day 0 of cover: the term start, or the enrollment day once the term had begun.
    pub cover_start: NaiveDate,
    /// No earlier enrollment of the member in a plan of the same kind: the plan's
    /// waiting period applies.
    pub first_enrollment: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Enrollment> for EnrollmentOut {
    fn from(e: Enrollment) -> Self {
        EnrollmentOut {
            id: e.id,
            plan_id: e.plan_id,
            member_id: e.member_id.0,
            shares: e.shares,
            paid_by: e.paid_by,
            premium_fen: e.premium_fen,
            coverage_fen: e.coverage_fen,
            committed_fen: e.committed_fen,
            cover_start: e.cover_start,
            first_enrollment: e.first_enrollment,
            created_at: e.created_at,
        }
    }
}

/// A claim to file. Which facts are needed depends on `kind`: `hospital_days` for a
/// hospital stay, `expenses_fen` for accident medical expenses, `disability_grade` for
/// a disability, `diagnosis` for a critical illness; facts a kind doesn't read are
/// kept but ignored.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ClaimIn {
    pub enrollment_id: Uuid,
    pub kind: ClaimKind,
    /// The day of the accident, admission to hospital, or diagnosis.
    pub incident_date: NaiveDate,
    #[schema(example = 5)]
    pub hospital_days: Option<u32>,
    pub expenses_fen: Option<i64>,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500)]
    pub diagnosis: Option<String>,
    #[schema(minimum = 1, maximum = 10)]
    pub disability_grade: Option<u8>,
    /// References to supporting documents (URLs or archive numbers), up to 20.
    #[validate(custom(function = "document_refs"))]
    #[schema(max_items = 20)]
    pub documents: Option<Vec<String>>,
}

/// Corrections to a returned claim; absent fields stay. Sending it resubmits the claim.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ClaimPatch {
    pub incident_date: Option<NaiveDate>,
    pub hospital_days: Option<u32>,
    pub expenses_fen: Option<i64>,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500)]
    pub diagnosis: Option<String>,
    #[schema(minimum = 1, maximum = 10)]
    pub disability_grade: Option<u8>,
    #[validate(custom(function = "document_refs"))]
    #[schema(max_items = 20)]
    pub documents: Option<Vec<String>>,
}

fn document_refs(list: &[String]) -> Result<(), ValidationError> {
    let ok = list.len() <= 20
        && list.iter().all(|d| {
            (1..=500).contains(&d.chars().count()) && crate::validate::plain_text(d).is_ok()
        });
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("documents")
            .with_message("up to 20 references of 1-500 characters of plain text".into()))
    }
}

/// What a reviewer decides.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    pub decision: Decision,
    /// Required to reject or return, and to approve less than the rules pay.
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
    /// Approve only: less than the payout the rules give now (with a reason), never
    /// more. Default: that payout.
    pub approved_fen: Option<i64>,
}

/// The payment of an approved claim.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// The bank or ledger reference of the transfer.
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "ICBC-20261130-000123")]
    pub reference: String,
}

/// What moved a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimEventAction {
    Filed,
    StartReview,
    Approve,
    Reject,
    Return,
    Resubmit,
    Pay,
}

impl ClaimEventAction {
    const ALL: [ClaimEventAction; 7] = [
        ClaimEventAction::Filed,
        ClaimEventAction::StartReview,
        ClaimEventAction::Approve,
        ClaimEventAction::Reject,
        ClaimEventAction::Return,
        ClaimEventAction::Resubmit,
        ClaimEventAction::Pay,
    ];

    fn as_str(self) -> &'static str {
        match self {
            ClaimEventAction::Filed => "filed",
            ClaimEventAction::StartReview => "start_review",
            ClaimEventAction::Approve => "approve",
            ClaimEventAction::Reject => "reject",
            ClaimEventAction::Return => "return",
            ClaimEventAction::Resubmit => "resubmit",
            ClaimEventAction::Pay => "pay",
        }
    }

    fn of(action: ClaimAction) -> Self {
        match action {
            ClaimAction::StartReview => ClaimEventAction::StartReview,
            ClaimAction::Decide(Decision::Approve) => ClaimEventAction::Approve,
            ClaimAction::Decide(Decision::Reject) => ClaimEventAction::Reject,
            ClaimAction::Decide(Decision::Return) => ClaimEventAction::Return,
            ClaimAction::Resubmit => ClaimEventAction::Resubmit,
            ClaimAction::Pay => ClaimEventAction::Pay,
        }
    }
}

/// One step of a claim's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimEventOut {
    pub action: ClaimEventAction,
    pub from_status: Option<ClaimStatus>,
    pub to_status: ClaimStatus,
    pub reason: Option<String>,
    /// Filed and resubmitted: the computed payout; approved and paid: the approved
    /// amount.
    pub amount_fen: Option<i64>,
    pub actor_user_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// A claim with its payout, explained line by line, and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimOut {
    pub id: Uuid,
    pub enrollment_id: Uuid,
    pub plan_id: Uuid,
    pub member_id: Uuid,
    pub kind: ClaimKind,
    pub incident_date: NaiveDate,
    pub hospital_days: Option<u32>,
    pub expenses_fen: Option<i64>,
    pub diagnosis: Option<String>,
    pub disability_grade: Option<u8>,
    pub documents: Vec<String>,
    pub status: ClaimStatus,
    /// What the plan's rules pay for this claim, as last computed (at filing,
    /// resubmission or approval) against what the enrollment had already committed.
    pub computed_fen: i64,
    /// That computation: the amount, the pot left before it, and the explanation lines.
    pub payout: Payout,
    /// Set on approval.
    pub approved_fen: Option<i64>,
    /// Set on payment.
    pub payment_reference: Option<String>,
    /// Oldest first.
    pub history: Vec<ClaimEventOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Plan list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Plans offered by this organisation.
    pub org_id: Option<Uuid>,
    pub status: Option<PlanStatus>,
    pub kind: Option<PlanKind>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Enrollment list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnrollmentQuery {
    pub plan_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Claim list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    pub status: Option<ClaimStatus>,
    pub plan_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub enrollment_id: Option<Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Stats filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Members of this organisation's subtree (in the caller's reach); default: the
    /// caller's whole reach.
    pub org_id: Option<Uuid>,
    /// One plan's enrollments and claims.
    pub plan_id: Option<Uuid>,
}

/// Claims in one status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusTotalsOut {
    pub count: i64,
    /// Approved and paid claims: the approved amounts; others: the computed payouts.
    pub amount_fen: i64,
}

/// Claims by status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimsByStatus {
    pub submitted: StatusTotalsOut,
    pub under_review: StatusTotalsOut,
    pub approved: StatusTotalsOut,
    pub rejected: StatusTotalsOut,
    pub returned: StatusTotalsOut,
    pub paid: StatusTotalsOut,
}

/// Enrollment and claim totals over the members of a subtree (their current union).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsOut {
    pub org_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    /// Distinct members with an enrollment.
    pub enrolled_members: i64,
    pub enrollments: i64,
    pub premiums_fen: i64,
    pub coverage_fen: i64,
    pub claims: ClaimsByStatus,
    /// What paid claims paid.
    pub paid_fen: i64,
}

// ─── Helpers ────────────────────────────────────────────────────────────────

/// Where a caller may read and file insurance: administrators and reviewers.
fn staff_reach(principal: &Principal) -> Reach {
    principal.reach(|r| r.administers() || r == Role::InsuranceReviewer)
}

/// Where a caller may review, decide and record payments: `insurance_reviewer` only.
fn reviewer_reach(principal: &Principal) -> ApiResult<Reach> {
    let reach = principal.reach(|r| r == Role::InsuranceReviewer);
    if reach.is_empty() {
        return Err(ApiError::forbidden(
            "this action needs the insurance_reviewer role",
        ));
    }
    Ok(reach)
}

/// Who is looking: staff with a reach, or a member account (its own records).
enum Viewer {
    Staff(Reach),
    Member(MemberId),
}

impl Viewer {
    fn of(principal: &Principal) -> ApiResult<Viewer> {
        let reach = staff_reach(principal);
        if !reach.is_empty() {
            return Ok(Viewer::Staff(reach));
        }
        match principal.member_id {
            Some(own) => Ok(Viewer::Member(own)),
            None => Err(ApiError::forbidden(
                "insurance needs an administrator, insurance_reviewer or member account",
            )),
        }
    }

    fn owner_scope(&self) -> OwnerScope<'_> {
        match self {
            Viewer::Staff(reach) => OwnerScope::Staff(reach),
            Viewer::Member(own) => OwnerScope::Member(*own),
        }
    }
}

/// Reads `T`, turning "not found" into a 404 naming `what`.
fn found<T>(result: Result<T, StoreError>, what: &str) -> ApiResult<T> {
    match result {
        Err(StoreError::NotFound) => Err(ApiError::not_found(what)),
        other => Ok(other?),
    }
}

/// The organisation path of a member account's own membership.
async fn own_path(
    db: &impl ConnectionTrait,
    own: MemberId,
) -> ApiResult<unionhall_domain::orgs::OrgPath> {
    repo::candidates_by_id(db, &[own.0])
        .await?
        .into_iter()
        .next()
        .map(|c| c.org_path)
        .ok_or_else(|| ApiError::not_found("member"))
}

/// A plan the viewer may see.
async fn visible_plan(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> ApiResult<Plan> {
    let result = match viewer {
        Viewer::Staff(reach) => repo::get_plan(db, PlanScope::Staff(reach), id).await,
        Viewer::Member(own) => {
            let path = own_path(db, *own).await?;
            repo::get_plan(db, PlanScope::Member(&path), id).await
        }
    };
    found(result, "plan")
}

fn problems(list: Vec<FieldProblem>) -> ApiError {
    ApiError::validation(
        list.into_iter()
            .map(|p| FieldError::new(p.pointer, p.code, p.detail))
            .collect(),
    )
}

fn transition_conflict(e: ClaimTransitionError) -> ApiError {
    ApiError::conflict(e.to_string(), "status", None)
}

fn seal_diagnosis(pii: &PiiCipher, clear: &str) -> ApiResult<String> {
    pii.encrypt(Field::Diagnosis, clear).map_err(|e| {
        tracing::error!(error = %e, "a diagnosis could not be encrypted");
        ApiError::internal()
    })
}

fn open_diagnosis(pii: &PiiCipher, sealed: Option<&str>) -> ApiResult<Option<String>> {
    sealed
        .map(|s| {
            pii.decrypt(Field::Diagnosis, s).map_err(|e| {
                tracing::error!(error = %e, "a diagnosis could not be decrypted");
                ApiError::internal()
            })
        })
        .transpose()
}

fn facts_of(pii: &PiiCipher, c: &Claim) -> ApiResult<ClaimFacts> {
    Ok(ClaimFacts {
        kind: c.kind,
        incident_date: c.incident_date,
        hospital_days: c.hospital_days,
        expenses_fen: c.expenses_fen,
        disability_grade: c.disability_grade,
        diagnosis: open_diagnosis(pii, c.diagnosis_sealed.as_deref())?,
    })
}

/// The payout of a claim that passed `check_claim`, against what the enrollment has
/// already committed.
fn payout_for(plan: &Plan, enrollment: &Enrollment, facts: &ClaimFacts) -> ApiResult<Payout> {
    compute_payout(
        &plan.terms.benefits,
        enrollment.shares,
        facts,
        enrollment.cover_start,
        enrollment.committed_fen,
    )
    .map_err(|e| match e {
        PayoutError::BadFact(pointer) => ApiError::field(pointer, "out_of_range", e.to_string()),
        PayoutError::KindNotCovered { .. } => {
            ApiError::field("/kind", "kind_not_covered", e.to_string())
        }
        other => {
            tracing::error!(error = %other, "payout could not be computed");
            ApiError::internal()
        }
    })
}

fn event_out(e: ClaimEvent) -> ApiResult<ClaimEventOut> {
    let action = ClaimEventAction::ALL
        .into_iter()
        .find(|a| a.as_str() == e.action)
        .ok_or_else(|| {
            tracing::error!(action = %e.action, "unknown claim event action");
            ApiError::internal()
        })?;
    Ok(ClaimEventOut {
        action,
        from_status: e.from_status,
        to_status: e.to_status,
        reason: e.reason,
        amount_fen: e.amount_fen,
        actor_user_id: e.actor_user_id.map(|u| u.0),
        request_id: e.request_id,
        at: e.at,
    })
}

fn claim_out(pii: &PiiCipher, c: Claim, history: Vec<ClaimEvent>) -> ApiResult<ClaimOut> {
    Ok(ClaimOut {
        diagnosis: open_diagnosis(pii, c.diagnosis_sealed.as_deref())?,
        history: history
            .into_iter()
            .map(event_out)
            .collect::<ApiResult<_>>()?,
        id: c.id,
        enrollment_id: c.enrollment_id,
        plan_id: c.plan_id,
        member_id: c.member_id.0,
        kind: c.kind,
        incident_date: c.incident_date,
        hospital_days: c.hospital_days,
        expenses_fen: c.expenses_fen,
        disability_grade: c.disability_grade,
        documents: c.documents,
        status: c.status,
        computed_fen: c.computed_fen,
        payout: c.payout,
        approved_fen: c.approved_fen,
        payment_reference: c.payment_reference,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// A claim with its history, as the API shows it.
async fn claim_with_history(
    db: &impl ConnectionTrait,
    pii: &PiiCipher,
    claim: Claim,
) -> ApiResult<ClaimOut> {
    let history = repo::histories(db, &[claim.id])
        .await?
        .remove(&claim.id)
        .unwrap_or_default();
    claim_out(pii, claim, history)
}

fn claim_response(out: ClaimOut, version: i32) -> HttpResponse {
    with_etag(&mut HttpResponse::Ok(), version).json(out)
}

// ─── Enrolling ──────────────────────────────────────────────────────────────

/// Who an enrollment is for.
pub(crate) enum Whom {
    One(Uuid),
    Ids(Vec<Uuid>),
    Selected(Selector),
}

/// The parts of an enrollment request every member shares.
pub(crate) struct Enrolling<'a> {
    pub plan: &'a Plan,
    pub shares: u32,
    pub paid_by: PaidBy,
    /// Day 0 of cover for everyone enrolled.
    pub cover_start: NaiveDate,
    pub enrolled_by: Option<UserId>,
}

/// Why a candidate can't be enrolled, before looking at existing enrollments: reach,
/// then the plan's subtree and eligibility rules.
fn judge(reach: Option<&Reach>, plan: &Plan, c: &Candidate) -> Result<(), SkipReason> {
    if reach.is_some_and(|r| !r.covers(&c.org_path)) {
        return Err(SkipReason::NotInReach);
    }
    eligible(
        &plan.terms.eligibility,
        c.status,
        c.occupation,
        c.employment_form,
    )?;
    if !plan.org_path.contains(&c.org_path) {
        return Err(SkipReason::NotEligible);
    }
    Ok(())
}

/// Enrolls members in an open plan inside `txn` and reports who was skipped and why:
/// a few reads (the candidates, the plan's enrollments, earlier enrollments of the
/// same kind) and one insert per 500 members, whatever the group's size. `reach` is
/// the administrator's (`None`: the member's own request, already checked).
pub(crate) async fn enroll(
    txn: &DatabaseTransaction,
    reach: Option<&Reach>,
    how: &Enrolling<'_>,
    whom: Whom,
) -> ApiResult<EnrollmentReport> {
    let plan = how.plan;
    let premium = plan
        .terms
        .premium_fen(how.shares)
        .map_err(|e| ApiError::field("/shares", "overflow", e.to_string()))?;
    let coverage = plan
        .terms
        .coverage_fen(how.shares)
        .map_err(|e| ApiError::field("/shares", "overflow", e.to_string()))?;
    let mut skipped = Vec::new();
    let mut admitted: Vec<MemberId> = Vec::new();
    let single = matches!(whom, Whom::One(_));
    let already = repo::enrolled_members(txn, plan.id).await?;
    match whom {
        Whom::One(member) => {
            let c = repo::candidates_by_id(txn, &[member])
                .await?
                .into_iter()
                .next()
                .filter(|c| reach.is_none_or(|r| r.covers(&c.org_path)))
                .ok_or_else(|| ApiError::not_found("member"))?;
            judge(reach, plan, &c).map_err(|reason| {
                ApiError::field(
                    "/member_id",
                    reason.as_str(),
                    match reason {
                        SkipReason::NotActive => "the membership is not active".to_owned(),
                        _ => "the plan's eligibility rules (its union's subtree, occupation, \
                              employment form) exclude this member"
                            .to_owned(),
                    },
                )
            })?;
            if already.contains(&member) {
                let existing = repo::find_enrollment(txn, plan.id, MemberId(member)).await?;
                return Err(ApiError::conflict(
                    "the member is already enrolled in this plan",
                    "already_enrolled",
                    existing.map(|id| id.to_string()),
                ));
            }
            admitted.push(c.member_id);
        }
        Whom::Ids(ids) => {
            let mut seen = HashSet::new();
            let ids: Vec<Uuid> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
            let found: HashMap<Uuid, Candidate> = repo::candidates_by_id(txn, &ids)
                .await?
                .into_iter()
                .map(|c| (c.member_id.0, c))
                .collect();
            for id in ids {
                let verdict = match found.get(&id) {
                    None => Err(SkipReason::NotInReach),
                    Some(c) => judge(reach, plan, c).and_then(|()| {
                        if already.contains(&id) {
                            Err(SkipReason::AlreadyEnrolled)
                        } else {
                            Ok(())
                        }
                    }),
                };
                match verdict {
                    Ok(()) => admitted.push(MemberId(id)),
                    Err(reason) => skipped.push(SkippedOut {
                        member_id: id,
                        reason,
                    }),
                }
            }
        }
        Whom::Selected(selector) => {
            let everywhere = Reach::over(vec![selector.subtree.clone()]);
            let reach = reach.unwrap_or(&everywhere);
            for c in repo::candidates_selected(txn, reach, &plan.org_path, &selector).await? {
                let verdict = judge(Some(reach), plan, &c).and_then(|()| {
                    if already.contains(&c.member_id.0) {
                        Err(SkipReason::AlreadyEnrolled)
                    } else {
                        Ok(())
                    }
                });
                match verdict {
                    Ok(()) => admitted.push(c.member_id),
                    Err(reason) => skipped.push(SkippedOut {
                        member_id: c.member_id.0,
                        reason,
                    }),
                }
            }
        }
    }
    let ids: Vec<Uuid> = admitted.iter().map(|m| m.0).collect();
    let before = repo::enrolled_before(txn, plan.terms.kind(), plan.id, &ids).await?;
    let count = admitted.len();
    let total = |each: i64| -> ApiResult<i64> {
        i64::try_from(i128::from(each) * i128::try_from(count).unwrap_or(i128::MAX))
            .map_err(|_| ApiError::field("/shares", "overflow", "the totals are too large"))
    };
    let (total_premium_fen, total_coverage_fen) = (total(premium)?, total(coverage)?);
    let rows: Vec<NewEnrollment> = admitted
        .into_iter()
        .map(|member| NewEnrollment {
            id: Uuid::now_v7(),
            member_id: member,
            shares: how.shares,
            paid_by: how.paid_by,
            premium_fen: premium,
            coverage_fen: coverage,
            cover_start: how.cover_start,
            first_enrollment: !before.contains(&member.0),
        })
        .collect();
    let enrollment_id = if single {
        rows.first().map(|r| r.id)
    } else {
        None
    };
    match repo::insert_enrollments(txn, plan.id, how.enrolled_by, rows).await {
        Err(e) if e.is_conflict_on("insurance_enrollments") => {
            return Err(ApiError::conflict(
                "a concurrent request enrolled some of these members in this plan; retry to \
                 see them reported as already enrolled",
                "already_enrolled",
                None,
            ));
        }
        other => other?,
    }
    Ok(EnrollmentReport {
        plan_id: plan.id,
        enrolled: u64::try_from(count).unwrap_or(u64::MAX),
        enrollment_id,
        skipped,
        total_premium_fen,
        total_coverage_fen,
    })
}

/// The open plan an enrollment goes into, re-read under a shared lock, and the day
/// cover starts for enrollments made today.
pub(crate) async fn open_plan_for_enrolling(
    txn: &DatabaseTransaction,
    plan_id: Uuid,
    today: NaiveDate,
) -> ApiResult<(Plan, NaiveDate)> {
    let plan = repo::lock_plan_shared(txn, plan_id).await?;
    if !plan.status.accepts_enrollments() {
        return Err(ApiError::conflict(
            format!(
                "the plan is {}; members can enrol only while it is open",
                plan.status
            ),
            "plan_status",
            None,
        ));
    }
    let cover_start = plan.terms.cover_start_for(today).ok_or_else(|| {
        ApiError::conflict(
            format!("the plan's term ended on {}", plan.terms.term_end),
            "term_ended",
            None,
        )
    })?;
    Ok((plan, cover_start))
}

// ─── Filing ─────────────────────────────────────────────────────────────────

/// Checks a claim's facts against the plan and enrollment (every reason at once) and
/// prices it.
fn checked_payout(
    plan: &Plan,
    enrollment: &Enrollment,
    facts: &ClaimFacts,
    today: NaiveDate,
) -> ApiResult<Payout> {
    if !plan.status.accepts_claims() {
        return Err(ApiError::conflict(
            format!("the plan is {}; it takes no claims", plan.status),
            "plan_status",
            None,
        ));
    }
    check_claim(
        &plan.terms,
        enrollment.cover_start,
        enrollment.first_enrollment,
        facts,
        today,
    )
    .map_err(problems)?;
    payout_for(plan, enrollment, facts)
}

/// The 409 for a claim that duplicates an open or paid one, naming it.
async fn duplicate_claim(
    db: &impl ConnectionTrait,
    enrollment_id: Uuid,
    kind: ClaimKind,
    incident_date: NaiveDate,
) -> ApiError {
    match repo::find_open_claim(db, enrollment_id, kind, incident_date).await {
        Ok(existing) => ApiError::conflict(
            "an open or paid claim of this kind and incident date exists for this enrollment",
            "open_claim",
            existing.map(|id| id.to_string()),
        ),
        Err(e) => e.into(),
    }
}

/// Files a claim on an enrollment the caller may see, inside `txn`.
pub(crate) async fn file_claim(
    txn: &DatabaseTransaction,
    enrollment: Enrollment,
    facts: ClaimFacts,
    data: ClaimData,
    today: NaiveDate,
    actor: &Actor,
) -> ApiResult<Claim> {
    let plan = repo::get_plan_unscoped(txn, enrollment.plan_id).await?;
    let payout = checked_payout(&plan, &enrollment, &facts, today)?;
    let (enrollment_id, kind, date) = (enrollment.id, data.kind, data.incident_date);
    match repo::insert_claim(
        txn,
        NewClaim {
            enrollment,
            data,
            payout,
        },
        actor,
    )
    .await
    {
        Err(e) if e.is_conflict_on("open_claim") => {
            Err(duplicate_claim(txn, enrollment_id, kind, date).await)
        }
        other => Ok(other?),
    }
}

/// Applies a reviewer's decision to a locked claim inside `txn`. An approval
/// recomputes the payout against what the enrollment has committed now, checks the
/// approved amount, and adds it to the enrollment's committed amount with a
/// conditional update on the locked enrollment row, so concurrent approvals can never
/// take more than the pot.
pub(crate) async fn decide_claim(
    txn: &DatabaseTransaction,
    pii: &PiiCipher,
    current: &Claim,
    decision: Decision,
    reason: Option<String>,
    approved_fen: Option<i64>,
    actor: &Actor,
) -> ApiResult<Claim> {
    let action = ClaimAction::Decide(decision);
    let to = action.apply(current.status).map_err(transition_conflict)?;
    if decision.reason_required() && reason.is_none() {
        return Err(ApiError::field(
            "/reason",
            "required",
            format!("to {decision} a claim, give the member a reason"),
        ));
    }
    if decision != Decision::Approve && approved_fen.is_some() {
        return Err(ApiError::field(
            "/approved_fen",
            "not_allowed",
            "approved_fen goes only with an approval",
        ));
    }
    let mut update = ClaimUpdate::default();
    let mut amount = None;
    if decision == Decision::Approve {
        let enrollment = repo::lock_enrollment(txn, current.enrollment_id).await?;
        let plan = repo::get_plan_unscoped(txn, enrollment.plan_id).await?;
        let facts = facts_of(pii, current)?;
        let payout = payout_for(&plan, &enrollment, &facts)?;
        let exhausted = || {
            ApiError::conflict(
                "nothing remains of the enrollment's cover this term; reject the claim with a \
                 reason instead",
                "cover_exhausted",
                None,
            )
        };
        if payout.remaining_cap_before_fen == 0
            && payout.lines.iter().any(|l| l.rule == PayoutRule::TermCap)
        {
            return Err(exhausted());
        }
        let approved = approved_amount_check(payout.amount_fen, approved_fen, reason.as_deref())
            .map_err(|p| ApiError::field(p.pointer(), p.code(), p.to_string()))?;
        let once = plan.terms.kind() == PlanKind::CriticalIllness;
        if !repo::commit_to_pot(txn, enrollment.id, approved, enrollment.coverage_fen, once).await?
        {
            return Err(exhausted());
        }
        update.payout = Some(payout);
        update.approved_fen = Some(approved);
        amount = Some(approved);
    }
    transition(txn, current, action, to, update, reason, amount, actor).await
}

/// Records a transition, turning a lost race into a 409.
#[allow(clippy::too_many_arguments)]
async fn transition(
    txn: &DatabaseTransaction,
    current: &Claim,
    action: ClaimAction,
    to: ClaimStatus,
    update: ClaimUpdate,
    reason: Option<String>,
    amount_fen: Option<i64>,
    actor: &Actor,
) -> ApiResult<Claim> {
    let step = ClaimStep {
        action: ClaimEventAction::of(action).as_str(),
        reason,
        amount_fen,
    };
    match repo::transition_claim(txn, current, to, update, step, actor).await {
        Err(StoreError::StaleVersion) => Err(ApiError::conflict(
            "the claim was changed concurrently; read it again",
            "status",
            None,
        )),
        other => Ok(other?),
    }
}

/// Starts the review of a locked claim, or records its payment.
pub(crate) async fn move_claim(
    txn: &DatabaseTransaction,
    current: &Claim,
    action: ClaimAction,
    payment_reference: Option<String>,
    actor: &Actor,
) -> ApiResult<Claim> {
    let to = action.apply(current.status).map_err(transition_conflict)?;
    let amount = (action == ClaimAction::Pay)
        .then_some(current.approved_fen)
        .flatten();
    let update = ClaimUpdate {
        payment_reference,
        ..Default::default()
    };
    transition(txn, current, action, to, update, None, amount, actor).await
}

/// A reviewer's claim, locked for the rest of the transaction.
async fn reviewed_claim(txn: &DatabaseTransaction, reach: &Reach, id: Uuid) -> ApiResult<Claim> {
    found(
        repo::get_claim(txn, OwnerScope::Staff(reach), id).await,
        "claim",
    )?;
    Ok(repo::lock_claim(txn, id).await?)
}

// ─── Handlers: plans ────────────────────────────────────────────────────────

/// Create a plan (a `draft`) for an organisation the caller administers. Its members'
/// subtree may enrol once it is opened.
#[utoipa::path(post, path = "/v1/insurance/plans", tag = "insurance", request_body = PlanIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = PlanOut,
        headers(("Location" = String, description = "The plan's URL")))))]
pub async fn create_plan(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<PlanIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!("POST /v1/insurance/plans {}", body.digest);
    let input = body.value;
    if let Some(kind) = input.kind
        && kind != input.benefits.kind()
    {
        return Err(ApiError::field(
            "/kind",
            "kind_mismatch",
            format!(
                "kind is {kind} but the benefit rules are for {}",
                input.benefits.kind()
            ),
        ));
    }
    let terms = PlanTerms {
        share_premium_fen: input.share_premium_fen,
        max_shares: input.max_shares,
        term_start: input.term_start,
        term_end: input.term_end,
        waiting_days: input.waiting_days,
        eligibility: input.eligibility,
        benefits: input.benefits,
    };
    terms.validate().map_err(problems)?;
    let name = input.name.trim().to_owned();
    let org_id = input.org_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            org_in_reach(txn, &reach, org_id, "/org_id").await?;
            let plan = repo::insert_plan(
                txn,
                NewPlan {
                    org_id: OrgId(org_id),
                    name,
                    terms,
                },
            )
            .await?;
            Ok(Created {
                location: format!("/v1/insurance/plans/{}", plan.id),
                body: PlanOut::from(plan),
            })
        })
    })
    .await
}

/// List the plans the caller may see: staff, their reach's plans and the open or
/// closed plans above it; members, the open or closed plans of their union and above.
#[utoipa::path(get, path = "/v1/insurance/plans", tag = "insurance", params(PlanQuery),
    responses((status = 200, description = "A page of plans", body = ListResponse<PlanOut>)))]
pub async fn list_plans(
    state: State,
    principal: Principal,
    query: ValidQuery<PlanQuery>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let filter = PlanFilter {
        org_id: q.org_id.map(OrgId),
        status: q.status,
        kind: q.kind,
    };
    let page = match &viewer {
        Viewer::Staff(reach) => {
            repo::list_plans(&state.db, PlanScope::Staff(reach), &filter, page).await?
        }
        Viewer::Member(own) => {
            let path = own_path(&state.db, *own).await?;
            repo::list_plans(&state.db, PlanScope::Member(&path), &filter, page).await?
        }
    };
    ListResponse::from_page(page, PlanOut::from).respond()
}

/// Get a plan.
#[utoipa::path(get, path = "/v1/insurance/plans/{id}", tag = "insurance",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses((status = 200, description = "The plan", body = PlanOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get_plan(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let plan = visible_plan(&state.db, &viewer, *id).await?;
    let version = plan.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(PlanOut::from(plan)))
}

/// Rename a plan, move it along `draft → open → closed`, or (while it is a draft,
/// before anyone can enrol) change its terms and benefit rules. A bad transition or a
/// change to the terms of a plan that is open, closed or has enrollments is a 409.
#[utoipa::path(patch, path = "/v1/insurance/plans/{id}", tag = "insurance", request_body = PlanPatch,
    params(("id" = Uuid, Path, description = "Plan id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated plan", body = PlanOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update_plan(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<PlanPatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let patch = body.value;
    let txn = db::begin_write(&state.db).await?;
    let current = found(
        repo::get_plan(&txn, PlanScope::Administered(&reach), *id).await,
        "plan",
    )?;
    let version = if_match.expect(current.version)?.unwrap_or(current.version);
    let status = match patch.status {
        Some(to) if to != current.status => {
            if !current.status.can_move_to(to) {
                return Err(ApiError::conflict(
                    format!(
                        "the plan is {}, so it can't become {to} (draft → open → closed)",
                        current.status
                    ),
                    "status",
                    None,
                ));
            }
            Some(to)
        }
        _ => None,
    };
    let terms = if patch.touches_terms() {
        if !current.status.terms_editable() || repo::count_enrollments(&txn, current.id).await? > 0
        {
            return Err(ApiError::conflict(
                format!(
                    "the plan is {}: its terms and benefit rules are frozen once it opens \
                     (members enrolled under them); a new term is a new plan",
                    current.status
                ),
                "terms_frozen",
                None,
            ));
        }
        let t = &current.terms;
        let merged = PlanTerms {
            share_premium_fen: patch.share_premium_fen.unwrap_or(t.share_premium_fen),
            max_shares: patch.max_shares.unwrap_or(t.max_shares),
            term_start: patch.term_start.unwrap_or(t.term_start),
            term_end: patch.term_end.unwrap_or(t.term_end),
            waiting_days: patch.waiting_days.unwrap_or(t.waiting_days),
            eligibility: patch.eligibility.unwrap_or_else(|| t.eligibility.clone()),
            benefits: patch.benefits.unwrap_or_else(|| t.benefits.clone()),
        };
        merged.validate().map_err(problems)?;
        Some(merged)
    } else {
        None
    };
    let changes = PlanChanges {
        name: patch.name.map(|n| n.trim().to_owned()),
        status,
        terms,
    };
    let plan = if changes.name.is_none() && changes.status.is_none() && changes.terms.is_none() {
        current
    } else {
        repo::update_plan(&txn, &current, version, changes).await?
    };
    txn.commit().await.map_err(StoreError::from)?;
    let version = plan.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(PlanOut::from(plan)))
}

// ─── Handlers: enrollments ──────────────────────────────────────────────────

/// Enrol one member, or a group. A member enrols themself (`member_id` left out or
/// their own, `paid_by: member`). An administrator enrols one member in reach, a list
/// (`member_ids`, up to 10,000) or everyone a `selector` picks (the active members of
/// an organisation's subtree, optionally of one occupation or employment form), often
/// `paid_by: union`. The plan must be open. A group is one transaction: everyone in it
/// is enrolled or nobody is; the report names everyone skipped and why (`not_in_reach`,
/// `not_active`, `not_eligible` — outside the plan's union subtree or its occupation /
/// employment-form filters — or `already_enrolled`). One member already enrolled is a
/// 409. Cover starts on the term start, or today once the term has begun.
#[utoipa::path(post, path = "/v1/insurance/enrollments", tag = "insurance", request_body = EnrollmentIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "What was enrolled and what was skipped", body = EnrollmentReport,
        headers(("Location" = String, description = "The enrollment's URL, or for a group the plan's enrollment list"))),
        (status = 404, description = "The plan, or the one member named, is not in the caller's reach", body = crate::error::Problem,
            content_type = "application/problem+json")))]
pub async fn enroll_members(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<EnrollmentIn>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let fingerprint = format!("POST /v1/insurance/enrollments {}", body.digest);
    let input = body.value;
    let named: Vec<&str> = [
        input.member_id.is_some().then_some("/member_id"),
        input.member_ids.is_some().then_some("/member_ids"),
        input.selector.is_some().then_some("/selector"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if named.len() > 1 {
        return Err(ApiError::validation(
            named
                .iter()
                .map(|p| {
                    FieldError::new(
                        *p,
                        "exclusive",
                        "send exactly one of member_id, member_ids and selector",
                    )
                })
                .collect(),
        ));
    }
    let (reach, whom) = match &viewer {
        Viewer::Member(own) => {
            if input.member_ids.is_some() || input.selector.is_some() {
                return Err(ApiError::forbidden(
                    "group enrollments need the federation_admin or union_admin role",
                ));
            }
            if input.member_id.is_some_and(|m| m != own.0) {
                return Err(ApiError::not_found("member"));
            }
            if input.paid_by != PaidBy::Member {
                return Err(ApiError::field(
                    "/paid_by",
                    "paid_by",
                    "a member enrolling themself pays themself: paid_by must be member",
                ));
            }
            (None, Whom::One(own.0))
        }
        Viewer::Staff(_) => {
            let reach = principal.require_admin()?;
            let whom = match (input.member_id, input.member_ids, input.selector) {
                (Some(one), None, None) => Whom::One(one),
                (None, Some(ids), None) => Whom::Ids(ids),
                (None, None, Some(s)) => {
                    let org = org_in_reach(&state.db, &reach, s.org_id, "/selector/org_id").await?;
                    Whom::Selected(Selector {
                        subtree: org.path,
                        occupation: s.occupation,
                        employment_form: s.employment_form,
                    })
                }
                _ => {
                    return Err(ApiError::field(
                        "/member_id",
                        "required",
                        "send exactly one of member_id, member_ids and selector",
                    ));
                }
            };
            (Some(reach), whom)
        }
    };
    let plan_id = input.plan_id;
    let (shares, paid_by) = (input.shares, input.paid_by);
    let enrolled_by = principal.user_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let visible = visible_plan(txn, &viewer, plan_id).await?;
            let (plan, cover_start) =
                open_plan_for_enrolling(txn, visible.id, today_in_china()).await?;
            plan.terms
                .check_shares(shares)
                .map_err(|p| problems(vec![p]))?;
            let how = Enrolling {
                plan: &plan,
                shares,
                paid_by,
                cover_start,
                enrolled_by: Some(enrolled_by),
            };
            let report = enroll(txn, reach.as_ref(), &how, whom).await?;
            let location = match report.enrollment_id {
                Some(id) => format!("/v1/insurance/enrollments/{id}"),
                None => format!("/v1/insurance/enrollments?plan_id={}", plan.id),
            };
            Ok(Created {
                location,
                body: report,
            })
        })
    })
    .await
}

/// List enrollments: staff, those of members in their reach; members, their own.
#[utoipa::path(get, path = "/v1/insurance/enrollments", tag = "insurance", params(EnrollmentQuery),
    responses((status = 200, description = "A page of enrollments", body = ListResponse<EnrollmentOut>)))]
pub async fn list_enrollments(
    state: State,
    principal: Principal,
    query: ValidQuery<EnrollmentQuery>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let filter = EnrollmentFilter {
        plan_id: q.plan_id,
        member_id: q.member_id.map(MemberId),
    };
    let page = repo::list_enrollments(&state.db, viewer.owner_scope(), &filter, page).await?;
    ListResponse::from_page(page, EnrollmentOut::from).respond()
}

/// Get an enrollment.
#[utoipa::path(get, path = "/v1/insurance/enrollments/{id}", tag = "insurance",
    params(("id" = Uuid, Path, description = "Enrollment id")),
    responses((status = 200, description = "The enrollment", body = EnrollmentOut)))]
pub async fn get_enrollment(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let enrollment = found(
        repo::get_enrollment(&state.db, viewer.owner_scope(), *id).await,
        "enrollment",
    )?;
    Ok(HttpResponse::Ok().json(EnrollmentOut::from(enrollment)))
}

// ─── Handlers: claims ───────────────────────────────────────────────────────

/// File a claim: a member on their own enrollment, or an administrator or
/// insurance_reviewer for a member in reach. It is checked at once (422 with every
/// reason: kind not covered, outside the term, before cover, in the waiting period of
/// a first enrollment, in the future, facts the kind needs missing or impossible),
/// and priced from the plan's rules against what the enrollment has already had
/// approved or paid, with explanation lines. An open or paid claim of the same
/// enrollment, kind and incident date is a 409 naming it.
#[utoipa::path(post, path = "/v1/insurance/claims", tag = "insurance", request_body = ClaimIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Filed", body = ClaimOut,
        headers(("Location" = String, description = "The claim's URL"))),
        (status = 404, description = "The enrollment is not the caller's (members) or not in reach (staff)", body = crate::error::Problem,
            content_type = "application/problem+json")))]
pub async fn create_claim(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<ClaimIn>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let fingerprint = format!(
        "POST /v1/insurance/claims {}",
        state.pii.request_digest(&body.digest)
    );
    let input = body.value;
    let diagnosis = input.diagnosis.map(|d| d.trim().to_owned());
    let data = ClaimData {
        kind: input.kind,
        incident_date: input.incident_date,
        hospital_days: input.hospital_days,
        expenses_fen: input.expenses_fen,
        diagnosis_sealed: diagnosis
            .as_deref()
            .map(|d| seal_diagnosis(&state.pii, d))
            .transpose()?,
        disability_grade: input.disability_grade,
        documents: input.documents.unwrap_or_default(),
    };
    let facts = ClaimFacts {
        kind: input.kind,
        incident_date: input.incident_date,
        hospital_days: input.hospital_days,
        expenses_fen: input.expenses_fen,
        disability_grade: input.disability_grade,
        diagnosis,
    };
    let actor = actor(&principal);
    let pii = state.pii.clone();
    let enrollment_id = input.enrollment_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let enrollment = found(
                repo::get_enrollment(txn, viewer.owner_scope(), enrollment_id).await,
                "enrollment",
            )?;
            let claim = file_claim(txn, enrollment, facts, data, today_in_china(), &actor).await?;
            Ok(Created {
                location: format!("/v1/insurance/claims/{}", claim.id),
                body: claim_with_history(txn, &pii, claim).await?,
            })
        })
    })
    .await
}

/// List claims: reviewers and administrators, those of members in their reach;
/// members, their own.
#[utoipa::path(get, path = "/v1/insurance/claims", tag = "insurance", params(ClaimQuery),
    responses((status = 200, description = "A page of claims", body = ListResponse<ClaimOut>)))]
pub async fn list_claims(
    state: State,
    principal: Principal,
    query: ValidQuery<ClaimQuery>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let filter = ClaimFilter {
        status: q.status,
        plan_id: q.plan_id,
        member_id: q.member_id.map(MemberId),
        enrollment_id: q.enrollment_id,
    };
    let page = repo::list_claims(&state.db, viewer.owner_scope(), &filter, page).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|c| c.id).collect();
    let mut histories = repo::histories(&state.db, &ids).await?;
    let items = page
        .items
        .into_iter()
        .map(|c| {
            let history = histories.remove(&c.id).unwrap_or_default();
            claim_out(&state.pii, c, history)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    ListResponse {
        items,
        next_cursor: page.next_after.map(encode_cursor),
    }
    .respond()
}

/// Get a claim with its payout explanation and history. Another member's claim is a
/// 404 to a member, as is a claim outside a reviewer's reach.
#[utoipa::path(get, path = "/v1/insurance/claims/{id}", tag = "insurance",
    params(("id" = Uuid, Path, description = "Claim id")),
    responses((status = 200, description = "The claim", body = ClaimOut,
        headers(("ETag" = String, description = "Send as If-Match to correct a returned claim")))))]
pub async fn get_claim(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let claim = found(
        repo::get_claim(&state.db, viewer.owner_scope(), *id).await,
        "claim",
    )?;
    let version = claim.version;
    let out = claim_with_history(&state.db, &state.pii, claim).await?;
    Ok(claim_response(out, version))
}

/// Correct a returned claim and resubmit it (it becomes `submitted` again): whoever
/// may file it. The corrected facts are checked and priced again, like a new claim.
#[utoipa::path(patch, path = "/v1/insurance/claims/{id}", tag = "insurance", request_body = ClaimPatch,
    params(("id" = Uuid, Path, description = "Claim id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The resubmitted claim", body = ClaimOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update_claim(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<ClaimPatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal)?;
    let patch = body.value;
    let txn = db::begin_write(&state.db).await?;
    found(
        repo::get_claim(&txn, viewer.owner_scope(), *id).await,
        "claim",
    )?;
    let current = repo::lock_claim(&txn, *id).await?;
    if_match.expect(current.version)?;
    let to = ClaimAction::Resubmit
        .apply(current.status)
        .map_err(transition_conflict)?;
    let mut facts = facts_of(&state.pii, &current)?;
    let mut sealed = current.diagnosis_sealed.clone();
    if let Some(d) = patch.diagnosis {
        let d = d.trim().to_owned();
        sealed = Some(seal_diagnosis(&state.pii, &d)?);
        facts.diagnosis = Some(d);
    }
    facts.incident_date = patch.incident_date.unwrap_or(facts.incident_date);
    facts.hospital_days = patch.hospital_days.or(facts.hospital_days);
    facts.expenses_fen = patch.expenses_fen.or(facts.expenses_fen);
    facts.disability_grade = patch.disability_grade.or(facts.disability_grade);
    let enrollment =
        repo::get_enrollment(&txn, viewer.owner_scope(), current.enrollment_id).await?;
    let plan = repo::get_plan_unscoped(&txn, enrollment.plan_id).await?;
    let payout = checked_payout(&plan, &enrollment, &facts, today_in_china())?;
    let data = ClaimData {
        kind: facts.kind,
        incident_date: facts.incident_date,
        hospital_days: facts.hospital_days,
        expenses_fen: facts.expenses_fen,
        diagnosis_sealed: sealed,
        disability_grade: facts.disability_grade,
        documents: patch.documents.unwrap_or_else(|| current.documents.clone()),
    };
    let amount = payout.amount_fen;
    let update = ClaimUpdate {
        data: Some(data),
        payout: Some(payout),
        ..Default::default()
    };
    let step = ClaimStep {
        action: ClaimEventAction::Resubmit.as_str(),
        reason: None,
        amount_fen: Some(amount),
    };
    let claim =
        match repo::transition_claim(&txn, &current, to, update, step, &actor(&principal)).await {
            Err(e) if e.is_conflict_on("open_claim") => {
                return Err(duplicate_claim(
                    &txn,
                    current.enrollment_id,
                    facts.kind,
                    facts.incident_date,
                )
                .await);
            }
            Err(StoreError::StaleVersion) => return Err(ApiError::precondition_failed()),
            other => other?,
        };
    let version = claim.version;
    let out = claim_with_history(&txn, &state.pii, claim).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(claim_response(out, version))
}

/// Take a submitted claim up for review (`submitted → under_review`):
/// insurance_reviewer in reach.
#[utoipa::path(post, path = "/v1/insurance/claims/{id}/review", tag = "insurance",
    params(("id" = Uuid, Path, description = "Claim id")),
    responses((status = 200, description = "The claim, under review", body = ClaimOut)))]
pub async fn start_review(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let reach = reviewer_reach(&principal)?;
    let txn = db::begin_write(&state.db).await?;
    let current = reviewed_claim(&txn, &reach, *id).await?;
    let claim = move_claim(
        &txn,
        &current,
        ClaimAction::StartReview,
        None,
        &actor(&principal),
    )
    .await?;
    let version = claim.version;
    let out = claim_with_history(&txn, &state.pii, claim).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(claim_response(out, version))
}

/// Decide a submitted or under-review claim: insurance_reviewer in reach. `reject`
/// and `return` need a reason. `approve` recomputes the payout against what the
/// enrollment has committed now and grants it, or less with a reason (never more);
/// when nothing remains of the enrollment's cover it is a 409. Approvals on one
/// enrollment take turns on its row, so together they never exceed its cover.
#[utoipa::path(post, path = "/v1/insurance/claims/{id}/decision", tag = "insurance", request_body = DecisionIn,
    params(("id" = Uuid, Path, description = "Claim id")),
    responses((status = 200, description = "The decided claim", body = ClaimOut)))]
pub async fn decide(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<DecisionIn>,
) -> ApiResult<HttpResponse> {
    let reach = reviewer_reach(&principal)?;
    let input = body.value;
    let reason = input
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let txn = db::begin_write(&state.db).await?;
    let current = reviewed_claim(&txn, &reach, *id).await?;
    let claim = decide_claim(
        &txn,
        &state.pii,
        &current,
        input.decision,
        reason,
        input.approved_fen,
        &actor(&principal),
    )
    .await?;
    let version = claim.version;
    let out = claim_with_history(&txn, &state.pii, claim).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(claim_response(out, version))
}

/// Record the payment of an approved claim (`approved → paid`): insurance_reviewer in
/// reach.
#[utoipa::path(post, path = "/v1/insurance/claims/{id}/payment", tag = "insurance", request_body = PaymentIn,
    params(("id" = Uuid, Path, description = "Claim id")),
    responses((status = 200, description = "The paid claim", body = ClaimOut)))]
pub async fn pay(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<PaymentIn>,
) -> ApiResult<HttpResponse> {
    let reach = reviewer_reach(&principal)?;
    let reference = body.value.reference.trim().to_owned();
    let txn = db::begin_write(&state.db).await?;
    let current = reviewed_claim(&txn, &reach, *id).await?;
    let claim = move_claim(
        &txn,
        &current,
        ClaimAction::Pay,
        Some(reference),
        &actor(&principal),
    )
    .await?;
    let version = claim.version;
    let out = claim_with_history(&txn, &state.pii, claim).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(claim_response(out, version))
}

// ─── Handlers: stats ────────────────────────────────────────────────────────

/// Enrolled members, premiums, coverage, claims by status and the paid total, over
/// the members of a subtree (default: the caller's reach) and optionally one plan:
/// administrators and reviewers.
#[utoipa::path(get, path = "/v1/insurance/stats", tag = "insurance", params(StatsQuery),
    responses((status = 200, description = "The totals", body = StatsOut)))]
pub async fn stats(
    state: State,
    principal: Principal,
    query: ValidQuery<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let reach = staff_reach(&principal);
    if reach.is_empty() {
        return Err(ApiError::forbidden(
            "stats need an administrator or insurance_reviewer role",
        ));
    }
    let q = query.0;
    let scope = match q.org_id {
        Some(org) => Reach::over(vec![
            org_in_reach(&state.db, &reach, org, "/org_id").await?.path,
        ]),
        None => reach.clone(),
    };
    if let Some(plan) = q.plan_id {
        match repo::get_plan(&state.db, PlanScope::Staff(&reach), plan).await {
            Err(StoreError::NotFound) => {
                return Err(ApiError::field(
                    "/plan_id",
                    "not_found",
                    "no such plan in your reach",
                ));
            }
            other => other?,
        };
    }
    let s = repo::stats(&state.db, &scope, q.plan_id).await?;
    let of = |status: ClaimStatus| {
        let t = s
            .claims
            .iter()
            .find(|(st, _)| *st == status)
            .map(|(_, t)| *t)
            .unwrap_or_default();
        StatusTotalsOut {
            count: t.count,
            amount_fen: t.amount_fen,
        }
    };
    Ok(HttpResponse::Ok().json(StatsOut {
        org_id: q.org_id,
        plan_id: q.plan_id,
        enrolled_members: s.enrolled_members,
        enrollments: s.enrollments,
        premiums_fen: s.premiums_fen,
        coverage_fen: s.coverage_fen,
        claims: ClaimsByStatus {
            submitted: of(ClaimStatus::Submitted),
            under_review: of(ClaimStatus::UnderReview),
            approved: of(ClaimStatus::Approved),
            rejected: of(ClaimStatus::Rejected),
            returned: of(ClaimStatus::Returned),
            paid: of(ClaimStatus::Paid),
        },
        paid_fen: s.paid_fen,
    }))
}

//! Mutual-aid insurance: plans, enrollments, claims and their history, and the stats.
//!
//! The rules (terms, eligibility, claim checks, payouts) live in
//! `unionhall_domain::insurance`; this module stores what they decide and enforces in
//! the database what concurrency could otherwise break:
//!
//! - one enrollment per member and plan (`uq_insurance_enrollments_plan_member`);
//! - one open or paid claim per enrollment, kind and incident date (the partial index
//!   `uq_insurance_claims_open`, which a rejected claim leaves);
//! - an enrollment's pot: approvals add to `committed_fen` with a conditional update
//!   that can't pass the coverage ([`commit_to_pot`]), on a row the approving
//!   transaction has locked ([`lock_enrollment`]), and a CHECK backs it up.
//!
//! A group enrollment of any size is a handful of reads and one batched insert per
//! [`BATCH`] members, never a query per member.

use crate::entities::{
    insurance_claim_events as events, insurance_claims as claims, insurance_enrollments as enr,
    insurance_plans as plans, members, orgs,
};
use crate::members::Actor;
use crate::orgs::reach_condition;
use crate::platforms::BATCH;
use crate::{Page, PageRequest, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set, TransactionSession, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use unionhall_domain::insurance::{
    BenefitRules, ClaimKind, ClaimStatus, Eligibility, PaidBy, Payout, PlanKind, PlanStatus,
    PlanTerms,
};
use unionhall_domain::members::{EmploymentForm, MemberStatus, Occupation};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Type(format!("unknown {what} {value}")))
}

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|_| corrupt(what, value))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, &e.to_string()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Db(sea_orm::DbErr::Json(e.to_string())))
}

/// The ids of an organisation path from the root down to itself, as paths: the
/// organisations whose plans are offered to members at `path`.
pub fn ancestor_paths(path: &OrgPath) -> Vec<String> {
    let s = path.as_str();
    s.char_indices()
        .filter(|&(i, c)| c == '/' && i > 0)
        .map(|(i, _)| s[..=i].to_owned())
        .collect()
}

// ─── Plans ──────────────────────────────────────────────────────────────────

/// A stored plan: its terms, and what storage adds (owner, name, status, version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: Uuid,
    /// The union offering it; its members' subtree may enrol.
    pub org_id: OrgId,
    pub org_path: OrgPath,
    pub name: String,
    pub status: PlanStatus,
    pub terms: PlanTerms,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn plan_to_domain(m: plans::Model, org: Option<orgs::Model>) -> Result<Plan, StoreError> {
    let org = org.ok_or(StoreError::NotFound)?;
    let benefits: BenefitRules = from_json("benefit rules", &m.benefits)?;
    if benefits.kind().as_str() != m.kind {
        return Err(corrupt("plan kind", &m.kind));
    }
    Ok(Plan {
        id: m.id,
        org_id: OrgId(m.org_id),
        org_path: OrgPath::from_stored(org.path),
        name: m.name,
        status: parse("plan status", &m.status)?,
        terms: PlanTerms {
            share_premium_fen: m.share_premium_fen,
            max_shares: m.max_shares,
            term_start: m.term_start,
            term_end: m.term_end,
            waiting_days: m.waiting_days,
            eligibility: from_json::<Eligibility>("eligibility", &m.eligibility)?,
            benefits,
        },
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Which plans a caller may see.
#[derive(Debug, Clone, Copy)]
pub enum PlanScope<'a> {
    /// Staff: plans of organisations in their reach, and the non-draft plans of the
    /// organisations above it (offered to the members they look after).
    Staff(&'a Reach),
    /// Plans an administrator may change: those of organisations in their reach.
    Administered(&'a Reach),
    /// A member: the non-draft plans of their union and the organisations above it.
    Member(&'a OrgPath),
}

fn plan_scope_condition(scope: PlanScope<'_>) -> Condition {
    let path = (orgs::Entity, orgs::Column::Path);
    let published = plans::Column::Status.ne(PlanStatus::Draft.as_str());
    match scope {
        PlanScope::Administered(reach) => reach_condition(path, reach),
        PlanScope::Staff(reach) => {
            let above: Vec<String> = reach
                .roots()
                .iter()
                .flat_map(ancestor_paths)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            Condition::any().add(reach_condition(path, reach)).add(
                Condition::all()
                    .add(published)
                    .add(Expr::col(path).is_in(above)),
            )
        }
        PlanScope::Member(member_path) => Condition::all()
            .add(published)
            .add(Expr::col(path).is_in(ancestor_paths(member_path))),
    }
}

/// What a new plan is made of; it starts as a draft.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub org_id: OrgId,
    pub name: String,
    pub terms: PlanTerms,
}

/// Inserts a draft plan.
pub async fn insert_plan(db: &impl ConnectionTrait, new: NewPlan) -> Result<Plan, StoreError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let t = &new.terms;
    plans::ActiveModel {
        id: Set(id),
        org_id: Set(new.org_id.0),
        name: Set(new.name),
        kind: Set(t.kind().as_str().to_owned()),
        status: Set(PlanStatus::Draft.as_str().to_owned()),
        share_premium_fen: Set(t.share_premium_fen),
        max_shares: Set(t.max_shares),
        term_start: Set(t.term_start),
        term_end: Set(t.term_end),
        waiting_days: Set(t.waiting_days),
        eligibility: Set(to_json(&t.eligibility)?),
        benefits: Set(to_json(&t.benefits)?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    get_plan_unscoped(db, id).await
}

/// A plan by id, whoever asks: for callers that already know the caller may see it
/// (the plan of an enrollment in their reach).
pub async fn get_plan_unscoped(db: &impl ConnectionTrait, id: Uuid) -> Result<Plan, StoreError> {
    let (m, org) = plans::Entity::find_by_id(id)
        .find_also_related(orgs::Entity)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    plan_to_domain(m, org)
}

/// A plan the caller may see; anything else is `NotFound`.
pub async fn get_plan(
    db: &impl ConnectionTrait,
    scope: PlanScope<'_>,
    id: Uuid,
) -> Result<Plan, StoreError> {
    let (m, org) = plans::Entity::find_by_id(id)
        .find_also_related(orgs::Entity)
        .filter(plan_scope_condition(scope))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    plan_to_domain(m, org)
}

/// Plan list filters.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// Plans offered by this organisation.
    pub org_id: Option<OrgId>,
    pub status: Option<PlanStatus>,
    pub kind: Option<PlanKind>,
}

/// The plans a caller may see, in creation order.
pub async fn list_plans(
    db: &impl ConnectionTrait,
    scope: PlanScope<'_>,
    filter: &PlanFilter,
    page: PageRequest,
) -> Result<Page<Plan>, StoreError> {
    let mut query = plans::Entity::find()
        .find_also_related(orgs::Entity)
        .filter(plan_scope_condition(scope));
    if let Some(org) = filter.org_id {
        query = query.filter(plans::Column::OrgId.eq(org.0));
    }
    if let Some(status) = filter.status {
        query = query.filter(plans::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(plans::Column::Kind.eq(kind.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(plans::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(plans::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(|(m, org)| plan_to_domain(m, org))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |p| p.id))
}

/// Reads a plan for enrolling, holding a shared lock on its row until the transaction
/// ends (PostgreSQL `FOR SHARE`; SQLite's write transaction already excludes others),
/// so the plan can't be closed or edited halfway through.
pub async fn lock_plan_shared(db: &impl ConnectionTrait, id: Uuid) -> Result<Plan, StoreError> {
    let m = plans::Entity::find_by_id(id)
        .lock_shared()
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let org = orgs::Entity::find_by_id(m.org_id).one(db).await?;
    plan_to_domain(m, org)
}

/// How many members are enrolled in a plan.
pub async fn count_enrollments(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(enr::Entity::find()
        .filter(enr::Column::PlanId.eq(plan_id))
        .count(db)
        .await?)
}

/// Changes to a plan; `None` leaves a field as it is. The caller has checked the
/// transition and that the terms may change.
#[derive(Debug, Clone, Default)]
pub struct PlanChanges {
    pub name: Option<String>,
    pub status: Option<PlanStatus>,
    pub terms: Option<PlanTerms>,
}

/// Applies changes if the plan is still at `version`, bumping it. A lost race is
/// `StaleVersion`.
pub async fn update_plan(
    db: &impl ConnectionTrait,
    current: &Plan,
    version: i32,
    changes: PlanChanges,
) -> Result<Plan, StoreError> {
    let mut update = plans::Entity::update_many()
        .col_expr(plans::Column::Version, Expr::value(version + 1))
        .col_expr(plans::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(plans::Column::Id.eq(current.id))
        .filter(plans::Column::Version.eq(version));
    if let Some(name) = changes.name {
        update = update.col_expr(plans::Column::Name, Expr::value(name));
    }
    if let Some(status) = changes.status {
        update = update.col_expr(plans::Column::Status, Expr::value(status.as_str()));
    }
    if let Some(t) = changes.terms {
        update = update
            .col_expr(plans::Column::Kind, Expr::value(t.kind().as_str()))
            .col_expr(
                plans::Column::SharePremiumFen,
                Expr::value(t.share_premium_fen),
            )
            .col_expr(plans::Column::MaxShares, Expr::value(t.max_shares))
            .col_expr(plans::Column::TermStart, Expr::value(t.term_start))
            .col_expr(plans::Column::TermEnd, Expr::value(t.term_end))
            .col_expr(plans::Column::WaitingDays, Expr::value(t.waiting_days))
            .col_expr(
                plans::Column::Eligibility,
                Expr::value(to_json(&t.eligibility)?),
            )
            .col_expr(plans::Column::Benefits, Expr::value(to_json(&t.benefits)?));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    get_plan_unscoped(db, current.id).await
}

// ─── Enrollments ────────────────────────────────────────────────────────────

/// A member's cover under a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub member_id: MemberId,
    pub shares: u32,
    pub paid_by: PaidBy,
    pub premium_fen: i64,
    /// The pot: the most this enrollment can pay over the term.
    pub coverage_fen: i64,
    /// What approved and paid claims have taken from the pot.
    pub committed_fen: i64,
    /// Day 0 of cover.
    pub cover_start: NaiveDate,
    /// No earlier enrollment of the member in a plan of the same kind: the waiting
    /// period applies.
    pub first_enrollment: bool,
    pub enrolled_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

fn enrollment_to_domain(m: enr::Model) -> Result<Enrollment, StoreError> {
    Ok(Enrollment {
        id: m.id,
        plan_id: m.plan_id,
        member_id: MemberId(m.member_id),
        shares: u32::try_from(m.shares).map_err(|_| corrupt("shares", &m.shares.to_string()))?,
        paid_by: parse("paid_by", &m.paid_by)?,
        premium_fen: m.premium_fen,
        coverage_fen: m.coverage_fen,
        committed_fen: m.committed_fen,
        cover_start: m.cover_start,
        first_enrollment: m.first_enrollment,
        enrolled_by: m.enrolled_by_user_id.map(UserId),
        created_at: m.created_at,
    })
}

/// Whose enrollments and claims a caller may see.
#[derive(Debug, Clone, Copy)]
pub enum OwnerScope<'a> {
    /// Staff: those of members whose union is in reach.
    Staff(&'a Reach),
    /// A member account: its own.
    Member(MemberId),
}

/// A member as an enrollment sees them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub member_id: MemberId,
    pub status: MemberStatus,
    pub occupation: Occupation,
    pub employment_form: EmploymentForm,
    pub org_path: OrgPath,
}

type CandidateRow = (Uuid, String, String, String, String);

fn candidate(row: CandidateRow) -> Result<Candidate, StoreError> {
    let (id, status, occupation, form, path) = row;
    Ok(Candidate {
        member_id: MemberId(id),
        status: parse("member status", &status)?,
        occupation: parse("occupation", &occupation)?,
        employment_form: parse("employment form", &form)?,
        org_path: OrgPath::from_stored(path),
    })
}

fn candidate_query() -> sea_orm::Select<members::Entity> {
    members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .column(members::Column::Status)
        .column(members::Column::Occupation)
        .column(members::Column::EmploymentForm)
        .column_as(Expr::col((orgs::Entity, orgs::Column::Path)), "path")
        .join(JoinType::InnerJoin, members::Relation::Org.def())
}

/// The members with these ids, whoever's they are (the caller judges reach),
/// `BATCH` ids per query. Ids that name nobody are absent.
pub async fn candidates_by_id(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<Candidate>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let rows = candidate_query()
            .filter(members::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<CandidateRow>()
            .all(db)
            .await?;
        for row in rows {
            out.push(candidate(row)?);
        }
    }
    Ok(out)
}

/// A group enrollment's selector: the active members of a subtree, optionally of one
/// occupation or employment form.
#[derive(Debug, Clone)]
pub struct Selector {
    pub subtree: OrgPath,
    pub occupation: Option<Occupation>,
    pub employment_form: Option<EmploymentForm>,
}

/// The active members a selector picks inside `reach` and the plan's subtree, in one
/// query.
pub async fn candidates_selected(
    db: &impl ConnectionTrait,
    reach: &Reach,
    plan_subtree: &OrgPath,
    selector: &Selector,
) -> Result<Vec<Candidate>, StoreError> {
    let path = (orgs::Entity, orgs::Column::Path);
    let mut query = candidate_query()
        .filter(reach_condition(path, reach))
        .filter(reach_condition(
            path,
            &Reach::over(vec![selector.subtree.clone()]),
        ))
        .filter(reach_condition(
            path,
            &Reach::over(vec![plan_subtree.clone()]),
        ))
        .filter(members::Column::Status.eq(MemberStatus::Active.as_str()));
    if let Some(occupation) = selector.occupation {
        query = query.filter(members::Column::Occupation.eq(occupation.as_str()));
    }
    if let Some(form) = selector.employment_form {
        query = query.filter(members::Column::EmploymentForm.eq(form.as_str()));
    }
    query
        .order_by_asc(members::Column::Id)
        .into_tuple::<CandidateRow>()
        .all(db)
        .await?
        .into_iter()
        .map(candidate)
        .collect()
}

/// The members already enrolled in a plan.
pub async fn enrolled_members(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
) -> Result<HashSet<Uuid>, StoreError> {
    Ok(enr::Entity::find()
        .select_only()
        .column(enr::Column::MemberId)
        .filter(enr::Column::PlanId.eq(plan_id))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Which of `members` have ever been enrolled in a plan of `kind` other than
/// `plan_id`: for them an enrollment is not a first one. Few members are looked up by
/// id; many, with one query over the kind.
pub async fn enrolled_before(
    db: &impl ConnectionTrait,
    kind: PlanKind,
    plan_id: Uuid,
    members: &[Uuid],
) -> Result<HashSet<Uuid>, StoreError> {
    let base = || {
        enr::Entity::find()
            .select_only()
            .column(enr::Column::MemberId)
            .distinct()
            .join(JoinType::InnerJoin, enr::Relation::Plan.def())
            .filter(plans::Column::Kind.eq(kind.as_str()))
            .filter(enr::Column::PlanId.ne(plan_id))
    };
    let mut out = HashSet::new();
    if members.len() <= 4 * BATCH {
        for chunk in members.chunks(BATCH) {
            out.extend(
                base()
                    .filter(enr::Column::MemberId.is_in(chunk.iter().copied()))
                    .into_tuple::<Uuid>()
                    .all(db)
                    .await?,
            );
        }
    } else {
        let wanted: HashSet<Uuid> = members.iter().copied().collect();
        out.extend(
            base()
                .into_tuple::<Uuid>()
                .all(db)
                .await?
                .into_iter()
                .filter(|m| wanted.contains(m)),
        );
    }
    Ok(out)
}

/// One enrollment to insert.
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    pub id: Uuid,
    pub member_id: MemberId,
    pub shares: u32,
    pub paid_by: PaidBy,
    pub premium_fen: i64,
    pub coverage_fen: i64,
    pub cover_start: NaiveDate,
    pub first_enrollment: bool,
}

fn shares_i32(shares: u32) -> i32 {
    i32::try_from(shares).unwrap_or(i32::MAX)
}

/// Inserts enrollments in one plan, as many per statement as fit in one write
/// ([`crate::db::rows_per_insert`]). A member already
/// enrolled (by a concurrent request) is `Conflict` on `insurance_enrollments`, and the
/// transaction must be abandoned.
pub async fn insert_enrollments(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
    enrolled_by: Option<UserId>,
    rows: Vec<NewEnrollment>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    // Four ids, amounts, dates and flags: ~200 bytes a row.
    let per_statement = crate::db::rows_per_insert(200);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<enr::ActiveModel> = rows
            .by_ref()
            .take(per_statement)
            .map(|r| enr::ActiveModel {
                id: Set(r.id),
                plan_id: Set(plan_id),
                member_id: Set(r.member_id.0),
                shares: Set(shares_i32(r.shares)),
                paid_by: Set(r.paid_by.as_str().to_owned()),
                premium_fen: Set(r.premium_fen),
                coverage_fen: Set(r.coverage_fen),
                committed_fen: Set(0),
                cover_start: Set(r.cover_start),
                first_enrollment: Set(r.first_enrollment),
                enrolled_by_user_id: Set(enrolled_by.map(|u| u.0)),
                created_at: Set(now),
            })
            .collect();
        enr::Entity::insert_many(chunk).exec(db).await?;
    }
    Ok(())
}

/// The enrollment of a member in a plan, if any (unscoped; for naming a duplicate).
pub async fn find_enrollment(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
    member: MemberId,
) -> Result<Option<Uuid>, StoreError> {
    Ok(enr::Entity::find()
        .select_only()
        .column(enr::Column::Id)
        .filter(enr::Column::PlanId.eq(plan_id))
        .filter(enr::Column::MemberId.eq(member.0))
        .into_tuple::<Uuid>()
        .one(db)
        .await?)
}

fn owner_filter<Q: QueryFilter + QuerySelect>(
    query: Q,
    scope: OwnerScope<'_>,
    member_col: impl ColumnTrait,
    member_rel: sea_orm::RelationDef,
) -> Q {
    match scope {
        OwnerScope::Member(own) => query.filter(member_col.eq(own.0)),
        OwnerScope::Staff(reach) => query
            .join(JoinType::InnerJoin, member_rel)
            .join(JoinType::InnerJoin, members::Relation::Org.def())
            .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach)),
    }
}

/// An enrollment the caller may see; anything else is `NotFound`.
pub async fn get_enrollment(
    db: &impl ConnectionTrait,
    scope: OwnerScope<'_>,
    id: Uuid,
) -> Result<Enrollment, StoreError> {
    owner_filter(
        enr::Entity::find_by_id(id),
        scope,
        enr::Column::MemberId,
        enr::Relation::Member.def(),
    )
    .one(db)
    .await?
    .map(enrollment_to_domain)
    .transpose()?
    .ok_or(StoreError::NotFound)
}

/// Enrollment list filters.
#[derive(Debug, Clone, Default)]
pub struct EnrollmentFilter {
    pub plan_id: Option<Uuid>,
    pub member_id: Option<MemberId>,
}

/// The enrollments a caller may see, in creation order.
pub async fn list_enrollments(
    db: &impl ConnectionTrait,
    scope: OwnerScope<'_>,
    filter: &EnrollmentFilter,
    page: PageRequest,
) -> Result<Page<Enrollment>, StoreError> {
    let mut query = owner_filter(
        enr::Entity::find(),
        scope,
        enr::Column::MemberId,
        enr::Relation::Member.def(),
    );
    if let Some(plan) = filter.plan_id {
        query = query.filter(enr::Column::PlanId.eq(plan));
    }
    if let Some(member) = filter.member_id {
        query = query.filter(enr::Column::MemberId.eq(member.0));
    }
    if let Some(after) = page.after {
        query = query.filter(enr::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(enr::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(enrollment_to_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |e| e.id))
}

/// Reads an enrollment and locks its row until the transaction ends (PostgreSQL
/// `FOR UPDATE`; on SQLite the write transaction holds the database's one write lock),
/// so approvals on one enrollment take turns.
pub async fn lock_enrollment(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Enrollment, StoreError> {
    enr::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .map(enrollment_to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Adds `amount` to an enrollment's committed amount, only if that keeps it within
/// `pot` (and, for a plan that pays once per term, only if nothing was committed
/// yet). `false` when the pot can't take it: the caller answers a conflict.
pub async fn commit_to_pot(
    db: &impl ConnectionTrait,
    enrollment_id: Uuid,
    amount: i64,
    pot: i64,
    once_per_term: bool,
) -> Result<bool, StoreError> {
    if amount == 0 {
        return Ok(true);
    }
    let committed = Expr::col(enr::Column::CommittedFen);
    let mut update = enr::Entity::update_many()
        .col_expr(enr::Column::CommittedFen, committed.clone().add(amount))
        .filter(enr::Column::Id.eq(enrollment_id))
        .filter(committed.clone().add(amount).lte(pot));
    if once_per_term {
        update = update.filter(committed.eq(0));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

// ─── Claims ─────────────────────────────────────────────────────────────────

/// A stored claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: Uuid,
    pub enrollment_id: Uuid,
    pub plan_id: Uuid,
    pub member_id: MemberId,
    pub kind: ClaimKind,
    pub incident_date: NaiveDate,
    pub hospital_days: Option<u32>,
    pub expenses_fen: Option<i64>,
    /// Sealed by the API layer.
    pub diagnosis_sealed: Option<String>,
    pub disability_grade: Option<u8>,
    pub documents: Vec<String>,
    pub status: ClaimStatus,
    /// What the rules paid when last computed (at filing, resubmission or decision).
    pub computed_fen: i64,
    pub payout: Payout,
    pub approved_fen: Option<i64>,
    pub payment_reference: Option<String>,
    pub filed_by: Option<UserId>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One step in a claim's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimEvent {
    pub id: Uuid,
    pub claim_id: Uuid,
    /// `filed`, `start_review`, `approve`, `reject`, `return`, `resubmit`, `pay`.
    pub action: String,
    pub from_status: Option<ClaimStatus>,
    pub to_status: ClaimStatus,
    pub reason: Option<String>,
    pub amount_fen: Option<i64>,
    pub actor_user_id: Option<UserId>,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

fn claim_to_domain(m: claims::Model) -> Result<Claim, StoreError> {
    let number = |what: &str, v: i32| corrupt(what, &v.to_string());
    Ok(Claim {
        id: m.id,
        enrollment_id: m.enrollment_id,
        plan_id: m.plan_id,
        member_id: MemberId(m.member_id),
        kind: parse("claim kind", &m.kind)?,
        incident_date: m.incident_date,
        hospital_days: m
            .hospital_days
            .map(|d| u32::try_from(d).map_err(|_| number("hospital days", d)))
            .transpose()?,
        expenses_fen: m.expenses_fen,
        diagnosis_sealed: m.diagnosis_enc,
        disability_grade: m
            .disability_grade
            .map(|g| u8::try_from(g).map_err(|_| number("disability grade", g)))
            .transpose()?,
        documents: from_json("documents", &m.documents)?,
        status: parse("claim status", &m.status)?,
        computed_fen: m.computed_fen,
        payout: from_json("payout", &m.payout)?,
        approved_fen: m.approved_fen,
        payment_reference: m.payment_reference,
        filed_by: m.filed_by_user_id.map(UserId),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn event_to_domain(m: events::Model) -> Result<ClaimEvent, StoreError> {
    Ok(ClaimEvent {
        id: m.id,
        claim_id: m.claim_id,
        action: m.action,
        from_status: m
            .from_status
            .map(|s| parse("claim status", &s))
            .transpose()?,
        to_status: parse("claim status", &m.to_status)?,
        reason: m.reason,
        amount_fen: m.amount_fen,
        actor_user_id: m.actor_user_id.map(UserId),
        request_id: m.request_id,
        at: m.at,
    })
}

/// The facts of a claim as filed or corrected (the diagnosis sealed).
#[derive(Debug, Clone)]
pub struct ClaimData {
    pub kind: ClaimKind,
    pub incident_date: NaiveDate,
    pub hospital_days: Option<u32>,
    pub expenses_fen: Option<i64>,
    pub diagnosis_sealed: Option<String>,
    pub disability_grade: Option<u8>,
    pub documents: Vec<String>,
}

/// A claim to file against an enrollment, with the payout computed for it.
#[derive(Debug, Clone)]
pub struct NewClaim {
    pub enrollment: Enrollment,
    pub data: ClaimData,
    pub payout: Payout,
}

/// The history entry a change writes.
#[derive(Debug, Clone)]
pub struct ClaimStep {
    pub action: &'static str,
    pub reason: Option<String>,
    pub amount_fen: Option<i64>,
}

async fn record(
    db: &impl ConnectionTrait,
    claim_id: Uuid,
    (from, to): (Option<ClaimStatus>, ClaimStatus),
    step: ClaimStep,
    actor: &Actor,
) -> Result<(), StoreError> {
    events::ActiveModel {
        id: Set(Uuid::now_v7()),
        claim_id: Set(claim_id),
        action: Set(step.action.to_owned()),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        reason: Set(step.reason),
        amount_fen: Set(step.amount_fen),
        actor_user_id: Set(actor.user_id.map(|u| u.0)),
        request_id: Set(actor.request_id.clone()),
        at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The conflict a claim that duplicates an open or paid one gets, whichever backend
/// named the partial unique index.
fn duplicate_claim(e: StoreError) -> StoreError {
    if e.is_conflict_on("insurance_claims") {
        StoreError::Conflict {
            constraint: "open_claim".into(),
        }
    } else {
        e
    }
}

/// Files a claim (`submitted`) and records it. A duplicate of an open or paid claim
/// (same enrollment, kind and incident date) is `Conflict` on `open_claim`, and the
/// transaction stays usable.
pub async fn insert_claim<C>(db: &C, new: NewClaim, actor: &Actor) -> Result<Claim, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = Utc::now();
    let d = new.data;
    let row = claims::ActiveModel {
        id: Set(Uuid::now_v7()),
        enrollment_id: Set(new.enrollment.id),
        plan_id: Set(new.enrollment.plan_id),
        member_id: Set(new.enrollment.member_id.0),
        kind: Set(d.kind.as_str().to_owned()),
        incident_date: Set(d.incident_date),
        hospital_days: Set(d
            .hospital_days
            .map(|x| i32::try_from(x).unwrap_or(i32::MAX))),
        expenses_fen: Set(d.expenses_fen),
        diagnosis_enc: Set(d.diagnosis_sealed),
        disability_grade: Set(d.disability_grade.map(i32::from)),
        documents: Set(to_json(&d.documents)?),
        status: Set(ClaimStatus::Submitted.as_str().to_owned()),
        computed_fen: Set(new.payout.amount_fen),
        payout: Set(to_json(&new.payout)?),
        approved_fen: Set(None),
        payment_reference: Set(None),
        filed_by_user_id: Set(actor.user_id.map(|u| u.0)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = crate::db::insert_in_savepoint(db, row)
        .await
        .map_err(duplicate_claim)?;
    let amount = model.computed_fen;
    record(
        db,
        model.id,
        (None, ClaimStatus::Submitted),
        ClaimStep {
            action: "filed",
            reason: None,
            amount_fen: Some(amount),
        },
        actor,
    )
    .await?;
    claim_to_domain(model)
}

/// The open or paid claim a new one would duplicate, if any (unscoped: the caller
/// already sees the enrollment).
pub async fn find_open_claim(
    db: &impl ConnectionTrait,
    enrollment_id: Uuid,
    kind: ClaimKind,
    incident_date: NaiveDate,
) -> Result<Option<Uuid>, StoreError> {
    Ok(claims::Entity::find()
        .select_only()
        .column(claims::Column::Id)
        .filter(claims::Column::EnrollmentId.eq(enrollment_id))
        .filter(claims::Column::Kind.eq(kind.as_str()))
        .filter(claims::Column::IncidentDate.eq(incident_date))
        .filter(claims::Column::Status.ne(ClaimStatus::Rejected.as_str()))
        .into_tuple::<Uuid>()
        .one(db)
        .await?)
}

/// A claim the caller may see; anything else is `NotFound`.
pub async fn get_claim(
    db: &impl ConnectionTrait,
    scope: OwnerScope<'_>,
    id: Uuid,
) -> Result<Claim, StoreError> {
    owner_filter(
        claims::Entity::find_by_id(id),
        scope,
        claims::Column::MemberId,
        claims::Relation::Member.def(),
    )
    .one(db)
    .await?
    .map(claim_to_domain)
    .transpose()?
    .ok_or(StoreError::NotFound)
}

/// Reads a claim and locks its row until the transaction ends (see
/// [`lock_enrollment`]).
pub async fn lock_claim(db: &impl ConnectionTrait, id: Uuid) -> Result<Claim, StoreError> {
    claims::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .map(claim_to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Claim list filters.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    pub status: Option<ClaimStatus>,
    pub plan_id: Option<Uuid>,
    pub member_id: Option<MemberId>,
    pub enrollment_id: Option<Uuid>,
}

/// The claims a caller may see, in filing order.
pub async fn list_claims(
    db: &impl ConnectionTrait,
    scope: OwnerScope<'_>,
    filter: &ClaimFilter,
    page: PageRequest,
) -> Result<Page<Claim>, StoreError> {
    let mut query = owner_filter(
        claims::Entity::find(),
        scope,
        claims::Column::MemberId,
        claims::Relation::Member.def(),
    );
    if let Some(status) = filter.status {
        query = query.filter(claims::Column::Status.eq(status.as_str()));
    }
    if let Some(plan) = filter.plan_id {
        query = query.filter(claims::Column::PlanId.eq(plan));
    }
    if let Some(member) = filter.member_id {
        query = query.filter(claims::Column::MemberId.eq(member.0));
    }
    if let Some(enrollment) = filter.enrollment_id {
        query = query.filter(claims::Column::EnrollmentId.eq(enrollment));
    }
    if let Some(after) = page.after {
        query = query.filter(claims::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(claims::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(claim_to_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |c| c.id))
}

/// The histories of these claims, oldest step first, in one query.
pub async fn histories(
    db: &impl ConnectionTrait,
    claim_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ClaimEvent>>, StoreError> {
    let mut out: HashMap<Uuid, Vec<ClaimEvent>> = HashMap::new();
    if claim_ids.is_empty() {
        return Ok(out);
    }
    let rows = events::Entity::find()
        .filter(events::Column::ClaimId.is_in(claim_ids.iter().copied()))
        .order_by_asc(events::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        let event = event_to_domain(row)?;
        out.entry(event.claim_id).or_default().push(event);
    }
    Ok(out)
}

/// What a transition changes besides the status.
#[derive(Debug, Clone, Default)]
pub struct ClaimUpdate {
    /// Corrected facts (a resubmission).
    pub data: Option<ClaimData>,
    /// A recomputed payout.
    pub payout: Option<Payout>,
    pub approved_fen: Option<i64>,
    pub payment_reference: Option<String>,
}

/// Moves a claim from the status and version `current` was read at to `to`, applies
/// `update` and records the step. A lost race is `StaleVersion`; corrected facts that
/// duplicate another open claim are `Conflict` on `open_claim`, and the transaction
/// stays usable.
pub async fn transition_claim<C>(
    db: &C,
    current: &Claim,
    to: ClaimStatus,
    update: ClaimUpdate,
    step: ClaimStep,
    actor: &Actor,
) -> Result<Claim, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut stmt = claims::Entity::update_many()
        .col_expr(claims::Column::Status, Expr::value(to.as_str()))
        .col_expr(claims::Column::Version, Expr::value(current.version + 1))
        .col_expr(claims::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(claims::Column::Id.eq(current.id))
        .filter(claims::Column::Status.eq(current.status.as_str()))
        .filter(claims::Column::Version.eq(current.version));
    if let Some(d) = update.data {
        stmt = stmt
            .col_expr(claims::Column::Kind, Expr::value(d.kind.as_str()))
            .col_expr(claims::Column::IncidentDate, Expr::value(d.incident_date))
            .col_expr(
                claims::Column::HospitalDays,
                Expr::value(
                    d.hospital_days
                        .map(|x| i32::try_from(x).unwrap_or(i32::MAX)),
                ),
            )
            .col_expr(claims::Column::ExpensesFen, Expr::value(d.expenses_fen))
            .col_expr(
                claims::Column::DiagnosisEnc,
                Expr::value(d.diagnosis_sealed),
            )
            .col_expr(
                claims::Column::DisabilityGrade,
                Expr::value(d.disability_grade.map(i32::from)),
            )
            .col_expr(
                claims::Column::Documents,
                Expr::value(to_json(&d.documents)?),
            );
    }
    if let Some(payout) = &update.payout {
        stmt = stmt
            .col_expr(claims::Column::ComputedFen, Expr::value(payout.amount_fen))
            .col_expr(claims::Column::Payout, Expr::value(to_json(payout)?));
    }
    if let Some(amount) = update.approved_fen {
        stmt = stmt.col_expr(claims::Column::ApprovedFen, Expr::value(amount));
    }
    if let Some(reference) = update.payment_reference {
        stmt = stmt.col_expr(claims::Column::PaymentReference, Expr::value(reference));
    }
    let savepoint = db.begin().await?;
    match stmt.exec(&savepoint).await {
        Ok(r) if r.rows_affected == 1 => savepoint.commit().await?,
        Ok(_) => {
            savepoint.rollback().await?;
            return Err(StoreError::StaleVersion);
        }
        Err(e) => {
            savepoint.rollback().await?;
            return Err(duplicate_claim(e.into()));
        }
    }
    record(db, current.id, (Some(current.status), to), step, actor).await?;
    claims::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .map(claim_to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

// ─── Stats ──────────────────────────────────────────────────────────────────

/// Counts and amounts of the claims in one status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusTotals {
    pub count: i64,
    /// Approved and paid claims: the approved amounts; others: the computed payouts.
    pub amount_fen: i64,
}

/// Enrollment and claim totals for the members of a subtree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub enrolled_members: i64,
    pub enrollments: i64,
    pub premiums_fen: i64,
    pub coverage_fen: i64,
    pub claims: Vec<(ClaimStatus, StatusTotals)>,
    pub paid_fen: i64,
}

/// `CAST(COALESCE(SUM(col), 0) AS BIGINT)`: PostgreSQL sums BIGINTs as NUMERIC.
fn sum_of(table: &str, col: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({table}.{col}), 0) AS BIGINT)"))
}

/// Totals over the enrollments and claims of members whose union is in `reach`,
/// optionally of one plan: aggregate queries, no rows loaded.
pub async fn stats(
    db: &impl ConnectionTrait,
    reach: &Reach,
    plan_id: Option<Uuid>,
) -> Result<Stats, StoreError> {
    let path = (orgs::Entity, orgs::Column::Path);
    let mut enrollments = enr::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("COUNT(DISTINCT insurance_enrollments.member_id)"),
            "members",
        )
        .column_as(Expr::cust("COUNT(*)"), "enrollments")
        .column_as(sum_of("insurance_enrollments", "premium_fen"), "premiums")
        .column_as(sum_of("insurance_enrollments", "coverage_fen"), "coverage")
        .join(JoinType::InnerJoin, enr::Relation::Member.def())
        .join(JoinType::InnerJoin, members::Relation::Org.def())
        .filter(reach_condition(path, reach));
    if let Some(plan) = plan_id {
        enrollments = enrollments.filter(enr::Column::PlanId.eq(plan));
    }
    let (enrolled_members, enrollment_count, premiums_fen, coverage_fen) = enrollments
        .into_tuple::<(i64, i64, i64, i64)>()
        .one(db)
        .await?
        .unwrap_or_default();

    let mut by_status = claims::Entity::find()
        .select_only()
        .column(claims::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust(
                "CAST(COALESCE(SUM(COALESCE(insurance_claims.approved_fen, \
                 insurance_claims.computed_fen)), 0) AS BIGINT)",
            ),
            "amount",
        )
        .join(JoinType::InnerJoin, claims::Relation::Member.def())
        .join(JoinType::InnerJoin, members::Relation::Org.def())
        .filter(reach_condition(path, reach))
        .group_by(claims::Column::Status);
    if let Some(plan) = plan_id {
        by_status = by_status.filter(claims::Column::PlanId.eq(plan));
    }
    let rows = by_status.into_tuple::<(String, i64, i64)>().all(db).await?;
    let mut totals: HashMap<ClaimStatus, StatusTotals> = HashMap::new();
    for (status, count, amount_fen) in rows {
        totals.insert(
            parse("claim status", &status)?,
            StatusTotals { count, amount_fen },
        );
    }
    let claims = ClaimStatus::ALL
        .iter()
        .map(|s| (*s, totals.get(s).copied().unwrap_or_default()))
        .collect();
    let paid_fen = totals.get(&ClaimStatus::Paid).map_or(0, |t| t.amount_fen);
    Ok(Stats {
        enrolled_members,
        enrollments: enrollment_count,
        premiums_fen,
        coverage_fen,
        claims,
        paid_fen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_run_from_the_root_to_the_organisation_itself() {
        let root = OrgPath::root(OrgId::new());
        let city = root.child(OrgId::new());
        let county = city.child(OrgId::new());
        assert_eq!(
            ancestor_paths(&county),
            vec![
                root.as_str().to_owned(),
                city.as_str().to_owned(),
                county.as_str().to_owned()
            ]
        );
        assert_eq!(ancestor_paths(&root), vec![root.as_str().to_owned()]);
    }
}

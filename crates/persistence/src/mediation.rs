//! Labour-dispute mediation: cases, the mediators assigned to them, and the stats.
//!
//! The rules (transitions, outcomes, the fifteen-day rule, the success rate) live in
//! `unionhall_domain::mediation`; this module stores what they decide and keeps
//! concurrent writers apart: a write first takes the case's row lock ([`lock_case`];
//! on SQLite the write transaction's lock does it), and every update is conditional
//! on the version it read and on the case not being closed, so two outcomes recorded
//! at once can't both land.
//!
//! Who sees a case is a [`CaseScope`]: the administrators of its room's subtree, and
//! the mediators assigned to it (while they still hold the `mediator` role over the
//! room). Cases carry their room's organisation path, so a subtree is an index range
//! on the case table itself.

use crate::entities::{
    mediation_assignments as assignments, mediation_cases as cases, orgs, users,
};
use crate::members::Sealed;
use crate::orgs::reach_condition;
use crate::{Page, PageRequest, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::{HashMap, HashSet};
use unionhall_domain::mediation::{
    CaseCategory, CaseStatus, Channel, MediatorRole, Outcome, Tally, arbitration_cutoff, today_in,
};
use unionhall_domain::orgs::{Org, OrgPath, Reach, check_time_zone};
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Type(format!("unknown {what} {value}")))
}

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|_| corrupt(what, value))
}

// ─── Cases ──────────────────────────────────────────────────────────────────

/// A mediator on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mediator {
    pub user_id: UserId,
    pub display_name: String,
    pub role: MediatorRole,
    pub assigned_at: DateTime<Utc>,
}

/// A stored case with its room's path and time zone, and its mediators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: Uuid,
    /// The mediation room.
    pub org_id: OrgId,
    pub org_path: OrgPath,
    /// The room's time zone, for "today" and the fifteen-day rule.
    pub time_zone: String,
    /// The room's docket number, unique within the room.
    pub reference: Option<String>,
    pub worker_name: String,
    pub worker_id_number_sealed: String,
    pub worker_phone_sealed: Option<String>,
    pub worker_member_id: Option<MemberId>,
    pub employer_name: String,
    pub category: CaseCategory,
    pub claimed_fen: i64,
    pub channel: Channel,
    pub received_on: NaiveDate,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    pub agreed_fen: Option<i64>,
    pub outcome_note: Option<String>,
    pub closed_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    /// In the order they were assigned.
    pub mediators: Vec<Mediator>,
    /// Bumped on every change; the API's `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Case {
    /// Whether `user` is assigned to the case.
    pub fn is_assigned(&self, user: UserId) -> bool {
        self.mediators.iter().any(|m| m.user_id == user)
    }
}

fn to_domain(
    m: cases::Model,
    org: Option<orgs::Model>,
    mediators: Vec<Mediator>,
) -> Result<Case, StoreError> {
    let org = org.ok_or(StoreError::NotFound)?;
    Ok(Case {
        id: m.id,
        org_id: OrgId(m.org_id),
        org_path: OrgPath::from_stored(m.org_path),
        time_zone: org.time_zone,
        reference: m.reference,
        worker_name: m.worker_name,
        worker_id_number_sealed: m.worker_id_number_enc,
        worker_phone_sealed: m.worker_phone_enc,
        worker_member_id: m.worker_member_id.map(MemberId),
        employer_name: m.employer_name,
        category: parse("case category", &m.category)?,
        claimed_fen: m.claimed_fen,
        channel: parse("channel", &m.channel)?,
        received_on: m.received_on,
        status: parse("case status", &m.status)?,
        outcome: m
            .outcome
            .as_deref()
            .map(|o| parse("outcome", o))
            .transpose()?,
        agreed_fen: m.agreed_fen,
        outcome_note: m.outcome_note,
        closed_on: m.closed_on,
        closed_at: m.closed_at,
        mediators,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The mediators of several cases in one query, each list in assignment order.
async fn mediators_of(
    db: &impl ConnectionTrait,
    case_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Mediator>>, StoreError> {
    let mut out: HashMap<Uuid, Vec<Mediator>> = HashMap::new();
    if case_ids.is_empty() {
        return Ok(out);
    }
    let rows = assignments::Entity::find()
        .filter(assignments::Column::CaseId.is_in(case_ids.iter().copied()))
        .find_also_related(users::Entity)
        .order_by_asc(assignments::Column::Id)
        .all(db)
        .await?;
    for (a, user) in rows {
        out.entry(a.case_id).or_default().push(Mediator {
            user_id: UserId(a.user_id),
            display_name: user.map(|u| u.display_name).unwrap_or_default(),
            role: parse("mediator role", &a.role)?,
            assigned_at: a.assigned_at,
        });
    }
    Ok(out)
}

/// Turns rows of cases (with their rooms) into cases with their mediators.
async fn with_mediators(
    db: &impl ConnectionTrait,
    rows: Vec<(cases::Model, Option<orgs::Model>)>,
) -> Result<Vec<Case>, StoreError> {
    let ids: Vec<Uuid> = rows.iter().map(|(c, _)| c.id).collect();
    let mut mediators = mediators_of(db, &ids).await?;
    rows.into_iter()
        .map(|(c, org)| {
            let list = mediators.remove(&c.id).unwrap_or_default();
            to_domain(c, org, list)
        })
        .collect()
}

/// Who may see which cases.
#[derive(Debug, Clone, Copy)]
pub struct CaseScope<'a> {
    /// Room administrators: every case of these subtrees.
    pub managed: &'a Reach,
    /// A mediator: the cases assigned to them, within the reach of their `mediator`
    /// role.
    pub mediator: Option<(UserId, &'a Reach)>,
}

fn assigned_to(user: UserId) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(assignments::Column::CaseId)
        .from(assignments::Entity)
        .and_where(Expr::col(assignments::Column::UserId).eq(user.0))
        .to_owned()
}

fn scope_condition(scope: CaseScope<'_>) -> Condition {
    let path = (cases::Entity, cases::Column::OrgPath);
    let mut any = Condition::any().add(reach_condition(path, scope.managed));
    if let Some((user, reach)) = scope.mediator {
        any = any.add(
            Condition::all()
                .add(reach_condition(path, reach))
                .add(Expr::col((cases::Entity, cases::Column::Id)).in_subquery(assigned_to(user))),
        );
    }
    any
}

/// What a new case is made of; it starts `received`.
#[derive(Clone)]
pub struct NewCase {
    pub org_id: OrgId,
    pub org_path: OrgPath,
    pub reference: Option<String>,
    pub worker_name: String,
    pub worker_id_number: Sealed,
    pub worker_phone: Option<Sealed>,
    pub worker_member_id: Option<MemberId>,
    pub employer_name: String,
    pub category: CaseCategory,
    pub claimed_fen: i64,
    pub channel: Channel,
    pub received_on: NaiveDate,
    pub created_by: Option<UserId>,
}

fn new_row(id: Uuid, new: NewCase, now: DateTime<Utc>) -> cases::ActiveModel {
    cases::ActiveModel {
        id: Set(id),
        org_id: Set(new.org_id.0),
        org_path: Set(new.org_path.as_str().to_owned()),
        reference: Set(new.reference),
        worker_name: Set(new.worker_name),
        worker_id_number_enc: Set(new.worker_id_number.ciphertext),
        worker_id_number_hash: Set(new.worker_id_number.hash),
        worker_phone_enc: Set(new.worker_phone.as_ref().map(|p| p.ciphertext.clone())),
        worker_phone_hash: Set(new.worker_phone.map(|p| p.hash)),
        worker_member_id: Set(new.worker_member_id.map(|m| m.0)),
        employer_name: Set(new.employer_name),
        category: Set(new.category.as_str().to_owned()),
        claimed_fen: Set(new.claimed_fen),
        channel: Set(new.channel.as_str().to_owned()),
        received_on: Set(new.received_on),
        status: Set(CaseStatus::Received.as_str().to_owned()),
        outcome: Set(None),
        agreed_fen: Set(None),
        outcome_note: Set(None),
        closed_on: Set(None),
        closed_at: Set(None),
        closed_by_user_id: Set(None),
        created_by_user_id: Set(new.created_by.map(|u| u.0)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Inserts a received case. A docket number the room already used is `Conflict` on
/// `reference`.
pub async fn insert_case(db: &impl ConnectionTrait, new: NewCase) -> Result<Case, StoreError> {
    let id = Uuid::now_v7();
    new_row(id, new, Utc::now()).insert(db).await?;
    reload(db, id).await
}

async fn reload(db: &impl ConnectionTrait, id: Uuid) -> Result<Case, StoreError> {
    let row = cases::Entity::find_by_id(id)
        .find_also_related(orgs::Entity)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    with_mediators(db, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// A case in `scope`; anything else is `NotFound`.
pub async fn get_case(
    db: &impl ConnectionTrait,
    scope: CaseScope<'_>,
    id: Uuid,
) -> Result<Case, StoreError> {
    let row = cases::Entity::find_by_id(id)
        .filter(scope_condition(scope))
        .find_also_related(orgs::Entity)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    with_mediators(db, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// A case in `scope`, with its row locked until the transaction ends (PostgreSQL;
/// SQLite's write transaction already excludes other writers): writers of one case
/// take turns, and each sees what the one before it committed.
pub async fn lock_case(
    db: &impl ConnectionTrait,
    scope: CaseScope<'_>,
    id: Uuid,
) -> Result<Case, StoreError> {
    cases::Entity::find_by_id(id)
        .filter(scope_condition(scope))
        .select_only()
        .column(cases::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    reload(db, id).await
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Cases of this organisation's subtree.
    pub org_path: Option<OrgPath>,
    pub status: Option<CaseStatus>,
    pub category: Option<CaseCategory>,
    /// Cases this user is assigned to.
    pub mediator_id: Option<UserId>,
    /// Flagged (or not) by the fifteen-day rule as of `now` in each room's zone.
    pub may_proceed_to_arbitration: Option<bool>,
    /// The keyed hash of the worker's ID number.
    pub worker_id_number_hash: Option<String>,
}

/// The fifteen-day rule as SQL, as of `now`: for each time zone rooms use, cases
/// received on or before that zone's cutoff, and not closed by agreement or
/// withdrawal. Mirrors `unionhall_domain::mediation::may_proceed_to_arbitration`.
async fn arbitration_condition(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Condition, StoreError> {
    let zones: Vec<String> = orgs::Entity::find()
        .select_only()
        .column(orgs::Column::TimeZone)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut past_day_15 = Condition::any().add(Expr::val(1).eq(0));
    for zone in zones {
        let tz = check_time_zone(&zone).map_err(|_| corrupt("time zone", &zone))?;
        if let Some(cutoff) = arbitration_cutoff(today_in(tz, now)) {
            past_day_15 = past_day_15.add(
                Condition::all()
                    .add(Expr::col((orgs::Entity, orgs::Column::TimeZone)).eq(zone))
                    .add(Expr::col((cases::Entity, cases::Column::ReceivedOn)).lte(cutoff)),
            );
        }
    }
    let ended = Condition::all()
        .add(cases::Column::Status.eq(CaseStatus::Closed.as_str()))
        .add(
            cases::Column::Outcome
                .is_in([Outcome::Agreement.as_str(), Outcome::Withdrawn.as_str()]),
        );
    Ok(Condition::all().add(past_day_15).add(ended.not()))
}

/// Cases in `scope`, in creation order.
pub async fn list_cases(
    db: &impl ConnectionTrait,
    scope: CaseScope<'_>,
    filter: &CaseFilter,
    now: DateTime<Utc>,
    page: PageRequest,
) -> Result<Page<Case>, StoreError> {
    let mut query = cases::Entity::find()
        .filter(scope_condition(scope))
        .find_also_related(orgs::Entity);
    if let Some(subtree) = &filter.org_path {
        query = query.filter(reach_condition(
            (cases::Entity, cases::Column::OrgPath),
            &Reach::over(vec![subtree.clone()]),
        ));
    }
    if let Some(status) = filter.status {
        query = query.filter(cases::Column::Status.eq(status.as_str()));
    }
    if let Some(category) = filter.category {
        query = query.filter(cases::Column::Category.eq(category.as_str()));
    }
    if let Some(user) = filter.mediator_id {
        query = query
            .filter(Expr::col((cases::Entity, cases::Column::Id)).in_subquery(assigned_to(user)));
    }
    if let Some(hash) = &filter.worker_id_number_hash {
        query = query.filter(cases::Column::WorkerIdNumberHash.eq(hash.as_str()));
    }
    if let Some(flagged) = filter.may_proceed_to_arbitration {
        let rule = arbitration_condition(db, now).await?;
        query = query.filter(if flagged { rule } else { rule.not() });
    }
    if let Some(after) = page.after {
        query = query.filter(cases::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(cases::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let cases = with_mediators(db, rows).await?;
    Ok(Page::from_rows(cases, page.limit, |c| c.id))
}

/// Changeable attributes of an open case; `None` leaves a field as it is.
#[derive(Clone, Default)]
pub struct CaseChanges {
    pub reference: Option<Option<String>>,
    pub worker_name: Option<String>,
    pub worker_id_number: Option<Sealed>,
    pub worker_phone: Option<Option<Sealed>>,
    pub worker_member_id: Option<Option<MemberId>>,
    pub employer_name: Option<String>,
    pub category: Option<CaseCategory>,
    pub claimed_fen: Option<i64>,
    pub channel: Option<Channel>,
    pub received_on: Option<NaiveDate>,
}

impl CaseChanges {
    /// Whether applying these would change nothing.
    pub fn is_empty(&self) -> bool {
        self.reference.is_none()
            && self.worker_name.is_none()
            && self.worker_id_number.is_none()
            && self.worker_phone.is_none()
            && self.worker_member_id.is_none()
            && self.employer_name.is_none()
            && self.category.is_none()
            && self.claimed_fen.is_none()
            && self.channel.is_none()
            && self.received_on.is_none()
    }
}

/// An update conditional on the case being at `version` and not closed.
fn update_of(case: &Case, version: i32) -> sea_orm::UpdateMany<cases::Entity> {
    cases::Entity::update_many()
        .col_expr(cases::Column::Version, Expr::value(version + 1))
        .col_expr(cases::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(cases::Column::Id.eq(case.id))
        .filter(cases::Column::Version.eq(version))
        .filter(cases::Column::Status.ne(CaseStatus::Closed.as_str()))
}

/// Applies changes to an open case still at `expected_version` (when given; else the
/// version read), bumping the version. A lost race or a case closed meanwhile is
/// `StaleVersion`; a docket number taken is `Conflict` on `reference`.
pub async fn update_case(
    db: &impl ConnectionTrait,
    current: &Case,
    expected_version: Option<i32>,
    changes: CaseChanges,
) -> Result<Case, StoreError> {
    let version = expected_version.unwrap_or(current.version);
    if changes.is_empty() {
        return if version == current.version {
            Ok(current.clone())
        } else {
            Err(StoreError::StaleVersion)
        };
    }
    let mut update = update_of(current, version);
    if let Some(reference) = changes.reference {
        update = update.col_expr(cases::Column::Reference, Expr::value(reference));
    }
    if let Some(name) = changes.worker_name {
        update = update.col_expr(cases::Column::WorkerName, Expr::value(name));
    }
    if let Some(id_number) = changes.worker_id_number {
        update = update
            .col_expr(
                cases::Column::WorkerIdNumberEnc,
                Expr::value(id_number.ciphertext),
            )
            .col_expr(
                cases::Column::WorkerIdNumberHash,
                Expr::value(id_number.hash),
            );
    }
    if let Some(phone) = changes.worker_phone {
        update = update
            .col_expr(
                cases::Column::WorkerPhoneEnc,
                Expr::value(phone.as_ref().map(|p| p.ciphertext.clone())),
            )
            .col_expr(
                cases::Column::WorkerPhoneHash,
                Expr::value(phone.map(|p| p.hash)),
            );
    }
    if let Some(member) = changes.worker_member_id {
        update = update.col_expr(
            cases::Column::WorkerMemberId,
            Expr::value(member.map(|m| m.0)),
        );
    }
    if let Some(name) = changes.employer_name {
        update = update.col_expr(cases::Column::EmployerName, Expr::value(name));
    }
    if let Some(category) = changes.category {
        update = update.col_expr(cases::Column::Category, Expr::value(category.as_str()));
    }
    if let Some(fen) = changes.claimed_fen {
        update = update.col_expr(cases::Column::ClaimedFen, Expr::value(fen));
    }
    if let Some(channel) = changes.channel {
        update = update.col_expr(cases::Column::Channel, Expr::value(channel.as_str()));
    }
    if let Some(date) = changes.received_on {
        update = update.col_expr(cases::Column::ReceivedOn, Expr::value(date));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    reload(db, current.id).await
}

/// Whether `user` is assigned to the case already.
pub async fn is_assigned(
    db: &impl ConnectionTrait,
    case_id: Uuid,
    user: UserId,
) -> Result<bool, StoreError> {
    Ok(assignments::Entity::find()
        .filter(assignments::Column::CaseId.eq(case_id))
        .filter(assignments::Column::UserId.eq(user.0))
        .one(db)
        .await?
        .is_some())
}

/// Assigns a mediator to an open (locked) case and moves it to `to_status`, bumping
/// its version. Assigning the same user twice is `Conflict` on
/// `mediation_assignments`; a case that moved meanwhile is `StaleVersion`.
pub async fn assign(
    db: &impl ConnectionTrait,
    case: &Case,
    user: UserId,
    role: MediatorRole,
    to_status: CaseStatus,
    by: UserId,
) -> Result<Case, StoreError> {
    let moved = update_of(case, case.version)
        .col_expr(cases::Column::Status, Expr::value(to_status.as_str()))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    assignments::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case.id),
        user_id: Set(user.0),
        role: Set(role.as_str().to_owned()),
        assigned_by_user_id: Set(Some(by.0)),
        assigned_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    reload(db, case.id).await
}

/// How a case closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    pub outcome: Outcome,
    /// Agreements only.
    pub agreed_fen: Option<i64>,
    pub note: Option<String>,
    /// The room's local date of closing.
    pub closed_on: NaiveDate,
}

/// Closes an open (locked) case still at the version read. A case that moved or
/// closed meanwhile is `StaleVersion`, so of two outcomes recorded at once exactly
/// one lands.
pub async fn close(
    db: &impl ConnectionTrait,
    case: &Case,
    closing: Closing,
    by: UserId,
) -> Result<Case, StoreError> {
    let closed = update_of(case, case.version)
        .col_expr(
            cases::Column::Status,
            Expr::value(CaseStatus::Closed.as_str()),
        )
        .col_expr(
            cases::Column::Outcome,
            Expr::value(closing.outcome.as_str()),
        )
        .col_expr(cases::Column::AgreedFen, Expr::value(closing.agreed_fen))
        .col_expr(cases::Column::OutcomeNote, Expr::value(closing.note))
        .col_expr(cases::Column::ClosedOn, Expr::value(closing.closed_on))
        .col_expr(cases::Column::ClosedAt, Expr::value(Utc::now()))
        .col_expr(cases::Column::ClosedByUserId, Expr::value(by.0))
        .exec(db)
        .await?;
    if closed.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    reload(db, case.id).await
}

// ─── Loading history in bulk ────────────────────────────────────────────────

/// A case as it already stands, for loading a room's history in bulk (the demo):
/// its mediators and, if it closed, how. The status follows: closed with a closing,
/// in mediation with mediators, received otherwise.
#[derive(Clone)]
pub struct CaseRecord {
    pub case: NewCase,
    pub mediators: Vec<(UserId, MediatorRole)>,
    pub closing: Option<Closing>,
}

/// The docket numbers a room has used: what a bulk load finds already there.
pub async fn references_in(
    db: &impl ConnectionTrait,
    org_id: OrgId,
) -> Result<HashSet<String>, StoreError> {
    let refs: Vec<Option<String>> = cases::Entity::find()
        .select_only()
        .column(cases::Column::Reference)
        .filter(cases::Column::OrgId.eq(org_id.0))
        .filter(cases::Column::Reference.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(refs.into_iter().flatten().collect())
}

/// Inserts records in batched statements (cases, then their mediators); run it in a
/// transaction so a failure leaves nothing behind. Returns how many cases it wrote.
pub async fn insert_records(
    db: &impl ConnectionTrait,
    records: Vec<CaseRecord>,
) -> Result<usize, StoreError> {
    let count = records.len();
    // Sealed ID number and phone with their hashes, names, path: ~700 bytes a case.
    for chunk in records.chunks(crate::db::rows_per_insert(700)) {
        let now = Utc::now();
        let mut rows = Vec::with_capacity(chunk.len());
        let mut mediators = Vec::new();
        for record in chunk {
            let id = Uuid::now_v7();
            let mut row = new_row(id, record.case.clone(), now);
            let status = match (&record.closing, record.mediators.is_empty()) {
                (Some(_), _) => CaseStatus::Closed,
                (None, false) => CaseStatus::InMediation,
                (None, true) => CaseStatus::Received,
            };
            row.status = Set(status.as_str().to_owned());
            if let Some(c) = &record.closing {
                row.outcome = Set(Some(c.outcome.as_str().to_owned()));
                row.agreed_fen = Set(c.agreed_fen);
                row.outcome_note = Set(c.note.clone());
                row.closed_on = Set(Some(c.closed_on));
                row.closed_at = Set(Some(now));
            }
            rows.push(row);
            for (user, role) in &record.mediators {
                mediators.push(assignments::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    case_id: Set(id),
                    user_id: Set(user.0),
                    role: Set(role.as_str().to_owned()),
                    assigned_by_user_id: Set(None),
                    assigned_at: Set(now),
                });
            }
        }
        cases::Entity::insert_many(rows).exec(db).await?;
        for batch in mediators.chunks(crate::db::rows_per_insert(150)) {
            assignments::Entity::insert_many(batch.to_vec())
                .exec(db)
                .await?;
        }
    }
    Ok(count)
}

// ─── Stats ──────────────────────────────────────────────────────────────────

/// Which cases count: those received from `from` to `to`, both inclusive (either
/// end open when `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    fn condition(self) -> Condition {
        let received = (cases::Entity, cases::Column::ReceivedOn);
        let mut all = Condition::all();
        if let Some(from) = self.from {
            all = all.add(Expr::col(received).gte(from));
        }
        if let Some(to) = self.to {
            all = all.add(Expr::col(received).lte(to));
        }
        all
    }
}

/// The tallies of a set of cases: all of them and by category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseStats {
    pub total: Tally,
    /// Every category, in the order the spec lists them.
    pub by_category: Vec<(CaseCategory, Tally)>,
}

/// `CAST(COALESCE(SUM(expr), 0) AS BIGINT)`: PostgreSQL sums BIGINTs as NUMERIC.
fn sum_of(expr: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

/// The tallies of the cases whose room is in `scope`, received within `period`: one
/// aggregate query, no rows loaded. This is what the mediation stats and any overview
/// of a subtree count with.
pub async fn stats(
    db: &impl ConnectionTrait,
    scope: &Reach,
    period: Period,
) -> Result<CaseStats, StoreError> {
    let rows = cases::Entity::find()
        .select_only()
        .column(cases::Column::Category)
        .column(cases::Column::Outcome)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(sum_of("mediation_cases.claimed_fen"), "claimed")
        .column_as(sum_of("mediation_cases.agreed_fen"), "agreed")
        .filter(reach_condition(
            (cases::Entity, cases::Column::OrgPath),
            scope,
        ))
        .filter(period.condition())
        .group_by(cases::Column::Category)
        .group_by(cases::Column::Outcome)
        .into_tuple::<(String, Option<String>, i64, i64, i64)>()
        .all(db)
        .await?;
    let mut by_category: HashMap<CaseCategory, Tally> = HashMap::new();
    let mut total = Tally::default();
    for (category, outcome, n, claimed, agreed) in rows {
        let category: CaseCategory = parse("case category", &category)?;
        let outcome: Option<Outcome> = outcome
            .as_deref()
            .map(|o| parse("outcome", o))
            .transpose()?;
        by_category
            .entry(category)
            .or_default()
            .add(outcome, n, claimed, agreed);
        total.add(outcome, n, claimed, agreed);
    }
    Ok(CaseStats {
        total,
        by_category: CaseCategory::ALL
            .iter()
            .map(|c| (*c, by_category.get(c).copied().unwrap_or_default()))
            .collect(),
    })
}

/// The organisations directly below `parent`, in creation order, page by page.
async fn children_of(db: &crate::db::Db, parent: &Org) -> Result<Vec<Org>, StoreError> {
    let subtree = Reach::over(vec![parent.path.clone()]);
    let filter = crate::orgs::OrgFilter {
        parent_id: Some(parent.id.0),
        ..Default::default()
    };
    let mut children = Vec::new();
    let mut after = None;
    loop {
        let page =
            crate::orgs::list(db, &subtree, &filter, PageRequest { limit: 500, after }).await?;
        children.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(children),
        }
    }
}

/// The tally of each organisation directly below `parent`, each covering its
/// subtree (cases of `parent`'s own room count in none of them), in creation order.
/// One query groups the cases by the child segment of their path.
pub async fn stats_by_child(
    db: &crate::db::Db,
    parent: &Org,
    period: Period,
) -> Result<Vec<(Org, Tally)>, StoreError> {
    let children = children_of(db, parent).await?;
    if children.is_empty() {
        return Ok(Vec::new());
    }
    // A child's path is the parent's, its id as 32 hex digits, and `/`: the segment
    // starts right after the parent's path (SUBSTR counts from 1 on both backends).
    let child_segment = format!(
        "SUBSTR(mediation_cases.org_path, {}, 32)",
        parent.path.as_str().len() + 1
    );
    let rows = cases::Entity::find()
        .select_only()
        .column_as(Expr::cust(child_segment.clone()), "child")
        .column(cases::Column::Outcome)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(sum_of("mediation_cases.claimed_fen"), "claimed")
        .column_as(sum_of("mediation_cases.agreed_fen"), "agreed")
        .filter(Expr::col((cases::Entity, cases::Column::OrgPath)).gt(parent.path.as_str()))
        .filter(Expr::col((cases::Entity, cases::Column::OrgPath)).lt(parent.path.upper_bound()))
        .filter(period.condition())
        .group_by(Expr::cust(child_segment))
        .group_by(cases::Column::Outcome)
        .into_tuple::<(String, Option<String>, i64, i64, i64)>()
        .all(db)
        .await?;
    let mut by_segment: HashMap<String, Tally> = HashMap::new();
    for (segment, outcome, n, claimed, agreed) in rows {
        let outcome: Option<Outcome> = outcome
            .as_deref()
            .map(|o| parse("outcome", o))
            .transpose()?;
        by_segment
            .entry(segment)
            .or_default()
            .add(outcome, n, claimed, agreed);
    }
    Ok(children
        .into_iter()
        .map(|child| {
            let tally = by_segment
                .get(&child.id.0.simple().to_string())
                .copied()
                .unwrap_or_default();
            (child, tally)
        })
        .collect())
}

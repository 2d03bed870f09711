//! Competitions and their registrations.
//!
//! Two invariants are the database's, not a read-then-insert's:
//!
//! - **One registration per member per competition**: a unique index on
//!   `(competition_id, member_id)`. The insert runs in a savepoint
//!   ([`insert_in_savepoint`]), so a collision leaves the transaction usable for looking
//!   up the registration that won.
//! - **Capacity**: `competitions.registered` counts registrations and is raised only by
//!   `UPDATE competitions SET registered = registered + 1 WHERE id = ? AND (capacity IS
//!   NULL OR registered < capacity)`, in the same transaction as the insert. If it
//!   touches no row the competition is full and the caller rolls the transaction back.
//!   On PostgreSQL the update's row lock makes concurrent registrations wait and
//!   re-check the condition against the committed count; on SQLite `BEGIN IMMEDIATE`
//!   makes writers take turns. A check constraint (`registered <= capacity`) backs it.

use crate::db::insert_in_savepoint;
use crate::entities::{
    competition_judges, competition_registrations, competition_results, competitions,
    judge_score_history, judge_scores, members, orgs, quiz_attempts, quiz_questions,
};
use crate::insurance::ancestor_paths;
use crate::orgs::reach_condition;
use crate::{Page, PageRequest, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use unionhall_domain::competitions::{
    CompetitionKind, CompetitionStatus, CompetitionTerms, LeaderboardKey, PrizeTier, Question,
    QuizScore, Score, Windows,
};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Type(format!("unreadable {what}: {value}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("json", &e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt(what, text))
}

// ─── Competitions ───────────────────────────────────────────────────────────

/// A stored competition: its terms, and what storage adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Competition {
    pub id: Uuid,
    /// The organiser; members of its subtree may enter.
    pub org_id: OrgId,
    pub org_path: OrgPath,
    pub name: String,
    /// Trade or category, e.g. "information technology".
    pub category: Option<String>,
    pub status: CompetitionStatus,
    pub terms: CompetitionTerms,
    /// Registrations held.
    pub registered: u64,
    pub created_by: UserId,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn competition(
    m: competitions::Model,
    org: Option<orgs::Model>,
) -> Result<Competition, StoreError> {
    let org = org.ok_or_else(|| corrupt("competition org", &m.org_id.to_string()))?;
    let kind: CompetitionKind = m
        .kind
        .parse()
        .map_err(|()| corrupt("competition kind", &m.kind))?;
    let terms = CompetitionTerms {
        kind,
        windows: Windows {
            registration_opens: m.registration_opens,
            registration_closes: m.registration_closes,
            run_starts: m.run_starts,
            run_ends: m.run_ends,
        },
        capacity: m
            .capacity
            .map(|c| u32::try_from(c).map_err(|_| corrupt("capacity", &c.to_string())))
            .transpose()?,
        eligibility: from_json("eligibility", &m.eligibility)?,
        criteria: from_json("criteria", &m.criteria)?,
        scoring_method: m
            .scoring_method
            .parse()
            .map_err(|()| corrupt("scoring method", &m.scoring_method))?,
        rank_kind: m
            .rank_kind
            .parse()
            .map_err(|()| corrupt("rank kind", &m.rank_kind))?,
        tie_breaks: from_json("tie breaks", &m.tie_breaks)?,
        time_limit_seconds: m
            .time_limit_seconds
            .map(|s| u32::try_from(s).map_err(|_| corrupt("time limit", &s.to_string())))
            .transpose()?,
        exclude_own_union_judges: m.exclude_own_union_judges,
    };
    Ok(Competition {
        id: m.id,
        org_id: OrgId(m.org_id),
        org_path: OrgPath::from_stored(org.path),
        name: m.name,
        category: m.category,
        status: m
            .status
            .parse()
            .map_err(|()| corrupt("competition status", &m.status))?,
        terms,
        registered: u64::try_from(m.registered)
            .map_err(|_| corrupt("registered", &m.registered.to_string()))?,
        created_by: UserId(m.created_by),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// What a competition is made of, apart from its organiser (fixed) and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitionData {
    pub name: String,
    pub category: Option<String>,
    pub terms: CompetitionTerms,
}

fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Inserts a competition of `org_id`, in `draft`.
pub async fn insert_competition(
    db: &impl ConnectionTrait,
    org_id: OrgId,
    data: CompetitionData,
    created_by: UserId,
) -> Result<Competition, StoreError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let t = &data.terms;
    competitions::ActiveModel {
        id: Set(id),
        org_id: Set(org_id.0),
        name: Set(data.name.clone()),
        category: Set(data.category.clone()),
        kind: Set(t.kind.as_str().to_owned()),
        status: Set(CompetitionStatus::Draft.as_str().to_owned()),
        registration_opens: Set(t.windows.registration_opens),
        registration_closes: Set(t.windows.registration_closes),
        run_starts: Set(t.windows.run_starts),
        run_ends: Set(t.windows.run_ends),
        capacity: Set(t.capacity.map(i64::from)),
        registered: Set(0),
        eligibility: Set(to_json(&t.eligibility)?),
        criteria: Set(to_json(&t.criteria)?),
        scoring_method: Set(t.scoring_method.as_str().to_owned()),
        rank_kind: Set(t.rank_kind.as_str().to_owned()),
        tie_breaks: Set(to_json(&t.tie_breaks)?),
        time_limit_seconds: Set(t.time_limit_seconds.map(int)),
        exclude_own_union_judges: Set(t.exclude_own_union_judges),
        created_by: Set(created_by.0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    get_competition(db, id).await
}

/// A competition by id, unscoped: who may see it is the caller's to decide from
/// `org_path` and `status` (see [`CompetitionScope`]).
pub async fn get_competition(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Competition, StoreError> {
    let (m, org) = competitions::Entity::find_by_id(id)
        .find_also_related(orgs::Entity)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    competition(m, org)
}

/// The competition an organisation runs under `name`, if any: how a loader that runs
/// twice (the demo) finds what it made the first time.
pub async fn find_competition_by_name(
    db: &impl ConnectionTrait,
    org_id: OrgId,
    name: &str,
) -> Result<Option<Competition>, StoreError> {
    competitions::Entity::find()
        .filter(competitions::Column::OrgId.eq(org_id.0))
        .filter(competitions::Column::Name.eq(name))
        .find_also_related(orgs::Entity)
        .one(db)
        .await?
        .map(|(m, org)| competition(m, org))
        .transpose()
}

/// Which competitions a caller may see.
#[derive(Debug, Clone, Copy)]
pub enum CompetitionScope<'a> {
    /// Staff: every competition organised in `admin` (drafts included), and the
    /// non-draft ones organised in `read` or above it (open to the members they look
    /// after, or judged by them).
    Staff { read: &'a Reach, admin: &'a Reach },
    /// A member: the non-draft competitions of their union and the organisations above.
    Member(&'a OrgPath),
}

impl CompetitionScope<'_> {
    /// Whether a competition of `path` in `status` is in scope: the same rule as
    /// [`scope_condition`], for a row already read.
    pub fn admits(&self, path: &OrgPath, status: CompetitionStatus) -> bool {
        let published = status != CompetitionStatus::Draft;
        match self {
            CompetitionScope::Staff { read, admin } => {
                admin.covers(path)
                    || (published
                        && (read.covers(path) || read.roots().iter().any(|r| path.contains(r))))
            }
            CompetitionScope::Member(own) => published && path.contains(own),
        }
    }
}

fn scope_condition(scope: CompetitionScope<'_>) -> Condition {
    let path = (orgs::Entity, orgs::Column::Path);
    let published = competitions::Column::Status.ne(CompetitionStatus::Draft.as_str());
    match scope {
        CompetitionScope::Staff { read, admin } => {
            let above: Vec<String> = read
                .roots()
                .iter()
                .flat_map(ancestor_paths)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            Condition::any().add(reach_condition(path, admin)).add(
                Condition::all().add(published).add(
                    Condition::any()
                        .add(reach_condition(path, read))
                        .add(Expr::col(path).is_in(above)),
                ),
            )
        }
        CompetitionScope::Member(own) => Condition::all()
            .add(published)
            .add(Expr::col(path).is_in(ancestor_paths(own))),
    }
}

/// Competition list filters.
#[derive(Debug, Clone, Default)]
pub struct CompetitionFilter {
    pub kind: Option<CompetitionKind>,
    pub status: Option<CompetitionStatus>,
}

/// Competitions in scope, in creation order.
pub async fn list_competitions(
    db: &impl ConnectionTrait,
    scope: CompetitionScope<'_>,
    filter: &CompetitionFilter,
    page: PageRequest,
) -> Result<Page<Competition>, StoreError> {
    let mut query = competitions::Entity::find()
        .find_also_related(orgs::Entity)
        .filter(scope_condition(scope));
    if let Some(kind) = filter.kind {
        query = query.filter(competitions::Column::Kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(competitions::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(competitions::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(competitions::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(|(m, org)| competition(m, org))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |c| c.id))
}

/// Replaces a competition's data and status if it is still at `expected_version` and
/// the new capacity (if any) still holds everyone registered. A lost race is
/// `StaleVersion`; a capacity below the registrations is [`UpdateError::BelowRegistered`].
pub async fn update_competition(
    db: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    status: CompetitionStatus,
    data: CompetitionData,
) -> Result<Competition, UpdateError> {
    let t = &data.terms;
    let mut update = competitions::Entity::update_many()
        .col_expr(competitions::Column::Name, Expr::value(data.name.clone()))
        .col_expr(
            competitions::Column::Category,
            Expr::value(data.category.clone()),
        )
        .col_expr(competitions::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            competitions::Column::RegistrationOpens,
            Expr::value(t.windows.registration_opens),
        )
        .col_expr(
            competitions::Column::RegistrationCloses,
            Expr::value(t.windows.registration_closes),
        )
        .col_expr(
            competitions::Column::RunStarts,
            Expr::value(t.windows.run_starts),
        )
        .col_expr(
            competitions::Column::RunEnds,
            Expr::value(t.windows.run_ends),
        )
        .col_expr(
            competitions::Column::Capacity,
            Expr::value(t.capacity.map(i64::from)),
        )
        .col_expr(
            competitions::Column::Eligibility,
            Expr::value(to_json(&t.eligibility)?),
        )
        .col_expr(
            competitions::Column::Criteria,
            Expr::value(to_json(&t.criteria)?),
        )
        .col_expr(
            competitions::Column::ScoringMethod,
            Expr::value(t.scoring_method.as_str()),
        )
        .col_expr(
            competitions::Column::RankKind,
            Expr::value(t.rank_kind.as_str()),
        )
        .col_expr(
            competitions::Column::TieBreaks,
            Expr::value(to_json(&t.tie_breaks)?),
        )
        .col_expr(
            competitions::Column::TimeLimitSeconds,
            Expr::value(t.time_limit_seconds.map(int)),
        )
        .col_expr(
            competitions::Column::ExcludeOwnUnionJudges,
            Expr::value(t.exclude_own_union_judges),
        )
        .col_expr(
            competitions::Column::Version,
            Expr::value(expected_version + 1),
        )
        .col_expr(competitions::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(competitions::Column::Id.eq(id))
        .filter(competitions::Column::Version.eq(expected_version));
    if let Some(capacity) = t.capacity {
        update = update.filter(competitions::Column::Registered.lte(i64::from(capacity)));
    }
    let done = update.exec(db).await.map_err(StoreError::from)?;
    if done.rows_affected == 0 {
        let current = get_competition(db, id).await?;
        return Err(if current.version != expected_version {
            UpdateError::Store(StoreError::StaleVersion)
        } else {
            UpdateError::BelowRegistered {
                registered: current.registered,
            }
        });
    }
    Ok(get_competition(db, id).await?)
}

/// Why an update didn't happen.
#[derive(Debug)]
pub enum UpdateError {
    /// The new capacity is below the registrations already held.
    BelowRegistered {
        registered: u64,
    },
    Store(StoreError),
}

impl From<StoreError> for UpdateError {
    fn from(e: StoreError) -> Self {
        UpdateError::Store(e)
    }
}

/// How many competitions there are (for the demo's report).
pub async fn count_competitions(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(competitions::Entity::find().count(db).await?)
}

// ─── Registrations ──────────────────────────────────────────────────────────

/// A member's registration for a competition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: Uuid,
    pub competition_id: Uuid,
    pub member_id: MemberId,
    /// The member's union when they registered.
    pub member_org_id: OrgId,
    /// The account that registered them: their own, or a union administrator's.
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

fn registration(m: competition_registrations::Model) -> Registration {
    Registration {
        id: m.id,
        competition_id: m.competition_id,
        member_id: MemberId(m.member_id),
        member_org_id: OrgId(m.member_org_id),
        created_by: UserId(m.created_by),
        created_at: m.created_at,
    }
}

/// Why a registration wasn't stored.
#[derive(Debug)]
pub enum RegisterError {
    /// The member is registered already; the registration that holds the place.
    AlreadyRegistered {
        existing: Uuid,
    },
    /// Every place is taken.
    Full,
    Store(StoreError),
}

impl From<StoreError> for RegisterError {
    fn from(e: StoreError) -> Self {
        RegisterError::Store(e)
    }
}

/// Registers `member_id` (of union `member_org_id`) for a competition: the insert,
/// which the unique index refuses for a second registration of the member, and the
/// conditional raise of the counter, which refuses past the capacity. On an error the
/// caller must roll the transaction back (the insert may have happened).
pub async fn register<C>(
    db: &C,
    competition_id: Uuid,
    member_id: MemberId,
    member_org_id: OrgId,
    created_by: UserId,
) -> Result<Registration, RegisterError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let row = competition_registrations::ActiveModel {
        id: Set(Uuid::now_v7()),
        competition_id: Set(competition_id),
        member_id: Set(member_id.0),
        member_org_id: Set(member_org_id.0),
        created_by: Set(created_by.0),
        created_at: Set(Utc::now()),
    };
    let inserted = match insert_in_savepoint(db, row).await {
        Ok(m) => m,
        Err(StoreError::Conflict { .. }) => {
            let existing = find_registration(db, competition_id, member_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            return Err(RegisterError::AlreadyRegistered {
                existing: existing.id,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let raised = competitions::Entity::update_many()
        .col_expr(
            competitions::Column::Registered,
            Expr::col(competitions::Column::Registered).add(1),
        )
        .filter(competitions::Column::Id.eq(competition_id))
        .filter(
            Condition::any()
                .add(competitions::Column::Capacity.is_null())
                .add(
                    Expr::col(competitions::Column::Registered)
                        .lt(Expr::col(competitions::Column::Capacity)),
                ),
        )
        .exec(db)
        .await
        .map_err(StoreError::from)?;
    if raised.rows_affected == 0 {
        return Err(RegisterError::Full);
    }
    Ok(registration(inserted))
}

/// The member's registration for a competition, if any.
pub async fn find_registration(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    member_id: MemberId,
) -> Result<Option<Registration>, StoreError> {
    Ok(competition_registrations::Entity::find()
        .filter(competition_registrations::Column::CompetitionId.eq(competition_id))
        .filter(competition_registrations::Column::MemberId.eq(member_id.0))
        .one(db)
        .await?
        .map(registration))
}

/// A registration of a competition by id.
pub async fn get_registration(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    id: Uuid,
) -> Result<Registration, StoreError> {
    competition_registrations::Entity::find_by_id(id)
        .filter(competition_registrations::Column::CompetitionId.eq(competition_id))
        .one(db)
        .await?
        .map(registration)
        .ok_or(StoreError::NotFound)
}

/// Which registrations of a competition a caller may list.
#[derive(Debug, Clone, Copy)]
pub enum RegistrationScope<'a> {
    /// The organiser's administrators: all of them.
    All,
    /// A union administrator: those of members whose union (at registration) is in
    /// their reach.
    Unions(&'a Reach),
    /// A member: their own.
    Member(MemberId),
}

/// A competition's registrations in scope, in creation order.
pub async fn list_registrations(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    scope: RegistrationScope<'_>,
    page: PageRequest,
) -> Result<Page<Registration>, StoreError> {
    let mut query = competition_registrations::Entity::find()
        .filter(competition_registrations::Column::CompetitionId.eq(competition_id));
    match scope {
        RegistrationScope::All => {}
        RegistrationScope::Unions(reach) => {
            query = query.filter(
                Expr::col(competition_registrations::Column::MemberOrgId).in_subquery(
                    Query::select()
                        .column(orgs::Column::Id)
                        .from(orgs::Entity)
                        .cond_where(reach_condition((orgs::Entity, orgs::Column::Path), reach))
                        .to_owned(),
                ),
            );
        }
        RegistrationScope::Member(member) => {
            query = query.filter(competition_registrations::Column::MemberId.eq(member.0));
        }
    }
    if let Some(after) = page.after {
        query = query.filter(competition_registrations::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(competition_registrations::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(registration)
        .collect();
    Ok(Page::from_rows(rows, page.limit, |r| r.id))
}

/// Withdraws a registration: deletes it and frees its place. `NotFound` if it was
/// withdrawn meanwhile.
pub async fn withdraw(db: &impl ConnectionTrait, reg: &Registration) -> Result<(), StoreError> {
    let done = competition_registrations::Entity::delete_many()
        .filter(competition_registrations::Column::Id.eq(reg.id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    competitions::Entity::update_many()
        .col_expr(
            competitions::Column::Registered,
            Expr::col(competitions::Column::Registered).sub(1),
        )
        .filter(competitions::Column::Id.eq(reg.competition_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A member's name and the path of their union, in one statement: who a member
/// viewer is, for every competition read they make (a polled leaderboard included).
pub async fn member_and_union_path(
    db: &impl ConnectionTrait,
    id: MemberId,
) -> Result<(String, OrgPath), StoreError> {
    let (member, org) = members::Entity::find_by_id(id.0)
        .find_also_related(orgs::Entity)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let org = org.ok_or_else(|| corrupt("member org", &member.org_id.to_string()))?;
    Ok((member.name, OrgPath::from_stored(org.path)))
}

/// The path of an organisation, unscoped: for placing a member's union or a
/// registration's union in the tree.
pub async fn org_path(db: &impl ConnectionTrait, id: OrgId) -> Result<OrgPath, StoreError> {
    orgs::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(|o| OrgPath::from_stored(o.path))
        .ok_or(StoreError::NotFound)
}

// ─── Quizzes ────────────────────────────────────────────────────────────────

fn question(m: quiz_questions::Model) -> Result<Question, StoreError> {
    Ok(Question {
        id: m.id,
        kind: m
            .kind
            .parse()
            .map_err(|()| corrupt("question kind", &m.kind))?,
        prompt: m.prompt,
        options: from_json("options", &m.options)?,
        correct: from_json("correct options", &m.correct)?,
        points: u32::try_from(m.points).map_err(|_| corrupt("points", &m.points.to_string()))?,
    })
}

/// Adds a question (with the id it carries) to a quiz's bank.
pub async fn insert_question(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    q: &Question,
) -> Result<Question, StoreError> {
    let m = quiz_questions::ActiveModel {
        id: Set(q.id),
        competition_id: Set(competition_id),
        kind: Set(q.kind.as_str().to_owned()),
        prompt: Set(q.prompt.clone()),
        options: Set(to_json(&q.options)?),
        correct: Set(to_json(&q.correct)?),
        points: Set(int(q.points)),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    question(m)
}

/// A page of a quiz's bank, in creation order.
pub async fn list_questions(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    page: PageRequest,
) -> Result<Page<Question>, StoreError> {
    let mut query = quiz_questions::Entity::find()
        .filter(quiz_questions::Column::CompetitionId.eq(competition_id));
    if let Some(after) = page.after {
        query = query.filter(quiz_questions::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(quiz_questions::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(question)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |q| q.id))
}

/// A quiz's whole bank: what a paper is made from and scored against.
pub async fn bank(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
) -> Result<Vec<Question>, StoreError> {
    quiz_questions::Entity::find()
        .filter(quiz_questions::Column::CompetitionId.eq(competition_id))
        .order_by_asc(quiz_questions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(question)
        .collect()
}

/// Answers: question id → the keys chosen on the attempt's paper.
pub type Answers = BTreeMap<Uuid, BTreeSet<String>>;

/// A quiz attempt. Its paper isn't stored: it follows from the bank and the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: Uuid,
    pub competition_id: Uuid,
    pub member_id: MemberId,
    pub started_at: DateTime<Utc>,
    pub answers: Answers,
    /// Set once submitted, with what it scored and the time it took.
    pub submitted: Option<Submitted>,
}

/// A submitted attempt's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitted {
    pub at: DateTime<Utc>,
    pub score: QuizScore,
    pub time_taken_ms: i64,
}

fn attempt(m: quiz_attempts::Model) -> Result<Attempt, StoreError> {
    let count = |v: Option<i64>| u32::try_from(v.unwrap_or(0)).unwrap_or(u32::MAX);
    let submitted = m.submitted_at.map(|at| Submitted {
        at,
        score: QuizScore {
            score: count(m.score),
            max_score: count(m.max_score),
            correct_count: count(m.correct_count.map(i64::from)),
            answered_count: count(m.answered_count.map(i64::from)),
        },
        time_taken_ms: m.time_taken_ms.unwrap_or(0),
    });
    Ok(Attempt {
        id: m.id,
        competition_id: m.competition_id,
        member_id: MemberId(m.member_id),
        started_at: m.started_at,
        answers: from_json("answers", &m.answers)?,
        submitted,
    })
}

/// Why an attempt didn't start.
#[derive(Debug)]
pub enum StartError {
    /// The member has their attempt already.
    AlreadyStarted {
        existing: Uuid,
    },
    Store(StoreError),
}

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> Self {
        StartError::Store(e)
    }
}

/// Starts the member's one attempt at a quiz; the unique index refuses a second
/// (`AlreadyStarted`, naming the first).
pub async fn start_attempt<C>(
    db: &C,
    competition_id: Uuid,
    member_id: MemberId,
    now: DateTime<Utc>,
) -> Result<Attempt, StartError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let row = quiz_attempts::ActiveModel {
        id: Set(Uuid::now_v7()),
        competition_id: Set(competition_id),
        member_id: Set(member_id.0),
        started_at: Set(now),
        answers: Set("{}".to_owned()),
        submitted_at: Set(None),
        score: Set(None),
        max_score: Set(None),
        correct_count: Set(None),
        answered_count: Set(None),
        time_taken_ms: Set(None),
    };
    match insert_in_savepoint(db, row).await {
        Ok(m) => Ok(attempt(m)?),
        Err(StoreError::Conflict { .. }) => {
            let existing = quiz_attempts::Entity::find()
                .filter(quiz_attempts::Column::CompetitionId.eq(competition_id))
                .filter(quiz_attempts::Column::MemberId.eq(member_id.0))
                .one(db)
                .await
                .map_err(StoreError::from)?
                .ok_or(StoreError::NotFound)?;
            Err(StartError::AlreadyStarted {
                existing: existing.id,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// An attempt by id.
/// An attempt with its quiz (and the quiz's organiser), in one statement: what every
/// save and submission starts from.
pub async fn get_attempt_with_quiz(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<(Attempt, Competition), StoreError> {
    let (a, c, org) = quiz_attempts::Entity::find_by_id(id)
        .find_also_related(competitions::Entity)
        .find_also(competitions::Entity, orgs::Entity)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let c = c.ok_or_else(|| corrupt("attempt competition", &a.competition_id.to_string()))?;
    Ok((attempt(a)?, competition(c, org)?))
}

/// The member's attempt at a quiz, if any.
pub async fn find_attempt(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    member_id: MemberId,
) -> Result<Option<Attempt>, StoreError> {
    quiz_attempts::Entity::find()
        .filter(quiz_attempts::Column::CompetitionId.eq(competition_id))
        .filter(quiz_attempts::Column::MemberId.eq(member_id.0))
        .one(db)
        .await?
        .map(attempt)
        .transpose()
}

/// Saves answers on an attempt not yet submitted; false if it was submitted.
pub async fn save_answers(
    db: &impl ConnectionTrait,
    id: Uuid,
    answers: &Answers,
) -> Result<bool, StoreError> {
    let done = quiz_attempts::Entity::update_many()
        .col_expr(
            quiz_attempts::Column::Answers,
            Expr::value(to_json(answers)?),
        )
        .filter(quiz_attempts::Column::Id.eq(id))
        .filter(quiz_attempts::Column::SubmittedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Records a submission and its score on an attempt not yet submitted (the condition
/// makes a concurrent second submission lose); false if it was submitted already.
pub async fn submit(
    db: &impl ConnectionTrait,
    id: Uuid,
    answers: &Answers,
    outcome: Submitted,
) -> Result<bool, StoreError> {
    let s = outcome.score;
    let done = quiz_attempts::Entity::update_many()
        .col_expr(
            quiz_attempts::Column::Answers,
            Expr::value(to_json(answers)?),
        )
        .col_expr(quiz_attempts::Column::SubmittedAt, Expr::value(outcome.at))
        .col_expr(
            quiz_attempts::Column::Score,
            Expr::value(i64::from(s.score)),
        )
        .col_expr(
            quiz_attempts::Column::MaxScore,
            Expr::value(i64::from(s.max_score)),
        )
        .col_expr(
            quiz_attempts::Column::CorrectCount,
            Expr::value(int(s.correct_count)),
        )
        .col_expr(
            quiz_attempts::Column::AnsweredCount,
            Expr::value(int(s.answered_count)),
        )
        .col_expr(
            quiz_attempts::Column::TimeTakenMs,
            Expr::value(outcome.time_taken_ms),
        )
        .filter(quiz_attempts::Column::Id.eq(id))
        .filter(quiz_attempts::Column::SubmittedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// A submitted attempt on the leaderboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderboardRow {
    pub key: LeaderboardKey,
    pub member_id: MemberId,
    pub member_name: String,
    pub max_score: i64,
    pub submitted_at: Option<DateTime<Utc>>,
}

fn submitted_of(competition_id: Uuid) -> Condition {
    Condition::all()
        .add(quiz_attempts::Column::CompetitionId.eq(competition_id))
        .add(quiz_attempts::Column::Score.is_not_null())
}

/// "Ranks strictly ahead of `key`": a higher score, or the same score in less time.
fn better_than(key: &LeaderboardKey) -> Condition {
    Condition::any()
        .add(quiz_attempts::Column::Score.gt(key.score))
        .add(
            Condition::all()
                .add(quiz_attempts::Column::Score.eq(key.score))
                .add(quiz_attempts::Column::TimeTakenMs.lt(key.time_taken_ms)),
        )
}

/// The submitted attempts after `after` (or from the top) in leaderboard order:
/// score descending, time taken ascending, attempt id ascending. One index range scan.
pub async fn leaderboard_page(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    after: Option<LeaderboardKey>,
    limit: u64,
) -> Result<Vec<LeaderboardRow>, StoreError> {
    let mut query = quiz_attempts::Entity::find().filter(submitted_of(competition_id));
    if let Some(k) = after {
        query = query.filter(
            Condition::any()
                .add(quiz_attempts::Column::Score.lt(k.score))
                .add(
                    Condition::all()
                        .add(quiz_attempts::Column::Score.eq(k.score))
                        .add(
                            Condition::any()
                                .add(quiz_attempts::Column::TimeTakenMs.gt(k.time_taken_ms))
                                .add(
                                    Condition::all()
                                        .add(quiz_attempts::Column::TimeTakenMs.eq(k.time_taken_ms))
                                        .add(quiz_attempts::Column::Id.gt(k.attempt_id)),
                                ),
                        ),
                ),
        );
    }
    let rows = query
        .order_by_desc(quiz_attempts::Column::Score)
        .order_by_asc(quiz_attempts::Column::TimeTakenMs)
        .order_by_asc(quiz_attempts::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.member_id).collect();
    let names: BTreeMap<Uuid, String> = members::Entity::find()
        .filter(members::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| LeaderboardRow {
            key: LeaderboardKey {
                score: r.score.unwrap_or(0),
                time_taken_ms: r.time_taken_ms.unwrap_or(0),
                attempt_id: r.id,
            },
            member_name: names.get(&r.member_id).cloned().unwrap_or_default(),
            member_id: MemberId(r.member_id),
            max_score: r.max_score.unwrap_or(0),
            submitted_at: r.submitted_at,
        })
        .collect())
}

/// What ranks ahead of `key`, counted on the leaderboard index: `(better attempts,
/// better distinct (score, time) results, attempts before it in leaderboard order)`.
/// The third adds the attempts tied with it whose id sorts first.
pub async fn count_ahead(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    key: &LeaderboardKey,
) -> Result<(u64, u64, u64), StoreError> {
    use sea_orm::PaginatorTrait;
    let better = quiz_attempts::Entity::find()
        .filter(submitted_of(competition_id))
        .filter(better_than(key))
        .count(db)
        .await?;
    let better_results = quiz_attempts::Entity::find()
        .select_only()
        .column(quiz_attempts::Column::Score)
        .column(quiz_attempts::Column::TimeTakenMs)
        .distinct()
        .filter(submitted_of(competition_id))
        .filter(better_than(key))
        .count(db)
        .await?;
    let tied_before = quiz_attempts::Entity::find()
        .filter(submitted_of(competition_id))
        .filter(quiz_attempts::Column::Score.eq(key.score))
        .filter(quiz_attempts::Column::TimeTakenMs.eq(key.time_taken_ms))
        .filter(quiz_attempts::Column::Id.lt(key.attempt_id))
        .count(db)
        .await?;
    Ok((better, better_results, better + tied_before))
}

// ─── Judges and their score sheets ──────────────────────────────────────────

/// A judge assigned to a competition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judge {
    pub competition_id: Uuid,
    pub user_id: UserId,
    pub assigned_by: UserId,
    pub created_at: DateTime<Utc>,
}

fn judge(m: competition_judges::Model) -> Judge {
    Judge {
        competition_id: m.competition_id,
        user_id: UserId(m.user_id),
        assigned_by: UserId(m.assigned_by),
        created_at: m.created_at,
    }
}

/// Assigns a judge; a second assignment of the same account is `Conflict` on
/// `competition_judges`.
pub async fn assign_judge<C>(
    db: &C,
    competition_id: Uuid,
    user_id: UserId,
    assigned_by: UserId,
) -> Result<Judge, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let row = competition_judges::ActiveModel {
        competition_id: Set(competition_id),
        user_id: Set(user_id.0),
        assigned_by: Set(assigned_by.0),
        created_at: Set(Utc::now()),
    };
    match insert_in_savepoint(db, row).await {
        Ok(m) => Ok(judge(m)),
        Err(StoreError::Conflict { .. }) => Err(StoreError::Conflict {
            constraint: "judge_assigned".to_owned(),
        }),
        Err(e) => Err(e),
    }
}

/// Whether `user_id` judges the competition.
pub async fn is_judge(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    user_id: UserId,
) -> Result<bool, StoreError> {
    Ok(
        competition_judges::Entity::find_by_id((competition_id, user_id.0))
            .one(db)
            .await?
            .is_some(),
    )
}

/// A competition's judges, in order of assignment.
pub async fn list_judges(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
) -> Result<Vec<Judge>, StoreError> {
    Ok(competition_judges::Entity::find()
        .filter(competition_judges::Column::CompetitionId.eq(competition_id))
        .order_by_asc(competition_judges::Column::CreatedAt)
        .order_by_asc(competition_judges::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .map(judge)
        .collect())
}

/// One revision of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRevision {
    pub revision: i32,
    pub scores: BTreeMap<String, i64>,
    pub recorded_at: DateTime<Utc>,
}

/// A judge's current sheet for one entrant, and every revision of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub id: Uuid,
    pub competition_id: Uuid,
    pub registration_id: Uuid,
    pub judge_id: UserId,
    pub scores: BTreeMap<String, i64>,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first; the last is the current sheet.
    pub history: Vec<SheetRevision>,
}

fn sheet(m: judge_scores::Model, history: Vec<SheetRevision>) -> Result<Sheet, StoreError> {
    Ok(Sheet {
        id: m.id,
        competition_id: m.competition_id,
        registration_id: m.registration_id,
        judge_id: UserId(m.judge_id),
        scores: from_json("scores", &m.scores)?,
        revision: m.revision,
        created_at: m.created_at,
        updated_at: m.updated_at,
        history,
    })
}

async fn with_history(
    db: &impl ConnectionTrait,
    rows: Vec<judge_scores::Model>,
) -> Result<Vec<Sheet>, StoreError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut history: BTreeMap<Uuid, Vec<SheetRevision>> = BTreeMap::new();
    for h in judge_score_history::Entity::find()
        .filter(judge_score_history::Column::ScoreId.is_in(ids))
        .order_by_asc(judge_score_history::Column::Revision)
        .all(db)
        .await?
    {
        history.entry(h.score_id).or_default().push(SheetRevision {
            revision: h.revision,
            scores: from_json("scores", &h.scores)?,
            recorded_at: h.recorded_at,
        });
    }
    rows.into_iter()
        .map(|m| {
            let h = history.remove(&m.id).unwrap_or_default();
            sheet(m, h)
        })
        .collect()
}

/// Records a judge's sheet for an entrant: the first one, or a correction that
/// replaces it and raises its revision. Every revision is kept in the history. Two
/// concurrent first sheets: the unique index lets one insert, and the other becomes
/// a correction of it.
pub async fn record_sheet<C>(
    db: &C,
    competition_id: Uuid,
    registration_id: Uuid,
    judge_id: UserId,
    scores: &BTreeMap<String, i64>,
) -> Result<Sheet, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = Utc::now();
    let text = to_json(scores)?;
    let existing = judge_scores::Entity::find()
        .filter(judge_scores::Column::RegistrationId.eq(registration_id))
        .filter(judge_scores::Column::JudgeId.eq(judge_id.0))
        .one(db)
        .await?;
    let (id, revision) = match existing {
        None => {
            let row = judge_scores::ActiveModel {
                id: Set(Uuid::now_v7()),
                competition_id: Set(competition_id),
                registration_id: Set(registration_id),
                judge_id: Set(judge_id.0),
                scores: Set(text.clone()),
                revision: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            };
            match insert_in_savepoint(db, row).await {
                Ok(m) => (m.id, 1),
                Err(StoreError::Conflict { .. }) => {
                    return Box::pin(record_sheet(
                        db,
                        competition_id,
                        registration_id,
                        judge_id,
                        scores,
                    ))
                    .await;
                }
                Err(e) => return Err(e),
            }
        }
        Some(current) => {
            let next = current.revision + 1;
            let done = judge_scores::Entity::update_many()
                .col_expr(judge_scores::Column::Scores, Expr::value(text.clone()))
                .col_expr(judge_scores::Column::Revision, Expr::value(next))
                .col_expr(judge_scores::Column::UpdatedAt, Expr::value(now))
                .filter(judge_scores::Column::Id.eq(current.id))
                .filter(judge_scores::Column::Revision.eq(current.revision))
                .exec(db)
                .await?;
            if done.rows_affected == 0 {
                return Err(StoreError::StaleVersion);
            }
            (current.id, next)
        }
    };
    judge_score_history::ActiveModel {
        id: Set(Uuid::now_v7()),
        score_id: Set(id),
        scores: Set(text),
        revision: Set(revision),
        recorded_at: Set(now),
    }
    .insert(db)
    .await?;
    let m = judge_scores::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(with_history(db, vec![m]).await?.remove(0))
}

/// A competition's current sheets, with their histories: every judge's, or one
/// judge's; optionally for one entrant.
pub async fn list_sheets(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    judge_id: Option<UserId>,
    registration_id: Option<Uuid>,
) -> Result<Vec<Sheet>, StoreError> {
    let mut query =
        judge_scores::Entity::find().filter(judge_scores::Column::CompetitionId.eq(competition_id));
    if let Some(j) = judge_id {
        query = query.filter(judge_scores::Column::JudgeId.eq(j.0));
    }
    if let Some(r) = registration_id {
        query = query.filter(judge_scores::Column::RegistrationId.eq(r));
    }
    let rows = query
        .order_by_asc(judge_scores::Column::RegistrationId)
        .order_by_asc(judge_scores::Column::JudgeId)
        .all(db)
        .await?;
    with_history(db, rows).await
}

// ─── Results ────────────────────────────────────────────────────────────────

/// Every registration of a competition (for ranking its entrants at publication).
pub async fn all_registrations(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
) -> Result<Vec<Registration>, StoreError> {
    Ok(competition_registrations::Entity::find()
        .filter(competition_registrations::Column::CompetitionId.eq(competition_id))
        .order_by_asc(competition_registrations::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(registration)
        .collect())
}

/// Every submitted attempt of a quiz: `(attempt id, member, points, time taken)`.
pub async fn submitted_attempts(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
) -> Result<Vec<(Uuid, MemberId, i64, i64)>, StoreError> {
    Ok(quiz_attempts::Entity::find()
        .filter(submitted_of(competition_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            (
                m.id,
                MemberId(m.member_id),
                m.score.unwrap_or(0),
                m.time_taken_ms.unwrap_or(0),
            )
        })
        .collect())
}

/// One entrant's published result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub entrant_id: Uuid,
    pub member_id: MemberId,
    pub position: i64,
    pub rank: u32,
    pub score: Score,
    pub prize_tier: Option<PrizeTier>,
    pub honour_title: Option<String>,
}

fn result_row(m: competition_results::Model) -> Result<ResultRow, StoreError> {
    Ok(ResultRow {
        entrant_id: m.entrant_id,
        member_id: MemberId(m.member_id),
        position: m.position,
        rank: u32::try_from(m.rank).map_err(|_| corrupt("rank", &m.rank.to_string()))?,
        score: Score(m.score),
        prize_tier: m
            .prize_tier
            .map(|t| t.parse().map_err(|()| corrupt("prize tier", &t)))
            .transpose()?,
        honour_title: m.honour_title,
    })
}

/// Publishes results: moves the competition from `from` to `results_published` if it
/// is still there (a lost race is `StaleVersion`), and writes every ranked entrant's
/// row, in rank order.
pub async fn publish_results(
    db: &impl ConnectionTrait,
    c: &Competition,
    from: CompetitionStatus,
    rows: Vec<ResultRow>,
) -> Result<(), StoreError> {
    let done = competitions::Entity::update_many()
        .col_expr(
            competitions::Column::Status,
            Expr::value(CompetitionStatus::ResultsPublished.as_str()),
        )
        .col_expr(competitions::Column::Version, Expr::value(c.version + 1))
        .col_expr(competitions::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(competitions::Column::Id.eq(c.id))
        .filter(competitions::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    let now = Utc::now();
    let models: Vec<competition_results::ActiveModel> = rows
        .into_iter()
        .map(|r| competition_results::ActiveModel {
            id: Set(Uuid::now_v7()),
            competition_id: Set(c.id),
            entrant_id: Set(r.entrant_id),
            member_id: Set(r.member_id.0),
            position: Set(r.position),
            rank: Set(i64::from(r.rank)),
            score: Set(r.score.ten_thousandths()),
            prize_tier: Set(r.prize_tier.map(|t| t.as_str().to_owned())),
            honour_title: Set(r.honour_title),
            created_at: Set(now),
        })
        .collect();
    for chunk in models.chunks(500) {
        competition_results::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A page of published results in rank order, after position `after`.
pub async fn list_results(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<ResultRow>, StoreError> {
    let mut query = competition_results::Entity::find()
        .filter(competition_results::Column::CompetitionId.eq(competition_id));
    if let Some(p) = after {
        query = query.filter(competition_results::Column::Position.gt(p));
    }
    query
        .order_by_asc(competition_results::Column::Position)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(result_row)
        .collect()
}

/// A member's published result in a competition, if they were ranked.
pub async fn member_result(
    db: &impl ConnectionTrait,
    competition_id: Uuid,
    member_id: MemberId,
) -> Result<Option<ResultRow>, StoreError> {
    competition_results::Entity::find()
        .filter(competition_results::Column::CompetitionId.eq(competition_id))
        .filter(competition_results::Column::MemberId.eq(member_id.0))
        .one(db)
        .await?
        .map(result_row)
        .transpose()
}

/// One of a member's published results, with the competition it belongs to.
#[derive(Debug, Clone)]
pub struct MemberResult {
    /// The result row's own id: the paging key, and the certificate's identity.
    pub id: Uuid,
    pub competition: Competition,
    pub result: ResultRow,
    /// When the results were published (the row's creation).
    pub published_at: DateTime<Utc>,
}

/// A member's published results across every competition, oldest publication first,
/// paged by result id; `awarded_only` keeps those with a prize or an honour title (the
/// member's certificates). Results rows are written only at publication and never
/// change, so what a member sees here is frozen, as the results page is.
pub async fn member_results(
    db: &impl ConnectionTrait,
    member_id: MemberId,
    awarded_only: bool,
    page: PageRequest,
) -> Result<Page<MemberResult>, StoreError> {
    let mut query = competition_results::Entity::find()
        .filter(competition_results::Column::MemberId.eq(member_id.0));
    if awarded_only {
        query = query.filter(
            Condition::any()
                .add(competition_results::Column::PrizeTier.is_not_null())
                .add(competition_results::Column::HonourTitle.is_not_null()),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(competition_results::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(competition_results::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    // One query for the page's competitions, not one per row.
    let ids: BTreeSet<Uuid> = rows.iter().map(|r| r.competition_id).collect();
    let mut by_id = BTreeMap::new();
    for (m, org) in competitions::Entity::find()
        .filter(competitions::Column::Id.is_in(ids))
        .find_also_related(orgs::Entity)
        .all(db)
        .await?
    {
        by_id.insert(m.id, competition(m, org)?);
    }
    let mut items = Vec::with_capacity(rows.len());
    for m in rows {
        let competition = by_id
            .get(&m.competition_id)
            .cloned()
            .ok_or_else(|| corrupt("result competition", &m.competition_id.to_string()))?;
        items.push(MemberResult {
            id: m.id,
            published_at: m.created_at,
            competition,
            result: result_row(m)?,
        });
    }
    Ok(Page::from_rows(items, page.limit, |r| r.id))
}

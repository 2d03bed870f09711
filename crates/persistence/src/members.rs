//! Memberships and their history. Personal data arrives sealed (ciphertext plus a keyed
//! hash) from the API layer; this module stores and matches the hashes and never sees
//! a clear ID number or phone.

use crate::db::Db;
use crate::entities::{member_events, members, orgs};
use crate::orgs::{escape_like, reach_condition};
use crate::rows;
use crate::{Page, PageRequest, StoreError};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set, TransactionSession, TransactionTrait,
};
use unionhall_domain::members::{
    EmploymentForm, Member, MemberEvent, MemberEventKind, MemberStatus, Occupation, card_number,
};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::person::Gender;
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Type(format!("unknown {what} {value}")))
}

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|_| corrupt(what, value))
}

fn to_domain(m: members::Model) -> Result<Member, StoreError> {
    Ok(Member {
        id: MemberId(m.id),
        org_id: OrgId(m.org_id),
        gender: parse::<Gender>("gender", &m.gender)?,
        occupation: parse::<Occupation>("occupation", &m.occupation)?,
        employment_form: parse::<EmploymentForm>("employment form", &m.employment_form)?,
        status: parse::<MemberStatus>("member status", &m.status)?,
        name: m.name,
        birth_date: m.birth_date,
        id_number_sealed: m.id_number_enc,
        phone_sealed: m.phone_enc,
        employer: m.employer,
        card_no: m.card_no,
        joined_on: m.joined_on,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn event_to_domain(m: member_events::Model) -> Result<MemberEvent, StoreError> {
    let status = |s: Option<String>| {
        s.map(|s| parse::<MemberStatus>("member status", &s))
            .transpose()
    };
    Ok(MemberEvent {
        id: m.id,
        member_id: MemberId(m.member_id),
        kind: parse::<MemberEventKind>("member event", &m.kind)?,
        from_org_id: m.from_org_id.map(OrgId),
        to_org_id: m.to_org_id.map(OrgId),
        from_status: status(m.from_status)?,
        to_status: status(m.to_status)?,
        reason: m.reason,
        actor_user_id: m.actor_user_id.map(UserId),
        request_id: m.request_id,
        at: m.at,
    })
}

/// A value sealed by the API layer: ciphertext for reveal, keyed hash for matching.
#[derive(Clone)]
pub struct Sealed {
    pub ciphertext: String,
    pub hash: String,
}

/// Who made a change and in which request, for the history.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub request_id: Option<String>,
}

/// A new membership; the card number is generated on insert.
#[derive(Clone)]
pub struct NewMember {
    pub org_id: OrgId,
    pub name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub id_number: Sealed,
    pub phone: Sealed,
    pub employer: Option<String>,
    pub occupation: Occupation,
    pub employment_form: EmploymentForm,
    pub joined_on: NaiveDate,
}

/// How often a fresh card number is drawn after colliding with an existing one.
const CARD_ATTEMPTS: usize = 8;

/// A random 12-digit card serial.
fn random_serial() -> u64 {
    u64::try_from(Uuid::new_v4().as_u128() % 1_000_000_000_000).unwrap_or(0)
}

/// Inserts an active membership with a fresh card number and records `joined`.
/// A person who already has an active membership is `Conflict` on `id_number_hash`
/// (the database's partial unique index decides, so concurrent inserts can't both
/// win), and the surrounding transaction stays usable.
pub async fn insert<C>(db: &C, new: NewMember, actor: &Actor) -> Result<Member, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let id = MemberId::new();
    let now = Utc::now();
    let mut attempt = 0;
    let model = loop {
        attempt += 1;
        let row = members::ActiveModel {
            id: Set(id.0),
            org_id: Set(new.org_id.0),
            name: Set(new.name.clone()),
            gender: Set(new.gender.as_str().to_owned()),
            birth_date: Set(new.birth_date),
            id_number_enc: Set(new.id_number.ciphertext.clone()),
            id_number_hash: Set(new.id_number.hash.clone()),
            phone_enc: Set(new.phone.ciphertext.clone()),
            phone_hash: Set(new.phone.hash.clone()),
            employer: Set(new.employer.clone()),
            occupation: Set(new.occupation.as_str().to_owned()),
            employment_form: Set(new.employment_form.as_str().to_owned()),
            card_no: Set(card_number(random_serial())),
            status: Set(MemberStatus::Active.as_str().to_owned()),
            joined_on: Set(new.joined_on),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        };
        match crate::db::insert_in_savepoint(db, row).await {
            Err(e) if e.is_conflict_on("card_no") && attempt < CARD_ATTEMPTS => continue,
            other => break other?,
        }
    };
    record(
        db,
        id,
        MemberEventKind::Joined,
        (None, Some(new.org_id)),
        (None, Some(MemberStatus::Active)),
        None,
        actor,
    )
    .await?;
    to_domain(model)
}

/// Inserts many active memberships at once (a roster sync enrolling thousands of
/// riders), each with a fresh card number and a `joined` event: one statement per
/// batch (as many rows as fit in one write, [`crate::db::rows_per_insert`]) instead of
/// several per member.
///
/// The answer lines up with `news`: `Some(id)` for a membership created, `None` for a
/// person who already had an active one (the partial unique index said so), whom the
/// caller may link instead. A batch that hits any unique constraint (that person, or a
/// card-number collision) is undone by its savepoint and redone row by row with
/// [`insert`], which retries card numbers and names the conflict.
pub async fn insert_many<C>(
    db: &C,
    news: Vec<NewMember>,
    actor: &Actor,
) -> Result<Vec<Option<MemberId>>, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut created = Vec::with_capacity(news.len());
    // Sealed ID number and phone with their hashes, name, employer, card: ~550 bytes.
    for chunk in news.chunks(crate::db::rows_per_insert(550)) {
        let now = Utc::now();
        let ids: Vec<MemberId> = chunk.iter().map(|_| MemberId::new()).collect();
        let rows = chunk
            .iter()
            .zip(&ids)
            .map(|(new, id)| members::ActiveModel {
                id: Set(id.0),
                org_id: Set(new.org_id.0),
                name: Set(new.name.clone()),
                gender: Set(new.gender.as_str().to_owned()),
                birth_date: Set(new.birth_date),
                id_number_enc: Set(new.id_number.ciphertext.clone()),
                id_number_hash: Set(new.id_number.hash.clone()),
                phone_enc: Set(new.phone.ciphertext.clone()),
                phone_hash: Set(new.phone.hash.clone()),
                employer: Set(new.employer.clone()),
                occupation: Set(new.occupation.as_str().to_owned()),
                employment_form: Set(new.employment_form.as_str().to_owned()),
                card_no: Set(card_number(random_serial())),
                status: Set(MemberStatus::Active.as_str().to_owned()),
                joined_on: Set(new.joined_on),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            });
        let savepoint = db.begin().await?;
        match members::Entity::insert_many(rows).exec(&savepoint).await {
            Ok(_) => {
                savepoint.commit().await?;
                let events = chunk
                    .iter()
                    .zip(&ids)
                    .map(|(new, id)| joined_event(*id, new.org_id, actor));
                member_events::Entity::insert_many(events).exec(db).await?;
                created.extend(ids.into_iter().map(Some));
            }
            Err(e) => {
                savepoint.rollback().await?;
                let e = StoreError::from(e);
                if !matches!(e, StoreError::Conflict { .. }) {
                    return Err(e);
                }
                for new in chunk {
                    match insert(db, new.clone(), actor).await {
                        Ok(m) => created.push(Some(m.id)),
                        Err(e) if e.is_conflict_on("id_number_hash") => created.push(None),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(created)
}

/// The `joined` history row of a new membership.
fn joined_event(member: MemberId, org: OrgId, actor: &Actor) -> member_events::ActiveModel {
    member_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(member.0),
        kind: Set(MemberEventKind::Joined.as_str().to_owned()),
        from_org_id: Set(None),
        to_org_id: Set(Some(org.0)),
        from_status: Set(None),
        to_status: Set(Some(MemberStatus::Active.as_str().to_owned())),
        reason: Set(None),
        actor_user_id: Set(actor.user_id.map(|u| u.0)),
        request_id: Set(actor.request_id.clone()),
        at: Set(Utc::now()),
    }
}

async fn record(
    db: &impl ConnectionTrait,
    member: MemberId,
    kind: MemberEventKind,
    (from_org, to_org): (Option<OrgId>, Option<OrgId>),
    (from_status, to_status): (Option<MemberStatus>, Option<MemberStatus>),
    reason: Option<String>,
    actor: &Actor,
) -> Result<(), StoreError> {
    member_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(member.0),
        kind: Set(kind.as_str().to_owned()),
        from_org_id: Set(from_org.map(|o| o.0)),
        to_org_id: Set(to_org.map(|o| o.0)),
        from_status: Set(from_status.map(|s| s.as_str().to_owned())),
        to_status: Set(to_status.map(|s| s.as_str().to_owned())),
        reason: Set(reason),
        actor_user_id: Set(actor.user_id.map(|u| u.0)),
        request_id: Set(actor.request_id.clone()),
        at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The active membership of the person with this ID-number hash, with its
/// organisation's path (so the caller can tell whether it may name it). Unscoped.
pub async fn find_active_by_id_hash(
    db: &impl ConnectionTrait,
    id_number_hash: &str,
) -> Result<Option<(MemberId, OrgPath)>, StoreError> {
    let found = members::Entity::find()
        .filter(members::Column::IdNumberHash.eq(id_number_hash))
        .filter(members::Column::Status.eq(MemberStatus::Active.as_str()))
        .find_also_related(orgs::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(m, org)| org.map(|o| (MemberId(m.id), OrgPath::from_stored(o.path)))))
}

/// A membership whose organisation is in `reach`; anything else is `NotFound`.
pub async fn get(db: &impl ConnectionTrait, reach: &Reach, id: Uuid) -> Result<Member, StoreError> {
    members::Entity::find_by_id(id)
        .join(JoinType::InnerJoin, members::Relation::Org.def())
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// List filters; hashes are the keyed hashes of an ID number or phone.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Members of this organisation's subtree.
    pub org_path: Option<OrgPath>,
    pub status: Option<MemberStatus>,
    pub occupation: Option<Occupation>,
    pub employment_form: Option<EmploymentForm>,
    /// Matches name or card number.
    pub q: Option<String>,
    pub id_number_hash: Option<String>,
    pub phone_hash: Option<String>,
}

/// Lists memberships in `reach`, in creation order.
pub async fn list(
    db: &Db,
    reach: &Reach,
    filter: &MemberFilter,
    page: PageRequest,
) -> Result<Page<Member>, StoreError> {
    let path = (orgs::Entity, orgs::Column::Path);
    let mut query = members::Entity::find()
        .join(JoinType::InnerJoin, members::Relation::Org.def())
        .filter(reach_condition(path, reach));
    if let Some(subtree) = &filter.org_path {
        query = query.filter(reach_condition(path, &Reach::over(vec![subtree.clone()])));
    }
    if let Some(status) = filter.status {
        query = query.filter(members::Column::Status.eq(status.as_str()));
    }
    if let Some(occupation) = filter.occupation {
        query = query.filter(members::Column::Occupation.eq(occupation.as_str()));
    }
    if let Some(form) = filter.employment_form {
        query = query.filter(members::Column::EmploymentForm.eq(form.as_str()));
    }
    if let Some(hash) = &filter.id_number_hash {
        query = query.filter(members::Column::IdNumberHash.eq(hash.as_str()));
    }
    if let Some(hash) = &filter.phone_hash {
        query = query.filter(members::Column::PhoneHash.eq(hash.as_str()));
    }
    if let Some(q) = &filter.q {
        let pattern = format!("%{}%", escape_like(q));
        query = query.filter(
            Condition::any()
                .add(
                    Expr::col((members::Entity, members::Column::Name))
                        .like(LikeExpr::new(&pattern).escape('\\')),
                )
                .add(
                    Expr::col((members::Entity, members::Column::CardNo))
                        .like(LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(members::Column::Id.gt(after));
    }
    let query = query
        .order_by_asc(members::Column::Id)
        .limit(page.limit + 1);
    let rows = rows::fetch_all::<members::Model>(db, &query)
        .await?
        .into_iter()
        .map(to_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |m| m.id.0))
}

/// Changeable attributes; `None` leaves a field as it is.
#[derive(Clone, Default)]
pub struct MemberChanges {
    pub name: Option<String>,
    pub phone: Option<Sealed>,
    pub employer: Option<Option<String>>,
    pub occupation: Option<Occupation>,
    pub employment_form: Option<EmploymentForm>,
}

impl MemberChanges {
    /// Whether applying these would change nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.phone.is_none()
            && self.employer.is_none()
            && self.occupation.is_none()
            && self.employment_form.is_none()
    }
}

/// A membership by id, unscoped: for a member account reading its own record.
pub async fn get_own(db: &impl ConnectionTrait, id: MemberId) -> Result<Member, StoreError> {
    reload(db, id).await
}

async fn reload(db: &impl ConnectionTrait, id: MemberId) -> Result<Member, StoreError> {
    members::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Applies changes if the row is still at `expected_version` (when given), bumping the
/// version and recording `updated`. A lost race is `StaleVersion`.
pub async fn update(
    db: &impl ConnectionTrait,
    current: &Member,
    expected_version: Option<i32>,
    changes: MemberChanges,
    actor: &Actor,
) -> Result<Member, StoreError> {
    let version = expected_version.unwrap_or(current.version);
    if changes.is_empty() {
        return if version == current.version {
            Ok(current.clone())
        } else {
            Err(StoreError::StaleVersion)
        };
    }
    let mut update = members::Entity::update_many()
        .col_expr(members::Column::Version, Expr::value(version + 1))
        .col_expr(members::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(members::Column::Id.eq(current.id.0))
        .filter(members::Column::Version.eq(version));
    if let Some(name) = changes.name {
        update = update.col_expr(members::Column::Name, Expr::value(name));
    }
    if let Some(phone) = changes.phone {
        update = update
            .col_expr(members::Column::PhoneEnc, Expr::value(phone.ciphertext))
            .col_expr(members::Column::PhoneHash, Expr::value(phone.hash));
    }
    if let Some(employer) = changes.employer {
        update = update.col_expr(members::Column::Employer, Expr::value(employer));
    }
    if let Some(occupation) = changes.occupation {
        update = update.col_expr(
            members::Column::Occupation,
            Expr::value(occupation.as_str()),
        );
    }
    if let Some(form) = changes.employment_form {
        update = update.col_expr(members::Column::EmploymentForm, Expr::value(form.as_str()));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    record(
        db,
        current.id,
        MemberEventKind::Updated,
        (None, None),
        (None, None),
        None,
        actor,
    )
    .await?;
    reload(db, current.id).await
}

/// A change of status and/or organisation, as a transition decided it.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub kind: MemberEventKind,
    pub to_status: MemberStatus,
    pub to_org: OrgId,
    pub reason: String,
}

/// Moves a membership to a new status and/or organisation if it is still at the
/// version `current` was read at, and records the event. Becoming active while the
/// person is active elsewhere is `Conflict` on `id_number_hash`, and the surrounding
/// transaction stays usable.
pub async fn change_status<C>(
    db: &C,
    current: &Member,
    change: StatusChange,
    actor: &Actor,
) -> Result<Member, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let savepoint = db.begin().await?;
    let result = members::Entity::update_many()
        .col_expr(
            members::Column::Status,
            Expr::value(change.to_status.as_str()),
        )
        .col_expr(members::Column::OrgId, Expr::value(change.to_org.0))
        .col_expr(members::Column::Version, Expr::value(current.version + 1))
        .col_expr(members::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(members::Column::Id.eq(current.id.0))
        .filter(members::Column::Version.eq(current.version))
        .exec(&savepoint)
        .await;
    match result {
        Ok(r) if r.rows_affected == 1 => savepoint.commit().await?,
        Ok(_) => {
            savepoint.rollback().await?;
            return Err(StoreError::StaleVersion);
        }
        Err(e) => {
            savepoint.rollback().await?;
            return Err(e.into());
        }
    }
    record(
        db,
        current.id,
        change.kind,
        (Some(current.org_id), Some(change.to_org)),
        (Some(current.status), Some(change.to_status)),
        Some(change.reason),
        actor,
    )
    .await?;
    reload(db, current.id).await
}

/// A membership's history, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    member: MemberId,
    page: PageRequest,
) -> Result<Page<MemberEvent>, StoreError> {
    let mut query =
        member_events::Entity::find().filter(member_events::Column::MemberId.eq(member.0));
    if let Some(after) = page.after {
        query = query.filter(member_events::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(member_events::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(event_to_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |e| e.id))
}

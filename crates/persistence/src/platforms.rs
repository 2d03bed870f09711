//! Delivery platforms, their riders and roster-sync reports. Riders' personal data
//! arrives sealed (see [`crate::members::Sealed`]); a sync's writes are batched so a
//! 100,000-rider snapshot is a few hundred statements, not 100,000.

use crate::entities::{members, orgs, platforms, riders, roster_syncs};
use crate::members::Sealed;
use crate::orgs::reach_condition;
use crate::users::{self, NewUser};
use crate::{Page, PageRequest, StoreError};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set,
};
use std::collections::HashMap;
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::roster::{OnFile, RiderStatus};
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

/// How many rows one batched statement writes.
pub const BATCH: usize = 500;

/// A registered platform (never with its secret's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// The union its riders join.
    pub org_id: OrgId,
    pub auto_enrol: bool,
    pub client_id: String,
    /// The account its client-credentials tokens are issued to.
    pub user_id: UserId,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

fn to_domain(m: platforms::Model) -> Platform {
    Platform {
        id: m.id,
        code: m.code,
        name: m.name,
        org_id: OrgId(m.org_id),
        auto_enrol: m.auto_enrol,
        client_id: m.client_id,
        user_id: UserId(m.user_id),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// A new platform with its account.
#[derive(Debug, Clone)]
pub struct NewPlatform {
    pub code: String,
    pub name: String,
    pub org_id: OrgId,
    pub auto_enrol: bool,
    pub client_id: String,
    /// SHA-256 (hex) of the client secret.
    pub client_secret_hash: String,
    /// A hash no password matches: the account only ever gets client-credentials tokens.
    pub password_hash: String,
}

/// The username of a platform's account. `:` can't occur in a staff username, so it
/// can't collide with one.
pub fn platform_username(code: &str) -> String {
    format!("platform:{code}")
}

/// Inserts a platform and its account (no roles). A taken code is `Conflict` on `code`.
pub async fn insert(db: &impl ConnectionTrait, new: NewPlatform) -> Result<Platform, StoreError> {
    if platforms::Entity::find()
        .filter(platforms::Column::Code.eq(new.code.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict {
            constraint: "platforms.code".into(),
        });
    }
    let user = users::insert(
        db,
        NewUser {
            username: platform_username(&new.code),
            password_hash: new.password_hash,
            display_name: new.name.clone(),
            org_id: new.org_id,
            roles: Vec::new(),
        },
    )
    .await
    .map_err(|e| match e {
        e if e.is_conflict_on("username") => StoreError::Conflict {
            constraint: "platforms.code".into(),
        },
        e => e,
    })?;
    let now = Utc::now();
    let model = platforms::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(new.code),
        name: Set(new.name),
        org_id: Set(new.org_id.0),
        auto_enrol: Set(new.auto_enrol),
        client_id: Set(new.client_id),
        client_secret_hash: Set(new.client_secret_hash),
        user_id: Set(user.id.0),
        sync_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(to_domain(model))
}

/// A platform whose union is in `reach`, with that union's path; else `NotFound`.
pub async fn get_in_reach(
    db: &impl ConnectionTrait,
    reach: &Reach,
    code: &str,
) -> Result<Platform, StoreError> {
    platforms::Entity::find()
        .filter(platforms::Column::Code.eq(code))
        .join(JoinType::InnerJoin, platforms::Relation::Org.def())
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
        .one(db)
        .await?
        .map(to_domain)
        .ok_or(StoreError::NotFound)
}

/// A platform by code, unscoped (the caller decides who may see it).
pub async fn get_by_code(db: &impl ConnectionTrait, code: &str) -> Result<Platform, StoreError> {
    platforms::Entity::find()
        .filter(platforms::Column::Code.eq(code))
        .one(db)
        .await?
        .map(to_domain)
        .ok_or(StoreError::NotFound)
}

/// A platform and its secret's hash, by client id.
pub async fn credentials(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<(Platform, String)>, StoreError> {
    Ok(platforms::Entity::find()
        .filter(platforms::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .map(|m| {
            let hash = m.client_secret_hash.clone();
            (to_domain(m), hash)
        }))
}

/// Platforms whose union is in `reach` (optionally in one subtree), in creation order.
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    subtree: Option<&OrgPath>,
    page: PageRequest,
) -> Result<Page<Platform>, StoreError> {
    let path = (orgs::Entity, orgs::Column::Path);
    let mut query = platforms::Entity::find()
        .join(JoinType::InnerJoin, platforms::Relation::Org.def())
        .filter(reach_condition(path, reach));
    if let Some(subtree) = subtree {
        query = query.filter(reach_condition(path, &Reach::over(vec![subtree.clone()])));
    }
    if let Some(after) = page.after {
        query = query.filter(platforms::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(platforms::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect();
    Ok(Page::from_rows(rows, page.limit, |p| p.id))
}

/// Takes the platform's sync lock for the rest of the transaction: a conditional
/// write on its row, which a second sync's transaction waits behind (PostgreSQL row
/// lock; SQLite's single writer) until the first commits or rolls back.
pub async fn lock_for_sync(db: &impl ConnectionTrait, platform_id: Uuid) -> Result<(), StoreError> {
    let done = platforms::Entity::update_many()
        .col_expr(
            platforms::Column::SyncVersion,
            Expr::col(platforms::Column::SyncVersion).add(1),
        )
        .filter(platforms::Column::Id.eq(platform_id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A rider on file as a sync sees it.
#[derive(Debug, Clone)]
pub struct RiderOnFile {
    pub on_file: OnFile<Uuid>,
    pub member_id: Option<MemberId>,
}

/// Every rider of a platform, for diffing.
pub async fn riders_on_file(
    db: &impl ConnectionTrait,
    platform_id: Uuid,
) -> Result<Vec<RiderOnFile>, StoreError> {
    #[derive(sea_orm::FromQueryResult)]
    struct Row {
        id: Uuid,
        external_id: String,
        content_hash: String,
        status: String,
        member_id: Option<Uuid>,
    }
    let rows = riders::Entity::find()
        .select_only()
        .column(riders::Column::Id)
        .column(riders::Column::ExternalId)
        .column(riders::Column::ContentHash)
        .column(riders::Column::Status)
        .column(riders::Column::MemberId)
        .filter(riders::Column::PlatformId.eq(platform_id))
        .into_model::<Row>()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(RiderOnFile {
                on_file: OnFile {
                    key: r.id,
                    external_id: r.external_id,
                    content_hash: r.content_hash,
                    status: parse_status(&r.status)?,
                },
                member_id: r.member_id.map(MemberId),
            })
        })
        .collect()
}

fn parse_status(s: &str) -> Result<RiderStatus, StoreError> {
    s.parse()
        .map_err(|()| StoreError::Db(sea_orm::DbErr::Type(format!("unknown rider status {s}"))))
}

/// A rider's content as synced, personal data sealed.
#[derive(Clone)]
pub struct RiderData {
    pub external_id: String,
    pub name: String,
    pub id_number: Sealed,
    pub phone: Sealed,
    pub region_code: String,
    pub started_on: Option<NaiveDate>,
    pub consent_to_join: bool,
    pub content_hash: String,
    /// The membership this rider is linked to, when the sync decided one.
    pub member_id: Option<MemberId>,
}

/// Inserts new active riders, as many per statement as fit in one write
/// ([`crate::db::rows_per_insert`]).
pub async fn insert_riders(
    db: &impl ConnectionTrait,
    platform_id: Uuid,
    rows: Vec<RiderData>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    // Sealed ID number and phone with their hashes, names and ids: ~500 bytes a row.
    let per_statement = crate::db::rows_per_insert(500);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<riders::ActiveModel> = rows
            .by_ref()
            .take(per_statement)
            .map(|r| riders::ActiveModel {
                id: Set(Uuid::now_v7()),
                platform_id: Set(platform_id),
                external_id: Set(r.external_id),
                name: Set(r.name),
                id_number_enc: Set(r.id_number.ciphertext),
                id_number_hash: Set(r.id_number.hash),
                phone_enc: Set(r.phone.ciphertext),
                phone_hash: Set(r.phone.hash),
                region_code: Set(r.region_code),
                started_on: Set(r.started_on),
                consent_to_join: Set(r.consent_to_join),
                status: Set(RiderStatus::Active.as_str().to_owned()),
                member_id: Set(r.member_id.map(|m| m.0)),
                content_hash: Set(r.content_hash),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        riders::Entity::insert_many(chunk).exec(db).await?;
    }
    Ok(())
}

/// Replaces a rider's content and makes them active again. A link to a membership is
/// only ever added here, never removed.
pub async fn update_rider(
    db: &impl ConnectionTrait,
    rider_id: Uuid,
    r: RiderData,
) -> Result<(), StoreError> {
    let mut update = riders::Entity::update_many()
        .col_expr(riders::Column::Name, Expr::value(r.name))
        .col_expr(
            riders::Column::IdNumberEnc,
            Expr::value(r.id_number.ciphertext),
        )
        .col_expr(riders::Column::IdNumberHash, Expr::value(r.id_number.hash))
        .col_expr(riders::Column::PhoneEnc, Expr::value(r.phone.ciphertext))
        .col_expr(riders::Column::PhoneHash, Expr::value(r.phone.hash))
        .col_expr(riders::Column::RegionCode, Expr::value(r.region_code))
        .col_expr(riders::Column::StartedOn, Expr::value(r.started_on))
        .col_expr(
            riders::Column::ConsentToJoin,
            Expr::value(r.consent_to_join),
        )
        .col_expr(
            riders::Column::Status,
            Expr::value(RiderStatus::Active.as_str()),
        )
        .col_expr(riders::Column::ContentHash, Expr::value(r.content_hash))
        .col_expr(riders::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(riders::Column::Id.eq(rider_id));
    if let Some(member) = r.member_id {
        update = update.col_expr(riders::Column::MemberId, Expr::value(member.0));
    }
    update.exec(db).await?;
    Ok(())
}

/// Makes riders inactive, `BATCH` per statement. Their memberships are not touched.
pub async fn deactivate_riders(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), StoreError> {
    let now = Utc::now();
    for chunk in ids.chunks(BATCH) {
        riders::Entity::update_many()
            .col_expr(
                riders::Column::Status,
                Expr::value(RiderStatus::Inactive.as_str()),
            )
            .col_expr(riders::Column::UpdatedAt, Expr::value(now))
            .filter(riders::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The active memberships of the people with these ID-number hashes, `BATCH` hashes
/// per query.
pub async fn active_members_by_id_hash(
    db: &impl ConnectionTrait,
    hashes: &[String],
) -> Result<HashMap<String, MemberId>, StoreError> {
    let mut out = HashMap::new();
    for chunk in hashes.chunks(BATCH) {
        let rows = members::Entity::find()
            .select_only()
            .column(members::Column::Id)
            .column(members::Column::IdNumberHash)
            .filter(members::Column::IdNumberHash.is_in(chunk.iter().cloned()))
            .filter(members::Column::Status.eq("active"))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|(id, hash)| (hash, MemberId(id))));
    }
    Ok(out)
}

/// A rider as a union sees them.
#[derive(Debug, Clone)]
pub struct Rider {
    pub id: Uuid,
    pub platform_id: Uuid,
    pub external_id: String,
    pub name: String,
    pub id_number_sealed: String,
    pub phone_sealed: String,
    pub region_code: String,
    pub started_on: Option<NaiveDate>,
    pub consent_to_join: bool,
    pub status: RiderStatus,
    pub member_id: Option<MemberId>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

/// A platform's riders, optionally of one status, in creation order.
pub async fn list_riders(
    db: &impl ConnectionTrait,
    platform_id: Uuid,
    status: Option<RiderStatus>,
    page: PageRequest,
) -> Result<Page<Rider>, StoreError> {
    let mut query = riders::Entity::find().filter(riders::Column::PlatformId.eq(platform_id));
    if let Some(status) = status {
        query = query.filter(riders::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(riders::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(riders::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            Ok(Rider {
                status: parse_status(&m.status)?,
                id: m.id,
                platform_id: m.platform_id,
                external_id: m.external_id,
                name: m.name,
                id_number_sealed: m.id_number_enc,
                phone_sealed: m.phone_enc,
                region_code: m.region_code,
                started_on: m.started_on,
                consent_to_join: m.consent_to_join,
                member_id: m.member_id.map(MemberId),
                created_at: m.created_at,
                updated_at: m.updated_at,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id))
}

/// Stores a sync's report (JSON).
pub async fn save_sync(
    db: &impl ConnectionTrait,
    sync_id: Uuid,
    platform_id: Uuid,
    kind: &str,
    report: String,
) -> Result<(), StoreError> {
    roster_syncs::ActiveModel {
        id: Set(sync_id),
        platform_id: Set(platform_id),
        kind: Set(kind.to_owned()),
        report: Set(report),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A stored sync report (JSON) of this platform.
pub async fn get_sync(
    db: &impl ConnectionTrait,
    platform_id: Uuid,
    sync_id: Uuid,
) -> Result<String, StoreError> {
    roster_syncs::Entity::find_by_id(sync_id)
        .filter(roster_syncs::Column::PlatformId.eq(platform_id))
        .one(db)
        .await?
        .map(|m| m.report)
        .ok_or(StoreError::NotFound)
}

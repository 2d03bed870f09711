//! Stored responses of creating requests, replayed when a client retries with the same
//! `Idempotency-Key`.
//!
//! The key row is inserted first, inside the same transaction as the work it guards.
//! A concurrent duplicate's insert then waits on the unique key until the first commits
//! (and fails, and replays), or proceeds if the first rolled back: one effect, always.

use crate::StoreError;
use crate::entities::idempotency_keys;
use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use unionhall_domain::UserId;

/// A stored response.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status_code: u16,
    pub body: String,
    pub location: Option<String>,
}

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

/// Claims `key` for this caller inside the transaction `db`. `Ok(None)` means the work
/// may proceed; `Ok(Some(stored))` means it was done before (by an earlier request, or
/// a concurrent one that has now committed).
pub async fn claim(
    db: &impl ConnectionTrait,
    caller: UserId,
    key: &str,
    request_hash: &str,
) -> Result<Option<StoredResponse>, StoreError> {
    let cutoff = Utc::now() - Duration::hours(RETENTION_HOURS);
    let row = idempotency_keys::ActiveModel {
        caller_id: Set(caller.0),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        status_code: Set(0),
        response_body: Set(String::new()),
        location: Set(None),
        created_at: Set(Utc::now()),
    };
    // One statement: insert the claim, or take over this key's expired record (the
    // `WHERE` of the update), or touch nothing when a live record holds the key. A
    // conflict clause rather than catching the violation: on PostgreSQL a failed
    // statement would abort the whole transaction, and the stored response couldn't be
    // read. A concurrent claim of the same key waits for the row and then sees a live
    // record, as it would have after a separate delete and insert.
    let inserted = idempotency_keys::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                idempotency_keys::Column::CallerId,
                idempotency_keys::Column::Key,
            ])
            .update_columns([
                idempotency_keys::Column::RequestHash,
                idempotency_keys::Column::StatusCode,
                idempotency_keys::Column::ResponseBody,
                idempotency_keys::Column::Location,
                idempotency_keys::Column::CreatedAt,
            ])
            .action_and_where(
                Expr::col((
                    idempotency_keys::Entity,
                    idempotency_keys::Column::CreatedAt,
                ))
                .lt(cutoff),
            )
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    Ok(Some(
        load(db, caller, key).await?.ok_or(StoreError::NotFound)?,
    ))
}

/// Loads what was stored for a key.
pub async fn load(
    db: &impl ConnectionTrait,
    caller: UserId,
    key: &str,
) -> Result<Option<StoredResponse>, StoreError> {
    Ok(
        idempotency_keys::Entity::find_by_id((caller.0, key.to_owned()))
            .one(db)
            .await?
            .map(|m| StoredResponse {
                request_hash: m.request_hash,
                status_code: u16::try_from(m.status_code).unwrap_or(500),
                body: m.response_body,
                location: m.location,
            }),
    )
}

/// Records the response for a claimed key (same transaction as the claim).
pub async fn complete(
    db: &impl ConnectionTrait,
    caller: UserId,
    key: &str,
    status_code: u16,
    body: &str,
    location: Option<&str>,
) -> Result<(), StoreError> {
    idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::StatusCode,
            Expr::value(i32::from(status_code)),
        )
        .col_expr(idempotency_keys::Column::ResponseBody, Expr::value(body))
        .col_expr(
            idempotency_keys::Column::Location,
            Expr::value(location.map(str::to_owned)),
        )
        .filter(idempotency_keys::Column::CallerId.eq(caller.0))
        .filter(idempotency_keys::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes records past retention; run now and then.
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    let cutoff = Utc::now() - Duration::hours(RETENTION_HOURS);
    Ok(idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

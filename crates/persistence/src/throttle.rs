//! Login-attempt counters in fixed windows, kept in the database so every API node
//! sees the same count. An attempt is counted *before* the password is checked, so
//! parallel guesses can't all slip under the limit while the slow check runs; a
//! successful login then takes its attempt back.

use crate::StoreError;
use crate::entities::login_failures;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// Failures recorded for `key` in the window starting at `window_start` (unix seconds).
pub async fn failures(
    db: &impl ConnectionTrait,
    key: &str,
    window_start: i64,
) -> Result<u32, StoreError> {
    Ok(
        login_failures::Entity::find_by_id((key.to_owned(), window_start))
            .one(db)
            .await?
            .map_or(0, |row| u32::try_from(row.failures).unwrap_or(0)),
    )
}

/// Counts an attempt for `key` and answers how many this window has seen, this one
/// included. The upsert is atomic, so concurrent attempts each see a distinct count
/// or a higher one.
pub async fn count_attempt(
    db: &impl ConnectionTrait,
    key: &str,
    window_start: i64,
) -> Result<u32, StoreError> {
    record_failure(db, key, window_start).await?;
    failures(db, key, window_start).await
}

/// Takes back one counted attempt (it turned out to be a successful login).
pub async fn forgive_attempt(
    db: &impl ConnectionTrait,
    key: &str,
    window_start: i64,
) -> Result<(), StoreError> {
    login_failures::Entity::update_many()
        .col_expr(
            login_failures::Column::Failures,
            Expr::col((login_failures::Entity, login_failures::Column::Failures)).sub(1),
        )
        .filter(login_failures::Column::ThrottleKey.eq(key))
        .filter(login_failures::Column::WindowStart.eq(window_start))
        .filter(login_failures::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Counts one more failure for `key` in its window (an atomic upsert).
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    window_start: i64,
) -> Result<(), StoreError> {
    let row = login_failures::ActiveModel {
        throttle_key: Set(key.to_owned()),
        window_start: Set(window_start),
        failures: Set(1),
    };
    login_failures::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                login_failures::Column::ThrottleKey,
                login_failures::Column::WindowStart,
            ])
            .value(
                login_failures::Column::Failures,
                Expr::col((login_failures::Entity, login_failures::Column::Failures)).add(1),
            )
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Forgets `key`'s failures (a successful login clears the account's count).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), StoreError> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::ThrottleKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes windows that ended before `before` (unix seconds).
pub async fn purge_before(db: &impl ConnectionTrait, before: i64) -> Result<u64, StoreError> {
    Ok(login_failures::Entity::delete_many()
        .filter(login_failures::Column::WindowStart.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

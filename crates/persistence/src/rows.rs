//! Reading the rows of the busiest list pages by position.
//!
//! sea-orm decodes every column by name through sqlx's checked `try_get`: a hashed
//! lookup of the column name, then a type check (for a text column sqlx builds and
//! compares six type descriptors, ~350 instructions), then the decode. For a page of 50
//! organisations that was a quarter of all the instructions the service spent on the
//! request (callgrind, `GET /v1/orgs?limit=50`). The list reads that serve pages build
//! their statement with sea-query exactly as before (so PostgreSQL sees the same text
//! and the benchmarks' `bench/*.sql` still match), run it on the pool's own driver, and
//! decode each column by position without the check: a select lists its columns in
//! the order of the entity's fields, and the type is the one sea-orm would decode. A
//! row with the wrong number of columns is an error, not a guess.

use crate::StoreError;
use crate::db::Db;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::sqlite::SqliteRow;
use sea_orm::sqlx::{self, Decode, Postgres, Row, Sqlite};
use sea_orm::{DbBackend, DbErr, QueryTrait, RuntimeErr};
use sea_query_sqlx::SqlxValues;
use std::sync::Arc;

/// A row type read column by column, in the order its select lists them.
pub trait FromColumns: Sized {
    /// How many columns the select returns.
    const COLUMNS: usize;

    /// Reads the columns in order with [`Columns::read`].
    fn from_columns(columns: &mut Columns<'_>) -> Result<Self, StoreError>;
}

/// The columns of one row, read front to back.
pub struct Columns<'r> {
    row: AnyRow<'r>,
    next: usize,
}

enum AnyRow<'r> {
    Postgres(&'r PgRow),
    Sqlite(&'r SqliteRow),
}

impl Columns<'_> {
    /// Decodes the next column as `T` (an `Option` for a nullable column).
    pub fn read<T>(&mut self) -> Result<T, StoreError>
    where
        T: for<'a> Decode<'a, Postgres> + for<'a> Decode<'a, Sqlite>,
    {
        let index = self.next;
        self.next += 1;
        match self.row {
            AnyRow::Postgres(row) => row.try_get_unchecked::<T, _>(index),
            AnyRow::Sqlite(row) => row.try_get_unchecked::<T, _>(index),
        }
        .map_err(failed)
    }
}

/// Runs `select` and reads every row as a `T`.
pub async fn fetch_all<T: FromColumns>(
    db: &Db,
    select: &impl QueryTrait,
) -> Result<Vec<T>, StoreError> {
    let statement = select.build(db.get_database_backend());
    let values = SqlxValues(statement.values.unwrap_or(sea_orm::Values(Vec::new())));
    let sql = sqlx::AssertSqlSafe(statement.sql);
    // The same steps on either driver; only the pool and the row type differ.
    macro_rules! on {
        ($pool:expr, $row:ident) => {{
            let mut conn = $pool.acquire().await.map_err(no_connection)?;
            let rows = sqlx::query_with(sql, values)
                .fetch_all(&mut *conn)
                .await
                .map_err(failed)?;
            rows.iter()
                .map(|r| read(AnyRow::$row(r), r.len()))
                .collect()
        }};
    }
    match db.get_database_backend() {
        DbBackend::Postgres => on!(db.get_postgres_connection_pool(), Postgres),
        DbBackend::Sqlite => on!(db.get_sqlite_connection_pool(), Sqlite),
        other => Err(StoreError::Db(DbErr::Custom(format!(
            "no row reader for {other:?}"
        )))),
    }
}

/// The same error sea-orm makes of a failed query, so it maps to the same `StoreError`
/// (an unreachable database is `Unavailable`, answered 503).
fn failed(e: sqlx::Error) -> StoreError {
    StoreError::from(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
}

/// As sea-orm maps a failure to get a connection: whatever the cause (a timeout, a
/// refused or broken connect), the database is `Unavailable`.
fn no_connection(e: sqlx::Error) -> StoreError {
    StoreError::from(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))
}

fn read<T: FromColumns>(row: AnyRow<'_>, len: usize) -> Result<T, StoreError> {
    if len != T::COLUMNS {
        return Err(StoreError::Db(DbErr::Type(format!(
            "a row of {len} columns where {} were expected",
            T::COLUMNS
        ))));
    }
    T::from_columns(&mut Columns { row, next: 0 })
}

//! The one error type repositories return.

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};
use thiserror::Error;

/// What went wrong in storage, in terms a handler can act on.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row doesn't exist or isn't in the caller's reach.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `constraint` names which.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A conditional update lost: the row changed since it was read (`If-Match`).
    #[error("the row was changed concurrently")]
    StaleVersion,
    /// The database can't be reached right now; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an unexpected database state. Logged, never shown.
    #[error(transparent)]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            return StoreError::Conflict {
                constraint: constraint_name(&detail),
            };
        }
        if is_unavailable(&err) {
            return StoreError::Unavailable(err.to_string());
        }
        StoreError::Db(err)
    }
}

/// Whether the error means "no connection" rather than "bad statement".
fn is_unavailable(err: &DbErr) -> bool {
    let sqlx_err = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    matches!(
        sqlx_err.as_ref(),
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

/// PostgreSQL names the constraint (`duplicate key value violates unique constraint
/// "orgs_code_key"`); SQLite names the columns (`UNIQUE constraint failed: orgs.code`).
/// Either way, reduce it to `table.column`-ish words a client can read.
fn constraint_name(detail: &str) -> String {
    if let Some(rest) = detail.split("UNIQUE constraint failed: ").nth(1) {
        return rest.trim().to_owned();
    }
    if let Some(rest) = detail.split("unique constraint \"").nth(1) {
        return rest.split('"').next().unwrap_or(rest).to_owned();
    }
    "unique".to_owned()
}

impl StoreError {
    /// Whether this conflict is on the given column (`"code"` matches `orgs.code` and
    /// `orgs_code_key`).
    pub fn is_conflict_on(&self, column: &str) -> bool {
        match self {
            StoreError::Conflict { constraint } => constraint.contains(column),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_from_both_backends() {
        assert_eq!(
            constraint_name("UNIQUE constraint failed: orgs.code"),
            "orgs.code"
        );
        assert_eq!(
            constraint_name("duplicate key value violates unique constraint \"orgs_code_key\""),
            "orgs_code_key"
        );
        assert_eq!(constraint_name("something else"), "unique");
    }
}

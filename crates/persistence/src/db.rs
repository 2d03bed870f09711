//! Connecting, migrating, and starting write transactions the same way on SQLite and
//! PostgreSQL.

use crate::StoreError;
use futures_util::FutureExt;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectOptions, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, IntoActiveModel, SqliteTransactionMode,
    TransactionOptions, TransactionSession, TransactionTrait, sqlx,
};
use std::time::Duration;
use unionhall_migrations::{Migrator, MigratorTrait};

/// The shared connection pool.
pub type Db = DatabaseConnection;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
}

/// Opens a pool. SQLite gets WAL (readers don't block the writer), a busy timeout (a
/// writer waits for the lock instead of failing), and foreign keys on.
pub async fn connect(url: &str, pool: &PoolSettings) -> Result<Db, StoreError> {
    Ok(Database::connect(options(url, pool)).await?)
}

/// A pool that opens no connection now: each is opened when a task first needs it, on
/// that task's runtime, and its socket stays registered with that runtime's reactor.
/// A pool made this way on an HTTP worker's own (single-threaded) runtime has every
/// query's I/O woken on that same thread; a pool shared by all workers has half the
/// queries of each worker wake through another worker's reactor, a cross-thread wake-up
/// per round trip, and late when that worker is busy. Must be called inside the runtime
/// that will use the pool (sqlx spawns the pool's upkeep task there).
pub fn connect_lazy(url: &str, pool: &PoolSettings) -> Result<Db, StoreError> {
    let mut opts = options(url, pool);
    opts.connect_lazy(true);
    // A lazy connect does no I/O: its future is ready on the first poll.
    match Database::connect(opts).now_or_never() {
        Some(db) => Ok(db?),
        None => Err(StoreError::Db(sea_orm::DbErr::Custom(
            "a lazily connected pool was not ready at once".into(),
        ))),
    }
}

fn options(url: &str, pool: &PoolSettings) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(pool.max_connections)
        .min_connections(pool.min_connections)
        .acquire_timeout(pool.acquire_timeout)
        .connect_timeout(pool.acquire_timeout)
        .sqlx_logging(false)
        // Ping only connections that sat idle (they may have died with the server);
        // a ping before every use would double the round trips of every request.
        .test_before_acquire_if_idle_for(Duration::from_secs(5))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    opts
}

/// How many rows a multi-row `INSERT` carries, given roughly how many bytes one row
/// takes in the driver's bind message.
///
/// Why not simply 500: sqlx 0.9.0 doesn't set `TCP_NODELAY` on its PostgreSQL socket
/// (transact-rs/sqlx#4335, fixed upstream but not released) and writes a message in
/// 16 KiB pieces. A statement larger than one piece has its tail held back by Nagle's
/// algorithm until PostgreSQL's delayed ACK, about 40 ms later: 200 batches of a
/// 100,000-row bulk write lost 8–9 s that way (bench/insurance.sh). A statement that fits
/// in one piece goes out at once, and the extra statements cost far less than the wait.
pub fn rows_per_insert(bytes_per_row: usize) -> usize {
    const ONE_WRITE: usize = 15 * 1024;
    (ONE_WRITE / bytes_per_row.max(1)).clamp(1, 500)
}

/// Applies every pending migration.
pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    Ok(Migrator::up(db, None).await?)
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can't wait
/// for the lock and would fail under concurrency instead.
pub async fn begin_write(db: &Db) -> Result<DatabaseTransaction, StoreError> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// Inserts a row inside a savepoint. If a constraint refuses it, only the insert is
/// undone and the surrounding transaction stays usable — PostgreSQL would otherwise
/// abort the whole transaction, and the caller couldn't even look up the row it
/// collided with.
pub async fn insert_in_savepoint<A, C>(
    db: &C,
    row: A,
) -> Result<<A::Entity as EntityTrait>::Model, StoreError>
where
    C: TransactionTrait,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let savepoint = db.begin().await?;
    match row.insert(&savepoint).await {
        Ok(model) => {
            savepoint.commit().await?;
            Ok(model)
        }
        Err(err) => {
            savepoint.rollback().await?;
            Err(err.into())
        }
    }
}

/// Checks the database answers.
pub async fn ping(db: &Db) -> Result<(), StoreError> {
    Ok(db.ping().await?)
}

#[cfg(test)]
mod tests {
    use super::rows_per_insert;

    #[test]
    fn a_statement_fits_in_one_write_and_batches_stay_bounded() {
        assert_eq!(rows_per_insert(500), 30);
        assert_eq!(rows_per_insert(200), 76);
        assert!(rows_per_insert(200) * 200 <= 15 * 1024);
        assert_eq!(rows_per_insert(1), 500);
        assert_eq!(rows_per_insert(0), 500);
        assert_eq!(rows_per_insert(100_000), 1);
    }
}

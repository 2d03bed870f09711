//! The organisation tree's version: one row, raised by the database itself whenever
//! any statement inserts, changes or deletes organisations.
//!
//! Why: organisation pages are read far more often than the tree changes (a few edits a
//! day against every list a front-end draws), so an instance keeps pages it has built
//! and reuses them while the version stays the same. The caller lookup that every
//! request already makes reads the version too, after the request arrived, so a reused
//! page is never older than a write that committed before the request. Triggers (not
//! the application) raise it, so a write from another instance, a migration or a
//! hand-run `UPDATE` invalidates the pages just the same; and the row is raised in the
//! writing transaction, so the version and the rows it stands for commit together.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: [&str; 5] = [
    "CREATE TABLE org_tree (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO org_tree (id, version) VALUES (1, 1)",
    "CREATE TRIGGER orgs_tree_version_insert AFTER INSERT ON orgs \
     BEGIN UPDATE org_tree SET version = version + 1 WHERE id = 1; END",
    "CREATE TRIGGER orgs_tree_version_update AFTER UPDATE ON orgs \
     BEGIN UPDATE org_tree SET version = version + 1 WHERE id = 1; END",
    "CREATE TRIGGER orgs_tree_version_delete AFTER DELETE ON orgs \
     BEGIN UPDATE org_tree SET version = version + 1 WHERE id = 1; END",
];

// Once per statement, not per row: a bulk load raises the version once.
const POSTGRES_UP: [&str; 4] = [
    "CREATE TABLE org_tree (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO org_tree (id, version) VALUES (1, 1)",
    "CREATE FUNCTION org_tree_version_raise() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN UPDATE org_tree SET version = version + 1 WHERE id = 1; RETURN NULL; END $$",
    "CREATE TRIGGER orgs_tree_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orgs \
     FOR EACH STATEMENT EXECUTE FUNCTION org_tree_version_raise()",
];

const SQLITE_DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS orgs_tree_version_insert",
    "DROP TRIGGER IF EXISTS orgs_tree_version_update",
    "DROP TRIGGER IF EXISTS orgs_tree_version_delete",
    "DROP TABLE IF EXISTS org_tree",
];

const POSTGRES_DOWN: [&str; 3] = [
    "DROP TRIGGER IF EXISTS orgs_tree_version ON orgs",
    "DROP FUNCTION IF EXISTS org_tree_version_raise()",
    "DROP TABLE IF EXISTS org_tree",
];

async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &SQLITE_UP, &POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &SQLITE_DOWN, &POSTGRES_DOWN).await
    }
}

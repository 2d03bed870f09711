//! Labour-dispute mediation: cases (one per application a mediation room receives,
//! with the worker's ID number and phone sealed) and the mediators assigned to them.
//!
//! A case keeps its room's organisation path beside the id, so the subtree lists and
//! the stats are one index range scan on `(org_path, received_on)` without a join
//! (organisations never move in the tree, so the copy can't go stale). Checks back up
//! the rules the service enforces: amounts are never negative, a case is closed
//! exactly when it has an outcome, and only an agreement carries an agreed amount.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MediationCases {
    Table,
    Id,
    OrgId,
    OrgPath,
    Reference,
    WorkerName,
    WorkerIdNumberEnc,
    WorkerIdNumberHash,
    WorkerPhoneEnc,
    WorkerPhoneHash,
    WorkerMemberId,
    EmployerName,
    Category,
    ClaimedFen,
    Channel,
    ReceivedOn,
    Status,
    Outcome,
    AgreedFen,
    OutcomeNote,
    ClosedOn,
    ClosedAt,
    ClosedByUserId,
    CreatedByUserId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MediationAssignments {
    Table,
    Id,
    CaseId,
    UserId,
    Role,
    AssignedByUserId,
    AssignedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediationCases::Table)
                    .col(
                        ColumnDef::new(MediationCases::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MediationCases::OrgId).uuid().not_null())
                    .col(
                        ColumnDef::new(MediationCases::OrgPath)
                            .string_len(1024)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::Reference)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::WorkerName)
                            .string_len(50)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::WorkerIdNumberEnc)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::WorkerIdNumberHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MediationCases::WorkerPhoneEnc).text().null())
                    .col(
                        ColumnDef::new(MediationCases::WorkerPhoneHash)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(MediationCases::WorkerMemberId).uuid().null())
                    .col(
                        ColumnDef::new(MediationCases::EmployerName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::Category)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::ClaimedFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::Channel)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MediationCases::ReceivedOn).date().not_null())
                    .col(
                        ColumnDef::new(MediationCases::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::Outcome)
                            .string_len(32)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::AgreedFen)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::OutcomeNote)
                            .string_len(500)
                            .null(),
                    )
                    .col(ColumnDef::new(MediationCases::ClosedOn).date().null())
                    .col(
                        ColumnDef::new(MediationCases::ClosedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(MediationCases::ClosedByUserId).uuid().null())
                    .col(
                        ColumnDef::new(MediationCases::CreatedByUserId)
                            .uuid()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MediationCases::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ts(MediationCases::CreatedAt))
                    .col(ts(MediationCases::UpdatedAt))
                    .check(Expr::col(MediationCases::ClaimedFen).gte(0))
                    .check(Expr::cust(
                        "(status = 'closed' AND outcome IS NOT NULL AND closed_on IS NOT NULL) \
                         OR (status <> 'closed' AND outcome IS NULL)",
                    ))
                    .check(Expr::cust(
                        "(outcome = 'agreement' AND agreed_fen IS NOT NULL AND agreed_fen >= 0) \
                         OR (COALESCE(outcome, '') <> 'agreement' AND agreed_fen IS NULL)",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MediationCases::Table, MediationCases::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MediationCases::Table, MediationCases::WorkerMemberId)
                            .to(Members::Table, Members::Id),
                    )
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // Subtree ranges need byte-wise ordering, as on `orgs.path`.
            manager
                .get_connection()
                .execute_unprepared(
                    r#"ALTER TABLE mediation_cases ALTER COLUMN org_path TYPE varchar(1024) COLLATE "C""#,
                )
                .await?;
        }
        // A room's own docket number is unique within the room (NULLs don't collide).
        index(
            manager,
            "uq_mediation_cases_org_reference",
            MediationCases::Table,
            &["org_id", "reference"],
            true,
        )
        .await?;
        for (name, cols) in [
            // Subtree lists and stats over a period; with the cutoff, the 15-day filter.
            (
                "idx_mediation_cases_org_path_received",
                &["org_path", "received_on"][..],
            ),
            // Status filter, and open cases past the cutoff across a whole reach.
            (
                "idx_mediation_cases_status_received",
                &["status", "received_on"],
            ),
            ("idx_mediation_cases_category", &["category", "id"]),
            ("idx_mediation_cases_worker_id", &["worker_id_number_hash"]),
            ("idx_mediation_cases_member", &["worker_member_id"]),
        ] {
            index(manager, name, MediationCases::Table, cols, false).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(MediationAssignments::Table)
                    .col(
                        ColumnDef::new(MediationAssignments::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MediationAssignments::CaseId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationAssignments::UserId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationAssignments::Role)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MediationAssignments::AssignedByUserId)
                            .uuid()
                            .null(),
                    )
                    .col(ts(MediationAssignments::AssignedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MediationAssignments::Table, MediationAssignments::CaseId)
                            .to(MediationCases::Table, MediationCases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MediationAssignments::Table, MediationAssignments::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A mediator serves a case once; "my cases" is an index lookup by user.
        index(
            manager,
            "uq_mediation_assignments_case_user",
            MediationAssignments::Table,
            &["case_id", "user_id"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_mediation_assignments_user",
            MediationAssignments::Table,
            &["user_id", "case_id"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["mediation_assignments", "mediation_cases"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

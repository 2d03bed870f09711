//! The foundation: organisations, staff accounts and their roles, refresh tokens,
//! idempotency records and login throttling.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    Name,
    Code,
    Kind,
    ParentId,
    Path,
    Depth,
    RegionCode,
    TimeZone,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    DisplayName,
    OrgId,
    Disabled,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RoleBindings {
    Table,
    Id,
    UserId,
    Role,
    OrgId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    CallerId,
    Key,
    RequestHash,
    StatusCode,
    ResponseBody,
    Location,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    ThrottleKey,
    WindowStart,
    Failures,
}

fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(
            ColumnDef::new(Alias::new("created_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("updated_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut orgs = Table::create();
        orgs.table(Orgs::Table)
            .col(ColumnDef::new(Orgs::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Orgs::Name).string_len(200).not_null())
            .col(
                ColumnDef::new(Orgs::Code)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Orgs::Kind).string_len(32).not_null())
            .col(ColumnDef::new(Orgs::ParentId).uuid().null())
            .col(
                ColumnDef::new(Orgs::Path)
                    .string_len(1024)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Orgs::Depth).integer().not_null())
            .col(ColumnDef::new(Orgs::RegionCode).string_len(6).null())
            .col(ColumnDef::new(Orgs::TimeZone).string_len(64).not_null())
            .col(
                ColumnDef::new(Orgs::Version)
                    .integer()
                    .not_null()
                    .default(1),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Orgs::Table, Orgs::ParentId)
                    .to(Orgs::Table, Orgs::Id),
            );
        timestamps(&mut orgs);
        manager.create_table(orgs).await?;
        let _ = (Orgs::CreatedAt, Orgs::UpdatedAt);
        if manager.get_database_backend() == DbBackend::Postgres {
            // Subtree queries are range scans on `path`; they need byte-wise ordering,
            // which a locale collation (that ignores punctuation) would break.
            manager
                .get_connection()
                .execute_unprepared(
                    r#"ALTER TABLE orgs ALTER COLUMN path TYPE varchar(1024) COLLATE "C""#,
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_orgs_parent")
                    .table(Orgs::Table)
                    .col(Orgs::ParentId)
                    .col(Orgs::Id)
                    .to_owned(),
            )
            .await?;

        let mut users = Table::create();
        users
            .table(Users::Table)
            .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
            .col(
                ColumnDef::new(Users::Username)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(Users::PasswordHash)
                    .string_len(255)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Users::DisplayName)
                    .string_len(100)
                    .not_null(),
            )
            .col(ColumnDef::new(Users::OrgId).uuid().not_null())
            .col(
                ColumnDef::new(Users::Disabled)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(
                ColumnDef::new(Users::Version)
                    .integer()
                    .not_null()
                    .default(1),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Users::Table, Users::OrgId)
                    .to(Orgs::Table, Orgs::Id),
            );
        timestamps(&mut users);
        manager.create_table(users).await?;
        let _ = (Users::CreatedAt, Users::UpdatedAt);
        manager
            .create_index(
                Index::create()
                    .name("idx_users_org")
                    .table(Users::Table)
                    .col(Users::OrgId)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RoleBindings::Table)
                    .col(
                        ColumnDef::new(RoleBindings::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RoleBindings::UserId).uuid().not_null())
                    .col(ColumnDef::new(RoleBindings::Role).string_len(32).not_null())
                    .col(ColumnDef::new(RoleBindings::OrgId).uuid().not_null())
                    .col(
                        ColumnDef::new(RoleBindings::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoleBindings::Table, RoleBindings::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoleBindings::Table, RoleBindings::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_role_bindings")
                    .table(RoleBindings::Table)
                    .col(RoleBindings::UserId)
                    .col(RoleBindings::Role)
                    .col(RoleBindings::OrgId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(
                        ColumnDef::new(RefreshTokens::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RefreshTokens::FamilyId).uuid().not_null())
                    .col(ColumnDef::new(RefreshTokens::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(RefreshTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RefreshTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::CallerId).uuid().not_null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::StatusCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::ResponseBody)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::Location)
                            .string_len(1024)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::CallerId)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_created")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(
                        ColumnDef::new(LoginFailures::ThrottleKey)
                            .string_len(320)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LoginFailures::WindowStart)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(LoginFailures::Failures).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(LoginFailures::ThrottleKey)
                            .col(LoginFailures::WindowStart),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "login_failures",
            "idempotency_keys",
            "refresh_tokens",
            "role_bindings",
            "users",
            "orgs",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

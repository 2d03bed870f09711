//! Member accounts and join applications: `users.member_id` links a login to the
//! membership it may read (a member account holds no staff roles), and
//! `join_applications` holds self-service or on-behalf applications until a union
//! admin approves (creating the member and its account) or rejects them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    MemberId,
}

#[derive(DeriveIden)]
enum JoinApplications {
    Table,
    Id,
    OrgId,
    Name,
    Gender,
    BirthDate,
    IdNumberEnc,
    IdNumberHash,
    PhoneEnc,
    PhoneHash,
    Employer,
    Occupation,
    EmploymentForm,
    PasswordHash,
    SecretHash,
    Status,
    Reason,
    SubmittedByUserId,
    DecidedByUserId,
    MemberId,
    Version,
    CreatedAt,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::MemberId).uuid().null())
                    .to_owned(),
            )
            .await?;
        // One account per membership (NULLs, i.e. staff accounts, don't collide).
        manager
            .create_index(
                Index::create()
                    .name("uq_users_member_id")
                    .table(Users::Table)
                    .col(Users::MemberId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JoinApplications::Table)
                    .col(
                        ColumnDef::new(JoinApplications::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(JoinApplications::OrgId).uuid().not_null())
                    .col(
                        ColumnDef::new(JoinApplications::Name)
                            .string_len(50)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::Gender)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::BirthDate)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::IdNumberEnc)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::IdNumberHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::PhoneEnc)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::PhoneHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::Employer)
                            .string_len(200)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::Occupation)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::EmploymentForm)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::PasswordHash)
                            .string_len(255)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::SecretHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::Reason)
                            .string_len(500)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::SubmittedByUserId)
                            .uuid()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::DecidedByUserId)
                            .uuid()
                            .null(),
                    )
                    .col(ColumnDef::new(JoinApplications::MemberId).uuid().null())
                    .col(
                        ColumnDef::new(JoinApplications::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(JoinApplications::DecidedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(JoinApplications::Table, JoinApplications::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_join_applications_org")
                    .table(JoinApplications::Table)
                    .col(JoinApplications::OrgId)
                    .col(JoinApplications::Id)
                    .to_owned(),
            )
            .await?;
        // One pending application per person and organisation (the builder can't say
        // WHERE; both SQLite and PostgreSQL have partial indexes).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_join_applications_pending \
                 ON join_applications (org_id, id_number_hash) WHERE status = 'pending'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JoinApplications::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_users_member_id")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::MemberId)
                    .to_owned(),
            )
            .await
    }
}

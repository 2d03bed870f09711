//! Members: the membership record (personal data sealed: encrypted, plus a keyed hash
//! for uniqueness and lookup), its history, and the audit trail of reveals.

use sea_orm_migration::prelude::*;

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
    CardNo,
    Status,
    JoinedOn,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MemberEvents {
    Table,
    Id,
    MemberId,
    Kind,
    FromOrgId,
    ToOrgId,
    FromStatus,
    ToStatus,
    Reason,
    ActorUserId,
    RequestId,
    At,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    ActorUserId,
    Action,
    SubjectType,
    SubjectId,
    Fields,
    Reason,
    RequestId,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Members::Table)
                    .col(ColumnDef::new(Members::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Members::OrgId).uuid().not_null())
                    .col(ColumnDef::new(Members::Name).string_len(50).not_null())
                    .col(ColumnDef::new(Members::Gender).string_len(8).not_null())
                    .col(ColumnDef::new(Members::BirthDate).date().not_null())
                    .col(
                        ColumnDef::new(Members::IdNumberEnc)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Members::IdNumberHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Members::PhoneEnc).string_len(128).not_null())
                    .col(ColumnDef::new(Members::PhoneHash).string_len(64).not_null())
                    .col(ColumnDef::new(Members::Employer).string_len(200).null())
                    .col(
                        ColumnDef::new(Members::Occupation)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Members::EmploymentForm)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Members::CardNo)
                            .string_len(20)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Members::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Members::JoinedOn).date().not_null())
                    .col(
                        ColumnDef::new(Members::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(Members::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Members::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Members::Table, Members::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_members_id_number_hash", Members::IdNumberHash),
            ("idx_members_phone_hash", Members::PhoneHash),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Members::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_members_org")
                    .table(Members::Table)
                    .col(Members::OrgId)
                    .col(Members::Id)
                    .to_owned(),
            )
            .await?;
        // One active membership per person, federation-wide. A partial unique index
        // (both SQLite and PostgreSQL have them; the builder can't say WHERE).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_members_active_id_number_hash \
                 ON members (id_number_hash) WHERE status = 'active'",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MemberEvents::Table)
                    .col(
                        ColumnDef::new(MemberEvents::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MemberEvents::MemberId).uuid().not_null())
                    .col(ColumnDef::new(MemberEvents::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(MemberEvents::FromOrgId).uuid().null())
                    .col(ColumnDef::new(MemberEvents::ToOrgId).uuid().null())
                    .col(
                        ColumnDef::new(MemberEvents::FromStatus)
                            .string_len(16)
                            .null(),
                    )
                    .col(ColumnDef::new(MemberEvents::ToStatus).string_len(16).null())
                    .col(ColumnDef::new(MemberEvents::Reason).string_len(500).null())
                    .col(ColumnDef::new(MemberEvents::ActorUserId).uuid().null())
                    .col(
                        ColumnDef::new(MemberEvents::RequestId)
                            .string_len(128)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MemberEvents::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MemberEvents::Table, MemberEvents::MemberId)
                            .to(Members::Table, Members::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_member_events_member")
                    .table(MemberEvents::Table)
                    .col(MemberEvents::MemberId)
                    .col(MemberEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditEvents::ActorUserId).uuid().not_null())
                    .col(
                        ColumnDef::new(AuditEvents::Action)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::SubjectType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::SubjectId).uuid().not_null())
                    .col(
                        ColumnDef::new(AuditEvents::Fields)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::Reason)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::RequestId)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_subject")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::SubjectId)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_events", "member_events", "members"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

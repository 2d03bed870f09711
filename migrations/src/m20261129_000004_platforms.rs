//! Delivery platforms, their riders (personal data sealed like members') and the stored
//! reports of roster syncs.

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
    Id,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Platforms {
    Table,
    Id,
    Code,
    Name,
    OrgId,
    AutoEnrol,
    ClientId,
    ClientSecretHash,
    UserId,
    SyncVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Riders {
    Table,
    Id,
    PlatformId,
    ExternalId,
    Name,
    IdNumberEnc,
    IdNumberHash,
    PhoneEnc,
    PhoneHash,
    RegionCode,
    StartedOn,
    ConsentToJoin,
    Status,
    MemberId,
    ContentHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RosterSyncs {
    Table,
    Id,
    PlatformId,
    Kind,
    Report,
    CreatedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Platforms::Table)
                    .col(
                        ColumnDef::new(Platforms::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Platforms::Code)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Platforms::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Platforms::OrgId).uuid().not_null())
                    .col(ColumnDef::new(Platforms::AutoEnrol).boolean().not_null())
                    .col(
                        ColumnDef::new(Platforms::ClientId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Platforms::ClientSecretHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Platforms::UserId)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Platforms::SyncVersion)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ts(Platforms::CreatedAt))
                    .col(ts(Platforms::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Platforms::Table, Platforms::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Platforms::Table, Platforms::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Riders::Table)
                    .col(ColumnDef::new(Riders::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Riders::PlatformId).uuid().not_null())
                    .col(ColumnDef::new(Riders::ExternalId).string_len(64).not_null())
                    .col(ColumnDef::new(Riders::Name).string_len(50).not_null())
                    .col(
                        ColumnDef::new(Riders::IdNumberEnc)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Riders::IdNumberHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Riders::PhoneEnc).string_len(128).not_null())
                    .col(ColumnDef::new(Riders::PhoneHash).string_len(64).not_null())
                    .col(ColumnDef::new(Riders::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(Riders::StartedOn).date().null())
                    .col(ColumnDef::new(Riders::ConsentToJoin).boolean().not_null())
                    .col(ColumnDef::new(Riders::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Riders::MemberId).uuid().null())
                    .col(
                        ColumnDef::new(Riders::ContentHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ts(Riders::CreatedAt))
                    .col(ts(Riders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Riders::Table, Riders::PlatformId)
                            .to(Platforms::Table, Platforms::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Riders::Table, Riders::MemberId)
                            .to(Members::Table, Members::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_riders_platform_external")
                    .table(Riders::Table)
                    .col(Riders::PlatformId)
                    .col(Riders::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_riders_platform_id")
                    .table(Riders::Table)
                    .col(Riders::PlatformId)
                    .col(Riders::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_riders_id_number_hash")
                    .table(Riders::Table)
                    .col(Riders::IdNumberHash)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RosterSyncs::Table)
                    .col(
                        ColumnDef::new(RosterSyncs::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RosterSyncs::PlatformId).uuid().not_null())
                    .col(ColumnDef::new(RosterSyncs::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(RosterSyncs::Report).text().not_null())
                    .col(ts(RosterSyncs::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RosterSyncs::Table, RosterSyncs::PlatformId)
                            .to(Platforms::Table, Platforms::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_roster_syncs_platform")
                    .table(RosterSyncs::Table)
                    .col(RosterSyncs::PlatformId)
                    .col(RosterSyncs::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["roster_syncs", "riders", "platforms"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! Workers' cultural palaces: palaces, their venues and closures, bookings, and the
//! two kinds of row that make booking safe under concurrency: `booking_cells` (units
//! held per venue per five minutes, raised only by a conditional update that can't
//! pass the venue's units) and `booking_days` (one row per venue and local day, whose
//! update serialises the bookings of that day so the daily limits can be counted).

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
enum Palaces {
    Table,
    Id,
    OrgId,
    Name,
    Address,
    RegionCode,
    Lat,
    Lng,
    ContactName,
    ContactPhone,
    Photos,
    TimeZone,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Venues {
    Table,
    Id,
    PalaceId,
    Name,
    Kind,
    Units,
    SlotMinutes,
    OpeningHours,
    BookingRules,
    MemberPriceFen,
    GuestPriceFen,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum VenueClosures {
    Table,
    Id,
    VenueId,
    StartAt,
    EndAt,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    VenueId,
    MemberId,
    MemberOrgId,
    GuestName,
    StartAt,
    EndAt,
    LocalDate,
    Units,
    Minutes,
    PriceFen,
    Status,
    NoShowAfter,
    CreatedBy,
    CancelledAt,
    CancelledBy,
    CheckedInAt,
    CheckedInBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BookingCells {
    Table,
    VenueId,
    CellStart,
    BookedUnits,
}

#[derive(DeriveIden)]
enum BookingDays {
    Table,
    VenueId,
    LocalDate,
    Bookings,
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
                    .table(Palaces::Table)
                    .col(ColumnDef::new(Palaces::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Palaces::OrgId).uuid().not_null())
                    .col(ColumnDef::new(Palaces::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Palaces::Address).string_len(200).not_null())
                    .col(ColumnDef::new(Palaces::RegionCode).string_len(6).not_null())
                    .col(ColumnDef::new(Palaces::Lat).double().null())
                    .col(ColumnDef::new(Palaces::Lng).double().null())
                    .col(ColumnDef::new(Palaces::ContactName).string_len(50).null())
                    .col(ColumnDef::new(Palaces::ContactPhone).string_len(30).null())
                    .col(ColumnDef::new(Palaces::Photos).text().not_null())
                    .col(ColumnDef::new(Palaces::TimeZone).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Palaces::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ts(Palaces::CreatedAt))
                    .col(ts(Palaces::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Palaces::Table, Palaces::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_palaces_region_code")
                    .table(Palaces::Table)
                    .col(Palaces::RegionCode)
                    .col(Palaces::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_palaces_org_id")
                    .table(Palaces::Table)
                    .col(Palaces::OrgId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Venues::Table)
                    .col(ColumnDef::new(Venues::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Venues::PalaceId).uuid().not_null())
                    .col(ColumnDef::new(Venues::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Venues::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Venues::Units).integer().not_null())
                    .col(ColumnDef::new(Venues::SlotMinutes).integer().not_null())
                    .col(ColumnDef::new(Venues::OpeningHours).text().not_null())
                    .col(ColumnDef::new(Venues::BookingRules).text().not_null())
                    .col(
                        ColumnDef::new(Venues::MemberPriceFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Venues::GuestPriceFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Venues::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ts(Venues::CreatedAt))
                    .col(ts(Venues::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Venues::Table, Venues::PalaceId)
                            .to(Palaces::Table, Palaces::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_venues_palace_id")
                    .table(Venues::Table)
                    .col(Venues::PalaceId)
                    .col(Venues::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VenueClosures::Table)
                    .col(
                        ColumnDef::new(VenueClosures::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(VenueClosures::VenueId).uuid().not_null())
                    .col(ts(VenueClosures::StartAt))
                    .col(ts(VenueClosures::EndAt))
                    .col(
                        ColumnDef::new(VenueClosures::Reason)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(VenueClosures::CreatedBy).uuid().null())
                    .col(ts(VenueClosures::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(VenueClosures::Table, VenueClosures::VenueId)
                            .to(Venues::Table, Venues::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(VenueClosures::Table, VenueClosures::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_venue_closures_venue_end")
                    .table(VenueClosures::Table)
                    .col(VenueClosures::VenueId)
                    .col(VenueClosures::EndAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(ColumnDef::new(Bookings::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Bookings::VenueId).uuid().not_null())
                    .col(ColumnDef::new(Bookings::MemberId).uuid().null())
                    .col(ColumnDef::new(Bookings::MemberOrgId).uuid().null())
                    .col(ColumnDef::new(Bookings::GuestName).string_len(50).null())
                    .col(ts(Bookings::StartAt))
                    .col(ts(Bookings::EndAt))
                    .col(ColumnDef::new(Bookings::LocalDate).date().not_null())
                    .col(ColumnDef::new(Bookings::Units).integer().not_null())
                    .col(ColumnDef::new(Bookings::Minutes).integer().not_null())
                    .col(ColumnDef::new(Bookings::PriceFen).big_integer().not_null())
                    .col(ColumnDef::new(Bookings::Status).string_len(16).not_null())
                    .col(ts(Bookings::NoShowAfter))
                    .col(ColumnDef::new(Bookings::CreatedBy).uuid().not_null())
                    .col(
                        ColumnDef::new(Bookings::CancelledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Bookings::CancelledBy).uuid().null())
                    .col(
                        ColumnDef::new(Bookings::CheckedInAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Bookings::CheckedInBy).uuid().null())
                    .col(ts(Bookings::CreatedAt))
                    .col(ts(Bookings::UpdatedAt))
                    .check(Expr::col(Bookings::Units).gt(0))
                    .check(
                        Expr::col(Bookings::MemberId)
                            .is_not_null()
                            .or(Expr::col(Bookings::GuestName).is_not_null()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Bookings::Table, Bookings::VenueId)
                            .to(Venues::Table, Venues::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Bookings::Table, Bookings::MemberId)
                            .to(Members::Table, Members::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Bookings::Table, Bookings::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_bookings_venue_date",
                vec![Bookings::VenueId, Bookings::LocalDate],
            ),
            (
                "idx_bookings_venue_start",
                vec![Bookings::VenueId, Bookings::StartAt],
            ),
            (
                "idx_bookings_member",
                vec![Bookings::MemberId, Bookings::VenueId, Bookings::EndAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Bookings::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(BookingCells::Table)
                    .col(ColumnDef::new(BookingCells::VenueId).uuid().not_null())
                    .col(
                        ColumnDef::new(BookingCells::CellStart)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BookingCells::BookedUnits)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(
                        Index::create()
                            .col(BookingCells::VenueId)
                            .col(BookingCells::CellStart),
                    )
                    .check(Expr::col(BookingCells::BookedUnits).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookingCells::Table, BookingCells::VenueId)
                            .to(Venues::Table, Venues::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BookingDays::Table)
                    .col(ColumnDef::new(BookingDays::VenueId).uuid().not_null())
                    .col(ColumnDef::new(BookingDays::LocalDate).date().not_null())
                    .col(
                        ColumnDef::new(BookingDays::Bookings)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(
                        Index::create()
                            .col(BookingDays::VenueId)
                            .col(BookingDays::LocalDate),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BookingDays::Table, BookingDays::VenueId)
                            .to(Venues::Table, Venues::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "booking_days",
            "booking_cells",
            "bookings",
            "venue_closures",
            "venues",
            "palaces",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

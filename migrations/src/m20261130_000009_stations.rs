//! Outdoor-worker service stations and their anonymous daily visit counts.
//!
//! A station's position is WGS-84 `lat`/`lng` (double precision) plus `lat_band`,
//! `floor(lat × 100)`: the index on `(lat_band, lng)` serves a radius search's bounding
//! box as one index range per 0.01° band of latitude (about 1.1 km), so a 3 km search
//! reads a few dozen index entries however many stations the province has.
//! `amenities` is a bit mask (rest 1, charging 2, meal_heating 4, drinking_water 8,
//! toilet 16, first_aid 32, wifi 64; see `unionhall_domain::stations::Amenity::bit`).
//! `opening_hours` is the palaces' weekly-hours JSON, in the operator org's time zone.
//!
//! `station_visits` holds one row per station and local day, raised by an atomic
//! upsert: a count, nothing about who visited.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stations {
    Table,
    Id,
    OrgId,
    Name,
    Address,
    Lat,
    Lng,
    LatBand,
    Amenities,
    OpeningHours,
    Status,
    Phone,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StationVisits {
    Table,
    StationId,
    LocalDate,
    Visits,
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
                    .table(Stations::Table)
                    .col(ColumnDef::new(Stations::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Stations::OrgId).uuid().not_null())
                    .col(ColumnDef::new(Stations::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Stations::Address).string_len(200).not_null())
                    .col(ColumnDef::new(Stations::Lat).double().not_null())
                    .col(ColumnDef::new(Stations::Lng).double().not_null())
                    .col(ColumnDef::new(Stations::LatBand).integer().not_null())
                    .col(
                        ColumnDef::new(Stations::Amenities)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Stations::OpeningHours).text().not_null())
                    .col(ColumnDef::new(Stations::Status).string_len(24).not_null())
                    .col(ColumnDef::new(Stations::Phone).string_len(30).null())
                    .col(
                        ColumnDef::new(Stations::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ts(Stations::CreatedAt))
                    .col(ts(Stations::UpdatedAt))
                    .check(Expr::col(Stations::Lat).between(-90.0, 90.0))
                    .check(Expr::col(Stations::Lng).between(-180.0, 180.0))
                    .check(Expr::col(Stations::Amenities).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Stations::Table, Stations::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_stations_lat_band_lng")
                    .table(Stations::Table)
                    .col(Stations::LatBand)
                    .col(Stations::Lng)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_stations_org_id")
                    .table(Stations::Table)
                    .col(Stations::OrgId)
                    .col(Stations::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StationVisits::Table)
                    .col(ColumnDef::new(StationVisits::StationId).uuid().not_null())
                    .col(ColumnDef::new(StationVisits::LocalDate).date().not_null())
                    .col(
                        ColumnDef::new(StationVisits::Visits)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(StationVisits::StationId)
                            .col(StationVisits::LocalDate),
                    )
                    .check(Expr::col(StationVisits::Visits).gt(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StationVisits::Table, StationVisits::StationId)
                            .to(Stations::Table, Stations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_station_visits_local_date")
                    .table(StationVisits::Table)
                    .col(StationVisits::LocalDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["station_visits", "stations"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

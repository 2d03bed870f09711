//! Workers' cultural palaces: palaces, venues, closures and bookings.
//!
//! Capacity is the database's to keep, not a read-then-insert's. Every booking holds
//! its units in `booking_cells`, one row per venue per five minutes (a grid every
//! venue grid lies on, whatever its slot length, so changing a venue's slots never
//! strands a booking): [`hold_capacity`] inserts any missing cells (`ON CONFLICT DO
//! NOTHING`) and then raises all the booking's cells in one conditional update,
//! `booked_units = booked_units + u WHERE … AND booked_units + u <= units`. If it
//! touches fewer rows than the booking has cells, some cell was full: the update is
//! undone (a savepoint) and the caller answers 409. On PostgreSQL the update's row
//! locks make a concurrent booking of the same cells wait and re-check the condition
//! against the committed count; on SQLite `BEGIN IMMEDIATE` makes writers take turns.
//!
//! The daily limits (minutes per member, units per union) are counts, not a single
//! row to update, so [`lock_day`] first takes the row of the venue's local day in
//! `booking_days`: bookings starting that day then take turns, and each counts what
//! the ones before it committed.

use crate::entities::{
    booking_cells, booking_days, bookings, orgs, palaces, venue_closures, venues,
};
use crate::orgs::reach_condition;
use crate::{Page, PageRequest, StoreError};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set, TransactionSession, TransactionTrait,
};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::palaces::{
    BookedUnits, BookingRules, BookingStatus, Closure, OpeningHours, StoredStatus, VenueKind,
};
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

/// The capacity grid: five minutes, which divides every slot length a venue may use
/// and every UTC offset in use, so every slot boundary is a cell boundary.
pub const CELL_SECONDS: i64 = 300;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Type(format!("unreadable {what}: {value}")))
}

// ─── Palaces ────────────────────────────────────────────────────────────────

/// A palace and the path of the union that runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Palace {
    pub id: Uuid,
    pub org_id: OrgId,
    pub org_path: OrgPath,
    pub name: String,
    pub address: String,
    pub region_code: String,
    /// WGS-84 `(lat, lng)`.
    pub location: Option<(f64, f64)>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub photos: Vec<String>,
    pub time_zone: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn palace(m: palaces::Model, org: Option<orgs::Model>) -> Result<Palace, StoreError> {
    let org = org.ok_or_else(|| corrupt("palace org", &m.org_id.to_string()))?;
    let photos = serde_json::from_str(&m.photos).map_err(|_| corrupt("photos", &m.photos))?;
    Ok(Palace {
        id: m.id,
        org_id: OrgId(m.org_id),
        org_path: OrgPath::from_stored(org.path),
        name: m.name,
        address: m.address,
        region_code: m.region_code,
        location: m.lat.zip(m.lng),
        contact_name: m.contact_name,
        contact_phone: m.contact_phone,
        photos,
        time_zone: m.time_zone,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// What a palace is made of (all but its union, which never changes).
#[derive(Debug, Clone, PartialEq)]
pub struct PalaceData {
    pub name: String,
    pub address: String,
    pub region_code: String,
    pub location: Option<(f64, f64)>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub photos: Vec<String>,
    pub time_zone: String,
}

fn photos_json(photos: &[String]) -> String {
    serde_json::to_string(photos).unwrap_or_else(|_| "[]".to_owned())
}

/// Inserts a palace of `org_id`.
pub async fn insert_palace(
    db: &impl ConnectionTrait,
    org_id: OrgId,
    data: PalaceData,
) -> Result<Palace, StoreError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    palaces::ActiveModel {
        id: Set(id),
        org_id: Set(org_id.0),
        name: Set(data.name),
        address: Set(data.address),
        region_code: Set(data.region_code),
        lat: Set(data.location.map(|l| l.0)),
        lng: Set(data.location.map(|l| l.1)),
        contact_name: Set(data.contact_name),
        contact_phone: Set(data.contact_phone),
        photos: Set(photos_json(&data.photos)),
        time_zone: Set(data.time_zone),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    get_palace(db, id).await
}

/// A palace by id. Palaces are public to every signed-in caller; who may change one
/// is the caller's to decide from `org_path`.
pub async fn get_palace(db: &impl ConnectionTrait, id: Uuid) -> Result<Palace, StoreError> {
    let (m, org) = palaces::Entity::find_by_id(id)
        .find_also_related(orgs::Entity)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    palace(m, org)
}

/// The path of an organisation, unscoped: palaces are public, and so is which union
/// runs one.
pub async fn org_path(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<OrgPath>, StoreError> {
    Ok(orgs::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|o| OrgPath::from_stored(o.path)))
}

/// Palace list filters.
#[derive(Debug, Clone, Default)]
pub struct PalaceFilter {
    pub region_code: Option<String>,
    /// Palaces of this organisation's subtree.
    pub org_path: Option<OrgPath>,
}

/// Palaces, in creation order.
pub async fn list_palaces(
    db: &impl ConnectionTrait,
    filter: &PalaceFilter,
    page: PageRequest,
) -> Result<Page<Palace>, StoreError> {
    let mut query = palaces::Entity::find().find_also_related(orgs::Entity);
    if let Some(code) = &filter.region_code {
        query = query.filter(palaces::Column::RegionCode.eq(code.as_str()));
    }
    if let Some(subtree) = &filter.org_path {
        query = query.filter(reach_condition(
            (orgs::Entity, orgs::Column::Path),
            &Reach::over(vec![subtree.clone()]),
        ));
    }
    if let Some(after) = page.after {
        query = query.filter(palaces::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(palaces::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(|(m, org)| palace(m, org))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |p| p.id))
}

/// Replaces a palace's data if it is still at `expected_version`; a lost race is
/// `StaleVersion`.
pub async fn update_palace(
    db: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    data: PalaceData,
) -> Result<Palace, StoreError> {
    let done = palaces::Entity::update_many()
        .col_expr(palaces::Column::Name, Expr::value(data.name))
        .col_expr(palaces::Column::Address, Expr::value(data.address))
        .col_expr(palaces::Column::RegionCode, Expr::value(data.region_code))
        .col_expr(
            palaces::Column::Lat,
            Expr::value(data.location.map(|l| l.0)),
        )
        .col_expr(
            palaces::Column::Lng,
            Expr::value(data.location.map(|l| l.1)),
        )
        .col_expr(palaces::Column::ContactName, Expr::value(data.contact_name))
        .col_expr(
            palaces::Column::ContactPhone,
            Expr::value(data.contact_phone),
        )
        .col_expr(
            palaces::Column::Photos,
            Expr::value(photos_json(&data.photos)),
        )
        .col_expr(palaces::Column::TimeZone, Expr::value(data.time_zone))
        .col_expr(palaces::Column::Version, Expr::value(expected_version + 1))
        .col_expr(palaces::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(palaces::Column::Id.eq(id))
        .filter(palaces::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    get_palace(db, id).await
}

/// How many palaces there are (for the demo's report).
pub async fn count_palaces(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(palaces::Entity::find().count(db).await?)
}

// ─── Venues ─────────────────────────────────────────────────────────────────

/// A venue: what can be booked, its grid, hours and rules. Its time zone is its
/// palace's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    pub id: Uuid,
    pub palace_id: Uuid,
    pub data: VenueData,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a venue is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueData {
    pub name: String,
    pub kind: VenueKind,
    pub units: u32,
    pub slot_minutes: u32,
    pub opening_hours: OpeningHours,
    pub booking_rules: BookingRules,
    pub member_price_fen: i64,
    pub guest_price_fen: i64,
}

fn venue(m: venues::Model) -> Result<Venue, StoreError> {
    Ok(Venue {
        id: m.id,
        palace_id: m.palace_id,
        data: VenueData {
            kind: m
                .kind
                .parse()
                .map_err(|()| corrupt("venue kind", &m.kind))?,
            units: u32::try_from(m.units).map_err(|_| corrupt("units", &m.units.to_string()))?,
            slot_minutes: u32::try_from(m.slot_minutes)
                .map_err(|_| corrupt("slot minutes", &m.slot_minutes.to_string()))?,
            opening_hours: serde_json::from_str(&m.opening_hours)
                .map_err(|_| corrupt("opening hours", &m.opening_hours))?,
            booking_rules: serde_json::from_str(&m.booking_rules)
                .map_err(|_| corrupt("booking rules", &m.booking_rules))?,
            name: m.name,
            member_price_fen: m.member_price_fen,
            guest_price_fen: m.guest_price_fen,
        },
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("json", &e.to_string()))
}

fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Inserts a venue of `palace_id`.
pub async fn insert_venue(
    db: &impl ConnectionTrait,
    palace_id: Uuid,
    data: VenueData,
) -> Result<Venue, StoreError> {
    let now = Utc::now();
    let model = venues::ActiveModel {
        id: Set(Uuid::now_v7()),
        palace_id: Set(palace_id),
        name: Set(data.name),
        kind: Set(data.kind.as_str().to_owned()),
        units: Set(int(data.units)),
        slot_minutes: Set(int(data.slot_minutes)),
        opening_hours: Set(to_json(&data.opening_hours)?),
        booking_rules: Set(to_json(&data.booking_rules)?),
        member_price_fen: Set(data.member_price_fen),
        guest_price_fen: Set(data.guest_price_fen),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    venue(model)
}

/// A venue and its palace.
pub async fn get_venue(db: &impl ConnectionTrait, id: Uuid) -> Result<(Venue, Palace), StoreError> {
    let m = venues::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let palace = get_palace(db, m.palace_id).await?;
    Ok((venue(m)?, palace))
}

/// A palace's venues, in creation order.
pub async fn list_venues(
    db: &impl ConnectionTrait,
    palace_id: Uuid,
    page: PageRequest,
) -> Result<Page<Venue>, StoreError> {
    let mut query = venues::Entity::find().filter(venues::Column::PalaceId.eq(palace_id));
    if let Some(after) = page.after {
        query = query.filter(venues::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(venues::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(venue)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |v| v.id))
}

/// Replaces a venue's data if it is still at `expected_version`; a lost race is
/// `StaleVersion`.
pub async fn update_venue(
    db: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    data: VenueData,
) -> Result<Venue, StoreError> {
    let done = venues::Entity::update_many()
        .col_expr(venues::Column::Name, Expr::value(data.name))
        .col_expr(venues::Column::Kind, Expr::value(data.kind.as_str()))
        .col_expr(venues::Column::Units, Expr::value(int(data.units)))
        .col_expr(
            venues::Column::SlotMinutes,
            Expr::value(int(data.slot_minutes)),
        )
        .col_expr(
            venues::Column::OpeningHours,
            Expr::value(to_json(&data.opening_hours)?),
        )
        .col_expr(
            venues::Column::BookingRules,
            Expr::value(to_json(&data.booking_rules)?),
        )
        .col_expr(
            venues::Column::MemberPriceFen,
            Expr::value(data.member_price_fen),
        )
        .col_expr(
            venues::Column::GuestPriceFen,
            Expr::value(data.guest_price_fen),
        )
        .col_expr(venues::Column::Version, Expr::value(expected_version + 1))
        .col_expr(venues::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(venues::Column::Id.eq(id))
        .filter(venues::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    Ok(get_venue(db, id).await?.0)
}

/// How many venues there are (for the demo's report).
pub async fn count_venues(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(venues::Entity::find().count(db).await?)
}

// ─── Closures ───────────────────────────────────────────────────────────────

/// A stored closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueClosure {
    pub id: Uuid,
    pub venue_id: Uuid,
    pub closure: Closure,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

fn closure(m: venue_closures::Model) -> VenueClosure {
    VenueClosure {
        id: m.id,
        venue_id: m.venue_id,
        closure: Closure {
            start: m.start_at,
            end: m.end_at,
            reason: m.reason,
        },
        created_by: m.created_by.map(UserId),
        created_at: m.created_at,
    }
}

/// Records a closure of a venue.
pub async fn insert_closure(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    c: Closure,
    by: UserId,
) -> Result<VenueClosure, StoreError> {
    let model = venue_closures::ActiveModel {
        id: Set(Uuid::now_v7()),
        venue_id: Set(venue_id),
        start_at: Set(c.start),
        end_at: Set(c.end),
        reason: Set(c.reason),
        created_by: Set(Some(by.0)),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(closure(model))
}

/// A venue's closures, in creation order; with `ending_after`, only those that end
/// after it (the ones still to come).
pub async fn list_closures(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    ending_after: Option<DateTime<Utc>>,
    page: PageRequest,
) -> Result<Page<VenueClosure>, StoreError> {
    let mut query =
        venue_closures::Entity::find().filter(venue_closures::Column::VenueId.eq(venue_id));
    if let Some(after) = ending_after {
        query = query.filter(venue_closures::Column::EndAt.gt(after));
    }
    if let Some(after) = page.after {
        query = query.filter(venue_closures::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(venue_closures::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(closure)
        .collect();
    Ok(Page::from_rows(rows, page.limit, |c| c.id))
}

/// The venue's closures overlapping `[from, to)`.
pub async fn closures_between(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Closure>, StoreError> {
    Ok(venue_closures::Entity::find()
        .filter(venue_closures::Column::VenueId.eq(venue_id))
        .filter(venue_closures::Column::StartAt.lt(to))
        .filter(venue_closures::Column::EndAt.gt(from))
        .order_by_asc(venue_closures::Column::StartAt)
        .all(db)
        .await?
        .into_iter()
        .map(|m| closure(m).closure)
        .collect())
}

// ─── Bookings ───────────────────────────────────────────────────────────────

/// A stored booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: Uuid,
    pub venue_id: Uuid,
    pub member_id: Option<MemberId>,
    pub member_org_id: Option<OrgId>,
    pub guest_name: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub units: u32,
    pub minutes: u32,
    pub price_fen: i64,
    pub status: StoredStatus,
    /// When a `booked` booking becomes a no-show: its end plus the grace.
    pub no_show_after: DateTime<Utc>,
    pub created_by: UserId,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<UserId>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_in_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn booking(m: bookings::Model) -> Result<Booking, StoreError> {
    Ok(Booking {
        status: m
            .status
            .parse()
            .map_err(|()| corrupt("booking status", &m.status))?,
        units: u32::try_from(m.units).map_err(|_| corrupt("units", &m.units.to_string()))?,
        minutes: u32::try_from(m.minutes)
            .map_err(|_| corrupt("minutes", &m.minutes.to_string()))?,
        id: m.id,
        venue_id: m.venue_id,
        member_id: m.member_id.map(MemberId),
        member_org_id: m.member_org_id.map(OrgId),
        guest_name: m.guest_name,
        start: m.start_at,
        end: m.end_at,
        local_date: m.local_date,
        price_fen: m.price_fen,
        no_show_after: m.no_show_after,
        created_by: UserId(m.created_by),
        cancelled_at: m.cancelled_at,
        cancelled_by: m.cancelled_by.map(UserId),
        checked_in_at: m.checked_in_at,
        checked_in_by: m.checked_in_by.map(UserId),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Takes the venue's day for the rest of the transaction: bookings starting that
/// local day take turns from here (a PostgreSQL row lock; SQLite's single writer), so
/// the daily limits counted after this see every booking committed before.
pub async fn lock_day(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    date: NaiveDate,
) -> Result<(), StoreError> {
    booking_days::Entity::insert(booking_days::ActiveModel {
        venue_id: Set(venue_id),
        local_date: Set(date),
        bookings: Set(0),
    })
    .on_conflict(
        OnConflict::columns([
            booking_days::Column::VenueId,
            booking_days::Column::LocalDate,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    booking_days::Entity::update_many()
        .col_expr(
            booking_days::Column::Bookings,
            Expr::col(booking_days::Column::Bookings).add(1),
        )
        .filter(booking_days::Column::VenueId.eq(venue_id))
        .filter(booking_days::Column::LocalDate.eq(date))
        .exec(db)
        .await?;
    Ok(())
}

fn holding() -> sea_orm::sea_query::SimpleExpr {
    bookings::Column::Status.ne(StoredStatus::Cancelled.as_str())
}

/// Minutes of the member's bookings of this venue on that local date that hold units.
pub async fn member_minutes_on(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    member: MemberId,
    date: NaiveDate,
) -> Result<u32, StoreError> {
    let minutes: Vec<i32> = bookings::Entity::find()
        .select_only()
        .column(bookings::Column::Minutes)
        .filter(bookings::Column::VenueId.eq(venue_id))
        .filter(bookings::Column::MemberId.eq(member.0))
        .filter(bookings::Column::LocalDate.eq(date))
        .filter(holding())
        .into_tuple()
        .all(db)
        .await?;
    Ok(sum(minutes))
}

/// Units of bookings of this venue on that local date by members of `union`.
pub async fn union_units_on(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    union: OrgId,
    date: NaiveDate,
) -> Result<u32, StoreError> {
    let units: Vec<i32> = bookings::Entity::find()
        .select_only()
        .column(bookings::Column::Units)
        .filter(bookings::Column::VenueId.eq(venue_id))
        .filter(bookings::Column::MemberOrgId.eq(union.0))
        .filter(bookings::Column::LocalDate.eq(date))
        .filter(holding())
        .into_tuple()
        .all(db)
        .await?;
    Ok(sum(units))
}

fn sum(values: Vec<i32>) -> u32 {
    let total: i64 = values.into_iter().map(i64::from).sum();
    u32::try_from(Ord::max(total, 0)).unwrap_or(u32::MAX)
}

/// The ends of the member's no-shows at this venue (never checked in nor cancelled,
/// their grace passed by `now`) that ended after `since`.
pub async fn no_show_ends(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    member: MemberId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    Ok(bookings::Entity::find()
        .select_only()
        .column(bookings::Column::EndAt)
        .filter(bookings::Column::VenueId.eq(venue_id))
        .filter(bookings::Column::MemberId.eq(member.0))
        .filter(bookings::Column::Status.eq(StoredStatus::Booked.as_str()))
        .filter(bookings::Column::EndAt.gt(since))
        .filter(bookings::Column::NoShowAfter.lt(now))
        .into_tuple()
        .all(db)
        .await?)
}

/// The units held by the venue's bookings overlapping `[from, to)`: one query, for
/// availability.
pub async fn booked_between(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<BookedUnits>, StoreError> {
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>, i32)> = bookings::Entity::find()
        .select_only()
        .column(bookings::Column::StartAt)
        .column(bookings::Column::EndAt)
        .column(bookings::Column::Units)
        .filter(bookings::Column::VenueId.eq(venue_id))
        .filter(bookings::Column::StartAt.lt(to))
        // No booking is longer than MAX_BOOKING_HOURS, so none that overlaps starts
        // earlier than this: a lower bound keeps the index scan to the day instead of
        // every booking the venue ever had.
        .filter(
            bookings::Column::StartAt
                .gte(from - chrono::TimeDelta::hours(unionhall_domain::palaces::MAX_BOOKING_HOURS)),
        )
        .filter(bookings::Column::EndAt.gt(from))
        .filter(holding())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(start, end, units)| BookedUnits {
            start,
            end,
            units: u32::try_from(units).unwrap_or(0),
        })
        .collect())
}

/// The cells `[start, end)` covers, as Unix seconds: from `start` rounded down to the
/// grid to `end` rounded up.
fn cells(start: DateTime<Utc>, end: DateTime<Utc>) -> (i64, i64) {
    let from = start.timestamp().div_euclid(CELL_SECONDS) * CELL_SECONDS;
    let to = (end.timestamp() + CELL_SECONDS - 1).div_euclid(CELL_SECONDS) * CELL_SECONDS;
    (from, to)
}

/// Why [`hold_capacity`] refused.
#[derive(Debug)]
pub enum HoldError {
    /// Not enough units are free from `at` (the first full cell).
    Full {
        at: DateTime<Utc>,
    },
    Store(StoreError),
}

impl From<StoreError> for HoldError {
    fn from(e: StoreError) -> Self {
        HoldError::Store(e)
    }
}

impl From<sea_orm::DbErr> for HoldError {
    fn from(e: sea_orm::DbErr) -> Self {
        HoldError::Store(e.into())
    }
}

/// Holds `units` of the venue's `capacity` for `[start, end)`, or refuses with the
/// first cell that hasn't room, leaving nothing changed. See the module docs for why
/// this can't double-book under any concurrency.
pub async fn hold_capacity<C>(
    db: &C,
    venue_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    units: u32,
    capacity: u32,
) -> Result<(), HoldError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let (from, to) = cells(start, end);
    let wanted = u64::try_from((to - from) / CELL_SECONDS).unwrap_or(0);
    let rows: Vec<booking_cells::ActiveModel> = (from..to)
        .step_by(usize::try_from(CELL_SECONDS).unwrap_or(300))
        .map(|cell| booking_cells::ActiveModel {
            venue_id: Set(venue_id),
            cell_start: Set(cell),
            booked_units: Set(0),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // Cells are created in ascending order, so two bookings creating overlapping
    // cells wait for each other in one direction only.
    booking_cells::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                booking_cells::Column::VenueId,
                booking_cells::Column::CellStart,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let (units, capacity) = (i64::from(units), i64::from(capacity));
    let in_range = || {
        booking_cells::Column::VenueId
            .eq(venue_id)
            .and(booking_cells::Column::CellStart.gte(from))
            .and(booking_cells::Column::CellStart.lt(to))
    };
    let savepoint = db.begin().await?;
    let raised = booking_cells::Entity::update_many()
        .col_expr(
            booking_cells::Column::BookedUnits,
            Expr::col(booking_cells::Column::BookedUnits).add(units),
        )
        .filter(in_range())
        .filter(
            Expr::col(booking_cells::Column::BookedUnits)
                .add(units)
                .lte(capacity),
        )
        .exec(&savepoint)
        .await?;
    if raised.rows_affected == wanted {
        savepoint.commit().await?;
        return Ok(());
    }
    savepoint.rollback().await?;
    let full: Option<i64> = booking_cells::Entity::find()
        .select_only()
        .column(booking_cells::Column::CellStart)
        .filter(in_range())
        .filter(
            Expr::col(booking_cells::Column::BookedUnits)
                .add(units)
                .gt(capacity),
        )
        .order_by_asc(booking_cells::Column::CellStart)
        .into_tuple()
        .one(db)
        .await?;
    let at = full
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or(start);
    Err(HoldError::Full { at })
}

/// Gives back the units a booking held for `[start, end)`.
pub async fn release_capacity(
    db: &impl ConnectionTrait,
    venue_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    units: u32,
) -> Result<(), StoreError> {
    let (from, to) = cells(start, end);
    booking_cells::Entity::update_many()
        .col_expr(
            booking_cells::Column::BookedUnits,
            Expr::col(booking_cells::Column::BookedUnits).sub(i64::from(units)),
        )
        .filter(booking_cells::Column::VenueId.eq(venue_id))
        .filter(booking_cells::Column::CellStart.gte(from))
        .filter(booking_cells::Column::CellStart.lt(to))
        .exec(db)
        .await?;
    Ok(())
}

/// A new booking, already checked against the rules and holding its capacity.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub venue_id: Uuid,
    pub member_id: Option<MemberId>,
    pub member_org_id: Option<OrgId>,
    pub guest_name: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub units: u32,
    pub minutes: u32,
    pub price_fen: i64,
    pub grace_minutes: u32,
    pub created_by: UserId,
}

/// Records a booking as `booked`.
pub async fn insert_booking(
    db: &impl ConnectionTrait,
    new: NewBooking,
) -> Result<Booking, StoreError> {
    let now = Utc::now();
    let model = bookings::ActiveModel {
        id: Set(Uuid::now_v7()),
        venue_id: Set(new.venue_id),
        member_id: Set(new.member_id.map(|m| m.0)),
        member_org_id: Set(new.member_org_id.map(|o| o.0)),
        guest_name: Set(new.guest_name),
        start_at: Set(new.start),
        end_at: Set(new.end),
        local_date: Set(new.local_date),
        units: Set(int(new.units)),
        minutes: Set(int(new.minutes)),
        price_fen: Set(new.price_fen),
        status: Set(StoredStatus::Booked.as_str().to_owned()),
        no_show_after: Set(new.end + TimeDelta::minutes(i64::from(new.grace_minutes))),
        created_by: Set(new.created_by.0),
        cancelled_at: Set(None),
        cancelled_by: Set(None),
        checked_in_at: Set(None),
        checked_in_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    booking(model)
}

/// A booking by id, unscoped: the caller decides who may see it.
pub async fn get_booking(db: &impl ConnectionTrait, id: Uuid) -> Result<Booking, StoreError> {
    bookings::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(booking)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Whose bookings a list may show.
#[derive(Debug, Clone)]
pub enum BookingScope<'a> {
    /// A member's own.
    Member(MemberId),
    /// Those at palaces of unions in this reach.
    Staff(&'a Reach),
}

/// Booking list filters.
#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub venue_id: Option<Uuid>,
    pub member_id: Option<MemberId>,
    /// The palace's local date of the start.
    pub date: Option<NaiveDate>,
    /// The status as of `now`; a no-show is a `booked` booking past `no_show_after`.
    pub status: Option<BookingStatus>,
}

/// Bookings in `scope`, in creation order.
pub async fn list_bookings(
    db: &impl ConnectionTrait,
    scope: BookingScope<'_>,
    filter: &BookingFilter,
    now: DateTime<Utc>,
    page: PageRequest,
) -> Result<Page<Booking>, StoreError> {
    let mut query = bookings::Entity::find();
    match scope {
        BookingScope::Member(own) => {
            query = query.filter(bookings::Column::MemberId.eq(own.0));
        }
        BookingScope::Staff(reach) => {
            query = query
                .join(JoinType::InnerJoin, bookings::Relation::Venue.def())
                .join(JoinType::InnerJoin, venues::Relation::Palace.def())
                .join(JoinType::InnerJoin, palaces::Relation::Org.def())
                .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach));
        }
    }
    if let Some(venue) = filter.venue_id {
        query = query.filter(bookings::Column::VenueId.eq(venue));
    }
    if let Some(member) = filter.member_id {
        query = query.filter(bookings::Column::MemberId.eq(member.0));
    }
    if let Some(date) = filter.date {
        query = query.filter(bookings::Column::LocalDate.eq(date));
    }
    if let Some(status) = filter.status {
        let booked = bookings::Column::Status.eq(StoredStatus::Booked.as_str());
        query = query.filter(match status {
            BookingStatus::Booked => booked.and(bookings::Column::NoShowAfter.gte(now)),
            BookingStatus::NoShow => booked.and(bookings::Column::NoShowAfter.lt(now)),
            BookingStatus::Cancelled => {
                bookings::Column::Status.eq(StoredStatus::Cancelled.as_str())
            }
            BookingStatus::CheckedIn => {
                bookings::Column::Status.eq(StoredStatus::CheckedIn.as_str())
            }
        });
    }
    if let Some(after) = page.after {
        query = query.filter(bookings::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(bookings::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(booking)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |b| b.id))
}

/// Cancels a booking that is still `booked` and not yet a no-show at `now`, and gives
/// back its units, in the caller's transaction. Anything else is `StaleVersion`.
pub async fn cancel_booking(
    db: &impl ConnectionTrait,
    current: &Booking,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<Booking, StoreError> {
    let done = bookings::Entity::update_many()
        .col_expr(
            bookings::Column::Status,
            Expr::value(StoredStatus::Cancelled.as_str()),
        )
        .col_expr(bookings::Column::CancelledAt, Expr::value(now))
        .col_expr(bookings::Column::CancelledBy, Expr::value(by.0))
        .col_expr(bookings::Column::UpdatedAt, Expr::value(now))
        .filter(bookings::Column::Id.eq(current.id))
        .filter(bookings::Column::Status.eq(StoredStatus::Booked.as_str()))
        .filter(bookings::Column::NoShowAfter.gte(now))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    release_capacity(
        db,
        current.venue_id,
        current.start,
        current.end,
        current.units,
    )
    .await?;
    get_booking(db, current.id).await
}

/// Checks in a booking that is still `booked`; anything else is `StaleVersion`.
pub async fn check_in_booking(
    db: &impl ConnectionTrait,
    current: &Booking,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<Booking, StoreError> {
    let done = bookings::Entity::update_many()
        .col_expr(
            bookings::Column::Status,
            Expr::value(StoredStatus::CheckedIn.as_str()),
        )
        .col_expr(bookings::Column::CheckedInAt, Expr::value(now))
        .col_expr(bookings::Column::CheckedInBy, Expr::value(by.0))
        .col_expr(bookings::Column::UpdatedAt, Expr::value(now))
        .filter(bookings::Column::Id.eq(current.id))
        .filter(bookings::Column::Status.eq(StoredStatus::Booked.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    get_booking(db, current.id).await
}

/// How many bookings there are (for the demo's report).
pub async fn count_bookings(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(bookings::Entity::find().count(db).await?)
}

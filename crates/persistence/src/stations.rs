//! Outdoor-worker service stations: the stations, the radius search, and the anonymous
//! daily visit counts.
//!
//! The radius search reads only what the circle's bounding box holds. The box comes
//! from the domain ([`BoundingBox::around`]) and becomes `lat_band IN (…) AND lng
//! BETWEEN … AND lat BETWEEN …`, which the `(lat_band, lng)` index answers as one
//! range per latitude band on both databases; the exact great-circle distance, the
//! open-now test, the order and the limit follow here, on those few rows. A search of a
//! given radius always sends the same statement (the band list has a fixed length), so
//! drivers prepare it once.
//!
//! Stations are public: reads are unscoped, and who may change one is the caller's to
//! decide from `org_path`. Their opening hours are in the operator organisation's time
//! zone, read with every station.

use crate::entities::{orgs, station_visits, stations};
use crate::orgs::reach_condition;
use crate::{Page, PageRequest, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select, Set,
};
use unionhall_domain::OrgId;
use unionhall_domain::geo::{BoundingBox, LatLng, lat_band, nearest_first};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::palaces::OpeningHours;
use unionhall_domain::stations::{Amenities, StationStatus, open_at};
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Type(format!("unreadable {what}: {value}")))
}

// ─── Stations ───────────────────────────────────────────────────────────────

/// A station, with its operator organisation's path and time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    pub id: Uuid,
    pub org_id: OrgId,
    pub org_path: OrgPath,
    /// The operator organisation's IANA time zone: the hours' wall clock.
    pub time_zone: String,
    pub data: StationData,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a station is made of (all but its operator, which never changes).
#[derive(Debug, Clone, PartialEq)]
pub struct StationData {
    pub name: String,
    pub address: String,
    /// WGS-84.
    pub location: LatLng,
    pub amenities: Amenities,
    pub opening_hours: OpeningHours,
    pub status: StationStatus,
    /// The station's public number.
    pub phone: Option<String>,
}

/// A station row with its organisation's path and zone.
#[derive(Debug, FromQueryResult)]
struct StationRow {
    id: Uuid,
    org_id: Uuid,
    name: String,
    address: String,
    lat: f64,
    lng: f64,
    amenities: i32,
    opening_hours: String,
    status: String,
    phone: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    org_path: String,
    org_time_zone: String,
}

fn station(row: StationRow) -> Result<Station, StoreError> {
    Ok(Station {
        id: row.id,
        org_id: OrgId(row.org_id),
        org_path: OrgPath::from_stored(row.org_path),
        time_zone: row.org_time_zone,
        data: StationData {
            location: LatLng::new(row.lat, row.lng)
                .map_err(|_| corrupt("position", &format!("{},{}", row.lat, row.lng)))?,
            amenities: Amenities::from_mask(row.amenities)
                .ok_or_else(|| corrupt("amenities", &row.amenities.to_string()))?,
            opening_hours: serde_json::from_str(&row.opening_hours)
                .map_err(|_| corrupt("opening hours", &row.opening_hours))?,
            status: row
                .status
                .parse()
                .map_err(|()| corrupt("station status", &row.status))?,
            name: row.name,
            address: row.address,
            phone: row.phone,
        },
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Every station column with the operator's path and time zone.
fn station_query() -> Select<stations::Entity> {
    stations::Entity::find()
        .select_only()
        .columns([
            stations::Column::Id,
            stations::Column::OrgId,
            stations::Column::Name,
            stations::Column::Address,
            stations::Column::Lat,
            stations::Column::Lng,
            stations::Column::Amenities,
            stations::Column::OpeningHours,
            stations::Column::Status,
            stations::Column::Phone,
            stations::Column::Version,
            stations::Column::CreatedAt,
            stations::Column::UpdatedAt,
        ])
        .column_as(Expr::col((orgs::Entity, orgs::Column::Path)), "org_path")
        .column_as(
            Expr::col((orgs::Entity, orgs::Column::TimeZone)),
            "org_time_zone",
        )
        .join(JoinType::InnerJoin, stations::Relation::Org.def())
}

fn hours_json(hours: &OpeningHours) -> Result<String, StoreError> {
    serde_json::to_string(hours).map_err(|e| corrupt("opening hours", &e.to_string()))
}

/// Inserts a station of `org_id`.
pub async fn insert_station(
    db: &impl ConnectionTrait,
    org_id: OrgId,
    data: StationData,
) -> Result<Station, StoreError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    stations::ActiveModel {
        id: Set(id),
        org_id: Set(org_id.0),
        name: Set(data.name),
        address: Set(data.address),
        lat: Set(data.location.lat),
        lng: Set(data.location.lng),
        lat_band: Set(lat_band(data.location.lat)),
        amenities: Set(data.amenities.mask()),
        opening_hours: Set(hours_json(&data.opening_hours)?),
        status: Set(data.status.as_str().to_owned()),
        phone: Set(data.phone),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    get_station(db, id).await
}

/// A station by id (stations are public).
pub async fn get_station(db: &impl ConnectionTrait, id: Uuid) -> Result<Station, StoreError> {
    let row = station_query()
        .filter(stations::Column::Id.eq(id))
        .into_model::<StationRow>()
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    station(row)
}

/// Replaces a station's data if it is still at `expected_version`; a lost race is
/// `StaleVersion`.
pub async fn update_station(
    db: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    data: StationData,
) -> Result<Station, StoreError> {
    let done = stations::Entity::update_many()
        .col_expr(stations::Column::Name, Expr::value(data.name))
        .col_expr(stations::Column::Address, Expr::value(data.address))
        .col_expr(stations::Column::Lat, Expr::value(data.location.lat))
        .col_expr(stations::Column::Lng, Expr::value(data.location.lng))
        .col_expr(
            stations::Column::LatBand,
            Expr::value(lat_band(data.location.lat)),
        )
        .col_expr(
            stations::Column::Amenities,
            Expr::value(data.amenities.mask()),
        )
        .col_expr(
            stations::Column::OpeningHours,
            Expr::value(hours_json(&data.opening_hours)?),
        )
        .col_expr(stations::Column::Status, Expr::value(data.status.as_str()))
        .col_expr(stations::Column::Phone, Expr::value(data.phone))
        .col_expr(stations::Column::Version, Expr::value(expected_version + 1))
        .col_expr(stations::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(stations::Column::Id.eq(id))
        .filter(stations::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    get_station(db, id).await
}

/// The path of an organisation, unscoped: stations are public, and so is which
/// organisation runs one.
pub async fn org_path(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<OrgPath>, StoreError> {
    Ok(orgs::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|o| OrgPath::from_stored(o.path)))
}

// ─── Search ─────────────────────────────────────────────────────────────────

/// What a list or a search keeps.
#[derive(Debug, Clone, Default)]
pub struct StationFilter {
    /// Stations offering every one of these.
    pub amenities: Amenities,
    pub status: Option<StationStatus>,
    /// Stations run by this organisation or any below it.
    pub org_path: Option<OrgPath>,
    /// Only stations open at this instant ([`open_at`], in each operator's zone).
    pub open_at: Option<DateTime<Utc>>,
}

impl StationFilter {
    /// The conditions SQL can judge: all but `open_at`.
    fn apply(&self, mut query: Select<stations::Entity>) -> Select<stations::Entity> {
        if !self.amenities.is_empty() {
            let mask = self.amenities.mask();
            query = query.filter(
                Expr::col((stations::Entity, stations::Column::Amenities))
                    .bit_and(mask)
                    .eq(mask),
            );
        }
        if let Some(status) = self.status {
            query = query.filter(stations::Column::Status.eq(status.as_str()));
        }
        if let Some(subtree) = &self.org_path {
            query = query.filter(reach_condition(
                (orgs::Entity, orgs::Column::Path),
                &Reach::over(vec![subtree.clone()]),
            ));
        }
        query
    }

    /// Whether `station` passes the condition SQL can't judge.
    fn keeps(&self, station: &Station) -> bool {
        self.open_at.is_none_or(|now| {
            unionhall_domain::orgs::check_time_zone(&station.time_zone)
                .is_ok_and(|tz| open_at(station.data.status, &station.data.opening_hours, tz, now))
        })
    }
}

/// The stations within `radius_m` metres of `center` (WGS-84) that pass `filter`,
/// each with its great-circle distance in metres, nearest first (ties by id), at most
/// `limit`.
pub async fn search_near(
    db: &impl ConnectionTrait,
    center: LatLng,
    radius_m: f64,
    filter: &StationFilter,
    limit: usize,
) -> Result<Vec<(Station, f64)>, StoreError> {
    let bbox = BoundingBox::around(center, radius_m);
    let rows = filter
        .apply(station_query())
        .filter(stations::Column::LatBand.is_in(bbox.lat_bands()))
        .filter(stations::Column::Lng.between(bbox.min_lng, bbox.max_lng))
        .filter(stations::Column::Lat.between(bbox.min_lat, bbox.max_lat))
        .into_model::<StationRow>()
        .all(db)
        .await?;
    // Rank the rows first, on their stored numbers, so only the stations inside the
    // circle are decoded, and only until `limit` of them pass.
    let ranked = nearest_first(
        center,
        radius_m,
        rows,
        |r| LatLng {
            lat: r.lat,
            lng: r.lng,
        },
        |r| r.id,
        usize::MAX,
    );
    let mut hits = Vec::with_capacity(limit.min(ranked.len()));
    for (row, distance) in ranked {
        if hits.len() == limit {
            break;
        }
        let s = station(row)?;
        if filter.keeps(&s) {
            hits.push((s, distance));
        }
    }
    Ok(hits)
}

/// How many rows one list request reads at most while `open_at` drops stations that
/// are closed: a page can come back short (with a cursor to go on from) rather than
/// read the whole table at night.
const OPEN_NOW_SCAN_ROWS: u64 = 2_000;

/// Stations that pass `filter`, in creation (id) order. With `open_at`, a page may hold
/// fewer than `limit` stations though more follow: `next_after` then says where the
/// scan stopped.
pub async fn list_stations(
    db: &impl ConnectionTrait,
    filter: &StationFilter,
    page: PageRequest,
) -> Result<Page<Station>, StoreError> {
    let wanted = page.limit + 1;
    let batch = if filter.open_at.is_some() {
        Ord::max(wanted, 200)
    } else {
        wanted
    };
    let mut kept = Vec::new();
    let mut after = page.after;
    let mut scanned = 0u64;
    loop {
        let mut query = filter.apply(station_query());
        if let Some(after) = after {
            query = query.filter(stations::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(stations::Column::Id)
            .limit(batch)
            .into_model::<StationRow>()
            .all(db)
            .await?;
        let read = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        for row in rows {
            let s = station(row)?;
            after = Some(s.id);
            scanned += 1;
            if filter.keeps(&s) {
                kept.push(s);
                if u64::try_from(kept.len()).unwrap_or(u64::MAX) == wanted {
                    break;
                }
            }
        }
        let full = u64::try_from(kept.len()).unwrap_or(u64::MAX) == wanted;
        if full || read < batch {
            return Ok(Page::from_rows(kept, page.limit, |s| s.id));
        }
        if scanned >= OPEN_NOW_SCAN_ROWS {
            return Ok(Page {
                items: kept,
                next_after: after,
            });
        }
    }
}

// ─── Visits ─────────────────────────────────────────────────────────────────

/// Counts `visits` more visits to `station_id` on its local `date`: one atomic upsert,
/// so concurrent check-ins are all counted.
pub async fn add_visits(
    db: &impl ConnectionTrait,
    station_id: Uuid,
    date: NaiveDate,
    visits: i64,
) -> Result<(), StoreError> {
    let row = station_visits::ActiveModel {
        station_id: Set(station_id),
        local_date: Set(date),
        visits: Set(visits),
    };
    station_visits::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                station_visits::Column::StationId,
                station_visits::Column::LocalDate,
            ])
            .value(
                station_visits::Column::Visits,
                Expr::col((station_visits::Entity, station_visits::Column::Visits)).add(visits),
            )
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The days from `from` to `to` (both included) on which `station_id` had visits,
/// with their counts, in date order. Days without visits are absent.
pub async fn daily_visits(
    db: &impl ConnectionTrait,
    station_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, i64)>, StoreError> {
    Ok(station_visits::Entity::find()
        .select_only()
        .column(station_visits::Column::LocalDate)
        .column(station_visits::Column::Visits)
        .filter(station_visits::Column::StationId.eq(station_id))
        .filter(station_visits::Column::LocalDate.between(from, to))
        .order_by_asc(station_visits::Column::LocalDate)
        .into_tuple::<(NaiveDate, i64)>()
        .all(db)
        .await?)
}

// ─── Totals ─────────────────────────────────────────────────────────────────

/// Station figures for a part of the organisation tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StationTotals {
    /// Stations whose operator is in reach, whatever their status.
    pub stations: u64,
    /// Of those, the ones with status `open`.
    pub open: u64,
    /// Visits to them on local days from `visits_from` up to (not including)
    /// `visits_until`.
    pub visits: u64,
}

/// Counts the stations run by organisations in `reach` and their visits on local days
/// in `[visits_from, visits_until)`: aggregate queries, no rows loaded. For "this
/// month", pass [`month_of`](unionhall_domain::stations::month_of) of today.
pub async fn totals_in_reach(
    db: &impl ConnectionTrait,
    reach: &Reach,
    visits_from: NaiveDate,
    visits_until: NaiveDate,
) -> Result<StationTotals, StoreError> {
    let path = (orgs::Entity, orgs::Column::Path);
    let (stations, open) = stations::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "stations")
        .column_as(
            Expr::cust(format!(
                "COUNT(CASE WHEN stations.status = '{}' THEN 1 END)",
                StationStatus::Open.as_str()
            )),
            "open",
        )
        .join(JoinType::InnerJoin, stations::Relation::Org.def())
        .filter(reach_condition(path, reach))
        .into_tuple::<(i64, i64)>()
        .one(db)
        .await?
        .unwrap_or_default();
    let visits = station_visits::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(station_visits.visits), 0) AS BIGINT)"),
            "visits",
        )
        .join(JoinType::InnerJoin, station_visits::Relation::Station.def())
        .join(JoinType::InnerJoin, stations::Relation::Org.def())
        .filter(reach_condition(path, reach))
        .filter(station_visits::Column::LocalDate.gte(visits_from))
        .filter(station_visits::Column::LocalDate.lt(visits_until))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or_default();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(StationTotals {
        stations: count(stations),
        open: count(open),
        visits: count(visits),
    })
}

/// How many stations there are (for the demo's report).
pub async fn count_stations(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(stations::Entity::find().count(db).await?)
}

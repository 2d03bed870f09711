//! Outdoor-worker service stations: where riders and couriers rest, charge phones and
//! heat meals.
//!
//! Who may do what:
//! - anyone, without a token, finds stations (`GET /v1/stations`, nearest first with
//!   `near`), reads one, and checks in at one (`POST /v1/stations/{id}/visits`, an
//!   anonymous count). Without a token these are limited per client address
//!   ([`PublicLimiter`], `public_requests_per_minute`); with a valid token they aren't;
//! - `union_admin` / `federation_admin` whose reach covers the operator organisation
//!   create and change stations and read their daily visit counts. A station outside
//!   their reach is a 404 to them; a caller without those roles gets 403.
//!
//! Positions are WGS-84 in storage; `coord_sys=gcj02` (query, or `coord_sys` in a body)
//! converts the positions a request gives and the positions it gets back
//! (`unionhall_domain::geo`). The search's SQL is `unionhall_persistence::stations`'.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, parse_query, with_etag};
use crate::idempotency::{self, Created};
use crate::pagination::{ListResponse, page_request};
use crate::routes::members::org_in_reach;
use crate::state::{AppState, State};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use unionhall_domain::OrgId;
use unionhall_domain::geo::{CoordSys, LatLng};
use unionhall_domain::insurance::FieldProblem;
use unionhall_domain::orgs::{OrgPath, Reach, check_time_zone};
use unionhall_domain::palaces::OpeningHours;
use unionhall_domain::stations::{
    Amenities, Amenity, DEFAULT_RADIUS_M, StationStatus, check_hours, check_phone, check_radius,
    local_day, open_at, visit_range,
};
use unionhall_persistence::stations::{self as repo, Station, StationData, StationFilter};
use unionhall_persistence::{StoreError, db};
use utoipa::openapi::{RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, ToResponse, ToSchema};
use uuid::Uuid;
use validator::Validate;

// ─── Wire types ─────────────────────────────────────────────────────────────

/// A position: WGS-84, or GCJ-02 where the request says `coord_sys: gcj02`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct StationLocation {
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90, maximum = 90, example = 28.6829)]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180, maximum = 180, example = 115.8581)]
    pub lng: f64,
}

/// An outdoor-worker service station.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationOut {
    pub id: Uuid,
    /// The organisation that runs it.
    pub org_id: Uuid,
    #[schema(example = "八一广场户外劳动者服务站")]
    pub name: String,
    #[schema(example = "南昌市东湖区八一大道 1 号")]
    pub address: String,
    /// In `coord_sys`.
    pub location: StationLocation,
    /// The system `location` is in: what the request asked for, `wgs84` by default.
    pub coord_sys: CoordSys,
    /// In the order the spec lists them.
    pub amenities: Vec<Amenity>,
    /// Weekly hours, in `time_zone`.
    pub opening_hours: OpeningHours,
    /// The operator organisation's time zone: the hours' wall clock.
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: String,
    pub status: StationStatus,
    /// Whether it is open at the moment of the answer: status `open` and inside today's
    /// hours.
    pub open_now: bool,
    /// The station's public number.
    #[schema(example = "0791-86661234")]
    pub phone: Option<String>,
    /// Great-circle distance from `near`, whole metres; only in a `near` search.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 420)]
    pub distance_m: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn station_out(
    s: Station,
    coord_sys: CoordSys,
    now: DateTime<Utc>,
    distance_m: Option<f64>,
) -> StationOut {
    let shown = coord_sys.from_wgs84(s.data.location);
    let open_now =
        zone(&s).is_some_and(|tz| open_at(s.data.status, &s.data.opening_hours, tz, now));
    StationOut {
        id: s.id,
        org_id: s.org_id.0,
        name: s.data.name,
        address: s.data.address,
        location: StationLocation {
            lat: shown.lat,
            lng: shown.lng,
        },
        coord_sys,
        amenities: s.data.amenities.to_vec(),
        opening_hours: s.data.opening_hours,
        time_zone: s.time_zone,
        status: s.data.status,
        open_now,
        phone: s.data.phone,
        // Rounded to the metre; a search's radius is whole metres too.
        distance_m: distance_m.map(|d| d.round().clamp(0.0, f64::from(u32::MAX)) as u32),
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// A new station.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct StationIn {
    /// The organisation that runs it; must be in the caller's reach.
    pub org_id: Uuid,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "八一广场户外劳动者服务站")]
    pub name: String,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "南昌市东湖区八一大道 1 号"
    )]
    pub address: String,
    #[validate(nested)]
    pub location: StationLocation,
    /// The system of `location`, and of the position in the answer; `wgs84` when left
    /// out.
    pub coord_sys: Option<CoordSys>,
    /// Each at most once; none when left out.
    #[serde(default)]
    #[schema(max_items = 7)]
    pub amenities: Vec<Amenity>,
    /// In the operator organisation's time zone; a day left out is closed.
    pub opening_hours: OpeningHours,
    /// `open` when left out.
    pub status: Option<StationStatus>,
    /// A public number (3-30 characters: digits, spaces, `+`, `-`, parentheses).
    #[validate(custom(function = "phone_number"))]
    #[schema(min_length = 3, max_length = 30, example = "0791-86661234")]
    pub phone: Option<String>,
}

/// Changes to a station; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct StationPatch {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub address: Option<String>,
    #[validate(nested)]
    pub location: Option<StationLocation>,
    /// The system of `location` here, and of the position in the answer; `wgs84` when
    /// left out.
    pub coord_sys: Option<CoordSys>,
    /// Replaces the whole set.
    #[schema(max_items = 7)]
    pub amenities: Option<Vec<Amenity>>,
    /// Replaces the whole week.
    pub opening_hours: Option<OpeningHours>,
    pub status: Option<StationStatus>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(custom(function = "phone_number"))]
    #[schema(value_type = Option<String>, min_length = 3, max_length = 30)]
    pub phone: Option<Option<String>>,
}

fn phone_number(phone: &str) -> Result<(), validator::ValidationError> {
    check_phone(phone)
        .map_err(|p| validator::ValidationError::new(p.code).with_message(p.detail.into()))
}

/// Station search and list parameters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StationQuery {
    /// `lat,lng` (in `coord_sys`): answer the stations within `radius_m` of it, nearest
    /// first, each with `distance_m`: the `limit` nearest, on one page (`next_cursor`
    /// is always null, and `cursor` can't be combined with `near`). Without it, stations
    /// are listed in creation order with cursor paging.
    #[validate(length(max = 60))]
    #[param(example = "28.6829,115.8581", max_length = 60)]
    pub near: Option<String>,
    /// Search radius in metres with `near`, 1-50,000 (default 3,000).
    #[param(minimum = 1, maximum = 50000, example = 3000)]
    pub radius_m: Option<u32>,
    /// Stations offering every amenity named: repeat the parameter
    /// (`amenity=charging&amenity=toilet`) or separate with commas
    /// (`amenity=charging,toilet`).
    #[param(value_type = Option<Vec<Amenity>>, style = Form, explode)]
    pub amenity: Option<String>,
    /// `true`: only stations open now (status `open`, inside today's hours in the
    /// operator's time zone).
    pub open_now: Option<bool>,
    pub status: Option<StationStatus>,
    /// The system of `near` and of the positions answered; `wgs84` by default.
    pub coord_sys: Option<CoordSys>,
    /// Stations run by this organisation or any below it.
    pub org_id: Option<Uuid>,
    /// Page size (or, with `near`, how many nearest), 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page (not with `near`).
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// How to show one station.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StationViewQuery {
    /// The system of the position answered; `wgs84` by default.
    pub coord_sys: Option<CoordSys>,
}

/// Which days of visits.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VisitQuery {
    /// First local day (default: 29 days before `to`).
    pub from: Option<NaiveDate>,
    /// Last local day, included (default: today in the station's time zone). At most
    /// 366 days from `from`.
    pub to: Option<NaiveDate>,
}

/// One local day's check-ins.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayVisits {
    pub date: NaiveDate,
    pub visits: u64,
}

/// A station's daily check-ins: every day of the range, days without visits as 0.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationVisitsOut {
    pub station_id: Uuid,
    /// The zone whose local days these are.
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: u64,
    pub days: Vec<DayVisits>,
}

// ─── The public caller and its limit ────────────────────────────────────────

/// Per-address limiting of the public endpoints, in process: the generic cell rate
/// algorithm (GCRA), `per_minute` requests a minute sustained with as many allowed at
/// once. Every worker of an instance shares one (an `Arc` in the app state); instances
/// behind a load balancer each count on their own, so the effective limit is per
/// instance. IPv6 clients are counted per /64, which one subscriber usually holds whole.
pub struct PublicLimiter {
    /// The time one request "costs": a minute divided by `per_minute`.
    interval: Duration,
    /// How far ahead of now a client's schedule may run: `per_minute` requests' worth.
    burst: Duration,
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    /// Each client's theoretical arrival time: when its schedule is free again.
    free_at: HashMap<ClientKey, Instant>,
    swept_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ClientKey {
    Address(IpAddr),
    /// The first 64 bits of an IPv6 address.
    V6Prefix(u64),
    Unparsed(String),
}

impl ClientKey {
    fn of(address: &str) -> ClientKey {
        match address.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                ClientKey::V6Prefix((v6.to_bits() >> 64) as u64)
            }
            Ok(IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .map_or(ClientKey::Address(IpAddr::V6(v6)), |v4| {
                    ClientKey::Address(IpAddr::V4(v4))
                }),
            Ok(ip) => ClientKey::Address(ip),
            Err(_) => ClientKey::Unparsed(address.to_owned()),
        }
    }
}

const LIMITER_SHARDS: usize = 16;
/// A shard forgets clients whose schedule is free once it holds this many …
const SWEEP_FROM: usize = 4_096;
/// … at most this often, so a sweep's cost is spread over many requests.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// A shard still this full after a sweep is cleared: under a flood of distinct
/// addresses the limiter forgets (lets through) rather than grow without bound.
const SHARD_CAPACITY: usize = 65_536;

impl PublicLimiter {
    /// A limiter letting each client make `per_minute` requests a minute (at least 1).
    pub fn new(per_minute: u32) -> PublicLimiter {
        let per_minute = per_minute.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        PublicLimiter {
            interval,
            burst: interval * per_minute,
            shards: (0..LIMITER_SHARDS)
                .map(|_| Mutex::new(Shard::default()))
                .collect(),
        }
    }

    /// Counts a request from `address` at `now`: `Ok`, or `Err(seconds)` to wait before
    /// the next one would pass (at least 1).
    pub fn check(&self, address: &str, now: Instant) -> Result<(), u64> {
        let key = ClientKey::of(address);
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let shard = &self.shards[(hasher.finish() as usize) % self.shards.len()];
        // A poisoned lock only means another request panicked mid-update of a map of
        // instants; its contents are still usable.
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        if shard.free_at.len() >= SWEEP_FROM
            && shard
                .swept_at
                .is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY)
        {
            shard.free_at.retain(|_, free| *free > now);
            shard.swept_at = Some(now);
            if shard.free_at.len() >= SHARD_CAPACITY {
                shard.free_at.clear();
            }
        }
        let free = shard.free_at.get(&key).copied().unwrap_or(now).max(now);
        let after = free + self.interval;
        let ahead = after.saturating_duration_since(now);
        if ahead > self.burst {
            let wait = ahead - self.burst;
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        shard.free_at.insert(key, after);
        Ok(())
    }
}

/// The caller of a public endpoint: signed in (a bearer token was sent, and must be
/// valid) and not limited, or anonymous and limited per client address (429 with
/// `Retry-After`). As the first argument of a handler it counts every request, bad
/// ones included.
pub struct PublicCaller(pub Option<Principal>);

impl FromRequest for PublicCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().contains_key(header::AUTHORIZATION) {
            let principal = Principal::from_request(req, payload);
            return Box::pin(async move { Ok(PublicCaller(Some(principal.await?))) });
        }
        let limited = match req.app_data::<web::Data<AppState>>() {
            None => Err(ApiError::internal()),
            Some(state) => {
                let client = crate::routes::auth::client_address(req, state);
                state
                    .public_limiter
                    .check(&client, Instant::now())
                    .map_err(|wait| {
                        ApiError::too_many(
                            format!(
                                "at most {} requests a minute from one address without a \
                                 token; try again later",
                                state.config.public_requests_per_minute
                            ),
                            wait,
                        )
                    })
            }
        };
        Box::pin(async move { limited.map(|()| PublicCaller(None)) })
    }
}

/// The 429 a public endpoint may answer: the shared `ProblemTooManyRequests` response
/// (with `Retry-After`) that `openapi::Conventions` declares once.
pub struct RateLimited;

impl<'r> ToResponse<'r> for RateLimited {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "ProblemTooManyRequests",
            RefOr::T(
                ResponseBuilder::new()
                    .description("Too many requests from this address without a token")
                    .build(),
            ),
        )
    }
}

// ─── Helpers ────────────────────────────────────────────────────────────────

/// A 404 for what the caller may not manage, as if it didn't exist.
fn managed(reach: &Reach, path: &OrgPath) -> ApiResult<()> {
    if reach.covers(path) {
        Ok(())
    } else {
        Err(ApiError::not_found("station"))
    }
}

fn found<T>(result: Result<T, StoreError>) -> ApiResult<T> {
    match result {
        Err(StoreError::NotFound) => Err(ApiError::not_found("station")),
        other => Ok(other?),
    }
}

fn field_error(p: FieldProblem) -> FieldError {
    FieldError::new(p.pointer, p.code, p.detail)
}

/// The operator's zone; an unknown stored zone is logged and the station treated as
/// closed (it can't be judged open).
fn zone(s: &Station) -> Option<Tz> {
    check_time_zone(&s.time_zone)
        .inspect_err(
            |e| tracing::error!(error = %e, station = %s.id, "stored time zone is unknown"),
        )
        .ok()
}

/// Parses a query string, first joining a repeated `amenity` into one comma-separated
/// value (any other repeated parameter stays a 422).
fn station_query(raw: &str) -> ApiResult<StationQuery> {
    let mut amenities: Vec<String> = Vec::new();
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if name == "amenity" {
            amenities.push(value.into_owned());
        } else {
            rest.append_pair(&name, &value);
        }
    }
    if !amenities.is_empty() {
        rest.append_pair("amenity", &amenities.join(","));
    }
    parse_query(&rest.finish())
}

/// A station as a request describes it, before the checks.
struct Draft {
    name: String,
    address: String,
    location: StationLocation,
    /// The system of `location`.
    coord_sys: CoordSys,
    amenities: Vec<Amenity>,
    opening_hours: OpeningHours,
    status: StationStatus,
    phone: Option<String>,
}

/// The station a body describes: positions converted from `coord_sys` to WGS-84, every
/// rule checked, each problem with its pointer.
fn checked_data(draft: Draft) -> ApiResult<StationData> {
    let Draft {
        name,
        address,
        location,
        coord_sys,
        amenities,
        opening_hours,
        status,
        phone,
    } = draft;
    let mut problems = Vec::new();
    let amenities = Amenities::from_list(&amenities)
        .map_err(|p| problems.push(field_error(p)))
        .unwrap_or_default();
    if let Err(list) = check_hours(&opening_hours) {
        problems.extend(list.into_iter().map(field_error));
    }
    let position = LatLng::new(location.lat, location.lng).map_err(|e| {
        let pointer = match e {
            unionhall_domain::geo::GeoError::Longitude => "/location/lng",
            _ => "/location/lat",
        };
        problems.push(FieldError::new(pointer, e.code(), e.to_string()));
    });
    match position {
        Ok(position) if problems.is_empty() => Ok(StationData {
            name: name.trim().to_owned(),
            address: address.trim().to_owned(),
            location: coord_sys.to_wgs84(position),
            amenities,
            opening_hours,
            status,
            phone,
        }),
        _ => Err(ApiError::validation(problems)),
    }
}

fn respond(status: actix_web::http::StatusCode, version: i32, out: StationOut) -> HttpResponse {
    with_etag(&mut HttpResponse::build(status), version).json(out)
}

// ─── Handlers ───────────────────────────────────────────────────────────────

/// Open a station for an organisation in the caller's reach (its `union_admin` or a
/// `federation_admin` above it).
#[utoipa::path(post, path = "/v1/stations", tag = "stations", request_body = StationIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = StationOut,
        headers(("Location" = String, description = "The new station's URL")))))]
pub async fn create_station(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<StationIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!("POST /v1/stations {}", body.digest);
    let input = body.value;
    let coord_sys = input.coord_sys.unwrap_or(CoordSys::Wgs84);
    let data = checked_data(Draft {
        name: input.name,
        address: input.address,
        location: input.location,
        coord_sys,
        amenities: input.amenities,
        opening_hours: input.opening_hours,
        status: input.status.unwrap_or(StationStatus::Open),
        phone: input.phone,
    })?;
    let org_id = input.org_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            org_in_reach(txn, &reach, org_id, "/org_id").await?;
            let station = repo::insert_station(txn, OrgId(org_id), data).await?;
            Ok(Created {
                location: format!("/v1/stations/{}", station.id),
                body: station_out(station, coord_sys, Utc::now(), None),
            })
        })
    })
    .await
}

/// Find stations; no token needed. With `near`: the stations within `radius_m`
/// (great-circle distance), nearest first, each with `distance_m`, at most `limit`,
/// on one page. Without: every station passing the filters in creation order, cursor
/// paged (with `open_now`, a page may hold fewer than `limit` though `next_cursor`
/// goes on). Without a token, limited per client address (429 with `Retry-After`).
#[utoipa::path(get, path = "/v1/stations", tag = "stations", params(StationQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Stations", body = ListResponse<StationOut>),
        (status = 429, response = RateLimited)))]
pub async fn list_stations(
    _caller: PublicCaller,
    req: HttpRequest,
    state: State,
) -> ApiResult<HttpResponse> {
    let q = station_query(req.query_string())?;
    let coord_sys = q.coord_sys.unwrap_or(CoordSys::Wgs84);
    let mut problems = Vec::new();
    let amenities = Amenities::from_query(q.amenity.as_deref())
        .map_err(|p| problems.push(field_error(p)))
        .unwrap_or_default();
    let center = match q.near.as_deref() {
        None => {
            if q.radius_m.is_some() {
                problems.push(FieldError::new(
                    "/radius_m",
                    "requires_near",
                    "radius_m applies to a near search; send near too",
                ));
            }
            None
        }
        Some(near) => {
            if let Err(p) = check_radius(q.radius_m.unwrap_or(DEFAULT_RADIUS_M)) {
                problems.push(field_error(p));
            }
            if q.cursor.is_some() {
                problems.push(FieldError::new(
                    "/cursor",
                    "not_with_near",
                    "a near search answers one page of the nearest; cursor doesn't apply",
                ));
            }
            LatLng::parse(near)
                .map_err(|e| problems.push(FieldError::new("/near", e.code(), e.to_string())))
                .ok()
                .map(|p| coord_sys.to_wgs84(p))
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let org_path = match q.org_id {
        Some(org) => Some(
            repo::org_path(&state.db, org)
                .await?
                .ok_or_else(|| ApiError::field("/org_id", "not_found", "no such organisation"))?,
        ),
        None => None,
    };
    let now = Utc::now();
    let filter = StationFilter {
        amenities,
        status: q.status,
        org_path,
        open_at: q.open_now.unwrap_or(false).then_some(now),
    };
    let list = match center {
        Some(center) => {
            let radius = f64::from(q.radius_m.unwrap_or(DEFAULT_RADIUS_M));
            let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
            let hits = repo::search_near(&state.db, center, radius, &filter, limit).await?;
            ListResponse {
                items: hits
                    .into_iter()
                    .map(|(s, d)| station_out(s, coord_sys, now, Some(d)))
                    .collect(),
                next_cursor: None,
            }
        }
        None => {
            let page = repo::list_stations(&state.db, &filter, page).await?;
            ListResponse::from_page(page, |s| station_out(s, coord_sys, now, None))
        }
    };
    Ok(HttpResponse::Ok().json(list))
}

/// Get a station; no token needed (without one, limited per client address).
#[utoipa::path(get, path = "/v1/stations/{id}", tag = "stations",
    params(("id" = Uuid, Path, description = "Station id"), StationViewQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The station", body = StationOut,
            headers(("ETag" = String, description = "Send as If-Match to update"))),
        (status = 429, response = RateLimited)))]
pub async fn get_station(
    _caller: PublicCaller,
    state: State,
    id: web::Path<Uuid>,
    query: ValidQuery<StationViewQuery>,
) -> ApiResult<HttpResponse> {
    let coord_sys = query.0.coord_sys.unwrap_or(CoordSys::Wgs84);
    let station = found(repo::get_station(&state.db, *id).await)?;
    let version = station.version;
    let out = station_out(station, coord_sys, Utc::now(), None);
    Ok(respond(actix_web::http::StatusCode::OK, version, out))
}

/// Change a station the caller administers. The whole result is checked as on
/// creation; `If-Match` with the ETag of the last read makes a concurrent change a 412.
#[utoipa::path(patch, path = "/v1/stations/{id}", tag = "stations", request_body = StationPatch,
    params(("id" = Uuid, Path, description = "Station id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated station", body = StationOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update_station(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<StationPatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let txn = db::begin_write(&state.db).await?;
    let current = found(repo::get_station(&txn, *id).await)?;
    managed(&reach, &current.org_path)?;
    let p = body.value;
    let coord_sys = p.coord_sys.unwrap_or(CoordSys::Wgs84);
    let was = current.data;
    // An unchanged position is taken as stored (WGS-84), not through a round trip.
    let (location, location_sys) = match p.location {
        Some(l) => (l, coord_sys),
        None => (
            StationLocation {
                lat: was.location.lat,
                lng: was.location.lng,
            },
            CoordSys::Wgs84,
        ),
    };
    let data = checked_data(Draft {
        name: p.name.unwrap_or(was.name),
        address: p.address.unwrap_or(was.address),
        location,
        coord_sys: location_sys,
        amenities: p.amenities.unwrap_or_else(|| was.amenities.to_vec()),
        opening_hours: p.opening_hours.unwrap_or(was.opening_hours),
        status: p.status.unwrap_or(was.status),
        phone: p.phone.unwrap_or(was.phone),
    })?;
    let expected = if_match.expect(current.version)?.unwrap_or(current.version);
    let station = repo::update_station(&txn, current.id, expected, data).await?;
    txn.commit().await.map_err(StoreError::from)?;
    let version = station.version;
    let out = station_out(station, coord_sys, Utc::now(), None);
    Ok(respond(actix_web::http::StatusCode::OK, version, out))
}

/// Check in at a station: counts one visit for the station's local day (its operator's
/// time zone). Anonymous, and nothing about the visitor is stored; no token needed
/// (without one, limited per client address). A station not `open` is a 409.
#[utoipa::path(post, path = "/v1/stations/{id}/visits", tag = "stations",
    params(("id" = Uuid, Path, description = "Station id")),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Counted"),
        (status = 429, response = RateLimited)))]
pub async fn check_in(
    _caller: PublicCaller,
    state: State,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let station = found(repo::get_station(&state.db, *id).await)?;
    if station.data.status != StationStatus::Open {
        return Err(ApiError::conflict(
            format!(
                "the station is {}; check-ins count only while it is open",
                station.data.status
            ),
            "status",
            Some(station.id.to_string()),
        ));
    }
    let tz = zone(&station).ok_or_else(ApiError::internal)?;
    repo::add_visits(&state.db, station.id, local_day(Utc::now(), tz), 1).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A station's check-ins per local day, for its operator's administrators: every day
/// from `from` to `to`, days without visits as 0.
#[utoipa::path(get, path = "/v1/stations/{id}/visits", tag = "stations",
    params(("id" = Uuid, Path, description = "Station id"), VisitQuery),
    responses((status = 200, description = "Daily visits", body = StationVisitsOut)))]
pub async fn list_visits(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<VisitQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let station = found(repo::get_station(&state.db, *id).await)?;
    managed(&reach, &station.org_path)?;
    let tz = zone(&station).ok_or_else(ApiError::internal)?;
    let today = local_day(Utc::now(), tz);
    let (from, to) = visit_range(query.0.from, query.0.to, today)
        .map_err(|p| ApiError::validation(vec![field_error(p)]))?;
    let counted: HashMap<NaiveDate, i64> = repo::daily_visits(&state.db, station.id, from, to)
        .await?
        .into_iter()
        .collect();
    let days: Vec<DayVisits> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|date| DayVisits {
            date,
            visits: counted
                .get(&date)
                .map_or(0, |n| u64::try_from(*n).unwrap_or(0)),
        })
        .collect();
    Ok(HttpResponse::Ok().json(StationVisitsOut {
        station_id: station.id,
        time_zone: station.time_zone,
        from,
        to,
        total: days.iter().map(|d| d.visits).sum(),
        days,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_limiter_allows_a_burst_then_one_per_interval() {
        let limiter = PublicLimiter::new(60); // one a second, 60 at once
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(limiter.check("203.0.113.7", t0), Ok(()));
        }
        assert_eq!(limiter.check("203.0.113.7", t0), Err(1));
        // Another address has its own allowance.
        assert_eq!(limiter.check("203.0.113.8", t0), Ok(()));
        // A second later, one more.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limiter.check("203.0.113.7", t1), Ok(()));
        assert_eq!(limiter.check("203.0.113.7", t1), Err(1));
        // A minute of quiet refills the whole burst.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..60 {
            assert_eq!(limiter.check("203.0.113.7", t2), Ok(()));
        }
        assert!(limiter.check("203.0.113.7", t2).is_err());
    }

    #[test]
    fn retry_after_is_the_wait_rounded_up() {
        let limiter = PublicLimiter::new(2); // one every 30 s, two at once
        let t0 = Instant::now();
        assert!(limiter.check("198.51.100.1", t0).is_ok());
        assert!(limiter.check("198.51.100.1", t0).is_ok());
        assert_eq!(limiter.check("198.51.100.1", t0), Err(30));
        let later = t0 + Duration::from_millis(29_500);
        assert_eq!(limiter.check("198.51.100.1", later), Err(1));
        assert!(
            limiter
                .check("198.51.100.1", t0 + Duration::from_secs(30))
                .is_ok()
        );
    }

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_v4_as_v4() {
        let limiter = PublicLimiter::new(1);
        let t0 = Instant::now();
        assert!(limiter.check("2001:db8:1:2::1", t0).is_ok());
        assert!(limiter.check("2001:db8:1:2::ffff", t0).is_err());
        assert!(limiter.check("2001:db8:1:3::1", t0).is_ok());
        assert!(limiter.check("192.0.2.1", t0).is_ok());
        assert!(limiter.check("::ffff:192.0.2.1", t0).is_err());
        assert_eq!(
            ClientKey::of("unknown"),
            ClientKey::Unparsed("unknown".into())
        );
    }

    #[test]
    fn a_full_shard_forgets_idle_clients() {
        let limiter = PublicLimiter::new(60);
        let t0 = Instant::now();
        for i in 0..(SWEEP_FROM * LIMITER_SHARDS * 2) {
            let a = u32::try_from(i).unwrap();
            limiter
                .check(&std::net::Ipv4Addr::from(a).to_string(), t0)
                .unwrap();
        }
        // Two minutes on, every schedule is free: the next sweep empties each shard.
        let later = t0 + Duration::from_secs(120);
        for i in 0..LIMITER_SHARDS * 64 {
            let a = u32::MAX - u32::try_from(i).unwrap();
            limiter
                .check(&std::net::Ipv4Addr::from(a).to_string(), later)
                .unwrap();
        }
        let held: usize = limiter
            .shards
            .iter()
            .map(|s| s.lock().unwrap().free_at.len())
            .sum();
        assert!(held < SWEEP_FROM * LIMITER_SHARDS, "{held}");
    }

    #[test]
    fn repeated_amenities_join_and_other_repeats_stay_errors() {
        let q = station_query("amenity=charging&near=28.6,115.8&amenity=toilet,rest").unwrap();
        assert_eq!(q.amenity.as_deref(), Some("charging,toilet,rest"));
        assert_eq!(q.near.as_deref(), Some("28.6,115.8"));
        assert!(station_query("limit=1&limit=2").is_err());
        assert!(station_query("bogus=1").is_err());
    }

    #[test]
    fn public_operations_refer_to_the_shared_429() {
        use utoipa::OpenApi;
        let spec = serde_json::to_value(crate::openapi::ApiDoc::openapi()).unwrap();
        assert!(spec["components"]["responses"]["ProblemTooManyRequests"].is_object());
        for (path, method) in [
            ("/v1/stations", "get"),
            ("/v1/stations/{id}", "get"),
            ("/v1/stations/{id}/visits", "post"),
        ] {
            let op = &spec["paths"][path][method];
            assert_eq!(
                op["responses"]["429"]["$ref"], "#/components/responses/ProblemTooManyRequests",
                "{method} {path}"
            );
            assert_eq!(op["security"][0], serde_json::json!({}), "{method} {path}");
        }
    }
}

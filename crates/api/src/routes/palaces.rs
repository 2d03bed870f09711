//! Workers' cultural palaces: palaces, venues, closures, availability and bookings.
//!
//! Who may do what:
//! - every signed-in caller (members included) reads palaces, venues, closures and
//!   availability;
//! - `palace_staff` bound to the palace's union or above, and `union_admin` /
//!   `federation_admin` whose reach covers it, manage palaces, venues, closures and
//!   the palace's bookings (for a member or a guest; cancel any time; check in without
//!   a code). A palace outside their reach is a 404 to them;
//! - a member books, sees, cancels (until the deadline) and checks in (with the code
//!   shown on the booking while the window is open) their own bookings; anyone
//!   else's is a 404.
//!
//! Capacity is enforced by the database (see `unionhall_persistence::palaces`); the
//! rules are the domain's (`unionhall_domain::palaces`). No-shows and bans are
//! computed from the bookings at each request, so they hold without a background job.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, parse_json, with_etag};
use crate::idempotency::{self, Created};
use crate::pagination::{ListResponse, PageQuery, page_request};
use crate::pii::PiiCipher;
use crate::routes::members::org_in_reach;
use crate::state::State;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use unionhall_domain::members::MemberStatus;
use unionhall_domain::orgs::{DEFAULT_TIME_ZONE, OrgPath, Reach, check_time_zone};
use unionhall_domain::palaces::{
    BookerContext, BookingRefusal, BookingRequest, BookingRules, BookingStatus, Closure,
    FieldProblem, OpeningHours, SlotAvailability, VenueKind, VenueTerms, availability, ban_after,
    check_booking_request, check_in_code_from_mac, check_in_code_message, check_in_codes_match,
    check_in_window, day_bounds, effective_status, local_date, may_cancel, may_check_in,
    no_show_lookback,
};
use unionhall_domain::roles::Role;
use unionhall_domain::{MemberId, OrgId};
use unionhall_persistence::palaces::{
    self as repo, Booking, BookingFilter, BookingScope, HoldError, NewBooking, Palace, PalaceData,
    PalaceFilter, Venue, VenueData,
};
use unionhall_persistence::{StoreError, db};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

// ─── Wire types ─────────────────────────────────────────────────────────────

/// A WGS-84 position.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90, maximum = 90, example = 29.7051)]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180, maximum = 180, example = 116.0019)]
    pub lng: f64,
}

/// A workers' cultural palace.
#[derive(Debug, Serialize, ToSchema)]
pub struct PalaceOut {
    pub id: Uuid,
    /// The union that runs it.
    pub org_id: Uuid,
    #[schema(example = "九江市职工文化宫")]
    pub name: String,
    pub address: String,
    /// GB/T 2260 region code.
    #[schema(example = "360402")]
    pub region_code: String,
    pub location: Option<Location>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Opening hours and "days" are this zone's wall clock.
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Palace> for PalaceOut {
    fn from(p: Palace) -> Self {
        PalaceOut {
            id: p.id,
            org_id: p.org_id.0,
            name: p.name,
            address: p.address,
            region_code: p.region_code,
            location: p.location.map(|(lat, lng)| Location { lat, lng }),
            contact_name: p.contact_name,
            contact_phone: p.contact_phone,
            photos: p.photos,
            time_zone: p.time_zone,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A new palace.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PalaceIn {
    /// The union that runs it; must be in the caller's reach.
    pub org_id: Uuid,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "九江市职工文化宫")]
    pub name: String,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "九江市浔阳区长虹西大道 1 号"
    )]
    pub address: String,
    #[validate(custom(function = "crate::validate::region_code"))]
    #[schema(min_length = 6, max_length = 6, example = "360402")]
    pub region_code: String,
    #[validate(nested)]
    pub location: Option<Location>,
    #[validate(
        length(min = 1, max = 50),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 50)]
    pub contact_name: Option<String>,
    #[validate(
        length(min = 1, max = 30),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 30, example = "0792-8221234")]
    pub contact_phone: Option<String>,
    /// Up to 10 `http(s)` URLs.
    #[validate(length(max = 10), custom(function = "photo_urls"))]
    #[schema(max_items = 10)]
    #[serde(default)]
    pub photos: Vec<String>,
    /// IANA zone; `Asia/Shanghai` when left out.
    #[validate(custom(function = "crate::validate::time_zone"))]
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: Option<String>,
}

/// Changes to a palace; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PalacePatch {
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
    #[validate(custom(function = "crate::validate::region_code"))]
    #[schema(min_length = 6, max_length = 6)]
    pub region_code: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(nested)]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(
        length(min = 1, max = 50),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 50)]
    pub contact_name: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(
        length(min = 1, max = 30),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 30)]
    pub contact_phone: Option<Option<String>>,
    #[validate(length(max = 10), custom(function = "photo_urls"))]
    #[schema(max_items = 10)]
    pub photos: Option<Vec<String>>,
    #[validate(custom(function = "crate::validate::time_zone"))]
    pub time_zone: Option<String>,
}

fn photo_urls(photos: &[String]) -> Result<(), validator::ValidationError> {
    let ok = |u: &String| {
        (u.starts_with("https://") || u.starts_with("http://"))
            && u.len() <= 500
            && u.len() > 8
            && !u.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if photos.iter().all(ok) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("url")
            .with_message("each photo must be an http(s) URL of at most 500 characters".into()))
    }
}

/// Palace list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PalaceQuery {
    /// Palaces in exactly this GB/T 2260 region.
    #[validate(custom(function = "crate::validate::region_code"))]
    #[param(min_length = 6, max_length = 6)]
    pub region_code: Option<String>,
    /// Palaces run by this organisation or any below it.
    pub org_id: Option<Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// A bookable venue: tables, courts or lanes (`units`) on a slot grid, with weekly
/// hours in the palace's time zone, prices and booking rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueOut {
    pub id: Uuid,
    pub palace_id: Uuid,
    #[schema(example = "乒乓球馆")]
    pub name: String,
    pub kind: VenueKind,
    /// Tables or courts.
    pub units: u32,
    pub slot_minutes: u32,
    /// The palace's zone, which the hours are in.
    pub time_zone: String,
    pub opening_hours: OpeningHours,
    pub booking_rules: BookingRules,
    pub member_price_fen: i64,
    pub guest_price_fen: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn venue_out(v: Venue, time_zone: &str) -> VenueOut {
    VenueOut {
        id: v.id,
        palace_id: v.palace_id,
        name: v.data.name,
        kind: v.data.kind,
        units: v.data.units,
        slot_minutes: v.data.slot_minutes,
        time_zone: time_zone.to_owned(),
        opening_hours: v.data.opening_hours,
        booking_rules: v.data.booking_rules,
        member_price_fen: v.data.member_price_fen,
        guest_price_fen: v.data.guest_price_fen,
        created_at: v.created_at,
        updated_at: v.updated_at,
    }
}

/// A new venue. Rules left out take the defaults: members only, free, one unit for at
/// most an hour a day per member, two units per grassroots union a day, one day
/// ahead, cancel 30 minutes before, two no-shows bring a 14-day ban.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct VenueIn {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "乒乓球馆")]
    pub name: String,
    pub kind: VenueKind,
    /// Tables or courts, 1–500.
    #[schema(minimum = 1, maximum = 500, example = 8)]
    pub units: u32,
    /// One of 15, 20, 30, 45, 60, 90, 120.
    #[schema(example = 60)]
    pub slot_minutes: u32,
    pub opening_hours: OpeningHours,
    #[serde(default)]
    pub booking_rules: BookingRules,
    /// Per unit per slot; 0 (free) when left out.
    #[serde(default)]
    pub member_price_fen: i64,
    /// Per unit per slot; 0 when left out.
    #[serde(default)]
    pub guest_price_fen: i64,
}

/// Changes to a venue; absent fields stay as they are. `booking_rules` changes only
/// the rules it names.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct VenuePatch {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub kind: Option<VenueKind>,
    pub units: Option<u32>,
    pub slot_minutes: Option<u32>,
    pub opening_hours: Option<OpeningHours>,
    /// Only the rules named change.
    #[schema(value_type = Option<BookingRules>)]
    pub booking_rules: Option<serde_json::Map<String, serde_json::Value>>,
    pub member_price_fen: Option<i64>,
    pub guest_price_fen: Option<i64>,
}

/// A closure as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosureOut {
    pub id: Uuid,
    pub venue_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[schema(example = "地板打蜡")]
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl From<repo::VenueClosure> for ClosureOut {
    fn from(c: repo::VenueClosure) -> Self {
        ClosureOut {
            id: c.id,
            venue_id: c.venue_id,
            start: c.closure.start,
            end: c.closure.end,
            reason: c.closure.reason,
            created_at: c.created_at,
        }
    }
}

/// A blackout of a venue: closed from `start` until `end`, whatever its hours say.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ClosureIn {
    pub start: DateTime<Utc>,
    /// After `start`.
    pub end: DateTime<Utc>,
    /// Shown to members, 1–200 characters.
    #[validate(custom(function = "crate::validate::plain_text"))]
    #[schema(min_length = 1, max_length = 200, example = "地板打蜡")]
    pub reason: String,
}

/// Closure list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClosureQuery {
    /// Only closures that haven't ended yet.
    pub upcoming: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Which day.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// A local date in the palace's time zone.
    #[param(example = "2026-12-01")]
    pub date: NaiveDate,
}

/// Each slot of a venue's day with its free units.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityOut {
    pub venue_id: Uuid,
    pub date: NaiveDate,
    pub time_zone: String,
    pub units: u32,
    pub slot_minutes: u32,
    /// In time order; empty on a closed day.
    pub slots: Vec<SlotAvailability>,
}

/// A booking request: by a member for themselves, or by palace staff for a member
/// (`member_id`) or a guest (`guest_name`).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct BookingIn {
    pub venue_id: Uuid,
    /// On the venue's slot grid (RFC 3339, any offset).
    pub start: DateTime<Utc>,
    /// On the grid, after `start`.
    pub end: DateTime<Utc>,
    #[schema(minimum = 1, example = 1)]
    pub units: u32,
    /// Staff only: the member booked for.
    pub member_id: Option<Uuid>,
    /// Staff only: a guest's name, at venues that take guests.
    #[validate(
        length(min = 1, max = 50),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 50)]
    pub guest_name: Option<String>,
}

/// A booking. `status` is as of now: a booking not checked in by its end plus the
/// venue's grace is a `no_show`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingOut {
    pub id: Uuid,
    pub venue_id: Uuid,
    pub member_id: Option<Uuid>,
    pub guest_name: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The palace's local date of the start: the day the daily limits count it on.
    pub date: NaiveDate,
    pub units: u32,
    pub minutes: u32,
    pub price_fen: i64,
    pub status: BookingStatus,
    /// Shown only to the booking's member, only while the check-in window is open:
    /// six digits to give at the door (or to send to `…/check-in`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "042917")]
    pub check_in_code: Option<String>,
    /// When the member's check-in window opens (and the code appears).
    pub check_in_opens_at: DateTime<Utc>,
    /// After this, a booking still not checked in is a no-show.
    pub no_show_after: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Booking list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookingQuery {
    pub venue_id: Option<Uuid>,
    /// Staff: one member's bookings. (A member only ever sees their own.)
    pub member_id: Option<Uuid>,
    /// The palace's local date of the start.
    pub date: Option<NaiveDate>,
    /// As of now (`no_show` included).
    pub status: Option<BookingStatus>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// A check-in: members send the code their booking shows; staff send nothing (or `{}`).
#[derive(Debug, Default, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CheckInIn {
    #[validate(length(max = 20))]
    #[schema(max_length = 20, example = "042917")]
    pub code: Option<String>,
}

// ─── Helpers ────────────────────────────────────────────────────────────────

/// Where the caller manages palaces: palace staff and administrators.
fn manage_reach(principal: &Principal) -> Reach {
    principal.reach(|r| r.administers() || r == Role::PalaceStaff)
}

fn require_manager(principal: &Principal) -> ApiResult<Reach> {
    let reach = manage_reach(principal);
    if reach.is_empty() {
        return Err(ApiError::forbidden(
            "this action needs the palace_staff, union_admin or federation_admin role",
        ));
    }
    Ok(reach)
}

/// The caller's own membership, when the caller is a member account and no staff.
fn own_member(principal: &Principal, staff: &Reach) -> Option<MemberId> {
    principal.member_id.filter(|_| staff.is_empty())
}

/// A 404 for what the caller may not manage, as if it didn't exist.
fn managed(reach: &Reach, path: &OrgPath, what: &str) -> ApiResult<()> {
    if reach.covers(path) {
        Ok(())
    } else {
        Err(ApiError::not_found(what))
    }
}

fn found<T>(result: Result<T, StoreError>, what: &str) -> ApiResult<T> {
    match result {
        Err(StoreError::NotFound) => Err(ApiError::not_found(what)),
        other => Ok(other?),
    }
}

fn problems(list: Vec<FieldProblem>) -> ApiError {
    ApiError::validation(
        list.into_iter()
            .map(|p| {
                // The domain speaks of `for_guest`; the body names the guest.
                let pointer = if p.pointer == "/for_guest" {
                    "/guest_name".to_owned()
                } else {
                    p.pointer
                };
                FieldError::new(pointer, p.code, p.detail)
            })
            .collect(),
    )
}

fn time_zone(palace: &Palace) -> ApiResult<Tz> {
    check_time_zone(&palace.time_zone).map_err(|e| {
        tracing::error!(error = %e, palace = %palace.id, "stored palace time zone is unknown");
        ApiError::internal()
    })
}

fn terms(venue: &Venue, tz: Tz) -> VenueTerms {
    VenueTerms {
        units: venue.data.units,
        slot_minutes: venue.data.slot_minutes,
        time_zone: tz,
        opening_hours: venue.data.opening_hours.clone(),
        booking_rules: venue.data.booking_rules.clone(),
        member_price_fen: venue.data.member_price_fen,
        guest_price_fen: venue.data.guest_price_fen,
    }
}

fn check_terms(data: &VenueData, tz: Tz) -> ApiResult<()> {
    let t = VenueTerms {
        units: data.units,
        slot_minutes: data.slot_minutes,
        time_zone: tz,
        opening_hours: data.opening_hours.clone(),
        booking_rules: data.booking_rules.clone(),
        member_price_fen: data.member_price_fen,
        guest_price_fen: data.guest_price_fen,
    };
    t.validate().map_err(problems)
}

/// The member's check-in code for a booking: HMAC-SHA256 under the service's key of
/// the booking and its window, truncated to six digits.
fn check_in_code(pii: &PiiCipher, b: &Booking, rules: &BookingRules) -> Option<String> {
    let (opens, _) = check_in_window(b.start, b.end, rules, false);
    check_in_code_from_mac(&pii.check_in_mac(&check_in_code_message(b.id, opens)))
}

fn status_now(b: &Booking, now: DateTime<Utc>) -> BookingStatus {
    let grace = u32::try_from((b.no_show_after - b.end).num_minutes().max(0)).unwrap_or(0);
    effective_status(b.status, b.end, now, grace)
}

/// The booking as `viewer` sees it: the code only for its own member, while open.
fn booking_out(
    pii: &PiiCipher,
    b: Booking,
    rules: &BookingRules,
    viewer: Option<MemberId>,
    now: DateTime<Utc>,
) -> BookingOut {
    let status = status_now(&b, now);
    let code = (viewer.is_some() && viewer == b.member_id && status == BookingStatus::Booked)
        .then(|| may_check_in(now, b.start, b.end, rules, false).ok())
        .flatten()
        .and_then(|()| check_in_code(pii, &b, rules));
    BookingOut {
        id: b.id,
        venue_id: b.venue_id,
        member_id: b.member_id.map(|m| m.0),
        guest_name: b.guest_name,
        start: b.start,
        end: b.end,
        date: b.local_date,
        units: b.units,
        minutes: b.minutes,
        price_fen: b.price_fen,
        status,
        check_in_code: code,
        check_in_opens_at: check_in_window(b.start, b.end, rules, false).0,
        no_show_after: b.no_show_after,
        cancelled_at: b.cancelled_at,
        checked_in_at: b.checked_in_at,
        created_at: b.created_at,
        updated_at: b.updated_at,
    }
}

/// A booking the caller may see, with its venue and palace: the member's own, or one at
/// a palace the caller manages; anything else is a 404. Also says whether the caller
/// acts as staff.
async fn visible_booking(
    state: &State,
    principal: &Principal,
    id: Uuid,
) -> ApiResult<(Booking, Venue, Palace, bool)> {
    let staff = manage_reach(principal);
    let booking = found(repo::get_booking(&state.db, id).await, "booking")?;
    let (venue, palace) = repo::get_venue(&state.db, booking.venue_id).await?;
    let by_staff = staff.covers(&palace.org_path);
    let own = principal.member_id.is_some() && principal.member_id == booking.member_id;
    if !by_staff && !own {
        return Err(ApiError::not_found("booking"));
    }
    Ok((booking, venue, palace, by_staff))
}

fn not_booked(status: BookingStatus) -> ApiError {
    ApiError::conflict(
        format!("the booking is {status}; only a booked booking can change"),
        "status",
        None,
    )
}

// ─── Palaces ────────────────────────────────────────────────────────────────

/// Open a palace for a union in the caller's reach (palace staff of that union or
/// above, or its administrators).
#[utoipa::path(post, path = "/v1/palaces", tag = "palaces", request_body = PalaceIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = PalaceOut,
        headers(("Location" = String, description = "The new palace's URL")))))]
pub async fn create_palace(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<PalaceIn>,
) -> ApiResult<HttpResponse> {
    let reach = require_manager(&principal)?;
    let fingerprint = format!("POST /v1/palaces {}", body.digest);
    let input = body.value;
    let data = PalaceData {
        name: input.name.trim().to_owned(),
        address: input.address.trim().to_owned(),
        region_code: input.region_code,
        location: input.location.map(|l| (l.lat, l.lng)),
        contact_name: input.contact_name.map(|s| s.trim().to_owned()),
        contact_phone: input.contact_phone.map(|s| s.trim().to_owned()),
        photos: input.photos,
        time_zone: input
            .time_zone
            .unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned()),
    };
    let org_id = input.org_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            org_in_reach(txn, &reach, org_id, "/org_id").await?;
            let palace = repo::insert_palace(txn, OrgId(org_id), data).await?;
            Ok(Created {
                location: format!("/v1/palaces/{}", palace.id),
                body: PalaceOut::from(palace),
            })
        })
    })
    .await
}

/// List palaces (any signed-in caller): by region, or run by an organisation's subtree.
#[utoipa::path(get, path = "/v1/palaces", tag = "palaces", params(PalaceQuery),
    responses((status = 200, description = "A page of palaces", body = ListResponse<PalaceOut>)))]
pub async fn list_palaces(
    state: State,
    _principal: Principal,
    query: ValidQuery<PalaceQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let org_path = match q.org_id {
        Some(org) => Some(
            repo::org_path(&state.db, org)
                .await?
                .ok_or_else(|| ApiError::field("/org_id", "not_found", "no such organisation"))?,
        ),
        None => None,
    };
    let filter = PalaceFilter {
        region_code: q.region_code,
        org_path,
    };
    let page = repo::list_palaces(&state.db, &filter, page).await?;
    ListResponse::from_page(page, PalaceOut::from).respond()
}

/// Get a palace (any signed-in caller).
#[utoipa::path(get, path = "/v1/palaces/{id}", tag = "palaces",
    params(("id" = Uuid, Path, description = "Palace id")),
    responses((status = 200, description = "The palace", body = PalaceOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get_palace(
    state: State,
    _principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let palace = found(repo::get_palace(&state.db, *id).await, "palace")?;
    let version = palace.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(PalaceOut::from(palace)))
}

/// Change a palace the caller manages.
#[utoipa::path(patch, path = "/v1/palaces/{id}", tag = "palaces", request_body = PalacePatch,
    params(("id" = Uuid, Path, description = "Palace id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated palace", body = PalaceOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update_palace(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<PalacePatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = require_manager(&principal)?;
    let txn = db::begin_write(&state.db).await?;
    let current = found(repo::get_palace(&txn, *id).await, "palace")?;
    managed(&reach, &current.org_path, "palace")?;
    let expected = if_match.expect(current.version)?.unwrap_or(current.version);
    let p = body.value;
    let data = PalaceData {
        name: p.name.map_or(current.name, |s| s.trim().to_owned()),
        address: p.address.map_or(current.address, |s| s.trim().to_owned()),
        region_code: p.region_code.unwrap_or(current.region_code),
        location: p
            .location
            .map_or(current.location, |l| l.map(|l| (l.lat, l.lng))),
        contact_name: p.contact_name.unwrap_or(current.contact_name),
        contact_phone: p.contact_phone.unwrap_or(current.contact_phone),
        photos: p.photos.unwrap_or(current.photos),
        time_zone: p.time_zone.unwrap_or(current.time_zone),
    };
    let palace = repo::update_palace(&txn, current.id, expected, data).await?;
    txn.commit().await.map_err(StoreError::from)?;
    let version = palace.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(PalaceOut::from(palace)))
}

// ─── Venues ─────────────────────────────────────────────────────────────────

/// Add a venue to a palace the caller manages. Every problem with the hours, grid and
/// rules is listed with its pointer, and nothing is written.
#[utoipa::path(post, path = "/v1/palaces/{id}/venues", tag = "palaces", request_body = VenueIn,
    params(("id" = Uuid, Path, description = "Palace id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = VenueOut,
        headers(("Location" = String, description = "The new venue's URL")))))]
pub async fn create_venue(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ValidatedJson<VenueIn>,
) -> ApiResult<HttpResponse> {
    let reach = require_manager(&principal)?;
    let palace = found(repo::get_palace(&state.db, *id).await, "palace")?;
    managed(&reach, &palace.org_path, "palace")?;
    let tz = time_zone(&palace)?;
    let fingerprint = format!("POST /v1/palaces/{}/venues {}", palace.id, body.digest);
    let v = body.value;
    let data = VenueData {
        name: v.name.trim().to_owned(),
        kind: v.kind,
        units: v.units,
        slot_minutes: v.slot_minutes,
        opening_hours: v.opening_hours,
        booking_rules: v.booking_rules,
        member_price_fen: v.member_price_fen,
        guest_price_fen: v.guest_price_fen,
    };
    check_terms(&data, tz)?;
    let palace_id = palace.id;
    let zone = palace.time_zone.clone();
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let venue = repo::insert_venue(txn, palace_id, data).await?;
            Ok(Created {
                location: format!("/v1/venues/{}", venue.id),
                body: venue_out(venue, &zone),
            })
        })
    })
    .await
}

/// A palace's venues (any signed-in caller).
#[utoipa::path(get, path = "/v1/palaces/{id}/venues", tag = "palaces",
    params(("id" = Uuid, Path, description = "Palace id"), PageQuery),
    responses((status = 200, description = "A page of venues", body = ListResponse<VenueOut>)))]
pub async fn list_venues(
    state: State,
    _principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = page_request(&state.config, query.0.limit, query.0.cursor.as_deref())?;
    let palace = found(repo::get_palace(&state.db, *id).await, "palace")?;
    let page = repo::list_venues(&state.db, palace.id, page).await?;
    let zone = palace.time_zone;
    ListResponse::from_page(page, |v| venue_out(v, &zone)).respond()
}

/// Get a venue (any signed-in caller).
#[utoipa::path(get, path = "/v1/venues/{id}", tag = "palaces",
    params(("id" = Uuid, Path, description = "Venue id")),
    responses((status = 200, description = "The venue", body = VenueOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get_venue(
    state: State,
    _principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let (venue, palace) = found(repo::get_venue(&state.db, *id).await, "venue")?;
    let version = venue.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(venue_out(venue, &palace.time_zone)))
}

/// Change a venue of a palace the caller manages. The whole result is checked as on
/// creation. Bookings already made keep their units: capacity is held on a five-minute
/// grid, whatever the slot length.
#[utoipa::path(patch, path = "/v1/venues/{id}", tag = "palaces", request_body = VenuePatch,
    params(("id" = Uuid, Path, description = "Venue id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated venue", body = VenueOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update_venue(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<VenuePatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = require_manager(&principal)?;
    let txn = db::begin_write(&state.db).await?;
    let (current, palace) = found(repo::get_venue(&txn, *id).await, "venue")?;
    managed(&reach, &palace.org_path, "venue")?;
    let tz = time_zone(&palace)?;
    let p = body.value;
    let booking_rules = match p.booking_rules {
        None => current.data.booking_rules.clone(),
        Some(changes) => {
            let mut rules = match serde_json::to_value(&current.data.booking_rules) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => return Err(ApiError::internal()),
            };
            rules.extend(changes);
            serde_path_to_error::deserialize(serde_json::Value::Object(rules)).map_err(|e| {
                let mut error = crate::extract::shape_field_error(e, "unknown_field");
                error.pointer = format!("/booking_rules{}", error.pointer);
                ApiError::validation(vec![error])
            })?
        }
    };
    let data = VenueData {
        name: p.name.map_or(current.data.name, |s| s.trim().to_owned()),
        kind: p.kind.unwrap_or(current.data.kind),
        units: p.units.unwrap_or(current.data.units),
        slot_minutes: p.slot_minutes.unwrap_or(current.data.slot_minutes),
        opening_hours: p.opening_hours.unwrap_or(current.data.opening_hours),
        booking_rules,
        member_price_fen: p.member_price_fen.unwrap_or(current.data.member_price_fen),
        guest_price_fen: p.guest_price_fen.unwrap_or(current.data.guest_price_fen),
    };
    check_terms(&data, tz)?;
    let expected = if_match.expect(current.version)?.unwrap_or(current.version);
    let venue = repo::update_venue(&txn, current.id, expected, data).await?;
    txn.commit().await.map_err(StoreError::from)?;
    let version = venue.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(venue_out(venue, &palace.time_zone)))
}

// ─── Closures and availability ─────────────────────────────────────────────

/// Close a venue for a while (a blackout with a reason members are shown). Bookings
/// it overlaps stay as they are for staff to cancel; new ones are refused.
#[utoipa::path(post, path = "/v1/venues/{id}/closures", tag = "palaces", request_body = ClosureIn,
    params(("id" = Uuid, Path, description = "Venue id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = ClosureOut,
        headers(("Location" = String, description = "The venue's closures")))))]
pub async fn create_closure(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ValidatedJson<ClosureIn>,
) -> ApiResult<HttpResponse> {
    let reach = require_manager(&principal)?;
    let (venue, palace) = found(repo::get_venue(&state.db, *id).await, "venue")?;
    managed(&reach, &palace.org_path, "venue")?;
    let fingerprint = format!("POST /v1/venues/{}/closures {}", venue.id, body.digest);
    let c = Closure {
        start: body.value.start,
        end: body.value.end,
        reason: body.value.reason.trim().to_owned(),
    };
    c.validate().map_err(problems)?;
    let by = principal.user_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let closure = repo::insert_closure(txn, venue.id, c, by).await?;
            Ok(Created {
                location: format!("/v1/venues/{}/closures", venue.id),
                body: ClosureOut::from(closure),
            })
        })
    })
    .await
}

/// A venue's closures (any signed-in caller).
#[utoipa::path(get, path = "/v1/venues/{id}/closures", tag = "palaces",
    params(("id" = Uuid, Path, description = "Venue id"), ClosureQuery),
    responses((status = 200, description = "A page of closures", body = ListResponse<ClosureOut>)))]
pub async fn list_closures(
    state: State,
    _principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<ClosureQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let (venue, _) = found(repo::get_venue(&state.db, *id).await, "venue")?;
    let ending_after = q.upcoming.unwrap_or(false).then(Utc::now);
    let page = repo::list_closures(&state.db, venue.id, ending_after, page).await?;
    ListResponse::from_page(page, ClosureOut::from).respond()
}

/// Each slot of a venue's local day with its free units, honouring the opening hours,
/// closures (with their reasons) and bookings. Cheap enough to poll: the venue, the
/// day's closures and the day's bookings, three reads.
#[utoipa::path(get, path = "/v1/venues/{id}/availability", tag = "palaces",
    params(("id" = Uuid, Path, description = "Venue id"), AvailabilityQuery),
    responses((status = 200, description = "The day's slots", body = AvailabilityOut)))]
pub async fn availability_of(
    state: State,
    _principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<AvailabilityQuery>,
) -> ApiResult<HttpResponse> {
    let date = query.0.date;
    let (venue, palace) = found(repo::get_venue(&state.db, *id).await, "venue")?;
    let tz = time_zone(&palace)?;
    let (from, to) = day_bounds(date, tz)
        .ok_or_else(|| ApiError::field("/date", "out_of_range", "no such day"))?;
    let closures = repo::closures_between(&state.db, venue.id, from, to).await?;
    let booked = repo::booked_between(&state.db, venue.id, from, to).await?;
    let slots = terms(&venue, tz).slots_on(date, &closures);
    Ok(HttpResponse::Ok().json(AvailabilityOut {
        venue_id: venue.id,
        date,
        time_zone: palace.time_zone,
        units: venue.data.units,
        slot_minutes: venue.data.slot_minutes,
        slots: availability(&slots, &booked, venue.data.units),
    }))
}

// ─── Bookings ───────────────────────────────────────────────────────────────

/// Who a booking is for.
enum Booker {
    /// A member booking for themselves, or staff booking for a member.
    Member(MemberId),
    Guest(String),
}

/// Book a venue. A member books for themselves; palace staff (or administrators) of
/// the palace's union book for a member (`member_id`) or a guest (`guest_name`).
/// Every rule the request breaks is a 422 naming it; an active ban for no-shows is a
/// 403 `booking-ban` with `until`; a slot without room any more is a 409
/// `capacity_taken` naming it. Capacity is enforced in the database, so concurrent
/// requests for the last unit yield exactly one booking.
#[utoipa::path(post, path = "/v1/bookings", tag = "palaces", request_body = BookingIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Booked", body = BookingOut,
        headers(("Location" = String, description = "The booking's URL")))))]
pub async fn create_booking(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<BookingIn>,
) -> ApiResult<HttpResponse> {
    let staff = manage_reach(&principal);
    let fingerprint = format!("POST /v1/bookings {}", body.digest);
    let input = body.value;
    let own = own_member(&principal, &staff);
    let booker = match (own, input.member_id, input.guest_name) {
        (Some(_), _, Some(_)) => {
            return Err(ApiError::field(
                "/guest_name",
                "staff_only",
                "only palace staff book for guests",
            ));
        }
        (Some(own), Some(other), None) if other != own.0 => {
            return Err(ApiError::field(
                "/member_id",
                "own_only",
                "members book for themselves; leave member_id out",
            ));
        }
        (Some(own), _, None) => Booker::Member(own),
        (None, _, _) if staff.is_empty() => {
            return Err(ApiError::forbidden(
                "booking needs a member account, or the palace_staff, union_admin or \
                 federation_admin role",
            ));
        }
        (None, Some(member), None) => Booker::Member(MemberId(member)),
        (None, None, Some(guest)) => Booker::Guest(guest.trim().to_owned()),
        (None, Some(_), Some(_)) => {
            return Err(ApiError::field(
                "/guest_name",
                "one_of",
                "book for a member (member_id) or a guest (guest_name), not both",
            ));
        }
        (None, None, None) => {
            return Err(ApiError::field(
                "/member_id",
                "required",
                "staff book for a member (member_id) or a guest (guest_name)",
            ));
        }
    };
    let by_staff = own.is_none();
    let by = principal.user_id;
    let pii = state.pii.clone();
    let now = Utc::now();
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let (venue, palace) = match repo::get_venue(txn, input.venue_id).await {
                Err(StoreError::NotFound) => None,
                other => Some(other?),
            }
            .filter(|(_, palace)| !by_staff || staff.covers(&palace.org_path))
            .ok_or_else(|| ApiError::field("/venue_id", "not_found", "no such venue"))?;
            let tz = time_zone(&palace)?;
            let terms = terms(&venue, tz);
            let rules = &venue.data.booking_rules;
            let date = local_date(input.start, tz);

            let (member, union, context) = match &booker {
                Booker::Guest(_) => (None, None, BookerContext::default()),
                Booker::Member(id) => {
                    let member = match unionhall_persistence::members::get_own(txn, *id).await {
                        Err(StoreError::NotFound) => None,
                        other => Some(other?),
                    }
                    .ok_or_else(|| ApiError::field("/member_id", "not_found", "no such member"))?;
                    if member.status != MemberStatus::Active {
                        return Err(if by_staff {
                            ApiError::field(
                                "/member_id",
                                "not_active",
                                format!("the membership is {}", member.status.as_str()),
                            )
                        } else {
                            ApiError::forbidden("only active members may book")
                        });
                    }
                    // Bookings of this venue starting that day take turns from here, so
                    // the daily counts below see every booking committed before.
                    repo::lock_day(txn, venue.id, date).await?;
                    let minutes = repo::member_minutes_on(txn, venue.id, member.id, date).await?;
                    let units = repo::union_units_on(txn, venue.id, member.org_id, date).await?;
                    let ends = repo::no_show_ends(
                        txn,
                        venue.id,
                        member.id,
                        now - no_show_lookback(rules),
                        now,
                    )
                    .await?;
                    let context = BookerContext {
                        minutes_already_booked_by_member_that_day: minutes,
                        units_already_booked_by_union_that_day: units,
                        active_ban_until: ban_after(&ends, rules, now),
                    };
                    (Some(member.id), Some(member.org_id), context)
                }
            };
            let closures = if input.end > input.start {
                repo::closures_between(txn, venue.id, input.start, input.end).await?
            } else {
                Vec::new()
            };
            let request = BookingRequest {
                start: input.start,
                end: input.end,
                units: input.units,
                for_guest: matches!(booker, Booker::Guest(_)),
            };
            let quote = match check_booking_request(&terms, &closures, now, &request, &context) {
                Ok(quote) => quote,
                Err(BookingRefusal::Banned { until, detail }) => {
                    return Err(ApiError::booking_ban(detail, until));
                }
                Err(BookingRefusal::Invalid(list)) => return Err(problems(list)),
            };
            match repo::hold_capacity(
                txn,
                venue.id,
                input.start,
                input.end,
                input.units,
                venue.data.units,
            )
            .await
            {
                Ok(()) => {}
                Err(HoldError::Full { at }) => return Err(capacity_taken(&terms, at, input.units)),
                Err(HoldError::Store(e)) => return Err(e.into()),
            }
            let booking = repo::insert_booking(
                txn,
                NewBooking {
                    venue_id: venue.id,
                    member_id: member,
                    member_org_id: union,
                    guest_name: match &booker {
                        Booker::Guest(name) => Some(name.clone()),
                        Booker::Member(_) => None,
                    },
                    start: input.start,
                    end: input.end,
                    local_date: quote.date,
                    units: input.units,
                    minutes: quote.minutes,
                    price_fen: quote.price_fen,
                    grace_minutes: rules.no_show_grace_minutes,
                    created_by: by,
                },
            )
            .await?;
            Ok(Created {
                location: format!("/v1/bookings/{}", booking.id),
                body: booking_out(&pii, booking, rules, own, now),
            })
        })
    })
    .await
}

/// The 409 naming the slot that has no room left.
fn capacity_taken(terms: &VenueTerms, at: DateTime<Utc>, units: u32) -> ApiError {
    let tz = terms.time_zone;
    let date = local_date(at, tz);
    let slot = terms
        .slots_on(date, &[])
        .into_iter()
        .find(|s| s.start <= at && at < s.end);
    let (from, to) = match slot {
        Some(s) => (s.start, s.end),
        None => (at, at + TimeDelta::minutes(i64::from(terms.slot_minutes))),
    };
    ApiError::conflict(
        format!(
            "the {}–{} slot on {date} hasn't {units} unit(s) free any more: it was booked \
             meanwhile",
            from.with_timezone(&tz).format("%H:%M"),
            to.with_timezone(&tz).format("%H:%M"),
        ),
        "capacity_taken",
        None,
    )
}

/// Bookings: a member's own; staff's at the palaces they manage. Filter by venue,
/// member, local date and status (as of now, `no_show` included).
#[utoipa::path(get, path = "/v1/bookings", tag = "palaces", params(BookingQuery),
    responses((status = 200, description = "A page of bookings", body = ListResponse<BookingOut>)))]
pub async fn list_bookings(
    state: State,
    principal: Principal,
    query: ValidQuery<BookingQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let staff = manage_reach(&principal);
    let own = own_member(&principal, &staff);
    let scope = match own {
        Some(member) => BookingScope::Member(member),
        None if staff.is_empty() => {
            return Err(ApiError::forbidden(
                "bookings are for members and palace staff",
            ));
        }
        None => BookingScope::Staff(&staff),
    };
    let filter = BookingFilter {
        venue_id: q.venue_id,
        member_id: q.member_id.map(MemberId),
        date: q.date,
        status: q.status,
    };
    let now = Utc::now();
    let page = repo::list_bookings(&state.db, scope, &filter, now, page).await?;
    let mut rules: HashMap<Uuid, BookingRules> = HashMap::new();
    let mut items = Vec::with_capacity(page.items.len());
    for b in page.items {
        let r = match rules.get(&b.venue_id) {
            Some(r) => r.clone(),
            None => {
                let (venue, _) = repo::get_venue(&state.db, b.venue_id).await?;
                rules.insert(b.venue_id, venue.data.booking_rules.clone());
                venue.data.booking_rules
            }
        };
        items.push(booking_out(&state.pii, b, &r, own, now));
    }
    ListResponse {
        items,
        next_cursor: page.next_after.map(crate::pagination::encode_cursor),
    }
    .respond()
}

/// Get a booking: the member's own (with the check-in code while the window is open),
/// or one at a palace the caller manages.
#[utoipa::path(get, path = "/v1/bookings/{id}", tag = "palaces",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, description = "The booking", body = BookingOut)))]
pub async fn get_booking(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let (booking, venue, _, _) = visible_booking(&state, &principal, *id).await?;
    let out = booking_out(
        &state.pii,
        booking,
        &venue.data.booking_rules,
        principal.member_id,
        Utc::now(),
    );
    Ok(HttpResponse::Ok().json(out))
}

/// Cancel a booking: the member until the venue's deadline, staff any time. Its units
/// are free again at once. Only a `booked` booking can be cancelled (409 otherwise).
#[utoipa::path(post, path = "/v1/bookings/{id}/cancellation", tag = "palaces",
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, description = "The cancelled booking", body = BookingOut)))]
pub async fn cancel_booking(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let (booking, venue, _, by_staff) = visible_booking(&state, &principal, *id).await?;
    let rules = &venue.data.booking_rules;
    let now = Utc::now();
    let status = status_now(&booking, now);
    if status != BookingStatus::Booked {
        return Err(not_booked(status));
    }
    may_cancel(now, booking.start, rules, by_staff).map_err(|p| problems(vec![p]))?;
    let txn = db::begin_write(&state.db).await?;
    let cancelled = match repo::cancel_booking(&txn, &booking, principal.user_id, now).await {
        Err(StoreError::StaleVersion) => {
            let current = repo::get_booking(&txn, booking.id).await?;
            return Err(not_booked(status_now(&current, now)));
        }
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    let out = booking_out(&state.pii, cancelled, rules, principal.member_id, now);
    Ok(HttpResponse::Ok().json(out))
}

/// Check in: staff without a code (from the window's opening until the no-show
/// grace runs out), or the booking's member with the code their booking shows (from
/// the window's opening until the booking ends).
#[utoipa::path(post, path = "/v1/bookings/{id}/check-in", tag = "palaces",
    request_body(content = CheckInIn, description = "Members send their code; staff may send nothing"),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses((status = 200, description = "The checked-in booking", body = BookingOut)))]
pub async fn check_in(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let input: CheckInIn = if body.iter().all(u8::is_ascii_whitespace) {
        CheckInIn::default()
    } else {
        parse_json(&body)?.value
    };
    let (booking, venue, _, by_staff) = visible_booking(&state, &principal, *id).await?;
    let rules = &venue.data.booking_rules;
    let now = Utc::now();
    let status = status_now(&booking, now);
    if status != BookingStatus::Booked {
        return Err(not_booked(status));
    }
    may_check_in(now, booking.start, booking.end, rules, by_staff)
        .map_err(|p| problems(vec![p]))?;
    if !by_staff {
        let given = input.code.ok_or_else(|| {
            ApiError::field(
                "/code",
                "required",
                "send the check-in code your booking shows",
            )
        })?;
        let expected = check_in_code(&state.pii, &booking, rules).ok_or_else(ApiError::internal)?;
        if !check_in_codes_match(&expected, &given) {
            return Err(ApiError::field(
                "/code",
                "wrong_code",
                "that isn't this booking's check-in code",
            ));
        }
    }
    let txn = db::begin_write(&state.db).await?;
    let done = match repo::check_in_booking(&txn, &booking, principal.user_id, now).await {
        Err(StoreError::StaleVersion) => {
            let current = repo::get_booking(&txn, booking.id).await?;
            return Err(not_booked(status_now(&current, now)));
        }
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    let out = booking_out(&state.pii, done, rules, principal.member_id, now);
    Ok(HttpResponse::Ok().json(out))
}

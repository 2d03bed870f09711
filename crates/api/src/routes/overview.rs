//! The federation's figures for a subtree, on one page: members, insurance, palace
//! bookings, competitions, mediation and service stations.
//!
//! Every figure comes from the same storage function (or the same filter) as its
//! area's own endpoint, so the two never disagree: insurance from
//! `/v1/insurance/stats`'s, mediation from `/v1/mediation/stats`'s, stations from the
//! station totals; members, bookings and competition entries from aggregate queries
//! with the area lists' rules (`unionhall_persistence::overview`). "This year" and
//! "this month" are the organisation's own calendar (its time zone).

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::extract::ValidQuery;
use crate::routes::members::subtree_of;
use crate::state::State;
use actix_web::HttpResponse;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use unionhall_domain::mediation::percent_half_up;
use unionhall_domain::members::Occupation;
use unionhall_domain::orgs::{Reach, check_time_zone};
use unionhall_persistence::{insurance, mediation, overview as repo, stations};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// Which subtree.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// The organisation whose subtree is counted. Default: the one the caller
    /// administers (required when the caller administers several subtrees).
    pub org_id: Option<Uuid>,
}

/// A share with what it was computed from.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateOut {
    /// A percentage with two decimals, rounded half up; `null` when the denominator is 0.
    #[schema(example = "12.50")]
    pub percent: Option<String>,
    pub numerator: i64,
    pub denominator: i64,
}

impl RateOut {
    fn of(numerator: i64, denominator: i64) -> Self {
        RateOut {
            percent: percent_half_up(numerator, denominator),
            numerator,
            denominator,
        }
    }
}

/// Active members in one occupation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccupationCountOut {
    pub occupation: Occupation,
    pub members: i64,
}

/// Active members of the subtree (as `GET /v1/members?org_id=&status=active` lists them).
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberFiguresOut {
    pub total: i64,
    /// Every occupation, in the spec's order, with 0 where there are none.
    pub by_occupation: Vec<OccupationCountOut>,
    /// Working through a platform (`employment_form = gig`).
    pub gig: i64,
    /// Gig members ÷ all active members.
    pub gig_share: RateOut,
    /// Active members who joined this year.
    pub new_this_year: i64,
}

/// Mutual-aid insurance of the subtree's members (as `GET /v1/insurance/stats`).
#[derive(Debug, Serialize, ToSchema)]
pub struct InsuranceFiguresOut {
    /// Members with at least one enrollment.
    pub covered_members: i64,
    pub enrollments: i64,
    pub premiums_fen: i64,
    /// Paid out on claims.
    pub paid_fen: i64,
}

/// Bookings this month at the subtree's palaces, cancellations left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingFiguresOut {
    /// Booked, checked in or no-show, by the palace's local date.
    pub this_month: i64,
    pub checked_in: i64,
    /// Booked, never checked in, and past the no-show grace.
    pub no_shows: i64,
    /// No-shows ÷ (checked in + no-shows): of the bookings that are over.
    pub no_show_rate: RateOut,
}

/// Competition entries by the subtree's members.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitionFiguresOut {
    /// Registrations, in every competition.
    pub registrations: i64,
    /// The distinct members who registered.
    pub participants: i64,
}

/// Labour-dispute cases received this year by the subtree's mediation rooms (as
/// `GET /v1/mediation/stats?from=<1 January>`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MediationFiguresOut {
    pub accepted: i64,
    pub closed: i64,
    pub agreements: i64,
    pub withdrawn: i64,
    /// Agreements ÷ (closed − withdrawn).
    pub success_rate: RateOut,
}

/// The subtree's outdoor-worker service stations.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationFiguresOut {
    /// Whatever their status.
    pub stations: u64,
    pub open: u64,
    /// Check-ins recorded this month.
    pub visits_this_month: u64,
}

/// A subtree's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverviewOut {
    pub org_id: Uuid,
    pub org_name: String,
    pub as_of: DateTime<Utc>,
    /// The organisation's calendar year of "this year".
    #[schema(example = 2026)]
    pub year: i32,
    /// The first day of "this month".
    pub month_starts: NaiveDate,
    pub members: MemberFiguresOut,
    pub insurance: InsuranceFiguresOut,
    pub bookings: BookingFiguresOut,
    pub competitions: CompetitionFiguresOut,
    pub mediation: MediationFiguresOut,
    pub stations: StationFiguresOut,
}

/// The figures of a subtree (its administrators): members by occupation with the gig
/// share and this year's new members, insurance cover and payouts, this month's
/// bookings and no-show rate, competition participants, this year's mediation success
/// rate, and the service stations with this month's visits. Each agrees with its
/// area's own endpoint for the same subtree.
#[utoipa::path(get, path = "/v1/stats/overview", tag = "stats",
    params(OverviewQuery),
    responses((status = 200, description = "The subtree's figures", body = OverviewOut)))]
pub async fn overview(
    state: State,
    principal: Principal,
    query: ValidQuery<OverviewQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let org = subtree_of(&state.db, &reach, query.0.org_id).await?;
    let subtree = Reach::over(vec![org.path.clone()]);
    let now = Utc::now();
    let tz = check_time_zone(&org.time_zone).unwrap_or(chrono_tz::Asia::Shanghai);
    let today = now.with_timezone(&tz).date_naive();
    let year_starts = today.with_ordinal(1).unwrap_or(today);
    let (month_starts, next_month) = unionhall_domain::stations::month_of(today);

    let db = &state.db;
    let members = repo::members(db, &subtree, year_starts).await?;
    let insured = insurance::stats(db, &subtree, None).await?;
    let booked = repo::bookings(db, &subtree, month_starts, next_month, now).await?;
    let entered = repo::competitions(db, &subtree).await?;
    let cases = mediation::stats(
        db,
        &subtree,
        mediation::Period {
            from: Some(year_starts),
            to: None,
        },
    )
    .await?
    .total;
    let stationed = stations::totals_in_reach(db, &subtree, month_starts, next_month).await?;

    Ok(HttpResponse::Ok().json(OverviewOut {
        org_id: org.id.0,
        org_name: org.name,
        as_of: now,
        year: today.year(),
        month_starts,
        members: MemberFiguresOut {
            total: members.total,
            by_occupation: members
                .by_occupation
                .into_iter()
                .map(|(occupation, members)| OccupationCountOut {
                    occupation,
                    members,
                })
                .collect(),
            gig: members.gig,
            gig_share: RateOut::of(members.gig, members.total),
            new_this_year: members.joined_since,
        },
        insurance: InsuranceFiguresOut {
            covered_members: insured.enrolled_members,
            enrollments: insured.enrollments,
            premiums_fen: insured.premiums_fen,
            paid_fen: insured.paid_fen,
        },
        bookings: BookingFiguresOut {
            this_month: booked.bookings,
            checked_in: booked.checked_in,
            no_shows: booked.no_shows,
            no_show_rate: RateOut::of(booked.no_shows, booked.checked_in + booked.no_shows),
        },
        competitions: CompetitionFiguresOut {
            registrations: entered.registrations,
            participants: entered.participants,
        },
        mediation: MediationFiguresOut {
            accepted: cases.accepted,
            closed: cases.closed,
            agreements: cases.agreements,
            withdrawn: cases.withdrawn,
            success_rate: {
                let rate = cases.success_rate();
                RateOut {
                    percent: rate.percent,
                    numerator: rate.numerator,
                    denominator: rate.denominator,
                }
            },
        },
        stations: StationFiguresOut {
            stations: stationed.stations,
            open: stationed.open,
            visits_this_month: stationed.visits,
        },
    }))
}

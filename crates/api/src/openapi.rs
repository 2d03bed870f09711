//! The OpenAPI 3.1 document: every path and schema from the handlers' annotations,
//! the bearer scheme, and the problem responses declared once in `components` and
//! attached to each operation by rule (secured → 401/403, path id → 404, body → 400/
//! 413/415/422, PATCH → 412, …) so no handler repeats them.

use crate::error::{Problem, ProblemKind};
use crate::routes::competitions;
use crate::routes::insurance;
use crate::routes::join_applications;
use crate::routes::mediation;
use crate::routes::overview;
use crate::routes::palaces;
use crate::routes::platforms;
use crate::routes::stations;
use crate::routes::{auth, health, me, members, orgs, problems, users};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToSchema};

/// `Idempotency-Key` on creating requests.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Retry-safe creation: the first response to this key is stored for 24 h and
    /// replayed; the same key with a different body is a 422.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]{1,255}$"
    )]
    #[allow(dead_code)]
    idempotency_key: Option<String>,
}

/// `If-Match` on updates.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The `ETag` from the last read; a stale one is a 412.
    #[param(rename = "If-Match", max_length = 256)]
    #[allow(dead_code)]
    if_match: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "UnionHall API",
        description = "The service behind a provincial trade-union federation: organisations, staff, members, \
            rider rosters, mutual-aid insurance, palace bookings, competitions, mediation and service stations. \
            Every error is `application/problem+json` (RFC 9457).",
        version = env!("CARGO_PKG_VERSION"),
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        health::healthz, health::readyz, health::metrics, problems::describe,
        auth::token, auth::revoke, me::me,
        orgs::create, orgs::list, orgs::get, orgs::update,
        users::create, users::list, users::get, users::update,
        members::create, members::list, members::get, members::update,
        members::transfer, members::withdraw, members::lapse, members::reinstate,
        members::history, members::reveal, members::audit_events,
        me::member, members::set_account,
        join_applications::submit, join_applications::list, join_applications::get,
        join_applications::approve, join_applications::reject,
        platforms::create, platforms::list, platforms::get, platforms::put_roster,
        platforms::post_changes, platforms::get_sync, platforms::riders,
        insurance::create_plan, insurance::list_plans, insurance::get_plan, insurance::update_plan,
        insurance::enroll_members, insurance::list_enrollments, insurance::get_enrollment,
        insurance::create_claim, insurance::list_claims, insurance::get_claim,
        insurance::update_claim, insurance::start_review, insurance::decide, insurance::pay,
        insurance::stats,
        palaces::create_palace, palaces::list_palaces, palaces::get_palace, palaces::update_palace,
        palaces::create_venue, palaces::list_venues, palaces::get_venue, palaces::update_venue,
        palaces::create_closure, palaces::list_closures, palaces::availability_of,
        palaces::create_booking, palaces::list_bookings, palaces::get_booking,
        palaces::cancel_booking, palaces::check_in,
        competitions::create_competition, competitions::list_competitions,
        competitions::get_competition, competitions::update_competition,
        competitions::register, competitions::list_registrations, competitions::withdraw,
        competitions::create_question, competitions::list_questions,
        competitions::start_attempt, competitions::get_attempt, competitions::save_answers,
        competitions::submit, competitions::leaderboard,
        competitions::assign_judge, competitions::list_judges,
        competitions::score, competitions::list_scores,
        competitions::publish_results, competitions::get_results,
        stations::create_station, stations::list_stations, stations::get_station,
        stations::update_station, stations::check_in, stations::list_visits,
        competitions::my_results, competitions::my_certificates,
        overview::overview,
        mediation::create_case, mediation::list_cases, mediation::get_case,
        mediation::update_case, mediation::assign, mediation::record_outcome,
        mediation::reveal, mediation::stats,
    ),
    components(schemas(Problem)),
    modifiers(&Conventions),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Tokens and the caller"),
        (name = "orgs", description = "The organisation tree"),
        (name = "users", description = "Staff accounts and roles"),
        (name = "members", description = "Members: enrolment, lifecycle, history and audited reveal of personal data"),
        (name = "audit", description = "The audit trail of personal-data reveals"),
        (name = "join-applications", description = "Applications to join a union: self-service or on someone's behalf, approval and rejection"),
        (name = "platforms", description = "Delivery platforms and their rider rosters"),
        (name = "insurance", description = "Mutual-aid insurance: plans, enrollments (individual and group), claims with explained payouts, review, payment and stats"),
        (name = "palaces", description = "Workers' cultural palaces: venues, opening hours, closures, availability, and bookings that never double-book"),
        (name = "competitions", description = "Skills contests, speech contests and knowledge quizzes: lifecycle, windows, and registrations the database keeps to one per member and within capacity"),
        (name = "mediation", description = "Labour-dispute mediation rooms: cases, mediators, outcomes, the fifteen-day rule after which the parties may go to arbitration, audited reveal of the worker's personal data, and the success rate"),
        (name = "stations", description = "Outdoor-worker service stations: amenities, weekly hours in the operator's time zone, a public nearest-first search (WGS-84 or GCJ-02), and anonymous daily check-in counts"),
        (name = "stats", description = "The federation's figures for a subtree: members, insurance, bookings, competitions, mediation and stations, each agreeing with its area's endpoint"),
        (name = "operations", description = "Health, readiness, metrics, problem types"),
    ),
)]
pub struct ApiDoc;

/// The spec as pretty JSON with a trailing newline: what `openapi/openapi.json` holds.
pub fn spec_json() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

struct Conventions;

fn response_name(kind: ProblemKind) -> String {
    let (slug, ..) = kind.describe();
    let mut name = String::from("Problem");
    for part in slug.split('-') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

fn add(op: &mut Operation, kind: ProblemKind) {
    let status = kind.describe().2.as_u16().to_string();
    op.responses
        .responses
        .entry(status)
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(response_name(kind))));
}

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /v1/auth/token"))
                    .build(),
            ),
        );
        for kind in ProblemKind::ALL {
            let (_, title, _, description) = kind.describe();
            let mut response = ResponseBuilder::new()
                .description(format!("{title}: {description}"))
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Problem::schema()))
                        .build(),
                );
            if kind == ProblemKind::TooManyRequests {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(u64::schema()))
                        .description(Some("Seconds to wait"))
                        .build(),
                );
            }
            if kind == ProblemKind::MethodNotAllowed {
                response = response.header(
                    "Allow",
                    HeaderBuilder::new()
                        .schema(Some(String::schema()))
                        .description(Some("Supported methods"))
                        .build(),
                );
            }
            components
                .responses
                .insert(response_name(kind), RefOr::T(response.build()));
        }
        let _ = Problem::name();

        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                (&mut item.get, "get"),
                (&mut item.post, "post"),
                (&mut item.put, "put"),
                (&mut item.patch, "patch"),
                (&mut item.delete, "delete"),
            ];
            for (op, method) in ops {
                let Some(op) = op.as_mut() else { continue };
                // Handler names repeat across areas (`list`, `create`…); prefix the tag so
                // every operationId is unique, as OpenAPI requires and client generators need.
                if let (Some(tag), Some(id)) = (
                    op.tags.as_ref().and_then(|t| t.first()),
                    op.operation_id.as_ref(),
                ) {
                    op.operation_id = Some(format!("{}_{}", tag.replace('-', "_"), id));
                }
                let public = op.security.as_ref().is_some_and(|reqs| {
                    reqs.iter().all(|r| {
                        serde_json::to_value(r)
                            .is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
                    })
                });
                let params = op.parameters.clone().unwrap_or_default();
                let has = |place: ParameterIn| {
                    params
                        .iter()
                        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
                };
                add(op, ProblemKind::Internal);
                add(op, ProblemKind::Unavailable);
                if !public {
                    add(op, ProblemKind::Unauthenticated);
                    add(op, ProblemKind::Forbidden);
                }
                if has(ParameterIn::Path) {
                    add(op, ProblemKind::NotFound);
                }
                if has(ParameterIn::Query) || has(ParameterIn::Header) {
                    add(op, ProblemKind::Validation);
                }
                if op.request_body.is_some() {
                    for kind in [
                        ProblemKind::MalformedRequest,
                        ProblemKind::PayloadTooLarge,
                        ProblemKind::UnsupportedMediaType,
                        ProblemKind::Validation,
                    ] {
                        add(op, kind);
                    }
                }
                if matches!(method, "post" | "patch") && !public {
                    add(op, ProblemKind::Conflict);
                }
                if method == "patch" {
                    add(op, ProblemKind::PreconditionFailed);
                }
                if path == "/v1/join-applications" && method == "post" {
                    add(op, ProblemKind::TooManyRequests);
                }
                if path == "/v1/auth/token" {
                    add(op, ProblemKind::InvalidGrant);
                    add(op, ProblemKind::TooManyRequests);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_unique() {
        let spec = ApiDoc::openapi();
        let mut seen = std::collections::HashSet::new();
        for (path, item) in &spec.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(
                    seen.insert(id.clone()),
                    "operationId {id} repeats (at {path})"
                );
            }
        }
    }

    #[test]
    fn response_names_are_pascal_case() {
        assert_eq!(
            response_name(ProblemKind::PreconditionFailed),
            "ProblemPreconditionFailed"
        );
        assert_eq!(response_name(ProblemKind::NotFound), "ProblemNotFound");
    }
}

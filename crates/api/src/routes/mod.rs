//! Every route, one module per area. `configure` is the whole URL map.

pub mod auth;
pub mod competitions;
pub mod health;
pub mod insurance;
pub mod join_applications;
pub mod me;
pub mod mediation;
pub mod members;
pub mod orgs;
pub mod overview;
pub mod palaces;
pub mod platforms;
pub mod problems;
pub mod stations;
pub mod users;

use crate::error::ApiError;
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Resource, Responder, web};

/// One path and the methods it answers. Any other method gets a 405 problem with an
/// `Allow` header listing these.
pub struct Endpoint {
    resource: Resource,
    allow: Vec<&'static str>,
}

impl Endpoint {
    /// Starts an endpoint at `path`.
    pub fn at(path: &str) -> Self {
        Endpoint {
            resource: web::resource(path),
            allow: Vec::new(),
        }
    }

    fn on<F, Args>(mut self, method: Method, name: &'static str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.allow.push(name);
        self.resource = self.resource.route(web::method(method).to(handler));
        self
    }

    /// GET, and HEAD with it (RFC 9110 §9.3.2: the same answer without a body, which
    /// actix leaves off for HEAD).
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::GET, "GET", handler.clone())
            .on(Method::HEAD, "HEAD", handler)
    }

    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::POST, "POST", handler)
    }

    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::PUT, "PUT", handler)
    }

    pub fn patch<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::PATCH, "PATCH", handler)
    }

    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::DELETE, "DELETE", handler)
    }

    /// The finished resource.
    pub fn build(self) -> Resource {
        let allow = self.allow.join(", ");
        self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { Err::<actix_web::HttpResponse, _>(ApiError::method_not_allowed(&allow)) }
        }))
    }
}

/// The URL map. Each area's endpoints sit under one scope: routing (and finding the
/// route pattern that the metrics and the request log name) compares an area's prefix
/// as a string before trying its own patterns, where a flat list made every request
/// try, as a regex, each pattern registered before its own.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::at("/healthz").get(health::healthz).build());
    cfg.service(Endpoint::at("/readyz").get(health::readyz).build());
    cfg.service(Endpoint::at("/metrics").get(health::metrics).build());
    cfg.service(
        web::scope("/problems").service(Endpoint::at("/{slug}").get(problems::describe).build()),
    );
    cfg.service(
        Endpoint::at("/v1/audit-events")
            .get(members::audit_events)
            .build(),
    );
    cfg.service(
        Endpoint::at("/v1/stats/overview")
            .get(overview::overview)
            .build(),
    );
    cfg.service(
        web::scope("/v1/auth")
            .service(Endpoint::at("/token").post(auth::token).build())
            .service(Endpoint::at("/revoke").post(auth::revoke).build()),
    );
    cfg.service(
        web::scope("/v1/me")
            .service(Endpoint::at("").get(me::me).build())
            .service(Endpoint::at("/member").get(me::member).build())
            .service(
                Endpoint::at("/competition-results")
                    .get(competitions::my_results)
                    .build(),
            )
            .service(
                Endpoint::at("/certificates")
                    .get(competitions::my_certificates)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/orgs")
            .service(Endpoint::at("").get(orgs::list).post(orgs::create).build())
            .service(
                Endpoint::at("/{id}")
                    .get(orgs::get)
                    .patch(orgs::update)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/users")
            .service(
                Endpoint::at("")
                    .get(users::list)
                    .post(users::create)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}")
                    .get(users::get)
                    .patch(users::update)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/members")
            .service(
                Endpoint::at("")
                    .get(members::list)
                    .post(members::create)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}")
                    .get(members::get)
                    .patch(members::update)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/transfer")
                    .post(members::transfer)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/withdrawal")
                    .post(members::withdraw)
                    .build(),
            )
            .service(Endpoint::at("/{id}/lapse").post(members::lapse).build())
            .service(
                Endpoint::at("/{id}/reinstatement")
                    .post(members::reinstate)
                    .build(),
            )
            .service(Endpoint::at("/{id}/history").get(members::history).build())
            .service(Endpoint::at("/{id}/reveal").post(members::reveal).build())
            .service(
                Endpoint::at("/{id}/account")
                    .post(members::set_account)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/join-applications")
            .service(
                Endpoint::at("")
                    .get(join_applications::list)
                    .post(join_applications::submit)
                    .build(),
            )
            .service(Endpoint::at("/{id}").get(join_applications::get).build())
            .service(
                Endpoint::at("/{id}/approval")
                    .post(join_applications::approve)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/rejection")
                    .post(join_applications::reject)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/platforms")
            .service(
                Endpoint::at("")
                    .get(platforms::list)
                    .post(platforms::create)
                    .build(),
            )
            .service(Endpoint::at("/{code}").get(platforms::get).build())
            .service(
                Endpoint::at("/{code}/roster")
                    .put(platforms::put_roster)
                    .build(),
            )
            .service(
                Endpoint::at("/{code}/roster/changes")
                    .post(platforms::post_changes)
                    .build(),
            )
            .service(
                Endpoint::at("/{code}/roster/syncs/{sync_id}")
                    .get(platforms::get_sync)
                    .build(),
            )
            .service(
                Endpoint::at("/{code}/riders")
                    .get(platforms::riders)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/insurance")
            .service(
                Endpoint::at("/plans")
                    .get(insurance::list_plans)
                    .post(insurance::create_plan)
                    .build(),
            )
            .service(
                Endpoint::at("/plans/{id}")
                    .get(insurance::get_plan)
                    .patch(insurance::update_plan)
                    .build(),
            )
            .service(
                Endpoint::at("/enrollments")
                    .get(insurance::list_enrollments)
                    .post(insurance::enroll_members)
                    .build(),
            )
            .service(
                Endpoint::at("/enrollments/{id}")
                    .get(insurance::get_enrollment)
                    .build(),
            )
            .service(
                Endpoint::at("/claims")
                    .get(insurance::list_claims)
                    .post(insurance::create_claim)
                    .build(),
            )
            .service(
                Endpoint::at("/claims/{id}")
                    .get(insurance::get_claim)
                    .patch(insurance::update_claim)
                    .build(),
            )
            .service(
                Endpoint::at("/claims/{id}/review")
                    .post(insurance::start_review)
                    .build(),
            )
            .service(
                Endpoint::at("/claims/{id}/decision")
                    .post(insurance::decide)
                    .build(),
            )
            .service(
                Endpoint::at("/claims/{id}/payment")
                    .post(insurance::pay)
                    .build(),
            )
            .service(Endpoint::at("/stats").get(insurance::stats).build()),
    );
    cfg.service(
        web::scope("/v1/palaces")
            .service(
                Endpoint::at("")
                    .get(palaces::list_palaces)
                    .post(palaces::create_palace)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}")
                    .get(palaces::get_palace)
                    .patch(palaces::update_palace)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/venues")
                    .get(palaces::list_venues)
                    .post(palaces::create_venue)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/venues")
            .service(
                Endpoint::at("/{id}")
                    .get(palaces::get_venue)
                    .patch(palaces::update_venue)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/closures")
                    .get(palaces::list_closures)
                    .post(palaces::create_closure)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/availability")
                    .get(palaces::availability_of)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/bookings")
            .service(
                Endpoint::at("")
                    .get(palaces::list_bookings)
                    .post(palaces::create_booking)
                    .build(),
            )
            .service(Endpoint::at("/{id}").get(palaces::get_booking).build())
            .service(
                Endpoint::at("/{id}/cancellation")
                    .post(palaces::cancel_booking)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/check-in")
                    .post(palaces::check_in)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/competitions")
            .service(
                Endpoint::at("")
                    .get(competitions::list_competitions)
                    .post(competitions::create_competition)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}")
                    .get(competitions::get_competition)
                    .patch(competitions::update_competition)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/registrations")
                    .get(competitions::list_registrations)
                    .post(competitions::register)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/registrations/{rid}")
                    .delete(competitions::withdraw)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/questions")
                    .get(competitions::list_questions)
                    .post(competitions::create_question)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/attempts")
                    .post(competitions::start_attempt)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/leaderboard")
                    .get(competitions::leaderboard)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/judges")
                    .get(competitions::list_judges)
                    .post(competitions::assign_judge)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/scores")
                    .get(competitions::list_scores)
                    .post(competitions::score)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/results")
                    .get(competitions::get_results)
                    .post(competitions::publish_results)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/attempts")
            .service(Endpoint::at("/{id}").get(competitions::get_attempt).build())
            .service(
                Endpoint::at("/{id}/answers")
                    .put(competitions::save_answers)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/submission")
                    .post(competitions::submit)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/stations")
            .service(
                Endpoint::at("")
                    .get(stations::list_stations)
                    .post(stations::create_station)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}")
                    .get(stations::get_station)
                    .patch(stations::update_station)
                    .build(),
            )
            .service(
                Endpoint::at("/{id}/visits")
                    .get(stations::list_visits)
                    .post(stations::check_in)
                    .build(),
            ),
    );
    cfg.service(
        web::scope("/v1/mediation")
            .service(
                Endpoint::at("/cases")
                    .get(mediation::list_cases)
                    .post(mediation::create_case)
                    .build(),
            )
            .service(
                Endpoint::at("/cases/{id}")
                    .get(mediation::get_case)
                    .patch(mediation::update_case)
                    .build(),
            )
            .service(
                Endpoint::at("/cases/{id}/assignment")
                    .post(mediation::assign)
                    .build(),
            )
            .service(
                Endpoint::at("/cases/{id}/outcome")
                    .post(mediation::record_outcome)
                    .build(),
            )
            .service(
                Endpoint::at("/cases/{id}/reveal")
                    .post(mediation::reveal)
                    .build(),
            )
            .service(Endpoint::at("/stats").get(mediation::stats).build()),
    );
}

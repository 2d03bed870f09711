//! sea-orm models, one per table, deliberately dull: the queries with intent live in
//! the repository modules beside this folder, and nothing here is ever serialised.

pub mod audit_events;
pub mod booking_cells;
pub mod booking_days;
pub mod bookings;
pub mod competition_judges;
pub mod competition_registrations;
pub mod competition_results;
pub mod competitions;
pub mod idempotency_keys;
pub mod insurance_claim_events;
pub mod insurance_claims;
pub mod insurance_enrollments;
pub mod insurance_plans;
pub mod join_applications;
pub mod judge_score_history;
pub mod judge_scores;
pub mod login_failures;
pub mod mediation_assignments;
pub mod mediation_cases;
pub mod member_events;
pub mod members;
pub mod orgs;
pub mod palaces;
pub mod platforms;
pub mod quiz_attempts;
pub mod quiz_questions;
pub mod refresh_tokens;
pub mod riders;
pub mod role_bindings;
pub mod roster_syncs;
pub mod station_visits;
pub mod stations;
pub mod users;
pub mod venue_closures;
pub mod venues;

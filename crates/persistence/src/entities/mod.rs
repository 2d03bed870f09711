//! sea-orm models, one per table, deliberately dull: the queries with intent live in
//! the repository modules beside this folder, and nothing here is ever serialised.

pub mod audit_events;
pub mod idempotency_keys;
pub mod login_failures;
pub mod member_events;
pub mod members;
pub mod orgs;
pub mod refresh_tokens;
pub mod role_bindings;
pub mod users;

//! UnionHall's rules, with no I/O: what a union officer would recognise.
//!
//! Everything here is plain data and pure functions, so it is cheap to test
//! exhaustively and can't reach a database or an HTTP request by accident
//! (CI asserts this crate depends on neither sea-orm nor actix).

pub mod competitions;
mod gb2260_2016;
pub mod geo;
pub mod ids;
pub mod insurance;
pub mod mediation;
pub mod members;
pub mod orgs;
pub mod palaces;
pub mod person;
pub mod roles;
pub mod roster;
pub mod stations;
pub mod users;

pub use ids::{MemberId, OrgId, UserId};

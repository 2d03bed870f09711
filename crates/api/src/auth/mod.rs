//! Authentication: access tokens (JWT), passwords (argon2id), and the `Principal`
//! extractor every protected handler takes.

pub mod callers;
pub mod jwt;
pub mod password;
pub mod principal;
pub mod secrets;

pub use jwt::{AccessClaims, Keys};
pub use principal::Principal;

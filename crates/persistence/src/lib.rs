//! UnionHall's storage: sea-orm entities and one repository module per area.
//!
//! Repository functions take `&impl ConnectionTrait`, so they work on the pool or inside
//! a transaction; they return domain types, scope reads to what the caller may see
//! (a [`Reach`](unionhall_domain::orgs::Reach)), and turn constraint violations into
//! [`StoreError`] variants rather than strings.

pub mod audit;
pub mod competitions;
pub mod db;
pub mod entities;
pub mod error;
pub mod idempotency;
pub mod insurance;
pub mod join_applications;
pub mod mediation;
pub mod members;
pub mod orgs;
pub mod overview;
pub mod page;
pub mod palaces;
pub mod platforms;
pub mod rows;
pub mod stations;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use db::{Db, connect, connect_lazy, migrate};
pub use error::StoreError;
pub use page::{Page, PageRequest};
pub use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait,
};

//! UnionHall's HTTP API: actix-web handlers, authentication, the OpenAPI document,
//! configuration, and start-up. The `unionhall` binary (`main.rs`) is a thin CLI over
//! this library, and the black-box tests start the same server.

pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod json;
pub mod malloc;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod page_cache;
pub mod pagination;
pub mod pii;
pub mod request_context;
pub mod routes;
pub mod server;
pub mod state;
pub mod validate;

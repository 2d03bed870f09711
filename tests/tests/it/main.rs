//! The black-box suite, one binary (one link) with a module per area. Every test
//! starts its own app with its own database; see `unionhall_tests::TestApp`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod competitions;
mod conventions;
mod crash;
mod insurance;
mod join_applications;
mod mediation;
mod members;
mod openapi;
mod orgs_users;
mod overview;
mod palaces;
mod platforms;
mod rows;
mod startup;
mod stations;

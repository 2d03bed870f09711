//! UnionHall's schema, one file per change, applied in order by `unionhall migrate`
//! and (unless disabled) at `serve` start.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_members;
mod m20261129_000003_join_applications;
mod m20261129_000004_platforms;
mod m20261129_000005_insurance;
mod m20261129_000006_palaces;
mod m20261129_000007_competitions;
mod m20261130_000008_mediation;
mod m20261130_000009_stations;
mod m20261130_000010_org_tree_version;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_members::Migration),
            Box::new(m20261129_000003_join_applications::Migration),
            Box::new(m20261129_000004_platforms::Migration),
            Box::new(m20261129_000005_insurance::Migration),
            Box::new(m20261129_000006_palaces::Migration),
            Box::new(m20261129_000007_competitions::Migration),
            Box::new(m20261130_000008_mediation::Migration),
            Box::new(m20261130_000009_stations::Migration),
            Box::new(m20261130_000010_org_tree_version::Migration),
        ]
    }
}

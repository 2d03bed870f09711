use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_cells")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub venue_id: Uuid,
    /// Unix seconds, a multiple of 300.
    #[sea_orm(primary_key, auto_increment = false)]
    pub cell_start: i64,
    pub booked_units: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

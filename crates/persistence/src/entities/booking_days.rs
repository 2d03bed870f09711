use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub venue_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub local_date: Date,
    pub bookings: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

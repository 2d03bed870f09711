use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "station_visits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub station_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub local_date: Date,
    pub visits: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::stations::Entity",
        from = "Column::StationId",
        to = "super::stations::Column::Id"
    )]
    Station,
}

impl Related<super::stations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Station.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "venues")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub palace_id: Uuid,
    pub name: String,
    pub kind: String,
    pub units: i32,
    pub slot_minutes: i32,
    /// JSON, as `OpeningHours` serialises.
    pub opening_hours: String,
    /// JSON, as `BookingRules` serialises.
    pub booking_rules: String,
    pub member_price_fen: i64,
    pub guest_price_fen: i64,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::palaces::Entity",
        from = "Column::PalaceId",
        to = "super::palaces::Column::Id"
    )]
    Palace,
}

impl Related<super::palaces::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Palace.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

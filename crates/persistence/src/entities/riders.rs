use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "riders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub platform_id: Uuid,
    pub external_id: String,
    pub name: String,
    pub id_number_enc: String,
    pub id_number_hash: String,
    pub phone_enc: String,
    pub phone_hash: String,
    pub region_code: String,
    pub started_on: Option<Date>,
    pub consent_to_join: bool,
    pub status: String,
    pub member_id: Option<Uuid>,
    pub content_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

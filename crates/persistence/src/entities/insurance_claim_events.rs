use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "insurance_claim_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub claim_id: Uuid,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub amount_fen: Option<i64>,
    pub actor_user_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "join_applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub gender: String,
    pub birth_date: Date,
    pub id_number_enc: String,
    pub id_number_hash: String,
    pub phone_enc: String,
    pub phone_hash: String,
    pub employer: Option<String>,
    pub occupation: String,
    pub employment_form: String,
    pub password_hash: Option<String>,
    pub secret_hash: String,
    pub status: String,
    pub reason: Option<String>,
    pub submitted_by_user_id: Option<Uuid>,
    pub decided_by_user_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::orgs::Entity",
        from = "Column::OrgId",
        to = "super::orgs::Column::Id"
    )]
    Org,
}

impl Related<super::orgs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Org.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

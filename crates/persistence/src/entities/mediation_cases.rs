use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mediation_cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// A copy of the room organisation's path (organisations never move).
    pub org_path: String,
    pub reference: Option<String>,
    pub worker_name: String,
    /// Sealed by the API layer, with its keyed hash beside it.
    pub worker_id_number_enc: String,
    pub worker_id_number_hash: String,
    pub worker_phone_enc: Option<String>,
    pub worker_phone_hash: Option<String>,
    pub worker_member_id: Option<Uuid>,
    pub employer_name: String,
    pub category: String,
    pub claimed_fen: i64,
    pub channel: String,
    pub received_on: Date,
    pub status: String,
    pub outcome: Option<String>,
    pub agreed_fen: Option<i64>,
    pub outcome_note: Option<String>,
    pub closed_on: Option<Date>,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by_user_id: Option<Uuid>,
    pub created_by_user_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::orgs::Entity",
        from = "Column::OrgId",
        to = "super::orgs::Column::Id"
    )]
    Org,
    #[sea_orm(has_many = "super::mediation_assignments::Entity")]
    Assignments,
}

impl Related<super::orgs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Org.def()
    }
}

impl Related<super::mediation_assignments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assignments.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "competitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub category: Option<String>,
    pub kind: String,
    pub status: String,
    pub registration_opens: DateTimeUtc,
    pub registration_closes: DateTimeUtc,
    pub run_starts: DateTimeUtc,
    pub run_ends: DateTimeUtc,
    pub capacity: Option<i64>,
    /// Registrations held; raised only by a conditional update that respects
    /// `capacity`.
    pub registered: i64,
    /// JSON: the entrant eligibility filter.
    pub eligibility: String,
    /// JSON: the judged criteria.
    pub criteria: String,
    pub scoring_method: String,
    pub rank_kind: String,
    /// JSON: the tie-break chain.
    pub tie_breaks: String,
    pub time_limit_seconds: Option<i32>,
    pub exclude_own_union_judges: bool,
    pub created_by: Uuid,
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
}

impl Related<super::orgs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Org.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

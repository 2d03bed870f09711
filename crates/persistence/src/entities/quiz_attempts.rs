use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quiz_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub competition_id: Uuid,
    pub member_id: Uuid,
    pub started_at: DateTimeUtc,
    /// JSON: question id → keys chosen on this attempt's paper (saved progress, then
    /// what was submitted).
    pub answers: String,
    pub submitted_at: Option<DateTimeUtc>,
    pub score: Option<i64>,
    pub max_score: Option<i64>,
    pub correct_count: Option<i32>,
    pub answered_count: Option<i32>,
    pub time_taken_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::competitions::Entity",
        from = "Column::CompetitionId",
        to = "super::competitions::Column::Id"
    )]
    Competition,
}

impl Related<super::competitions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Competition.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

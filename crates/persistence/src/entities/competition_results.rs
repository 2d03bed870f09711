use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "competition_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub competition_id: Uuid,
    /// The registration (judged contests) or attempt (quizzes) ranked.
    pub entrant_id: Uuid,
    pub member_id: Uuid,
    /// 0-based place in rank order; the results' paging key.
    pub position: i64,
    pub rank: i64,
    /// Ten-thousandths of a point, frozen at publication.
    pub score: i64,
    pub prize_tier: Option<String>,
    pub honour_title: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

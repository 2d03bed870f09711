use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "insurance_enrollments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub member_id: Uuid,
    pub shares: i32,
    pub paid_by: String,
    pub premium_fen: i64,
    pub coverage_fen: i64,
    pub committed_fen: i64,
    pub cover_start: Date,
    pub first_enrollment: bool,
    pub enrolled_by_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::members::Entity",
        from = "Column::MemberId",
        to = "super::members::Column::Id"
    )]
    Member,
    #[sea_orm(
        belongs_to = "super::insurance_plans::Entity",
        from = "Column::PlanId",
        to = "super::insurance_plans::Column::Id"
    )]
    Plan,
}

impl ActiveModelBehavior for ActiveModel {}

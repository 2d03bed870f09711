use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "insurance_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub enrollment_id: Uuid,
    pub plan_id: Uuid,
    pub member_id: Uuid,
    pub kind: String,
    pub incident_date: Date,
    pub hospital_days: Option<i32>,
    pub expenses_fen: Option<i64>,
    /// Sealed by the API layer (health data).
    pub diagnosis_enc: Option<String>,
    pub disability_grade: Option<i32>,
    /// JSON text: an array of strings.
    pub documents: String,
    pub status: String,
    pub computed_fen: i64,
    /// JSON text: the payout with its explanation lines.
    pub payout: String,
    pub approved_fen: Option<i64>,
    pub payment_reference: Option<String>,
    pub filed_by_user_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::members::Entity",
        from = "Column::MemberId",
        to = "super::members::Column::Id"
    )]
    Member,
}

impl ActiveModelBehavior for ActiveModel {}

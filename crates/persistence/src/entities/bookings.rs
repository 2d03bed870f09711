use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub venue_id: Uuid,
    pub member_id: Option<Uuid>,
    /// The member's union when booked: what the union daily limit counts by.
    pub member_org_id: Option<Uuid>,
    pub guest_name: Option<String>,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    /// The palace's local date of `start_at`.
    pub local_date: Date,
    pub units: i32,
    pub minutes: i32,
    pub price_fen: i64,
    pub status: String,
    /// `end_at` plus the venue's grace when booked: a `booked` booking is a no-show after it.
    pub no_show_after: DateTimeUtc,
    pub created_by: Uuid,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<Uuid>,
    pub checked_in_at: Option<DateTimeUtc>,
    pub checked_in_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::venues::Entity",
        from = "Column::VenueId",
        to = "super::venues::Column::Id"
    )]
    Venue,
}

impl Related<super::venues::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Venue.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
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
    pub card_no: String,
    pub status: String,
    pub joined_on: Date,
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

/// Read by position, in field order (the order `Entity::find()` selects them).
impl crate::rows::FromColumns for Model {
    const COLUMNS: usize = 18;

    fn from_columns(c: &mut crate::rows::Columns<'_>) -> Result<Self, crate::StoreError> {
        Ok(Model {
            id: c.read()?,
            org_id: c.read()?,
            name: c.read()?,
            gender: c.read()?,
            birth_date: c.read()?,
            id_number_enc: c.read()?,
            id_number_hash: c.read()?,
            phone_enc: c.read()?,
            phone_hash: c.read()?,
            employer: c.read()?,
            occupation: c.read()?,
            employment_form: c.read()?,
            card_no: c.read()?,
            status: c.read()?,
            joined_on: c.read()?,
            version: c.read()?,
            created_at: c.read()?,
            updated_at: c.read()?,
        })
    }
}

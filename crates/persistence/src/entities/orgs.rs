use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orgs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub code: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub path: String,
    pub depth: i32,
    pub region_code: Option<String>,
    pub time_zone: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Read by position, in field order (the order `Entity::find()` selects them).
impl crate::rows::FromColumns for Model {
    const COLUMNS: usize = 12;

    fn from_columns(c: &mut crate::rows::Columns<'_>) -> Result<Self, crate::StoreError> {
        Ok(Model {
            id: c.read()?,
            name: c.read()?,
            code: c.read()?,
            kind: c.read()?,
            parent_id: c.read()?,
            path: c.read()?,
            depth: c.read()?,
            region_code: c.read()?,
            time_zone: c.read()?,
            version: c.read()?,
            created_at: c.read()?,
            updated_at: c.read()?,
        })
    }
}

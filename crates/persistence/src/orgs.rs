//! The organisation tree: create, read and list within a caller's reach.

use crate::db::Db;
use crate::entities::orgs;
use crate::rows;
use crate::{Page, PageRequest, StoreError};
use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use unionhall_domain::OrgId;
use unionhall_domain::orgs::{Org, OrgKind, OrgPath, Reach};
use uuid::Uuid;

/// The SQL condition "this path column is inside `reach`": one index range per subtree.
/// An empty reach matches nothing.
pub fn reach_condition(
    path_column: impl Into<sea_orm::sea_query::ColumnRef> + Clone,
    reach: &Reach,
) -> Condition {
    let col = path_column.into();
    reach
        .roots()
        .iter()
        .fold(Condition::any().add(Expr::val(1).eq(0)), |any, root| {
            any.add(
                Condition::all()
                    .add(Expr::col(col.clone()).gte(root.as_str()))
                    .add(Expr::col(col.clone()).lt(root.upper_bound())),
            )
        })
}

fn to_domain(m: orgs::Model) -> Result<Org, StoreError> {
    let kind = m.kind.parse::<OrgKind>().map_err(|()| {
        StoreError::Db(sea_orm::DbErr::Type(format!("unknown org kind {}", m.kind)))
    })?;
    Ok(Org {
        id: OrgId(m.id),
        name: m.name,
        code: m.code,
        kind,
        parent_id: m.parent_id.map(OrgId),
        path: OrgPath::from_stored(m.path),
        region_code: m.region_code,
        time_zone: m.time_zone,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// What a new organisation is made of; the path and depth follow from the parent.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: String,
    pub code: String,
    pub kind: OrgKind,
    pub region_code: Option<String>,
    pub time_zone: String,
}

/// Inserts an organisation under `parent` (or as the root when `None`). A taken code is
/// `Conflict` on `code`, and the surrounding transaction stays usable.
pub async fn insert(
    db: &impl TransactionTrait,
    parent: Option<&Org>,
    new: NewOrg,
) -> Result<Org, StoreError> {
    let id = OrgId::new();
    let path = match parent {
        Some(p) => p.path.child(id),
        None => OrgPath::root(id),
    };
    let now = Utc::now();
    let model = orgs::ActiveModel {
        id: Set(id.0),
        name: Set(new.name),
        code: Set(new.code),
        kind: Set(new.kind.as_str().to_owned()),
        parent_id: Set(parent.map(|p| p.id.0)),
        depth: Set(i32::try_from(path.depth()).unwrap_or(i32::MAX)),
        path: Set(path.as_str().to_owned()),
        region_code: Set(new.region_code),
        time_zone: Set(new.time_zone),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    to_domain(crate::db::insert_in_savepoint(db, model).await?)
}

/// The root organisation, if the tree has one yet.
pub async fn find_root(db: &impl ConnectionTrait) -> Result<Option<Org>, StoreError> {
    orgs::Entity::find()
        .filter(orgs::Column::ParentId.is_null())
        .order_by_asc(orgs::Column::Id)
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// Finds by code, unscoped: for the CLI, which acts as the operator.
pub async fn find_by_code_unscoped(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<Org>, StoreError> {
    orgs::Entity::find()
        .filter(orgs::Column::Code.eq(code))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// Finds by id, only if it is in `reach`; anything else is `NotFound`.
pub async fn get(db: &impl ConnectionTrait, reach: &Reach, id: Uuid) -> Result<Org, StoreError> {
    orgs::Entity::find_by_id(id)
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Finds several by id, only those in `reach`.
pub async fn get_many(
    db: &impl ConnectionTrait,
    reach: &Reach,
    ids: &[Uuid],
) -> Result<Vec<Org>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    orgs::Entity::find()
        .filter(orgs::Column::Id.is_in(ids.iter().copied()))
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// List filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OrgFilter {
    pub parent_id: Option<Uuid>,
    pub kind: Option<OrgKind>,
    /// Matches name or code.
    pub q: Option<String>,
    pub region_code: Option<String>,
}

/// Lists organisations in `reach`, in creation order.
pub async fn list(
    db: &Db,
    reach: &Reach,
    filter: &OrgFilter,
    page: PageRequest,
) -> Result<Page<Org>, StoreError> {
    let mut query =
        orgs::Entity::find().filter(reach_condition((orgs::Entity, orgs::Column::Path), reach));
    if let Some(parent) = filter.parent_id {
        query = query.filter(orgs::Column::ParentId.eq(parent));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(orgs::Column::Kind.eq(kind.as_str()));
    }
    if let Some(region) = &filter.region_code {
        query = query.filter(orgs::Column::RegionCode.eq(region.as_str()));
    }
    if let Some(q) = &filter.q {
        let pattern = format!("%{}%", escape_like(q));
        query = query.filter(
            Condition::any()
                .add(
                    Expr::col(orgs::Column::Name)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                )
                .add(
                    Expr::col(orgs::Column::Code)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(orgs::Column::Id.gt(after));
    }
    let query = query.order_by_asc(orgs::Column::Id).limit(page.limit + 1);
    let rows = rows::fetch_all::<orgs::Model>(db, &query)
        .await?
        .into_iter()
        .map(to_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |o| o.id.0))
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The changeable attributes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgChanges {
    pub name: Option<String>,
    pub region_code: Option<Option<String>>,
    pub time_zone: Option<String>,
}

impl OrgChanges {
    /// Whether applying these would change nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.region_code.is_none() && self.time_zone.is_none()
    }
}

/// Applies changes if the row is still at `expected_version` (when given), bumping the
/// version. A lost race is `StaleVersion`, never a silent overwrite.
pub async fn update(
    db: &impl ConnectionTrait,
    current: &Org,
    expected_version: Option<i32>,
    changes: OrgChanges,
) -> Result<Org, StoreError> {
    let version = expected_version.unwrap_or(current.version);
    if changes.is_empty() {
        // Nothing to change: don't bump the version (it would invalidate others' ETags).
        return if version == current.version {
            Ok(current.clone())
        } else {
            Err(StoreError::StaleVersion)
        };
    }
    let mut update = orgs::Entity::update_many()
        .col_expr(orgs::Column::Version, Expr::value(version + 1))
        .col_expr(orgs::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(orgs::Column::Id.eq(current.id.0))
        .filter(orgs::Column::Version.eq(version));
    if let Some(name) = changes.name {
        update = update.col_expr(orgs::Column::Name, Expr::value(name));
    }
    if let Some(region) = changes.region_code {
        update = update.col_expr(orgs::Column::RegionCode, Expr::value(region));
    }
    if let Some(tz) = changes.time_zone {
        update = update.col_expr(orgs::Column::TimeZone, Expr::value(tz));
    }
    let result = update.exec(db).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    orgs::Entity::find_by_id(current.id.0)
        .one(db)
        .await?
        .map(to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// How many organisations exist: for start-up decisions (is this a fresh database?).
pub async fn count_all(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(orgs::Entity::find().count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escaping() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("南昌"), "南昌");
    }
}

//! Login accounts and their role bindings.

use crate::db::Db;
use crate::entities::{orgs, role_bindings, users};
use crate::orgs::{escape_like, reach_condition};
use crate::rows::{self, Columns, FromColumns};
use crate::{Page, PageRequest, StoreError};
use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select, Set,
};
use std::collections::HashMap;
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::roles::Role;
use unionhall_domain::users::{Caller, RoleBinding, User};
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

fn parse_role(s: &str) -> Result<Role, StoreError> {
    s.parse()
        .map_err(|()| StoreError::Db(sea_orm::DbErr::Type(format!("unknown role {s}"))))
}

fn to_domain(m: users::Model, roles: Vec<RoleBinding>) -> User {
    User {
        id: UserId(m.id),
        username: m.username,
        display_name: m.display_name,
        org_id: OrgId(m.org_id),
        disabled: m.disabled,
        roles,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// Loads the role bindings of several users in one query.
async fn bindings_of(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<RoleBinding>>, StoreError> {
    let mut out: HashMap<Uuid, Vec<RoleBinding>> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(out);
    }
    let rows = role_bindings::Entity::find()
        .filter(role_bindings::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_asc(role_bindings::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        out.entry(row.user_id).or_default().push(RoleBinding {
            role: parse_role(&row.role)?,
            org_id: OrgId(row.org_id),
        });
    }
    Ok(out)
}

async fn replace_bindings(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    roles: &[RoleBinding],
) -> Result<(), StoreError> {
    role_bindings::Entity::delete_many()
        .filter(role_bindings::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let now = Utc::now();
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<role_bindings::ActiveModel> = roles
        .iter()
        .filter(|b| seen.insert(**b))
        .map(|b| role_bindings::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            role: Set(b.role.as_str().to_owned()),
            org_id: Set(b.org_id.0),
            created_at: Set(now),
        })
        .collect();
    if !rows.is_empty() {
        role_bindings::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

/// A new account; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub org_id: OrgId,
    pub roles: Vec<RoleBinding>,
}

/// Inserts an account with its roles. A taken username is `Conflict` on `username`.
pub async fn insert(db: &impl ConnectionTrait, new: NewUser) -> Result<User, StoreError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let model = users::ActiveModel {
        id: Set(id),
        username: Set(new.username),
        password_hash: Set(new.password_hash),
        display_name: Set(new.display_name),
        org_id: Set(new.org_id.0),
        disabled: Set(false),
        member_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    replace_bindings(db, id, &new.roles).await?;
    let roles = bindings_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(to_domain(model, roles))
}

/// Login material: the account and its password hash, by username. Unscoped: the
/// caller is not yet known.
pub async fn credentials(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<(UserId, String, bool)>, StoreError> {
    Ok(users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(db)
        .await?
        .map(|u| (UserId(u.id), u.password_hash, u.disabled)))
}

#[derive(Debug, FromQueryResult)]
struct CallerRow {
    user_id: Uuid,
    username: String,
    display_name: String,
    user_org_id: Uuid,
    disabled: bool,
    member_id: Option<Uuid>,
    role: Option<String>,
    org_id: Option<Uuid>,
    path: Option<String>,
    tree_version: i64,
}

/// Read by position, in the order `caller_select` lists the columns.
impl FromColumns for CallerRow {
    const COLUMNS: usize = 10;

    fn from_columns(c: &mut Columns<'_>) -> Result<Self, StoreError> {
        Ok(CallerRow {
            user_id: c.read()?,
            username: c.read()?,
            display_name: c.read()?,
            user_org_id: c.read()?,
            disabled: c.read()?,
            member_id: c.read()?,
            role: c.read()?,
            org_id: c.read()?,
            path: c.read()?,
            tree_version: c.read()?,
        })
    }
}

/// The accounts `user_ids`, one row per role binding (or one with no role).
fn caller_select(user_ids: &[UserId]) -> Select<users::Entity> {
    users::Entity::find()
        .select_only()
        .column_as(users::Column::Id, "user_id")
        .column(users::Column::Username)
        .column(users::Column::DisplayName)
        .column_as(users::Column::OrgId, "user_org_id")
        .column(users::Column::Disabled)
        .column(users::Column::MemberId)
        .column_as(role_bindings::Column::Role, "role")
        .column_as(role_bindings::Column::OrgId, "org_id")
        .column_as(orgs::Column::Path, "path")
        // The organisation tree's version as of this read (see the `org_tree` migration):
        // pages built from the tree stay valid while it is the same.
        .column_as(
            Expr::cust(r#"(SELECT "version" FROM "org_tree" WHERE "id" = 1)"#),
            "tree_version",
        )
        .join(JoinType::LeftJoin, users::Relation::RoleBindings.def())
        .join(JoinType::LeftJoin, role_bindings::Relation::Org.def())
        .filter(users::Column::Id.is_in(user_ids.iter().map(|u| u.0)))
}

/// The callers behind tokens, each with every role and the path of its
/// organisation, in one query however many are asked for (the request batcher in
/// the API asks for all the requests waiting at once, for every request the service
/// serves, so the rows are read by position: see `rows`). Accounts that no longer
/// exist are absent from the map.
pub async fn callers(db: &Db, user_ids: &[UserId]) -> Result<HashMap<UserId, Caller>, StoreError> {
    group_callers(rows::fetch_all(db, &caller_select(user_ids)).await?)
}

fn group_callers(rows: Vec<CallerRow>) -> Result<HashMap<UserId, Caller>, StoreError> {
    let mut callers: HashMap<UserId, Caller> = HashMap::with_capacity(rows.len());
    for row in rows {
        let user_id = UserId(row.user_id);
        let caller = callers.entry(user_id).or_insert_with(|| Caller {
            user_id,
            username: row.username,
            display_name: row.display_name,
            org_id: OrgId(row.user_org_id),
            disabled: row.disabled,
            bindings: Vec::new(),
            member_id: row.member_id.map(MemberId),
            tree_version: row.tree_version,
        });
        if let (Some(role), Some(org_id), Some(path)) = (row.role, row.org_id, row.path) {
            caller.bindings.push((
                parse_role(&role)?,
                OrgId(org_id),
                OrgPath::from_stored(path),
            ));
        }
    }
    Ok(callers)
}

/// One caller; `None` when the account no longer exists. Runs on any connection (a
/// transaction too).
pub async fn caller(
    db: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<Option<Caller>, StoreError> {
    let rows = caller_select(&[user_id])
        .into_model::<CallerRow>()
        .all(db)
        .await?;
    Ok(group_callers(rows)?.remove(&user_id))
}

/// A staff account whose organisation is in `reach`; anything else (member accounts
/// included) is `NotFound`.
pub async fn get(db: &impl ConnectionTrait, reach: &Reach, id: Uuid) -> Result<User, StoreError> {
    let model = users::Entity::find_by_id(id)
        .filter(users::Column::MemberId.is_null())
        .join(JoinType::InnerJoin, users::Relation::Org.def())
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let roles = bindings_of(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(to_domain(model, roles))
}

/// An account by id, unscoped: for `/me`, where the caller reads their own record.
pub async fn get_self(db: &impl ConnectionTrait, id: UserId) -> Result<User, StoreError> {
    let model = users::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let roles = bindings_of(db, &[id.0])
        .await?
        .remove(&id.0)
        .unwrap_or_default();
    Ok(to_domain(model, roles))
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub org_id: Option<Uuid>,
    pub disabled: Option<bool>,
    /// Matches username or display name.
    pub q: Option<String>,
}

/// Lists staff accounts whose organisation is in `reach`, in creation order (member
/// accounts are managed through their membership, not here).
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Page<User>, StoreError> {
    let mut query = users::Entity::find()
        .filter(users::Column::MemberId.is_null())
        .join(JoinType::InnerJoin, users::Relation::Org.def())
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach));
    if let Some(org) = filter.org_id {
        query = query.filter(users::Column::OrgId.eq(org));
    }
    if let Some(disabled) = filter.disabled {
        query = query.filter(users::Column::Disabled.eq(disabled));
    }
    if let Some(q) = &filter.q {
        let pattern = format!("%{}%", escape_like(q));
        query = query.filter(
            Condition::any()
                .add(
                    Expr::col((users::Entity, users::Column::Username))
                        .like(LikeExpr::new(&pattern).escape('\\')),
                )
                .add(
                    Expr::col((users::Entity, users::Column::DisplayName))
                        .like(LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(users::Column::Id.gt(after));
    }
    let models = query
        .order_by_asc(users::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut roles = bindings_of(db, &ids).await?;
    let users = models
        .into_iter()
        .map(|m| {
            let r = roles.remove(&m.id).unwrap_or_default();
            to_domain(m, r)
        })
        .collect();
    Ok(Page::from_rows(users, page.limit, |u: &User| u.id.0))
}

/// The changeable attributes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    pub roles: Option<Vec<RoleBinding>>,
}

impl UserChanges {
    /// Whether applying these would change nothing.
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none()
            && self.disabled.is_none()
            && self.password_hash.is_none()
            && self.roles.is_none()
    }
}

/// Applies changes if the row is still at `expected_version` (when given). Disabling an
/// account also revokes its refresh tokens, so it can't mint new access tokens.
pub async fn update(
    db: &impl ConnectionTrait,
    current: &User,
    expected_version: Option<i32>,
    changes: UserChanges,
) -> Result<User, StoreError> {
    let version = expected_version.unwrap_or(current.version);
    let revokes_tokens = changes.disabled == Some(true) || changes.password_hash.is_some();
    if changes.is_empty() {
        // Nothing to change: don't bump the version (it would invalidate others' ETags).
        return if version == current.version {
            Ok(current.clone())
        } else {
            Err(StoreError::StaleVersion)
        };
    }
    let mut update = users::Entity::update_many()
        .col_expr(users::Column::Version, Expr::value(version + 1))
        .col_expr(users::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(users::Column::Id.eq(current.id.0))
        .filter(users::Column::Version.eq(version));
    if let Some(name) = changes.display_name {
        update = update.col_expr(users::Column::DisplayName, Expr::value(name));
    }
    if let Some(disabled) = changes.disabled {
        update = update.col_expr(users::Column::Disabled, Expr::value(disabled));
    }
    if let Some(hash) = changes.password_hash {
        update = update.col_expr(users::Column::PasswordHash, Expr::value(hash));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    if let Some(roles) = &changes.roles {
        replace_bindings(db, current.id.0, roles).await?;
    }
    // A disabled account, or one whose password was reset (perhaps because it leaked),
    // must not keep minting access tokens from refresh tokens issued before.
    if revokes_tokens {
        crate::tokens::revoke_all_for_user(db, current.id).await?;
    }
    get_self(db, current.id).await
}

/// A member's login account, as `set_member_account` left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAccount {
    pub user_id: UserId,
    pub username: String,
    pub member_id: MemberId,
    /// Whether the account was created (rather than its password reset).
    pub created: bool,
}

/// Creates the login account of a membership (username = the card number, no roles),
/// or, when it has one, sets its password, re-enables it and revokes its refresh
/// tokens. A username already taken by another account is `Conflict` on `username`;
/// a concurrent creation for the same membership is `Conflict` on `member_id`.
pub async fn set_member_account(
    db: &impl ConnectionTrait,
    member: MemberId,
    org_id: OrgId,
    card_no: &str,
    display_name: &str,
    password_hash: String,
) -> Result<MemberAccount, StoreError> {
    let now = Utc::now();
    let existing = users::Entity::find()
        .filter(users::Column::MemberId.eq(member.0))
        .one(db)
        .await?;
    if let Some(user) = existing {
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(users::Column::Disabled, Expr::value(false))
            .col_expr(users::Column::Version, Expr::value(user.version + 1))
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(user.id))
            .exec(db)
            .await?;
        crate::tokens::revoke_all_for_user(db, UserId(user.id)).await?;
        return Ok(MemberAccount {
            user_id: UserId(user.id),
            username: user.username,
            member_id: member,
            created: false,
        });
    }
    let id = Uuid::now_v7();
    users::ActiveModel {
        id: Set(id),
        username: Set(card_no.to_owned()),
        password_hash: Set(password_hash),
        display_name: Set(display_name.to_owned()),
        org_id: Set(org_id.0),
        disabled: Set(false),
        member_id: Set(Some(member.0)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(MemberAccount {
        user_id: UserId(id),
        username: card_no.to_owned(),
        member_id: member,
        created: true,
    })
}

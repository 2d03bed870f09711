//! Staff accounts and their role bindings, managed by admins within their subtree.

use crate::auth::{Principal, password};
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, with_etag};
use crate::idempotency::{self, Created};
use crate::pagination::{ListResponse, page_request};
use crate::state::State;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unionhall_domain::OrgId;
use unionhall_domain::orgs::Reach;
use unionhall_domain::roles::Role;
use unionhall_domain::users::{RoleBinding, User};
use unionhall_persistence::users::{self as repo, NewUser, UserChanges, UserFilter};
use unionhall_persistence::{ConnectionTrait, orgs};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// A role held at an organisation (its subtree is where the role applies).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct RoleBindingDto {
    pub role: Role,
    pub org_id: Uuid,
}

impl From<RoleBinding> for RoleBindingDto {
    fn from(b: RoleBinding) -> Self {
        RoleBindingDto {
            role: b.role,
            org_id: b.org_id.0,
        }
    }
}

/// A staff account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: Uuid,
    #[schema(example = "ja-admin")]
    pub username: String,
    #[schema(example = "吉安市总工会管理员")]
    pub display_name: String,
    /// The organisation the account belongs to.
    pub org_id: Uuid,
    /// Disabled accounts can't log in, and their tokens stop working.
    pub disabled: bool,
    pub roles: Vec<RoleBindingDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            id: u.id.0,
            username: u.username,
            display_name: u.display_name,
            org_id: u.org_id.0,
            disabled: u.disabled,
            roles: u.roles.into_iter().map(RoleBindingDto::from).collect(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A new staff account.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    /// 3–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
    #[validate(custom(function = "crate::validate::username"))]
    #[schema(
        min_length = 3,
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9._-]{2,63}$",
        example = "ja-admin"
    )]
    pub username: String,
    /// 10–128 characters.
    #[validate(custom(function = "crate::validate::password"))]
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: String,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: String,
    /// The organisation the account belongs to; must be in the caller's reach.
    pub org_id: Uuid,
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub roles: Vec<RoleBindingDto>,
}

/// Changes to an account; absent fields stay as they are. `roles`, when present,
/// replaces the account's roles.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    #[validate(custom(function = "crate::validate::password"))]
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: Option<String>,
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub roles: Option<Vec<RoleBindingDto>>,
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Accounts belonging to this organisation.
    pub org_id: Option<Uuid>,
    pub disabled: Option<bool>,
    /// Matches username or display name.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Checks that the caller may grant (or take away) each binding: its organisation must
/// be in reach (else it is "not found" at `pointer`), and the caller's own role there
/// must allow granting that role (else 403).
async fn check_grants(
    db: &impl ConnectionTrait,
    principal: &Principal,
    reach: &Reach,
    bindings: &[(String, RoleBinding)],
) -> ApiResult<()> {
    let ids: Vec<Uuid> = bindings.iter().map(|(_, b)| b.org_id.0).collect();
    let found = orgs::get_many(db, reach, &ids).await?;
    for (pointer, binding) in bindings {
        let org = found
            .iter()
            .find(|o| o.id == binding.org_id)
            .ok_or_else(|| {
                ApiError::field(pointer, "not_found", "no such organisation in your reach")
            })?;
        if !principal.may_grant(binding.role, &org.path) {
            return Err(ApiError::forbidden(format!(
                "you may not grant or remove {} at {}",
                binding.role.as_str(),
                org.code
            )));
        }
    }
    Ok(())
}

/// Fails with 403 unless the caller may grant every role `target` holds.
async fn check_dominates(
    db: &impl ConnectionTrait,
    principal: &Principal,
    reach: &Reach,
    target: &User,
) -> ApiResult<()> {
    let ids: Vec<Uuid> = target.roles.iter().map(|b| b.org_id.0).collect();
    let found = orgs::get_many(db, reach, &ids).await?;
    let dominated = target.roles.iter().all(|b| {
        found
            .iter()
            .find(|o| o.id == b.org_id)
            .is_some_and(|o| principal.may_grant(b.role, &o.path))
    });
    if dominated {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "this account holds roles you may not grant, so you may not manage it",
        ))
    }
}

fn bindings_of(roles: &[RoleBindingDto]) -> Vec<RoleBinding> {
    roles
        .iter()
        .map(|r| RoleBinding {
            role: r.role,
            org_id: OrgId(r.org_id),
        })
        .collect()
}

fn pointed(roles: &[RoleBinding], prefix: &str) -> Vec<(String, RoleBinding)> {
    roles
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("{prefix}/{i}/org_id"), *b))
        .collect()
}

/// Create a staff account in an organisation the caller administers.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = UserIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = UserOut,
        headers(("Location" = String, description = "The new account's URL")))))]
pub async fn create(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<UserIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!("POST /v1/users {}", body.digest);
    let input = body.value;
    let password_hash = password::hash(input.password.clone()).await?;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            if orgs::get_many(txn, &reach, &[input.org_id])
                .await?
                .is_empty()
            {
                return Err(ApiError::field(
                    "/org_id",
                    "not_found",
                    "no such organisation in your reach",
                ));
            }
            let roles = bindings_of(&input.roles);
            check_grants(txn, &principal, &reach, &pointed(&roles, "/roles")).await?;
            let new = NewUser {
                username: input.username,
                password_hash,
                display_name: input.display_name.trim().to_owned(),
                org_id: OrgId(input.org_id),
                roles,
            };
            let user = match repo::insert(txn, new).await {
                Err(e) if e.is_conflict_on("username") => {
                    return Err(ApiError::conflict(
                        "this username is taken",
                        "username",
                        None,
                    ));
                }
                other => other?,
            };
            Ok(Created {
                location: format!("/v1/users/{}", user.id),
                body: UserOut::from(user),
            })
        })
    })
    .await
}

/// List staff accounts of organisations in the caller's reach.
#[utoipa::path(get, path = "/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, description = "A page of accounts", body = ListResponse<UserOut>)))]
pub async fn list(
    state: State,
    principal: Principal,
    query: ValidQuery<UserQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let filter = UserFilter {
        org_id: q.org_id,
        disabled: q.disabled,
        q: q.q,
    };
    let users = repo::list(&state.db, &reach, &filter, page).await?;
    ListResponse::from_page(users, UserOut::from).respond()
}

/// Get a staff account.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = UserOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let user = repo::get(&state.db, &reach, *id).await?;
    Ok(with_etag(&mut HttpResponse::Ok(), user.version).json(UserOut::from(user)))
}

/// Change a staff account: name, password, disabled, roles.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = Uuid, Path, description = "Account id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated account", body = UserOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<UserPatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let current = repo::get(&state.db, &reach, *id).await?;
    let patch = body.value;
    if current.id == principal.user_id && (patch.disabled == Some(true) || patch.roles.is_some()) {
        return Err(ApiError::field(
            if patch.roles.is_some() {
                "/roles"
            } else {
                "/disabled"
            },
            "self",
            "you can't disable your own account or change your own roles",
        ));
    }
    // Managing an account — its password, its status, its roles — takes the power to
    // grant every role it holds: otherwise a city admin could take over a federation
    // admin whose account happens to belong to the city.
    check_dominates(&state.db, &principal, &reach, &current).await?;
    let roles = patch.roles.as_deref().map(bindings_of);
    if let Some(new_roles) = &roles {
        check_grants(&state.db, &principal, &reach, &pointed(new_roles, "/roles")).await?;
    }
    let password_hash = match patch.password {
        Some(pw) => Some(password::hash(pw).await?),
        None => None,
    };
    let changes = UserChanges {
        display_name: patch.display_name.map(|n| n.trim().to_owned()),
        disabled: patch.disabled,
        password_hash,
        roles,
    };
    let txn = unionhall_persistence::db::begin_write(&state.db).await?;
    let user = repo::update(&txn, &current, if_match.expect(current.version)?, changes).await?;
    txn.commit()
        .await
        .map_err(unionhall_persistence::StoreError::from)?;
    Ok(with_etag(&mut HttpResponse::Ok(), user.version).json(UserOut::from(user)))
}

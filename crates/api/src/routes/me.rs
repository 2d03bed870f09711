//! The caller's own account (and, for a member account, its membership).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::routes::members::{MemberOut, member_out};
use crate::routes::users::RoleBindingDto;
use crate::state::State;
use actix_web::HttpResponse;
use serde::Serialize;
use unionhall_persistence::members as member_repo;
use utoipa::ToSchema;
use uuid::Uuid;

/// Who the caller is and where their roles apply.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    /// The organisation the account belongs to.
    pub org_id: Uuid,
    /// Each role and the organisation whose subtree it covers.
    pub roles: Vec<RoleBindingDto>,
    /// For a member account: the caller's own membership (personal data masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberOut>,
}

/// The caller: account and roles with their organisation scope, and for a member
/// account its membership.
#[utoipa::path(get, path = "/v1/me", tag = "auth",
    responses((status = 200, description = "The caller", body = MeOut)))]
pub async fn me(state: State, principal: Principal) -> ApiResult<HttpResponse> {
    // The principal was loaded fresh for this request: no second query needed, except
    // for a member account's membership.
    let caller = principal.0;
    let member = match caller.member_id {
        Some(id) => Some(member_out(
            &state.pii,
            member_repo::get_own(&state.db, id).await?,
        )?),
        None => None,
    };
    Ok(HttpResponse::Ok().json(MeOut {
        id: caller.user_id.0,
        username: caller.username,
        display_name: caller.display_name,
        org_id: caller.org_id.0,
        roles: caller
            .bindings
            .into_iter()
            .map(|(role, org_id, _)| RoleBindingDto {
                role,
                org_id: org_id.0,
            })
            .collect(),
        member,
    }))
}

/// The caller's own membership (member accounts only; others get 404).
#[utoipa::path(get, path = "/v1/me/member", tag = "auth",
    responses((status = 200, description = "The caller's membership", body = MemberOut),
        (status = 404, description = "The account is not a member account",
            body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn member(state: State, principal: Principal) -> ApiResult<HttpResponse> {
    let Some(id) = principal.member_id else {
        return Err(ApiError::not_found("membership linked to this account"));
    };
    let m = member_repo::get_own(&state.db, id).await?;
    let version = m.version;
    Ok(
        crate::extract::with_etag(&mut HttpResponse::Ok(), version)
            .json(member_out(&state.pii, m)?),
    )
}

//! The caller's own account.

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::routes::users::RoleBindingDto;
use actix_web::HttpResponse;
use serde::Serialize;
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
}

/// The caller: account and roles with their organisation scope.
#[utoipa::path(get, path = "/v1/me", tag = "auth",
    responses((status = 200, description = "The caller", body = MeOut)))]
pub async fn me(principal: Principal) -> ApiResult<HttpResponse> {
    // The principal was loaded fresh for this request: no second query needed.
    let caller = principal.0;
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
    }))
}

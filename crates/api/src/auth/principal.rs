//! The caller of a request, from its bearer token, re-checked against storage on
//! every request: a disabled account or a withdrawn role stops working at once.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use std::ops::Deref;
use unionhall_domain::UserId;
use unionhall_domain::users::Caller;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal(pub Caller);

impl Deref for Principal {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthenticated("an Authorization: Bearer token is required"))?
        .to_str()
        .map_err(|_| ApiError::unauthenticated("the Authorization header is not valid text"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthenticated(
            "the Authorization header must be `Bearer <token>`",
        ));
    }
    Ok(token.trim())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let claims = state
            .as_ref()
            .ok_or_else(ApiError::internal)
            .and_then(|s| bearer(req).and_then(|t| s.keys.verify(t)));
        // Only a platform's request needs its route (a walk of the resource map).
        let req = req.clone();
        Box::pin(async move {
            let (state, claims) = (state.ok_or_else(ApiError::internal)?, claims?);
            let caller = state
                .callers
                .load(UserId(claims.sub))
                .await?
                .ok_or_else(|| ApiError::unauthenticated("the account no longer exists"))?;
            if caller.disabled {
                return Err(ApiError::unauthenticated("the account is disabled"));
            }
            let principal = Principal(caller);
            if principal.is_platform()
                && !req
                    .match_pattern()
                    .is_some_and(|p| PLATFORM_ROUTES.contains(&p.as_str()))
            {
                return Err(ApiError::forbidden(
                    "a platform token may only sync its own roster",
                ));
            }
            Ok(principal)
        })
    }
}

/// The only routes a delivery platform's token may call.
const PLATFORM_ROUTES: [&str; 3] = [
    "/v1/platforms/{code}/roster",
    "/v1/platforms/{code}/roster/changes",
    "/v1/platforms/{code}/roster/syncs/{sync_id}",
];

impl Principal {
    /// Whether the caller is a delivery platform (a client-credentials token): its
    /// account's username is `platform:<code>`, which no staff username can be.
    pub fn is_platform(&self) -> bool {
        self.username.starts_with("platform:")
    }

    /// Fails with 403 unless the caller administers some subtree.
    pub fn require_admin(&self) -> Result<unionhall_domain::orgs::Reach, ApiError> {
        let reach = self.admin_reach();
        if reach.is_empty() {
            return Err(ApiError::forbidden(
                "this action needs the federation_admin or union_admin role",
            ));
        }
        Ok(reach)
    }

    /// Where the caller may read, with any role.
    pub fn read_reach(&self) -> unionhall_domain::orgs::Reach {
        self.reach(|_| true)
    }
}

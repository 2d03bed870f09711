//! The pages that problem `type` references point to.

use crate::error::{ApiError, ApiResult, ProblemKind};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

/// What a problem type means.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemType {
    #[schema(example = "/problems/validation")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub description: String,
}

/// Describes a problem type.
#[utoipa::path(get, path = "/problems/{slug}", tag = "operations", security(()),
    params(("slug" = String, Path, description = "The problem slug, e.g. `validation`")),
    responses((status = 200, description = "The problem type", body = ProblemType)))]
pub async fn describe(slug: web::Path<String>) -> ApiResult<HttpResponse> {
    let kind = ProblemKind::from_slug(&slug).ok_or_else(|| ApiError::not_found("problem type"))?;
    let (slug, title, status, description) = kind.describe();
    Ok(HttpResponse::Ok().json(ProblemType {
        r#type: format!("/problems/{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        description: description.to_owned(),
    }))
}

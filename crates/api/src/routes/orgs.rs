//! The organisation tree: federations and unions an admin manages within its subtree.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, with_etag};
use crate::idempotency::{self, Created};
use crate::json;
use crate::page_cache::PageCache;
use crate::pagination::{ListResponse, page_request};
use crate::state::State;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unionhall_domain::orgs::{self as rules, Org, OrgKind, Reach};
use unionhall_persistence::orgs::{self as repo, NewOrg, OrgChanges, OrgFilter};
use unionhall_persistence::{PageRequest, StoreError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgOut {
    pub id: Uuid,
    #[schema(example = "吉安市总工会")]
    pub name: String,
    #[schema(example = "ja-city")]
    pub code: String,
    pub kind: OrgKind,
    /// `null` only for the root (the provincial federation).
    pub parent_id: Option<Uuid>,
    /// Levels below the root.
    pub depth: usize,
    /// GB/T 2260 administrative division code.
    #[schema(example = "360800")]
    pub region_code: Option<String>,
    /// The division's name, from the current GB/T 2260 table.
    #[schema(example = "吉安市")]
    pub region_name: Option<String>,
    /// IANA time zone for local business times.
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: String,
    #[serde(serialize_with = "json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

impl From<Org> for OrgOut {
    fn from(o: Org) -> Self {
        OrgOut {
            id: o.id.0,
            depth: o.path.depth(),
            region_name: o
                .region_code
                .as_deref()
                .and_then(rules::region_name)
                .map(str::to_owned),
            name: o.name,
            code: o.code,
            kind: o.kind,
            parent_id: o.parent_id.map(|p| p.0),
            region_code: o.region_code,
            time_zone: o.time_zone,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// A new organisation under `parent_id`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct OrgIn {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 200, example = "吉安市总工会")]
    pub name: String,
    /// Unique across the federation: lowercase letters, digits, `-`, `_`.
    #[validate(
        length(min = 2, max = 64),
        custom(function = "crate::validate::org_code")
    )]
    #[schema(
        min_length = 2,
        max_length = 64,
        pattern = "^[a-z0-9_-]+$",
        example = "ja-city"
    )]
    pub code: String,
    pub kind: OrgKind,
    pub parent_id: Uuid,
    #[validate(custom(function = "crate::validate::region_code"))]
    #[schema(pattern = "^[0-9]{6}$", example = "360800")]
    pub region_code: Option<String>,
    /// Defaults to the parent's.
    #[validate(custom(function = "crate::validate::time_zone"))]
    #[schema(max_length = 64, example = "Asia/Shanghai")]
    pub time_zone: Option<String>,
}

/// Changes to an organisation; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `null` clears the region.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(custom(function = "crate::validate::region_code"))]
    #[schema(pattern = "^[0-9]{6}$", value_type = Option<String>)]
    pub region_code: Option<Option<String>>,
    #[validate(custom(function = "crate::validate::time_zone"))]
    #[schema(max_length = 64)]
    pub time_zone: Option<String>,
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Only direct children of this organisation.
    pub parent_id: Option<Uuid>,
    pub kind: Option<OrgKind>,
    /// Exact GB/T 2260 code.
    #[param(pattern = "^[0-9]{6}$")]
    #[validate(length(equal = 6))]
    pub region_code: Option<String>,
    /// Matches name or code.
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

/// Create an organisation under one the caller administers.
#[utoipa::path(post, path = "/v1/orgs", tag = "orgs", request_body = OrgIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = OrgOut,
        headers(("Location" = String, description = "The new organisation's URL")))))]
pub async fn create(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<OrgIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!("POST /v1/orgs {}", body.digest);
    let input = body.value;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let parent = match repo::get(txn, &reach, input.parent_id).await {
                Err(StoreError::NotFound) => {
                    return Err(ApiError::field(
                        "/parent_id",
                        "not_found",
                        "no such organisation in your reach",
                    ));
                }
                other => other?,
            };
            rules::check_placement(input.kind, parent.kind)
                .map_err(|e| ApiError::field("/kind", e.code(), e.to_string()))?;
            let new = NewOrg {
                name: input.name.trim().to_owned(),
                code: input.code.clone(),
                kind: input.kind,
                region_code: input.region_code,
                time_zone: input.time_zone.unwrap_or_else(|| parent.time_zone.clone()),
            };
            let org = match repo::insert(txn, Some(&parent), new).await {
                Err(e) if e.is_conflict_on("code") => {
                    // Name the organisation that holds the code, if the caller may see it.
                    let existing = repo::find_by_code_unscoped(txn, &input.code)
                        .await?
                        .filter(|o| reach.covers(&o.path))
                        .map(|o| o.id.to_string());
                    return Err(ApiError::conflict(
                        "an organisation with this code already exists",
                        "code",
                        existing,
                    ));
                }
                other => other?,
            };
            Ok(Created {
                location: format!("/v1/orgs/{}", org.id),
                body: OrgOut::from(org),
            })
        })
    })
    .await
}

/// List organisations in the caller's reach.
#[utoipa::path(get, path = "/v1/orgs", tag = "orgs", params(OrgQuery),
    responses((status = 200, description = "A page of organisations", body = ListResponse<OrgOut>)))]
pub async fn list(
    state: State,
    principal: Principal,
    query: ValidQuery<OrgQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let filter = OrgFilter {
        parent_id: q.parent_id,
        kind: q.kind,
        q: q.q,
        region_code: q.region_code,
    };
    // The same question from the same reach, asked at the same tree version, has the
    // same answer: serve the page built for it (see `page_cache`).
    let version = principal.tree_version;
    let asked = (principal.read_reach(), filter, page);
    if let Some(body) = state.org_pages.get(version, &asked) {
        return Ok(json::ok_body(body));
    }
    let (reach, filter, page) = &asked;
    let orgs = repo::list(&state.db, reach, filter, *page).await?;
    let body = Bytes::from(ListResponse::from_page(orgs, OrgOut::from).body()?);
    state.org_pages.put(version, asked, body.clone());
    Ok(json::ok_body(body))
}

/// Organisation pages by reach, filters and page, kept while the tree is unchanged.
pub type OrgPages = PageCache<(Reach, OrgFilter, PageRequest)>;

/// Get an organisation.
#[utoipa::path(get, path = "/v1/orgs/{id}", tag = "orgs",
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 200, description = "The organisation", body = OrgOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let org = repo::get(&state.db, &principal.read_reach(), *id).await?;
    Ok(with_etag(&mut HttpResponse::Ok(), org.version).json(OrgOut::from(org)))
}

/// Change an organisation's name, region or time zone.
#[utoipa::path(patch, path = "/v1/orgs/{id}", tag = "orgs", request_body = OrgPatch,
    params(("id" = Uuid, Path, description = "Organisation id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated organisation", body = OrgOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<OrgPatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let current = repo::get(&state.db, &reach, *id).await?;
    let patch = body.value;
    let changes = OrgChanges {
        name: patch.name.map(|n| n.trim().to_owned()),
        region_code: patch.region_code,
        time_zone: patch.time_zone,
    };
    let org = repo::update(
        &state.db,
        &current,
        if_match.expect(current.version)?,
        changes,
    )
    .await?;
    Ok(with_etag(&mut HttpResponse::Ok(), org.version).json(OrgOut::from(org)))
}

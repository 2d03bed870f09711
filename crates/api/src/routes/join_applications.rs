//! Join applications: anyone may apply (anonymously, throttled per client address,
//! choosing the password of their future member account) or staff may apply on
//! someone's behalf; union admins list, approve (member, card and account in one
//! transaction) or reject them in their subtree; the applicant follows the status with
//! the secret handed out once at submission.

use crate::auth::secrets::{constant_time_eq, hash_secret, random_token};
use crate::auth::{Principal, password};
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdempotencyKey, ValidQuery, ValidatedJson};
use crate::idempotency::{self, Created};
use crate::pagination::{ListResponse, page_request};
use crate::pii::{Field, PiiCipher};
use crate::routes::members::{
    MemberIn, ReasonIn, actor, enrol, member_account, new_member, org_in_reach, today_in_china,
    unseal,
};
use crate::state::State;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use unionhall_domain::UserId;
use unionhall_domain::members::{ApplicationStatus, EmploymentForm, JoinApplication, Occupation};
use unionhall_domain::orgs::Reach;
use unionhall_domain::person::{Gender, mask_middle};
use unionhall_persistence::join_applications::{
    self as repo, ApplicationFilter, Decision, NewApplication,
};
use unionhall_persistence::{ConnectionTrait, StoreError, db, members, orgs, throttle};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// The header that carries an application's status secret.
pub const SECRET_HEADER: &str = "X-Application-Secret";

// ─── Wire types ─────────────────────────────────────────────────────────────

/// An application to join a union.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct JoinApplicationIn {
    /// The union to join.
    pub org_id: Uuid,
    /// Chinese, minority (`买买提·吐尔逊`) or Latin name, 1–50 characters.
    #[validate(custom(function = "crate::validate::person_name"))]
    #[schema(min_length = 1, max_length = 50, example = "买买提·吐尔逊")]
    pub name: String,
    /// Resident ID number (GB 11643-1999).
    #[validate(custom(function = "crate::validate::id_number"))]
    #[schema(min_length = 18, max_length = 18, example = "11010519491231002X")]
    pub id_number: String,
    /// Mainland mobile number, optionally with `+86`.
    #[validate(custom(function = "crate::validate::phone"))]
    #[schema(max_length = 20, example = "13812345678")]
    pub phone: String,
    /// Derived from the ID number; if sent, it must agree.
    pub gender: Option<Gender>,
    /// Derived from the ID number; if sent, it must agree.
    pub birth_date: Option<NaiveDate>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub employer: Option<String>,
    pub occupation: Occupation,
    pub employment_form: EmploymentForm,
    /// The password of the member account created on approval (10–128 characters;
    /// the username will be the card number). Required when applying anonymously.
    #[validate(custom(function = "crate::validate::password"))]
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: Option<String>,
}

/// An application. Personal data is masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinApplicationOut {
    pub id: Uuid,
    /// The union applied to.
    pub org_id: Uuid,
    pub name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    /// Masked resident ID number.
    #[schema(example = "1101**********002X")]
    pub id_number: String,
    /// Masked mobile number.
    #[schema(example = "138****5678")]
    pub phone: String,
    pub employer: Option<String>,
    pub occupation: Occupation,
    pub employment_form: EmploymentForm,
    pub status: ApplicationStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The membership created on approval.
    pub member_id: Option<Uuid>,
    /// The new member's card number (also the member account's username).
    pub card_no: Option<String>,
    /// Whether approval creates a member account (the applicant chose a password).
    pub has_password: bool,
    /// The staff account that applied on the person's behalf, if any.
    pub submitted_by_user_id: Option<Uuid>,
    pub decided_by_user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Only in the answer to the submission, and never again: send it as
    /// `X-Application-Secret` to `GET /v1/join-applications/{id}` to follow the status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JoinApplicationQuery {
    /// Applications to this organisation and its whole subtree.
    pub org_id: Option<Uuid>,
    pub status: Option<ApplicationStatus>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// The status secret on `GET /v1/join-applications/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ApplicationSecretHeader {
    /// The secret returned at submission; lets the applicant read the application
    /// without a token.
    #[param(rename = "X-Application-Secret", max_length = 128)]
    #[allow(dead_code)]
    secret: Option<String>,
}

// ─── Helpers ────────────────────────────────────────────────────────────────

/// The caller when a bearer token is sent (and then it must be valid), else anonymous.
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequest for MaybePrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().contains_key(header::AUTHORIZATION) {
            let principal = Principal::from_request(req, payload);
            Box::pin(async move { Ok(MaybePrincipal(Some(principal.await?))) })
        } else {
            Box::pin(async { Ok(MaybePrincipal(None)) })
        }
    }
}

async fn application_out(
    db: &impl ConnectionTrait,
    pii: &PiiCipher,
    a: JoinApplication,
    secret: Option<String>,
) -> ApiResult<JoinApplicationOut> {
    let card_no = match a.member_id {
        Some(m) => match members::get_own(db, m).await {
            Ok(member) => Some(member.card_no),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    Ok(JoinApplicationOut {
        id: a.id,
        org_id: a.org_id.0,
        name: a.name,
        gender: a.gender,
        birth_date: a.birth_date,
        id_number: mask_middle(&unseal(pii, Field::IdNumber, &a.id_number_sealed)?, 4, 4),
        phone: mask_middle(&unseal(pii, Field::Phone, &a.phone_sealed)?, 3, 4),
        employer: a.employer,
        occupation: a.occupation,
        employment_form: a.employment_form,
        status: a.status,
        reason: a.reason,
        member_id: a.member_id.map(|m| m.0),
        card_no,
        has_password: a.password_hash.is_some(),
        submitted_by_user_id: a.submitted_by_user_id.map(|u| u.0),
        decided_by_user_id: a.decided_by_user_id.map(|u| u.0),
        created_at: a.created_at,
        decided_at: a.decided_at,
        secret,
    })
}

/// Counts an anonymous submission from `client`; 429 beyond the configured limit.
async fn throttle_anonymous(state: &State, client: &str) -> ApiResult<()> {
    let config = &state.config;
    let now = Utc::now().timestamp();
    let window = i64::try_from(config.login_window_secs).unwrap_or(i64::MAX);
    let window_start = now - now.rem_euclid(window);
    let retry_after = u64::try_from(window_start + window - now).unwrap_or(1);
    let key = format!("apply:{client}");
    if throttle::count_attempt(&state.db, &key, window_start).await? > config.join_max_per_ip {
        return Err(ApiError::too_many(
            "too many applications from this address; try again later",
            retry_after,
        ));
    }
    Ok(())
}

fn already_decided(a: &JoinApplication) -> ApiError {
    ApiError::conflict(
        format!("the application is already {}", a.status.as_str()),
        "status",
        Some(a.id.to_string()),
    )
}

// ─── Handlers ───────────────────────────────────────────────────────────────

/// Apply to join a union. Without a token this is self-service: `password` is
/// required, and submissions are throttled per client address (429 + Retry-After).
/// With a staff token (an admin whose reach covers `org_id`) it is on the person's
/// behalf. A person who is already an active member is a 409 (naming the membership
/// only to staff who may see it); so is a second pending application to the same union.
/// The answer carries `secret`, shown once, for following the status.
/// `Idempotency-Key` replays are kept per staff account, so anonymous submissions
/// ignore it (a retry is refused as a duplicate pending application instead).
#[utoipa::path(post, path = "/v1/join-applications", tag = "join-applications",
    request_body = JoinApplicationIn,
    params(crate::openapi::IdempotencyKeyHeader),
    security((), ("bearer" = [])),
    responses((status = 201, description = "Submitted", body = JoinApplicationOut,
        headers(("Location" = String, description = "The application's URL")))))]
pub async fn submit(
    req: HttpRequest,
    state: State,
    caller: MaybePrincipal,
    key: IdempotencyKey,
    body: ValidatedJson<JoinApplicationIn>,
) -> ApiResult<HttpResponse> {
    let fingerprint = format!(
        "POST /v1/join-applications {}",
        state.pii.request_digest(&body.digest)
    );
    let input = body.value;
    // Staff act within their reach; anonymous applicants may apply anywhere.
    let (staff_reach, caller_id, key) = match &caller.0 {
        Some(principal) => (
            Some(principal.require_admin()?),
            Some(principal.user_id),
            key,
        ),
        None => {
            if input.password.is_none() {
                return Err(ApiError::field(
                    "/password",
                    "required",
                    "choose the password of your member account",
                ));
            }
            // Without an account there is nobody to store a replay for.
            (None, None, IdempotencyKey(None))
        }
    };
    let password = input.password.clone();
    let person = new_member(
        &state.pii,
        MemberIn {
            org_id: input.org_id,
            name: input.name,
            id_number: input.id_number,
            phone: input.phone,
            gender: input.gender,
            birth_date: input.birth_date,
            employer: input.employer,
            occupation: input.occupation,
            employment_form: input.employment_form,
            joined_on: None,
        },
    )?;
    if caller.0.is_none() {
        let client = crate::routes::auth::client_address(&req, &state);
        throttle_anonymous(&state, &client).await?;
    }
    let password_hash = match password {
        Some(pw) => Some(password::hash(pw).await?),
        None => None,
    };
    let secret = random_token("uha_");
    let secret_hash = hash_secret(&secret);
    let pii = state.pii.clone();
    let replay_owner = caller_id.unwrap_or(UserId(Uuid::nil()));
    idempotency::create(&state, replay_owner, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let reach = match &staff_reach {
                Some(reach) => reach.clone(),
                None => match orgs::find_root(txn).await? {
                    Some(root) => Reach::over(vec![root.path]),
                    None => Reach::default(),
                },
            };
            org_in_reach(txn, &reach, person.org_id.0, "/org_id").await?;
            if let Some((existing, path)) =
                members::find_active_by_id_hash(txn, &person.id_number.hash).await?
            {
                let named = staff_reach
                    .as_ref()
                    .filter(|r| r.covers(&path))
                    .map(|_| existing.to_string());
                return Err(ApiError::conflict(
                    "this person is already an active member (one active membership per person)",
                    "active_membership",
                    named,
                ));
            }
            let new = NewApplication {
                person,
                password_hash,
                secret_hash,
                submitted_by: caller_id,
            };
            let app = match repo::insert(txn, new).await {
                Err(e) if e.is_conflict_on("pending_application") => {
                    return Err(ApiError::conflict(
                        "this person already has a pending application to this union",
                        "pending_application",
                        None,
                    ));
                }
                other => other?,
            };
            Ok(Created {
                location: format!("/v1/join-applications/{}", app.id),
                body: application_out(txn, &pii, app, Some(secret)).await?,
            })
        })
    })
    .await
}

/// List applications in the caller's reach (union admins); `org_id` covers that
/// organisation's subtree.
#[utoipa::path(get, path = "/v1/join-applications", tag = "join-applications",
    params(JoinApplicationQuery),
    responses((status = 200, description = "A page of applications", body = ListResponse<JoinApplicationOut>)))]
pub async fn list(
    state: State,
    principal: Principal,
    query: ValidQuery<JoinApplicationQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let org_path = match q.org_id {
        Some(org) => Some(org_in_reach(&state.db, &reach, org, "/org_id").await?.path),
        None => None,
    };
    let filter = ApplicationFilter {
        org_path,
        status: q.status,
    };
    let page = repo::list(&state.db, &reach, &filter, page).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for a in page.items {
        items.push(application_out(&state.db, &state.pii, a, None).await?);
    }
    ListResponse {
        items,
        next_cursor: page.next_after.map(crate::pagination::encode_cursor),
    }
    .respond()
}

/// Get an application: the applicant with the `X-Application-Secret` from the
/// submission (no token needed), an admin whose reach covers it, or the member
/// account it created.
#[utoipa::path(get, path = "/v1/join-applications/{id}", tag = "join-applications",
    params(("id" = Uuid, Path, description = "Application id"), ApplicationSecretHeader),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The application", body = JoinApplicationOut)))]
pub async fn get(
    req: HttpRequest,
    state: State,
    caller: MaybePrincipal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let secret = req
        .headers()
        .get(SECRET_HEADER)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let app = match (secret, caller.0) {
        (Some(secret), _) => {
            let app = match repo::get_unscoped(&state.db, *id).await {
                Err(StoreError::NotFound) => None,
                other => Some(other?),
            };
            app.filter(|a| constant_time_eq(&a.secret_hash, &hash_secret(&secret)))
                .ok_or_else(|| ApiError::not_found("application"))?
        }
        (None, Some(principal)) => {
            let reach = principal.admin_reach();
            match principal.member_id {
                Some(own) if reach.is_empty() => {
                    let app = match repo::get_unscoped(&state.db, *id).await {
                        Err(StoreError::NotFound) => None,
                        other => Some(other?),
                    };
                    app.filter(|a| a.member_id == Some(own))
                        .ok_or_else(|| ApiError::not_found("application"))?
                }
                _ => repo::get(&state.db, &principal.require_admin()?, *id).await?,
            }
        }
        (None, None) => {
            return Err(ApiError::unauthenticated(
                "send a Bearer token or the X-Application-Secret from the submission",
            ));
        }
    };
    let out = application_out(&state.db, &state.pii, app, None).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// Approve a pending application: creates the member (with a fresh card number) in
/// the union applied to, the member account with the applicant's chosen password
/// (username = card number), and marks the application approved, in one transaction.
/// A person who meanwhile became an active member, or an application already decided,
/// is a 409.
#[utoipa::path(post, path = "/v1/join-applications/{id}/approval", tag = "join-applications",
    params(("id" = Uuid, Path, description = "Application id")),
    responses((status = 200, description = "The approved application, with member_id and card_no",
        body = JoinApplicationOut)))]
pub async fn approve(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let txn = db::begin_write(&state.db).await?;
    let app = repo::get(&txn, &reach, *id).await?;
    if app.status != ApplicationStatus::Pending {
        return Err(already_decided(&app));
    }
    let who = actor(&principal);
    let member = enrol(
        &txn,
        &reach,
        repo::as_new_member(&app, today_in_china()),
        &who,
    )
    .await?;
    if let Some(hash) = app.password_hash.clone() {
        member_account(&txn, &member, hash).await?;
    }
    let decision = Decision {
        status: ApplicationStatus::Approved,
        reason: None,
        decided_by: principal.user_id,
        member_id: Some(member.id),
    };
    let decided = match repo::decide(&txn, &app, decision).await {
        Err(StoreError::StaleVersion) => {
            return Err(ApiError::conflict(
                "the application was decided concurrently",
                "status",
                Some(app.id.to_string()),
            ));
        }
        other => other?,
    };
    let out = application_out(&txn, &state.pii, decided, None).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(HttpResponse::Ok().json(out))
}

/// Reject a pending application, with a reason the applicant will see.
#[utoipa::path(post, path = "/v1/join-applications/{id}/rejection", tag = "join-applications",
    request_body = ReasonIn,
    params(("id" = Uuid, Path, description = "Application id")),
    responses((status = 200, description = "The rejected application", body = JoinApplicationOut)))]
pub async fn reject(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<ReasonIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let txn = db::begin_write(&state.db).await?;
    let app = repo::get(&txn, &reach, *id).await?;
    if app.status != ApplicationStatus::Pending {
        return Err(already_decided(&app));
    }
    let decision = Decision {
        status: ApplicationStatus::Rejected,
        reason: Some(body.value.reason.trim().to_owned()),
        decided_by: principal.user_id,
        member_id: None,
    };
    let decided = match repo::decide(&txn, &app, decision).await {
        Err(StoreError::StaleVersion) => {
            return Err(ApiError::conflict(
                "the application was decided concurrently",
                "status",
                Some(app.id.to_string()),
            ));
        }
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    let out = application_out(&state.db, &state.pii, decided, None).await?;
    Ok(HttpResponse::Ok().json(out))
}

//! Members: the federation's core record of who belongs to which union, with personal
//! data sealed at rest, masked in every answer, and revealed only on an audited request.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, with_etag};
use crate::idempotency::{self, Created};
use crate::json;
use crate::pagination::{ListResponse, page_request};
use crate::pii::{Field, PiiCipher};
use crate::request_context;
use crate::state::State;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use unionhall_domain::members::{
    self as rules, EmploymentForm, Member, MemberEvent, MemberEventKind, MemberStatus, Occupation,
    Transition,
};
use unionhall_domain::orgs::Reach;
use unionhall_domain::person::{Gender, IdNumber, PersonName, Phone, mask_middle};
use unionhall_domain::roles::Role;
use unionhall_persistence::audit::{self, AuditEvent, AuditFilter, NewAuditEvent};
use unionhall_persistence::members::{
    self as repo, Actor, MemberChanges, MemberFilter, NewMember, StatusChange,
};
use unionhall_persistence::{ConnectionTrait, StoreError, db, orgs};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

// ─── Wire types ─────────────────────────────────────────────────────────────

/// A membership. The ID number and phone are always masked; the full values come
/// only from `POST /v1/members/{id}/reveal`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub id: Uuid,
    /// The union the member belongs to.
    pub org_id: Uuid,
    #[schema(example = "买买提·吐尔逊")]
    pub name: String,
    /// As encoded in the ID number.
    pub gender: Gender,
    /// As encoded in the ID number.
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
    /// Member card number: `36`, 12 digits and a Luhn check digit; stable across transfers.
    #[schema(example = "360000000000421")]
    pub card_no: String,
    pub status: MemberStatus,
    pub joined_on: NaiveDate,
    #[serde(serialize_with = "json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// A new membership.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    /// The union the person joins; must be in the caller's reach.
    pub org_id: Uuid,
    /// Chinese, minority (`买买提·吐尔逊`) or Latin name, 1–50 characters.
    #[validate(custom(function = "crate::validate::person_name"))]
    #[schema(min_length = 1, max_length = 50, example = "买买提·吐尔逊")]
    pub name: String,
    /// Resident ID number (GB 11643-1999: 17 digits and a check digit or `X`).
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
    #[schema(min_length = 1, max_length = 200, example = "某某外卖平台吉安站点")]
    pub employer: Option<String>,
    pub occupation: Occupation,
    pub employment_form: EmploymentForm,
    /// Defaults to today (Asia/Shanghai); not in the future nor before birth.
    pub joined_on: Option<NaiveDate>,
}

/// Changes to a membership; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    #[validate(custom(function = "crate::validate::person_name"))]
    #[schema(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    #[validate(custom(function = "crate::validate::phone"))]
    #[schema(max_length = 20)]
    pub phone: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 200, value_type = Option<String>)]
    pub employer: Option<Option<String>>,
    pub occupation: Option<Occupation>,
    pub employment_form: Option<EmploymentForm>,
}

/// Why a status changes.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500, example = "本人申请")]
    pub reason: String,
}

/// Where a member moves, and why.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    /// The receiving union; it must be in the caller's reach too.
    pub to_org_id: Uuid,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500, example = "工作调动")]
    pub reason: String,
}

/// A field that can be revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    IdNumber,
    Phone,
}

impl RevealField {
    fn as_str(self) -> &'static str {
        match self {
            RevealField::IdNumber => "id_number",
            RevealField::Phone => "phone",
        }
    }
}

/// What to reveal and why; the reason is kept in the audit trail.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct RevealIn {
    #[validate(length(min = 1, max = 2))]
    #[schema(min_items = 1, max_items = 2)]
    pub fields: Vec<RevealField>,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500, example = "核对保险理赔身份")]
    pub reason: String,
}

/// The clear values asked for. Don't store or log them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevealOut {
    pub id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// One entry in a membership's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberEventOut {
    pub id: Uuid,
    pub kind: MemberEventKind,
    pub from_org_id: Option<Uuid>,
    pub to_org_id: Option<Uuid>,
    pub from_status: Option<MemberStatus>,
    pub to_status: Option<MemberStatus>,
    pub reason: Option<String>,
    /// The staff account that made the change.
    pub actor_user_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<MemberEvent> for MemberEventOut {
    fn from(e: MemberEvent) -> Self {
        MemberEventOut {
            id: e.id,
            kind: e.kind,
            from_org_id: e.from_org_id.map(|o| o.0),
            to_org_id: e.to_org_id.map(|o| o.0),
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
            actor_user_id: e.actor_user_id.map(|u| u.0),
            request_id: e.request_id,
            at: e.at,
        }
    }
}

/// An audited action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    pub id: Uuid,
    pub actor_user_id: Uuid,
    #[schema(example = "reveal")]
    pub action: String,
    #[schema(example = "member")]
    pub subject_type: String,
    pub subject_id: Uuid,
    #[schema(example = json!(["id_number"]))]
    pub fields: Vec<String>,
    pub reason: String,
    /// The request that did it (its `X-Request-Id`).
    pub request_id: String,
    pub at: DateTime<Utc>,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(e: AuditEvent) -> Self {
        AuditEventOut {
            id: e.id,
            actor_user_id: e.actor_user_id.0,
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            fields: e.fields,
            reason: e.reason,
            request_id: e.request_id,
            at: e.at,
        }
    }
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Members of this organisation and its whole subtree.
    pub org_id: Option<Uuid>,
    pub status: Option<MemberStatus>,
    pub occupation: Option<Occupation>,
    pub employment_form: Option<EmploymentForm>,
    /// Matches name or card number.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Exact lookup by resident ID number.
    #[validate(custom(function = "crate::validate::id_number"))]
    #[param(min_length = 18, max_length = 18)]
    pub id_number: Option<String>,
    /// Exact lookup by mobile number.
    #[validate(custom(function = "crate::validate::phone"))]
    #[param(max_length = 20)]
    pub phone: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// A page position.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Audit list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events about this record (e.g. a member id).
    pub subject_id: Option<Uuid>,
    /// Events by this staff account.
    pub actor_user_id: Option<Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

// ─── Helpers ────────────────────────────────────────────────────────────────

/// A sealed value that won't open is a server fault (wrong key, damaged row); the
/// value itself is never logged.
pub(crate) fn unseal(pii: &PiiCipher, field: Field, sealed: &str) -> ApiResult<String> {
    pii.decrypt(field, sealed).map_err(|e| {
        tracing::error!(error = %e, ?field, "personal data could not be decrypted");
        ApiError::internal()
    })
}

fn seal(pii: &PiiCipher, field: Field, clear: &str) -> ApiResult<repo::Sealed> {
    pii.seal(field, clear).map_err(|e| {
        tracing::error!(error = %e, ?field, "personal data could not be encrypted");
        ApiError::internal()
    })
}

/// The member as the API shows it: personal data masked as `IdNumber::masked` and
/// `Phone::masked` do (the stored values were checked on the way in).
pub(crate) fn member_out(pii: &PiiCipher, m: Member) -> ApiResult<MemberOut> {
    let id_number = mask_middle(&unseal(pii, Field::IdNumber, &m.id_number_sealed)?, 4, 4);
    let phone = mask_middle(&unseal(pii, Field::Phone, &m.phone_sealed)?, 3, 4);
    Ok(MemberOut {
        id: m.id.0,
        org_id: m.org_id.0,
        name: m.name,
        gender: m.gender,
        birth_date: m.birth_date,
        id_number,
        phone,
        employer: m.employer,
        occupation: m.occupation,
        employment_form: m.employment_form,
        card_no: m.card_no,
        status: m.status,
        joined_on: m.joined_on,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn refused(pointer: &str, e: unionhall_domain::person::PersonDataError) -> ApiError {
    ApiError::field(pointer, e.code(), e.to_string())
}

pub(crate) fn actor(principal: &Principal) -> Actor {
    let request_id = request_context::current().request_id;
    Actor {
        user_id: Some(principal.user_id),
        request_id: (!request_id.is_empty()).then_some(request_id),
    }
}

pub(crate) fn today_in_china() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// The 409 for a person who already has an active membership, naming it only where
/// the caller may see it.
async fn already_member(db: &impl ConnectionTrait, reach: &Reach, id_hash: &str) -> ApiError {
    let existing = match repo::find_active_by_id_hash(db, id_hash).await {
        Ok(found) => found
            .filter(|(_, path)| reach.covers(path))
            .map(|(id, _)| id.to_string()),
        Err(e) => return e.into(),
    };
    ApiError::conflict(
        "this person is already an active member (one active membership per person)",
        "active_membership",
        existing,
    )
}

/// Fails with 404 when the organisation isn't in reach, pointing at the body field.
pub(crate) async fn org_in_reach(
    db: &impl ConnectionTrait,
    reach: &Reach,
    id: Uuid,
    pointer: &str,
) -> ApiResult<unionhall_domain::orgs::Org> {
    match orgs::get(db, reach, id).await {
        Err(StoreError::NotFound) => Err(ApiError::field(
            pointer,
            "not_found",
            "no such organisation in your reach",
        )),
        other => Ok(other?),
    }
}

/// The organisation whose subtree a figures endpoint is about: the one asked for (in
/// reach, else a 422 at `/org_id`), or the one subtree the caller administers; a caller
/// who administers several must say which.
pub(crate) async fn subtree_of(
    db: &impl ConnectionTrait,
    reach: &Reach,
    org_id: Option<Uuid>,
) -> ApiResult<unionhall_domain::orgs::Org> {
    let id = match (org_id, reach.roots()) {
        (Some(id), _) => id,
        (None, [only]) => only.org_id().map(|o| o.0).ok_or_else(ApiError::internal)?,
        (None, _) => {
            return Err(ApiError::field(
                "/org_id",
                "required",
                "you administer several subtrees: say which organisation",
            ));
        }
    };
    org_in_reach(db, reach, id, "/org_id").await
}

/// Checks a new member's data and seals it.
pub(crate) fn new_member(pii: &PiiCipher, input: MemberIn) -> ApiResult<NewMember> {
    let name = PersonName::parse(&input.name).map_err(|e| refused("/name", e))?;
    let id_number = IdNumber::parse(&input.id_number).map_err(|e| refused("/id_number", e))?;
    let phone = Phone::parse(&input.phone).map_err(|e| refused("/phone", e))?;
    let (gender, birth_date) = rules::identity_of(&id_number, input.gender, input.birth_date)
        .map_err(|wrong| {
            ApiError::validation(
                wrong
                    .into_iter()
                    .map(|w| {
                        crate::error::FieldError::new(
                            format!("/{}", w.field()),
                            w.code(),
                            w.to_string(),
                        )
                    })
                    .collect(),
            )
        })?;
    let joined_on = input.joined_on.unwrap_or_else(today_in_china);
    if joined_on > today_in_china() || joined_on < birth_date {
        return Err(ApiError::field(
            "/joined_on",
            "date",
            "joined_on must be between the birth date and today",
        ));
    }
    Ok(NewMember {
        org_id: unionhall_domain::OrgId(input.org_id),
        name: name.as_str().to_owned(),
        gender,
        birth_date,
        id_number: seal(pii, Field::IdNumber, id_number.as_str())?,
        phone: seal(pii, Field::Phone, phone.as_str())?,
        employer: input.employer.map(|e| e.trim().to_owned()),
        occupation: input.occupation,
        employment_form: input.employment_form,
        joined_on,
    })
}

/// Enrols a person as an active member with a fresh card number (`POST /v1/members`
/// and join-application approval both come through here). A person who already has an
/// active membership is a 409 naming it where `reach` covers it; the transaction stays
/// usable either way.
pub(crate) async fn enrol<C>(
    txn: &C,
    reach: &Reach,
    new: NewMember,
    actor: &Actor,
) -> ApiResult<Member>
where
    C: ConnectionTrait + unionhall_persistence::TransactionTrait,
{
    let id_hash = new.id_number.hash.clone();
    match repo::insert(txn, new, actor).await {
        Err(e) if e.is_conflict_on("id_number_hash") => {
            Err(already_member(txn, reach, &id_hash).await)
        }
        other => Ok(other?),
    }
}

// ─── Handlers ───────────────────────────────────────────────────────────────

/// Enrol a member in a union the caller administers. A person (by ID number) can hold
/// only one active membership federation-wide: a second is a 409 naming the existing
/// membership where the caller may see it.
#[utoipa::path(post, path = "/v1/members", tag = "members", request_body = MemberIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = MemberOut,
        headers(("Location" = String, description = "The new membership's URL")))))]
pub async fn create(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<MemberIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!(
        "POST /v1/members {}",
        state.pii.request_digest(&body.digest)
    );
    let new = new_member(&state.pii, body.value)?;
    let actor = actor(&principal);
    let pii = state.pii.clone();
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            org_in_reach(txn, &reach, new.org_id.0, "/org_id").await?;
            let member = enrol(txn, &reach, new, &actor).await?;
            Ok(Created {
                location: format!("/v1/members/{}", member.id),
                body: member_out(&pii, member)?,
            })
        })
    })
    .await
}

/// List members in the caller's reach; `org_id` covers that organisation's subtree.
#[utoipa::path(get, path = "/v1/members", tag = "members", params(MemberQuery),
    responses((status = 200, description = "A page of members", body = ListResponse<MemberOut>)))]
pub async fn list(
    state: State,
    principal: Principal,
    query: ValidQuery<MemberQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let org_path = match q.org_id {
        Some(org) => Some(org_in_reach(&state.db, &reach, org, "/org_id").await?.path),
        None => None,
    };
    let id_number_hash = match q.id_number.as_deref().map(IdNumber::parse) {
        Some(id) => Some(state.pii.hash(
            Field::IdNumber,
            id.map_err(|e| refused("/id_number", e))?.as_str(),
        )),
        None => None,
    };
    let phone_hash = match q.phone.as_deref().map(Phone::parse) {
        Some(p) => Some(
            state
                .pii
                .hash(Field::Phone, p.map_err(|e| refused("/phone", e))?.as_str()),
        ),
        None => None,
    };
    let filter = MemberFilter {
        org_path,
        status: q.status,
        occupation: q.occupation,
        employment_form: q.employment_form,
        q: q.q,
        id_number_hash,
        phone_hash,
    };
    let page = repo::list(&state.db, &reach, &filter, page).await?;
    let items = page
        .items
        .into_iter()
        .map(|m| member_out(&state.pii, m))
        .collect::<ApiResult<Vec<_>>>()?;
    ListResponse {
        items,
        next_cursor: page.next_after.map(crate::pagination::encode_cursor),
    }
    .respond()
}

/// Get a member. A member account may get its own record (and no other).
#[utoipa::path(get, path = "/v1/members/{id}", tag = "members",
    params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The member", body = MemberOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let reach = principal.admin_reach();
    let member = match principal.member_id {
        // A member account reads its own record; every other id is "not found" to it.
        Some(own) if reach.is_empty() => {
            if own.0 != *id {
                return Err(ApiError::not_found("member"));
            }
            repo::get_own(&state.db, own).await?
        }
        _ => repo::get(&state.db, &principal.require_admin()?, *id).await?,
    };
    let version = member.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(member_out(&state.pii, member)?))
}

/// Change a member's name, phone, employer, occupation or employment form.
#[utoipa::path(patch, path = "/v1/members/{id}", tag = "members", request_body = MemberPatch,
    params(("id" = Uuid, Path, description = "Member id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated member", body = MemberOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<MemberPatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let current = repo::get(&state.db, &reach, *id).await?;
    let patch = body.value;
    let name = match patch.name.as_deref().map(PersonName::parse) {
        Some(n) => Some(n.map_err(|e| refused("/name", e))?.as_str().to_owned()),
        None => None,
    };
    let phone = match patch.phone.as_deref().map(Phone::parse) {
        Some(p) => Some(seal(
            &state.pii,
            Field::Phone,
            p.map_err(|e| refused("/phone", e))?.as_str(),
        )?),
        None => None,
    };
    let changes = MemberChanges {
        name,
        phone,
        employer: patch.employer.map(|e| e.map(|text| text.trim().to_owned())),
        occupation: patch.occupation,
        employment_form: patch.employment_form,
    };
    let txn = db::begin_write(&state.db).await?;
    let expected = if_match.expect(current.version)?;
    let member = repo::update(&txn, &current, expected, changes, &actor(&principal)).await?;
    txn.commit().await.map_err(StoreError::from)?;
    let version = member.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(member_out(&state.pii, member)?))
}

/// Applies a lifecycle transition in one write transaction.
async fn transition(
    state: &State,
    principal: &Principal,
    id: Uuid,
    transition: Transition,
    to_org: Option<Uuid>,
    reason: String,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let txn = db::begin_write(&state.db).await?;
    let current = repo::get(&txn, &reach, id).await?;
    let to_org = match to_org {
        Some(target) => {
            let org = org_in_reach(&txn, &reach, target, "/to_org_id").await?;
            if org.id == current.org_id {
                return Err(ApiError::field(
                    "/to_org_id",
                    "same_org",
                    "the member already belongs to this organisation",
                ));
            }
            org.id
        }
        None => current.org_id,
    };
    let to_status = transition
        .apply(current.status)
        .map_err(|e| ApiError::conflict(e.to_string(), "status", None))?;
    let change = StatusChange {
        kind: transition.event_kind(),
        to_status,
        to_org,
        reason: reason.trim().to_owned(),
    };
    let member = match repo::change_status(&txn, &current, change, &actor(principal)).await {
        Err(e) if e.is_conflict_on("id_number_hash") => {
            let clear = unseal(&state.pii, Field::IdNumber, &current.id_number_sealed)?;
            let hash = state.pii.hash(Field::IdNumber, &clear);
            return Err(already_member(&txn, &reach, &hash).await);
        }
        Err(StoreError::StaleVersion) => {
            return Err(ApiError::conflict(
                "the member was changed concurrently; read it again and retry",
                "version",
                None,
            ));
        }
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    let version = member.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(member_out(&state.pii, member)?))
}

/// Transfer a member to another union. Both unions must be in the caller's reach; the
/// card number stays, and the history records the move.
#[utoipa::path(post, path = "/v1/members/{id}/transfer", tag = "members", request_body = TransferIn,
    params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The member in its new union", body = MemberOut)))]
pub async fn transfer(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<TransferIn>,
) -> ApiResult<HttpResponse> {
    let body = body.value;
    transition(
        &state,
        &principal,
        *id,
        Transition::Transfer,
        Some(body.to_org_id),
        body.reason,
    )
    .await
}

/// Record that an active member left the union.
#[utoipa::path(post, path = "/v1/members/{id}/withdrawal", tag = "members", request_body = ReasonIn,
    params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The withdrawn member", body = MemberOut)))]
pub async fn withdraw(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<ReasonIn>,
) -> ApiResult<HttpResponse> {
    transition(
        &state,
        &principal,
        *id,
        Transition::Withdraw,
        None,
        body.value.reason,
    )
    .await
}

/// Record that an active membership lapsed.
#[utoipa::path(post, path = "/v1/members/{id}/lapse", tag = "members", request_body = ReasonIn,
    params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The lapsed member", body = MemberOut)))]
pub async fn lapse(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<ReasonIn>,
) -> ApiResult<HttpResponse> {
    transition(
        &state,
        &principal,
        *id,
        Transition::Lapse,
        None,
        body.value.reason,
    )
    .await
}

/// Reinstate a withdrawn or lapsed member. A 409 if the person has meanwhile become
/// an active member elsewhere.
#[utoipa::path(post, path = "/v1/members/{id}/reinstatement", tag = "members", request_body = ReasonIn,
    params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The reinstated member", body = MemberOut)))]
pub async fn reinstate(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<ReasonIn>,
) -> ApiResult<HttpResponse> {
    transition(
        &state,
        &principal,
        *id,
        Transition::Reinstate,
        None,
        body.value.reason,
    )
    .await
}

/// A membership's history: every status and organisation change, with who and when.
#[utoipa::path(get, path = "/v1/members/{id}/history", tag = "members",
    params(("id" = Uuid, Path, description = "Member id"), PageQuery),
    responses((status = 200, description = "Events, oldest first", body = ListResponse<MemberEventOut>)))]
pub async fn history(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let member = repo::get(&state.db, &reach, *id).await?;
    let events = repo::history(&state.db, member.id, page).await?;
    ListResponse::from_page(events, MemberEventOut::from).respond()
}

/// Reveal a member's full ID number and/or phone. Only for admins whose reach covers
/// the member; every reveal is written to the audit trail with its reason and request id.
#[utoipa::path(post, path = "/v1/members/{id}/reveal", tag = "members", request_body = RevealIn,
    params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The clear values asked for", body = RevealOut)))]
pub async fn reveal(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<RevealIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let input = body.value;
    let member = repo::get(&state.db, &reach, *id).await?;
    let mut fields: Vec<RevealField> = Vec::with_capacity(2);
    for f in input.fields {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    let mut out = RevealOut {
        id: member.id.0,
        id_number: None,
        phone: None,
    };
    for f in &fields {
        match f {
            RevealField::IdNumber => {
                out.id_number = Some(unseal(
                    &state.pii,
                    Field::IdNumber,
                    &member.id_number_sealed,
                )?);
            }
            RevealField::Phone => {
                out.phone = Some(unseal(&state.pii, Field::Phone, &member.phone_sealed)?);
            }
        }
    }
    // The audit row is written before anything is shown: no row, no reveal.
    audit::record(
        &state.db,
        NewAuditEvent {
            actor_user_id: principal.user_id,
            action: "reveal",
            subject_type: "member",
            subject_id: member.id.0,
            fields: fields.iter().map(|f| f.as_str()).collect(),
            reason: input.reason.trim().to_owned(),
            request_id: request_context::current().request_id,
        },
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// The audit trail of reveals, oldest first. Federation admins only.
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of audit events", body = ListResponse<AuditEventOut>)))]
pub async fn audit_events(
    state: State,
    principal: Principal,
    query: ValidQuery<AuditQuery>,
) -> ApiResult<HttpResponse> {
    if principal.reach(|r| r == Role::FederationAdmin).is_empty() {
        return Err(ApiError::forbidden(
            "the audit trail is for federation_admin only",
        ));
    }
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter {
        subject_id: q.subject_id,
        actor_user_id: q.actor_user_id,
    };
    let events = audit::list(&state.db, &filter, page).await?;
    ListResponse::from_page(events, AuditEventOut::from).respond()
}

/// The password a member will log in with.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct MemberAccountIn {
    /// 10–128 characters.
    #[validate(custom(function = "crate::validate::password"))]
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: String,
}

/// A member's login account: log in with `username` (the card number) and the password.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberAccountOut {
    pub user_id: Uuid,
    #[schema(example = "360000000000421")]
    pub username: String,
    pub member_id: Uuid,
}

/// Create a member's login account (username = card number, no staff roles), or set
/// its password if it has one (which also ends its existing logins). For admins whose
/// reach covers the member: 201 when created, 200 when reset.
#[utoipa::path(post, path = "/v1/members/{id}/account", tag = "members", request_body = MemberAccountIn,
    params(("id" = Uuid, Path, description = "Member id")),
    responses(
        (status = 201, description = "Account created", body = MemberAccountOut),
        (status = 200, description = "Password reset", body = MemberAccountOut)))]
pub async fn set_account(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<MemberAccountIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let member = repo::get(&state.db, &reach, *id).await?;
    let password_hash = crate::auth::password::hash(body.value.password).await?;
    let txn = db::begin_write(&state.db).await?;
    let account = member_account(&txn, &member, password_hash).await?;
    txn.commit().await.map_err(StoreError::from)?;
    let out = MemberAccountOut {
        user_id: account.user_id.0,
        username: account.username,
        member_id: member.id.0,
    };
    Ok(if account.created {
        HttpResponse::Created().json(out)
    } else {
        HttpResponse::Ok().json(out)
    })
}

/// Creates or resets a member's account; a card number taken as a staff username is a 409.
pub(crate) async fn member_account(
    db: &impl ConnectionTrait,
    member: &Member,
    password_hash: String,
) -> ApiResult<unionhall_persistence::users::MemberAccount> {
    match unionhall_persistence::users::set_member_account(
        db,
        member.id,
        member.org_id,
        &member.card_no,
        &member.name,
        password_hash,
    )
    .await
    {
        Err(e) if e.is_conflict_on("username") || e.is_conflict_on("member_id") => {
            Err(ApiError::conflict(
                "the member's card number is already taken as a username, or its account was created concurrently",
                "username",
                None,
            ))
        }
        other => Ok(other?),
    }
}

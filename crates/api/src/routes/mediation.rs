//! Labour-dispute mediation: the cases a mediation room takes in, its mediators, the
//! outcome, the fifteen-day rule and the room's figures.
//!
//! Who may do what:
//! - room administrators (`union_admin` or `federation_admin` whose reach covers the
//!   room's organisation) register cases, read and change them while open, assign
//!   mediators, record outcomes, reveal the worker's personal data (audited) and read
//!   the stats of their subtree;
//! - a mediator (a staff account holding `mediator` over the room) reads the cases
//!   assigned to them and records their outcome;
//! - anyone else gets a 404 for a case, whatever its id.
//!
//! The worker's ID number and phone are sealed at rest (`crate::pii`), masked in every
//! answer and revealed only through `POST …/reveal`. The worker's and employer's
//! names are shown as they are: a name is how a room finds its cases, and an
//! employer is not a person whose data is protected. The rules (transitions, the
//! fifteen-day rule, the rate) are the domain's (`unionhall_domain::mediation`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, with_etag};
use crate::idempotency::{self, Created};
use crate::pagination::{ListResponse, page_request};
use crate::pii::{Field, PiiCipher};
use crate::request_context;
use crate::routes::members::{org_in_reach, unseal};
use crate::state::State;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use unionhall_domain::mediation::{
    self as rules, CaseAction, CaseCategory, CaseStatus, Channel, MediatorRole, Outcome, Tally,
};
use unionhall_domain::orgs::{Reach, check_time_zone};
use unionhall_domain::palaces::FieldProblem;
use unionhall_domain::person::{IdNumber, PersonName, Phone, mask_middle};
use unionhall_domain::roles::Role;
use unionhall_domain::{MemberId, UserId};
use unionhall_persistence::audit::{self, NewAuditEvent};
use unionhall_persistence::mediation::{
    self as repo, Case, CaseChanges, CaseFilter, CaseScope, Closing, NewCase, Period,
};
use unionhall_persistence::members::{self as member_repo, Sealed};
use unionhall_persistence::{ConnectionTrait, StoreError, db, users};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

// ─── Wire types ─────────────────────────────────────────────────────────────

/// The worker bringing the dispute. The ID number and phone are always masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerOut {
    #[schema(example = "刘志强")]
    pub name: String,
    /// Masked resident ID number.
    #[schema(example = "3608**********101X")]
    pub id_number: String,
    /// Masked mobile number, when given.
    #[schema(example = "138****0001")]
    pub phone: Option<String>,
    /// The worker's membership, when they are a union member.
    pub member_id: Option<Uuid>,
}

/// The employer the dispute is with.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployerOut {
    #[schema(example = "吉安市某某物流有限公司")]
    pub name: String,
}

/// A mediator on a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediatorOut {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: MediatorRole,
    pub assigned_at: DateTime<Utc>,
}

/// A labour-dispute case in a mediation room.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseOut {
    pub id: Uuid,
    /// The mediation room's organisation.
    pub org_id: Uuid,
    /// The room's docket number.
    #[schema(example = "（2026）吉诉调字第0001号")]
    pub reference: Option<String>,
    pub worker: WorkerOut,
    pub employer: EmployerOut,
    pub category: CaseCategory,
    #[schema(example = 1_250_000)]
    pub claimed_fen: i64,
    pub channel: Channel,
    /// The day the room received the application (day 0).
    pub received_on: NaiveDate,
    pub status: CaseStatus,
    /// How the case closed; `null` while open.
    pub outcome: Option<Outcome>,
    /// The agreed amount, for an agreement.
    pub agreed_fen: Option<i64>,
    pub outcome_note: Option<String>,
    /// The room's local date of closing.
    pub closed_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    /// In the order they were assigned.
    pub mediators: Vec<MediatorOut>,
    /// Days from receipt to today in the room's time zone.
    pub days_since_received: i64,
    /// Day 15: from this date the parties may apply for arbitration (Labour Dispute
    /// Mediation and Arbitration Law, art. 14) unless the case ended in an agreement
    /// or a withdrawal.
    pub arbitration_opens_on: Option<NaiveDate>,
    /// Whether that is so today: day 15 or later and not closed by agreement or
    /// withdrawal.
    pub may_proceed_to_arbitration: bool,
    /// The room's time zone, which "today" is counted in.
    #[schema(example = "Asia/Shanghai")]
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The worker on a new case.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct WorkerIn {
    /// Chinese, minority (`买买提·吐尔逊`) or Latin name, 1–50 characters.
    #[validate(custom(function = "crate::validate::person_name"))]
    #[schema(min_length = 1, max_length = 50, example = "刘志强")]
    pub name: String,
    /// Resident ID number (GB 11643-1999).
    #[validate(custom(function = "crate::validate::id_number"))]
    #[schema(min_length = 18, max_length = 18, example = "36080219900312101X")]
    pub id_number: String,
    /// Mainland mobile number, optionally with `+86`.
    #[validate(custom(function = "crate::validate::phone"))]
    #[schema(max_length = 20, example = "13807960001")]
    pub phone: Option<String>,
    /// The worker's membership, if they are a member: in the caller's reach, with the
    /// same ID number.
    pub member_id: Option<Uuid>,
}

/// The employer on a new case.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct EmployerIn {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 200, example = "吉安市某某物流有限公司")]
    pub name: String,
}

/// A case a mediation room received.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CaseIn {
    /// The mediation room's organisation; in the caller's reach.
    pub org_id: Uuid,
    /// The room's docket number; unique within the room.
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "（2026）吉诉调字第0001号")]
    pub reference: Option<String>,
    #[validate(nested)]
    pub worker: WorkerIn,
    #[validate(nested)]
    pub employer: EmployerIn,
    pub category: CaseCategory,
    /// Zero or more, at most 1 000 000 000 000.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64, example = 1_250_000)]
    pub claimed_fen: i64,
    pub channel: Channel,
    /// Not after today in the room's time zone.
    pub received_on: NaiveDate,
}

/// Changes to the worker; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct WorkerPatch {
    #[validate(custom(function = "crate::validate::person_name"))]
    #[schema(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    #[validate(custom(function = "crate::validate::id_number"))]
    #[schema(min_length = 18, max_length = 18)]
    pub id_number: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(custom(function = "crate::validate::phone"))]
    #[schema(value_type = Option<String>, max_length = 20)]
    pub phone: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<Uuid>)]
    pub member_id: Option<Option<Uuid>>,
}

/// Changes to the employer.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct EmployerPatch {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
}

/// Changes to an open case; absent fields stay as they are. A closed case can't change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub reference: Option<Option<String>>,
    #[validate(nested)]
    pub worker: Option<WorkerPatch>,
    #[validate(nested)]
    pub employer: Option<EmployerPatch>,
    pub category: Option<CaseCategory>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub claimed_fen: Option<i64>,
    pub channel: Option<Channel>,
    pub received_on: Option<NaiveDate>,
}

/// A mediator to assign.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AssignmentIn {
    /// A staff account holding the `mediator` role at the room's organisation or above.
    pub user_id: Uuid,
    /// The capacity they serve in.
    pub role: MediatorRole,
}

/// How a case closes.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    pub outcome: Outcome,
    /// Required for `agreement` (zero or more; it may exceed the claim), forbidden
    /// otherwise.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64, example = 900_000)]
    pub agreed_fen: Option<i64>,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500, example = "双方达成分期支付协议")]
    pub note: Option<String>,
}

/// A field of the worker's that can be revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseRevealField {
    IdNumber,
    Phone,
}

impl CaseRevealField {
    fn as_str(self) -> &'static str {
        match self {
            CaseRevealField::IdNumber => "id_number",
            CaseRevealField::Phone => "phone",
        }
    }
}

/// What to reveal of the worker's data and why; the reason is kept in the audit trail.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CaseRevealIn {
    #[validate(length(min = 1, max = 2))]
    #[schema(min_items = 1, max_items = 2)]
    pub fields: Vec<CaseRevealField>,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 500, example = "向仲裁委移送案件材料")]
    pub reason: String,
}

/// The worker's clear values asked for. Don't store or log them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseRevealOut {
    pub id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// `null` when the case has no phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
}

/// Case list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub status: Option<CaseStatus>,
    pub category: Option<CaseCategory>,
    /// Cases of this organisation and its whole subtree.
    pub org_id: Option<Uuid>,
    /// `true`: cases on day 15 or later not closed by agreement or withdrawal, as of
    /// today in each room's time zone; `false`: the others.
    pub may_proceed_to_arbitration: Option<bool>,
    /// Cases this staff account is assigned to as a mediator.
    pub mediator_id: Option<Uuid>,
    /// Exact lookup by the worker's resident ID number.
    #[validate(custom(function = "crate::validate::id_number"))]
    #[param(min_length = 18, max_length = 18)]
    pub worker_id_number: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Stats filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MediationStatsQuery {
    /// Cases of this organisation's subtree, broken down by the organisations directly
    /// below it. Default: the organisation the caller administers (required when the
    /// caller administers several subtrees).
    pub org_id: Option<Uuid>,
    /// Cases received on or after this date.
    pub from: Option<NaiveDate>,
    /// Cases received on or before this date.
    pub to: Option<NaiveDate>,
}

/// The success rate: agreements ÷ (closed − withdrawn).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuccessRateOut {
    /// A percentage with two decimals, rounded half up; `null` when no case was
    /// decided (the denominator is 0).
    #[schema(example = "70.02")]
    pub percent: Option<String>,
    /// Cases closed with an agreement.
    #[schema(example = 292)]
    pub numerator: i64,
    /// Cases closed other than by withdrawal.
    #[schema(example = 417)]
    pub denominator: i64,
}

/// What a set of cases adds up to.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresOut {
    /// Cases received in the period.
    pub accepted: i64,
    /// Of those, still open.
    pub open: i64,
    /// Of those, closed with any outcome.
    pub closed: i64,
    pub agreements: i64,
    pub withdrawn: i64,
    pub success_rate: SuccessRateOut,
    /// The sum claimed.
    pub claimed_fen: i64,
    /// The sum agreed.
    pub agreed_fen: i64,
}

impl From<Tally> for FiguresOut {
    fn from(t: Tally) -> Self {
        let rate = t.success_rate();
        FiguresOut {
            accepted: t.accepted,
            open: t.open(),
            closed: t.closed,
            agreements: t.agreements,
            withdrawn: t.withdrawn,
            success_rate: SuccessRateOut {
                percent: rate.percent,
                numerator: rate.numerator,
                denominator: rate.denominator,
            },
            claimed_fen: t.claimed_fen,
            agreed_fen: t.agreed_fen,
        }
    }
}

/// One category's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryFiguresOut {
    pub category: CaseCategory,
    #[serde(flatten)]
    pub figures: FiguresOut,
}

/// The figures of one organisation directly below the one asked about, covering its
/// subtree.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgFiguresOut {
    pub org_id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub figures: FiguresOut,
}

/// A subtree's mediation figures over the cases received in a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediationStatsOut {
    pub org_id: Uuid,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub totals: FiguresOut,
    /// Every category, in the order the spec lists them.
    pub by_category: Vec<CategoryFiguresOut>,
    /// Each organisation directly below `org_id`; the room's own cases (if it is a
    /// room itself) count only in the totals.
    pub by_org: Vec<OrgFiguresOut>,
}

// ─── Helpers ────────────────────────────────────────────────────────────────

/// Where the caller reads cases: their administered subtrees, and as a mediator the
/// cases assigned to them within their `mediator` role's reach.
struct Viewer {
    managed: Reach,
    mediating: Reach,
    user: UserId,
}

impl Viewer {
    fn of(principal: &Principal) -> Self {
        Viewer {
            managed: principal.admin_reach(),
            mediating: principal.reach(|r| r == Role::Mediator),
            user: principal.user_id,
        }
    }

    fn scope(&self) -> CaseScope<'_> {
        CaseScope {
            managed: &self.managed,
            mediator: (!self.mediating.is_empty()).then_some((self.user, &self.mediating)),
        }
    }

    /// Administrators only: the cases of their subtrees.
    fn managed_scope(&self) -> CaseScope<'_> {
        CaseScope {
            managed: &self.managed,
            mediator: None,
        }
    }

    fn is_nobody(&self) -> bool {
        self.managed.is_empty() && self.mediating.is_empty()
    }
}

fn found<T>(result: Result<T, StoreError>) -> ApiResult<T> {
    match result {
        Err(StoreError::NotFound) => Err(ApiError::not_found("mediation case")),
        other => Ok(other?),
    }
}

fn problem(p: FieldProblem) -> ApiError {
    ApiError::field(&p.pointer, p.code, p.detail)
}

fn refused(pointer: &str, e: unionhall_domain::person::PersonDataError) -> ApiError {
    ApiError::field(pointer, e.code(), e.to_string())
}

fn seal(pii: &PiiCipher, field: Field, clear: &str) -> ApiResult<Sealed> {
    pii.seal(field, clear).map_err(|e| {
        tracing::error!(error = %e, ?field, "personal data could not be encrypted");
        ApiError::internal()
    })
}

/// Today in a room's time zone.
fn today_in(time_zone: &str, now: DateTime<Utc>) -> ApiResult<NaiveDate> {
    let tz = check_time_zone(time_zone).map_err(|e| {
        tracing::error!(error = %e, "stored organisation time zone is unknown");
        ApiError::internal()
    })?;
    Ok(rules::today_in(tz, now))
}

/// The case as the API shows it, as of `now`: personal data masked.
fn case_out(pii: &PiiCipher, c: Case, now: DateTime<Utc>) -> ApiResult<CaseOut> {
    let today = today_in(&c.time_zone, now)?;
    let id_number = mask_middle(
        &unseal(pii, Field::IdNumber, &c.worker_id_number_sealed)?,
        4,
        4,
    );
    let phone = match &c.worker_phone_sealed {
        Some(sealed) => Some(mask_middle(&unseal(pii, Field::Phone, sealed)?, 3, 4)),
        None => None,
    };
    Ok(CaseOut {
        id: c.id,
        org_id: c.org_id.0,
        reference: c.reference,
        worker: WorkerOut {
            name: c.worker_name,
            id_number,
            phone,
            member_id: c.worker_member_id.map(|m| m.0),
        },
        employer: EmployerOut {
            name: c.employer_name,
        },
        category: c.category,
        claimed_fen: c.claimed_fen,
        channel: c.channel,
        received_on: c.received_on,
        status: c.status,
        outcome: c.outcome,
        agreed_fen: c.agreed_fen,
        outcome_note: c.outcome_note,
        closed_on: c.closed_on,
        closed_at: c.closed_at,
        mediators: c
            .mediators
            .into_iter()
            .map(|m| MediatorOut {
                user_id: m.user_id.0,
                display_name: m.display_name,
                role: m.role,
                assigned_at: m.assigned_at,
            })
            .collect(),
        days_since_received: rules::days_since_received(c.received_on, today),
        arbitration_opens_on: rules::arbitration_opens_on(c.received_on),
        may_proceed_to_arbitration: rules::may_proceed_to_arbitration(
            c.received_on,
            c.outcome,
            today,
        ),
        time_zone: c.time_zone,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

fn case_response(pii: &PiiCipher, c: Case) -> ApiResult<HttpResponse> {
    let version = c.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(case_out(pii, c, Utc::now())?))
}

fn illegal(e: rules::TransitionError) -> ApiError {
    ApiError::conflict(e.to_string(), "status", None)
}

/// The answer when a case changed between reading and writing it.
fn moved_meanwhile() -> ApiError {
    ApiError::conflict(
        "the case changed concurrently (another outcome or assignment came first); read it again",
        "status",
        None,
    )
}

/// A membership the caller administers whose ID number is the worker's: the link
/// between a case and a member must name the same person.
async fn check_member(
    db: &impl ConnectionTrait,
    pii: &PiiCipher,
    reach: &Reach,
    member_id: Uuid,
    worker_id_number: &str,
) -> ApiResult<MemberId> {
    let member = match member_repo::get(db, reach, member_id).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::field(
                "/worker/member_id",
                "not_found",
                "no such member in your reach",
            ));
        }
        other => other?,
    };
    if unseal(pii, Field::IdNumber, &member.id_number_sealed)? != worker_id_number {
        return Err(ApiError::field(
            "/worker/member_id",
            "mismatch",
            "the member's ID number is not the worker's",
        ));
    }
    Ok(member.id)
}

/// The mediator to assign: an enabled staff account holding `mediator` bound at the
/// case's room or above. Anything else (no such account included, so ids can't be
/// probed) is one 422.
async fn mediator_for(db: &impl ConnectionTrait, user_id: Uuid, case: &Case) -> ApiResult<UserId> {
    let caller = users::caller(db, UserId(user_id)).await?;
    let qualifies = caller.is_some_and(|c| {
        !c.disabled
            && c.member_id.is_none()
            && c.bindings
                .iter()
                .any(|(role, _, path)| *role == Role::Mediator && path.contains(&case.org_path))
    });
    if qualifies {
        Ok(UserId(user_id))
    } else {
        Err(ApiError::field(
            "/user_id",
            "not_a_mediator",
            "no staff account with this id holds the mediator role at the case's room or above",
        ))
    }
}

// ─── Handlers ───────────────────────────────────────────────────────────────

/// Register a case a mediation room received (its administrators). The worker's ID
/// number and phone are sealed; `received_on` can't be after today in the room's
/// time zone; a docket number the room already used is a 409 `reference`.
#[utoipa::path(post, path = "/v1/mediation/cases", tag = "mediation", request_body = CaseIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = CaseOut,
        headers(("Location" = String, description = "The new case's URL")))))]
pub async fn create_case(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<CaseIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!(
        "POST /v1/mediation/cases {}",
        state.pii.request_digest(&body.digest)
    );
    let input = body.value;
    rules::check_amount("/claimed_fen", input.claimed_fen).map_err(problem)?;
    let name = PersonName::parse(&input.worker.name).map_err(|e| refused("/worker/name", e))?;
    let id_number =
        IdNumber::parse(&input.worker.id_number).map_err(|e| refused("/worker/id_number", e))?;
    let phone = match input.worker.phone.as_deref().map(Phone::parse) {
        Some(p) => Some(seal(
            &state.pii,
            Field::Phone,
            p.map_err(|e| refused("/worker/phone", e))?.as_str(),
        )?),
        None => None,
    };
    let sealed_id = seal(&state.pii, Field::IdNumber, id_number.as_str())?;
    let created_by = principal.user_id;
    let pii = state.pii.clone();
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let org = org_in_reach(txn, &reach, input.org_id, "/org_id").await?;
            rules::check_received_on(input.received_on, today_in(&org.time_zone, Utc::now())?)
                .map_err(problem)?;
            let member = match input.worker.member_id {
                Some(m) => Some(check_member(txn, &pii, &reach, m, id_number.as_str()).await?),
                None => None,
            };
            let new = NewCase {
                org_id: org.id,
                org_path: org.path,
                reference: input.reference.map(|r| r.trim().to_owned()),
                worker_name: name.as_str().to_owned(),
                worker_id_number: sealed_id,
                worker_phone: phone,
                worker_member_id: member,
                employer_name: input.employer.name.trim().to_owned(),
                category: input.category,
                claimed_fen: input.claimed_fen,
                channel: input.channel,
                received_on: input.received_on,
                created_by: Some(created_by),
            };
            let case = match repo::insert_case(txn, new).await {
                Err(e) if e.is_conflict_on("reference") => {
                    return Err(ApiError::conflict(
                        "the room has a case with this docket number already",
                        "reference",
                        None,
                    ));
                }
                other => other?,
            };
            Ok(Created {
                location: format!("/v1/mediation/cases/{}", case.id),
                body: case_out(&pii, case, Utc::now())?,
            })
        })
    })
    .await
}

/// Cases the caller may see: administrators their subtrees', mediators those
/// assigned to them. `org_id` covers that organisation's subtree;
/// `may_proceed_to_arbitration` applies the fifteen-day rule as of today.
#[utoipa::path(get, path = "/v1/mediation/cases", tag = "mediation", params(CaseQuery),
    responses((status = 200, description = "A page of cases", body = ListResponse<CaseOut>)))]
pub async fn list_cases(
    state: State,
    principal: Principal,
    query: ValidQuery<CaseQuery>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal);
    if viewer.is_nobody() {
        return Err(ApiError::forbidden(
            "cases are for room administrators and mediators",
        ));
    }
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let org_path = match q.org_id {
        Some(org) => {
            let visible = principal.reach(|r| r.administers() || r == Role::Mediator);
            Some(
                org_in_reach(&state.db, &visible, org, "/org_id")
                    .await?
                    .path,
            )
        }
        None => None,
    };
    let worker_id_number_hash = match q.worker_id_number.as_deref().map(IdNumber::parse) {
        Some(id) => Some(state.pii.hash(
            Field::IdNumber,
            id.map_err(|e| refused("/worker_id_number", e))?.as_str(),
        )),
        None => None,
    };
    let filter = CaseFilter {
        org_path,
        status: q.status,
        category: q.category,
        mediator_id: q.mediator_id.map(UserId),
        may_proceed_to_arbitration: q.may_proceed_to_arbitration,
        worker_id_number_hash,
    };
    let now = Utc::now();
    let page = repo::list_cases(&state.db, viewer.scope(), &filter, now, page).await?;
    let items = page
        .items
        .into_iter()
        .map(|c| case_out(&state.pii, c, now))
        .collect::<ApiResult<Vec<_>>>()?;
    ListResponse {
        items,
        next_cursor: page.next_after.map(crate::pagination::encode_cursor),
    }
    .respond()
}

/// Get a case: its room's administrators, or a mediator assigned to it.
#[utoipa::path(get, path = "/v1/mediation/cases/{id}", tag = "mediation",
    params(("id" = Uuid, Path, description = "Case id")),
    responses((status = 200, description = "The case", body = CaseOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get_case(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal);
    let case = found(repo::get_case(&state.db, viewer.scope(), *id).await)?;
    case_response(&state.pii, case)
}

/// Change an open case (its room's administrators). A closed case is a 409.
#[utoipa::path(patch, path = "/v1/mediation/cases/{id}", tag = "mediation", request_body = CasePatch,
    params(("id" = Uuid, Path, description = "Case id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated case", body = CaseOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update_case(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<CasePatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let viewer = Viewer::of(&principal);
    let p = body.value;
    if let Some(fen) = p.claimed_fen {
        rules::check_amount("/claimed_fen", fen).map_err(problem)?;
    }
    let worker = p.worker.unwrap_or(WorkerPatch {
        name: None,
        id_number: None,
        phone: None,
        member_id: None,
    });
    let name = match worker.name.as_deref().map(PersonName::parse) {
        Some(n) => Some(
            n.map_err(|e| refused("/worker/name", e))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let id_number = match worker.id_number.as_deref().map(IdNumber::parse) {
        Some(n) => Some(n.map_err(|e| refused("/worker/id_number", e))?),
        None => None,
    };
    let phone = match worker.phone {
        Some(Some(p)) => Some(Some(seal(
            &state.pii,
            Field::Phone,
            Phone::parse(&p)
                .map_err(|e| refused("/worker/phone", e))?
                .as_str(),
        )?)),
        Some(None) => Some(None),
        None => None,
    };

    let txn = db::begin_write(&state.db).await?;
    let current = found(repo::lock_case(&txn, viewer.managed_scope(), *id).await)?;
    if current.status == CaseStatus::Closed {
        return Err(ApiError::conflict(
            "the case is closed; it can't change any more",
            "status",
            None,
        ));
    }
    let expected = if_match.expect(current.version)?;
    if let Some(date) = p.received_on {
        rules::check_received_on(date, today_in(&current.time_zone, Utc::now())?)
            .map_err(problem)?;
    }
    // The member link must keep naming the worker, whichever of the two changes.
    let member_id = worker
        .member_id
        .unwrap_or(current.worker_member_id.map(|m| m.0));
    if member_id.is_some() && (worker.member_id.is_some() || id_number.is_some()) {
        let clear = match &id_number {
            Some(n) => n.as_str().to_owned(),
            None => unseal(
                &state.pii,
                Field::IdNumber,
                &current.worker_id_number_sealed,
            )?,
        };
        if let Some(m) = member_id {
            check_member(&txn, &state.pii, &reach, m, &clear).await?;
        }
    }
    let changes = CaseChanges {
        reference: p.reference.map(|r| r.map(|text| text.trim().to_owned())),
        worker_name: name,
        worker_id_number: match &id_number {
            Some(n) => Some(seal(&state.pii, Field::IdNumber, n.as_str())?),
            None => None,
        },
        worker_phone: phone,
        worker_member_id: worker.member_id.map(|m| m.map(MemberId)),
        employer_name: p.employer.and_then(|e| e.name).map(|n| n.trim().to_owned()),
        category: p.category,
        claimed_fen: p.claimed_fen,
        channel: p.channel,
        received_on: p.received_on,
    };
    let case = match repo::update_case(&txn, &current, expected, changes).await {
        Err(e) if e.is_conflict_on("reference") => {
            return Err(ApiError::conflict(
                "the room has a case with this docket number already",
                "reference",
                None,
            ));
        }
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    case_response(&state.pii, case)
}

/// Assign a mediator to an open case (its room's administrators): a staff account
/// holding `mediator` at the room's organisation or above (422 on `/user_id`
/// otherwise). The first assignment starts the mediation (`received → in_mediation`);
/// assigning someone twice is a 409 `mediator_assigned`, and a closed case a 409.
#[utoipa::path(post, path = "/v1/mediation/cases/{id}/assignment", tag = "mediation",
    request_body = AssignmentIn,
    params(("id" = Uuid, Path, description = "Case id")),
    responses((status = 200, description = "The case with its mediators", body = CaseOut)))]
pub async fn assign(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<AssignmentIn>,
) -> ApiResult<HttpResponse> {
    principal.require_admin()?;
    let viewer = Viewer::of(&principal);
    let input = body.value;
    let txn = db::begin_write(&state.db).await?;
    let current = found(repo::lock_case(&txn, viewer.managed_scope(), *id).await)?;
    let to_status = CaseAction::Assign.apply(current.status).map_err(illegal)?;
    let mediator = mediator_for(&txn, input.user_id, &current).await?;
    if repo::is_assigned(&txn, current.id, mediator).await? {
        return Err(ApiError::conflict(
            "this mediator is assigned to the case already",
            "mediator_assigned",
            None,
        ));
    }
    let case = match repo::assign(
        &txn,
        &current,
        mediator,
        input.role,
        to_status,
        principal.user_id,
    )
    .await
    {
        Err(StoreError::StaleVersion) => return Err(moved_meanwhile()),
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    case_response(&state.pii, case)
}

/// Close a case with its outcome: its room's administrators or a mediator assigned to
/// it. `agreement` and `no_agreement` need a case in mediation; `withdrawn` and
/// `referred_to_court` may also close a received one. A closed case is a 409, so of
/// two outcomes recorded at once exactly one lands.
#[utoipa::path(post, path = "/v1/mediation/cases/{id}/outcome", tag = "mediation",
    request_body = OutcomeIn,
    params(("id" = Uuid, Path, description = "Case id")),
    responses((status = 200, description = "The closed case", body = CaseOut)))]
pub async fn record_outcome(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<OutcomeIn>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&principal);
    let input = body.value;
    rules::check_outcome(input.outcome, input.agreed_fen).map_err(problem)?;
    let txn = db::begin_write(&state.db).await?;
    let current = found(repo::lock_case(&txn, viewer.scope(), *id).await)?;
    CaseAction::Close(input.outcome)
        .apply(current.status)
        .map_err(illegal)?;
    let today = today_in(&current.time_zone, Utc::now())?;
    let closing = Closing {
        outcome: input.outcome,
        agreed_fen: input.agreed_fen,
        note: input.note.map(|n| n.trim().to_owned()),
        closed_on: rules::closed_on(current.received_on, today),
    };
    let case = match repo::close(&txn, &current, closing, principal.user_id).await {
        Err(StoreError::StaleVersion) => return Err(moved_meanwhile()),
        other => other?,
    };
    txn.commit().await.map_err(StoreError::from)?;
    case_response(&state.pii, case)
}

/// Reveal the worker's full ID number and/or phone: only the room's administrators;
/// every reveal is written to the audit trail (`subject_type` `mediation_case`) with
/// its reason and request id before anything is shown.
#[utoipa::path(post, path = "/v1/mediation/cases/{id}/reveal", tag = "mediation",
    request_body = CaseRevealIn,
    params(("id" = Uuid, Path, description = "Case id")),
    responses((status = 200, description = "The clear values asked for", body = CaseRevealOut)))]
pub async fn reveal(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<CaseRevealIn>,
) -> ApiResult<HttpResponse> {
    principal.require_admin()?;
    let viewer = Viewer::of(&principal);
    let input = body.value;
    let case = found(repo::get_case(&state.db, viewer.managed_scope(), *id).await)?;
    let mut fields: Vec<CaseRevealField> = Vec::with_capacity(2);
    for f in input.fields {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    let mut out = CaseRevealOut {
        id: case.id,
        id_number: None,
        phone: None,
    };
    for f in &fields {
        match f {
            CaseRevealField::IdNumber => {
                out.id_number = Some(unseal(
                    &state.pii,
                    Field::IdNumber,
                    &case.worker_id_number_sealed,
                )?);
            }
            CaseRevealField::Phone => {
                out.phone = Some(match &case.worker_phone_sealed {
                    Some(sealed) => Some(unseal(&state.pii, Field::Phone, sealed)?),
                    None => None,
                });
            }
        }
    }
    audit::record(
        &state.db,
        NewAuditEvent {
            actor_user_id: principal.user_id,
            action: "reveal",
            subject_type: "mediation_case",
            subject_id: case.id,
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

/// A subtree's figures over the cases received from `from` to `to` (both inclusive,
/// either open): accepted, closed, agreements, withdrawn, the success rate
/// (agreements ÷ (closed − withdrawn), two decimals rounded half up, `null` when
/// nothing was decided) and the amounts, by category and by each organisation
/// directly below `org_id`. Administrators, over their reach.
#[utoipa::path(get, path = "/v1/mediation/stats", tag = "mediation", params(MediationStatsQuery),
    responses((status = 200, description = "The figures", body = MediationStatsOut)))]
pub async fn stats(
    state: State,
    principal: Principal,
    query: ValidQuery<MediationStatsQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let q = query.0;
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "/to",
            "range",
            format!("to ({to}) is before from ({from})"),
        )]));
    }
    let org = crate::routes::members::subtree_of(&state.db, &reach, q.org_id).await?;
    let period = Period {
        from: q.from,
        to: q.to,
    };
    let subtree = Reach::over(vec![org.path.clone()]);
    let figures = repo::stats(&state.db, &subtree, period).await?;
    let by_org = repo::stats_by_child(&state.db, &org, period).await?;
    Ok(HttpResponse::Ok().json(MediationStatsOut {
        org_id: org.id.0,
        from: q.from,
        to: q.to,
        totals: figures.total.into(),
        by_category: figures
            .by_category
            .into_iter()
            .map(|(category, t)| CategoryFiguresOut {
                category,
                figures: t.into(),
            })
            .collect(),
        by_org: by_org
            .into_iter()
            .map(|(child, t)| OrgFiguresOut {
                org_id: child.id.0,
                name: child.name,
                figures: t.into(),
            })
            .collect(),
    }))
}

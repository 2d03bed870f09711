//! Competitions: skills contests, speech contests and knowledge quizzes, their
//! lifecycle and their registrations.
//!
//! Who may do what:
//! - `union_admin` / `federation_admin` create competitions for an organisation in
//!   their reach, and see and change those (drafts included); a competition outside
//!   their reach is a 404 to them;
//! - every other signed-in staff account sees the non-draft competitions organised in
//!   its reach or above it; a member sees the non-draft competitions of their union and
//!   the organisations above it (the ones they may enter);
//! - a member registers themself; a union administrator registers a member in their
//!   reach (`member_id`). Either may withdraw the registration until the run starts;
//! - a quiz's administrators write its question bank and alone ever see the answers; a
//!   registered member takes one attempt, whose paper (shuffled per attempt, regenerated
//!   from the attempt's id, never stored) has no field that could carry an answer;
//!   whoever sees the quiz sees its leaderboard;
//! - a skills or speech contest's administrators assign judges (accounts holding the
//!   `judge` role); only those judges score its entrants, and may correct their sheets
//!   until the competition leaves `judging`, every revision kept;
//! - the administrators publish results, which ranks and awards every entrant and
//!   freezes the scores; whoever sees the competition sees them, a member their own.
//!
//! One registration per member and the capacity are enforced by the database (see
//! `unionhall_persistence::competitions`); the rules are the domain's
//! (`unionhall_domain::competitions`).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IdempotencyKey, IfMatch, ValidQuery, ValidatedJson, with_etag};
use crate::idempotency::{self, Created};
use crate::pagination::{ListResponse, PageQuery, page_request};
use crate::routes::members::org_in_reach;
use crate::state::State;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use unionhall_domain::competitions::{
    Applicant, CompetitionKind, CompetitionStatus, CompetitionTerms, Criterion, EntrantEligibility,
    FieldProblem, LeaderboardKey, PaperQuestion, Question, QuestionKind, RankKind,
    RegistrationRefusal, SUBMISSION_GRACE, ScoringMethod, TieBreak, Windows, accepts_submission,
    attempts_open, check_answers, check_registration, check_transition, deadline, leaderboard_rank,
    may_withdraw, paper_seed, score_answers, shuffled_paper, time_taken_ms,
};
use unionhall_domain::competitions::{
    Award, AwardRules, Entry, PrizeTier, Score, ScoreSheet, aggregate, assign_awards,
    judge_conflicts, rank,
};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::roles::Role;
use unionhall_domain::{MemberId, OrgId};
use unionhall_persistence::competitions::{
    self as repo, Attempt, Competition, CompetitionData, CompetitionFilter, CompetitionScope,
    LeaderboardRow, RegisterError, Registration, RegistrationScope, StartError, Submitted,
    UpdateError,
};
use unionhall_persistence::{ConnectionTrait, Db, StoreError, db};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

// ─── Wire types ─────────────────────────────────────────────────────────────

/// A competition: what is contested, by whom, when, and how it is scored and ranked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitionOut {
    pub id: Uuid,
    /// The organiser: members of its subtree may enter.
    pub org_id: Uuid,
    #[schema(example = "2026 年“天工杯”信息技术职业技能竞赛")]
    pub name: String,
    /// Trade or category.
    #[schema(example = "信息技术")]
    pub category: Option<String>,
    pub kind: CompetitionKind,
    pub status: CompetitionStatus,
    /// Registration opens (inclusive).
    pub registration_opens: DateTime<Utc>,
    /// Registration closes (exclusive).
    pub registration_closes: DateTime<Utc>,
    /// The run starts (inclusive): attempts may start, registrations can no longer be
    /// withdrawn.
    pub run_starts: DateTime<Utc>,
    /// The run ends (exclusive).
    pub run_ends: DateTime<Utc>,
    /// Places; `null`: no limit.
    pub capacity: Option<u32>,
    /// Registrations held.
    pub registered: u64,
    pub eligibility: EntrantEligibility,
    /// What judges score (skills and speech contests).
    pub criteria: Vec<Criterion>,
    pub scoring_method: ScoringMethod,
    pub rank_kind: RankKind,
    pub tie_breaks: Vec<TieBreak>,
    /// How long a quiz attempt may last.
    pub time_limit_seconds: Option<u32>,
    /// Whether judges may not score entrants of their own grassroots union.
    pub exclude_own_union_judges: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Competition> for CompetitionOut {
    fn from(c: Competition) -> Self {
        let t = c.terms;
        CompetitionOut {
            id: c.id,
            org_id: c.org_id.0,
            name: c.name,
            category: c.category,
            kind: t.kind,
            status: c.status,
            registration_opens: t.windows.registration_opens,
            registration_closes: t.windows.registration_closes,
            run_starts: t.windows.run_starts,
            run_ends: t.windows.run_ends,
            capacity: t.capacity,
            registered: c.registered,
            eligibility: t.eligibility,
            criteria: t.criteria,
            scoring_method: t.scoring_method,
            rank_kind: t.rank_kind,
            tie_breaks: t.tie_breaks,
            time_limit_seconds: t.time_limit_seconds,
            exclude_own_union_judges: t.exclude_own_union_judges,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new competition; it starts as a `draft`. Windows are half-open, in UTC, and
/// registration closes no later than the run starts.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CompetitionIn {
    /// The organiser; must be in the caller's reach.
    pub org_id: Uuid,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(
        min_length = 1,
        max_length = 100,
        example = "2026 年“天工杯”信息技术职业技能竞赛"
    )]
    pub name: String,
    /// Trade or category.
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "信息技术")]
    pub category: Option<String>,
    pub kind: CompetitionKind,
    pub registration_opens: DateTime<Utc>,
    pub registration_closes: DateTime<Utc>,
    pub run_starts: DateTime<Utc>,
    pub run_ends: DateTime<Utc>,
    /// Places, 1 to 1,000,000; leave out for no limit.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub capacity: Option<u32>,
    /// Who may enter beyond the organiser's subtree rule; everyone when left out.
    #[serde(default)]
    pub eligibility: EntrantEligibility,
    /// Required for skills and speech contests; none for a quiz.
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// `mean` when left out; a quiz ignores it.
    pub scoring_method: Option<ScoringMethod>,
    /// `competition` (1-2-2-4) when left out.
    pub rank_kind: Option<RankKind>,
    /// A quiz takes only `time_taken` (and always ranks by it).
    #[serde(default)]
    pub tie_breaks: Vec<TieBreak>,
    /// Required for a quiz, 1 to 86,400; absent for judged contests.
    #[schema(minimum = 1, maximum = 86_400, example = 1800)]
    pub time_limit_seconds: Option<u32>,
    #[serde(default)]
    pub exclude_own_union_judges: bool,
}

/// Changes to a competition; absent fields stay as they are. `status` moves it along
/// its lifecycle one step at a time. The terms that shape the contest (capacity,
/// eligibility, criteria, scoring, ranking, time limit, judges' conflict rule) change
/// only before the run (`draft`, `registration`); the name, category and windows until
/// results are published.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CompetitionPatch {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub category: Option<Option<String>>,
    /// The next status: `draft → registration → running → judging →
    /// results_published` (a quiz may skip `judging`); leaving `running` only once the
    /// run has ended.
    pub status: Option<CompetitionStatus>,
    pub registration_opens: Option<DateTime<Utc>>,
    pub registration_closes: Option<DateTime<Utc>>,
    pub run_starts: Option<DateTime<Utc>>,
    pub run_ends: Option<DateTime<Utc>>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1_000_000)]
    pub capacity: Option<Option<u32>>,
    pub eligibility: Option<EntrantEligibility>,
    pub criteria: Option<Vec<Criterion>>,
    pub scoring_method: Option<ScoringMethod>,
    pub rank_kind: Option<RankKind>,
    pub tie_breaks: Option<Vec<TieBreak>>,
    /// `null` removes it (judged contests have none).
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 86_400)]
    pub time_limit_seconds: Option<Option<u32>>,
    pub exclude_own_union_judges: Option<bool>,
}

impl CompetitionPatch {
    /// Whether it changes any of the terms frozen once the run starts.
    fn touches_setup(&self) -> bool {
        self.capacity.is_some()
            || self.eligibility.is_some()
            || self.criteria.is_some()
            || self.scoring_method.is_some()
            || self.rank_kind.is_some()
            || self.tie_breaks.is_some()
            || self.time_limit_seconds.is_some()
            || self.exclude_own_union_judges.is_some()
    }
}

/// Competition list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompetitionQuery {
    pub kind: Option<CompetitionKind>,
    pub status: Option<CompetitionStatus>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// A registration: a member registers themself with `{}`; a union administrator
/// registers a member in their reach with `member_id`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct RegistrationIn {
    /// Administrators only: the member registered.
    pub member_id: Option<Uuid>,
}

/// A member's place in a competition.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOut {
    pub id: Uuid,
    pub competition_id: Uuid,
    pub member_id: Uuid,
    /// The member's union when they registered.
    pub member_org_id: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<Registration> for RegistrationOut {
    fn from(r: Registration) -> Self {
        RegistrationOut {
            id: r.id,
            competition_id: r.competition_id,
            member_id: r.member_id.0,
            member_org_id: r.member_org_id.0,
            created_at: r.created_at,
        }
    }
}

// ─── Helpers ────────────────────────────────────────────────────────────────

/// Who is looking, and so which competitions they see.
enum Viewer {
    /// Staff: `read` with any role, `admin` where they administer.
    Staff { read: Reach, admin: Reach },
    /// A member account: its membership, its union's path, and the member's name (for
    /// their own place on a leaderboard).
    Member {
        id: MemberId,
        union: OrgPath,
        name: String,
    },
}

impl Viewer {
    async fn of(db: &impl ConnectionTrait, principal: &Principal) -> ApiResult<Viewer> {
        let read = principal.read_reach();
        if !read.is_empty() {
            return Ok(Viewer::Staff {
                read,
                admin: principal.admin_reach(),
            });
        }
        match principal.member_id {
            Some(own) => {
                let (name, path) = repo::member_and_union_path(db, own).await?;
                Ok(Viewer::Member {
                    id: own,
                    union: path,
                    name,
                })
            }
            None => Err(ApiError::forbidden(
                "competitions need a staff or member account",
            )),
        }
    }

    fn scope(&self) -> CompetitionScope<'_> {
        match self {
            Viewer::Staff { read, admin } => CompetitionScope::Staff { read, admin },
            Viewer::Member { union, .. } => CompetitionScope::Member(union),
        }
    }

    /// Whether the viewer administers the competition's organiser.
    fn manages(&self, c: &Competition) -> bool {
        matches!(self, Viewer::Staff { admin, .. } if admin.covers(&c.org_path))
    }
}

/// A competition the viewer may see; anything else is a 404.
async fn visible(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> ApiResult<Competition> {
    let c = found(repo::get_competition(db, id).await, "competition")?;
    if viewer.scope().admits(&c.org_path, c.status) {
        Ok(c)
    } else {
        Err(ApiError::not_found("competition"))
    }
}

fn found<T>(result: Result<T, StoreError>, what: &str) -> ApiResult<T> {
    match result {
        Err(StoreError::NotFound) => Err(ApiError::not_found(what)),
        other => Ok(other?),
    }
}

fn problems(list: Vec<FieldProblem>) -> ApiError {
    ApiError::validation(
        list.into_iter()
            .map(|p| FieldError::new(p.pointer, p.code, p.detail))
            .collect(),
    )
}

fn trimmed(s: String) -> String {
    s.trim().to_owned()
}

/// The answer to a refused registration: 409 when the competition isn't taking
/// registrations or is full; 422 on `/member_id` when the member may not enter.
fn refused(refusal: RegistrationRefusal, c: &Competition) -> ApiError {
    let code = refusal.as_str();
    match refusal {
        RegistrationRefusal::NotOpen => ApiError::conflict(
            format!(
                "registration isn't open: the competition is {} and registers from {} until {}",
                c.status, c.terms.windows.registration_opens, c.terms.windows.registration_closes
            ),
            code,
            None,
        ),
        RegistrationRefusal::Full => ApiError::conflict(
            format!(
                "all {} places are taken",
                c.terms.capacity.unwrap_or_default()
            ),
            code,
            None,
        ),
        RegistrationRefusal::OutsideOrganiser => ApiError::field(
            "/member_id",
            code,
            "the member's union is outside the organiser's subtree",
        ),
        RegistrationRefusal::NotActive => {
            ApiError::field("/member_id", code, "only active members may register")
        }
        RegistrationRefusal::NotEligible => ApiError::field(
            "/member_id",
            code,
            "the member's occupation isn't one this competition admits",
        ),
    }
}

// ─── Competitions ───────────────────────────────────────────────────────────

/// Create a competition (as a `draft`) for an organisation in the caller's reach
/// (union and federation administrators). Every problem with the terms is listed
/// with its pointer, and nothing is written.
#[utoipa::path(post, path = "/v1/competitions", tag = "competitions", request_body = CompetitionIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = CompetitionOut,
        headers(("Location" = String, description = "The new competition's URL")))))]
pub async fn create_competition(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<CompetitionIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!("POST /v1/competitions {}", body.digest);
    let c = body.value;
    let terms = CompetitionTerms {
        kind: c.kind,
        windows: Windows {
            registration_opens: c.registration_opens,
            registration_closes: c.registration_closes,
            run_starts: c.run_starts,
            run_ends: c.run_ends,
        },
        capacity: c.capacity,
        eligibility: c.eligibility,
        criteria: c.criteria,
        scoring_method: c.scoring_method.unwrap_or(ScoringMethod::Mean),
        rank_kind: c.rank_kind.unwrap_or(RankKind::Competition),
        tie_breaks: c.tie_breaks,
        time_limit_seconds: c.time_limit_seconds,
        exclude_own_union_judges: c.exclude_own_union_judges,
    };
    terms.validate().map_err(problems)?;
    let data = CompetitionData {
        name: trimmed(c.name),
        category: c.category.map(trimmed),
        terms,
    };
    let org_id = c.org_id;
    let by = principal.user_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            org_in_reach(txn, &reach, org_id, "/org_id").await?;
            let competition = repo::insert_competition(txn, OrgId(org_id), data, by).await?;
            Ok(Created {
                location: format!("/v1/competitions/{}", competition.id),
                body: CompetitionOut::from(competition),
            })
        })
    })
    .await
}

/// Competitions the caller may see: administrators, those organised in their reach
/// (drafts included); other staff and members, the non-draft ones of their
/// organisations and those above. Filter by kind and status.
#[utoipa::path(get, path = "/v1/competitions", tag = "competitions", params(CompetitionQuery),
    responses((status = 200, description = "A page of competitions", body = ListResponse<CompetitionOut>)))]
pub async fn list_competitions(
    state: State,
    principal: Principal,
    query: ValidQuery<CompetitionQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let viewer = Viewer::of(&state.db, &principal).await?;
    let filter = CompetitionFilter {
        kind: q.kind,
        status: q.status,
    };
    let page = repo::list_competitions(&state.db, viewer.scope(), &filter, page).await?;
    ListResponse::from_page(page, CompetitionOut::from).respond()
}

/// Get a competition the caller may see.
#[utoipa::path(get, path = "/v1/competitions/{id}", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id")),
    responses((status = 200, description = "The competition", body = CompetitionOut,
        headers(("ETag" = String, description = "Send as If-Match to update")))))]
pub async fn get_competition(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let viewer = Viewer::of(&state.db, &principal).await?;
    let c = visible(&state.db, &viewer, *id).await?;
    let version = c.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(CompetitionOut::from(c)))
}

/// Change a competition the caller administers, or move it along its lifecycle.
/// A step the lifecycle lacks, or leaving `running` before the run has ended, is a
/// 409 naming why (`transition_not_allowed`, `run_not_over`); changing the contest's
/// terms once it runs is a 409 `setup_frozen`; nothing changes after results are
/// published (409 `results_published`).
#[utoipa::path(patch, path = "/v1/competitions/{id}", tag = "competitions",
    request_body = CompetitionPatch,
    params(("id" = Uuid, Path, description = "Competition id"), crate::openapi::IfMatchHeader),
    responses((status = 200, description = "The updated competition", body = CompetitionOut,
        headers(("ETag" = String, description = "The new version's tag")))))]
pub async fn update_competition(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<CompetitionPatch>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let p = body.value;
    let txn = db::begin_write(&state.db).await?;
    let current = found(repo::get_competition(&txn, *id).await, "competition")?;
    if !reach.covers(&current.org_path) {
        return Err(ApiError::not_found("competition"));
    }
    let expected = if_match.expect(current.version)?.unwrap_or(current.version);
    if current.status.is_final() {
        return Err(ApiError::conflict(
            "results are published; the competition can no longer change",
            "results_published",
            None,
        ));
    }
    if p.touches_setup() && !current.status.setup_editable() {
        return Err(ApiError::conflict(
            format!(
                "the competition is {}: its terms are frozen once the run starts (only the \
                 name, category, windows and status may change)",
                current.status
            ),
            "setup_frozen",
            None,
        ));
    }
    let t = &current.terms;
    let terms = CompetitionTerms {
        kind: t.kind,
        windows: Windows {
            registration_opens: p.registration_opens.unwrap_or(t.windows.registration_opens),
            registration_closes: p
                .registration_closes
                .unwrap_or(t.windows.registration_closes),
            run_starts: p.run_starts.unwrap_or(t.windows.run_starts),
            run_ends: p.run_ends.unwrap_or(t.windows.run_ends),
        },
        capacity: p.capacity.unwrap_or(t.capacity),
        eligibility: p.eligibility.unwrap_or_else(|| t.eligibility.clone()),
        criteria: p.criteria.unwrap_or_else(|| t.criteria.clone()),
        scoring_method: p.scoring_method.unwrap_or(t.scoring_method),
        rank_kind: p.rank_kind.unwrap_or(t.rank_kind),
        tie_breaks: p.tie_breaks.unwrap_or_else(|| t.tie_breaks.clone()),
        time_limit_seconds: p.time_limit_seconds.unwrap_or(t.time_limit_seconds),
        exclude_own_union_judges: p
            .exclude_own_union_judges
            .unwrap_or(t.exclude_own_union_judges),
    };
    terms.validate().map_err(problems)?;
    let status = match p.status {
        Some(to) if to != current.status => {
            check_transition(current.status, to, t.kind, &terms.windows, Utc::now())
                .map_err(|e| ApiError::conflict(e.to_string(), e.code(), None))?;
            if to == CompetitionStatus::ResultsPublished {
                return Err(ApiError::field(
                    "/status",
                    "not_settable",
                    "results are published with POST /v1/competitions/{id}/results, which \
                     freezes the scores and assigns the awards",
                ));
            }
            to
        }
        _ => current.status,
    };
    let data = CompetitionData {
        name: p.name.map_or(current.name, trimmed),
        category: p.category.map_or(current.category, |c| c.map(trimmed)),
        terms,
    };
    let updated = match repo::update_competition(&txn, current.id, expected, status, data).await {
        Ok(c) => c,
        Err(UpdateError::BelowRegistered { registered }) => {
            return Err(ApiError::field(
                "/capacity",
                "below_registered",
                format!("{registered} members are registered already"),
            ));
        }
        Err(UpdateError::Store(e)) => return Err(e.into()),
    };
    txn.commit().await.map_err(StoreError::from)?;
    let version = updated.version;
    Ok(with_etag(&mut HttpResponse::Ok(), version).json(CompetitionOut::from(updated)))
}

// ─── Registrations ──────────────────────────────────────────────────────────

/// Register for a competition: a member for themself (`{}`), a union administrator
/// for a member in their reach (`member_id`). The competition must be in
/// `registration` and inside its window (409 `not_open`) with a place left (409
/// `full`); the member active, in the organiser's subtree and of an admitted
/// occupation (422 on `/member_id`). A second registration of the member is a 409
/// `one_registration_per_member` naming the first. Both limits are enforced by the
/// database, so concurrent requests can't exceed them.
#[utoipa::path(post, path = "/v1/competitions/{id}/registrations", tag = "competitions",
    request_body = RegistrationIn,
    params(("id" = Uuid, Path, description = "Competition id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Registered", body = RegistrationOut,
        headers(("Location" = String, description = "The competition's registrations")))))]
pub async fn register(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ValidatedJson<RegistrationIn>,
) -> ApiResult<HttpResponse> {
    let admin = principal.admin_reach();
    let own = principal.member_id.filter(|_| admin.is_empty());
    let member_id = match (own, body.value.member_id) {
        (Some(own), Some(other)) if other != own.0 => {
            return Err(ApiError::field(
                "/member_id",
                "own_only",
                "members register themselves; leave member_id out",
            ));
        }
        (Some(own), _) => own,
        (None, _) if admin.is_empty() => {
            return Err(ApiError::forbidden(
                "registering needs a member account, or the union_admin or federation_admin \
                 role",
            ));
        }
        (None, Some(member)) => MemberId(member),
        (None, None) => {
            return Err(ApiError::field(
                "/member_id",
                "required",
                "administrators register a member: name them with member_id",
            ));
        }
    };
    let competition_id = *id;
    let fingerprint = format!(
        "POST /v1/competitions/{competition_id}/registrations {}",
        body.digest
    );
    let by = principal.user_id;
    let now = Utc::now();
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let viewer = Viewer::of(txn, &principal).await?;
            let c = visible(txn, &viewer, competition_id).await?;
            let member = if own.is_some() {
                unionhall_persistence::members::get_own(txn, member_id).await?
            } else {
                match unionhall_persistence::members::get(txn, &admin, member_id.0).await {
                    Err(StoreError::NotFound) => {
                        return Err(ApiError::field(
                            "/member_id",
                            "not_found",
                            "no such member in your reach",
                        ));
                    }
                    other => other?,
                }
            };
            let union_path = repo::org_path(txn, member.org_id).await?;
            let applicant = Applicant {
                status: member.status,
                occupation: member.occupation,
                union_path: &union_path,
            };
            check_registration(
                &c.terms,
                c.status,
                &c.org_path,
                &applicant,
                c.registered,
                now,
            )
            .map_err(|r| refused(r, &c))?;
            let registration = match repo::register(txn, c.id, member.id, member.org_id, by).await {
                Ok(r) => r,
                Err(RegisterError::AlreadyRegistered { existing }) => {
                    return Err(ApiError::conflict(
                        "the member is registered for this competition already",
                        "one_registration_per_member",
                        Some(existing.to_string()),
                    ));
                }
                Err(RegisterError::Full) => {
                    return Err(refused(RegistrationRefusal::Full, &c));
                }
                Err(RegisterError::Store(e)) => return Err(e.into()),
            };
            Ok(Created {
                location: format!("/v1/competitions/{}/registrations", c.id),
                body: RegistrationOut::from(registration),
            })
        })
    })
    .await
}

/// A competition's registrations: all of them to the organiser's administrators;
/// those of members in their reach to other union administrators; a member's own to
/// the member.
#[utoipa::path(get, path = "/v1/competitions/{id}/registrations", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id"), PageQuery),
    responses((status = 200, description = "A page of registrations", body = ListResponse<RegistrationOut>)))]
pub async fn list_registrations(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = page_request(&state.config, query.0.limit, query.0.cursor.as_deref())?;
    let viewer = Viewer::of(&state.db, &principal).await?;
    let c = visible(&state.db, &viewer, *id).await?;
    let scope = match &viewer {
        _ if viewer.manages(&c) => RegistrationScope::All,
        Viewer::Staff { admin, .. } if !admin.is_empty() => RegistrationScope::Unions(admin),
        Viewer::Staff { .. } => {
            return Err(ApiError::forbidden(
                "registrations are for administrators and the members registered",
            ));
        }
        Viewer::Member { id, .. } => RegistrationScope::Member(*id),
    };
    let page = repo::list_registrations(&state.db, c.id, scope, page).await?;
    ListResponse::from_page(page, RegistrationOut::from).respond()
}

/// Withdraw a registration, freeing its place: the member themself, the organiser's
/// administrators, or a union administrator whose reach covers the member's union.
/// Only until the run starts (409 `withdrawal_closed`).
#[utoipa::path(delete, path = "/v1/competitions/{id}/registrations/{rid}", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id"),
        ("rid" = Uuid, Path, description = "Registration id")),
    responses((status = 204, description = "Withdrawn")))]
pub async fn withdraw(
    state: State,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (competition_id, registration_id) = path.into_inner();
    let viewer = Viewer::of(&state.db, &principal).await?;
    let txn = db::begin_write(&state.db).await?;
    let c = visible(&txn, &viewer, competition_id).await?;
    let reg = found(
        repo::get_registration(&txn, c.id, registration_id).await,
        "registration",
    )?;
    let allowed = match &viewer {
        _ if viewer.manages(&c) => true,
        Viewer::Staff { admin, .. } => {
            admin.covers(&repo::org_path(&txn, reg.member_org_id).await?)
        }
        Viewer::Member { id, .. } => *id == reg.member_id,
    };
    if !allowed {
        return Err(ApiError::not_found("registration"));
    }
    if !may_withdraw(c.status, &c.terms.windows, Utc::now()) {
        return Err(ApiError::conflict(
            format!(
                "registrations can be withdrawn only until the run starts ({}); the \
                 competition is {}",
                c.terms.windows.run_starts, c.status
            ),
            "withdrawal_closed",
            None,
        ));
    }
    found(repo::withdraw(&txn, &reg).await, "registration")?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(HttpResponse::NoContent().finish())
}

// ─── Quizzes ────────────────────────────────────────────────────────────────

/// A question for a quiz's bank, with its answer.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct QuestionIn {
    pub kind: QuestionKind,
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "中国共产党第一次全国代表大会在哪里召开？"
    )]
    pub prompt: String,
    /// In the order to show before shuffling: 2 to 8 (true/false: exactly 2).
    #[schema(min_items = 2, max_items = 8, example = json!(["上海", "北京", "南昌", "遵义"]))]
    pub options: Vec<String>,
    /// Indexes into `options` of the correct ones: exactly one unless multiple choice.
    #[schema(example = json!([0]))]
    pub correct: Vec<usize>,
    /// 1 to 100.
    #[schema(minimum = 1, maximum = 100, example = 5)]
    pub points: u32,
}

/// A question with its answer, as the quiz's administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionOut {
    pub id: Uuid,
    pub competition_id: Uuid,
    pub kind: QuestionKind,
    pub prompt: String,
    pub options: Vec<String>,
    /// Indexes into `options` of the correct ones. Administrators only.
    pub correct: Vec<usize>,
    pub points: u32,
}

fn question_out(competition_id: Uuid, q: Question) -> QuestionOut {
    QuestionOut {
        id: q.id,
        competition_id,
        kind: q.kind,
        prompt: q.prompt,
        options: q.options,
        correct: q.correct,
        points: q.points,
    }
}

/// Answers on an attempt's paper: question id → the option keys chosen (`["A"]`; an
/// empty list clears the answer).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AnswersIn {
    #[schema(value_type = Object, example = json!({"0192f0c4-7b7e-7c3a-9d5e-3f1a2b4c5d6e": ["B"]}))]
    pub answers: BTreeMap<Uuid, BTreeSet<String>>,
}

/// A final submission: answers given here override those saved for the same
/// questions; left out, the saved answers are submitted.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SubmissionIn {
    #[schema(value_type = Option<Object>)]
    pub answers: Option<BTreeMap<Uuid, BTreeSet<String>>>,
}

/// What a submitted attempt scored.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResult {
    pub score: u32,
    pub max_score: u32,
    /// Questions answered right.
    pub right_count: u32,
    pub answered_count: u32,
    /// From the start to the submission, counted no further than the deadline.
    pub time_taken_ms: i64,
    pub submitted_at: DateTime<Utc>,
}

/// A quiz attempt as its member sees it: the paper in this attempt's own order with
/// shuffled options (no question carries its answer), what was saved, and the result
/// once submitted.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    pub id: Uuid,
    pub competition_id: Uuid,
    pub member_id: Uuid,
    pub started_at: DateTime<Utc>,
    /// The start plus the time limit, or the end of the run if sooner. A submission is
    /// accepted up to 10 seconds after it, for the network.
    pub deadline: DateTime<Utc>,
    pub paper: Vec<PaperQuestion>,
    #[schema(value_type = Object)]
    pub answers: BTreeMap<Uuid, BTreeSet<String>>,
    pub result: Option<AttemptResult>,
}

fn attempt_out(a: Attempt, deadline: DateTime<Utc>, bank: &[Question]) -> AttemptOut {
    AttemptOut {
        id: a.id,
        competition_id: a.competition_id,
        member_id: a.member_id.0,
        started_at: a.started_at,
        deadline,
        paper: shuffled_paper(bank, paper_seed(a.id)),
        answers: a.answers,
        result: a.submitted.map(|s| AttemptResult {
            score: s.score.score,
            max_score: s.score.max_score,
            right_count: s.score.correct_count,
            answered_count: s.score.answered_count,
            time_taken_ms: s.time_taken_ms,
            submitted_at: s.at,
        }),
    }
}

/// Leaderboard paging.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// One place on the leaderboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderboardEntry {
    /// By the competition's rank kind: attempts with the same score in the same time
    /// share it.
    pub rank: u64,
    pub attempt_id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub score: i64,
    pub max_score: i64,
    pub time_taken_ms: i64,
}

/// A page of the leaderboard: score descending, then time taken ascending.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderboardOut {
    pub rank_kind: RankKind,
    pub items: Vec<LeaderboardEntry>,
    pub next_cursor: Option<String>,
    /// The caller's own place, when they have a submitted attempt.
    pub own: Option<LeaderboardEntry>,
}

/// A quiz the viewer may see; another kind is a 404 to quiz routes.
async fn visible_quiz(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<Competition> {
    let c = visible(db, viewer, id).await?;
    if c.terms.kind != CompetitionKind::Quiz {
        return Err(ApiError::not_found("quiz"));
    }
    Ok(c)
}

fn attempt_deadline(c: &Competition, a: &Attempt) -> DateTime<Utc> {
    let limit = c.terms.time_limit().unwrap_or_default();
    deadline(a.started_at, limit, c.terms.windows.run_ends)
}

fn already_submitted(id: Uuid) -> ApiError {
    ApiError::conflict(
        "the attempt was submitted already; it can't change",
        "already_submitted",
        Some(id.to_string()),
    )
}

fn too_late(deadline: DateTime<Utc>) -> ApiError {
    ApiError::conflict(
        format!(
            "the deadline was {deadline} (plus {} seconds' grace for the network); the attempt \
             is closed",
            SUBMISSION_GRACE.num_seconds()
        ),
        "deadline_passed",
        None,
    )
}

/// The caller's own attempt (a 404 to anyone else) and its quiz.
async fn own_attempt(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> ApiResult<(Attempt, Competition)> {
    let own = principal
        .member_id
        .ok_or_else(|| ApiError::not_found("attempt"))?;
    let (a, c) = found(repo::get_attempt_with_quiz(db, id).await, "attempt")?;
    if a.member_id != own {
        return Err(ApiError::not_found("attempt"));
    }
    Ok((a, c))
}

/// Add a question to a quiz's bank (its administrators, before the run). Every problem
/// with it is listed with its pointer.
#[utoipa::path(post, path = "/v1/competitions/{id}/questions", tag = "competitions",
    request_body = QuestionIn,
    params(("id" = Uuid, Path, description = "Competition id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = QuestionOut,
        headers(("Location" = String, description = "The quiz's question bank")))))]
pub async fn create_question(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ValidatedJson<QuestionIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let competition_id = *id;
    let fingerprint = format!(
        "POST /v1/competitions/{competition_id}/questions {}",
        body.digest
    );
    let q = body.value;
    let question = Question {
        id: Uuid::now_v7(),
        kind: q.kind,
        prompt: q.prompt.trim().to_owned(),
        options: q.options.into_iter().map(trimmed).collect(),
        correct: q.correct,
        points: q.points,
    };
    question.validate().map_err(problems)?;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let c = found(
                repo::get_competition(txn, competition_id).await,
                "competition",
            )?;
            if !reach.covers(&c.org_path) || c.terms.kind != CompetitionKind::Quiz {
                return Err(ApiError::not_found("quiz"));
            }
            if !c.status.setup_editable() {
                return Err(ApiError::conflict(
                    format!(
                        "the quiz is {}: its question bank is frozen once the run starts",
                        c.status
                    ),
                    "setup_frozen",
                    None,
                ));
            }
            let stored = repo::insert_question(txn, c.id, &question).await?;
            Ok(Created {
                location: format!("/v1/competitions/{}/questions", c.id),
                body: question_out(c.id, stored),
            })
        })
    })
    .await
}

/// A quiz's question bank, with the answers: its administrators only. Everyone else
/// sees questions only on their own attempt's paper, without answers (403 here).
#[utoipa::path(get, path = "/v1/competitions/{id}/questions", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id"), PageQuery),
    responses((status = 200, description = "A page of questions", body = ListResponse<QuestionOut>)))]
pub async fn list_questions(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = page_request(&state.config, query.0.limit, query.0.cursor.as_deref())?;
    let viewer = Viewer::of(&state.db, &principal).await?;
    let c = visible_quiz(&state.db, &viewer, *id).await?;
    if !viewer.manages(&c) {
        return Err(ApiError::forbidden(
            "the question bank is for the quiz's administrators; entrants see questions on \
             their attempt's paper",
        ));
    }
    let page = repo::list_questions(&state.db, c.id, page).await?;
    ListResponse::from_page(page, |q| question_out(c.id, q)).respond()
}

/// Start the caller's one attempt at a quiz they registered for, while it runs
/// (`running` and inside the run window; 409 `not_running` otherwise). Returns the
/// paper, in this attempt's own order with shuffled options and no answers, and the
/// deadline. A second start is a 409 `one_attempt_per_member` naming the first,
/// enforced by the database.
#[utoipa::path(post, path = "/v1/competitions/{id}/attempts", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Started", body = AttemptOut,
        headers(("Location" = String, description = "The attempt's URL")))))]
pub async fn start_attempt(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
) -> ApiResult<HttpResponse> {
    let own = principal
        .member_id
        .ok_or_else(|| ApiError::forbidden("only members take quizzes"))?;
    let competition_id = *id;
    let fingerprint = format!("POST /v1/competitions/{competition_id}/attempts");
    let now = Utc::now();
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let viewer = Viewer::of(txn, &principal).await?;
            let c = visible_quiz(txn, &viewer, competition_id).await?;
            if !attempts_open(c.status, &c.terms.windows, now) {
                return Err(ApiError::conflict(
                    format!(
                        "the quiz isn't running: it is {} and runs from {} until {}",
                        c.status, c.terms.windows.run_starts, c.terms.windows.run_ends
                    ),
                    "not_running",
                    None,
                ));
            }
            if repo::find_registration(txn, c.id, own).await?.is_none() {
                return Err(ApiError::conflict(
                    "only members registered for the quiz may take it",
                    "not_registered",
                    None,
                ));
            }
            let attempt = match repo::start_attempt(txn, c.id, own, now).await {
                Ok(a) => a,
                Err(StartError::AlreadyStarted { existing }) => {
                    return Err(ApiError::conflict(
                        "you have started your attempt at this quiz already",
                        "one_attempt_per_member",
                        Some(existing.to_string()),
                    ));
                }
                Err(StartError::Store(e)) => return Err(e.into()),
            };
            let bank = repo::bank(txn, c.id).await?;
            let deadline = attempt_deadline(&c, &attempt);
            Ok(Created {
                location: format!("/v1/attempts/{}", attempt.id),
                body: attempt_out(attempt, deadline, &bank),
            })
        })
    })
    .await
}

/// The caller's own attempt: the paper again (the same order), what was saved, and
/// the result once submitted.
#[utoipa::path(get, path = "/v1/attempts/{id}", tag = "competitions",
    params(("id" = Uuid, Path, description = "Attempt id")),
    responses((status = 200, description = "The attempt", body = AttemptOut)))]
pub async fn get_attempt(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let (a, c) = own_attempt(&state.db, &principal, *id).await?;
    let bank = repo::bank(&state.db, c.id).await?;
    let deadline = attempt_deadline(&c, &a);
    Ok(HttpResponse::Ok().json(attempt_out(a, deadline, &bank)))
}

/// Save answers on the caller's attempt before submitting (replacing what was saved),
/// until the deadline plus the grace (409 `deadline_passed`); never after submitting
/// (409 `already_submitted`).
#[utoipa::path(put, path = "/v1/attempts/{id}/answers", tag = "competitions",
    request_body = AnswersIn,
    params(("id" = Uuid, Path, description = "Attempt id")),
    responses((status = 200, description = "The attempt with the answers saved", body = AttemptOut)))]
pub async fn save_answers(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<AnswersIn>,
) -> ApiResult<HttpResponse> {
    let answers = body.value.answers;
    let (a, c) = own_attempt(&state.db, &principal, *id).await?;
    if a.submitted.is_some() {
        return Err(already_submitted(a.id));
    }
    let deadline = attempt_deadline(&c, &a);
    if !accepts_submission(Utc::now(), deadline, SUBMISSION_GRACE) {
        return Err(too_late(deadline));
    }
    let bank = repo::bank(&state.db, c.id).await?;
    check_answers(&bank, &answers, paper_seed(a.id)).map_err(problems)?;
    if !repo::save_answers(&state.db, a.id, &answers).await? {
        return Err(already_submitted(a.id));
    }
    // The conditional update wrote exactly these: no need to read them back.
    let saved = Attempt { answers, ..a };
    Ok(HttpResponse::Ok().json(attempt_out(saved, deadline, &bank)))
}

/// Submit the caller's attempt and score it. Refused after the deadline plus 10
/// seconds' grace (409 `deadline_passed`) and a second time (409
/// `already_submitted`); a retry with the same `Idempotency-Key` replays the result.
#[utoipa::path(post, path = "/v1/attempts/{id}/submission", tag = "competitions",
    request_body = SubmissionIn,
    params(("id" = Uuid, Path, description = "Attempt id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Submitted and scored", body = AttemptOut,
        headers(("Location" = String, description = "The attempt's URL")))))]
pub async fn submit(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ValidatedJson<SubmissionIn>,
) -> ApiResult<HttpResponse> {
    let attempt_id = *id;
    let fingerprint = format!("POST /v1/attempts/{attempt_id}/submission {}", body.digest);
    let given = body.value.answers.unwrap_or_default();
    // To the microsecond, as both databases keep it: the answer below is built from
    // what was written, and must equal what a later read of the attempt gives.
    let now = Utc::now().trunc_subsecs(6);
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let (a, c) = own_attempt(txn, &principal, attempt_id).await?;
            if a.submitted.is_some() {
                return Err(already_submitted(a.id));
            }
            if c.status.is_final() {
                return Err(ApiError::conflict(
                    "results are published; the quiz is closed",
                    "results_published",
                    None,
                ));
            }
            let deadline = attempt_deadline(&c, &a);
            if !accepts_submission(now, deadline, SUBMISSION_GRACE) {
                return Err(too_late(deadline));
            }
            let bank = repo::bank(txn, c.id).await?;
            let seed = paper_seed(a.id);
            check_answers(&bank, &given, seed).map_err(problems)?;
            let mut answers = a.answers.clone();
            answers.extend(given);
            let outcome = Submitted {
                at: now,
                score: score_answers(&bank, &answers, seed),
                time_taken_ms: time_taken_ms(a.started_at, now, deadline),
            };
            if !repo::submit(txn, a.id, &answers, outcome).await? {
                return Err(already_submitted(a.id));
            }
            // The conditional update wrote exactly these: no need to read them back.
            let done = Attempt {
                answers,
                submitted: Some(outcome),
                ..a
            };
            Ok(Created {
                location: format!("/v1/attempts/{}", a.id),
                body: attempt_out(done, deadline, &bank),
            })
        })
    })
    .await
}

fn entry(row: LeaderboardRow, rank: u64) -> LeaderboardEntry {
    LeaderboardEntry {
        rank,
        attempt_id: row.key.attempt_id,
        member_id: row.member_id.0,
        member_name: row.member_name,
        score: row.key.score,
        max_score: row.max_score,
        time_taken_ms: row.key.time_taken_ms,
    }
}

/// A quiz's leaderboard (whoever may see the quiz): submitted attempts by score
/// descending, then time taken ascending, ranked by the quiz's rank kind, paged with
/// cursors, with the caller's own place. Each page costs a range scan and three counts
/// on the leaderboard index, however many attempts there are.
#[utoipa::path(get, path = "/v1/competitions/{id}/leaderboard", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id"), LeaderboardQuery),
    responses((status = 200, description = "A page of the leaderboard", body = LeaderboardOut)))]
pub async fn leaderboard(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<LeaderboardQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let limit = page_request(&state.config, q.limit, None)?.limit;
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(LeaderboardKey::from_cursor(c).ok_or_else(|| {
            ApiError::field("/cursor", "cursor", "cursor is not one this service issued")
        })?),
    };
    // Reads only, on the read pool: a board polled during a quiz's rush of
    // submissions doesn't wait behind their transactions for a connection.
    let db = &state.reads;
    let viewer = Viewer::of(db, &principal).await?;
    // The top of a board is what everyone polls: served from the instance's cache
    // (never older than `leaderboard_cache_ms`, refreshed in the background before
    // then), read here only when the cache has nothing fresh enough.
    let cached = match after {
        None => state.boards.top(*id, limit),
        Some(_) => None,
    };
    let (c, mut rows) = match cached {
        Some((top, refresh)) => {
            if refresh {
                let (boards, reads, id) = (state.boards.clone(), state.reads.clone(), *id);
                actix_web::rt::spawn(async move { boards.refresh(&reads, id, limit).await });
            }
            (top.0.clone(), top.1.clone())
        }
        None => {
            let read_at = std::time::Instant::now();
            let page = read_page(db, *id, after, limit).await?;
            if after.is_none() {
                state.boards.keep(*id, limit, page.clone(), read_at);
            }
            page
        }
    };
    // Who may see it is the caller's own, checked on every request.
    if !viewer.scope().admits(&c.org_path, c.status) {
        return Err(ApiError::not_found("competition"));
    }
    if c.terms.kind != CompetitionKind::Quiz {
        return Err(ApiError::not_found("quiz"));
    }
    let kind = c.terms.rank_kind;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| rows.last().map(|r| r.key.to_cursor()))
        .flatten();

    let mut items = Vec::with_capacity(rows.len());
    if let Some(first) = rows.first() {
        // The first page starts at the top: nothing is ahead of its first row.
        let (better, better_results, before) = match after {
            None => (0, 0, 0),
            Some(_) => repo::count_ahead(db, c.id, &first.key).await?,
        };
        let mut group_results = better_results;
        let mut rank = leaderboard_rank(kind, better, better_results);
        let mut previous: Option<LeaderboardKey> = None;
        for (i, row) in rows.into_iter().enumerate() {
            if let Some(prev) = previous
                && !prev.ties_with(&row.key)
            {
                // Everything before this row on the board ranks strictly ahead of it.
                group_results += 1;
                rank = leaderboard_rank(kind, before + i as u64, group_results);
            }
            previous = Some(row.key);
            items.push(entry(row, rank));
        }
    }
    let own = match &viewer {
        Viewer::Member {
            id: member, name, ..
        } => match repo::find_attempt(db, c.id, *member).await? {
            Some(a) => match a.submitted {
                Some(s) => {
                    let key = LeaderboardKey {
                        score: i64::from(s.score.score),
                        time_taken_ms: s.time_taken_ms,
                        attempt_id: a.id,
                    };
                    let (better, better_results, _) = repo::count_ahead(db, c.id, &key).await?;
                    Some(entry(
                        LeaderboardRow {
                            key,
                            member_id: *member,
                            member_name: name.clone(),
                            max_score: i64::from(s.score.max_score),
                            submitted_at: Some(s.at),
                        },
                        leaderboard_rank(kind, better, better_results),
                    ))
                }
                None => None,
            },
            None => None,
        },
        _ => None,
    };
    Ok(HttpResponse::Ok().json(LeaderboardOut {
        rank_kind: kind,
        items,
        next_cursor,
        own,
    }))
}

/// A competition with `limit + 1` rows of its board from a cursor (a quiz's; none for
/// other kinds); from the start, it is the top the cache keeps.
type Top = (Competition, Vec<LeaderboardRow>);

/// Reads a page of a board from the database (`after` None: its top).
async fn read_page(db: &Db, id: Uuid, after: Option<LeaderboardKey>, limit: u64) -> ApiResult<Top> {
    let c = found(repo::get_competition(db, id).await, "competition")?;
    let rows = match c.terms.kind {
        CompetitionKind::Quiz => repo::leaderboard_page(db, c.id, after, limit + 1).await?,
        _ => Vec::new(),
    };
    Ok((c, rows))
}

/// The first page of each quiz's leaderboard, kept for a moment: during a quiz
/// hundreds of thousands of entrants poll the same top 50, and every one of them asking
/// the database for it would queue behind the submissions it is meant to show. One per
/// instance, shared by its workers; `ttl` 0 turns it off.
///
/// A top is never served older than `ttl`. Once it is half that old, the next request
/// is still served from memory and starts one background read to replace it, so a
/// board polled steadily is always answered from memory: no viewer waits for the read
/// (which, under a rush of submissions, is the slowest thing a board request does).
pub struct Boards {
    ttl: std::time::Duration,
    tops: std::sync::Mutex<HashMap<(Uuid, u64), CachedTop>>,
}

struct CachedTop {
    read_at: std::time::Instant,
    top: std::sync::Arc<Top>,
    /// A background read to replace this top has started and not yet finished.
    refreshing: bool,
}

/// Entries past which expired ones are swept out on the next insert.
const BOARDS_SWEEP_FROM: usize = 1024;

impl Boards {
    pub fn new(ttl: std::time::Duration) -> Self {
        Boards {
            ttl,
            tops: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The top of this board if read within `ttl`, and whether the caller should start
    /// its refresh (`refresh`): true for exactly one caller once the top is half `ttl`
    /// old, until that refresh has finished.
    fn top(&self, id: Uuid, limit: u64) -> Option<(std::sync::Arc<Top>, bool)> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut tops = self.tops.lock().ok()?;
        let cached = tops.get_mut(&(id, limit))?;
        let age = cached.read_at.elapsed();
        if age >= self.ttl {
            return None;
        }
        let refresh = age >= self.ttl / 2 && !cached.refreshing;
        cached.refreshing |= refresh;
        Some((cached.top.clone(), refresh))
    }

    /// Keeps a top read from the database; `read_at` is when that read began.
    fn keep(&self, id: Uuid, limit: u64, top: Top, read_at: std::time::Instant) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut tops) = self.tops.lock() {
            if tops.len() >= BOARDS_SWEEP_FROM {
                let ttl = self.ttl;
                tops.retain(|_, cached| cached.read_at.elapsed() < ttl);
            }
            let cached = CachedTop {
                read_at,
                top: std::sync::Arc::new(top),
                refreshing: false,
            };
            tops.insert((id, limit), cached);
        }
    }

    /// Reads this top again and keeps it. A failed read leaves the old top to expire
    /// and lets the next request try again.
    async fn refresh(&self, db: &Db, id: Uuid, limit: u64) {
        let read_at = std::time::Instant::now();
        match read_page(db, id, None, limit).await {
            Ok(top) => self.keep(id, limit, top, read_at),
            Err(e) => {
                tracing::warn!(competition = %id, error = %e, "leaderboard refresh failed");
                if let Ok(mut tops) = self.tops.lock()
                    && let Some(cached) = tops.get_mut(&(id, limit))
                {
                    cached.refreshing = false;
                }
            }
        }
    }
}

// ─── Judges and scores ──────────────────────────────────────────────────────

/// A judge to assign: a staff account holding the `judge` role, in the caller's reach.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct JudgeIn {
    pub user_id: Uuid,
}

/// A judge of a competition.
#[derive(Debug, Serialize, ToSchema)]
pub struct JudgeOut {
    pub competition_id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<repo::Judge> for JudgeOut {
    fn from(j: repo::Judge) -> Self {
        JudgeOut {
            competition_id: j.competition_id,
            user_id: j.user_id.0,
            created_at: j.created_at,
        }
    }
}

/// The judges of a competition.
#[derive(Debug, Serialize, ToSchema)]
pub struct JudgeList {
    pub items: Vec<JudgeOut>,
}

/// A judge's sheet for one entrant: every criterion scored, in hundredths of a point
/// (`8750` is 87.50), 0 to the criterion's maximum. Sending it again corrects it.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SheetIn {
    /// The entrant's registration.
    pub registration_id: Uuid,
    #[schema(value_type = Object, example = json!({"technique": 6450, "safety": 2800}))]
    pub scores: BTreeMap<String, i64>,
}

/// One revision of a sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetRevisionOut {
    pub revision: i32,
    #[schema(value_type = Object)]
    pub scores: BTreeMap<String, i64>,
    pub recorded_at: DateTime<Utc>,
}

/// A judge's current sheet for an entrant, with every revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetOut {
    pub id: Uuid,
    pub competition_id: Uuid,
    pub registration_id: Uuid,
    pub judge_id: Uuid,
    #[schema(value_type = Object)]
    pub scores: BTreeMap<String, i64>,
    /// 1, raised by each correction.
    pub revision: i32,
    /// Oldest first.
    pub history: Vec<SheetRevisionOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<repo::Sheet> for SheetOut {
    fn from(s: repo::Sheet) -> Self {
        SheetOut {
            id: s.id,
            competition_id: s.competition_id,
            registration_id: s.registration_id,
            judge_id: s.judge_id.0,
            scores: s.scores,
            revision: s.revision,
            history: s
                .history
                .into_iter()
                .map(|h| SheetRevisionOut {
                    revision: h.revision,
                    scores: h.scores,
                    recorded_at: h.recorded_at,
                })
                .collect(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Sheet filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    /// One entrant's sheets.
    pub registration_id: Option<Uuid>,
}

/// The sheets of a competition.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetList {
    pub items: Vec<SheetOut>,
}

/// A judged competition the caller administers; anything else is a 404.
async fn managed_judged(
    db: &impl ConnectionTrait,
    reach: &Reach,
    id: Uuid,
) -> ApiResult<Competition> {
    let c = found(repo::get_competition(db, id).await, "competition")?;
    if !reach.covers(&c.org_path) || !c.terms.kind.is_judged() {
        return Err(ApiError::not_found("judged competition"));
    }
    Ok(c)
}

/// Assign a judge to a skills or speech contest the caller administers: a staff
/// account in their reach holding the `judge` role (422 on `/user_id` otherwise).
/// Assigning the same judge twice is a 409 `judge_assigned`.
#[utoipa::path(post, path = "/v1/competitions/{id}/judges", tag = "competitions",
    request_body = JudgeIn,
    params(("id" = Uuid, Path, description = "Competition id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Assigned", body = JudgeOut,
        headers(("Location" = String, description = "The competition's judges")))))]
pub async fn assign_judge(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ValidatedJson<JudgeIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let competition_id = *id;
    let fingerprint = format!(
        "POST /v1/competitions/{competition_id}/judges {}",
        body.digest
    );
    let user_id = body.value.user_id;
    let by = principal.user_id;
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let c = managed_judged(txn, &reach, competition_id).await?;
            if c.status.is_final() {
                return Err(ApiError::conflict(
                    "results are published; the panel can no longer change",
                    "results_published",
                    None,
                ));
            }
            let user = match unionhall_persistence::users::get(txn, &reach, user_id).await {
                Err(StoreError::NotFound) => None,
                other => Some(other?),
            }
            .ok_or_else(|| {
                ApiError::field("/user_id", "not_found", "no such account in your reach")
            })?;
            if user.disabled || !user.roles.iter().any(|r| r.role == Role::Judge) {
                return Err(ApiError::field(
                    "/user_id",
                    "not_a_judge",
                    "the account doesn't hold the judge role",
                ));
            }
            let judge = match repo::assign_judge(txn, c.id, user.id, by).await {
                Err(StoreError::Conflict { .. }) => {
                    return Err(ApiError::conflict(
                        "the account judges this competition already",
                        "judge_assigned",
                        None,
                    ));
                }
                other => other?,
            };
            Ok(Created {
                location: format!("/v1/competitions/{}/judges", c.id),
                body: JudgeOut::from(judge),
            })
        })
    })
    .await
}

/// A competition's judges (its administrators).
#[utoipa::path(get, path = "/v1/competitions/{id}/judges", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id")),
    responses((status = 200, description = "The judges", body = JudgeList)))]
pub async fn list_judges(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let c = managed_judged(&state.db, &reach, *id).await?;
    let items = repo::list_judges(&state.db, c.id)
        .await?
        .into_iter()
        .map(JudgeOut::from)
        .collect();
    Ok(HttpResponse::Ok().json(JudgeList { items }))
}

/// Score an entrant: a judge of this competition, while it is `running` or `judging`
/// (409 `not_scoring` otherwise). Every criterion is scored within its maximum (422
/// at `/scores/<key>`). Sending a sheet again corrects it, keeping every revision.
/// With `exclude_own_union_judges`, a judge can't score an entrant of their own
/// grassroots union (403, a conflict of interest). Anyone but the competition's judges
/// gets a 404 (or a 403 if they may see the competition).
#[utoipa::path(post, path = "/v1/competitions/{id}/scores", tag = "competitions",
    request_body = SheetIn,
    params(("id" = Uuid, Path, description = "Competition id")),
    responses(
        (status = 201, description = "The first sheet for this entrant", body = SheetOut),
        (status = 200, description = "A corrected sheet", body = SheetOut)))]
pub async fn score(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    body: ValidatedJson<SheetIn>,
) -> ApiResult<HttpResponse> {
    let input = body.value;
    let txn = db::begin_write(&state.db).await?;
    let c = found(repo::get_competition(&txn, *id).await, "competition")?;
    if !repo::is_judge(&txn, c.id, principal.user_id).await? {
        let viewer = Viewer::of(&txn, &principal).await?;
        visible(&txn, &viewer, c.id).await?;
        return Err(ApiError::forbidden(
            "only the competition's judges score its entrants",
        ));
    }
    if !c.status.accepts_scores() {
        return Err(ApiError::conflict(
            format!(
                "the competition is {}: scores are entered while it runs or is judged",
                c.status
            ),
            "not_scoring",
            None,
        ));
    }
    let reg = match repo::get_registration(&txn, c.id, input.registration_id).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::field(
                "/registration_id",
                "not_found",
                "no such entrant in this competition",
            ));
        }
        other => other?,
    };
    if c.terms.exclude_own_union_judges
        && judge_conflicts(Some(principal.org_id), reg.member_org_id)
    {
        return Err(ApiError::forbidden(
            "conflict of interest: this competition's judges don't score entrants of their \
             own grassroots union",
        ));
    }
    let sheet = ScoreSheet {
        judge: principal.user_id,
        scores: input.scores,
    };
    sheet.validate(&c.terms.criteria).map_err(problems)?;
    let stored = repo::record_sheet(&txn, c.id, reg.id, principal.user_id, &sheet.scores).await?;
    txn.commit().await.map_err(StoreError::from)?;
    let mut res = if stored.revision == 1 {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(SheetOut::from(stored)))
}

/// The current sheets, with their histories: all of them to the competition's
/// administrators; a judge's own to the judge.
#[utoipa::path(get, path = "/v1/competitions/{id}/scores", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id"), SheetQuery),
    responses((status = 200, description = "The sheets", body = SheetList)))]
pub async fn list_scores(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<SheetQuery>,
) -> ApiResult<HttpResponse> {
    let c = found(repo::get_competition(&state.db, *id).await, "competition")?;
    let judge = if principal.admin_reach().covers(&c.org_path) {
        None
    } else if repo::is_judge(&state.db, c.id, principal.user_id).await? {
        Some(principal.user_id)
    } else {
        let viewer = Viewer::of(&state.db, &principal).await?;
        visible(&state.db, &viewer, c.id).await?;
        return Err(ApiError::forbidden(
            "scores are for the competition's administrators and judges",
        ));
    };
    let items = repo::list_sheets(&state.db, c.id, judge, query.0.registration_id)
        .await?
        .into_iter()
        .map(SheetOut::from)
        .collect();
    Ok(HttpResponse::Ok().json(SheetList { items }))
}

// ─── Results ────────────────────────────────────────────────────────────────

/// The award rules of a publication, as the request body (checked by the domain's
/// `AwardRules::validate`, whose pointers assume exactly this body).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct AwardRulesIn(pub AwardRules);

impl Validate for AwardRulesIn {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// What publishing did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationOut {
    pub competition_id: Uuid,
    pub status: CompetitionStatus,
    /// Entrants ranked: judged entrants with at least one sheet, or submitted attempts.
    pub ranked: u64,
    /// Entrants who won a prize.
    pub awarded: u64,
}

/// One entrant's published result.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultOut {
    /// The registration (skills and speech) or attempt (quiz) ranked.
    pub entrant_id: Uuid,
    pub member_id: Uuid,
    pub rank: u32,
    /// Points, to at most four decimals (`87.5`, `91.2345`).
    #[schema(example = "87.5")]
    pub score: String,
    pub prize_tier: Option<PrizeTier>,
    pub honour_title: Option<String>,
}

impl From<repo::ResultRow> for ResultOut {
    fn from(r: repo::ResultRow) -> Self {
        ResultOut {
            entrant_id: r.entrant_id,
            member_id: r.member_id.0,
            rank: r.rank,
            score: r.score.to_string(),
            prize_tier: r.prize_tier,
            honour_title: r.honour_title,
        }
    }
}

/// A page of results in rank order, and the caller's own.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsOut {
    pub items: Vec<ResultOut>,
    pub next_cursor: Option<String>,
    /// The calling member's result, when they were ranked.
    pub own: Option<ResultOut>,
}

/// Publish results (the competition's administrators): from `judging`, or a quiz from
/// `running` once its run has ended. Judged entrants are aggregated from their judges'
/// sheets by the scoring method, quiz attempts by score; all are ranked by the rank
/// kind and tie-breaks, and awarded by rank bands or by a list. Scores freeze: no
/// judge scores and no attempt is submitted afterwards. A refused step is a 409
/// naming why; bad award rules a 422 with pointers.
#[utoipa::path(post, path = "/v1/competitions/{id}/results", tag = "competitions",
    request_body = AwardRules,
    params(("id" = Uuid, Path, description = "Competition id"), crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Published", body = PublicationOut,
        headers(("Location" = String, description = "The results")))))]
pub async fn publish_results(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: ValidatedJson<AwardRulesIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let competition_id = *id;
    let fingerprint = format!(
        "POST /v1/competitions/{competition_id}/results {}",
        body.digest
    );
    let rules = body.value.0;
    let now = Utc::now();
    idempotency::create(&state, principal.user_id, key, &fingerprint, move |txn| {
        Box::pin(async move {
            let c = found(
                repo::get_competition(txn, competition_id).await,
                "competition",
            )?;
            if !reach.covers(&c.org_path) {
                return Err(ApiError::not_found("competition"));
            }
            let t = &c.terms;
            check_transition(
                c.status,
                CompetitionStatus::ResultsPublished,
                t.kind,
                &t.windows,
                now,
            )
            .map_err(|e| ApiError::conflict(e.to_string(), e.code(), None))?;
            let (rows, awarded) = rank_and_award(txn, &c, &rules).await?;
            let out = PublicationOut {
                competition_id: c.id,
                status: CompetitionStatus::ResultsPublished,
                ranked: rows.len() as u64,
                awarded,
            };
            repo::publish_results(txn, &c, c.status, rows).await?;
            Ok(Created {
                location: format!("/v1/competitions/{}/results", c.id),
                body: out,
            })
        })
    })
    .await
}

/// Ranks and awards a competition's entrants as publishing does: judged entrants
/// aggregated from their judges' sheets by the scoring method, quiz attempts by score;
/// all ranked by the rank kind and tie-breaks and awarded by `rules`. Returns the
/// result rows in rank order and how many won a prize. The demo publishes through
/// this too, so its results are the ones the API would have published.
pub async fn rank_and_award(
    txn: &impl ConnectionTrait,
    c: &Competition,
    rules: &AwardRules,
) -> ApiResult<(Vec<repo::ResultRow>, u64)> {
    let t = &c.terms;
    let mut members: BTreeMap<Uuid, MemberId> = BTreeMap::new();
    let mut entries = Vec::new();
    if t.kind.is_judged() {
        let mut sheets: BTreeMap<Uuid, Vec<ScoreSheet>> = BTreeMap::new();
        for s in repo::list_sheets(txn, c.id, None, None).await? {
            sheets
                .entry(s.registration_id)
                .or_default()
                .push(ScoreSheet {
                    judge: s.judge_id,
                    scores: s.scores,
                });
        }
        for reg in repo::all_registrations(txn, c.id).await? {
            let Some(list) = sheets.get(&reg.id) else {
                continue;
            };
            let agg = aggregate(t.scoring_method, &t.criteria, list).map_err(|e| {
                tracing::error!(error = %e, registration = %reg.id, "stored sheets don't aggregate");
                ApiError::internal()
            })?;
            members.insert(reg.id, reg.member_id);
            entries.push(Entry {
                id: reg.id,
                score: agg.score,
                criterion_scores: agg.criterion_means,
                time_taken_ms: None,
                finished_at: None,
            });
        }
    } else {
        for (attempt, member, points, ms) in repo::submitted_attempts(txn, c.id).await? {
            let score = Score::from_points(points).ok_or_else(ApiError::internal)?;
            members.insert(attempt, member);
            entries.push(Entry {
                id: attempt,
                score,
                criterion_scores: BTreeMap::new(),
                time_taken_ms: Some(ms),
                finished_at: None,
            });
        }
    }
    let ranked = rank(&entries, t.rank_kind, &t.ranking_tie_breaks());
    let awards = assign_awards(&ranked, rules).map_err(problems)?;
    let by_entrant: BTreeMap<Uuid, &Award> = awards.iter().map(|a| (a.entrant_id, a)).collect();
    let rows: Vec<repo::ResultRow> = ranked
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let award = by_entrant.get(&r.id);
            repo::ResultRow {
                entrant_id: r.id,
                member_id: members.get(&r.id).copied().unwrap_or(MemberId(Uuid::nil())),
                position: i64::try_from(i).unwrap_or(i64::MAX),
                rank: r.rank,
                score: r.score,
                prize_tier: award.map(|a| a.tier),
                honour_title: award.and_then(|a| a.honour_title.clone()),
            }
        })
        .collect();
    Ok((rows, awards.len() as u64))
}

/// Published results, in rank order, with each prize and honour title (whoever may
/// see the competition), and the calling member's own. 409 `not_published` before.
#[utoipa::path(get, path = "/v1/competitions/{id}/results", tag = "competitions",
    params(("id" = Uuid, Path, description = "Competition id"), PageQuery),
    responses((status = 200, description = "A page of results", body = ResultsOut)))]
pub async fn get_results(
    state: State,
    principal: Principal,
    id: web::Path<Uuid>,
    query: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let limit = page_request(&state.config, q.limit, None)?.limit;
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.strip_prefix('p')
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::field("/cursor", "cursor", "cursor is not one this service issued")
                })?,
        ),
    };
    let viewer = Viewer::of(&state.db, &principal).await?;
    let c = visible(&state.db, &viewer, *id).await?;
    if !c.status.is_final() {
        return Err(ApiError::conflict(
            format!(
                "results aren't published yet: the competition is {}",
                c.status
            ),
            "not_published",
            None,
        ));
    }
    let mut rows = repo::list_results(&state.db, c.id, after, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| rows.last().map(|r| format!("p{}", r.position)))
        .flatten();
    let own = match principal.member_id {
        Some(member) => repo::member_result(&state.db, c.id, member)
            .await?
            .map(ResultOut::from),
        None => None,
    };
    Ok(HttpResponse::Ok().json(ResultsOut {
        items: rows.into_iter().map(ResultOut::from).collect(),
        next_cursor,
        own,
    }))
}

// ─── A member's own results and certificates ────────────────────────────────

/// A certificate for a prize or an honour title.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateOut {
    /// Stable and unique: `UH-<year>-<competition>-<place>`.
    #[schema(example = "UH-2026-0193A1B2-00001")]
    pub number: String,
    /// The wording: competition, prize, honour title.
    #[schema(example = "第十届江西省\"天工杯\"技能大赛 一等奖 江西省技术能手")]
    pub title: String,
    /// The day results were published (UTC).
    pub issued_on: chrono::NaiveDate,
}

/// One of the caller's published results.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyResultOut {
    pub competition_id: Uuid,
    pub competition_name: String,
    pub kind: CompetitionKind,
    pub category: Option<String>,
    /// The organiser.
    pub org_id: Uuid,
    pub rank: u32,
    /// Points, to at most four decimals.
    #[schema(example = "87.5")]
    pub score: String,
    pub prize_tier: Option<PrizeTier>,
    pub honour_title: Option<String>,
    pub published_at: DateTime<Utc>,
    /// Present when a prize or an honour title was awarded.
    pub certificate: Option<CertificateOut>,
}

impl From<repo::MemberResult> for MyResultOut {
    fn from(r: repo::MemberResult) -> Self {
        let c = r.competition;
        let awarded = r.result.prize_tier.is_some() || r.result.honour_title.is_some();
        let certificate = awarded.then(|| CertificateOut {
            number: unionhall_domain::competitions::certificate_number(
                c.id,
                chrono::Datelike::year(&r.published_at),
                u64::try_from(r.result.position).unwrap_or(0),
            ),
            title: unionhall_domain::competitions::certificate_title(
                &c.name,
                r.result.prize_tier,
                r.result.honour_title.as_deref(),
            ),
            issued_on: r.published_at.date_naive(),
        });
        MyResultOut {
            competition_id: c.id,
            competition_name: c.name,
            kind: c.terms.kind,
            category: c.category,
            org_id: c.org_id.0,
            rank: r.result.rank,
            score: r.result.score.to_string(),
            prize_tier: r.result.prize_tier,
            honour_title: r.result.honour_title,
            published_at: r.published_at,
            certificate,
        }
    }
}

/// A page of the caller's results, or certificates, oldest publication first.
async fn own_results(
    state: &State,
    principal: &Principal,
    query: PageQuery,
    awarded_only: bool,
) -> ApiResult<HttpResponse> {
    let Some(member) = principal.member_id else {
        return Err(ApiError::not_found("membership linked to this account"));
    };
    let page = page_request(&state.config, query.limit, query.cursor.as_deref())?;
    let results = repo::member_results(&state.db, member, awarded_only, page).await?;
    ListResponse::from_page(results, MyResultOut::from).respond()
}

/// The calling member's published results in every competition they were ranked in,
/// each with its certificate when a prize or honour title was awarded. Member accounts
/// only (others get 404).
#[utoipa::path(get, path = "/v1/me/competition-results", tag = "competitions",
    params(PageQuery),
    responses((status = 200, description = "A page of the caller's results", body = ListResponse<MyResultOut>),
        (status = 404, description = "The account is not a member account",
            body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn my_results(
    state: State,
    principal: Principal,
    query: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    own_results(&state, &principal, query.0, false).await
}

/// The calling member's certificates: the published results that won a prize or an
/// honour title. Member accounts only (others get 404).
#[utoipa::path(get, path = "/v1/me/certificates", tag = "competitions",
    params(PageQuery),
    responses((status = 200, description = "A page of the caller's awarded results", body = ListResponse<MyResultOut>),
        (status = 404, description = "The account is not a member account",
            body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn my_certificates(
    state: State,
    principal: Principal,
    query: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    own_results(&state, &principal, query.0, true).await
}

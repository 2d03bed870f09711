//! Delivery platforms and their rider rosters: registration (with client credentials
//! shown once), full-snapshot and delta syncs with a per-row report, the stored
//! reports, and the riders as the union sees them.

use crate::auth::Principal;
use crate::auth::secrets::{hash_secret, random_token};
use crate::error::{ApiError, ApiResult, FieldError, ProblemKind};
use crate::extract::{
    IdempotencyKey, ValidQuery, ValidatedJson, media_type, read_body_up_to, shape_field_error,
};
use crate::pagination::{ListResponse, page_request};
use crate::pii::{Field, PiiCipher};
use crate::routes::members::{actor, org_in_reach, today_in_china, unseal};
use crate::state::{AppState, State};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use unionhall_domain::members::{EmploymentForm, Occupation};
use unionhall_domain::person::{IdNumber, PersonName, Phone, mask_middle};
use unionhall_domain::roster::{self, Incoming, RiderStatus, SyncKind};
use unionhall_domain::{MemberId, OrgId};
use unionhall_persistence::members::{self as member_repo, Actor, NewMember, Sealed};
use unionhall_persistence::platforms::{self as repo, NewPlatform, Platform, RiderData};
use unionhall_persistence::{DatabaseTransaction, StoreError, db, idempotency};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// Most riders one sync may carry.
pub const MAX_RIDERS: usize = 200_000;

// ─── Wire types ─────────────────────────────────────────────────────────────

/// A registered delivery platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformOut {
    pub id: Uuid,
    #[schema(example = "meituan-ja")]
    pub code: String,
    #[schema(example = "美团外卖吉安")]
    pub name: String,
    /// The union its riders join.
    pub org_id: Uuid,
    /// Whether consenting riders become members of that union automatically.
    pub auto_enrol: bool,
    /// For `grant_type=client_credentials`.
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Platform> for PlatformOut {
    fn from(p: Platform) -> Self {
        PlatformOut {
            id: p.id,
            code: p.code,
            name: p.name,
            org_id: p.org_id.0,
            auto_enrol: p.auto_enrol,
            client_id: p.client_id,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A platform just registered, with its client secret: shown in this answer only
/// (an `Idempotency-Key` replay answers `client_secret: null`), stored hashed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformCreated {
    #[serde(flatten)]
    pub platform: PlatformOut,
    /// Keep it: it is never shown again.
    #[schema(format = Password)]
    pub client_secret: Option<String>,
}

/// A platform to register.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PlatformIn {
    /// Lowercase letters, digits, `-` and `_`; unique.
    #[validate(
        length(min = 2, max = 32),
        custom(function = "crate::validate::org_code")
    )]
    #[schema(min_length = 2, max_length = 32, example = "meituan-ja")]
    pub code: String,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "crate::validate::plain_text")
    )]
    #[schema(min_length = 1, max_length = 100, example = "美团外卖吉安")]
    pub name: String,
    /// The union riders join; it must be in the caller's reach.
    pub org_id: Uuid,
    /// Enrol riders who consent as members of that union.
    pub auto_enrol: bool,
}

/// One rider of a roster.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiderIn {
    /// The platform's own id for the rider; unique within a sync.
    #[schema(min_length = 1, max_length = 64, example = "R-000123")]
    pub external_id: String,
    #[schema(min_length = 1, max_length = 50, example = "张三")]
    pub name: String,
    /// Mainland mobile number.
    #[schema(max_length = 20, example = "13812345678")]
    pub phone: String,
    /// Resident ID number (GB 11643-1999).
    #[schema(min_length = 18, max_length = 18, example = "11010519491231002X")]
    pub id_number: String,
    /// GB/T 2260 code of where the rider works.
    #[schema(min_length = 6, max_length = 6, example = "360802")]
    pub region_code: String,
    /// When the rider started on the platform; not in the future.
    pub started_on: Option<NaiveDate>,
    /// The rider agreed to join the platform's union.
    pub consent_to_join: bool,
}

/// A delta: riders to create or update, and riders (by `external_id`) to deactivate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterChangesIn {
    #[serde(default)]
    #[schema(value_type = Vec<RiderIn>)]
    pub upsert: Vec<Box<RawValue>>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub deactivate: Vec<Box<RawValue>>,
}

/// A row the sync refused, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// The row's position: in the array, the NDJSON line (from 0), or in `upsert` /
    /// `deactivate`.
    pub index: usize,
    pub external_id: Option<String>,
    /// JSON Pointer into the request, e.g. `/17/id_number`.
    #[schema(example = "/17/id_number")]
    pub pointer: String,
    #[schema(example = "checksum")]
    pub code: String,
    pub detail: String,
}

/// What a sync did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SyncReport {
    pub sync_id: Uuid,
    /// `snapshot` or `delta`.
    #[schema(example = "snapshot")]
    pub kind: String,
    /// Rows in the request (upserts and deactivations for a delta).
    pub received: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deactivated: usize,
    /// Rows refused (each named in `errors`).
    pub rejected: usize,
    /// Riders who became members of the platform's union by this sync.
    pub enrolled: usize,
    /// Riders linked to a person's existing active membership by this sync.
    pub linked: usize,
    pub errors: Vec<RowError>,
    pub created_at: DateTime<Utc>,
}

/// A rider as the union sees them (personal data masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct RiderOut {
    pub id: Uuid,
    pub external_id: String,
    pub name: String,
    #[schema(example = "1101**********002X")]
    pub id_number: String,
    #[schema(example = "138****5678")]
    pub phone: String,
    pub region_code: String,
    pub started_on: Option<NaiveDate>,
    pub consent_to_join: bool,
    pub status: RiderStatus,
    /// The membership the rider is linked to, if any.
    pub member_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page position.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlatformQuery {
    /// Platforms whose union is in this organisation's subtree.
    pub org_id: Option<Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Rider list filters.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RiderQuery {
    pub status: Option<RiderStatus>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

// ─── Helpers ────────────────────────────────────────────────────────────────

fn sealed(pii: &PiiCipher, field: Field, clear: &str) -> ApiResult<Sealed> {
    pii.seal(field, clear).map_err(|e| {
        tracing::error!(error = %e, ?field, "personal data could not be encrypted");
        ApiError::internal()
    })
}

/// The platform a roster request is about. A platform's own token reaches only its
/// own platform (any other is 404); admins reach platforms whose union they administer.
async fn roster_platform(
    state: &AppState,
    principal: &Principal,
    code: &str,
) -> ApiResult<Platform> {
    if principal.is_platform() {
        return match repo::get_by_code(&state.db, code).await {
            Ok(p) if p.user_id == principal.user_id => Ok(p),
            Ok(_) | Err(StoreError::NotFound) => Err(ApiError::not_found("platform")),
            Err(e) => Err(e.into()),
        };
    }
    let reach = principal.require_admin()?;
    Ok(repo::get_in_reach(&state.db, &reach, code).await?)
}

fn rider_out(pii: &PiiCipher, r: repo::Rider) -> ApiResult<RiderOut> {
    let id_number = unseal(pii, Field::IdNumber, &r.id_number_sealed)?;
    let phone = unseal(pii, Field::Phone, &r.phone_sealed)?;
    Ok(RiderOut {
        id: r.id,
        external_id: r.external_id,
        name: r.name,
        id_number: mask_middle(&id_number, 4, 4),
        phone: mask_middle(&phone, 3, 4),
        region_code: r.region_code,
        started_on: r.started_on,
        consent_to_join: r.consent_to_join,
        status: r.status,
        member_id: r.member_id.map(|m| m.0),
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

// ─── Parsing rows ───────────────────────────────────────────────────────────

/// A rider row that passed every check.
struct ValidRider {
    index: usize,
    external_id: String,
    name: String,
    id_number: IdNumber,
    phone: Phone,
    region_code: String,
    started_on: Option<NaiveDate>,
    consent_to_join: bool,
    content_hash: String,
}

/// The rows of a request, split into valid riders and named refusals.
#[derive(Default)]
struct Rows {
    received: usize,
    valid: Vec<ValidRider>,
    errors: Vec<RowError>,
    /// Indexes of refused rows.
    rejected: HashSet<usize>,
    /// `external_id`s of refused rows: the platform named them, so they aren't absent.
    rejected_ids: HashSet<String>,
    /// A delta's `deactivate` entries: (index, external_id).
    deactivate: Vec<(usize, String)>,
}

impl Rows {
    fn reject(&mut self, index: usize, external_id: Option<&str>, e: FieldError) {
        self.rejected.insert(index);
        if let Some(id) = external_id {
            self.rejected_ids.insert(id.to_owned());
        }
        self.errors.push(RowError {
            index,
            external_id: external_id.map(str::to_owned),
            pointer: e.pointer,
            code: e.code,
            detail: e.detail,
        });
    }

    /// Checks one row (JSON text) at `index`; `prefix` is its pointer in the request.
    fn push(&mut self, pii: &PiiCipher, index: usize, prefix: &str, text: &str, today: NaiveDate) {
        self.received += 1;
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let pointer = if prefix.is_empty() {
                    "/".to_owned()
                } else {
                    prefix.to_owned()
                };
                return self.reject(
                    index,
                    None,
                    FieldError::new(pointer, "malformed", format!("not valid JSON: {e}")),
                );
            }
        };
        let external_id = value
            .get("external_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let input: RiderIn = match serde_path_to_error::deserialize(&value) {
            Ok(input) => input,
            Err(e) => {
                let mut fe = shape_field_error(e, "unknown_field");
                fe.pointer = format!("{prefix}{}", fe.pointer.trim_end_matches('/'));
                if fe.pointer.is_empty() {
                    fe.pointer = "/".into();
                }
                return self.reject(index, external_id.as_deref(), fe);
            }
        };
        let mut problems = Vec::new();
        let ext = input.external_id.trim();
        if ext.is_empty() || ext.chars().count() > 64 || ext.chars().any(char::is_control) {
            problems.push(FieldError::new(
                format!("{prefix}/external_id"),
                "external_id",
                "external_id must be 1-64 characters without control characters",
            ));
        }
        let name = PersonName::parse(&input.name)
            .map_err(|e| {
                problems.push(FieldError::new(
                    format!("{prefix}/name"),
                    e.code(),
                    e.to_string(),
                ))
            })
            .ok();
        let id_number = IdNumber::parse(&input.id_number)
            .map_err(|e| {
                problems.push(FieldError::new(
                    format!("{prefix}/id_number"),
                    e.code(),
                    e.to_string(),
                ));
            })
            .ok();
        let phone = Phone::parse(&input.phone)
            .map_err(|e| {
                problems.push(FieldError::new(
                    format!("{prefix}/phone"),
                    e.code(),
                    e.to_string(),
                ))
            })
            .ok();
        if let Err(e) = crate::validate::region_code(&input.region_code) {
            problems.push(FieldError::new(
                format!("{prefix}/region_code"),
                "region_code",
                e.message
                    .map_or_else(|| "not a current region code".to_owned(), |m| m.to_string()),
            ));
        }
        if input.started_on.is_some_and(|d| d > today) {
            problems.push(FieldError::new(
                format!("{prefix}/started_on"),
                "date",
                "started_on must not be in the future",
            ));
        }
        let (Some(name), Some(id_number), Some(phone), true) =
            (name, id_number, phone, problems.is_empty())
        else {
            for p in problems {
                self.reject(index, Some(input.external_id.as_str()), p);
            }
            return;
        };
        let content = format!(
            "rider\u{1f}{ext}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            name.as_str(),
            id_number.as_str(),
            phone.as_str(),
            input.region_code,
            input.started_on.map(|d| d.to_string()).unwrap_or_default(),
            input.consent_to_join,
        );
        self.valid.push(ValidRider {
            index,
            external_id: ext.to_owned(),
            name: name.as_str().to_owned(),
            content_hash: pii.request_digest(&content),
            id_number,
            phone,
            region_code: input.region_code,
            started_on: input.started_on,
            consent_to_join: input.consent_to_join,
        });
    }

    /// Refuses every row whose `external_id` occurs more than once.
    fn reject_duplicates(&mut self, prefix: impl Fn(usize) -> String) {
        let ids: Vec<(usize, &str)> = self
            .valid
            .iter()
            .map(|r| (r.index, r.external_id.as_str()))
            .collect();
        let dups = roster::duplicate_indexes(&ids);
        if dups.is_empty() {
            return;
        }
        let (bad, good): (Vec<_>, Vec<_>) = std::mem::take(&mut self.valid)
            .into_iter()
            .partition(|r| dups.contains(&r.index));
        self.valid = good;
        for r in bad {
            self.reject(
                r.index,
                Some(&r.external_id),
                FieldError::new(
                    format!("{}/external_id", prefix(r.index)),
                    "duplicate",
                    "this external_id occurs more than once in the request",
                ),
            );
        }
    }
}

/// Parses a snapshot body: a JSON array, or NDJSON (one rider per line).
fn snapshot_rows(pii: &PiiCipher, ndjson: bool, bytes: &[u8]) -> ApiResult<Rows> {
    let today = today_in_china();
    let mut rows = Rows::default();
    if ndjson {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::malformed("the NDJSON body is not UTF-8"))?;
        let lines: Vec<(usize, &str)> = text
            .split('\n')
            .enumerate()
            .map(|(i, l)| (i, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        too_many(lines.len())?;
        for (i, line) in lines {
            rows.push(pii, i, &format!("/{i}"), line, today);
        }
    } else {
        let items: Vec<&RawValue> = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::malformed(format!("the body must be a JSON array of riders: {e}"))
        })?;
        too_many(items.len())?;
        for (i, item) in items.iter().enumerate() {
            rows.push(pii, i, &format!("/{i}"), item.get(), today);
        }
    }
    rows.reject_duplicates(|i| format!("/{i}"));
    Ok(rows)
}

fn too_many(n: usize) -> ApiResult<()> {
    if n > MAX_RIDERS {
        return Err(ApiError::field(
            "/",
            "too_many_riders",
            format!("a sync carries at most {MAX_RIDERS} riders"),
        ));
    }
    Ok(())
}

// ─── The sync ───────────────────────────────────────────────────────────────

/// Applies checked rows to a platform's roster inside `txn`, which holds the
/// platform's sync lock, and stores the report.
async fn apply(
    txn: &DatabaseTransaction,
    pii: &PiiCipher,
    platform: &Platform,
    actor: &Actor,
    kind: SyncKind,
    mut rows: Rows,
) -> ApiResult<SyncReport> {
    let deactivate = std::mem::take(&mut rows.deactivate);
    repo::lock_for_sync(txn, platform.id).await?;
    let on_file = repo::riders_on_file(txn, platform.id).await?;
    let members_of: HashMap<Uuid, Option<MemberId>> = on_file
        .iter()
        .map(|r| (r.on_file.key, r.member_id))
        .collect();
    let on_file: Vec<_> = on_file.into_iter().map(|r| r.on_file).collect();
    let incoming: Vec<Incoming<'_>> = rows
        .valid
        .iter()
        .map(|r| Incoming {
            index: r.index,
            external_id: &r.external_id,
            content_hash: &r.content_hash,
        })
        .collect();
    let elsewhere: HashSet<&str> = rows.rejected_ids.iter().map(String::as_str).collect();
    let names: Vec<&str> = deactivate.iter().map(|(_, e)| e.as_str()).collect();
    let (plan, unknown) = roster::diff(kind, &incoming, &on_file, &elsewhere, &names);
    drop(incoming);
    drop(elsewhere);
    let mut extra_errors = Vec::new();
    for i in unknown {
        let (index, external_id) = &deactivate[i];
        extra_errors.push(RowError {
            index: *index,
            external_id: Some(external_id.clone()),
            pointer: format!("/deactivate/{index}"),
            code: "not_found".into(),
            detail: "no rider with this external_id on this platform".into(),
        });
    }

    // Which rows need writing, and with which existing rider.
    let mut by_index: HashMap<usize, ValidRider> = std::mem::take(&mut rows.valid)
        .into_iter()
        .map(|r| (r.index, r))
        .collect();
    let mut writes: Vec<(ValidRider, Option<Uuid>)> =
        Vec::with_capacity(plan.create.len() + plan.update.len());
    for i in &plan.create {
        if let Some(r) = by_index.remove(i) {
            writes.push((r, None));
        }
    }
    for (i, key) in &plan.update {
        if let Some(r) = by_index.remove(i) {
            writes.push((r, Some(*key)));
        }
    }
    drop(by_index);

    // Seal, and decide memberships for consenting riders of an auto-enrolling platform.
    let sealed_rows = seal_rows(pii, writes)?;
    let wants_member = |r: &ValidRider, key: &Option<Uuid>| {
        platform.auto_enrol
            && r.consent_to_join
            && key.is_none_or(|k| members_of.get(&k).copied().flatten().is_none())
    };
    let hashes: Vec<String> = sealed_rows
        .iter()
        .filter(|(r, key, ..)| wants_member(r, key))
        .map(|(_, _, id, _)| id.hash.clone())
        .collect();
    let mut existing = repo::active_members_by_id_hash(txn, &hashes).await?;
    drop(hashes);

    // Enrol, in batches, every consenting rider whose person isn't a member yet (once
    // per person, should a snapshot name someone twice).
    let mut to_enrol: Vec<(String, NewMember)> = Vec::new();
    let mut planned: HashSet<&str> = HashSet::new();
    for (r, key, id, phone) in &sealed_rows {
        if wants_member(r, key)
            && !existing.contains_key(&id.hash)
            && planned.insert(id.hash.as_str())
        {
            to_enrol.push((id.hash.clone(), new_rider_member(platform, r, id, phone)));
        }
    }
    drop(planned);
    let (enrol_hashes, news): (Vec<String>, Vec<NewMember>) = to_enrol.into_iter().unzip();
    let made = member_repo::insert_many(txn, news, actor).await?;
    let mut created_members: HashSet<MemberId> = HashSet::new();
    for (hash, made) in enrol_hashes.into_iter().zip(made) {
        let member = match made {
            Some(m) => {
                created_members.insert(m);
                m
            }
            // Became a member meanwhile (say, an application approved): link to that.
            None => match member_repo::find_active_by_id_hash(txn, &hash).await? {
                Some((m, _)) => m,
                None => return Err(ApiError::internal()),
            },
        };
        existing.insert(hash, member);
    }

    let enrolled = created_members.len();
    let mut linked = 0;
    let (mut creates, mut updates) = (Vec::new(), Vec::new());
    for (r, key, id, phone) in sealed_rows {
        let mut member_id = None;
        if wants_member(&r, &key) {
            let m = existing.get(&id.hash).copied();
            if let Some(m) = m
                && !created_members.contains(&m)
            {
                linked += 1;
            }
            member_id = m;
        }
        let data = RiderData {
            external_id: r.external_id,
            name: r.name,
            id_number: id,
            phone,
            region_code: r.region_code,
            started_on: r.started_on,
            consent_to_join: r.consent_to_join,
            content_hash: r.content_hash,
            member_id,
        };
        match key {
            None => creates.push(data),
            Some(k) => updates.push((k, data)),
        }
    }
    let (created, updated) = (creates.len(), updates.len());
    repo::insert_riders(txn, platform.id, creates).await?;
    for (k, data) in updates {
        repo::update_rider(txn, k, data).await?;
    }
    repo::deactivate_riders(txn, &plan.deactivate).await?;

    let mut errors = rows.errors;
    errors.extend(extra_errors);
    errors.sort_by(|a, b| {
        a.index
            .cmp(&b.index)
            .then_with(|| a.pointer.cmp(&b.pointer))
    });
    let rejected = rows.rejected.len()
        + errors
            .iter()
            .filter(|e| e.pointer.starts_with("/deactivate/"))
            .count();
    let report = SyncReport {
        sync_id: Uuid::now_v7(),
        kind: kind.as_str().to_owned(),
        received: rows.received,
        created,
        updated,
        unchanged: plan.unchanged.len(),
        deactivated: plan.deactivate.len(),
        rejected,
        enrolled,
        linked,
        errors,
        created_at: Utc::now(),
    };
    let json = serde_json::to_string(&report).map_err(|_| ApiError::internal())?;
    repo::save_sync(txn, report.sync_id, platform.id, kind.as_str(), json).await?;
    Ok(report)
}

/// A rider to write with its sealed ID number and phone.
type SealedRow = (ValidRider, Option<Uuid>, Sealed, Sealed);

/// Rows below this many are sealed on the worker thread itself.
const PARALLEL_SEALING_FROM: usize = 4096;

/// Seals every row's ID number and phone. A 100,000-rider snapshot is 200,000
/// encryptions and as many MACs, with the database idle meanwhile: large batches are
/// split across the machine's cores (scoped threads, joined before returning), in
/// order.
fn seal_rows(
    pii: &PiiCipher,
    writes: Vec<(ValidRider, Option<Uuid>)>,
) -> ApiResult<Vec<SealedRow>> {
    let seal_one = |(r, key): (ValidRider, Option<Uuid>)| -> ApiResult<SealedRow> {
        let id = sealed(pii, Field::IdNumber, r.id_number.as_str())?;
        let phone = sealed(pii, Field::Phone, r.phone.as_str())?;
        Ok((r, key, id, phone))
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if writes.len() < PARALLEL_SEALING_FROM || threads < 2 {
        return writes.into_iter().map(seal_one).collect();
    }
    let per_thread = writes.len().div_ceil(threads);
    let mut parts: Vec<Vec<(ValidRider, Option<Uuid>)>> = Vec::with_capacity(threads);
    let mut rest = writes;
    while rest.len() > per_thread {
        let tail = rest.split_off(per_thread);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    let sealed_parts: Vec<ApiResult<Vec<SealedRow>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || part.into_iter().map(seal_one).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ApiError::internal())))
            .collect()
    });
    let mut out = Vec::new();
    for part in sealed_parts {
        out.extend(part?);
    }
    Ok(out)
}

/// The membership a consenting rider gets in the platform's union: the same record as
/// `POST /v1/members` makes (card number and history are added on insert).
fn new_rider_member(platform: &Platform, r: &ValidRider, id: &Sealed, phone: &Sealed) -> NewMember {
    NewMember {
        org_id: OrgId(platform.org_id.0),
        name: r.name.clone(),
        gender: r.id_number.gender(),
        birth_date: r.id_number.birth_date(),
        id_number: id.clone(),
        phone: phone.clone(),
        employer: Some(platform.name.clone()),
        occupation: Occupation::DeliveryRider,
        employment_form: EmploymentForm::Gig,
        joined_on: today_in_china().max(r.id_number.birth_date()),
    }
}

/// Runs a sync with `Idempotency-Key` handling: a replay answers the stored report.
async fn run_sync(
    state: &AppState,
    principal: &Principal,
    key: IdempotencyKey,
    fingerprint: String,
    platform: Platform,
    kind: SyncKind,
    rows: Rows,
) -> ApiResult<HttpResponse> {
    let txn = db::begin_write(&state.db).await?;
    if let Some(replay) =
        crate::idempotency::claim_or_replay(&txn, principal.user_id, &key, &fingerprint).await?
    {
        return Ok(replay);
    }
    let actor = actor(principal);
    let report = apply(&txn, &state.pii, &platform, &actor, kind, rows).await?;
    let location = format!(
        "/v1/platforms/{}/roster/syncs/{}",
        platform.code, report.sync_id
    );
    let body = serde_json::to_string(&report).map_err(|_| ApiError::internal())?;
    if let Some(key) = &key.0 {
        idempotency::complete(&txn, principal.user_id, key, 200, &body, Some(&location)).await?;
    }
    txn.commit().await.map_err(StoreError::from)?;
    Ok(crate::idempotency::respond(
        200,
        body,
        Some(&location),
        false,
    ))
}

/// Syncs a snapshot (a JSON array) outside any request, for the demo loader: the same
/// checks, diff, enrolment and stored report as `PUT …/roster`, acting as the
/// platform's own account. Without an `Idempotency-Key`: the same snapshot again
/// reports everything unchanged and writes nothing, which is what reloading needs.
pub(crate) async fn sync_snapshot(
    db: &unionhall_persistence::Db,
    pii: &PiiCipher,
    platform: &Platform,
    json_array: &[u8],
) -> ApiResult<SyncReport> {
    let rows = snapshot_rows(pii, false, json_array)?;
    let actor = Actor {
        user_id: Some(platform.user_id),
        request_id: None,
    };
    let txn = db::begin_write(db).await?;
    let report = apply(&txn, pii, platform, &actor, SyncKind::Snapshot, rows).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(report)
}

fn body_fingerprint(pii: &PiiCipher, what: &str, bytes: &[u8]) -> String {
    format!(
        "{what} {}",
        pii.request_digest(&hex::encode(Sha256::digest(bytes)))
    )
}

// ─── Handlers ───────────────────────────────────────────────────────────────

/// Register a delivery platform for a union the caller administers. The answer holds
/// `client_id` and `client_secret` for `grant_type=client_credentials`; the secret is
/// stored hashed and never shown again.
#[utoipa::path(post, path = "/v1/platforms", tag = "platforms", request_body = PlatformIn,
    params(crate::openapi::IdempotencyKeyHeader),
    responses((status = 201, description = "Registered", body = PlatformCreated,
        headers(("Location" = String, description = "The platform's URL")))))]
pub async fn create(
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidatedJson<PlatformIn>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let fingerprint = format!("POST /v1/platforms {}", body.digest);
    let input = body.value;
    let secret = random_token("uhs_");
    let client_id = format!(
        "uhc_{}",
        hex::encode(&Sha256::digest(random_token("").as_bytes())[..12])
    );
    let mut unusable = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut unusable);
    let txn = db::begin_write(&state.db).await?;
    if let Some(replay) =
        crate::idempotency::claim_or_replay(&txn, principal.user_id, &key, &fingerprint).await?
    {
        return Ok(replay);
    }
    org_in_reach(&txn, &reach, input.org_id, "/org_id").await?;
    let platform = match repo::insert(
        &txn,
        NewPlatform {
            code: input.code.clone(),
            name: input.name.trim().to_owned(),
            org_id: OrgId(input.org_id),
            auto_enrol: input.auto_enrol,
            client_id,
            client_secret_hash: hash_secret(&secret),
            password_hash: format!("!platform-{}", hex::encode(unusable)),
        },
    )
    .await
    {
        Err(e) if e.is_conflict_on("code") => {
            return Err(ApiError::conflict(
                "a platform with this code exists",
                "code",
                None,
            ));
        }
        other => other?,
    };
    let location = format!("/v1/platforms/{}", platform.code);
    let mut created = PlatformCreated {
        platform: platform.into(),
        client_secret: None,
    };
    // The stored replay never holds the secret.
    let stored = serde_json::to_string(&created).map_err(|_| ApiError::internal())?;
    if let Some(key) = &key.0 {
        idempotency::complete(&txn, principal.user_id, key, 201, &stored, Some(&location)).await?;
    }
    txn.commit().await.map_err(StoreError::from)?;
    created.client_secret = Some(secret);
    let body = serde_json::to_string(&created).map_err(|_| ApiError::internal())?;
    Ok(crate::idempotency::respond(201, body, Some(&location), false).customize_no_store())
}

trait NoStore {
    fn customize_no_store(self) -> HttpResponse;
}

impl NoStore for HttpResponse {
    fn customize_no_store(mut self) -> HttpResponse {
        self.headers_mut().insert(
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static("no-store"),
        );
        self
    }
}

/// List platforms whose union is in the caller's reach.
#[utoipa::path(get, path = "/v1/platforms", tag = "platforms", params(PlatformQuery),
    responses((status = 200, description = "A page of platforms", body = ListResponse<PlatformOut>)))]
pub async fn list(
    state: State,
    principal: Principal,
    query: ValidQuery<PlatformQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let subtree = match q.org_id {
        Some(org) => Some(org_in_reach(&state.db, &reach, org, "/org_id").await?.path),
        None => None,
    };
    let page = repo::list(&state.db, &reach, subtree.as_ref(), page).await?;
    ListResponse::from_page(page, PlatformOut::from).respond()
}

/// Get a platform.
#[utoipa::path(get, path = "/v1/platforms/{code}", tag = "platforms",
    params(("code" = String, Path, description = "Platform code")),
    responses((status = 200, description = "The platform", body = PlatformOut)))]
pub async fn get(
    state: State,
    principal: Principal,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let platform = repo::get_in_reach(&state.db, &reach, &code).await?;
    Ok(HttpResponse::Ok().json(PlatformOut::from(platform)))
}

/// Replace the roster with a full snapshot of active riders: a JSON array, or NDJSON
/// (`application/x-ndjson`, one rider per line), up to 200,000 riders. Riders in it
/// are created or updated, riders missing from it become `inactive` (memberships stay).
/// Bad rows are refused one by one and named in the report; good rows apply. The
/// same snapshot again changes nothing. Syncs of one platform are serialised, and a
/// sync is one transaction.
#[utoipa::path(put, path = "/v1/platforms/{code}/roster", tag = "platforms",
    params(("code" = String, Path, description = "Platform code"), crate::openapi::IdempotencyKeyHeader),
    request_body(content(
        (Vec<RiderIn> = "application/json"),
        (RiderIn = "application/x-ndjson"),
    )),
    responses((status = 200, description = "The sync's report", body = SyncReport,
        headers(("Location" = String, description = "The stored report's URL")))))]
pub async fn put_roster(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let platform = roster_platform(&state, &principal, &code).await?;
    let ndjson = match media_type(&req).as_deref() {
        Some("application/json") => false,
        Some("application/x-ndjson") => true,
        _ => {
            return Err(ApiError::new(
                ProblemKind::UnsupportedMediaType,
                "send application/json (an array) or application/x-ndjson",
            ));
        }
    };
    let bytes = read_body_up_to(&req, payload, state.config.roster_body_limit_bytes).await?;
    let fingerprint = body_fingerprint(
        &state.pii,
        &format!("PUT /v1/platforms/{}/roster {ndjson}", platform.code),
        &bytes,
    );
    let pii = state.pii.clone();
    let rows = web::block(move || snapshot_rows(&pii, ndjson, &bytes))
        .await
        .map_err(|_| ApiError::internal())??;
    run_sync(
        &state,
        &principal,
        key,
        fingerprint,
        platform,
        SyncKind::Snapshot,
        rows,
    )
    .await
}

/// Apply a delta: create or update the riders in `upsert`, make those in `deactivate`
/// inactive. Same report, rules and serialisation as a snapshot.
#[utoipa::path(post, path = "/v1/platforms/{code}/roster/changes", tag = "platforms",
    params(("code" = String, Path, description = "Platform code"), crate::openapi::IdempotencyKeyHeader),
    request_body = RosterChangesIn,
    responses((status = 200, description = "The sync's report", body = SyncReport,
        headers(("Location" = String, description = "The stored report's URL")))))]
pub async fn post_changes(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
    principal: Principal,
    key: IdempotencyKey,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let platform = roster_platform(&state, &principal, &code).await?;
    if media_type(&req).as_deref() != Some("application/json") {
        return Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            "send application/json",
        ));
    }
    let bytes = read_body_up_to(&req, payload, state.config.roster_body_limit_bytes).await?;
    let fingerprint = body_fingerprint(
        &state.pii,
        &format!("POST /v1/platforms/{}/roster/changes", platform.code),
        &bytes,
    );
    let pii = state.pii.clone();
    let rows = web::block(move || delta_rows(&pii, &bytes))
        .await
        .map_err(|_| ApiError::internal())??;
    run_sync(
        &state,
        &principal,
        key,
        fingerprint,
        platform,
        SyncKind::Delta,
        rows,
    )
    .await
}

fn delta_rows(pii: &PiiCipher, bytes: &[u8]) -> ApiResult<Rows> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed(format!("the body is not valid JSON: {e}")))?;
    let changes: RosterChangesIn = serde_path_to_error::deserialize(&value)
        .map_err(|e| ApiError::validation(vec![shape_field_error(e, "unknown_field")]))?;
    drop(value);
    too_many(changes.upsert.len() + changes.deactivate.len())?;
    let today = today_in_china();
    let mut rows = Rows::default();
    for (i, item) in changes.upsert.iter().enumerate() {
        rows.push(pii, i, &format!("/upsert/{i}"), item.get(), today);
    }
    rows.reject_duplicates(|i| format!("/upsert/{i}"));
    rows.received += changes.deactivate.len();
    let mut deactivate = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in changes.deactivate.iter().enumerate() {
        match serde_json::from_str::<String>(item.get()) {
            Ok(ext) if !ext.trim().is_empty() && ext.chars().count() <= 64 => {
                if seen.insert(ext.clone()) {
                    deactivate.push((i, ext));
                }
            }
            _ => rows.errors.push(RowError {
                index: i,
                external_id: None,
                pointer: format!("/deactivate/{i}"),
                code: "external_id".into(),
                detail: "each entry must be an external_id: a string of 1-64 characters".into(),
            }),
        }
    }
    rows.deactivate = deactivate;
    Ok(rows)
}

/// A sync's stored report.
#[utoipa::path(get, path = "/v1/platforms/{code}/roster/syncs/{sync_id}", tag = "platforms",
    params(("code" = String, Path, description = "Platform code"),
        ("sync_id" = Uuid, Path, description = "The sync's id")),
    responses((status = 200, description = "The report", body = SyncReport)))]
pub async fn get_sync(
    state: State,
    principal: Principal,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (code, sync_id) = path.into_inner();
    let platform = roster_platform(&state, &principal, &code).await?;
    let report = repo::get_sync(&state.db, platform.id, sync_id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(report))
}

/// A platform's riders as the union sees them, with their linked `member_id`.
#[utoipa::path(get, path = "/v1/platforms/{code}/riders", tag = "platforms",
    params(("code" = String, Path, description = "Platform code"), RiderQuery),
    responses((status = 200, description = "A page of riders", body = ListResponse<RiderOut>)))]
pub async fn riders(
    state: State,
    principal: Principal,
    code: web::Path<String>,
    query: ValidQuery<RiderQuery>,
) -> ApiResult<HttpResponse> {
    let reach = principal.require_admin()?;
    let q = query.0;
    let page = page_request(&state.config, q.limit, q.cursor.as_deref())?;
    let platform = repo::get_in_reach(&state.db, &reach, &code).await?;
    let page = repo::list_riders(&state.db, platform.id, q.status, page).await?;
    let next_cursor = page.next_after.map(crate::pagination::encode_cursor);
    let items = page
        .items
        .into_iter()
        .map(|r| rider_out(&state.pii, r))
        .collect::<ApiResult<Vec<_>>>()?;
    ListResponse { items, next_cursor }.respond()
}

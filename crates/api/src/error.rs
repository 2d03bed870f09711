//! One error type for the whole API, rendered as RFC 9457 problem+json.
//!
//! Every non-2xx answer goes through here — handler errors, extractor errors, unknown
//! routes, wrong methods — so clients parse one shape. `type` is a relative reference
//! (`/problems/<slug>`) that the service itself answers with a description.

use crate::request_context;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use unionhall_persistence::StoreError;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field-level validation failure.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the offending field in the request, e.g. `/members/0/id_number`;
    /// for query parameters, `/<name>`.
    pub pointer: String,
    /// A stable machine-readable code (`required`, `length`, `checksum`, `unknown_field` …).
    pub code: String,
    /// A human-readable explanation.
    pub detail: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            pointer: pointer.into(),
            code: code.into(),
            detail: detail.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A relative URI naming the problem kind; `GET` it for a description.
    #[schema(example = "/problems/validation")]
    pub r#type: String,
    /// A short summary of the problem kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The request path this problem is about.
    pub instance: String,
    /// The request id, also in the `X-Request-Id` header; quote it when reporting.
    pub request_id: String,
    /// Field errors, for `validation` problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For conflicts: the constraint that refused the write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    /// For conflicts: the id of the existing resource, where the caller may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
    /// For the token endpoint: the OAuth 2.0 error code (RFC 6749 §5.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a booking ban: when it ends (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// The kinds of problem the API reports: slug, title and status in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    MalformedRequest,
    Unauthenticated,
    Forbidden,
    BookingBan,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    Validation,
    InvalidGrant,
    TooManyRequests,
    Internal,
    Unavailable,
}

impl ProblemKind {
    /// Every kind, for the `/problems/{slug}` pages.
    pub const ALL: [ProblemKind; 15] = [
        ProblemKind::MalformedRequest,
        ProblemKind::Unauthenticated,
        ProblemKind::Forbidden,
        ProblemKind::BookingBan,
        ProblemKind::NotFound,
        ProblemKind::MethodNotAllowed,
        ProblemKind::Conflict,
        ProblemKind::PreconditionFailed,
        ProblemKind::PayloadTooLarge,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::Validation,
        ProblemKind::InvalidGrant,
        ProblemKind::TooManyRequests,
        ProblemKind::Internal,
        ProblemKind::Unavailable,
    ];

    /// `(slug, title, status, description)`.
    pub fn describe(self) -> (&'static str, &'static str, StatusCode, &'static str) {
        use ProblemKind::*;
        match self {
            MalformedRequest => (
                "malformed-request",
                "Malformed request",
                StatusCode::BAD_REQUEST,
                "The request body or a header could not be parsed (for example, invalid JSON).",
            ),
            Unauthenticated => (
                "unauthenticated",
                "Authentication required",
                StatusCode::UNAUTHORIZED,
                "The bearer token is missing, malformed, expired, not yet valid, revoked, or belongs to a disabled account. Obtain a new one from POST /v1/auth/token.",
            ),
            Forbidden => (
                "forbidden",
                "Forbidden",
                StatusCode::FORBIDDEN,
                "The caller is authenticated but holds no role that allows this action.",
            ),
            BookingBan => (
                "booking-ban",
                "Booking ban",
                StatusCode::FORBIDDEN,
                "The member may not book this venue for now: enough no-shows brought a ban. `until` says when it ends; the detail names the rule.",
            ),
            NotFound => (
                "not-found",
                "Not found",
                StatusCode::NOT_FOUND,
                "No such resource, or it is outside the caller's organisation subtree.",
            ),
            MethodNotAllowed => (
                "method-not-allowed",
                "Method not allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "The resource exists but does not support this method; the Allow header lists those it does.",
            ),
            Conflict => (
                "conflict",
                "Conflict",
                StatusCode::CONFLICT,
                "The request conflicts with existing data (a unique constraint, or a request with the same Idempotency-Key still in progress).",
            ),
            PreconditionFailed => (
                "precondition-failed",
                "Precondition failed",
                StatusCode::PRECONDITION_FAILED,
                "The If-Match header does not match the resource's current ETag: it changed since it was read. GET it again and retry.",
            ),
            PayloadTooLarge => (
                "payload-too-large",
                "Payload too large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body exceeds the configured limit.",
            ),
            UnsupportedMediaType => (
                "unsupported-media-type",
                "Unsupported media type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The request body's Content-Type is not accepted by this endpoint.",
            ),
            Validation => (
                "validation",
                "Validation failed",
                StatusCode::UNPROCESSABLE_ENTITY,
                "The request is well-formed but some values are invalid; `errors` lists each with a JSON Pointer.",
            ),
            InvalidGrant => (
                "invalid-grant",
                "Invalid grant",
                StatusCode::BAD_REQUEST,
                "The credentials or refresh token were not accepted (OAuth 2.0 `invalid_grant`, `invalid_request` or `unsupported_grant_type`).",
            ),
            TooManyRequests => (
                "too-many-requests",
                "Too many requests",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts; wait for the number of seconds in the Retry-After header.",
            ),
            Internal => (
                "internal",
                "Internal error",
                StatusCode::INTERNAL_SERVER_ERROR,
                "An unexpected error; it has been logged with the request id.",
            ),
            Unavailable => (
                "unavailable",
                "Service unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "A dependency (the database) is unreachable or the request timed out; retry shortly.",
            ),
        }
    }

    /// The kind whose slug this is.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.describe().0 == slug)
    }

    /// The kind that answers a bare status (for responses produced outside our handlers).
    pub fn for_status(status: StatusCode) -> Self {
        use ProblemKind::*;
        match status.as_u16() {
            400 => MalformedRequest,
            401 => Unauthenticated,
            403 => Forbidden,
            404 => NotFound,
            405 => MethodNotAllowed,
            409 => Conflict,
            412 => PreconditionFailed,
            413 => PayloadTooLarge,
            415 => UnsupportedMediaType,
            422 => Validation,
            429 => TooManyRequests,
            503 | 504 => Unavailable,
            _ => Internal,
        }
    }
}

/// An API error: a problem kind, what to tell the client, and any extensions.
/// Boxed, so `Result<T, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<Details>);

#[derive(Debug)]
struct Details {
    kind: ProblemKind,
    detail: String,
    errors: Option<Vec<FieldError>>,
    conflict: Option<String>,
    existing_id: Option<String>,
    oauth_error: Option<&'static str>,
    retry_after_secs: Option<u64>,
    allow: Option<String>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Set when the error is rendered outside the request's task (see `with_context`).
    context: Option<request_context::RequestContext>,
}

impl ApiError {
    /// An error of `kind` with a client-facing detail.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Details {
            kind,
            detail: detail.into(),
            errors: None,
            conflict: None,
            existing_id: None,
            oauth_error: None,
            retry_after_secs: None,
            allow: None,
            until: None,
            context: None,
        }))
    }

    /// Pins the request this error answers, for errors that actix renders after the
    /// request middleware has returned (so the task-local context is gone).
    pub fn with_context(mut self, ctx: request_context::RequestContext) -> Self {
        self.0.context = Some(ctx);
        self
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::MalformedRequest, detail)
    }
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Unauthenticated, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Forbidden, detail)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(ProblemKind::NotFound, format!("no such {what}"))
    }
    pub fn precondition_failed() -> Self {
        Self::new(
            ProblemKind::PreconditionFailed,
            "the resource changed since the ETag in If-Match was issued",
        )
    }
    pub fn internal() -> Self {
        Self::new(ProblemKind::Internal, "internal error")
    }

    /// A 422 with one or more field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.pointer, one.detail),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut err = Self::new(ProblemKind::Validation, detail);
        err.0.errors = Some(errors);
        err
    }

    /// A 422 about one field.
    pub fn field(pointer: &str, code: &str, detail: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(pointer, code, detail)])
    }

    /// A 409 naming the constraint and, where the caller may see it, the existing row.
    pub fn conflict(
        detail: impl Into<String>,
        constraint: &str,
        existing_id: Option<String>,
    ) -> Self {
        let mut err = Self::new(ProblemKind::Conflict, detail);
        err.0.conflict = Some(constraint.to_owned());
        err.0.existing_id = existing_id;
        err
    }

    /// An OAuth 2.0 token-endpoint error (`invalid_grant`, `invalid_request`, …).
    pub fn oauth(code: &'static str, detail: impl Into<String>) -> Self {
        let mut err = Self::new(ProblemKind::InvalidGrant, detail);
        err.0.oauth_error = Some(code);
        err
    }

    /// A 429 telling the client when to come back.
    pub fn too_many(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut err = Self::new(ProblemKind::TooManyRequests, detail);
        err.0.retry_after_secs = Some(retry_after_secs.max(1));
        err
    }

    /// A 403 for a member banned from booking until `until`.
    pub fn booking_ban(detail: impl Into<String>, until: chrono::DateTime<chrono::Utc>) -> Self {
        let mut err = Self::new(ProblemKind::BookingBan, detail);
        err.0.until = Some(until);
        err
    }

    /// A 405 listing the methods the resource does support.
    pub fn method_not_allowed(allow: &str) -> Self {
        let mut err = Self::new(
            ProblemKind::MethodNotAllowed,
            format!("this resource supports {allow}"),
        );
        err.0.allow = Some(allow.to_owned());
        err
    }

    /// The problem kind.
    pub fn kind(&self) -> ProblemKind {
        self.0.kind
    }

    /// Builds the problem document for the current request.
    pub fn to_problem(&self) -> Problem {
        let d = &self.0;
        let (slug, title, status, _) = d.kind.describe();
        let ctx = d.context.clone().unwrap_or_else(request_context::current);
        Problem {
            r#type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: d.detail.clone(),
            instance: ctx.path,
            request_id: ctx.request_id,
            errors: d.errors.clone(),
            conflict: d.conflict.clone(),
            existing_id: d.existing_id.clone(),
            error: d.oauth_error.map(str::to_owned),
            until: d.until.map(|u| u.to_rfc3339()),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.kind.describe().0, self.0.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.kind.describe().2
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.to_problem();
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        let d = &self.0;
        if let Some(secs) = d.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = &d.allow {
            res.insert_header((header::ALLOW, allow.clone()));
        }
        if let Some(ctx) = &d.context {
            res.insert_header(("x-request-id", ctx.request_id.clone()));
        }
        if d.kind == ProblemKind::Unauthenticated {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.body(serde_json::to_vec(&problem).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::new(ProblemKind::NotFound, "no such resource"),
            StoreError::Conflict { constraint } => ApiError::conflict(
                format!("a resource with the same {constraint} already exists"),
                &constraint,
                None,
            ),
            StoreError::StaleVersion => ApiError::precondition_failed(),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::new(
                    ProblemKind::Unavailable,
                    "the database is unavailable; retry shortly",
                )
            }
            StoreError::Db(cause) => {
                tracing::error!(%cause, "database error");
                ApiError::internal()
            }
        }
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

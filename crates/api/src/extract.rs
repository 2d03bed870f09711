//! Extractors that check as they extract, so handlers start from valid input:
//! `ValidatedJson` (body → type → rules, with JSON Pointers on every failure),
//! `ValidQuery`, the `If-Match` and `Idempotency-Key` headers, and the error handlers
//! that keep actix's own extractor failures in problem+json.

use crate::error::{ApiError, FieldError, ProblemKind};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

/// A JSON body, parsed with `deny_unknown_fields` types and checked with `validator`.
/// Keeps a digest of the canonical body for idempotency comparisons.
#[derive(Debug)]
pub struct ValidatedJson<T> {
    pub value: T,
    /// SHA-256 of the body re-serialised with sorted keys: the same JSON however formatted.
    pub digest: String,
}

/// Reads a body up to the configured limit: 413 beyond it, whether the client declared
/// the length or not.
pub async fn read_body<S>(req: &HttpRequest, payload: S) -> Result<web::Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(1024 * 1024, |s| s.config.body_limit_bytes);
    read_body_up_to(req, payload, limit).await
}

/// Reads a body up to `limit` bytes (a route with its own, larger limit): 413 beyond it.
pub async fn read_body_up_to<S>(
    req: &HttpRequest,
    mut payload: S,
    limit: usize,
) -> Result<web::Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let too_large = || {
        ApiError::new(
            ProblemKind::PayloadTooLarge,
            format!("the body exceeds {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::malformed(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The media type of a request, lowercased without parameters.
pub fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

/// Parses JSON bytes into `T`: syntax errors are 400, type and shape errors 422 with a
/// pointer to the field, then the type's `validator` rules as 422s.
pub fn parse_json<T: DeserializeOwned + Validate>(
    bytes: &[u8],
) -> Result<ValidatedJson<T>, ApiError> {
    let canonical: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed(format!("the body is not valid JSON: {e}")))?;
    let value: T = serde_path_to_error::deserialize(&canonical)
        .map_err(|e| shape_error(e, "unknown_field"))?;
    let value = checked(value)?;
    let digest = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
    Ok(ValidatedJson { value, digest })
}

/// Turns a deserialisation failure into a 422 pointing at the field: where it failed,
/// or, for a missing or unknown name (which serde reports at the parent), the name.
fn shape_error<E: std::fmt::Display>(
    err: serde_path_to_error::Error<E>,
    unknown_code: &'static str,
) -> ApiError {
    ApiError::validation(vec![shape_field_error(err, unknown_code)])
}

/// The field error of a deserialisation failure (see `shape_error`), for callers that
/// report failures row by row instead of refusing the whole request.
pub fn shape_field_error<E: std::fmt::Display>(
    err: serde_path_to_error::Error<E>,
    unknown_code: &'static str,
) -> FieldError {
    let at = pointer_of(err.path());
    let message = err.into_inner().to_string();
    let code = if message.starts_with("unknown field") {
        unknown_code
    } else if message.starts_with("missing field") {
        "required"
    } else if message.starts_with("unknown variant") {
        "enum"
    } else if message.starts_with("duplicate field") {
        "duplicate"
    } else {
        "type"
    };
    let pointer = match (code, message.split('`').nth(1)) {
        (c, Some(name))
            if (c == "required" || c == "duplicate" || c == unknown_code)
                && !at.ends_with(&format!("/{name}")) =>
        {
            format!("{}/{}", at.trim_end_matches('/'), name)
        }
        _ => at,
    };
    FieldError::new(pointer, code, message)
}

/// Runs a type's `validator` rules.
fn checked<T: Validate>(value: T) -> Result<T, ApiError> {
    value
        .validate()
        .map_err(|e| ApiError::validation(flatten_validation("", &e)))?;
    Ok(value)
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    if out.is_empty() { "/".into() } else { out }
}

/// Turns `validator`'s nested errors into one flat list of pointers.
pub fn flatten_validation(prefix: &str, errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let pointer = format!("{prefix}/{field}");
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let detail = e
                        .message
                        .as_ref()
                        .map_or_else(|| describe(e), |m| m.to_string());
                    out.push(FieldError::new(pointer.clone(), e.code.to_string(), detail));
                }
            }
            ValidationErrorsKind::Struct(inner) => out.extend(flatten_validation(&pointer, inner)),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    out.extend(flatten_validation(&format!("{pointer}/{index}"), inner));
                }
            }
        }
    }
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    out
}

fn describe(e: &validator::ValidationError) -> String {
    let params: Vec<String> = e
        .params
        .iter()
        .filter(|(k, _)| *k != "value")
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if params.is_empty() {
        format!("failed `{}`", e.code)
    } else {
        format!("failed `{}` ({})", e.code, params.join(", "))
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidatedJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            match media_type(&req).as_deref() {
                Some("application/json") => {}
                Some(other) if other.ends_with("+json") => {}
                _ => {
                    return Err(ApiError::new(
                        ProblemKind::UnsupportedMediaType,
                        "send the body as Content-Type: application/json",
                    ));
                }
            }
            let bytes = read_body(&req, payload).await?;
            parse_json(&bytes)
        })
    }
}

/// Query parameters, parsed with pointers to the failing parameter and validated.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ValidQuery))
    }
}

/// Parses a query string into `T`, as [`ValidQuery`] does.
pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    let value: T =
        serde_path_to_error::deserialize(de).map_err(|e| shape_error(e, "unknown_parameter"))?;
    checked(value)
}

fn form_urlencoded_parse(query: &str) -> url_form::Parse<'_> {
    url_form::parse(query.as_bytes())
}

/// Re-export of the form-urlencoded parser serde_urlencoded builds on.
mod url_form {
    pub use form_urlencoded::{Parse, parse};
}

/// For PATCH fields that can be cleared: absent → `None` (unchanged, with
/// `#[serde(default)]`), `null` → `Some(None)` (clear), a value → `Some(Some(v))`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The `If-Match` header as sent. It is judged in the handler, against the resource's
/// current version and after the body has been checked (see [`IfMatch::expect`]).
#[derive(Debug, Clone)]
pub struct IfMatch(pub Option<String>);

/// The longest `If-Match` accepted (the spec's `maxLength`).
pub const IF_MATCH_MAX: usize = 256;

impl IfMatch {
    /// The version an update must find, given the resource is now at `current`:
    /// `None` when there is no precondition (no header, or `*`). A list matches if any
    /// of its strong tags does (RFC 9110 §13.1.1: weak tags never match). No match is 412.
    pub fn expect(&self, current: i32) -> Result<Option<i32>, ApiError> {
        let Some(raw) = &self.0 else { return Ok(None) };
        if raw.len() > IF_MATCH_MAX {
            return Err(ApiError::field(
                "/If-Match",
                "length",
                format!("If-Match is longer than {IF_MATCH_MAX} characters"),
            ));
        }
        let raw = raw.trim();
        if raw == "*" {
            return Ok(None);
        }
        let matches = raw
            .split(',')
            .map(str::trim)
            .any(|tag| tag == etag(current));
        if matches {
            Ok(Some(current))
        } else {
            Err(ApiError::precondition_failed())
        }
    }
}

/// The ETag of a resource at `version`.
pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// Adds the `ETag` of a resource at `version` to a response.
pub fn with_etag(
    res: &mut actix_web::HttpResponseBuilder,
    version: i32,
) -> &mut actix_web::HttpResponseBuilder {
    res.insert_header((header::ETAG, etag(version)))
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req
            .headers()
            .get(header::IF_MATCH)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        std::future::ready(Ok(IfMatch(raw)))
    }
}

/// The `Idempotency-Key` header (1–255 visible ASCII characters), if sent.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(key)
                    if (1..=255).contains(&key.len())
                        && key.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKey(Some(key.to_owned())))
                }
                _ => Err(ApiError::field(
                    "/Idempotency-Key",
                    "idempotency_key",
                    "Idempotency-Key must be 1-255 visible ASCII characters",
                )),
            },
        };
        std::future::ready(parsed)
    }
}

/// Problem+json for path parameters that don't parse: such an id can't name anything.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ProblemKind::NotFound, format!("no such resource ({err})")).into()
}

/// Problem+json for actix's own `Query` extractor, should a handler use it.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    ApiError::field("/", "type", err.to_string()).into()
}

/// Problem+json for actix's own `Json` extractor, should a handler use it.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => {
            ApiError::new(ProblemKind::PayloadTooLarge, "the body is too large").into()
        }
        E::ContentType => {
            ApiError::new(ProblemKind::UnsupportedMediaType, "send application/json").into()
        }
        E::Deserialize(e) if e.is_data() => ApiError::field("/", "type", e.to_string()).into(),
        other => ApiError::malformed(other.to_string()).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(header: Option<&str>, current: i32) -> Result<Option<i32>, u16> {
        IfMatch(header.map(str::to_owned))
            .expect(current)
            .map_err(|e| e.kind().describe().2.as_u16())
    }

    #[test]
    fn if_match_is_judged_against_the_current_version() {
        assert_eq!(judged(None, 3), Ok(None));
        assert_eq!(judged(Some("*"), 3), Ok(None));
        assert_eq!(judged(Some("\"v3\""), 3), Ok(Some(3)));
        assert_eq!(judged(Some("\"v1\", \"v3\""), 3), Ok(Some(3)));
        assert_eq!(judged(Some("\"v2\""), 3), Err(412));
        assert_eq!(
            judged(Some("W/\"v3\""), 3),
            Err(412),
            "weak tags never match"
        );
        assert_eq!(judged(Some("garbage"), 3), Err(412));
        assert_eq!(judged(Some(&"x".repeat(300)), 3), Err(422));
    }
}

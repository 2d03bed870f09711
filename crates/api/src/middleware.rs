//! The one request middleware: request ids, the request timeout, one structured log
//! line and metrics per request, and a last guard that turns any error answer not
//! already in problem+json (actix internals, unmatched methods) into one.

use crate::error::{ApiError, PROBLEM_JSON, ProblemKind};
use crate::request_context::{self, RequestContext};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use std::time::{Duration, Instant};

/// The request id header, echoed when a valid one comes in.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let id = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let valid = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    valid.then(|| id.to_owned())
}

/// Bulk writes: they get `bulk_request_timeout_secs` instead of the usual timeout.
const BULK_ROUTES: [&str; 3] = [
    "/v1/platforms/{code}/roster",
    "/v1/platforms/{code}/roster/changes",
    "/v1/insurance/enrollments",
];

/// The middleware function (`actix_web::middleware::from_fn`).
///
/// The `ServiceRequest` must not be cloned before routing (actix needs it unshared to
/// record the match), so errors that come back without a response — a timeout, a
/// failing inner middleware — are returned as `ApiError`s that carry the request's
/// id and path themselves.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();
    // Known before routing (actix matches the path against its resource map), so even a
    // request that ends without a response is counted under its route.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let timeout = state.as_ref().map_or(Duration::from_secs(30), |s| {
        Duration::from_secs(if BULK_ROUTES.contains(&route.as_str()) {
            s.config.bulk_request_timeout_secs
        } else {
            s.config.request_timeout_secs
        })
    });
    let ctx = RequestContext {
        request_id: request_id.clone(),
        path: req.path().to_owned(),
    };
    if let Some(s) = &state {
        s.metrics.begin();
    }
    let log = |route: &str, status: u16| {
        let elapsed = started.elapsed();
        if let Some(s) = &state {
            s.metrics.finish(&method, route, status, elapsed);
        }
        tracing::info!(
            target: "unionhall::request",
            request_id = %request_id,
            method = %method,
            route = %route,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    };

    let outcome = request_context::scope(ctx.clone(), async move {
        match tokio::time::timeout(timeout, next.call(req)).await {
            Ok(Ok(res)) => Ok(ensure_problem(res.map_into_boxed_body())),
            Ok(Err(err)) => {
                let status = err.as_response_error().status_code();
                let kind = ProblemKind::for_status(status);
                Err(ApiError::new(kind, kind.describe().1.to_lowercase()))
            }
            Err(_) => Err(ApiError::new(
                ProblemKind::Unavailable,
                "the request timed out",
            )),
        }
    })
    .await;

    match outcome {
        Ok(mut res) => {
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(REQUEST_ID, value);
            }
            log(&route, res.status().as_u16());
            Ok(res)
        }
        Err(err) => {
            log(&route, err.status_code().as_u16());
            Err(err.with_context(ctx).into())
        }
    }
}

/// Replaces a non-problem error body with a problem of the same status, keeping the
/// headers that matter (`Allow`, `Retry-After`).
fn ensure_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let kind = ProblemKind::for_status(status);
    let detail = match kind {
        ProblemKind::NotFound => "no such resource".to_owned(),
        ProblemKind::Internal => "internal error".to_owned(),
        _ => kind.describe().1.to_lowercase(),
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let (req, _) = res.into_parts();
    let mut replacement = ApiError::new(kind, detail).error_response();
    *replacement.status_mut() = status;
    for (name, value) in [(header::ALLOW, allow), (header::RETRY_AFTER, retry_after)] {
        if let Some(value) = value {
            replacement.headers_mut().insert(name, value);
        }
    }
    ServiceResponse::new(req, replacement)
}

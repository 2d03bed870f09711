//! Creating requests that must not happen twice: `Idempotency-Key` claim, work and
//! stored response in one transaction, replayed on retry (see
//! `unionhall_persistence::idempotency` for how concurrent duplicates resolve).

use crate::error::{ApiError, ApiResult};
use crate::extract::IdempotencyKey;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use futures_util::future::BoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};
use unionhall_domain::UserId;
use unionhall_persistence::{DatabaseTransaction, db, idempotency};

/// What a creating handler made: the resource and where it lives.
pub struct Created<T> {
    pub location: String,
    pub body: T,
}

/// Runs `work` in a write transaction and answers 201 with its result. With an
/// `Idempotency-Key`, the first response is stored under (caller, key) and replayed
/// for retries; the same key with a different request is a 422.
pub async fn create<T, F>(
    state: &AppState,
    caller: UserId,
    key: IdempotencyKey,
    request_fingerprint: &str,
    work: F,
) -> ApiResult<HttpResponse>
where
    T: Serialize,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, ApiResult<Created<T>>>,
{
    let txn = db::begin_write(&state.db).await?;
    if let Some(replay) = claim_or_replay(&txn, caller, &key, request_fingerprint).await? {
        return Ok(replay);
    }
    let created = work(&txn).await?;
    let body = serde_json::to_string(&created.body).map_err(|_| ApiError::internal())?;
    if let Some(key) = &key.0 {
        idempotency::complete(&txn, caller, key, 201, &body, Some(&created.location)).await?;
    }
    txn.commit()
        .await
        .map_err(unionhall_persistence::StoreError::from)?;
    Ok(respond(201, body, Some(&created.location), false))
}

/// Claims `key` for this request inside `txn`. `Some` is the stored response of an
/// earlier request with the same key, to answer instead of doing the work again (or a
/// 422 when that request was a different one); `None` means go ahead, and store the
/// answer with `idempotency::complete` in the same transaction. No key: always `None`.
pub(crate) async fn claim_or_replay(
    txn: &DatabaseTransaction,
    caller: UserId,
    key: &IdempotencyKey,
    request_fingerprint: &str,
) -> ApiResult<Option<HttpResponse>> {
    let Some(key) = &key.0 else {
        return Ok(None);
    };
    let request_hash = hex::encode(Sha256::digest(request_fingerprint.as_bytes()));
    let Some(stored) = idempotency::claim(txn, caller, key, &request_hash).await? else {
        return Ok(None);
    };
    if stored.request_hash != request_hash {
        return Err(ApiError::field(
            "/Idempotency-Key",
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        ));
    }
    Ok(Some(respond(
        stored.status_code,
        stored.body,
        stored.location.as_deref(),
        true,
    )))
}

pub(crate) fn respond(
    status: u16,
    body: String,
    location: Option<&str>,
    replayed: bool,
) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED));
    res.content_type("application/json");
    if let Some(location) = location {
        res.insert_header((header::LOCATION, location.to_owned()));
    }
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    res.body(body)
}

//! The OAuth2-shaped token endpoint (password and refresh grants, JSON or form bodies)
//! and refresh-token revocation.

use crate::auth::password;
use crate::error::{ApiError, ApiResult, ProblemKind};
use crate::extract::{media_type, parse_json, read_body};
use crate::state::{AppState, State};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unionhall_domain::UserId;
use unionhall_persistence::tokens::Redemption;
use unionhall_persistence::{ConnectionTrait, StoreError, db, throttle, tokens, users};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// The OAuth 2.0 grant being used.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    Password,
    RefreshToken,
    ClientCredentials,
}

/// A token request (RFC 6749 §4.3, §6), as JSON or `application/x-www-form-urlencoded`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub grant_type: GrantType,
    /// For `password`.
    #[validate(length(min = 1, max = 64))]
    #[schema(max_length = 64, min_length = 1)]
    pub username: Option<String>,
    /// For `password`.
    #[validate(length(min = 1, max = 128))]
    #[schema(max_length = 128, min_length = 1, format = Password)]
    pub password: Option<String>,
    /// For `refresh_token`.
    #[validate(length(min = 1, max = 512))]
    #[schema(max_length = 512, min_length = 1)]
    pub refresh_token: Option<String>,
    /// For `client_credentials` (delivery platforms).
    #[validate(length(min = 1, max = 128))]
    #[schema(max_length = 128, min_length = 1)]
    pub client_id: Option<String>,
    /// For `client_credentials`.
    #[validate(length(min = 1, max = 256))]
    #[schema(max_length = 256, min_length = 1, format = Password)]
    pub client_secret: Option<String>,
    /// Accepted for compatibility with OAuth clients; roles decide what a token allows.
    #[validate(length(max = 256))]
    #[schema(max_length = 256)]
    pub scope: Option<String>,
}

/// Issued tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque; exchange it once for new tokens with `grant_type=refresh_token`. Absent
    /// for `client_credentials` (RFC 6749 §4.4.3): a platform asks for a new token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// A revocation request (RFC 7009).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The refresh token whose login (token family) should end.
    #[validate(length(min = 1, max = 512))]
    #[schema(max_length = 512, min_length = 1)]
    pub token: String,
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub token_type_hint: Option<String>,
}

/// Reads a JSON or form body into `T`.
async fn json_or_form<T>(req: &HttpRequest, payload: web::Payload) -> ApiResult<T>
where
    T: serde::de::DeserializeOwned + Validate,
{
    let kind = media_type(req);
    let bytes = read_body(req, payload).await?;
    match kind.as_deref() {
        Some("application/json") => Ok(parse_json::<T>(&bytes)?.value),
        Some("application/x-www-form-urlencoded") => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| ApiError::malformed("the form body is not UTF-8"))?;
            crate::extract::parse_query::<T>(text)
        }
        _ => Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            "send application/json or application/x-www-form-urlencoded",
        )),
    }
}

fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("uhr_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The client's address without its port: the peer, or the `X-Forwarded-For` client
/// when the proxy in front is trusted. IPv6 addresses stay whole.
pub(crate) fn client_address(req: &HttpRequest, state: &AppState) -> String {
    use std::net::{IpAddr, SocketAddr};
    let info = req.connection_info();
    let raw = if state.config.trust_forwarded_for {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    let Some(raw) = raw else {
        return "unknown".into();
    };
    if let Ok(sock) = raw.parse::<SocketAddr>() {
        return sock.ip().to_string();
    }
    if let Ok(ip) = raw.trim_matches(['[', ']']).parse::<IpAddr>() {
        return ip.to_string();
    }
    raw.to_owned()
}

/// Obtain tokens.
///
/// `password`: a staff or member account's username and password. `refresh_token`:
/// exchange a refresh token (it is spent; presenting it again revokes the whole login).
/// `client_credentials`: a delivery platform's `client_id` and `client_secret`; the
/// token may only sync that platform's roster, and no refresh token is issued.
/// Failed logins are throttled per account and per client address (429 + Retry-After).
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", security(()),
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse,
            headers(("Cache-Control" = String, description = "no-store"))),
    ))]
pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> ApiResult<HttpResponse> {
    let body: TokenRequest = json_or_form(&req, payload).await?;
    let issued = match body.grant_type {
        GrantType::Password => {
            let (Some(username), Some(password)) = (body.username, body.password) else {
                return Err(ApiError::oauth(
                    "invalid_request",
                    "the password grant needs username and password",
                ));
            };
            password_grant(&state, &client_address(&req, &state), username, password).await?
        }
        GrantType::RefreshToken => {
            let Some(token) = body.refresh_token else {
                return Err(ApiError::oauth(
                    "invalid_request",
                    "the refresh_token grant needs refresh_token",
                ));
            };
            refresh_grant(&state, &token).await?
        }
        GrantType::ClientCredentials => {
            let (Some(client_id), Some(secret)) = (body.client_id, body.client_secret) else {
                return Err(ApiError::oauth(
                    "invalid_request",
                    "the client_credentials grant needs client_id and client_secret",
                ));
            };
            client_credentials_grant(&state, &client_id, &secret).await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(issued))
}

async fn password_grant(
    state: &AppState,
    client: &str,
    username: String,
    password: String,
) -> ApiResult<TokenResponse> {
    let config = &state.config;
    let now = Utc::now().timestamp();
    let window = i64::try_from(config.login_window_secs).unwrap_or(i64::MAX);
    let window_start = now - now.rem_euclid(window);
    let retry_after = u64::try_from(window_start + window - now).unwrap_or(1);
    let account_key = format!("account:{}", username.to_lowercase());
    let address_key = format!("address:{client}");
    let account_attempts = throttle::count_attempt(&state.db, &account_key, window_start).await?;
    let address_attempts = throttle::count_attempt(&state.db, &address_key, window_start).await?;
    if account_attempts > config.login_max_failures_per_account
        || address_attempts > config.login_max_failures_per_ip
    {
        return Err(ApiError::too_many(
            "too many failed logins; try again later",
            retry_after,
        ));
    }

    let found = users::credentials(&state.db, &username).await?;
    let ok = password::verify(password, found.as_ref().map(|(_, hash, _)| hash.clone())).await?;
    // One answer for every refusal, so it can't confirm a password or an account.
    let Some((user, _, false)) = found.filter(|_| ok) else {
        return Err(ApiError::oauth(
            "invalid_grant",
            "wrong username or password, or the account is disabled",
        ));
    };
    throttle::forgive_attempt(&state.db, &address_key, window_start).await?;
    throttle::clear(&state.db, &account_key).await?;
    issue(&state.db, state, user, Uuid::now_v7()).await
}

async fn refresh_grant(state: &AppState, token: &str) -> ApiResult<TokenResponse> {
    // Spend the old token and store its successor in one transaction: a concurrent
    // reuse either waits for both or sees neither, so when it revokes the family the
    // successor is revoked too.
    let txn = db::begin_write(&state.db).await?;
    let issued = match tokens::redeem(&txn, &hash_refresh_token(token)).await? {
        Redemption::Redeemed { user_id, family_id } => {
            Ok(issue(&txn, state, user_id, family_id).await?)
        }
        Redemption::Reused => Err(ApiError::oauth(
            "invalid_grant",
            "this refresh token was already used; every token of this login has been revoked",
        )),
        Redemption::Invalid => Err(ApiError::oauth(
            "invalid_grant",
            "the refresh token is unknown, expired or revoked",
        )),
    };
    // Commit either way: a detected reuse's revocation must stick.
    txn.commit().await.map_err(StoreError::from)?;
    issued
}

/// Issues an access token and a new refresh token in `family_id`.
async fn issue(
    db: &impl ConnectionTrait,
    state: &AppState,
    user_id: UserId,
    family_id: Uuid,
) -> ApiResult<TokenResponse> {
    let user = users::get_self(db, user_id).await?;
    if user.disabled {
        return Err(ApiError::oauth(
            "invalid_grant",
            "wrong username or password, or the account is disabled",
        ));
    }
    let access_token = state.keys.issue(user.id, &user.roles)?;
    let refresh_token = new_refresh_token();
    let ttl = i64::try_from(state.config.refresh_token_ttl_secs).unwrap_or(i64::MAX);
    tokens::insert(
        db,
        user.id,
        family_id,
        hash_refresh_token(&refresh_token),
        Utc::now() + chrono::Duration::seconds(ttl),
    )
    .await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.keys.ttl_secs(),
        refresh_token: Some(refresh_token),
    })
}

/// A delivery platform's token (RFC 6749 §4.4): its client secret is compared by hash
/// in constant time; the token's subject is the platform's account, which may only
/// sync that platform's roster. No refresh token.
async fn client_credentials_grant(
    state: &AppState,
    client_id: &str,
    secret: &str,
) -> ApiResult<TokenResponse> {
    let found = unionhall_persistence::platforms::credentials(&state.db, client_id).await?;
    let presented = crate::auth::secrets::hash_secret(secret);
    let stored = found
        .as_ref()
        .map_or_else(|| "0".repeat(presented.len()), |(_, hash)| hash.clone());
    let matches = crate::auth::secrets::constant_time_eq(&presented, &stored);
    let Some((platform, _)) = found.filter(|_| matches) else {
        return Err(ApiError::oauth(
            "invalid_client",
            "unknown client or wrong client secret",
        ));
    };
    let user = users::get_self(&state.db, platform.user_id).await?;
    if user.disabled {
        return Err(ApiError::oauth(
            "invalid_client",
            "the platform is disabled",
        ));
    }
    Ok(TokenResponse {
        access_token: state.keys.issue(user.id, &user.roles)?,
        token_type: "Bearer".into(),
        expires_in: state.keys.ttl_secs(),
        refresh_token: None,
    })
}

/// Revoke a refresh token and every token of its login (RFC 7009). Unknown tokens
/// are not an error, so the answer reveals nothing.
#[utoipa::path(post, path = "/v1/auth/revoke", tag = "auth", security(()),
    request_body(content(
        (RevokeRequest = "application/json"),
        (RevokeRequest = "application/x-www-form-urlencoded"),
    )),
    responses((status = 204, description = "Revoked (or never valid)")))]
pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> ApiResult<HttpResponse> {
    let body: RevokeRequest = json_or_form(&req, payload).await?;
    tokens::revoke_by_hash(&state.db, &hash_refresh_token(&body.token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! Access tokens: HS256 JWTs carrying `sub`, `roles`, `iss`, `aud`, `exp`, `nbf`,
//! `iat`, `jti` and a `kid` header naming the key, so secrets can be rotated: the
//! current one signs, previous ones still verify until their tokens expire.

use crate::error::ApiError;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unionhall_domain::users::RoleBinding;
use unionhall_domain::{OrgId, UserId};
use uuid::Uuid;

/// One role in a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenRole {
    pub role: String,
    pub org_id: Uuid,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub roles: Vec<TokenRole>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
}

struct VerifyKey {
    kid: String,
    key: DecodingKey,
}

/// Signing and verification keys with the issuer and audience they enforce.
pub struct Keys {
    kid: String,
    encoding: EncodingKey,
    verify: Vec<VerifyKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

/// A key id that names a secret without revealing it.
pub fn key_id(secret: &str) -> String {
    let digest = Sha256::digest(format!("unionhall-jwt-kid:{secret}").as_bytes());
    hex::encode(&digest[..8])
}

impl Keys {
    /// Builds keys from the current secret and any previous ones.
    pub fn new(
        secret: &str,
        previous: &[String],
        issuer: &str,
        audience: &str,
        ttl_secs: u64,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let mut verify = vec![VerifyKey {
            kid: key_id(secret),
            key: DecodingKey::from_secret(secret.as_bytes())?,
        }];
        for old in previous {
            verify.push(VerifyKey {
                kid: key_id(old),
                key: DecodingKey::from_secret(old.as_bytes())?,
            });
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(Keys {
            kid: key_id(secret),
            encoding: EncodingKey::from_secret(secret.as_bytes())?,
            verify,
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
        })
    }

    /// Lifetime of issued tokens in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Issues an access token for `user` with `roles`.
    pub fn issue(&self, user: UserId, roles: &[RoleBinding]) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user.0,
            roles: roles
                .iter()
                .map(|b| TokenRole {
                    role: b.role.as_str().to_owned(),
                    org_id: OrgId::into(b.org_id),
                })
                .collect(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.ttl_secs,
            nbf: now,
            iat: now,
            jti: Uuid::now_v7(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "could not sign an access token");
            ApiError::internal()
        })
    }

    /// Verifies a token: known `kid`, HS256 only (so `alg: none` and key confusion
    /// fail), signature, `iss`, `aud`, `exp` and `nbf`.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::unauthenticated("the bearer token is not a valid JWT"))?;
        let kid = header
            .kid
            .ok_or_else(|| ApiError::unauthenticated("the bearer token has no key id"))?;
        let key = self.verify.iter().find(|k| k.kid == kid).ok_or_else(|| {
            ApiError::unauthenticated("the bearer token was signed with an unknown key")
        })?;
        jsonwebtoken::decode::<AccessClaims>(token, &key.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let why = match e.kind() {
                    ErrorKind::ExpiredSignature => "the bearer token has expired",
                    ErrorKind::ImmatureSignature => "the bearer token is not valid yet",
                    ErrorKind::InvalidAudience => "the bearer token is for another audience",
                    ErrorKind::InvalidIssuer => "the bearer token is from another issuer",
                    ErrorKind::InvalidSignature => "the bearer token's signature does not verify",
                    ErrorKind::InvalidAlgorithm => "the bearer token uses a disallowed algorithm",
                    _ => "the bearer token is invalid",
                };
                ApiError::unauthenticated(why)
            })
    }
}

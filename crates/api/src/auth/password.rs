//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1), always on the blocking
//! pool: a hash takes tens of milliseconds of CPU, which would stall an async worker.

use crate::error::ApiError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon2() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| {
        tracing::error!(error = %e, "argon2 parameters");
        ApiError::internal()
    })?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let hasher = argon2()?;
        hasher
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "argon2 hash");
                ApiError::internal()
            })
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// Checks a password against a stored PHC string. A missing hash still costs one
/// verification, so response times don't reveal which usernames exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let hasher = argon2()?;
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return Ok(false);
        };
        let ok = hasher.verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(ok && phc != DUMMY_HASH)
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// A real argon2id hash (of a random string nobody knows), verified against when the
/// username doesn't exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$N6bKMWlkvvBD5E3ezyp8VJaw0fcbsBbeZDSNrC6SEQ0";

//! Refresh tokens: stored as hashes, rotated on use, and revoked as a family when a
//! spent one comes back (it was stolen, or a client raced itself).

use crate::StoreError;
use crate::entities::refresh_tokens;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use unionhall_domain::UserId;
use uuid::Uuid;

/// Stores a new token of `family` (a fresh family at login).
pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: UserId,
    family_id: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family_id),
        user_id: Set(user_id.0),
        token_hash: Set(token_hash),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// The token was live and is now spent; issue a successor in `family_id`.
    Redeemed { user_id: UserId, family_id: Uuid },
    /// The token was already spent: its family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Spends a token atomically: of two concurrent redemptions exactly one wins, because
/// the spend is one conditional UPDATE and only one can change the row.
pub async fn redeem(db: &impl ConnectionTrait, token_hash: &str) -> Result<Redemption, StoreError> {
    let now = Utc::now();
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    let Some(row) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
    else {
        return Ok(Redemption::Invalid);
    };
    if spent.rows_affected == 1 {
        return Ok(Redemption::Redeemed {
            user_id: UserId(row.user_id),
            family_id: row.family_id,
        });
    }
    if row.used_at.is_some() {
        revoke_family(db, row.family_id).await?;
        return Ok(Redemption::Reused);
    }
    Ok(Redemption::Invalid)
}

/// Revokes every token of a family.
pub async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid) -> Result<(), StoreError> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes the family of the token with this hash, if there is one (RFC 7009: unknown
/// tokens are not an error).
pub async fn revoke_by_hash(db: &impl ConnectionTrait, token_hash: &str) -> Result<(), StoreError> {
    if let Some(row) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
    {
        revoke_family(db, row.family_id).await?;
    }
    Ok(())
}

/// Revokes every token of a user (the account was disabled).
pub async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<(), StoreError> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::UserId.eq(user_id.0))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

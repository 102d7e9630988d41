//! Sessions: a short access token (a JWT, [`crate::auth::issue_token`]) and a rotating
//! refresh token.
//!
//! - A refresh token is 32 random bytes (base64url), stored as its SHA-256 only, valid for
//!   `Config::refresh_ttl` and usable once: `refreshToken` retires it and returns a new pair
//!   in the same family (the family starts at a login).
//! - A retired token presented again means it was copied: the whole family ends
//!   (`TOKEN_REVOKED`), the thief's pair and the owner's alike. Two refreshes of one token
//!   racing count the same way, so a client refreshes one at a time.
//! - The database ends every refresh token of a user whose token version rises (password
//!   change or reset, `logoutEverywhere`, erasure) or who is deactivated (a trigger), and
//!   the refresh checks the version and the active flag again.

use chrono::{DateTime, Utc};
use entity::{refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, sea_query::Expr,
};

use crate::core::config::Config;
use crate::core::db;
use crate::core::error::{AppError, AppResult, ErrorReason};

/// An access token and a refresh token, with their expiries.
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Longest refresh token looked up (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

fn random_hex(bytes: usize) -> Vec<u8> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    buf
}

fn digest(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Issues a pair for `user`: a new family (a login), or the next token of `family`.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    user: &user::Model,
    family: Option<String>,
) -> AppResult<TokenPair> {
    use base64::Engine;
    let (access_token, access_expires_at) =
        crate::auth::issue_token(config, user.id, user.token_version)?;
    let refresh_token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_hex(32));
    let family =
        family.unwrap_or_else(|| random_hex(16).iter().map(|b| format!("{b:02x}")).collect());
    let now = Utc::now();
    let refresh_expires_at =
        now + chrono::Duration::from_std(config.refresh_ttl).map_err(AppError::internal)?;
    refresh_token::ActiveModel {
        user_id: Set(user.id),
        family: Set(family),
        token_hash: Set(digest(&refresh_token)),
        token_version: Set(user.token_version),
        created_at: Set(now),
        expires_at: Set(refresh_expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(TokenPair {
        access_token,
        access_expires_at,
        refresh_token,
        refresh_expires_at,
    })
}

/// Ends every refresh token of a family.
async fn end_family<C: ConnectionTrait>(db: &C, family: &str) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::Family.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Trades a refresh token for a new pair (see the module's rules); returns it with the user.
pub async fn refresh(
    db: &DatabaseConnection,
    config: &Config,
    presented: &str,
) -> AppResult<(TokenPair, user::Model)> {
    let invalid = AppError::Unauthenticated(ErrorReason::TokenInvalid);
    let revoked = AppError::Unauthenticated(ErrorReason::TokenRevoked);
    let presented = presented.trim();
    if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
        return Err(invalid);
    }
    let txn = db::begin_write(db).await?;
    let mut find = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(presented)));
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let Some(row) = find.one(&txn).await? else {
        return Err(invalid);
    };
    if row.revoked_at.is_some() {
        return Err(revoked);
    }
    if row.used_at.is_some() {
        // Presented again after it was traded: copied. The family ends.
        tracing::warn!(
            user_id = row.user_id,
            "a retired refresh token was used again"
        );
        end_family(&txn, &row.family).await?;
        txn.commit().await?;
        return Err(revoked);
    }
    if Utc::now() >= row.expires_at {
        return Err(AppError::Unauthenticated(ErrorReason::TokenExpired));
    }
    let user = user::Entity::find_by_id(row.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.active && u.token_version == row.token_version && u.erased_at.is_none());
    let Some(user) = user else {
        end_family(&txn, &row.family).await?;
        txn.commit().await?;
        return Err(revoked);
    };
    let retired = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if retired.rows_affected != 1 {
        return Err(revoked);
    }
    let pair = issue(&txn, config, &user, Some(row.family)).await?;
    txn.commit().await?;
    Ok((pair, user))
}

/// Ends the family of a refresh token (logging out on one device); an unknown token is
/// ignored, so that a logout never fails.
pub async fn end(db: &DatabaseConnection, presented: &str) -> AppResult<()> {
    let presented = presented.trim();
    if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
        return Ok(());
    }
    if let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(presented)))
        .one(db)
        .await?
    {
        end_family(db, &row.family).await?;
    }
    Ok(())
}

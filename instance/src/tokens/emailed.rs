//! Single-use tokens sent by email (verification, password reset): 32 random bytes, stored only
//! as SHA-256, expiring, consumed atomically.

use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use crate::clock::UnixTime;
use crate::crypto::{random_secret, sha256_hex};
use crate::db::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    EmailVerification,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::EmailVerification => "email_verification",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

/// What a consumed token was issued for.
pub struct Redeemed {
    pub user_id: String,
    pub email: String,
}

/// Creates a token for `user_id`, bound to the address it is mailed to.
pub async fn create(
    db: &Db,
    purpose: Purpose,
    user_id: &str,
    email: &str,
    now: UnixTime,
    ttl_secs: u64,
) -> sqlx::Result<SecretString> {
    let token = random_secret("", 32);
    sqlx::query(
        "INSERT INTO one_time_tokens (token_hash, purpose, user_id, email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sha256_hex(token.expose_secret()))
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(email)
    .bind(now)
    .bind(now + ttl_secs as i64)
    .execute(&db.writer)
    .await?;
    Ok(token)
}

/// Consumes `token` if it exists, has `purpose`, is unused and unexpired. Exactly one of
/// several concurrent redemptions succeeds.
pub async fn redeem<'e, E: sqlx::AnyExecutor<'e>>(
    executor: E,
    purpose: Purpose,
    token: &str,
    now: UnixTime,
) -> sqlx::Result<Option<Redeemed>> {
    let row = sqlx::query(
        "UPDATE one_time_tokens SET used_at = $3 \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id, email",
    )
    .bind(sha256_hex(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(executor)
    .await?;
    row.map(|r| {
        Ok(Redeemed {
            user_id: r.try_get("user_id")?,
            email: r.try_get("email")?,
        })
    })
    .transpose()
}

/// Invalidates the user's outstanding tokens of `purpose` (e.g. after a successful reset).
pub async fn revoke_all<'e, E: sqlx::AnyExecutor<'e>>(
    executor: E,
    purpose: Purpose,
    user_id: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE one_time_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

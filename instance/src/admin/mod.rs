//! The admin API, used by the customer's backend (and the control plane) with a secret admin key.

pub mod import;
pub mod routes;
pub mod usage;

use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use crate::clock::UnixTime;
use crate::crypto::{random_secret, sha256_hex};
use crate::db::Db;

/// Admin secret keys look like `ask_admin_<43 base64url chars>` (256 bits).
pub const ADMIN_KEY_PREFIX: &str = "ask_admin_";

/// The id and stored hash of the live admin key with `hash`.
pub async fn find_key(db: &Db, hash: &str) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT id, key_hash FROM admin_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("key_hash")?)))
        .transpose()
}

/// Installs the admin key given in configuration (idempotent), or on a fresh instance with no
/// admin key creates one and returns it so that it can be shown once.
pub async fn ensure_key(
    db: &Db,
    configured: Option<&SecretString>,
    now: UnixTime,
) -> anyhow::Result<Option<SecretString>> {
    if let Some(key) = configured {
        anyhow::ensure!(
            key.expose_secret().starts_with(ADMIN_KEY_PREFIX)
                && key.expose_secret().len() >= ADMIN_KEY_PREFIX.len() + 32,
            "AUTHSTACK_ADMIN_KEY must start with {ADMIN_KEY_PREFIX} and carry at least 32 characters of randomness"
        );
        sqlx::query("INSERT INTO admin_keys (id, name, key_hash, created_at) VALUES ($1, 'configured', $2, $3) ON CONFLICT (key_hash) DO NOTHING")
            .bind(format!("adk_{}", uuid::Uuid::now_v7().simple()))
            .bind(sha256_hex(key.expose_secret()))
            .bind(now)
            .execute(&db.writer)
            .await?;
        return Ok(None);
    }
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM admin_keys WHERE revoked_at IS NULL")
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?;
    if count > 0 {
        return Ok(None);
    }
    let key = random_secret(ADMIN_KEY_PREFIX, 32);
    sqlx::query(
        "INSERT INTO admin_keys (id, name, key_hash, created_at) VALUES ($1, 'initial', $2, $3)",
    )
    .bind(format!("adk_{}", uuid::Uuid::now_v7().simple()))
    .bind(sha256_hex(key.expose_secret()))
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(Some(key))
}

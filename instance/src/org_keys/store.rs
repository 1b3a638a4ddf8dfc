//! Persistence of organization API keys. Lookups by hash or id cross organizations (the key
//! says which one it belongs to), so they run in an all-organizations scope and join the
//! organization: a key of a deleted organization is not found.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::OrgKey;
use crate::clock::UnixTime;
use crate::db::{Db, Scope};

const COLUMNS: &str = "k.id, k.organization_id, k.name, k.key_hash, k.last_four, k.permissions, \
     k.created_by, k.created_at, k.expires_at, k.last_used_at, k.revoked_at";

fn from_row(row: &AnyRow) -> sqlx::Result<OrgKey> {
    let permissions: String = row.try_get("permissions")?;
    Ok(OrgKey {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        name: row.try_get("name")?,
        key_hash: row.try_get("key_hash")?,
        last_four: row.try_get("last_four")?,
        permissions: serde_json::from_str(&permissions).unwrap_or_default(),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

async fn find_where(db: &Db, column: &str, value: &str) -> sqlx::Result<Option<OrgKey>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_api_keys k \
         JOIN organizations o ON o.id = k.organization_id WHERE k.{column} = $1"
    );
    let mut tx = db.scoped(Scope::AllOrganizations, false).await?;
    let key = sqlx::query(&sql)
        .bind(value)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?;
    tx.commit().await?;
    Ok(key)
}

/// The key whose SHA-256 is `hash`, revoked or not, if its organization exists.
pub async fn find_by_hash(db: &Db, hash: &str) -> sqlx::Result<Option<OrgKey>> {
    find_where(db, "key_hash", hash).await
}

/// The key with principal id `id`, revoked or not, if its organization exists.
pub async fn find_by_id(db: &Db, id: &str) -> sqlx::Result<Option<OrgKey>> {
    find_where(db, "id", id).await
}

/// The organization's keys, newest first.
pub async fn list(conn: &mut AnyConnection, org_id: &str) -> sqlx::Result<Vec<OrgKey>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_api_keys k WHERE k.organization_id = $1 ORDER BY k.id DESC"
    );
    sqlx::query(&sql)
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn find(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
) -> sqlx::Result<Option<OrgKey>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_api_keys k WHERE k.organization_id = $1 AND k.id = $2"
    );
    sqlx::query(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn insert(conn: &mut AnyConnection, key: &OrgKey) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO organization_api_keys (id, organization_id, name, key_hash, last_four, permissions, \
         created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.id)
    .bind(&key.organization_id)
    .bind(&key.name)
    .bind(&key.key_hash)
    .bind(&key.last_four)
    .bind(serde_json::to_string(&key.permissions).unwrap_or_else(|_| "[]".into()))
    .bind(&key.created_by)
    .bind(key.created_at)
    .bind(key.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a live key; `false` when it was revoked already.
pub async fn revoke(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
    now: UnixTime,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE organization_api_keys SET revoked_at = $3 \
         WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(org_id)
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets `last_used_at` to `now`.
pub async fn touch(db: &Db, org_id: &str, id: &str, now: UnixTime) -> sqlx::Result<()> {
    let mut tx = db.scoped(Scope::Organization(org_id), true).await?;
    sqlx::query(
        "UPDATE organization_api_keys SET last_used_at = $3 WHERE organization_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

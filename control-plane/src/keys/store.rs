//! The `api_keys` table: the only place it is read or written.

use authstack_instance::clock::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{ApiKey, Creator};
use crate::db::Db;
use crate::ids::{AccountId, InstanceId};

const COLUMNS: &str = "id, account_id, instance_id, environment, kind, name, display_prefix, created_at, \
    last_used_at, expires_at, revoked_at, replaced_by, created_by, created_by_email";

fn from_row(row: &AnyRow) -> sqlx::Result<ApiKey> {
    let created_by: Option<String> = row.try_get("created_by")?;
    let created_by_email: Option<String> = row.try_get("created_by_email")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        instance_id: row.try_get("instance_id")?,
        environment: row.try_get("environment")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        display_prefix: row.try_get("display_prefix")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        replaced_by: row.try_get("replaced_by")?,
        created_by: created_by.map(|user_id| Creator {
            user_id,
            email: created_by_email.unwrap_or_default(),
            member: None,
        }),
    })
}

/// Stores a new key: its hash, never the key.
pub async fn insert<'c, E>(executor: E, key: &ApiKey, hash: &str) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO api_keys (id, account_id, instance_id, environment, kind, name, display_prefix, \
         hash, created_at, created_by, created_by_email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&key.id)
    .bind(key.account_id.as_deref())
    .bind(&key.instance_id)
    .bind(&key.environment)
    .bind(&key.kind)
    .bind(&key.name)
    .bind(&key.display_prefix)
    .bind(hash)
    .bind(key.created_at)
    .bind(key.created_by.as_ref().map(|c| c.user_id.as_str()))
    .bind(key.created_by.as_ref().map(|c| c.email.as_str()))
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn of_account(db: &Db, account_id: &AccountId) -> sqlx::Result<Vec<ApiKey>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at, id"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn find<'c, E>(executor: E, id: &str) -> sqlx::Result<Option<ApiKey>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// `id` keeps working until `expires_at`; `replaced_by` is its successor.
pub async fn retire<'c, E>(
    executor: E,
    id: &str,
    expires_at: UnixTime,
    replaced_by: &str,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("UPDATE api_keys SET expires_at = $1, replaced_by = $2 WHERE id = $3")
        .bind(expires_at)
        .bind(replaced_by)
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

pub async fn revoke<'c, E>(executor: E, id: &str, now: UnixTime) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Revokes every key of a deleted instance that is not revoked yet.
pub async fn revoke_all_of_instance<'c, E>(
    executor: E,
    instance_id: &InstanceId,
    now: UnixTime,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE instance_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(instance_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Records when a key was last used.
pub async fn set_last_used<'c, E>(executor: E, id: &str, at: UnixTime) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

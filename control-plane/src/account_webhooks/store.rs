//! The `account_webhooks` table (the endpoints accounts register) and the rows of
//! `webhook_endpoints` and `webhook_outbox` that belong to them when an endpoint comes or goes;
//! deliveries, secrets and standing are read and written by the instance crate's
//! `webhooks::store`, which these tables share their shape with.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Endpoint;
use crate::db::Db;
use crate::error::Result;
use crate::ids::AccountId;

const COLUMNS: &str = "id, account_id, url, events, description, created_at";

fn from_row(row: &AnyRow) -> sqlx::Result<Endpoint> {
    let events: String = row.try_get("events")?;
    Ok(Endpoint {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        url: row.try_get("url")?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The account's endpoints, oldest first; in the caller's transaction when `executor` is one.
pub async fn of_account<'c, E>(executor: E, account_id: &AccountId) -> sqlx::Result<Vec<Endpoint>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM account_webhooks WHERE account_id = $1 ORDER BY id"
    ))
    .bind(account_id)
    .fetch_all(executor)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The endpoint `id`, whichever account it is of (the delivery worker's lookup).
pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<Endpoint>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM account_webhooks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Registers `endpoint` with its first secret (sealed, and shown now), on `conn`.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    endpoint: &Endpoint,
    created_by: &str,
    secret_sealed: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO account_webhooks (id, account_id, url, events, description, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&endpoint.id)
    .bind(&endpoint.account_id)
    .bind(&endpoint.url)
    .bind(serde_json::to_string(&endpoint.events).map_err(anyhow::Error::from)?)
    .bind(endpoint.description.as_deref())
    .bind(created_by)
    .bind(endpoint.created_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, secret_sealed, created_at, secret_shown_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(&endpoint.id)
    .bind(secret_sealed)
    .bind(endpoint.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes an endpoint of `account_id` with its secrets and its queue and log, on `conn`; false
/// when the account has no such endpoint.
pub async fn delete(
    conn: &mut sqlx::AnyConnection,
    account_id: &AccountId,
    id: &str,
) -> Result<bool> {
    let removed = sqlx::query("DELETE FROM account_webhooks WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    if removed.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM webhook_outbox WHERE endpoint_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Whether event `event_id` was queued for an endpoint of `account_id`.
pub async fn is_event_of(db: &Db, account_id: &AccountId, event_id: &str) -> sqlx::Result<bool> {
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_outbox o JOIN account_webhooks w ON w.id = o.endpoint_id \
         WHERE o.event_id = $1 AND w.account_id = $2",
    )
    .bind(event_id)
    .bind(account_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(found > 0)
}

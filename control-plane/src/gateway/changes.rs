//! Route changes: how the control plane tells every gateway that keys or instances changed,
//! and how gateways say which change they have applied.
//!
//! A writer records a row in `route_changes` in the transaction that changes a route; gateways
//! poll `MAX(id)` and drop their caches when it moves. Each gateway keeps a row in `gateways`
//! with the newest change it applied and when it last said so, so that the control plane can
//! tell a customer "deployed" only once every live gateway sends traffic to the new revision.

use std::time::Duration;

use authstack_instance::clock::UnixTime;
use sqlx::Row;

use crate::db::Db;

/// A gateway that has not reported for this long is taken to be gone (crashed, partitioned):
/// nobody waits for it.
pub const PRESENCE_TTL_SECONDS: i64 = 10;

/// How often a gateway reports even when nothing changed.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// Records a change; gateways drop their caches within their poll interval.
pub async fn record<'c, E>(executor: E, now: UnixTime) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO route_changes (at) VALUES ($1)")
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

/// The newest change's number (0 when none).
pub async fn latest(db: &Db) -> sqlx::Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS latest FROM route_changes")
        .fetch_one(&db.pool)
        .await?;
    row.try_get::<i64, _>("latest")
}

/// Gateway `id` has applied every change up to `seen`.
pub async fn acknowledge(db: &Db, id: &str, seen: i64, now: UnixTime) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO gateways (id, seen, heartbeat_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET seen = excluded.seen, heartbeat_at = excluded.heartbeat_at",
    )
    .bind(id)
    .bind(seen)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Gateway `id` stopped.
pub async fn forget(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM gateways WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// How many live gateways have not yet applied change `change`.
pub async fn behind(db: &Db, change: i64, now: UnixTime) -> sqlx::Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS behind FROM gateways WHERE seen < $1 AND heartbeat_at >= $2",
    )
    .bind(change)
    .bind(now - PRESENCE_TTL_SECONDS)
    .fetch_one(&db.pool)
    .await?;
    row.try_get::<i64, _>("behind")
}

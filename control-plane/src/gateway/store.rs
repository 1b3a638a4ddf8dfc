//! The gateway's tables (`route_changes`, `gateways`) and its route lookups: the only place they
//! are read or written. The lookups read `api_keys`, `instances` and `custom_domains`, which
//! their own stores write.

use authstack_instance::clock::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::changes::PRESENCE_TTL_SECONDS;
use crate::db::Db;

/// The key columns a route needs.
pub struct KeyRow {
    pub id: String,
    pub kind: String,
    pub environment: String,
    pub expires_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

/// The instance columns a route needs.
pub struct InstanceRow {
    pub instance_id: String,
    pub environment: String,
    pub plan: String,
    pub state: String,
    pub endpoint: String,
    /// A JSON array of origins.
    pub allowed_origins: String,
    /// Sealed with the master key.
    pub secrets: String,
}

fn instance_row(row: &AnyRow) -> sqlx::Result<InstanceRow> {
    Ok(InstanceRow {
        instance_id: row.try_get("instance_id")?,
        environment: row.try_get("instance_environment")?,
        plan: row.try_get("plan")?,
        state: row.try_get("state")?,
        endpoint: row.try_get("endpoint")?,
        allowed_origins: row.try_get("allowed_origins")?,
        secrets: row.try_get("secrets")?,
    })
}

const INSTANCE_COLUMNS: &str = "i.id AS instance_id, i.environment AS instance_environment, i.plan, \
    i.state, i.endpoint, i.allowed_origins, i.secrets";

/// The key with SHA-256 `hash` and its instance.
pub async fn by_key_hash(db: &Db, hash: &str) -> sqlx::Result<Option<(KeyRow, InstanceRow)>> {
    let row = sqlx::query(&format!(
        "SELECT k.id, k.kind, k.environment, k.expires_at, k.revoked_at, {INSTANCE_COLUMNS} \
         FROM api_keys k JOIN instances i ON i.id = k.instance_id \
         WHERE k.hash = $1"
    ))
    .bind(hash)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let key = KeyRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        environment: row.try_get("environment")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    };
    Ok(Some((key, instance_row(&row)?)))
}

/// Instance `id` unless it is deleted.
pub async fn instance(db: &Db, id: &str) -> sqlx::Result<Option<InstanceRow>> {
    let row = sqlx::query(&format!(
        "SELECT {INSTANCE_COLUMNS} FROM instances i WHERE i.id = $1 AND i.state <> $2"
    ))
    .bind(id)
    .bind(crate::instances::State::Deleted.as_str())
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(instance_row).transpose()
}

/// The instance (not deleted) whose verified custom domain is `domain`, and its plan.
pub async fn instance_by_domain(db: &Db, domain: &str) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT i.id, i.plan FROM custom_domains d JOIN instances i ON i.id = d.instance_id \
         WHERE d.domain = $1 AND d.verified_at IS NOT NULL AND i.state <> $2",
    )
    .bind(domain)
    .bind(crate::instances::State::Deleted.as_str())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| Ok((row.try_get("id")?, row.try_get("plan")?)))
        .transpose()
}

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

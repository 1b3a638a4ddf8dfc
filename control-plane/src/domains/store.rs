//! The `custom_domains` table: the only place it is written. (The gateway's route lookup reads
//! it too, in `gateway::store`.)

use sqlx::Row;
use sqlx::any::AnyRow;

use super::CustomDomain;
use crate::db::Db;
use crate::ids::InstanceId;
use crate::instances::State;

const COLUMNS: &str = "instance_id, domain, token, verified_at, created_at";

fn from_row(row: &AnyRow) -> sqlx::Result<CustomDomain> {
    Ok(CustomDomain {
        instance_id: row.try_get("instance_id")?,
        domain: row.try_get("domain")?,
        token: row.try_get("token")?,
        verified_at: row.try_get("verified_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The instance's domain, if it has one.
pub async fn of_instance(db: &Db, instance_id: &InstanceId) -> sqlx::Result<Option<CustomDomain>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM custom_domains WHERE instance_id = $1"
    ))
    .bind(instance_id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The instance that holds `domain`, read in `conn`'s transaction.
pub async fn owner_of(
    conn: &mut sqlx::AnyConnection,
    domain: &str,
) -> sqlx::Result<Option<String>> {
    let row = sqlx::query("SELECT instance_id FROM custom_domains WHERE domain = $1")
        .bind(domain)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| r.try_get("instance_id")).transpose()
}

/// Frees `domain` when it is held by a deleted instance.
pub async fn release_deleted(conn: &mut sqlx::AnyConnection, domain: &str) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM custom_domains WHERE domain = $1 \
         AND instance_id IN (SELECT id FROM instances WHERE state = $2)",
    )
    .bind(domain)
    .bind(State::Deleted.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the instance's domain, replacing the one it had.
pub async fn replace(conn: &mut sqlx::AnyConnection, domain: &CustomDomain) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM custom_domains WHERE instance_id = $1")
        .bind(&domain.instance_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!(
        "INSERT INTO custom_domains ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(&domain.instance_id)
    .bind(&domain.domain)
    .bind(&domain.token)
    .bind(domain.verified_at)
    .bind(domain.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks the instance's domain verified, if it is still `domain`; false when it changed.
pub async fn mark_verified(
    conn: &mut sqlx::AnyConnection,
    instance_id: &InstanceId,
    domain: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE custom_domains SET verified_at = $1 WHERE instance_id = $2 AND domain = $3",
    )
    .bind(now)
    .bind(instance_id)
    .bind(domain)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the instance's domain and returns it.
pub async fn remove(
    conn: &mut sqlx::AnyConnection,
    instance_id: &InstanceId,
) -> sqlx::Result<Option<CustomDomain>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM custom_domains WHERE instance_id = $1"
    ))
    .bind(instance_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(domain) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM custom_domains WHERE instance_id = $1")
        .bind(instance_id)
        .execute(&mut *conn)
        .await?;
    Ok(Some(domain))
}

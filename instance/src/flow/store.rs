//! Persistence of sign-in flows. The state is stored as JSON; a transition only happens from
//! the state the caller read (compare and set).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Flow, State};
use crate::db::Db;

fn from_row(row: &AnyRow) -> sqlx::Result<Flow> {
    let request: String = row.try_get("request")?;
    let state: String = row.try_get("state")?;
    Ok(Flow {
        id_hash: row.try_get("id_hash")?,
        request: serde_json::from_str(&request).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        state: serde_json::from_str(&state).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn json(state: &State) -> String {
    serde_json::to_string(state).unwrap_or_default()
}

/// Drops the flows that expired by `now` (the instance's minute sweep, not every insert: a
/// DELETE before each new flow queued every authorize request behind it on the writer).
pub async fn delete_expired(db: &Db, now: crate::clock::UnixTime) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sign_in_flows WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected())
}

pub async fn insert(db: &Db, flow: &Flow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_flows (id_hash, request, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&flow.id_hash)
    .bind(flow.request.to_string())
    .bind(json(&flow.state))
    .bind(flow.created_at)
    .bind(flow.expires_at)
    .execute(&db.writer)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, id_hash: &str) -> sqlx::Result<Option<Flow>> {
    sqlx::query(
        "SELECT id_hash, request, state, created_at, expires_at FROM sign_in_flows \
         WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(&db.pool)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Sets the state to `next` if it is still `from`; false otherwise.
pub async fn transition(db: &Db, id_hash: &str, from: &State, next: &State) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE sign_in_flows SET state = $3 WHERE id_hash = $1 AND state = $2")
        .bind(id_hash)
        .bind(json(from))
        .bind(json(next))
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(db: &Db, id_hash: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sign_in_flows WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&db.writer)
        .await?;
    Ok(())
}

//! Rate-limit events in the instance's database: one sliding window per key, shared by every
//! process on the database.

use sqlx::Row;

use super::{Slot, Verdict};
use crate::db::{Backend, Db};

/// Counts one event at `at_ms` for every slot under `attempt`, unless a slot already holds its
/// limit inside its window: then nothing is stored and the verdict says how long the fullest
/// slot waits. One write transaction, so concurrent attempts (in this process or another on the
/// same database) are counted one after the other: each row is inserted before its key is
/// counted, which on SQLite takes the database's write lock at once, and on PostgreSQL every
/// key is locked first (in sorted order, so that two attempts never wait on each other).
pub async fn reserve(
    db: &Db,
    slots: &[Slot<'_>],
    at_ms: i64,
    attempt: &str,
) -> sqlx::Result<Verdict> {
    let mut tx = db.begin_write().await?;
    if db.backend == Backend::Postgres {
        let mut keys: Vec<&str> = slots.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            db.lock(&mut tx, &format!("ratelimit:{key}")).await?;
        }
    }
    let mut wait_ms = 0;
    for slot in slots {
        sqlx::query("INSERT INTO rate_limit_events (key, at_ms, attempt) VALUES ($1, $2, $3)")
            .bind(slot.key)
            .bind(at_ms)
            .bind(attempt)
            .execute(&mut *tx)
            .await?;
        let since = at_ms - slot.window_ms();
        let row = sqlx::query(
            "SELECT COUNT(*) AS events, MIN(at_ms) AS oldest FROM rate_limit_events \
             WHERE key = $1 AND at_ms > $2",
        )
        .bind(slot.key)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        let events: i64 = row.try_get("events")?;
        // Counted with this attempt's own row, so the limit is reached when it is exceeded.
        if events > i64::from(slot.limit.max) {
            let oldest: Option<i64> = row.try_get("oldest")?;
            let oldest = oldest.unwrap_or(at_ms);
            wait_ms = wait_ms.max(oldest + slot.window_ms() - at_ms);
        }
    }
    if wait_ms > 0 {
        tx.rollback().await?;
        return Ok(Verdict::Limited { wait_ms });
    }
    tx.commit().await?;
    Ok(Verdict::Counted)
}

/// Takes back the events of `attempt` (it succeeded).
pub async fn release(db: &Db, keys: &[String], at_ms: i64, attempt: &str) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    for key in keys {
        sqlx::query("DELETE FROM rate_limit_events WHERE key = $1 AND at_ms = $2 AND attempt = $3")
            .bind(key)
            .bind(at_ms)
            .bind(attempt)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Deletes every event of `key`.
pub async fn clear(db: &Db, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_limit_events WHERE key = $1")
        .bind(key)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Deletes events older than `before_ms`; they are outside every window.
pub async fn sweep(db: &Db, before_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM rate_limit_events WHERE at_ms < $1")
        .bind(before_ms)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected())
}

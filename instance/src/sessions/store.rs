//! Persistence of sessions and refresh tokens.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Ended, Grant, Session};
use crate::clock::UnixTime;
use crate::db::Db;

const COLUMNS: &str = "s.id, s.user_id, s.amr, s.ip, s.user_agent, s.created_at, s.last_active_at, \
                       s.expires_at, s.revoked_at, s.org_id, s.parent_id, s.client_id, s.scope";

fn from_row(row: &AnyRow) -> sqlx::Result<Session> {
    let amr: String = row.try_get("amr")?;
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        amr: serde_json::from_str(&amr).unwrap_or_default(),
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        created_at: row.try_get("created_at")?,
        last_active_at: row.try_get("last_active_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        org_id: row.try_get("org_id")?,
        grant: match row.try_get::<Option<String>, _>("parent_id")? {
            Some(parent_id) => Some(Grant {
                parent_id,
                client_id: row
                    .try_get::<Option<String>, _>("client_id")?
                    .unwrap_or_default(),
                scope: row
                    .try_get::<Option<String>, _>("scope")?
                    .unwrap_or_default(),
            }),
            None => None,
        },
    })
}

/// Creates the session and its first refresh token together.
pub async fn insert(db: &Db, session: &Session, refresh_hash: &str) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO sessions (id, user_id, amr, ip, user_agent, created_at, last_active_at, \
         expires_at, org_id, parent_id, client_id, scope) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&session.id)
    .bind(&session.user_id)
    .bind(serde_json::to_string(&session.amr).unwrap_or_else(|_| "[]".into()))
    .bind(&session.ip)
    .bind(&session.user_agent)
    .bind(session.created_at)
    .bind(session.last_active_at)
    .bind(session.expires_at)
    .bind(&session.org_id)
    .bind(session.grant.as_ref().map(|g| &g.parent_id))
    .bind(session.grant.as_ref().map(|g| &g.client_id))
    .bind(session.grant.as_ref().map(|g| &g.scope))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(refresh_hash)
    .bind(&session.id)
    .bind(session.created_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions s WHERE s.id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The session a refresh token belongs to, and when the token was used (rotated), if it was.
pub async fn find_by_refresh(
    db: &Db,
    token_hash: &str,
) -> sqlx::Result<Option<(Session, Option<UnixTime>)>> {
    let sql = format!(
        "SELECT {COLUMNS}, t.used_at FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
         WHERE t.token_hash = $1"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((from_row(&row)?, row.try_get("used_at")?)))
}

/// Marks `old_hash` used and stores `new_hash` in the same family, atomically. Returns false
/// when the old token was already used: of concurrent rotations exactly one succeeds.
/// `last_active_at` is the session's as read before: the user's activity of that day is already
/// recorded (by the sign-in or an earlier refresh), so only the first refresh of a day writes it.
pub async fn rotate(
    db: &Db,
    old_hash: &str,
    new_hash: &str,
    session: (&str, UnixTime),
    now: UnixTime,
) -> sqlx::Result<bool> {
    let (session_id, last_active_at) = session;
    let today = crate::admin::usage::day(now);
    let mut tx = db.begin_write().await?;
    let claimed = sqlx::query(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
         AND EXISTS (SELECT 1 FROM sessions WHERE id = $3 AND revoked_at IS NULL)",
    )
    .bind(old_hash)
    .bind(now)
    .bind(session_id)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(new_hash)
    .bind(session_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE sessions SET last_active_at = $2 WHERE id = $1")
        .bind(session_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    // A refresh is activity: the user counts as active today.
    if crate::admin::usage::day(last_active_at) != today {
        sqlx::query(
            "INSERT INTO user_activity (user_id, day) SELECT user_id, $2 FROM sessions WHERE id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(session_id)
        .bind(today)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

const ENDED: &str = "RETURNING id, user_id, parent_id, client_id";

fn ended(rows: &[AnyRow]) -> sqlx::Result<Vec<Ended>> {
    rows.iter()
        .map(|row| {
            Ok(Ended {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                parent_id: row.try_get("parent_id")?,
                client_id: row.try_get("client_id")?,
            })
        })
        .collect()
}

/// Revokes one session (its whole refresh family) and the grants under it; returns what it
/// ended (nothing if it was not live).
pub async fn revoke(db: &Db, id: &str, reason: &str, now: UnixTime) -> sqlx::Result<Vec<Ended>> {
    let sql = format!(
        "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 \
         WHERE (id = $1 OR parent_id = $1) AND revoked_at IS NULL {ENDED}"
    );
    let rows = sqlx::query(&sql)
        .bind(id)
        .bind(now)
        .bind(reason)
        .fetch_all(&db.writer)
        .await?;
    ended(&rows)
}

/// Revokes every live session of a user, except `keep` if given; returns what it ended.
pub async fn revoke_all_for_user(
    db: &Db,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: UnixTime,
) -> sqlx::Result<Vec<Ended>> {
    let sql = format!(
        "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 \
         WHERE user_id = $1 AND revoked_at IS NULL AND ($4 IS NULL OR id <> $4) {ENDED}"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(now)
        .bind(reason)
        .bind(keep)
        .fetch_all(&db.writer)
        .await?;
    ended(&rows)
}

/// The user's live sign-ins, newest first (the grants under them are not listed: revoking a
/// sign-in revokes them).
pub async fn list_for_user(db: &Db, user_id: &str, now: UnixTime) -> sqlx::Result<Vec<Session>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL \
         AND s.parent_id IS NULL AND s.expires_at > $2 ORDER BY s.created_at DESC, s.id DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(now)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_org(db: &Db, id: &str, org_id: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET org_id = $2 WHERE id = $1")
        .bind(id)
        .bind(org_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

//! The `audit_events` table: the only place it is read or written.

use authstack_instance::clock::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AuditEvent, Filter, MAX_EXPORT};
use crate::db::Db;

const COLUMNS: &str = "id, at, account_id, actor, action, target, detail";

fn from_row(row: &AnyRow) -> sqlx::Result<AuditEvent> {
    let detail: Option<String> = row.try_get("detail")?;
    Ok(AuditEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        account_id: row.try_get("account_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        detail: detail
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(serde_json::Value::Null),
    })
}

/// Appends `event`: in the caller's transaction when `executor` is one.
pub async fn insert<'c, E>(executor: E, event: &AuditEvent) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events (id, at, account_id, actor, action, target, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&event.id)
    .bind(event.at)
    .bind(event.account_id.as_deref())
    .bind(&event.actor)
    .bind(&event.action)
    .bind(event.target.as_deref())
    .bind(event.detail.to_string())
    .execute(executor)
    .await?;
    Ok(())
}

/// Events newest first that match `filter`, at most `limit` (1..=10 000).
pub async fn list(db: &Db, filter: &Filter<'_>, limit: i64) -> sqlx::Result<Vec<AuditEvent>> {
    enum Bind<'a> {
        Text(&'a str),
        Owned(String),
        Time(UnixTime),
    }
    let mut sql = format!("SELECT {COLUMNS} FROM audit_events WHERE 1 = 1");
    let mut binds: Vec<Bind> = Vec::new();
    if let Some(account_id) = filter.account_id {
        binds.push(Bind::Text(account_id));
        sql.push_str(&format!(" AND account_id = ${}", binds.len()));
    }
    if let Some(action) = filter.action {
        let escaped = action
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        binds.push(Bind::Owned(format!("{escaped}%")));
        sql.push_str(&format!(" AND action LIKE ${} ESCAPE '\\'", binds.len()));
    }
    if let Some(actor) = filter.actor {
        binds.push(Bind::Text(actor));
        sql.push_str(&format!(" AND actor = ${}", binds.len()));
    }
    if let Some(since) = filter.since {
        binds.push(Bind::Time(since));
        sql.push_str(&format!(" AND at >= ${}", binds.len()));
    }
    if let Some(until) = filter.until {
        binds.push(Bind::Time(until));
        sql.push_str(&format!(" AND at < ${}", binds.len()));
    }
    if let Some(before) = filter.before {
        binds.push(Bind::Text(before));
        sql.push_str(&format!(" AND id < ${}", binds.len()));
    }
    sql.push_str(&format!(
        " ORDER BY id DESC LIMIT {}",
        limit.clamp(1, MAX_EXPORT)
    ));
    let mut query = sqlx::query(&sql);
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text),
            Bind::Owned(text) => query.bind(text),
            Bind::Time(at) => query.bind(at),
        };
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

//! The control plane's audit log: every account, billing, key and instance action, with who
//! did it. Accounts read their own; platform operators read all.

pub mod routes;

use authstack_instance::clock::UnixTime;
use serde::Serialize;
use sqlx::Row;

use crate::db::{Db, new_id};

/// Who acted: a platform user, Stripe, the control plane itself, or an operator.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    User(&'a str),
    Stripe,
    System,
    Operator,
}

impl Actor<'_> {
    fn render(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Stripe => "stripe".into(),
            Actor::System => "system".into(),
            Actor::Operator => "operator".into(),
        }
    }
}

/// Appends an event in the caller's transaction, so it exists exactly when the action does.
pub async fn record<'c, E>(
    executor: E,
    now: UnixTime,
    account_id: Option<&str>,
    actor: Actor<'_>,
    action: &str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events (id, at, account_id, actor, action, target, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id("evt"))
    .bind(now)
    .bind(account_id)
    .bind(actor.render())
    .bind(action)
    .bind(target)
    .bind(detail.to_string())
    .execute(executor)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct AuditEvent {
    pub id: String,
    #[serde(serialize_with = "crate::http::time")]
    pub at: UnixTime,
    pub account_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
}

/// Events newest first, of one account or of all, after the `before` cursor.
pub async fn list(
    db: &Db,
    account_id: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<AuditEvent>> {
    let mut sql = String::from(
        "SELECT id, at, account_id, actor, action, target, detail FROM audit_events WHERE 1 = 1",
    );
    let mut binds: Vec<&str> = Vec::new();
    if let Some(account_id) = account_id {
        binds.push(account_id);
        sql.push_str(&format!(" AND account_id = ${}", binds.len()));
    }
    if let Some(before) = before {
        binds.push(before);
        sql.push_str(&format!(" AND id < ${}", binds.len()));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit.clamp(1, 200)));
    let mut query = sqlx::query(&sql);
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| {
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
        })
        .collect()
}

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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: String,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: UnixTime,
    #[schema(required = true)]
    pub account_id: Option<String>,
    pub actor: String,
    pub action: String,
    #[schema(required = true)]
    pub target: Option<String>,
    /// Any JSON (`null` when the action has no detail).
    #[schema(value_type = serde_json::Value)]
    pub detail: serde_json::Value,
}

/// Which events to list: all filters optional.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub account_id: Option<&'a str>,
    /// A prefix of the action (`revision.` or `revision.deployed`).
    pub action: Option<&'a str>,
    /// Exactly: `user:usr_…`, `stripe`, `system`, `operator`.
    pub actor: Option<&'a str>,
    /// At or after.
    pub since: Option<UnixTime>,
    /// Before.
    pub until: Option<UnixTime>,
    /// The `next_cursor` of the previous page: events older than it.
    pub before: Option<&'a str>,
}

/// Events newest first that match `filter`, at most `limit` (1..=10 000).
pub async fn list(db: &Db, filter: &Filter<'_>, limit: i64) -> sqlx::Result<Vec<AuditEvent>> {
    enum Bind<'a> {
        Text(&'a str),
        Owned(String),
        Time(UnixTime),
    }
    let mut sql = String::from(
        "SELECT id, at, account_id, actor, action, target, detail FROM audit_events WHERE 1 = 1",
    );
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

/// The most events one export returns.
pub const MAX_EXPORT: i64 = 10_000;

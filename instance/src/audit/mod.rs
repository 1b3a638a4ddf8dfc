//! The audit log: who did what to whom, from where, and when.

pub mod routes;

use serde::Serialize;
use sqlx::Row;

use crate::clock::{UnixTime, rfc3339};
use crate::config::Webhook;
use crate::db::{Db, FilterValue, Filters};
use crate::error::Result;
use crate::http::Client;
use crate::webhooks;

/// An event about to be recorded. Actions are dotted names such as `auth.login_succeeded`.
#[derive(Debug, Default)]
pub struct AuditEvent {
    action: &'static str,
    actor_id: Option<String>,
    target_id: Option<String>,
    organization_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    data: serde_json::Value,
}

impl AuditEvent {
    pub fn new(action: &'static str) -> Self {
        AuditEvent {
            action,
            data: serde_json::json!({}),
            ..Default::default()
        }
    }
    pub fn actor(mut self, id: &str) -> Self {
        self.actor_id = Some(id.to_owned());
        self
    }
    pub fn target(mut self, id: &str) -> Self {
        self.target_id = Some(id.to_owned());
        self
    }
    pub fn organization(mut self, id: &str) -> Self {
        self.organization_id = Some(id.to_owned());
        self
    }
    pub fn client(mut self, client: &Client) -> Self {
        self.ip = client.ip.map(|ip| ip.to_string());
        self.user_agent = client.user_agent.clone();
        self
    }
    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }
}

/// Records an event on its own, in one transaction with its webhook outbox rows (the change it
/// describes committed before, separately).
pub async fn record(app: &crate::App, now: UnixTime, event: AuditEvent) -> Result<()> {
    let hooks = app.config.load_full();
    write(&app.db, &hooks.webhooks, now, event).await
}

async fn write(db: &Db, hooks: &[Webhook], now: UnixTime, event: AuditEvent) -> Result<()> {
    if hooks.is_empty() && event.organization_id.is_none() {
        // Nothing to queue (an organization's event may be for its own endpoints): the audit
        // row alone, without a transaction around it.
        let mut conn = db.writer.acquire().await?;
        return insert(&mut conn, hooks, now, event).await;
    }
    let mut tx = db.begin_write().await?;
    insert(&mut tx, hooks, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Records inside a transaction, so the event (and the webhook deliveries it queues) commits
/// (or not) with the change it describes.
pub async fn record_in(
    conn: &mut sqlx::AnyConnection,
    app: &crate::App,
    now: UnixTime,
    event: AuditEvent,
) -> Result<()> {
    let hooks = app.config.load_full();
    insert(conn, &hooks.webhooks, now, event).await
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    hooks: &[Webhook],
    now: UnixTime,
    event: AuditEvent,
) -> Result<()> {
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(
        "INSERT INTO audit_events (id, occurred_at, action, actor_id, target_id, organization_id, ip, user_agent, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(now)
    .bind(event.action)
    .bind(&event.actor_id)
    .bind(&event.target_id)
    .bind(&event.organization_id)
    .bind(event.ip)
    .bind(event.user_agent)
    .bind(event.data.to_string())
    .execute(&mut *conn)
    .await?;
    let recorded = webhooks::Recorded {
        id: &id,
        action: event.action,
        occurred_at: now,
        actor_id: event.actor_id.as_deref(),
        target_id: event.target_id.as_deref(),
        organization_id: event.organization_id.as_deref(),
        data: &event.data,
    };
    webhooks::store::enqueue(conn, hooks, &recorded).await
}

/// Records in the background, for events about a request that is failing (a denied attempt):
/// the request's own transaction rolls back, the event must not.
pub fn record_later(app: &crate::App, event: AuditEvent) {
    let db = app.db.clone();
    let hooks = app.config.load_full();
    let now = app.clock.now();
    tokio::spawn(async move {
        if let Err(err) = write(&db, &hooks.webhooks, now, event).await {
            tracing::error!(error = %err, "recording an audit event failed");
        }
    });
}

/// Deletes the events older than the configured retention; returns how many.
pub async fn enforce_retention(app: &crate::App) -> Result<u64> {
    let days = i64::from(app.config.load().audit.retention_days);
    prune(&app.db, app.clock.now() - days * 24 * 3600).await
}

/// Deletes events older than `cutoff`; returns how many.
pub async fn prune(db: &Db, cutoff: UnixTime) -> Result<u64> {
    let mut tx = db.scoped(crate::db::Scope::AllOrganizations, true).await?;
    let done = sqlx::query("DELETE FROM audit_events WHERE occurred_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    // The delivery log goes with the events it logs (rows still being retried stay).
    sqlx::query("DELETE FROM webhook_outbox WHERE created_at < $1 AND status <> 'pending'")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// A recorded event as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub action: String,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub organization_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Filters for listing events; `before` is a cursor (an event id), newest first.
#[derive(Debug, Default)]
pub struct AuditQuery {
    pub organization_id: Option<String>,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<UnixTime>,
    pub until: Option<UnixTime>,
    pub before: Option<String>,
    pub limit: i64,
}

/// Lists events newest first, scoped to the query's organization (or instance-wide).
pub async fn list(db: &Db, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let scope = match &q.organization_id {
        Some(id) => crate::db::Scope::Organization(id),
        None => crate::db::Scope::AllOrganizations,
    };
    let mut tx = db.scoped(scope, false).await?;
    let mut filters = Filters::default();
    filters
        .and_some(
            "organization_id = {}",
            q.organization_id.as_deref().map(FilterValue::Text),
        )
        .and_some("action = {}", q.action.as_deref().map(FilterValue::Text))
        .and_some(
            "actor_id = {}",
            q.actor_id.as_deref().map(FilterValue::Text),
        )
        .and_some(
            "target_id = {}",
            q.target_id.as_deref().map(FilterValue::Text),
        )
        .and_some("occurred_at >= {}", q.since.map(FilterValue::Int))
        .and_some("occurred_at < {}", q.until.map(FilterValue::Int))
        .and_some("id < {}", q.before.as_deref().map(FilterValue::Text));
    let sql = filters.sql(
        "SELECT id, occurred_at, action, actor_id, target_id, organization_id, ip, user_agent, data FROM audit_events",
        "ORDER BY id DESC LIMIT {}",
    );
    let rows = filters
        .bind(sqlx::query(&sql))
        .bind(q.limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            let data: String = r.try_get("data")?;
            Ok(AuditEntry {
                id: r.try_get("id")?,
                occurred_at: rfc3339(r.try_get("occurred_at")?),
                action: r.try_get("action")?,
                actor_id: r.try_get("actor_id")?,
                target_id: r.try_get("target_id")?,
                organization_id: r.try_get("organization_id")?,
                ip: r.try_get("ip")?,
                user_agent: r.try_get("user_agent")?,
                data: serde_json::from_str(&data).unwrap_or_default(),
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

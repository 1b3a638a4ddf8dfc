//! Persistence of webhooks: the outbox with its delivery log, and the endpoints' sealed secrets.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Recorded, endpoints};
use crate::clock::{UnixTime, rfc3339};
use crate::config::Webhook;
use crate::crypto::MasterKey;
use crate::db::Db;
use crate::error::{Error, Result};

/// Queues `event` for every endpoint whose patterns select it ([`super::Endpoint::selects`]):
/// those in `hooks` and, for an organization's event, that organization's own, on `conn` (the
/// transaction recording the audit event).
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    hooks: &[Webhook],
    event: &Recorded<'_>,
) -> Result<()> {
    let mut targets: Vec<_> = endpoints(hooks)
        .into_iter()
        .filter(|e| e.selects(event.action))
        .collect();
    if let Some(org_id) = event.organization_id {
        let own = super::organization::store::of_organization(conn, org_id).await?;
        targets.extend(own.into_iter().filter(|e| e.selects(event.action)));
    }
    if targets.is_empty() {
        return Ok(());
    }
    let kind = super::event_type(event.action);
    let payload = event.payload();
    for endpoint in targets {
        insert_row(
            &mut *conn,
            event.id,
            &endpoint.id,
            kind,
            &payload,
            event.occurred_at,
        )
        .await?;
    }
    Ok(())
}

/// Queues one delivery of an event (its id, type and payload) to one endpoint, due now, on
/// `executor` (the caller's transaction when the event records a change). The control plane
/// queues its account events with it.
pub async fn insert_row<'e, E: sqlx::AnyExecutor<'e>>(
    executor: E,
    event_id: &str,
    endpoint_id: &str,
    kind: &str,
    payload: &str,
    now: UnixTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_outbox (id, event_id, endpoint_id, event_type, payload, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(format!("whd_{}", uuid::Uuid::now_v7().simple()))
    .bind(event_id)
    .bind(endpoint_id)
    .bind(kind)
    .bind(payload)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Queues `event` (a test event) for the one endpoint `endpoint_id`, at the back of its queue.
pub async fn enqueue_to(db: &Db, endpoint_id: &str, event: &Recorded<'_>) -> Result<()> {
    let kind = super::event_type(event.action);
    insert_row(
        &db.writer,
        event.id,
        endpoint_id,
        kind,
        &event.payload(),
        event.occurred_at,
    )
    .await
}

/// A queued delivery the worker is to attempt.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub payload: String,
    pub created_at: UnixTime,
    pub attempts: i64,
}

/// The oldest pending row of each endpoint that is not disabled, when it is due and no worker
/// holds it.
pub async fn due(db: &Db, now: UnixTime) -> Result<Vec<Due>> {
    let rows = sqlx::query(
        "SELECT o.id, o.event_id, o.endpoint_id, o.payload, o.created_at, o.attempts FROM webhook_outbox o \
         WHERE o.status = 'pending' AND o.next_attempt_at <= $1 \
           AND (o.claimed_until IS NULL OR o.claimed_until < $1) \
           AND o.id = (SELECT MIN(i.id) FROM webhook_outbox i WHERE i.endpoint_id = o.endpoint_id AND i.status = 'pending') \
           AND NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = o.endpoint_id AND e.disabled_at IS NOT NULL) \
         ORDER BY o.id LIMIT 100",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Due {
                id: r.try_get("id")?,
                event_id: r.try_get("event_id")?,
                endpoint_id: r.try_get("endpoint_id")?,
                payload: r.try_get("payload")?,
                created_at: r.try_get("created_at")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

/// Takes `id` for one attempt until `until`; false when another worker holds it or it is done.
pub async fn claim(db: &Db, id: &str, now: UnixTime, until: UnixTime) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_outbox SET claimed_until = $1 \
         WHERE id = $2 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $3)",
    )
    .bind(until)
    .bind(id)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What one attempt came to.
#[derive(Debug)]
pub struct Attempt {
    pub at: UnixTime,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub excerpt: Option<String>,
    /// `delivered`, `pending` (to be retried at `next_attempt_at`) or `failed`.
    pub outcome: &'static str,
    pub next_attempt_at: UnixTime,
}

impl Attempt {
    /// An attempt at `now` that has not succeeded (yet), retried after the backoff.
    pub fn pending(row: &Due, now: UnixTime) -> Attempt {
        Attempt {
            at: now,
            status: None,
            error: None,
            latency_ms: 0,
            excerpt: None,
            outcome: "pending",
            next_attempt_at: now + super::backoff_secs(row.attempts + 1),
        }
    }
}

/// Logs an attempt on its row and releases it.
pub async fn finish(db: &Db, id: &str, attempt: &Attempt) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_outbox SET status = $1, attempts = attempts + 1, last_attempt_at = $2, \
           last_status = $3, last_error = $4, latency_ms = $5, response_excerpt = $6, \
           next_attempt_at = $7, claimed_until = NULL, \
           delivered_at = CASE WHEN $1 = 'delivered' THEN $2 ELSE delivered_at END \
         WHERE id = $8",
    )
    .bind(attempt.outcome)
    .bind(attempt.at)
    .bind(attempt.status)
    .bind(&attempt.error)
    .bind(attempt.latency_ms)
    .bind(&attempt.excerpt)
    .bind(attempt.next_attempt_at)
    .bind(id)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// One row of an endpoint's delivery log (read by the control plane too).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct Delivery {
    pub id: String,
    /// The event id: the `webhook-id` header and the payload's `id`.
    pub event_id: String,
    pub endpoint_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    /// The HTTP status of the last answer.
    pub last_status: Option<i64>,
    /// Why the last attempt failed without an HTTP answer (timeout, refused address, ...).
    pub last_error: Option<String>,
    pub latency_ms: Option<i64>,
    /// The first 500 bytes of the last answer's body.
    pub response_excerpt: Option<String>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

const DELIVERY_COLUMNS: &str = "id, event_id, endpoint_id, event_type, status, attempts, created_at, \
     last_attempt_at, next_attempt_at, last_status, last_error, latency_ms, response_excerpt, payload";

fn delivery(r: &sqlx::any::AnyRow) -> sqlx::Result<Delivery> {
    let status: String = r.try_get("status")?;
    let payload: String = r.try_get("payload")?;
    Ok(Delivery {
        id: r.try_get("id")?,
        event_id: r.try_get("event_id")?,
        endpoint_id: r.try_get("endpoint_id")?,
        event_type: r.try_get("event_type")?,
        attempts: r.try_get("attempts")?,
        created_at: rfc3339(r.try_get("created_at")?),
        last_attempt_at: r.try_get::<Option<i64>, _>("last_attempt_at")?.map(rfc3339),
        next_attempt_at: (status == "pending")
            .then(|| r.try_get::<i64, _>("next_attempt_at").map(rfc3339))
            .transpose()?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        latency_ms: r.try_get("latency_ms")?,
        response_excerpt: r.try_get("response_excerpt")?,
        payload: serde_json::from_str(&payload).unwrap_or_default(),
        status,
    })
}

/// An endpoint's deliveries, newest first.
pub async fn deliveries(db: &Db, endpoint_id: &str, limit: i64) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_outbox WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2"
    ))
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(delivery)
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

/// The newest delivery of an endpoint, for its status.
pub async fn last_delivery(db: &Db, endpoint_id: &str) -> Result<Option<Delivery>> {
    Ok(deliveries(db, endpoint_id, 1).await?.into_iter().next())
}

/// Queues `event_id` again for each endpoint it went to that `keep` selects (at the back of
/// each endpoint's queue, with the same event id and payload); returns the new rows' count.
pub async fn replay(
    db: &Db,
    event_id: &str,
    now: UnixTime,
    keep: impl Fn(&str) -> bool,
) -> Result<usize> {
    let mut tx = db.begin_write().await?;
    let rows = sqlx::query(
        "SELECT endpoint_id, event_type, payload FROM webhook_outbox WHERE event_id = $1 \
         AND id IN (SELECT MIN(id) FROM webhook_outbox WHERE event_id = $1 GROUP BY endpoint_id)",
    )
    .bind(event_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut queued = 0;
    for r in &rows {
        let endpoint_id: String = r.try_get("endpoint_id")?;
        if !keep(&endpoint_id) {
            continue;
        }
        let kind: String = r.try_get("event_type")?;
        let payload: String = r.try_get("payload")?;
        insert_row(&mut *tx, event_id, &endpoint_id, &kind, &payload, now).await?;
        queued += 1;
    }
    tx.commit().await?;
    Ok(queued)
}

/// The secrets an endpoint signs with: the current one, and the previous one while it is valid.
pub async fn secrets(
    db: &Db,
    master: &MasterKey,
    endpoint_id: &str,
    now: UnixTime,
) -> Result<Vec<SecretString>> {
    let candidate = master
        .seal(super::new_secret().expose_secret().as_bytes(), endpoint_id)
        .map_err(Error::Internal)?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, secret_sealed, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(endpoint_id)
    .bind(candidate)
    .bind(now)
    .execute(&db.writer)
    .await?;
    let row = sqlx::query(
        "SELECT secret_sealed, previous_secret_sealed, previous_expires_at FROM webhook_endpoints WHERE id = $1",
    )
    .bind(endpoint_id)
    .fetch_one(&db.writer)
    .await?;
    let mut out = vec![open(
        master,
        &row.try_get::<String, _>("secret_sealed")?,
        endpoint_id,
    )?];
    let previous: Option<String> = row.try_get("previous_secret_sealed")?;
    let expires: Option<i64> = row.try_get("previous_expires_at")?;
    if let (Some(previous), Some(expires)) = (previous, expires)
        && expires > now
    {
        out.push(open(master, &previous, endpoint_id)?);
    }
    Ok(out)
}

/// Whether an endpoint is disabled, since when and why.
#[derive(Debug, Default)]
pub struct Standing {
    pub disabled_at: Option<UnixTime>,
    pub disabled_reason: Option<String>,
}

/// An endpoint's standing (not disabled before its first attempt).
pub async fn standing(db: &Db, endpoint_id: &str) -> Result<Standing> {
    let row =
        sqlx::query("SELECT disabled_at, disabled_reason FROM webhook_endpoints WHERE id = $1")
            .bind(endpoint_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some(row) = row else {
        return Ok(Standing::default());
    };
    Ok(Standing {
        disabled_at: row.try_get("disabled_at")?,
        disabled_reason: row.try_get("disabled_reason")?,
    })
}

/// Counts an attempt in its endpoint's streak of failures (a delivery ends it), and disables the
/// endpoint when the streak is long enough; returns the reason when this attempt disabled it.
pub async fn count_attempt(
    db: &Db,
    endpoint_id: &str,
    attempt: &Attempt,
) -> Result<Option<String>> {
    if attempt.outcome == "delivered" {
        sqlx::query(
            "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL WHERE id = $1",
        )
        .bind(endpoint_id)
        .execute(&db.writer)
        .await?;
        return Ok(None);
    }
    sqlx::query(
        "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, \
           failing_since = COALESCE(failing_since, $1) WHERE id = $2",
    )
    .bind(attempt.at)
    .bind(endpoint_id)
    .execute(&db.writer)
    .await?;
    let Some(row) = sqlx::query(
        "SELECT consecutive_failures, failing_since FROM webhook_endpoints WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(endpoint_id)
    .fetch_optional(&db.writer)
    .await?
    else {
        return Ok(None);
    };
    let failures: i64 = row.try_get("consecutive_failures")?;
    let since: Option<i64> = row.try_get("failing_since")?;
    let failing_secs = attempt.at - since.unwrap_or(attempt.at);
    if failures < super::DISABLE_AFTER_ATTEMPTS || failing_secs < super::DISABLE_AFTER_SECS {
        return Ok(None);
    }
    let reason = super::disabled_reason(failures, failing_secs, attempt);
    // Only one worker disables it (and mails about it).
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2 WHERE id = $3 AND disabled_at IS NULL",
    )
    .bind(attempt.at)
    .bind(&reason)
    .bind(endpoint_id)
    .execute(&db.writer)
    .await?;
    Ok((done.rows_affected() == 1).then_some(reason))
}

/// Enables an endpoint again with a fresh streak; its queued rows fall due now, oldest first.
pub async fn enable(db: &Db, endpoint_id: &str, now: UnixTime) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, \
           consecutive_failures = 0, failing_since = NULL WHERE id = $1",
    )
    .bind(endpoint_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE webhook_outbox SET next_attempt_at = $1 \
         WHERE endpoint_id = $2 AND status = 'pending' AND next_attempt_at > $1",
    )
    .bind(now)
    .bind(endpoint_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces an endpoint's secret and marks the new one shown. The old one keeps signing until
/// `previous_until` when it had been shown (someone may verify with it); otherwise it goes.
/// Returns the new secret and until when the old one signs.
pub async fn rotate(
    db: &Db,
    master: &MasterKey,
    endpoint_id: &str,
    now: UnixTime,
    previous_until: UnixTime,
) -> Result<(SecretString, Option<UnixTime>)> {
    secrets(db, master, endpoint_id, now).await?;
    let mut tx = db.begin_write().await?;
    let rotated = rotate_in(&mut tx, master, endpoint_id, now, previous_until).await?;
    tx.commit().await?;
    Ok(rotated)
}

/// [`rotate`] on `conn`, for an endpoint whose secret exists.
pub async fn rotate_in(
    conn: &mut sqlx::AnyConnection,
    master: &MasterKey,
    endpoint_id: &str,
    now: UnixTime,
    previous_until: UnixTime,
) -> Result<(SecretString, Option<UnixTime>)> {
    let fresh = super::new_secret();
    let sealed = master
        .seal(fresh.expose_secret().as_bytes(), endpoint_id)
        .map_err(Error::Internal)?;
    let shown: Option<i64> =
        sqlx::query_scalar("SELECT secret_shown_at FROM webhook_endpoints WHERE id = $1")
            .bind(endpoint_id)
            .fetch_one(&mut *conn)
            .await?;
    let previous_until = shown.map(|_| previous_until);
    sqlx::query(
        "UPDATE webhook_endpoints SET \
           previous_secret_sealed = CASE WHEN $1 IS NULL THEN NULL ELSE secret_sealed END, \
           previous_expires_at = $1, secret_sealed = $2, secret_shown_at = $3 WHERE id = $4",
    )
    .bind(previous_until)
    .bind(sealed)
    .bind(now)
    .bind(endpoint_id)
    .execute(&mut *conn)
    .await?;
    Ok((fresh, previous_until))
}

/// Creates the secret of a new endpoint, shown now (by the answer that creates the endpoint),
/// on `conn`; returns it.
pub async fn create_secret(
    conn: &mut sqlx::AnyConnection,
    master: &MasterKey,
    endpoint_id: &str,
    now: UnixTime,
) -> Result<SecretString> {
    let fresh = super::new_secret();
    let sealed = master
        .seal(fresh.expose_secret().as_bytes(), endpoint_id)
        .map_err(Error::Internal)?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, secret_sealed, created_at, secret_shown_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(endpoint_id)
    .bind(sealed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(fresh)
}

/// Deletes an endpoint's secret, standing and deliveries (an organization's endpoint that is
/// deleted), on `conn`.
pub async fn forget(conn: &mut sqlx::AnyConnection, endpoint_id: &str) -> Result<()> {
    for sql in [
        "DELETE FROM webhook_outbox WHERE endpoint_id = $1",
        "DELETE FROM webhook_endpoints WHERE id = $1",
    ] {
        sqlx::query(sql)
            .bind(endpoint_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn open(master: &MasterKey, sealed: &str, endpoint_id: &str) -> Result<SecretString> {
    let bytes = master.open(sealed, endpoint_id).map_err(Error::Internal)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Internal(anyhow::anyhow!("a webhook secret is not text")))?;
    Ok(SecretString::from(text))
}

//! The delivery worker of account events: every second, the oldest due row of each endpoint,
//! sent by the instance crate's [`send`] (the same signing, timeout, SSRF guard and backoff as
//! an instance's webhooks), its attempt logged on the row and counted in the endpoint's streak.
//! Rows of one endpoint go one at a time, oldest first, so they arrive in order; a claim keeps
//! two control-plane replicas from sending one row twice at once.
//!
//! The streak's end (every attempt failed for a day, ten at least) disables the endpoint; the
//! account's audit log records it (`account_webhook.disabled`, by `system`), and its events
//! wait until a member enables it.

use std::time::Duration;

use authstack_instance::webhooks::delivery::{CLAIM_SECS, send};
use authstack_instance::webhooks::store::{self as outbox, Attempt, Due};
use tokio::task::JoinSet;

use super::{Endpoint, internal, store};
use crate::AppState;
use crate::audit::{self, Actor};
use crate::error::Result;

const TICK: Duration = Duration::from_secs(1);

/// Sends account events until the task is aborted (on shutdown). Outside dev the client
/// refuses loopback, private and link-local addresses.
pub fn spawn(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = authstack_instance::outbound::client(app.config.allow_private_webhooks);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = run_once(&app, &client).await {
                tracing::warn!(error = %error, "account webhook delivery round failed");
            }
        }
    })
}

/// One round: an attempt for each endpoint with a due row, at once.
pub async fn run_once(app: &AppState, client: &reqwest::Client) -> Result<()> {
    let now = app.clock.now();
    let due = outbox::due(&app.db, now).await.map_err(internal)?;
    let mut attempts = JoinSet::new();
    for row in due {
        if !outbox::claim(&app.db, &row.id, now, now + CLAIM_SECS)
            .await
            .map_err(internal)?
        {
            continue;
        }
        let (app, client) = (app.clone(), client.clone());
        attempts.spawn(async move { deliver(&app, &client, row).await });
    }
    while attempts.join_next().await.is_some() {}
    Ok(())
}

async fn deliver(app: &AppState, client: &reqwest::Client, row: Due) {
    let now = app.clock.now();
    let endpoint = match store::find(&app.db, &row.endpoint_id).await {
        Ok(endpoint) => endpoint,
        Err(error) => {
            // The claim lapses and the row is tried again.
            tracing::warn!(%error, endpoint = row.endpoint_id, "reading an account webhook failed");
            return;
        }
    };
    let attempt = match &endpoint {
        // Deleted while this round ran (its rows went with it).
        None => Attempt {
            error: Some("the endpoint was deleted".into()),
            outcome: "failed",
            ..Attempt::pending(&row, now)
        },
        Some(endpoint) => match outbox::secrets(&app.db, &app.master, &endpoint.id, now).await {
            Ok(secrets) => {
                let allow_private = app.config.allow_private_webhooks;
                send(
                    client,
                    &endpoint.id,
                    &endpoint.url,
                    &secrets,
                    &row,
                    now,
                    allow_private,
                )
                .await
            }
            Err(error) => {
                tracing::warn!(%error, endpoint = endpoint.id, "account webhook secret unavailable");
                Attempt {
                    error: Some("the signing secret is unavailable".into()),
                    ..Attempt::pending(&row, now)
                }
            }
        },
    };
    if let Err(error) = outbox::finish(&app.db, &row.id, &attempt).await {
        tracing::warn!(%error, delivery = row.id, "logging an account webhook attempt failed");
    }
    let Some(endpoint) = endpoint else { return };
    match outbox::count_attempt(&app.db, &endpoint.id, &attempt).await {
        Ok(Some(reason)) => disabled(app, &endpoint, &reason).await,
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, endpoint = endpoint.id, "counting an account webhook attempt failed");
        }
    }
}

/// Records in the account's audit log that `endpoint` was disabled, and why.
async fn disabled(app: &AppState, endpoint: &Endpoint, reason: &str) {
    tracing::warn!(
        endpoint = endpoint.id,
        reason,
        "account webhook endpoint disabled"
    );
    let detail = serde_json::json!({ "url": endpoint.url, "reason": reason });
    let recorded = audit::record(
        &app.db.writer,
        app.clock.now(),
        Some(&endpoint.account_id),
        Actor::System,
        "account_webhook.disabled",
        Some(&endpoint.id),
        detail,
    )
    .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, endpoint = endpoint.id, "auditing a disabled account webhook failed");
    }
}

//! The delivery worker: every second it takes the oldest pending row of each endpoint that is
//! due, POSTs it, and logs the attempt on the row. An endpoint's next row waits until this one
//! is delivered or given up, so an endpoint receives its events in the order they were
//! recorded. A claim (`claimed_until`) keeps two replicas on one database from sending the
//! same row at once; a worker killed mid-attempt leaves a claim that lapses after a minute.
//!
//! An organization's endpoint is read from the database for each attempt, so a deleted endpoint
//! (or organization) receives nothing more; its address is checked at each attempt, as for any
//! endpoint (a name may resolve elsewhere than when it was registered).
//!
//! Each attempt counts in its endpoint's streak of failures; the one that makes it long enough
//! disables the endpoint (see the module above) and mails the instance's owner.
//!
//! Success is a 2xx answer within 10 seconds; redirects are not followed (a 3xx is a failure).
//! Delivery is at least once: a crash between the receiver's answer and the log's update sends
//! the row again, with the same `webhook-id`, which receivers use to drop duplicates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::task::JoinSet;

use super::store::{self, Attempt, Due};
use super::{EXCERPT_BYTES, Endpoint, GIVE_UP_AFTER_SECS, endpoints, is_organization_endpoint};
use crate::App;
use crate::clock::UnixTime;
use crate::outbound::{failure, refused_literal};

const TICK: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a worker holds a row it attempts (a killed worker's claim lapses after it).
pub const CLAIM_SECS: i64 = 60;

/// Sends webhooks for `app` until the task is aborted (on shutdown).
pub fn spawn(app: Arc<App>, allow_private: bool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = app.outbound.clone();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = drain(&app, &client, allow_private).await {
                tracing::warn!(%error, "webhook delivery round failed");
            }
        }
    })
}

/// Rounds until one delivers nothing; returns how many were delivered. A round that delivered
/// something is followed at once by the next, since each endpoint's next row is due now: a busy
/// endpoint is not held to one event per tick. Failures are retried later, per the backoff, so a
/// round of failures (or of nothing) ends it.
pub async fn drain(
    app: &Arc<App>,
    client: &reqwest::Client,
    allow_private: bool,
) -> crate::error::Result<usize> {
    let mut total = 0;
    loop {
        match run_once(app, client, allow_private).await? {
            0 => return Ok(total),
            delivered => total += delivered,
        }
    }
}

/// One round: an attempt for each endpoint with a due row, at once (its oldest, so each
/// endpoint receives in order); returns how many were delivered.
pub async fn run_once(
    app: &Arc<App>,
    client: &reqwest::Client,
    allow_private: bool,
) -> crate::error::Result<usize> {
    let now = app.clock.now();
    let due = store::due(&app.db, now).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let configured = endpoints(&app.config.load().webhooks);
    let mut attempts = JoinSet::new();
    for row in due {
        if !store::claim(&app.db, &row.id, now, now + CLAIM_SECS).await? {
            continue;
        }
        let endpoint = match configured.iter().find(|e| e.id == row.endpoint_id) {
            Some(endpoint) => Some(endpoint.clone()),
            None if is_organization_endpoint(&row.endpoint_id) => {
                super::organization::store::find_for_delivery(&app.db, &row.endpoint_id).await?
            }
            None => None,
        };
        let (app, client) = (app.clone(), client.clone());
        attempts.spawn(async move {
            let attempt = attempt(&app, &client, endpoint.clone(), &row, allow_private).await;
            if let Err(error) = store::finish(&app.db, &row.id, &attempt).await {
                tracing::warn!(%error, delivery = row.id, "logging a webhook attempt failed");
                return false;
            }
            let delivered = attempt.outcome == "delivered";
            // A row whose endpoint left the configuration (or was deleted) says nothing about an
            // endpoint.
            let Some(endpoint) = endpoint else {
                return delivered;
            };
            match store::count_attempt(&app.db, &endpoint.id, &attempt).await {
                Ok(Some(reason)) => disabled(&app, &endpoint, &reason).await,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, endpoint = endpoint.id, "counting a webhook attempt failed");
                }
            }
            delivered
        });
    }
    let mut delivered = 0;
    while let Some(outcome) = attempts.join_next().await {
        delivered += usize::from(matches!(outcome, Ok(true)));
    }
    Ok(delivered)
}

async fn attempt(
    app: &App,
    client: &reqwest::Client,
    endpoint: Option<Endpoint>,
    row: &Due,
    allow_private: bool,
) -> Attempt {
    let now = app.clock.now();
    let Some(endpoint) = endpoint else {
        if is_organization_endpoint(&row.endpoint_id) {
            // Deleted with its queue (or its organization) while this row was being queued or
            // claimed: nobody is to receive it.
            let mut attempt = Attempt::pending(row, now);
            attempt.error = Some("the endpoint was deleted".into());
            attempt.outcome = "failed";
            return attempt;
        }
        // While a revision rolls out, the process it replaces still runs this worker on the same
        // database: an endpoint the new revision added is unknown here. Retried (the new process
        // sends it), so only an endpoint that stays removed fails, after the retry window.
        let mut attempt = Attempt::pending(row, now);
        attempt.error = Some("the endpoint is not in the configuration this instance runs".into());
        give_up_when_old(&mut attempt, row);
        return attempt;
    };
    let secrets = match store::secrets(&app.db, app.keys.master(), &endpoint.id, now).await {
        Ok(secrets) => secrets,
        Err(error) => {
            tracing::warn!(%error, endpoint = endpoint.id, "webhook secret unavailable");
            let mut attempt = Attempt::pending(row, now);
            attempt.error = Some("the signing secret is unavailable".into());
            return attempt;
        }
    };
    send(
        client,
        &endpoint.id,
        &endpoint.url,
        &secrets,
        row,
        now,
        allow_private,
    )
    .await
}

/// One attempt to deliver `row` to `url` at `now`, signed with each of `secrets`: refused
/// before sending when `url` is an IP literal the client may not reach, a 2xx within 10
/// seconds is `delivered`, anything else is retried per [`super::backoff_secs`] until the retry window
/// ends. The control plane sends its account events with it too.
pub async fn send(
    client: &reqwest::Client,
    endpoint_id: &str,
    url: &str,
    secrets: &[SecretString],
    row: &Due,
    now: UnixTime,
    allow_private: bool,
) -> Attempt {
    let mut attempt = Attempt::pending(row, now);
    let Ok(url) = reqwest::Url::parse(url) else {
        attempt.error = Some("the endpoint's URL does not parse".into());
        attempt.outcome = "failed";
        return attempt;
    };
    if let Some(reason) = refused_literal(&url, allow_private) {
        tracing::warn!(
            endpoint = endpoint_id,
            "webhook refused: not a public address"
        );
        attempt.error = Some(reason);
        attempt.outcome = "failed";
        return attempt;
    }
    let Some(signature) = super::signature_header(secrets, &row.event_id, now, &row.payload) else {
        attempt.error = Some("the signing secret is malformed".into());
        return attempt;
    };
    let started = Instant::now();
    let sent = client
        .post(url)
        .timeout(TIMEOUT)
        .header("content-type", "application/json")
        .header("webhook-id", &row.event_id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature)
        .body(row.payload.clone())
        .send()
        .await;
    match sent {
        Ok(mut response) => {
            attempt.status = Some(i64::from(response.status().as_u16()));
            let ok = response.status().is_success();
            attempt.excerpt = Some(excerpt(&mut response).await);
            if ok {
                attempt.outcome = "delivered";
            }
        }
        Err(error) => attempt.error = Some(failure(&error)),
    }
    attempt.latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    give_up_when_old(&mut attempt, row);
    attempt
}

/// A failed attempt whose retry would fall after the retry window ends the row.
fn give_up_when_old(attempt: &mut Attempt, row: &Due) {
    if attempt.outcome == "pending" && attempt.next_attempt_at - row.created_at > GIVE_UP_AFTER_SECS
    {
        attempt.outcome = "failed";
    }
}

/// Tells the instance's owner that `endpoint` was disabled, and why.
async fn disabled(app: &App, endpoint: &Endpoint, reason: &str) {
    tracing::warn!(endpoint = endpoint.id, reason, "webhook endpoint disabled");
    let Some(to) = &app.notify_email else { return };
    let product = app.config.load().mail.product_name.clone();
    let mail = crate::mail::webhook_disabled(&product, to, &endpoint.id, &endpoint.url, reason);
    if let Err(error) = app.mailer.send(&mail).await {
        tracing::warn!(%error, endpoint = endpoint.id, "mailing about a disabled webhook failed");
    }
}

/// The first bytes of the answer's body (read no further).
async fn excerpt(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(EXCERPT_BYTES);
    String::from_utf8_lossy(&body).into_owned()
}

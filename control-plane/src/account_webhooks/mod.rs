//! Account webhooks: the control plane's own events about an account (an instance became ready
//! or failed, a revision was deployed, rolled back or promoted, the subscription changed, an API
//! key was created, rotated or revoked), POSTed to the endpoints the account registers, signed
//! per Standard Webhooks exactly as an instance's events are.
//!
//! The machinery is the instance crate's: [`record`] queues one `webhook_outbox` row per
//! matching endpoint on the transaction of the change the event describes (so a rolled-back
//! change sends nothing and a crash loses nothing), and the [`delivery`] worker sends each
//! endpoint's rows oldest first with the instance's signing, SSRF-guarded client, backoff
//! (three days), delivery log, streak of failures and disabling rules. What differs is where
//! endpoints come from: the API registers them per account (`account_webhooks`), with random ids
//! (two accounts may register one URL), and the secret is made and shown when the endpoint is.

pub mod delivery;
pub mod routes;
pub mod store;

use authstack_instance::clock::{UnixTime, rfc3339};
use authstack_instance::webhooks::store as outbox;
use authstack_instance::webhooks::{
    PAYLOAD_VERSION, PREVIOUS_SECRET_SECS, TEST_EVENT, matches, new_secret, secret_prefix,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::App;
use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::ids::AccountId;
use crate::instances::Instance;
use crate::platform::Caller;

pub use authstack_instance::webhooks::store::Delivery as AccountWebhookDelivery;

/// Every event type the control plane sends; the README's catalogue lists them. An endpoint's
/// `events` are these, or patterns over them (`instance.*`, `*`).
pub const EVENT_TYPES: &[&str] = &[
    "instance.ready",
    "instance.failed",
    "revision.deployed",
    "revision.rolled_back",
    "revision.promoted",
    "subscription.activated",
    "subscription.updated",
    "subscription.past_due",
    "subscription.suspended",
    "subscription.canceled",
    "key.created",
    "key.rotated",
    "key.revoked",
];

/// The most endpoints one account registers.
pub const MAX_ENDPOINTS: usize = 20;

/// An endpoint an account registered.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub account_id: AccountId,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub created_at: UnixTime,
}

impl Endpoint {
    /// Whether the endpoint takes events of type `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|pattern| matches(pattern, kind))
    }
}

/// `raw` as an endpoint URL: `http` or `https` with a host, and outside dev (`allow_private`)
/// neither an IP literal nor a `localhost` name that reaches inside the control plane's network.
/// Names are checked again, resolved, at each delivery (the outbound client's resolver).
pub fn parse_url(raw: &str, allow_private: bool) -> Result<String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(Error::invalid("url: at most 2000 characters"));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::invalid(format!("url: not an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::invalid("url: the scheme must be https (or http)"));
    }
    let Some(host) = url.host_str() else {
        return Err(Error::invalid("url: it has no host"));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "url: credentials in the URL are not allowed",
        ));
    }
    let local_name =
        host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost");
    if !allow_private && local_name {
        return Err(Error::invalid(format!(
            "url: {host} is not a public address; webhooks go to public addresses only"
        )));
    }
    if let Some(reason) = authstack_instance::outbound::refused_literal(&url, allow_private) {
        return Err(Error::invalid(format!(
            "url: {reason}; webhooks go to public addresses only"
        )));
    }
    Ok(url.to_string())
}

/// `patterns` as an endpoint's event selection: 1 to 20, each selecting at least one type of
/// [`EVENT_TYPES`]; `["*"]` when absent.
pub fn parse_events(patterns: Option<Vec<String>>) -> Result<Vec<String>> {
    let patterns = patterns.unwrap_or_else(|| vec!["*".into()]);
    if patterns.is_empty() || patterns.len() > 20 {
        return Err(Error::invalid("events: 1 to 20 event types or patterns"));
    }
    for pattern in &patterns {
        if !EVENT_TYPES.iter().any(|kind| matches(pattern, kind)) {
            return Err(Error::invalid(format!(
                "events: '{pattern}' selects no event (known: {})",
                EVENT_TYPES.join(", ")
            )));
        }
    }
    Ok(patterns)
}

/// The JSON body every endpoint receives (version 1): the event's id, type and time, the account
/// it concerns, and the event's own fields under `data`.
pub fn payload(
    id: &str,
    kind: &str,
    at: UnixTime,
    account_id: &AccountId,
    data: &serde_json::Value,
) -> String {
    serde_json::json!({
        "id": id,
        "type": kind,
        "timestamp": rfc3339(at),
        "version": PAYLOAD_VERSION,
        "account_id": account_id,
        "data": data,
    })
    .to_string()
}

/// Queues the event `kind` about `account_id` for each of its endpoints that takes it, on
/// `conn`: the transaction of the change it describes.
pub async fn record(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    account_id: &AccountId,
    kind: &str,
    data: serde_json::Value,
) -> Result<()> {
    debug_assert!(
        EVENT_TYPES.contains(&kind),
        "{kind} is not in the catalogue"
    );
    let endpoints = store::of_account(&mut *conn, account_id).await?;
    let targets: Vec<&Endpoint> = endpoints.iter().filter(|e| e.wants(kind)).collect();
    if targets.is_empty() {
        return Ok(());
    }
    let id = crate::db::new_id("evt");
    let body = payload(&id, kind, now, account_id, &data);
    for endpoint in targets {
        queue(&mut *conn, &id, &endpoint.id, kind, &body, now).await?;
    }
    Ok(())
}

/// [`record`] for an event about `instance` (its id and environment join `data`); nothing for
/// the platform instance, which has no account.
pub async fn record_for_instance(
    conn: &mut sqlx::AnyConnection,
    now: UnixTime,
    instance: &Instance,
    kind: &str,
    data: serde_json::Value,
) -> Result<()> {
    let Some(account_id) = &instance.account_id else {
        return Ok(());
    };
    let mut fields = serde_json::Map::new();
    fields.insert("instance_id".into(), instance.id.as_str().into());
    fields.insert(
        "environment".into(),
        instance.environment.as_str().to_owned().into(),
    );
    if let serde_json::Value::Object(more) = data {
        fields.extend(more);
    }
    record(
        conn,
        now,
        account_id,
        kind,
        serde_json::Value::Object(fields),
    )
    .await
}

/// Queues one event for one endpoint (the instance crate's outbox insert).
async fn queue(
    conn: &mut sqlx::AnyConnection,
    event_id: &str,
    endpoint_id: &str,
    kind: &str,
    body: &str,
    now: UnixTime,
) -> Result<()> {
    authstack_instance::webhooks::store::insert_row(conn, event_id, endpoint_id, kind, body, now)
        .await
        .map_err(internal)
}

/// An endpoint as the API shows it: its standing and last delivery, never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountWebhook {
    /// `whe_…`.
    pub id: String,
    pub url: String,
    /// The event types or patterns (`revision.*`, `*`) it takes.
    pub events: Vec<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    /// The first characters of the current secret (`whsec_` and four), to tell secrets apart.
    pub secret_prefix: String,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixTime,
    /// Set when every attempt failed for a day (ten in a row at least); `POST .../enable` ends it.
    #[schema(required = true, format = DateTime)]
    pub disabled_at: Option<String>,
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    #[schema(required = true)]
    pub last_delivery: Option<AccountWebhookDelivery>,
}

/// What a new endpoint is made of (the request's fields, unchecked).
#[derive(Debug)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
}

/// Registers an endpoint for `account` and returns it with its secret, which nothing shows again.
pub async fn create(
    app: &App,
    account: &Account,
    caller: &Caller,
    new: NewEndpoint,
) -> Result<(AccountWebhook, SecretString)> {
    let url = parse_url(&new.url, app.config.allow_private_webhooks)?;
    let events = parse_events(new.events)?;
    let description = new
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 200)
    {
        return Err(Error::invalid("description: at most 200 characters"));
    }
    let endpoint = Endpoint {
        id: crate::db::new_id("whe"),
        account_id: account.id.clone(),
        url,
        events,
        description,
        created_at: app.clock.now(),
    };
    let secret = new_secret();
    let sealed = app
        .master
        .seal(secret.expose_secret().as_bytes(), &endpoint.id)?;
    let mut tx = app.db.begin_write().await?;
    app.db
        .lock(&mut tx, &format!("account_webhooks:{}", account.id))
        .await?;
    if store::of_account(&mut *tx, &account.id).await?.len() >= MAX_ENDPOINTS {
        return Err(Error::Conflict(format!(
            "an account has at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
        )));
    }
    store::insert(&mut tx, &endpoint, &caller.user_id, &sealed).await?;
    let detail = serde_json::json!({ "url": endpoint.url, "events": endpoint.events });
    audited(
        &mut tx,
        endpoint.created_at,
        account,
        caller,
        "account_webhook.created",
        &endpoint.id,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok((describe(app, endpoint).await?, secret))
}

/// The account's endpoints, oldest first.
pub async fn list(app: &App, account: &Account) -> Result<Vec<AccountWebhook>> {
    let mut out = Vec::new();
    for endpoint in store::of_account(&app.db.pool, &account.id).await? {
        out.push(describe(app, endpoint).await?);
    }
    Ok(out)
}

/// The account's endpoint `id`.
pub async fn find(app: &App, account: &Account, id: &str) -> Result<Endpoint> {
    store::find(&app.db, id)
        .await?
        .filter(|e| e.account_id == account.id)
        .ok_or(Error::NotFound("webhook"))
}

/// Removes an endpoint with its secrets, queue and delivery log.
pub async fn delete(app: &App, account: &Account, caller: &Caller, id: &str) -> Result<()> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    if !store::delete(&mut tx, &account.id, id).await? {
        return Err(Error::NotFound("webhook"));
    }
    audited(
        &mut tx,
        now,
        account,
        caller,
        "account_webhook.deleted",
        id,
        serde_json::Value::Null,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces an endpoint's secret; the previous one (shown when it was made or rotated) keeps
/// signing for 24 hours. Returns the new secret and until when the previous one signs.
pub async fn rotate_secret(
    app: &App,
    account: &Account,
    caller: &Caller,
    id: &str,
) -> Result<(SecretString, Option<UnixTime>)> {
    let endpoint = find(app, account, id).await?;
    let now = app.clock.now();
    let rotated = outbox::rotate(
        &app.db,
        &app.master,
        &endpoint.id,
        now,
        now + PREVIOUS_SECRET_SECS,
    )
    .await
    .map_err(internal)?;
    let mut tx = app.db.begin_write().await?;
    audited(
        &mut tx,
        now,
        account,
        caller,
        "account_webhook.secret_rotated",
        id,
        serde_json::Value::Null,
    )
    .await?;
    tx.commit().await?;
    Ok(rotated)
}

/// Queues a `webhook.test` event for this endpoint alone, after what it has queued already;
/// returns its id.
pub async fn send_test(app: &App, account: &Account, caller: &Caller, id: &str) -> Result<String> {
    let endpoint = find(app, account, id).await?;
    let now = app.clock.now();
    let event_id = crate::db::new_id("evt");
    let data = serde_json::json!({ "endpoint_id": endpoint.id });
    let body = payload(&event_id, TEST_EVENT, now, &account.id, &data);
    let mut tx = app.db.begin_write().await?;
    queue(&mut tx, &event_id, &endpoint.id, TEST_EVENT, &body, now).await?;
    let detail = serde_json::json!({ "event_id": event_id });
    audited(
        &mut tx,
        now,
        account,
        caller,
        "account_webhook.test_sent",
        id,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(event_id)
}

/// Enables an endpoint disabled after sustained failure: its queued events go, oldest first.
pub async fn enable(
    app: &App,
    account: &Account,
    caller: &Caller,
    id: &str,
) -> Result<AccountWebhook> {
    let endpoint = find(app, account, id).await?;
    let now = app.clock.now();
    outbox::enable(&app.db, &endpoint.id, now)
        .await
        .map_err(internal)?;
    let mut tx = app.db.begin_write().await?;
    audited(
        &mut tx,
        now,
        account,
        caller,
        "account_webhook.enabled",
        id,
        serde_json::Value::Null,
    )
    .await?;
    tx.commit().await?;
    describe(app, endpoint).await
}

/// An endpoint's deliveries, newest first.
pub async fn deliveries(
    app: &App,
    account: &Account,
    id: &str,
    limit: i64,
) -> Result<Vec<AccountWebhookDelivery>> {
    let endpoint = find(app, account, id).await?;
    outbox::deliveries(&app.db, &endpoint.id, limit)
        .await
        .map_err(internal)
}

/// Queues an event of the account again, with its id and payload, for each endpoint it went
/// to; returns how many.
pub async fn replay(
    app: &App,
    account: &Account,
    caller: &Caller,
    event_id: &str,
) -> Result<usize> {
    if !store::is_event_of(&app.db, &account.id, event_id).await? {
        return Err(Error::NotFound("webhook_event"));
    }
    let now = app.clock.now();
    let queued = outbox::replay(&app.db, event_id, now, |_| true)
        .await
        .map_err(internal)?;
    let mut tx = app.db.begin_write().await?;
    let detail = serde_json::json!({ "queued": queued });
    audited(
        &mut tx,
        now,
        account,
        caller,
        "account_webhook.event_replayed",
        event_id,
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(queued)
}

async fn describe(app: &App, endpoint: Endpoint) -> Result<AccountWebhook> {
    let now = app.clock.now();
    let secrets = outbox::secrets(&app.db, &app.master, &endpoint.id, now)
        .await
        .map_err(internal)?;
    let standing = outbox::standing(&app.db, &endpoint.id)
        .await
        .map_err(internal)?;
    let last_delivery = outbox::last_delivery(&app.db, &endpoint.id)
        .await
        .map_err(internal)?;
    Ok(AccountWebhook {
        secret_prefix: secrets.first().map(secret_prefix).unwrap_or_default(),
        disabled_at: standing.disabled_at.map(rfc3339),
        disabled_reason: standing.disabled_reason,
        last_delivery,
        id: endpoint.id,
        url: endpoint.url,
        events: endpoint.events,
        description: endpoint.description,
        created_at: endpoint.created_at,
    })
}

/// Records a member's action on an endpoint or event in the account's audit log.
async fn audited(
    tx: &mut sqlx::AnyConnection,
    now: UnixTime,
    account: &Account,
    caller: &Caller,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<()> {
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(&caller.user_id),
        action,
        Some(target),
        detail,
    )
    .await?;
    Ok(())
}

/// An error of the instance crate's webhook code (its database), as ours.
pub(crate) fn internal(err: authstack_instance::error::Error) -> Error {
    Error::Internal(anyhow::Error::new(err).context("account webhooks"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_refused_outside_dev() {
        for bad in [
            "http://127.0.0.1:9/h",
            "http://[::1]/h",
            "https://169.254.169.254/latest",
            "http://10.0.0.8/h",
            "http://localhost:8080/h",
            "http://api.localhost/h",
        ] {
            assert!(parse_url(bad, false).is_err(), "{bad}");
            assert!(parse_url(bad, true).is_ok(), "{bad} in dev");
        }
        for bad in [
            "ftp://hooks.example.com/",
            "not a url",
            "https://u:p@hooks.example.com/",
        ] {
            assert!(parse_url(bad, true).is_err(), "{bad}");
        }
        assert_eq!(
            parse_url("https://hooks.example.com/a", false)
                .ok()
                .as_deref(),
            Some("https://hooks.example.com/a")
        );
    }

    #[test]
    fn events_select_known_types() {
        assert_eq!(parse_events(None).ok(), Some(vec!["*".to_owned()]));
        assert!(parse_events(Some(vec!["revision.*".into(), "instance.ready".into()])).is_ok());
        assert!(parse_events(Some(vec!["user.created".into()])).is_err());
        assert!(parse_events(Some(vec![])).is_err());
    }

    #[test]
    fn the_payload_is_versioned_and_names_the_account() {
        let body = payload(
            "evt_1",
            "instance.ready",
            0,
            &AccountId::from("acc_1"),
            &serde_json::json!({ "a": 1 }),
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(parsed["version"], 1);
        assert_eq!(parsed["type"], "instance.ready");
        assert_eq!(parsed["account_id"], "acc_1");
        assert_eq!(parsed["timestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(parsed["data"]["a"], 1);
    }
}

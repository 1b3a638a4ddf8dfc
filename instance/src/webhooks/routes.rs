//! `/v1/admin/webhooks*`: the configured endpoints with their standing, their delivery logs,
//! secret rotation (the one place a secret is shown), test events, enabling a disabled
//! endpoint, and replay.

use axum::extract::{Path, State};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Delivery};
use super::{Endpoint, PREVIOUS_SECRET_SECS, Recorded, TEST_EVENT, endpoints, secret_prefix};
use crate::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::http::pagination::page_size;
use crate::http::{Admin, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(send_webhook_test))
        .routes(routes!(enable_webhook))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(replay_webhook_event))
}

/// An endpoint with its standing (read by the control plane too).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookEndpoint {
    /// For an endpoint of the configuration, `whe_` and 24 hex digits of the SHA-256 of the URL:
    /// stable while the URL is. For an organization's endpoint, `whe_org_…`.
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// The signing secret's first characters (`whsec_` and four), to tell secrets apart. The
    /// secret itself is shown once: by the rotation that creates it (`rotate-secret`), or for
    /// an organization's endpoint by its creation too.
    pub secret_prefix: String,
    /// When the endpoint was disabled after sustained failure (no deliveries are attempted
    /// until it is enabled again, `POST .../webhooks/{id}/enable`); `null` while it is enabled.
    #[schema(format = DateTime)]
    pub disabled_at: Option<String>,
    /// Why it was disabled: how long and how many attempts failed, and how the last one did.
    pub disabled_reason: Option<String>,
    /// The newest delivery's status (`pending`, `delivered`, `failed`), absent before the first.
    pub last_delivery_status: Option<String>,
    pub last_delivery: Option<Delivery>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookEndpoint>,
}

/// List the configured webhook endpoints with their standing and last delivery.
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = WebhookList), (status = 401, body = ErrorBody)))]
async fn list_webhooks(
    State(app): State<AppState>,
    _admin: Admin,
) -> Result<axum::Json<WebhookList>> {
    let mut data = Vec::new();
    for endpoint in endpoints(&app.config.load().webhooks) {
        data.push(describe(&app, endpoint).await?);
    }
    Ok(axum::Json(WebhookList { data }))
}

/// `endpoint` with its secret's prefix, its standing and its last delivery.
pub(crate) async fn describe(app: &crate::App, endpoint: Endpoint) -> Result<WebhookEndpoint> {
    let secrets = store::secrets(&app.db, app.keys.master(), &endpoint.id, app.clock.now()).await?;
    let standing = store::standing(&app.db, &endpoint.id).await?;
    let last = store::last_delivery(&app.db, &endpoint.id).await?;
    Ok(WebhookEndpoint {
        secret_prefix: secrets.first().map(secret_prefix).unwrap_or_default(),
        disabled_at: standing.disabled_at.map(crate::clock::rfc3339),
        disabled_reason: standing.disabled_reason,
        last_delivery_status: last.as_ref().map(|d| d.status.clone()),
        last_delivery: last,
        id: endpoint.id,
        url: endpoint.url,
        events: endpoint.events,
        description: endpoint.description,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    pub id: String,
    /// The new secret, shown only here (the list shows its first characters).
    pub secret: String,
    /// Until then deliveries carry a signature with the previous secret too; `null` when the
    /// previous secret was never shown (the first rotation), which then stops signing at once.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

/// Replace an endpoint's signing secret and show it, once. A previous secret that was shown
/// keeps signing for 24 hours.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/rotate-secret", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = RotatedSecret), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn rotate_webhook_secret(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<axum::Json<RotatedSecret>> {
    configured(&app, &id)?;
    let now = app.clock.now();
    let (secret, until) = store::rotate(
        &app.db,
        app.keys.master(),
        &id,
        now,
        now + PREVIOUS_SECRET_SECS,
    )
    .await?;
    Ok(axum::Json(RotatedSecret {
        id,
        secret: secret.expose_secret().to_owned(),
        previous_secret_expires_at: until.map(crate::clock::rfc3339),
    }))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = WebhookTestQueued)]
pub struct TestQueued {
    /// The test event's id: its `webhook-id` and its delivery's `event_id`.
    pub event_id: String,
}

/// Queue a `webhook.test` event for this endpoint alone, signed and logged like any event (sent
/// after the events queued before it, and not while the endpoint is disabled).
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/test", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = TestQueued), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn send_webhook_test(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<(axum::http::StatusCode, axum::Json<TestQueued>)> {
    configured(&app, &id)?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(queue_test(&app, &id, None).await?),
    ))
}

/// Queues a [`TEST_EVENT`] for the endpoint `id` alone (of `organization_id`'s, if any).
pub(crate) async fn queue_test(
    app: &crate::App,
    id: &str,
    organization_id: Option<&str>,
) -> Result<TestQueued> {
    let event_id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let data = serde_json::json!({});
    let event = Recorded {
        id: &event_id,
        action: TEST_EVENT,
        occurred_at: app.clock.now(),
        actor_id: None,
        target_id: Some(id),
        organization_id,
        data: &data,
    };
    store::enqueue_to(&app.db, id, &event).await?;
    Ok(TestQueued { event_id })
}

/// Enable an endpoint disabled after sustained failure: its queued events are sent, oldest
/// first. A no-op for an enabled endpoint.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/enable", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enable_webhook(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<axum::Json<WebhookEndpoint>> {
    let endpoint = configured(&app, &id)?;
    store::enable(&app.db, &id, app.clock.now()).await?;
    Ok(axum::Json(describe(&app, endpoint).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    #[param(minimum = 1, maximum = 200)]
    pub(crate) limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub data: Vec<Delivery>,
}

/// An endpoint's delivery log, newest first.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = DeliveryList),
        (status = 400, description = "`limit` is not an integer from 1 to 200 (`invalid_request`).", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_webhook_deliveries(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<axum::Json<DeliveryList>> {
    configured(&app, &id)?;
    let limit = page_size(q.limit, 50, 200)?;
    Ok(axum::Json(DeliveryList {
        data: store::deliveries(&app.db, &id, limit).await?,
    }))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = WebhookReplayed)]
pub struct Replayed {
    pub event_id: String,
    /// How many endpoints it is queued for again.
    pub queued: usize,
}

/// Send an event again, with the same id and payload, to each endpoint of the configuration it
/// went to.
#[utoipa::path(post, path = "/v1/admin/webhooks/deliveries/{event_id}/replay", tag = "admin", security(("admin_key" = [])),
    params(("event_id" = String, Path)),
    responses((status = 202, body = Replayed), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn replay_webhook_event(
    State(app): State<AppState>,
    _admin: Admin,
    Path(event_id): Path<String>,
) -> Result<(axum::http::StatusCode, axum::Json<Replayed>)> {
    // An organization's endpoints are its admins' to replay to.
    let queued = store::replay(&app.db, &event_id, app.clock.now(), |endpoint| {
        !super::is_organization_endpoint(endpoint)
    })
    .await?;
    if queued == 0 {
        return Err(Error::NotFound("webhook_event"));
    }
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(Replayed { event_id, queued }),
    ))
}

fn configured(app: &crate::App, id: &str) -> Result<Endpoint> {
    endpoints(&app.config.load().webhooks)
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(Error::NotFound("webhook"))
}

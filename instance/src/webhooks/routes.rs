//! `/v1/admin/webhooks*`: the configured endpoints with their signing secrets, their delivery
//! logs, secret rotation and replay.

use axum::extract::{Path, State};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Delivery};
use super::{PREVIOUS_SECRET_SECS, endpoints};
use crate::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::http::pagination::page_size;
use crate::http::{Admin, Query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(replay_webhook_event))
}

/// A configured endpoint.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookEndpoint {
    /// `whe_` and 24 hex digits of the SHA-256 of the URL: stable while the URL is.
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// The signing secret (`whsec_...`), created on first use; verify `webhook-signature` with it.
    pub secret: String,
    /// The newest delivery's status (`pending`, `delivered`, `failed`), absent before the first.
    pub last_delivery_status: Option<String>,
    pub last_delivery: Option<Delivery>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookEndpoint>,
}

/// List the configured webhook endpoints with their secrets and last delivery.
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = WebhookList), (status = 401, body = ErrorBody)))]
async fn list_webhooks(
    State(app): State<AppState>,
    _admin: Admin,
) -> Result<axum::Json<WebhookList>> {
    let now = app.clock.now();
    let mut data = Vec::new();
    for endpoint in endpoints(&app.config.load().webhooks) {
        let secrets = store::secrets(&app.db, app.keys.master(), &endpoint.id, now).await?;
        let last = store::last_delivery(&app.db, &endpoint.id).await?;
        data.push(WebhookEndpoint {
            secret: secrets
                .first()
                .map(|s| s.expose_secret().to_owned())
                .unwrap_or_default(),
            last_delivery_status: last.as_ref().map(|d| d.status.clone()),
            last_delivery: last,
            id: endpoint.id,
            url: endpoint.url,
            events: endpoint.events,
            description: endpoint.description,
        });
    }
    Ok(axum::Json(WebhookList { data }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    pub id: String,
    /// The new secret, shown once here (and by the endpoint list).
    pub secret: String,
    /// Until then deliveries carry a signature with the previous secret too.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: String,
}

/// Replace an endpoint's signing secret; the previous one keeps signing for 24 hours.
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
    let until = now + PREVIOUS_SECRET_SECS;
    let secret = store::rotate(&app.db, app.keys.master(), &id, now, until).await?;
    Ok(axum::Json(RotatedSecret {
        id,
        secret: secret.expose_secret().to_owned(),
        previous_secret_expires_at: crate::clock::rfc3339(until),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Replayed {
    pub event_id: String,
    /// How many endpoints it is queued for again.
    pub queued: usize,
}

/// Send an event again, with the same id and payload, to each endpoint it went to.
#[utoipa::path(post, path = "/v1/admin/webhooks/deliveries/{event_id}/replay", tag = "admin", security(("admin_key" = [])),
    params(("event_id" = String, Path)),
    responses((status = 202, body = Replayed), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn replay_webhook_event(
    State(app): State<AppState>,
    _admin: Admin,
    Path(event_id): Path<String>,
) -> Result<(axum::http::StatusCode, axum::Json<Replayed>)> {
    let queued = store::replay(&app.db, &event_id, app.clock.now()).await?;
    if queued == 0 {
        return Err(Error::NotFound("webhook_event"));
    }
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(Replayed { event_id, queued }),
    ))
}

fn configured(app: &crate::App, id: &str) -> Result<()> {
    endpoints(&app.config.load().webhooks)
        .iter()
        .any(|e| e.id == id)
        .then_some(())
        .ok_or(Error::NotFound("webhook"))
}

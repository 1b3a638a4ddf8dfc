//! `GET /v1/accounts/{id}/instances/{env}/webhooks`, `GET .../webhooks/{webhook_id}/deliveries`,
//! `POST .../webhooks/{webhook_id}/{rotate-secret,test,enable}` and
//! `POST .../webhooks/deliveries/{event_id}/replay`: the instance's own webhook routes, behind a
//! platform access token. Members who may see keys see endpoints and their delivery logs;
//! rotating a secret (which shows it) needs `keys:manage` and a recent sign-in, as keys do;
//! sending a test event, enabling an endpoint and replaying an event need `keys:manage`.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{WebhookDelivery, WebhookEndpoint, WebhookReplayed, WebhookTestQueued};
use crate::AppState;
use crate::accounts;
use crate::applications::routes::record;
use crate::error::{ErrorBody, Result};
use crate::http::extract::{Path, Query};
use crate::ids::AccountId;
use crate::platform::Caller;

const READ: &str = "keys:read";
const MANAGE: &str = "keys:manage";

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookEndpointList {
    /// In the configuration's order.
    data: Vec<WebhookEndpoint>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookDeliveryList {
    /// Newest first.
    data: Vec<WebhookDelivery>,
}

/// A new signing secret, shown in this answer only.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookSecret {
    pub id: String,
    /// `whsec_...`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
    /// Until then deliveries are signed with the previous secret too; `null` when the previous
    /// one was never shown.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The endpoints the instance's configuration lists, with their standing and last delivery.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, body = WebhookEndpointList),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:read` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, or it has no instance of that environment (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn list_webhooks(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
) -> Result<axum::Json<WebhookEndpointList>> {
    let (_, instance) = accounts::instance(&app, &caller, &id, &env, READ).await?;
    let data = super::list(&app, &instance).await?;
    Ok(axum::Json(WebhookEndpointList { data }))
}

/// An endpoint's delivery log: status, attempts, latency and the answer's first bytes.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("webhook_id" = String, Path, description = "The endpoint's id (`whe_…`)."), DeliveriesQuery),
    responses((status = 200, body = WebhookDeliveryList),
        (status = 400, description = "`env` is neither `live` nor `test`, or `limit` is out of range (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:read` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or endpoint (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn list_webhook_deliveries(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, webhook_id)): Path<(AccountId, String, String)>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<axum::Json<WebhookDeliveryList>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(crate::error::Error::invalid("limit: must be 1 to 200"));
    }
    let (_, instance) = accounts::instance(&app, &caller, &id, &env, READ).await?;
    let data = super::deliveries(&app, &instance, &webhook_id, limit).await?;
    Ok(axum::Json(WebhookDeliveryList { data }))
}

/// Replaces the endpoint's signing secret. The new one is in this answer only.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("webhook_id" = String, Path, description = "The endpoint's id (`whe_…`).")),
    responses((status = 200, body = WebhookSecret),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "No sign-in within the last 10 minutes (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or endpoint (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn rotate_webhook_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, webhook_id)): Path<(AccountId, String, String)>,
) -> Result<axum::Json<WebhookSecret>> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    caller.ensure_recent_sign_in(app.clock.now())?;
    let rotated = super::rotate_secret(&app, &instance, &webhook_id).await?;
    let detail = serde_json::Value::Null;
    let action = "webhook.secret_rotated";
    record(
        &app,
        &account,
        &caller,
        &instance,
        action,
        &rotated.id,
        detail,
    )
    .await?;
    Ok(axum::Json(WebhookSecret {
        secret: rotated.secret.expose_secret().to_owned(),
        id: rotated.id,
        previous_secret_expires_at: rotated.previous_secret_expires_at,
    }))
}

/// Queues a `webhook.test` event for this endpoint alone, signed and logged like any event.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("webhook_id" = String, Path, description = "The endpoint's id (`whe_…`).")),
    responses((status = 202, body = WebhookTestQueued),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or endpoint (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn send_webhook_test(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, webhook_id)): Path<(AccountId, String, String)>,
) -> Result<(StatusCode, axum::Json<WebhookTestQueued>)> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    let queued = super::test(&app, &instance, &webhook_id).await?;
    let detail = serde_json::json!({ "event_id": queued.event_id });
    let action = "webhook.test_sent";
    record(
        &app,
        &account,
        &caller,
        &instance,
        action,
        &webhook_id,
        detail,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(queued)))
}

/// Enables an endpoint the instance disabled after sustained failure; its queued events go,
/// oldest first.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/enable", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("webhook_id" = String, Path, description = "The endpoint's id (`whe_…`).")),
    responses((status = 200, body = WebhookEndpoint),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or endpoint (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn enable_webhook(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, webhook_id)): Path<(AccountId, String, String)>,
) -> Result<axum::Json<WebhookEndpoint>> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    let endpoint = super::enable(&app, &instance, &webhook_id).await?;
    let detail = serde_json::json!({ "url": endpoint.url });
    let action = "webhook.enabled";
    record(
        &app,
        &account,
        &caller,
        &instance,
        action,
        &endpoint.id,
        detail,
    )
    .await?;
    Ok(axum::Json(endpoint))
}

/// Sends an event again, with the same id and payload, to each endpoint it went to.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/webhooks/deliveries/{event_id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("event_id" = String, Path, description = "The event's id (`evt_…`).")),
    responses((status = 202, body = WebhookReplayed),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or event (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn replay_webhook_event(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, event_id)): Path<(AccountId, String, String)>,
) -> Result<(StatusCode, axum::Json<WebhookReplayed>)> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    let replayed = super::replay(&app, &instance, &event_id).await?;
    let detail = serde_json::json!({ "queued": replayed.queued });
    let action = "webhook.event_replayed";
    record(
        &app, &account, &caller, &instance, action, &event_id, detail,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(replayed)))
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_webhooks))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(send_webhook_test))
        .routes(routes!(enable_webhook))
        .routes(routes!(replay_webhook_event))
}

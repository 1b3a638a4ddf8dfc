//! `GET|POST /v1/accounts/{id}/webhooks`, `DELETE .../webhooks/{endpoint_id}`,
//! `POST .../webhooks/{endpoint_id}/{rotate-secret,test,enable}`,
//! `GET .../webhooks/{endpoint_id}/deliveries` and
//! `POST .../webhooks/deliveries/{event_id}/replay`: the account's own event endpoints. Members
//! who may see keys see endpoints and their delivery logs; everything else needs
//! `keys:manage`, and what shows a secret (creating, rotating) a sign-in within 10 minutes too.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{AccountWebhook, AccountWebhookDelivery, NewEndpoint};
use crate::AppState;
use crate::accounts;
use crate::error::{Error, ErrorBody, Result};
use crate::http::extract::{Json, Path, Query};
use crate::ids::AccountId;
use crate::platform::Caller;
use crate::webhooks::routes::WebhookSecret;
use crate::webhooks::{WebhookReplayed, WebhookTestQueued};

const READ: &str = "keys:read";
const MANAGE: &str = "keys:manage";

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountWebhookList {
    /// Oldest first.
    data: Vec<AccountWebhook>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountWebhookDeliveryList {
    /// Newest first.
    data: Vec<AccountWebhookDelivery>,
}

/// A new endpoint and its signing secret, shown in this answer only.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedAccountWebhook {
    webhook: AccountWebhook,
    /// `whsec_...`: verify `webhook-signature` with it (Standard Webhooks).
    secret: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountWebhookRequest {
    /// Where events are POSTed: a public `https` (or `http`) address.
    #[schema(max_length = 2000)]
    url: String,
    /// Event types or patterns (`revision.*`, `*`); all events when absent.
    #[schema(max_items = 20, min_items = 1)]
    events: Option<Vec<String>>,
    #[schema(max_length = 200)]
    description: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The account's event endpoints, with their standing and last delivery.
#[utoipa::path(get, path = "/v1/accounts/{id}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 200, body = AccountWebhookList),
        (status = 403, description = "The caller lacks `keys:read` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody)))]
pub async fn list_account_webhooks(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> Result<axum::Json<AccountWebhookList>> {
    let account = accounts::authorize(&app, &caller, &id, READ).await?;
    let data = super::list(&app, &account).await?;
    Ok(axum::Json(AccountWebhookList { data }))
}

/// Registers an endpoint for the account's events. Its secret is in this answer only.
#[utoipa::path(post, path = "/v1/accounts/{id}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    request_body = CreateAccountWebhookRequest,
    responses((status = 201, body = CreatedAccountWebhook),
        (status = 400, description = "A malformed URL, a private, loopback or link-local address outside dev, or an event selecting nothing (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "No sign-in within the last 10 minutes (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody),
        (status = 409, description = "The account has 20 endpoints already (`conflict`).", body = ErrorBody)))]
pub async fn create_account_webhook(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(request): Json<CreateAccountWebhookRequest>,
) -> Result<(StatusCode, axum::Json<CreatedAccountWebhook>)> {
    let account = accounts::authorize(&app, &caller, &id, MANAGE).await?;
    caller.ensure_recent_sign_in(app.clock.now())?;
    let new = NewEndpoint {
        url: request.url,
        events: request.events,
        description: request.description,
    };
    let (webhook, secret) = super::create(&app, &account, &caller, new).await?;
    let secret = secret.expose_secret().to_owned();
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedAccountWebhook { webhook, secret }),
    ))
}

/// Removes an endpoint with its queued events and delivery log.
#[utoipa::path(delete, path = "/v1/accounts/{id}/webhooks/{endpoint_id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`).")),
    responses((status = 204, description = "Removed."),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account or endpoint (`not_found`).", body = ErrorBody)))]
pub async fn delete_account_webhook(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, endpoint_id)): Path<(AccountId, String)>,
) -> Result<StatusCode> {
    let account = accounts::authorize(&app, &caller, &id, MANAGE).await?;
    super::delete(&app, &account, &caller, &endpoint_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the endpoint's signing secret; the previous one signs too for 24 hours. The new one
/// is in this answer only.
#[utoipa::path(post, path = "/v1/accounts/{id}/webhooks/{endpoint_id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`).")),
    responses((status = 200, body = WebhookSecret),
        (status = 403, description = "No sign-in within the last 10 minutes (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account or endpoint (`not_found`).", body = ErrorBody)))]
pub async fn rotate_account_webhook_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, endpoint_id)): Path<(AccountId, String)>,
) -> Result<axum::Json<WebhookSecret>> {
    let account = accounts::authorize(&app, &caller, &id, MANAGE).await?;
    caller.ensure_recent_sign_in(app.clock.now())?;
    let (secret, until) = super::rotate_secret(&app, &account, &caller, &endpoint_id).await?;
    Ok(axum::Json(WebhookSecret {
        id: endpoint_id,
        secret: secret.expose_secret().to_owned(),
        previous_secret_expires_at: until.map(authstack_instance::clock::rfc3339),
    }))
}

/// Queues a `webhook.test` event for this endpoint alone, signed and logged like any event.
#[utoipa::path(post, path = "/v1/accounts/{id}/webhooks/{endpoint_id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`).")),
    responses((status = 202, body = WebhookTestQueued),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account or endpoint (`not_found`).", body = ErrorBody)))]
pub async fn send_account_webhook_test(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, endpoint_id)): Path<(AccountId, String)>,
) -> Result<(StatusCode, axum::Json<WebhookTestQueued>)> {
    let account = accounts::authorize(&app, &caller, &id, MANAGE).await?;
    let event_id = super::send_test(&app, &account, &caller, &endpoint_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(WebhookTestQueued { event_id }),
    ))
}

/// Enables an endpoint disabled after sustained failure; its queued events go, oldest first.
#[utoipa::path(post, path = "/v1/accounts/{id}/webhooks/{endpoint_id}/enable", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`).")),
    responses((status = 200, body = AccountWebhook),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account or endpoint (`not_found`).", body = ErrorBody)))]
pub async fn enable_account_webhook(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, endpoint_id)): Path<(AccountId, String)>,
) -> Result<axum::Json<AccountWebhook>> {
    let account = accounts::authorize(&app, &caller, &id, MANAGE).await?;
    Ok(axum::Json(
        super::enable(&app, &account, &caller, &endpoint_id).await?,
    ))
}

/// An endpoint's delivery log: status, attempts, latency and the answer's first bytes.
#[utoipa::path(get, path = "/v1/accounts/{id}/webhooks/{endpoint_id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("endpoint_id" = String, Path, description = "The endpoint's id (`whe_…`)."), DeliveriesQuery),
    responses((status = 200, body = AccountWebhookDeliveryList),
        (status = 400, description = "`limit` is out of range (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:read` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account or endpoint (`not_found`).", body = ErrorBody)))]
pub async fn list_account_webhook_deliveries(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, endpoint_id)): Path<(AccountId, String)>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<axum::Json<AccountWebhookDeliveryList>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::invalid("limit: must be 1 to 200"));
    }
    let account = accounts::authorize(&app, &caller, &id, READ).await?;
    let data = super::deliveries(&app, &account, &endpoint_id, i64::from(limit)).await?;
    Ok(axum::Json(AccountWebhookDeliveryList { data }))
}

/// Sends an event of the account again, with the same id and payload, to each endpoint it went
/// to.
#[utoipa::path(post, path = "/v1/accounts/{id}/webhooks/deliveries/{event_id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("event_id" = String, Path, description = "The event's id (`evt_…`).")),
    responses((status = 202, body = WebhookReplayed),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, or no such event of it (`not_found`).", body = ErrorBody)))]
pub async fn replay_account_webhook_event(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, event_id)): Path<(AccountId, String)>,
) -> Result<(StatusCode, axum::Json<WebhookReplayed>)> {
    let account = accounts::authorize(&app, &caller, &id, MANAGE).await?;
    let queued = super::replay(&app, &account, &caller, &event_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(WebhookReplayed { event_id, queued }),
    ))
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_account_webhooks, create_account_webhook))
        .routes(routes!(delete_account_webhook))
        .routes(routes!(rotate_account_webhook_secret))
        .routes(routes!(send_account_webhook_test))
        .routes(routes!(enable_account_webhook))
        .routes(routes!(list_account_webhook_deliveries))
        .routes(routes!(replay_account_webhook_event))
}

//! `/v1/organizations/{id}/webhooks*` (all need `webhooks:manage`, from a member or an API key
//! of the organization): register an endpoint (its secret shown once), list, delete, rotate
//! the secret, send a test event, enable after it was disabled, its delivery log, and replay.
//! The answers are those of `/v1/admin/webhooks*`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{MANAGE, MAX_PER_ORGANIZATION, OrgEndpoint, check_target, parse_events, parse_url};
use crate::audit::{self, AuditEvent};
use crate::clock::rfc3339;
use crate::error::{Error, ErrorBody, Result};
use crate::http::pagination::page_size;
use crate::http::{Caller, Client, Json, Query};
use crate::orgs::enter;
use crate::webhooks::routes::{
    DeliveriesQuery, DeliveryList, Replayed, RotatedSecret, TestQueued, WebhookEndpoint, describe,
    queue_test,
};
use crate::webhooks::{Endpoint, PREVIOUS_SECRET_SECS, store as hooks};
use crate::{App, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_org_webhook, list_org_webhooks))
        .routes(routes!(delete_org_webhook))
        .routes(routes!(rotate_org_webhook_secret))
        .routes(routes!(send_org_webhook_test))
        .routes(routes!(enable_org_webhook))
        .routes(routes!(list_org_webhook_deliveries))
        .routes(routes!(replay_org_webhook_event))
}

/// An event name, a prefix or `*` (see `config::is_event_pattern`).
#[derive(utoipa::ToSchema)]
#[schema(pattern = r"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$")]
pub struct EventPattern(pub String);

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgWebhookRequest {
    /// `https://` (or `http://` to localhost); a public address unless the instance runs in
    /// development.
    #[schema(max_length = 2048, pattern = r"^https?://[^\s/?#@]+(?:[/?][^\s#]*)?$")]
    url: String,
    /// The organization's events it receives: names (`organization.member_added`), prefixes
    /// (`organization.*`) or `*`.
    #[schema(value_type = Vec<EventPattern>, min_items = 1, max_items = 20)]
    events: Vec<String>,
    #[schema(max_length = 500)]
    description: Option<String>,
}

/// An organization's endpoint with its standing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgWebhook {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The user or API key (`orgkey_…`) that registered it.
    pub created_by: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgWebhookList {
    pub data: Vec<OrgWebhook>,
}

/// A registered endpoint: its secret is shown here once (then only by a rotation).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedOrgWebhook {
    /// `whsec_…`: verify deliveries with it (Standard Webhooks); store it now.
    pub secret: String,
    pub webhook: OrgWebhook,
}

impl std::fmt::Debug for CreatedOrgWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedOrgWebhook")
            .field("webhook", &self.webhook.endpoint.id)
            .finish_non_exhaustive()
    }
}

/// The audit event of an action on one of the organization's endpoints.
fn audited(
    action: &'static str,
    caller: &Caller,
    org_id: &str,
    webhook_id: &str,
    client: &Client,
) -> AuditEvent {
    AuditEvent::new(action)
        .actor(caller.id())
        .target(webhook_id)
        .organization(org_id)
        .client(client)
}

async fn view(app: &App, e: OrgEndpoint) -> Result<OrgWebhook> {
    Ok(OrgWebhook {
        endpoint: describe(app, e.endpoint).await?,
        created_by: e.created_by,
        created_at: rfc3339(e.created_at),
    })
}

/// The organization's endpoint `webhook_id`, once the caller is authorized (read-only scope).
async fn authorized(
    app: &App,
    caller: &Caller,
    client: &Client,
    org_id: &str,
    webhook_id: &str,
) -> Result<OrgEndpoint> {
    let (mut tx, _) = enter(app, org_id, false, caller, client, Some(MANAGE)).await?;
    let found = super::store::find(&mut tx, org_id, webhook_id).await?;
    tx.commit().await?;
    found.ok_or(Error::NotFound("webhook"))
}

/// Register a webhook endpoint for the organization's events (needs `webhooks:manage`; at
/// most 10 per organization). The signing secret is in this answer only.
#[utoipa::path(post, path = "/v1/organizations/{id}/webhooks", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateOrgWebhookRequest,
    responses((status = 201, body = CreatedOrgWebhook),
              (status = 400, description = "A malformed URL, pattern or description (`invalid_request`), or a URL the instance may not send to: loopback, private or link-local (`url_not_allowed`).", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "Lacking `webhooks:manage`, or the organization has 10 endpoints (`limit_exceeded`).", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn create_org_webhook(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<CreateOrgWebhookRequest>,
) -> Result<(StatusCode, axum::Json<CreatedOrgWebhook>)> {
    // Authorized before anything is resolved for the caller; the name is resolved outside the
    // write transaction, which is then authorized again.
    enter(&app, &id, false, &caller, &client, Some(MANAGE))
        .await?
        .0
        .commit()
        .await?;
    let url = parse_url(&req.url)?;
    let events = parse_events(&req.events)?;
    let description = crate::rbac::routes::parse_description(req.description)?;
    check_target(&url, app.allow_private_webhooks).await?;
    let (mut tx, _) = enter(&app, &id, true, &caller, &client, Some(MANAGE)).await?;
    app.db.lock(&mut tx, &format!("webhooks:{id}")).await?;
    if super::store::count(&mut tx, &id).await? >= MAX_PER_ORGANIZATION {
        return Err(Error::LimitExceeded(format!(
            "an organization may register at most {MAX_PER_ORGANIZATION} webhook endpoints"
        )));
    }
    let now = app.clock.now();
    let created = OrgEndpoint {
        endpoint: Endpoint {
            id: super::new_id(),
            url: url.to_string(),
            events,
            description,
            organization_id: Some(id.clone()),
        },
        organization_id: id.clone(),
        created_by: Some(caller.id().to_owned()),
        created_at: now,
    };
    super::store::insert(&mut tx, &created).await?;
    let secret =
        hooks::create_secret(&mut tx, app.keys.master(), &created.endpoint.id, now).await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        audited(
            "organization.webhook.created",
            &caller,
            &id,
            &created.endpoint.id,
            &client,
        )
        .data(serde_json::json!({
            "url": created.endpoint.url,
            "events": created.endpoint.events,
            "description": created.endpoint.description,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedOrgWebhook {
            secret: secret.expose_secret().to_owned(),
            webhook: view(&app, created).await?,
        }),
    ))
}

/// The organization's webhook endpoints, oldest first, with their standing and last delivery;
/// a secret's first characters only (needs `webhooks:manage`).
#[utoipa::path(get, path = "/v1/organizations/{id}/webhooks", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = OrgWebhookList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_org_webhooks(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<OrgWebhookList>> {
    let (mut tx, _) = enter(&app, &id, false, &caller, &client, Some(MANAGE)).await?;
    let endpoints = super::store::list(&mut tx, &id).await?;
    tx.commit().await?;
    let mut data = Vec::with_capacity(endpoints.len());
    for e in endpoints {
        data.push(view(&app, e).await?);
    }
    Ok(axum::Json(OrgWebhookList { data }))
}

/// Delete an endpoint (needs `webhooks:manage`): its queued deliveries and its log go with it,
/// and nothing more is sent to it.
#[utoipa::path(delete, path = "/v1/organizations/{id}/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_org_webhook(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, webhook_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let (mut tx, _) = enter(&app, &id, true, &caller, &client, Some(MANAGE)).await?;
    if !super::store::delete(&mut tx, &id, &webhook_id).await? {
        return Err(Error::NotFound("webhook"));
    }
    hooks::forget(&mut tx, &webhook_id).await?;
    audit::record_in(
        &mut tx,
        &app,
        app.clock.now(),
        audited(
            "organization.webhook.deleted",
            &caller,
            &id,
            &webhook_id,
            &client,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace an endpoint's signing secret and show it, once (needs `webhooks:manage`). The
/// previous secret keeps signing for 24 hours.
#[utoipa::path(post, path = "/v1/organizations/{id}/webhooks/{webhook_id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 200, body = RotatedSecret), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn rotate_org_webhook_secret(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, webhook_id)): Path<(String, String)>,
) -> Result<axum::Json<RotatedSecret>> {
    let (mut tx, _) = enter(&app, &id, true, &caller, &client, Some(MANAGE)).await?;
    super::store::find(&mut tx, &id, &webhook_id)
        .await?
        .ok_or(Error::NotFound("webhook"))?;
    let now = app.clock.now();
    let (secret, until) = hooks::rotate_in(
        &mut tx,
        app.keys.master(),
        &webhook_id,
        now,
        now + PREVIOUS_SECRET_SECS,
    )
    .await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        audited(
            "organization.webhook.secret_rotated",
            &caller,
            &id,
            &webhook_id,
            &client,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(RotatedSecret {
        id: webhook_id,
        secret: secret.expose_secret().to_owned(),
        previous_secret_expires_at: until.map(rfc3339),
    }))
}

/// Queue a `webhook.test` event for this endpoint alone (needs `webhooks:manage`), signed and
/// logged like any event.
#[utoipa::path(post, path = "/v1/organizations/{id}/webhooks/{webhook_id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 202, body = TestQueued), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn send_org_webhook_test(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, webhook_id)): Path<(String, String)>,
) -> Result<(StatusCode, axum::Json<TestQueued>)> {
    authorized(&app, &caller, &client, &id, &webhook_id).await?;
    let queued = queue_test(&app, &webhook_id, Some(&id)).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(queued)))
}

/// Enable an endpoint disabled after sustained failure (needs `webhooks:manage`): its queued
/// events are sent, oldest first. A no-op for an enabled endpoint.
#[utoipa::path(post, path = "/v1/organizations/{id}/webhooks/{webhook_id}/enable", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 200, body = OrgWebhook), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enable_org_webhook(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, webhook_id)): Path<(String, String)>,
) -> Result<axum::Json<OrgWebhook>> {
    let endpoint = authorized(&app, &caller, &client, &id, &webhook_id).await?;
    let now = app.clock.now();
    if hooks::standing(&app.db, &webhook_id)
        .await?
        .disabled_at
        .is_some()
    {
        hooks::enable(&app.db, &webhook_id, now).await?;
        audit::record(
            &app,
            now,
            audited(
                "organization.webhook.enabled",
                &caller,
                &id,
                &webhook_id,
                &client,
            ),
        )
        .await?;
    }
    Ok(axum::Json(view(&app, endpoint).await?))
}

/// An endpoint's delivery log, newest first (needs `webhooks:manage`).
#[utoipa::path(get, path = "/v1/organizations/{id}/webhooks/{webhook_id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("webhook_id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = DeliveryList),
        (status = 400, description = "`limit` is not an integer from 1 to 200 (`invalid_request`).", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_org_webhook_deliveries(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, webhook_id)): Path<(String, String)>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<axum::Json<DeliveryList>> {
    authorized(&app, &caller, &client, &id, &webhook_id).await?;
    let limit = page_size(q.limit, 50, 200)?;
    Ok(axum::Json(DeliveryList {
        data: hooks::deliveries(&app.db, &webhook_id, limit).await?,
    }))
}

/// Send an event again, with the same id and payload, to each of the organization's endpoints
/// it went to (needs `webhooks:manage`).
#[utoipa::path(post, path = "/v1/organizations/{id}/webhooks/deliveries/{event_id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path), ("event_id" = String, Path)),
    responses((status = 202, body = Replayed), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "No endpoint of the organization got this event.", body = ErrorBody)))]
async fn replay_org_webhook_event(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, event_id)): Path<(String, String)>,
) -> Result<(StatusCode, axum::Json<Replayed>)> {
    let (mut tx, _) = enter(&app, &id, false, &caller, &client, Some(MANAGE)).await?;
    let own: Vec<String> = super::store::list(&mut tx, &id)
        .await?
        .into_iter()
        .map(|e| e.endpoint.id)
        .collect();
    tx.commit().await?;
    let queued = hooks::replay(&app.db, &event_id, app.clock.now(), |endpoint| {
        own.iter().any(|e| e == endpoint)
    })
    .await?;
    if queued == 0 {
        return Err(Error::NotFound("webhook_event"));
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Replayed { event_id, queued }),
    ))
}

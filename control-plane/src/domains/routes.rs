//! `GET|PUT|DELETE /v1/accounts/{id}/instances/{env}/domain` and
//! `POST /v1/accounts/{id}/instances/{env}/domain/verify`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::DomainView;
use crate::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::http::extract::Json;
use crate::ids::AccountId;
use crate::platform::Caller;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDomainRequest {
    /// A host name such as `auth.customer.com`: not an IP address, not under the gateway's host.
    #[schema(
        min_length = 3,
        max_length = 253,
        pattern = r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$"
    )]
    domain: String,
}

/// The instance's custom domain, its status and the TXT record that verifies it.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/domain", tag = "instances", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, body = DomainView),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account or instance, or the instance has no domain (`not_found`).", body = ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
) -> Result<axum::Json<DomainView>> {
    let (_, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:read").await?;
    let domain = super::store::of_instance(&app.db, &instance.id)
        .await?
        .ok_or(Error::NotFound("domain"))?;
    Ok(axum::Json(DomainView::of(&app, &domain)))
}

/// Sets the instance's custom domain (pending until its TXT record is verified). The same domain
/// again changes nothing; another one replaces it.
#[utoipa::path(put, path = "/v1/accounts/{id}/instances/{env}/domain", tag = "instances",
    request_body = SetDomainRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, body = DomainView),
        (status = 400, description = "`env` is neither `live` nor `test`, or the domain is not a host name, is an IP address or is under the gateway's host (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The plan does not include custom domains (`plan_feature`).", body = ErrorBody),
        (status = 404, description = "No such account or instance (`not_found`).", body = ErrorBody),
        (status = 409, description = "Another instance has the domain (`domain_taken`).", body = ErrorBody)))]
pub async fn set(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Json(request): Json<SetDomainRequest>,
) -> Result<axum::Json<DomainView>> {
    let (account, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:manage").await?;
    let domain = super::set(&app, &account, &instance, &request.domain, &caller.user_id).await?;
    Ok(axum::Json(DomainView::of(&app, &domain)))
}

/// Looks up the domain's TXT record; when it holds the token the domain is verified, the
/// gateway routes it and the instance's issuer becomes the domain.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/domain/verify", tag = "instances", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, body = DomainView),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The plan does not include custom domains (`plan_feature`).", body = ErrorBody),
        (status = 404, description = "No such account or instance, or the instance has no domain (`not_found`).", body = ErrorBody),
        (status = 409, description = "The TXT record is missing or holds another value; the message names the record to create (`domain_not_verified`).", body = ErrorBody)))]
pub async fn verify(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
) -> Result<axum::Json<DomainView>> {
    let (account, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:manage").await?;
    let domain = super::verify(&app, &account, &instance, &caller.user_id).await?;
    Ok(axum::Json(DomainView::of(&app, &domain)))
}

/// Removes the instance's custom domain: the gateway stops routing it and the issuer goes back
/// to the instance's address on the gateway.
#[utoipa::path(delete, path = "/v1/accounts/{id}/instances/{env}/domain", tag = "instances", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 204, description = "Removed."),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account or instance, or the instance has no domain (`not_found`).", body = ErrorBody)))]
pub async fn remove(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
) -> Result<StatusCode> {
    let (account, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:manage").await?;
    super::remove(&app, &account, &instance, &caller.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(get, set, remove))
        .routes(routes!(verify))
}

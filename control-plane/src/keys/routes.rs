//! `GET/POST /v1/accounts/{id}/keys`, `POST .../keys/{key_id}/rotate`, `DELETE .../keys/{key_id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiKey, DEFAULT_GRACE_SECS, Kind, NewKey};
use crate::AppState;
use crate::error::{ErrorBody, Result};
use crate::http::extract::Json;
use crate::ids::AccountId;
use crate::platform::Caller;
use crate::provisioner::Environment;

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyList {
    data: Vec<ApiKey>,
}

/// The account's API keys (never their values).
#[utoipa::path(get, path = "/v1/accounts/{id}/keys", tag = "keys", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 200, body = KeyList),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> Result<axum::Json<KeyList>> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:read").await?;
    Ok(axum::Json(KeyList {
        data: super::list(&app, &caller, &account).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// 1 to 100 characters (surrounding spaces are trimmed).
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    name: String,
    environment: Environment,
    kind: Kind,
}

/// Creates a key for the account's live or test instance; its value is in this answer only.
/// A secret key needs a recent sign-in.
#[utoipa::path(post, path = "/v1/accounts/{id}/keys", tag = "keys", request_body = CreateKeyRequest,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 201, body = NewKey),
        (status = 400, description = "An invalid name (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "A secret key without a recent sign-in (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody),
        (status = 409, description = "The account has no instance of that environment (`conflict`).", body = ErrorBody)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(request): Json<CreateKeyRequest>,
) -> Result<(StatusCode, axum::Json<NewKey>)> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    let key = super::create_for_account(
        &app,
        &account.id,
        &caller,
        &request.name,
        request.environment,
        request.kind,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(key)))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the old key keeps working (0 = stop now); default one day, at most 30 days.
    #[schema(minimum = 0, maximum = 2_592_000)]
    #[serde(
        default,
        deserialize_with = "authstack_instance::http::optional_integer"
    )]
    grace_period_secs: Option<i64>,
}

/// Replaces a key by a new one; the old one keeps working for the grace period. The body is
/// optional.
#[utoipa::path(post, path = "/v1/accounts/{id}/keys/{key_id}/rotate", tag = "keys",
    request_body(content = Option<RotateRequest>, content_type = "application/json", description = "Optional: an empty body is `{}`."),
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("key_id" = String, Path, description = "The key id (`key_…`).")),
    responses((status = 201, body = NewKey),
        (status = 400, description = "The body is not a rotate request, or the grace period is out of range (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "A secret key without a recent sign-in (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account or key (`not_found`).", body = ErrorBody),
        (status = 409, description = "The key is revoked or already rotated (`conflict`).", body = ErrorBody)))]
pub async fn rotate(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(AccountId, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, axum::Json<NewKey>)> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    // The body is optional: an empty one means the default grace period.
    let request: RotateRequest = crate::http::extract::optional_json(&body)?;
    let grace = request.grace_period_secs.unwrap_or(DEFAULT_GRACE_SECS);
    let new = super::rotate(&app, &account.id, &caller, &key_id, grace).await?;
    Ok((StatusCode::CREATED, axum::Json(new)))
}

/// Revokes a key at once.
#[utoipa::path(delete, path = "/v1/accounts/{id}/keys/{key_id}", tag = "keys", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("key_id" = String, Path, description = "The key id (`key_…`).")),
    responses((status = 204, description = "Revoked (or already revoked)."),
        (status = 404, description = "No such account or key (`not_found`).", body = ErrorBody)))]
pub async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(AccountId, String)>,
) -> Result<StatusCode> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    super::revoke(&app, &account.id, &caller, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(rotate))
        .routes(routes!(revoke))
}

//! `GET/POST /v1/accounts/{id}/keys`, `POST .../keys/{key_id}/rotate`, `DELETE .../keys/{key_id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiKey, DEFAULT_GRACE_SECS, Kind, NewKey};
use crate::AppState;
use crate::error::{Error, Json, Result};
use crate::platform::Caller;
use crate::provisioner::Environment;

#[derive(Serialize)]
pub struct KeyList {
    data: Vec<ApiKey>,
}

pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<KeyList>> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:read").await?;
    Ok(axum::Json(KeyList {
        data: super::list(&app, &caller, &account).await?,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    name: String,
    environment: Environment,
    kind: Kind,
}

pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the old key keeps working (0 = stop now); default one day, at most 30 days.
    grace_period_secs: Option<i64>,
}

pub async fn rotate(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, axum::Json<NewKey>)> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    // The body is optional: an empty one means the default grace period.
    let request: RotateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RotateRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?
    };
    let grace = request.grace_period_secs.unwrap_or(DEFAULT_GRACE_SECS);
    let new = super::rotate(&app, &account.id, &caller, &key_id, grace).await?;
    Ok((StatusCode::CREATED, axum::Json(new)))
}

pub async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    super::revoke(&app, &account.id, &caller, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's routes.
pub fn router() -> axum::Router<crate::AppState> {
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route("/v1/accounts/{id}/keys", get(list).post(create))
        .route("/v1/accounts/{id}/keys/{key_id}/rotate", post(rotate))
        .route("/v1/accounts/{id}/keys/{key_id}", delete(revoke))
}

//! `/v1/me`: the signed-in user's own account.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{UserView, parse_metadata, parse_name, store};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Authenticated, Client, Json};
use crate::passwords::Verdict;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me, update_me, delete_me))
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn get_me(State(app): State<AppState>, auth: Authenticated) -> axum::Json<UserView> {
    axum::Json(auth.user.view(app.clock.now()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// A new display name; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    name: Option<Option<String>>,
    /// Replaces the user's metadata object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

/// Update the signed-in user's name or metadata.
#[utoipa::path(patch, path = "/v1/me", tag = "me", request_body = UpdateMeRequest, security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn update_me(
    State(app): State<AppState>,
    auth: Authenticated,
    Json(req): Json<UpdateMeRequest>,
) -> Result<axum::Json<UserView>> {
    let mut user = auth.user;
    if let Some(name) = req.name {
        user.name = name.as_deref().map(parse_name).transpose()?;
    }
    if let Some(metadata) = req.metadata {
        user.metadata = parse_metadata(metadata)?;
    }
    user.updated_at = app.clock.now();
    store::update(&app.db, &user).await?;
    Ok(axum::Json(user.view(app.clock.now())))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMeRequest {
    /// Required when the account has a password.
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

/// Delete the signed-in user's account and every session. Requires the password, if any.
#[utoipa::path(delete, path = "/v1/me", tag = "me", request_body(content = Option<DeleteMeRequest>), security(("bearer" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_me(
    State(app): State<AppState>,
    auth: Authenticated,
    client: Client,
    body: axum::body::Bytes,
) -> Result<StatusCode> {
    let req: DeleteMeRequest = crate::http::optional_json(&body)?;
    if let Some(stored) = auth.user.password_hash.as_deref() {
        let password = req
            .password
            .ok_or_else(|| Error::invalid("password is required to delete the account"))?;
        if app.passwords.verify(&password, Some(stored)).await? == Verdict::Mismatch {
            return Err(Error::InvalidCredentials);
        }
    }
    crate::orgs::ensure_not_sole_owner(&app, &auth.user.id).await?;
    store::delete(&app.db, &auth.user.id).await?;
    audit::record(
        &app,
        app.clock.now(),
        AuditEvent::new("user.deleted")
            .actor(&auth.user.id)
            .target(&auth.user.id)
            .client(&client),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/v1/me/sessions`: the signed-in user's devices.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{SessionView, store};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Authenticated, Client};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub data: Vec<SessionView>,
}

/// The signed-in user's live sessions, newest first; `current` marks this one.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody)))]
async fn list_sessions(
    State(app): State<AppState>,
    auth: Authenticated,
) -> Result<axum::Json<SessionList>> {
    let sessions = store::list_for_user(&app.db, &auth.user.id, app.clock.now()).await?;
    Ok(axum::Json(SessionList {
        data: sessions.iter().map(|s| s.view(&auth.session.id)).collect(),
    }))
}

/// End one of the signed-in user's sessions (sign a device out).
#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_session(
    State(app): State<AppState>,
    auth: Authenticated,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let now = app.clock.now();
    let session = store::find(&app.db, &id)
        .await?
        .filter(|s| s.user_id == auth.user.id && s.is_live(now))
        .ok_or(Error::NotFound("session"))?;
    store::revoke(&app.db, &session.id, "ended_by_user", now).await?;
    audit::record(
        &app,
        now,
        AuditEvent::new("auth.session_ended")
            .actor(&auth.user.id)
            .target(&session.id)
            .client(&client),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

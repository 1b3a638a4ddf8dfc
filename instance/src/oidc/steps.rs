//! What the pages of the steps after sign-in (consent, choose organization) share: a flow
//! started at the step for a signed-in browser, found again only by that browser, and the
//! application its authorization request is for.

use axum::http::HeaderMap;
use secrecy::ExposeSecret;

use super::{AuthorizationRequest, issuer};
use crate::AppState;
use crate::applications::{self, Application};
use crate::error::{Error, Result};
use crate::flow::{self, Flow, State as FlowState};
use crate::sessions::{Session, browser};

/// The application `request` is for.
pub(super) async fn client_of(
    app: &AppState,
    request: &AuthorizationRequest,
) -> Result<Application> {
    applications::store::find(&app.db, &request.client_id)
        .await?
        .ok_or(Error::NotFound("application"))
}

/// Starts a flow at `step` (built from the session's id) for `request` in `session`; returns
/// the address of its `page`.
pub(super) async fn ask(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
    step: fn(String) -> FlowState,
    page: &str,
) -> Result<String> {
    let request_json = serde_json::to_value(request).map_err(anyhow::Error::from)?;
    let flow = flow::start_step(app, request_json, step(session.id.clone())).await?;
    Ok(format!(
        "{}/{page}?flow={}",
        issuer(app),
        flow.expose_secret()
    ))
}

/// The flow `id` with its request, if it waits at the step `session_of` recognises (naming
/// the sign-in it is for) and this browser holds that sign-in.
pub(super) async fn load(
    app: &AppState,
    id: &str,
    headers: &HeaderMap,
    session_of: fn(&FlowState) -> Option<&String>,
) -> Result<Option<(Flow, AuthorizationRequest, Session)>> {
    let Some(flow) = flow::load(app, id).await? else {
        return Ok(None);
    };
    let Some(session_id) = session_of(&flow.state) else {
        return Ok(None);
    };
    let Some(session) = browser::current(app, headers)
        .await?
        .filter(|s| s.id == *session_id)
    else {
        return Ok(None);
    };
    let request: AuthorizationRequest =
        serde_json::from_value(flow.request.clone()).map_err(anyhow::Error::from)?;
    Ok(Some((flow, request, session)))
}

//! `POST /oauth2/revoke` (RFC 7009) and `POST /oauth2/introspect` (RFC 7662).
//!
//! Both see only the calling application's own tokens: another application's token, an unknown
//! or malformed one are all the same to them (revocation answers `200` and does nothing,
//! introspection `{"active": false}`), so neither tells a client anything about tokens it does
//! not hold. Revoking either kind of token revokes the grant it belongs to — its refresh family
//! and every access token naming it — and leaves the user's sign-in and other applications be.
//! A machine application's access token (`client_credentials`) has no grant behind it: it is
//! introspected, but revoking it does nothing (it lives `tokens.access_token_ttl_secs`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::client_auth::{authenticate, parse_form};
use super::client_credentials::{MachineClaims, live_machine_token};
use super::error::{OAuthError, no_store};
use super::{LiveAccess, issuer, live_access_token};
use crate::AppState;
use crate::applications::Application;
use crate::audit::{self, AuditEvent};
use crate::http::Client;
use crate::sessions::{self, Holder, Session};

/// Refresh tokens start with this; anything else is read as an access token.
const REFRESH_PREFIX: &str = "rt_";

pub async fn revoke(
    State(app): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut caller = None;
    let mut response = match revoke_token(&app, &client, &headers, &body, &mut caller).await {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(err) => err.into_response(),
    };
    super::cors::allow(&mut response, &headers, caller.as_ref());
    response
}

/// Revokes the token's grant; `caller` is the application once it is authenticated (see
/// [`super::cors`]).
async fn revoke_token(
    app: &AppState,
    http_client: &Client,
    headers: &HeaderMap,
    body: &[u8],
    caller: &mut Option<Application>,
) -> Result<(), OAuthError> {
    let params = parse_form(headers, body)?;
    let application = &*caller.insert(authenticate(app, headers, &params).await?);
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // `token_type_hint` only speeds up a lookup (RFC 7009 §2.1); the prefix tells them apart.
    let grant = if token.starts_with(REFRESH_PREFIX) {
        sessions::find_by_refresh_token(app, token, Holder::Application(&application.id))
            .await?
            .map(|(grant, _)| grant)
    } else {
        live_access_token(app, token)
            .await?
            .filter(|live| live.claims.client_id == application.id)
            .map(|live| live.grant)
    };
    let Some(grant) = grant else {
        return Ok(());
    };
    let now = app.clock.now();
    if sessions::revoke_grant(&app.db, &grant.id, "revoked_by_client", now).await? {
        audit::record(
            app,
            now,
            AuditEvent::new("oauth.grant_revoked")
                .actor(&grant.user_id)
                .target(&grant.id)
                .client(http_client),
        )
        .await?;
    }
    Ok(())
}

/// An introspection answer (RFC 7662 §2.2); only `active` when the token is not.
#[derive(Serialize, Default)]
struct Introspection {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
}

pub async fn introspect(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match introspection(&app, &headers, &body).await {
        Ok(answer) => {
            let mut response = axum::Json(answer).into_response();
            no_store(&mut response);
            response
        }
        Err(err) => err.into_response(),
    }
}

async fn introspection(
    app: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Introspection, OAuthError> {
    let params = parse_form(headers, body)?;
    let application = authenticate(app, headers, &params).await?;
    // A public client cannot keep the credentials introspection needs (RFC 7662 §4).
    if !application.kind.is_confidential() {
        return Err(OAuthError::unauthorized_client(
            "only confidential applications may introspect tokens",
        ));
    }
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let now = app.clock.now();
    if token.starts_with(REFRESH_PREFIX) {
        let found =
            sessions::find_by_refresh_token(app, token, Holder::Application(&application.id))
                .await?;
        return Ok(match found {
            Some((grant, true)) if grant.is_live(now) => refresh_answer(app, &grant),
            _ => Introspection::default(),
        });
    }
    if let Some(live) = live_access_token(app, token).await? {
        return Ok(match live.claims.client_id == application.id {
            true => access_answer(live),
            false => Introspection::default(),
        });
    }
    Ok(match live_machine_token(app, token).await? {
        Some(claims) if claims.client_id == application.id => machine_answer(claims),
        _ => Introspection::default(),
    })
}

/// A machine's token: no user, no grant, so no `auth_time` or `sid`.
fn machine_answer(c: MachineClaims) -> Introspection {
    Introspection {
        active: true,
        token_type: Some("Bearer"),
        scope: Some(c.scope),
        client_id: Some(c.client_id),
        sub: Some(c.sub),
        aud: Some(c.aud),
        iss: Some(c.iss),
        exp: Some(c.exp),
        iat: Some(c.iat),
        jti: Some(c.jti),
        ..Introspection::default()
    }
}

fn access_answer(live: LiveAccess) -> Introspection {
    let c = live.claims;
    Introspection {
        active: true,
        token_type: Some("Bearer"),
        scope: Some(c.scope),
        client_id: Some(c.client_id),
        sub: Some(c.sub),
        aud: Some(c.aud),
        iss: Some(c.iss),
        exp: Some(c.exp),
        iat: Some(c.iat),
        auth_time: Some(c.auth_time),
        sid: Some(c.sid),
        jti: Some(c.jti),
    }
}

fn refresh_answer(app: &AppState, grant: &Session) -> Introspection {
    let (client_id, scope) = grant
        .grant
        .as_ref()
        .map(|g| (g.client_id.clone(), g.scope.clone()))
        .unzip();
    Introspection {
        active: true,
        token_type: Some("refresh_token"),
        scope,
        aud: client_id.clone(),
        client_id,
        sub: Some(grant.user_id.clone()),
        iss: Some(issuer(app)),
        exp: Some(grant.expires_at),
        iat: Some(grant.last_active_at),
        sid: Some(grant.id.clone()),
        ..Introspection::default()
    }
}

//! `POST /oauth2/token` (RFC 6749 §3.2): the `authorization_code` and `refresh_token` grants,
//! and for machine applications `client_credentials` ([`super::client_credentials`]).
//!
//! Redeeming a code creates the application's grant: a session under the sign-in that issued
//! the code, with its own refresh-token family (rotated on every use; a rotated token presented
//! again revokes the grant). Access tokens name the grant in `sid`; ID tokens name the sign-in,
//! which is what RP-initiated logout ends.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::client_auth::{Params, authenticate, parse_form};
use super::error::{OAuthError, no_store};
use super::store::{self, Redeemed};
use super::{AccessClaims, IdClaims, UserClaims, issuer, pkce_matches};
use crate::AppState;
use crate::applications::Application;
use crate::crypto::sha256_hex;
use crate::error::Error;
use crate::http::Client;
use crate::sessions::{self, Holder, IssuedRefresh, Session};
use crate::users::{User, store as users};

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    id_token: String,
    scope: String,
}

pub async fn token(
    State(app): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut caller = None;
    let mut response = match exchange(&app, &client, &headers, &body, &mut caller).await {
        Ok(answer) => {
            let mut response = answer.into_response();
            no_store(&mut response);
            response
        }
        Err(err) => err.into_response(),
    };
    super::cors::allow(&mut response, &headers, caller.as_ref());
    response
}

/// Answers the token request; `caller` is the application once it is authenticated, so that
/// its browser origins may read the answer, errors included.
async fn exchange(
    app: &AppState,
    client: &Client,
    headers: &HeaderMap,
    body: &[u8],
    caller: &mut Option<Application>,
) -> Result<Response, OAuthError> {
    let params = parse_form(headers, body)?;
    let grant_type = match params.get("grant_type").map(String::as_str) {
        None | Some("") => return Err(OAuthError::invalid_request("grant_type is required")),
        Some(kind @ ("authorization_code" | "refresh_token" | "client_credentials")) => {
            kind.to_owned()
        }
        Some(_) => return Err(OAuthError::unsupported_grant_type()),
    };
    let application = &*caller.insert(authenticate(app, headers, &params).await?);
    if grant_type == "client_credentials" {
        let answer = super::client_credentials::grant(app, application, &params)?;
        return Ok(axum::Json(answer).into_response());
    }
    // A machine application signs no user in, so it holds no code or refresh token.
    if application.kind.is_machine() {
        return Err(OAuthError::unauthorized_client(
            "a machine application may only use client_credentials",
        ));
    }
    let answer = if grant_type == "authorization_code" {
        authorization_code(app, application, &params).await?
    } else {
        refresh_token(app, application, client, &params).await?
    };
    Ok(axum::Json(answer).into_response())
}

const INVALID_CODE: &str = "the authorization code is invalid, expired or used";

async fn authorization_code(
    app: &AppState,
    client: &Application,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    let verifier = params.get("code_verifier");
    if code.len() > 100 {
        return Err(OAuthError::invalid_grant(INVALID_CODE));
    }
    let now = app.clock.now();
    let grant_id = sessions::new_id();
    let code = match store::redeem(&app.db, &sha256_hex(code), &grant_id, now).await? {
        Redeemed::First(code) => code,
        Redeemed::Again(code) => {
            // A replayed code: whoever redeemed it first may be an attacker. Revoke the grant
            // that redemption created (and so every token issued from it).
            let target = code.grant_id.as_deref().unwrap_or(&code.session_id);
            if sessions::revoke_grant(&app.db, target, "authorization_code_reuse", now).await? {
                tracing::warn!(client_id = %code.client_id, session_id = %target,
                    "authorization code reused; grant revoked");
            }
            return Err(OAuthError::invalid_grant(INVALID_CODE));
        }
        Redeemed::Unknown => return Err(OAuthError::invalid_grant(INVALID_CODE)),
    };
    if code.expires_at <= now || code.client_id != client.id || code.redirect_uri != *redirect_uri {
        return Err(OAuthError::invalid_grant(INVALID_CODE));
    }
    let pkce_ok = match (&code.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => pkce_matches(challenge, verifier),
        (None, None) => true,
        // A verifier without a challenge is refused too (RFC 9700 §2.1.1: no PKCE downgrade).
        _ => false,
    };
    if !pkce_ok {
        return Err(OAuthError::invalid_grant(
            "the code_verifier does not match",
        ));
    }
    let sign_in = live_session(app, &code.session_id).await?;
    let user = live_user(app, &sign_in.user_id).await?;
    let (grant, refresh) = sessions::grant(
        app,
        &sign_in,
        &grant_id,
        &client.id,
        &code.scope,
        code.org_id.as_deref(),
    )
    .await?;
    let org = sessions::org_context(app, &grant).await?;
    mint(
        app,
        org,
        Minted {
            client,
            user: &user,
            grant: &grant,
            sign_in: &sign_in,
            scope: &code.scope,
            nonce: code.nonce.as_deref(),
            refresh,
        },
    )
}

async fn refresh_token(
    app: &AppState,
    client: &Application,
    http_client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let presented = params
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    // The scope is checked before the token is rotated, so that a refused request does not
    // use it up.
    let granted = sessions::find_by_refresh_token(app, presented, Holder::Application(&client.id))
        .await?
        .and_then(|(session, _)| session.grant)
        .map(|g| g.scope)
        .unwrap_or_default();
    // A narrower scope may be asked for (RFC 6749 §6); the grant keeps what the user granted.
    let scope = match params.get("scope").filter(|s| !s.is_empty()) {
        None => None,
        Some(asked) => {
            let granted: Vec<&str> = granted.split(' ').collect();
            let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "{extra} was not granted to this application"
                )));
            }
            Some(
                granted
                    .iter()
                    .filter(|s| asked.contains(s))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }
    };
    let rotated = match sessions::rotate(
        app,
        presented,
        Holder::Application(&client.id),
        http_client,
        None,
    )
    .await
    {
        Ok(rotated) => rotated,
        Err(Error::InvalidGrant(why)) => return Err(OAuthError::invalid_grant(why)),
        Err(Error::UserBanned) => {
            return Err(OAuthError::invalid_grant("the user is banned"));
        }
        Err(err) => return Err(err.into()),
    };
    let scope = scope.unwrap_or_else(|| {
        rotated
            .session
            .grant
            .as_ref()
            .map(|g| g.scope.clone())
            .unwrap_or_default()
    });
    let parent = rotated
        .session
        .grant
        .as_ref()
        .map(|g| g.parent_id.clone())
        .unwrap_or_default();
    let sign_in = live_session(app, &parent).await?;
    // The organization as it is now: a changed role shows, an ended membership drops it.
    let org = sessions::org_context(app, &rotated.session).await?;
    mint(
        app,
        org,
        Minted {
            client,
            user: &rotated.user,
            grant: &rotated.session,
            sign_in: &sign_in,
            scope: &scope,
            nonce: None,
            refresh: rotated.refresh,
        },
    )
}

async fn live_session(app: &AppState, id: &str) -> Result<Session, OAuthError> {
    let now = app.clock.now();
    sessions::find(app, id)
        .await?
        .filter(|s| s.is_live(now))
        .ok_or_else(|| OAuthError::invalid_grant("the sign-in has ended"))
}

async fn live_user(app: &AppState, id: &str) -> Result<User, OAuthError> {
    let now = app.clock.now();
    users::find(&app.db, id)
        .await?
        .filter(|u| !u.is_banned(now))
        .ok_or_else(|| OAuthError::invalid_grant(INVALID_CODE))
}

/// What a token response is made of.
struct Minted<'a> {
    client: &'a Application,
    user: &'a User,
    /// The application's grant: the access token's `sid`.
    grant: &'a Session,
    /// The sign-in the grant lives under: `auth_time`, and the ID token's `sid`.
    sign_in: &'a Session,
    scope: &'a str,
    nonce: Option<&'a str>,
    refresh: IssuedRefresh,
}

/// Signs the access token (audience: the client) and the ID token.
fn mint(
    app: &AppState,
    org: Option<crate::tokens::OrgContext>,
    m: Minted<'_>,
) -> Result<TokenResponse, OAuthError> {
    let now = app.clock.now();
    let ttl = m.client.access_token_ttl(&app.config.load());
    let iss = issuer(app);
    let access = AccessClaims {
        iss: iss.clone(),
        aud: m.client.id.clone(),
        client_id: m.client.id.clone(),
        sub: m.user.id.clone(),
        sid: m.grant.id.clone(),
        scope: m.scope.to_owned(),
        iat: now,
        exp: now + ttl,
        auth_time: m.sign_in.created_at,
        jti: uuid::Uuid::now_v7().simple().to_string(),
        amr: m.sign_in.amr.clone(),
        org: org.clone(),
    };
    let access_token = app.keys.sign(&access)?;
    let id = IdClaims {
        iss,
        sub: m.user.id.clone(),
        aud: m.client.id.clone(),
        exp: now + ttl,
        iat: now,
        auth_time: m.sign_in.created_at,
        nonce: m.nonce.map(str::to_owned),
        at_hash: super::at_hash(&access_token),
        amr: m.sign_in.amr.clone(),
        sid: m.sign_in.id.clone(),
        org_id: org.as_ref().map(|o| o.org_id.clone()),
        org_slug: org.map(|o| o.org_slug),
        profile: UserClaims::for_scopes(m.user, |s| access.has_scope(s)),
    };
    Ok(TokenResponse {
        id_token: app.keys.sign(&id)?,
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: m.refresh.expose().to_owned(),
        scope: m.scope.to_owned(),
    })
}

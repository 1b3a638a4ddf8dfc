//! `POST /oauth2/token` (RFC 6749 §3.2): the `authorization_code` grant. Clients authenticate
//! with `client_secret_basic`, `client_secret_post`, or — public clients only — `none`, where
//! PKCE stands in for the secret.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::error::{OAuthError, no_store};
use super::store::{self, Redeemed};
use super::{AccessClaims, IdClaims, UserClaims, issuer, pkce_matches};
use crate::AppState;
use crate::applications::{self, Application};
use crate::crypto::sha256_hex;
use crate::users::store as users;

type Params = HashMap<String, String>;

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    id_token: String,
    scope: String,
}

pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&app, &headers, &body).await {
        Ok(answer) => {
            let mut response = axum::Json(answer).into_response();
            no_store(&mut response);
            response
        }
        Err(err) => err.into_response(),
    }
}

async fn exchange(
    app: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let params = parse_form(headers, body)?;
    match params.get("grant_type").map(String::as_str) {
        None | Some("") => return Err(OAuthError::invalid_request("grant_type is required")),
        Some("authorization_code") => {}
        Some(_) => return Err(OAuthError::unsupported_grant_type()),
    }
    let client = authenticate(app, headers, &params).await?;
    authorization_code(app, &client, &params).await
}

/// The form body, each parameter at most once (RFC 6749 §3.2).
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut params = Params::new();
    for (name, value) in form_urlencoded::parse(body) {
        if params
            .insert(name.to_string(), value.into_owned())
            .is_some()
        {
            return Err(OAuthError::invalid_request(format!(
                "{name} is given more than once"
            )));
        }
    }
    Ok(params)
}

/// HTTP Basic credentials: `client_id:client_secret`, each form-urlencoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), OAuthError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let parsed = (|| {
        let value = value.to_str().ok()?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        Some((form_decode(id)?, form_decode(secret)?))
    })();
    Some(parsed.ok_or(OAuthError::invalid_client(true)))
}

fn form_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Authenticates the client by exactly one method; every failure is `invalid_client`.
async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Application, OAuthError> {
    let basic = basic_credentials(headers).transpose()?;
    let posted_secret = params.get("client_secret");
    let is_basic = basic.is_some();
    let (client_id, secret) = match (basic, posted_secret) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not both Basic and client_secret",
            ));
        }
        (Some((id, secret)), None) => {
            if params.get("client_id").is_some_and(|posted| *posted != id) {
                return Err(OAuthError::invalid_client(true));
            }
            (id, Some(secret))
        }
        (None, secret) => match params.get("client_id") {
            Some(id) => (id.clone(), secret.cloned()),
            None => return Err(OAuthError::invalid_client(false)),
        },
    };
    let client = applications::store::find(&app.db, &client_id)
        .await?
        .ok_or(OAuthError::invalid_client(is_basic))?;
    let authenticated = match (&secret, client.kind.is_confidential()) {
        (Some(secret), true) => client.secret_matches(secret),
        // A public client has no secret to present; a confidential one must present it.
        (None, false) => true,
        _ => false,
    };
    if !authenticated {
        return Err(OAuthError::invalid_client(is_basic));
    }
    Ok(client)
}

async fn authorization_code(
    app: &AppState,
    client: &Application,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    const INVALID: &str = "the authorization code is invalid, expired or used";
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    let verifier = params.get("code_verifier");
    if code.len() > 100 {
        return Err(OAuthError::invalid_grant(INVALID));
    }
    let now = app.clock.now();
    let code = match store::redeem(&app.db, &sha256_hex(code), now).await? {
        Redeemed::First(code) => code,
        Redeemed::Again(code) => {
            // A replayed code: whoever redeemed it first may be an attacker. End the session
            // (and so every token issued from it).
            if crate::sessions::revoke(&app.db, &code.session_id, "authorization_code_reuse", now)
                .await?
            {
                tracing::warn!(client_id = %code.client_id, session_id = %code.session_id,
                    "authorization code reused; session revoked");
            }
            return Err(OAuthError::invalid_grant(INVALID));
        }
        Redeemed::Unknown => return Err(OAuthError::invalid_grant(INVALID)),
    };
    if code.expires_at <= now || code.client_id != client.id || code.redirect_uri != *redirect_uri {
        return Err(OAuthError::invalid_grant(INVALID));
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
    let session = crate::sessions::find(app, &code.session_id)
        .await?
        .filter(|s| s.is_live(now))
        .ok_or_else(|| OAuthError::invalid_grant(INVALID))?;
    let user = users::find(&app.db, &session.user_id)
        .await?
        .filter(|u| !u.is_banned(now))
        .ok_or_else(|| OAuthError::invalid_grant(INVALID))?;
    let ttl = app.config.load().tokens.access_token_ttl_secs as i64;
    let iss = issuer(app);
    let access = AccessClaims {
        iss: iss.clone(),
        aud: client.id.clone(),
        client_id: client.id.clone(),
        sub: user.id.clone(),
        sid: session.id.clone(),
        scope: code.scope.clone(),
        iat: now,
        exp: now + ttl,
        auth_time: session.created_at,
        jti: uuid::Uuid::now_v7().simple().to_string(),
        amr: session.amr.clone(),
    };
    let access_token = app.keys.sign(&access)?;
    let id = IdClaims {
        iss,
        sub: user.id.clone(),
        aud: client.id.clone(),
        exp: now + ttl,
        iat: now,
        auth_time: session.created_at,
        nonce: code.nonce.clone(),
        at_hash: super::at_hash(&access_token),
        amr: session.amr.clone(),
        sid: session.id.clone(),
        profile: UserClaims::for_scopes(&user, |s| access.has_scope(s)),
    };
    Ok(TokenResponse {
        id_token: app.keys.sign(&id)?,
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: code.scope,
    })
}

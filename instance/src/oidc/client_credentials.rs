//! The `client_credentials` grant (RFC 6749 §4.4): a `machine` application, authenticated by
//! its secret, gets an access token for itself — no user, no refresh token, no ID token.
//!
//! What it is granted is decided against live state on every request: the application as it
//! is registered now (a deleted one cannot authenticate), and of its permissions only those
//! still in the permission catalogue. `scope` narrows that; asking for anything else is
//! `invalid_scope`.
//!
//! The token is a JWT signed like the instance's other application tokens, with the same
//! audience they have (the application's client id) and the same lifetime
//! (`tokens.access_token_ttl_secs`, which is also how long a retired signing key stays
//! published). Its `sub` is the client id, which is what marks it as a machine's
//! ([`crate::tokens::is_machine`]): every endpoint that acts for a user refuses it.

use serde::{Deserialize, Serialize};

use super::client_auth::Params;
use super::error::OAuthError;
use super::issuer;
use crate::AppState;
use crate::applications::{Application, store as applications};

/// The claims of a token minted by `client_credentials`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MachineClaims {
    pub iss: String,
    /// The application's client id, as in the tokens of applications that sign users in.
    pub aud: String,
    /// The client id again: the application acts for itself (RFC 9068 §2.2).
    pub sub: String,
    pub client_id: String,
    /// The granted permissions, space-separated (RFC 9068 §2.2.3).
    pub scope: String,
    /// The same, as the list user tokens carry their organization permissions in.
    pub permissions: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// The token response: no refresh token (the client authenticates again), no ID token.
#[derive(Serialize)]
pub struct MachineTokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    scope: String,
}

/// Answers a `client_credentials` request by an authenticated `client`.
pub fn grant(
    app: &AppState,
    client: &Application,
    params: &Params,
) -> Result<MachineTokenResponse, OAuthError> {
    if !client.kind.is_machine() {
        return Err(OAuthError::unauthorized_client(
            "only machine applications may use client_credentials",
        ));
    }
    let grantable: Vec<&str> = client
        .permissions
        .iter()
        .map(String::as_str)
        .filter(|p| app.rbac.contains(p))
        .collect();
    let granted = match params.get("scope").filter(|s| !s.is_empty()) {
        None => grantable,
        Some(asked) => {
            let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if let Some(extra) = asked.iter().find(|s| !grantable.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "{} is not a permission of this application",
                    extra.chars().take(100).collect::<String>()
                )));
            }
            grantable
                .into_iter()
                .filter(|p| asked.contains(p))
                .collect()
        }
    };
    let now = app.clock.now();
    let ttl = client.access_token_ttl(&app.config.load());
    let scope = granted.join(" ");
    let claims = MachineClaims {
        iss: issuer(app),
        aud: client.id.clone(),
        sub: client.id.clone(),
        client_id: client.id.clone(),
        scope: scope.clone(),
        permissions: granted.iter().map(|p| (*p).to_owned()).collect(),
        iat: now,
        exp: now + ttl,
        jti: uuid::Uuid::now_v7().simple().to_string(),
    };
    let access_token = app.keys.sign(&claims)?;
    // A token is minted on every call (services ask every few minutes, on every replica): a
    // counter, not an audit row each; the audit log records who registered and changed the
    // application and when its secret was rotated.
    metrics::counter!("authstack_machine_tokens_total").increment(1);
    Ok(MachineTokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope,
    })
}

/// A machine token this provider minted that is still good: signature, issuer and expiry,
/// and its application still registered as a machine. `None` for any failure.
pub async fn live_machine_token(
    app: &AppState,
    token: &str,
) -> crate::error::Result<Option<MachineClaims>> {
    let Ok(claims) = crate::tokens::verify_signed::<serde_json::Value>(app, token, None).await
    else {
        return Ok(None);
    };
    if !crate::tokens::is_machine(&claims) {
        return Ok(None);
    }
    let Ok(claims) = serde_json::from_value::<MachineClaims>(claims) else {
        return Ok(None);
    };
    if claims.aud != claims.client_id {
        return Ok(None);
    }
    let registered = applications::find(&app.db, &claims.client_id).await?;
    Ok(registered.filter(|a| a.kind.is_machine()).map(|_| claims))
}

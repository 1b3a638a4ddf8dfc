//! Client authentication at the token, revocation and introspection endpoints (RFC 6749
//! §2.3.1): `client_secret_basic`, `client_secret_post`, or — public clients only — `none`,
//! where the client only names itself. Every failure is `invalid_client`.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::OAuthError;
use crate::AppState;
use crate::applications::{self, Application};

pub type Params = HashMap<String, String>;

/// The form body, each parameter at most once (RFC 6749 §3.2).
pub fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
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
pub async fn authenticate(
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
        (Some(secret), true) => client.secret_matches(secret, app.clock.now()),
        // A public client has no secret to present; a confidential one must present it.
        (None, false) => true,
        _ => false,
    };
    if !authenticated {
        return Err(OAuthError::invalid_client(is_basic));
    }
    Ok(client)
}

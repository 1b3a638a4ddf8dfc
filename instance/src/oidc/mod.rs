//! The OpenID Provider (OpenID Connect Core 1.0, OAuth 2.0 with the Security BCP, RFC 9700):
//! the authorization-code flow with PKCE, for the instance's registered applications.
//!
//! `GET /oauth2/authorize` checks the client and its exact redirect URI first (a failure there
//! is an error page, never a redirect), then the rest of the request (failures go back to the
//! client as `error` redirects). With a live SSO session it answers a code at once; otherwise it
//! starts a sign-in flow ([`crate::flow`]) whose hosted page ends by calling [`issue_code`].
//! Codes are single use, live five minutes and are bound to the client, redirect URI, PKCE
//! challenge, nonce and session; a second redemption revokes the session the first one used.

pub mod error;
mod login;
pub mod routes;
mod store;
pub mod token;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::crypto::{constant_time_eq, random_secret, sha256_hex};
use crate::error::Result;
use crate::sessions::Session;

/// How long an authorization code can be redeemed.
pub const CODE_TTL_SECS: i64 = 5 * 60;
const CODE_PREFIX: &str = "ac_";

/// The scopes this provider knows; others in a request are ignored.
pub const SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// An authorization request that passed validation, kept while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// The granted scopes (the known ones asked for), `openid` first.
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge.
    pub code_challenge: Option<String>,
}

/// `redirect_uri` with `params` added to its query (after those it already has).
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in params {
                    query.append_pair(name, value);
                }
            }
            url.to_string()
        }
        // Registered URIs always parse; this only guards against a changed registration.
        Err(_) => redirect_uri.to_owned(),
    }
}

/// The issuer as it appears in tokens, metadata and the `iss` response parameter.
pub fn issuer(app: &AppState) -> String {
    app.issuer.trim_end_matches('/').to_owned()
}

/// Issues a code for `request` in `session`; returns the redirect that delivers it (with
/// `state` and `iss`, RFC 9207).
pub async fn issue_code(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<String> {
    let code: SecretString = random_secret(CODE_PREFIX, 32);
    let now = app.clock.now();
    store::insert_code(
        &app.db,
        &store::Code {
            code_hash: sha256_hex(code.expose_secret()),
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.join(" "),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            session_id: session.id.clone(),
            created_at: now,
            expires_at: now + CODE_TTL_SECS,
        },
    )
    .await?;
    let iss = issuer(app);
    let mut params = vec![("code", code.expose_secret()), ("iss", iss.as_str())];
    if let Some(state) = &request.state {
        params.push(("state", state.as_str()));
    }
    Ok(redirect_with(&request.redirect_uri, &params))
}

/// A PKCE challenge or verifier: 43 to 128 unreserved characters (RFC 7636 §4.1).
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` hashes (S256) to `challenge`.
pub fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    is_pkce_value(verifier)
        && constant_time_eq(
            URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()))
                .as_bytes(),
            challenge.as_bytes(),
        )
}

/// `at_hash`: the left half of the access token's SHA-256, base64url (OIDC Core §3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The claims of an access token issued to an application (RFC 9068's profile).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The application's client id.
    pub aud: String,
    pub client_id: String,
    pub sub: String,
    pub sid: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub auth_time: i64,
    pub jti: String,
    pub amr: Vec<String>,
}

impl AccessClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// The claims of an ID token.
#[derive(Debug, Serialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub at_hash: String,
    pub amr: Vec<String>,
    pub sid: String,
    #[serde(flatten)]
    pub profile: UserClaims,
}

/// The user's claims a scope grants, in the ID token and at userinfo.
#[derive(Debug, Default, Serialize)]
pub struct UserClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl UserClaims {
    pub fn for_scopes(user: &crate::users::User, has_scope: impl Fn(&str) -> bool) -> Self {
        let mut claims = UserClaims::default();
        if has_scope("email") {
            claims.email = Some(user.email.as_str().to_owned());
            claims.email_verified = Some(user.email_verified());
        }
        if has_scope("profile") {
            claims.name = user.name.clone();
        }
        claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(challenge, verifier));
        assert!(!pkce_matches(challenge, &verifier.replace('d', "e")));
        assert!(!pkce_matches(challenge, "short"));
    }

    #[test]
    fn redirects_keep_the_registered_query() {
        assert_eq!(
            redirect_with(
                "https://a.example/cb?x=1",
                &[("code", "c d"), ("state", "s&")]
            ),
            "https://a.example/cb?x=1&code=c+d&state=s%26"
        );
    }
}

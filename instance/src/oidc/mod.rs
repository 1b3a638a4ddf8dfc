//! The OpenID Provider (OpenID Connect Core 1.0, OAuth 2.0 with the Security BCP, RFC 9700):
//! the authorization-code flow with PKCE, for the instance's registered applications.
//!
//! `GET /oauth2/authorize` checks the client and its exact redirect URI first (a failure there
//! is an error page, never a redirect), then the rest of the request (failures go back to the
//! client as `error` redirects). With a live SSO session it answers a code at once; otherwise it
//! starts a sign-in flow ([`crate::flow`]) whose hosted page ends by calling [`issue_code`].
//! Codes are single use, live five minutes and are bound to the client, redirect URI, PKCE
//! challenge, nonce and session; a second redemption revokes the session the first one used.

mod choose_organization;
mod client_auth;
mod client_credentials;
mod consent;
mod cors;
pub mod error;
mod forgot;
mod login;
mod logout;
mod revocation;
pub mod routes;
mod signup;
mod steps;
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
    /// `prompt=consent`: a third-party application's user is asked even if they allowed it
    /// before.
    #[serde(default)]
    pub prompt_consent: bool,
    /// `organization`: the id or slug of an organization to sign the user in to, so that the
    /// tokens carry its claims.
    #[serde(default)]
    pub organization: Option<String>,
    /// `ui_locales`: the languages the hosted pages should speak, most preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
    /// The application's organization step is behind this request: the user chose
    /// `organization` on the page, or continued without one. It is not asked again.
    #[serde(default)]
    pub organization_chosen: bool,
}

/// `redirect_uri` with `params` added to its query (after those it already has).
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return redirect_uri.to_owned();
    }
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

/// The id of the organization `wanted` (an id or a slug) if `user_id` is one of its members.
/// Any other organization, existing or not, is the same `None`.
pub async fn organization_of(
    app: &AppState,
    user_id: &str,
    wanted: &str,
) -> Result<Option<String>> {
    Ok(crate::orgs::store::list_for_user(&app.db, user_id)
        .await?
        .into_iter()
        .map(|(org, _)| org)
        .find(|org| org.id == wanted || org.slug == wanted)
        .map(|org| org.id))
}

/// The `error` redirect back to the client of `request`: `access_denied` with `description`,
/// `state` and `iss`.
pub fn denied(app: &AppState, request: &AuthorizationRequest, description: &str) -> String {
    let iss = issuer(app);
    let mut params = vec![
        ("error", "access_denied"),
        ("error_description", description),
        ("iss", iss.as_str()),
    ];
    if let Some(state) = &request.state {
        params.push(("state", state.as_str()));
    }
    redirect_with(&request.redirect_uri, &params)
}

const NOT_A_MEMBER: &str = "the user is not a member of this organization";

/// Issues a code for `request` in `session`; returns the redirect that delivers it (with
/// `state` and `iss`, RFC 9207). The organization it names is checked against the live
/// memberships here too, for a membership that ended while the user was on a page.
pub async fn issue_code(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<String> {
    let org_id = match &request.organization {
        Some(wanted) => match organization_of(app, &session.user_id, wanted).await? {
            Some(id) => Some(id),
            None => return Ok(denied(app, request, NOT_A_MEMBER)),
        },
        None => None,
    };
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
            grant_id: None,
            org_id,
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

/// Where the user goes once signed in for `request`: back to the client with a code, or first
/// to the organization page (an application that selects organizations, for a request that
/// names none), then — for a third-party application the user has not allowed these scopes —
/// to the consent page.
pub async fn authorized(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<String> {
    let mut request = request.clone();
    if let Some(wanted) = &request.organization {
        if organization_of(app, &session.user_id, wanted)
            .await?
            .is_none()
        {
            return Ok(denied(app, &request, NOT_A_MEMBER));
        }
    } else {
        match choose_organization::step(app, &request, session).await? {
            choose_organization::Step::Skip => {}
            choose_organization::Step::Only(org_id) => request.organization = Some(org_id),
            choose_organization::Step::Ask => {
                return choose_organization::ask(app, &request, session).await;
            }
            choose_organization::Step::NoMembership => {
                return Ok(denied(
                    app,
                    &request,
                    "this application signs users in to an organization, and the user is a \
                     member of none",
                ));
            }
        }
    }
    if consent::needed(app, &request, session).await? {
        return consent::ask(app, &request, session).await;
    }
    issue_code(app, &request, session).await
}

/// Whether `request` in `session` needs a page before a code (`prompt=none` cannot show one):
/// the organization page or the consent page. `Some` names the `error` to answer.
pub async fn page_needed(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<Option<(&'static str, &'static str)>> {
    if request.organization.is_none()
        && choose_organization::step(app, request, session).await? == choose_organization::Step::Ask
    {
        return Ok(Some((
            "interaction_required",
            "the user must choose an organization first",
        )));
    }
    if consent::needed(app, request, session).await? {
        return Ok(Some((
            "consent_required",
            "the user must allow this application first",
        )));
    }
    Ok(None)
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
    /// The organization the user signed in to (`organization`), with their role and its
    /// permissions, as live at issue.
    #[serde(flatten)]
    pub org: Option<crate::tokens::OrgContext>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_slug: Option<String>,
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

/// An access token this provider issued that is still good: its claims, its grant and user.
pub struct LiveAccess {
    pub claims: AccessClaims,
    pub grant: Session,
    pub user: crate::users::User,
}

/// Checks an access token issued to an application: signature, issuer, expiry, and against
/// live state — its grant is live and the application's, the user not banned, the application
/// still registered. `None` for any failure, and for a machine's token, which names no user.
pub async fn live_access_token(app: &AppState, token: &str) -> Result<Option<LiveAccess>> {
    let Ok(claims) = crate::tokens::verify_signed::<serde_json::Value>(app, token, None).await
    else {
        return Ok(None);
    };
    if crate::tokens::is_machine(&claims) {
        return Ok(None);
    }
    let Ok(claims) = serde_json::from_value::<AccessClaims>(claims) else {
        return Ok(None);
    };
    if claims.aud != claims.client_id {
        return Ok(None);
    }
    let now = app.clock.now();
    let Some(grant) = crate::sessions::find(app, &claims.sid).await?.filter(|s| {
        s.is_live(now)
            && s.user_id == claims.sub
            && s.grant
                .as_ref()
                .is_some_and(|g| g.client_id == claims.client_id)
    }) else {
        return Ok(None);
    };
    let Some(user) = crate::users::store::find(&app.db, &grant.user_id)
        .await?
        .filter(|u| !u.is_banned(now))
    else {
        return Ok(None);
    };
    if crate::applications::store::find(&app.db, &claims.client_id)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    Ok(Some(LiveAccess {
        claims,
        grant,
        user,
    }))
}

/// Drops the authorization codes that expired over an hour ago (run by the minute sweep).
pub async fn delete_expired_codes(
    db: &crate::db::Db,
    now: crate::clock::UnixTime,
) -> sqlx::Result<u64> {
    store::delete_expired_codes(db, now).await
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

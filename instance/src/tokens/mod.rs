//! Access tokens: short-lived RS256 JWTs that customers' backends verify locally against the JWKS.

pub mod emailed;

use jsonwebtoken::{Validation, decode, decode_header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{Error, Result};
use crate::sessions::Session;
use crate::users::User;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session id; revoking the session ends the token's use on this instance.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    /// When the user authenticated for this session (OIDC `auth_time`); refreshes keep it, so
    /// a relying party can ask for a recent sign-in before sensitive actions.
    #[serde(default)]
    pub auth_time: i64,
    pub jti: String,
    /// Authentication methods references (RFC 8176), e.g. `["pwd"]`.
    pub amr: Vec<String>,
    pub email: String,
    pub email_verified: bool,
    /// The organization the session is working in, when one is selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_role: Option<String>,
    /// The permissions of `org_role` in `org_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// The organization part of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgContext {
    pub org_id: String,
    pub org_slug: String,
    pub org_role: String,
    pub permissions: Vec<String>,
}

impl From<&crate::orgs::Access> for OrgContext {
    fn from(access: &crate::orgs::Access) -> Self {
        OrgContext {
            org_id: access.organization.id.clone(),
            org_slug: access.organization.slug.clone(),
            org_role: access.role.key.clone(),
            permissions: access.role.permissions.iter().cloned().collect(),
        }
    }
}

/// Signs an access token for `user` in `session` (working in `org`, if any); returns it with
/// its lifetime in seconds.
pub fn issue(
    app: &App,
    user: &User,
    session: &Session,
    org: Option<&OrgContext>,
) -> Result<(String, i64)> {
    let now = app.clock.now();
    let ttl = app.config.load().tokens.access_token_ttl_secs as i64;
    let claims = AccessClaims {
        iss: app.issuer.clone(),
        aud: app.audience.clone(),
        sub: user.id.clone(),
        sid: session.id.clone(),
        iat: now,
        exp: now + ttl,
        auth_time: session.created_at,
        jti: uuid::Uuid::now_v7().simple().to_string(),
        amr: session.amr.clone(),
        email: user.email.as_str().to_owned(),
        email_verified: user.email_verified(),
        org_id: org.map(|o| o.org_id.clone()),
        org_slug: org.map(|o| o.org_slug.clone()),
        org_role: org.map(|o| o.org_role.clone()),
        permissions: org.map(|o| o.permissions.clone()),
    };
    Ok((app.keys.sign(&claims)?, ttl))
}

/// Verifies a user's token for the instance's own API: signature, algorithm, issuer,
/// audience and expiry, and that it names a user. Every failure of the first five is the same
/// `unauthorized` error: the client learns nothing about which check failed. A machine's
/// token (properly signed, so its holder knows what it is) is told why it is refused.
pub async fn verify(app: &App, token: &str) -> Result<AccessClaims> {
    let claims: serde_json::Value = verify_signed(app, token, None).await?;
    // Refused before the audience is looked at, so that no audience setting lets it through.
    if is_machine(&claims) {
        return Err(Error::InvalidToken(
            "this is an application's token (client_credentials): it does not act for a user",
        ));
    }
    if claims
        .get("principal_type")
        .and_then(serde_json::Value::as_str)
        == Some(crate::org_keys::PRINCIPAL_TYPE)
    {
        return Err(Error::InvalidToken(
            "this is an organization API key's token: it does not act for a user",
        ));
    }
    if claims.get("aud").and_then(serde_json::Value::as_str) != Some(app.audience.as_str()) {
        return Err(INVALID);
    }
    serde_json::from_value(claims).map_err(|_| INVALID)
}

/// Whether verified claims are a machine's (the `client_credentials` grant): its subject is
/// the application itself, so it names no user and must not be taken for one.
pub fn is_machine(claims: &serde_json::Value) -> bool {
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    text("sub").is_some_and(|sub| Some(sub) == text("client_id"))
}

const INVALID: Error = Error::InvalidToken("the access token is invalid or expired");

/// Verifies a token this instance signed: signature, algorithm, issuer, expiry, and the
/// audience when `audience` is given (else the caller checks `aud` itself).
pub async fn verify_signed<T: DeserializeOwned>(
    app: &App,
    token: &str,
    audience: Option<&str>,
) -> Result<T> {
    verify_with(app, token, audience, true).await
}

/// As [`verify_signed`], but a token past its expiry still passes: for hints such as
/// RP-initiated logout's `id_token_hint`, which may name a sign-in the token outlived.
pub async fn verify_signed_ignoring_expiry<T: DeserializeOwned>(
    app: &App,
    token: &str,
    audience: Option<&str>,
) -> Result<T> {
    verify_with(app, token, audience, false).await
}

async fn verify_with<T: DeserializeOwned>(
    app: &App,
    token: &str,
    audience: Option<&str>,
    check_expiry: bool,
) -> Result<T> {
    let header = decode_header(token).map_err(|_| INVALID)?;
    if header.alg != crate::keys::Keys::algorithm() {
        return Err(INVALID);
    }
    let kid = header.kid.ok_or(INVALID)?;
    let max_ttl = app.config.load().tokens.access_token_ttl_secs as i64;
    if check_expiry && app.keys.is_expired_key(&kid, max_ttl) {
        return Err(INVALID);
    }
    let key = app.keys.decoding_key(&kid).await.ok_or(INVALID)?;
    let mut validation = Validation::new(crate::keys::Keys::algorithm());
    validation.set_issuer(&app.accepted_issuers);
    match audience {
        Some(audience) => validation.set_audience(&[audience]),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // Expiry is checked against the service clock below, not the library's wall clock.
    validation.validate_exp = false;
    let claims = decode::<serde_json::Value>(token, &key, &validation)
        .map_err(|_| INVALID)?
        .claims;
    let exp = claims.get("exp").and_then(serde_json::Value::as_i64);
    if exp.is_none() || (check_expiry && exp.is_some_and(|exp| exp <= app.clock.now())) {
        return Err(INVALID);
    }
    serde_json::from_value(claims).map_err(|_| INVALID)
}

//! Machine keys of an organization (`ask_org_…`), for agents, MCP servers and CI jobs.
//!
//! An organization's admins (`api_keys:manage`) create keys that act as a service principal of
//! that organization (`sub` = the key's id, `orgkey_…`) with a set of permissions no larger
//! than the creator's own (the same guardrail as roles). A key is 256 random bits, stored as
//! its SHA-256 and shown once.
//!
//! A key is checked against live state at every use: unknown, revoked, expired, or of a deleted
//! organization all get the same `401 invalid_key`. It works as `Authorization: Bearer` on the
//! organization-scoped routes of its own organization only; every other organization answers it
//! as it answers a stranger. It can also be exchanged ([`routes`]) for a short-lived access
//! token that a customer's backend verifies against the JWKS like a user's, told apart by the
//! claim `principal_type: "org_api_key"` ([`KeyClaims`]); on this instance such a token is
//! held to the key's live state too. Every use is recorded in the organization's audit log.

pub mod routes;
pub mod store;

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::audit::{self, AuditEvent};
use crate::clock::{UnixTime, rfc3339};
use crate::crypto::{constant_time_eq, random_secret, sha256_hex};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::rbac::Permissions;

/// Organization API keys look like `ask_org_<43 base64url chars>` (256 bits).
pub const ORG_KEY_PREFIX: &str = "ask_org_";
/// The permission that lets a member create, list and revoke the organization's keys.
pub const MANAGE: &str = "api_keys:manage";
/// The value of the `principal_type` claim in tokens minted for a key.
pub const PRINCIPAL_TYPE: &str = "org_api_key";
/// `last_used_at` is written at most this often per key.
pub const LAST_USED_EVERY_SECS: i64 = 60;

/// A key as stored (its hash, never the key itself).
#[derive(Clone)]
pub struct OrgKey {
    /// The principal id, `orgkey_…`: `sub` of its tokens and actor in the audit log.
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub key_hash: String,
    pub last_four: String,
    pub permissions: BTreeSet<String>,
    pub created_by: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: Option<UnixTime>,
    pub last_used_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

impl std::fmt::Debug for OrgKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgKey")
            .field("id", &self.id)
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}

impl OrgKey {
    /// Neither revoked nor expired.
    pub fn is_live(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }

    /// Its permissions that are still in the catalogue.
    pub fn live_permissions(&self, app: &App) -> Permissions {
        Arc::new(
            self.permissions
                .iter()
                .filter(|p| app.rbac.contains(p))
                .cloned()
                .collect(),
        )
    }

    pub fn view(&self) -> OrgKeyView {
        OrgKeyView {
            id: self.id.clone(),
            name: self.name.clone(),
            prefix: ORG_KEY_PREFIX.to_owned(),
            last_four: self.last_four.clone(),
            permissions: self.permissions.iter().cloned().collect(),
            created_by: self.created_by.clone(),
            created_at: rfc3339(self.created_at),
            expires_at: self.expires_at.map(rfc3339),
            last_used_at: self.last_used_at.map(rfc3339),
            revoked_at: self.revoked_at.map(rfc3339),
        }
    }
}

/// A key as listed: everything but the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgKeyView {
    /// The key's principal id (`orgkey_…`), the `sub` of its tokens.
    pub id: String,
    pub name: String,
    /// Every key starts with this.
    pub prefix: String,
    /// The key's last four characters, to recognise it.
    pub last_four: String,
    pub permissions: Vec<String>,
    /// The user who created it.
    pub created_by: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Updated at most once a minute.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// A new key and its stored form.
pub struct NewKey {
    pub secret: SecretString,
    pub hash: String,
    pub last_four: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewKey(..)")
    }
}

pub fn new_key() -> NewKey {
    let secret = random_secret(ORG_KEY_PREFIX, 32);
    let text = secret.expose_secret();
    NewKey {
        hash: sha256_hex(text),
        last_four: text[text.len().saturating_sub(4)..].to_owned(),
        secret,
    }
}

pub fn new_key_id() -> String {
    format!("orgkey_{}", uuid::Uuid::now_v7().simple())
}

/// An organization's key acting in a request: the key as it is now, and the permissions it
/// acts with (the key's, still in the catalogue; for an exchanged token, only those of them
/// the token carries).
#[derive(Debug, Clone)]
pub struct KeyCaller {
    pub key: OrgKey,
    pub permissions: Permissions,
    /// Presented as an access token minted for the key, not as the key itself.
    pub via_token: bool,
}

const INVALID: Error = Error::InvalidKey;

/// The live key `presented` (`ask_org_…`): the hash looked up, then compared in constant time.
/// Unknown, revoked, expired and of a deleted organization are the same `invalid_key`.
pub async fn authenticate_key(app: &App, presented: &str, use_: &KeyUse<'_>) -> Result<KeyCaller> {
    let hash = sha256_hex(presented);
    let key = store::find_by_hash(&app.db, &hash).await?.ok_or(INVALID)?;
    if !constant_time_eq(key.key_hash.as_bytes(), hash.as_bytes()) || !key.is_live(app.clock.now())
    {
        return Err(INVALID);
    }
    let permissions = key.live_permissions(app);
    record_use(app, &key, use_, "key").await?;
    Ok(KeyCaller {
        key,
        permissions,
        via_token: false,
    })
}

/// The claims of an access token minted for a key. It verifies like a user's access token
/// (issuer, JWKS, `aud` = the instance's audience); `principal_type` tells it from one.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyClaims {
    pub iss: String,
    pub aud: String,
    /// The key's principal id, `orgkey_…`.
    pub sub: String,
    /// Always `org_api_key`; user tokens have no such claim.
    pub principal_type: String,
    pub org_id: String,
    pub org_slug: String,
    pub permissions: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Whether a bearer token claims to be a key's token, read without verifying it: only to pick
/// the path that then verifies it.
pub fn looks_like_key_token(token: &str) -> bool {
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|claims| {
            claims
                .get("principal_type")
                .and_then(|v| v.as_str())
                .map(|t| t == PRINCIPAL_TYPE)
        })
        .unwrap_or(false)
}

/// A key's access token presented to this instance: verified (signature, issuer, audience,
/// expiry), then held to the key's live state, acting with the token's permissions that the
/// key still has.
pub async fn authenticate_token(app: &App, token: &str, use_: &KeyUse<'_>) -> Result<KeyCaller> {
    let claims: KeyClaims =
        crate::tokens::verify_signed(app, token, Some(app.audience.as_str())).await?;
    if claims.principal_type != PRINCIPAL_TYPE {
        return Err(Error::InvalidToken(
            "the access token is invalid or expired",
        ));
    }
    let key = store::find_by_id(&app.db, &claims.sub)
        .await?
        .filter(|k| k.organization_id == claims.org_id && k.is_live(app.clock.now()))
        .ok_or(INVALID)?;
    let permissions = Arc::new(
        key.live_permissions(app)
            .iter()
            .filter(|p| claims.permissions.contains(p))
            .cloned()
            .collect(),
    );
    record_use(app, &key, use_, "token").await?;
    Ok(KeyCaller {
        key,
        permissions,
        via_token: true,
    })
}

/// The request a key is used for, as the audit log records it.
#[derive(Debug, Clone, Copy)]
pub struct KeyUse<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub client: &'a Client,
}

/// Audits a use of `key` (actor = the key) and refreshes its `last_used_at` when older than
/// [`LAST_USED_EVERY_SECS`].
async fn record_use(app: &App, key: &OrgKey, use_: &KeyUse<'_>, via: &str) -> Result<()> {
    let now = app.clock.now();
    if key
        .last_used_at
        .is_none_or(|at| at <= now - LAST_USED_EVERY_SECS)
    {
        store::touch(&app.db, &key.organization_id, &key.id, now).await?;
    }
    audit::record(
        app,
        now,
        AuditEvent::new("organization.api_key.used")
            .actor(&key.id)
            .target(&key.id)
            .organization(&key.organization_id)
            .client(use_.client)
            .data(serde_json::json!({
                "method": use_.method,
                "path": use_.path.chars().take(300).collect::<String>(),
                "via": via,
            })),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_256_bits_with_its_prefix_and_its_hash() {
        let key = new_key();
        let text = key.secret.expose_secret();
        assert!(text.starts_with(ORG_KEY_PREFIX));
        assert_eq!(text.len(), ORG_KEY_PREFIX.len() + 43);
        assert_eq!(key.hash, sha256_hex(text));
        assert!(text.ends_with(&key.last_four));
        assert!(!format!("{key:?}").contains(text));
    }

    #[test]
    fn only_tokens_claiming_a_key_principal_take_the_key_path() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"principal_type":"org_api_key"}"#);
        assert!(looks_like_key_token(&format!("h.{payload}.s")));
        let user = URL_SAFE_NO_PAD.encode(br#"{"sub":"usr_1"}"#);
        assert!(!looks_like_key_token(&format!("h.{user}.s")));
        assert!(!looks_like_key_token("ask_org_abc"));
    }
}

//! The platform instance: the AuthStack instance the control plane runs for itself. Dashboard
//! sign-up, login, teams and invitations happen there; an AuthStack account is one of its
//! organizations, and the control plane authorizes requests by the org claims and permissions
//! of the platform's access tokens — there is no second user store.

pub mod bootstrap;
mod members;
pub mod routes;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use authstack_instance::config::{InstanceConfig, MailConfig, OrganizationsConfig, RoleGrants};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::AppState;
use crate::error::{Error, Result};
use crate::ids::{InstanceId, OrganizationId};
use crate::provisioner::InstanceSecrets;

/// Permissions of the platform instance's catalogue, beyond the built-in ones
/// (`organization:*`, `members:*`, `roles:*`, `audit:read`, `billing:read|manage`).
pub const PERMISSIONS: [&str; 4] = [
    "instances:read",
    "instances:manage",
    "keys:read",
    "keys:manage",
];

/// The platform instance's configuration: the control plane's permission catalogue and who
/// holds what by default. Owners hold everything; admins run instances and keys; members and
/// viewers see them. Mailed links open the dashboard at `dashboard_url`.
pub fn instance_config(dashboard_url: &str) -> InstanceConfig {
    InstanceConfig {
        mail: MailConfig {
            link_base_url: Some(dashboard_url.to_owned()),
            ..MailConfig::default()
        },
        organizations: OrganizationsConfig {
            permissions: PERMISSIONS.iter().map(|p| (*p).to_owned()).collect(),
            role_grants: RoleGrants {
                admin: PERMISSIONS.iter().map(|p| (*p).to_owned()).collect(),
                member: vec!["instances:read".into(), "keys:read".into()],
                viewer: vec!["instances:read".into()],
            },
            ..OrganizationsConfig::default()
        },
        ..InstanceConfig::default()
    }
}

/// How the control plane reaches the platform instance and checks its tokens.
pub struct Platform {
    pub instance_id: InstanceId,
    /// Direct URL (loopback or cluster-internal); calls carry the gateway secret. Known once
    /// the provisioner has it running.
    endpoint: std::sync::RwLock<String>,
    /// The platform instance's issuer: its address on the gateway.
    pub issuer: String,
    /// The gateway's URL, the issuer of tokens minted before instances had addresses.
    previous_issuer: String,
    secrets: InstanceSecrets,
    keys: RwLock<JwksCache>,
    /// Live session and membership answers by SHA-256 of the token.
    live: RwLock<HashMap<[u8; 32], (Instant, Live)>>,
}

/// What the platform said about a token's session and organization.
#[derive(Debug, Clone)]
enum Live {
    Ended,
    NoOrganization,
    NotMember,
    /// The role's permissions now.
    Member(Vec<String>),
}

/// How long a live answer is reused: the most a removed teammate keeps their rights.
pub const LIVE_TTL: Duration = Duration::from_secs(3);
/// Beyond this many cached answers the cache starts over.
const LIVE_ENTRIES: usize = 50_000;

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct JwksCache {
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

/// Unknown `kid`s trigger a refetch at most this often (a key rotation on the platform).
const JWKS_REFETCH: Duration = Duration::from_secs(10);

/// The verified identity behind a dashboard request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub email: String,
    pub email_verified: bool,
    /// The account's organization the token is working in, if any.
    pub org_id: Option<OrganizationId>,
    pub permissions: Vec<String>,
    /// When the user signed in for this session (the token's `auth_time`).
    pub auth_time: i64,
    /// The bearer token itself, for calls made on the caller's behalf.
    pub token: SecretString,
}

/// How recent a sign-in must be to mint a credential that outlives the session (a secret key,
/// an application or its secret).
pub const RECENT_SIGN_IN_SECS: i64 = 10 * 60;

impl Caller {
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// A credential that outlives the session that makes it needs a recent sign-in, so that a
    /// stolen or stale session cannot mint one (`ReauthenticationRequired` otherwise).
    pub fn ensure_recent_sign_in(&self, now: i64) -> crate::error::Result<()> {
        if now - self.auth_time > RECENT_SIGN_IN_SECS {
            return Err(crate::error::Error::ReauthenticationRequired);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    email_verified: bool,
    org_id: Option<OrganizationId>,
    permissions: Option<Vec<String>>,
    #[serde(default)]
    auth_time: i64,
}

impl Platform {
    pub fn new(instance_id: InstanceId, gateway_url: &str, secrets: InstanceSecrets) -> Self {
        Platform {
            issuer: crate::gateway::address::issuer(gateway_url, &instance_id),
            previous_issuer: gateway_url.to_owned(),
            instance_id,
            endpoint: std::sync::RwLock::new(String::new()),
            secrets,
            keys: RwLock::new(JwksCache::default()),
            live: RwLock::new(HashMap::new()),
        }
    }

    pub fn set_endpoint(&self, endpoint: String) {
        if let Ok(mut current) = self.endpoint.write() {
            *current = endpoint;
        }
    }

    pub fn endpoint(&self) -> String {
        self.endpoint.read().map(|e| e.clone()).unwrap_or_default()
    }

    /// A request to the platform instance, carrying the gateway secret.
    pub fn request(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        http.request(method, format!("{}{path}", self.endpoint()))
            .header(
                authstack_instance::http::middleware::GATEWAY_HEADER,
                self.secrets.gateway_secret.expose_secret(),
            )
    }

    /// A request to the platform's admin API.
    pub fn admin(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.request(http, method, path)
            .bearer_auth(self.secrets.admin_key.expose_secret())
    }

    /// Verifies a platform access token: RS256 with a key of the platform's JWKS, our issuer,
    /// the platform instance as audience, not expired.
    pub async fn verify(&self, http: &reqwest::Client, token: &str) -> Result<Caller> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Error::Unauthorized("the access token is malformed"))?;
        let kid = header
            .kid
            .ok_or(Error::Unauthorized("the access token has no key id"))?;
        let key = match self.key(&kid).await {
            Some(key) => key,
            None => {
                self.refresh_keys(http).await?;
                self.key(&kid).await.ok_or(Error::Unauthorized(
                    "the access token is not signed by the platform",
                ))?
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer, &self.previous_issuer]);
        validation.set_audience(&[self.instance_id.as_str()]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|_| Error::Unauthorized("the access token is invalid or expired"))?;
        Ok(Caller {
            user_id: data.claims.sub,
            email: data.claims.email,
            email_verified: data.claims.email_verified,
            org_id: data.claims.org_id,
            permissions: data.claims.permissions.unwrap_or_default(),
            auth_time: data.claims.auth_time,
            token: SecretString::from(token.to_owned()),
        })
    }

    /// Checks `caller` against the platform's live state: the session has not ended, and the
    /// user is still a member of the token's organization, with the permissions the role has
    /// now (not those the token was minted with). Answers are cached per token for
    /// [`LIVE_TTL`], so a removed teammate or a signed-out session loses its rights within that.
    pub async fn live(&self, http: &reqwest::Client, mut caller: Caller) -> Result<Caller> {
        let digest: [u8; 32] = Sha256::digest(caller.token.expose_secret().as_bytes()).into();
        let cached = self
            .live
            .read()
            .await
            .get(&digest)
            .filter(|(at, _)| at.elapsed() < LIVE_TTL)
            .map(|(_, state)| state.clone());
        let state = match cached {
            Some(state) => state,
            None => {
                let state = self.fetch_live(http, &caller).await?;
                let mut live = self.live.write().await;
                if live.len() >= LIVE_ENTRIES {
                    live.retain(|_, (at, _)| at.elapsed() < LIVE_TTL);
                    if live.len() >= LIVE_ENTRIES {
                        live.clear();
                    }
                }
                live.insert(digest, (Instant::now(), state.clone()));
                state
            }
        };
        match state {
            Live::Ended => Err(Error::Unauthorized("the session has ended: sign in again")),
            Live::Member(permissions) => {
                caller.permissions = permissions;
                Ok(caller)
            }
            Live::NoOrganization => {
                caller.permissions.clear();
                Ok(caller)
            }
            Live::NotMember => Err(Error::Forbidden(
                "you are no longer a member of this account's organization".into(),
            )),
        }
    }

    async fn fetch_live(&self, http: &reqwest::Client, caller: &Caller) -> Result<Live> {
        let path = match &caller.org_id {
            Some(org) => format!("/v1/organizations/{org}"),
            None => "/v1/me".to_owned(),
        };
        let response = self
            .request(http, reqwest::Method::GET, &path)
            .bearer_auth(caller.token.expose_secret())
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "the platform instance is unreachable");
                Error::InstanceUnavailable
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Ok(Live::Ended);
        }
        if caller.org_id.is_some()
            && matches!(
                status,
                reqwest::StatusCode::FORBIDDEN | reqwest::StatusCode::NOT_FOUND
            )
        {
            return Ok(Live::NotMember);
        }
        if !status.is_success() {
            tracing::warn!(%status, %path, "the platform instance refused a live check");
            return Err(Error::InstanceUnavailable);
        }
        if caller.org_id.is_none() {
            return Ok(Live::NoOrganization);
        }
        #[derive(Deserialize)]
        struct Membership {
            permissions: Vec<String>,
        }
        let membership: Membership = response
            .json()
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("platform membership: {e}")))?;
        Ok(Live::Member(membership.permissions))
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().await.keys.get(kid).cloned()
    }

    async fn refresh_keys(&self, http: &reqwest::Client) -> Result<()> {
        let mut cache = self.keys.write().await;
        if cache.fetched.is_some_and(|at| at.elapsed() < JWKS_REFETCH) {
            return Ok(());
        }
        let response = self
            .request(http, reqwest::Method::GET, "/.well-known/jwks.json")
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "the platform instance's JWKS is unreachable");
                Error::InstanceUnavailable
            })?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "the platform instance refused its JWKS");
            return Err(Error::InstanceUnavailable);
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("platform JWKS: {e}")))?;
        cache.keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
            })
            .collect();
        cache.fetched = Some(Instant::now());
        Ok(())
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Error::Unauthorized("a platform access token is required"))?;
        let caller = app.platform.verify(&app.http, token.trim()).await?;
        app.platform.live(&app.http, caller).await
    }
}

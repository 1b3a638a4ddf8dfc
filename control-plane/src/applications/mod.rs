//! Applications: the OAuth 2.0 / OpenID Connect clients of a customer instance's OpenID
//! Provider, managed from the dashboard with a platform access token instead of the instance's
//! admin key. The instance owns them (its `/v1/admin/applications`, its validation, its
//! hashed secrets); the control plane authorizes the member, forwards the request with the
//! instance's admin key, audits the change, and adds where OpenID Connect libraries find the
//! instance: its issuer on the gateway and the discovery document under it.

pub mod routes;

use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{Error, Result};
use crate::instances::Instance;

/// What a client is, as the instance defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ApplicationKind)]
pub enum Kind {
    /// A server-side application that keeps a client secret (confidential).
    Web,
    /// A browser application (public: no secret, PKCE required).
    Spa,
    /// A mobile or desktop application (public: no secret, PKCE required).
    Native,
    /// A service acting for itself with `client_credentials` (confidential; no users, no
    /// redirect URIs).
    Machine,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Web => "web",
            Kind::Spa => "spa",
            Kind::Native => "native",
            Kind::Machine => "machine",
        }
    }
}

/// Whether the instance's sign-in asks the user for one of their organizations when the
/// authorization request names none, as the instance defines it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ApplicationOrganizationSelection)]
pub enum OrganizationSelection {
    /// Never asked; tokens carry an organization only when the request names one.
    #[default]
    None,
    /// A user who belongs to an organization picks one, or continues without.
    Optional,
    /// The user must sign in to one of their organizations (a user in none is refused).
    Required,
}

/// An application as the instance's admin API answers it: never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Application {
    /// The client id (`client_id`).
    #[schema(pattern = "^app_[0-9a-f]{32}$")]
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// Matched exactly, character for character.
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// As the instance defines it (first-party applications are not asked for consent).
    pub first_party: bool,
    /// What a `machine` application may be granted (empty for the other kinds).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Whether a sign-in whose request names no `organization` asks the user for one.
    #[serde(default)]
    pub organization_selection: OrganizationSelection,
    /// A `web` application's OpenID Connect Back-Channel Logout URI: the instance POSTs a
    /// logout token there when a sign-in the application holds a grant under ends.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// Browser origins (`scheme://host[:port]`) whose calls to the token, revocation and
    /// userinfo endpoints get CORS answers (`spa` and `native` only).
    #[serde(default)]
    pub allowed_cors_origins: Vec<String>,
    /// Seconds its access and ID tokens live; `null`: the instance's lifetime.
    #[serde(default)]
    pub access_token_ttl_secs: Option<i64>,
    /// When the last rotation kept the old secret for a grace period: until when it is (or
    /// was) still accepted; `null` otherwise.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Where a standard OpenID Connect library finds the instance, knowing only its issuer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenIdProvider {
    /// The instance's issuer (`iss`): its address on the gateway, `{gateway}/i/{instance_id}`,
    /// or its verified custom domain.
    pub issuer: String,
    /// `{issuer}/.well-known/openid-configuration`.
    pub discovery_url: String,
}

impl OpenIdProvider {
    pub async fn of(app: &App, instance: &Instance) -> anyhow::Result<OpenIdProvider> {
        let (issuer, _) = crate::domains::issuers(app, instance).await?;
        Ok(OpenIdProvider {
            discovery_url: format!("{issuer}/.well-known/openid-configuration"),
            issuer,
        })
    }
}

/// An application with its instance's issuer and discovery URL.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    #[serde(flatten)]
    pub application: Application,
    #[serde(flatten)]
    pub provider: OpenIdProvider,
}

/// An application just created or given a new secret: the only answer with the secret.
#[derive(Deserialize)]
pub struct Minted {
    #[serde(flatten)]
    pub application: Application,
    /// Absent for public (`spa`, `native`) applications.
    pub client_secret: Option<SecretString>,
}

impl std::fmt::Debug for Minted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minted")
            .field("application", &self.application.id)
            .finish_non_exhaustive()
    }
}

/// A new application, forwarded to the instance as it is: the instance validates it (names,
/// redirect URIs) and its errors are the answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateApplicationRequest)]
pub struct NewApplication {
    /// 1 to 200 characters without control characters (surrounding spaces are trimmed).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    pub kind: Kind,
    /// Absolute URLs, `https` (or `http` on `localhost`, `127.0.0.1`, `[::1]`), without
    /// fragment or wildcard, in normalized form; matched exactly.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub redirect_uris: Vec<String>,
    /// Where the application may send users after sign-out; the same rules.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub post_logout_redirect_uris: Vec<String>,
    /// As the instance defines it; absent: the instance's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_party: Option<bool>,
    /// For a `machine` application: permissions from the instance's catalogue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 100)]
    pub permissions: Vec<String>,
    /// Whether a sign-in whose request names no `organization` asks the user for one;
    /// absent: `none` (a `machine` application has only `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_selection: Option<OrganizationSelection>,
    /// A `web` application's back-channel logout URI (the rules of a redirect URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub backchannel_logout_uri: Option<String>,
    /// For an `spa` or `native` application: the browser origins (`https://host[:port]`, or
    /// `http` on a loopback host; no path, no wildcard) whose calls to the token, revocation
    /// and userinfo endpoints get CORS answers. Refused with `invalid_cors_origin`, and for
    /// `web` and `machine`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 20)]
    pub allowed_cors_origins: Vec<String>,
    /// Seconds its access and ID tokens live (30 up to the instance's
    /// `tokens.access_token_ttl_secs`); absent: the instance's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 30, maximum = 86400)]
    pub access_token_ttl_secs: Option<u32>,
}

/// A change of an application: each field given replaces the current value (the kind cannot
/// change).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateApplicationRequest)]
pub struct ApplicationChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: Option<String>,
    /// Replaces the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub redirect_uris: Option<Vec<String>>,
    /// Replaces the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_party: Option<bool>,
    /// Replaces a `machine` application's permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100)]
    pub permissions: Option<Vec<String>>,
    /// Whether a sign-in whose request names no `organization` asks the user for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_selection: Option<OrganizationSelection>,
    /// Replaces the back-channel logout URI; `null` removes it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "authstack_instance::http::nullable"
    )]
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub backchannel_logout_uri: Option<Option<String>>,
    /// Replaces the browser origins (`spa` and `native` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub allowed_cors_origins: Option<Vec<String>>,
    /// Replaces its token lifetime; `null`: the instance's again.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "authstack_instance::http::nullable"
    )]
    #[schema(value_type = Option<u32>, minimum = 30, maximum = 86400)]
    pub access_token_ttl_secs: Option<Option<i64>>,
}

impl ApplicationChange {
    /// The names of the fields this change sets (for the audit log).
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("redirect_uris", self.redirect_uris.is_some()),
            (
                "post_logout_redirect_uris",
                self.post_logout_redirect_uris.is_some(),
            ),
            ("first_party", self.first_party.is_some()),
            ("permissions", self.permissions.is_some()),
            (
                "organization_selection",
                self.organization_selection.is_some(),
            ),
            (
                "backchannel_logout_uri",
                self.backchannel_logout_uri.is_some(),
            ),
            ("allowed_cors_origins", self.allowed_cors_origins.is_some()),
            (
                "access_token_ttl_secs",
                self.access_token_ttl_secs.is_some(),
            ),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// An application id as the instance makes them (`app_` and 32 hex digits). Anything else is
/// absent: the id goes into the instance's URL, so it must never be a path of its own.
pub fn parse_id(raw: &str) -> Result<&str> {
    let valid = raw.strip_prefix("app_").is_some_and(|hex| {
        hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    valid.then_some(raw).ok_or(Error::NotFound("application"))
}

const PATH: &str = "/v1/admin/applications";

#[derive(Deserialize)]
struct ApplicationList {
    data: Vec<Application>,
}

/// The instance's applications, oldest first.
pub async fn list(app: &App, instance: &Instance) -> Result<Vec<Application>> {
    let request = instance.admin(app, Method::GET, PATH)?;
    let list: ApplicationList = read(instance, request).await?;
    Ok(list.data)
}

pub async fn create(app: &App, instance: &Instance, new: &NewApplication) -> Result<Minted> {
    let request = instance.admin(app, Method::POST, PATH)?.json(new);
    read(instance, request).await
}

pub async fn get(app: &App, instance: &Instance, id: &str) -> Result<Application> {
    let path = format!("{PATH}/{}", parse_id(id)?);
    read(instance, instance.admin(app, Method::GET, &path)?).await
}

pub async fn update(
    app: &App,
    instance: &Instance,
    id: &str,
    change: &ApplicationChange,
) -> Result<Application> {
    let path = format!("{PATH}/{}", parse_id(id)?);
    let request = instance.admin(app, Method::PATCH, &path)?.json(change);
    read(instance, request).await
}

pub async fn delete(app: &App, instance: &Instance, id: &str) -> Result<()> {
    let path = format!("{PATH}/{}", parse_id(id)?);
    send(instance, instance.admin(app, Method::DELETE, &path)?).await?;
    Ok(())
}

/// The longest an old client secret may keep working after a rotation (the instance's limit).
pub const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;

/// A new secret for a `web` application; the old one keeps working for `grace_secs` (0: it
/// stops at once). A public application has none (`Conflict`, the instance's words).
pub async fn rotate_secret(
    app: &App,
    instance: &Instance,
    id: &str,
    grace_secs: i64,
) -> Result<Minted> {
    if !(0..=MAX_GRACE_SECS).contains(&grace_secs) {
        return Err(Error::invalid(
            "grace_period_secs: must be 0 to 604800 (7 days)",
        ));
    }
    let path = format!("{PATH}/{}/rotate-secret", parse_id(id)?);
    let request = instance
        .admin(app, Method::POST, &path)?
        .json(&serde_json::json!({ "grace_period_secs": grace_secs }));
    read(instance, request).await
}

async fn read<T: serde::de::DeserializeOwned>(
    instance: &Instance,
    request: reqwest::RequestBuilder,
) -> Result<T> {
    send(instance, request).await?.json().await.map_err(|err| {
        Error::Internal(anyhow::anyhow!(
            "the applications of instance {} are not readable: {err}",
            instance.id
        ))
    })
}

/// Sends `request` to the instance; its refusals become ours, with its message: what is wrong
/// with the application (`400`, `invalid_cors_origin` kept), that there is no such one (`404`), or that it has no secret
/// (`409`). Anything else is a fault of the instance or of our call to it.
async fn send(instance: &Instance, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
    let response = request.send().await.map_err(|err| {
        tracing::warn!(instance_id = %instance.id, error = %err, "applications: the instance did not answer");
        Error::InstanceUnavailable
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let message = body["message"]
        .as_str()
        .filter(|m| !m.is_empty())
        .unwrap_or("the instance refused the request")
        .to_owned();
    Err(match status.as_u16() {
        400 if body["error"] == "invalid_cors_origin" => Error::InvalidCorsOrigin(message),
        400 => Error::InvalidRequest(message),
        404 => Error::NotFound("application"),
        409 => Error::Conflict(message),
        413 => Error::PayloadTooLarge,
        401 | 403 => Error::Internal(anyhow::anyhow!(
            "instance {} refused the control plane's admin key: {status} {message}",
            instance.id
        )),
        _ => {
            tracing::warn!(instance_id = %instance.id, %status, %message, "applications: the instance refused");
            Error::InstanceUnavailable
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_ids_reach_the_instance() {
        assert!(parse_id("app_0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "app_",
            "app_0123456789ABCDEF0123456789ABCDEF",
            "app_0123456789abcdef0123456789abcde",
            "../users",
            "app_0123456789abcdef0123456789abcdef/../../users",
            "usr_0123456789abcdef0123456789abcdef",
        ] {
            assert!(
                matches!(parse_id(bad), Err(Error::NotFound("application"))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_change_names_the_fields_it_sets() {
        let change: ApplicationChange =
            serde_json::from_str(r#"{"name":"x","redirect_uris":[]}"#).expect("json");
        assert_eq!(change.fields(), ["name", "redirect_uris"]);
        assert_eq!(
            serde_json::to_value(&change).expect("json"),
            serde_json::json!({ "name": "x", "redirect_uris": [] })
        );
        let new: NewApplication =
            serde_json::from_str(r#"{"name":"x","kind":"web"}"#).expect("json");
        // The instance's default for `first_party` applies when it is not given.
        assert!(
            serde_json::to_value(&new).expect("json")["first_party"].is_null(),
            "{new:?}"
        );
    }
}

//! Applications: the OAuth 2.0 clients that sign users in through this instance's OpenID
//! Provider. A `web` application is confidential and authenticates with a secret (256 random
//! bits, shown once, stored as its SHA-256); `spa` and `native` applications are public and
//! must use PKCE. Redirect URIs are compared by exact string match (RFC 9700 §4.1.1), so they
//! are validated strictly when registered.
//!
//! A `machine` application signs no user in: it is confidential like `web`, has no redirect
//! URIs, and only uses the `client_credentials` grant, for the `permissions` an administrator
//! allowed it. Those are checked against the permission catalogue when they are set, and again
//! whenever a token is minted, so that a permission dropped from the catalogue is no longer
//! granted.
//!
//! A public application may list the browser origins it calls the token endpoint from
//! (`allowed_cors_origins`, [`origins`]).

pub mod origins;
pub mod routes;
pub mod store;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::clock::{UnixTime, rfc3339};
use crate::config::InstanceConfig;
use crate::crypto::{constant_time_eq, random_secret, sha256_hex};
use crate::error::{Error, Result};

/// Client secrets look like `acs_<43 base64url chars>` (256 bits).
pub const SECRET_PREFIX: &str = "acs_";
const MAX_URIS: usize = 20;
const MAX_URI_LENGTH: usize = 2048;
const MAX_PERMISSIONS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A server-side application that keeps a client secret (confidential).
    Web,
    /// A browser application (public: no secret, PKCE required).
    Spa,
    /// A mobile or desktop application (public: no secret, PKCE required).
    Native,
    /// A service acting for itself (confidential; `client_credentials` only, no users).
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

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "web" => Some(Kind::Web),
            "spa" => Some(Kind::Spa),
            "native" => Some(Kind::Native),
            "machine" => Some(Kind::Machine),
            _ => None,
        }
    }

    /// Confidential clients authenticate at the token endpoint; public ones cannot.
    pub fn is_confidential(self) -> bool {
        matches!(self, Kind::Web | Kind::Machine)
    }

    /// Machine applications use `client_credentials` and nothing else; the other kinds sign
    /// users in and never use it.
    pub fn is_machine(self) -> bool {
        self == Kind::Machine
    }
}

/// Whether the sign-in asks the user for one of their organizations when the authorization
/// request names none (`organization`): the chosen one gives the tokens its claims, exactly as
/// the parameter does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrganizationSelection {
    /// Never asked; tokens carry an organization only when the request names one.
    #[default]
    None,
    /// A user who belongs to an organization picks one, or continues without.
    Optional,
    /// The user must sign in to one of their organizations: the only one without asking, one
    /// of several on the page; a user in none is refused (`access_denied`).
    Required,
}

impl OrganizationSelection {
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationSelection::None => "none",
            OrganizationSelection::Optional => "optional",
            OrganizationSelection::Required => "required",
        }
    }

    pub fn parse(text: &str) -> Option<OrganizationSelection> {
        match text {
            "none" => Some(OrganizationSelection::None),
            "optional" => Some(OrganizationSelection::Optional),
            "required" => Some(OrganizationSelection::Required),
            _ => None,
        }
    }
}

/// A machine application signs no user in, so it has no organization to choose.
pub fn check_organization_selection(kind: Kind, selection: OrganizationSelection) -> Result<()> {
    match kind.is_machine() && selection != OrganizationSelection::None {
        true => Err(Error::invalid(
            "organization_selection: a machine application signs no user in (only none)",
        )),
        false => Ok(()),
    }
}

/// A registered application.
#[derive(Clone)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// SHA-256 (hex) of the client secret, for confidential applications.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub first_party: bool,
    /// What a `machine` application may be granted (empty for the other kinds).
    pub permissions: Vec<String>,
    /// Whether its sign-ins ask for one of the user's organizations.
    pub organization_selection: OrganizationSelection,
    /// Where a logout token is POSTed when a sign-in it holds a grant under ends (OpenID
    /// Connect Back-Channel Logout; `web` applications only).
    pub backchannel_logout_uri: Option<String>,
    /// The browser origins (normalised, see [`origins`]) that may read its answers from the
    /// token, revocation and userinfo endpoints; only public applications have any.
    pub allowed_cors_origins: Vec<String>,
    /// Its access and ID tokens' lifetime, when shorter than the instance's.
    pub access_token_ttl_secs: Option<i64>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// The secret a rotation replaced (its hash) and until when it is still accepted.
    pub previous_secret: Option<(String, UnixTime)>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Whether a browser at `origin` (the request's `Origin`) may read this application's
    /// answers.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_cors_origins.iter().any(|o| o == origin)
    }

    /// Whether `presented` is this application's secret, or the one it replaced while that is
    /// in its grace period (constant time; both are compared).
    pub fn secret_matches(&self, presented: &str, now: UnixTime) -> bool {
        let Some(stored) = &self.secret_hash else {
            return false;
        };
        let hash = sha256_hex(presented);
        let current = constant_time_eq(hash.as_bytes(), stored.as_bytes());
        let previous = self.previous_secret.as_ref().is_some_and(|(old, until)| {
            constant_time_eq(hash.as_bytes(), old.as_bytes()) && now < *until
        });
        current | previous
    }

    /// Whether the authorization flow may send users to `uri`: one of the registered redirect
    /// URIs, character for character, and allowed by the instance (see [`instance_allows`]).
    pub fn allows_redirect(&self, config: &InstanceConfig, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri) && instance_allows(config, uri)
    }

    /// How long its access and ID tokens live: its own lifetime, but never longer than the
    /// instance's (which may have been lowered since the application was registered).
    pub fn access_token_ttl(&self, config: &InstanceConfig) -> i64 {
        let instance = config.tokens.access_token_ttl_secs as i64;
        self.access_token_ttl_secs
            .map_or(instance, |own| own.min(instance))
    }

    /// The same for where RP-initiated logout may send users.
    pub fn allows_post_logout_redirect(&self, config: &InstanceConfig, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri) && instance_allows(config, uri)
    }

    pub fn view(&self) -> ApplicationView {
        ApplicationView {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            first_party: self.first_party,
            permissions: self.permissions.clone(),
            organization_selection: self.organization_selection,
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            allowed_cors_origins: self.allowed_cors_origins.clone(),
            access_token_ttl_secs: self.access_token_ttl_secs,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            previous_secret_expires_at: self.previous_secret.as_ref().map(|(_, at)| rfc3339(*at)),
        }
    }
}

/// An application as the admin API shows it (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    #[schema(pattern = "^app_[0-9a-f]{32}$")]
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub first_party: bool,
    /// What a `machine` application may be granted by `client_credentials` (empty for the
    /// other kinds).
    pub permissions: Vec<String>,
    /// Whether a sign-in whose request names no `organization` asks the user for one of
    /// theirs (`optional`, `required`) or not (`none`).
    pub organization_selection: OrganizationSelection,
    /// Where the instance POSTs a logout token when a sign-in this application holds a grant
    /// under ends (OpenID Connect Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<String>,
    /// Browser origins (`scheme://host[:port]`) whose calls to the token, revocation and
    /// userinfo endpoints get CORS answers; only `spa` and `native` applications have them.
    pub allowed_cors_origins: Vec<String>,
    /// Seconds its access and ID tokens live; `null`: the instance's
    /// `tokens.access_token_ttl_secs` (the shorter of the two always wins).
    pub access_token_ttl_secs: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// When the last rotation asked for a grace period: until when the secret it replaced is
    /// (or was) still accepted.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

pub fn new_application_id() -> String {
    format!("app_{}", uuid::Uuid::now_v7().simple())
}

/// A fresh client secret and the hash to store.
pub fn new_secret() -> (SecretString, String) {
    let secret = random_secret(SECRET_PREFIX, 32);
    let hash = sha256_hex(secret.expose_secret());
    (secret, hash)
}

/// The instance's own say over where its applications may send users: when the
/// configuration's `security.redirect_uris` is not empty, only there (exact match). It is a
/// revisioned setting, so adding a return address is a reviewed change that a rollback undoes;
/// it is checked on every request, not only at registration.
pub fn instance_allows(config: &InstanceConfig, uri: &str) -> bool {
    let allowed = &config.security.redirect_uris;
    allowed.is_empty() || allowed.iter().any(|a| a == uri)
}

/// Checks registered URIs against the instance's list; the error names the first outside it.
pub fn check_instance_allows(config: &InstanceConfig, field: &str, uris: &[String]) -> Result<()> {
    match uris.iter().position(|uri| !instance_allows(config, uri)) {
        Some(i) => Err(Error::invalid(format!(
            "{field}[{i}]: is not in this instance's security.redirect_uris"
        ))),
        None => Ok(()),
    }
}

/// A display name: 1 to 200 characters, no control characters.
pub fn parse_name(field: &str, raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{field}: must be 1 to 200 characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Validates a `machine` application's permissions against the live catalogue: each known,
/// no more than the catalogue holds; duplicates are dropped, the order kept.
pub fn parse_permissions(
    catalogue: &crate::rbac::Catalogue,
    kind: Kind,
    permissions: &[String],
) -> Result<Vec<String>> {
    if !kind.is_machine() {
        return match permissions.is_empty() {
            true => Ok(Vec::new()),
            false => Err(Error::invalid(
                "permissions: only machine applications have permissions",
            )),
        };
    }
    if permissions.len() > MAX_PERMISSIONS {
        return Err(Error::invalid(format!(
            "permissions: at most {MAX_PERMISSIONS}"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(permissions.len());
    for (i, p) in permissions.iter().enumerate() {
        if !catalogue.contains(p) {
            return Err(Error::invalid(format!(
                "permissions[{i}]: `{}` is not in this instance's permission catalogue \
                 (organizations.permissions)",
                p.chars().take(100).collect::<String>()
            )));
        }
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A machine application has no redirect URIs: it signs no user in.
pub fn check_no_redirects(kind: Kind, field: &str, uris: &[String]) -> Result<()> {
    match kind.is_machine() && !uris.is_empty() {
        true => Err(Error::invalid(format!(
            "{field}: a machine application has none (it signs no user in)"
        ))),
        false => Ok(()),
    }
}

/// An application's token lifetime: 30 seconds up to the instance's own lifetime.
pub fn parse_access_token_ttl(config: &InstanceConfig, ttl: Option<i64>) -> Result<Option<i64>> {
    let instance = config.tokens.access_token_ttl_secs as i64;
    match ttl {
        Some(secs) if !(30..=instance).contains(&secs) => Err(Error::invalid(format!(
            "access_token_ttl_secs: must be 30 to {instance} (this instance's \
             tokens.access_token_ttl_secs)"
        ))),
        other => Ok(other),
    }
}

/// A back-channel logout URI: the rules of a redirect URI, for a `web` application only (the
/// others have no server of their own to receive it).
pub fn parse_backchannel_logout_uri(kind: Kind, uri: Option<&str>) -> Result<Option<String>> {
    const FIELD: &str = "backchannel_logout_uri";
    let Some(uri) = uri else {
        return Ok(None);
    };
    if kind != Kind::Web {
        return Err(Error::invalid(format!(
            "{FIELD}: only web applications have one (it is called server to server)"
        )));
    }
    check_redirect_uri(uri).map_err(|why| Error::invalid(format!("{FIELD}: {why}")))?;
    Ok(Some(uri.to_owned()))
}

/// Validates a list of redirect URIs; errors name the offending entry (`redirect_uris[2]`).
pub fn parse_redirect_uris(field: &str, uris: &[String]) -> Result<Vec<String>> {
    if uris.len() > MAX_URIS {
        return Err(Error::invalid(format!("{field}: at most {MAX_URIS} URIs")));
    }
    let mut out: Vec<String> = Vec::with_capacity(uris.len());
    for (i, uri) in uris.iter().enumerate() {
        check_redirect_uri(uri).map_err(|why| Error::invalid(format!("{field}[{i}]: {why}")))?;
        if !out.contains(uri) {
            out.push(uri.clone());
        }
    }
    Ok(out)
}

/// An absolute `https` URL, or `http` on a loopback host; no fragment, no wildcard, no
/// credentials, and written exactly as it parses (so that string comparison is meaningful).
pub fn check_redirect_uri(uri: &str) -> std::result::Result<(), &'static str> {
    if uri.len() > MAX_URI_LENGTH {
        return Err("is longer than 2048 characters");
    }
    if uri.contains('*') {
        return Err("must not contain wildcards");
    }
    if uri.contains('#') {
        return Err("must not contain a fragment");
    }
    if uri
        .chars()
        .any(|c| c.is_ascii_control() || c == ' ' || !c.is_ascii())
    {
        return Err("must not contain spaces, control or non-ASCII characters");
    }
    let parsed = url::Url::parse(uri).map_err(|_| "must be an absolute URL")?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain credentials");
    }
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => return Err("must use https (http only for localhost, 127.0.0.1 or [::1])"),
        _ => return Err("must be an https URL (or http on a loopback host)"),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must have a host");
    }
    if parsed.as_str() != uri {
        return Err(
            "must be written in its normalized form (lowercase scheme and host, explicit path)",
        );
    }
    Ok(())
}

fn is_loopback(url: &url::Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_checked_strictly() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?x=1",
            "http://localhost:3000/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
        ] {
            assert_eq!(check_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://app.example.com/cb",
            "https://app.example.com/cb#x",
            "https://*.example.com/cb",
            "javascript:alert(1)",
            "/relative",
            "https://user:pw@app.example.com/cb",
            "HTTPS://APP.example.com/cb",
            "https://app.example.com",
            "ftp://app.example.com/cb",
            "https://app.example.com/a b",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_compared_by_hash() {
        let (secret, hash) = new_secret();
        let app = Application {
            id: new_application_id(),
            name: "x".into(),
            kind: Kind::Web,
            secret_hash: Some(hash),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            first_party: true,
            permissions: vec![],
            organization_selection: OrganizationSelection::None,
            backchannel_logout_uri: None,
            allowed_cors_origins: vec![],
            access_token_ttl_secs: None,
            created_at: 0,
            updated_at: 0,
            previous_secret: None,
        };
        assert!(app.secret_matches(secret.expose_secret(), 0));
        assert!(!app.secret_matches("acs_wrong", 0));
    }
}

//! Configuration. [`ServerConfig`] is how the process runs (where, on which database, with which
//! secrets); [`InstanceConfig`] is how the instance behaves, the typed document that revisions
//! version. Both default to values that run on one machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How the process runs. Filled from command-line flags and `AUTHSTACK_*` environment variables.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Holds the SQLite database, the master key, and the mail outbox.
    pub data_dir: PathBuf,
    /// `postgres://...` for production; `None` means SQLite in `data_dir`.
    pub database_url: Option<SecretString>,
    /// Base64 of 32 bytes; overrides `data_dir/master.key` (e.g. from a Kubernetes Secret).
    pub master_key: Option<SecretString>,
    /// The `iss` claim and the base of discovery URLs. Defaults to `http://{listen}`.
    pub issuer: Option<String>,
    /// Earlier issuers of this instance: tokens they name still verify here (until they
    /// expire) after the instance moved to a new public address.
    pub previous_issuers: Vec<String>,
    /// The `aud` claim. Defaults to this instance's id.
    pub audience: Option<String>,
    /// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required` (STARTTLS), or
    /// plain `smtp://host:25` for a local relay; `None` writes mail to the outbox.
    pub smtp_url: Option<SecretString>,
    /// `redis://host:6379` or `rediss://…` (TLS): rate-limit counters shared with the other
    /// replicas there; `None` keeps them in the database (shared by every process using it).
    pub redis_url: Option<SecretString>,
    /// Use the left-most `X-Forwarded-For` address as the client IP (only behind our gateway).
    pub trust_forwarded_for: bool,
    /// When set, every request but `/healthz` and `/readyz` must carry it in
    /// `X-AuthStack-Gateway`: the instance then answers only the AuthStack gateway (and the
    /// supervisor that started it).
    pub gateway_secret: Option<SecretString>,
    /// Let webhooks target loopback, private, link-local and unique-local addresses (for
    /// `authstack dev` and tests); refused otherwise.
    pub allow_private_webhooks: bool,
    /// Who hears about the instance's operation (a webhook endpoint disabled after sustained
    /// failure): the instance's owner, set by whoever runs it. `None`: nobody is mailed.
    pub notify_email: Option<String>,
    /// Behaviour; see [`InstanceConfig`].
    pub instance: InstanceConfig,
}

impl ServerConfig {
    /// A configuration for `data_dir` with every other setting at its default.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7300)),
            data_dir: data_dir.into(),
            database_url: None,
            master_key: None,
            issuer: None,
            previous_issuers: Vec::new(),
            audience: None,
            smtp_url: None,
            redis_url: None,
            trust_forwarded_for: false,
            gateway_secret: None,
            allow_private_webhooks: false,
            notify_email: None,
            instance: InstanceConfig::default(),
        }
    }
}

/// Everything about how an instance behaves: the typed document that revisions version. Unknown
/// fields are rejected so that a typo in a config file is an error rather than a silently
/// ignored setting. `config.schema.json` is generated from these types (`authstack-instance
/// config-schema`).
///
/// Which fields the instance enforces today and which it only records (for features it does not
/// implement yet: social and SAML sign-in, magic links, MFA, CAPTCHA) is listed
/// in `docs/configuration.md`; every field is exposed to the SDK by `GET /v1/config/public` where
/// it is safe to show.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    pub auth: AuthConfig,
    pub passwords: PasswordPolicy,
    pub tokens: TokenConfig,
    pub rate_limits: RateLimits,
    pub mail: MailConfig,
    pub organizations: OrganizationsConfig,
    pub audit: AuditConfig,
    pub security: SecurityConfig,
    pub branding: Branding,
    pub i18n: I18nConfig,
    pub webhooks: Vec<Webhook>,
}

/// A validation problem, with the dotted path of the field it is about
/// (`passwords.min_length`, `webhooks[0].url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl InstanceConfig {
    /// Reads a YAML (or JSON, which is YAML) file and validates it.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let config = InstanceConfig::from_yaml(&text)
            .map_err(|errors| anyhow::anyhow!("{}: {}", path.display(), join(&errors)))?;
        Ok(config)
    }

    /// Parses and validates YAML (or JSON); every error names its field path.
    pub fn from_yaml(text: &str) -> Result<Self, Vec<FieldError>> {
        let deserializer = serde_yaml::Deserializer::from_str(text);
        let config: InstanceConfig =
            serde_path_to_error::deserialize(deserializer).map_err(|err| {
                vec![FieldError {
                    path: display_path(&err.path().to_string()),
                    message: err.inner().to_string(),
                }]
            })?;
        config.check()?;
        Ok(config)
    }

    /// Builds a config from a JSON value (e.g. a patched document) and validates it.
    pub fn from_json(value: serde_json::Value) -> Result<Self, Vec<FieldError>> {
        let config: InstanceConfig = serde_path_to_error::deserialize(value).map_err(|err| {
            vec![FieldError {
                path: display_path(&err.path().to_string()),
                message: err.inner().to_string(),
            }]
        })?;
        config.check()?;
        Ok(config)
    }

    /// Checks what the types cannot express; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        self.check().map_err(|errors| join(&errors))
    }

    /// Every problem at once, each with its field path.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut error = |path: &str, message: String| {
            errors.push(FieldError {
                path: path.to_owned(),
                message,
            })
        };
        if let Err(message) = crate::rbac::Catalogue::from_config(&self.organizations) {
            error("organizations.permissions", message);
        }
        let passwords = &self.passwords;
        if passwords.min_length < 6 {
            error(
                "passwords.min_length",
                "must be at least 6 (NIST SP 800-63B asks for 8)".into(),
            );
        }
        if passwords.max_length < passwords.min_length || passwords.max_length > 4096 {
            error(
                "passwords.max_length",
                "must be between min_length and 4096".into(),
            );
        }
        let tokens = &self.tokens;
        if !(30..=86_400).contains(&tokens.access_token_ttl_secs) {
            error(
                "tokens.access_token_ttl_secs",
                "must be between 30 seconds and one day".into(),
            );
        }
        if tokens.session_lifetime_secs < 300 {
            error(
                "tokens.session_lifetime_secs",
                "must be at least 300 seconds".into(),
            );
        }
        if let Some(idle) = tokens.session_idle_timeout_secs
            && (idle < 60 || idle > tokens.session_lifetime_secs)
        {
            error(
                "tokens.session_idle_timeout_secs",
                "must be at least 60 seconds and at most the session lifetime".into(),
            );
        }
        for (name, limit) in [
            (
                "failed_logins_per_ip",
                &self.rate_limits.failed_logins_per_ip,
            ),
            (
                "failed_logins_per_account",
                &self.rate_limits.failed_logins_per_account,
            ),
            ("signups_per_ip", &self.rate_limits.signups_per_ip),
            ("mails_per_address", &self.rate_limits.mails_per_address),
        ] {
            if limit.max == 0 || limit.window_secs == 0 {
                error(
                    &format!("rate_limits.{name}"),
                    "max and window_secs must both be positive".into(),
                );
            }
        }
        let auth = &self.auth;
        if !auth.methods.password
            && !auth.methods.magic_link
            && !auth.methods.passkeys
            && !auth.social.google.enabled
            && !auth.social.github.enabled
        {
            error(
                "auth.methods",
                "at least one way to sign in must stay enabled".into(),
            );
        }
        if auth.methods.magic_link && self.mail.from.trim().is_empty() {
            error("mail.from", "magic links need a sender address".into());
        }
        if auth.mfa.mode != MfaMode::Off && auth.mfa.methods.is_empty() {
            error(
                "auth.mfa.methods",
                "name at least one method when MFA is on".into(),
            );
        }
        for (name, provider) in [
            ("google", &auth.social.google),
            ("github", &auth.social.github),
        ] {
            if provider.client_id.as_deref().is_some_and(str::is_empty) {
                error(
                    &format!("auth.social.{name}.client_id"),
                    "must not be empty when given".into(),
                );
            }
        }
        if auth.captcha.provider != CaptchaProvider::None
            && auth.captcha.site_key.as_deref().is_some_and(str::is_empty)
        {
            error(
                "auth.captcha.site_key",
                "must not be empty when given".into(),
            );
        }
        for (i, origin) in self.security.allowed_origins.iter().enumerate() {
            if let Err(message) = check_origin(origin) {
                error(&format!("security.allowed_origins[{i}]"), message);
            }
        }
        for (i, uri) in self.security.redirect_uris.iter().enumerate() {
            if let Err(message) = check_url(uri, true) {
                error(&format!("security.redirect_uris[{i}]"), message);
            }
        }
        for (i, cidr) in self.security.admin_ip_allowlist.iter().enumerate() {
            if let Err(message) = IpNet::parse(cidr) {
                error(&format!("security.admin_ip_allowlist[{i}]"), message);
            }
        }
        if !is_hex_color(&self.branding.primary_color) {
            error(
                "branding.primary_color",
                "must be a hex color like #4f46e5".into(),
            );
        }
        if let Some(logo) = &self.branding.logo_url
            && let Err(message) = check_url(logo, false)
        {
            error("branding.logo_url", message);
        }
        if !is_language_tag(&self.i18n.default_language) {
            error(
                "i18n.default_language",
                "must be a language tag like en or pt-BR".into(),
            );
        } else if let Some(message) = untranslated(&self.i18n.default_language) {
            error("i18n.default_language", message);
        }
        for (i, language) in self.i18n.languages.iter().enumerate() {
            if let Some(message) = untranslated(language).filter(|_| is_language_tag(language)) {
                error(&format!("i18n.languages[{i}]"), message);
            }
            if !is_language_tag(language) {
                error(
                    &format!("i18n.languages[{i}]"),
                    "must be a language tag like en or pt-BR".into(),
                );
            }
        }
        if !self.i18n.languages.is_empty()
            && !self.i18n.languages.contains(&self.i18n.default_language)
        {
            error(
                "i18n.default_language",
                "must be one of i18n.languages".into(),
            );
        }
        for (i, hook) in self.webhooks.iter().enumerate() {
            if let Err(message) = check_url(&hook.url, true) {
                error(&format!("webhooks[{i}].url"), message);
            }
            if hook.events.is_empty() {
                error(
                    &format!("webhooks[{i}].events"),
                    "name at least one event (or \"*\")".into(),
                );
            }
            for (j, event) in hook.events.iter().enumerate() {
                if !is_event_pattern(event) {
                    error(
                        &format!("webhooks[{i}].events[{j}]"),
                        "must be an event name like user.created, a prefix like auth.*, or *"
                            .into(),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// serde_path_to_error writes `.` for the root; callers read a field path.
fn display_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "(document)".into()
    } else {
        path.to_owned()
    }
}

fn is_hex_color(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Why the hosted pages cannot speak `tag`, if they cannot.
fn untranslated(tag: &str) -> Option<String> {
    use crate::languages::Language;
    Language::of_tag(tag).is_none().then(|| {
        format!(
            "the hosted pages are not translated to {tag}; they speak {}",
            Language::tags()
        )
    })
}

fn is_language_tag(value: &str) -> bool {
    let mut parts = value.split('-');
    let language = parts.next().unwrap_or_default();
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|part| {
            (2..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// An event name (`user.created`), a prefix (`auth.*`) or `*`: what a webhook endpoint's
/// `events` may list.
pub fn is_event_pattern(value: &str) -> bool {
    value == "*"
        || (!value.is_empty()
            && value.split('.').enumerate().all(|(i, part)| {
                (part == "*" && i > 0 && value.ends_with(".*"))
                    || (!part.is_empty()
                        && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            }))
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host == "127.0.0.1" || host == "[::1]"
}

/// `https://host[:port]`, or `http://` for loopback hosts; no path.
fn check_origin(origin: &str) -> Result<(), String> {
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or("must be an origin like https://app.example.com")?;
    if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err("must be an origin like https://app.example.com (no path)".into());
    }
    let host = rest.rsplit_once(':').map_or(rest, |(host, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            host
        } else {
            rest
        }
    });
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        _ => Err("must use https (http only for localhost)".into()),
    }
}

/// An absolute `https://` URL (or `http://` to a loopback host); `exact` also refuses
/// fragments and wildcards, as redirect URIs are matched exactly.
fn check_url(url: &str, exact: bool) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("must be an absolute URL like https://app.example.com/callback")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("must name a host".into());
    }
    if exact && (url.contains('#') || url.contains('*')) {
        return Err("must not contain a fragment or a wildcard (matched exactly)".into());
    }
    if url.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".into());
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host);
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        _ => Err("must use https (http only for localhost)".into()),
    }
}

/// An IPv4 or IPv6 network in CIDR notation (`203.0.113.0/24`), or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    address: std::net::IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(value: &str) -> Result<IpNet, String> {
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let address: std::net::IpAddr = address
            .parse()
            .map_err(|_| format!("{value:?} is not an IP address or CIDR network"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("{value:?} has an invalid prefix length"))?,
        };
        Ok(IpNet { address, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// How end users sign up and sign in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Users must verify their email before they can log in. When on, signup answers the same
    /// for new and existing addresses (the session starts from the emailed link), so signup does
    /// not reveal which addresses have accounts.
    pub require_email_verification: bool,
    pub methods: AuthMethods,
    pub social: SocialLogin,
    pub saml: SamlConfig,
    pub mfa: MfaPolicy,
    pub captcha: Captcha,
    pub signup: SignupConfig,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            require_email_verification: true,
            methods: AuthMethods::default(),
            social: SocialLogin::default(),
            saml: SamlConfig::default(),
            mfa: MfaPolicy::default(),
            captcha: Captcha::default(),
            signup: SignupConfig::default(),
        }
    }
}

/// First-factor methods.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuthMethods {
    /// Email and password (enforced: login and signup refuse with `method_disabled` when off).
    pub password: bool,
    /// Passwordless sign-in by an emailed one-time link.
    pub magic_link: bool,
    /// WebAuthn passkeys.
    pub passkeys: bool,
}

impl Default for AuthMethods {
    fn default() -> Self {
        AuthMethods {
            password: true,
            magic_link: false,
            passkeys: false,
        }
    }
}

/// Sign-in with another identity provider (OAuth 2.0 / OpenID Connect).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SocialLogin {
    pub google: SocialProvider,
    pub github: SocialProvider,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SocialProvider {
    pub enabled: bool,
    /// The OAuth client id from the provider's console. The client secret is not part of the
    /// configuration (revisions are exported and diffed): the instance reads it from
    /// `AUTHSTACK_SOCIAL_<PROVIDER>_CLIENT_SECRET`.
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
}

impl Default for SocialProvider {
    fn default() -> Self {
        SocialProvider {
            enabled: false,
            client_id: None,
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
        }
    }
}

/// SAML single sign-on for the customer's enterprise tenants (organizations).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SamlConfig {
    pub enabled: bool,
    /// Organizations may configure their own SAML identity provider (an organization setting,
    /// not part of this document).
    pub per_organization: bool,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMode {
    #[default]
    Off,
    /// Users may enrol.
    Optional,
    /// Every user must enrol.
    Required,
    /// Owners and admins of an organization must enrol.
    RequiredForAdmins,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    Totp,
    Webauthn,
    Sms,
}

/// Second factors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MfaPolicy {
    pub mode: MfaMode,
    pub methods: Vec<MfaMethod>,
}

impl Default for MfaPolicy {
    fn default() -> Self {
        MfaPolicy {
            mode: MfaMode::Off,
            methods: vec![MfaMethod::Totp, MfaMethod::Webauthn],
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptchaProvider {
    #[default]
    None,
    Turnstile,
    Hcaptcha,
    Recaptcha,
}

/// A CAPTCHA challenge on the forms bots target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Captcha {
    pub provider: CaptchaProvider,
    /// The provider's public site key (the secret key is read from
    /// `AUTHSTACK_CAPTCHA_SECRET`, never stored here).
    pub site_key: Option<String>,
    pub on_signup: bool,
    pub on_login: bool,
}

impl Default for Captcha {
    fn default() -> Self {
        Captcha {
            provider: CaptchaProvider::None,
            site_key: None,
            on_signup: true,
            on_login: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldRule {
    /// Not asked.
    Off,
    #[default]
    Optional,
    Required,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SignupConfig {
    /// Whether new users may sign up at all (invitations still work when off).
    pub enabled: bool,
    pub fields: SignupFields,
}

impl Default for SignupConfig {
    fn default() -> Self {
        SignupConfig {
            enabled: true,
            fields: SignupFields::default(),
        }
    }
}

/// What the signup form asks for besides email and password.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SignupFields {
    pub name: FieldRule,
    pub phone: FieldRule,
}

impl Default for SignupFields {
    fn default() -> Self {
        SignupFields {
            name: FieldRule::Optional,
            phone: FieldRule::Off,
        }
    }
}

/// Who may call the instance from where.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Browser origins the customer's app runs on (`https://app.example.com`).
    pub allowed_origins: Vec<String>,
    /// When not empty, the only addresses the OpenID Provider may send users back to (after
    /// sign-in and sign-out), besides each application registering them; matched exactly.
    pub redirect_uris: Vec<String>,
    /// When not empty, the admin API (`/v1/admin/...`, secret keys) and organization
    /// administration by owners and admins answer only clients from these networks (CIDR).
    pub admin_ip_allowlist: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Appearance {
    #[default]
    Light,
    Dark,
    /// Follows the user's system setting.
    Auto,
}

/// How the hosted pages look (sign-in, sign-up, consent, sign-out and the pages mailed links
/// open). The SDK's React components take their own `theme` prop; the emails are not branded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    /// `#rrggbb`.
    pub primary_color: String,
    pub logo_url: Option<String>,
    pub appearance: Appearance,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            primary_color: "#4f46e5".into(),
            logo_url: None,
            appearance: Appearance::Light,
        }
    }
}

/// Languages of the hosted pages, chosen per request by `ui_locales` and `Accept-Language`
/// among these (each must be one the pages are translated to: en, de, fr). The emails are in
/// English.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct I18nConfig {
    pub default_language: String,
    /// Offered languages; empty = only the default.
    pub languages: Vec<String>,
}

impl Default for I18nConfig {
    fn default() -> Self {
        I18nConfig {
            default_language: "en".into(),
            languages: Vec::new(),
        }
    }
}

/// A target that receives the instance's events (audit events) as signed HTTP POSTs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    /// Event names (`user.created`), prefixes (`auth.*`) or `*`.
    pub events: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    /// Reject passwords found in the common-password list.
    pub reject_common: bool,
    /// A file with one password per line; the built-in list when absent.
    pub common_list_file: Option<PathBuf>,
    /// Organizations may require a longer minimum for their members (an organization setting,
    /// never weaker than this policy).
    pub organization_overrides: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 256,
            reject_common: true,
            common_list_file: None,
            organization_overrides: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    pub access_token_ttl_secs: u64,
    /// Absolute lifetime of a session (and of its refresh tokens).
    pub session_lifetime_secs: u64,
    /// A session unused for this long ends (its refresh token is refused); `None` = only the
    /// absolute lifetime applies.
    pub session_idle_timeout_secs: Option<u64>,
    /// Replaying a rotated refresh token within this many seconds of its rotation is refused
    /// without revoking the family (tolerates a client's benign double submit). 0 = strict.
    pub refresh_reuse_leeway_secs: u64,
    pub email_verification_ttl_secs: u64,
    pub password_reset_ttl_secs: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            access_token_ttl_secs: 300,
            session_lifetime_secs: 30 * 24 * 3600,
            session_idle_timeout_secs: None,
            refresh_reuse_leeway_secs: 0,
            email_verification_ttl_secs: 24 * 3600,
            password_reset_ttl_secs: 3600,
        }
    }
}

/// `max` events per `window_secs`, counted per key.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u64,
}

impl Limit {
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub failed_logins_per_ip: Limit,
    pub failed_logins_per_account: Limit,
    pub signups_per_ip: Limit,
    pub mails_per_address: Limit,
    /// Forgot-password and resend-verification requests from one IP, whatever the address:
    /// counted before the answer, the same for every address.
    pub link_requests_per_ip: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            failed_logins_per_ip: Limit {
                max: 50,
                window_secs: 900,
            },
            failed_logins_per_account: Limit {
                max: 10,
                window_secs: 900,
            },
            signups_per_ip: Limit {
                max: 20,
                window_secs: 3600,
            },
            mails_per_address: Limit {
                max: 5,
                window_secs: 3600,
            },
            link_requests_per_ip: Limit {
                max: 30,
                window_secs: 3600,
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    pub from: String,
    /// The customer's application, where emailed links point (`/verify-email?token=...`,
    /// `/reset-password?token=...`). Defaults to the issuer.
    pub link_base_url: Option<String>,
    pub product_name: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            from: "AuthStack <no-reply@authstack.local>".into(),
            link_base_url: None,
            product_name: "AuthStack".into(),
        }
    }
}

/// Organizations, their roles and their limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrganizationsConfig {
    /// The customer's own permissions (`resource:action`, e.g. `projects:create`), added to the
    /// built-in catalogue. Owners hold them all; other roles as granted.
    pub permissions: Vec<String>,
    /// Extra permissions granted to the built-in roles (beyond their documented defaults).
    pub role_grants: RoleGrants,
    /// Organizations in the whole instance (plan limit); `None` = unlimited.
    pub max_organizations: Option<u32>,
    /// Members plus pending invitations per organization (plan limit).
    pub max_members_per_organization: Option<u32>,
    /// Whether organization admins may define their own roles.
    pub custom_roles: bool,
    /// Custom roles per organization (plan limit).
    pub max_custom_roles_per_organization: Option<u32>,
    pub invitation_ttl_secs: u64,
}

impl Default for OrganizationsConfig {
    fn default() -> Self {
        OrganizationsConfig {
            permissions: Vec::new(),
            role_grants: RoleGrants::default(),
            max_organizations: None,
            max_members_per_organization: None,
            custom_roles: true,
            max_custom_roles_per_organization: Some(20),
            invitation_ttl_secs: 7 * 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoleGrants {
    pub admin: Vec<String>,
    pub member: Vec<String>,
    pub viewer: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Events older than this are deleted by a background task.
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention_days: 365,
        }
    }
}

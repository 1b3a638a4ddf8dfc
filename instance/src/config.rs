//! Configuration. [`ServerConfig`] is how the process runs (where, on which database, with which
//! secrets); [`InstanceConfig`] is how the instance behaves, the typed document that revisions
//! version. Both default to values that run on one machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// The `aud` claim. Defaults to this instance's id.
    pub audience: Option<String>,
    /// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required` (STARTTLS), or
    /// plain `smtp://host:25` for a local relay; `None` writes mail to the outbox.
    pub smtp_url: Option<SecretString>,
    /// Use the left-most `X-Forwarded-For` address as the client IP (only behind our gateway).
    pub trust_forwarded_for: bool,
    /// When set, every request but `/healthz` and `/readyz` must carry it in
    /// `X-AuthStack-Gateway`: the instance then answers only the AuthStack gateway (and the
    /// supervisor that started it).
    pub gateway_secret: Option<SecretString>,
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
            audience: None,
            smtp_url: None,
            trust_forwarded_for: false,
            gateway_secret: None,
            instance: InstanceConfig::default(),
        }
    }
}

/// Everything about how an instance behaves. Unknown fields are rejected so that a typo in a
/// config file is an error rather than a silently ignored setting.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    pub auth: AuthConfig,
    pub passwords: PasswordPolicy,
    pub tokens: TokenConfig,
    pub rate_limits: RateLimits,
    pub mail: MailConfig,
    pub organizations: OrganizationsConfig,
    pub audit: AuditConfig,
}

impl InstanceConfig {
    /// Reads a YAML (or JSON, which is YAML) file and validates it.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let config: InstanceConfig =
            serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// Checks what the types cannot express; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        crate::rbac::Catalogue::from_config(&self.organizations).map(|_| ())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Users must verify their email before they can log in. When on, signup answers the same
    /// for new and existing addresses (the session starts from the emailed link), so signup does
    /// not reveal which addresses have accounts.
    pub require_email_verification: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            require_email_verification: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    /// Reject passwords found in the common-password list.
    pub reject_common: bool,
    /// A file with one password per line; the built-in list when absent.
    pub common_list_file: Option<PathBuf>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 256,
            reject_common: true,
            common_list_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    pub access_token_ttl_secs: u64,
    /// Absolute lifetime of a session (and of its refresh tokens).
    pub session_lifetime_secs: u64,
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
            refresh_reuse_leeway_secs: 0,
            email_verification_ttl_secs: 24 * 3600,
            password_reset_ttl_secs: 3600,
        }
    }
}

/// `max` events per `window_secs`, counted per key.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub failed_logins_per_ip: Limit,
    pub failed_logins_per_account: Limit,
    pub signups_per_ip: Limit,
    pub mails_per_address: Limit,
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
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
            max_custom_roles_per_organization: Some(20),
            invitation_ttl_secs: 7 * 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RoleGrants {
    pub admin: Vec<String>,
    pub member: Vec<String>,
    pub viewer: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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

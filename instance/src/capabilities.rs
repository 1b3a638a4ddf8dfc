//! Which parts of [`InstanceConfig`] the instance acts on, and which it only records.
//!
//! The configuration covers features that are not built yet (MFA, passkeys, social and SAML
//! sign-in, CAPTCHA, redirect flows, themed and localised components). Such fields are
//! validated, versioned and deployed, but nothing at runtime reads them. This table is the one
//! place that says so: `GET /v1/config/public` reports it per capability, the control plane's
//! customization and verification read it so that no result claims an inactive setting works,
//! and the dashboard labels its fields from it. When a feature lands, its row flips to active
//! in the same change that adds the test showing an end user meeting its effect.

use serde::Serialize;

use crate::config::InstanceConfig;

/// A configuration subtree the instance does not act on yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Setting {
    /// The dotted configuration path; it covers every field below it.
    pub path: &'static str,
    /// What it is, in the product's words.
    pub label: &'static str,
    /// Whether the instance acts on it.
    pub active: bool,
}

/// Every configuration subtree whose effect is not (yet) implemented, plus the implemented
/// ones a customer is likely to ask about. A path not covered by an inactive row is enforced.
pub const SETTINGS: &[Setting] = &[
    Setting {
        path: "auth.methods.password",
        label: "Email and password sign-in",
        active: true,
    },
    Setting {
        path: "auth.methods.magic_link",
        label: "Magic links",
        active: false,
    },
    Setting {
        path: "auth.methods.passkeys",
        label: "Passkeys",
        active: false,
    },
    Setting {
        path: "auth.social",
        label: "Social sign-in (Google, GitHub)",
        active: false,
    },
    Setting {
        path: "auth.saml",
        label: "SAML single sign-on",
        active: false,
    },
    Setting {
        path: "auth.mfa",
        label: "Multi-factor authentication",
        active: false,
    },
    Setting {
        path: "auth.captcha",
        label: "CAPTCHA",
        active: false,
    },
    Setting {
        path: "auth.signup",
        label: "Sign-up switch and fields",
        active: true,
    },
    Setting {
        path: "auth.require_email_verification",
        label: "Email verification",
        active: true,
    },
    Setting {
        path: "passwords.organization_overrides",
        label: "Per-organization password policies",
        active: false,
    },
    Setting {
        path: "passwords",
        label: "Password policy",
        active: true,
    },
    Setting {
        path: "tokens",
        label: "Token and session lifetimes",
        active: true,
    },
    Setting {
        path: "rate_limits",
        label: "Rate limits",
        active: true,
    },
    Setting {
        path: "mail",
        label: "Mail sender and links",
        active: true,
    },
    Setting {
        path: "organizations",
        label: "Organizations, roles and permissions",
        active: true,
    },
    Setting {
        path: "audit",
        label: "Audit log retention",
        active: true,
    },
    Setting {
        path: "security.redirect_uris",
        label: "Redirect URIs",
        active: true,
    },
    Setting {
        path: "security.allowed_origins",
        label: "Allowed origins (CORS)",
        active: true,
    },
    Setting {
        path: "security.admin_ip_allowlist",
        label: "Admin API IP allowlist",
        active: true,
    },
    Setting {
        path: "branding",
        label: "Branding of the hosted pages",
        active: true,
    },
    Setting {
        path: "i18n",
        label: "Languages of the hosted pages",
        active: true,
    },
    Setting {
        path: "webhooks",
        label: "Webhooks",
        active: true,
    },
];

/// The most specific row covering `path` (a dotted path; `[n]` indexes are ignored).
pub fn setting(path: &str) -> Option<&'static Setting> {
    let path = strip_indexes(path);
    SETTINGS
        .iter()
        .filter(|s| covers(s.path, &path))
        .max_by_key(|s| s.path.len())
}

/// Whether the instance acts on the field at `path`.
pub fn is_active(path: &str) -> bool {
    setting(path).is_none_or(|s| s.active)
}

/// The inactive settings among `paths` (each once, in table order).
pub fn inactive_among<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<&'static Setting> {
    let mut found: Vec<&'static Setting> = paths
        .into_iter()
        .filter_map(setting)
        .filter(|s| !s.active)
        .collect();
    found.sort_by_key(|s| SETTINGS.iter().position(|t| t == *s));
    found.dedup();
    found
}

/// The rows whose fields `config` sets away from their defaults (each once, in table order).
pub fn in_use(config: &InstanceConfig) -> Vec<&'static Setting> {
    // The defaults as JSON, once: the public configuration asks on every request.
    static DEFAULTS: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(|| {
        serde_json::to_value(InstanceConfig::default()).unwrap_or_default()
    });
    let Ok(ours) = serde_json::to_value(config) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    differing_paths("", &ours, &DEFAULTS, &mut changed);
    let mut found: Vec<&'static Setting> = changed.iter().filter_map(|p| setting(p)).collect();
    found.sort_by_key(|s| SETTINGS.iter().position(|t| t == *s));
    found.dedup();
    found
}

/// The inactive settings that `config` sets away from their defaults: what a customer may
/// believe is working.
pub fn inactive_in_use(config: &InstanceConfig) -> Vec<&'static Setting> {
    in_use(config).into_iter().filter(|s| !s.active).collect()
}

fn differing_paths(
    prefix: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<String>,
) {
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (key, value) in a {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match b.get(key) {
                    Some(other) => differing_paths(&path, value, other, out),
                    None => out.push(path),
                }
            }
        }
        _ if a != b => out.push(prefix.to_owned()),
        _ => {}
    }
}

fn covers(row: &str, path: &str) -> bool {
    path == row
        || path
            .strip_prefix(row)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// `webhooks[0].url` → `webhooks.url`; JSON Pointers (`/auth/mfa/mode`) → dotted paths.
fn strip_indexes(path: &str) -> String {
    let dotted = if path.starts_with('/') {
        path.trim_start_matches('/')
            .split('/')
            .filter(|segment| !segment.chars().all(|c| c.is_ascii_digit()) && *segment != "-")
            .collect::<Vec<_>>()
            .join(".")
    } else {
        path.to_owned()
    };
    let mut out = String::with_capacity(dotted.len());
    let mut depth = 0;
    for c in dotted.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_row_decides() {
        assert!(!is_active("auth.mfa.mode"));
        assert!(!is_active("/auth/mfa/mode"));
        assert!(is_active("passwords.min_length"));
        assert!(!is_active("passwords.organization_overrides"));
        assert!(is_active("webhooks[0].url"));
        assert!(is_active("/webhooks/0/url"));
        assert!(is_active("/webhooks/-"));
        assert!(!is_active("passwords.organization_overrides"));
        assert!(is_active("security.allowed_origins"));
        assert!(is_active("security.redirect_uris"));
        // A prefix that is not a path segment does not cover.
        assert!(is_active("auth.mfa_x"));
        assert!(is_active("tokens.session_idle_timeout_secs"));
    }

    #[test]
    fn a_default_configuration_uses_nothing_inactive() {
        assert!(inactive_in_use(&InstanceConfig::default()).is_empty());
        let mut config = InstanceConfig::default();
        config.auth.mfa.mode = crate::config::MfaMode::Required;
        config.passwords.min_length = 12;
        let labels: Vec<_> = inactive_in_use(&config).iter().map(|s| s.path).collect();
        assert_eq!(labels, ["auth.mfa"]);
    }
}

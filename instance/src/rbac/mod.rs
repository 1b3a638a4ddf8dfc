//! Roles and permissions: the permission catalogue (built-in plus the customer's own), the
//! built-in roles, and the guardrail that nobody can hand out a permission they do not hold.

pub mod routes;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::config::OrganizationsConfig;
use crate::error::{Error, Result};

/// The permissions every instance has.
pub const BUILTIN_PERMISSIONS: [&str; 14] = [
    "organization:read",
    "organization:update",
    "organization:delete",
    "members:read",
    "members:invite",
    "members:update",
    "members:remove",
    "roles:read",
    "roles:manage",
    "audit:read",
    "billing:read",
    "billing:manage",
    "api_keys:manage",
    "webhooks:manage",
];

/// The built-in roles and their default permissions. Owner holds the whole catalogue.
pub const BUILTIN_ROLES: [(&str, &str, &str, &[&str]); 4] = [
    (
        "owner",
        "Owner",
        "Full control, including deleting the organization and billing.",
        &[],
    ),
    (
        "admin",
        "Admin",
        "Manages the organization, its members, roles, API keys and webhooks; cannot delete it or manage billing.",
        &[
            "organization:read",
            "organization:update",
            "members:read",
            "members:invite",
            "members:update",
            "members:remove",
            "roles:read",
            "roles:manage",
            "audit:read",
            "billing:read",
            "api_keys:manage",
            "webhooks:manage",
        ],
    ),
    (
        "member",
        "Member",
        "Sees the organization, its members and roles.",
        &["organization:read", "members:read", "roles:read"],
    ),
    (
        "viewer",
        "Viewer",
        "Sees the organization and its members.",
        &["organization:read", "members:read"],
    ),
];

pub const OWNER: &str = "owner";

/// The built-in permissions and roles as the SDKs read them (`authstack-instance builtins`):
/// `{"permissions": [...], "roles": [{"key", "name", "description", "permissions"}]}`; the
/// owner's list is empty because it holds the whole catalogue.
pub fn builtins() -> serde_json::Value {
    let roles: Vec<serde_json::Value> = BUILTIN_ROLES
        .iter()
        .map(|(key, name, description, permissions)| {
            serde_json::json!({
                "key": key,
                "name": name,
                "description": description,
                "permissions": permissions,
            })
        })
        .collect();
    serde_json::json!({ "permissions": BUILTIN_PERMISSIONS, "roles": roles })
}

/// Validates a permission name: `resource:action`, lowercase letters, digits, `_` and `-`.
pub fn parse_permission(raw: &str) -> Result<String, String> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && part.len() <= 64
            && part.starts_with(|c: char| c.is_ascii_lowercase())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    match raw.split_once(':') {
        Some((resource, action)) if valid_part(resource) && valid_part(action) => {
            Ok(raw.to_owned())
        }
        _ => Err(format!(
            "`{raw}` is not a permission of the form resource:action (lowercase)"
        )),
    }
}

/// A set of permissions, shared cheaply between requests.
pub type Permissions = Arc<BTreeSet<String>>;

/// The permission catalogue and the built-in roles' permissions, derived from the config.
#[derive(Debug, Clone)]
pub struct Catalogue {
    all: Permissions,
    builtin_roles: BTreeMap<&'static str, Permissions>,
}

impl Catalogue {
    /// Builds the catalogue; errors name the offending config field.
    pub fn from_config(config: &OrganizationsConfig) -> Result<Catalogue, String> {
        let mut all: BTreeSet<String> = BUILTIN_PERMISSIONS
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
        for (i, p) in config.permissions.iter().enumerate() {
            let p =
                parse_permission(p).map_err(|e| format!("organizations.permissions[{i}]: {e}"))?;
            if !all.insert(p.clone()) {
                return Err(format!(
                    "organizations.permissions[{i}]: `{p}` is listed twice or is built in"
                ));
            }
        }
        let mut builtin_roles = BTreeMap::new();
        for (key, _, _, defaults) in BUILTIN_ROLES {
            let grants = match key {
                "admin" => &config.role_grants.admin,
                "member" => &config.role_grants.member,
                "viewer" => &config.role_grants.viewer,
                _ => &Vec::new(),
            };
            let mut set: BTreeSet<String> = defaults.iter().map(|p| (*p).to_owned()).collect();
            for (i, p) in grants.iter().enumerate() {
                if !all.contains(p) {
                    return Err(format!(
                        "organizations.role_grants.{key}[{i}]: `{p}` is not in the permission catalogue"
                    ));
                }
                set.insert(p.clone());
            }
            if key == OWNER {
                set = all.clone();
            }
            builtin_roles.insert(key, Arc::new(set));
        }
        Ok(Catalogue {
            all: Arc::new(all),
            builtin_roles,
        })
    }

    pub fn all(&self) -> &Permissions {
        &self.all
    }

    pub fn contains(&self, permission: &str) -> bool {
        self.all.contains(permission)
    }

    /// The permissions of a built-in role, or `None` if `key` is not one.
    pub fn builtin_role(&self, key: &str) -> Option<&Permissions> {
        self.builtin_roles.get(key)
    }

    /// Validates a list of permissions for a custom role: known, no duplicates.
    pub fn parse_role_permissions(&self, permissions: &[String]) -> Result<BTreeSet<String>> {
        let mut set = BTreeSet::new();
        for p in permissions {
            parse_permission(p).map_err(Error::InvalidRequest)?;
            if !self.contains(p) {
                return Err(Error::invalid(format!(
                    "`{p}` is not in the permission catalogue"
                )));
            }
            set.insert(p.clone());
        }
        Ok(set)
    }
}

/// A role as resolved in one organization.
#[derive(Debug, Clone)]
pub struct Role {
    pub key: String,
    pub name: String,
    pub builtin: bool,
    pub permissions: Permissions,
}

/// The guardrail: `granted` may be handed out only by someone holding all of it. Returns the
/// permissions the actor lacks (empty when allowed).
pub fn missing<'a>(actor: &'a BTreeSet<String>, granted: &'a BTreeSet<String>) -> Vec<&'a str> {
    granted.difference(actor).map(String::as_str).collect()
}

/// Fails with `forbidden` naming what the actor lacks to hand out `granted`.
pub fn ensure_may_grant(
    actor: &BTreeSet<String>,
    granted: &BTreeSet<String>,
    what: &str,
) -> Result<()> {
    let lacking = missing(actor, granted);
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(Error::ForbiddenBecause(format!(
            "you cannot {what}: it includes permissions you do not hold ({})",
            lacking.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_must_be_resource_colon_action() {
        for good in ["projects:create", "billing-v2:read_all", "a1:b2"] {
            assert!(parse_permission(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "projects",
            "Projects:create",
            "projects:",
            ":create",
            "a:b:c",
            "proj ects:x",
            "1a:b",
        ] {
            assert!(parse_permission(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_catalogue_joins_builtin_and_custom_permissions_and_owner_holds_all() {
        let mut config = OrganizationsConfig {
            permissions: vec!["projects:create".into()],
            ..Default::default()
        };
        config.role_grants.member = vec!["projects:create".into()];
        let catalogue = Catalogue::from_config(&config).expect("valid");
        assert!(catalogue.contains("projects:create"));
        assert_eq!(catalogue.builtin_role("owner").map(|p| p.len()), Some(15));
        assert!(
            catalogue
                .builtin_role("member")
                .is_some_and(|p| p.contains("projects:create"))
        );
        assert!(
            !catalogue
                .builtin_role("viewer")
                .is_some_and(|p| p.contains("projects:create"))
        );
        assert!(
            !catalogue
                .builtin_role("admin")
                .is_some_and(|p| p.contains("organization:delete"))
        );

        config.role_grants.viewer = vec!["projcts:create".into()];
        let err = Catalogue::from_config(&config).expect_err("typo");
        assert!(err.contains("organizations.role_grants.viewer[0]"), "{err}");
        config.role_grants.viewer.clear();
        config.permissions.push("members:read".into());
        assert!(
            Catalogue::from_config(&config)
                .expect_err("dup")
                .contains("organizations.permissions[1]")
        );
    }

    #[test]
    fn the_guardrail_names_what_is_missing() {
        let actor: BTreeSet<String> = ["members:read".to_owned()].into();
        let granted: BTreeSet<String> =
            ["members:read".to_owned(), "roles:manage".to_owned()].into();
        assert_eq!(missing(&actor, &granted), vec!["roles:manage"]);
        assert!(ensure_may_grant(&actor, &actor, "x").is_ok());
    }
}

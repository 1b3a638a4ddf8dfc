//! The role mapping (`--mapping FILE`, YAML or JSON): what each Keycloak role becomes in the
//! organizations imported from the realm. Organizations are the only place roles live here
//! (there are no instance-wide roles), so a role is an organization role.
//!
//! ```yaml
//! roles:                      # realm role name, or CLIENT_ID/ROLE for a client role
//!   admin: admin              # a built-in role: owner, admin, member or viewer
//!   sample-realm-role: skip   # not imported
//!   test-app/customer-user: customer   # a custom role, created in each organization
//! permissions:                # the permissions of the custom roles the import creates
//!   customer: ["orders:read"]
//! member_role: member         # a member none of whose roles maps to a role
//! ```
//!
//! Without an entry a realm role named like a built-in role becomes that role, and any other
//! realm role a custom role of the same name (lowercased; no permissions). A client role without
//! an entry is rejected: its meaning is the client's, so it is imported only when mapped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::rbac::{BUILTIN_ROLES, OWNER, parse_permission};

/// The parsed mapping file; the default maps as the module documentation says.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    roles: BTreeMap<String, String>,
    #[serde(default)]
    permissions: BTreeMap<String, Vec<String>>,
    member_role: Option<String>,
}

/// What one Keycloak role becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Builtin(&'static str),
    Custom(String),
    Skip,
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn from_file(path: &Path) -> anyhow::Result<Mapping> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the mapping {}", path.display()))?;
        let mapping: Mapping = serde_yaml::from_str(&text)
            .with_context(|| format!("parsing the mapping {}", path.display()))?;
        mapping.check().map_err(anyhow::Error::msg)?;
        Ok(mapping)
    }

    fn check(&self) -> Result<(), String> {
        for (role, target) in &self.roles {
            if target != "skip" {
                role_key(target).map_err(|e| format!("roles.{role}: {e}"))?;
            }
        }
        for (key, permissions) in &self.permissions {
            if builtin(key).is_some() {
                return Err(format!(
                    "permissions.{key}: built-in roles keep their own permissions"
                ));
            }
            role_key(key).map_err(|e| format!("permissions.{key}: {e}"))?;
            for permission in permissions {
                parse_permission(permission).map_err(|e| format!("permissions.{key}: {e}"))?;
            }
        }
        if let Some(role) = &self.member_role {
            role_key(role).map_err(|e| format!("member_role: {e}"))?;
        }
        Ok(())
    }

    /// What the realm role `name` becomes.
    pub fn realm_role(&self, name: &str) -> Result<Target, String> {
        match self.roles.get(name) {
            Some(target) => Ok(target_of(target)),
            None => match builtin(name) {
                Some(key) => Ok(Target::Builtin(key)),
                None => derived_key(name).map(Target::Custom),
            },
        }
    }

    /// What the client role `role` of `client` becomes; unmapped client roles are rejected.
    pub fn client_role(&self, client: &str, role: &str) -> Result<Target, String> {
        match self.roles.get(&format!("{client}/{role}")) {
            Some(target) => Ok(target_of(target)),
            None => Err(format!(
                "client roles are imported only when mapped: add `{client}/{role}: ROLE` to the mapping's roles"
            )),
        }
    }

    /// The permissions a custom role created by the import gets.
    pub fn permissions(&self, key: &str) -> BTreeSet<String> {
        self.permissions
            .get(key)
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A member's role from the targets of the roles they hold: the strongest built-in one,
    /// else the first custom one by key, else `member_role` (default `member`).
    pub fn membership_role<'a>(&self, held: impl IntoIterator<Item = &'a Target>) -> String {
        let mut best_builtin: Option<usize> = None;
        let mut first_custom: Option<&str> = None;
        for target in held {
            match target {
                Target::Builtin(key) => {
                    if let Some(rank) = BUILTIN_ROLES.iter().position(|(k, ..)| k == key) {
                        best_builtin = Some(best_builtin.map_or(rank, |best| best.min(rank)));
                    }
                }
                Target::Custom(key) => {
                    if first_custom.is_none_or(|first| key.as_str() < first) {
                        first_custom = Some(key);
                    }
                }
                Target::Skip => {}
            }
        }
        if let Some(rank) = best_builtin {
            return BUILTIN_ROLES[rank].0.to_owned();
        }
        first_custom
            .map(str::to_owned)
            .or_else(|| self.member_role.clone())
            .unwrap_or_else(|| "member".into())
    }
}

fn target_of(target: &str) -> Target {
    match (target, builtin(target)) {
        ("skip", _) => Target::Skip,
        (_, Some(key)) => Target::Builtin(key),
        _ => Target::Custom(target.to_owned()),
    }
}

fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN_ROLES
        .iter()
        .map(|(key, ..)| *key)
        .find(|key| *key == name)
}

/// A role key as the roles API accepts it (built-in keys included).
fn role_key(key: &str) -> Result<(), String> {
    let ok = (2..=48).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok || key == OWNER {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is not a role key (2 to 48 characters of a-z, 0-9, _ and -, starting with a letter)"
        ))
    }
}

/// The custom role key for a realm role without an entry: its name lowercased, other
/// characters as `-`.
fn derived_key(name: &str) -> Result<String, String> {
    let key: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    role_key(&key).map(|()| key).map_err(|_| {
        format!("no role key can be derived from `{name}`: map it in the mapping's roles")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_entries() {
        let mapping: Mapping = serde_yaml::from_str(
            "roles: {user: member, skip-me: skip, test-app/customer-user: customer}\npermissions: {customer: ['orders:read']}",
        )
        .expect("yaml");
        mapping.check().expect("valid");
        assert_eq!(mapping.realm_role("admin"), Ok(Target::Builtin("admin")));
        assert_eq!(mapping.realm_role("user"), Ok(Target::Builtin("member")));
        assert_eq!(mapping.realm_role("skip-me"), Ok(Target::Skip));
        assert_eq!(
            mapping.realm_role("Sample Role"),
            Ok(Target::Custom("sample-role".into()))
        );
        assert!(mapping.realm_role("1").is_err());
        assert_eq!(
            mapping.client_role("test-app", "customer-user"),
            Ok(Target::Custom("customer".into()))
        );
        assert!(mapping.client_role("test-app", "other").is_err());
        assert_eq!(mapping.permissions("customer").len(), 1);
        let held = [
            Target::Custom("zeta".into()),
            Target::Builtin("viewer"),
            Target::Builtin("admin"),
        ];
        assert_eq!(mapping.membership_role(&held), "admin");
        assert_eq!(mapping.membership_role(&held[..1]), "zeta");
        assert_eq!(mapping.membership_role(&[]), "member");
        let bad: Mapping = serde_yaml::from_str("permissions: {admin: ['x:y']}").expect("yaml");
        assert!(bad.check().is_err());
    }
}

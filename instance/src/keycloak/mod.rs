//! Importing a Keycloak realm: its users (with their password hashes), groups and
//! organizations, roles and OpenID Connect clients, from a realm export
//! (`authstack-instance import keycloak FILE`) or a running Keycloak's admin API
//! ([`admin_api`], `import keycloak --url URL --realm NAME`).
//!
//! [`plan`] decides what each part of the realm becomes (pure); [`apply`] writes it. Every
//! write first looks for what it would create (users by Keycloak id, then email;
//! organizations by slug; roles by key within the organization; applications by name), so a
//! re-run imports nothing new and changes nothing, and an interrupted import is resumed by
//! running it again.
//!
//! What is deliberately not imported is listed as `skipped` (Keycloak's built-in clients and
//! roles); what cannot be imported is `rejected`, each with its reason: users without an
//! email, clients whose redirect URIs are wildcards, identity providers (no federation yet),
//! organization domains (organizations have none here).

pub mod admin_api;
pub mod apply;
pub mod credentials;
pub mod mapping;
pub mod plan;

use anyhow::Context;
use keycloak::types::RealmRepresentation;
use serde::Serialize;

pub use apply::apply;
pub use mapping::Mapping;
pub use plan::plan;

/// Whether an item was left out on purpose or could not be imported.
#[derive(Debug, Clone, Copy)]
pub enum SkipOrReject {
    Skip,
    Reject,
}

/// Something of the realm that was not imported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub realm: String,
    /// `user`, `group`, `organization`, `organization_domains`, `role`, `client`,
    /// `redirect_uri`, `membership`, `identity_provider`, `user_federation`.
    pub kind: &'static str,
    pub name: String,
    pub reason: String,
}

pub use crate::admin::import::Counts;

#[derive(Debug, Serialize)]
pub struct Report {
    pub realm: String,
    pub dry_run: bool,
    pub users: Counts,
    pub organizations: Counts,
    /// Custom roles, counted once per organization they are created in.
    pub roles: Counts,
    pub memberships: Counts,
    pub applications: Counts,
    pub skipped: Vec<Item>,
    pub rejected: Vec<Item>,
}

impl Report {
    /// The report as the command prints it.
    pub fn summary(&self) -> String {
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        let line = |kind: &str, c: Counts| {
            format!(
                "  {kind}: {verb} {}, already present {}\n",
                c.imported, c.unchanged
            )
        };
        let mut out = format!("realm {}:\n", self.realm);
        out += &line("users", self.users);
        out += &line("organizations", self.organizations);
        out += &line("roles", self.roles);
        out += &line("memberships", self.memberships);
        out += &line("applications", self.applications);
        out += &format!(
            "  skipped: {}\n  rejected: {}\n",
            self.skipped.len(),
            self.rejected.len()
        );
        for item in &self.rejected {
            out += &format!("    {} {}: {}\n", item.kind, item.name, item.reason);
        }
        out
    }
}

/// The realm to import from an export file's text: a realm object, or an array of realms
/// from which `name` picks one (an array without a name is refused, listing the realms).
pub fn select_realm(text: &str, name: Option<&str>) -> anyhow::Result<RealmRepresentation> {
    let value: serde_json::Value = serde_json::from_str(text).context("the export is not JSON")?;
    let realm_name = |v: &serde_json::Value| v["realm"].as_str().unwrap_or_default().to_owned();
    let chosen = match (value, name) {
        (serde_json::Value::Array(realms), Some(name)) => {
            let names: Vec<String> = realms.iter().map(realm_name).collect();
            realms
                .into_iter()
                .find(|r| realm_name(r) == name)
                .with_context(|| {
                    format!(
                        "no realm {name} in the export (it has {})",
                        names.join(", ")
                    )
                })?
        }
        (serde_json::Value::Array(realms), None) => {
            let names: Vec<String> = realms.iter().map(realm_name).collect();
            anyhow::bail!(
                "the export holds {} realms ({}): choose one with --realm",
                names.len(),
                names.join(", ")
            );
        }
        (realm @ serde_json::Value::Object(_), name) => {
            if let Some(name) = name {
                anyhow::ensure!(
                    realm_name(&realm) == name,
                    "the export holds the realm {}, not {name}",
                    realm_name(&realm)
                );
            }
            realm
        }
        _ => anyhow::bail!("the export is neither a realm object nor an array of realms"),
    };
    let mut chosen = chosen;
    coerce_client_booleans(&mut chosen);
    serde_path_to_error::deserialize(chosen).context("reading the realm")
}

/// The boolean fields of a client that hand-written exports (Keycloak's own `testrealm.json`)
/// write as strings, `"fullScopeAllowed": "false"`: Keycloak's Jackson accepts them,
/// `keycloak::types::ClientRepresentation` does not. Only these fields of `clients[*]` are
/// turned into booleans; client `attributes` hold string values and stay as they are.
const CLIENT_BOOLEANS: [&str; 12] = [
    "enabled",
    "bearerOnly",
    "consentRequired",
    "standardFlowEnabled",
    "implicitFlowEnabled",
    "directAccessGrantsEnabled",
    "serviceAccountsEnabled",
    "authorizationServicesEnabled",
    "publicClient",
    "frontchannelLogout",
    "fullScopeAllowed",
    "surrogateAuthRequired",
];

fn coerce_client_booleans(realm: &mut serde_json::Value) {
    let Some(clients) = realm.get_mut("clients").and_then(|c| c.as_array_mut()) else {
        return;
    };
    for client in clients.iter_mut().filter_map(|c| c.as_object_mut()) {
        for field in CLIENT_BOOLEANS {
            if let Some(value) = client.get_mut(field) {
                match value.as_str() {
                    Some("true") => *value = serde_json::Value::Bool(true),
                    Some("false") => *value = serde_json::Value::Bool(false),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TESTREALM: &str = include_str!("../../tests/fixtures/keycloak/testrealm.json");
    const KC24: &str = include_str!("../../tests/fixtures/keycloak/migration-realm-24.0.4.json");
    const KC26: &str = include_str!("../../tests/fixtures/keycloak/migration-realm-26.6.0.json");

    fn kinds(items: &[Item], kind: &str) -> usize {
        items.iter().filter(|i| i.kind == kind).count()
    }

    #[test]
    fn an_array_needs_a_realm_name() {
        let err = select_realm(KC24, None).expect_err("refused").to_string();
        assert!(
            err.contains("3 realms (master, Migration, Migration2)"),
            "{err}"
        );
        assert!(select_realm(KC24, Some("nope")).is_err());
        assert_eq!(
            select_realm(KC26, Some("Migration"))
                .expect("realm")
                .realm
                .as_deref(),
            Some("Migration")
        );
        assert!(select_realm(TESTREALM, Some("other")).is_err());
    }

    #[test]
    fn testrealm_plan() {
        let realm = select_realm(TESTREALM, None).expect("testrealm deserializes");
        let plan = plan(&realm, &Mapping::default());
        assert_eq!(plan.users.len(), 7);
        assert!(
            plan.users
                .iter()
                .all(|u| matches!(u.password, Some(credentials::Password::Plain(_))))
        );
        let slugs: Vec<&str> = plan.organizations.iter().map(|o| o.slug.as_str()).collect();
        assert_eq!(slugs, ["topgroup", "rolerichgroup"]);
        assert_eq!(kinds(&plan.skipped, "group"), 4, "subgroups are flattened");
        // admin is the built-in role; the other five realm roles are custom roles.
        let keys: Vec<&str> = plan.roles.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "attribute-role",
                "customer-user-premium",
                "realm-composite-role",
                "sample-realm-role",
                "user"
            ]
        );
        assert_eq!(
            kinds(&plan.rejected, "role"),
            7,
            "client roles need a mapping"
        );
        assert_eq!(plan.applications.len(), 0);
        assert_eq!(kinds(&plan.rejected, "client"), 8);
        let level2 = plan
            .users
            .iter()
            .find(|u| u.email == "level2@redhat.com")
            .expect("user");
        assert_eq!(
            level2.memberships,
            [("topgroup".to_owned(), "admin".to_owned())]
        );
        let top = plan
            .users
            .iter()
            .find(|u| u.email == "top@redhat.com")
            .expect("user");
        assert_eq!(
            top.memberships,
            [("topgroup".to_owned(), "user".to_owned())]
        );
    }

    #[test]
    fn migration_realms_plan() {
        for (text, name) in [(KC24, "master"), (KC26, "master")] {
            let plan = plan(
                &select_realm(text, Some(name)).expect("realm"),
                &Mapping::default(),
            );
            assert_eq!(plan.users.len(), 0);
            assert_eq!(kinds(&plan.rejected, "user"), 2, "no email");
            assert_eq!(plan.organizations.len(), 1);
            assert_eq!(plan.roles.len(), 2);
            assert_eq!(kinds(&plan.skipped, "client"), 8);
            assert_eq!(kinds(&plan.rejected, "client"), 1);
        }
        let plan = plan(
            &select_realm(KC26, Some("Migration")).expect("realm"),
            &Mapping::default(),
        );
        assert_eq!(plan.organizations.len(), 6, "5 organizations and 1 group");
        assert_eq!(kinds(&plan.rejected, "identity_provider"), 5);
        assert_eq!(kinds(&plan.rejected, "organization_domains"), 5);
        assert_eq!(kinds(&plan.rejected, "user"), 3);
    }
}

//! From a realm to what the import writes: a pure function, so that a dry run and a real run
//! see the same plan, and every decision is tested without a database.

use std::collections::{BTreeMap, BTreeSet};

use keycloak::types::{ClientRepresentation, GroupRepresentation, RealmRepresentation};

use super::credentials::{Password, password};
use super::mapping::{Mapping, Target};
use super::{Item, SkipOrReject};
use crate::applications::{Kind, check_redirect_uri};
use crate::orgs::{parse_slug, slugify};

/// Keycloak's own clients: they serve Keycloak's consoles and token exchange, not the customer.
const BUILTIN_CLIENTS: [&str; 6] = [
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// Roles every Keycloak realm has.
const BUILTIN_REALM_ROLES: [&str; 2] = ["offline_access", "uma_authorization"];

#[derive(Debug)]
pub struct Plan {
    pub realm: String,
    pub users: Vec<PlannedUser>,
    pub organizations: Vec<PlannedOrganization>,
    /// Custom roles created in every organization of the plan.
    pub roles: Vec<PlannedRole>,
    pub applications: Vec<PlannedApplication>,
    pub skipped: Vec<Item>,
    pub rejected: Vec<Item>,
}

#[derive(Debug)]
pub struct PlannedUser {
    pub email: String,
    pub name: Option<String>,
    pub email_verified: bool,
    pub enabled: bool,
    pub metadata: serde_json::Value,
    pub external_id: Option<String>,
    pub password: Option<Password>,
    /// (organization slug, role key)
    pub memberships: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct PlannedOrganization {
    pub name: String,
    pub slug: String,
}

#[derive(Debug)]
pub struct PlannedRole {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub permissions: BTreeSet<String>,
}

#[derive(Debug)]
pub struct PlannedApplication {
    pub name: String,
    pub kind: Kind,
    pub redirect_uris: Vec<String>,
}

impl Plan {
    fn note(&mut self, what: SkipOrReject, kind: &'static str, name: &str, reason: String) {
        let item = Item {
            realm: self.realm.clone(),
            kind,
            name: name.to_owned(),
            reason,
        };
        match what {
            SkipOrReject::Skip => self.skipped.push(item),
            SkipOrReject::Reject => self.rejected.push(item),
        }
    }
}

fn is_builtin_client(realm: &str, client_id: &str) -> bool {
    // The master realm holds one administration client per realm, `<realm>-realm`.
    BUILTIN_CLIENTS.contains(&client_id) || (realm == "master" && client_id.ends_with("-realm"))
}

fn is_default_role(name: &str) -> bool {
    name.starts_with("default-roles-") || BUILTIN_REALM_ROLES.contains(&name)
}

/// Plans the import of `realm` with `mapping`.
pub fn plan(realm: &RealmRepresentation, mapping: &Mapping) -> Plan {
    let mut plan = Plan {
        realm: realm.realm.clone().unwrap_or_default(),
        users: Vec::new(),
        organizations: Vec::new(),
        roles: Vec::new(),
        applications: Vec::new(),
        skipped: Vec::new(),
        rejected: Vec::new(),
    };
    let targets = plan_roles(&mut plan, realm, mapping);
    let (groups, org_slugs) = plan_organizations(&mut plan, realm);
    plan_users(&mut plan, realm, mapping, &targets, &groups, &org_slugs);
    plan_applications(&mut plan, realm);
    for idp in realm.identity_providers.iter().flatten() {
        let name = idp.alias.as_deref().unwrap_or_default();
        let provider = idp.provider_id.as_deref().unwrap_or("unknown");
        plan.note(
            SkipOrReject::Reject,
            "identity_provider",
            name,
            format!("identity provider ({provider}) not imported: sign-in through other identity providers is not supported yet"),
        );
    }
    let storage = realm
        .components
        .as_ref()
        .and_then(|c| c.get("org.keycloak.storage.UserStorageProvider"));
    let federation = realm
        .user_federation_providers
        .iter()
        .flatten()
        .map(|p| p.display_name.clone())
        .chain(storage.into_iter().flatten().map(|c| c.name.clone()));
    for name in federation.collect::<Vec<_>>() {
        plan.note(
            SkipOrReject::Reject,
            "user_federation",
            name.as_deref().unwrap_or_default(),
            "user federation (LDAP, Kerberos) is not imported; its users are not in the export"
                .into(),
        );
    }
    plan
}

/// Role name (`name` or `client/name`) -> target; also fills `plan.roles`.
fn plan_roles(
    plan: &mut Plan,
    realm: &RealmRepresentation,
    mapping: &Mapping,
) -> BTreeMap<String, Target> {
    let mut targets = BTreeMap::new();
    let mut custom: BTreeMap<String, PlannedRole> = BTreeMap::new();
    let roles = realm.roles.as_ref();
    let mut add = |plan: &mut Plan,
                   key: String,
                   target: Result<Target, String>,
                   description: Option<&String>| {
        match target {
            Ok(Target::Custom(role)) => {
                custom.entry(role.clone()).or_insert_with(|| PlannedRole {
                    key: role.clone(),
                    name: key.clone(),
                    description: description.cloned(),
                    permissions: mapping.permissions(&role),
                });
                targets.insert(key, Target::Custom(role));
            }
            Ok(Target::Skip) => {
                plan.note(
                    SkipOrReject::Skip,
                    "role",
                    &key,
                    "skipped by the mapping".into(),
                );
                targets.insert(key, Target::Skip);
            }
            Ok(target) => {
                targets.insert(key, target);
            }
            Err(reason) => plan.note(SkipOrReject::Reject, "role", &key, reason),
        }
    };
    for role in roles.and_then(|r| r.realm.as_ref()).into_iter().flatten() {
        let Some(name) = role.name.clone() else {
            continue;
        };
        if is_default_role(&name) {
            plan.note(
                SkipOrReject::Skip,
                "role",
                &name,
                "a role every Keycloak realm has".into(),
            );
            continue;
        }
        add(
            plan,
            name.clone(),
            mapping.realm_role(&name),
            role.description.as_ref(),
        );
    }
    for (client, list) in roles.and_then(|r| r.client.as_ref()).into_iter().flatten() {
        if is_builtin_client(&plan.realm, client) {
            continue;
        }
        for role in list {
            let Some(name) = role.name.as_deref() else {
                continue;
            };
            let key = format!("{client}/{name}");
            add(
                plan,
                key,
                mapping.client_role(client, name),
                role.description.as_ref(),
            );
        }
    }
    plan.roles = custom.into_values().collect();
    targets
}

/// Group path -> (organization slug, roles the group grants), and the slug of each of the
/// realm's organizations (`None` when rejected); also fills `plan.organizations`.
fn plan_organizations(
    plan: &mut Plan,
    realm: &RealmRepresentation,
) -> (Groups, Vec<Option<String>>) {
    let mut org_slugs = Vec::new();
    let mut slugs = BTreeSet::new();
    let mut groups = BTreeMap::new();
    let mut add = |plan: &mut Plan, name: &str, slug: String, kind: &'static str| {
        match crate::orgs::parse_name(name) {
            Ok(name) if slugs.insert(slug.clone()) => {
                plan.organizations.push(PlannedOrganization {
                    name,
                    slug: slug.clone(),
                });
                Some(slug)
            }
            Ok(_) => {
                plan.note(
                    SkipOrReject::Reject,
                    kind,
                    name,
                    format!("another organization in the realm has the slug {slug}"),
                );
                None
            }
            Err(e) => {
                plan.note(SkipOrReject::Reject, kind, name, e.to_string());
                None
            }
        }
    };
    for org in realm.organizations.iter().flatten() {
        let name = org.name.as_deref().unwrap_or_default();
        let slug = org
            .alias
            .as_deref()
            .and_then(|alias| parse_slug(alias).ok())
            .unwrap_or_else(|| slugify(name));
        let added = add(plan, name, slug, "organization");
        let rejected = added.is_none();
        org_slugs.push(added);
        if rejected {
            continue;
        }
        let domains: Vec<&str> = org
            .domains
            .iter()
            .flatten()
            .filter_map(|d| d.name.as_deref())
            .collect();
        if !domains.is_empty() {
            plan.note(
                SkipOrReject::Reject,
                "organization_domains",
                name,
                format!(
                    "organizations have no domains here; not imported: {}",
                    domains.join(", ")
                ),
            );
        }
    }
    for group in realm.groups.iter().flatten() {
        let name = group.name.as_deref().unwrap_or_default();
        let Some(slug) = add(plan, name, slugify(name), "group") else {
            continue;
        };
        let granted = roles_of(group);
        groups.insert(format!("/{name}"), (slug.clone(), granted.clone()));
        flatten_subgroups(
            plan,
            group,
            &format!("/{name}"),
            &slug,
            &granted,
            &mut groups,
        );
    }
    (groups, org_slugs)
}

type Groups = BTreeMap<String, (String, Vec<String>)>;

/// Subgroups are not organizations: their members join the top-level group's organization,
/// with the roles of every group on the path.
fn flatten_subgroups(
    plan: &mut Plan,
    group: &GroupRepresentation,
    path: &str,
    slug: &str,
    granted: &[String],
    groups: &mut Groups,
) {
    for sub in group.sub_groups.iter().flatten() {
        let name = sub.name.as_deref().unwrap_or_default();
        let sub_path = format!("{path}/{name}");
        plan.note(
            SkipOrReject::Skip,
            "group",
            &sub_path,
            format!("a subgroup: its members join the organization {slug}"),
        );
        let mut roles = granted.to_vec();
        roles.extend(roles_of(sub));
        groups.insert(sub_path.clone(), (slug.to_owned(), roles.clone()));
        flatten_subgroups(plan, sub, &sub_path, slug, &roles, groups);
    }
}

fn roles_of(group: &GroupRepresentation) -> Vec<String> {
    let mut roles: Vec<String> = group.realm_roles.iter().flatten().cloned().collect();
    for (client, names) in group.client_roles.iter().flatten() {
        roles.extend(names.iter().map(|name| format!("{client}/{name}")));
    }
    roles
}

fn plan_users(
    plan: &mut Plan,
    realm: &RealmRepresentation,
    mapping: &Mapping,
    targets: &BTreeMap<String, Target>,
    groups: &Groups,
    org_slugs: &[Option<String>],
) {
    // Organization members, by username (Keycloak 26 exports list them per organization).
    let mut member_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (org, slug) in realm.organizations.iter().flatten().zip(org_slugs) {
        let Some(slug) = slug else { continue };
        for member in org.members.iter().flatten() {
            if let Some(username) = member.username.as_deref() {
                member_of.entry(username).or_default().push(slug);
            }
        }
    }
    let mut planned_users = Vec::new();
    for user in realm.users.iter().flatten() {
        let username = user.username.as_deref().unwrap_or_default();
        let Some(email) = user.email.clone().filter(|e| !e.trim().is_empty()) else {
            plan.note(
                SkipOrReject::Reject,
                "user",
                username,
                "the user has no email address (users here sign in with one)".into(),
            );
            continue;
        };
        let password = match password(user.credentials.as_deref().unwrap_or_default()) {
            Ok(password) => password,
            Err(reason) => {
                plan.note(SkipOrReject::Reject, "user", username, reason);
                continue;
            }
        };
        let name = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut held: Vec<String> = user.realm_roles.iter().flatten().cloned().collect();
        for (client, names) in user.client_roles.iter().flatten() {
            held.extend(names.iter().map(|name| format!("{client}/{name}")));
        }
        let mut memberships: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for path in user.groups.iter().flatten() {
            match groups.get(path) {
                Some((slug, granted)) => memberships
                    .entry(slug.clone())
                    .or_default()
                    .extend(granted.iter().cloned()),
                None => plan.note(
                    SkipOrReject::Reject,
                    "membership",
                    &format!("{username} in {path}"),
                    "the group is not imported".into(),
                ),
            }
        }
        for slug in member_of.get(username).into_iter().flatten() {
            memberships.entry((*slug).to_owned()).or_default();
        }
        let memberships = memberships
            .into_iter()
            .map(|(slug, granted)| {
                let role = mapping
                    .membership_role(held.iter().chain(&granted).filter_map(|r| targets.get(r)));
                (slug, role)
            })
            .collect();
        planned_users.push(PlannedUser {
            email,
            name: (!name.is_empty()).then_some(name),
            email_verified: user.email_verified.unwrap_or(false),
            enabled: user.enabled.unwrap_or(true),
            metadata: serde_json::to_value(user.attributes.clone().unwrap_or_default())
                .unwrap_or_default(),
            external_id: user.id.clone(),
            password,
            memberships,
        });
    }
    // A member's role may be a custom key no role of the realm maps to (`member_role`).
    for user in &planned_users {
        for (_, role) in &user.memberships {
            let builtin = crate::rbac::BUILTIN_ROLES.iter().any(|(k, ..)| k == role);
            if !builtin && !plan.roles.iter().any(|r| &r.key == role) {
                plan.roles.push(PlannedRole {
                    key: role.clone(),
                    name: role.clone(),
                    description: None,
                    permissions: mapping.permissions(role),
                });
            }
        }
    }
    plan.users = planned_users;
}

fn plan_applications(plan: &mut Plan, realm: &RealmRepresentation) {
    for client in realm.clients.iter().flatten() {
        let id = client.client_id.as_deref().unwrap_or_default();
        if let Some((what, reason)) = unimportable(&plan.realm, client) {
            plan.note(what, "client", id, reason);
            continue;
        }
        let (mut exact, mut refused) = (Vec::new(), Vec::new());
        for uri in client.redirect_uris.iter().flatten() {
            match check_redirect_uri(uri) {
                Ok(()) => exact.push(uri.clone()),
                Err(why) => refused.push((uri, why)),
            }
        }
        let advice = "redirect URIs are matched exactly here: register each exact URI";
        if exact.is_empty() {
            let reasons: Vec<String> = refused
                .iter()
                .map(|(uri, why)| format!("{uri} {why}"))
                .collect();
            plan.note(
                SkipOrReject::Reject,
                "client",
                id,
                format!(
                    "no redirect URI can be imported ({}); {advice}",
                    reasons.join("; ")
                ),
            );
            continue;
        }
        for (uri, why) in refused {
            plan.note(
                SkipOrReject::Reject,
                "redirect_uri",
                &format!("{id} {uri}"),
                format!("redirect URI {why}; {advice}"),
            );
        }
        let kind = if client.public_client.unwrap_or(false) {
            Kind::Spa
        } else {
            Kind::Web
        };
        plan.applications.push(PlannedApplication {
            name: id.to_owned(),
            kind,
            redirect_uris: exact,
        });
    }
}

/// Why `client` is not an application here, if it is not.
fn unimportable(realm: &str, client: &ClientRepresentation) -> Option<(SkipOrReject, String)> {
    let id = client.client_id.as_deref().unwrap_or_default();
    if is_builtin_client(realm, id) {
        return Some((SkipOrReject::Skip, "a built-in Keycloak client".into()));
    }
    let protocol = client.protocol.as_deref().unwrap_or("openid-connect");
    if protocol != "openid-connect" {
        let uris = client
            .redirect_uris
            .as_deref()
            .unwrap_or_default()
            .join(", ");
        return Some((
            SkipOrReject::Reject,
            format!(
                "a {protocol} client: only OpenID Connect clients are imported (redirect URIs: {uris})"
            ),
        ));
    }
    if client.bearer_only.unwrap_or(false) {
        return Some((
            SkipOrReject::Reject,
            "a bearer-only client signs no user in".into(),
        ));
    }
    if client.redirect_uris.as_ref().is_none_or(Vec::is_empty) {
        return Some((
            SkipOrReject::Reject,
            "no redirect URIs: only clients that sign users in through a redirect are imported"
                .into(),
        ));
    }
    crate::applications::parse_name("name", id)
        .err()
        .map(|e| (SkipOrReject::Reject, e.to_string()))
}

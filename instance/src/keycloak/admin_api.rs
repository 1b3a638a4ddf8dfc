//! Reading a realm from a running Keycloak through its admin REST API (`KeycloakAdmin`), into
//! the same `RealmRepresentation` an export holds, so that [`super::plan`] treats both alike.
//!
//! The admin API never returns password hashes (credentials are write-only there): users read
//! this way are imported without a password and set one through a password reset. Use a realm
//! export to keep passwords.

use keycloak::types::{RealmRepresentation, RolesRepresentation};
use keycloak::{KeycloakAdmin, KeycloakAdminToken, KeycloakServiceAccountAdminTokenRetriever};
use secrecy::{ExposeSecret, SecretString};

/// How to sign in to the admin API.
pub enum Credentials {
    /// A confidential client with a service account (`client_credentials`).
    Client {
        realm: String,
        client_id: String,
        secret: SecretString,
    },
    /// An administrator's username and password (`password` grant with `admin-cli`).
    Password {
        realm: String,
        username: String,
        password: SecretString,
    },
}

/// Users and groups are read this many at a time.
const PAGE: i32 = 100;

/// Reads `realm` from the Keycloak at `url`.
pub async fn fetch_realm(
    url: &str,
    realm: &str,
    credentials: &Credentials,
    client: reqwest::Client,
) -> anyhow::Result<RealmRepresentation> {
    let url = url.trim_end_matches('/');
    let token: KeycloakAdminToken = match credentials {
        Credentials::Client {
            realm,
            client_id,
            secret,
        } => {
            KeycloakServiceAccountAdminTokenRetriever::create_with_custom_realm(
                client_id,
                secret.expose_secret(),
                realm,
                client.clone(),
            )
            .acquire(url)
            .await?
        }
        Credentials::Password {
            realm,
            username,
            password,
        } => {
            KeycloakAdminToken::acquire_custom_realm(
                url,
                username,
                password.expose_secret(),
                realm,
                "admin-cli",
                "password",
                &client,
            )
            .await?
        }
    };
    let admin = KeycloakAdmin::new(url, token, client);

    let mut out = admin.realm_get(realm).await?;
    let mut users = Vec::new();
    for first in (0..).step_by(PAGE as usize) {
        let page = admin
            .realm_users_get(
                realm,
                Some(false),
                None,
                None,
                None,
                None,
                None,
                None,
                Some(first),
                None,
                None,
                None,
                None,
                Some(PAGE),
                None,
                None,
                None,
            )
            .await?;
        let done = page.len() < PAGE as usize;
        users.extend(page);
        if done {
            break;
        }
    }
    for user in &mut users {
        let Some(id) = user.id.clone() else { continue };
        let groups = admin
            .realm_users_with_user_id_groups_get(realm, &id, Some(false), None, None, None)
            .await?;
        user.groups = Some(groups.into_iter().filter_map(|g| g.path).collect());
        let mappings = admin
            .realm_users_with_user_id_role_mappings_get(realm, &id)
            .await?;
        user.realm_roles = Some(
            mappings
                .realm_mappings
                .into_iter()
                .flatten()
                .filter_map(|r| r.name)
                .collect(),
        );
        user.client_roles = Some(
            mappings
                .client_mappings
                .into_iter()
                .flatten()
                .map(|(client, m)| {
                    let names = m.mappings.into_iter().flatten().filter_map(|r| r.name);
                    (client, names.collect())
                })
                .collect(),
        );
    }
    out.users = Some(users);
    out.groups = Some(
        admin
            .realm_groups_get(
                realm,
                Some(false),
                None,
                None,
                None,
                Some(true),
                None,
                None,
                None,
            )
            .await?,
    );
    let clients = admin
        .realm_clients_get(realm, None, None, None, None, None, None)
        .await?;
    let mut client_roles = std::collections::HashMap::new();
    for client in &clients {
        let (Some(uuid), Some(client_id)) = (&client.id, &client.client_id) else {
            continue;
        };
        let roles = admin
            .realm_clients_with_client_uuid_roles_get(realm, uuid, Some(false), None, None, None)
            .await?;
        client_roles.insert(client_id.clone(), roles);
    }
    out.roles = Some(RolesRepresentation {
        realm: Some(
            admin
                .realm_roles_get(realm, Some(false), None, None, None)
                .await?,
        ),
        client: Some(client_roles),
        ..RolesRepresentation::default()
    });
    out.clients = Some(clients);
    if out.organizations_enabled.unwrap_or(false) {
        let mut organizations = admin
            .realm_organizations_get(realm, Some(false), None, None, None, None, None, None)
            .await?;
        for org in &mut organizations {
            let Some(id) = org.id.clone() else { continue };
            org.members = Some(
                admin
                    .realm_organizations_with_org_id_members_get(
                        realm,
                        &id,
                        Some(true),
                        None,
                        None,
                        None,
                        None,
                        None,
                    )
                    .await?,
            );
        }
        out.organizations = Some(organizations);
    }
    out.identity_providers = Some(
        admin
            .realm_identity_provider_instances_get(
                realm,
                Some(true),
                None,
                None,
                None,
                None,
                None,
                None,
            )
            .await?,
    );
    Ok(out)
}

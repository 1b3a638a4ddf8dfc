//! Organizations (the customer's tenants) and a caller's standing in one: a user's membership,
//! role and permissions, or an organization API key's permissions. Every organization-scoped
//! request resolves an [`Access`] first; a caller who is not a member (or a key of another
//! organization) gets `404` whether or not the organization exists, and the attempt is audited.

pub mod members;
pub mod routes;
pub mod store;

use serde::Serialize;
use sqlx::AnyConnection;

use crate::App;
use crate::audit::{self, AuditEvent};
use crate::clock::{UnixTime, rfc3339};
use crate::error::{Error, Result};
use crate::http::{Caller, Client};
use crate::rbac::Role;

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub logo_url: Option<String>,
    pub branding: serde_json::Value,
    pub settings: serde_json::Value,
    pub created_by: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub logo_url: Option<String>,
    /// `{ "primary_color": "#rrggbb", "background_color": ..., "text_color": ... }`
    #[schema(value_type = Object)]
    pub branding: serde_json::Value,
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl Organization {
    pub fn view(&self) -> OrganizationView {
        OrganizationView {
            id: self.id.clone(),
            name: self.name.clone(),
            slug: self.slug.clone(),
            logo_url: self.logo_url.clone(),
            branding: self.branding.clone(),
            settings: self.settings.clone(),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        }
    }
}

pub fn new_org_id() -> String {
    format!("org_{}", uuid::Uuid::now_v7().simple())
}

/// Validates an organization name: trimmed, 1..=100 printable characters.
pub fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid("name must be 1 to 100 printable characters"));
    }
    Ok(name.to_owned())
}

/// Validates a slug: 2..=48 of `a-z`, `0-9`, `-`, not starting or ending with `-`.
pub fn parse_slug(raw: &str) -> Result<String> {
    let ok = (2..=48).contains(&raw.len())
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !raw.starts_with('-')
        && !raw.ends_with('-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            "slug must be 2 to 48 characters of a-z, 0-9 and -, not starting or ending with -",
        ))
    }
}

/// A slug derived from a name ("Acme Inc." -> "acme-inc").
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug
        .trim_end_matches('-')
        .chars()
        .take(40)
        .collect::<String>();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.len() < 2 {
        format!("org-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
    } else {
        slug
    }
}

/// Validates a logo URL: absolute `https://` (or `http://`), at most 2048 characters, written
/// in the characters of an RFC 3986 URI (a non-ASCII address must be percent-encoded). The same
/// rule as the OpenAPI pattern on `logo_url` in `routes.rs`.
pub fn parse_logo_url(raw: &str) -> Result<String> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    let ok = raw.len() <= 2048 && rest.is_some_and(|rest| !rest.is_empty() && uri_text(rest));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            "logo_url must be an absolute http(s) URL of at most 2048 characters",
        ))
    }
}

/// Unreserved, reserved and `%` characters only, every `%` starting a percent-encoded octet.
fn uri_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        b if b.is_ascii_alphanumeric() => true,
        _ => b"._~:/?#@!$&'()*+,;=-".contains(&b),
    })
}

const BRANDING_COLORS: [&str; 3] = ["primary_color", "background_color", "text_color"];

/// The branding fields [`parse_branding`] accepts, as the OpenAPI document shows them.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub primary_color: Option<String>,
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub background_color: Option<String>,
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub text_color: Option<String>,
}

/// Validates branding: an object whose known color fields are `#rrggbb`.
pub fn parse_branding(value: serde_json::Value) -> Result<serde_json::Value> {
    let object = value
        .as_object()
        .ok_or_else(|| Error::invalid("branding must be a JSON object"))?;
    for (key, v) in object {
        if !BRANDING_COLORS.contains(&key.as_str()) {
            return Err(Error::invalid(format!(
                "branding.{key} is not a branding field (use {})",
                BRANDING_COLORS.join(", ")
            )));
        }
        let valid = v.as_str().is_some_and(|s| {
            s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
        });
        if !valid && !v.is_null() {
            return Err(Error::invalid(format!(
                "branding.{key} must be a color like #1a2b3c"
            )));
        }
    }
    Ok(value)
}

/// Validates free-form settings: a JSON object of at most 16 KiB.
pub fn parse_settings(value: serde_json::Value) -> Result<serde_json::Value> {
    if !value.is_object() {
        return Err(Error::invalid("settings must be a JSON object"));
    }
    if value.to_string().len() > 16 * 1024 {
        return Err(Error::invalid("settings must be at most 16 KiB"));
    }
    Ok(value)
}

/// Refuses to delete a user who is the only owner of an organization.
pub async fn ensure_not_sole_owner(app: &App, user_id: &str) -> Result<()> {
    let orgs = store::sole_ownerships(&app.db, user_id).await?;
    if orgs.is_empty() {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "this user is the only owner of {} organization(s) ({}); transfer ownership or delete them first",
            orgs.len(),
            orgs.join(", ")
        )))
    }
}

/// The caller's standing in one organization.
#[derive(Debug, Clone)]
pub struct Access {
    pub organization: Organization,
    /// Who acts: the member's user id, or the API key's principal id (`orgkey_…`).
    pub actor_id: String,
    /// The membership, for a user; `None` for an API key.
    pub membership_id: Option<String>,
    /// The member's role; for an API key, the role [`API_KEY_ROLE`] with the key's permissions.
    pub role: Role,
}

/// The role key an API key acts under (no membership has it: role keys are checked on use).
pub const API_KEY_ROLE: &str = "api_key";

impl Access {
    pub fn allows(&self, permission: &str) -> bool {
        self.role.permissions.contains(permission)
    }

    /// Whether an organization API key acts, not a member.
    pub fn is_key(&self) -> bool {
        self.membership_id.is_none()
    }

    /// Fails with `forbidden` naming the missing permission.
    pub fn require(&self, permission: &str) -> Result<()> {
        if self.allows(permission) {
            Ok(())
        } else if self.is_key() {
            Err(Error::ForbiddenBecause(format!(
                "this needs the {permission} permission, which this API key does not grant"
            )))
        } else {
            Err(Error::ForbiddenBecause(format!(
                "this needs the {permission} permission, which your role ({}) does not grant",
                self.role.key
            )))
        }
    }
}

/// Resolves `user_id`'s membership of `org_id` inside a transaction scoped to that
/// organization. `None` when there is no such organization or membership.
pub async fn resolve(
    app: &App,
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
) -> Result<Option<Access>> {
    let Some(organization) = store::find(conn, org_id).await? else {
        return Ok(None);
    };
    let Some(membership) = store::find_membership(conn, org_id, user_id).await? else {
        return Ok(None);
    };
    let role = crate::rbac::store::resolve(app, conn, org_id, &membership.role)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "membership {} has unknown role {}",
                membership.id,
                membership.role
            )
        })?;
    Ok(Some(Access {
        organization,
        actor_id: user_id.to_owned(),
        membership_id: Some(membership.id),
        role,
    }))
}

/// Opens a transaction scoped to `org_id` and authorizes the caller in it (see [`authorize`]).
/// Every organization-scoped handler starts here, so that the scope and the authorization
/// cannot drift apart.
pub async fn enter(
    app: &App,
    org_id: &str,
    write: bool,
    caller: &Caller,
    client: &Client,
    permission: Option<&str>,
) -> Result<(sqlx::Transaction<'static, sqlx::Any>, Access)> {
    let mut tx = app
        .db
        .scoped(crate::db::Scope::Organization(org_id), write)
        .await?;
    let access = authorize(app, &mut tx, org_id, caller, client, permission).await?;
    Ok((tx, access))
}

/// Like [`resolve`] for the caller, answering a non-member (or a key of another organization)
/// with `404` and auditing the attempt, and requiring `permission` when given.
pub async fn authorize(
    app: &App,
    conn: &mut AnyConnection,
    org_id: &str,
    caller: &Caller,
    client: &Client,
    permission: Option<&str>,
) -> Result<Access> {
    let access = match caller {
        Caller::User(auth) => resolve(app, conn, org_id, &auth.user.id).await?,
        Caller::Key(key) if key.key.organization_id == org_id => {
            // Deleted since the key was looked up: the key is gone with it.
            let organization = store::find(conn, org_id).await?.ok_or(Error::InvalidKey)?;
            Some(Access {
                organization,
                actor_id: key.key.id.clone(),
                membership_id: None,
                role: Role {
                    key: API_KEY_ROLE.to_owned(),
                    name: key.key.name.clone(),
                    builtin: false,
                    permissions: key.permissions.clone(),
                },
            })
        }
        Caller::Key(_) => None,
    };
    let Some(access) = access else {
        audit::record_later(
            app,
            AuditEvent::new("organization.access_denied")
                .actor(caller.id())
                .organization(org_id)
                .client(client),
        );
        return Err(Error::NotFound("organization"));
    };
    if let Some(permission) = permission {
        access.require(permission)?;
    }
    Ok(access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_branding_are_validated() {
        assert_eq!(slugify("Acme, Inc."), "acme-inc");
        assert!(slugify("!").starts_with("org-"));
        assert!(parse_slug("acme-inc").is_ok());
        for bad in ["a", "-acme", "acme-", "Acme", "ac me", &"a".repeat(49)] {
            assert!(parse_slug(bad).is_err(), "{bad}");
        }
        assert!(parse_branding(serde_json::json!({ "primary_color": "#1A2b3c" })).is_ok());
        assert!(parse_branding(serde_json::json!({ "primary_color": "red" })).is_err());
        assert!(parse_branding(serde_json::json!({ "font": "x" })).is_err());
        assert!(parse_logo_url("javascript:alert(1)").is_err());
        assert!(parse_logo_url("http://").is_err());
        assert!(parse_logo_url("https://a b").is_err());
        // The shortest address the OpenAPI pattern admits (schemathesis found it refused).
        assert!(parse_logo_url("http://0").is_ok());
        assert!(parse_logo_url("https://x").is_ok());
        assert!(parse_logo_url("https://cdn.example.com/a%20b.png?v=1#x").is_ok());
        // Not URI characters (schemathesis sent the first one).
        for bad in [
            "https://\u{13a}\u{136}h\u{c2}",
            "https://a<b",
            "https://a%zz",
            "https://a%2",
        ] {
            assert!(parse_logo_url(bad).is_err(), "{bad}");
        }
    }
}

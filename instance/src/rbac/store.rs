//! Persistence of custom roles, and resolving a role key in an organization.

use std::collections::BTreeSet;
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Role;
use crate::App;
use crate::clock::UnixTime;

/// A custom role as stored.
#[derive(Debug, Clone)]
pub struct CustomRole {
    pub id: String,
    pub organization_id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub permissions: BTreeSet<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl CustomRole {
    pub fn role(&self) -> Role {
        Role {
            key: self.key.clone(),
            name: self.name.clone(),
            builtin: false,
            permissions: Arc::new(self.permissions.clone()),
        }
    }
}

const COLUMNS: &str =
    "id, organization_id, key, name, description, permissions, created_at, updated_at";

fn from_row(row: &AnyRow) -> sqlx::Result<CustomRole> {
    let permissions: String = row.try_get("permissions")?;
    Ok(CustomRole {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        key: row.try_get("key")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        permissions: serde_json::from_str(&permissions).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The role `key` means in `org_id`: a built-in role, or the organization's custom role. A
/// custom role keeps only the permissions still in the catalogue.
pub async fn resolve(
    app: &App,
    conn: &mut AnyConnection,
    org_id: &str,
    key: &str,
) -> sqlx::Result<Option<Role>> {
    if let Some((_, name, _, _)) = super::BUILTIN_ROLES.iter().find(|(k, ..)| *k == key) {
        let permissions = app.rbac.builtin_role(key).cloned().unwrap_or_default();
        return Ok(Some(Role {
            key: key.to_owned(),
            name: (*name).to_owned(),
            builtin: true,
            permissions,
        }));
    }
    Ok(find_by_key(conn, org_id, key).await?.map(|custom| {
        let mut role = custom.role();
        role.permissions = Arc::new(
            role.permissions
                .iter()
                .filter(|p| app.rbac.contains(p))
                .cloned()
                .collect(),
        );
        role
    }))
}

pub async fn list(conn: &mut AnyConnection, org_id: &str) -> sqlx::Result<Vec<CustomRole>> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE organization_id = $1 ORDER BY id");
    sqlx::query(&sql)
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn find(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
) -> sqlx::Result<Option<CustomRole>> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE organization_id = $1 AND id = $2");
    sqlx::query(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn find_by_key(
    conn: &mut AnyConnection,
    org_id: &str,
    key: &str,
) -> sqlx::Result<Option<CustomRole>> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE organization_id = $1 AND key = $2");
    sqlx::query(&sql)
        .bind(org_id)
        .bind(key)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn count(conn: &mut AnyConnection, org_id: &str) -> sqlx::Result<i64> {
    sqlx::query("SELECT COUNT(*) AS n FROM roles WHERE organization_id = $1")
        .bind(org_id)
        .fetch_one(conn)
        .await?
        .try_get("n")
}

/// Inserts `role`; a taken key is reported as `Ok(false)`.
pub async fn insert(conn: &mut AnyConnection, role: &CustomRole) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO roles (id, organization_id, key, name, description, permissions, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (organization_id, key) DO NOTHING",
    )
    .bind(&role.id)
    .bind(&role.organization_id)
    .bind(&role.key)
    .bind(&role.name)
    .bind(&role.description)
    .bind(serde_json::to_string(&role.permissions).unwrap_or_else(|_| "[]".into()))
    .bind(role.created_at)
    .bind(role.updated_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update(conn: &mut AnyConnection, role: &CustomRole) -> sqlx::Result<()> {
    sqlx::query("UPDATE roles SET name = $3, description = $4, permissions = $5, updated_at = $6 WHERE organization_id = $1 AND id = $2")
        .bind(&role.organization_id)
        .bind(&role.id)
        .bind(&role.name)
        .bind(&role.description)
        .bind(serde_json::to_string(&role.permissions).unwrap_or_else(|_| "[]".into()))
        .bind(role.updated_at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, org_id: &str, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM roles WHERE organization_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

//! Persistence of organizations and memberships. Every function takes a connection from a
//! transaction opened with [`crate::db::Db::scoped`], and every query filters by organization.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Organization;
use crate::clock::UnixTime;
use crate::db::{Db, FilterValue, Filters};

const COLUMNS: &str =
    "id, name, slug, logo_url, branding, settings, created_by, created_at, updated_at";

fn json_column(row: &AnyRow, column: &str) -> sqlx::Result<serde_json::Value> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text).unwrap_or_else(|_| serde_json::json!({})))
}

fn from_row(row: &AnyRow) -> sqlx::Result<Organization> {
    Ok(Organization {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        logo_url: row.try_get("logo_url")?,
        branding: json_column(row, "branding")?,
        settings: json_column(row, "settings")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn find(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<Organization>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The organization with `slug` (slugs are unique instance-wide).
pub async fn find_by_slug(
    conn: &mut AnyConnection,
    slug: &str,
) -> sqlx::Result<Option<Organization>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1");
    sqlx::query(&sql)
        .bind(slug)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Inserts `org`; a taken slug is reported as `Ok(false)`.
pub async fn insert(conn: &mut AnyConnection, org: &Organization) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO organizations (id, name, slug, logo_url, branding, settings, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (slug) DO NOTHING",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(&org.slug)
    .bind(&org.logo_url)
    .bind(org.branding.to_string())
    .bind(org.settings.to_string())
    .bind(&org.created_by)
    .bind(org.created_at)
    .bind(org.updated_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `slug` belongs to an organization other than `except` (a check across
/// organizations by design: slugs are unique instance-wide).
pub async fn slug_taken(db: &Db, slug: &str, except: &str) -> sqlx::Result<bool> {
    let mut tx = db.scoped(crate::db::Scope::AllOrganizations, false).await?;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM organizations WHERE slug = $1 AND id <> $2")
        .bind(slug)
        .bind(except)
        .fetch_one(&mut *tx)
        .await?;
    let n: i64 = row.try_get("n")?;
    tx.commit().await?;
    Ok(n > 0)
}

pub async fn update(conn: &mut AnyConnection, org: &Organization) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE organizations SET name = $2, slug = $3, logo_url = $4, branding = $5, settings = $6, updated_at = $7 \
         WHERE id = $1",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(&org.slug)
    .bind(&org.logo_url)
    .bind(org.branding.to_string())
    .bind(org.settings.to_string())
    .bind(org.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the organization; memberships, roles, invitations, API keys and webhook endpoints go
/// with it (cascade), and the endpoints' secrets and deliveries too.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> sqlx::Result<()> {
    // Nothing more is sent to the organization's endpoints.
    for sql in [
        "DELETE FROM webhook_outbox WHERE endpoint_id IN \
           (SELECT id FROM organization_webhook_endpoints WHERE organization_id = $1)",
        "DELETE FROM webhook_endpoints WHERE id IN \
           (SELECT id FROM organization_webhook_endpoints WHERE organization_id = $1)",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    // Explicit deletes rather than relying on cascades alone, so row-level security sees each.
    for table in [
        "invitations",
        "memberships",
        "roles",
        "organization_api_keys",
        "organization_webhook_endpoints",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE organization_id = $1"))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM organizations WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many organizations the instance has (call in a transaction scoped to all organizations).
pub async fn count_all(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query("SELECT COUNT(*) AS n FROM organizations")
        .fetch_one(conn)
        .await?
        .try_get("n")
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub id: String,
    pub organization_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: UnixTime,
}

fn membership_from_row(row: &AnyRow) -> sqlx::Result<Membership> {
    Ok(Membership {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        user_id: row.try_get("user_id")?,
        role: row.try_get("role")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn find_membership(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<Membership>> {
    sqlx::query(
        "SELECT id, organization_id, user_id, role, created_at FROM memberships WHERE organization_id = $1 AND user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(membership_from_row)
    .transpose()
}

/// Adds a member; an existing membership is reported as `Ok(false)`.
pub async fn insert_membership(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
    role: &str,
    now: UnixTime,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO memberships (id, organization_id, user_id, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (organization_id, user_id) DO NOTHING",
    )
    .bind(format!("mem_{}", uuid::Uuid::now_v7().simple()))
    .bind(org_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_role(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
    role: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE memberships SET role = $3, updated_at = $4 WHERE organization_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_membership(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_with_role(
    conn: &mut AnyConnection,
    org_id: &str,
    role: &str,
) -> sqlx::Result<i64> {
    sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE organization_id = $1 AND role = $2")
        .bind(org_id)
        .bind(role)
        .fetch_one(conn)
        .await?
        .try_get("n")
}

/// Members plus pending, unexpired invitations: what the member cap counts.
pub async fn count_seats(
    conn: &mut AnyConnection,
    org_id: &str,
    now: UnixTime,
) -> sqlx::Result<i64> {
    sqlx::query(
        "SELECT (SELECT COUNT(*) FROM memberships WHERE organization_id = $1) + \
                (SELECT COUNT(*) FROM invitations WHERE organization_id = $1 AND accepted_at IS NULL \
                 AND cancelled_at IS NULL AND expires_at > $2) AS n",
    )
    .bind(org_id)
    .bind(now)
    .fetch_one(conn)
    .await?
    .try_get("n")
}

/// A member as listed: the membership with the user's public fields.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub membership: Membership,
    pub email: String,
    pub name: Option<String>,
}

/// One page of members in join order, optionally filtered by role and by a search over email
/// and name.
pub async fn list_members(
    conn: &mut AnyConnection,
    org_id: &str,
    search: Option<&str>,
    role: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<MemberRow>> {
    let patterns = search.map(crate::users::store::search_patterns);
    let mut filters = Filters::default();
    filters
        .and("m.organization_id = {}", FilterValue::Text(org_id))
        .and_some("m.role = {}", role.map(FilterValue::Text))
        .and_some("m.id > {}", after.map(FilterValue::Text))
        .and_some_pair(
            "(u.email_normalized LIKE {1} ESCAPE '\\' OR LOWER(COALESCE(u.name, '')) LIKE {2} ESCAPE '\\')",
            patterns
                .as_ref()
                .map(|(email, name)| (FilterValue::Text(email), FilterValue::Text(name))),
        );
    let sql = filters.sql(
        "SELECT m.id, m.organization_id, m.user_id, m.role, m.created_at, u.email, u.name \
         FROM memberships m JOIN users u ON u.id = m.user_id",
        "ORDER BY m.id LIMIT {}",
    );
    if conn.backend_name() == "PostgreSQL" {
        // Generic plans cannot know that one organization may hold most of the table and read
        // it whole for a cursor page (measured: 23 ms instead of 1 ms); plan this one per call.
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
            .execute(&mut *conn)
            .await?;
    }
    let query = filters.bind(sqlx::query(&sql));
    let rows = query.bind(limit).fetch_all(conn).await?;
    rows.iter()
        .map(|r| {
            Ok(MemberRow {
                membership: membership_from_row(r)?,
                email: r.try_get("email")?,
                name: r.try_get("name")?,
            })
        })
        .collect()
}

/// One member with the user's public fields.
pub async fn find_member_row(
    conn: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<MemberRow>> {
    let row = sqlx::query(
        "SELECT m.id, m.organization_id, m.user_id, m.role, m.created_at, u.email, u.name \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND m.user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(MemberRow {
            membership: membership_from_row(&r)?,
            email: r.try_get("email")?,
            name: r.try_get("name")?,
        })
    })
    .transpose()
}

/// The organizations `user_id` belongs to, with the role in each, in join order.
pub async fn list_for_user(db: &Db, user_id: &str) -> sqlx::Result<Vec<(Organization, String)>> {
    let mut tx = db.scoped(crate::db::Scope::AllOrganizations, false).await?;
    let sql = format!(
        "SELECT {}, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE m.user_id = $1 ORDER BY m.id",
        COLUMNS
            .split(", ")
            .map(|c| format!("o.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| Ok((from_row(r)?, r.try_get("role")?)))
        .collect()
}

/// The organizations whose only owner is `user_id` (which would be left ownerless without them).
pub async fn sole_ownerships(db: &Db, user_id: &str) -> sqlx::Result<Vec<String>> {
    let mut tx = db.scoped(crate::db::Scope::AllOrganizations, false).await?;
    let rows = sqlx::query(
        "SELECT m.organization_id FROM memberships m WHERE m.user_id = $1 AND m.role = 'owner' \
         AND (SELECT COUNT(*) FROM memberships o WHERE o.organization_id = m.organization_id AND o.role = 'owner') = 1",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(|r| r.try_get("organization_id")).collect()
}

//! Persistence of applications. URI, permission and origin lists are stored as JSON arrays.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Application, Kind, OrganizationSelection};
use crate::db::Db;

const COLUMNS: &str = "id, name, kind, secret_hash, redirect_uris, post_logout_redirect_uris, \
                       first_party, created_at, updated_at, previous_secret_hash, \
                       previous_secret_expires_at, permissions, \
                       organization_selection, allowed_cors_origins, backchannel_logout_uri, \
                       access_token_ttl_secs";

fn from_row(row: &AnyRow) -> sqlx::Result<Application> {
    let kind: String = row.try_get("kind")?;
    let redirect_uris: String = row.try_get("redirect_uris")?;
    let post_logout: String = row.try_get("post_logout_redirect_uris")?;
    let first_party: i64 = row.try_get("first_party")?;
    let permissions: String = row.try_get("permissions")?;
    let selection: String = row.try_get("organization_selection")?;
    let origins: String = row.try_get("allowed_cors_origins")?;
    Ok(Application {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: Kind::parse(&kind).ok_or_else(|| sqlx::Error::Decode("application kind".into()))?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: serde_json::from_str(&redirect_uris).unwrap_or_default(),
        post_logout_redirect_uris: serde_json::from_str(&post_logout).unwrap_or_default(),
        first_party: first_party != 0,
        permissions: serde_json::from_str(&permissions).unwrap_or_default(),
        organization_selection: OrganizationSelection::parse(&selection)
            .ok_or_else(|| sqlx::Error::Decode("application organization_selection".into()))?,
        allowed_cors_origins: serde_json::from_str(&origins).unwrap_or_default(),
        backchannel_logout_uri: row.try_get("backchannel_logout_uri")?,
        access_token_ttl_secs: row.try_get("access_token_ttl_secs")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        previous_secret: match (
            row.try_get::<Option<String>, _>("previous_secret_hash")?,
            row.try_get::<Option<i64>, _>("previous_secret_expires_at")?,
        ) {
            (Some(hash), Some(until)) => Some((hash, until)),
            _ => None,
        },
    })
}

fn json(uris: &[String]) -> String {
    serde_json::to_string(uris).unwrap_or_else(|_| "[]".into())
}

pub async fn insert(db: &Db, app: &Application) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO applications (id, name, kind, secret_hash, redirect_uris, \
         post_logout_redirect_uris, first_party, created_at, updated_at, permissions, \
         organization_selection, allowed_cors_origins, backchannel_logout_uri, \
         access_token_ttl_secs) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&app.id)
    .bind(&app.name)
    .bind(app.kind.as_str())
    .bind(&app.secret_hash)
    .bind(json(&app.redirect_uris))
    .bind(json(&app.post_logout_redirect_uris))
    .bind(i64::from(app.first_party))
    .bind(app.created_at)
    .bind(app.updated_at)
    .bind(json(&app.permissions))
    .bind(app.organization_selection.as_str())
    .bind(json(&app.allowed_cors_origins))
    .bind(&app.backchannel_logout_uri)
    .bind(app.access_token_ttl_secs)
    .execute(&db.writer)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<Application>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Up to `limit` applications, oldest first.
/// The first application (by id) named `name`: names are not unique, importers match on them.
pub async fn find_by_name(db: &Db, name: &str) -> sqlx::Result<Option<Application>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE name = $1 ORDER BY id LIMIT 1");
    sqlx::query(&sql)
        .bind(name)
        .fetch_optional(&db.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list(db: &Db, limit: i64) -> sqlx::Result<Vec<Application>> {
    let sql = format!("SELECT {COLUMNS} FROM applications ORDER BY id LIMIT $1");
    let rows = sqlx::query(&sql).bind(limit).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

/// Writes the editable fields (name, URIs, first_party, permissions, organization_selection,
/// allowed_cors_origins). Returns false if there is no such app.
pub async fn update(db: &Db, app: &Application) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE applications SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4, \
         first_party = $5, updated_at = $6, permissions = $7, organization_selection = $8, \
         allowed_cors_origins = $9, backchannel_logout_uri = $10, access_token_ttl_secs = $11 \
         WHERE id = $1",
    )
    .bind(&app.id)
    .bind(&app.name)
    .bind(json(&app.redirect_uris))
    .bind(json(&app.post_logout_redirect_uris))
    .bind(i64::from(app.first_party))
    .bind(app.updated_at)
    .bind(json(&app.permissions))
    .bind(app.organization_selection.as_str())
    .bind(json(&app.allowed_cors_origins))
    .bind(&app.backchannel_logout_uri)
    .bind(app.access_token_ttl_secs)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether any public application lists `origin` (a CORS preflight names no client).
pub async fn any_lists_origin(db: &Db, origin: &str) -> sqlx::Result<bool> {
    let rows = sqlx::query(
        "SELECT allowed_cors_origins FROM applications \
         WHERE kind IN ('spa', 'native') AND allowed_cors_origins <> '[]'",
    )
    .fetch_all(&db.pool)
    .await?;
    for row in rows {
        let listed: String = row.try_get("allowed_cors_origins")?;
        let listed: Vec<String> = serde_json::from_str(&listed).unwrap_or_default();
        if listed.iter().any(|o| o == origin) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Replaces the secret; the one it replaces keeps working until `previous_until` (when set).
pub async fn set_secret_hash(
    db: &Db,
    id: &str,
    hash: &str,
    previous_until: Option<i64>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE applications SET previous_secret_hash = CASE WHEN $3 IS NULL THEN NULL \
         ELSE secret_hash END, previous_secret_expires_at = $3, secret_hash = $2, \
         updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(hash)
    .bind(previous_until)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(db: &Db, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM applications WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

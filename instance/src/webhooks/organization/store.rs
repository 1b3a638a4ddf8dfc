//! Persistence of organizations' webhook endpoints (`organization_webhook_endpoints`); their
//! secrets, standing and deliveries are the webhooks' own ([`crate::webhooks::store`]).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::OrgEndpoint;
use crate::db::{Db, Scope};
use crate::webhooks::Endpoint;

const COLUMNS: &str =
    "w.id, w.organization_id, w.url, w.events, w.description, w.created_by, w.created_at";

fn from_row(row: &AnyRow) -> sqlx::Result<OrgEndpoint> {
    let events: String = row.try_get("events")?;
    let organization_id: String = row.try_get("organization_id")?;
    Ok(OrgEndpoint {
        endpoint: Endpoint {
            id: row.try_get("id")?,
            url: row.try_get("url")?,
            events: serde_json::from_str(&events).unwrap_or_default(),
            description: row.try_get("description")?,
            organization_id: Some(organization_id.clone()),
        },
        organization_id,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, e: &OrgEndpoint) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO organization_webhook_endpoints \
           (id, organization_id, url, events, description, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&e.endpoint.id)
    .bind(&e.organization_id)
    .bind(&e.endpoint.url)
    .bind(serde_json::Value::from(e.endpoint.events.clone()).to_string())
    .bind(&e.endpoint.description)
    .bind(&e.created_by)
    .bind(e.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The organization's endpoints, oldest first.
pub async fn list(conn: &mut AnyConnection, org_id: &str) -> sqlx::Result<Vec<OrgEndpoint>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_webhook_endpoints w WHERE w.organization_id = $1 ORDER BY w.id"
    );
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
) -> sqlx::Result<Option<OrgEndpoint>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_webhook_endpoints w WHERE w.organization_id = $1 AND w.id = $2"
    );
    sqlx::query(&sql)
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn count(conn: &mut AnyConnection, org_id: &str) -> sqlx::Result<i64> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM organization_webhook_endpoints WHERE organization_id = $1",
    )
    .bind(org_id)
    .fetch_one(conn)
    .await?
    .try_get("n")
}

/// Deletes the endpoint; false when the organization has no such endpoint.
pub async fn delete(conn: &mut AnyConnection, org_id: &str, id: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM organization_webhook_endpoints WHERE organization_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The organization's endpoints, for queueing one of its events on `conn`, the transaction
/// recording it. That transaction may be scoped to no organization (a key's use, a refused
/// attempt) or to all: on PostgreSQL the lookup runs in a savepoint scoped to the event's
/// organization, whose rollback gives the transaction its own scope back.
pub async fn of_organization(
    conn: &mut AnyConnection,
    org_id: &str,
) -> sqlx::Result<Vec<Endpoint>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_webhook_endpoints w WHERE w.organization_id = $1 ORDER BY w.id"
    );
    let rows = if conn.backend_name() == "PostgreSQL" {
        let mut scoped = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::query("SELECT set_config('authstack.org_id', $1, true)")
            .bind(org_id)
            .execute(&mut *scoped)
            .await?;
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .fetch_all(&mut *scoped)
            .await?;
        scoped.rollback().await?;
        rows
    } else {
        sqlx::query(&sql).bind(org_id).fetch_all(&mut *conn).await?
    };
    rows.iter()
        .map(|r| from_row(r).map(|e| e.endpoint))
        .collect()
}

/// The endpoint `id` as the delivery worker sends to it, if it and its organization exist.
pub async fn find_for_delivery(db: &Db, id: &str) -> sqlx::Result<Option<Endpoint>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_webhook_endpoints w \
         JOIN organizations o ON o.id = w.organization_id WHERE w.id = $1"
    );
    let mut tx = db.scoped(Scope::AllOrganizations, false).await?;
    let found = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?;
    tx.commit().await?;
    Ok(found.map(|e| e.endpoint))
}

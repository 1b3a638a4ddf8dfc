//! The `customizations` table: the only place it is read or written.

use authstack_instance::clock::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Customization, Status};
use crate::db::Db;
use crate::ids::{AccountId, InstanceId};

const COLUMNS: &str = "id, instance_id, account_id, prompt, planner, status, patch, summary, \
    security_notes, base_revision, revision, result, author, created_at, updated_at";

fn from_row(row: &AnyRow) -> anyhow::Result<Customization> {
    Ok(Customization {
        id: row.try_get("id")?,
        instance_id: row.try_get("instance_id")?,
        account_id: row.try_get("account_id")?,
        prompt: row.try_get("prompt")?,
        planner: row.try_get("planner")?,
        status: Status::parse(&row.try_get::<String, _>("status")?),
        patch: serde_json::from_str(&row.try_get::<String, _>("patch")?)?,
        summary: row.try_get("summary")?,
        security_notes: serde_json::from_str(&row.try_get::<String, _>("security_notes")?)?,
        base_revision: row.try_get("base_revision")?,
        revision: row.try_get("revision")?,
        result: row.try_get("result")?,
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert<'c, E>(executor: E, c: &Customization) -> anyhow::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "INSERT INTO customizations ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&c.id)
    .bind(&c.instance_id)
    .bind(&c.account_id)
    .bind(&c.prompt)
    .bind(&c.planner)
    .bind(c.status.as_str())
    .bind(serde_json::to_string(&c.patch)?)
    .bind(&c.summary)
    .bind(serde_json::to_string(&c.security_notes)?)
    .bind(c.base_revision)
    .bind(c.revision)
    .bind(c.result.as_deref())
    .bind(&c.author)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Writes every mutable field of `c`.
pub async fn update<'c, E>(executor: E, c: &Customization) -> anyhow::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE customizations SET prompt = $1, status = $2, patch = $3, summary = $4, \
         security_notes = $5, base_revision = $6, revision = $7, result = $8, updated_at = $9 \
         WHERE id = $10",
    )
    .bind(&c.prompt)
    .bind(c.status.as_str())
    .bind(serde_json::to_string(&c.patch)?)
    .bind(&c.summary)
    .bind(serde_json::to_string(&c.security_notes)?)
    .bind(c.base_revision)
    .bind(c.revision)
    .bind(c.result.as_deref())
    .bind(c.updated_at)
    .bind(&c.id)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn find(
    db: &Db,
    instance_id: &InstanceId,
    id: &str,
) -> anyhow::Result<Option<Customization>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customizations WHERE id = $1 AND instance_id = $2"
    ))
    .bind(id)
    .bind(instance_id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(
    db: &Db,
    instance_id: &InstanceId,
    limit: i64,
) -> anyhow::Result<Vec<Customization>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customizations WHERE instance_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(instance_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Prompts the account sent since `since` (each planning counts, refused ones too).
pub async fn prompts_since(
    db: &Db,
    account_id: &AccountId,
    since: UnixTime,
) -> anyhow::Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM customizations WHERE account_id = $1 AND created_at >= $2",
    )
    .bind(account_id)
    .bind(since)
    .fetch_one(&db.pool)
    .await?;
    Ok(row.try_get("n")?)
}

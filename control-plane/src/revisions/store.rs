//! The `revisions` table: the only place it is read or written.

use authstack_instance::clock::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{NewRevision, Outcome, Revision, Source};
use crate::db::Db;
use crate::ids::InstanceId;

const COLUMNS: &str = "instance_id, number, config, summary, source, author, created_at, outcome, \
    outcome_detail, deployed_at";

fn from_row(row: &AnyRow) -> anyhow::Result<Revision> {
    let config: String = row.try_get("config")?;
    let source: String = row.try_get("source")?;
    let number: i64 = row.try_get("number")?;
    Ok(Revision {
        instance_id: row.try_get("instance_id")?,
        number,
        config: serde_json::from_str(&config)
            .map_err(|e| anyhow::anyhow!("revision {number}'s stored config: {e}"))?,
        summary: row.try_get("summary")?,
        source: Source::parse(&source).unwrap_or(Source::Api),
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
        outcome: Outcome::parse(&row.try_get::<String, _>("outcome")?),
        outcome_detail: row.try_get("outcome_detail")?,
        deployed_at: row.try_get("deployed_at")?,
    })
}

/// The highest revision number the instance has stored, read in `conn`'s transaction.
pub async fn highest_number(
    conn: &mut sqlx::AnyConnection,
    instance_id: &InstanceId,
) -> sqlx::Result<Option<i64>> {
    sqlx::query("SELECT MAX(number) AS highest FROM revisions WHERE instance_id = $1")
        .bind(instance_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("highest")
}

/// Inserts revision `number`; fails if the instance has it already (the primary key).
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    instance_id: &InstanceId,
    number: i64,
    new: NewRevision<'_>,
    now: UnixTime,
) -> anyhow::Result<()> {
    let config = serde_json::to_string(new.config)?;
    sqlx::query(
        "INSERT INTO revisions (instance_id, number, config, summary, source, author, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(instance_id)
    .bind(number)
    .bind(&config)
    .bind(new.summary)
    .bind(new.source.as_str())
    .bind(new.author)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(
    db: &Db,
    instance_id: &InstanceId,
    number: i64,
) -> anyhow::Result<Option<Revision>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM revisions WHERE instance_id = $1 AND number = $2"
    ))
    .bind(instance_id)
    .bind(number)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Newest first; `before` pages back from a revision number.
pub async fn list(
    db: &Db,
    instance_id: &InstanceId,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<Revision>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM revisions WHERE instance_id = $1 AND number < $2 \
         ORDER BY number DESC LIMIT $3"
    ))
    .bind(instance_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Records a revision's deployment outcome.
pub async fn set_outcome<'c, E>(
    executor: E,
    instance_id: &InstanceId,
    number: i64,
    outcome: Outcome,
    detail: Option<&str>,
    now: UnixTime,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let deployed_at = (outcome == Outcome::Deployed).then_some(now);
    sqlx::query(
        "UPDATE revisions SET outcome = $1, outcome_detail = $2, \
         deployed_at = COALESCE($3, deployed_at) WHERE instance_id = $4 AND number = $5",
    )
    .bind(outcome.as_str())
    .bind(detail)
    .bind(deployed_at)
    .bind(instance_id)
    .bind(number)
    .execute(executor)
    .await?;
    Ok(())
}

/// Deletes the instance's revisions created before `cutoff`, except those numbered in `keep`
/// (at most three) and the newest one. Returns how many went.
pub async fn delete_older_than(
    db: &Db,
    instance_id: &InstanceId,
    cutoff: UnixTime,
    keep: &[i64],
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "DELETE FROM revisions WHERE instance_id = $1 AND created_at < $2 \
         AND number <> $3 AND number <> $4 AND number <> $5 \
         AND number < (SELECT MAX(number) FROM revisions WHERE instance_id = $1)",
    )
    .bind(instance_id)
    .bind(cutoff)
    .bind(keep.first().copied().unwrap_or(-1))
    .bind(keep.get(1).copied().unwrap_or(-1))
    .bind(keep.get(2).copied().unwrap_or(-1))
    .execute(&db.writer)
    .await?;
    Ok(result.rows_affected())
}

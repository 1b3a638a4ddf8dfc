//! The `meta` table: the only place it is read or written.

use sqlx::Row;

use super::Key;
use crate::db::Db;

pub async fn get(db: &Db, key: Key) -> sqlx::Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(key.as_str())
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| r.try_get("value")).transpose()
}

/// Writes a setting, replacing its value.
pub async fn set(db: &Db, key: Key, value: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key.as_str())
    .bind(value)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Writes a setting that must not exist yet, in `executor`'s transaction.
pub async fn insert<'c, E>(executor: E, key: Key, value: &str) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind(key.as_str())
        .bind(value)
        .execute(executor)
        .await?;
    Ok(())
}

//! Persistence of the keys imported password hashes need (`password_hash_keys`).

use sqlx::Row;

use crate::clock::UnixTime;
use crate::db::Db;

/// The sealed key `id`, if there is one.
pub async fn find_key(db: &Db, id: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query("SELECT key_sealed FROM password_hash_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| r.try_get("key_sealed")).transpose()
}

/// Every key of `algorithm`: (id, sealed key), oldest first.
pub async fn keys_of(db: &Db, algorithm: &str) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, key_sealed FROM password_hash_keys WHERE algorithm = $1 \
         ORDER BY created_at, id",
    )
    .bind(algorithm)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("key_sealed")?)))
        .collect()
}

pub async fn insert_key(
    db: &Db,
    id: &str,
    algorithm: &str,
    sealed: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password_hash_keys (id, algorithm, key_sealed, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(algorithm)
    .bind(sealed)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}

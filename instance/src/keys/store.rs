//! Persistence of signing keys.

use sqlx::Row;

use crate::clock::UnixTime;
use crate::db::Db;

pub struct StoredKey {
    pub kid: String,
    pub public_n: String,
    pub public_e: String,
    pub private_key_sealed: String,
    pub created_at: UnixTime,
    pub retired_at: Option<UnixTime>,
}

pub async fn all(db: &Db) -> sqlx::Result<Vec<StoredKey>> {
    let rows = sqlx::query(
        "SELECT kid, public_n, public_e, private_key_sealed, created_at, retired_at \
         FROM signing_keys ORDER BY created_at DESC, kid DESC",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredKey {
                kid: r.try_get("kid")?,
                public_n: r.try_get("public_n")?,
                public_e: r.try_get("public_e")?,
                private_key_sealed: r.try_get("private_key_sealed")?,
                created_at: r.try_get("created_at")?,
                retired_at: r.try_get("retired_at")?,
            })
        })
        .collect()
}

pub async fn insert(db: &Db, key: &StoredKey) -> sqlx::Result<()> {
    insert_with(&db.writer, key).await
}

async fn insert_with<'e, E: sqlx::AnyExecutor<'e>>(
    executor: E,
    key: &StoredKey,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, public_n, public_e, private_key_sealed, created_at) \
         VALUES ($1, 'RS256', $2, $3, $4, $5)",
    )
    .bind(&key.kid)
    .bind(&key.public_n)
    .bind(&key.public_e)
    .bind(&key.private_key_sealed)
    .bind(key.created_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Retires the active key and makes `key` the active one, atomically.
pub async fn rotate_to(db: &Db, key: &StoredKey, now: UnixTime) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    insert_with(&mut *tx, key).await?;
    tx.commit().await
}

pub async fn delete_retired_before(db: &Db, cutoff: UnixTime) -> sqlx::Result<u64> {
    let done =
        sqlx::query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1")
            .bind(cutoff)
            .execute(&db.writer)
            .await?;
    Ok(done.rows_affected())
}

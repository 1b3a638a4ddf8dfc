//! The control plane's database: the instance crate's portable-SQL pool (SQLite or PostgreSQL),
//! with the control plane's own migrations.

use std::path::Path;

pub use authstack_instance::db::{Backend, Db};

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Opens `url` or `data_dir/control-plane.db` and applies the migrations.
pub async fn connect(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Db> {
    let db = Db::open(url, &data_dir.join("control-plane.db")).await?;
    db.migrate_with(&SQLITE, &POSTGRES).await?;
    Ok(db)
}

/// Reads a value of the `meta` table.
pub async fn meta(db: &Db, key: &str) -> sqlx::Result<Option<String>> {
    use sqlx::Row;
    let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| r.try_get("value")).transpose()
}

/// Writes a value of the `meta` table.
pub async fn set_meta(db: &Db, key: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// A new id: `prefix_` + a time-ordered UUID.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

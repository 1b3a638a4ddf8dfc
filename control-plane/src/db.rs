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

/// A new id: `prefix_` + a time-ordered UUID.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

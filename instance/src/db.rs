//! The database: one pool over portable SQL, SQLite (embedded default) or PostgreSQL, chosen by
//! URL scheme. Queries use `$n` placeholders, which both drivers accept, and store times as
//! BIGINT Unix seconds so that one implementation serves both backends.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// Which organizations' rows a transaction may touch.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Organization(&'a str),
    /// For the few reads that cross organizations by design: a user's own memberships, an
    /// invitation found by its token, the instance-wide admin views.
    AllOrganizations,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Reads go to `pool`; writes (and transactions that write) go to `writer`. On SQLite the
/// writer is a single connection: SQLite admits one writer at a time, and queueing writers in
/// the pool is far cheaper than letting them collide and sleep in SQLite's busy handler. On
/// PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub writer: AnyPool,
    pub backend: Backend,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Opens `url` (`postgres://...`) or, when `None`, `data_dir/authstack.db`, and applies the
    /// embedded migrations.
    pub async fn connect(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Db> {
        install_default_drivers();
        let db = match url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // Optional filters are written `($n IS NULL OR col = $n)`; a cached
                            // generic plan cannot see which are set and plans for none.
                            conn.execute("SET plan_cache_mode = force_custom_plan")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .context("connecting to PostgreSQL")?;
                Db {
                    writer: pool.clone(),
                    pool,
                    backend: Backend::Postgres,
                }
            }
            Some(url) if url.starts_with("sqlite:") => Self::sqlite(url).await?,
            Some(_) => {
                anyhow::bail!("unsupported database URL scheme (use postgres:// or sqlite:)")
            }
            None => {
                let path = data_dir.join("authstack.db");
                Self::sqlite(&format!("sqlite://{}?mode=rwc", path.display())).await?
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn sqlite(url: &str) -> anyhow::Result<Db> {
        // The writer opens (and creates) the file first and switches it to WAL, so that the
        // readers never see a rollback-journal database.
        let writer = Self::sqlite_pool(url, 1).await?;
        let pool = Self::sqlite_pool(url, 4).await?;
        Ok(Db {
            pool,
            writer,
            backend: Backend::Sqlite,
        })
    }

    async fn sqlite_pool(url: &str, connections: u32) -> anyhow::Result<AnyPool> {
        AnyPoolOptions::new()
            .max_connections(connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(url)
            .await
            .context("opening the SQLite database")
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.writer)
            .await
            .context("applying database migrations")
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A transaction that may only see `scope`'s rows. On PostgreSQL this sets the
    /// `authstack.org_id` setting that the row-level security policies check; the code scopes
    /// every organization query by id as well, so SQLite needs nothing more.
    pub async fn scoped(
        &self,
        scope: Scope<'_>,
        write: bool,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        let pool = if write { &self.writer } else { &self.pool };
        let mut tx = pool.begin().await?;
        if self.backend == Backend::Postgres {
            let value = match scope {
                Scope::Organization(id) => id,
                Scope::AllOrganizations => "*",
            };
            sqlx::query("SELECT set_config('authstack.org_id', $1, true)")
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// True when a unique constraint rejected a write.
    pub fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
    }
}

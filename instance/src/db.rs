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

/// How SQLite commits reach the disk, from `AUTHSTACK_SQLITE_SYNCHRONOUS` (`full`, the
/// default, or `normal`). In WAL mode both survive a crash of the process (kill -9); they differ
/// on a power loss or kernel crash: `normal` may lose the transactions committed since the last
/// checkpoint — for an auth service that can be an acknowledged sign-out, revocation, ban or
/// password change coming undone — while `full` syncs the log on every commit (see
/// docs/benchmarks.md for what it costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Full,
    Normal,
}

impl Synchronous {
    pub const ENV: &'static str = "AUTHSTACK_SQLITE_SYNCHRONOUS";

    pub fn parse(value: Option<&str>) -> anyhow::Result<Synchronous> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("full") => Ok(Synchronous::Full),
            Some("normal") => Ok(Synchronous::Normal),
            Some(other) => anyhow::bail!("{} is '{other}': use full or normal", Self::ENV),
        }
    }

    fn from_env() -> anyhow::Result<Synchronous> {
        Self::parse(std::env::var(Self::ENV).ok().as_deref())
    }

    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "PRAGMA synchronous = FULL;",
            Synchronous::Normal => "PRAGMA synchronous = NORMAL;",
        }
    }
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
        let db = Self::open(url, &data_dir.join("authstack.db")).await?;
        db.migrate_with(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS)
            .await?;
        Ok(db)
    }

    /// Opens `url` (`postgres://...` or `sqlite:...`) or, when `None`, the SQLite file
    /// `sqlite_file`, without migrating: for other crates that keep their own tables this way.
    pub async fn open(url: Option<&str>, sqlite_file: &Path) -> anyhow::Result<Db> {
        install_default_drivers();
        Ok(match url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
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
            None => Self::sqlite(&format!("sqlite://{}?mode=rwc", sqlite_file.display())).await?,
        })
    }

    async fn sqlite(url: &str) -> anyhow::Result<Db> {
        // The writer opens (and creates) the file first and switches it to WAL, so that the
        // readers never see a rollback-journal database.
        let synchronous = Synchronous::from_env()?;
        let writer = Self::sqlite_pool(url, 1, synchronous).await?;
        let pool = Self::sqlite_pool(url, 4, synchronous).await?;
        Ok(Db {
            pool,
            writer,
            backend: Backend::Sqlite,
        })
    }

    async fn sqlite_pool(
        url: &str,
        connections: u32,
        synchronous: Synchronous,
    ) -> anyhow::Result<AnyPool> {
        AnyPoolOptions::new()
            .max_connections(connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL;").await?;
                    conn.execute(synchronous.pragma()).await?;
                    conn.execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                        .await?;
                    Ok(())
                })
            })
            .connect(url)
            .await
            .context("opening the SQLite database")
    }

    /// Applies the migrations for this backend.
    pub async fn migrate_with(
        &self,
        sqlite: &sqlx::migrate::Migrator,
        postgres: &sqlx::migrate::Migrator,
    ) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
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

    /// A write transaction. On SQLite it takes the write lock at `BEGIN` (`BEGIN IMMEDIATE`):
    /// a transaction that reads before it writes would otherwise have to upgrade its lock, and
    /// SQLite refuses that at once ("database is locked", no busy wait) while another
    /// connection to the file — another process, or the gateway's pool in `authstack dev` —
    /// is writing. PostgreSQL needs nothing more than `BEGIN`.
    pub async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// A transaction that may only see `scope`'s rows. On PostgreSQL this sets the
    /// `authstack.org_id` setting that the row-level security policies check; the code scopes
    /// every organization query by id as well, so SQLite needs nothing more.
    pub async fn scoped(
        &self,
        scope: Scope<'_>,
        write: bool,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = if write {
            self.begin_write().await?
        } else {
            self.pool.begin().await?
        };
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

    /// Serialises the rest of a write transaction with every other holding the same `key`, for
    /// check-then-insert limits (plan caps). On SQLite the single writer connection already
    /// serialises writes; on PostgreSQL this takes a transaction-level advisory lock.
    pub async fn lock(&self, conn: &mut sqlx::AnyConnection, key: &str) -> sqlx::Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// True when a unique constraint rejected a write.
    pub fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
    }
}

/// A value for a [`Filters`] clause.
#[derive(Debug, Clone, Copy)]
pub enum FilterValue<'a> {
    Text(&'a str),
    Int(i64),
}

/// `WHERE` conditions for only the filters in use, numbered `$1, $2, ...` in order. A prepared
/// statement written as `($n IS NULL OR col = $n)` gets a generic plan on PostgreSQL that cannot
/// tell which filters apply (measured: a page of 50 members read all 10,000 of an organization).
#[derive(Debug, Default)]
pub struct Filters<'a> {
    clauses: Vec<String>,
    values: Vec<FilterValue<'a>>,
}

impl<'a> Filters<'a> {
    /// Adds `clause`, where `{}` stands for this value's placeholder (several times if needed).
    pub fn and(&mut self, clause: &str, value: FilterValue<'a>) -> &mut Self {
        self.values.push(value);
        self.clauses
            .push(clause.replace("{}", &format!("${}", self.values.len())));
        self
    }

    /// Adds `clause` with two values, `{1}` and `{2}` standing for their placeholders, when both
    /// are present.
    pub fn and_some_pair(
        &mut self,
        clause: &str,
        values: Option<(FilterValue<'a>, FilterValue<'a>)>,
    ) -> &mut Self {
        if let Some((first, second)) = values {
            self.values.push(first);
            let clause = clause.replace("{1}", &format!("${}", self.values.len()));
            self.values.push(second);
            self.clauses
                .push(clause.replace("{2}", &format!("${}", self.values.len())));
        }
        self
    }

    /// Adds the clause only when `value` is present.
    pub fn and_some(&mut self, clause: &str, value: Option<FilterValue<'a>>) -> &mut Self {
        if let Some(value) = value {
            self.and(clause, value);
        }
        self
    }

    /// `WHERE ...` (or nothing), then `tail`, where `{}` in `tail` is the next placeholder.
    pub fn sql(&self, select: &str, tail: &str) -> String {
        let mut sql = select.to_owned();
        if !self.clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.clauses.join(" AND "));
        }
        sql.push(' ');
        sql.push_str(&tail.replace("{}", &format!("${}", self.values.len() + 1)));
        sql
    }

    /// Binds the values in order to a query built from [`Filters::sql`].
    pub fn bind<'q>(
        &self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>
    where
        'a: 'q,
    {
        for value in &self.values {
            query = match *value {
                FilterValue::Text(text) => query.bind(text),
                FilterValue::Int(int) => query.bind(int),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::{Db, Synchronous};

    #[test]
    fn synchronous_defaults_to_full_and_refuses_what_it_does_not_know() {
        assert_eq!(Synchronous::parse(None).ok(), Some(Synchronous::Full));
        assert_eq!(
            Synchronous::parse(Some("FULL")).ok(),
            Some(Synchronous::Full)
        );
        assert_eq!(
            Synchronous::parse(Some(" normal ")).ok(),
            Some(Synchronous::Normal)
        );
        let refused = Synchronous::parse(Some("off")).expect_err("off is refused");
        assert!(refused.to_string().contains("AUTHSTACK_SQLITE_SYNCHRONOUS"));
    }

    /// Every connection, the writer's and the readers', commits with the configured level
    /// (2 = FULL), in WAL mode.
    #[tokio::test]
    async fn sqlite_connections_sync_every_commit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(None, dir.path()).await.expect("opens");
        for pool in [&db.writer, &db.pool] {
            let row = sqlx::query("PRAGMA synchronous")
                .fetch_one(pool)
                .await
                .expect("pragma");
            let level: i64 = row.try_get(0).expect("level");
            if std::env::var(Synchronous::ENV).is_err() {
                assert_eq!(level, 2, "FULL");
            }
            let row = sqlx::query("PRAGMA journal_mode")
                .fetch_one(pool)
                .await
                .expect("pragma");
            let mode: String = row.try_get(0).expect("mode");
            assert_eq!(mode, "wal");
        }
    }

    /// Two handles on one SQLite file (two processes, or the gateway's pool beside the control
    /// plane's in `authstack dev`): a write transaction that reads before it writes waits for
    /// the other writer instead of failing with "database is locked".
    #[tokio::test]
    async fn a_write_transaction_that_reads_first_waits_for_another_writer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let one = Db::connect(None, dir.path()).await.expect("opens");
        let other = Db::connect(None, dir.path()).await.expect("opens again");
        for db in [&one, &other] {
            sqlx::query("CREATE TABLE IF NOT EXISTS t (n BIGINT)")
                .execute(&db.writer)
                .await
                .expect("table");
        }
        for round in 0..20 {
            let mut reader_first = one.begin_write().await.expect("begin");
            let count: i64 = sqlx::query("SELECT COUNT(*) FROM t")
                .fetch_one(&mut *reader_first)
                .await
                .expect("read")
                .try_get(0)
                .expect("count");
            let writer = tokio::spawn({
                let other = other.clone();
                async move {
                    let mut tx = other.begin_write().await.expect("begin other");
                    sqlx::query("INSERT INTO t (n) VALUES (0)")
                        .execute(&mut *tx)
                        .await
                        .expect("other writes");
                    tx.commit().await.expect("other commits");
                }
            });
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            sqlx::query("INSERT INTO t (n) VALUES ($1)")
                .bind(count + round)
                .execute(&mut *reader_first)
                .await
                .expect("writes after reading");
            reader_first.commit().await.expect("commits");
            writer.await.expect("other writer");
        }
    }
}

//! Customer instances: two per active subscription (`live` and `test`), each with a lifecycle
//!
//! ```text
//! provisioning ─> ready ─> updating ─> ready
//!      │            │                    │
//!      └─> failed   └──────> suspended <─┘ ─> deleting ─> deleted
//! ```
//!
//! and timestamped steps for a progress view. The rows say what should be (`desired`) and what
//! is (`state`); [`reconcile`] moves one towards the other through a [`Provisioner`].

pub mod reconcile;
pub mod routes;
pub mod usage;

use authstack_instance::clock::UnixTime;
use authstack_instance::config::InstanceConfig;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::App;
use crate::catalog::Plan;
use crate::db::{Db, new_id};
use crate::provisioner::{Environment, InstanceSecrets};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = InstanceState)]
pub enum State {
    Provisioning,
    Ready,
    Updating,
    Suspended,
    Deleting,
    Deleted,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Provisioning => "provisioning",
            State::Ready => "ready",
            State::Updating => "updating",
            State::Suspended => "suspended",
            State::Deleting => "deleting",
            State::Deleted => "deleted",
            State::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> State {
        match raw {
            "provisioning" => State::Provisioning,
            "ready" => State::Ready,
            "updating" => State::Updating,
            "suspended" => State::Suspended,
            "deleting" => State::Deleting,
            "deleted" => State::Deleted,
            _ => State::Failed,
        }
    }
}

/// What an instance should be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Desired {
    Running,
    Suspended,
    Deleted,
}

impl Desired {
    pub fn as_str(self) -> &'static str {
        match self {
            Desired::Running => "running",
            Desired::Suspended => "suspended",
            Desired::Deleted => "deleted",
        }
    }

    pub fn parse(raw: &str) -> Desired {
        match raw {
            "running" => Desired::Running,
            "suspended" => Desired::Suspended,
            _ => Desired::Deleted,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Instance {
    pub id: String,
    #[schema(required = true)]
    pub account_id: Option<String>,
    pub environment: Environment,
    pub region: String,
    pub plan: String,
    pub state: State,
    pub desired: Desired,
    /// The configuration revision the instance should run.
    pub revision: i64,
    /// The revision it runs (last deployed successfully and still in place).
    #[schema(required = true)]
    pub current_revision: Option<i64>,
    /// The last revision that became ready: the target of an automatic rollback.
    #[schema(required = true)]
    pub last_healthy_revision: Option<i64>,
    #[serde(skip)]
    pub endpoint: String,
    pub allowed_origins: Vec<String>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixTime,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UnixTime,
    #[serde(skip)]
    pub sealed_secrets: String,
}

pub const COLUMNS: &str = "id, account_id, environment, region, plan, state, desired, revision, \
    current_revision, last_healthy_revision, endpoint, allowed_origins, last_error, created_at, updated_at, secrets";

impl Instance {
    pub fn from_row(row: &AnyRow) -> sqlx::Result<Instance> {
        let environment: String = row.try_get("environment")?;
        let origins: String = row.try_get("allowed_origins")?;
        Ok(Instance {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            environment: Environment::parse(&environment).unwrap_or(Environment::Test),
            region: row.try_get("region")?,
            plan: row.try_get("plan")?,
            state: State::parse(&row.try_get::<String, _>("state")?),
            desired: Desired::parse(&row.try_get::<String, _>("desired")?),
            revision: row.try_get("revision")?,
            current_revision: row.try_get("current_revision")?,
            last_healthy_revision: row.try_get("last_healthy_revision")?,
            endpoint: row.try_get("endpoint")?,
            allowed_origins: serde_json::from_str(&origins).unwrap_or_default(),
            last_error: row.try_get("last_error")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            sealed_secrets: row.try_get("secrets")?,
        })
    }

    pub fn secrets(&self, app: &App) -> anyhow::Result<InstanceSecrets> {
        InstanceSecrets::open(&self.sealed_secrets, &app.master, &self.id)
    }
}

/// A step of an instance's progress view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Step {
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: UnixTime,
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

pub async fn find(db: &Db, id: &str) -> sqlx::Result<Option<Instance>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(Instance::from_row).transpose()
}

/// The account's current (not deleted) instances, live first.
pub async fn of_account(db: &Db, account_id: &str) -> sqlx::Result<Vec<Instance>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instances WHERE account_id = $1 AND state <> 'deleted' \
         ORDER BY environment"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(Instance::from_row).collect()
}

pub async fn all(db: &Db) -> sqlx::Result<Vec<Instance>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instances ORDER BY created_at"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(Instance::from_row).collect()
}

pub async fn steps(db: &Db, instance_id: &str) -> sqlx::Result<Vec<Step>> {
    let rows = sqlx::query(
        "SELECT at, step, detail FROM instance_steps WHERE instance_id = $1 ORDER BY id",
    )
    .bind(instance_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Step {
                at: row.try_get("at")?,
                step: row.try_get("step")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect()
}

/// Appends a step to an instance's progress view.
pub async fn record_step<'c, E>(
    executor: E,
    instance_id: &str,
    now: UnixTime,
    step: &str,
    detail: Option<&str>,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO instance_steps (instance_id, at, step, detail) VALUES ($1, $2, $3, $4)",
    )
    .bind(instance_id)
    .bind(now)
    .bind(step)
    .bind(detail)
    .execute(executor)
    .await?;
    Ok(())
}

/// Creates an instance row (state `provisioning`, desired `running`) with fresh secrets.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    app: &App,
    account_id: Option<&str>,
    environment: Environment,
    region: &str,
    plan: &str,
) -> anyhow::Result<String> {
    let id = new_id("ins");
    let now = app.clock.now();
    let sealed = InstanceSecrets::generate().seal(&app.master, &id)?;
    sqlx::query(
        "INSERT INTO instances (id, account_id, environment, region, plan, state, desired, revision, \
         endpoint, allowed_origins, secrets, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'provisioning', 'running', 1, '', '[]', $6, $7, $7)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(environment.as_str())
    .bind(region)
    .bind(plan)
    .bind(&sealed)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    record_step(
        &mut *conn,
        &id,
        now,
        "requested",
        Some(&format!("{environment} instance in {region}")),
    )
    .await?;
    Ok(id)
}

/// Sets what the account's instances should be doing; returns how many changed.
pub async fn set_desired(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    desired: Desired,
    now: UnixTime,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE instances SET desired = $1, updated_at = $2 \
         WHERE account_id = $3 AND desired <> $1 AND state <> 'deleted'",
    )
    .bind(desired.as_str())
    .bind(now)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected())
}

/// Moves the account's instances to `plan` with a new revision (the plan's limits are part of
/// the configuration).
pub async fn change_plan(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    plan: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    let ids: Vec<String> = sqlx::query(
        "SELECT id FROM instances WHERE account_id = $1 AND plan <> $2 AND state <> 'deleted'",
    )
    .bind(account_id)
    .bind(plan)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect::<sqlx::Result<_>>()?;
    for id in ids {
        sqlx::query("UPDATE instances SET plan = $1, revision = revision + 1, updated_at = $2 WHERE id = $3")
            .bind(plan)
            .bind(now)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        record_step(&mut *conn, &id, now, "plan changed", Some(plan)).await?;
    }
    Ok(())
}

/// The configuration a new instance of `plan` starts with.
pub fn config_for(plan: Option<&Plan>) -> InstanceConfig {
    crate::revisions::initial_config(plan)
}

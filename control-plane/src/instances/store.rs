//! The `instances` and `instance_steps` tables: the only place they are read or written.

use authstack_instance::clock::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Desired, Instance, State, Step};
use crate::db::Db;
use crate::ids::{AccountId, InstanceId};
use crate::provisioner::Environment;

const COLUMNS: &str = "id, account_id, environment, region, plan, state, desired, revision, \
    current_revision, last_healthy_revision, endpoint, allowed_origins, last_error, created_at, updated_at, secrets";

fn from_row(row: &AnyRow) -> sqlx::Result<Instance> {
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

fn encode_origins(origins: &[String]) -> String {
    serde_json::Value::from(origins).to_string()
}

pub async fn find(db: &Db, id: &InstanceId) -> sqlx::Result<Option<Instance>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The account's current (not deleted) instances, live first.
pub async fn of_account(db: &Db, account_id: &AccountId) -> sqlx::Result<Vec<Instance>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instances WHERE account_id = $1 AND state <> $2 \
         ORDER BY environment"
    ))
    .bind(account_id)
    .bind(State::Deleted.as_str())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The environments the account has a current (not deleted) instance in, read in `conn`'s
/// transaction.
pub async fn environments_of(
    conn: &mut sqlx::AnyConnection,
    account_id: &AccountId,
) -> sqlx::Result<Vec<Environment>> {
    let rows =
        sqlx::query("SELECT environment FROM instances WHERE account_id = $1 AND state <> $2")
            .bind(account_id)
            .bind(State::Deleted.as_str())
            .fetch_all(&mut *conn)
            .await?;
    let mut environments = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(environment) = Environment::parse(&row.try_get::<String, _>("environment")?) {
            environments.push(environment);
        }
    }
    Ok(environments)
}

pub async fn all(db: &Db) -> sqlx::Result<Vec<Instance>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM instances ORDER BY created_at"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The revision the instance should run, read in `conn`'s transaction.
pub async fn wanted_revision(conn: &mut sqlx::AnyConnection, id: &InstanceId) -> sqlx::Result<i64> {
    sqlx::query("SELECT revision FROM instances WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("revision")
}

pub async fn steps(db: &Db, instance_id: &InstanceId) -> sqlx::Result<Vec<Step>> {
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
    instance_id: &InstanceId,
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

/// A new instance row; `account_id` is `None` for the platform instance.
pub struct NewInstance<'a> {
    pub id: &'a InstanceId,
    pub account_id: Option<&'a AccountId>,
    pub environment: Environment,
    pub region: &'a str,
    pub plan: &'a str,
    pub sealed_secrets: &'a str,
}

/// Inserts an instance (state `provisioning`, desired `running`, revision 1) and its first
/// step, `requested`.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    new: &NewInstance<'_>,
    now: UnixTime,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO instances (id, account_id, environment, region, plan, state, desired, revision, \
         endpoint, allowed_origins, secrets, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, '', '[]', $8, $9, $9)",
    )
    .bind(new.id)
    .bind(new.account_id)
    .bind(new.environment.as_str())
    .bind(new.region)
    .bind(new.plan)
    .bind(State::Provisioning.as_str())
    .bind(Desired::Running.as_str())
    .bind(new.sealed_secrets)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    record_step(&mut *conn, new.id, now, "requested", Some(detail)).await
}

/// Sets what the account's instances should be doing; returns how many changed.
pub async fn set_desired(
    conn: &mut sqlx::AnyConnection,
    account_id: &AccountId,
    desired: Desired,
    now: UnixTime,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE instances SET desired = $1, updated_at = $2 \
         WHERE account_id = $3 AND desired <> $1 AND state <> $4",
    )
    .bind(desired.as_str())
    .bind(now)
    .bind(account_id)
    .bind(State::Deleted.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected())
}

/// Moves the account's instances to `plan` with a new revision (the plan's limits are part of
/// the configuration).
pub async fn change_plan(
    conn: &mut sqlx::AnyConnection,
    account_id: &AccountId,
    plan: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    let ids: Vec<InstanceId> = sqlx::query(
        "SELECT id FROM instances WHERE account_id = $1 AND plan <> $2 AND state <> $3",
    )
    .bind(account_id)
    .bind(plan)
    .bind(State::Deleted.as_str())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect::<sqlx::Result<Vec<InstanceId>>>()?;
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

/// Sets the state (and, for a failure, the error), bumping `updated_at`.
pub async fn set_state(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    state: State,
    last_error: Option<&str>,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET state = $1, last_error = COALESCE($2, last_error), updated_at = $3 WHERE id = $4")
        .bind(state.as_str())
        .bind(last_error)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Marks a running instance ready at `endpoint`, clearing its error (unless it is no longer
/// meant to run).
pub async fn set_ready(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    endpoint: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET state = $1, endpoint = $2, last_error = NULL, updated_at = $3 \
         WHERE id = $4 AND desired = $5",
    )
    .bind(State::Ready.as_str())
    .bind(endpoint)
    .bind(now)
    .bind(id)
    .bind(Desired::Running.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records `revision` as the one the instance runs and its last healthy one.
pub async fn set_deployed(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    revision: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET current_revision = $1, last_healthy_revision = $1 WHERE id = $2",
    )
    .bind(revision)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Points the instance at `revision` (the next pass deploys it).
pub async fn set_revision(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    revision: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET revision = $1 WHERE id = $2")
        .bind(revision)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes `revision` the one the instance should run, clearing the last error (a deploy).
pub async fn deploy_revision(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    revision: i64,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET revision = $1, last_error = NULL, updated_at = $2 WHERE id = $3",
    )
    .bind(revision)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sends the instance back from the failed `failed` revision to `healthy`, unless its wanted
/// revision changed meanwhile.
pub async fn roll_back(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    failed: i64,
    healthy: i64,
    last_error: &str,
    now: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET revision = $1, state = $2, last_error = $3, updated_at = $4 \
         WHERE id = $5 AND revision = $6",
    )
    .bind(healthy)
    .bind(State::Updating.as_str())
    .bind(last_error)
    .bind(now)
    .bind(id)
    .bind(failed)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets the origins the gateway lets browsers call the instance from; `now` bumps
/// `updated_at` when given.
pub async fn set_allowed_origins(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    origins: &[String],
    now: Option<UnixTime>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET allowed_origins = $1, updated_at = COALESCE($2, updated_at) WHERE id = $3",
    )
    .bind(encode_origins(origins))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets `updated_at` (a failed instance is retried a while after it).
pub async fn set_updated_at(
    conn: &mut sqlx::AnyConnection,
    id: &InstanceId,
    at: UnixTime,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

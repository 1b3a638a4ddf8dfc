//! Revisions: every configuration an instance has had, immutable and numbered. A change (from the
//! dashboard, the API, a YAML import, a customization, a plan change or a promotion) creates
//! revision N+1; deploying sets the instance's `revision` and the reconciler rolls it out; a
//! rollout that fails rolls back to the last healthy revision by itself.
//!
//! `instances.revision` is the revision the instance should run, `current_revision` the one it
//! runs, `last_healthy_revision` the last one that became ready.

pub mod change;
pub mod deploy;
pub mod diff;
pub mod routes;
pub mod security;

use std::fmt;

use authstack_instance::clock::UnixTime;
use authstack_instance::config::{FieldError, InstanceConfig};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::catalog::Plan;
use crate::db::Db;
use crate::instances::Instance;

/// Where a revision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RevisionSource)]
pub enum Source {
    /// The configuration an instance was created with.
    Initial,
    Dashboard,
    Api,
    Import,
    Customization,
    PlanChange,
    /// Copied from the test instance to live.
    Promotion,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Initial => "initial",
            Source::Dashboard => "dashboard",
            Source::Api => "api",
            Source::Import => "import",
            Source::Customization => "customization",
            Source::PlanChange => "plan_change",
            Source::Promotion => "promotion",
        }
    }

    pub fn parse(raw: &str) -> Option<Source> {
        Some(match raw {
            "initial" => Source::Initial,
            "dashboard" => Source::Dashboard,
            "api" => Source::Api,
            "import" => Source::Import,
            "customization" => Source::Customization,
            "plan_change" => Source::PlanChange,
            "promotion" => Source::Promotion,
            _ => return None,
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a revision's latest deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Never deployed.
    Pending,
    /// Rolling out now.
    Deploying,
    /// Became ready.
    Deployed,
    /// Did not become ready; the instance went back to its last healthy revision.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Deploying => "deploying",
            Outcome::Deployed => "deployed",
            Outcome::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Outcome {
        match raw {
            "deploying" => Outcome::Deploying,
            "deployed" => Outcome::Deployed,
            "failed" => Outcome::Failed,
            _ => Outcome::Pending,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revision {
    #[serde(skip)]
    pub instance_id: String,
    pub number: i64,
    pub summary: String,
    pub source: Source,
    /// The platform user who made it; `null` for the control plane itself.
    #[schema(required = true)]
    pub author: Option<String>,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixTime,
    pub outcome: Outcome,
    #[schema(required = true)]
    pub outcome_detail: Option<String>,
    #[serde(serialize_with = "crate::http::optional_time")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub deployed_at: Option<UnixTime>,
    #[serde(skip)]
    pub config: InstanceConfig,
}

const COLUMNS: &str = "instance_id, number, config, summary, source, author, created_at, outcome, \
    outcome_detail, deployed_at";

impl Revision {
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
}

/// What a new revision is made of.
pub struct NewRevision<'a> {
    pub config: &'a InstanceConfig,
    pub summary: &'a str,
    pub source: Source,
    pub author: Option<&'a str>,
}

/// The plan's limits written into a configuration (they are part of every revision, so that a
/// plan change is a revision like any other).
pub fn apply_plan(config: &mut InstanceConfig, plan: &Plan) {
    let limits = &plan.limits;
    config.organizations.max_organizations = limits.organizations;
    config.organizations.max_members_per_organization = limits.members_per_organization;
    config.organizations.max_custom_roles_per_organization = limits.custom_roles_per_organization;
    config.audit.retention_days = limits.audit_retention_days;
}

/// Checks a configuration against the instance's validation and the plan: the plan's limits
/// cannot be raised by a revision, and SAML needs a plan with SSO.
pub fn check(config: &InstanceConfig, plan: Option<&Plan>) -> Result<(), Vec<FieldError>> {
    let mut errors = config.check().err().unwrap_or_default();
    if let Some(plan) = plan {
        let mut limited = config.clone();
        apply_plan(&mut limited, plan);
        let orgs = (&config.organizations, &limited.organizations);
        for (path, asked, allowed) in [
            (
                "organizations.max_organizations",
                orgs.0.max_organizations,
                orgs.1.max_organizations,
            ),
            (
                "organizations.max_members_per_organization",
                orgs.0.max_members_per_organization,
                orgs.1.max_members_per_organization,
            ),
            (
                "organizations.max_custom_roles_per_organization",
                orgs.0.max_custom_roles_per_organization,
                orgs.1.max_custom_roles_per_organization,
            ),
        ] {
            if let Some(allowed) = allowed
                && asked.is_none_or(|asked| asked > allowed)
            {
                errors.push(FieldError {
                    path: path.into(),
                    message: format!("the {} plan allows at most {allowed}", plan.id),
                });
            }
        }
        if config.audit.retention_days > limited.audit.retention_days {
            errors.push(FieldError {
                path: "audit.retention_days".into(),
                message: format!(
                    "the {} plan keeps audit events for at most {} days",
                    plan.id, limited.audit.retention_days
                ),
            });
        }
        if config.auth.saml.enabled && !plan.limits.sso {
            errors.push(FieldError {
                path: "auth.saml.enabled".into(),
                message: format!(
                    "SAML single sign-on is not part of the {} plan (Pro and Enterprise)",
                    plan.id
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The configuration a new instance starts with: defaults under its plan's limits.
pub fn initial_config(plan: Option<&Plan>) -> InstanceConfig {
    let mut config = InstanceConfig::default();
    if let Some(plan) = plan {
        apply_plan(&mut config, plan);
    }
    config
}

/// Adds revision N+1 (N: the highest of the instance's revisions and its `revision` column) and
/// returns its number. Does not deploy it.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    instance_id: &str,
    new: NewRevision<'_>,
    now: UnixTime,
) -> anyhow::Result<i64> {
    let row = sqlx::query("SELECT MAX(number) AS highest FROM revisions WHERE instance_id = $1")
        .bind(instance_id)
        .fetch_one(&mut *conn)
        .await?;
    let highest: Option<i64> = row.try_get("highest")?;
    let row = sqlx::query("SELECT revision FROM instances WHERE id = $1")
        .bind(instance_id)
        .fetch_one(&mut *conn)
        .await?;
    let wanted: i64 = row.try_get("revision")?;
    let number = highest.unwrap_or(0).max(wanted) + 1;
    insert_numbered(conn, instance_id, number, new, now).await?;
    Ok(number)
}

async fn insert_numbered(
    conn: &mut sqlx::AnyConnection,
    instance_id: &str,
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

pub async fn find(db: &Db, instance_id: &str, number: i64) -> anyhow::Result<Option<Revision>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM revisions WHERE instance_id = $1 AND number = $2"
    ))
    .bind(instance_id)
    .bind(number)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(Revision::from_row).transpose()
}

/// Newest first; `before` pages back from a revision number.
pub async fn list(
    db: &Db,
    instance_id: &str,
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
    rows.iter().map(Revision::from_row).collect()
}

/// The revision `instance` should run. Instances from before revisions were stored, and plan
/// changes recorded only as a bumped number, get their row here: the latest stored
/// configuration (or the defaults) under the plan's limits, with the instance's allowed origins.
pub async fn wanted(db: &Db, instance: &Instance, plan: Option<&Plan>) -> anyhow::Result<Revision> {
    if let Some(revision) = find(db, &instance.id, instance.revision).await? {
        return Ok(revision);
    }
    let previous = list(db, &instance.id, Some(instance.revision), 1).await?;
    let (mut config, source, summary) = match previous.into_iter().next() {
        Some(previous) => (
            previous.config,
            Source::PlanChange,
            format!("plan changed to {}", instance.plan),
        ),
        None => (
            initial_config(plan),
            Source::Initial,
            "initial configuration".to_owned(),
        ),
    };
    if let Some(plan) = plan {
        apply_plan(&mut config, plan);
    }
    if config.security.allowed_origins.is_empty() {
        config.security.allowed_origins = instance.allowed_origins.clone();
    }
    let mut conn = db.writer.acquire().await?;
    let inserted = insert_numbered(
        &mut conn,
        &instance.id,
        instance.revision,
        NewRevision {
            config: &config,
            summary: &summary,
            source,
            author: None,
        },
        instance.updated_at,
    )
    .await;
    if let Err(err) = inserted {
        // Another task created it a moment ago (the primary key); read theirs.
        if let Some(revision) = find(db, &instance.id, instance.revision).await? {
            return Ok(revision);
        }
        return Err(err);
    }
    find(db, &instance.id, instance.revision)
        .await?
        .ok_or_else(|| anyhow::anyhow!("revision {} vanished", instance.revision))
}

/// Records a revision's deployment outcome.
pub async fn set_outcome<'c, E>(
    executor: E,
    instance_id: &str,
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

/// Deletes revisions older than `retention_days`, except the wanted, current and last healthy
/// revisions and the newest one. Returns how many went.
pub async fn prune(
    db: &Db,
    instance: &Instance,
    retention_days: u32,
    now: UnixTime,
) -> anyhow::Result<u64> {
    let cutoff = now - i64::from(retention_days) * 86_400;
    let keep = [
        Some(instance.revision),
        instance.current_revision,
        instance.last_healthy_revision,
    ];
    let keep: Vec<i64> = keep.into_iter().flatten().collect();
    let result = sqlx::query(
        "DELETE FROM revisions WHERE instance_id = $1 AND created_at < $2 \
         AND number <> $3 AND number <> $4 AND number <> $5 \
         AND number < (SELECT MAX(number) FROM revisions WHERE instance_id = $1)",
    )
    .bind(&instance.id)
    .bind(cutoff)
    .bind(keep.first().copied().unwrap_or(-1))
    .bind(keep.get(1).copied().unwrap_or(-1))
    .bind(keep.get(2).copied().unwrap_or(-1))
    .execute(&db.writer)
    .await?;
    Ok(result.rows_affected())
}

/// A revision as listed and shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RevisionView {
    #[serde(flatten)]
    revision: Revision,
    /// The revision the instance runs.
    current: bool,
    /// The last revision that became ready.
    last_healthy: bool,
    /// The whole configuration (when one revision is shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    config: Option<InstanceConfig>,
}

pub fn view(instance: &Instance, revision: Revision, with_config: bool) -> RevisionView {
    RevisionView {
        current: instance.current_revision == Some(revision.number),
        last_healthy: instance.last_healthy_revision == Some(revision.number),
        config: with_config.then(|| revision.config.clone()),
        revision,
    }
}

/// The instance's wanted revision as a stored row (instances created before revisions were
/// stored get theirs on first access).
pub async fn ensure_wanted(
    app: &crate::App,
    instance: &Instance,
) -> crate::error::Result<Revision> {
    let plan = app.config.catalog.plan(&instance.plan);
    Ok(wanted(&app.db, instance, plan).await?)
}

/// Revision `number` of `instance` (`404` when it has none).
pub async fn numbered(
    app: &crate::App,
    instance: &Instance,
    number: i64,
) -> crate::error::Result<Revision> {
    ensure_wanted(app, instance).await?;
    find(&app.db, &instance.id, number)
        .await?
        .ok_or(crate::error::Error::NotFound("revision"))
}

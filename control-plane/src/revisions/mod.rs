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
pub mod store;

use std::fmt;

use authstack_instance::clock::UnixTime;
use authstack_instance::config::{FieldError, InstanceConfig};
use serde::Serialize;

use crate::catalog::Plan;
use crate::db::Db;
use crate::ids::InstanceId;
use crate::instances::Instance;

pub use store::{find, list, set_outcome};

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
    pub instance_id: InstanceId,
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
    instance_id: &InstanceId,
    new: NewRevision<'_>,
    now: UnixTime,
) -> anyhow::Result<i64> {
    let highest = store::highest_number(&mut *conn, instance_id).await?;
    let wanted = crate::instances::store::wanted_revision(&mut *conn, instance_id).await?;
    let number = highest.unwrap_or(0).max(wanted) + 1;
    store::insert(conn, instance_id, number, new, now).await?;
    Ok(number)
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
    let inserted = store::insert(
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
    Ok(store::delete_older_than(db, &instance.id, cutoff, &keep).await?)
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

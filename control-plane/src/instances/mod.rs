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
pub mod store;
pub mod usage;

use authstack_instance::clock::UnixTime;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::App;
use crate::db::new_id;
use crate::error::{Error, Result};
use crate::ids::{AccountId, InstanceId};
use crate::provisioner::{Environment, InstanceSecrets};

pub use store::{all, change_plan, find, of_account, record_step, set_desired, steps};

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
    pub id: InstanceId,
    #[schema(required = true)]
    pub account_id: Option<AccountId>,
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

impl Instance {
    pub fn secrets(&self, app: &App) -> anyhow::Result<InstanceSecrets> {
        InstanceSecrets::open(&self.sealed_secrets, &app.master, &self.id)
    }

    /// A request to this instance's admin API: straight to its endpoint, with the gateway
    /// secret and the instance's admin key, within ten seconds. An instance that is not meant
    /// to be serving now (suspended, provisioning, failed, being deleted) is
    /// `InstanceNotRunning`: a state of the account, not a fault to retry.
    pub fn admin(
        &self,
        app: &App,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder> {
        if !matches!(self.state, State::Ready | State::Updating) {
            return Err(Error::InstanceNotRunning(self.state.as_str()));
        }
        let secrets = self.secrets(app)?;
        Ok(app
            .http
            .request(
                method,
                format!("{}{path}", self.endpoint.trim_end_matches('/')),
            )
            .header(
                authstack_instance::http::middleware::GATEWAY_HEADER,
                secrets.gateway_secret.expose_secret(),
            )
            .bearer_auth(secrets.admin_key.expose_secret())
            .timeout(std::time::Duration::from_secs(10)))
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

/// Creates an instance row (state `provisioning`, desired `running`) with fresh secrets.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    app: &App,
    account_id: Option<&AccountId>,
    environment: Environment,
    region: &str,
    plan: &str,
) -> anyhow::Result<InstanceId> {
    let id = InstanceId::from(new_id("ins"));
    let sealed = InstanceSecrets::generate().seal(&app.master, &id)?;
    let row = store::NewInstance {
        id: &id,
        account_id,
        environment,
        region,
        plan,
        sealed_secrets: &sealed,
    };
    store::insert(
        &mut *conn,
        &row,
        app.clock.now(),
        &format!("{environment} instance in {region}"),
    )
    .await?;
    Ok(id)
}

/// Creates the account's live and test instances where missing, moves them to `plan`, and
/// wants them running.
pub async fn ensure_running(
    conn: &mut sqlx::AnyConnection,
    app: &App,
    account_id: &AccountId,
    plan: &str,
    region: &str,
) -> anyhow::Result<()> {
    let now = app.clock.now();
    let existing = store::environments_of(&mut *conn, account_id).await?;
    for environment in [Environment::Live, Environment::Test] {
        if !existing.contains(&environment) {
            create(&mut *conn, app, Some(account_id), environment, region, plan).await?;
        }
    }
    store::change_plan(&mut *conn, account_id, plan, now).await?;
    store::set_desired(&mut *conn, account_id, Desired::Running, now).await?;
    Ok(())
}

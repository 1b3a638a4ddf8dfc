//! Deploying a revision: it becomes the instance's wanted revision, the reconciler rolls it
//! out, and with `wait` the caller learns how it went once every gateway routes to it.

use std::time::Duration;

use serde::Serialize;

use super::{Outcome, numbered as revision};
use crate::App;
use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::gateway::changes;
use crate::ids::InstanceId;
use crate::instances::{self, Instance, State as InstanceState};

/// How long `?wait=true` waits for a deployment to settle.
const WAIT_LIMIT: Duration = Duration::from_secs(60);
const WAIT_POLL: Duration = Duration::from_millis(50);
/// How a deployment went, as far as it got.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deployment {
    pub revision: i64,
    /// `deploying`, `deployed`, `failed` (rolled back), or `pending` when not settled in time.
    pub outcome: Outcome,
    #[schema(required = true)]
    pub detail: Option<String>,
    /// The revision the instance runs now.
    #[schema(required = true)]
    pub current_revision: Option<i64>,
    pub state: InstanceState,
}

/// Makes `number` the instance's wanted revision and wakes the reconciler; with `wait`, follows
/// the rollout until it settles (deployed, or failed and rolled back) or a minute passes.
pub async fn deploy(
    app: &App,
    account: &Account,
    instance: &Instance,
    number: i64,
    author: &str,
    wait: bool,
) -> Result<Deployment> {
    if instance.desired != instances::Desired::Running {
        return Err(Error::Conflict(format!(
            "the instance is {}; resume it before deploying",
            instance.desired.as_str()
        )));
    }
    let target = revision(app, instance, number).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    instances::store::deploy_revision(&mut tx, &instance.id, number, now).await?;
    super::set_outcome(
        &mut *tx,
        &instance.id,
        number,
        Outcome::Deploying,
        None,
        now,
    )
    .await?;
    instances::record_step(
        &mut *tx,
        &instance.id,
        now,
        "deploy requested",
        Some(&format!("revision {number}: {}", target.summary)),
    )
    .await?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(author),
        "revision.deploy_requested",
        Some(&instance.id),
        serde_json::json!({ "revision": number, "from": instance.current_revision }),
    )
    .await?;
    tx.commit().await?;
    app.reconciler.wake();
    if wait {
        settle(app, &instance.id, number).await
    } else {
        deployment(app, &instance.id, number).await
    }
}

async fn deployment(app: &App, instance_id: &InstanceId, number: i64) -> Result<Deployment> {
    let instance = instances::find(&app.db, instance_id)
        .await?
        .ok_or(Error::NotFound("instance"))?;
    let revision = super::find(&app.db, instance_id, number)
        .await?
        .ok_or(Error::NotFound("revision"))?;
    Ok(Deployment {
        revision: number,
        outcome: revision.outcome,
        detail: revision.outcome_detail,
        current_revision: instance.current_revision,
        state: instance.state,
    })
}

/// Waits until revision `number` is deployed or failed.
pub async fn settle(app: &App, instance_id: &InstanceId, number: i64) -> Result<Deployment> {
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    loop {
        let deployment = deployment(app, instance_id, number).await?;
        let settled = match deployment.outcome {
            Outcome::Deployed => {
                deployment.current_revision == Some(number)
                    && deployment.state == InstanceState::Ready
            }
            Outcome::Failed => deployment.state != InstanceState::Updating,
            Outcome::Pending | Outcome::Deploying => false,
        };
        if settled {
            routed_everywhere(app, deadline).await?;
            return Ok(deployment);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(deployment);
        }
        tokio::time::sleep(WAIT_POLL).await;
    }
}

/// Waits (until `deadline`) for every live gateway to apply the newest route change: until
/// then, some requests still reach the process of the previous revision.
async fn routed_everywhere(app: &App, deadline: tokio::time::Instant) -> Result<()> {
    let change = changes::latest(&app.db).await?;
    while changes::behind(&app.db, change, app.clock.now()).await? > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(WAIT_POLL).await;
    }
    Ok(())
}

/// The newest revision before the current one that was deployed successfully.
pub async fn previous_healthy(app: &App, instance: &Instance) -> Result<i64> {
    let current = instance.current_revision.unwrap_or(instance.revision);
    let mut before = Some(current);
    loop {
        let page = super::list(&app.db, &instance.id, before, 50).await?;
        if page.is_empty() {
            return Err(Error::Conflict(format!(
                "no healthy revision before revision {current} to roll back to"
            )));
        }
        if let Some(found) = page.iter().find(|r| r.deployed_at.is_some()) {
            return Ok(found.number);
        }
        before = page.last().map(|r| r.number);
    }
}

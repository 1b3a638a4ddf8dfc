//! The reconciler: moves each instance from its `state` towards its `desired` state through
//! the region's provisioner, one task per instance at a time, and records each step.
//!
//! It runs when something changes (a subscription activates, a plan changes, a payment fails)
//! and every few seconds; after a control-plane restart the first pass re-applies every running
//! instance, which re-adopts the processes still alive and restarts the others.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use super::{Desired, Instance, State, record_step, store};
use crate::AppState;
use crate::account_webhooks;
use crate::gateway::changes;
use crate::ids::InstanceId;
use crate::provisioner::{Event, InstanceRef, InstanceSpec, Progress};

/// Failed instances are retried this long after their last attempt.
const RETRY_FAILED_AFTER: i64 = 30;
const PASS_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub struct Reconciler {
    wake: Notify,
    /// Instance id → the revision this process has applied (and seen ready).
    applied: Mutex<HashMap<String, i64>>,
    /// Instances with a task under way.
    busy: Mutex<HashSet<String>>,
}

impl Reconciler {
    /// Asks for a pass now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Forgets what was applied to `instance_id`, so that the next pass applies it again (the
    /// operators' "reconcile" action).
    pub fn forget(&self, instance_id: &str) {
        if let Ok(mut applied) = self.applied.lock() {
            applied.remove(instance_id);
        }
        self.wake();
    }

    fn applied(&self, instance_id: &str) -> Option<i64> {
        self.applied.lock().ok()?.get(instance_id).copied()
    }

    fn set_applied(&self, instance_id: &str, revision: Option<i64>) {
        if let Ok(mut applied) = self.applied.lock() {
            match revision {
                Some(revision) => applied.insert(instance_id.to_owned(), revision),
                None => applied.remove(instance_id),
            };
        }
    }

    fn claim(&self, instance_id: &str) -> bool {
        self.busy
            .lock()
            .map(|mut busy| busy.insert(instance_id.to_owned()))
            .unwrap_or(false)
    }

    fn release(&self, instance_id: &str) {
        if let Ok(mut busy) = self.busy.lock() {
            busy.remove(instance_id);
        }
    }
}

/// Runs passes until the process ends.
pub fn spawn(app: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(err) = pass(&app).await {
                tracing::warn!(error = %err, "reconcile pass failed");
            }
            let _ = tokio::time::timeout(PASS_INTERVAL, app.reconciler.wake.notified()).await;
        }
    })
}

/// Starts a task for every instance that is not where it should be.
pub async fn pass(app: &AppState) -> anyhow::Result<()> {
    let now = app.clock.now();
    for instance in super::all(&app.db).await? {
        if needs_work(app, &instance, now) && app.reconciler.claim(&instance.id) {
            let app = app.clone();
            tokio::spawn(async move {
                let id = instance.id.clone();
                if let Err(err) = work(&app, instance).await {
                    tracing::warn!(instance_id = %id, error = %format!("{err:#}"), "reconciling failed");
                }
                app.reconciler.release(&id);
            });
        }
    }
    Ok(())
}

fn needs_work(app: &AppState, instance: &Instance, now: i64) -> bool {
    match instance.desired {
        Desired::Running => match instance.state {
            State::Failed => now - instance.updated_at >= RETRY_FAILED_AFTER,
            State::Deleted | State::Deleting => false,
            _ => app.reconciler.applied(&instance.id) != Some(instance.revision),
        },
        Desired::Suspended => !matches!(instance.state, State::Suspended | State::Deleted),
        Desired::Deleted => instance.state != State::Deleted,
    }
}

/// Applies `instance` now and waits for the outcome (used at start for the platform instance).
pub async fn apply_now(app: &AppState, instance_id: &InstanceId) -> anyhow::Result<()> {
    while !app.reconciler.claim(instance_id) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let result = match super::find(&app.db, instance_id).await {
        Ok(Some(instance)) => work(app, instance).await,
        Ok(None) => Err(anyhow::anyhow!("instance {instance_id} does not exist")),
        Err(err) => Err(err.into()),
    };
    app.reconciler.release(instance_id);
    result?;
    match super::find(&app.db, instance_id).await? {
        Some(instance) if instance.state == State::Ready => Ok(()),
        Some(instance) => Err(anyhow::anyhow!(
            "instance {instance_id} is {}: {}",
            instance.state.as_str(),
            instance.last_error.unwrap_or_default()
        )),
        None => Err(anyhow::anyhow!("instance {instance_id} vanished")),
    }
}

async fn work(app: &AppState, instance: Instance) -> anyhow::Result<()> {
    let Some(provisioner) = app.provisioners.get(&instance.region).cloned() else {
        let detail = format!(
            "region {} has no provisioner on this control plane",
            instance.region
        );
        return transition(app, &instance.id, State::Failed, "failed", Some(&detail)).await;
    };
    match instance.desired {
        Desired::Running => {
            let adopting =
                instance.state == State::Ready && app.reconciler.applied(&instance.id).is_none();
            if !adopting {
                let (state, step) = match instance.state {
                    State::Ready | State::Updating => (State::Updating, "updating"),
                    State::Suspended => (State::Provisioning, "resuming"),
                    _ => (State::Provisioning, "provisioning"),
                };
                let detail = format!("revision {}", instance.revision);
                transition(app, &instance.id, state, step, Some(&detail)).await?;
            }
            let (spec, origins) = spec(app, &instance).await?;
            let progress = StepLog {
                app,
                instance_id: &instance.id,
            };
            match provisioner.apply(&spec, &progress).await {
                Ok(endpoint) => {
                    let now = app.clock.now();
                    let mut tx = app.db.begin_write().await?;
                    store::set_ready(&mut tx, &instance.id, &endpoint, now).await?;
                    deployed(&mut tx, &instance, origins.as_deref(), now).await?;
                    let step = if adopting {
                        "running (re-adopted or restarted)"
                    } else {
                        "ready"
                    };
                    record_step(&mut *tx, &instance.id, now, step, None).await?;
                    if !adopting {
                        events_when_ready(&mut tx, &instance, now).await?;
                    }
                    changes::record(&mut *tx, now).await?;
                    tx.commit().await?;
                    if instance.account_id.is_none() {
                        app.platform.set_endpoint(endpoint);
                    } else {
                        let days = spec.version_history_days;
                        match crate::revisions::prune(&app.db, &instance, days, now).await {
                            Ok(0) => {}
                            Ok(pruned) => {
                                tracing::info!(instance_id = %instance.id, pruned, "pruned old revisions")
                            }
                            Err(err) => {
                                tracing::warn!(instance_id = %instance.id, error = %format!("{err:#}"), "pruning revisions failed")
                            }
                        }
                    }
                    app.reconciler
                        .set_applied(&instance.id, Some(instance.revision));
                    tracing::info!(instance_id = %instance.id, revision = instance.revision, "instance ready");
                    Ok(())
                }
                Err(err) => {
                    app.reconciler.set_applied(&instance.id, None);
                    let detail = format!("{err:#}");
                    match instance.last_healthy_revision {
                        Some(healthy) if healthy != instance.revision => {
                            roll_back(app, &instance, healthy, &detail).await
                        }
                        _ => {
                            transition(app, &instance.id, State::Failed, "failed", Some(&detail))
                                .await
                        }
                    }
                }
            }
        }
        Desired::Suspended => {
            app.reconciler.set_applied(&instance.id, None);
            provisioner.suspend(&instance_ref(&instance)).await?;
            transition(app, &instance.id, State::Suspended, "suspended", None).await
        }
        Desired::Deleted => {
            app.reconciler.set_applied(&instance.id, None);
            transition(app, &instance.id, State::Deleting, "deleting", None).await?;
            provisioner.delete(&instance_ref(&instance)).await?;
            let now = app.clock.now();
            let mut tx = app.db.begin_write().await?;
            crate::keys::store::revoke_all_of_instance(&mut *tx, &instance.id, now).await?;
            tx.commit().await?;
            transition(
                app,
                &instance.id,
                State::Deleted,
                "deleted",
                Some("data deleted"),
            )
            .await
        }
    }
}

/// Marks the instance's wanted revision deployed (current and last healthy) and hands the
/// gateway the revision's allowed origins. The platform instance has no account and so no
/// revision history: it only records the revision it runs.
async fn deployed(
    tx: &mut sqlx::AnyConnection,
    instance: &Instance,
    origins: Option<&[String]>,
    now: i64,
) -> anyhow::Result<()> {
    store::set_deployed(&mut *tx, &instance.id, instance.revision).await?;
    if instance.account_id.is_none() {
        return Ok(());
    }
    crate::revisions::set_outcome(
        &mut *tx,
        &instance.id,
        instance.revision,
        crate::revisions::Outcome::Deployed,
        None,
        now,
    )
    .await?;
    if let Some(origins) = origins
        && origins != instance.allowed_origins.as_slice()
    {
        store::set_allowed_origins(&mut *tx, &instance.id, origins, None).await?;
    }
    Ok(())
}

/// The account's events of an instance that became ready on its wanted revision: `instance.ready`
/// when it was not running (provisioned, resumed, recovered), `revision.deployed` when the
/// revision is new to it.
async fn events_when_ready(
    tx: &mut sqlx::AnyConnection,
    instance: &Instance,
    now: i64,
) -> anyhow::Result<()> {
    if !matches!(instance.state, State::Ready | State::Updating) {
        let data = serde_json::json!({ "revision": instance.revision });
        account_webhooks::record_for_instance(tx, now, instance, "instance.ready", data).await?;
    }
    if instance.current_revision != Some(instance.revision) {
        let data = serde_json::json!({ "revision": instance.revision, "previous_revision": instance.current_revision });
        account_webhooks::record_for_instance(tx, now, instance, "revision.deployed", data).await?;
    }
    Ok(())
}

/// A revision that did not become ready: it is marked failed with the reason and the instance
/// goes back to its last healthy revision (which the next pass applies; the local provisioner
/// never stopped it, the operator rolled the Deployment back itself).
async fn roll_back(
    app: &AppState,
    instance: &Instance,
    healthy: i64,
    detail: &str,
) -> anyhow::Result<()> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    crate::revisions::set_outcome(
        &mut *tx,
        &instance.id,
        instance.revision,
        crate::revisions::Outcome::Failed,
        Some(detail),
        now,
    )
    .await?;
    let last_error = format!("revision {} failed: {detail}", instance.revision);
    store::roll_back(
        &mut tx,
        &instance.id,
        instance.revision,
        healthy,
        &last_error,
        now,
    )
    .await?;
    let step = format!(
        "revision {} failed: {detail}; back to revision {healthy}",
        instance.revision
    );
    record_step(&mut *tx, &instance.id, now, "rolled back", Some(&step)).await?;
    crate::audit::record(
        &mut *tx,
        now,
        instance.account_id.as_ref(),
        crate::audit::Actor::System,
        "revision.rolled_back",
        Some(&instance.id),
        serde_json::json!({ "failed": instance.revision, "to": healthy, "reason": detail }),
    )
    .await?;
    let data = serde_json::json!({ "failed_revision": instance.revision, "revision": healthy, "reason": detail });
    account_webhooks::record_for_instance(&mut tx, now, instance, "revision.rolled_back", data)
        .await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    tracing::warn!(instance_id = %instance.id, failed = instance.revision, to = healthy, "revision failed; rolled back");
    app.reconciler.wake();
    Ok(())
}

/// What the provisioner runs for `instance`: its wanted revision's configuration (the platform
/// instance runs the control plane's own), and the revision's allowed origins for the gateway.
async fn spec(
    app: &AppState,
    instance: &Instance,
) -> anyhow::Result<(InstanceSpec, Option<Vec<String>>)> {
    let plan = app.config.catalog.plan(&instance.plan);
    let (config, origins) = match &instance.account_id {
        None => (crate::platform::instance_config(&app.dashboard_url), None),
        Some(_) => {
            let revision = crate::revisions::wanted(&app.db, instance, plan).await?;
            let origins = revision.config.security.allowed_origins.clone();
            (revision.config, Some(origins))
        }
    };
    let notify_email = match &instance.account_id {
        Some(id) => crate::accounts::store::find(&app.db, id)
            .await?
            .and_then(|a| a.created_by_email),
        None => None,
    };
    let domain = crate::domains::served_at(app, instance).await?;
    let (issuer, previous_issuers) = crate::domains::issuers_at(app, instance, domain.as_deref());
    let spec = InstanceSpec {
        id: instance.id.to_string(),
        account_id: instance.account_id.as_ref().map(ToString::to_string),
        environment: instance.environment,
        region: instance.region.clone(),
        issuer,
        previous_issuers,
        hostnames: domain.into_iter().collect(),
        revision: instance.revision,
        config,
        secrets: instance.secrets(app)?,
        capacity: plan.map(|p| p.capacity.clone()).unwrap_or_default(),
        version_history_days: plan.map_or(PLATFORM_HISTORY_DAYS, |p| p.limits.version_history_days),
        notify_email,
    };
    Ok((spec, origins))
}

/// The platform instance has no plan; its configuration history is kept this long.
const PLATFORM_HISTORY_DAYS: u32 = 365;

fn instance_ref(instance: &Instance) -> InstanceRef {
    InstanceRef::new(&instance.id, instance.account_id.as_deref())
}

/// Records the steps a provisioner reports during `apply` in the instance's progress view.
struct StepLog<'a> {
    app: &'a AppState,
    instance_id: &'a InstanceId,
}

#[async_trait::async_trait]
impl Progress for StepLog<'_> {
    async fn step(&self, step: &str, detail: Option<&str>) {
        if let Err(err) = step_only(self.app, self.instance_id, step, detail).await {
            tracing::warn!(instance_id = %self.instance_id, error = %err, "recording a step failed");
        }
    }
}

/// Sets the state, records the step and tells gateways.
async fn transition(
    app: &AppState,
    instance_id: &InstanceId,
    state: State,
    step: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    let now = app.clock.now();
    // `instance.failed` when it starts failing (not again at each retry).
    let failing = match state {
        State::Failed => super::find(&app.db, instance_id)
            .await?
            .filter(|i| i.state != State::Failed),
        _ => None,
    };
    let mut tx = app.db.begin_write().await?;
    if let Some(instance) = &failing {
        let data = serde_json::json!({ "revision": instance.revision, "reason": detail });
        account_webhooks::record_for_instance(&mut tx, now, instance, "instance.failed", data)
            .await?;
    }
    let last_error = if state == State::Failed { detail } else { None };
    store::set_state(&mut tx, instance_id, state, last_error, now).await?;
    record_step(&mut *tx, instance_id, now, step, detail).await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Records what provisioners report on their own: crashes, restarts, giving up.
pub fn spawn_event_log(
    app: AppState,
    mut events: tokio::sync::mpsc::UnboundedReceiver<Event>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            // The provisioners name instances by their plain id.
            let id = |raw: &str| InstanceId::from(raw);
            let result = match &event {
                Event::Crashed {
                    instance_id,
                    detail,
                } => {
                    tracing::warn!(%instance_id, %detail, "instance crashed; restarting");
                    step_only(&app, &id(instance_id), "crashed", Some(detail)).await
                }
                Event::Ready { instance_id } => {
                    step_only(&app, &id(instance_id), "restarted", None).await
                }
                Event::Failed {
                    instance_id,
                    detail,
                } => {
                    app.reconciler.set_applied(instance_id, None);
                    transition(
                        &app,
                        &id(instance_id),
                        State::Failed,
                        "failed",
                        Some(detail),
                    )
                    .await
                }
            };
            if let Err(err) = result {
                tracing::warn!(error = %err, "recording a provisioner event failed");
            }
        }
    })
}

async fn step_only(
    app: &AppState,
    instance_id: &InstanceId,
    step: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    let now = app.clock.now();
    record_step(&app.db.writer, instance_id, now, step, detail).await?;
    Ok(())
}

//! Reconciles `AuthStackInstance`s: renders the desired objects, applies what differs from the
//! cached cluster state (server-side apply, one field manager; a second one only hands an
//! autoscaled Deployment's first replica count over to the autoscaler), follows the rollout,
//! rolls back a failed one, and writes the status when it changes. A configuration changed
//! under an existing revision, or a CloudNativePG database without CloudNativePG, is reported
//! in the status rather than retried.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::reflector;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use crate::crd::{
    AuthStackInstance, AuthStackInstanceStatus, DatabaseType, DeletionPolicy, FINALIZER,
};
use crate::drift::{contains, is_applied};
use crate::events::publish;
use crate::render::{self, Desired, Generated, Kind, MANAGER, Names, Settings, Target};
use crate::status::{self, Observed, Rollout};
use crate::watches::{self, Cnpg, Stores};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(Box<kube::runtime::finalizer::Error<Error>>),
    #[error("invalid spec: {0}")]
    InvalidSpec(&'static str),
    #[error("the resource has no namespace or name")]
    Unnamed,
}

impl Error {
    /// A short label for the errors metric.
    pub fn reason(&self) -> String {
        match self {
            Error::Kube(kube::Error::Api(status)) => format!("api_{}", status.code),
            Error::Kube(_) => "api_transport".into(),
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(err)
                | kube::runtime::finalizer::Error::CleanupFailed(err) => err.reason(),
                _ => "finalizer".into(),
            },
            Error::InvalidSpec(_) => "invalid_spec".into(),
            Error::Unnamed => "unnamed".into(),
        }
    }
}

pub struct Context {
    pub client: Client,
    pub settings: Settings,
    pub stores: Stores,
    pub recorder: Recorder,
    /// Whether databases of `type: cnpg` can be made.
    pub cnpg: Cnpg,
    /// Consecutive failures per object, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context with CloudNativePG installed (see [`Context::with_cnpg`]).
    pub fn new(client: Client, settings: Settings, stores: Stores, reporter: Reporter) -> Context {
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            settings,
            stores,
            cnpg: Cnpg::Installed,
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_cnpg(mut self, cnpg: Cnpg) -> Context {
        self.cnpg = cnpg;
        self
    }

    fn api(&self, kind: Kind, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &kind.api_resource())
    }

    fn record_failure(&self, key: &str) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(key.to_owned()).or_default();
        *count = count.saturating_add(1);
        *count
    }

    fn clear_failures(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// The backoff after the `failures`-th consecutive error: 1 s doubling to 5 min.
pub fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(9);
    Duration::from_secs((1u64 << exponent).min(300))
}

/// Reconciles one instance (the controller's reconcile function).
pub async fn reconcile(
    instance: Arc<AuthStackInstance>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let namespace = instance.namespace().ok_or(Error::Unnamed)?;
    let api: Api<AuthStackInstance> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = finalizer(&api, FINALIZER, instance, |event| async {
        match event {
            Finalizer::Apply(instance) => apply(&instance, &ctx).await,
            Finalizer::Cleanup(instance) => cleanup(&instance, &ctx).await,
        }
    })
    .await
    .map_err(|err| Error::Finalizer(Box::new(err)));
    metrics::counter!("authstack_operator_reconciles_total").increment(1);
    metrics::histogram!("authstack_operator_reconcile_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    result
}

/// What the controller does after a failed reconcile: count it, back off exponentially.
pub fn error_policy(instance: Arc<AuthStackInstance>, error: &Error, ctx: Arc<Context>) -> Action {
    let reason = error.reason();
    metrics::counter!("authstack_operator_reconcile_errors_total", "reason" => reason.clone())
        .increment(1);
    let failures = ctx.record_failure(&key(&instance));
    let delay = backoff(failures);
    tracing::warn!(
        instance = %instance.name_any(),
        namespace = instance.namespace().unwrap_or_default(),
        %reason,
        error = %error,
        retry_in_s = delay.as_secs(),
        "reconcile failed"
    );
    Action::requeue(delay)
}

fn key(instance: &AuthStackInstance) -> String {
    format!(
        "{}/{}",
        instance.namespace().unwrap_or_default(),
        instance.name_any()
    )
}

async fn apply(instance: &AuthStackInstance, ctx: &Context) -> Result<Action, Error> {
    ctx.stores.ready().await;
    let namespace = instance.namespace().ok_or(Error::Unnamed)?;
    let name = instance.meta().name.clone().ok_or(Error::Unnamed)?;
    let old = instance.status.clone().unwrap_or_default();

    if instance.spec.database.type_ == DatabaseType::Cnpg
        && let Some(message) = ctx.cnpg.unavailable()
    {
        // Nothing is made: the pods would only crash without their database.
        let status = status::database_unavailable(instance, message, &status::now());
        write_status(ctx, instance, &status).await?;
        return Ok(Action::requeue(Duration::from_secs(300)));
    }

    let target = status::target(&instance.spec, &old);
    let desired = render::render(instance, &ctx.settings, target).map_err(Error::InvalidSpec)?;
    // Revisions are immutable: a configuration changed under the same number is refused as
    // a whole, before anything of it is applied.
    for object in desired
        .iter()
        .filter(|object| object.kind == Kind::ConfigMap)
    {
        if let Some(observed) = ctx.stores.get(Kind::ConfigMap, &namespace, &object.name)
            && !contains(&object.object["data"], &observed.data["data"])
        {
            return refuse_revision(instance, ctx, target.revision).await;
        }
    }

    // Secrets: created once, never re-applied, so never rotated by accident.
    let missing: Vec<Desired> = render::secrets(instance, &Generated::random())
        .into_iter()
        .filter(|secret| {
            ctx.stores
                .get(Kind::Secret, &namespace, &secret.name)
                .is_none()
        })
        .collect();
    for secret in missing {
        create(ctx, &namespace, secret).await?;
    }

    let mut created_revision = false;
    for object in &desired {
        let observed = ctx.stores.get(object.kind, &namespace, &object.name);
        match (object.kind, observed) {
            // Immutable: created once per revision (checked unchanged above).
            (Kind::ConfigMap, Some(_)) => {}
            (Kind::ConfigMap, None) => {
                server_side_apply(ctx, &namespace, object).await?;
                created_revision = true;
            }
            (Kind::Deployment, None) => {
                create_deployment(instance, ctx, &namespace, object).await?
            }
            (_, Some(observed)) if is_applied(&object.object, &observed) => {}
            _ => server_side_apply(ctx, &namespace, object).await?,
        }
    }
    prune(
        instance,
        ctx,
        &namespace,
        &desired,
        target,
        created_revision,
    )
    .await?;

    let observed = Observed {
        deployment: ctx.stores.get(Kind::Deployment, &namespace, &name),
        database: ctx.stores.get(
            Kind::PostgresCluster,
            &namespace,
            &Names(&name).db_cluster(),
        ),
    };
    let outcome = status::compute(instance, target, &observed, &status::now());
    if let Some(event) = &outcome.event {
        publish(&ctx.recorder, instance, event).await;
    }
    write_status(ctx, instance, &outcome.status).await?;
    ctx.clear_failures(&key(instance));
    Ok(match outcome.rollout {
        // A rollback was decided: carry it out now.
        Rollout::Failed if outcome.rolled_back => Action::requeue(Duration::ZERO),
        Rollout::Progressing => Action::requeue(Duration::from_secs(15)),
        _ => Action::requeue(Duration::from_secs(300)),
    })
}

/// A configuration changed under an existing revision number: nothing is applied; the status
/// and an event say so until the spec changes again.
async fn refuse_revision(
    instance: &AuthStackInstance,
    ctx: &Context,
    revision: i64,
) -> Result<Action, Error> {
    let message = format!(
        "revision {revision}'s ConfigMap differs from spec.config: revisions are immutable, \
         give the new configuration a new revision number"
    );
    tracing::warn!(
        instance = %instance.name_any(),
        namespace = instance.namespace().unwrap_or_default(),
        generation = instance.metadata.generation,
        "{message}"
    );
    let (status, event) = status::revision_refused(instance, message, &status::now());
    if let Some(event) = &event {
        publish(&ctx.recorder, instance, event).await;
    }
    write_status(ctx, instance, &status).await?;
    ctx.clear_failures(&key(instance));
    Ok(Action::requeue(Duration::from_secs(300)))
}

/// Writes `status` when it differs from the instance's.
async fn write_status(
    ctx: &Context,
    instance: &AuthStackInstance,
    status: &AuthStackInstanceStatus,
) -> Result<(), Error> {
    if Some(status) == instance.status.as_ref() {
        return Ok(());
    }
    let namespace = instance.namespace().ok_or(Error::Unnamed)?;
    let api: Api<AuthStackInstance> = Api::namespaced(ctx.client.clone(), &namespace);
    let patch = json!({
        "apiVersion": AuthStackInstance::api_version(&()),
        "kind": AuthStackInstance::kind(&()),
        "status": status,
    });
    api.patch_status(
        &instance.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    metrics::counter!("authstack_operator_api_writes_total").increment(1);
    Ok(())
}

/// Creates the Deployment. An autoscaled one starts at the autoscaler's minimum, and that
/// replica count is also applied by a second field manager: the operator's own applies leave
/// the field out from then on, and server-side apply would reset a field its only manager
/// leaves out (to 1), before the autoscaler has ever set it.
async fn create_deployment(
    instance: &AuthStackInstance,
    ctx: &Context,
    namespace: &str,
    deployment: &Desired,
) -> Result<(), Error> {
    let Some(replicas) = render::creation_replicas(instance) else {
        return server_side_apply(ctx, namespace, deployment).await;
    };
    let mut created = deployment.clone();
    created.object["spec"]["replicas"] = json!(replicas);
    server_side_apply(ctx, namespace, &created).await?;
    let handover = render::replicas_handover(instance, replicas);
    match ctx
        .api(Kind::Deployment, namespace)
        .patch(
            &deployment.name,
            &PatchParams::apply(render::HANDOVER_MANAGER),
            &Patch::Apply(&handover),
        )
        .await
    {
        Ok(_) => {}
        // The autoscaler changed the count already: it owns the field.
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(err) => return Err(err.into()),
    }
    metrics::counter!("authstack_operator_api_writes_total").increment(1);
    Ok(())
}

/// Deletes objects the instance no longer needs: revision ConfigMaps past the history limit
/// (never the running, spec or last healthy revision), an autoscaler the plan or suspension no
/// longer allows, the Ingress of removed hostnames. Databases and secrets are never pruned.
async fn prune(
    instance: &AuthStackInstance,
    ctx: &Context,
    namespace: &str,
    desired: &[Desired],
    target: Target,
    created_revision: bool,
) -> Result<(), Error> {
    let name = instance.name_any();
    let wanted =
        |kind: Kind, object: &str| desired.iter().any(|d| d.kind == kind && d.name == object);
    let names = Names(&name);
    let optional = [
        (Kind::HorizontalPodAutoscaler, name.clone()),
        (Kind::Ingress, name.clone()),
        (Kind::Service, names.edge_service()),
    ];
    for (kind, object) in optional {
        if !wanted(kind, &object) && ctx.stores.get(kind, namespace, &object).is_some() {
            delete(ctx, namespace, kind, &object).await?;
        }
    }
    let status = instance.status.clone().unwrap_or_default();
    let newest = [
        Some(instance.spec.revision),
        status.current_revision,
        status.history.iter().map(|h| h.revision).max(),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0);
    let limit = i64::from(instance.spec.revision_history_limit);
    // Only a new revision can push the count past the limit, and below it there is nothing to
    // prune: the common reconcile skips the scan.
    if !created_revision || newest <= limit {
        return Ok(());
    }
    let mut revisions: Vec<i64> = ctx
        .stores
        .of_instance(Kind::ConfigMap, namespace, &name)
        .iter()
        .filter_map(|cm| cm.labels().get(render::REVISION_LABEL)?.parse().ok())
        .collect();
    // The ConfigMap just created is not in the cache yet.
    if !revisions.contains(&target.revision) {
        revisions.push(target.revision);
    }
    revisions.sort_unstable_by(|a, b| b.cmp(a));
    let keep_always = [
        Some(target.revision),
        Some(instance.spec.revision),
        status.last_healthy_revision,
        status.current_revision,
    ];
    for (position, revision) in revisions.iter().enumerate() {
        let within_limit = (position as i64) < limit;
        if within_limit || keep_always.contains(&Some(*revision)) {
            continue;
        }
        delete(
            ctx,
            namespace,
            Kind::ConfigMap,
            &names.config_map(*revision),
        )
        .await?;
    }
    Ok(())
}

/// The finalizer: applies the deletion policy to the database and removes every object of the
/// instance (owner references would too, eventually; this leaves nothing behind even where
/// garbage collection is slow or disabled).
async fn cleanup(instance: &AuthStackInstance, ctx: &Context) -> Result<Action, Error> {
    ctx.stores.ready().await;
    let namespace = instance.namespace().ok_or(Error::Unnamed)?;
    let name = instance.name_any();
    let names = Names(&name);
    let retain = instance.spec.deletion_policy == DeletionPolicy::Retain;
    // The database, its credentials, and the master key that seals the signing keys stored in
    // it belong together.
    let data = [
        (Kind::PostgresCluster, names.db_cluster()),
        (Kind::Secret, names.db_credentials()),
        (Kind::Secret, names.keys_secret()),
    ];
    for (kind, object) in &data {
        let Some(observed) = ctx.stores.get(*kind, &namespace, object) else {
            continue;
        };
        if retain {
            if !observed.owner_references().is_empty() {
                let patch = json!({ "metadata": { "ownerReferences": null } });
                ctx.api(*kind, &namespace)
                    .patch(object, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
                metrics::counter!("authstack_operator_api_writes_total").increment(1);
            }
        } else {
            delete(ctx, &namespace, *kind, object).await?;
        }
    }
    for kind in Kind::ALL {
        for observed in ctx.stores.of_instance(kind, &namespace, &name) {
            let object = observed.name_any();
            if data.iter().any(|(k, n)| *k == kind && *n == object) {
                continue;
            }
            delete(ctx, &namespace, kind, &object).await?;
        }
    }
    let note = if retain {
        format!(
            "deleted; database {} and its secrets retained",
            names.db_cluster()
        )
    } else {
        "deleted with its database".to_owned()
    };
    publish(
        &ctx.recorder,
        instance,
        &status::Notice {
            warning: false,
            reason: "Deleted".into(),
            note,
            revision: None,
        },
    )
    .await;
    ctx.clear_failures(&key(instance));
    Ok(Action::await_change())
}

async fn server_side_apply(ctx: &Context, namespace: &str, object: &Desired) -> Result<(), Error> {
    ctx.api(object.kind, namespace)
        .patch(
            &object.name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&object.object),
        )
        .await?;
    metrics::counter!("authstack_operator_api_writes_total").increment(1);
    Ok(())
}

async fn create(ctx: &Context, namespace: &str, object: Desired) -> Result<(), Error> {
    let body: DynamicObject =
        serde_json::from_value(object.object).map_err(kube::Error::SerdeError)?;
    match ctx
        .api(object.kind, namespace)
        .create(
            &PostParams {
                field_manager: Some(MANAGER.into()),
                ..PostParams::default()
            },
            &body,
        )
        .await
    {
        Ok(_) => {}
        // Created by an earlier attempt whose answer was lost, or not yet in the cache: the
        // existing one stays.
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(err) => return Err(err.into()),
    }
    metrics::counter!("authstack_operator_api_writes_total").increment(1);
    Ok(())
}

async fn delete(ctx: &Context, namespace: &str, kind: Kind, name: &str) -> Result<(), Error> {
    match ctx
        .api(kind, namespace)
        .delete(name, &DeleteParams::background())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(err) => return Err(err.into()),
    }
    metrics::counter!("authstack_operator_api_writes_total").increment(1);
    Ok(())
}

/// Limits of the controller loop.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Reconciles running at once.
    pub concurrency: u16,
    /// Only this namespace's resources (all namespaces when `None`).
    pub namespace: Option<String>,
    /// Make `cnpg` databases with CloudNativePG (checked at start: without its CRD, the
    /// instances on one are told so and `/readyz` stays false).
    pub cnpg: bool,
}

/// Runs the controller until `shutdown` resolves.
pub async fn run(
    client: Client,
    settings: Settings,
    reporter: Reporter,
    options: RunOptions,
    ready: tokio::sync::watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    // `/readyz` says ready once the caches are filled, not before.
    let _ = ready.send(false);
    let cnpg = if options.cnpg {
        watches::detect_cnpg(&client).await
    } else {
        Cnpg::Disabled
    };
    if cnpg == Cnpg::Missing {
        tracing::error!(
            crd = watches::CNPG_CRD,
            "CloudNativePG is not installed: instances on a cnpg database get DatabaseReady=False (DatabaseUnavailable) and /readyz stays false; install CloudNativePG and restart the operator, or run it with --no-cnpg"
        );
    }
    let instances: Api<AuthStackInstance> = match &options.namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    };
    let managed = watcher::Config::default()
        .labels(&format!("{}={MANAGER}", render::MANAGED_BY_LABEL))
        .any_semantic();
    let mut stores = HashMap::new();
    let mut controller = Controller::new(instances, watcher::Config::default().any_semantic())
        .with_config(controller::Config::default().concurrency(options.concurrency));
    for kind in Kind::ALL {
        if kind == Kind::PostgresCluster && cnpg != Cnpg::Installed {
            continue;
        }
        let resource = kind.api_resource();
        let api: Api<DynamicObject> = match &options.namespace {
            Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        let writer = reflector::store::Writer::new(resource.clone());
        stores.insert(kind, writer.as_reader());
        // managedFields is most of an object's size and the operator never reads it.
        let watch = watcher(api, managed.clone()).modify(|object: &mut DynamicObject| {
            object.managed_fields_mut().clear();
        });
        let stream = watches::owned_objects(writer, watch).default_backoff();
        controller = controller.owns_stream_with(stream, resource);
    }
    let stores = Stores::new(stores);
    tokio::spawn(watches::announce_ready(stores.clone(), cnpg, ready));
    let context = Arc::new(Context::new(client, settings, stores, reporter).with_cnpg(cnpg));
    controller
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(err) = result {
                tracing::debug!(error = %err, "controller");
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes() {
        let delays: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}

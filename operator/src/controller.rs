//! Reconciles `AuthStackInstance`s: renders the desired objects, applies what differs from the
//! cached cluster state (server-side apply, one field manager), follows the rollout, rolls back
//! a failed one, and writes the status when it changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::{Value, json};

use crate::crd::{AuthStackInstance, DeletionPolicy, FINALIZER};
use crate::render::{self, Desired, Generated, Kind, MANAGER, Names, Settings, Target};
use crate::status::{self, Observed, Rollout};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(Box<kube::runtime::finalizer::Error<Error>>),
    #[error(
        "revision {revision}'s ConfigMap differs from spec.config: revisions are immutable, give the new configuration a new revision number"
    )]
    ImmutableRevision { revision: i64 },
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
            Error::ImmutableRevision { .. } => "immutable_revision".into(),
            Error::InvalidSpec(_) => "invalid_spec".into(),
            Error::Unnamed => "unnamed".into(),
        }
    }
}

/// Caches of the objects the operator manages, filled by watches (label
/// `app.kubernetes.io/managed-by=authstack-operator`). Reading them costs no API call, which
/// is what makes a steady-state reconcile free.
#[derive(Clone)]
pub struct Stores {
    stores: HashMap<Kind, Store<DynamicObject>>,
    /// True once every watch has listed once.
    ready: tokio::sync::watch::Receiver<bool>,
}

impl Stores {
    /// Wraps the stores and starts the one task that waits for them: kube-runtime's
    /// `Store::wait_until_ready` wakes only the last of several concurrent waiters, so the
    /// reconciles (several at once after a restart) wait on a channel that wakes them all.
    pub fn new(stores: HashMap<Kind, Store<DynamicObject>>) -> Stores {
        let (sender, ready) = tokio::sync::watch::channel(false);
        let waiting: Vec<Store<DynamicObject>> = stores.values().cloned().collect();
        tokio::spawn(async move {
            for store in waiting {
                // Only fails when the watch is gone, i.e. the controller is stopping.
                if store.wait_until_ready().await.is_err() {
                    return;
                }
            }
            let _ = sender.send(true);
        });
        Stores { stores, ready }
    }

    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Arc<DynamicObject>> {
        let store = self.stores.get(&kind)?;
        store.get(&ObjectRef::new_with(name, kind.api_resource()).within(namespace))
    }

    /// Waits until every watch has listed once, so that "not in the cache" means "not there".
    pub async fn ready(&self) {
        let mut ready = self.ready.clone();
        let _ = ready.wait_for(|ready| *ready).await;
    }

    /// Whether every watch has listed once.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Every cached object of `kind` belonging to the instance `instance` in `namespace`.
    fn of_instance(&self, kind: Kind, namespace: &str, instance: &str) -> Vec<Arc<DynamicObject>> {
        let Some(store) = self.stores.get(&kind) else {
            return Vec::new();
        };
        store.state_filter(|object| {
            object.metadata.namespace.as_deref() == Some(namespace)
                && object
                    .labels()
                    .get(render::INSTANCE_LABEL)
                    .map(String::as_str)
                    == Some(instance)
        })
    }
}

pub struct Context {
    pub client: Client,
    pub settings: Settings,
    pub stores: Stores,
    pub recorder: Recorder,
    /// Consecutive failures per object, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub fn new(client: Client, settings: Settings, stores: Stores, reporter: Reporter) -> Context {
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            settings,
            stores,
            failures: Mutex::new(HashMap::new()),
        }
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

    let target = status::target(&instance.spec, &old);
    let desired = render::render(instance, &ctx.settings, target).map_err(Error::InvalidSpec)?;
    let mut created_revision = false;
    for object in &desired {
        let observed = ctx.stores.get(object.kind, &namespace, &object.name);
        if object.kind == Kind::ConfigMap {
            // Immutable: created once per revision, and must not change under the same number.
            match observed {
                Some(observed) if !contains(&object.object["data"], &observed.data["data"]) => {
                    return Err(Error::ImmutableRevision {
                        revision: target.revision,
                    });
                }
                Some(_) => {}
                None => {
                    server_side_apply(ctx, &namespace, object).await?;
                    created_revision = true;
                }
            }
            continue;
        }
        if let Some(observed) = observed
            && is_applied(&object.object, &observed)
        {
            continue;
        }
        server_side_apply(ctx, &namespace, object).await?;
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
        publish(ctx, instance, event).await;
    }
    if Some(&outcome.status) != instance.status.as_ref() {
        let api: Api<AuthStackInstance> = Api::namespaced(ctx.client.clone(), &namespace);
        let patch = json!({
            "apiVersion": AuthStackInstance::api_version(&()),
            "kind": AuthStackInstance::kind(&()),
            "status": outcome.status,
        });
        api.patch_status(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
        metrics::counter!("authstack_operator_api_writes_total").increment(1);
    }
    ctx.clear_failures(&key(instance));
    Ok(match outcome.rollout {
        // A rollback was decided: carry it out now.
        Rollout::Failed if outcome.rolled_back => Action::requeue(Duration::ZERO),
        Rollout::Progressing => Action::requeue(Duration::from_secs(15)),
        _ => Action::requeue(Duration::from_secs(300)),
    })
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
        ctx,
        instance,
        &status::Notice {
            warning: false,
            reason: "Deleted".into(),
            note,
        },
    )
    .await;
    ctx.clear_failures(&key(instance));
    Ok(Action::await_change())
}

/// Whether everything the operator would apply is already there (what the API server added,
/// defaults and other managers' fields, does not matter).
pub fn is_applied(desired: &Value, observed: &DynamicObject) -> bool {
    let observed = match serde_json::to_value(observed) {
        Ok(value) => value,
        Err(_) => return false,
    };
    let mut desired = desired.clone();
    if let Some(object) = desired.as_object_mut() {
        object.remove("apiVersion");
        object.remove("kind");
    }
    contains(&desired, &observed)
}

/// `want ⊆ have`: every field of `want` is in `have` with the same value; lists match element
/// by element.
pub fn contains(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(want), Value::Object(have)) => want.iter().all(|(key, value)| {
            have.get(key)
                .is_some_and(|present| contains(value, present))
                || (value.is_null() && !have.contains_key(key))
        }),
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| contains(w, h))
        }
        (Value::Number(want), Value::Number(have)) => want.as_f64() == have.as_f64(),
        _ => want == have,
    }
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

async fn publish(ctx: &Context, instance: &AuthStackInstance, notice: &status::Notice) {
    let event = KubeEvent {
        type_: if notice.warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: notice.reason.clone(),
        note: Some(notice.note.clone()),
        action: "Reconcile".into(),
        secondary: None,
    };
    // An event is for people; failing to record one must not fail the reconcile.
    if let Err(err) = ctx
        .recorder
        .publish(&event, &instance.object_ref(&()))
        .await
    {
        tracing::warn!(error = %err, reason = %notice.reason, "recording an event failed");
    }
}

/// Limits of the controller loop.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Reconciles running at once.
    pub concurrency: u16,
    /// Only this namespace's resources (all namespaces when `None`).
    pub namespace: Option<String>,
    /// Watch PostgreSQL clusters of CloudNativePG (its CRD must be installed).
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
        if kind == Kind::PostgresCluster && !options.cnpg {
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
        let stream = reflector::reflector(writer, watch)
            .applied_objects()
            .default_backoff();
        controller = controller.owns_stream_with(stream, resource);
    }
    let stores = Stores::new(stores);
    // `/readyz` says ready once the caches are filled, not before.
    let _ = ready.send(false);
    {
        let stores = stores.clone();
        tokio::spawn(async move {
            stores.ready().await;
            tracing::info!("caches filled; reconciling");
            let _ = ready.send(true);
        });
    }
    let context = Arc::new(Context::new(client, settings, stores, reporter));
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
    use serde_json::json;

    use super::{backoff, contains};

    #[test]
    fn what_the_api_server_adds_is_not_drift() {
        let want = json!({ "spec": { "replicas": 2, "ports": [{ "port": 8080 }] } });
        let have = json!({
            "spec": { "replicas": 2, "revisionHistoryLimit": 10, "ports": [{ "port": 8080, "protocol": "TCP" }] },
            "status": { "readyReplicas": 2 },
        });
        assert!(contains(&want, &have));
    }

    #[test]
    fn a_changed_or_missing_field_is_drift() {
        let want = json!({ "spec": { "replicas": 2, "ports": [{ "port": 8080 }] } });
        assert!(!contains(
            &want,
            &json!({ "spec": { "replicas": 3, "ports": [{ "port": 8080 }] } })
        ));
        assert!(!contains(
            &want,
            &json!({ "spec": { "ports": [{ "port": 8080 }] } })
        ));
        // A list with an element more or less is a different list.
        assert!(!contains(
            &want,
            &json!({ "spec": { "replicas": 2, "ports": [{ "port": 8080 }, { "port": 9090 }] } })
        ));
        assert!(
            !contains(&json!("1"), &json!(1)),
            "a string is not a number"
        );
    }

    #[test]
    fn numbers_compare_by_value_and_null_means_absent() {
        assert!(contains(&json!({ "a": 1 }), &json!({ "a": 1.0 })));
        assert!(contains(&json!({ "a": null }), &json!({})));
        assert!(!contains(&json!({ "a": null }), &json!({ "a": 1 })));
    }

    /// After a restart several reconciles wait for the caches at once; every one of them must
    /// wake when the caches fill (kube-runtime's own wait wakes only the last waiter).
    #[tokio::test]
    async fn every_reconcile_waiting_for_the_caches_wakes() {
        use kube::runtime::reflector::store::Writer;
        use kube::runtime::watcher;

        use crate::render::Kind;

        let mut writers = Vec::new();
        let mut readers = std::collections::HashMap::new();
        for kind in [Kind::Deployment, Kind::Service] {
            let writer = Writer::new(kind.api_resource());
            readers.insert(kind, writer.as_reader());
            writers.push(writer);
        }
        let stores = super::Stores::new(readers);
        assert!(!stores.is_ready());
        let waiting: Vec<_> = (0..8)
            .map(|_| {
                let stores = stores.clone();
                tokio::spawn(async move { stores.ready().await })
            })
            .collect();
        tokio::task::yield_now().await;
        for writer in &mut writers {
            writer.apply_watcher_event(&watcher::Event::Init);
            writer.apply_watcher_event(&watcher::Event::InitDone);
        }
        for waiter in waiting {
            tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
                .await
                .expect("every waiter wakes")
                .expect("task");
        }
        assert!(stores.is_ready());
    }

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes() {
        let delays: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }
}

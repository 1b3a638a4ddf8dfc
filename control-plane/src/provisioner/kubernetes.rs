//! The Kubernetes provisioner: an instance is an `AuthStackInstance` resource in its region's
//! cluster, which the operator turns into pods, a database and the objects around them.
//!
//! For each instance it writes, by server-side apply (field manager `authstack-control-plane`):
//!
//! ```text
//! Namespace          authstack-<account>   one per account; deleted with its last instance
//! Secret             <name>-gateway        gateway-secret and admin-key, from the control plane
//! AuthStackInstance  <name>                revision, configuration, image, size, database
//! ```
//!
//! then follows the resource's status until the operator reports the spec's revision `Ready`,
//! and answers its in-cluster endpoint. The instance's master key is not written: the operator
//! generates it once in a Secret of its own (`<name>-keys`), so it never leaves the cluster.
//!
//! A background watch of every resource the control plane manages turns what happens without
//! an `apply` (pods lost, a rollout rolled back) into provisioner [`Event`]s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use authstack_operator::crd::{
    self, AuthStackInstance, AuthStackInstanceSpec, Autoscaling, DatabaseSpec, DeletionPolicy,
    Phase, Resources,
};
use authstack_operator::render;
use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use secrecy::ExposeSecret;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::{Environment, Event, InstanceRef, InstanceSpec, Progress, Provisioner};
use crate::catalog::Region;
use crate::config::KubernetesConfig;

/// The field manager of the control plane's writes, and the value of its `managed-by` label.
pub const MANAGER: &str = "authstack-control-plane";
/// The label on every object the control plane writes.
pub const MANAGED_BY_LABEL: &str = render::MANAGED_BY_LABEL;
/// The account label on the namespace, the Secret and the resource.
pub const ACCOUNT_LABEL: &str = "authstack.io/account";
/// The control plane's instance id on the Secret and the resource.
pub const INSTANCE_ID_LABEL: &str = "authstack.io/instance-id";
/// `live` or `test`, on the Secret and the resource.
pub const ENVIRONMENT_LABEL: &str = "authstack.io/environment";
/// The `kube_context` of a region in the cluster the control plane runs in (with `in_cluster`).
pub const IN_CLUSTER_CONTEXT: &str = "in-cluster";
/// The account the platform instance's objects are filed under (it has no customer account).
pub const PLATFORM_ACCOUNT: &str = "platform";
/// How long a region's cluster has to answer at start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The image instances run unless configured: this release's.
pub fn default_image() -> String {
    format!(
        "ghcr.io/authstack/authstack-instance:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// How the provisioner writes and follows resources.
#[derive(Debug, Clone)]
pub struct KubernetesOptions {
    /// The instance image (`AUTHSTACK_INSTANCE_IMAGE`).
    pub image: String,
    /// How long `apply` waits for the resource to be `Ready` at the spec's revision.
    pub ready_timeout: Duration,
    /// Written to each resource as `progressDeadlineSeconds`: how long the operator gives a
    /// rollout before it rolls back. Kept below `ready_timeout`, so that a failed rollout is
    /// reported with the operator's reason rather than as a timeout.
    pub progress_deadline: Duration,
    /// How long one watch request lasts before it is renewed (the server's `timeoutSeconds`).
    pub watch_timeout: Duration,
}

impl Default for KubernetesOptions {
    fn default() -> Self {
        KubernetesOptions {
            image: default_image(),
            ready_timeout: Duration::from_secs(600),
            progress_deadline: Duration::from_secs(300),
            watch_timeout: Duration::from_secs(290),
        }
    }
}

impl KubernetesOptions {
    /// The options of a control plane configured with `settings`.
    pub fn from_config(settings: &KubernetesConfig) -> KubernetesOptions {
        let defaults = KubernetesOptions::default();
        KubernetesOptions {
            image: settings.instance_image.clone(),
            ready_timeout: settings.ready_timeout,
            progress_deadline: defaults
                .progress_deadline
                .min(settings.ready_timeout.mul_f32(0.8)),
            ..defaults
        }
    }
}

/// The namespace of an account's instances (the platform instance: `authstack-platform`).
pub fn namespace_of(account_id: Option<&str>) -> String {
    render::account_namespace(account_id.unwrap_or(PLATFORM_ACCOUNT))
}

/// The Secret holding an instance's gateway secret and admin key.
pub fn gateway_secret_name(instance_id: &str) -> String {
    format!("{}-gateway", render::resource_name(instance_id))
}

/// The configuration history a plan keeps, in revisions: one a day (a revision a day is more
/// than most instances see), within the resource's 1 to 1000.
pub fn history_limit(version_history_days: u32) -> i32 {
    to_i32(version_history_days.clamp(1, 1000))
}

fn to_i32(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}

fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Label values allow `[A-Za-z0-9_.-]`, at most 63, starting and ending alphanumeric.
fn label_value(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(63)
        .collect();
    kept.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

fn labels(
    account_id: Option<&str>,
    instance: Option<(&str, Environment)>,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_owned(), MANAGER.to_owned()),
        (
            ACCOUNT_LABEL.to_owned(),
            label_value(account_id.unwrap_or(PLATFORM_ACCOUNT)),
        ),
    ]);
    if let Some((id, environment)) = instance {
        labels.insert(INSTANCE_ID_LABEL.to_owned(), label_value(id));
        labels.insert(
            ENVIRONMENT_LABEL.to_owned(),
            environment.as_str().to_owned(),
        );
    }
    labels
}

/// The account's namespace as the control plane applies it.
pub fn namespace_for(account_id: Option<&str>) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(namespace_of(account_id)),
            labels: Some(labels(account_id, None)),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// The Secret the resource's `gatewaySecretRef` names: what the gateway presents to the
/// instance. (The instance's master key is the operator's, see the module documentation.)
pub fn secret_for(spec: &InstanceSpec) -> Secret {
    let data = BTreeMap::from([
        (
            "gateway-secret".to_owned(),
            ByteString(
                spec.secrets
                    .gateway_secret
                    .expose_secret()
                    .as_bytes()
                    .to_vec(),
            ),
        ),
        (
            "admin-key".to_owned(),
            ByteString(spec.secrets.admin_key.expose_secret().as_bytes().to_vec()),
        ),
    ]);
    Secret {
        metadata: ObjectMeta {
            name: Some(gateway_secret_name(&spec.id)),
            namespace: Some(namespace_of(spec.account_id.as_deref())),
            labels: Some(labels(
                spec.account_id.as_deref(),
                Some((&spec.id, spec.environment)),
            )),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

/// The `AuthStackInstance` that runs `spec`.
///
/// Size, from the plan's capacity: the live instance gets the plan's replicas (Starter 1,
/// Pro 2, Enterprise 3 and CPU autoscaling up to 10) and PostgreSQL instances; the test
/// instance one pod and one PostgreSQL instance, since it serves development traffic. Both get
/// the plan's per-pod resources and storage. The database is CloudNativePG, kept when the
/// resource is deleted by hand (`Retain`; [`Provisioner::delete`] deletes it on purpose), and
/// a failed rollout returns to the last healthy revision by itself.
pub fn cr_for(
    spec: &InstanceSpec,
    options: &KubernetesOptions,
) -> anyhow::Result<AuthStackInstance> {
    let name = render::resource_name(&spec.id);
    let capacity = &spec.capacity;
    let live = spec.environment == Environment::Live;
    let replicas = if live { capacity.replicas } else { 1 };
    let autoscaling = capacity
        .max_replicas
        .filter(|&max| live && max > replicas)
        .map(|max| Autoscaling {
            min_replicas: to_i32(replicas),
            max_replicas: to_i32(max),
            target_cpu_utilization: 70,
        });
    let database_instances = if live { capacity.database_instances } else { 1 };
    let config = serde_json::to_value(&spec.config).context("serialising the configuration")?;
    let mut instance = AuthStackInstance::new(
        &name,
        AuthStackInstanceSpec {
            account_id: spec
                .account_id
                .clone()
                .unwrap_or_else(|| PLATFORM_ACCOUNT.to_owned()),
            instance_id: spec.id.clone(),
            environment: match spec.environment {
                Environment::Live => crd::Environment::Live,
                Environment::Test => crd::Environment::Test,
            },
            revision: spec.revision,
            config,
            image: options.image.clone(),
            issuer: spec.issuer.clone(),
            previous_issuers: spec.previous_issuers.clone(),
            gateway_secret_ref: gateway_secret_name(&spec.id),
            replicas: to_i32(replicas),
            resources: Resources {
                cpu_request: capacity.cpu_request.clone(),
                memory_request: capacity.memory_request.clone(),
                cpu_limit: capacity.cpu_limit.clone(),
                memory_limit: capacity.memory_limit.clone(),
            },
            autoscaling,
            hostnames: Vec::new(),
            database: DatabaseSpec::cnpg(to_i32(database_instances), &capacity.database_storage),
            suspended: false,
            auto_rollback: true,
            progress_deadline_seconds: to_i32(options.progress_deadline.as_secs().clamp(30, 3600)),
            revision_history_limit: history_limit(spec.version_history_days),
            deletion_policy: DeletionPolicy::Retain,
        },
    );
    instance.metadata.namespace = Some(namespace_of(spec.account_id.as_deref()));
    instance.metadata.labels = Some(labels(
        spec.account_id.as_deref(),
        Some((&spec.id, spec.environment)),
    ));
    Ok(instance)
}

/// Where a resource's rollout of one revision stands, from its status.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollout {
    /// The operator has not acted on the current spec yet.
    Pending,
    /// The operator is rolling the revision out.
    Progressing {
        database_ready: bool,
        /// The `Ready` condition's message, e.g. `0/2 replicas ready`.
        message: String,
    },
    /// The revision runs and is available at `endpoint`.
    Ready { endpoint: String },
    /// The revision failed (and, where there was a healthy one, was rolled back).
    Failed { message: String },
}

fn condition_true(instance: &AuthStackInstance, type_: &str) -> bool {
    instance
        .condition(type_)
        .is_some_and(|c| c.status == "True")
}

/// Where `instance`'s rollout of `revision` stands.
pub fn rollout(instance: &AuthStackInstance, revision: i64) -> Rollout {
    let Some(status) = &instance.status else {
        return Rollout::Pending;
    };
    let degraded = instance
        .condition("Degraded")
        .filter(|c| c.status == "True");
    if status.failed_revision == Some(revision) {
        let message = degraded.map(|c| c.message.clone()).unwrap_or_else(|| {
            format!("revision {revision} failed to roll out and was rolled back")
        });
        return Rollout::Failed { message };
    }
    let generation = instance.metadata.generation.unwrap_or(0);
    // The operator refused this generation (a revision's configuration is immutable): it will
    // never observe it, so waiting would hang until the deadline.
    if let Some(refused) = instance.condition("RevisionAccepted").filter(|c| {
        c.status == "False" && c.observed_generation.unwrap_or(generation) == generation
    }) {
        return Rollout::Failed {
            message: refused.message.clone(),
        };
    }
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Pending;
    }
    if status.current_revision == Some(revision) {
        if status.phase == Some(Phase::Ready) {
            return Rollout::Ready {
                endpoint: status
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| render::endpoint(instance)),
            };
        }
        if let Some(degraded) = degraded.filter(|c| c.reason == "ProgressDeadlineExceeded") {
            return Rollout::Failed {
                message: degraded.message.clone(),
            };
        }
    }
    Rollout::Progressing {
        database_ready: condition_true(instance, "DatabaseReady"),
        message: instance
            .condition("Ready")
            .map(|c| c.message.clone())
            .unwrap_or_default(),
    }
}

/// The newest condition change of `instance`: how the background watch tells a newer view of
/// a resource from an older one.
fn latest_transition(instance: &AuthStackInstance) -> Option<OffsetDateTime> {
    instance
        .status
        .as_ref()?
        .conditions
        .iter()
        .filter_map(|c| OffsetDateTime::parse(&c.last_transition_time, &Rfc3339).ok())
        .max()
}

/// Whether `instance` ran its revision and no replica serves any more, with no change asked for
/// (a rollout, a suspension, a deletion).
fn lost_its_pods(instance: &AuthStackInstance) -> bool {
    let Some(status) = &instance.status else {
        return false;
    };
    let settled = status.observed_generation.unwrap_or(0)
        >= instance.metadata.generation.unwrap_or(0)
        && status.current_revision.is_some()
        && status.current_revision == status.last_healthy_revision;
    settled
        && !instance.spec.suspended
        && instance.metadata.deletion_timestamp.is_none()
        && !matches!(status.phase, Some(Phase::Suspended | Phase::Deleting))
        && instance
            .condition("Ready")
            .is_some_and(|c| c.status == "False")
}

/// What the background watch last told the control plane about an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Health {
    #[default]
    Up,
    Crashed,
    Failed,
}

#[derive(Debug, Default)]
struct Observed {
    /// The newest condition change accounted for; views of the resource no newer (a watch
    /// lagging behind an `apply`) are ignored.
    watermark: Option<OffsetDateTime>,
    health: Health,
}

/// What the provisioner knows of its instances between `apply`s and the background watch.
#[derive(Debug, Default)]
struct Observations {
    /// Instances with an `apply` under way: it reports their outcome itself.
    applying: HashSet<String>,
    /// By instance id.
    seen: HashMap<String, Observed>,
}

impl Observations {
    /// The event a new view of `instance` makes, if any.
    fn notice(&mut self, instance: &AuthStackInstance) -> Option<Event> {
        let id = &instance.spec.instance_id;
        let latest = latest_transition(instance);
        let applying = self.applying.contains(id);
        let Some(observed) = self.seen.get_mut(id) else {
            // First sight (the first list after a start): the reconciler's first pass applies
            // every running instance and reports what it finds.
            self.seen.insert(
                id.clone(),
                Observed {
                    watermark: latest,
                    health: Health::Up,
                },
            );
            return None;
        };
        let newer = match (latest, observed.watermark) {
            (Some(latest), Some(watermark)) => latest > watermark,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !newer {
            return None;
        }
        observed.watermark = latest;
        if applying {
            return None;
        }
        let instance_id = id.clone();
        if let Some(degraded) = instance
            .condition("Degraded")
            .filter(|c| c.status == "True")
        {
            if observed.health == Health::Failed {
                return None;
            }
            observed.health = Health::Failed;
            let detail = if degraded.message.is_empty() {
                degraded.reason.clone()
            } else {
                degraded.message.clone()
            };
            return Some(Event::Failed {
                instance_id,
                detail,
            });
        }
        if lost_its_pods(instance) {
            if observed.health != Health::Up {
                return None;
            }
            observed.health = Health::Crashed;
            let detail = instance
                .condition("Ready")
                .map(|c| c.message.clone())
                .unwrap_or_default();
            return Some(Event::Crashed {
                instance_id,
                detail,
            });
        }
        let ready = instance.status.as_ref().and_then(|s| s.phase) == Some(Phase::Ready)
            && condition_true(instance, "Ready");
        if ready && observed.health != Health::Up {
            observed.health = Health::Up;
            return Some(Event::Ready { instance_id });
        }
        None
    }

    /// Records how an `apply` ended, so that the watch does not report it again.
    fn concluded(&mut self, instance: &AuthStackInstance, ready: bool) {
        let observed = self
            .seen
            .entry(instance.spec.instance_id.clone())
            .or_default();
        observed.watermark = observed.watermark.max(latest_transition(instance));
        observed.health = if ready { Health::Up } else { Health::Failed };
    }
}

/// Provisions instances as `AuthStackInstance` resources in one cluster; see the module
/// documentation.
pub struct KubernetesProvisioner {
    shared: Arc<Shared>,
}

struct Shared {
    client: Client,
    options: KubernetesOptions,
    observations: Mutex<Observations>,
    observer: Mutex<Option<JoinHandle<()>>>,
}

/// Marks an instance as being applied until dropped.
struct Applying<'a> {
    shared: &'a Shared,
    instance_id: String,
}

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        self.shared
            .observations()
            .applying
            .remove(&self.instance_id);
    }
}

impl KubernetesProvisioner {
    pub fn new(client: Client, options: KubernetesOptions) -> KubernetesProvisioner {
        KubernetesProvisioner {
            shared: Arc::new(Shared {
                client,
                options,
                observations: Mutex::new(Observations::default()),
                observer: Mutex::new(None),
            }),
        }
    }

    /// The provisioner of `region`'s cluster; fails when the cluster cannot be reached.
    pub async fn for_region(
        region: &Region,
        settings: &KubernetesConfig,
        platform_region: &str,
    ) -> anyhow::Result<KubernetesProvisioner> {
        let client = connect(region, settings, platform_region).await?;
        Ok(KubernetesProvisioner::new(
            client,
            KubernetesOptions::from_config(settings),
        ))
    }
}

/// A client of `region`'s cluster, limited to the configured QPS and burst: the pod's service
/// account when the control plane runs in a cluster (`in_cluster`) and the region is
/// `in-cluster` or the platform's own, else the region's kubeconfig context. Fails when the
/// cluster does not tell its version within 10 s.
pub async fn connect(
    region: &Region,
    settings: &KubernetesConfig,
    platform_region: &str,
) -> anyhow::Result<Client> {
    let context = region.kube_context.as_deref().unwrap_or(&region.id);
    let in_cluster =
        settings.in_cluster && (context == IN_CLUSTER_CONTEXT || region.id == platform_region);
    let config = if in_cluster {
        kube::Config::incluster().context("reading the in-cluster configuration")?
    } else {
        let options = kube::config::KubeConfigOptions {
            context: Some(context.to_owned()),
            ..Default::default()
        };
        kube::Config::from_kubeconfig(&options)
            .await
            .with_context(|| format!("reading kubeconfig context '{context}'"))?
    };
    let client = authstack_operator::ratelimit::client(config, settings.qps, settings.burst)
        .context("building the client")?;
    let version = tokio::time::timeout(CONNECT_TIMEOUT, client.apiserver_version())
        .await
        .with_context(|| format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()))?
        .context("asking the API server for its version")?;
    tracing::info!(region = %region.id, in_cluster, version = %version.git_version, "connected to the region's cluster");
    Ok(client)
}

fn not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.is_not_found())
}

impl Shared {
    fn observations(&self) -> std::sync::MutexGuard<'_, Observations> {
        self.observations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn instances(&self, namespace: &str) -> Api<AuthStackInstance> {
        Api::namespaced(self.client.clone(), namespace)
    }

    fn apply_params() -> PatchParams {
        PatchParams::apply(MANAGER).force()
    }

    fn merge_params() -> PatchParams {
        PatchParams {
            field_manager: Some(MANAGER.to_owned()),
            ..PatchParams::default()
        }
    }

    /// Writes the namespace, the Secret and the resource; answers the resource as applied.
    async fn write(&self, spec: &InstanceSpec) -> anyhow::Result<AuthStackInstance> {
        let account = spec.account_id.as_deref();
        let namespace = namespace_of(account);
        let params = Self::apply_params();
        Api::<Namespace>::all(self.client.clone())
            .patch(&namespace, &params, &Patch::Apply(namespace_for(account)))
            .await
            .with_context(|| format!("applying namespace {namespace}"))?;
        let secret = secret_for(spec);
        let secret_name = gateway_secret_name(&spec.id);
        Api::<Secret>::namespaced(self.client.clone(), &namespace)
            .patch(&secret_name, &params, &Patch::Apply(&secret))
            .await
            .with_context(|| format!("applying secret {namespace}/{secret_name}"))?;
        let resource = cr_for(spec, &self.options)?;
        let name = render::resource_name(&spec.id);
        self.instances(&namespace)
            .patch(&name, &params, &Patch::Apply(&resource))
            .await
            .with_context(|| format!("applying AuthStackInstance {namespace}/{name}"))
    }

    async fn apply(&self, spec: &InstanceSpec, progress: &dyn Progress) -> anyhow::Result<String> {
        self.observations().applying.insert(spec.id.clone());
        let _applying = Applying {
            shared: self,
            instance_id: spec.id.clone(),
        };
        let applied = self.write(spec).await?;
        if let Rollout::Ready { endpoint } = rollout(&applied, spec.revision) {
            // Nothing changed: it already runs this spec.
            self.observations().concluded(&applied, true);
            return Ok(endpoint);
        }
        let namespace = namespace_of(spec.account_id.as_deref());
        let name = render::resource_name(&spec.id);
        progress.step("namespace ready", Some(&namespace)).await;
        progress
            .step(
                "resource applied",
                Some(&format!("AuthStackInstance {namespace}/{name}")),
            )
            .await;
        let mut last = applied;
        let waited = tokio::time::timeout(
            self.options.ready_timeout,
            self.follow(&namespace, &name, spec.revision, &mut last, progress),
        )
        .await;
        let result = match waited {
            Ok(result) => result,
            Err(_) => {
                let state = last
                    .condition("Ready")
                    .map(|c| format!(" ({})", c.message))
                    .unwrap_or_default();
                Err(anyhow::anyhow!(
                    "revision {} of {namespace}/{name} was not ready within {:?}{state}",
                    spec.revision,
                    self.options.ready_timeout
                ))
            }
        };
        self.observations().concluded(&last, result.is_ok());
        result
    }

    /// Watches the resource until its status settles `revision`; `last` is the newest view.
    async fn follow(
        &self,
        namespace: &str,
        name: &str,
        revision: i64,
        last: &mut AuthStackInstance,
        progress: &dyn Progress,
    ) -> anyhow::Result<String> {
        let watch = watcher::Config::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(to_u32(self.options.watch_timeout.as_secs()));
        let mut events = watcher(self.instances(namespace), watch)
            .default_backoff()
            .boxed();
        let mut database_ready = condition_true(last, "DatabaseReady");
        let mut rolling_reported = false;
        loop {
            match rollout(last, revision) {
                Rollout::Ready { endpoint } => return Ok(endpoint),
                Rollout::Failed { message } => anyhow::bail!(message),
                Rollout::Pending => {}
                Rollout::Progressing {
                    database_ready: now_ready,
                    message,
                } => {
                    if !rolling_reported {
                        rolling_reported = true;
                        let detail = (!message.is_empty()).then_some(message.as_str());
                        progress
                            .step(&format!("rolling out revision {revision}"), detail)
                            .await;
                    }
                    if now_ready && !database_ready {
                        let detail = last
                            .condition("DatabaseReady")
                            .map(|c| c.message.clone())
                            .filter(|m| !m.is_empty());
                        progress.step("database ready", detail.as_deref()).await;
                    }
                    database_ready = now_ready;
                }
            }
            *last = loop {
                match events.next().await {
                    Some(Ok(watcher::Event::Apply(seen) | watcher::Event::InitApply(seen))) => {
                        break seen;
                    }
                    Some(Ok(watcher::Event::Delete(_))) => {
                        anyhow::bail!("{namespace}/{name} was deleted during its rollout")
                    }
                    Some(Ok(watcher::Event::Init | watcher::Event::InitDone)) => {}
                    Some(Err(err)) => {
                        tracing::warn!(%namespace, %name, error = %err, "watching the rollout failed; retrying");
                    }
                    None => anyhow::bail!("the watch of {namespace}/{name} ended"),
                }
            };
        }
    }

    async fn suspend(&self, instance: &InstanceRef) -> anyhow::Result<()> {
        let namespace = namespace_of(instance.account_id.as_deref());
        let name = render::resource_name(&instance.id);
        let patch = json!({ "spec": { "suspended": true } });
        match self
            .instances(&namespace)
            .patch(&name, &Self::merge_params(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                tracing::info!(instance_id = %instance.id, %namespace, "instance suspended");
                Ok(())
            }
            Err(err) if not_found(&err) => Ok(()),
            Err(err) => Err(err).with_context(|| format!("suspending {namespace}/{name}")),
        }
    }

    async fn delete(&self, instance: &InstanceRef) -> anyhow::Result<()> {
        let namespace = namespace_of(instance.account_id.as_deref());
        let name = render::resource_name(&instance.id);
        let instances = self.instances(&namespace);
        // The resource says Retain (a stray `kubectl delete` keeps the data); the control plane
        // deletes an instance when its data is to go, so the operator deletes the database.
        let patch = json!({ "spec": { "deletionPolicy": "Delete" } });
        match instances
            .patch(&name, &Self::merge_params(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => match instances.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(err) if not_found(&err) => {}
                Err(err) => {
                    return Err(err).with_context(|| format!("deleting {namespace}/{name}"));
                }
            },
            Err(err) if not_found(&err) => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("setting the deletion policy of {namespace}/{name}"));
            }
        }
        let secret = gateway_secret_name(&instance.id);
        match Api::<Secret>::namespaced(self.client.clone(), &namespace)
            .delete(&secret, &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(err) if not_found(&err) => {}
            Err(err) => {
                return Err(err).with_context(|| format!("deleting secret {namespace}/{secret}"));
            }
        }
        let remaining = instances
            .list(&ListParams::default())
            .await
            .with_context(|| format!("listing the instances in {namespace}"))?;
        // Resources being finalized are on their way out; the namespace waits for them.
        let in_use = remaining
            .items
            .iter()
            .any(|i| i.metadata.deletion_timestamp.is_none());
        if !in_use {
            match Api::<Namespace>::all(self.client.clone())
                .delete(&namespace, &DeleteParams::default())
                .await
            {
                Ok(_) => tracing::info!(%namespace, "deleted the account's namespace"),
                // Gone, or already terminating.
                Err(kube::Error::Api(status)) if status.is_not_found() || status.is_conflict() => {}
                Err(err) => {
                    return Err(err).with_context(|| format!("deleting namespace {namespace}"));
                }
            }
        }
        self.observations().seen.remove(&instance.id);
        tracing::info!(instance_id = %instance.id, %namespace, "instance deleted");
        Ok(())
    }

    /// Watches every resource the control plane manages and reports what happens to them.
    async fn observe(&self, events: UnboundedSender<Event>) {
        let api: Api<AuthStackInstance> = Api::all(self.client.clone());
        let watch = watcher::Config::default()
            .labels(&format!("{MANAGED_BY_LABEL}={MANAGER}"))
            .timeout(to_u32(self.options.watch_timeout.as_secs()));
        let mut stream = watcher(api, watch).default_backoff().boxed();
        while let Some(item) = stream.next().await {
            match item {
                Ok(watcher::Event::Apply(instance) | watcher::Event::InitApply(instance)) => {
                    let event = self.observations().notice(&instance);
                    if let Some(event) = event {
                        tracing::info!(?event, "instance status changed in the cluster");
                        if events.send(event).is_err() {
                            return;
                        }
                    }
                }
                Ok(watcher::Event::Delete(instance)) => {
                    self.observations().seen.remove(&instance.spec.instance_id);
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "watching AuthStackInstances failed; retrying");
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Provisioner for KubernetesProvisioner {
    async fn apply(&self, spec: &InstanceSpec, progress: &dyn Progress) -> anyhow::Result<String> {
        self.shared.apply(spec, progress).await
    }

    /// Sets `suspended` on the resource; the operator scales the instance to zero and keeps
    /// its database. The next `apply` resumes it.
    async fn suspend(&self, instance: &InstanceRef) -> anyhow::Result<()> {
        self.shared.suspend(instance).await
    }

    /// Deletes the resource (its finalizer deletes the database), the gateway Secret, and the
    /// account's namespace once no other instance of the account is left in it.
    async fn delete(&self, instance: &InstanceRef) -> anyhow::Result<()> {
        self.shared.delete(instance).await
    }

    fn observe(&self, events: UnboundedSender<Event>) {
        let shared = self.shared.clone();
        let task = tokio::spawn(async move { shared.observe(events).await });
        let previous = self
            .shared
            .observer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(task);
        if let Some(previous) = previous {
            previous.abort();
        }
    }

    async fn shutdown(&self) {
        let observer = self
            .shared
            .observer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(observer) = observer {
            observer.abort();
        }
    }
}

#[cfg(test)]
mod tests;

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

mod objects;
mod status;

use objects::to_u32;
pub use objects::{
    cr_for, gateway_secret_name, history_limit, namespace_for, namespace_of, secret_for,
};
use status::{Observations, condition_true};
pub use status::{Rollout, rollout};

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
            image: crate::config::default_instance_image(),
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

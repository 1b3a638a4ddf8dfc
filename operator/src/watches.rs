//! What the operator watches: the caches of the objects it manages ([`Stores`]), the streams
//! that fill them and trigger the owner's reconcile ([`owned_objects`]), and whether
//! CloudNativePG is there to watch at all ([`Cnpg`]).

use std::collections::HashMap;
use std::sync::Arc;

use futures::Stream;
use kube::api::DynamicObject;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

use crate::render::{self, Kind};

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
    pub fn of_instance(
        &self,
        kind: Kind,
        namespace: &str,
        instance: &str,
    ) -> Vec<Arc<DynamicObject>> {
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

/// The watch events of one owned kind, applied to its cache, as the objects that trigger their
/// owner's reconcile. Deletes included: a deleted Service is put back at once, not at the next
/// periodic reconcile.
pub fn owned_objects<S>(
    writer: reflector::store::Writer<DynamicObject>,
    events: S,
) -> impl Stream<Item = Result<DynamicObject, watcher::Error>>
where
    S: Stream<Item = Result<watcher::Event<DynamicObject>, watcher::Error>>,
{
    reflector::reflector(writer, events).touched_objects()
}

/// The CRD of CloudNativePG's `Cluster`, which databases of `type: cnpg` are.
pub const CNPG_CRD: &str = "clusters.postgresql.cnpg.io";

/// Whether the operator can provision CloudNativePG databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cnpg {
    /// The CRD is installed; Clusters are watched.
    Installed,
    /// Turned off (`--no-cnpg`): only external databases.
    Disabled,
    /// Turned on, but the CRD is not installed.
    Missing,
}

impl Cnpg {
    /// Why an instance on a CloudNativePG database cannot get one, if it cannot.
    pub fn unavailable(self) -> Option<String> {
        match self {
            Cnpg::Installed => None,
            Cnpg::Disabled => Some(
                "the operator runs with --no-cnpg: give the instance an external database \
                 (spec.database.type: external)"
                    .into(),
            ),
            Cnpg::Missing => Some(format!(
                "CloudNativePG is not installed (no CRD {CNPG_CRD}): install it and restart the \
                 operator, or give the instance an external database \
                 (spec.database.type: external) and run the operator with --no-cnpg"
            )),
        }
    }
}

/// Asks API discovery whether CloudNativePG's `Cluster` is served (one GET of
/// `/apis/postgresql.cnpg.io/v1`). An answer other than "not found" counts as installed: the
/// watch then retries as it would have.
pub async fn detect_cnpg(client: &Client) -> Cnpg {
    let resource = Kind::PostgresCluster.api_resource();
    match client.list_api_group_resources(&resource.api_version).await {
        Ok(list) if list.resources.iter().any(|r| r.name == resource.plural) => Cnpg::Installed,
        Ok(_) => Cnpg::Missing,
        Err(kube::Error::Api(status)) if status.code == 404 => Cnpg::Missing,
        Err(err) => {
            tracing::warn!(error = %err, crd = CNPG_CRD, "could not ask whether CloudNativePG is installed; assuming it is");
            Cnpg::Installed
        }
    }
}

/// Says ready once the caches are filled, and never while CloudNativePG is expected but
/// missing: the operator cannot do its work then, and a rollout of it should not pass.
pub async fn announce_ready(stores: Stores, cnpg: Cnpg, ready: tokio::sync::watch::Sender<bool>) {
    let _ = ready.send(false);
    stores.ready().await;
    if cnpg == Cnpg::Missing {
        tracing::error!(
            crd = CNPG_CRD,
            "caches filled, but CloudNativePG is not installed: instances on a cnpg database wait (install it, or run with --no-cnpg); not ready"
        );
        return;
    }
    tracing::info!("caches filled; reconciling");
    let _ = ready.send(true);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::StreamExt;
    use http::Method;
    use kube::runtime::controller::trigger_owners;
    use kube::runtime::reflector::store::Writer;
    use kube::runtime::watcher::Event;
    use serde_json::json;

    use super::*;
    use crate::crd::AuthStackInstance;
    use crate::fixtures::{Call, Reply, context};
    use crate::render::Settings;

    /// The instance's Service as the watch delivers it.
    fn service() -> DynamicObject {
        let instance = AuthStackInstance::test();
        let target = crate::status::target(&instance.spec, &Default::default());
        let service = render::render(&instance, &Settings::default(), target)
            .expect("render")
            .into_iter()
            .find(|o| o.kind == Kind::Service)
            .expect("a service");
        serde_json::from_value(service.object).expect("an object")
    }

    #[tokio::test]
    async fn a_deleted_owned_object_triggers_its_owners_reconcile() {
        let resource = Kind::Service.api_resource();
        let writer = Writer::new(resource.clone());
        let store = writer.as_reader();
        let events = futures::stream::iter([
            Ok(Event::Init),
            Ok(Event::InitApply(service())),
            Ok(Event::InitDone),
            Ok(Event::Delete(service())),
        ]);
        let requests: Vec<_> = trigger_owners::<AuthStackInstance, _>(
            owned_objects(writer, events),
            (),
            resource.clone(),
        )
        .collect()
        .await;
        let owner = ObjectRef::<AuthStackInstance>::new("ins-test").within("authstack-acc-test");
        let owners: Vec<_> = requests
            .into_iter()
            .map(|request| request.expect("a request").obj_ref)
            .collect();
        assert_eq!(owners, vec![owner.clone(), owner], "listed, then deleted");
        assert!(store.state().is_empty(), "the delete reached the cache");
    }

    #[tokio::test]
    async fn discovery_says_whether_cloudnativepg_is_installed() {
        let path = "/apis/postgresql.cnpg.io/v1";
        let (ctx, verifier, _cache) = context();
        let scenario = verifier.run(vec![
            Call::new(Method::GET, path, Reply::Error(404)),
            Call::new(
                Method::GET,
                path,
                Reply::Json(json!({
                    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "postgresql.cnpg.io/v1",
                    "resources": [{
                        "name": "clusters", "singularName": "cluster", "namespaced": true,
                        "kind": "Cluster", "verbs": ["get", "list", "watch"],
                    }],
                })),
            ),
        ]);
        assert_eq!(detect_cnpg(&ctx.client).await, Cnpg::Missing);
        assert_eq!(detect_cnpg(&ctx.client).await, Cnpg::Installed);
        tokio::time::timeout(Duration::from_secs(3), scenario)
            .await
            .expect("both calls made")
            .expect("the scenario's assertions hold");
        let message = Cnpg::Missing.unavailable().expect("a reason");
        assert!(message.contains(CNPG_CRD) && message.contains("--no-cnpg"));
    }

    #[tokio::test]
    async fn without_cloudnativepg_the_operator_never_says_ready() {
        for (cnpg, expected) in [(Cnpg::Missing, false), (Cnpg::Installed, true)] {
            let mut writer = Writer::new(Kind::Service.api_resource());
            writer.apply_watcher_event(&Event::Init);
            writer.apply_watcher_event(&Event::InitDone);
            let stores = Stores::new(HashMap::from([(Kind::Service, writer.as_reader())]));
            let (ready, mut readiness) = tokio::sync::watch::channel(true);
            announce_ready(stores, cnpg, ready).await;
            assert_eq!(*readiness.borrow_and_update(), expected, "{cnpg:?}");
        }
    }

    /// After a restart several reconciles wait for the caches at once; every one of them must
    /// wake when the caches fill (kube-runtime's own wait wakes only the last waiter).
    #[tokio::test]
    async fn every_reconcile_waiting_for_the_caches_wakes() {
        let mut writers = Vec::new();
        let mut readers = HashMap::new();
        for kind in [Kind::Deployment, Kind::Service] {
            let writer = Writer::new(kind.api_resource());
            readers.insert(kind, writer.as_reader());
            writers.push(writer);
        }
        let stores = Stores::new(readers);
        assert!(!stores.is_ready());
        let waiting: Vec<_> = (0..8)
            .map(|_| {
                let stores = stores.clone();
                tokio::spawn(async move { stores.ready().await })
            })
            .collect();
        tokio::task::yield_now().await;
        for writer in &mut writers {
            writer.apply_watcher_event(&Event::Init);
            writer.apply_watcher_event(&Event::InitDone);
        }
        for waiter in waiting {
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .expect("every waiter wakes")
                .expect("task");
        }
        assert!(stores.is_ready());
    }
}

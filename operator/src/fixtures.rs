//! Test helpers: instances in given states, a context over a mocked API server with caches the
//! test fills, and an [`ApiServerVerifier`] that asserts the exact sequence of API calls (after
//! kube-rs controller-rs `src/fixtures.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use kube::api::DynamicObject;
use kube::client::Body;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;
use kube::{Client, Resource};
use serde_json::{Value, json};

use crate::controller::Context;
use crate::crd::{
    AuthStackInstance, AuthStackInstanceSpec, AuthStackInstanceStatus, DatabaseSpec,
    DeletionPolicy, Environment, FINALIZER, Resources,
};
use crate::render::{self, Generated, Kind, Settings};
use crate::status::{self, Observed};
use crate::watches::{Cnpg, Stores};

pub const NAMESPACE: &str = "authstack-acc-test";
pub const NAME: &str = "ins-test";

pub fn spec() -> AuthStackInstanceSpec {
    AuthStackInstanceSpec {
        account_id: "acc_test".into(),
        instance_id: "ins_test".into(),
        environment: Environment::Live,
        revision: 1,
        config: json!({ "passwords": { "min_length": 12 } }),
        image: "ghcr.io/authstack/authstack-instance:0.1.0".into(),
        issuer: "https://api.authstack.example".into(),
        previous_issuers: Vec::new(),
        gateway_secret_ref: "ins-test-gateway".into(),
        replicas: 2,
        resources: Resources::default(),
        autoscaling: None,
        hostnames: Vec::new(),
        notify_email: None,
        database: DatabaseSpec::cnpg(1, "1Gi"),
        suspended: false,
        auto_rollback: true,
        progress_deadline_seconds: 600,
        revision_history_limit: 10,
        deletion_policy: DeletionPolicy::Retain,
    }
}

impl AuthStackInstance {
    /// A reconciled-before instance (it carries the finalizer) at revision 1.
    pub fn test() -> AuthStackInstance {
        let mut instance = AuthStackInstance::new(NAME, spec());
        let meta = instance.meta_mut();
        meta.namespace = Some(NAMESPACE.into());
        meta.uid = Some("7c0a1c1e-0000-4000-8000-000000000001".into());
        meta.generation = Some(1);
        meta.resource_version = Some("100".into());
        meta.finalizers = Some(vec![FINALIZER.into()]);
        instance
    }

    pub fn without_finalizer(mut self) -> Self {
        self.meta_mut().finalizers = None;
        self
    }

    pub fn deleting(mut self) -> Self {
        let at = "2026-11-24T12:00:00Z"
            .parse::<k8s_openapi::jiff::Timestamp>()
            .expect("time");
        self.meta_mut().deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at));
        self
    }

    /// The spec moved to `revision` with a new configuration.
    pub fn at_revision(mut self, revision: i64) -> Self {
        self.spec.revision = revision;
        self.spec.config = json!({ "passwords": { "min_length": 12 + revision } });
        let generation = self.metadata.generation.unwrap_or(1) + 1;
        self.meta_mut().generation = Some(generation);
        self
    }

    pub fn with_status(mut self, status: AuthStackInstanceStatus) -> Self {
        self.status = Some(status);
        self
    }
}

/// The caches of a test context, filled by the test as watches would.
pub struct Cache(HashMap<Kind, Writer<DynamicObject>>);

impl Cache {
    fn new() -> (Cache, Stores) {
        let mut writers = HashMap::new();
        let mut stores = HashMap::new();
        for kind in Kind::ALL {
            let mut writer = Writer::new(kind.api_resource());
            writer.apply_watcher_event(&watcher::Event::Init);
            writer.apply_watcher_event(&watcher::Event::InitDone);
            stores.insert(kind, writer.as_reader());
            writers.insert(kind, writer);
        }
        (Cache(writers), Stores::new(stores))
    }

    /// Puts `object` in the cache as the API server would return it: with a uid, a resource
    /// version, and secrets' `stringData` turned into `data`.
    pub fn insert(&mut self, kind: Kind, mut object: Value) {
        object["metadata"]["uid"] = json!(format!("uid-{}", object["metadata"]["name"]));
        object["metadata"]["resourceVersion"] = json!("1");
        if object["metadata"]["generation"].is_null() {
            object["metadata"]["generation"] = json!(1);
        }
        if let Some(data) = object.as_object_mut().and_then(|o| o.remove("stringData")) {
            object["data"] = data;
        }
        let object: DynamicObject = serde_json::from_value(object).expect("a valid object");
        if let Some(writer) = self.0.get_mut(&kind) {
            writer.apply_watcher_event(&watcher::Event::Apply(object));
        }
    }

    pub fn remove(&mut self, kind: Kind, name: &str) {
        let resource = kind.api_resource();
        let mut object = DynamicObject::new(name, &resource);
        object.metadata.namespace = Some(NAMESPACE.into());
        if let Some(writer) = self.0.get_mut(&kind) {
            writer.apply_watcher_event(&watcher::Event::Delete(object));
        }
    }

    /// Everything the operator applies for `instance` at `revision`, as if applied and
    /// observed, with the Deployment's rollout finished.
    pub fn converged(&mut self, instance: &AuthStackInstance, revision: i64) {
        for secret in render::secrets(instance, &Generated::random()) {
            self.insert(secret.kind, secret.object);
        }
        let target = render::Target {
            revision,
            from_spec: true,
        };
        let mut rendered = AuthStackInstance::clone(instance);
        rendered.spec.revision = revision;
        for object in render::render(&rendered, &Settings::default(), target).expect("render") {
            let mut body = object.object;
            if object.kind == Kind::Deployment {
                body = available(body);
            }
            if object.kind == Kind::PostgresCluster {
                body["status"] = json!({ "readyInstances": 1 });
            }
            self.insert(object.kind, body);
        }
    }

    /// The Deployment in the cache rolling to `revision` and stuck past its deadline.
    pub fn stuck_at(&mut self, instance: &AuthStackInstance, revision: i64) {
        let mut rendered = AuthStackInstance::clone(instance);
        rendered.spec.revision = revision;
        let target = render::Target {
            revision,
            from_spec: true,
        };
        for object in render::render(&rendered, &Settings::default(), target).expect("render") {
            if object.kind == Kind::Deployment {
                let mut body = object.object;
                body["metadata"]["generation"] = json!(2);
                body["status"] = json!({
                    "observedGeneration": 2,
                    "replicas": 3,
                    "updatedReplicas": 1,
                    "readyReplicas": 2,
                    "availableReplicas": 2,
                    "conditions": [{
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                    }],
                });
                self.insert(Kind::Deployment, body);
            } else if object.kind == Kind::ConfigMap {
                self.insert(Kind::ConfigMap, object.object);
            }
        }
    }
}

/// A Deployment body with a finished rollout.
pub fn available(mut deployment: Value) -> Value {
    let replicas = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    deployment["status"] = json!({
        "observedGeneration": 1,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
    });
    deployment
}

/// The status the operator computes for `instance` over `cache` (to set as the current one, so
/// that a reconcile has nothing to change).
pub fn settled(instance: &AuthStackInstance, ctx: &Context) -> AuthStackInstanceStatus {
    let target = status::target(&instance.spec, &instance.status.clone().unwrap_or_default());
    let observed = Observed {
        deployment: ctx.stores.get(Kind::Deployment, NAMESPACE, NAME),
        database: ctx
            .stores
            .get(Kind::PostgresCluster, NAMESPACE, "ins-test-db"),
    };
    status::compute(instance, target, &observed, &status::now()).status
}

type ApiServerHandle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

pub struct ApiServerVerifier(ApiServerHandle);

/// How the mocked API server answers one call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The request body back (what an apply, create or patch returns, near enough).
    Echo,
    /// This object.
    Json(Value),
    /// An error `Status` with this HTTP code.
    Error(u16),
}

/// One expected API call: method, path (without query) and the answer.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub reply: Reply,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>, reply: Reply) -> Call {
        Call {
            method,
            path: path.into(),
            reply,
        }
    }

    pub fn apply(kind: Kind, name: &str) -> Call {
        Call::new(Method::PATCH, object_path(kind, name), Reply::Echo)
    }

    pub fn create(kind: Kind) -> Call {
        Call::new(Method::POST, collection_path(kind), Reply::Echo)
    }

    pub fn delete(kind: Kind, name: &str) -> Call {
        Call::new(
            Method::DELETE,
            object_path(kind, name),
            Reply::Json(json!({
                "kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {},
            })),
        )
    }

    pub fn patch_status(instance: &AuthStackInstance) -> Call {
        Call::new(
            Method::PATCH,
            format!("{}/status", instance_path()),
            Reply::Json(serde_json::to_value(instance).expect("json")),
        )
    }

    pub fn patch_instance(instance: &AuthStackInstance) -> Call {
        Call::new(
            Method::PATCH,
            instance_path(),
            Reply::Json(serde_json::to_value(instance).expect("json")),
        )
    }

    pub fn event() -> Call {
        Call::new(
            Method::POST,
            format!("/apis/events.k8s.io/v1/namespaces/{NAMESPACE}/events"),
            Reply::Echo,
        )
    }
}

pub fn collection_path(kind: Kind) -> String {
    let resource = kind.api_resource();
    let prefix = if resource.group.is_empty() {
        "/api/v1".to_owned()
    } else {
        format!("/apis/{}", resource.api_version)
    };
    format!("{prefix}/namespaces/{NAMESPACE}/{}", resource.plural)
}

pub fn object_path(kind: Kind, name: &str) -> String {
    format!("{}/{name}", collection_path(kind))
}

pub fn instance_path() -> String {
    format!("/apis/authstack.io/v1alpha1/namespaces/{NAMESPACE}/authstackinstances/{NAME}")
}

/// A call as it was made.
#[derive(Debug, Clone)]
pub struct Made {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub body: Value,
}

impl ApiServerVerifier {
    /// Answers exactly `calls`, in order, asserting each; the task's result is the calls as
    /// made. A call the scenario does not expect fails the reconcile (the mock is gone), and
    /// a missing one times the task out.
    pub fn run(mut self, calls: Vec<Call>) -> tokio::task::JoinHandle<Vec<Made>> {
        tokio::spawn(async move {
            let mut made = Vec::new();
            for (index, call) in calls.into_iter().enumerate() {
                let next =
                    tokio::time::timeout(Duration::from_secs(2), self.0.next_request()).await;
                let Ok(Some((request, send))) = next else {
                    panic!(
                        "call {index} never came: expected {} {}",
                        call.method, call.path
                    );
                };
                let method = request.method().clone();
                let path = request.uri().path().to_owned();
                let query = request.uri().query().unwrap_or_default().to_owned();
                assert_eq!(
                    (&method, path.as_str()),
                    (&call.method, call.path.as_str()),
                    "call {index} (query {query})"
                );
                let bytes = request.into_body().collect_bytes().await.expect("body");
                let body: Value = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes).expect("a JSON body")
                };
                let response = match call.reply {
                    Reply::Echo => Response::builder()
                        .body(Body::from(serde_json::to_vec(&echo(&body)).expect("json"))),
                    Reply::Json(value) => Response::builder()
                        .body(Body::from(serde_json::to_vec(&value).expect("json"))),
                    Reply::Error(code) => Response::builder()
                        .status(StatusCode::from_u16(code).expect("a status code"))
                        .body(Body::from(
                            serde_json::to_vec(&json!({
                                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "message": "injected by the test", "reason": "InternalError",
                                "code": code, "metadata": {},
                            }))
                            .expect("json"),
                        )),
                };
                send.send_response(response.expect("a response"));
                made.push(Made {
                    method,
                    path,
                    query,
                    body,
                });
            }
            made
        })
    }
}

/// What the API server returns for a written object: the object with server fields.
fn echo(body: &Value) -> Value {
    let mut body = body.clone();
    if body.is_object() && body.get("metadata").is_some() {
        body["metadata"]["uid"] = json!("uid-echo");
        body["metadata"]["resourceVersion"] = json!("2");
    }
    body
}

/// A context over a mocked API server, its verifier, and its (ready, empty) caches.
pub fn context() -> (Arc<Context>, ApiServerVerifier, Cache) {
    context_with(Cnpg::Installed)
}

/// [`context`] with CloudNativePG installed, disabled or missing.
pub fn context_with(cnpg: Cnpg) -> (Arc<Context>, ApiServerVerifier, Cache) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let (cache, stores) = Cache::new();
    let context = Context::new(
        client,
        Settings::default(),
        stores,
        Reporter {
            controller: "authstack-operator".into(),
            instance: Some("test".into()),
        },
    )
    .with_cnpg(cnpg);
    (Arc::new(context), ApiServerVerifier(handle), cache)
}

//! A fake Kubernetes cluster for the Kubernetes provisioner: the fake API server
//! (`api_server.rs`) run as a `tower_test` handle loop behind a real `kube::Client` that keeps
//! objects by path and answers GET, LIST, WATCH, PATCH (server-side apply and merge) and DELETE
//! the way the API server does for the calls the provisioner makes, and, in the operator's place,
//! moves an applied `AuthStackInstance`'s status to `Ready` at its revision (or `Suspended`).
//! Every request is recorded for the test to assert on.

#[path = "api_server.rs"]
mod api_server;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::{Method, Request, Response, StatusCode};
use futures::StreamExt;
use http_body_util::BodyExt;
use http_body_util::StreamBody;
use hyper::body::{Bytes, Frame};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tower_test::mock;

pub use api_server::Recorded;
use api_server::{ResponseBody, json_response, status_body};

const INSTANCES: &str = "/apis/authstack.io/v1alpha1/authstackinstances";
/// How long the fake operator takes to roll a revision out.
const ROLLOUT: Duration = Duration::from_millis(250);
const INSTANCES_IN: &str = "/apis/authstack.io/v1alpha1/namespaces/";

/// A change, as watches stream it.
#[derive(Debug, Clone)]
struct Change {
    resource_version: u64,
    kind: &'static str,
    path: String,
    object: Value,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    resource_version: u64,
    changes: Vec<Change>,
    requests: Vec<Recorded>,
    /// Revisions whose rollout the fake operator fails (and rolls back).
    failing: BTreeSet<i64>,
}

pub struct FakeCluster {
    state: Arc<Mutex<State>>,
    feed: broadcast::Sender<Change>,
    client: kube::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn is_collection(path: &str) -> bool {
    ["/namespaces", "/secrets", "/authstackinstances"]
        .iter()
        .any(|plural| path.ends_with(plural))
}

fn is_instance(path: &str) -> bool {
    path.starts_with(INSTANCES_IN) && path.contains("/authstackinstances/")
}

fn in_collection(collection: &str, path: &str) -> bool {
    if collection == INSTANCES {
        return is_instance(path);
    }
    path.rsplit_once('/')
        .is_some_and(|(parent, _)| parent == collection)
}

/// `key=value[,key=value]` selectors over `metadata.name`/`metadata.namespace` or labels.
fn selected(object: &Value, query: &BTreeMap<String, String>) -> bool {
    let fields = query.get("fieldSelector").map(String::as_str).unwrap_or("");
    let labels = query.get("labelSelector").map(String::as_str).unwrap_or("");
    let field_ok = fields.split(',').filter(|s| !s.is_empty()).all(|term| {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        match key {
            "metadata.name" => object["metadata"]["name"] == value,
            "metadata.namespace" => object["metadata"]["namespace"] == value,
            _ => false,
        }
    });
    let label_ok = labels.split(',').filter(|s| !s.is_empty()).all(|term| {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        object["metadata"]["labels"][key] == value
    });
    field_ok && label_ok
}

/// RFC 7386.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            for (key, value) in fields {
                if value.is_null() {
                    if let Some(map) = target.as_object_mut() {
                        map.remove(key);
                    }
                } else {
                    merge(&mut target[key], value);
                }
            }
        }
        other => *target = other.clone(),
    }
}

impl FakeCluster {
    pub fn start() -> FakeCluster {
        let (service, mut handle) =
            mock::pair::<Request<kube::client::Body>, Response<ResponseBody>>();
        let (feed, _) = broadcast::channel(1024);
        let state = Arc::new(Mutex::new(State::default()));
        let cluster = Served {
            state: state.clone(),
            feed: feed.clone(),
        };
        let server = tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let cluster = cluster.clone();
                tokio::spawn(async move {
                    send.send_response(cluster.serve(request).await);
                });
            }
        });
        FakeCluster {
            state,
            feed,
            client: kube::Client::new(service, "default"),
            server,
        }
    }

    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    pub fn object(&self, path: &str) -> Option<Value> {
        self.state().objects.get(path).cloned()
    }

    /// Paths of the stored objects.
    pub fn paths(&self) -> Vec<String> {
        self.state().objects.keys().cloned().collect()
    }

    /// Rollouts of `revision` fail from now on; the fake operator rolls them back.
    pub fn fail_revision(&self, revision: i64) {
        self.state().failing.insert(revision);
    }

    /// Changes an `AuthStackInstance`'s status as the operator would.
    pub fn set_status(&self, path: &str, change: impl FnOnce(&mut Value)) {
        let served = Served {
            state: self.state.clone(),
            feed: self.feed.clone(),
        };
        served.update(path, |object| change(&mut object["status"]));
    }
}

#[derive(Clone)]
struct Served {
    state: Arc<Mutex<State>>,
    feed: broadcast::Sender<Change>,
}

impl Served {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a change under the lock and tells the watches.
    fn changed(&self, state: &mut State, kind: &'static str, path: &str, object: &mut Value) {
        state.resource_version += 1;
        object["metadata"]["resourceVersion"] = json!(state.resource_version.to_string());
        let change = Change {
            resource_version: state.resource_version,
            kind,
            path: path.to_owned(),
            object: object.clone(),
        };
        state.changes.push(change.clone());
        let _ = self.feed.send(change);
    }

    fn update(&self, path: &str, change: impl FnOnce(&mut Value)) {
        let mut state = self.state();
        let Some(mut object) = state.objects.get(path).cloned() else {
            return;
        };
        change(&mut object);
        self.changed(&mut state, "MODIFIED", path, &mut object);
        state.objects.insert(path.to_owned(), object);
    }

    async fn serve(&self, request: Request<kube::client::Body>) -> Response<ResponseBody> {
        let recorded = Recorded::read(request).await;
        self.state().requests.push(recorded.clone());
        let path = recorded.path.clone();
        match recorded.method {
            Method::GET if recorded.query.get("watch").is_some_and(|w| w == "true") => {
                self.watch(&path, &recorded.query)
            }
            Method::GET if is_collection(&path) => self.list(&path, &recorded.query),
            Method::GET => match self.state().objects.get(&path) {
                Some(object) => json_response(StatusCode::OK, object),
                None => not_found(&path),
            },
            Method::PATCH if recorded.content_type.starts_with("application/apply-patch") => {
                self.apply(&path, recorded.body)
            }
            Method::PATCH => self.merge_patch(&path, &recorded.body),
            Method::DELETE => self.delete(&path),
            _ => json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &status_body(405, "MethodNotAllowed", "not supported by the fake"),
            ),
        }
    }

    fn list(&self, collection: &str, query: &BTreeMap<String, String>) -> Response<ResponseBody> {
        let state = self.state();
        let items: Vec<Value> = state
            .objects
            .iter()
            .filter(|(path, object)| in_collection(collection, path) && selected(object, query))
            .map(|(_, object)| object.clone())
            .collect();
        json_response(
            StatusCode::OK,
            &json!({
                "apiVersion": "v1", "kind": "List",
                "metadata": { "resourceVersion": state.resource_version.to_string() },
                "items": items,
            }),
        )
    }

    fn watch(&self, collection: &str, query: &BTreeMap<String, String>) -> Response<ResponseBody> {
        let since: u64 = query
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // Subscribe before reading the log, so that nothing falls between the two.
        let (mut live, past) = {
            let state = self.state();
            let past: Vec<Change> = state
                .changes
                .iter()
                .filter(|c| c.resource_version > since)
                .cloned()
                .collect();
            (self.feed.subscribe(), past)
        };
        let (lines, receiver) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
        let collection = collection.to_owned();
        let query = query.clone();
        tokio::spawn(async move {
            let mut sent = since;
            let mut send = |change: &Change| {
                if change.resource_version <= sent
                    || !in_collection(&collection, &change.path)
                    || !selected(&change.object, &query)
                {
                    return true;
                }
                sent = change.resource_version;
                let mut line = json!({ "type": change.kind, "object": change.object }).to_string();
                line.push('\n');
                lines.send(Bytes::from(line)).is_ok()
            };
            for change in &past {
                if !send(change) {
                    return;
                }
            }
            loop {
                match live.recv().await {
                    Ok(change) => {
                        if !send(&change) {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        let frames = futures::stream::unfold(receiver, |mut receiver| async move {
            let line = receiver.recv().await?;
            Some((Ok::<_, Infallible>(Frame::data(line)), receiver))
        });
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(StreamBody::new(frames.boxed()).boxed_unsync())
            .unwrap_or_default()
    }

    fn apply(&self, path: &str, mut body: Value) -> Response<ResponseBody> {
        let mut state = self.state();
        let existing = state.objects.get(path).cloned();
        let segments: Vec<&str> = path.split('/').collect();
        body["metadata"]["name"] = json!(segments.last().copied().unwrap_or(""));
        if let Some(at) = segments.iter().position(|s| *s == "namespaces")
            && at + 2 < segments.len()
        {
            body["metadata"]["namespace"] = json!(segments[at + 1]);
        }
        let (kind, status) = match &existing {
            Some(old) => {
                body["metadata"]["uid"] = old["metadata"]["uid"].clone();
                body["metadata"]["creationTimestamp"] =
                    old["metadata"]["creationTimestamp"].clone();
                let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
                let changed = old["spec"] != body["spec"];
                body["metadata"]["generation"] = json!(generation + i64::from(changed));
                if !old["status"].is_null() {
                    body["status"] = old["status"].clone();
                }
                ("MODIFIED", StatusCode::OK)
            }
            None => {
                body["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
                body["metadata"]["creationTimestamp"] = json!(now());
                body["metadata"]["generation"] = json!(1);
                ("ADDED", StatusCode::CREATED)
            }
        };
        let spec_changed = existing
            .as_ref()
            .is_none_or(|old| old["metadata"]["generation"] != body["metadata"]["generation"]);
        self.changed(&mut state, kind, path, &mut body);
        state.objects.insert(path.to_owned(), body.clone());
        drop(state);
        if is_instance(path) && spec_changed {
            self.operate(path);
        }
        json_response(status, &body)
    }

    fn merge_patch(&self, path: &str, patch: &Value) -> Response<ResponseBody> {
        let mut state = self.state();
        let Some(mut object) = state.objects.get(path).cloned() else {
            return not_found(path);
        };
        let spec_before = object["spec"].clone();
        merge(&mut object, patch);
        let spec_changed = object["spec"] != spec_before;
        if spec_changed {
            let generation = object["metadata"]["generation"].as_i64().unwrap_or(1);
            object["metadata"]["generation"] = json!(generation + 1);
        }
        self.changed(&mut state, "MODIFIED", path, &mut object);
        state.objects.insert(path.to_owned(), object.clone());
        drop(state);
        if is_instance(path) && spec_changed {
            self.operate(path);
        }
        json_response(StatusCode::OK, &object)
    }

    fn delete(&self, path: &str) -> Response<ResponseBody> {
        let mut state = self.state();
        let Some(mut object) = state.objects.remove(path) else {
            return not_found(path);
        };
        self.changed(&mut state, "DELETED", path, &mut object);
        // A namespace takes everything in it along.
        if let Some(namespace) = path.strip_prefix("/api/v1/namespaces/")
            && !namespace.contains('/')
        {
            let inside = format!("/namespaces/{namespace}/");
            let contained: Vec<String> = state
                .objects
                .keys()
                .filter(|p| p.contains(&inside))
                .cloned()
                .collect();
            for contained_path in contained {
                if let Some(mut gone) = state.objects.remove(&contained_path) {
                    self.changed(&mut state, "DELETED", &contained_path, &mut gone);
                }
            }
        }
        json_response(StatusCode::OK, &object)
    }

    /// The operator: the new spec is observed at once and rolled out a while later (long
    /// enough for the provisioner to see the rollout in progress, as it would in a cluster).
    fn operate(&self, path: &str) {
        let served = self.clone();
        let path = path.to_owned();
        tokio::spawn(async move {
            let Some(object) = served.state().objects.get(&path).cloned() else {
                return;
            };
            let generation = object["metadata"]["generation"].as_i64().unwrap_or(1);
            let revision = object["spec"]["revision"].as_i64().unwrap_or(1);
            let endpoint = format!(
                "http://{}.{}.svc:8080",
                object["metadata"]["name"].as_str().unwrap_or(""),
                object["metadata"]["namespace"].as_str().unwrap_or("")
            );
            let at = now();
            let condition = |type_: &str, status: &str, reason: &str, message: &str| {
                json!({ "type": type_, "status": status, "reason": reason, "message": message,
                        "lastTransitionTime": at, "observedGeneration": generation })
            };
            let healthy = object["status"]["lastHealthyRevision"].as_i64();
            served.update(&path, |object| {
                object["status"]["observedGeneration"] = json!(generation);
                object["status"]["currentRevision"] = json!(revision);
                object["status"]["endpoint"] = json!(endpoint);
                object["status"]["phase"] = json!(if healthy.is_some() {
                    "Updating"
                } else {
                    "Provisioning"
                });
                object["status"]["conditions"] = json!([
                    condition("Ready", "False", "Rolling", "0/1 replicas ready"),
                    condition(
                        "Progressing",
                        "True",
                        "Rolling",
                        &format!("rolling to revision {revision}")
                    ),
                    condition("Degraded", "False", "Healthy", ""),
                    condition(
                        "DatabaseReady",
                        "True",
                        "ClusterReady",
                        "1/1 PostgreSQL instances ready"
                    ),
                ]);
            });
            tokio::time::sleep(ROLLOUT).await;
            let failing = served.state().failing.contains(&revision);
            let suspended = object["spec"]["suspended"].as_bool() == Some(true);
            let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
            served.update(&path, |object| {
                if object["metadata"]["generation"].as_i64() != Some(generation) {
                    return; // a newer spec is being rolled out
                }
                let status = &mut object["status"];
                if suspended {
                    status["phase"] = json!("Suspended");
                    status["readyReplicas"] = json!(0);
                    status["ready"] = json!("0/0");
                    status["conditions"][0] =
                        condition("Ready", "False", "Suspended", "scaled to zero; data kept");
                    status["conditions"][1] = condition("Progressing", "False", "Suspended", "");
                } else if let (true, Some(healthy)) = (failing, healthy) {
                    let message = format!(
                        "revision {revision} did not become available within 300s; rolling back to revision {healthy}"
                    );
                    status["phase"] = json!("Degraded");
                    status["currentRevision"] = json!(healthy);
                    status["failedRevision"] = json!(revision);
                    status["conditions"][0] =
                        condition("Ready", "True", "Available", &format!("revision {healthy} is available"));
                    status["conditions"][1] = condition("Progressing", "False", "RolloutComplete", "");
                    status["conditions"][2] = condition("Degraded", "True", "RolloutFailed", &message);
                } else {
                    status["phase"] = json!("Ready");
                    status["lastHealthyRevision"] = json!(revision);
                    status["readyReplicas"] = json!(replicas);
                    status["ready"] = json!(format!("{replicas}/{replicas}"));
                    status["conditions"][0] = condition(
                        "Ready",
                        "True",
                        "Available",
                        &format!("revision {revision} is available"),
                    );
                    status["conditions"][1] = condition("Progressing", "False", "RolloutComplete", "");
                }
            });
        });
    }
}

/// The 404 of an object that is not there.
fn not_found(path: &str) -> Response<ResponseBody> {
    json_response(
        StatusCode::NOT_FOUND,
        &status_body(404, "NotFound", &format!("{path} not found")),
    )
}

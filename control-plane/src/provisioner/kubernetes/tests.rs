//! The Kubernetes provisioner without a cluster: the objects it writes as pure functions of the
//! spec, and scenarios in which an [`ApiServerVerifier`] asserts the exact API calls and answers
//! them (after kube-rs controller-rs `src/fixtures.rs`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower_test::mock::{self, Handle, SendResponse};

use super::*;
use crate::catalog::Catalog;
use crate::provisioner::{InstanceSecrets, NoProgress};

const NAMESPACE: &str = "authstack-acc-test";
const NAME: &str = "ins-test";
const ENDPOINT: &str = "http://ins-test.authstack-acc-test.svc:8080";
const RESOURCE_PATH: &str =
    "/apis/authstack.io/v1alpha1/namespaces/authstack-acc-test/authstackinstances";

fn spec(plan: &str, environment: Environment) -> InstanceSpec {
    let catalog = Catalog::built_in();
    let plan = catalog.plan(plan).expect("a built-in plan");
    InstanceSpec {
        id: "ins_test".into(),
        account_id: Some("acc_test".into()),
        environment,
        region: "eu-central-1".into(),
        issuer: "https://api.authstack.example".into(),
        previous_issuers: Vec::new(),
        hostnames: Vec::new(),
        revision: 1,
        config: crate::revisions::initial_config(Some(plan)),
        secrets: InstanceSecrets {
            gateway_secret: SecretString::from("asg_gateway"),
            admin_key: SecretString::from("ask_admin_key"),
            master_key: SecretString::from("bWFzdGVy"),
        },
        capacity: plan.capacity.clone(),
        version_history_days: plan.limits.version_history_days,
        notify_email: None,
    }
}

fn options() -> KubernetesOptions {
    KubernetesOptions {
        image: "ghcr.io/authstack/authstack-instance:test".into(),
        ready_timeout: Duration::from_secs(10),
        ..KubernetesOptions::default()
    }
}

#[test]
fn the_resource_carries_the_spec_and_the_live_size_of_the_plan() {
    let spec = spec("pro", Environment::Live);
    let resource = cr_for(&spec, &options()).expect("resource");
    assert_eq!(resource.metadata.name.as_deref(), Some(NAME));
    assert_eq!(resource.metadata.namespace.as_deref(), Some(NAMESPACE));
    let labels = resource.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels[MANAGED_BY_LABEL], "authstack-control-plane");
    assert_eq!(labels[ACCOUNT_LABEL], "acc_test");
    assert_eq!(labels[INSTANCE_ID_LABEL], "ins_test");
    assert_eq!(labels[ENVIRONMENT_LABEL], "live");

    let cr = &resource.spec;
    assert_eq!(cr.account_id, "acc_test");
    assert_eq!(cr.instance_id, "ins_test");
    assert_eq!(cr.environment, crd::Environment::Live);
    assert_eq!(cr.revision, 1);
    assert_eq!(
        cr.config["organizations"]["max_members_per_organization"],
        500
    );
    assert_eq!(
        cr.config,
        serde_json::to_value(&spec.config).expect("config JSON")
    );
    assert_eq!(cr.image, "ghcr.io/authstack/authstack-instance:test");
    assert_eq!(cr.issuer, "https://api.authstack.example");
    assert_eq!(cr.gateway_secret_ref, "ins-test-gateway");
    assert_eq!(cr.replicas, 2);
    assert_eq!(cr.autoscaling, None);
    assert_eq!(
        cr.resources,
        Resources {
            cpu_request: "250m".into(),
            memory_request: "128Mi".into(),
            cpu_limit: "2".into(),
            memory_limit: "512Mi".into(),
        }
    );
    assert_eq!(cr.database, DatabaseSpec::cnpg(2, "10Gi"));
    assert!(cr.hostnames.is_empty());
    assert!(!cr.suspended);
    assert!(cr.auto_rollback);
    assert_eq!(cr.progress_deadline_seconds, 300);
    assert_eq!(cr.revision_history_limit, 365);
    assert_eq!(cr.deletion_policy, DeletionPolicy::Retain);

    // As sent: kind and apiVersion, no status.
    let body = serde_json::to_value(&resource).expect("JSON");
    assert_eq!(body["apiVersion"], "authstack.io/v1alpha1");
    assert_eq!(body["kind"], "AuthStackInstance");
    assert!(body.get("status").is_none(), "{body}");
}

#[test]
fn the_owners_address_is_written_to_the_resource() {
    let mut spec = spec("pro", Environment::Live);
    assert_eq!(
        cr_for(&spec, &options())
            .expect("resource")
            .spec
            .notify_email,
        None
    );
    spec.notify_email = Some("owner@customer.example".into());
    let cr = cr_for(&spec, &options()).expect("resource").spec;
    assert_eq!(cr.notify_email.as_deref(), Some("owner@customer.example"));
}

#[test]
fn a_verified_custom_domain_becomes_a_hostname_of_the_resource() {
    let mut spec = spec("pro", Environment::Live);
    spec.issuer = "https://auth.customer.example".into();
    spec.previous_issuers = vec!["https://api.authstack.example/i/ins_test".into()];
    spec.hostnames = vec!["auth.customer.example".into()];
    let cr = cr_for(&spec, &options()).expect("resource").spec;
    assert_eq!(cr.hostnames, ["auth.customer.example"]);
    assert_eq!(cr.issuer, "https://auth.customer.example");
    assert_eq!(
        cr.previous_issuers,
        ["https://api.authstack.example/i/ins_test"]
    );
}

#[test]
fn enterprise_scales_out_and_test_instances_stay_small() {
    let live = cr_for(&spec("enterprise", Environment::Live), &options()).expect("resource");
    assert_eq!(live.spec.replicas, 3);
    assert_eq!(
        live.spec.autoscaling,
        Some(Autoscaling {
            min_replicas: 3,
            max_replicas: 10,
            target_cpu_utilization: 70,
        })
    );
    assert_eq!(live.spec.database, DatabaseSpec::cnpg(3, "50Gi"));
    assert_eq!(live.spec.revision_history_limit, 1000, "3650 days, capped");

    let test = cr_for(&spec("enterprise", Environment::Test), &options()).expect("resource");
    assert_eq!(test.spec.replicas, 1);
    assert_eq!(test.spec.autoscaling, None);
    assert_eq!(test.spec.database, DatabaseSpec::cnpg(1, "50Gi"));
    assert_eq!(test.spec.resources.memory_limit, "1Gi");
    assert_eq!(test.spec.environment, crd::Environment::Test);

    let starter = cr_for(&spec("starter", Environment::Live), &options()).expect("resource");
    assert_eq!(starter.spec.replicas, 1);
    assert_eq!(starter.spec.database, DatabaseSpec::cnpg(1, "1Gi"));
    assert_eq!(starter.spec.revision_history_limit, 30);
}

#[test]
fn the_platform_instance_is_filed_under_the_platform_account() {
    let mut spec = spec("starter", Environment::Live);
    spec.account_id = None;
    let resource = cr_for(&spec, &options()).expect("resource");
    assert_eq!(
        resource.metadata.namespace.as_deref(),
        Some("authstack-platform")
    );
    assert_eq!(resource.spec.account_id, "platform");
    assert_eq!(
        namespace_for(None).metadata.name.as_deref(),
        Some("authstack-platform")
    );
}

#[test]
fn the_secret_holds_what_the_gateway_presents_and_not_the_master_key() {
    let secret = secret_for(&spec("starter", Environment::Live));
    assert_eq!(secret.metadata.name.as_deref(), Some("ins-test-gateway"));
    assert_eq!(secret.metadata.namespace.as_deref(), Some(NAMESPACE));
    let data = secret.data.clone().unwrap_or_default();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(keys, ["admin-key", "gateway-secret"]);
    assert_eq!(data["gateway-secret"].0, b"asg_gateway");
    assert_eq!(data["admin-key"].0, b"ask_admin_key");
    assert_eq!(secret.type_.as_deref(), Some("Opaque"));
}

#[test]
fn options_keep_the_progress_deadline_below_the_ready_timeout() {
    let settings = KubernetesConfig {
        ready_timeout: Duration::from_secs(120),
        ..KubernetesConfig::default()
    };
    let options = KubernetesOptions::from_config(&settings);
    assert_eq!(options.progress_deadline, Duration::from_secs(96));
    let options = KubernetesOptions::from_config(&KubernetesConfig::default());
    assert_eq!(options.progress_deadline, Duration::from_secs(300));
    assert!(
        options
            .image
            .starts_with("ghcr.io/authstack/authstack-instance:")
    );
}

// ---- statuses ----------------------------------------------------------------------------

fn condition(type_: &str, status: &str, reason: &str, message: &str, at: &str) -> Value {
    json!({
        "type": type_, "status": status, "reason": reason, "message": message,
        "lastTransitionTime": at,
    })
}

/// The resource as the API server returns it: the applied body with a generation, a resource
/// version and a status.
fn resource(
    spec: &InstanceSpec,
    generation: i64,
    resource_version: &str,
    status: Option<Value>,
) -> Value {
    let mut body = serde_json::to_value(cr_for(spec, &options()).expect("resource")).expect("JSON");
    body["metadata"]["generation"] = json!(generation);
    body["metadata"]["resourceVersion"] = json!(resource_version);
    body["metadata"]["uid"] = json!("uid-ins-test");
    if let Some(status) = status {
        body["status"] = status;
    }
    body
}

fn ready_status(revision: i64, generation: i64, at: &str) -> Value {
    json!({
        "phase": "Ready",
        "observedGeneration": generation,
        "currentRevision": revision,
        "lastHealthyRevision": revision,
        "endpoint": ENDPOINT,
        "readyReplicas": 1,
        "ready": "1/1",
        "conditions": [
            condition("Ready", "True", "Available", &format!("revision {revision} is available"), at),
            condition("Progressing", "False", "RolloutComplete", "", at),
            condition("Degraded", "False", "Healthy", "", at),
            condition("DatabaseReady", "True", "ClusterReady", "1/1 PostgreSQL instances ready", at),
        ],
    })
}

fn progressing_status(revision: i64, generation: i64, database_ready: bool, at: &str) -> Value {
    let database = if database_ready {
        condition(
            "DatabaseReady",
            "True",
            "ClusterReady",
            "1/1 PostgreSQL instances ready",
            at,
        )
    } else {
        condition(
            "DatabaseReady",
            "False",
            "ClusterNotReady",
            "0/1 PostgreSQL instances ready",
            at,
        )
    };
    json!({
        "phase": "Provisioning",
        "observedGeneration": generation,
        "currentRevision": revision,
        "endpoint": ENDPOINT,
        "readyReplicas": 0,
        "conditions": [
            condition("Ready", "False", "Rolling", "0/1 replicas ready", at),
            condition("Progressing", "True", "Rolling", &format!("rolling to revision {revision}"), at),
            condition("Degraded", "False", "Healthy", "", at),
            database,
        ],
    })
}

fn instance(value: Value) -> AuthStackInstance {
    serde_json::from_value(value).expect("an AuthStackInstance")
}

#[test]
fn rollout_reads_ready_failed_and_stale_statuses() {
    let spec = spec("starter", Environment::Live);
    let at = "2026-01-01T00:00:00Z";
    assert_eq!(
        rollout(&instance(resource(&spec, 1, "1", None)), 1),
        Rollout::Pending
    );
    assert_eq!(
        rollout(
            &instance(resource(&spec, 1, "1", Some(ready_status(1, 1, at)))),
            1
        ),
        Rollout::Ready {
            endpoint: ENDPOINT.into()
        }
    );
    // Ready, but at the previous generation: the operator has not seen the new spec yet.
    assert_eq!(
        rollout(
            &instance(resource(&spec, 2, "1", Some(ready_status(1, 1, at)))),
            1
        ),
        Rollout::Pending
    );
    assert_eq!(
        rollout(
            &instance(resource(&spec, 2, "1", Some(ready_status(1, 2, at)))),
            2
        ),
        Rollout::Progressing {
            database_ready: true,
            message: "revision 1 is available".into()
        }
    );
    let mut failed = ready_status(1, 2, at);
    failed["phase"] = json!("Degraded");
    failed["failedRevision"] = json!(2);
    failed["conditions"][2] = condition(
        "Degraded",
        "True",
        "RolloutFailed",
        "revision 2 failed and was rolled back to revision 1",
        at,
    );
    assert_eq!(
        rollout(&instance(resource(&spec, 2, "1", Some(failed))), 2),
        Rollout::Failed {
            message: "revision 2 failed and was rolled back to revision 1".into()
        }
    );
    // A configuration changed under the same revision: the operator refuses the generation.
    let mut refused = ready_status(1, 1, at);
    refused["conditions"]
        .as_array_mut()
        .expect("conditions")
        .push(json!({
            "type": "RevisionAccepted",
            "status": "False",
            "reason": "RevisionImmutable",
            "message": "revision 1's configuration changed; publish a new revision",
            "lastTransitionTime": at,
            "observedGeneration": 2,
        }));
    assert_eq!(
        rollout(&instance(resource(&spec, 2, "1", Some(refused))), 1),
        Rollout::Failed {
            message: "revision 1's configuration changed; publish a new revision".into()
        }
    );
    // A first revision that never became available (nothing to roll back to).
    let mut stuck = progressing_status(1, 1, true, at);
    stuck["phase"] = json!("Degraded");
    stuck["conditions"][2] = condition(
        "Degraded",
        "True",
        "ProgressDeadlineExceeded",
        "revision 1 did not become available within 300s",
        at,
    );
    assert_eq!(
        rollout(&instance(resource(&spec, 1, "1", Some(stuck))), 1),
        Rollout::Failed {
            message: "revision 1 did not become available within 300s".into()
        }
    );
}

fn lost_pods_status(revision: i64, at: &str) -> Value {
    let mut status = ready_status(revision, 1, at);
    status["phase"] = json!("Updating");
    status["conditions"][0] = condition("Ready", "False", "Rolling", "0/1 replicas ready", at);
    status
}

#[test]
fn the_watch_reports_lost_pods_recovery_and_failures_once_and_ignores_stale_views() {
    let spec = spec("starter", Environment::Live);
    let view = |status: Value| instance(resource(&spec, 1, "1", Some(status)));
    let mut observations = Observations::default();
    let id = "ins_test".to_owned();

    // First sight: nothing to say.
    assert_eq!(
        observations.notice(&view(ready_status(1, 1, "2026-01-01T00:00:00Z"))),
        None
    );
    let lost = view(lost_pods_status(1, "2026-01-01T00:01:00Z"));
    assert_eq!(
        observations.notice(&lost),
        Some(Event::Crashed {
            instance_id: id.clone(),
            detail: "0/1 replicas ready".into()
        })
    );
    assert_eq!(observations.notice(&lost), None, "reported once");
    assert_eq!(
        observations.notice(&view(ready_status(1, 1, "2026-01-01T00:02:00Z"))),
        Some(Event::Ready {
            instance_id: id.clone()
        })
    );
    // An older view arriving late changes nothing.
    assert_eq!(observations.notice(&lost), None);

    let mut degraded = ready_status(1, 1, "2026-01-01T00:03:00Z");
    degraded["phase"] = json!("Degraded");
    degraded["conditions"][2] = condition(
        "Degraded",
        "True",
        "RolloutFailed",
        "revision 2 failed and was rolled back to revision 1",
        "2026-01-01T00:03:00Z",
    );
    assert_eq!(
        observations.notice(&view(degraded.clone())),
        Some(Event::Failed {
            instance_id: id.clone(),
            detail: "revision 2 failed and was rolled back to revision 1".into()
        })
    );
    degraded["conditions"][3]["lastTransitionTime"] = json!("2026-01-01T00:04:00Z");
    assert_eq!(observations.notice(&view(degraded)), None, "still failed");

    // During an apply the apply reports; its conclusion moves the watermark past what it saw.
    observations.applying.insert(id.clone());
    assert_eq!(
        observations.notice(&view(lost_pods_status(1, "2026-01-01T00:05:00Z"))),
        None
    );
    let concluded = view(ready_status(1, 1, "2026-01-01T00:06:00Z"));
    observations.concluded(&concluded, true);
    observations.applying.remove(&id);
    assert_eq!(
        observations.notice(&view(lost_pods_status(1, "2026-01-01T00:05:30Z"))),
        None,
        "a view older than the apply's outcome"
    );
    assert_eq!(observations.notice(&concluded), None);

    // A suspended instance has no pods on purpose.
    let mut suspended = view(lost_pods_status(1, "2026-01-01T00:07:00Z"));
    suspended.spec.suspended = true;
    assert_eq!(observations.notice(&suspended), None);
}

// ---- scenarios against a mocked API server ------------------------------------------------

/// One request as the API server saw it.
#[derive(Debug)]
struct Call {
    method: Method,
    path: String,
    query: BTreeMap<String, String>,
    content_type: String,
    body: Value,
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok());
        if bytes[i] == b'%'
            && let Some(byte) = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Call {
    fn assert(&self, method: Method, path: &str, query: &[(&str, &str)]) {
        assert_eq!(self.method, method, "{self:?}");
        assert_eq!(self.path, path, "{self:?}");
        let expected: BTreeMap<String, String> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(self.query, expected, "{self:?}");
    }

    /// A server-side apply by the control plane.
    fn assert_apply(&self, path: &str) {
        self.assert(
            Method::PATCH,
            path,
            &[("fieldManager", MANAGER), ("force", "true")],
        );
        assert_eq!(self.content_type, "application/apply-patch+yaml");
    }

    fn assert_merge_patch(&self, path: &str, body: Value) {
        self.assert(Method::PATCH, path, &[("fieldManager", MANAGER)]);
        assert_eq!(self.content_type, "application/merge-patch+json");
        assert_eq!(self.body, body);
    }
}

/// Answers the provisioner's requests in a scenario and asserts each one.
struct ApiServerVerifier(Handle<Request<Body>, Response<Body>>);

fn mocked() -> (KubernetesProvisioner, ApiServerVerifier) {
    mocked_with(options())
}

fn mocked_with(options: KubernetesOptions) -> (KubernetesProvisioner, ApiServerVerifier) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    (
        KubernetesProvisioner::new(client, options),
        ApiServerVerifier(handle),
    )
}

fn respond(send: SendResponse<Response<Body>>, status: StatusCode, body: &Value) {
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("JSON")))
        .expect("response");
    send.send_response(response);
}

fn not_found_status() -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "not found", "reason": "NotFound", "code": 404,
    })
}

fn success_status() -> Value {
    json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success" })
}

fn list(items: Vec<Value>, resource_version: &str) -> Value {
    json!({
        "apiVersion": "authstack.io/v1alpha1",
        "kind": "AuthStackInstanceList",
        "metadata": { "resourceVersion": resource_version },
        "items": items,
    })
}

/// A watch response: one JSON event per line, then the end of the stream.
fn watch_events(events: &[(&str, Value)]) -> Body {
    let mut text = String::new();
    for (kind, object) in events {
        text.push_str(&json!({ "type": kind, "object": object }).to_string());
        text.push('\n');
    }
    Body::from(text.into_bytes())
}

impl ApiServerVerifier {
    async fn next(&mut self) -> (Call, SendResponse<Response<Body>>) {
        let (request, send) = tokio::time::timeout(Duration::from_secs(5), self.0.next_request())
            .await
            .expect("a request within 5 s")
            .expect("the client is alive");
        let (parts, body) = request.into_parts();
        let bytes = body.collect_bytes().await.expect("request body");
        let query = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(key), percent_decode(value))
            })
            .collect();
        let call = Call {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query,
            content_type: parts
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        };
        (call, send)
    }

    /// Asserts that the provisioner sent nothing more.
    async fn done(mut self) {
        let more = tokio::time::timeout(Duration::from_millis(100), self.0.next_request()).await;
        if let Ok(Some((request, _))) = more {
            panic!("unexpected request {} {}", request.method(), request.uri());
        }
    }

    /// The namespace, the Secret and the resource, answered as applied (the resource with
    /// `status`, or none).
    async fn expect_writes(&mut self, spec: &InstanceSpec, generation: i64, status: Option<Value>) {
        let (call, send) = self.next().await;
        call.assert_apply(&format!("/api/v1/namespaces/{NAMESPACE}"));
        assert_eq!(
            call.body,
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": NAMESPACE,
                    "labels": {
                        "app.kubernetes.io/managed-by": "authstack-control-plane",
                        "authstack.io/account": "acc_test",
                    },
                },
            })
        );
        respond(send, StatusCode::OK, &call.body);

        let (call, send) = self.next().await;
        call.assert_apply(&format!(
            "/api/v1/namespaces/{NAMESPACE}/secrets/ins-test-gateway"
        ));
        assert_eq!(call.body["kind"], "Secret");
        assert_eq!(call.body["type"], "Opaque");
        assert_eq!(
            call.body["data"],
            json!({
                // base64 of asg_gateway and ask_admin_key
                "gateway-secret": "YXNnX2dhdGV3YXk=",
                "admin-key": "YXNrX2FkbWluX2tleQ==",
            })
        );
        assert_eq!(
            call.body["metadata"]["labels"]["authstack.io/instance-id"],
            "ins_test"
        );
        respond(send, StatusCode::OK, &call.body);

        let (call, send) = self.next().await;
        call.assert_apply(&format!("{RESOURCE_PATH}/{NAME}"));
        assert_eq!(
            call.body,
            serde_json::to_value(cr_for(spec, &options()).expect("resource")).expect("JSON")
        );
        respond(
            send,
            StatusCode::OK,
            &resource(spec, generation, "10", status),
        );
    }

    /// The rollout watch of the resource: a list answered with `listed`, then a watch from
    /// its resource version answered with `events`.
    async fn expect_rollout_watch(&mut self, listed: Value, events: &[(&str, Value)]) {
        let (call, send) = self.next().await;
        call.assert(
            Method::GET,
            RESOURCE_PATH,
            &[
                ("fieldSelector", "metadata.name=ins-test"),
                ("limit", "500"),
            ],
        );
        respond(send, StatusCode::OK, &list(vec![listed], "11"));
        let (call, send) = self.next().await;
        call.assert(
            Method::GET,
            RESOURCE_PATH,
            &[
                ("fieldSelector", "metadata.name=ins-test"),
                ("watch", "true"),
                ("timeoutSeconds", "290"),
                ("allowWatchBookmarks", "true"),
                ("resourceVersion", "11"),
            ],
        );
        send.send_response(
            Response::builder()
                .status(StatusCode::OK)
                .body(watch_events(events))
                .expect("response"),
        );
    }
}

/// Progress steps as recorded.
#[derive(Default)]
struct Steps(Mutex<Vec<String>>);

#[async_trait::async_trait]
impl Progress for Steps {
    async fn step(&self, step: &str, _detail: Option<&str>) {
        self.0.lock().expect("steps").push(step.to_owned());
    }
}

impl Steps {
    fn taken(&self) -> Vec<String> {
        self.0.lock().expect("steps").clone()
    }
}

#[tokio::test]
async fn apply_writes_namespace_secret_and_resource_then_follows_the_rollout_to_ready() {
    let (provisioner, mut verifier) = mocked();
    let spec = spec("starter", Environment::Live);
    let steps = Steps::default();
    let scenario = async {
        verifier.expect_writes(&spec, 1, None).await;
        verifier
            .expect_rollout_watch(
                resource(
                    &spec,
                    1,
                    "11",
                    Some(progressing_status(1, 1, false, "2026-01-01T00:00:00Z")),
                ),
                &[
                    (
                        "MODIFIED",
                        resource(
                            &spec,
                            1,
                            "12",
                            Some(progressing_status(1, 1, true, "2026-01-01T00:00:10Z")),
                        ),
                    ),
                    (
                        "MODIFIED",
                        resource(
                            &spec,
                            1,
                            "13",
                            Some(ready_status(1, 1, "2026-01-01T00:00:20Z")),
                        ),
                    ),
                ],
            )
            .await;
        verifier
    };
    let (endpoint, verifier) = tokio::join!(provisioner.apply(&spec, &steps), scenario);
    assert_eq!(endpoint.expect("ready"), ENDPOINT);
    assert_eq!(
        steps.taken(),
        [
            "namespace ready",
            "resource applied",
            "rolling out revision 1",
            "database ready"
        ]
    );
    verifier.done().await;
}

#[tokio::test]
async fn apply_returns_at_once_when_the_resource_already_runs_the_spec() {
    let (provisioner, mut verifier) = mocked();
    let spec = spec("starter", Environment::Live);
    let steps = Steps::default();
    let scenario = async {
        verifier
            .expect_writes(&spec, 1, Some(ready_status(1, 1, "2026-01-01T00:00:00Z")))
            .await;
        verifier
    };
    let (endpoint, verifier) = tokio::join!(provisioner.apply(&spec, &steps), scenario);
    assert_eq!(endpoint.expect("ready"), ENDPOINT);
    assert!(steps.taken().is_empty(), "{:?}", steps.taken());
    verifier.done().await;
}

#[tokio::test]
async fn apply_of_a_revision_that_failed_reports_the_operators_message() {
    let (provisioner, mut verifier) = mocked();
    let mut spec = spec("pro", Environment::Live);
    spec.revision = 2;
    let steps = Steps::default();
    let scenario = async {
        // The old status (revision 1 ready at generation 1) comes back with the new spec.
        verifier
            .expect_writes(&spec, 2, Some(ready_status(1, 1, "2026-01-01T00:00:00Z")))
            .await;
        let mut failed = ready_status(1, 2, "2026-01-01T00:05:00Z");
        failed["phase"] = json!("Degraded");
        failed["failedRevision"] = json!(2);
        failed["conditions"][2] = condition(
            "Degraded",
            "True",
            "RolloutFailed",
            "revision 2 did not become available within 300s; rolling back to revision 1",
            "2026-01-01T00:05:00Z",
        );
        verifier
            .expect_rollout_watch(
                resource(
                    &spec,
                    2,
                    "11",
                    Some(progressing_status(2, 2, true, "2026-01-01T00:00:01Z")),
                ),
                &[("MODIFIED", resource(&spec, 2, "12", Some(failed)))],
            )
            .await;
        verifier
    };
    let (result, verifier) = tokio::join!(provisioner.apply(&spec, &steps), scenario);
    let err = format!("{:#}", result.expect_err("the revision failed"));
    assert_eq!(
        err,
        "revision 2 did not become available within 300s; rolling back to revision 1"
    );
    assert_eq!(
        steps.taken(),
        [
            "namespace ready",
            "resource applied",
            "rolling out revision 2"
        ]
    );
    verifier.done().await;
}

#[tokio::test]
async fn apply_gives_up_after_the_ready_timeout() {
    let (provisioner, mut verifier) = mocked_with(KubernetesOptions {
        ready_timeout: Duration::from_millis(300),
        ..options()
    });
    let spec = spec("starter", Environment::Live);
    let server = async {
        verifier.expect_writes(&spec, 1, None).await;
        let (_list, send) = verifier.next().await;
        respond(
            send,
            StatusCode::OK,
            &list(
                vec![resource(
                    &spec,
                    1,
                    "11",
                    Some(progressing_status(1, 1, false, "2026-01-01T00:00:00Z")),
                )],
                "11",
            ),
        );
        // The watch never answers.
        verifier.next().await
    };
    let (result, _unanswered) = tokio::join!(provisioner.apply(&spec, &NoProgress), server);
    let err = format!("{:#}", result.expect_err("not ready in time"));
    assert_eq!(
        err,
        "revision 1 of authstack-acc-test/ins-test was not ready within 300ms (0/1 replicas ready)"
    );
}

#[tokio::test]
async fn suspend_merge_patches_suspended_and_a_missing_resource_is_suspended_already() {
    let (provisioner, mut verifier) = mocked();
    let instance = InstanceRef::new("ins_test", Some("acc_test"));
    let scenario = async {
        let (call, send) = verifier.next().await;
        call.assert_merge_patch(
            &format!("{RESOURCE_PATH}/{NAME}"),
            json!({ "spec": { "suspended": true } }),
        );
        let spec = spec("starter", Environment::Live);
        respond(send, StatusCode::OK, &resource(&spec, 2, "20", None));
        verifier
    };
    let (result, mut verifier) = tokio::join!(provisioner.suspend(&instance), scenario);
    result.expect("suspended");

    let scenario = async {
        let (call, send) = verifier.next().await;
        assert_eq!(call.method, Method::PATCH);
        respond(send, StatusCode::NOT_FOUND, &not_found_status());
        verifier
    };
    let (result, verifier) = tokio::join!(provisioner.suspend(&instance), scenario);
    result.expect("nothing to suspend is fine");
    verifier.done().await;
}

#[tokio::test]
async fn delete_removes_the_resource_its_secret_and_the_namespace_it_leaves_empty() {
    let (provisioner, mut verifier) = mocked();
    let instance = InstanceRef::new("ins_test", Some("acc_test"));
    let spec = spec("starter", Environment::Live);
    let scenario = async {
        let (call, send) = verifier.next().await;
        call.assert_merge_patch(
            &format!("{RESOURCE_PATH}/{NAME}"),
            json!({ "spec": { "deletionPolicy": "Delete" } }),
        );
        respond(send, StatusCode::OK, &resource(&spec, 2, "20", None));

        let (call, send) = verifier.next().await;
        call.assert(Method::DELETE, &format!("{RESOURCE_PATH}/{NAME}"), &[]);
        // The finalizer holds it while the operator deletes the database.
        let mut finalizing = resource(&spec, 2, "21", None);
        finalizing["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        finalizing["metadata"]["finalizers"] = json!(["authstack.io/cleanup"]);
        respond(send, StatusCode::OK, &finalizing);

        let (call, send) = verifier.next().await;
        call.assert(
            Method::DELETE,
            &format!("/api/v1/namespaces/{NAMESPACE}/secrets/ins-test-gateway"),
            &[],
        );
        respond(send, StatusCode::OK, &success_status());

        let (call, send) = verifier.next().await;
        call.assert(Method::GET, RESOURCE_PATH, &[]);
        respond(send, StatusCode::OK, &list(vec![finalizing], "22"));

        let (call, send) = verifier.next().await;
        call.assert(
            Method::DELETE,
            &format!("/api/v1/namespaces/{NAMESPACE}"),
            &[],
        );
        respond(send, StatusCode::OK, &success_status());
        verifier
    };
    let (result, verifier) = tokio::join!(provisioner.delete(&instance), scenario);
    result.expect("deleted");
    verifier.done().await;
}

#[tokio::test]
async fn delete_keeps_the_namespace_while_another_instance_lives_there_and_is_idempotent() {
    let (provisioner, mut verifier) = mocked();
    let instance = InstanceRef::new("ins_test", Some("acc_test"));
    let scenario = async {
        // Already gone: the resource and the secret answer 404.
        let (call, send) = verifier.next().await;
        assert_eq!(call.method, Method::PATCH);
        respond(send, StatusCode::NOT_FOUND, &not_found_status());
        let (call, send) = verifier.next().await;
        call.assert(
            Method::DELETE,
            &format!("/api/v1/namespaces/{NAMESPACE}/secrets/ins-test-gateway"),
            &[],
        );
        respond(send, StatusCode::NOT_FOUND, &not_found_status());
        let (call, send) = verifier.next().await;
        call.assert(Method::GET, RESOURCE_PATH, &[]);
        let mut sibling = spec("starter", Environment::Test);
        sibling.id = "ins_sibling".into();
        respond(
            send,
            StatusCode::OK,
            &list(vec![resource(&sibling, 1, "30", None)], "30"),
        );
        verifier
    };
    let (result, verifier) = tokio::join!(provisioner.delete(&instance), scenario);
    result.expect("deleted");
    verifier.done().await;
}

#[tokio::test]
async fn the_background_watch_turns_status_changes_into_events() {
    let (provisioner, mut verifier) = mocked();
    let (events, mut received) = mpsc::unbounded_channel();
    provisioner.observe(events);
    let spec = spec("starter", Environment::Live);
    let all = "/apis/authstack.io/v1alpha1/authstackinstances";
    let selector = "app.kubernetes.io/managed-by=authstack-control-plane";

    let (call, send) = verifier.next().await;
    call.assert(
        Method::GET,
        all,
        &[("labelSelector", selector), ("limit", "500")],
    );
    respond(
        send,
        StatusCode::OK,
        &list(
            vec![resource(
                &spec,
                1,
                "40",
                Some(ready_status(1, 1, "2026-01-01T00:00:00Z")),
            )],
            "40",
        ),
    );
    let (call, send) = verifier.next().await;
    call.assert(
        Method::GET,
        all,
        &[
            ("labelSelector", selector),
            ("watch", "true"),
            ("timeoutSeconds", "290"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", "40"),
        ],
    );
    send.send_response(
        Response::builder()
            .status(StatusCode::OK)
            .body(watch_events(&[
                (
                    "MODIFIED",
                    resource(
                        &spec,
                        1,
                        "41",
                        Some(lost_pods_status(1, "2026-01-01T00:01:00Z")),
                    ),
                ),
                (
                    "MODIFIED",
                    resource(
                        &spec,
                        1,
                        "42",
                        Some(ready_status(1, 1, "2026-01-01T00:02:00Z")),
                    ),
                ),
            ]))
            .expect("response"),
    );
    assert_eq!(
        next_event(&mut received).await,
        Event::Crashed {
            instance_id: "ins_test".into(),
            detail: "0/1 replicas ready".into()
        }
    );
    assert_eq!(
        next_event(&mut received).await,
        Event::Ready {
            instance_id: "ins_test".into()
        }
    );
    provisioner.shutdown().await;
}

async fn next_event(received: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("an event in time")
        .expect("the channel open")
}

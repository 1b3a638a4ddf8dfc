//! `apply` against a scripted API server: the namespace, the Secret and the resource written by
//! server-side apply, then the rollout followed to ready, to the operator's failure, or to the
//! ready timeout.

use std::sync::Mutex;

use axum::http::{Method, StatusCode};

use super::verifier::{list, respond, respond_with_events};
use super::*;
use crate::provisioner::NoProgress;

impl ApiServerVerifier {
    /// The namespace, the Secret and the resource, answered as applied (the resource with
    /// `status`, or none).
    async fn expect_writes(&mut self, spec: &InstanceSpec, generation: i64, status: Option<Value>) {
        let (call, send) = self.next().await;
        call.assert_apply(&format!("/api/v1/namespaces/{NAMESPACE}"), MANAGER);
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
        call.assert_apply(
            &format!("/api/v1/namespaces/{NAMESPACE}/secrets/ins-test-gateway"),
            MANAGER,
        );
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
        call.assert_apply(&format!("{RESOURCE_PATH}/{NAME}"), MANAGER);
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
        respond_with_events(send, events);
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
        let at = "2026-01-01T00:05:00Z";
        let message = "revision 2 did not become available within 300s; rolling back to revision 1";
        let mut failed = degraded(ready_status(1, 2, at), message, at);
        failed["failedRevision"] = json!(2);
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

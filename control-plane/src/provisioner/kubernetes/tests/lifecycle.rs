//! Suspend, delete and the background watch against a scripted API server.

use axum::http::{Method, StatusCode};
use tokio::sync::mpsc;

use super::verifier::{list, not_found_status, respond, respond_with_events, success_status};
use super::*;

#[tokio::test]
async fn suspend_merge_patches_suspended_and_a_missing_resource_is_suspended_already() {
    let (provisioner, mut verifier) = mocked();
    let instance = InstanceRef::new("ins_test", Some("acc_test"));
    let scenario = async {
        let (call, send) = verifier.next().await;
        call.assert_merge_patch(
            &format!("{RESOURCE_PATH}/{NAME}"),
            MANAGER,
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
            MANAGER,
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
    respond_with_events(
        send,
        &[
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
        ],
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

//! The cluster's view of an instance in the instance list: lost pods, recovery and a rollout the
//! operator rolled back; and a region whose cluster cannot be reached.
//!
//! - `lost_pods_show_as_a_crash_and_their_return_as_a_restart`
//! - `a_failed_rollout_is_rolled_back_to_the_last_healthy_revision`
//! - `a_region_whose_cluster_cannot_be_reached_is_unavailable_and_the_rest_starts`

use authstack_control_plane::config::KubernetesConfig;

use super::*;

/// Sets the `Ready` condition of the resource at `path` as the operator would, with a
/// transition time newer than any before (the provisioner ignores views no newer than what it
/// has accounted for, at the resolution of a second).
async fn set_ready(cluster: &FakeCluster, path: &str, ready: bool) {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole seconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    cluster.set_status(path, |status| {
        status["phase"] = json!(if ready { "Ready" } else { "Updating" });
        let condition = &mut status["conditions"][0];
        assert_eq!(condition["type"], "Ready");
        condition["status"] = json!(if ready { "True" } else { "False" });
        condition["reason"] = json!(if ready { "Available" } else { "Rolling" });
        condition["message"] = json!(if ready {
            "revision 1 is available"
        } else {
            "0/1 replicas ready"
        });
        condition["lastTransitionTime"] = json!(at);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_pods_show_as_a_crash_and_their_return_as_a_restart() {
    let cluster = FakeCluster::start();
    let (platform, owner, ready) = provisioned(&cluster, "pods@acme.test").await;
    let test_path = resource_path(&owner, &id(instance_in(&ready, "test")));

    // Every pod of the test instance lost, with no change asked for, then back.
    set_ready(&cluster, &test_path, false).await;
    let crashed = wait_until(&platform, &owner, "lost pods recorded", |now| {
        steps(instance_in(now, "test")).last().map(String::as_str) == Some("crashed")
    })
    .await;
    let step = instance_in(&crashed, "test")["steps"]
        .as_array()
        .and_then(|s| s.last())
        .cloned()
        .expect("a step");
    assert_eq!(step["detail"], "0/1 replicas ready");
    let state = &instance_in(&crashed, "test")["state"];
    assert_eq!(*state, "ready", "a step, not a state");
    set_ready(&cluster, &test_path, true).await;
    wait_until(&platform, &owner, "recovery recorded", |now| {
        steps(instance_in(now, "test")).last().map(String::as_str) == Some("restarted")
    })
    .await;
}

/// The operator fails revision 2 and rolls back; the control plane records the failure and
/// goes back to revision 1 too (the last healthy one), where the instances are ready again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_rollout_is_rolled_back_to_the_last_healthy_revision() {
    let cluster = FakeCluster::start();
    let (platform, owner, _) = provisioned(&cluster, "rollback@acme.test").await;
    cluster.fail_revision(2);
    subscribe(&platform, &owner, "pro").await;
    let what = "revision 2 failed and rolled back";
    let rolled_back = wait_until(&platform, &owner, what, |now| {
        now.len() == 2
            && now.iter().all(|i| {
                i["state"] == "ready"
                    && i["revision"] == 1
                    && steps(i).iter().any(|s| s == "rolled back")
            })
    })
    .await;
    for instance in &rolled_back {
        let step = instance["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["step"] == "rolled back")
            .expect("a rolled back step");
        assert_eq!(
            step["detail"],
            "revision 2 failed: revision 2 did not become available within 300s; rolling back to revision 1; back to revision 1"
        );
        assert_eq!(instance["current_revision"], 1);
        assert_eq!(steps(instance).last().map(String::as_str), Some("ready"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_whose_cluster_cannot_be_reached_is_unavailable_and_the_rest_starts() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.kubernetes = Some(KubernetesConfig::default());
    // Contexts that no kubeconfig has: nothing is dialled.
    for region in &mut config.catalog.regions {
        if region.kube_context.is_some() {
            region.kube_context = Some(format!(
                "authstack-test-no-such-context-{}",
                uuid::Uuid::new_v4().simple()
            ));
        }
    }
    let platform = spawn_platform_with(dir, config).await;
    assert_eq!(
        availability(&platform).await,
        [
            ("local".to_owned(), true),
            (REGION.to_owned(), false),
            ("us-east-1".to_owned(), false)
        ]
    );
    let owner = platform.owner("unreachable@acme.test").await;
    let body = json!({ "plan": "starter", "region": REGION });
    platform
        .post(&owner.account("/subscription"), &owner.token, body)
        .await
        .assert_error(409, "region_unavailable");
}

//! What the Kubernetes provisioner writes to the cluster, and when.
//!
//! - `regions_with_a_cluster_are_available_and_the_others_not`
//! - `a_subscription_provisions_both_instances_in_the_cluster_step_by_step`
//! - `the_namespace_and_the_gateway_secret_are_applied_without_the_master_key`
//! - `the_resource_carries_the_plan_and_the_environment`
//! - `a_plan_change_is_a_new_revision_in_the_resource`
//! - `cancelling_suspends_the_resource_by_merge_patch`
//! - `after_the_retention_period_the_resources_secrets_and_namespace_go`

use base64::Engine;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_with_a_cluster_are_available_and_the_others_not() {
    let cluster = FakeCluster::start();
    let platform = spawn_with_cluster(&cluster).await;
    // us-east-1 has no kubernetes configuration.
    assert_eq!(
        availability(&platform).await,
        [
            ("local".to_owned(), true),
            (REGION.to_owned(), true),
            ("us-east-1".to_owned(), false)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_provisions_both_instances_in_the_cluster_step_by_step() {
    let cluster = FakeCluster::start();
    let (platform, owner, ready) = provisioned(&cluster, "k8s@acme.test").await;
    let namespace = namespace(&owner);
    assert!(namespace.starts_with("authstack-acc-"), "{namespace}");
    let endpoints = ops_endpoints(&platform).await;
    for instance in &ready {
        assert_eq!(instance["region"], REGION);
        let id = id(instance);
        let (_, endpoint) = endpoints
            .iter()
            .find(|(i, _)| *i == id)
            .expect("listed for operators");
        let expected = format!("http://{}.{namespace}.svc:8080", resource_name(&id));
        assert_eq!(endpoint, &expected);
        assert!(endpoint.starts_with("http://ins-"), "{endpoint}");
        let steps = steps(instance);
        for step in [
            "requested",
            "provisioning",
            "namespace ready",
            "resource applied",
            "rolling out revision 1",
            "ready",
        ] {
            let taken = steps.contains(&step.to_owned());
            assert!(taken, "{step} missing: {steps:?}");
        }
        assert_eq!(steps.last().map(String::as_str), Some("ready"), "{steps:?}");
    }
    // The platform instance is a local process, not a resource.
    let platform_id = resource_name(&platform.app().platform.instance_id);
    let paths = cluster.paths();
    assert!(paths.iter().all(|p| !p.contains(&platform_id)), "{paths:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_and_the_gateway_secret_are_applied_without_the_master_key() {
    let cluster = FakeCluster::start();
    let (_platform, owner, ready) = provisioned(&cluster, "apply@acme.test").await;
    let namespace = namespace(&owner);
    let requests = cluster.requests();
    let namespace_path = format!("/api/v1/namespaces/{namespace}");
    let applied = calls(&requests, &Method::PATCH, &namespace_path);
    assert!(!applied.is_empty());
    for call in &applied {
        let manager = call.query.get("fieldManager").map(String::as_str);
        assert_eq!(manager, Some("authstack-control-plane"));
        assert_eq!(call.query.get("force").map(String::as_str), Some("true"));
        assert_eq!(call.content_type, "application/apply-patch+yaml");
        let account = &call.body["metadata"]["labels"]["authstack.io/account"];
        assert_eq!(account, &json!(owner.account_id));
    }
    let live_id = id(instance_in(&ready, "live"));
    let secret_path = format!(
        "/api/v1/namespaces/{namespace}/secrets/{}-gateway",
        resource_name(&live_id)
    );
    let secret = cluster.object(&secret_path).expect("the gateway secret");
    let decode = |field: &str| {
        let encoded = secret["data"][field].as_str().expect("base64 data");
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded);
        String::from_utf8(decoded.expect("base64")).expect("UTF-8")
    };
    assert!(decode("gateway-secret").starts_with("asg_"));
    assert!(decode("admin-key").starts_with("ask_admin_"));
    assert!(secret["data"].get("master-key").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resource_carries_the_plan_and_the_environment() {
    let cluster = FakeCluster::start();
    let (platform, owner, ready) = provisioned(&cluster, "spec@acme.test").await;
    let live_id = id(instance_in(&ready, "live"));
    let resource = cluster
        .object(&resource_path(&owner, &live_id))
        .expect("the live resource");
    let spec = &resource["spec"];
    assert_eq!(spec["accountId"], json!(owner.account_id));
    assert_eq!(spec["instanceId"], json!(live_id));
    assert_eq!(spec["environment"], "live");
    assert_eq!(spec["revision"], 1);
    assert_eq!(spec["image"], IMAGE);
    // Each instance's issuer is its own address on the gateway; tokens of the gateway-wide
    // issuer of earlier releases still verify.
    let issuer = format!("{}/i/{live_id}", platform.gateway);
    assert_eq!(spec["issuer"], json!(issuer));
    assert_eq!(spec["previousIssuers"], json!([platform.gateway]));
    let secret_ref = format!("{}-gateway", resource_name(&live_id));
    assert_eq!(spec["gatewaySecretRef"], json!(secret_ref));
    assert_eq!(spec["replicas"], 1);
    let database = json!({ "type": "cnpg", "instances": 1, "storage": "1Gi" });
    assert_eq!(spec["database"], database);
    let members = &spec["config"]["organizations"]["max_members_per_organization"];
    assert_eq!(*members, 25);
    assert_eq!(spec["suspended"], false);
    assert_eq!(spec["autoRollback"], true);
    assert_eq!(spec["deletionPolicy"], "Retain");
    assert_eq!(spec["revisionHistoryLimit"], 30);
    let manager = &resource["metadata"]["labels"]["app.kubernetes.io/managed-by"];
    assert_eq!(*manager, "authstack-control-plane");
    let test_path = resource_path(&owner, &id(instance_in(&ready, "test")));
    let test = cluster.object(&test_path).expect("the test resource");
    assert_eq!(test["spec"]["environment"], "test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_change_is_a_new_revision_in_the_resource() {
    let cluster = FakeCluster::start();
    let (platform, owner, ready) = provisioned(&cluster, "upgrade@acme.test").await;
    subscribe(&platform, &owner, "pro").await;
    wait_until(&platform, &owner, "revision 2 ready", |now| {
        now.len() == 2
            && now.iter().all(|i| {
                i["revision"] == 2
                    && i["state"] == "ready"
                    && steps(i).ends_with(&["rolling out revision 2".into(), "ready".into()])
            })
    })
    .await;
    let live_path = resource_path(&owner, &id(instance_in(&ready, "live")));
    let spec = cluster.object(&live_path).expect("live resource")["spec"].clone();
    assert_eq!(spec["revision"], 2);
    assert_eq!(spec["replicas"], 2);
    let members = &spec["config"]["organizations"]["max_members_per_organization"];
    assert_eq!(*members, 500);
    assert_eq!(spec["database"]["storage"], "10Gi");
}

/// Cancels the owner's subscription and waits until both instances are suspended.
async fn cancel(platform: &TestPlatform, owner: &Owner) {
    platform
        .delete(&owner.account("/subscription"), &owner.token)
        .await
        .assert_ok(200);
    platform.wait_for_instances(owner, "suspended").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_suspends_the_resource_by_merge_patch() {
    let cluster = FakeCluster::start();
    let (platform, owner, ready) = provisioned(&cluster, "cancel@acme.test").await;
    cancel(&platform, &owner).await;
    let live_path = resource_path(&owner, &id(instance_in(&ready, "live")));
    let requests = cluster.requests();
    let suspends = calls(&requests, &Method::PATCH, &live_path)
        .into_iter()
        .filter(|r| r.content_type == "application/merge-patch+json")
        .collect::<Vec<_>>();
    assert_eq!(suspends.len(), 1, "{suspends:#?}");
    assert_eq!(suspends[0].body, json!({ "spec": { "suspended": true } }));
    let kept = cluster.object(&live_path).expect("kept");
    assert_eq!(kept["spec"]["suspended"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_retention_period_the_resources_secrets_and_namespace_go() {
    let cluster = FakeCluster::start();
    let (platform, owner, ready) = provisioned(&cluster, "retention@acme.test").await;
    cancel(&platform, &owner).await;
    let namespace = namespace(&owner);
    let namespace_path = format!("/api/v1/namespaces/{namespace}");
    let retention = platform.config.data_retention.as_secs() as i64;
    platform.clock.advance(retention + 1);
    let started = Instant::now();
    while cluster.object(&namespace_path).is_some() {
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(30), "{:?}", cluster.paths());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let paths = cluster.paths();
    assert!(paths.iter().all(|p| !p.contains(&namespace)), "{paths:?}");
    let live_id = id(instance_in(&ready, "live"));
    let live_path = resource_path(&owner, &live_id);
    let secret_path = format!(
        "/api/v1/namespaces/{namespace}/secrets/{}-gateway",
        resource_name(&live_id)
    );
    let requests = cluster.requests();
    assert_eq!(calls(&requests, &Method::DELETE, &live_path).len(), 1);
    assert_eq!(calls(&requests, &Method::DELETE, &secret_path).len(), 1);
    assert!(!calls(&requests, &Method::DELETE, &namespace_path).is_empty());
}

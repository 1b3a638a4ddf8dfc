//! The control plane provisioning through the Kubernetes provisioner, against a fake cluster
//! (`fake_cluster`): the namespace, the gateway Secret and the `AuthStackInstance` it writes,
//! plan changes as new revisions, cancellation as `suspended`, deletion after retention, and
//! the cluster's view of an instance (a failed rollout, lost pods) in the instance list.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authstack_control_plane::config::KubernetesConfig;
use authstack_control_plane::provisioner::kubernetes::{KubernetesOptions, KubernetesProvisioner};
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fake_cluster::{FakeCluster, Recorded};
use crate::helpers::{Owner, TestPlatform, spawn_platform_with, test_config};

const REGION: &str = "eu-central-1";
const IMAGE: &str = "ghcr.io/authstack/authstack-instance:test";
const INSTANCES: &str = "/apis/authstack.io/v1alpha1/namespaces";

/// The control plane with `eu-central-1` provisioned in `cluster`; the platform instance stays
/// a local process.
async fn spawn_with_cluster(cluster: &FakeCluster) -> TestPlatform {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    let provisioner = KubernetesProvisioner::new(
        cluster.client(),
        KubernetesOptions {
            image: IMAGE.into(),
            ready_timeout: Duration::from_secs(30),
            ..KubernetesOptions::default()
        },
    );
    config
        .provisioners
        .0
        .insert(REGION.into(), Arc::new(provisioner));
    spawn_platform_with(dir, config).await
}

async fn subscribe(platform: &TestPlatform, owner: &Owner, plan: &str) {
    platform
        .cp(
            Method::POST,
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            Some(json!({ "plan": plan, "region": REGION })),
        )
        .await
        .assert_ok(200);
}

async fn instances(platform: &TestPlatform, owner: &Owner) -> Vec<Value> {
    let reply = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}/instances", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    reply.assert_ok(200);
    reply.body["data"].as_array().cloned().unwrap_or_default()
}

/// Polls the instance list until `done` holds for it.
async fn wait_until(
    platform: &TestPlatform,
    owner: &Owner,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let now = instances(platform, owner).await;
        if done(&now) {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: {now:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn steps(instance: &Value) -> Vec<String> {
    instance["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["step"].as_str().map(str::to_owned))
        .collect()
}

fn env<'a>(instances: &'a [Value], environment: &str) -> &'a Value {
    instances
        .iter()
        .find(|i| i["environment"] == environment)
        .expect("instance")
}

fn id(instance: &Value) -> String {
    instance["id"].as_str().expect("id").to_owned()
}

/// `ins_0192…` → `ins-0192…`, as the operator's `resource_name`.
fn resource_name(instance_id: &str) -> String {
    authstack_operator::render::resource_name(instance_id)
}

fn namespace(owner: &Owner) -> String {
    authstack_operator::render::account_namespace(&owner.account_id)
}

fn resource_path(owner: &Owner, instance_id: &str) -> String {
    format!(
        "{INSTANCES}/{}/authstackinstances/{}",
        namespace(owner),
        resource_name(instance_id)
    )
}

/// The requests to `path` with `method`.
fn calls<'a>(requests: &'a [Recorded], method: &Method, path: &str) -> Vec<&'a Recorded> {
    requests
        .iter()
        .filter(|r| r.method == *method && r.path == path)
        .collect()
}

async fn ops_endpoints(platform: &TestPlatform) -> Vec<(String, String)> {
    let key = std::fs::read_to_string(platform.dir.path().join("ops.key")).expect("ops key");
    let reply = platform
        .cp(Method::GET, "/v1/ops/instances", key.trim(), None)
        .await;
    reply.assert_ok(200);
    reply.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["id"].as_str().unwrap_or("").to_owned(),
                i["endpoint"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_instances_are_provisioned_updated_suspended_and_deleted_in_the_cluster() {
    let cluster = FakeCluster::start();
    let platform = spawn_with_cluster(&cluster).await;

    let regions = platform
        .send(platform.client.get(format!("{}/v1/regions", platform.cp)))
        .await;
    let available = |id: &str| {
        regions.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["id"] == id)
            .map(|r| r["available"].clone())
    };
    assert_eq!(available("local"), Some(json!(true)));
    assert_eq!(available(REGION), Some(json!(true)));
    assert_eq!(
        available("us-east-1"),
        Some(json!(false)),
        "no kubernetes configuration for it"
    );

    let owner = platform.owner("k8s@acme.test").await;
    subscribe(&platform, &owner, "starter").await;
    let ready = platform.wait_for_instances(&owner, "ready").await;
    let namespace = namespace(&owner);
    assert!(namespace.starts_with("authstack-acc-"), "{namespace}");
    let endpoints = ops_endpoints(&platform).await;
    for instance in &ready {
        assert_eq!(instance["region"], REGION);
        let id = id(instance);
        let endpoint = &endpoints
            .iter()
            .find(|(i, _)| *i == id)
            .expect("listed for operators")
            .1;
        assert_eq!(
            endpoint,
            &format!("http://{}.{namespace}.svc:8080", resource_name(&id))
        );
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
            assert!(
                steps.contains(&step.to_owned()),
                "{step} missing: {steps:?}"
            );
        }
        assert_eq!(steps.last().map(String::as_str), Some("ready"), "{steps:?}");
    }
    // The platform instance is a local process, not a resource.
    let platform_id = platform.app().platform.instance_id.clone();
    assert!(
        cluster
            .paths()
            .iter()
            .all(|p| !p.contains(&resource_name(&platform_id))),
        "{:?}",
        cluster.paths()
    );

    // What reached the cluster: the namespace, each Secret and each resource, by apply.
    let requests = cluster.requests();
    let namespace_path = format!("/api/v1/namespaces/{namespace}");
    let applied = calls(&requests, &Method::PATCH, &namespace_path);
    assert!(!applied.is_empty());
    for call in &applied {
        assert_eq!(
            call.query.get("fieldManager").map(String::as_str),
            Some("authstack-control-plane")
        );
        assert_eq!(call.query.get("force").map(String::as_str), Some("true"));
        assert_eq!(call.content_type, "application/apply-patch+yaml");
        assert_eq!(
            call.body["metadata"]["labels"]["authstack.io/account"],
            json!(owner.account_id)
        );
    }
    let live = env(&ready, "live");
    let live_id = id(live);
    let secret_path = format!(
        "/api/v1/namespaces/{namespace}/secrets/{}-gateway",
        resource_name(&live_id)
    );
    let secret = cluster.object(&secret_path).expect("the gateway secret");
    let decode = |field: &str| {
        let encoded = secret["data"][field].as_str().expect("base64 data");
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .expect("base64"),
        )
        .expect("UTF-8")
    };
    assert!(decode("gateway-secret").starts_with("asg_"));
    assert!(decode("admin-key").starts_with("ask_admin_"));
    assert!(secret["data"].get("master-key").is_none());

    let live_path = resource_path(&owner, &live_id);
    let resource = cluster.object(&live_path).expect("the live resource");
    let spec = &resource["spec"];
    assert_eq!(spec["accountId"], json!(owner.account_id));
    assert_eq!(spec["instanceId"], json!(live_id));
    assert_eq!(spec["environment"], "live");
    assert_eq!(spec["revision"], 1);
    assert_eq!(spec["image"], IMAGE);
    // Each instance's issuer is its own address on the gateway; tokens of the gateway-wide
    // issuer of earlier releases still verify.
    assert_eq!(
        spec["issuer"],
        json!(format!("{}/i/{live_id}", platform.gateway))
    );
    assert_eq!(spec["previousIssuers"], json!([platform.gateway]));
    assert_eq!(
        spec["gatewaySecretRef"],
        json!(format!("{}-gateway", resource_name(&live_id)))
    );
    assert_eq!(spec["replicas"], 1);
    assert_eq!(
        spec["database"],
        json!({ "type": "cnpg", "instances": 1, "storage": "1Gi" })
    );
    assert_eq!(
        spec["config"]["organizations"]["max_members_per_organization"],
        25
    );
    assert_eq!(spec["suspended"], false);
    assert_eq!(spec["autoRollback"], true);
    assert_eq!(spec["deletionPolicy"], "Retain");
    assert_eq!(spec["revisionHistoryLimit"], 30);
    assert_eq!(
        resource["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "authstack-control-plane"
    );
    let test_path = resource_path(&owner, &id(env(&ready, "test")));
    assert_eq!(
        cluster.object(&test_path).expect("the test resource")["spec"]["environment"],
        "test"
    );

    // A plan change is a new revision in the resource.
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
    let spec = cluster.object(&live_path).expect("live resource")["spec"].clone();
    assert_eq!(spec["revision"], 2);
    assert_eq!(spec["replicas"], 2);
    assert_eq!(
        spec["config"]["organizations"]["max_members_per_organization"],
        500
    );
    assert_eq!(spec["database"]["storage"], "10Gi");

    // Cancelling suspends: `suspended: true` by merge patch.
    platform
        .cp(
            Method::DELETE,
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            None,
        )
        .await
        .assert_ok(200);
    platform.wait_for_instances(&owner, "suspended").await;
    let requests = cluster.requests();
    let suspends = calls(&requests, &Method::PATCH, &live_path)
        .into_iter()
        .filter(|r| r.content_type == "application/merge-patch+json")
        .collect::<Vec<_>>();
    assert_eq!(suspends.len(), 1, "{suspends:#?}");
    assert_eq!(suspends[0].body, json!({ "spec": { "suspended": true } }));
    assert_eq!(
        cluster.object(&live_path).expect("kept")["spec"]["suspended"],
        true
    );

    // After the retention period the resources, Secrets and the namespace go.
    platform
        .clock
        .advance(platform.config.data_retention.as_secs() as i64 + 1);
    let started = Instant::now();
    while cluster.object(&namespace_path).is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            cluster.paths()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        cluster.paths().iter().all(|p| !p.contains(&namespace)),
        "{:?}",
        cluster.paths()
    );
    let requests = cluster.requests();
    assert_eq!(calls(&requests, &Method::DELETE, &live_path).len(), 1);
    assert_eq!(calls(&requests, &Method::DELETE, &secret_path).len(), 1);
    assert!(!calls(&requests, &Method::DELETE, &namespace_path).is_empty());
}

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
async fn lost_pods_and_a_failed_rollout_in_the_cluster_show_in_the_instance_list() {
    let cluster = FakeCluster::start();
    let platform = spawn_with_cluster(&cluster).await;
    let owner = platform.owner("rollback@acme.test").await;
    subscribe(&platform, &owner, "starter").await;
    let ready = platform.wait_for_instances(&owner, "ready").await;
    let test_path = resource_path(&owner, &id(env(&ready, "test")));

    // Every pod of the test instance lost, with no change asked for, then back.
    set_ready(&cluster, &test_path, false).await;
    let crashed = wait_until(&platform, &owner, "lost pods recorded", |now| {
        steps(env(now, "test")).last().map(String::as_str) == Some("crashed")
    })
    .await;
    let step = env(&crashed, "test")["steps"]
        .as_array()
        .and_then(|s| s.last())
        .cloned()
        .expect("a step");
    assert_eq!(step["detail"], "0/1 replicas ready");
    assert_eq!(
        env(&crashed, "test")["state"],
        "ready",
        "a step, not a state"
    );
    set_ready(&cluster, &test_path, true).await;
    wait_until(&platform, &owner, "recovery recorded", |now| {
        steps(env(now, "test")).last().map(String::as_str) == Some("restarted")
    })
    .await;

    // The operator fails revision 2 and rolls back; the control plane records the failure and
    // goes back to revision 1 too (the last healthy one), where the instances are ready again.
    cluster.fail_revision(2);
    subscribe(&platform, &owner, "pro").await;
    let rolled_back = wait_until(
        &platform,
        &owner,
        "revision 2 failed and rolled back",
        |now| {
            now.len() == 2
                && now.iter().all(|i| {
                    i["state"] == "ready"
                        && i["revision"] == 1
                        && steps(i).iter().any(|s| s == "rolled back")
                })
        },
    )
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
    let regions = platform
        .send(platform.client.get(format!("{}/v1/regions", platform.cp)))
        .await;
    let availability: Vec<(String, bool)> = regions.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_owned(),
                r["available"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    assert_eq!(
        availability,
        [
            ("local".to_owned(), true),
            (REGION.to_owned(), false),
            ("us-east-1".to_owned(), false)
        ]
    );
    let owner = platform.owner("unreachable@acme.test").await;
    platform
        .cp(
            Method::POST,
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            Some(json!({ "plan": "starter", "region": REGION })),
        )
        .await
        .assert_error(409, "region_unavailable");
}

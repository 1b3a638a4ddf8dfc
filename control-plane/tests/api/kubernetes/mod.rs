//! The control plane provisioning through the Kubernetes provisioner, against the fake cluster
//! (`tests/support/kubernetes/cluster.rs`). One file each:
//!
//! - `provisioning`: regions with a cluster, the namespace, the gateway Secret and the
//!   `AuthStackInstance` written, plan changes as new revisions, cancellation as `suspended`,
//!   deletion after retention.
//! - `cluster_view`: the cluster's view of an instance (lost pods, a failed rollout) in the
//!   instance list, and a region whose cluster cannot be reached.

mod cluster_view;
mod provisioning;

use std::sync::Arc;
use std::time::{Duration, Instant};

use authstack_control_plane::provisioner::kubernetes::{KubernetesOptions, KubernetesProvisioner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::fake_cluster::{FakeCluster, Recorded};
use crate::helpers::{Owner, TestPlatform, instance_in, spawn_platform_with, steps, test_config};

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

/// Subscribes the owner to `plan` in the cluster's region.
async fn subscribe(platform: &TestPlatform, owner: &Owner, plan: &str) {
    let body = json!({ "plan": plan, "region": REGION });
    platform
        .post(&owner.account("/subscription"), &owner.token, body)
        .await
        .assert_ok(200);
}

async fn instances(platform: &TestPlatform, owner: &Owner) -> Vec<Value> {
    let reply = platform
        .get(&owner.account("/instances"), &owner.token)
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
    let reply = platform.get("/v1/ops/instances", key.trim()).await;
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

/// A platform on `cluster` and a new owner subscribed to starter there, with both instances
/// ready.
async fn provisioned(cluster: &FakeCluster, email: &str) -> (TestPlatform, Owner, Vec<Value>) {
    let platform = spawn_with_cluster(cluster).await;
    let owner = platform.owner(email).await;
    subscribe(&platform, &owner, "starter").await;
    let ready = platform.wait_for_instances(&owner, "ready").await;
    (platform, owner, ready)
}

/// Each region's id and availability, as `/v1/regions` lists them.
async fn availability(platform: &TestPlatform) -> Vec<(String, bool)> {
    let regions = platform
        .send(platform.client.get(format!("{}/v1/regions", platform.cp)))
        .await;
    regions.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_owned(),
                r["available"].as_bool().expect("available is a boolean"),
            )
        })
        .collect()
}

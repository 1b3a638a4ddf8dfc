//! The Kubernetes provisioner without a cluster: the objects it writes as pure functions of the
//! spec (`objects`), how it reads the operator's statuses (`status`), and scenarios in which the
//! fake API server's [`ApiServerVerifier`] asserts the exact API calls and answers them (`apply`;
//! `lifecycle`: suspend, delete and the background watch).

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;
use crate::catalog::Catalog;
use crate::provisioner::InstanceSecrets;

#[path = "../../../../tests/support/kubernetes/verifier.rs"]
mod verifier;

mod apply;
mod lifecycle;
mod objects;
mod status;

use verifier::ApiServerVerifier;

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

/// A provisioner whose API server is a scenario's [`ApiServerVerifier`].
fn mocked() -> (KubernetesProvisioner, ApiServerVerifier) {
    mocked_with(options())
}

fn mocked_with(options: KubernetesOptions) -> (KubernetesProvisioner, ApiServerVerifier) {
    let (client, verifier) = ApiServerVerifier::pair();
    (KubernetesProvisioner::new(client, options), verifier)
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

/// Ready at `revision`, but every pod lost since.
fn lost_pods_status(revision: i64, at: &str) -> Value {
    let mut status = ready_status(revision, 1, at);
    status["phase"] = json!("Updating");
    status["conditions"][0] = condition("Ready", "False", "Rolling", "0/1 replicas ready", at);
    status
}

/// `status` after a failed rollout: `Degraded`, with the operator's `message` on its condition.
fn degraded(mut status: Value, message: &str, at: &str) -> Value {
    status["phase"] = json!("Degraded");
    status["conditions"][2] = condition("Degraded", "True", "RolloutFailed", message, at);
    status
}

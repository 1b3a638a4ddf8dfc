//! The instance's Deployment: one revision's pods, and who owns their count.

use serde_json::json;

use super::{Desired, Kind, Names, PORT, REVISION_ANNOTATION, labels, name, object, selector};
use crate::crd::{AuthStackInstance, Database};

/// The field manager that applies an autoscaled Deployment's first replica count, once, so
/// that the count has an owner besides the operator until the autoscaler takes it: the
/// operator's own applies leave it out, and server-side apply resets a field its only
/// manager leaves out (the Kubernetes documentation's "handover-to-hpa").
pub const HANDOVER_MANAGER: &str = "authstack-operator-handover-to-hpa";

/// The replica count an autoscaled Deployment is created with: the autoscaler's minimum, so
/// that it starts as big as it will be kept and no rollout follows its first scaling.
/// `None` when the rendered Deployment carries its own count (no autoscaler, or suspended).
pub fn creation_replicas(instance: &AuthStackInstance) -> Option<i32> {
    match (&instance.spec.autoscaling, instance.spec.suspended) {
        (Some(autoscaling), false) => Some(autoscaling.min_replicas),
        _ => None,
    }
}

/// The apply of [`HANDOVER_MANAGER`]: the replica count alone.
pub fn replicas_handover(instance: &AuthStackInstance, replicas: i32) -> serde_json::Value {
    let resource = Kind::Deployment.api_resource();
    json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": { "name": name(instance), "namespace": instance.metadata.namespace },
        "spec": { "replicas": replicas },
    })
}

pub(super) fn deployment(
    instance: &AuthStackInstance,
    database: Database<'_>,
    revision: i64,
    redis: bool,
) -> Desired {
    let spec = &instance.spec;
    let names = Names(name(instance));
    let secret_env = |env: &str, secret: &str, key: &str| json!({ "name": env, "valueFrom": { "secretKeyRef": { "name": secret, "key": key } } });
    let mut env = vec![
        secret_env("AUTHSTACK_MASTER_KEY", &names.keys_secret(), "master-key"),
        secret_env(
            "AUTHSTACK_GATEWAY_SECRET",
            &spec.gateway_secret_ref,
            "gateway-secret",
        ),
        secret_env("AUTHSTACK_ADMIN_KEY", &spec.gateway_secret_ref, "admin-key"),
    ];
    match database {
        Database::Cnpg { .. } => {
            env.push(secret_env(
                "DB_USERNAME",
                &names.db_credentials(),
                "username",
            ));
            env.push(secret_env(
                "DB_PASSWORD",
                &names.db_credentials(),
                "password",
            ));
            env.push(json!({
                "name": "AUTHSTACK_DATABASE_URL",
                "value": format!(
                    "postgres://$(DB_USERNAME):$(DB_PASSWORD)@{}-rw:5432/authstack",
                    names.db_cluster()
                ),
            }));
        }
        Database::External { secret_ref } => env.push(secret_env(
            "AUTHSTACK_DATABASE_URL",
            &secret_ref.name,
            &secret_ref.key,
        )),
    }
    if redis {
        env.push(secret_env(
            "AUTHSTACK_REDIS_URL",
            &names.redis_secret(),
            "url",
        ));
    }
    env.push(json!({ "name": "AUTHSTACK_TRUST_FORWARDED_FOR", "value": "true" }));
    env.push(json!({ "name": "AUTHSTACK_LOG_FORMAT", "value": "json" }));
    if !spec.previous_issuers.is_empty() {
        env.push(json!({ "name": "AUTHSTACK_PREVIOUS_ISSUERS", "value": spec.previous_issuers.join(",") }));
    }
    let probe = |path: &str, period: u32, failures: u32| {
        json!({
            "httpGet": { "path": path, "port": "http" },
            "periodSeconds": period,
            "timeoutSeconds": 2,
            "failureThreshold": failures,
        })
    };
    let mut deployment_spec = json!({
        "revisionHistoryLimit": 3,
        "progressDeadlineSeconds": spec.progress_deadline_seconds,
        "selector": { "matchLabels": selector(instance) },
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": { "maxUnavailable": 0, "maxSurge": 1 },
        },
        "template": {
            "metadata": {
                "labels": labels(instance),
                "annotations": { REVISION_ANNOTATION: revision.to_string() },
            },
            "spec": {
                "serviceAccountName": name(instance),
                "automountServiceAccountToken": false,
                "enableServiceLinks": false,
                "securityContext": {
                    "runAsNonRoot": true,
                    "runAsUser": 65532,
                    "runAsGroup": 65532,
                    "fsGroup": 65532,
                    "seccompProfile": { "type": "RuntimeDefault" },
                },
                "topologySpreadConstraints": [{
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": { "matchLabels": selector(instance) },
                }],
                "containers": [{
                    "name": "instance",
                    "image": spec.image,
                    "imagePullPolicy": "Always",
                    "args": [
                        "serve",
                        format!("--listen=0.0.0.0:{PORT}"),
                        "--config=/etc/authstack/config.yaml",
                        "--data-dir=/var/lib/authstack",
                        format!("--issuer={}", spec.issuer),
                        format!("--audience={}", spec.instance_id),
                    ],
                    "env": env,
                    "ports": [{ "name": "http", "containerPort": PORT, "protocol": "TCP" }],
                    "readinessProbe": probe("/readyz", 5, 3),
                    "livenessProbe": probe("/healthz", 10, 6),
                    "startupProbe": probe("/healthz", 2, 60),
                    "resources": {
                        "requests": { "cpu": spec.resources.cpu_request, "memory": spec.resources.memory_request },
                        "limits": { "cpu": spec.resources.cpu_limit, "memory": spec.resources.memory_limit },
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": false,
                        "readOnlyRootFilesystem": true,
                        "capabilities": { "drop": ["ALL"] },
                    },
                    "volumeMounts": [
                        { "name": "config", "mountPath": "/etc/authstack", "readOnly": true },
                        { "name": "data", "mountPath": "/var/lib/authstack" },
                        { "name": "tmp", "mountPath": "/tmp" },
                    ],
                }],
                "volumes": [
                    { "name": "config", "configMap": { "name": names.config_map(revision) } },
                    { "name": "data", "emptyDir": { "sizeLimit": "256Mi" } },
                    { "name": "tmp", "emptyDir": { "sizeLimit": "64Mi" } },
                ],
            },
        },
    });
    if let Some(email) = &spec.notify_email
        && let Some(args) =
            deployment_spec["template"]["spec"]["containers"][0]["args"].as_array_mut()
    {
        args.push(json!(format!("--notify-email={email}")));
    }
    // With an autoscaler the replica count is its to set (unless suspended).
    if spec.suspended {
        deployment_spec["replicas"] = json!(0);
    } else if spec.autoscaling.is_none() {
        deployment_spec["replicas"] = json!(spec.replicas);
    }
    object(
        Kind::Deployment,
        name(instance).to_owned(),
        json!({
            "metadata": { "annotations": { REVISION_ANNOTATION: revision.to_string() } },
            "spec": deployment_spec,
        }),
        instance,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crd::Autoscaling;

    fn autoscaled() -> AuthStackInstance {
        let mut instance = AuthStackInstance::test();
        instance.spec.autoscaling = Some(Autoscaling {
            min_replicas: 3,
            max_replicas: 12,
            target_cpu_utilization: 65,
        });
        instance
    }

    #[test]
    fn an_autoscaled_deployment_starts_at_the_autoscalers_minimum() {
        assert_eq!(creation_replicas(&autoscaled()), Some(3));
        // Its own count otherwise: spec.replicas, or 0 when suspended.
        assert_eq!(creation_replicas(&AuthStackInstance::test()), None);
        let mut suspended = autoscaled();
        suspended.spec.suspended = true;
        assert_eq!(creation_replicas(&suspended), None);
    }

    #[test]
    fn the_handover_applies_the_replica_count_alone() {
        assert_eq!(
            replicas_handover(&autoscaled(), 3),
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": { "name": "ins-test", "namespace": "authstack-acc-test" },
                "spec": { "replicas": 3 },
            })
        );
    }
}

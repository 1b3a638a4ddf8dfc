//! The Kubernetes objects an `AuthStackInstance` should have: pure functions of the resource,
//! the revision to run and the operator's settings, so they can be snapshot-tested.

use kube::Resource;
use kube::api::ApiResource;
use serde_json::{Value, json};

use crate::crd::{AuthStackInstance, Database, DatabaseType};

mod deployment;
mod ingress;

pub use deployment::{HANDOVER_MANAGER, creation_replicas, replicas_handover};

/// The field manager of every server-side apply, and the `managed-by` label.
pub const MANAGER: &str = "authstack-operator";
/// The port the instance listens on inside its pod.
pub const PORT: u16 = 8080;
/// The pod-template annotation that names the running revision.
pub const REVISION_ANNOTATION: &str = "authstack.io/revision";
/// The label that ties an object to its `AuthStackInstance`.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The label a revision's ConfigMap carries, for pruning.
pub const REVISION_LABEL: &str = "authstack.io/revision";

/// What the operator is configured with, cluster-wide.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where the AuthStack gateway runs; the only namespace admitted by instance
    /// NetworkPolicies.
    pub gateway_namespace: String,
    /// The gateway's Service, which custom hostnames are routed to.
    pub gateway_service: String,
    pub ingress_class: String,
    /// cert-manager ClusterIssuer for custom hostnames' certificates.
    pub cluster_issuer: String,
    /// The region's Redis, when it has one: instances keep their rate-limit counters there
    /// (shared by their replicas) instead of in their databases.
    pub redis: Option<RegionRedis>,
}

/// The URL of a region's Redis (it may hold a password: never shown by `Debug`).
#[derive(Clone, PartialEq)]
pub struct RegionRedis(pub String);

impl std::fmt::Debug for RegionRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegionRedis(..)")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            gateway_namespace: "authstack-system".into(),
            gateway_service: "authstack-gateway".into(),
            ingress_class: "nginx".into(),
            cluster_issuer: "letsencrypt".into(),
            redis: None,
        }
    }
}

/// The kinds of object the operator manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    ServiceAccount,
    Secret,
    ConfigMap,
    PostgresCluster,
    Deployment,
    Service,
    Ingress,
    PodDisruptionBudget,
    NetworkPolicy,
    HorizontalPodAutoscaler,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::ServiceAccount,
        Kind::Secret,
        Kind::ConfigMap,
        Kind::PostgresCluster,
        Kind::Deployment,
        Kind::Service,
        Kind::Ingress,
        Kind::PodDisruptionBudget,
        Kind::NetworkPolicy,
        Kind::HorizontalPodAutoscaler,
    ];

    pub fn api_resource(self) -> ApiResource {
        let (group, version, kind, plural) = match self {
            Kind::ServiceAccount => ("", "v1", "ServiceAccount", "serviceaccounts"),
            Kind::Secret => ("", "v1", "Secret", "secrets"),
            Kind::ConfigMap => ("", "v1", "ConfigMap", "configmaps"),
            Kind::PostgresCluster => ("postgresql.cnpg.io", "v1", "Cluster", "clusters"),
            Kind::Deployment => ("apps", "v1", "Deployment", "deployments"),
            Kind::Service => ("", "v1", "Service", "services"),
            Kind::Ingress => ("networking.k8s.io", "v1", "Ingress", "ingresses"),
            Kind::PodDisruptionBudget => (
                "policy",
                "v1",
                "PodDisruptionBudget",
                "poddisruptionbudgets",
            ),
            Kind::NetworkPolicy => (
                "networking.k8s.io",
                "v1",
                "NetworkPolicy",
                "networkpolicies",
            ),
            Kind::HorizontalPodAutoscaler => (
                "autoscaling",
                "v2",
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
            ),
        };
        let api_version = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version,
            kind: kind.into(),
            plural: plural.into(),
        }
    }
}

/// One object as it should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub kind: Kind,
    pub name: String,
    pub object: Value,
}

/// Names of the objects of one instance.
pub struct Names<'a>(pub &'a str);

impl Names<'_> {
    pub fn keys_secret(&self) -> String {
        format!("{}-keys", self.0)
    }
    /// The region's Redis URL, copied for the instance's pods.
    pub fn redis_secret(&self) -> String {
        format!("{}-redis", self.0)
    }
    pub fn db_credentials(&self) -> String {
        format!("{}-db-credentials", self.0)
    }
    pub fn db_cluster(&self) -> String {
        format!("{}-db", self.0)
    }
    pub fn edge_service(&self) -> String {
        format!("{}-edge", self.0)
    }
    pub fn config_map(&self, revision: i64) -> String {
        format!("{}-rev-{revision}", self.0)
    }
}

/// The revision the pods should run, and whether its ConfigMap is rendered from the spec
/// (it is the spec's revision) or already exists (a rollback to an older one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub revision: i64,
    pub from_spec: bool,
}

/// The in-cluster URL the gateway forwards to.
pub fn endpoint(instance: &AuthStackInstance) -> String {
    format!(
        "http://{}.{}.svc:{PORT}",
        name(instance),
        instance.metadata.namespace.as_deref().unwrap_or("default")
    )
}

fn name(instance: &AuthStackInstance) -> &str {
    instance.metadata.name.as_deref().unwrap_or_default()
}

/// Labels on every object of the instance.
pub fn labels(instance: &AuthStackInstance) -> Value {
    json!({
        "app.kubernetes.io/name": "authstack-instance",
        INSTANCE_LABEL: name(instance),
        "app.kubernetes.io/component": "instance",
        MANAGED_BY_LABEL: MANAGER,
        "authstack.io/account": label_value(&instance.spec.account_id),
        "authstack.io/environment": instance.spec.environment.as_str(),
    })
}

fn selector(instance: &AuthStackInstance) -> Value {
    json!({
        "app.kubernetes.io/name": "authstack-instance",
        INSTANCE_LABEL: name(instance),
    })
}

/// Label values allow `[A-Za-z0-9_.-]`, at most 63 characters.
fn label_value(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(63)
        .collect()
}

fn metadata(instance: &AuthStackInstance, name: String) -> Value {
    json!({
        "name": name,
        "namespace": instance.metadata.namespace,
        "labels": labels(instance),
        "ownerReferences": [owner_reference(instance)],
    })
}

fn owner_reference(instance: &AuthStackInstance) -> Value {
    json!({
        "apiVersion": AuthStackInstance::api_version(&()),
        "kind": AuthStackInstance::kind(&()),
        "name": name(instance),
        "uid": instance.metadata.uid,
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

fn object(kind: Kind, name: String, mut body: Value, instance: &AuthStackInstance) -> Desired {
    let resource = kind.api_resource();
    body["apiVersion"] = json!(resource.api_version);
    body["kind"] = json!(resource.kind);
    let mut meta = metadata(instance, name.clone());
    if let Some(extra) = body.get("metadata").and_then(Value::as_object) {
        for (key, value) in extra {
            match (meta.get_mut(key), value) {
                (Some(Value::Object(into)), Value::Object(from)) => {
                    into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())))
                }
                _ => meta[key] = value.clone(),
            }
        }
    }
    body["metadata"] = meta;
    Desired {
        kind,
        name,
        object: body,
    }
}

/// Every object the operator keeps applied (secrets are separate: created once, see
/// [`secrets`]).
///
/// Fails (with the message for the resource's status) only on a spec the schema cannot rule
/// out.
pub fn render(
    instance: &AuthStackInstance,
    settings: &Settings,
    target: Target,
) -> Result<Vec<Desired>, &'static str> {
    let names = Names(name(instance));
    let spec = &instance.spec;
    let database = spec.database.resolve()?;
    let mut objects = vec![object(
        Kind::ServiceAccount,
        name(instance).to_owned(),
        json!({ "automountServiceAccountToken": false }),
        instance,
    )];
    if target.from_spec {
        objects.push(config_map(instance, target.revision));
    }
    if let Database::Cnpg {
        instances,
        storage,
        storage_class,
    } = database
    {
        let mut storage_spec = json!({ "size": storage });
        if let Some(class) = storage_class {
            storage_spec["storageClass"] = json!(class);
        }
        objects.push(object(
            Kind::PostgresCluster,
            names.db_cluster(),
            json!({
                "spec": {
                    "instances": instances,
                    "storage": storage_spec,
                    "bootstrap": { "initdb": {
                        "database": "authstack",
                        "owner": "authstack",
                        "secret": { "name": names.db_credentials() },
                    }},
                    "enableSuperuserAccess": false,
                }
            }),
            instance,
        ));
    }
    if let Some(redis) = &settings.redis {
        // Applied on every reconcile, so a new region URL reaches every instance.
        objects.push(object(
            Kind::Secret,
            names.redis_secret(),
            json!({ "type": "Opaque", "stringData": { "url": redis.0 } }),
            instance,
        ));
    }
    objects.push(deployment::deployment(
        instance,
        database,
        target.revision,
        settings.redis.is_some(),
    ));
    objects.push(object(
        Kind::Service,
        name(instance).to_owned(),
        json!({ "spec": {
            "type": "ClusterIP",
            "selector": selector(instance),
            "ports": [{ "name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP" }],
        }}),
        instance,
    ));
    if !spec.hostnames.is_empty() {
        objects.extend(ingress::ingress(instance, settings));
    }
    objects.push(object(
        Kind::PodDisruptionBudget,
        name(instance).to_owned(),
        json!({ "spec": {
            "maxUnavailable": 1,
            "selector": { "matchLabels": selector(instance) },
        }}),
        instance,
    ));
    objects.push(object(
        Kind::NetworkPolicy,
        name(instance).to_owned(),
        json!({ "spec": {
            "podSelector": { "matchLabels": selector(instance) },
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{
                    "namespaceSelector": { "matchLabels": {
                        "kubernetes.io/metadata.name": settings.gateway_namespace,
                    }},
                    "podSelector": { "matchLabels": {
                        "app.kubernetes.io/name": "authstack",
                        "app.kubernetes.io/component": "gateway",
                    }},
                }],
                "ports": [{ "protocol": "TCP", "port": PORT }],
            }],
        }}),
        instance,
    ));
    if let (Some(autoscaling), false) = (&spec.autoscaling, spec.suspended) {
        objects.push(object(
            Kind::HorizontalPodAutoscaler,
            name(instance).to_owned(),
            json!({ "spec": {
                "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": name(instance) },
                "minReplicas": autoscaling.min_replicas,
                "maxReplicas": autoscaling.max_replicas.max(autoscaling.min_replicas),
                "metrics": [{ "type": "Resource", "resource": {
                    "name": "cpu",
                    "target": { "type": "Utilization", "averageUtilization": autoscaling.target_cpu_utilization },
                }}],
            }}),
            instance,
        ));
    }
    Ok(objects)
}

/// The immutable ConfigMap of the spec's revision.
fn config_map(instance: &AuthStackInstance, revision: i64) -> Desired {
    // JSON is YAML; the instance reads either.
    let config = serde_json::to_string_pretty(&instance.spec.config).unwrap_or_default();
    object(
        Kind::ConfigMap,
        Names(name(instance)).config_map(revision),
        json!({
            "metadata": { "labels": { REVISION_LABEL: revision.to_string() } },
            "immutable": true,
            "data": { "config.yaml": config },
        }),
        instance,
    )
}

/// Random secrets generated when an instance's Secret is first created.
pub struct Generated {
    /// Base64 of 32 bytes.
    pub master_key: String,
    /// Hex, URL-safe in the database URL.
    pub db_password: String,
}

impl Generated {
    pub fn random() -> Generated {
        use base64::Engine;
        use rand::RngCore;
        let mut key = [0u8; 32];
        let mut password = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut key);
        rand::rngs::OsRng.fill_bytes(&mut password);
        Generated {
            master_key: base64::engine::general_purpose::STANDARD.encode(key),
            db_password: password.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// The Secrets the operator creates once (never updated, so never rotated by accident): the
/// instance's master key, and the database credentials of a CloudNativePG database.
pub fn secrets(instance: &AuthStackInstance, generated: &Generated) -> Vec<Desired> {
    let names = Names(name(instance));
    let mut objects = vec![object(
        Kind::Secret,
        names.keys_secret(),
        json!({ "type": "Opaque", "stringData": { "master-key": generated.master_key } }),
        instance,
    )];
    if instance.spec.database.type_ == DatabaseType::Cnpg {
        objects.push(object(
            Kind::Secret,
            names.db_credentials(),
            json!({
                "type": "kubernetes.io/basic-auth",
                "stringData": { "username": "authstack", "password": generated.db_password },
            }),
            instance,
        ));
    }
    objects
}

/// The namespace the control plane gives an account in a region.
pub fn account_namespace(account_id: &str) -> String {
    dns_label(&format!("authstack-{account_id}"))
}

/// The resource name of an instance (`ins_0192…` → `ins-0192…`).
pub fn resource_name(instance_id: &str) -> String {
    dns_label(instance_id)
}

fn dns_label(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .take(63)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    //! Snapshots of the rendered objects, as plain YAML under `operator/snapshots/` (the
    //! deployment checks also validate them against the Kubernetes schemas and policies).
    //! `UPDATE_SNAPSHOTS=1 cargo test -p authstack-operator` rewrites them.

    use super::*;
    use crate::crd::{Autoscaling, DatabaseSpec};

    fn snapshot(name: &str, objects: &[Desired]) {
        let mut text = String::from("# Rendered by the operator; a snapshot test compares it.\n");
        for object in objects {
            text.push_str("---\n");
            text.push_str(&serde_yaml::to_string(&object.object).expect("yaml"));
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("snapshots")
            .join(format!("{name}.yaml"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, &text).expect("write the snapshot");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} differs from the rendering; review and run with UPDATE_SNAPSHOTS=1\n--- rendered ---\n{text}",
            path.display()
        );
    }

    fn target(revision: i64) -> Target {
        Target {
            revision,
            from_spec: true,
        }
    }

    #[test]
    fn an_instance_on_its_own_cloudnativepg_database() {
        let instance = AuthStackInstance::test();
        let mut objects = secrets(
            &instance,
            &Generated {
                master_key: "bWFzdGVyLWtleS1mb3Itc25hcHNob3RzLW9ubHktMzI=".into(),
                db_password: "0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            },
        );
        objects.extend(render(&instance, &Settings::default(), target(1)).expect("render"));
        snapshot("cnpg", &objects);
    }

    #[test]
    fn an_enterprise_instance_with_hostnames_autoscaling_and_an_external_database() {
        let mut instance = AuthStackInstance::test().at_revision(7);
        instance.spec.hostnames = vec!["auth.customer.example".into()];
        instance.spec.autoscaling = Some(Autoscaling {
            min_replicas: 3,
            max_replicas: 12,
            target_cpu_utilization: 65,
        });
        instance.spec.database = DatabaseSpec::external("customer-db", "url");
        let settings = Settings {
            gateway_namespace: "authstack".into(),
            gateway_service: "authstack-gateway".into(),
            ingress_class: "nginx".into(),
            cluster_issuer: "letsencrypt-prod".into(),
            redis: None,
        };
        let objects = render(&instance, &settings, target(7)).expect("render");
        assert!(
            objects
                .iter()
                .all(|o| o.kind != Kind::PostgresCluster && o.kind != Kind::Secret)
        );
        let deployment = objects
            .iter()
            .find(|o| o.kind == Kind::Deployment)
            .expect("a deployment");
        assert!(
            deployment.object["spec"].get("replicas").is_none(),
            "the autoscaler owns the replica count"
        );
        snapshot("enterprise-external", &objects);
    }

    #[test]
    fn the_owners_address_reaches_the_instance_as_its_notify_email() {
        let args_of = |instance: &AuthStackInstance| {
            let objects = render(instance, &Settings::default(), target(1)).expect("render");
            let deployment = objects
                .iter()
                .find(|o| o.kind == Kind::Deployment)
                .expect("a deployment")
                .object
                .clone();
            deployment["spec"]["template"]["spec"]["containers"][0]["args"].clone()
        };
        let mut instance = AuthStackInstance::test();
        let without = args_of(&instance);
        assert!(!without.to_string().contains("--notify-email"));
        instance.spec.notify_email = Some("owner@customer.example".into());
        let with = args_of(&instance);
        assert!(
            with.as_array()
                .expect("args")
                .contains(&json!("--notify-email=owner@customer.example")),
            "{with}"
        );
    }

    #[test]
    fn a_region_with_redis_hands_its_url_to_every_instance_as_a_secret() {
        let url = "rediss://:region-password@redis.region.internal:6380";
        let settings = Settings {
            redis: Some(RegionRedis(url.into())),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("region-password"));
        let instance = AuthStackInstance::test();
        let objects = render(&instance, &settings, target(1)).expect("render");
        let secret = objects
            .iter()
            .find(|o| o.kind == Kind::Secret)
            .expect("the Redis secret");
        assert_eq!(secret.name, "ins-test-redis");
        assert_eq!(secret.object["stringData"]["url"], url);
        let deployment = objects
            .iter()
            .find(|o| o.kind == Kind::Deployment)
            .expect("a deployment");
        let env = &deployment.object["spec"]["template"]["spec"]["containers"][0]["env"];
        let redis = env
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == "AUTHSTACK_REDIS_URL")
            .expect("AUTHSTACK_REDIS_URL");
        assert_eq!(
            redis["valueFrom"]["secretKeyRef"],
            json!({ "name": "ins-test-redis", "key": "url" })
        );
        // Without a region Redis, no secret and no variable: the database keeps the counters.
        let objects = render(&instance, &Settings::default(), target(1)).expect("render");
        assert!(objects.iter().all(|o| o.kind != Kind::Secret));
        let text = serde_json::to_string(&objects.iter().map(|o| &o.object).collect::<Vec<_>>())
            .expect("json");
        assert!(!text.contains("AUTHSTACK_REDIS_URL"));
    }

    #[test]
    fn a_rollback_target_reuses_the_old_configmap() {
        let instance = AuthStackInstance::test().at_revision(3);
        let objects = render(
            &instance,
            &Settings::default(),
            Target {
                revision: 2,
                from_spec: false,
            },
        )
        .expect("render");
        assert!(objects.iter().all(|o| o.kind != Kind::ConfigMap));
        let deployment = objects
            .iter()
            .find(|o| o.kind == Kind::Deployment)
            .expect("a deployment");
        assert_eq!(
            deployment.object["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"],
            "ins-test-rev-2"
        );
    }

    #[test]
    fn an_external_database_needs_its_secret() {
        let mut instance = AuthStackInstance::test();
        instance.spec.database.type_ = crate::crd::DatabaseType::External;
        let err = render(&instance, &Settings::default(), target(1)).expect_err("refused");
        assert!(err.contains("secretRef"));
    }

    #[test]
    fn names_fit_kubernetes() {
        assert_eq!(
            resource_name("ins_0192f0c1a2b34c5d8e9f00112233aabb"),
            "ins-0192f0c1a2b34c5d8e9f00112233aabb"
        );
        assert_eq!(account_namespace("acc_0192F0C1"), "authstack-acc-0192f0c1");
        assert!(account_namespace(&"a".repeat(200)).len() <= 63);
    }
}

//! The `AuthStackInstance` custom resource (`authstack.io/v1alpha1`): one customer's live or
//! test instance in a region. The control plane writes the spec; the operator owns the status.

use std::fmt;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The finalizer that lets the operator apply the database deletion policy before the
/// resource goes away.
pub const FINALIZER: &str = "authstack.io/cleanup";

/// How many revision outcomes the status keeps.
pub const STATUS_HISTORY: usize = 10;

/// One AuthStack instance: a Deployment of the instance image running one configuration
/// revision, its database, and the objects around them.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "authstack.io",
    version = "v1alpha1",
    kind = "AuthStackInstance",
    plural = "authstackinstances",
    shortname = "asi",
    category = "authstack",
    namespaced,
    status = "AuthStackInstanceStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Revision","type":"integer","jsonPath":".status.currentRevision"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.ready"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AuthStackInstanceSpec {
    /// The customer account that owns the instance (`acc_…`).
    pub account_id: String,
    /// The control plane's id of the instance (`ins_…`): the `aud` claim of its tokens.
    pub instance_id: String,
    pub environment: Environment,
    /// The configuration revision to run. Changing it rolls the instance to that revision.
    #[schemars(range(min = 1))]
    pub revision: i64,
    /// The configuration of `revision` (the instance's `InstanceConfig`). Each revision is kept
    /// in its own immutable ConfigMap, so older revisions can be rolled back to.
    #[schemars(schema_with = "preserve_unknown_fields")]
    pub config: serde_json::Value,
    /// The instance image, e.g. `ghcr.io/authstack/authstack-instance:0.1.0`.
    pub image: String,
    /// The `iss` claim and public base URL the instance announces.
    pub issuer: String,
    /// Earlier issuers whose unexpired tokens the instance still accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_issuers: Vec<String>,
    /// The Secret (written by the control plane) holding `gateway-secret` and `admin-key`.
    pub gateway_secret_ref: String,
    #[serde(default = "one")]
    #[schemars(range(min = 0, max = 100))]
    pub replicas: i32,
    #[serde(default)]
    pub resources: Resources,
    /// Horizontal autoscaling, where the plan allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// Custom hostnames routed to this instance through the gateway, with TLS certificates
    /// from cert-manager.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Where the instance mails its owner, e.g. when it disables a webhook endpoint after a
    /// sustained failure (`--notify-email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_email: Option<String>,
    pub database: DatabaseSpec,
    /// Scale to zero, keeping the database.
    #[serde(default)]
    pub suspended: bool,
    /// Return to the last healthy revision when a rollout does not become available within
    /// `progressDeadlineSeconds`.
    #[serde(default = "yes")]
    pub auto_rollback: bool,
    #[serde(default = "default_progress_deadline")]
    #[schemars(range(min = 30, max = 3600))]
    pub progress_deadline_seconds: i32,
    /// How many revision ConfigMaps are kept (the plan's history); the current and last
    /// healthy revisions are always kept.
    #[serde(default = "default_history")]
    #[schemars(range(min = 1, max = 1000))]
    pub revision_history_limit: i32,
    /// What happens to the database when the resource is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

fn one() -> i32 {
    1
}

fn yes() -> bool {
    true
}

fn default_progress_deadline() -> i32 {
    600
}

fn default_history() -> i32 {
    10
}

fn preserve_unknown_fields(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Live,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// CPU and memory of one instance pod, as Kubernetes quantities.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    pub cpu_request: String,
    pub memory_request: String,
    pub cpu_limit: String,
    pub memory_limit: String,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            cpu_request: "100m".into(),
            memory_request: "128Mi".into(),
            cpu_limit: "1".into(),
            memory_limit: "256Mi".into(),
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    #[schemars(range(min = 1, max = 100))]
    pub min_replicas: i32,
    #[schemars(range(min = 1, max = 100))]
    pub max_replicas: i32,
    #[serde(default = "default_cpu_target")]
    #[schemars(range(min = 10, max = 100))]
    pub target_cpu_utilization: i32,
}

fn default_cpu_target() -> i32 {
    70
}

/// Where the instance keeps its data: `type: cnpg` (a CloudNativePG `Cluster` of its own,
/// with `instances`, `storage` and `storageClass`) or `type: external` (a Secret key holding a
/// `postgres://` URL, `secretRef`).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSpec {
    #[serde(rename = "type")]
    pub type_: DatabaseType,
    /// cnpg: PostgreSQL instances (1 = no replica).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 9))]
    pub instances: Option<i32>,
    /// cnpg: volume size per PostgreSQL instance, e.g. `1Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// external: the Secret key with the database URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseType {
    Cnpg,
    External,
}

/// A [`DatabaseSpec`] with the fields its type needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Database<'a> {
    Cnpg {
        instances: i32,
        storage: &'a str,
        storage_class: Option<&'a str>,
    },
    External {
        secret_ref: &'a SecretKeyRef,
    },
}

impl DatabaseSpec {
    pub fn cnpg(instances: i32, storage: &str) -> DatabaseSpec {
        DatabaseSpec {
            type_: DatabaseType::Cnpg,
            instances: Some(instances),
            storage: Some(storage.to_owned()),
            storage_class: None,
            secret_ref: None,
        }
    }

    pub fn external(name: &str, key: &str) -> DatabaseSpec {
        DatabaseSpec {
            type_: DatabaseType::External,
            instances: None,
            storage: None,
            storage_class: None,
            secret_ref: Some(SecretKeyRef {
                name: name.to_owned(),
                key: key.to_owned(),
            }),
        }
    }

    /// The database this spec describes; an external one without `secretRef` is refused.
    pub fn resolve(&self) -> Result<Database<'_>, &'static str> {
        match self.type_ {
            DatabaseType::Cnpg => Ok(Database::Cnpg {
                instances: self.instances.unwrap_or(1),
                storage: self.storage.as_deref().unwrap_or("1Gi"),
                storage_class: self.storage_class.as_deref(),
            }),
            DatabaseType::External => match &self.secret_ref {
                Some(secret_ref) => Ok(Database::External { secret_ref }),
                None => {
                    Err("spec.database.secretRef is required when spec.database.type is external")
                }
            },
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Keep the database (and its credentials) when the instance is deleted.
    #[default]
    Retain,
    /// Delete the database with the instance.
    Delete,
}

/// What the operator observed, written only when it changes.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthStackInstanceStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The revision the pods run (or are rolling to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<i64>,
    /// The newest revision that became available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_healthy_revision: Option<i64>,
    /// A revision whose rollout failed and was rolled back; the operator does not retry it
    /// until `spec.revision` changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_revision: Option<i64>,
    /// In-cluster base URL of the instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub ready_replicas: i32,
    /// `ready/desired`, for `kubectl get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    /// The latest revisions and their outcomes, newest first.
    #[serde(default)]
    pub history: Vec<RevisionOutcome>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum Phase {
    Provisioning,
    Ready,
    Updating,
    Degraded,
    Suspended,
    Deleting,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Provisioning => "Provisioning",
            Phase::Ready => "Ready",
            Phase::Updating => "Updating",
            Phase::Degraded => "Degraded",
            Phase::Suspended => "Suspended",
            Phase::Deleting => "Deleting",
        }
    }
}

/// A Kubernetes-style condition (`Ready`, `Progressing`, `Degraded`, `DatabaseReady`,
/// `RevisionAccepted`).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    #[serde(default)]
    pub message: String,
    /// RFC 3339.
    pub last_transition_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionOutcome {
    pub revision: i64,
    pub outcome: Outcome,
    /// RFC 3339.
    pub at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum Outcome {
    /// Became available.
    Deployed,
    /// Did not become available within the progress deadline.
    Failed,
    /// Deployed again by an automatic rollback.
    RolledBack,
}

impl AuthStackInstance {
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
    }
}

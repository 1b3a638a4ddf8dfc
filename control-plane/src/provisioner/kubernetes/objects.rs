//! The objects the provisioner writes for an instance: its namespace, its gateway Secret and
//! its `AuthStackInstance` resource.

use super::*;

/// The namespace of an account's instances (the platform instance: `authstack-platform`).
pub fn namespace_of(account_id: Option<&str>) -> String {
    render::account_namespace(account_id.unwrap_or(PLATFORM_ACCOUNT))
}

/// The Secret holding an instance's gateway secret and admin key.
pub fn gateway_secret_name(instance_id: &str) -> String {
    format!("{}-gateway", render::resource_name(instance_id))
}

/// The configuration history a plan keeps, in revisions: one a day (a revision a day is more
/// than most instances see), within the resource's 1 to 1000.
pub fn history_limit(version_history_days: u32) -> i32 {
    to_i32(version_history_days.clamp(1, 1000))
}

pub(super) fn to_i32(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}

pub(super) fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Label values allow `[A-Za-z0-9_.-]`, at most 63, starting and ending alphanumeric.
pub(super) fn label_value(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(63)
        .collect();
    kept.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

pub(super) fn labels(
    account_id: Option<&str>,
    instance: Option<(&str, Environment)>,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_owned(), MANAGER.to_owned()),
        (
            ACCOUNT_LABEL.to_owned(),
            label_value(account_id.unwrap_or(PLATFORM_ACCOUNT)),
        ),
    ]);
    if let Some((id, environment)) = instance {
        labels.insert(INSTANCE_ID_LABEL.to_owned(), label_value(id));
        labels.insert(
            ENVIRONMENT_LABEL.to_owned(),
            environment.as_str().to_owned(),
        );
    }
    labels
}

/// The account's namespace as the control plane applies it.
pub fn namespace_for(account_id: Option<&str>) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(namespace_of(account_id)),
            labels: Some(labels(account_id, None)),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// The Secret the resource's `gatewaySecretRef` names: what the gateway presents to the
/// instance. (The instance's master key is the operator's, see the module documentation.)
pub fn secret_for(spec: &InstanceSpec) -> Secret {
    let data = BTreeMap::from([
        (
            "gateway-secret".to_owned(),
            ByteString(
                spec.secrets
                    .gateway_secret
                    .expose_secret()
                    .as_bytes()
                    .to_vec(),
            ),
        ),
        (
            "admin-key".to_owned(),
            ByteString(spec.secrets.admin_key.expose_secret().as_bytes().to_vec()),
        ),
    ]);
    Secret {
        metadata: ObjectMeta {
            name: Some(gateway_secret_name(&spec.id)),
            namespace: Some(namespace_of(spec.account_id.as_deref())),
            labels: Some(labels(
                spec.account_id.as_deref(),
                Some((&spec.id, spec.environment)),
            )),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

/// The `AuthStackInstance` that runs `spec`.
///
/// Size, from the plan's capacity: the live instance gets the plan's replicas (Starter 1,
/// Pro 2, Enterprise 3 and CPU autoscaling up to 10) and PostgreSQL instances; the test
/// instance one pod and one PostgreSQL instance, since it serves development traffic. Both get
/// the plan's per-pod resources and storage. The database is CloudNativePG, kept when the
/// resource is deleted by hand (`Retain`; [`Provisioner::delete`] deletes it on purpose), and
/// a failed rollout returns to the last healthy revision by itself.
pub fn cr_for(
    spec: &InstanceSpec,
    options: &KubernetesOptions,
) -> anyhow::Result<AuthStackInstance> {
    let name = render::resource_name(&spec.id);
    let capacity = &spec.capacity;
    let live = spec.environment == Environment::Live;
    let replicas = if live { capacity.replicas } else { 1 };
    let autoscaling = capacity
        .max_replicas
        .filter(|&max| live && max > replicas)
        .map(|max| Autoscaling {
            min_replicas: to_i32(replicas),
            max_replicas: to_i32(max),
            target_cpu_utilization: 70,
        });
    let database_instances = if live { capacity.database_instances } else { 1 };
    let config = serde_json::to_value(&spec.config).context("serialising the configuration")?;
    let mut instance = AuthStackInstance::new(
        &name,
        AuthStackInstanceSpec {
            account_id: spec
                .account_id
                .clone()
                .unwrap_or_else(|| PLATFORM_ACCOUNT.to_owned()),
            instance_id: spec.id.clone(),
            environment: match spec.environment {
                Environment::Live => crd::Environment::Live,
                Environment::Test => crd::Environment::Test,
            },
            revision: spec.revision,
            config,
            image: options.image.clone(),
            issuer: spec.issuer.clone(),
            previous_issuers: spec.previous_issuers.clone(),
            gateway_secret_ref: gateway_secret_name(&spec.id),
            replicas: to_i32(replicas),
            resources: Resources {
                cpu_request: capacity.cpu_request.clone(),
                memory_request: capacity.memory_request.clone(),
                cpu_limit: capacity.cpu_limit.clone(),
                memory_limit: capacity.memory_limit.clone(),
            },
            autoscaling,
            hostnames: spec.hostnames.clone(),
            notify_email: spec.notify_email.clone(),
            database: DatabaseSpec::cnpg(to_i32(database_instances), &capacity.database_storage),
            suspended: false,
            auto_rollback: true,
            progress_deadline_seconds: to_i32(options.progress_deadline.as_secs().clamp(30, 3600)),
            revision_history_limit: history_limit(spec.version_history_days),
            deletion_policy: DeletionPolicy::Retain,
        },
    );
    instance.metadata.namespace = Some(namespace_of(spec.account_id.as_deref()));
    instance.metadata.labels = Some(labels(
        spec.account_id.as_deref(),
        Some((&spec.id, spec.environment)),
    ));
    Ok(instance)
}

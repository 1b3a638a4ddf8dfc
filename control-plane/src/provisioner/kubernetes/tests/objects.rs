//! The objects the provisioner writes, as pure functions of the spec: the resource, its size per
//! plan and environment, the namespace and the gateway Secret.

use super::*;

#[test]
fn the_resource_carries_the_spec_and_the_live_size_of_the_plan() {
    let spec = spec("pro", Environment::Live);
    let resource = cr_for(&spec, &options()).expect("resource");
    assert_eq!(resource.metadata.name.as_deref(), Some(NAME));
    assert_eq!(resource.metadata.namespace.as_deref(), Some(NAMESPACE));
    let labels = resource.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels[MANAGED_BY_LABEL], "authstack-control-plane");
    assert_eq!(labels[ACCOUNT_LABEL], "acc_test");
    assert_eq!(labels[INSTANCE_ID_LABEL], "ins_test");
    assert_eq!(labels[ENVIRONMENT_LABEL], "live");

    let cr = &resource.spec;
    assert_eq!(cr.account_id, "acc_test");
    assert_eq!(cr.instance_id, "ins_test");
    assert_eq!(cr.environment, crd::Environment::Live);
    assert_eq!(cr.revision, 1);
    assert_eq!(
        cr.config["organizations"]["max_members_per_organization"],
        500
    );
    assert_eq!(
        cr.config,
        serde_json::to_value(&spec.config).expect("config JSON")
    );
    assert_eq!(cr.image, "ghcr.io/authstack/authstack-instance:test");
    assert_eq!(cr.issuer, "https://api.authstack.example");
    assert_eq!(cr.gateway_secret_ref, "ins-test-gateway");
    assert_eq!(cr.replicas, 2);
    assert_eq!(cr.autoscaling, None);
    assert_eq!(
        cr.resources,
        Resources {
            cpu_request: "250m".into(),
            memory_request: "128Mi".into(),
            cpu_limit: "2".into(),
            memory_limit: "512Mi".into(),
        }
    );
    assert_eq!(cr.database, DatabaseSpec::cnpg(2, "10Gi"));
    assert!(cr.hostnames.is_empty());
    assert!(!cr.suspended);
    assert!(cr.auto_rollback);
    assert_eq!(cr.progress_deadline_seconds, 300);
    assert_eq!(cr.revision_history_limit, 365);
    assert_eq!(cr.deletion_policy, DeletionPolicy::Retain);

    // As sent: kind and apiVersion, no status.
    let body = serde_json::to_value(&resource).expect("JSON");
    assert_eq!(body["apiVersion"], "authstack.io/v1alpha1");
    assert_eq!(body["kind"], "AuthStackInstance");
    assert!(body.get("status").is_none(), "{body}");
}

#[test]
fn the_owners_address_is_written_to_the_resource() {
    let mut spec = spec("pro", Environment::Live);
    assert_eq!(
        cr_for(&spec, &options())
            .expect("resource")
            .spec
            .notify_email,
        None
    );
    spec.notify_email = Some("owner@customer.example".into());
    let cr = cr_for(&spec, &options()).expect("resource").spec;
    assert_eq!(cr.notify_email.as_deref(), Some("owner@customer.example"));
}

#[test]
fn a_verified_custom_domain_becomes_a_hostname_of_the_resource() {
    let mut spec = spec("pro", Environment::Live);
    spec.issuer = "https://auth.customer.example".into();
    spec.previous_issuers = vec!["https://api.authstack.example/i/ins_test".into()];
    spec.hostnames = vec!["auth.customer.example".into()];
    let cr = cr_for(&spec, &options()).expect("resource").spec;
    assert_eq!(cr.hostnames, ["auth.customer.example"]);
    assert_eq!(cr.issuer, "https://auth.customer.example");
    assert_eq!(
        cr.previous_issuers,
        ["https://api.authstack.example/i/ins_test"]
    );
}

#[test]
fn enterprise_scales_out_and_test_instances_stay_small() {
    let live = cr_for(&spec("enterprise", Environment::Live), &options()).expect("resource");
    assert_eq!(live.spec.replicas, 3);
    assert_eq!(
        live.spec.autoscaling,
        Some(Autoscaling {
            min_replicas: 3,
            max_replicas: 10,
            target_cpu_utilization: 70,
        })
    );
    assert_eq!(live.spec.database, DatabaseSpec::cnpg(3, "50Gi"));
    assert_eq!(live.spec.revision_history_limit, 1000, "3650 days, capped");

    let test = cr_for(&spec("enterprise", Environment::Test), &options()).expect("resource");
    assert_eq!(test.spec.replicas, 1);
    assert_eq!(test.spec.autoscaling, None);
    assert_eq!(test.spec.database, DatabaseSpec::cnpg(1, "50Gi"));
    assert_eq!(test.spec.resources.memory_limit, "1Gi");
    assert_eq!(test.spec.environment, crd::Environment::Test);

    let starter = cr_for(&spec("starter", Environment::Live), &options()).expect("resource");
    assert_eq!(starter.spec.replicas, 1);
    assert_eq!(starter.spec.database, DatabaseSpec::cnpg(1, "1Gi"));
    assert_eq!(starter.spec.revision_history_limit, 30);
}

#[test]
fn the_platform_instance_is_filed_under_the_platform_account() {
    let mut spec = spec("starter", Environment::Live);
    spec.account_id = None;
    let resource = cr_for(&spec, &options()).expect("resource");
    assert_eq!(
        resource.metadata.namespace.as_deref(),
        Some("authstack-platform")
    );
    assert_eq!(resource.spec.account_id, "platform");
    assert_eq!(
        namespace_for(None).metadata.name.as_deref(),
        Some("authstack-platform")
    );
}

#[test]
fn the_secret_holds_what_the_gateway_presents_and_not_the_master_key() {
    let secret = secret_for(&spec("starter", Environment::Live));
    assert_eq!(secret.metadata.name.as_deref(), Some("ins-test-gateway"));
    assert_eq!(secret.metadata.namespace.as_deref(), Some(NAMESPACE));
    let data = secret.data.clone().unwrap_or_default();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(keys, ["admin-key", "gateway-secret"]);
    assert_eq!(data["gateway-secret"].0, b"asg_gateway");
    assert_eq!(data["admin-key"].0, b"ask_admin_key");
    assert_eq!(secret.type_.as_deref(), Some("Opaque"));
}

#[test]
fn options_keep_the_progress_deadline_below_the_ready_timeout() {
    let settings = KubernetesConfig {
        ready_timeout: Duration::from_secs(120),
        ..KubernetesConfig::default()
    };
    let options = KubernetesOptions::from_config(&settings);
    assert_eq!(options.progress_deadline, Duration::from_secs(96));
    let options = KubernetesOptions::from_config(&KubernetesConfig::default());
    assert_eq!(options.progress_deadline, Duration::from_secs(300));
    assert!(
        options
            .image
            .starts_with("ghcr.io/authstack/authstack-instance:")
    );
}

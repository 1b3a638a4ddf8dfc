//! Scenarios of databases when CloudNativePG is not there.

use crate::crd::{AuthStackInstance, AuthStackInstanceStatus, DatabaseSpec, Phase};
use crate::fixtures::{Call, context_with};
use crate::render::Kind;
use crate::watches::Cnpg;

use super::run;

fn condition<'a>(status: &'a AuthStackInstanceStatus, type_: &str) -> (&'a str, &'a str, &'a str) {
    let condition = status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .expect("the condition");
    (
        condition.status.as_str(),
        condition.reason.as_str(),
        condition.message.as_str(),
    )
}

#[tokio::test]
async fn without_cloudnativepg_an_instance_on_cnpg_says_why_and_gets_nothing() {
    let (ctx, verifier, _cache) = context_with(Cnpg::Missing);
    let instance = AuthStackInstance::test();
    // No Cluster (its CRD is not there), and no pods that would wait for it.
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![Call::patch_status(&instance)],
    )
    .await;
    result.expect("reconciled");
    let status: AuthStackInstanceStatus =
        serde_json::from_value(made[0].body["status"].clone()).expect("a status");
    assert_eq!(status.phase, Some(Phase::Degraded));
    let (state, reason, message) = condition(&status, "DatabaseReady");
    assert_eq!((state, reason), ("False", "DatabaseUnavailable"));
    assert!(
        message.contains("clusters.postgresql.cnpg.io") && message.contains("--no-cnpg"),
        "{message}"
    );
    assert_eq!(condition(&status, "Degraded").0, "True");
    assert_eq!(condition(&status, "Ready").0, "False");
}

#[tokio::test]
async fn with_cnpg_disabled_an_instance_on_cnpg_is_told_to_use_an_external_database() {
    let (ctx, verifier, _cache) = context_with(Cnpg::Disabled);
    let instance = AuthStackInstance::test();
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![Call::patch_status(&instance)],
    )
    .await;
    result.expect("reconciled");
    let status: AuthStackInstanceStatus =
        serde_json::from_value(made[0].body["status"].clone()).expect("a status");
    let (state, reason, message) = condition(&status, "DatabaseReady");
    assert_eq!((state, reason), ("False", "DatabaseUnavailable"));
    assert!(message.contains("external"), "{message}");
}

#[tokio::test]
async fn without_cloudnativepg_an_instance_on_an_external_database_is_made() {
    let (ctx, verifier, _cache) = context_with(Cnpg::Missing);
    let mut instance = AuthStackInstance::test();
    instance.spec.database = DatabaseSpec::external("customer-db", "url");
    let calls = vec![
        Call::create(Kind::Secret),
        Call::apply(Kind::ServiceAccount, "ins-test"),
        Call::apply(Kind::ConfigMap, "ins-test-rev-1"),
        Call::apply(Kind::Deployment, "ins-test"),
        Call::apply(Kind::Service, "ins-test"),
        Call::apply(Kind::PodDisruptionBudget, "ins-test"),
        Call::apply(Kind::NetworkPolicy, "ins-test"),
        Call::patch_status(&instance),
    ];
    let (result, made) = run(instance, ctx, verifier, calls).await;
    result.expect("reconciled");
    let status: AuthStackInstanceStatus =
        serde_json::from_value(made[7].body["status"].clone()).expect("a status");
    assert_eq!(condition(&status, "DatabaseReady").1, "External");
}

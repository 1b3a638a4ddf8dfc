//! Scenarios of revisions: a configuration changed under the same number, and the events of
//! successive revisions.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use kube::runtime::controller::Action;
use serde_json::json;

use super::run;
use crate::controller::reconcile;
use crate::crd::{AuthStackInstance, AuthStackInstanceStatus};
use crate::fixtures::{Call, context, settled};
use crate::render::Kind;

#[tokio::test]
async fn a_changed_config_under_the_same_revision_is_refused_in_the_status_and_an_event() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let mut instance = instance.clone().with_status(settled(&instance, &ctx));
    instance.spec.config = json!({ "passwords": { "min_length": 6 } });
    instance.metadata.generation = Some(2);
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        // Nothing is applied.
        vec![Call::event(), Call::patch_status(&instance)],
    )
    .await;
    assert_eq!(
        result.expect("reconciled"),
        Action::requeue(Duration::from_secs(300))
    );
    assert_eq!(made[0].body["type"], "Warning");
    assert_eq!(made[0].body["reason"], "RevisionImmutable");
    assert_eq!(made[0].body["related"]["name"], "ins-test-rev-1");
    let status: AuthStackInstanceStatus =
        serde_json::from_value(made[1].body["status"].clone()).expect("a status");
    assert_eq!(
        status.observed_generation,
        Some(1),
        "generation 2 was not acted on"
    );
    let refused = status
        .conditions
        .iter()
        .find(|c| c.type_ == "RevisionAccepted")
        .expect("RevisionAccepted");
    assert_eq!(
        (refused.status.as_str(), refused.reason.as_str()),
        ("False", "RevisionImmutable")
    );
    assert_eq!(refused.observed_generation, Some(2));
    assert!(
        refused.message.contains("revision 1's ConfigMap differs"),
        "{}",
        refused.message
    );

    // The next reconcile (the status write triggers one) has nothing to add.
    let (ctx, verifier, mut cache) = context();
    cache.converged(&AuthStackInstance::test(), 1);
    let instance = instance.with_status(status);
    let (result, made) = run(instance.clone(), ctx.clone(), verifier, vec![]).await;
    result.expect("reconciled");
    assert!(made.is_empty());

    // A new revision number takes the configuration, and the generation.
    let (ctx, verifier, mut cache) = context();
    cache.converged(&AuthStackInstance::test(), 1);
    let mut instance = instance.at_revision(2);
    instance.spec.config = json!({ "passwords": { "min_length": 6 } });
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![
            Call::apply(Kind::ConfigMap, "ins-test-rev-2"),
            Call::apply(Kind::Deployment, "ins-test"),
            Call::patch_status(&instance),
        ],
    )
    .await;
    result.expect("reconciled");
    let status: AuthStackInstanceStatus =
        serde_json::from_value(made[2].body["status"].clone()).expect("a status");
    assert_eq!(status.observed_generation, Some(3));
    let accepted = status
        .conditions
        .iter()
        .find(|c| c.type_ == "RevisionAccepted")
        .expect("RevisionAccepted");
    assert_eq!(accepted.status, "True");
}

/// The event recorder folds events of one reason into a series that keeps its first note:
/// each revision's event must be its own.
#[tokio::test]
async fn each_revision_gets_its_own_event() {
    let (ctx, verifier, mut cache) = context();
    let first = AuthStackInstance::test();
    cache.converged(&first, 1);
    let second = first
        .clone()
        .with_status(settled(&first, &ctx))
        .at_revision(2);
    let scenario = verifier.run(vec![
        Call::event(),
        Call::patch_status(&first),
        Call::event(),
        Call::patch_status(&second),
    ]);
    reconcile(Arc::new(first), ctx.clone())
        .await
        .expect("revision 1 reconciled");
    // Revision 2 rolled out too.
    cache.converged(&second, 2);
    reconcile(Arc::new(second), ctx)
        .await
        .expect("revision 2 reconciled");
    let made = tokio::time::timeout(Duration::from_secs(3), scenario)
        .await
        .expect("every expected call was made")
        .expect("two events created, neither folded into the other");
    let events = [&made[0], &made[2]];
    for (event, revision) in events.iter().zip([1, 2]) {
        assert_eq!(event.method, Method::POST);
        assert_eq!(event.body["reason"], "Deployed");
        assert_eq!(
            event.body["note"],
            format!("revision {revision} is available")
        );
        assert_eq!(
            event.body["related"]["name"],
            format!("ins-test-rev-{revision}")
        );
    }
}

//! Reconcile scenarios against a mocked API server: each asserts the exact API calls.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use kube::runtime::controller::Action;
use serde_json::json;

use crate::controller::{self, Error, backoff, reconcile};
use crate::crd::{AuthStackInstance, Autoscaling, DeletionPolicy, Outcome, Phase};
use crate::fixtures::{self, Call, Made, Reply, context, settled};
use crate::render::Kind;

mod databases;
mod revisions;

async fn run(
    instance: AuthStackInstance,
    ctx: Arc<controller::Context>,
    verifier: fixtures::ApiServerVerifier,
    calls: Vec<Call>,
) -> (Result<Action, Error>, Vec<Made>) {
    let scenario = verifier.run(calls);
    let result = reconcile(Arc::new(instance), ctx).await;
    let made = tokio::time::timeout(Duration::from_secs(3), scenario)
        .await
        .expect("every expected call was made")
        .expect("the scenario's assertions hold");
    (result, made)
}

#[tokio::test]
async fn a_new_instance_gets_the_finalizer_first() {
    let (ctx, verifier, _cache) = context();
    let instance = AuthStackInstance::test().without_finalizer();
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![Call::patch_instance(&AuthStackInstance::test())],
    )
    .await;
    assert_eq!(result.expect("reconciled"), Action::await_change());
    assert_eq!(
        made[0].body[1],
        json!({ "op": "add", "path": "/metadata/finalizers", "value": ["authstack.io/cleanup"] })
    );
}

#[tokio::test]
async fn creation_applies_every_object_with_one_field_manager() {
    let (ctx, verifier, _cache) = context();
    let instance = AuthStackInstance::test();
    let calls = vec![
        Call::create(Kind::Secret),
        Call::create(Kind::Secret),
        Call::apply(Kind::ServiceAccount, "ins-test"),
        Call::apply(Kind::ConfigMap, "ins-test-rev-1"),
        Call::apply(Kind::PostgresCluster, "ins-test-db"),
        Call::apply(Kind::Deployment, "ins-test"),
        Call::apply(Kind::Service, "ins-test"),
        Call::apply(Kind::PodDisruptionBudget, "ins-test"),
        Call::apply(Kind::NetworkPolicy, "ins-test"),
        Call::patch_status(&instance),
    ];
    let (result, made) = run(instance, ctx, verifier, calls).await;
    assert_eq!(
        result.expect("reconciled"),
        Action::requeue(Duration::from_secs(15))
    );
    for call in made.iter().filter(|m| m.method == Method::PATCH) {
        assert!(
            call.query.contains("fieldManager=authstack-operator")
                && call.query.contains("force=true"),
            "{} is a forced apply by the operator: {}",
            call.path,
            call.query
        );
    }
    // Created Secrets name their field manager too (else the API server says `unknown`).
    for call in made.iter().filter(|m| m.method == Method::POST) {
        assert!(
            call.query.contains("fieldManager=authstack-operator"),
            "{} names the operator: {}",
            call.path,
            call.query
        );
    }
    assert_eq!(made[0].body["metadata"]["name"], "ins-test-keys");
    assert_eq!(made[1].body["metadata"]["name"], "ins-test-db-credentials");
    assert_eq!(made[1].body["type"], "kubernetes.io/basic-auth");
    let status = &made[9].body["status"];
    assert_eq!(status["phase"], "Provisioning");
    assert_eq!(status["currentRevision"], 1);
    assert_eq!(
        status["endpoint"],
        "http://ins-test.authstack-acc-test.svc:8080"
    );
    assert_eq!(status["conditions"][3]["type"], "DatabaseReady");
    assert_eq!(status["conditions"][3]["status"], "False");
}

#[tokio::test]
async fn a_converged_instance_costs_no_api_call() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let instance = instance.clone().with_status(settled(&instance, &ctx));
    assert_eq!(
        instance.status.as_ref().and_then(|s| s.phase),
        Some(Phase::Ready)
    );
    let (result, made) = run(instance, ctx, verifier, vec![]).await;
    assert_eq!(
        result.expect("reconciled"),
        Action::requeue(Duration::from_secs(300))
    );
    assert!(made.is_empty());
}

#[tokio::test]
async fn drift_is_corrected_and_only_the_drifted_object_is_written() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let instance = instance.clone().with_status(settled(&instance, &ctx));
    // Someone scaled the Deployment by hand and removed the NetworkPolicy.
    let mut drifted = fixtures::available(
        crate::render::render(
            &instance,
            &Default::default(),
            crate::status::target(&instance.spec, &Default::default()),
        )
        .expect("render")
        .into_iter()
        .find(|o| o.kind == Kind::Deployment)
        .expect("a deployment")
        .object,
    );
    drifted["spec"]["replicas"] = json!(5);
    cache.insert(Kind::Deployment, drifted);
    cache.remove(Kind::NetworkPolicy, "ins-test");
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![
            Call::apply(Kind::Deployment, "ins-test"),
            Call::apply(Kind::NetworkPolicy, "ins-test"),
            // The cache shows the hand-scaled Deployment (2 of 5 ready) until the watch catches up.
            Call::patch_status(&instance),
        ],
    )
    .await;
    result.expect("reconciled");
    assert_eq!(made[0].body["spec"]["replicas"], 2);
    assert_eq!(made[2].body["status"]["ready"], "2/5");
}

#[tokio::test]
async fn a_new_revision_gets_its_own_configmap_and_rolls_the_deployment() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let healthy = settled(&instance, &ctx);
    let instance = instance.with_status(healthy).at_revision(2);
    let calls = vec![
        Call::apply(Kind::ConfigMap, "ins-test-rev-2"),
        Call::apply(Kind::Deployment, "ins-test"),
        Call::patch_status(&instance),
    ];
    let (result, made) = run(instance, ctx, verifier, calls).await;
    result.expect("reconciled");
    assert_eq!(made[0].body["immutable"], true);
    assert!(
        made[0].body["data"]["config.yaml"]
            .as_str()
            .unwrap_or_default()
            .contains("14")
    );
    let template = &made[1].body["spec"]["template"];
    assert_eq!(
        template["metadata"]["annotations"]["authstack.io/revision"],
        "2"
    );
    assert_eq!(
        template["spec"]["volumes"][0]["configMap"]["name"],
        "ins-test-rev-2"
    );
    assert_eq!(
        made[1].body["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    let status = &made[2].body["status"];
    assert_eq!(status["phase"], "Updating");
    assert_eq!(status["currentRevision"], 2);
    assert_eq!(status["lastHealthyRevision"], 1);
}

#[tokio::test]
async fn a_failed_rollout_rolls_back_to_the_last_healthy_revision() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let healthy = settled(&instance, &ctx);
    let instance = instance.with_status(healthy).at_revision(2);
    cache.stuck_at(&instance, 2);

    // First pass: the failure is seen, recorded and announced.
    let (result, made) = run(
        instance.clone(),
        ctx.clone(),
        verifier,
        vec![Call::event(), Call::patch_status(&instance)],
    )
    .await;
    assert_eq!(result.expect("reconciled"), Action::requeue(Duration::ZERO));
    assert_eq!(made[0].body["reason"], "RolloutFailed");
    assert_eq!(made[0].body["type"], "Warning");
    let status: crate::crd::AuthStackInstanceStatus =
        serde_json::from_value(made[1].body["status"].clone()).expect("a status");
    assert_eq!(status.failed_revision, Some(2));
    assert_eq!(status.phase, Some(Phase::Degraded));
    assert_eq!(status.history[0].outcome, Outcome::Failed);
    let degraded = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Degraded")
        .expect("Degraded");
    assert_eq!(
        (degraded.status.as_str(), degraded.reason.as_str()),
        ("True", "RolloutFailed")
    );
    assert!(
        degraded.message.contains("rolling back to revision 1"),
        "{}",
        degraded.message
    );

    // Second pass: the Deployment goes back to revision 1's ConfigMap; no new ConfigMap.
    let (ctx, verifier, mut cache) = context();
    cache.converged(&instance, 1);
    cache.stuck_at(&instance, 2);
    let instance = instance.with_status(status);
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![
            Call::apply(Kind::Deployment, "ins-test"),
            Call::patch_status(&instance),
        ],
    )
    .await;
    result.expect("reconciled");
    let template = &made[0].body["spec"]["template"];
    assert_eq!(
        template["metadata"]["annotations"]["authstack.io/revision"],
        "1"
    );
    assert_eq!(
        template["spec"]["volumes"][0]["configMap"]["name"],
        "ins-test-rev-1"
    );
}

#[tokio::test]
async fn a_rolled_back_instance_settles_degraded_until_the_spec_moves_on() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let mut status = settled(&instance, &ctx);
    status.failed_revision = Some(2);
    let instance = instance.with_status(status).at_revision(2);
    let (result, made) = run(
        instance.clone(),
        ctx.clone(),
        verifier,
        vec![Call::event(), Call::patch_status(&instance)],
    )
    .await;
    result.expect("reconciled");
    assert_eq!(made[0].body["reason"], "RolledBack");
    let status: crate::crd::AuthStackInstanceStatus =
        serde_json::from_value(made[1].body["status"].clone()).expect("a status");
    assert_eq!(status.current_revision, Some(1));
    assert_eq!(status.phase, Some(Phase::Degraded));
    assert_eq!(status.history[0].outcome, Outcome::RolledBack);
}

#[tokio::test]
async fn without_auto_rollback_a_failed_rollout_is_reported_and_left() {
    let (ctx, verifier, mut cache) = context();
    let mut instance = AuthStackInstance::test();
    instance.spec.auto_rollback = false;
    cache.converged(&instance, 1);
    let healthy = settled(&instance, &ctx);
    let instance = instance.with_status(healthy).at_revision(2);
    cache.stuck_at(&instance, 2);
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![Call::event(), Call::patch_status(&instance)],
    )
    .await;
    assert_eq!(
        result.expect("reconciled"),
        Action::requeue(Duration::from_secs(300))
    );
    assert_eq!(made[0].body["reason"], "ProgressDeadlineExceeded");
    assert_eq!(made[1].body["status"]["phase"], "Degraded");
    assert!(made[1].body["status"].get("failedRevision").is_none());
}

#[tokio::test]
async fn suspension_scales_to_zero_and_removes_the_autoscaler_keeping_data() {
    let (ctx, verifier, mut cache) = context();
    let mut instance = AuthStackInstance::test();
    instance.spec.autoscaling = Some(Autoscaling {
        min_replicas: 2,
        max_replicas: 6,
        target_cpu_utilization: 70,
    });
    cache.converged(&instance, 1);
    let mut instance = instance.clone().with_status(settled(&instance, &ctx));
    instance.spec.suspended = true;
    let (result, made) = run(
        instance.clone(),
        ctx,
        verifier,
        vec![
            Call::apply(Kind::Deployment, "ins-test"),
            Call::delete(Kind::HorizontalPodAutoscaler, "ins-test"),
            // The status follows when the watch shows the pods gone.
        ],
    )
    .await;
    result.expect("reconciled");
    assert_eq!(made[0].body["spec"]["replicas"], 0);
    // The database and its secrets are untouched (no call names them).
    assert!(
        made.iter()
            .all(|m| !m.path.contains("-db") && !m.path.contains("secrets"))
    );
}

#[tokio::test]
async fn deletion_retains_the_database_and_removes_everything_else() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let instance = instance.deleting();
    let finalized = AuthStackInstance::test().without_finalizer();
    let calls = vec![
        Call::new(
            Method::PATCH,
            fixtures::object_path(Kind::PostgresCluster, "ins-test-db"),
            Reply::Echo,
        ),
        Call::new(
            Method::PATCH,
            fixtures::object_path(Kind::Secret, "ins-test-db-credentials"),
            Reply::Echo,
        ),
        Call::new(
            Method::PATCH,
            fixtures::object_path(Kind::Secret, "ins-test-keys"),
            Reply::Echo,
        ),
        Call::delete(Kind::ServiceAccount, "ins-test"),
        Call::delete(Kind::ConfigMap, "ins-test-rev-1"),
        Call::delete(Kind::Deployment, "ins-test"),
        Call::delete(Kind::Service, "ins-test"),
        Call::delete(Kind::PodDisruptionBudget, "ins-test"),
        Call::delete(Kind::NetworkPolicy, "ins-test"),
        Call::event(),
        Call::patch_instance(&finalized),
    ];
    let (result, made) = run(instance, ctx, verifier, calls).await;
    assert_eq!(result.expect("reconciled"), Action::await_change());
    for retained in &made[..3] {
        assert_eq!(
            retained.body,
            json!({ "metadata": { "ownerReferences": null } })
        );
    }
    assert_eq!(made[9].body["reason"], "Deleted");
    assert_eq!(
        made[10].body[1],
        json!({ "op": "remove", "path": "/metadata/finalizers/0" })
    );
}

#[tokio::test]
async fn deletion_with_the_delete_policy_deletes_the_database() {
    let (ctx, verifier, mut cache) = context();
    let mut instance = AuthStackInstance::test();
    instance.spec.deletion_policy = DeletionPolicy::Delete;
    cache.converged(&instance, 1);
    let instance = instance.deleting();
    let mut finalized = AuthStackInstance::test().without_finalizer();
    finalized.spec.deletion_policy = DeletionPolicy::Delete;
    let calls = vec![
        Call::delete(Kind::PostgresCluster, "ins-test-db"),
        Call::delete(Kind::Secret, "ins-test-db-credentials"),
        Call::delete(Kind::Secret, "ins-test-keys"),
        Call::delete(Kind::ServiceAccount, "ins-test"),
        Call::delete(Kind::ConfigMap, "ins-test-rev-1"),
        Call::delete(Kind::Deployment, "ins-test"),
        Call::delete(Kind::Service, "ins-test"),
        Call::delete(Kind::PodDisruptionBudget, "ins-test"),
        Call::delete(Kind::NetworkPolicy, "ins-test"),
        Call::event(),
        Call::patch_instance(&finalized),
    ];
    let (result, _) = run(instance, ctx, verifier, calls).await;
    assert_eq!(result.expect("reconciled"), Action::await_change());
}

#[tokio::test]
async fn api_errors_back_off_exponentially_and_reset_on_success() {
    let (ctx, verifier, mut cache) = context();
    let instance = AuthStackInstance::test();
    cache.converged(&instance, 1);
    let instance = instance.clone().with_status(settled(&instance, &ctx));
    cache.remove(Kind::Service, "ins-test");
    let failing = Call::new(
        Method::PATCH,
        fixtures::object_path(Kind::Service, "ins-test"),
        Reply::Error(500),
    );
    let mut delays = Vec::new();
    let scenario = verifier.run(vec![
        failing.clone(),
        failing.clone(),
        failing,
        Call::apply(Kind::Service, "ins-test"),
    ]);
    let shared = Arc::new(instance);
    for _ in 0..3 {
        let error = reconcile(shared.clone(), ctx.clone())
            .await
            .expect_err("the API failed");
        assert_eq!(error.reason(), "api_500");
        delays.push(controller::error_policy(
            shared.clone(),
            &error,
            ctx.clone(),
        ));
    }
    assert_eq!(
        delays,
        vec![
            Action::requeue(Duration::from_secs(1)),
            Action::requeue(Duration::from_secs(2)),
            Action::requeue(Duration::from_secs(4)),
        ]
    );
    reconcile(shared.clone(), ctx.clone())
        .await
        .expect("the API recovered");
    scenario.await.expect("scenario");
    // A success resets the count.
    let (_ctx2, _, _) = context();
    let error = Error::InvalidSpec("x");
    assert_eq!(
        controller::error_policy(shared, &error, ctx),
        Action::requeue(Duration::from_secs(1))
    );
    assert_eq!(backoff(20), Duration::from_secs(300));
}

#[tokio::test]
async fn revisions_past_the_history_limit_are_pruned_but_never_the_healthy_one() {
    let (ctx, verifier, mut cache) = context();
    let mut instance = AuthStackInstance::test();
    instance.spec.revision_history_limit = 2;
    for revision in 1..=4 {
        cache.converged(&instance.clone().at_revision(revision), revision);
    }
    let mut base = instance.clone().at_revision(4);
    base.spec.revision_history_limit = 2;
    let mut status = settled(&base, &ctx);
    status.last_healthy_revision = Some(1);
    let instance = base.with_status(status).at_revision(5);
    let calls = vec![
        Call::apply(Kind::ConfigMap, "ins-test-rev-5"),
        Call::apply(Kind::Deployment, "ins-test"),
        Call::delete(Kind::ConfigMap, "ins-test-rev-3"),
        Call::delete(Kind::ConfigMap, "ins-test-rev-2"),
        Call::patch_status(&instance),
    ];
    let (result, _) = run(instance, ctx, verifier, calls).await;
    result.expect("reconciled");
}

#[tokio::test]
async fn an_autoscaled_deployment_is_created_at_the_autoscalers_minimum() {
    let (ctx, verifier, _cache) = context();
    let mut instance = AuthStackInstance::test();
    instance.spec.autoscaling = Some(Autoscaling {
        min_replicas: 3,
        max_replicas: 6,
        target_cpu_utilization: 70,
    });
    let calls = vec![
        Call::create(Kind::Secret),
        Call::create(Kind::Secret),
        Call::apply(Kind::ServiceAccount, "ins-test"),
        Call::apply(Kind::ConfigMap, "ins-test-rev-1"),
        Call::apply(Kind::PostgresCluster, "ins-test-db"),
        Call::apply(Kind::Deployment, "ins-test"),
        // The count handed over to a second manager, for the autoscaler to take.
        Call::apply(Kind::Deployment, "ins-test"),
        Call::apply(Kind::Service, "ins-test"),
        Call::apply(Kind::PodDisruptionBudget, "ins-test"),
        Call::apply(Kind::NetworkPolicy, "ins-test"),
        Call::apply(Kind::HorizontalPodAutoscaler, "ins-test"),
        Call::patch_status(&instance),
    ];
    let (result, made) = run(instance.clone(), ctx, verifier, calls).await;
    result.expect("reconciled");
    assert_eq!(made[5].body["spec"]["replicas"], 3);
    let params = |made: &Made| {
        made.query
            .split('&')
            .filter(|param| !param.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(params(&made[5]).contains(&"fieldManager=authstack-operator".to_owned()));
    assert_eq!(
        made[6].body,
        crate::render::replicas_handover(&instance, 3),
        "the count alone"
    );
    assert_eq!(
        params(&made[6]),
        vec!["fieldManager=authstack-operator-handover-to-hpa"],
        "applied without force: the autoscaler's count, once it set one, wins"
    );
    assert_eq!(made[10].body["spec"]["minReplicas"], 3);
}

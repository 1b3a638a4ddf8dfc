//! An instance's life: plan changes reach it, cancellation stops it and deletes its data after
//! the retention period, a crash is restarted, and a control-plane restart loses nothing.
//!
//! - `a_plan_change_rolls_out_to_both_instances`
//! - `cancellation_stops_the_instances_and_keeps_their_data`
//! - `after_the_retention_period_the_data_and_the_keys_are_gone`
//! - `a_killed_instance_is_restarted_with_its_data`
//! - `a_control_plane_restart_re_adopts_the_running_instances`
//! - `after_a_reboot_the_control_plane_starts_the_instances_again`

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Owner, PASSWORD, Reply, TestPlatform, instance_in, spawn_platform, spawn_platform_with, steps,
    test_config,
};

/// Whether each of `actions` is in the account's audit log.
async fn assert_audited(platform: &TestPlatform, owner: &Owner, actions: &[&str]) {
    let audit = platform.audit_actions(owner).await;
    for action in actions {
        let found = audit.iter().any(|a| a == action);
        assert!(found, "{action} missing from {audit:?}");
    }
}

/// Cancels the subscription and waits until both instances are suspended.
async fn cancel(platform: &TestPlatform, owner: &Owner) -> Reply {
    let cancelled = platform
        .delete(&owner.account("/subscription"), &owner.token)
        .await;
    cancelled.assert_ok(200);
    platform.wait_for_instances(owner, "suspended").await;
    cancelled
}

/// The gateway's answer to a JWKS request with `key`.
async fn jwks(platform: &TestPlatform, key: &str) -> Reply {
    platform
        .via_key(Method::GET, "/.well-known/jwks.json", key, None, None)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_change_rolls_out_to_both_instances() {
    let platform = spawn_platform().await;
    let (owner, live_id, key) = platform.live_customer("plans@acme.test", "starter").await;
    // To Pro moves both to revision 2.
    let pro = json!({ "plan": "pro", "region": "local" });
    platform
        .post(&owner.account("/subscription"), &owner.token, pro)
        .await
        .assert_ok(200);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let upgraded = loop {
        let now = platform.wait_for_instances(&owner, "ready").await;
        // The new revision is in the rows at once; wait until each instance has rolled to it.
        let rolled = |i: &Value| {
            i["revision"] == 2
                && steps(i).last().is_some_and(|s| s == "ready")
                && steps(i).contains(&"updating".to_owned())
        };
        if now.iter().all(rolled) {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "{now:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let live = instance_in(&upgraded, "live");
    assert_eq!(live["plan"], "pro");
    let expected = ["plan changed".into(), "updating".into(), "ready".into()];
    assert!(steps(live).ends_with(&expected), "{:?}", steps(live));
    let config = crate::helpers::serving_config(&platform.instance_dir(&live_id)).expect("config");
    let members = config.contains("max_members_per_organization: 500");
    assert!(members, "{config}");
    jwks(&platform, &key).await.assert_ok(200);
    let actions = [
        "subscription.activated",
        "subscription.plan_changed",
        "key.created",
    ];
    assert_audited(&platform, &owner, &actions).await;
}

/// The gateway answers 503 and the data stays until the retention period ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_stops_the_instances_and_keeps_their_data() {
    let platform = spawn_platform().await;
    let (owner, live_id, key) = platform.live_customer("cancel@acme.test", "starter").await;
    let cancelled = cancel(&platform, &owner).await;
    assert_eq!(cancelled.body["status"], "canceled");
    // A suspended instance's usage is a state of the account (409), not an outage (503).
    platform
        .get(&owner.instance("live", "/usage"), &owner.token)
        .await
        .assert_error(409, "instance_not_running");
    jwks(&platform, &key)
        .await
        .assert_error(503, "instance_unavailable");
    assert!(platform.instance_dir(&live_id).join("data").exists());
    assert_audited(&platform, &owner, &["subscription.canceled"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_retention_period_the_data_and_the_keys_are_gone() {
    let platform = spawn_platform().await;
    let (owner, live_id, key) = platform
        .live_customer("retention@acme.test", "starter")
        .await;
    cancel(&platform, &owner).await;
    let retention = platform.config.data_retention.as_secs() as i64;
    platform.clock.advance(retention + 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let account = platform.get(&owner.account(""), &owner.token).await;
        let instances = account.body["instances"].as_array();
        if account.body["subscription"]["status"] == "deleted"
            && instances.is_some_and(Vec::is_empty)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", account.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let gone = !platform.instance_dir(&live_id).exists();
    assert!(gone, "the instance's data is deleted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    jwks(&platform, &key)
        .await
        .assert_error(401, "invalid_api_key");
    assert_audited(&platform, &owner, &["subscription.data_deleted"]).await;
}

/// The pid serving the instance.
async fn live_pid(platform: &TestPlatform, instance_id: &str) -> i32 {
    crate::helpers::serving_pid(&platform.instance_dir(instance_id)).expect("a serving process")
}

/// A verified end user of the live instance.
async fn end_user(platform: &TestPlatform, key: &str, live_id: &str, email: &str) {
    let signup = platform.sign_up_user(key, email, PASSWORD).await;
    assert_eq!(signup.status, 202, "{}", signup.body);
    let token = platform.mailed_token(live_id, email, "verify_email").await;
    platform
        .via_key(
            Method::POST,
            "/v1/auth/email/verify",
            key,
            None,
            Some(json!({ "token": token })),
        )
        .await
        .assert_ok(200);
}

/// Waits (30 s at most) until `email` can sign in through the gateway.
async fn can_log_in(platform: &TestPlatform, key: &str, email: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let reply = platform
            .via_key(
                Method::POST,
                "/v1/auth/login",
                key,
                None,
                Some(json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        if reply.status == 200 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{}", reply.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A platform whose instances outlive it, with a live customer and an end user of theirs.
async fn with_an_end_user(email: &str) -> (TestPlatform, Owner, String, String) {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.stop_instances_on_shutdown = false;
    let platform = spawn_platform_with(dir, config).await;
    let (owner, live_id, key) = platform.live_customer(email, "starter").await;
    end_user(&platform, &key, &live_id, "survivor@customer.test").await;
    (platform, owner, live_id, key)
}

/// kill -9 the live instance: the supervisor restarts it on the same port, data intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_is_restarted_with_its_data() {
    let (platform, owner, live_id, key) = with_an_end_user("crash@acme.test").await;
    let pid = live_pid(&platform, &live_id).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill");
    can_log_in(&platform, &key, "survivor@customer.test").await;
    assert_ne!(live_pid(&platform, &live_id).await, pid);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = platform
            .get(&owner.account("/instances"), &owner.token)
            .await;
        let live_steps = steps(instance_in(
            listed.body["data"].as_array().expect("data"),
            "live",
        ));
        if live_steps.contains(&"crashed".to_owned())
            && live_steps.contains(&"restarted".to_owned())
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{live_steps:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Restart the control plane and the gateway: the running instances are re-adopted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_restart_re_adopts_the_running_instances() {
    let (platform, owner, live_id, key) = with_an_end_user("restart@acme.test").await;
    let before = live_pid(&platform, &live_id).await;
    let platform = platform.restart().await;
    // The rows still say `ready` from before; the new control plane's first pass records
    // whether it re-adopted or restarted each instance.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let instances = platform.wait_for_instances(&owner, "ready").await;
        let live = steps(instance_in(&instances, "live"));
        let last = live.last().cloned().unwrap_or_default();
        if last.starts_with("running") {
            break;
        }
        let waited = std::time::Instant::now() < deadline;
        assert!(waited, "live instance steps end with {last}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = live_pid(&platform, &live_id).await;
    assert_eq!(after, before, "re-adopted, not restarted");
    can_log_in(&platform, &key, "survivor@customer.test").await;
    let account = platform.get(&owner.account(""), &owner.token).await;
    account.assert_ok(200);
    assert_eq!(account.body["subscription"]["status"], "active");
    let keys = platform.get(&owner.account("/keys"), &owner.token).await;
    assert_eq!(keys.body["data"].as_array().map(Vec::len), Some(1));
}

/// Every instance process gone: the control plane starts them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_reboot_the_control_plane_starts_the_instances_again() {
    let (platform, owner, live_id, key) = with_an_end_user("reboot@acme.test").await;
    let platform = platform.restart_after_reboot().await;
    platform.wait_for_instances(&owner, "ready").await;
    can_log_in(&platform, &key, "survivor@customer.test").await;
    let ops_key = std::fs::read_to_string(platform.dir.path().join("ops.key")).expect("ops key");
    let reconcile = format!("/v1/ops/instances/{live_id}/reconcile");
    let reconcile = platform.post_empty(&reconcile, ops_key.trim()).await;
    reconcile.assert_ok(202);
    can_log_in(&platform, &key, "survivor@customer.test").await;
}

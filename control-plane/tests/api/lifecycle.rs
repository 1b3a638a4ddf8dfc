//! An instance's life: plan changes reach it, cancellation stops it and deletes its data after
//! the retention period, a crash is restarted, and a control-plane restart loses nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestPlatform, spawn_platform, spawn_platform_with, test_config};

fn steps(instance: &Value) -> Vec<String> {
    instance["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["step"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn env<'a>(instances: &'a [Value], environment: &str) -> &'a Value {
    instances
        .iter()
        .find(|i| i["environment"] == environment)
        .expect("instance")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_changes_roll_out_and_cancellation_deletes_data_after_retention() {
    let platform = spawn_platform().await;
    let (owner, live_id, key) = platform.live_customer("plans@acme.test", "starter").await;

    // Subscribing again to the same plan changes nothing; to Pro moves both to revision 2.
    platform
        .cp(
            Method::POST,
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            Some(json!({ "plan": "pro", "region": "local" })),
        )
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
    let live = env(&upgraded, "live");
    assert_eq!(live["plan"], "pro");
    assert!(
        steps(live).ends_with(&["plan changed".into(), "updating".into(), "ready".into()]),
        "{:?}",
        steps(live)
    );
    let config = crate::helpers::serving_config(&platform.instance_dir(&live_id)).expect("config");
    assert!(
        config.contains("max_members_per_organization: 500"),
        "{config}"
    );
    platform
        .via_key(Method::GET, "/.well-known/jwks.json", &key, None, None)
        .await
        .assert_ok(200);

    // Cancel: instances stop (the gateway answers 503), data stays until retention ends.
    let cancelled = platform
        .cp(
            Method::DELETE,
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    cancelled.assert_ok(200);
    assert_eq!(cancelled.body["status"], "canceled");
    platform.wait_for_instances(&owner, "suspended").await;
    // A suspended instance's usage is a state of the account (409), not an outage (503).
    platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}/instances/live/usage", owner.account_id),
            &owner.token,
            None,
        )
        .await
        .assert_error(409, "instance_not_running");
    platform
        .via_key(Method::GET, "/.well-known/jwks.json", &key, None, None)
        .await
        .assert_error(503, "instance_unavailable");
    assert!(platform.instance_dir(&live_id).join("data").exists());

    platform
        .clock
        .advance(platform.config.data_retention.as_secs() as i64 + 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let account = platform
            .cp(
                Method::GET,
                &format!("/v1/accounts/{}", owner.account_id),
                &owner.token,
                None,
            )
            .await;
        if account.body["subscription"]["status"] == "deleted"
            && account.body["instances"]
                .as_array()
                .is_some_and(Vec::is_empty)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", account.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !platform.instance_dir(&live_id).exists(),
        "the instance's data is deleted"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    platform
        .via_key(Method::GET, "/.well-known/jwks.json", &key, None, None)
        .await
        .assert_error(401, "invalid_api_key");
    let audit = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}/audit-logs", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    let text = audit.body.to_string();
    for action in [
        "subscription.activated",
        "subscription.plan_changed",
        "subscription.canceled",
        "subscription.data_deleted",
        "key.created",
    ] {
        assert!(text.contains(action), "{action} missing from {text}");
    }
}

async fn live_pid(platform: &TestPlatform, instance_id: &str) -> i32 {
    crate::helpers::serving_pid(&platform.instance_dir(instance_id)).expect("a serving process")
}

async fn end_user(platform: &TestPlatform, key: &str, live_id: &str, email: &str) {
    let signup = platform
        .via_key(
            Method::POST,
            "/v1/auth/signup",
            key,
            None,
            Some(json!({ "email": email, "password": PASSWORD })),
        )
        .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_are_restarted_and_a_control_plane_restart_loses_nothing() {
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.stop_instances_on_shutdown = false;
    let platform = spawn_platform_with(dir, config).await;
    let (owner, live_id, key) = platform.live_customer("ops@acme.test", "starter").await;
    end_user(&platform, &key, &live_id, "survivor@customer.test").await;

    // kill -9 the live instance: the supervisor restarts it on the same port, data intact.
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
            .cp(
                Method::GET,
                &format!("/v1/accounts/{}/instances", owner.account_id),
                &owner.token,
                None,
            )
            .await;
        let live_steps = steps(env(listed.body["data"].as_array().expect("data"), "live"));
        if live_steps.contains(&"crashed".to_owned())
            && live_steps.contains(&"restarted".to_owned())
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{live_steps:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Restart the control plane and the gateway: the running instances are re-adopted.
    let before = live_pid(&platform, &live_id).await;
    let platform = platform.restart().await;
    // The rows still say `ready` from before; the new control plane's first pass records
    // whether it re-adopted or restarted each instance.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let instances = platform.wait_for_instances(&owner, "ready").await;
        let last = steps(env(&instances, "live"))
            .last()
            .cloned()
            .unwrap_or_default();
        if last.starts_with("running") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "live instance steps end with {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        live_pid(&platform, &live_id).await,
        before,
        "re-adopted, not restarted"
    );
    can_log_in(&platform, &key, "survivor@customer.test").await;
    let account = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    account.assert_ok(200);
    assert_eq!(account.body["subscription"]["status"], "active");
    let keys = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}/keys", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(keys.body["data"].as_array().map(Vec::len), Some(1));

    // After a reboot (every instance process gone) the control plane starts them again.
    let platform = platform.restart_after_reboot().await;
    platform.wait_for_instances(&owner, "ready").await;
    can_log_in(&platform, &key, "survivor@customer.test").await;
    let ops_key = std::fs::read_to_string(platform.dir.path().join("ops.key")).expect("ops key");
    let reconcile = platform
        .cp(
            Method::POST,
            &format!("/v1/ops/instances/{live_id}/reconcile"),
            ops_key.trim(),
            None,
        )
        .await;
    reconcile.assert_ok(202);
    can_log_in(&platform, &key, "survivor@customer.test").await;
}

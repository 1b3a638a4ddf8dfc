//! The whole path a customer takes: sign up on the platform instance, create an account,
//! subscribe, get keys, and have an end user sign up on their live instance through the gateway.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    PASSWORD, TestPlatform, fresh_postgres, spawn_platform, spawn_platform_with, test_config,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_up_subscribes_and_their_users_reach_the_live_instance_only() {
    customer_path(spawn_platform().await).await;
}

/// The same path with the control plane's own tables on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_path_on_postgresql() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.database_url = Some(secrecy::SecretString::from(url));
    customer_path(spawn_platform_with(dir, config).await).await;
}

async fn customer_path(platform: TestPlatform) {
    let plans = platform
        .send(platform.client.get(format!("{}/v1/plans", platform.cp)))
        .await;
    plans.assert_ok(200);
    assert_eq!(plans.body["data"].as_array().map(Vec::len), Some(3));
    let regions = platform
        .send(platform.client.get(format!("{}/v1/regions", platform.cp)))
        .await;
    assert_eq!(regions.body["data"][0]["id"], "local");
    assert_eq!(regions.body["data"][0]["available"], true);

    let owner = platform.owner("founder@acme.test").await;
    let account = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    account.assert_ok(200);
    assert!(account.body["subscription"].is_null());

    let started = Instant::now();
    let instances = platform.subscribe(&owner, "starter").await;
    eprintln!(
        "subscription to both instances ready: {:?}",
        started.elapsed()
    );
    let live = instances
        .iter()
        .find(|i| i["environment"] == "live")
        .expect("live instance");
    let test = instances
        .iter()
        .find(|i| i["environment"] == "test")
        .expect("test instance");
    assert_eq!(live["plan"], "starter");
    let steps: Vec<&str> = live["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    // Under load a supervisor may also have restarted it ("crashed", "restarted"); the path to
    // ready is what this checks.
    assert!(
        steps.starts_with(&["requested", "provisioning", "ready"]),
        "{steps:?}"
    );

    let live_key = platform.create_key(&owner, "live", "publishable").await;
    let secret = live_key["secret"]
        .as_str()
        .expect("key shown once")
        .to_owned();
    assert!(
        secret.starts_with("ask_live_") && secret.len() >= 9 + 43,
        "{secret}"
    );
    let test_key = platform.create_key(&owner, "test", "publishable").await["secret"]
        .as_str()
        .expect("key")
        .to_owned();
    let live_admin = platform.create_key(&owner, "live", "secret").await["secret"]
        .as_str()
        .expect("key")
        .to_owned();
    let test_admin = platform.create_key(&owner, "test", "secret").await["secret"]
        .as_str()
        .expect("key")
        .to_owned();
    assert!(live_admin.starts_with("ask_secret_live_"));

    // The listing never shows a key again.
    let listed = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}/keys", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    listed.assert_ok(200);
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(4));
    assert!(!listed.body.to_string().contains(&secret));

    // An end user signs up on the live instance through the gateway.
    let signup = platform
        .via_key(
            Method::POST,
            "/v1/auth/signup",
            &secret,
            None,
            Some(json!({ "email": "enduser@customer.test", "password": PASSWORD })),
        )
        .await;
    assert_eq!(signup.status, 202, "{}", signup.body);
    let live_id = live["id"].as_str().expect("id");
    let token = platform
        .mailed_token(live_id, "enduser@customer.test", "verify_email")
        .await;
    platform
        .via_key(
            Method::POST,
            "/v1/auth/email/verify",
            &secret,
            None,
            Some(json!({ "token": token })),
        )
        .await
        .assert_ok(200);

    let on_live = platform
        .via_secret(
            Method::GET,
            "/v1/admin/users?search=enduser@customer.test",
            &live_admin,
        )
        .await;
    on_live.assert_ok(200);
    assert_eq!(
        on_live.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        on_live.body
    );
    let on_test = platform
        .via_secret(
            Method::GET,
            "/v1/admin/users?search=enduser@customer.test",
            &test_admin,
        )
        .await;
    on_test.assert_ok(200);
    assert_eq!(
        on_test.body["data"].as_array().map(Vec::len),
        Some(0),
        "{}",
        on_test.body
    );
    platform
        .via_key(
            Method::POST,
            "/v1/auth/login",
            &test_key,
            None,
            Some(json!({ "email": "enduser@customer.test", "password": PASSWORD })),
        )
        .await
        .assert_error(401, "invalid_credentials");

    // A publishable key cannot reach the admin API; no key at all gets invalid_api_key.
    platform
        .via_key(Method::GET, "/v1/admin/users", &secret, None, None)
        .await
        .assert_error(401, "unauthorized");
    platform
        .send(
            platform
                .client
                .get(format!("{}/v1/admin/users", platform.gateway)),
        )
        .await
        .assert_error(401, "invalid_api_key");
    let _ = test;

    // The instances refuse anyone but the gateway.
    let endpoint = platform.app().db.pool.clone();
    let row: (String,) = sqlx::query_as("SELECT endpoint FROM instances WHERE id = $1")
        .bind(live_id)
        .fetch_one(&endpoint)
        .await
        .expect("endpoint");
    let direct = platform
        .send(
            platform
                .client
                .get(format!("{}/.well-known/jwks.json", row.0)),
        )
        .await;
    direct.assert_error(403, "gateway_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_authorized_by_the_platform_tokens_org_claims_and_permissions() {
    let platform = spawn_platform().await;
    let owner = platform.owner("owner@one.test").await;
    let other = platform.owner("owner@two.test").await;
    let path = format!("/v1/accounts/{}", owner.account_id);

    // No token, a garbage token, another account's token, a token without the org selected.
    platform
        .send(platform.client.get(format!("{}{path}", platform.cp)))
        .await
        .assert_error(401, "unauthorized");
    platform
        .cp(Method::GET, &path, "not-a-jwt", None)
        .await
        .assert_error(401, "unauthorized");
    platform
        .cp(Method::GET, &path, &other.token, None)
        .await
        .assert_error(404, "not_found");
    let unscoped =
        crate::helpers::TestPlatform::sign_up_on_platform(&platform, "drifter@three.test").await;
    // A token without an organization is told to switch (before any lookup, so the answer is
    // the same for every account id).
    platform
        .cp(Method::GET, &path, &unscoped, None)
        .await
        .assert_error(403, "forbidden");

    // A viewer of the account sees it but cannot subscribe or create keys.
    let viewer_token = join_as(&platform, &owner, "viewer@one.test", "viewer").await;
    platform
        .cp(Method::GET, &path, &viewer_token, None)
        .await
        .assert_ok(200);
    platform
        .cp(
            Method::POST,
            &format!("{path}/subscription"),
            &viewer_token,
            Some(json!({ "plan": "starter", "region": "local" })),
        )
        .await
        .assert_error(403, "forbidden");
    platform
        .cp(
            Method::POST,
            &format!("{path}/keys"),
            &viewer_token,
            Some(json!({ "name": "x", "environment": "live", "kind": "publishable" })),
        )
        .await
        .assert_error(403, "forbidden");

    // Bad input gets a clear error.
    for (plan, region, status, code) in [
        ("gold", "local", 400, "invalid_request"),
        ("starter", "us-east-1", 403, "forbidden"),
        ("pro", "us-east-1", 409, "region_unavailable"),
    ] {
        platform
            .cp(
                Method::POST,
                &format!("{path}/subscription"),
                &owner.token,
                Some(json!({ "plan": plan, "region": region })),
            )
            .await
            .assert_error(status, code);
    }
    platform
        .cp(
            Method::POST,
            &format!("{path}/keys"),
            &owner.token,
            Some(json!({ "name": "too early", "environment": "live", "kind": "publishable" })),
        )
        .await
        .assert_error(409, "conflict");
    platform
        .cp(
            Method::POST,
            "/v1/accounts",
            &owner.token,
            Some(json!({ "name": "" })),
        )
        .await
        .assert_error(400, "invalid_request");

    // The operator API wants the operator key or an operator's token; an owner is neither.
    platform
        .cp(Method::GET, "/v1/ops/instances", &owner.token, None)
        .await
        .assert_error(403, "forbidden");
    platform
        .cp(
            Method::GET,
            "/v1/ops/instances",
            "ask_ops_not-the-key",
            None,
        )
        .await
        .assert_error(401, "unauthorized");
    let ops_key =
        std::fs::read_to_string(platform.dir.path().join("ops.key")).expect("ops key file");
    let ops = platform
        .cp(Method::GET, "/v1/ops/instances", ops_key.trim(), None)
        .await;
    ops.assert_ok(200);
    assert_eq!(
        ops.body["data"][0]["account_id"],
        serde_json::Value::Null,
        "the platform instance is listed first"
    );
    assert_eq!(
        (
            ops.body["data"][0]["current_revision"].as_i64(),
            ops.body["data"][0]["last_healthy_revision"].as_i64()
        ),
        (Some(1), Some(1)),
        "the platform instance records the revision it runs: {}",
        ops.body["data"][0]
    );

    // Every action is in the account's audit log.
    let audit = platform
        .cp(
            Method::GET,
            &format!("{path}/audit-logs"),
            &owner.token,
            None,
        )
        .await;
    audit.assert_ok(200);
    assert!(
        audit.body.to_string().contains("account.created"),
        "{}",
        audit.body
    );
}

/// Invites `email` into the owner's account organization with `role` (on the platform
/// instance, as the dashboard does) and returns the new member's token working in it.
pub async fn join_as(
    platform: &crate::helpers::TestPlatform,
    owner: &crate::helpers::Owner,
    email: &str,
    role: &str,
) -> String {
    let invited = platform
        .via_key(
            Method::POST,
            &format!("/v1/organizations/{}/invitations", owner.organization_id),
            &platform.platform_key,
            Some(&owner.token),
            Some(json!({ "email": email, "role": role })),
        )
        .await;
    invited.assert_ok(201);
    let platform_id = platform.app().platform.instance_id.clone();
    let token = platform
        .mailed_token(&platform_id, email, "invitation")
        .await;
    let accepted = platform
        .via_key(
            Method::POST,
            "/v1/invitations/accept",
            &platform.platform_key,
            None,
            Some(json!({ "token": token, "password": PASSWORD })),
        )
        .await;
    accepted.assert_ok(201);
    // Accepting signs the new member in, already working in the organization.
    assert_eq!(accepted.body["session"]["user"]["email"], email);
    accepted.body["session"]["access_token"]
        .as_str()
        .expect("a session")
        .to_owned()
}

/// Waits up to `within` for the gateway to answer `status` to `key`.
async fn gateway_answers(
    platform: &TestPlatform,
    key: &str,
    status: u16,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        let reply = platform
            .via_key(Method::GET, "/.well-known/jwks.json", key, None, None)
            .await;
        if reply.status == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "still {} after {within:?}: {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_with_a_grace_period_and_revocation_reaches_the_gateway_within_a_second() {
    let platform = spawn_platform().await;
    let owner = platform.owner("keys@acme.test").await;
    platform.subscribe(&owner, "starter").await;
    let keys = format!("/v1/accounts/{}/keys", owner.account_id);
    let first = platform.create_key(&owner, "live", "publishable").await;
    let first_key = first["secret"].as_str().expect("key").to_owned();
    let first_id = first["id"].as_str().expect("id").to_owned();
    gateway_answers(&platform, &first_key, 200, Duration::from_secs(1)).await;

    // Rotation with a grace period: both keys work until it ends.
    let rotated = platform
        .cp(
            Method::POST,
            &format!("{keys}/{first_id}/rotate"),
            &owner.token,
            Some(json!({ "grace_period_secs": 3600 })),
        )
        .await;
    rotated.assert_ok(201);
    let second_key = rotated.str("secret");
    let second_id = rotated.str("id");
    assert_ne!(second_key, first_key);
    gateway_answers(&platform, &second_key, 200, Duration::from_secs(1)).await;
    gateway_answers(&platform, &first_key, 200, Duration::from_secs(1)).await;
    let listed = platform.cp(Method::GET, &keys, &owner.token, None).await;
    let old = listed.body["data"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["id"] == first_id.as_str())
        .cloned()
        .expect("old key");
    assert_eq!(old["replaced_by"], second_id.as_str());
    assert!(old["expires_at"].is_string());
    // A key cannot be rotated twice.
    platform
        .cp(
            Method::POST,
            &format!("{keys}/{first_id}/rotate"),
            &owner.token,
            None,
        )
        .await
        .assert_error(409, "conflict");
    // When the grace period is over, the old key stops.
    platform.clock.advance(3601);
    gateway_answers(&platform, &first_key, 401, Duration::from_secs(1)).await;
    gateway_answers(&platform, &second_key, 200, Duration::from_secs(1)).await;

    // Rotation without grace, then revocation: each within a second at the gateway.
    let third = platform
        .cp(
            Method::POST,
            &format!("{keys}/{second_id}/rotate"),
            &owner.token,
            Some(json!({ "grace_period_secs": 0 })),
        )
        .await;
    third.assert_ok(201);
    let took = gateway_answers(&platform, &second_key, 401, Duration::from_secs(1)).await;
    eprintln!("rotated-out key refused after {took:?}");
    let third_key = third.str("secret");
    gateway_answers(&platform, &third_key, 200, Duration::from_secs(1)).await;
    platform
        .cp(
            Method::DELETE,
            &format!("{keys}/{}", third.str("id")),
            &owner.token,
            None,
        )
        .await;
    let took = gateway_answers(&platform, &third_key, 401, Duration::from_secs(1)).await;
    eprintln!("revoked key refused after {took:?}");
    platform
        .cp(
            Method::POST,
            &format!("{keys}/{}/rotate", third.str("id")),
            &owner.token,
            Some(json!({ "grace_period_secs": 99999999 })),
        )
        .await
        .assert_error(400, "invalid_request");
    platform
        .cp(
            Method::DELETE,
            &format!("{keys}/key_unknown"),
            &owner.token,
            None,
        )
        .await
        .assert_error(404, "not_found");
}

//! The whole path a customer takes: sign up on the platform instance, create an account,
//! subscribe, get keys, and have an end user sign up on their live instance through the gateway;
//! who may act on an account; and the keys' rotation and revocation at the gateway.
//!
//! - `plans_and_regions_are_listed`
//! - `a_subscription_brings_both_instances_up_on_the_plan`
//! - `keys_are_shown_once_and_never_listed_again`
//! - `an_end_user_signs_up_on_the_live_instance_only`
//! - `the_admin_api_needs_a_secret_key_and_instances_answer_only_the_gateway`
//! - `the_customer_path_on_postgresql` (all of the above, on one platform)
//! - `an_account_answers_only_a_token_working_in_it`
//! - `a_viewer_sees_the_account_but_cannot_subscribe_or_create_keys`
//! - `bad_input_gets_a_clear_error_and_every_action_is_audited`
//! - `the_operator_api_wants_the_operator_key`
//! - `a_rotation_with_a_grace_period_keeps_both_keys_working_until_it_ends`
//! - `a_rotation_without_grace_and_a_revocation_reach_the_gateway_within_a_second`

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Owner, PASSWORD, Reply, TestPlatform, fresh_postgres, spawn_platform, spawn_platform_with,
    test_config,
};

/// The customer's path, one step a test (`customer_steps!`) and all of it on PostgreSQL
/// (`the_customer_path_on_postgresql`), each step with its own owner.
macro_rules! customer_steps {
    ($($step:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $step() {
                steps::$step(&spawn_platform().await).await;
            }
        )*

        /// The same path with the control plane's own tables on PostgreSQL.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_customer_path_on_postgresql() {
            let Some(url) = fresh_postgres().await else {
                return;
            };
            let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
            let mut config = test_config(dir.path());
            config.database_url = Some(secrecy::SecretString::from(url));
            let platform = spawn_platform_with(dir, config).await;
            $(steps::$step(&platform).await;)*
        }
    };
}

customer_steps!(
    plans_and_regions_are_listed,
    a_subscription_brings_both_instances_up_on_the_plan,
    keys_are_shown_once_and_never_listed_again,
    an_end_user_signs_up_on_the_live_instance_only,
    the_admin_api_needs_a_secret_key_and_instances_answer_only_the_gateway,
);

/// The customer's path, step by step.
mod steps {
    use super::*;

    pub async fn plans_and_regions_are_listed(platform: &TestPlatform) {
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
    }

    pub async fn a_subscription_brings_both_instances_up_on_the_plan(platform: &TestPlatform) {
        let owner = platform.owner("founder@acme.test").await;
        let account = platform.get(&owner.account(""), &owner.token).await;
        account.assert_ok(200);
        assert!(account.body["subscription"].is_null());
        let started = Instant::now();
        let instances = platform.subscribe(&owner, "starter").await;
        let took = started.elapsed();
        eprintln!("subscription to both instances ready: {took:?}");
        let live = instances
            .iter()
            .find(|i| i["environment"] == "live")
            .expect("live instance");
        assert!(instances.iter().any(|i| i["environment"] == "test"));
        assert_eq!(live["plan"], "starter");
        let steps = crate::helpers::steps(live);
        // Under load a supervisor may also have restarted it ("crashed", "restarted"); the path
        // to ready is what this checks.
        let to_ready =
            steps.starts_with(&["requested".into(), "provisioning".into(), "ready".into()]);
        assert!(to_ready, "{steps:?}");
    }

    pub async fn keys_are_shown_once_and_never_listed_again(platform: &TestPlatform) {
        let owner = platform.owner("keys-once@acme.test").await;
        platform.subscribe(&owner, "starter").await;
        let keys = PathKeys::create(platform, &owner).await;
        let secret = &keys.live;
        assert!(
            secret.starts_with("ask_live_") && secret.len() >= 9 + 43,
            "{secret}"
        );
        assert!(keys.live_admin.starts_with("ask_secret_live_"));
        let listed = platform.get(&owner.account("/keys"), &owner.token).await;
        listed.assert_ok(200);
        assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(4));
        assert!(!listed.body.to_string().contains(secret.as_str()));
    }

    pub async fn an_end_user_signs_up_on_the_live_instance_only(platform: &TestPlatform) {
        let owner = platform.owner("live-only@acme.test").await;
        let instances = platform.subscribe(&owner, "starter").await;
        let keys = PathKeys::create(platform, &owner).await;
        let email = "enduser@customer.test";
        let signup = platform.sign_up_user(&keys.live, email, PASSWORD).await;
        assert_eq!(signup.status, 202, "{}", signup.body);
        let live_id = live_id(&instances);
        let token = platform.mailed_token(&live_id, email, "verify_email").await;
        let verify = json!({ "token": token });
        platform
            .via_key(
                Method::POST,
                "/v1/auth/email/verify",
                &keys.live,
                None,
                Some(verify),
            )
            .await
            .assert_ok(200);
        let search = format!("/v1/admin/users?search={email}");
        for (admin, found) in [(&keys.live_admin, 1), (&keys.test_admin, 0)] {
            let users = platform.via_secret(Method::GET, &search, admin).await;
            users.assert_ok(200);
            let count = users.body["data"].as_array().map(Vec::len);
            assert_eq!(count, Some(found), "{}", users.body);
        }
        let login = json!({ "email": email, "password": PASSWORD });
        platform
            .via_key(
                Method::POST,
                "/v1/auth/login",
                &keys.test,
                None,
                Some(login),
            )
            .await
            .assert_error(401, "invalid_credentials");
    }

    pub async fn the_admin_api_needs_a_secret_key_and_instances_answer_only_the_gateway(
        platform: &TestPlatform,
    ) {
        let owner = platform.owner("gatekeeper@acme.test").await;
        let instances = platform.subscribe(&owner, "starter").await;
        let keys = PathKeys::create(platform, &owner).await;
        // A publishable key cannot reach the admin API; no key at all gets invalid_api_key.
        platform
            .via_key(Method::GET, "/v1/admin/users", &keys.live, None, None)
            .await
            .assert_error(401, "unauthorized");
        let keyless = platform
            .client
            .get(format!("{}/v1/admin/users", platform.gateway));
        platform
            .send(keyless)
            .await
            .assert_error(401, "invalid_api_key");
        // The instances refuse anyone but the gateway.
        let pool = platform.app().db.pool.clone();
        let row: (String,) = sqlx::query_as("SELECT endpoint FROM instances WHERE id = $1")
            .bind(live_id(&instances))
            .fetch_one(&pool)
            .await
            .expect("endpoint");
        let direct = platform
            .client
            .get(format!("{}/.well-known/jwks.json", row.0));
        platform
            .send(direct)
            .await
            .assert_error(403, "gateway_required");
    }

    fn live_id(instances: &[Value]) -> String {
        let live = instances.iter().find(|i| i["environment"] == "live");
        live.and_then(|i| i["id"].as_str())
            .expect("live instance")
            .to_owned()
    }

    /// The four keys of a subscribed owner, each shown once.
    struct PathKeys {
        live: String,
        test: String,
        live_admin: String,
        test_admin: String,
    }

    impl PathKeys {
        async fn create(platform: &TestPlatform, owner: &Owner) -> PathKeys {
            let secret = async |environment: &str, kind: &str| {
                let key = platform.create_key(owner, environment, kind).await;
                key["secret"].as_str().expect("key shown once").to_owned()
            };
            PathKeys {
                live: secret("live", "publishable").await,
                test: secret("test", "publishable").await,
                live_admin: secret("live", "secret").await,
                test_admin: secret("test", "secret").await,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_answers_only_a_token_working_in_it() {
    let platform = spawn_platform().await;
    let owner = platform.owner("owner@one.test").await;
    let other = platform.owner("owner@two.test").await;
    let path = owner.account("");
    // No token, a garbage token, another account's token, a token without the org selected.
    platform
        .send(platform.client.get(format!("{}{path}", platform.cp)))
        .await
        .assert_error(401, "unauthorized");
    platform
        .get(&path, "not-a-jwt")
        .await
        .assert_error(401, "unauthorized");
    platform
        .get(&path, &other.token)
        .await
        .assert_error(404, "not_found");
    let unscoped = platform.sign_up_on_platform("drifter@three.test").await;
    // A token without an organization is told to switch (before any lookup, so the answer is
    // the same for every account id).
    platform
        .get(&path, &unscoped)
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_account_but_cannot_subscribe_or_create_keys() {
    let platform = spawn_platform().await;
    let owner = platform.owner("owner@viewed.test").await;
    let viewer = join_as(&platform, &owner, "viewer@one.test", "viewer").await;
    platform
        .get(&owner.account(""), &viewer)
        .await
        .assert_ok(200);
    let plan = json!({ "plan": "starter", "region": "local" });
    platform
        .post(&owner.account("/subscription"), &viewer, plan)
        .await
        .assert_error(403, "forbidden");
    let key = json!({ "name": "x", "environment": "live", "kind": "publishable" });
    platform
        .post(&owner.account("/keys"), &viewer, key)
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_every_action_is_audited() {
    let platform = spawn_platform().await;
    let owner = platform.owner("owner@input.test").await;
    for (plan, region, status, code) in [
        ("gold", "local", 400, "invalid_request"),
        ("starter", "us-east-1", 403, "forbidden"),
        ("pro", "us-east-1", 409, "region_unavailable"),
    ] {
        let body = json!({ "plan": plan, "region": region });
        platform
            .post(&owner.account("/subscription"), &owner.token, body)
            .await
            .assert_error(status, code);
    }
    let key = json!({ "name": "too early", "environment": "live", "kind": "publishable" });
    platform
        .post(&owner.account("/keys"), &owner.token, key)
        .await
        .assert_error(409, "conflict");
    platform
        .post("/v1/accounts", &owner.token, json!({ "name": "" }))
        .await
        .assert_error(400, "invalid_request");
    let actions = platform.audit_actions(&owner).await;
    let created = actions.iter().any(|a| a == "account.created");
    assert!(created, "{actions:?}");
}

/// The operator API wants the operator key or an operator's token; an owner is neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_api_wants_the_operator_key() {
    let platform = spawn_platform().await;
    let owner = platform.owner("owner@ops.test").await;
    platform
        .get("/v1/ops/instances", &owner.token)
        .await
        .assert_error(403, "forbidden");
    platform
        .get("/v1/ops/instances", "ask_ops_not-the-key")
        .await
        .assert_error(401, "unauthorized");
    let ops_key =
        std::fs::read_to_string(platform.dir.path().join("ops.key")).expect("ops key file");
    let ops = platform.get("/v1/ops/instances", ops_key.trim()).await;
    ops.assert_ok(200);
    let first = &ops.body["data"][0];
    let account = &first["account_id"];
    assert_eq!(
        *account,
        serde_json::Value::Null,
        "the platform instance is listed first"
    );
    let revisions = (
        first["current_revision"].as_i64(),
        first["last_healthy_revision"].as_i64(),
    );
    assert_eq!(
        revisions,
        (Some(1), Some(1)),
        "the platform instance records the revision it runs: {first}"
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

/// A subscribed owner's first live publishable key, answered by the gateway: (id, key).
async fn first_key(platform: &TestPlatform, owner: &Owner) -> (String, String) {
    platform.subscribe(owner, "starter").await;
    let first = platform.create_key(owner, "live", "publishable").await;
    let key = first["secret"].as_str().expect("key").to_owned();
    gateway_answers(platform, &key, 200, Duration::from_secs(1)).await;
    (first["id"].as_str().expect("id").to_owned(), key)
}

/// Rotates key `id` with `body` (a grace period), as the owner.
async fn rotate(platform: &TestPlatform, owner: &Owner, id: &str, body: Option<Value>) -> Reply {
    let path = owner.account(&format!("/keys/{id}/rotate"));
    match body {
        Some(body) => platform.post(&path, &owner.token, body).await,
        None => platform.post_empty(&path, &owner.token).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_with_a_grace_period_keeps_both_keys_working_until_it_ends() {
    let platform = spawn_platform().await;
    let owner = platform.owner("keys@acme.test").await;
    let (first_id, first_key) = first_key(&platform, &owner).await;
    let grace = json!({ "grace_period_secs": 3600 });
    let rotated = rotate(&platform, &owner, &first_id, Some(grace)).await;
    rotated.assert_ok(201);
    let second_key = rotated.str("secret");
    let second_id = rotated.str("id");
    assert_ne!(second_key, first_key);
    let second = Duration::from_secs(1);
    gateway_answers(&platform, &second_key, 200, second).await;
    gateway_answers(&platform, &first_key, 200, second).await;
    let listed = platform.get(&owner.account("/keys"), &owner.token).await;
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
    rotate(&platform, &owner, &first_id, None)
        .await
        .assert_error(409, "conflict");
    // When the grace period is over, the old key stops.
    platform.clock.advance(3601);
    gateway_answers(&platform, &first_key, 401, second).await;
    gateway_answers(&platform, &second_key, 200, second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_without_grace_and_a_revocation_reach_the_gateway_within_a_second() {
    let platform = spawn_platform().await;
    let owner = platform.owner("revoke@acme.test").await;
    let (first_id, first_key) = first_key(&platform, &owner).await;
    let second = Duration::from_secs(1);
    let no_grace = json!({ "grace_period_secs": 0 });
    let rotated = rotate(&platform, &owner, &first_id, Some(no_grace)).await;
    rotated.assert_ok(201);
    let took = gateway_answers(&platform, &first_key, 401, second).await;
    eprintln!("rotated-out key refused after {took:?}");
    let key = rotated.str("secret");
    gateway_answers(&platform, &key, 200, second).await;
    let id = rotated.str("id");
    platform
        .delete(&owner.account(&format!("/keys/{id}")), &owner.token)
        .await;
    let took = gateway_answers(&platform, &key, 401, second).await;
    eprintln!("revoked key refused after {took:?}");
    let too_long = json!({ "grace_period_secs": 99999999 });
    rotate(&platform, &owner, &id, Some(too_long))
        .await
        .assert_error(400, "invalid_request");
    platform
        .delete(&owner.account("/keys/key_unknown"), &owner.token)
        .await
        .assert_error(404, "not_found");
}

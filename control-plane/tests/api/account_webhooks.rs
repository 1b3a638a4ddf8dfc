//! Account webhooks: the control plane's events about an account, POSTed signed (Standard
//! Webhooks) to the endpoints the account registers, on loopback receivers (the platform runs
//! with `allow_private_webhooks`, as under `authstack dev`, except where SSRF is the subject).
//!
//! - `provisioning_sends_instance_ready_to_its_account_only`
//! - `a_deployed_a_rolled_back_and_a_promoted_revision_are_sent`
//! - `subscription_changes_and_a_failed_provisioning_are_sent`
//! - `a_failed_payment_sends_past_due_and_the_end_of_grace_suspended`
//! - `keys_created_rotated_and_revoked_are_sent`
//! - `inside_addresses_and_bad_bodies_are_refused`
//! - `members_without_keys_manage_only_look_and_strangers_find_nothing`
//! - `a_rotated_secret_and_the_previous_one_both_verify_and_replay_resends`
//! - `deliveries_wait_while_the_receiver_is_down_and_arrive_in_order`

use std::sync::Arc;
use std::time::Duration;

use authstack_control_plane::config::{BillingConfig, StripeConfig};
use authstack_control_plane::provisioner::{InstanceRef, InstanceSpec, Progress, Provisioner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::join_as;
use crate::billing::{SECRET, event, invoice_object, subscription_object};
use crate::helpers::{Owner, Received, Receiver, TestPlatform, spawn_platform_with, test_config};

/// A platform whose webhooks may go to loopback; `eu-central-1` provisions nothing (every
/// apply fails) when `failing_region`.
async fn platform(allow_private: bool, failing_region: bool) -> TestPlatform {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.allow_private_webhooks = allow_private;
    if failing_region {
        config
            .provisioners
            .0
            .insert("eu-central-1".into(), Arc::new(Refusing));
    }
    spawn_platform_with(dir, config).await
}

/// A region whose cluster refuses every instance.
struct Refusing;

#[async_trait::async_trait]
impl Provisioner for Refusing {
    async fn apply(&self, _: &InstanceSpec, _: &dyn Progress) -> anyhow::Result<String> {
        anyhow::bail!("the cluster has no capacity")
    }
    async fn suspend(&self, _: &InstanceRef) -> anyhow::Result<()> {
        Ok(())
    }
    async fn delete(&self, _: &InstanceRef) -> anyhow::Result<()> {
        Ok(())
    }
    async fn shutdown(&self) {}
}

fn hooks(owner: &Owner) -> String {
    format!("/v1/accounts/{}/webhooks", owner.account_id)
}

/// The deliveries of type `kind`, each checked: signed with `secret`, version 1, this account.
fn of_type<'a>(
    received: &'a [Received],
    kind: &str,
    secret: &str,
    owner: &Owner,
) -> Vec<&'a Received> {
    let found: Vec<&Received> = received.iter().filter(|r| r.body["type"] == kind).collect();
    for r in &found {
        assert!(
            r.verifies_with(secret),
            "{kind} is not signed with the secret: {r:?}"
        );
        assert_eq!(r.body["id"], r.id.as_str());
        assert_eq!(r.body["version"], 1);
        assert_eq!(r.body["account_id"], owner.account_id.as_str());
    }
    found
}

/// Subscribes `owner` in `region` with the none provider.
async fn subscribe(platform: &TestPlatform, owner: &Owner, plan: &str, region: &str) {
    platform
        .cp(
            Method::POST,
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            Some(json!({ "plan": plan, "region": region })),
        )
        .await
        .assert_ok(200);
}

#[tokio::test]
async fn provisioning_sends_instance_ready_to_its_account_only() {
    let platform = platform(true, false).await;
    let owner = platform.owner("ready@hooks.test").await;
    let other = platform.owner("other@hooks.test").await;
    let (mine, theirs) = (Receiver::start().await, Receiver::start().await);
    let (_, secret) = platform
        .add_account_webhook(&owner, &mine.url, json!(["*"]))
        .await;
    platform
        .add_account_webhook(&other, &theirs.url, json!(["*"]))
        .await;

    let instances = platform.subscribe(&owner, "starter").await;
    let received = mine
        .wait_for_types(&[
            "subscription.activated",
            "instance.ready",
            "revision.deployed",
        ])
        .await;
    let activated = of_type(&received, "subscription.activated", &secret, &owner);
    assert_eq!(activated[0].body["data"]["plan"], "starter");
    // Both instances, each once, on their first revision.
    let received = mine.wait_for(5).await;
    let ready = of_type(&received, "instance.ready", &secret, &owner);
    let mut environments: Vec<&str> = ready
        .iter()
        .filter_map(|r| r.body["data"]["environment"].as_str())
        .collect();
    environments.sort_unstable();
    assert_eq!(environments, ["live", "test"], "{:?}", mine.types());
    for r in &ready {
        assert!(
            instances
                .iter()
                .any(|i| i["id"] == r.body["data"]["instance_id"])
        );
        assert_eq!(r.body["data"]["revision"], 1);
    }
    assert_eq!(
        of_type(&received, "revision.deployed", &secret, &owner).len(),
        2
    );
    // The subscription came first: it is what created the instances.
    assert_eq!(mine.types()[0], "subscription.activated");
    assert!(theirs.received().is_empty(), "{:?}", theirs.types());
}

#[tokio::test]
async fn a_deployed_a_rolled_back_and_a_promoted_revision_are_sent() {
    let platform = platform(true, false).await;
    let owner = platform.owner("revisions@hooks.test").await;
    platform.subscribe(&owner, "starter").await;
    let receiver = Receiver::start().await;
    let (_, secret) = platform
        .add_account_webhook(&owner, &receiver.url, json!(["revision.*"]))
        .await;
    let live = format!("/v1/accounts/{}/instances/live", owner.account_id);
    let deploy = async |patch: Value| {
        let created = platform
            .cp(
                Method::POST,
                &format!("{live}/revisions"),
                &owner.token,
                Some(json!({ "patch": patch })),
            )
            .await;
        created.assert_ok(201);
        let number = created.body["revision"]["number"].as_i64().expect("number");
        let path = format!("{live}/revisions/{number}/deploy?wait=true");
        platform
            .cp(Method::POST, &path, &owner.token, None)
            .await
            .assert_ok(200);
    };

    deploy(json!([{ "op": "replace", "path": "/passwords/min_length", "value": 14 }])).await;
    // Valid as a document, but the instance cannot start with it: rolled back to revision 2.
    deploy(json!([{ "op": "add", "path": "/passwords/common_list_file", "value": "/nonexistent/list.txt" }])).await;
    let received = receiver
        .wait_for_types(&["revision.deployed", "revision.rolled_back"])
        .await;
    let deployed = of_type(&received, "revision.deployed", &secret, &owner);
    assert_eq!(deployed[0].body["data"]["revision"], 2);
    assert_eq!(deployed[0].body["data"]["previous_revision"], 1);
    assert_eq!(deployed[0].body["data"]["environment"], "live");
    let rolled_back = of_type(&received, "revision.rolled_back", &secret, &owner);
    assert_eq!(rolled_back[0].body["data"]["failed_revision"], 3);
    assert_eq!(rolled_back[0].body["data"]["revision"], 2);
    assert!(
        rolled_back[0].body["data"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("nonexistent")
    );
    assert_eq!(
        receiver.types()[..2],
        ["revision.deployed", "revision.rolled_back"]
    );

    // Promoting test to live is a live revision of its own.
    platform
        .cp(
            Method::POST,
            &format!("{live}/promote"),
            &owner.token,
            Some(json!({ "deploy": false })),
        )
        .await
        .assert_ok(201);
    let received = receiver.wait_for_types(&["revision.promoted"]).await;
    let promoted = of_type(&received, "revision.promoted", &secret, &owner);
    assert_eq!(promoted[0].body["data"]["environment"], "live");
    assert_eq!(promoted[0].body["data"]["revision"], 4);
}

#[tokio::test]
async fn subscription_changes_and_a_failed_provisioning_are_sent() {
    let platform = platform(true, true).await;
    let owner = platform.owner("billing@hooks.test").await;
    let receiver = Receiver::start().await;
    let events = json!(["subscription.*", "instance.failed"]);
    let (_, secret) = platform
        .add_account_webhook(&owner, &receiver.url, events)
        .await;

    subscribe(&platform, &owner, "starter", "eu-central-1").await;
    platform.wait_for_instances(&owner, "failed").await;
    let received = receiver
        .wait_for_types(&["subscription.activated", "instance.failed"])
        .await;
    let failed = of_type(&received, "instance.failed", &secret, &owner);
    assert!(
        failed[0].body["data"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no capacity")
    );
    receiver.wait_for(3).await;
    assert_eq!(
        of_type(&receiver.received(), "instance.failed", &secret, &owner).len(),
        2
    );

    subscribe(&platform, &owner, "pro", "eu-central-1").await;
    let received = receiver.wait_for_types(&["subscription.updated"]).await;
    let updated = of_type(&received, "subscription.updated", &secret, &owner);
    assert_eq!(updated[0].body["data"]["plan"], "pro");
    assert_eq!(updated[0].body["data"]["previous_plan"], "starter");

    let path = format!("/v1/accounts/{}/subscription", owner.account_id);
    platform
        .cp(Method::DELETE, &path, &owner.token, None)
        .await
        .assert_ok(200);
    let received = receiver.wait_for_types(&["subscription.canceled"]).await;
    let canceled = of_type(&received, "subscription.canceled", &secret, &owner);
    assert_eq!(canceled[0].body["data"]["previous_status"], "active");
}

#[tokio::test]
async fn a_failed_payment_sends_past_due_and_the_end_of_grace_suspended() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.allow_private_webhooks = true;
    // Stripe's API is never called: the subscription is made outside Checkout.
    config.billing = BillingConfig::Stripe(StripeConfig {
        api_key: secrecy::SecretString::from("sk_test_authstack".to_owned()),
        api_base: "http://127.0.0.1:9/".into(),
        webhook_secrets: vec![secrecy::SecretString::from(SECRET.to_owned())],
        webhook_tolerance: Duration::from_secs(300),
        return_url: "https://dashboard.authstack.test/billing".into(),
    });
    let platform = spawn_platform_with(dir, config).await;
    let owner = platform.owner("pastdue@hooks.test").await;
    let receiver = Receiver::start().await;
    let (_, secret) = platform
        .add_account_webhook(&owner, &receiver.url, json!(["subscription.*"]))
        .await;

    let now = platform.clock.now();
    let price = "price_authstack_starter_monthly";
    let object = subscription_object(
        &owner.account_id,
        "cus_pastdue",
        "active",
        price,
        now + 30 * 86400,
        false,
    );
    let created = event(
        "evt_hooks_sub",
        "customer.subscription.created",
        now,
        object,
    );
    platform.deliver(&created, SECRET, now).await.assert_ok(200);
    receiver.wait_for_types(&["subscription.activated"]).await;

    platform.clock.advance(10);
    let at = platform.clock.now();
    let failed = event(
        "evt_hooks_failed",
        "invoice.payment_failed",
        at,
        invoice_object("cus_pastdue", "open"),
    );
    platform.deliver(&failed, SECRET, at).await.assert_ok(200);
    let received = receiver.wait_for_types(&["subscription.past_due"]).await;
    let past_due = of_type(&received, "subscription.past_due", &secret, &owner);
    assert!(
        past_due[0].body["data"]["grace_until"].is_string(),
        "{:?}",
        past_due[0].body
    );

    // The grace period ends: the billing clock suspends the subscription.
    platform
        .clock
        .advance(platform.config.payment_grace.as_secs() as i64 + 1);
    let received = receiver.wait_for_types(&["subscription.suspended"]).await;
    let suspended = of_type(&received, "subscription.suspended", &secret, &owner);
    assert_eq!(suspended[0].body["data"]["previous_status"], "past_due");
    assert_eq!(
        receiver.types(),
        [
            "subscription.activated",
            "subscription.past_due",
            "subscription.suspended"
        ]
    );
}

#[tokio::test]
async fn keys_created_rotated_and_revoked_are_sent() {
    let platform = platform(true, true).await;
    let owner = platform.owner("keys@hooks.test").await;
    subscribe(&platform, &owner, "starter", "eu-central-1").await;
    let receiver = Receiver::start().await;
    let (_, secret) = platform
        .add_account_webhook(&owner, &receiver.url, json!(["key.*"]))
        .await;

    let key = platform.create_key(&owner, "test", "publishable").await;
    let key_id = key["id"].as_str().expect("a key id").to_owned();
    let keys = format!("/v1/accounts/{}/keys", owner.account_id);
    let rotated = platform
        .cp(
            Method::POST,
            &format!("{keys}/{key_id}/rotate"),
            &owner.token,
            Some(json!({})),
        )
        .await;
    rotated.assert_ok(201);
    let new_id = rotated.str("id");
    let revoke = format!("{keys}/{new_id}");
    platform
        .cp(Method::DELETE, &revoke, &owner.token, None)
        .await
        .assert_ok(204);

    let received = receiver
        .wait_for_types(&["key.created", "key.rotated", "key.revoked"])
        .await;
    assert_eq!(
        receiver.types(),
        ["key.created", "key.rotated", "key.revoked"]
    );
    let created = of_type(&received, "key.created", &secret, &owner);
    assert_eq!(created[0].body["data"]["key_id"], key_id.as_str());
    assert_eq!(created[0].body["data"]["environment"], "test");
    let rotated = of_type(&received, "key.rotated", &secret, &owner);
    assert_eq!(rotated[0].body["data"]["new_key_id"], new_id.as_str());
    let revoked = of_type(&received, "key.revoked", &secret, &owner);
    assert_eq!(revoked[0].body["data"]["key_id"], new_id.as_str());
    assert!(
        !receiver.received().iter().any(|r| r.raw.contains("ask_")),
        "no key secret in events"
    );
}

#[tokio::test]
async fn inside_addresses_and_bad_bodies_are_refused() {
    let platform = platform(false, false).await;
    let owner = platform.owner("ssrf@hooks.test").await;
    let create = async |body: Value| platform.post(&hooks(&owner), &owner.token, body).await;
    for url in [
        "http://127.0.0.1:9/h",
        "http://[::1]/h",
        "http://169.254.169.254/latest",
        "http://10.1.2.3/h",
        "http://localhost:8080/h",
    ] {
        let refused = create(json!({ "url": url })).await;
        refused.assert_error(400, "invalid_request");
        assert!(
            refused.str("message").contains("public address"),
            "{url}: {:?}",
            refused.body
        );
    }
    for body in [
        json!({ "url": "ftp://hooks.example.com/" }),
        json!({ "url": "https://hooks.example.com/", "events": ["user.created"] }),
        json!({ "url": "https://hooks.example.com/", "extra": 1 }),
    ] {
        create(body).await.assert_error(400, "invalid_request");
    }
    let created =
        create(json!({ "url": "https://hooks.example.com/a", "description": "CRM" })).await;
    created.assert_ok(201);
    assert_eq!(created.body["webhook"]["events"], json!(["*"]));
    assert_eq!(
        created.body["webhook"]["secret_prefix"],
        created.str("secret")[..10]
    );
}

#[tokio::test]
async fn members_without_keys_manage_only_look_and_strangers_find_nothing() {
    let platform = platform(false, false).await;
    let owner = platform.owner("looks@hooks.test").await;
    let body = json!({ "url": "https://hooks.example.com/a" });
    let created = platform.post(&hooks(&owner), &owner.token, body).await;
    created.assert_ok(201);
    let id = created.body["webhook"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let one = format!("{}/{id}", hooks(&owner));

    let member = join_as(&platform, &owner, "member@looks.hooks.test", "member").await;
    let listed = platform.get(&hooks(&owner), &member).await;
    listed.assert_ok(200);
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    assert!(!listed.body.to_string().contains(&created.str("secret")));
    platform
        .get(&format!("{one}/deliveries"), &member)
        .await
        .assert_ok(200);
    let body = json!({ "url": "https://hooks.example.com/b" });
    platform
        .post(&hooks(&owner), &member, body)
        .await
        .assert_error(403, "forbidden");
    for action in ["test", "rotate-secret", "enable"] {
        platform
            .post_empty(&format!("{one}/{action}"), &member)
            .await
            .assert_error(403, "forbidden");
    }
    platform
        .delete(&one, &member)
        .await
        .assert_error(403, "forbidden");
    // Another account's member sees no such endpoint.
    let stranger = platform.owner("stranger@hooks.test").await;
    let theirs = format!("/v1/accounts/{}/webhooks/{id}/test", stranger.account_id);
    platform
        .post_empty(&theirs, &stranger.token)
        .await
        .assert_error(404, "not_found");

    platform.delete(&one, &owner.token).await.assert_ok(204);
    platform
        .delete(&one, &owner.token)
        .await
        .assert_error(404, "not_found");
    let audit = owner.account("/audit-logs?action=account_webhook.");
    let audit = platform.get(&audit, &owner.token).await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .expect("a page")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["account_webhook.deleted", "account_webhook.created"]
    );
}

#[tokio::test]
async fn a_rotated_secret_and_the_previous_one_both_verify_and_replay_resends() {
    let platform = platform(true, false).await;
    let owner = platform.owner("rotate@hooks.test").await;
    let receiver = Receiver::start().await;
    let (id, first) = platform
        .add_account_webhook(&owner, &receiver.url, json!(["*"]))
        .await;
    let one = format!("{}/{id}", hooks(&owner));

    let rotated = platform
        .cp(
            Method::POST,
            &format!("{one}/rotate-secret"),
            &owner.token,
            None,
        )
        .await;
    rotated.assert_ok(200);
    let second = rotated.str("secret");
    assert!(second.starts_with("whsec_") && second != first);
    assert!(
        rotated.body["previous_secret_expires_at"].is_string(),
        "{:?}",
        rotated.body
    );
    let test = async || {
        let queued = platform
            .cp(Method::POST, &format!("{one}/test"), &owner.token, None)
            .await;
        queued.assert_ok(202);
        queued.str("event_id")
    };
    let event_id = test().await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].id, event_id);
    assert_eq!(got[0].body["type"], "webhook.test");
    assert_eq!(got[0].signature.split(' ').count(), 2);
    assert!(got[0].verifies_with(&first) && got[0].verifies_with(&second));

    // Replayed: the same event again, to the same endpoint.
    let path = format!("{}/deliveries/{event_id}/replay", hooks(&owner));
    let replayed = platform.cp(Method::POST, &path, &owner.token, None).await;
    replayed.assert_ok(202);
    assert_eq!(replayed.body["queued"], 1);
    assert_eq!(receiver.wait_for(2).await[1].id, event_id);
    let missing = format!(
        "{}/deliveries/evt_0190aaaaaaaaaaaaaaaaaaaaaaaaaaaa/replay",
        hooks(&owner)
    );
    platform
        .cp(Method::POST, &missing, &owner.token, None)
        .await
        .assert_error(404, "not_found");

    // A day later only the new secret signs.
    platform.clock.advance(24 * 3600 + 1);
    test().await;
    let got = receiver.wait_for(3).await;
    assert!(got[2].verifies_with(&second) && !got[2].verifies_with(&first));
    let log = platform
        .cp(
            Method::GET,
            &format!("{one}/deliveries?limit=10"),
            &owner.token,
            None,
        )
        .await;
    log.assert_ok(200);
    let oldest = &log.body["data"][2];
    assert_eq!(oldest["event_id"], event_id.as_str(), "{:#}", log.body);
    assert_eq!(oldest["status"], "delivered", "{:#}", log.body);
    assert_eq!(oldest["last_status"], 200);
    assert_eq!(oldest["response_excerpt"], "ok");
    assert!(oldest["latency_ms"].is_i64());
}

#[tokio::test]
async fn deliveries_wait_while_the_receiver_is_down_and_arrive_in_order() {
    let platform = platform(true, false).await;
    let owner = platform.owner("down@hooks.test").await;
    let receiver = Receiver::start().await;
    receiver.set_down(true);
    let (id, secret) = platform
        .add_account_webhook(&owner, &receiver.url, json!(["*"]))
        .await;
    let one = format!("{}/{id}", hooks(&owner));
    let mut sent = Vec::new();
    for _ in 0..3 {
        let queued = platform
            .cp(Method::POST, &format!("{one}/test"), &owner.token, None)
            .await;
        queued.assert_ok(202);
        sent.push(queued.str("event_id"));
    }
    // The first fails and waits for its retry; the others wait behind it.
    let mut oldest = Value::Null;
    for _ in 0..100 {
        let log = platform
            .cp(
                Method::GET,
                &format!("{one}/deliveries"),
                &owner.token,
                None,
            )
            .await;
        oldest = log.body["data"][2].clone();
        if oldest["attempts"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(oldest["last_status"], 503, "{oldest:#}");
    assert_eq!(oldest["status"], "pending");
    assert!(oldest["next_attempt_at"].is_string());

    receiver.set_down(false);
    platform.clock.advance(10);
    let got = receiver.wait_for(3).await;
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, sent, "in the order they were queued");
    assert!(got.iter().all(|r| r.verifies_with(&secret)));
}

//! Organization webhooks: an organization's admins register endpoints that receive that
//! organization's audit events, signed like the instance's own (a real receiver on loopback;
//! the signature checked against the secret the create answer showed).
//!
//! - `a_member_event_reaches_its_own_organizations_endpoint_only`
//! - `only_holders_of_the_permission_manage_endpoints`
//! - `after_a_rotation_both_secrets_sign`
//! - `deleting_the_endpoint_or_the_organization_stops_deliveries`
//! - `private_targets_are_refused_outside_development`
//! - `test_replay_and_enable_work_on_the_organizations_endpoints`
//! - `bad_inputs_get_clear_errors`

use std::time::Duration;

use authstack_instance::db::Scope;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, Reply, TestApp, spawn_app, spawn_app_refusing_private_webhooks};
use crate::webhooks::{Receiver, expected_signature};

backend_tests!(
    a_member_event_reaches_its_own_organizations_endpoint_only,
    only_holders_of_the_permission_manage_endpoints,
    after_a_rotation_both_secrets_sign,
    deleting_the_endpoint_or_the_organization_stops_deliveries,
    private_targets_are_refused_outside_development,
    test_replay_and_enable_work_on_the_organizations_endpoints,
    bad_inputs_get_clear_errors,
);

const PASSWORD: &str = "correct horse battery";

async fn create(app: &TestApp, org: &str, token: &str, url: &str, events: &[&str]) -> Reply {
    app.post_as(
        &format!("/v1/organizations/{org}/webhooks"),
        token,
        json!({ "url": url, "events": events, "description": "SIEM" }),
    )
    .await
}

/// An owner and their organization; returns (token, org id).
async fn owner_and_org(app: &TestApp, email: &str, name: &str) -> (String, String) {
    let owner = app.register(email, PASSWORD).await.access_token();
    let org = app.create_org(&owner, name).await;
    (owner, org)
}

/// Registers an endpoint; returns (its id, its secret).
async fn endpoint(
    app: &TestApp,
    org: &str,
    token: &str,
    url: &str,
    events: &[&str],
) -> (String, String) {
    let created = create(app, org, token, url, events).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["webhook"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    (id, created.str("secret"))
}

async fn deliveries(app: &TestApp, org: &str, token: &str, id: &str) -> Vec<Value> {
    let reply = app
        .get_as(
            &format!("/v1/organizations/{org}/webhooks/{id}/deliveries"),
            token,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().expect("a list").clone()
}

/// The endpoint's log once its newest delivery has had an attempt (at most 10 s).
async fn attempted(app: &TestApp, org: &str, token: &str, id: &str) -> Vec<Value> {
    let mut log = Vec::new();
    for _ in 0..40 {
        log = deliveries(app, org, token, id).await;
        if log.first().is_some_and(|d| d["attempts"] != 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    log
}

async fn a_member_event_reaches_its_own_organizations_endpoint_only(backend: Backend) {
    let (alpha_hook, beta_hook) = (Receiver::start(0).await, Receiver::start(0).await);
    let app = spawn_app(backend).await;
    let (alpha_owner, alpha) = owner_and_org(&app, "alpha@example.com", "Alpha").await;
    let (beta_owner, beta) = owner_and_org(&app, "beta@example.com", "Beta").await;
    let created = create(
        &app,
        &alpha,
        &alpha_owner,
        &alpha_hook.url,
        &["organization.member_added"],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.str("secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id = created.body["webhook"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(id.starts_with("whe_org_"), "{id}");
    assert_eq!(created.body["webhook"]["secret_prefix"], secret[..10]);
    assert_eq!(
        created.body["webhook"]["events"],
        json!(["organization.member_added"])
    );
    // Beta's endpoint takes everything: still only Beta's events.
    endpoint(&app, &beta, &beta_owner, &beta_hook.url, &["*"]).await;

    let member = app
        .join_as_new_user(&alpha, &alpha_owner, "amy@example.com", "member")
        .await
        .user_id();
    app.join_as_new_user(&beta, &beta_owner, "bob@example.com", "member")
        .await;
    // An instance-wide event (no organization): sent to neither.
    app.register("loner@example.com", PASSWORD).await;

    let got = alpha_hook.wait_for_delivered(1, None).await;
    let r = &got[0];
    let body = r.json();
    assert_eq!(body["type"], "organization.member_added", "{body:#}");
    assert_eq!(body["data"]["organization_id"], alpha.as_str());
    assert_eq!(body["data"]["target_id"], member.as_str());
    // Signed with the secret of the create answer, and only that one (the check can fail).
    assert_eq!(r.signature, expected_signature(&secret, r));
    assert_ne!(
        r.signature,
        expected_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", r)
    );
    beta_hook.wait_for_delivered(3, None).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(alpha_hook.all().len(), 1, "{:#?}", alpha_hook.all());
    let beta_got = beta_hook.all();
    assert!(beta_got.len() >= 3, "{beta_got:#?}");
    for r in &beta_got {
        assert_eq!(
            r.json()["data"]["organization_id"],
            beta.as_str(),
            "{}",
            r.body
        );
    }

    // The list shows the secret's first characters only, and the delivery.
    let list = app
        .get_as(&format!("/v1/organizations/{alpha}/webhooks"), &alpha_owner)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let listed = &list.body["data"][0];
    assert!(!list.body.to_string().contains(&secret), "{}", list.body);
    assert_eq!(listed["secret_prefix"], secret[..10]);
    assert_eq!(listed["url"], alpha_hook.url.as_str());
    assert_eq!(listed["last_delivery_status"], "delivered");
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
    let log = deliveries(&app, &alpha, &alpha_owner, &id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["last_status"], 200);
    // Registering is an event of the organization's audit log.
    let audit = app
        .get_as(
            &format!("/v1/organizations/{alpha}/audit-logs?action=organization.webhook.created"),
            &alpha_owner,
        )
        .await;
    assert_eq!(
        audit.body["data"][0]["target_id"],
        id.as_str(),
        "{}",
        audit.body
    );
    assert!(!audit.body.to_string().contains(&secret));
}

async fn only_holders_of_the_permission_manage_endpoints(backend: Backend) {
    let hook = Receiver::start(0).await;
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "owner@example.com", "Acme").await;
    let member = app
        .join_as_new_user(&org, &owner, "member@example.com", "member")
        .await
        .access_token();
    let admin = app
        .join_as_new_user(&org, &owner, "admin@example.com", "admin")
        .await
        .access_token();
    create(&app, &org, &member, &hook.url, &["*"])
        .await
        .assert_error(403, "forbidden");
    app.get_as(&format!("/v1/organizations/{org}/webhooks"), &member)
        .await
        .assert_error(403, "forbidden");
    // The built-in admin role holds webhooks:manage.
    let (id, _) = endpoint(&app, &org, &admin, &hook.url, &["*"]).await;
    app.post_as(
        &format!("/v1/organizations/{org}/webhooks/{id}/rotate-secret"),
        &member,
        json!({}),
    )
    .await
    .assert_error(403, "forbidden");
    // An API key holding the permission manages them; one without it is refused.
    let manager = api_key(&app, &org, &owner, &["webhooks:manage"]).await;
    let reader = api_key(&app, &org, &owner, &["members:read"]).await;
    let by_key = create(&app, &org, &manager, &hook.url, &["organization.*"]).await;
    assert_eq!(by_key.status, 201, "{}", by_key.body);
    assert!(
        by_key.body["webhook"]["created_by"]
            .as_str()
            .is_some_and(|c| c.starts_with("orgkey_")),
        "{}",
        by_key.body
    );
    create(&app, &org, &reader, &hook.url, &["*"])
        .await
        .assert_error(403, "forbidden");
    let list = app
        .get_as(&format!("/v1/organizations/{org}/webhooks"), &manager)
        .await;
    assert_eq!(
        list.body["data"].as_array().map(Vec::len),
        Some(2),
        "{}",
        list.body
    );
}

async fn api_key(app: &TestApp, org: &str, owner: &str, permissions: &[&str]) -> String {
    let created = app
        .post_as(
            &format!("/v1/organizations/{org}/api-keys"),
            owner,
            json!({ "name": "SIEM setup", "permissions": permissions }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.str("key")
}

async fn after_a_rotation_both_secrets_sign(backend: Backend) {
    let hook = Receiver::start(0).await;
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "owner@example.com", "Acme").await;
    let (id, first) = endpoint(
        &app,
        &org,
        &owner,
        &hook.url,
        &["organization.invitation_sent"],
    )
    .await;
    let rotated = app
        .post_as(
            &format!("/v1/organizations/{org}/webhooks/{id}/rotate-secret"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = rotated.str("secret");
    assert_ne!(first, second);
    // The first secret was shown (by the create answer): it keeps signing for 24 hours.
    assert!(
        rotated.body["previous_secret_expires_at"].is_string(),
        "{}",
        rotated.body
    );
    app.post_as(
        &format!("/v1/organizations/{org}/invitations"),
        &owner,
        json!({ "email": "ivy@example.com" }),
    )
    .await;
    let got = hook.wait_for_delivered(1, None).await;
    let signatures: Vec<&str> = got[0].signature.split(' ').collect();
    assert_eq!(signatures.len(), 2, "{}", got[0].signature);
    assert!(signatures.contains(&expected_signature(&second, &got[0]).as_str()));
    assert!(signatures.contains(&expected_signature(&first, &got[0]).as_str()));
    let audit = app
        .get_as(
            &format!(
                "/v1/organizations/{org}/audit-logs?action=organization.webhook.secret_rotated"
            ),
            &owner,
        )
        .await;
    assert_eq!(
        audit.body["data"][0]["target_id"],
        id.as_str(),
        "{}",
        audit.body
    );

    // A day later, the new secret alone.
    app.clock.advance(24 * 3600 + 1);
    let owner = app
        .login("owner@example.com", PASSWORD)
        .await
        .access_token();
    app.post_as(
        &format!("/v1/organizations/{org}/invitations"),
        &owner,
        json!({ "email": "ian@example.com" }),
    )
    .await;
    let got = hook.wait_for_delivered(2, None).await;
    assert_eq!(got[1].signature, expected_signature(&second, &got[1]));
}

/// Rows of the outbox and of webhook_endpoints for `id`, and whether the organization's
/// endpoint row exists (read in an all-organizations scope).
async fn stored(app: &TestApp, id: &str) -> (i64, i64, i64) {
    let mut tx = app
        .app
        .db
        .scoped(Scope::AllOrganizations, false)
        .await
        .expect("a scope");
    let mut counts = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM webhook_outbox WHERE endpoint_id = $1",
        "SELECT COUNT(*) FROM webhook_endpoints WHERE id = $1",
        "SELECT COUNT(*) FROM organization_webhook_endpoints WHERE id = $1",
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .expect("a count");
        counts.push(n);
    }
    tx.commit().await.expect("commit");
    (counts[0], counts[1], counts[2])
}

async fn deleting_the_endpoint_or_the_organization_stops_deliveries(backend: Backend) {
    let hook = Receiver::start(0).await;
    hook.set_failing(true);
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "owner@example.com", "Doomed").await;
    let (id, _) = endpoint(&app, &org, &owner, &hook.url, &["organization.*"]).await;
    // The endpoint's creation is its first event, failing and queued for a retry.
    let log = attempted(&app, &org, &owner, &id).await;
    assert_eq!(log[0]["status"], "pending", "{log:#?}");
    assert_eq!(stored(&app, &id).await, (1, 1, 1));
    let (other, _) = endpoint(
        &app,
        &org,
        &owner,
        &hook.url,
        &["organization.member_added"],
    )
    .await;

    assert_eq!(
        app.delete_as(&format!("/v1/organizations/{org}/webhooks/{other}"), &owner)
            .await
            .status,
        204
    );
    assert_eq!(stored(&app, &other).await, (0, 0, 0));
    app.delete_as(&format!("/v1/organizations/{org}/webhooks/{other}"), &owner)
        .await
        .assert_error(404, "not_found");
    let list = app
        .get_as(&format!("/v1/organizations/{org}/webhooks"), &owner)
        .await;
    assert_eq!(
        list.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        list.body
    );
    let audit = app
        .get_as(
            &format!("/v1/organizations/{org}/audit-logs?action=organization.webhook.deleted"),
            &owner,
        )
        .await;
    assert_eq!(
        audit.body["data"][0]["target_id"],
        other.as_str(),
        "{}",
        audit.body
    );

    assert_eq!(
        app.delete_as(&format!("/v1/organizations/{org}"), &owner)
            .await
            .status,
        204
    );
    assert_eq!(stored(&app, &id).await, (0, 0, 0), "its queue goes with it");
    let seen = hook.all().len();
    hook.set_failing(false);
    for _ in 0..6 {
        app.clock.advance(3600);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        hook.all().len(),
        seen,
        "nothing is sent after: {:#?}",
        hook.all()
    );
}

async fn private_targets_are_refused_outside_development(backend: Backend) {
    let hook = Receiver::start(0).await;
    let app = spawn_app_refusing_private_webhooks(backend, Default::default()).await;
    let (owner, org) = owner_and_org(&app, "owner@example.com", "Acme").await;
    let by_name = hook.url.replace("127.0.0.1", "localhost");
    for url in [
        hook.url.as_str(),
        by_name.as_str(),
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest",
        "https://[::1]/hooks",
    ] {
        let refused = create(&app, &org, &owner, url, &["*"]).await;
        refused.assert_error(400, "url_not_allowed");
        assert!(
            refused.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("loopback, private or link-local")),
            "{url}: {}",
            refused.body
        );
    }
    let list = app
        .get_as(&format!("/v1/organizations/{org}/webhooks"), &owner)
        .await;
    assert_eq!(list.body["data"], json!([]), "{}", list.body);

    // At delivery too: an endpoint whose address is refused by then (as when its name resolves
    // elsewhere than when it was registered) gets nothing.
    let id = "whe_org_0000000000000000000000000000dead";
    let mut tx = app
        .app
        .db
        .scoped(Scope::Organization(&org), true)
        .await
        .expect("a scope");
    sqlx::query(
        "INSERT INTO organization_webhook_endpoints (id, organization_id, url, events, created_at) \
         VALUES ($1, $2, $3, '[\"*\"]', 0)",
    )
    .bind(id)
    .bind(&org)
    .bind(&hook.url)
    .execute(&mut *tx)
    .await
    .expect("an endpoint");
    tx.commit().await.expect("commit");
    app.patch_as(
        &format!("/v1/organizations/{org}"),
        &owner,
        json!({ "name": "Acme 2" }),
    )
    .await;
    let log = attempted(&app, &org, &owner, id).await;
    assert_eq!(log[0]["status"], "failed", "{log:#?}");
    assert!(
        log[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("refused: 127.0.0.1")),
        "{log:#?}"
    );
    assert!(hook.all().is_empty());
}

async fn test_replay_and_enable_work_on_the_organizations_endpoints(backend: Backend) {
    let hook = Receiver::start(0).await;
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "owner@example.com", "Acme").await;
    let (outsider, theirs) = owner_and_org(&app, "outsider@example.com", "Other").await;
    let (id, secret) = endpoint(&app, &org, &owner, &hook.url, &["organization.updated"]).await;

    let test = app
        .post_as(
            &format!("/v1/organizations/{org}/webhooks/{id}/test"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
    let event_id = test.str("event_id");
    let got = hook.wait_for_delivered(1, None).await;
    assert_eq!(got[0].id, event_id);
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert_eq!(got[0].json()["data"]["organization_id"], org.as_str());
    assert_eq!(got[0].signature, expected_signature(&secret, &got[0]));

    let replayed = app
        .post_as(
            &format!("/v1/organizations/{org}/webhooks/deliveries/{event_id}/replay"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(replayed.status, 202, "{}", replayed.body);
    assert_eq!(replayed.body["queued"], 1);
    let got = hook.wait_for_delivered(2, None).await;
    assert_eq!(got[1].id, event_id);
    assert_eq!(got[1].body, got[0].body);
    // Another organization's admin cannot replay it from theirs, nor an unknown event.
    for (org, token, event) in [
        (&theirs, &outsider, event_id.as_str()),
        (&org, &owner, "evt_unknown"),
    ] {
        app.post_as(
            &format!("/v1/organizations/{org}/webhooks/deliveries/{event}/replay"),
            token,
            json!({}),
        )
        .await
        .assert_error(404, "not_found");
    }

    // Disabled after failures (as the worker does it): events wait; enabling sends them.
    sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = 'tests' WHERE id = $2",
    )
    .bind(app.clock.now())
    .bind(&id)
    .execute(&app.app.db.writer)
    .await
    .expect("disabled");
    app.patch_as(
        &format!("/v1/organizations/{org}"),
        &owner,
        json!({ "name": "Acme 2" }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(hook.all().len(), 2, "nothing while disabled");
    let listed = app
        .get_as(&format!("/v1/organizations/{org}/webhooks"), &owner)
        .await;
    assert_eq!(
        listed.body["data"][0]["disabled_reason"], "tests",
        "{}",
        listed.body
    );
    let enabled = app
        .post_as(
            &format!("/v1/organizations/{org}/webhooks/{id}/enable"),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(enabled.body["disabled_at"], Value::Null);
    let got = hook.wait_for_delivered(3, None).await;
    assert_eq!(got[2].json()["type"], "organization.updated");
}

async fn bad_inputs_get_clear_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "owner@example.com", "Acme").await;
    let path = format!("/v1/organizations/{org}/webhooks");
    let ok = "http://127.0.0.1:9/hooks";
    for (body, says) in [
        (json!({ "url": "not a url", "events": ["*"] }), "url"),
        (
            json!({ "url": "siem.example.com/hooks", "events": ["*"] }),
            "url",
        ),
        (
            json!({ "url": "http://siem.example.com/hooks", "events": ["*"] }),
            "https",
        ),
        (
            json!({ "url": "https://u:p@siem.example.com/", "events": ["*"] }),
            "credentials",
        ),
        (json!({ "url": ok, "events": [] }), "events"),
        (json!({ "url": ok, "events": ["Membership"] }), "event name"),
        (
            json!({ "url": ok, "events": ["*"], "description": "x".repeat(501) }),
            "500",
        ),
        (
            json!({ "url": ok, "events": ["*"], "secret": "whsec_mine" }),
            "secret",
        ),
        (json!({ "events": ["*"] }), "url"),
    ] {
        let reply = app.post_as(&path, &owner, body.clone()).await;
        reply.assert_error(400, "invalid_request");
        assert!(
            reply.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{body}: {}",
            reply.body
        );
    }
    let unknown = format!("{path}/whe_org_unknown");
    for (method, suffix) in [
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("POST", "/test"),
        ("POST", "/enable"),
        ("GET", "/deliveries"),
    ] {
        let url = format!("{unknown}{suffix}");
        let reply = match method {
            "DELETE" => app.delete_as(&url, &owner).await,
            "GET" => app.get_as(&url, &owner).await,
            _ => app.post_as(&url, &owner, json!({})).await,
        };
        reply.assert_error(404, "not_found");
    }
    // At most ten endpoints per organization.
    for _ in 0..10 {
        assert_eq!(
            create(&app, &org, &owner, ok, &["organization.updated"])
                .await
                .status,
            201
        );
    }
    create(&app, &org, &owner, ok, &["organization.updated"])
        .await
        .assert_error(403, "limit_exceeded");
    let list = app.get_as(&path, &owner).await;
    let id = list.body["data"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    app.get_as(&format!("{path}/{id}/deliveries?limit=0"), &owner)
        .await
        .assert_error(400, "invalid_request");
}

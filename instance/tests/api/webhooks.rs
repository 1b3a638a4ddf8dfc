//! Webhooks: events POSTed to a real receiver on loopback, signed per Standard Webhooks
//! (verified here with our own HMAC; sdk-js/e2e/webhooks.test.mjs verifies with the
//! `standardwebhooks` package), retried in order, replayed, refused for private addresses in
//! production, signed with both secrets after a rotation, and durable across kill -9 (their
//! endpoints' standing, test events and secrets shown once: `webhook_endpoints.rs`).
//!
//! - `a_signup_sends_a_signed_user_created`
//! - `a_failing_receiver_gets_every_event_in_order_once_it_answers`
//! - `an_event_is_replayed_with_its_id`
//! - `a_private_address_is_refused_in_production`
//! - `after_a_rotation_both_secrets_sign`
//! - `a_queued_event_survives_kill_9`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authstack_instance::config::{InstanceConfig, Webhook};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use nix::sys::signal::{Signal, kill};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::backend_tests;
use crate::helpers::{
    Backend, Reply, TestApp, spawn_app_refusing_private_webhooks, spawn_app_with,
};
use crate::process::{Launch, Server};

backend_tests!(
    a_signup_sends_a_signed_user_created,
    a_failing_receiver_gets_every_event_in_order_once_it_answers,
    an_event_is_replayed_with_its_id,
    a_private_address_is_refused_in_production,
    after_a_rotation_both_secrets_sign,
    a_queued_event_survives_kill_9,
    organization_api_key_events_are_sent,
);

/// One request a receiver got, and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) id: String,
    timestamp: String,
    pub(crate) signature: String,
    pub(crate) body: String,
    pub(crate) answered: u16,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A receiver on loopback: answers 500 to the first `fail_first` requests, 200 after (500
/// to every request while `failing` is set).
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
    failing: Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    pub(crate) async fn start(fail_first: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        Self::serve(listener, fail_first)
    }

    fn serve(listener: tokio::net::TcpListener, fail_first: usize) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = Arc::new(AtomicUsize::new(0));
        let (log, fails) = (received.clone(), failing.clone());
        let handler = move |headers: axum::http::HeaderMap, body: String| {
            let (log, seen, fails) = (log.clone(), seen.clone(), fails.clone());
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let early = seen.fetch_add(1, Ordering::SeqCst) < fail_first;
                let answered = match early || fails.load(Ordering::SeqCst) {
                    true => 500,
                    false => 200,
                };
                log.lock().expect("the log").push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body,
                    answered,
                });
                axum::http::StatusCode::from_u16(answered).expect("a status")
            }
        };
        let url = format!(
            "http://127.0.0.1:{}/hooks",
            listener.local_addr().expect("its address").port()
        );
        let router = axum::Router::new().route("/hooks", axum::routing::post(handler));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver {
            url,
            received,
            failing,
        }
    }

    pub(crate) fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub(crate) fn all(&self) -> Vec<Received> {
        self.received.lock().expect("the log").clone()
    }

    /// Waits until `n` requests were answered 2xx (at most 30 s), moving `clock` on by 10 s
    /// every half second so that retries fall due; returns every request.
    pub(crate) async fn wait_for_delivered(
        &self,
        n: usize,
        app: Option<&TestApp>,
    ) -> Vec<Received> {
        for _ in 0..60 {
            if self.all().iter().filter(|r| r.answered == 200).count() >= n {
                break;
            }
            if let Some(app) = app {
                app.clock.advance(10);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.all()
    }
}

pub(crate) fn config(url: &str, events: &[&str]) -> InstanceConfig {
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    config.webhooks = vec![Webhook {
        url: url.to_owned(),
        events: events.iter().map(|e| e.to_string()).collect(),
        description: Some("tests".into()),
    }];
    config
}

/// The Standard Webhooks signature of `r` under `secret`.
pub(crate) fn expected_signature(secret: &str, r: &Received) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("base64");
    assert!((24..=64).contains(&key.len()), "{} key bytes", key.len());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("a key");
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

pub(crate) async fn endpoint(app: &TestApp) -> Value {
    let list = app.get_as("/v1/admin/webhooks", &app.admin_key).await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.body["data"][0].clone()
}

/// The endpoint's secret, which only a rotation shows.
pub(crate) async fn reveal(app: &TestApp, endpoint_id: &str) -> Reply {
    let rotated = app
        .post_as(
            &format!("/v1/admin/webhooks/{endpoint_id}/rotate-secret"),
            &app.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    rotated
}

pub(crate) async fn deliveries(app: &TestApp, endpoint_id: &str) -> Vec<Value> {
    let reply = app
        .get_as(
            &format!("/v1/admin/webhooks/{endpoint_id}/deliveries"),
            &app.admin_key,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().expect("a list").clone()
}

pub(crate) async fn signup(app: &TestApp, email: &str) -> String {
    let reply = app
        .post(
            "/v1/auth/signup",
            json!({ "email": email, "password": "correct horse battery staple" }),
        )
        .await;
    assert!(reply.status == 200 || reply.status == 201, "{}", reply.body);
    reply.user_id()
}

async fn organization_api_key_events_are_sent(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let app = spawn_app_with(backend, config(&receiver.url, &["organization.api_key.*"])).await;
    signup(&app, "kay@example.com").await;
    let owner = app
        .login("kay@example.com", "correct horse battery staple")
        .await
        .access_token();
    let org = app.create_org(&owner, "Keys").await;
    let created = app
        .post_as(
            &format!("/v1/organizations/{org}/api-keys"),
            &owner,
            json!({ "name": "CI", "permissions": ["organization:read"] }),
        )
        .await;
    let key_id = created.body["api_key"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.get_as(&format!("/v1/organizations/{org}"), &created.str("key"))
        .await;
    app.delete_as(
        &format!("/v1/organizations/{org}/api-keys/{key_id}"),
        &owner,
    )
    .await;

    let got = receiver.wait_for_delivered(3, None).await;
    let types: Vec<Value> = got.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [
            "organization.api_key.created",
            "organization.api_key.used",
            "organization.api_key.revoked"
        ]
    );
    for r in &got {
        assert_eq!(r.json()["data"]["target_id"], key_id.as_str());
        assert_eq!(r.json()["data"]["organization_id"], org.as_str());
    }
    assert!(!got.iter().any(|r| r.body.contains(&created.str("key"))));
}

async fn a_signup_sends_a_signed_user_created(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let app = spawn_app_with(backend, config(&receiver.url, &["user.created"])).await;
    // The list shows a secret's first characters; a rotation shows it, once. The first rotation
    // keeps no previous secret (it was never shown, so nobody verifies with it).
    let listed = endpoint(&app).await;
    assert!(listed.get("secret").is_none(), "{listed:#}");
    let rotated = reveal(&app, listed["id"].as_str().expect("an id")).await;
    assert_eq!(rotated.body["previous_secret_expires_at"], Value::Null);
    let secret = rotated.str("secret");
    let user_id = signup(&app, "ada@example.com").await;
    // Not selected by the endpoint's patterns: never sent.
    app.create_org(
        &app.login("ada@example.com", "correct horse battery staple")
            .await
            .access_token(),
        "Acme",
    )
    .await;

    let got = receiver.wait_for_delivered(1, None).await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let r = &got[0];
    let body = r.json();
    assert_eq!(body["type"], "user.created");
    assert_eq!(body["version"], 1);
    assert_eq!(body["id"], r.id.as_str());
    assert!(r.id.starts_with("evt_"), "{}", r.id);
    assert_eq!(body["data"]["target_id"], user_id.as_str());
    assert_eq!(body["data"]["action"], "auth.signup");
    assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let sent_at: i64 = r.timestamp.parse().expect("unix seconds");
    assert!((sent_at - app.clock.now()).abs() < 60);

    let endpoint = endpoint(&app).await;
    assert_eq!(endpoint["secret_prefix"], secret[..10]);
    assert!(endpoint.get("secret").is_none(), "{endpoint:#}");
    assert_eq!(endpoint["disabled_at"], Value::Null);
    let secret = secret.as_str();
    assert_eq!(r.signature, expected_signature(secret, r));
    // Another secret does not produce it: the check above can fail.
    assert_ne!(
        r.signature,
        expected_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", r)
    );
    assert_eq!(endpoint["url"], receiver.url.as_str());
    assert_eq!(endpoint["last_delivery_status"], "delivered");
    let log = deliveries(&app, endpoint["id"].as_str().expect("an id")).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status"], 200);
    // The secret is sealed at rest, not stored as it is shown.
    let stored: String = sqlx::query_scalar("SELECT secret_sealed FROM webhook_endpoints")
        .fetch_one(&app.app.db.pool)
        .await
        .expect("a stored secret");
    assert!(!stored.contains(secret.trim_start_matches("whsec_")));

    // The delivery log expires with the audit events it logs.
    app.clock.advance(366 * 24 * 3600);
    authstack_instance::audit::enforce_retention(&app.app)
        .await
        .expect("retention");
    assert!(
        deliveries(&app, endpoint["id"].as_str().expect("an id"))
            .await
            .is_empty()
    );
}

async fn a_failing_receiver_gets_every_event_in_order_once_it_answers(backend: Backend) {
    let receiver = Receiver::start(2).await;
    let app = spawn_app_with(backend, config(&receiver.url, &["user.*"])).await;
    let first = signup(&app, "first@example.com").await;
    let second = signup(&app, "second@example.com").await;
    let third = signup(&app, "third@example.com").await;

    let got = receiver.wait_for_delivered(3, Some(&app)).await;
    let sent: Vec<(String, u16)> = got
        .iter()
        .map(|r| {
            (
                r.json()["data"]["target_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                r.answered,
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            (first.clone(), 500),
            (first.clone(), 500),
            (first, 200),
            (second, 200),
            (third, 200)
        ],
        "the first event blocks the later ones until it is delivered"
    );
    // Retries carry the same id.
    assert_eq!(got[0].id, got[2].id);
    let endpoint = endpoint(&app).await;
    let log = deliveries(&app, endpoint["id"].as_str().expect("an id")).await;
    let oldest = log.last().expect("three rows");
    assert_eq!(oldest["attempts"], 3, "{oldest:#}");
    assert_eq!(oldest["status"], "delivered");
    assert_eq!(oldest["last_status"], 200);
    assert!(oldest["latency_ms"].as_i64().is_some());
}

async fn an_event_is_replayed_with_its_id(backend: Backend) {
    let receiver = Receiver::start(0).await;
    // Selected by its audit action (auth.signup), sent as user.created.
    let app = spawn_app_with(backend, config(&receiver.url, &["auth.*"])).await;
    signup(&app, "ada@example.com").await;
    let first = receiver.wait_for_delivered(1, None).await;
    let event_id = first[0].id.clone();

    let replayed = app
        .post_as(
            &format!("/v1/admin/webhooks/deliveries/{event_id}/replay"),
            &app.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(replayed.status, 202, "{}", replayed.body);
    assert_eq!(replayed.body["queued"], 1);
    let got = receiver.wait_for_delivered(2, None).await;
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[1].id, event_id);
    assert_eq!(got[1].body, got[0].body);

    app.post_as(
        "/v1/admin/webhooks/deliveries/evt_unknown/replay",
        &app.admin_key,
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    // Without the admin key: refused.
    let anonymous = app
        .post(
            &format!("/v1/admin/webhooks/deliveries/{event_id}/replay"),
            json!({}),
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

async fn a_private_address_is_refused_in_production(backend: Backend) {
    let receiver = Receiver::start(0).await;
    // The same receiver by a name that resolves to loopback: refused after resolving.
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let mut config = config(&receiver.url, &["user.created"]);
    config.webhooks.push(Webhook {
        url: by_name.clone(),
        events: vec!["user.created".into()],
        description: None,
    });
    let app = spawn_app_refusing_private_webhooks(backend, config).await;
    signup(&app, "ada@example.com").await;
    let endpoint = endpoint(&app).await;
    let id = endpoint["id"].as_str().expect("an id").to_owned();
    let mut log = Vec::new();
    for _ in 0..40 {
        log = deliveries(&app, &id).await;
        if log.first().is_some_and(|d| d["status"] != "pending") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(log[0]["status"], "failed", "{log:#?}");
    assert!(
        log[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("refused: 127.0.0.1")),
        "{log:#?}"
    );
    let named = authstack_instance::webhooks::endpoint_id(&by_name);
    let mut log = Vec::new();
    for _ in 0..40 {
        log = deliveries(&app, &named).await;
        if log.first().is_some_and(|d| d["attempts"] != 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(log[0]["status"], "pending", "a name is retried: {log:#?}");
    assert_eq!(
        log[0]["last_error"], "refused: the host resolves to no public address",
        "{log:#?}"
    );
    assert!(
        receiver.all().is_empty(),
        "nothing reached the loopback receiver"
    );
}

async fn after_a_rotation_both_secrets_sign(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let app = spawn_app_with(backend, config(&receiver.url, &["user.created"])).await;
    let before = endpoint(&app).await;
    let id = before["id"].as_str().expect("an id").to_owned();
    let old = reveal(&app, &id).await.str("secret");

    let rotated = app
        .post_as(
            &format!("/v1/admin/webhooks/{id}/rotate-secret"),
            &app.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = rotated.str("secret");
    assert_ne!(new, old);
    assert!(new.starts_with("whsec_"));
    assert!(rotated.body["previous_secret_expires_at"].is_string());
    assert_eq!(endpoint(&app).await["secret_prefix"], new[..10]);

    signup(&app, "ada@example.com").await;
    let got = receiver.wait_for_delivered(1, None).await;
    let signatures: Vec<&str> = got[0].signature.split(' ').collect();
    assert_eq!(
        signatures,
        [
            expected_signature(&new, &got[0]),
            expected_signature(&old, &got[0])
        ]
    );

    // A day later the old secret no longer signs.
    app.clock.advance(24 * 3600 + 1);
    signup(&app, "bob@example.com").await;
    let got = receiver.wait_for_delivered(2, None).await;
    assert_eq!(got[1].signature, expected_signature(&new, &got[1]));

    app.post_as(
        "/v1/admin/webhooks/whe_unknown/rotate-secret",
        &app.admin_key,
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
}

async fn a_queued_event_survives_kill_9(backend: Backend) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // The receiver's port, reserved and left closed: the instance's attempts are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("its address")
        .port();
    let url = format!("http://127.0.0.1:{port}/hooks");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("config.yaml"),
        format!(
            "auth:\n  require_email_verification: false\nwebhooks:\n  - url: {url}\n    events: [\"user.created\"]\n"
        ),
    )
    .expect("config");
    let database_url = backend.fresh_database().await;
    let launch = Launch {
        dir: dir.path(),
        issuer: "https://webhooks-kill.instances.authstack.test",
        database_url: database_url.as_deref(),
        redis_url: None,
    };
    let mut server = Server::start(&launch).await;
    let admin_key = server.admin_key().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let signed_up = http
        .post(server.url("/v1/auth/signup"))
        .json(&json!({ "email": "ada@example.com", "password": "correct horse battery staple" }))
        .send()
        .await
        .expect("signup");
    assert!(signed_up.status().is_success());
    let user: Value = signed_up.json().await.expect("json");
    let user_id = user["user"]["id"]
        .as_str()
        .or(user["session"]["user"]["id"].as_str())
        .expect("a user id")
        .to_owned();

    // Wait for the first (refused) attempt, then kill the instance before the retry.
    let endpoint_id = authstack_instance::webhooks::endpoint_id(&url);
    let log_url = format!("/v1/admin/webhooks/{endpoint_id}/deliveries");
    let mut attempted = false;
    for _ in 0..40 {
        let log: Value = http
            .get(server.url(&log_url))
            .bearer_auth(&admin_key)
            .send()
            .await
            .expect("deliveries")
            .json()
            .await
            .expect("json");
        if log["data"][0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            assert_eq!(log["data"][0]["status"], "pending", "{log:#}");
            attempted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(attempted, "a first attempt was made");
    kill(server.pid(), Signal::SIGKILL).expect("kill -9");
    let _ = server.child.wait().await;

    let restarted = Server::start(&launch).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the receiver's port again");
    let receiver = Receiver::serve(listener, 0);
    let got = receiver.wait_for_delivered(1, None).await;
    assert_eq!(got.len(), 1, "the queued event arrived after the restart");
    assert_eq!(got[0].json()["type"], "user.created");
    assert_eq!(got[0].json()["data"]["target_id"], user_id.as_str());
    drop(restarted);
}

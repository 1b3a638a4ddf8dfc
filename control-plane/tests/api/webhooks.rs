//! Webhooks through the control plane: the instance's own admin routes behind a platform access
//! token, for members who may see (list, delivery log) or manage keys (rotate, test, enable,
//! replay), audited, on a real instance process whose configuration revision lists a receiver
//! and which mails the account's creator about its operation (`--notify-email`).
//!
//! - `the_instance_mails_the_accounts_creator_about_its_operation`
//! - `an_endpoint_of_the_configuration_is_listed_without_its_secret`
//! - `a_rotation_shows_the_secret_once`
//! - `a_test_event_reaches_the_receiver_and_the_delivery_log`
//! - `a_replay_sends_the_same_event_again`
//! - `enabling_an_enabled_endpoint_changes_nothing`
//! - `unknown_or_malformed_ids_never_reach_another_path_of_the_instance`
//! - `a_member_sees_endpoints_and_deliveries_but_acts_on_none`
//! - `each_action_is_audited_without_the_secret`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::accounts::join_as;
use crate::applications::customer;
use crate::helpers::{Owner, TestPlatform, serving_pid, spawn_platform_with, test_config};

/// A receiver on loopback that answers every POST `200 ok` and keeps the bodies.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!(
        "http://127.0.0.1:{}/hooks",
        listener.local_addr().expect("its address").port()
    );
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let log = bodies.clone();
    let handler = move |body: String| {
        let log = log.clone();
        async move {
            log.lock()
                .expect("the log")
                .push(serde_json::from_str(&body).unwrap_or(Value::Null));
            "ok"
        }
    };
    let router = axum::Router::new().route("/hooks", axum::routing::post(handler));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, bodies)
}

async fn wait_for(bodies: &Mutex<Vec<Value>>, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        if bodies.lock().expect("the log").len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bodies.lock().expect("the log").clone()
}

/// A customer whose live instance's configuration lists a receiver on loopback.
struct Hooked {
    platform: TestPlatform,
    owner: Owner,
    live_id: String,
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    /// The endpoint's id.
    id: String,
}

impl Hooked {
    /// Endpoints come from the configuration: a deployed revision adds one for the receiver.
    async fn start(email: &str) -> Hooked {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = test_config(dir.path());
        // The receiver is on loopback.
        config.allow_private_webhooks = true;
        let platform = spawn_platform_with(dir, config).await;
        let (owner, live_id) = customer(&platform, email, "live").await;
        let (url, bodies) = receiver().await;
        let webhooks =
            json!({ "webhooks": [{ "url": url, "events": ["user.*"], "description": "CRM" }] });
        let body = json!({ "merge": webhooks, "summary": "a webhook" });
        let revision = platform
            .post(&owner.instance("live", "/revisions"), &owner.token, body)
            .await;
        revision.assert_ok(201);
        let number = revision.body["revision"]["number"]
            .as_i64()
            .expect("number");
        platform.deploy(&owner, "live", number).await.assert_ok(200);
        let listed = platform
            .get(&owner.instance("live", "/webhooks"), &owner.token)
            .await;
        listed.assert_ok(200);
        let id = listed.body["data"][0]["id"]
            .as_str()
            .expect("an id")
            .to_owned();
        Hooked {
            platform,
            owner,
            live_id,
            url,
            bodies,
            id,
        }
    }

    /// The instance's webhook path followed by `rest`.
    fn webhooks(&self, rest: &str) -> String {
        self.owner.instance("live", &format!("/webhooks{rest}"))
    }

    /// The endpoint's path followed by `rest`.
    fn endpoint(&self, rest: &str) -> String {
        self.webhooks(&format!("/{}{rest}", self.id))
    }

    /// `POST` on the endpoint (`/rotate-secret`, `/test`, `/enable`) as the owner.
    async fn act(&self, action: &str) -> crate::helpers::Reply {
        let path = self.endpoint(action);
        self.platform.post_empty(&path, &self.owner.token).await
    }

    /// Sends a test event and returns its id.
    async fn send_test(&self) -> String {
        let queued = self.act("/test").await;
        queued.assert_ok(202);
        queued.str("event_id")
    }

    /// The delivery log once its newest entry is delivered (5 s at most).
    async fn delivered_log(&self) -> Value {
        let mut log = Value::Null;
        for _ in 0..50 {
            let path = self.endpoint("/deliveries?limit=10");
            log = self.platform.get(&path, &self.owner.token).await.body;
            if log["data"][0]["status"] == "delivered" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        log
    }

    /// Replays event `event_id` and returns the answer.
    async fn replay(&self, event_id: &str) -> crate::helpers::Reply {
        let path = self.webhooks(&format!("/deliveries/{event_id}/replay"));
        self.platform.post_empty(&path, &self.owner.token).await
    }
}

#[tokio::test]
async fn the_instance_mails_the_accounts_creator_about_its_operation() {
    let hooked = Hooked::start("hooks@example.com").await;
    // A disabled endpoint mails its owner: instance tests.
    let instance_dir = hooked.platform.instance_dir(&hooked.live_id);
    let pid = serving_pid(&instance_dir).expect("a serving process");
    let args = std::fs::read(format!("/proc/{pid}/cmdline")).expect("its command line");
    let args: Vec<&[u8]> = args.split(|b| *b == 0).collect();
    let shown: Vec<_> = args.iter().map(|a| String::from_utf8_lossy(a)).collect();
    let flag = b"--notify-email=hooks@example.com".as_slice();
    assert!(args.contains(&flag), "{shown:?}");
}

#[tokio::test]
async fn an_endpoint_of_the_configuration_is_listed_without_its_secret() {
    let hooked = Hooked::start("listed@example.com").await;
    let listed = hooked
        .platform
        .get(&hooked.webhooks(""), &hooked.owner.token)
        .await;
    listed.assert_ok(200);
    let endpoint = &listed.body["data"][0];
    assert_eq!(endpoint["url"], hooked.url.as_str());
    assert_eq!(endpoint["disabled_at"], Value::Null);
    assert!(endpoint.get("secret").is_none(), "{endpoint:#}");
}

#[tokio::test]
async fn a_rotation_shows_the_secret_once() {
    let hooked = Hooked::start("rotate@example.com").await;
    let rotated = hooked.act("/rotate-secret").await;
    rotated.assert_ok(200);
    let secret = rotated.str("secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = hooked
        .platform
        .get(&hooked.webhooks(""), &hooked.owner.token)
        .await;
    assert_eq!(listed.body["data"][0]["secret_prefix"], secret[..10]);
    assert!(!listed.body.to_string().contains(&secret));
}

#[tokio::test]
async fn a_test_event_reaches_the_receiver_and_the_delivery_log() {
    let hooked = Hooked::start("test@example.com").await;
    let event_id = hooked.send_test().await;
    let got = wait_for(&hooked.bodies, 1).await;
    let log = hooked.delivered_log().await;
    assert_eq!(got.len(), 1, "{got:#?} {log:#}");
    assert_eq!(got[0]["type"], "webhook.test");
    assert_eq!(got[0]["id"], event_id.as_str());
    assert_eq!(log["data"][0]["status"], "delivered", "{log:#}");
    assert_eq!(log["data"][0]["last_status"], 200);
    assert_eq!(log["data"][0]["response_excerpt"], "ok");
    assert!(log["data"][0]["latency_ms"].is_i64());
}

#[tokio::test]
async fn a_replay_sends_the_same_event_again() {
    let hooked = Hooked::start("replay@example.com").await;
    let event_id = hooked.send_test().await;
    wait_for(&hooked.bodies, 1).await;
    hooked.delivered_log().await;
    let replayed = hooked.replay(&event_id).await;
    replayed.assert_ok(202);
    assert_eq!(replayed.body["queued"], 1);
    let got = wait_for(&hooked.bodies, 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["id"], event_id.as_str());
}

#[tokio::test]
async fn enabling_an_enabled_endpoint_changes_nothing() {
    let hooked = Hooked::start("enable@example.com").await;
    let enabled = hooked.act("/enable").await;
    enabled.assert_ok(200);
    assert_eq!(enabled.body["disabled_at"], Value::Null);
}

#[tokio::test]
async fn unknown_or_malformed_ids_never_reach_another_path_of_the_instance() {
    let hooked = Hooked::start("unknown@example.com").await;
    let token = &hooked.owner.token;
    for bad in ["whe_000000000000000000000000", "..%2F..%2Fusers"] {
        let path = hooked.webhooks(&format!("/{bad}/test"));
        let reply = hooked.platform.post_empty(&path, token).await;
        reply.assert_error(404, "not_found");
    }
    hooked
        .replay("evt_00000000000000000000000000000000")
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn a_member_sees_endpoints_and_deliveries_but_acts_on_none() {
    let hooked = Hooked::start("member@example.com").await;
    let (platform, owner) = (&hooked.platform, &hooked.owner);
    let member = join_as(platform, owner, "member@hooks.test", "member").await;
    platform
        .get(&hooked.webhooks(""), &member)
        .await
        .assert_ok(200);
    platform
        .get(&hooked.endpoint("/deliveries"), &member)
        .await
        .assert_ok(200);
    for action in ["test", "rotate-secret", "enable"] {
        let path = hooked.endpoint(&format!("/{action}"));
        let reply = platform.post_empty(&path, &member).await;
        reply.assert_error(403, "forbidden");
    }
}

#[tokio::test]
async fn each_action_is_audited_without_the_secret() {
    let hooked = Hooked::start("audit@example.com").await;
    let secret = hooked.act("/rotate-secret").await.str("secret");
    let event_id = hooked.send_test().await;
    wait_for(&hooked.bodies, 1).await;
    hooked.delivered_log().await;
    hooked.replay(&event_id).await.assert_ok(202);
    hooked.act("/enable").await.assert_ok(200);

    let audit = hooked.owner.account("/audit-logs?action=webhook.");
    let audit = hooked.platform.get(&audit, &hooked.owner.token).await;
    audit.assert_ok(200);
    let events = audit.body["data"].as_array().expect("a page");
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "webhook.enabled",
            "webhook.event_replayed",
            "webhook.test_sent",
            "webhook.secret_rotated"
        ],
        "newest first"
    );
    let live_id = hooked.live_id.as_str();
    assert!(events.iter().all(|e| e["detail"]["instance_id"] == live_id));
    assert!(events.iter().all(|e| e["target"].as_str().is_some()));
    assert!(!audit.body.to_string().contains(&secret));
}

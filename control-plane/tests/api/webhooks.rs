//! Webhooks through the control plane: the instance's own admin routes behind a platform access
//! token, for members who may see (list, delivery log) or manage keys (rotate, test, enable,
//! replay), audited, on a real instance process whose configuration revision lists a receiver
//! and which mails the account's creator about its operation (`--notify-email`).
//!
//! - `a_member_who_manages_keys_rotates_tests_and_replays_and_a_member_only_looks`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::join_as;
use crate::applications::customer;
use crate::helpers::{serving_pid, spawn_platform_with, test_config};

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

#[tokio::test]
async fn a_member_who_manages_keys_rotates_tests_and_replays_and_a_member_only_looks() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    // The receiver is on loopback.
    config.allow_private_webhooks = true;
    let platform = spawn_platform_with(dir, config).await;
    let (owner, live_id) = customer(&platform, "hooks@example.com", "live").await;
    let (url, bodies) = receiver().await;
    let base = format!("/v1/accounts/{}/instances/live", owner.account_id);

    // Endpoints come from the configuration: a revision adds one.
    let revision = platform
        .cp(
            Method::POST,
            &format!("{base}/revisions"),
            &owner.token,
            Some(json!({
                "merge": { "webhooks": [{ "url": url, "events": ["user.*"], "description": "CRM" }] },
                "summary": "a webhook",
            })),
        )
        .await;
    revision.assert_ok(201);
    let number = revision.body["revision"]["number"]
        .as_i64()
        .expect("number");
    platform
        .cp(
            Method::POST,
            &format!("{base}/revisions/{number}/deploy?wait=true"),
            &owner.token,
            None,
        )
        .await
        .assert_ok(200);

    // The instance mails the account's creator (a disabled endpoint: instance tests).
    let pid = serving_pid(&platform.instance_dir(&live_id)).expect("a serving process");
    let args = std::fs::read(format!("/proc/{pid}/cmdline")).expect("its command line");
    let args: Vec<&[u8]> = args.split(|b| *b == 0).collect();
    assert!(
        args.contains(&b"--notify-email=hooks@example.com".as_slice()),
        "{:?}",
        args.iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>()
    );

    let listed = platform
        .cp(Method::GET, &format!("{base}/webhooks"), &owner.token, None)
        .await;
    listed.assert_ok(200);
    let endpoint = listed.body["data"][0].clone();
    assert_eq!(endpoint["url"], url.as_str());
    assert_eq!(endpoint["disabled_at"], Value::Null);
    assert!(endpoint.get("secret").is_none(), "{endpoint:#}");
    let id = endpoint["id"].as_str().expect("an id").to_owned();
    let hooks = format!("{base}/webhooks/{id}");

    // The secret, once, by a rotation.
    let rotated = platform
        .cp(
            Method::POST,
            &format!("{hooks}/rotate-secret"),
            &owner.token,
            None,
        )
        .await;
    rotated.assert_ok(200);
    let secret = rotated.str("secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = platform
        .cp(Method::GET, &format!("{base}/webhooks"), &owner.token, None)
        .await;
    assert_eq!(listed.body["data"][0]["secret_prefix"], secret[..10]);
    assert!(!listed.body.to_string().contains(&secret));

    // A test event reaches the receiver and the delivery log.
    let queued = platform
        .cp(Method::POST, &format!("{hooks}/test"), &owner.token, None)
        .await;
    queued.assert_ok(202);
    let event_id = queued.str("event_id");
    let got = wait_for(&bodies, 1).await;
    let debug = platform
        .cp(
            Method::GET,
            &format!("{hooks}/deliveries?limit=10"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(got.len(), 1, "{got:#?} {:#}", debug.body);
    assert_eq!(got[0]["type"], "webhook.test");
    assert_eq!(got[0]["id"], event_id.as_str());
    let mut log = Value::Null;
    for _ in 0..50 {
        log = platform
            .cp(
                Method::GET,
                &format!("{hooks}/deliveries?limit=10"),
                &owner.token,
                None,
            )
            .await
            .body;
        if log["data"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(log["data"][0]["status"], "delivered", "{log:#}");
    assert_eq!(log["data"][0]["last_status"], 200);
    assert_eq!(log["data"][0]["response_excerpt"], "ok");
    assert!(log["data"][0]["latency_ms"].is_i64());

    // Replayed: the same event again.
    let replayed = platform
        .cp(
            Method::POST,
            &format!("{base}/webhooks/deliveries/{event_id}/replay"),
            &owner.token,
            None,
        )
        .await;
    replayed.assert_ok(202);
    assert_eq!(replayed.body["queued"], 1);
    let got = wait_for(&bodies, 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["id"], event_id.as_str());

    // Enabling an enabled endpoint changes nothing.
    let enabled = platform
        .cp(Method::POST, &format!("{hooks}/enable"), &owner.token, None)
        .await;
    enabled.assert_ok(200);
    assert_eq!(enabled.body["disabled_at"], Value::Null);

    // Unknown or malformed ids never reach another path of the instance.
    for bad in ["whe_000000000000000000000000", "..%2F..%2Fusers"] {
        platform
            .cp(
                Method::POST,
                &format!("{base}/webhooks/{bad}/test"),
                &owner.token,
                None,
            )
            .await
            .assert_error(404, "not_found");
    }
    platform
        .cp(
            Method::POST,
            &format!("{base}/webhooks/deliveries/evt_00000000000000000000000000000000/replay"),
            &owner.token,
            None,
        )
        .await
        .assert_error(404, "not_found");

    // A member sees endpoints and deliveries but acts on none.
    let member = join_as(&platform, &owner, "member@hooks.test", "member").await;
    platform
        .cp(Method::GET, &format!("{base}/webhooks"), &member, None)
        .await
        .assert_ok(200);
    platform
        .cp(Method::GET, &format!("{hooks}/deliveries"), &member, None)
        .await
        .assert_ok(200);
    for action in ["test", "rotate-secret", "enable"] {
        platform
            .cp(Method::POST, &format!("{hooks}/{action}"), &member, None)
            .await
            .assert_error(403, "forbidden");
    }

    // Each action is in the account's audit log, by its member, without the secret.
    let audit = platform
        .cp(
            Method::GET,
            &format!(
                "/v1/accounts/{}/audit-logs?action=webhook.",
                owner.account_id
            ),
            &owner.token,
            None,
        )
        .await;
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
    assert!(
        events
            .iter()
            .all(|e| e["detail"]["instance_id"] == live_id.as_str())
    );
    assert!(events.iter().all(|e| e["target"].as_str().is_some()));
    assert!(!audit.body.to_string().contains(&secret));
}

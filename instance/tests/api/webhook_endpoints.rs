//! Webhook endpoints' standing and operation: a `webhook.test` event to one endpoint, an
//! endpoint disabled (and its owner mailed) after a day of failures and enabled again, and an
//! event for an endpoint the running configuration does not list (as while a revision rolls
//! out) kept until a process that lists it sends it. Secrets shown once: `webhooks.rs`.
//!
//! - `a_test_event_goes_to_that_endpoint_alone`
//! - `an_endpoint_failing_for_a_day_is_disabled_and_its_owner_mailed`
//! - `an_event_for_an_endpoint_this_process_does_not_list_waits`
//! - `a_busy_endpoint_receives_more_than_one_event_a_tick`

use std::time::Duration;

use authstack_instance::config::Webhook;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, OWNER_EMAIL, spawn_app_with};
use crate::webhooks::{Receiver, config, deliveries, endpoint, expected_signature, reveal, signup};

backend_tests!(
    a_test_event_goes_to_that_endpoint_alone,
    an_endpoint_failing_for_a_day_is_disabled_and_its_owner_mailed,
    an_event_for_an_endpoint_this_process_does_not_list_waits,
    a_busy_endpoint_receives_more_than_one_event_a_tick,
);

/// The worker sends each endpoint's rows one at a time, in order; after a round that delivered,
/// the next round starts at once instead of a second later. Eight queued events would take at
/// least seven seconds at one a tick; here they arrive within three, in the order queued.
async fn a_busy_endpoint_receives_more_than_one_event_a_tick(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let app = spawn_app_with(backend, config(&receiver.url, &["user.created"])).await;
    let id = authstack_instance::webhooks::endpoint_id(&receiver.url);
    let mut queued = Vec::new();
    for _ in 0..8 {
        let reply = app
            .post_as(
                &format!("/v1/admin/webhooks/{id}/test"),
                &app.admin_key,
                json!({}),
            )
            .await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        queued.push(reply.str("event_id"));
    }
    let started = std::time::Instant::now();
    let got = receiver.wait_for_delivered(8, None).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(3),
        "8 deliveries took {elapsed:?}"
    );
    let order: Vec<String> = got.iter().map(|r| r.id.clone()).collect();
    assert_eq!(order, queued);
}

async fn a_test_event_goes_to_that_endpoint_alone(backend: Backend) {
    let (tested, other) = (Receiver::start(0).await, Receiver::start(0).await);
    let mut config = config(&tested.url, &["user.created"]);
    config.webhooks.push(Webhook {
        url: other.url.clone(),
        events: vec!["*".into()],
        description: None,
    });
    let app = spawn_app_with(backend, config).await;
    let id = authstack_instance::webhooks::endpoint_id(&tested.url);
    let secret = reveal(&app, &id).await.str("secret");

    let queued = app
        .post_as(
            &format!("/v1/admin/webhooks/{id}/test"),
            &app.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let event_id = queued.str("event_id");
    let got = tested.wait_for_delivered(1, None).await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let body = got[0].json();
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(body["id"], event_id.as_str());
    assert_eq!(got[0].id, event_id);
    assert_eq!(got[0].signature, expected_signature(&secret, &got[0]));
    let log = deliveries(&app, &id).await;
    assert_eq!(log[0]["event_type"], "webhook.test");
    assert_eq!(log[0]["status"], "delivered");
    // Not an audit event, so not sent to the endpoint that takes every event.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(other.all().is_empty(), "{:#?}", other.all());

    app.post_as(
        "/v1/admin/webhooks/whe_unknown/test",
        &app.admin_key,
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    let anonymous = app
        .post(&format!("/v1/admin/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(anonymous.status, 401);
}

async fn an_endpoint_failing_for_a_day_is_disabled_and_its_owner_mailed(backend: Backend) {
    let receiver = Receiver::start(0).await;
    receiver.set_failing(true);
    let config = config(&receiver.url, &["user.*"]);
    let app = spawn_app_with(backend, config.clone()).await;
    let id = authstack_instance::webhooks::endpoint_id(&receiver.url);
    let first = signup(&app, "first@example.com").await;

    // Three hours between rounds: the attempts (one a round) fail for a day and more.
    let mut listed = endpoint(&app).await;
    for _ in 0..20 {
        app.clock.advance(3 * 3600);
        authstack_instance::webhooks::delivery::run_once(&app.app, &app.app.outbound, true)
            .await
            .expect("a round");
        listed = endpoint(&app).await;
        if listed["disabled_at"].is_string() {
            break;
        }
    }
    let failed = receiver.all().len();
    assert!(
        (10..=12).contains(&failed),
        "disabled after {failed} attempts: {listed:#}"
    );
    let reason = listed["disabled_reason"]
        .as_str()
        .expect("a reason")
        .to_owned();
    assert!(
        reason.contains("attempts in a row); the last: HTTP 500"),
        "{reason}"
    );
    assert!(
        reason.starts_with("every delivery attempt failed for "),
        "{reason}"
    );

    // The owner hears about it, once, with the endpoint and the reason.
    assert_eq!(app.count_mails(OWNER_EMAIL, "webhook_disabled").await, 1);
    let mail = app
        .outbox()
        .into_iter()
        .find(|m| m["kind"] == "webhook_disabled")
        .expect("the mail");
    let text = mail["text"].as_str().expect("a text body");
    assert!(text.contains(&receiver.url), "{text}");
    assert!(text.contains(&reason), "{text}");

    // Disabled: no attempts, new events wait in the queue, across a new revision too.
    let second = signup(&app, "second@example.com").await;
    let mut revised = config;
    revised.webhooks[0].description = Some("revised".into());
    let app = app.restart_with(revised).await;
    for _ in 0..3 {
        app.clock.advance(6 * 3600);
        authstack_instance::webhooks::delivery::run_once(&app.app, &app.app.outbound, true)
            .await
            .expect("a round");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.all().len(), failed, "nothing sent while disabled");
    let log = deliveries(&app, &id).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d["status"] == "pending"), "{log:#?}");
    assert!(endpoint(&app).await["disabled_at"].is_string());

    // Enabled again: the queued events go, oldest first.
    receiver.set_failing(false);
    let enabled = app
        .post_as(
            &format!("/v1/admin/webhooks/{id}/enable"),
            &app.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(enabled.body["disabled_at"], Value::Null);
    assert_eq!(enabled.body["disabled_reason"], Value::Null);
    let got = receiver.wait_for_delivered(2, None).await;
    let delivered: Vec<String> = got
        .iter()
        .filter(|r| r.answered == 200)
        .map(|r| {
            r.json()["data"]["target_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(delivered, [first, second]);
    app.post_as(
        "/v1/admin/webhooks/whe_unknown/enable",
        &app.admin_key,
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
}

async fn an_event_for_an_endpoint_this_process_does_not_list_waits(backend: Backend) {
    // As while a revision rolls out: a process still on the configuration without the endpoint
    // meets its queued event, which waits for a process whose configuration lists it.
    let receiver = Receiver::start(0).await;
    receiver.set_failing(true);
    let listed = config(&receiver.url, &["user.*"]);
    let app = spawn_app_with(backend, listed.clone()).await;
    let id = authstack_instance::webhooks::endpoint_id(&receiver.url);
    let user = signup(&app, "ada@example.com").await;
    for _ in 0..20 {
        if !receiver.all().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut unlisted = listed.clone();
    unlisted.webhooks.clear();
    let app = app.restart_with(unlisted).await;
    app.clock.advance(60);
    // A round of our own; the process's own worker may take the row first, and then this round
    // finds it claimed: wait for whichever attempt it was to be written (the row may still hold
    // the failure of the first attempt, made while the endpoint was listed).
    const NOT_LISTED: &str = "the endpoint is not in the configuration this instance runs";
    // (The admin API answers only for listed endpoints: the row itself.)
    let mut row: (String, Option<String>) = (String::new(), None);
    for _ in 0..100 {
        authstack_instance::webhooks::delivery::run_once(&app.app, &app.app.outbound, true)
            .await
            .expect("a round");
        row =
            sqlx::query_as("SELECT status, last_error FROM webhook_outbox WHERE endpoint_id = $1")
                .bind(&id)
                .fetch_one(&app.app.db.pool)
                .await
                .expect("the row");
        if row.1.as_deref() == Some(NOT_LISTED) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, error) = row;
    assert_eq!(status, "pending");
    assert_eq!(error.as_deref(), Some(NOT_LISTED));

    receiver.set_failing(false);
    let app = app.restart_with(listed).await;
    app.clock.advance(60);
    let got = receiver.wait_for_delivered(1, Some(&app)).await;
    let delivered = got.iter().find(|r| r.answered == 200).expect("delivered");
    assert_eq!(delivered.json()["data"]["target_id"], user.as_str());
}

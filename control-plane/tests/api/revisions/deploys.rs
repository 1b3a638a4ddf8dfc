//! Deploys: a configuration change reaches the live instance, the diff shows it and a rollback
//! undoes it; bad input is refused by name; a failing revision is rolled back by itself; and
//! nothing fails while a revision deploys under load.
//!
//! - `a_deploy_answers_deployed_once_every_gateway_routes_to_it`
//! - `a_dry_run_shows_the_diff_and_stores_nothing`
//! - `bad_input_is_refused_naming_what_is_wrong`
//! - `a_deployed_change_takes_effect_on_the_live_instance_and_the_diff_shows_it`
//! - `a_rollback_undoes_a_deployed_change`
//! - `a_revision_that_fails_its_health_checks_is_rolled_back_by_itself`
//! - `no_request_fails_while_a_revision_deploys_and_rolls_back_under_load`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::min_length;
use crate::helpers::{instance_in, spawn_platform, steps};

/// "deployed" means every gateway sends traffic to the new revision: a gateway that polls
/// route changes slowly holds the answer back until it has switched, and one that stopped is
/// not waited for.
#[tokio::test]
async fn a_deploy_answers_deployed_once_every_gateway_routes_to_it() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("gateways@example.com", "pro").await;
    let slow = platform.extra_gateway(Duration::from_secs(3)).await;
    let stopped = platform.extra_gateway(Duration::from_millis(100)).await;
    stopped.stop().await;
    let through_slow = |email: &'static str, password: &'static str| {
        let request = platform
            .client
            .post(format!("http://{}/v1/auth/signup", slow.addr))
            .header("x-authstack-key", key.as_str())
            .json(&json!({ "email": email, "password": password }));
        platform.send(request)
    };
    // The slow gateway has the instance's route cached.
    let first = through_slow("first@example.com", "twelve chars").await;
    assert_eq!(first.status, 202);
    let number = platform
        .create_revision(&owner, "live", min_length(14), "longer passwords")
        .await;
    let started = std::time::Instant::now();
    let deployed = platform.deploy(&owner, "live", number).await;
    deployed.assert_ok(200);
    assert_eq!(deployed.body["outcome"], "deployed", "{}", deployed.body);
    through_slow("second@example.com", "twelve chars")
        .await
        .assert_error(400, "weak_password");
    // Held back for the slow gateway, but not for the whole wait limit (the stopped one).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    slow.stop().await;
}

#[tokio::test]
async fn a_dry_run_shows_the_diff_and_stores_nothing() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("dry@example.com", "pro").await;
    let revisions = owner.instance("live", "/revisions");
    let dry = platform
        .post(
            &revisions,
            &owner.token,
            json!({ "patch": min_length(14), "dry_run": true }),
        )
        .await;
    dry.assert_ok(200);
    assert_eq!(dry.body["valid"], true);
    assert_eq!(dry.body["diff"]["text"], "~ passwords.min_length: 8 -> 14");

    let listed = platform.revisions(&owner, "live").await;
    let data = listed.body["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(data.len(), 1, "{}", listed.body);
    assert_eq!(data[0]["source"], "initial");
    assert_eq!(data[0]["current"], true);
    assert_eq!(listed.body["current_revision"], 1);
}

#[tokio::test]
async fn bad_input_is_refused_naming_what_is_wrong() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("invalid@example.com", "pro").await;
    let revisions = owner.instance("live", "/revisions");
    let invalid = platform
        .post(
            &revisions,
            &owner.token,
            json!({ "patch": min_length(2), "dry_run": true }),
        )
        .await;
    invalid.assert_ok(200);
    assert_eq!(invalid.body["valid"], false);
    assert_eq!(invalid.body["errors"][0]["path"], "passwords.min_length");
    // Not a dry run: 422 with the field path, nothing created.
    let body = json!({ "patch": min_length(2) });
    let refused = platform.post(&revisions, &owner.token, body).await;
    refused.assert_error(422, "invalid_config");
    assert_eq!(refused.body["errors"][0]["path"], "passwords.min_length");
    // A language the hosted pages are not translated to is refused by name.
    let languages = json!([{ "op": "replace", "path": "/i18n/languages", "value": ["en", "es"] }]);
    let body = json!({ "patch": languages, "dry_run": true });
    let untranslated = platform.post(&revisions, &owner.token, body).await;
    untranslated.assert_ok(200);
    assert_eq!(untranslated.body["valid"], false);
    assert_eq!(untranslated.body["errors"][0]["path"], "i18n.languages[1]");
    let message = untranslated.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("not translated to es; they speak en, de, fr"),
        "{message}"
    );
    // An unknown revision, a bad environment.
    let unknown = owner.instance("live", "/revisions/99/deploy");
    let unknown = platform.post_empty(&unknown, &owner.token).await;
    unknown.assert_error(404, "not_found");
    let prod = owner.instance("prod", "/revisions");
    let prod = platform.get(&prod, &owner.token).await;
    prod.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn a_deployed_change_takes_effect_on_the_live_instance_and_the_diff_shows_it() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("rev@example.com", "pro").await;
    let before = platform
        .sign_up_user(&key, "short@example.com", "twelve chars")
        .await;
    assert_eq!(before.status, 202);
    let number = platform
        .create_revision(&owner, "live", min_length(14), "longer passwords")
        .await;
    assert_eq!(number, 2);
    let deployed = platform.deploy(&owner, "live", 2).await;
    deployed.assert_ok(200);
    assert_eq!(deployed.body["outcome"], "deployed", "{}", deployed.body);
    assert_eq!(deployed.body["current_revision"], 2);
    platform
        .sign_up_user(&key, "short2@example.com", "twelve chars")
        .await
        .assert_error(400, "weak_password");
    let long = platform
        .sign_up_user(&key, "long@example.com", "fourteen chars!")
        .await;
    assert_eq!(long.status, 202);

    let diff = owner.instance("live", "/revisions/diff?from=1&to=2");
    let diff = platform.get(&diff, &owner.token).await;
    diff.assert_ok(200);
    assert_eq!(diff.body["changes"][0]["path"], "passwords.min_length");
    assert_eq!(diff.body["changes"][0]["from"], 8);
    assert_eq!(diff.body["changes"][0]["to"], 14);
}

#[tokio::test]
async fn a_rollback_undoes_a_deployed_change() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("rollback@example.com", "pro").await;
    let number = platform
        .create_revision(&owner, "live", min_length(14), "longer passwords")
        .await;
    let deployed = platform.deploy(&owner, "live", number).await;
    assert_eq!(deployed.body["outcome"], "deployed", "{}", deployed.body);

    // To the previous healthy revision by default.
    let rolled = platform.rollback(&owner, "live").await;
    rolled.assert_ok(200);
    assert_eq!(rolled.body["revision"], 1, "{}", rolled.body);
    assert_eq!(rolled.body["outcome"], "deployed");
    let short = platform
        .sign_up_user(&key, "short3@example.com", "twelve chars")
        .await;
    assert_eq!(short.status, 202);
    let shown = owner.instance("live", &format!("/revisions/{number}"));
    let shown = platform.get(&shown, &owner.token).await;
    assert_eq!(shown.body["config"]["passwords"]["min_length"], 14);
    assert_eq!(shown.body["current"], false);
    assert_eq!(
        shown.body["author"].as_str().map(|a| a.starts_with("usr_")),
        Some(true)
    );
}

#[tokio::test]
async fn a_revision_that_fails_its_health_checks_is_rolled_back_by_itself() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("failing@example.com", "pro").await;
    // Valid as a document, but the instance cannot start with it.
    let patch = json!([{ "op": "add", "path": "/passwords/common_list_file", "value": "/nonexistent/list.txt" }]);
    let number = platform
        .create_revision(&owner, "live", patch, "a list that does not exist")
        .await;
    let deployed = platform.deploy(&owner, "live", number).await;
    deployed.assert_ok(200);
    assert_eq!(deployed.body["outcome"], "failed", "{}", deployed.body);
    assert_eq!(deployed.body["current_revision"], 1);
    let detail = deployed.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("nonexistent"), "{detail}");

    let revisions = platform.revisions(&owner, "live").await;
    assert_eq!(revisions.body["revision"], 1, "{}", revisions.body);
    assert_eq!(revisions.body["data"][0]["outcome"], "failed");
    let instances = platform.wait_for_instances(&owner, "ready").await;
    let steps = steps(instance_in(&instances, "live"));
    assert!(steps.iter().any(|s| s == "rolled back"), "{steps:?}");
    // The old revision served all along.
    let still = platform
        .sign_up_user(&key, "still@example.com", "correct horse battery")
        .await;
    assert_eq!(still.status, 202);
}

#[tokio::test]
async fn no_request_fails_while_a_revision_deploys_and_rolls_back_under_load() {
    let platform = Arc::new(spawn_platform().await);
    let (owner, _, key) = platform.live_customer("load@example.com", "pro").await;
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (platform, key, stop, sent, failures) = (
            platform.clone(),
            key.clone(),
            stop.clone(),
            sent.clone(),
            failures.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let reply = platform
                    .via_key(Method::GET, "/.well-known/jwks.json", &key, None, None)
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
                if reply.status != 200 {
                    let failure = format!("{} {}", reply.status, reply.body);
                    failures.lock().expect("lock").push(failure);
                }
                // About 200 requests a second in all: steady, and under the plan's rate limit.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let green = json!([{ "op": "replace", "path": "/branding/primary_color", "value": "#00aa00" }]);
    let number = platform
        .create_revision(&owner, "live", green, "green")
        .await;
    let deployed = platform.deploy(&owner, "live", number).await;
    assert_eq!(deployed.body["outcome"], "deployed");
    // Past the old process's retirement.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rolled = platform.rollback(&owner, "live").await;
    assert_eq!(rolled.body["outcome"], "deployed", "{}", rolled.body);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    let failures = failures.lock().expect("lock").clone();
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent > 200, "only {sent} requests");
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}

//! Revisions end to end on the local provisioner: a configuration change reaches the live
//! instance and a rollback undoes it; diff; export → import; promotion from test to live; a
//! failing revision rolled back by itself; retention; customizations; and no failed request
//! while deploying and rolling back under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Owner, Reply, TestPlatform, spawn_platform, spawn_platform_with, test_config,
};

fn base(owner: &Owner, env: &str) -> String {
    format!("/v1/accounts/{}/instances/{env}", owner.account_id)
}

async fn change(
    platform: &TestPlatform,
    owner: &Owner,
    env: &str,
    patch: Value,
    summary: &str,
) -> i64 {
    let created = platform
        .cp(
            Method::POST,
            &format!("{}/revisions", base(owner, env)),
            &owner.token,
            Some(json!({ "patch": patch, "summary": summary })),
        )
        .await;
    created.assert_ok(201);
    created.body["revision"]["number"].as_i64().expect("number")
}

async fn deploy(platform: &TestPlatform, owner: &Owner, env: &str, number: i64) -> Reply {
    platform
        .cp(
            Method::POST,
            &format!("{}/revisions/{number}/deploy?wait=true", base(owner, env)),
            &owner.token,
            None,
        )
        .await
}

async fn signup(platform: &TestPlatform, key: &str, email: &str, password: &str) -> Reply {
    platform
        .via_key(
            Method::POST,
            "/v1/auth/signup",
            key,
            None,
            Some(json!({ "email": email, "password": password })),
        )
        .await
}

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
    assert_eq!(
        through_slow("first@example.com", "twelve chars")
            .await
            .status,
        202
    );
    let patch = json!([{ "op": "replace", "path": "/passwords/min_length", "value": 14 }]);
    let number = change(&platform, &owner, "live", patch, "longer passwords").await;
    let started = std::time::Instant::now();
    let deployed = deploy(&platform, &owner, "live", number).await;
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
async fn a_config_change_takes_effect_on_the_live_instance_and_rollback_undoes_it() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("rev@example.com", "pro").await;
    let revisions = platform
        .cp(
            Method::GET,
            &format!("{}/revisions", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    revisions.assert_ok(200);
    assert_eq!(
        revisions.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        revisions.body
    );
    assert_eq!(revisions.body["data"][0]["source"], "initial");
    assert_eq!(revisions.body["data"][0]["current"], true);
    assert_eq!(revisions.body["current_revision"], 1);

    // Dry run: the diff and the validation result, nothing stored.
    let patch = json!([{ "op": "replace", "path": "/passwords/min_length", "value": 14 }]);
    let dry = platform
        .cp(
            Method::POST,
            &format!("{}/revisions", base(&owner, "live")),
            &owner.token,
            Some(json!({ "patch": patch, "dry_run": true })),
        )
        .await;
    dry.assert_ok(200);
    assert_eq!(dry.body["valid"], true);
    assert_eq!(dry.body["diff"]["text"], "~ passwords.min_length: 8 -> 14");
    let invalid = platform
        .cp(Method::POST, &format!("{}/revisions", base(&owner, "live")), &owner.token,
            Some(json!({ "patch": [{ "op": "replace", "path": "/passwords/min_length", "value": 2 }], "dry_run": true })))
        .await;
    invalid.assert_ok(200);
    assert_eq!(invalid.body["valid"], false);
    assert_eq!(invalid.body["errors"][0]["path"], "passwords.min_length");
    // Not a dry run: 422 with the field path, nothing created.
    let refused = platform
        .cp(Method::POST, &format!("{}/revisions", base(&owner, "live")), &owner.token,
            Some(json!({ "patch": [{ "op": "replace", "path": "/passwords/min_length", "value": 2 }] })))
        .await;
    refused.assert_error(422, "invalid_config");
    assert_eq!(refused.body["errors"][0]["path"], "passwords.min_length");
    // A language the hosted pages are not translated to is refused by name.
    let untranslated = platform
        .cp(Method::POST, &format!("{}/revisions", base(&owner, "live")), &owner.token,
            Some(json!({ "patch": [{ "op": "replace", "path": "/i18n/languages", "value": ["en", "es"] }], "dry_run": true })))
        .await;
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

    assert_eq!(
        signup(&platform, &key, "short@example.com", "twelve chars")
            .await
            .status,
        202
    );
    let number = change(&platform, &owner, "live", patch, "longer passwords").await;
    assert_eq!(number, 2);
    let deployed = deploy(&platform, &owner, "live", 2).await;
    deployed.assert_ok(200);
    assert_eq!(deployed.body["outcome"], "deployed", "{}", deployed.body);
    assert_eq!(deployed.body["current_revision"], 2);
    signup(&platform, &key, "short2@example.com", "twelve chars")
        .await
        .assert_error(400, "weak_password");
    assert_eq!(
        signup(&platform, &key, "long@example.com", "fourteen chars!")
            .await
            .status,
        202
    );

    let diff = platform
        .cp(
            Method::GET,
            &format!("{}/revisions/diff?from=1&to=2", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    diff.assert_ok(200);
    assert_eq!(diff.body["changes"][0]["path"], "passwords.min_length");
    assert_eq!(diff.body["changes"][0]["from"], 8);
    assert_eq!(diff.body["changes"][0]["to"], 14);

    // Rollback (to the previous healthy revision by default) undoes it.
    let rolled = platform
        .cp(
            Method::POST,
            &format!("{}/rollback?wait=true", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    rolled.assert_ok(200);
    assert_eq!(rolled.body["revision"], 1, "{}", rolled.body);
    assert_eq!(rolled.body["outcome"], "deployed");
    assert_eq!(
        signup(&platform, &key, "short3@example.com", "twelve chars")
            .await
            .status,
        202
    );
    let shown = platform
        .cp(
            Method::GET,
            &format!("{}/revisions/2", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(shown.body["config"]["passwords"]["min_length"], 14);
    assert_eq!(shown.body["current"], false);
    assert_eq!(
        shown.body["author"].as_str().map(|a| a.starts_with("usr_")),
        Some(true)
    );
    // A viewer-less check of bad input: an unknown revision, a bad environment.
    platform
        .cp(
            Method::POST,
            &format!("{}/revisions/99/deploy", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await
        .assert_error(404, "not_found");
    platform
        .cp(
            Method::GET,
            &format!("{}/revisions", base(&owner, "prod")),
            &owner.token,
            None,
        )
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn export_import_round_trips_and_promotion_copies_test_to_live() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("export@example.com", "pro").await;
    let exported = platform
        .client
        .get(format!(
            "{}{}/revisions/1/export?format=yaml",
            platform.cp,
            base(&owner, "live")
        ))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("export");
    assert_eq!(exported.status(), 200);
    assert_eq!(exported.headers()["content-type"], "application/yaml");
    let yaml = exported.text().await.expect("yaml");
    assert!(yaml.contains("min_length: 8"), "{yaml}");

    let import = |body: String, query: &'static str| {
        let request = platform
            .client
            .post(format!(
                "{}{}/revisions/import{query}",
                platform.cp,
                base(&owner, "live")
            ))
            .bearer_auth(&owner.token)
            .header("content-type", "application/yaml")
            .body(body);
        platform.send(request)
    };
    let edited = yaml.replace("min_length: 8", "min_length: 10");
    let preview = import(edited.clone(), "?dry_run=true").await;
    preview.assert_ok(200);
    assert_eq!(
        preview.body["diff"]["text"],
        "~ passwords.min_length: 8 -> 10"
    );
    let imported = import(edited, "").await;
    imported.assert_ok(201);
    assert_eq!(imported.body["revision"]["number"], 2);
    assert_eq!(imported.body["revision"]["source"], "import");
    // Export → import round trip: the exported YAML is the stored configuration, and importing
    // what the instance already wants changes nothing.
    let again = platform
        .client
        .get(format!(
            "{}{}/revisions/2/export",
            platform.cp,
            base(&owner, "live")
        ))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("yaml");
    let stored = platform
        .cp(
            Method::GET,
            &format!("{}/revisions/2", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    let parsed: Value = serde_yaml::from_str(&again).expect("exported YAML parses");
    assert_eq!(parsed, stored.body["config"]);
    import(yaml, "").await.assert_error(409, "conflict");
    let typo = import("passwords:\n  min_lenght: 3\n".into(), "?dry_run=true").await;
    typo.assert_ok(200);
    assert_eq!(typo.body["valid"], false);
    let path = typo.body["errors"][0]["path"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(path.starts_with("passwords"), "{}", typo.body);
    import("{ not: yaml: at all".into(), "")
        .await
        .assert_error(400, "invalid_request");

    // Promotion: the test instance's deployed configuration goes to live, origins stay.
    platform
        .cp(
            Method::PUT,
            &format!("{}/allowed-origins", base(&owner, "live")),
            &owner.token,
            Some(json!({ "allowed_origins": ["https://app.example.com"] })),
        )
        .await
        .assert_ok(200);
    let red = change(
        &platform,
        &owner,
        "test",
        json!([{ "op": "replace", "path": "/branding/primary_color", "value": "#ff0000" }]),
        "red",
    )
    .await;
    assert_eq!(
        deploy(&platform, &owner, "test", red).await.body["outcome"],
        "deployed"
    );
    let preview = platform
        .cp(
            Method::POST,
            &format!("{}/promote", base(&owner, "live")),
            &owner.token,
            Some(json!({ "dry_run": true })),
        )
        .await;
    preview.assert_ok(200);
    let text = preview.body["diff"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        text.contains("~ branding.primary_color: \"#4f46e5\" -> \"#ff0000\""),
        "{text}"
    );
    assert!(!text.contains("allowed_origins"), "{text}");
    platform
        .cp(
            Method::POST,
            &format!("{}/promote", base(&owner, "test")),
            &owner.token,
            None,
        )
        .await
        .assert_error(400, "invalid_request");
    let promoted = platform
        .cp(
            Method::POST,
            &format!("{}/promote", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    promoted.assert_ok(201);
    assert_eq!(promoted.body["revision"]["source"], "promotion");
    let number = promoted.body["revision"]["number"]
        .as_i64()
        .expect("number");
    let settled = deploy(&platform, &owner, "live", number).await;
    assert_eq!(settled.body["outcome"], "deployed", "{}", settled.body);
    let public = platform
        .via_key(Method::GET, "/v1/config/public", &key, None, None)
        .await;
    public.assert_ok(200);
    assert_eq!(public.body["branding"]["primary_color"], "#ff0000");
    let live = platform
        .cp(
            Method::GET,
            &format!("{}/revisions/{number}", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(
        live.body["config"]["security"]["allowed_origins"],
        json!(["https://app.example.com"])
    );
}

#[tokio::test]
async fn a_revision_that_fails_its_health_checks_is_rolled_back_by_itself() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("failing@example.com", "pro").await;
    // Valid as a document, but the instance cannot start with it.
    let number = change(&platform, &owner, "live",
        json!([{ "op": "add", "path": "/passwords/common_list_file", "value": "/nonexistent/list.txt" }]),
        "a list that does not exist").await;
    let deployed = deploy(&platform, &owner, "live", number).await;
    deployed.assert_ok(200);
    assert_eq!(deployed.body["outcome"], "failed", "{}", deployed.body);
    assert_eq!(deployed.body["current_revision"], 1);
    let detail = deployed.body["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(detail.contains("nonexistent"), "{detail}");

    let revisions = platform
        .cp(
            Method::GET,
            &format!("{}/revisions", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(revisions.body["revision"], 1, "{}", revisions.body);
    assert_eq!(revisions.body["data"][0]["outcome"], "failed");
    let instances = platform.wait_for_instances(&owner, "ready").await;
    let live = instances
        .iter()
        .find(|i| i["environment"] == "live")
        .expect("live");
    let steps: Vec<&str> = live["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert!(steps.contains(&"rolled back"), "{steps:?}");
    // The old revision served all along.
    assert_eq!(
        signup(
            &platform,
            &key,
            "still@example.com",
            "correct horse battery"
        )
        .await
        .status,
        202
    );
}

#[tokio::test]
async fn old_revisions_are_pruned_after_the_plans_retention_but_not_the_deployed_ones() {
    let platform = spawn_platform().await;
    // Starter keeps 30 days of history.
    let (owner, _, _) = platform.live_customer("prune@example.com", "starter").await;
    for length in [9, 10, 11] {
        change(
            &platform,
            &owner,
            "live",
            json!([{ "op": "replace", "path": "/passwords/min_length", "value": length }]),
            "draft",
        )
        .await;
    }
    platform.clock.advance(31 * 24 * 3600);
    let latest = change(
        &platform,
        &owner,
        "live",
        json!([{ "op": "replace", "path": "/passwords/min_length", "value": 12 }]),
        "kept",
    )
    .await;
    assert_eq!(latest, 5);
    assert_eq!(
        deploy(&platform, &owner, "live", latest).await.body["outcome"],
        "deployed"
    );
    let listed = platform
        .cp(
            Method::GET,
            &format!("{}/revisions", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    let numbers: Vec<i64> = listed.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|r| r["number"].as_i64())
        .collect();
    // 2-4 were never deployed and are past retention; 1 was the deployed revision when 5 went
    // out, 5 is deployed now.
    assert_eq!(numbers, [5, 1], "{}", listed.body);
}

#[tokio::test]
async fn a_customization_is_proposed_approved_deployed_and_verified() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("custom@example.com", "pro").await;
    let path = format!("{}/customizations", base(&owner, "live"));
    let proposed = platform
        .cp(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({ "prompt": "Change the primary color to #ff5500" })),
        )
        .await;
    proposed.assert_ok(201);
    assert_eq!(proposed.body["status"], "proposed");
    assert_eq!(proposed.body["patch"][0]["path"], "/branding/primary_color");
    assert_eq!(proposed.body["diff"]["changes"][0]["to"], "#ff5500");
    assert_eq!(proposed.body["quota"]["used"], 1);
    let id = proposed.str("id");
    let approved = platform
        .cp(
            Method::POST,
            &format!("{path}/{id}/approve"),
            &owner.token,
            None,
        )
        .await;
    approved.assert_ok(200);
    assert_eq!(approved.body["status"], "deployed", "{}", approved.body);
    assert_eq!(approved.body["revision"], 2);
    let public = platform
        .via_key(Method::GET, "/v1/config/public", &key, None, None)
        .await;
    assert_eq!(public.body["branding"]["primary_color"], "#ff5500");
    platform
        .cp(
            Method::POST,
            &format!("{path}/{id}/approve"),
            &owner.token,
            None,
        )
        .await
        .assert_error(409, "conflict");

    // Something the planner cannot do is refused in plain words; nothing changes.
    let refused = platform
        .cp(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({ "prompt": "Make me a sandwich" })),
        )
        .await;
    refused.assert_ok(200);
    assert_eq!(refused.body["status"], "refused");
    assert!(
        refused.body["result"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        refused.body
    );

    // Cancel.
    let second = platform
        .cp(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({ "prompt": "enable dark mode" })),
        )
        .await;
    second.assert_ok(201);
    let id = second.str("id");
    let cancelled = platform
        .cp(
            Method::POST,
            &format!("{path}/{id}/cancel"),
            &owner.token,
            None,
        )
        .await;
    cancelled.assert_ok(200);
    assert_eq!(cancelled.body["status"], "cancelled");
    let revisions = platform
        .cp(
            Method::GET,
            &format!("{}/revisions", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(revisions.body["data"][0]["number"], 2);
    assert_eq!(revisions.body["data"][0]["source"], "customization");

    let audit = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{}/audit-logs", owner.account_id),
            &owner.token,
            None,
        )
        .await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "customization.proposed",
        "customization.deployed",
        "customization.refused",
        "customization.cancelled",
        "revision.created",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
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
                    failures
                        .lock()
                        .expect("lock")
                        .push(format!("{} {}", reply.status, reply.body));
                }
                // About 200 requests a second in all: steady, and under the plan's rate limit.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let number = change(
        &platform,
        &owner,
        "live",
        json!([{ "op": "replace", "path": "/branding/primary_color", "value": "#00aa00" }]),
        "green",
    )
    .await;
    assert_eq!(
        deploy(&platform, &owner, "live", number).await.body["outcome"],
        "deployed"
    );
    // Past the old process's retirement.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rolled = platform
        .cp(
            Method::POST,
            &format!("{}/rollback?wait=true", base(&owner, "live")),
            &owner.token,
            None,
        )
        .await;
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

#[tokio::test]
async fn a_proposal_can_be_modified_by_hand_and_prompts_are_limited_by_the_plan() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    for plan in &mut config.catalog.plans {
        plan.limits.customization_prompts_per_month = 2;
    }
    let platform = spawn_platform_with(dir, config).await;
    let (owner, _, key) = platform.live_customer("quota@example.com", "pro").await;
    let path = format!("{}/customizations", base(&owner, "live"));
    let proposed = platform
        .cp(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({ "prompt": "Require a minimum password length of 12" })),
        )
        .await;
    proposed.assert_ok(201);
    assert_eq!(
        proposed.body["patch"],
        json!([{ "op": "replace", "path": "/passwords/min_length", "value": 12 }])
    );
    let id = proposed.str("id");

    // Modified by hand: a bad patch is refused with its field path, a good one replaces it.
    let url = format!("{path}/{id}/modify");
    let bad = platform
        .cp(Method::POST, &url, &owner.token,
            Some(json!({ "patch": [{ "op": "replace", "path": "/passwords/min_length", "value": 3 }] })))
        .await;
    bad.assert_error(422, "invalid_config");
    assert_eq!(bad.body["errors"][0]["path"], "passwords.min_length");
    let modified = platform
        .cp(Method::POST, &url, &owner.token,
            Some(json!({ "patch": [{ "op": "replace", "path": "/passwords/min_length", "value": 10 }] })))
        .await;
    modified.assert_ok(200);
    assert_eq!(
        modified.body["diff"]["text"],
        "~ passwords.min_length: 8 -> 10"
    );
    let approved = platform
        .cp(
            Method::POST,
            &format!("{path}/{id}/approve"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(approved.body["status"], "deployed", "{}", approved.body);
    let public = platform
        .via_key(Method::GET, "/v1/config/public", &key, None, None)
        .await;
    assert_eq!(public.body["password_policy"]["min_length"], 10);

    // The second prompt is the month's last.
    platform
        .cp(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({ "prompt": "enable dark mode" })),
        )
        .await
        .assert_ok(201);
    platform
        .cp(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({ "prompt": "add GitHub login" })),
        )
        .await
        .assert_error(429, "quota_exceeded");
    platform
        .cp(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({ "prompt": "   " })),
        )
        .await
        .assert_error(400, "invalid_request");
}

//! Customizations: a prompt becomes a proposal that is approved and deployed, refused in plain
//! words, cancelled, or modified by hand; the plan limits prompts per month.
//!
//! - `a_customization_is_proposed_approved_deployed_and_verified`
//! - `a_customization_the_planner_cannot_do_is_refused_in_plain_words`
//! - `a_cancelled_customization_creates_no_revision`
//! - `a_proposal_can_be_modified_by_hand`
//! - `prompts_are_limited_by_the_plan`

use std::sync::Arc;

use serde_json::json;

use crate::helpers::{
    Owner, Reply, TestPlatform, spawn_platform, spawn_platform_with, test_config,
};

async fn prompt(platform: &TestPlatform, owner: &Owner, prompt: &str) -> Reply {
    let path = owner.instance("live", "/customizations");
    let body = json!({ "prompt": prompt });
    platform.post(&path, &owner.token, body).await
}

/// `action` (`approve`, `cancel`) on customization `id`.
async fn act(platform: &TestPlatform, owner: &Owner, id: &str, action: &str) -> Reply {
    let path = owner.instance("live", &format!("/customizations/{id}/{action}"));
    platform.post_empty(&path, &owner.token).await
}

fn assert_audited(actions: &[String], expected: &[&str]) {
    for action in expected {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_customization_is_proposed_approved_deployed_and_verified() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("custom@example.com", "pro").await;
    let proposed = prompt(&platform, &owner, "Change the primary color to #ff5500").await;
    proposed.assert_ok(201);
    assert_eq!(proposed.body["status"], "proposed");
    assert_eq!(proposed.body["patch"][0]["path"], "/branding/primary_color");
    assert_eq!(proposed.body["diff"]["changes"][0]["to"], "#ff5500");
    assert_eq!(proposed.body["quota"]["used"], 1);
    let id = proposed.str("id");
    let approved = act(&platform, &owner, &id, "approve").await;
    approved.assert_ok(200);
    assert_eq!(approved.body["status"], "deployed", "{}", approved.body);
    assert_eq!(approved.body["revision"], 2);
    let public = platform.public_config(&key).await;
    assert_eq!(public.body["branding"]["primary_color"], "#ff5500");
    act(&platform, &owner, &id, "approve")
        .await
        .assert_error(409, "conflict");

    let revisions = platform.revisions(&owner, "live").await;
    assert_eq!(revisions.body["data"][0]["number"], 2);
    assert_eq!(revisions.body["data"][0]["source"], "customization");
    let actions = platform.audit_actions(&owner).await;
    assert_audited(
        &actions,
        &[
            "customization.proposed",
            "customization.deployed",
            "revision.created",
        ],
    );
}

#[tokio::test]
async fn a_customization_the_planner_cannot_do_is_refused_in_plain_words() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("refused@example.com", "pro").await;
    let refused = prompt(&platform, &owner, "Make me a sandwich").await;
    refused.assert_ok(200);
    assert_eq!(refused.body["status"], "refused");
    assert!(
        refused.body["result"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        refused.body
    );
    // Nothing changes.
    let revisions = platform.revisions(&owner, "live").await;
    assert_eq!(revisions.body["data"][0]["number"], 1);
    let actions = platform.audit_actions(&owner).await;
    assert_audited(&actions, &["customization.refused"]);
}

#[tokio::test]
async fn a_cancelled_customization_creates_no_revision() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("cancel@example.com", "pro").await;
    let proposed = prompt(&platform, &owner, "enable dark mode").await;
    proposed.assert_ok(201);
    let cancelled = act(&platform, &owner, &proposed.str("id"), "cancel").await;
    cancelled.assert_ok(200);
    assert_eq!(cancelled.body["status"], "cancelled");
    let revisions = platform.revisions(&owner, "live").await;
    assert_eq!(revisions.body["data"][0]["number"], 1);
    assert_eq!(revisions.body["data"][0]["source"], "initial");
    let actions = platform.audit_actions(&owner).await;
    assert_audited(&actions, &["customization.cancelled"]);
}

#[tokio::test]
async fn a_proposal_can_be_modified_by_hand() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("modify@example.com", "pro").await;
    let proposed = prompt(&platform, &owner, "Require a minimum password length of 12").await;
    proposed.assert_ok(201);
    assert_eq!(proposed.body["patch"], super::min_length(12));
    let id = proposed.str("id");

    // A bad patch is refused with its field path, a good one replaces it.
    let modify = owner.instance("live", &format!("/customizations/{id}/modify"));
    let bad = json!({ "patch": super::min_length(3) });
    let bad = platform.post(&modify, &owner.token, bad).await;
    bad.assert_error(422, "invalid_config");
    assert_eq!(bad.body["errors"][0]["path"], "passwords.min_length");
    let good = json!({ "patch": super::min_length(10) });
    let modified = platform.post(&modify, &owner.token, good).await;
    modified.assert_ok(200);
    assert_eq!(
        modified.body["diff"]["text"],
        "~ passwords.min_length: 8 -> 10"
    );
    let approved = act(&platform, &owner, &id, "approve").await;
    assert_eq!(approved.body["status"], "deployed", "{}", approved.body);
    let public = platform.public_config(&key).await;
    assert_eq!(public.body["password_policy"]["min_length"], 10);
}

#[tokio::test]
async fn prompts_are_limited_by_the_plan() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    for plan in &mut config.catalog.plans {
        plan.limits.customization_prompts_per_month = 2;
    }
    let platform = spawn_platform_with(dir, config).await;
    let (owner, _, _) = platform.live_customer("quota@example.com", "pro").await;
    let first = prompt(&platform, &owner, "Require a minimum password length of 12").await;
    first.assert_ok(201);
    // The second prompt is the month's last.
    prompt(&platform, &owner, "enable dark mode")
        .await
        .assert_ok(201);
    prompt(&platform, &owner, "add GitHub login")
        .await
        .assert_error(429, "quota_exceeded");
    prompt(&platform, &owner, "   ")
        .await
        .assert_error(400, "invalid_request");
}

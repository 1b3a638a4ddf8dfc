//! The dashboard's files, its origin, its mails, and who finds what in it.
//!
//! - `the_dashboard_is_served_with_index_html_for_its_routes_and_api_paths_stay_json`
//! - `the_dashboards_origin_may_use_the_platform_instance`
//! - `a_signed_in_user_finds_the_account_of_their_organization`
//! - `operators_use_their_own_token_and_others_are_refused`
//! - `platform_mails_link_to_the_dashboard`

use std::sync::Arc;

use serde_json::json;

use super::with_dashboard;
use crate::helpers::{spawn_platform_with, test_config};

#[tokio::test]
async fn the_dashboard_is_served_with_index_html_for_its_routes_and_api_paths_stay_json() {
    let platform = with_dashboard().await;

    let get = |path: &str| platform.client.get(format!("{}{path}", platform.cp)).send();
    let index = get("/").await.expect("index");
    assert_eq!(index.status(), 200);
    assert!(
        index
            .text()
            .await
            .expect("text")
            .contains("<title>AuthStack</title>")
    );
    let route = get("/accounts/acc_123/revisions").await.expect("app route");
    assert_eq!(route.status(), 200);
    assert!(
        route
            .text()
            .await
            .expect("text")
            .contains("<title>AuthStack</title>")
    );
    let asset = get("/assets/app.js").await.expect("asset");
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .contains("javascript")
    );
    let api = get("/v1/no-such-thing").await.expect("api");
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.expect("json");
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn the_dashboards_origin_may_use_the_platform_instance() {
    let platform = with_dashboard().await;
    // A browser on the dashboard's origin may call the platform instance through the gateway.
    let origin = platform.cp.clone();
    let preflight = platform
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/auth/login", platform.gateway),
        )
        .header("origin", &origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-authstack-key",
        )
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let login = platform
        .client
        .post(format!("{}/v1/auth/login", platform.gateway))
        .header("origin", &origin)
        .header("x-authstack-key", &platform.platform_key)
        .json(&serde_json::json!({ "email": "nobody@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .expect("login");
    assert_eq!(
        login.status(),
        401,
        "an allowed origin reaches the instance"
    );
    let foreign = platform
        .client
        .post(format!("{}/v1/auth/login", platform.gateway))
        .header("origin", "https://evil.example.com")
        .header("x-authstack-key", &platform.platform_key)
        .json(&serde_json::json!({ "email": "nobody@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .expect("login");
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn a_signed_in_user_finds_the_account_of_their_organization() {
    let platform = crate::helpers::spawn_platform().await;
    let owner = platform.owner("finder@example.com").await;
    let listed = platform.get("/v1/accounts", &owner.token).await;
    listed.assert_ok(200);
    assert_eq!(
        listed.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );
    assert_eq!(listed.body["data"][0]["id"], owner.account_id.as_str());
    // Another user's organization sees only its own.
    let other = platform.owner("other@example.com").await;
    let theirs = platform.get("/v1/accounts", &other.token).await;
    assert_eq!(theirs.body["data"][0]["id"], other.account_id.as_str());
    platform
        .get("/v1/accounts", "not-a-token")
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn operators_use_their_own_token_and_others_are_refused() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.operator_emails = vec!["Ops@Example.com".to_owned()];
    let platform = spawn_platform_with(dir, config).await;

    let operator = platform.sign_up_on_platform("ops@example.com").await;
    let me = platform.get("/v1/me", &operator).await;
    me.assert_ok(200);
    assert_eq!(me.body["email"], "ops@example.com");
    assert_eq!(me.body["operator"], true);
    let listed = platform.get("/v1/ops/instances", &operator).await;
    listed.assert_ok(200);
    let platform_id = platform.app().platform.instance_id.clone();
    assert_eq!(listed.body["data"][0]["id"], platform_id.as_str());
    let reconciled = platform
        .post_empty(
            &format!("/v1/ops/instances/{platform_id}/reconcile"),
            &operator,
        )
        .await;
    assert!(
        reconciled.status == 200 || reconciled.status == 202,
        "{}",
        reconciled.body
    );
    let audit = platform
        .get(
            "/v1/ops/audit-logs?action=instance.reconcile_requested",
            &operator,
        )
        .await;
    audit.assert_ok(200);
    assert_eq!(audit.body["data"][0]["detail"]["by"], me.body["user_id"]);

    // Anyone else: a clear no, and the dashboard hides the page.
    let customer = platform.owner("customer@example.com").await;
    let theirs = platform.get("/v1/me", &customer.token).await;
    assert_eq!(theirs.body["operator"], false);
    platform
        .get("/v1/ops/instances", &customer.token)
        .await
        .assert_error(403, "forbidden");
    platform
        .get("/v1/me", "not-a-token")
        .await
        .assert_error(401, "unauthorized");
    // The operator key still works.
    let ops_key =
        std::fs::read_to_string(platform.dir.path().join("ops.key")).expect("ops key file");
    platform
        .get("/v1/ops/instances", ops_key.trim())
        .await
        .assert_ok(200);
}

#[tokio::test]
async fn platform_mails_link_to_the_dashboard() {
    use reqwest::Method;
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.dashboard_url = Some("http://localhost:5173/".to_owned());
    let platform = spawn_platform_with(dir, config).await;
    platform
        .via_key(
            Method::POST,
            "/v1/auth/signup",
            &platform.platform_key,
            None,
            Some(json!({ "email": "new@example.com", "password": crate::helpers::PASSWORD })),
        )
        .await;
    let platform_id = platform.app().platform.instance_id.clone();
    let outbox = platform
        .instance_dir(&platform_id)
        .join("data")
        .join("outbox");
    let mut link = None;
    for _ in 0..200 {
        link = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .find(|m| m["to"] == "new@example.com" && m["kind"] == "verify_email")
            .and_then(|m| m["link"].as_str().map(str::to_owned));
        if link.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let link = link.expect("a verification mail");
    assert!(
        link.starts_with("http://localhost:5173/verify-email?token="),
        "{link}"
    );
    // The dashboard's own origin may call the platform instance.
    let preflight = platform
        .client
        .request(
            Method::OPTIONS,
            format!("{}/v1/auth/login", platform.gateway),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
}

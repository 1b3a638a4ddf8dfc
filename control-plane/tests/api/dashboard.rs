//! The dashboard's files are served at `/` (with `index.html` for the app's own routes), API
//! paths stay JSON, and the platform instance lets the dashboard's origin sign users in.

use std::sync::Arc;

use crate::helpers::{spawn_platform_with, test_config};

#[tokio::test]
async fn the_dashboard_is_served_and_its_origin_may_use_the_platform_instance() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let site = dir.path().join("dashboard");
    std::fs::create_dir_all(site.join("assets")).expect("dirs");
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>AuthStack</title>",
    )
    .expect("index");
    std::fs::write(site.join("assets/app.js"), "console.log('app')").expect("asset");
    let mut config = test_config(dir.path());
    config.dashboard_dir = Some(site);
    let platform = spawn_platform_with(dir, config).await;

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
    let listed = platform
        .cp(reqwest::Method::GET, "/v1/accounts", &owner.token, None)
        .await;
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
    let theirs = platform
        .cp(reqwest::Method::GET, "/v1/accounts", &other.token, None)
        .await;
    assert_eq!(theirs.body["data"][0]["id"], other.account_id.as_str());
    platform
        .cp(reqwest::Method::GET, "/v1/accounts", "not-a-token", None)
        .await
        .assert_error(401, "unauthorized");
}

//! The dashboard's files are served at `/` (with `index.html` for the app's own routes), API
//! paths stay JSON, and the platform instance lets the dashboard's origin sign users in.

use std::sync::Arc;

use serde_json::json;

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

#[tokio::test]
async fn usage_shows_the_instances_own_counts_against_the_plan() {
    use reqwest::Method;
    let platform = crate::helpers::spawn_platform().await;
    let (owner, live_id, key) = platform.live_customer("usage@example.com", "starter").await;
    let usage_of = |env: &'static str, token: String| {
        let path = format!("/v1/accounts/{}/instances/{env}/usage", owner.account_id);
        let platform = &platform;
        async move { platform.cp(Method::GET, &path, &token, None).await }
    };

    let empty = usage_of("live", owner.token.clone()).await;
    empty.assert_ok(200);
    assert_eq!(empty.body["instance_id"], live_id.as_str());
    assert_eq!(empty.body["plan"], "starter");
    assert_eq!(empty.body["users"], 0);

    // An end user of the customer signs up through the gateway, creates an organization and
    // invites a colleague.
    let signup = platform
        .via_key(
            Method::POST,
            "/v1/auth/signup",
            &key,
            None,
            Some(json!({ "email": "enduser@example.com", "password": crate::helpers::PASSWORD })),
        )
        .await;
    signup.assert_ok(202);
    let mailed = platform
        .mailed_token(&live_id, "enduser@example.com", "verify_email")
        .await;
    let verified = platform
        .via_key(
            Method::POST,
            "/v1/auth/email/verify",
            &key,
            None,
            Some(json!({ "token": mailed })),
        )
        .await;
    verified.assert_ok(200);
    let token = verified.str("access_token");
    let org = platform
        .via_key(
            Method::POST,
            "/v1/organizations",
            &key,
            Some(&token),
            Some(json!({ "name": "Customer's customer" })),
        )
        .await;
    org.assert_ok(201);
    platform
        .via_key(
            Method::POST,
            &format!("/v1/organizations/{}/invitations", org.str("id")),
            &key,
            Some(&token),
            Some(json!({ "email": "colleague@example.com", "role": "member" })),
        )
        .await
        .assert_ok(201);

    let usage = usage_of("live", owner.token.clone()).await;
    usage.assert_ok(200);
    let limits = &platform
        .config
        .catalog
        .plan("starter")
        .expect("the starter plan")
        .limits;
    assert_eq!(usage.body["users"], 1);
    assert_eq!(
        usage.body["monthly_active_users"],
        json!({ "used": 1, "limit": limits.monthly_active_users })
    );
    assert_eq!(
        usage.body["organizations"],
        json!({ "used": 1, "limit": limits.organizations })
    );
    assert_eq!(
        usage.body["members_per_organization"]["limit"],
        json!(limits.members_per_organization)
    );
    let largest = &usage.body["members_per_organization"]["data"][0];
    assert_eq!(
        (
            &largest["name"],
            &largest["members"],
            &largest["pending_invitations"]
        ),
        (&json!("Customer's customer"), &json!(1), &json!(1)),
        "{}",
        usage.body
    );
    let daily = usage.body["daily_active_users"]
        .as_array()
        .expect("a daily series");
    assert_eq!(daily.len(), 30);
    assert_eq!(daily[29]["users"], 1);

    // The test instance is separate; other accounts and unknown environments get clear errors.
    let test = usage_of("test", owner.token.clone()).await;
    test.assert_ok(200);
    assert_eq!(test.body["users"], 0);
    usage_of("staging", owner.token.clone())
        .await
        .assert_error(400, "invalid_request");
    let stranger = platform.owner("stranger@example.com").await;
    let denied = usage_of("live", stranger.token.clone()).await;
    assert!(
        denied.status == 403 || denied.status == 404,
        "{}",
        denied.body
    );
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports() {
    use authstack_instance::clock::rfc3339;
    use reqwest::Method;
    let platform = crate::helpers::spawn_platform().await;
    let owner = platform.owner("auditor@example.com").await;
    platform.subscribe(&owner, "starter").await;
    let first = platform.create_key(&owner, "test", "publishable").await;
    platform.create_key(&owner, "test", "secret").await;
    platform
        .cp(
            Method::DELETE,
            &format!(
                "/v1/accounts/{}/keys/{}",
                owner.account_id,
                first["id"].as_str().expect("key id")
            ),
            &owner.token,
            None,
        )
        .await;
    let base = format!("/v1/accounts/{}/audit-logs", owner.account_id);
    let get = |query: String| {
        let path = format!("{base}?{query}");
        let platform = &platform;
        let token = owner.token.clone();
        async move { platform.cp(Method::GET, &path, &token, None).await }
    };
    let actions = |reply: &crate::helpers::Reply| -> Vec<String> {
        reply.body["data"]
            .as_array()
            .expect("a page")
            .iter()
            .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
            .collect()
    };

    let keys = get("action=key.".into()).await;
    keys.assert_ok(200);
    assert_eq!(
        actions(&keys),
        ["key.revoked", "key.created", "key.created"],
        "newest first, by action prefix"
    );
    let created = get("action=key.created".into()).await;
    assert_eq!(actions(&created).len(), 2);
    // `%` and `_` are not wildcards in the prefix.
    assert!(actions(&get("action=%25".into()).await).is_empty());

    let actor = keys.body["data"][0]["actor"]
        .as_str()
        .expect("an actor")
        .to_owned();
    assert!(actor.starts_with("user:"), "{actor}");
    let mine = get(format!("actor={actor}")).await;
    assert!(
        mine.body["data"]
            .as_array()
            .is_some_and(|d| !d.is_empty() && d.iter().all(|e| e["actor"] == actor.as_str())),
        "{}",
        mine.body
    );
    assert!(actions(&get("actor=user:usr_nobody".into()).await).is_empty());

    let now = platform.clock.now();
    let since = rfc3339(now - 3600);
    let later = rfc3339(now + 3600);
    assert_eq!(
        actions(&get(format!("action=key.&since={since}&until={later}")).await).len(),
        3
    );
    assert!(actions(&get(format!("since={later}")).await).is_empty());
    assert!(actions(&get("until=2000-01-01T00:00:00Z".into()).await).is_empty());
    // A bound that is present must be a timestamp, an empty one included (schemathesis).
    for bad in ["since=yesterday", "until="] {
        get(bad.into()).await.assert_error(400, "invalid_request");
    }
    get("format=xml".into())
        .await
        .assert_error(400, "invalid_request");
    get("colour=blue".into())
        .await
        .assert_error(400, "invalid_request");

    // Cursor pages cover the same events once each.
    let page = get("action=key.&limit=2".into()).await;
    assert_eq!(actions(&page).len(), 2);
    let cursor = page.str("next_cursor");
    let rest = get(format!("action=key.&limit=2&cursor={cursor}")).await;
    assert_eq!(actions(&rest), ["key.created"]);
    assert_eq!(rest.body["next_cursor"], serde_json::Value::Null);

    // Exports: the same filters, as a file.
    let csv = platform
        .client
        .get(format!("{}{base}?action=key.&format=csv", platform.cp))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("csv export");
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let disposition = csv.headers()["content-disposition"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"authstack-audit-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let text = csv.text().await.expect("csv body");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id,at,account_id,actor,action,target,detail");
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].contains(",\"key.revoked\","), "{text}");
    let json_export = get("action=key.created&format=json".into()).await;
    json_export.assert_ok(200);
    assert_eq!(json_export.body.as_array().map(Vec::len), Some(2));

    // Another account's owner sees none of it.
    let stranger = platform.owner("snoop@example.com").await;
    let denied = platform.cp(Method::GET, &base, &stranger.token, None).await;
    assert!(
        denied.status == 403 || denied.status == 404,
        "{}",
        denied.body
    );
}

#[tokio::test]
async fn operators_use_their_own_token_and_others_are_refused() {
    use reqwest::Method;
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.operator_emails = vec!["Ops@Example.com".to_owned()];
    let platform = spawn_platform_with(dir, config).await;

    let operator = platform.sign_up_on_platform("ops@example.com").await;
    let me = platform.cp(Method::GET, "/v1/me", &operator, None).await;
    me.assert_ok(200);
    assert_eq!(me.body["email"], "ops@example.com");
    assert_eq!(me.body["operator"], true);
    let listed = platform
        .cp(Method::GET, "/v1/ops/instances", &operator, None)
        .await;
    listed.assert_ok(200);
    let platform_id = platform.app().platform.instance_id.clone();
    assert_eq!(listed.body["data"][0]["id"], platform_id.as_str());
    let reconciled = platform
        .cp(
            Method::POST,
            &format!("/v1/ops/instances/{platform_id}/reconcile"),
            &operator,
            None,
        )
        .await;
    assert!(
        reconciled.status == 200 || reconciled.status == 202,
        "{}",
        reconciled.body
    );
    let audit = platform
        .cp(
            Method::GET,
            "/v1/ops/audit-logs?action=instance.reconcile_requested",
            &operator,
            None,
        )
        .await;
    audit.assert_ok(200);
    assert_eq!(audit.body["data"][0]["detail"]["by"], me.body["user_id"]);

    // Anyone else: a clear no, and the dashboard hides the page.
    let customer = platform.owner("customer@example.com").await;
    let theirs = platform
        .cp(Method::GET, "/v1/me", &customer.token, None)
        .await;
    assert_eq!(theirs.body["operator"], false);
    platform
        .cp(Method::GET, "/v1/ops/instances", &customer.token, None)
        .await
        .assert_error(403, "forbidden");
    platform
        .cp(Method::GET, "/v1/me", "not-a-token", None)
        .await
        .assert_error(401, "unauthorized");
    // The operator key still works.
    let ops_key =
        std::fs::read_to_string(platform.dir.path().join("ops.key")).expect("ops key file");
    platform
        .cp(Method::GET, "/v1/ops/instances", ops_key.trim(), None)
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

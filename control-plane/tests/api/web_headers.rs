//! Small web hardening: headers on API answers and on the dashboard's files, no
//! protocol-relative redirect, cursors that are not cursors, bodies in another charset, and a
//! JSON 413 from the Stripe webhook.
//!
//! - `api_answers_are_never_cached_or_sniffed_and_bad_bodies_are_refused`
//! - `the_dashboard_is_served_with_a_strict_policy_and_no_open_redirect`

use std::sync::Arc;

use crate::helpers::{spawn_platform, spawn_platform_with, test_config};

#[tokio::test]
async fn api_answers_are_never_cached_or_sniffed_and_bad_bodies_are_refused() {
    let platform = spawn_platform().await;
    let owner = platform.owner("headers@example.com").await;
    for path in ["/v1/plans", "/v1/nope"] {
        let response = platform
            .client
            .get(format!("{}{path}", platform.cp))
            .send()
            .await
            .expect("send");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    // A body declared in another charset is refused, not read as UTF-8.
    let utf16 = platform
        .send(
            platform
                .client
                .post(format!("{}/v1/accounts", platform.cp))
                .bearer_auth(&owner.token)
                .header("content-type", "application/json; charset=utf-16")
                .body(r#"{"name":"x"}"#),
        )
        .await;
    utf16.assert_error(415, "unsupported_media_type");
    let utf8 = platform
        .send(
            platform
                .client
                .post(format!("{}/v1/accounts", platform.cp))
                .bearer_auth(&owner.token)
                .header("content-type", "application/json; charset=UTF-8")
                .body(r#"{"name":"second"}"#),
        )
        .await;
    utf8.assert_ok(201);
    // A cursor that no page returned is a 400, not the first page.
    let audit = format!("/v1/accounts/{}/audit-logs", owner.account_id);
    for cursor in ["zzz", "evt_", "evt_0123", "' OR 1=1 --"] {
        platform
            .get(
                &format!("{audit}?cursor={}", urlencode(cursor)),
                &owner.token,
            )
            .await
            .assert_error(400, "invalid_request");
    }
    platform
        .get(&format!("{audit}?cursor="), &owner.token)
        .await
        .assert_ok(200);
    // The webhook's body limit answers our JSON.
    let large = platform
        .send(
            platform
                .client
                .post(format!("{}/v1/billing/stripe/webhook", platform.cp))
                .body(vec![b'x'; 300 * 1024]),
        )
        .await;
    large.assert_error(413, "payload_too_large");
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_dashboard_is_served_with_a_strict_policy_and_no_open_redirect() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let dashboard = tempfile::tempdir().expect("dashboard");
    std::fs::write(
        dashboard.path().join("index.html"),
        "<!doctype html><title>d</title>",
    )
    .expect("write");
    std::fs::create_dir(dashboard.path().join("assets")).expect("dir");
    std::fs::write(dashboard.path().join("assets/app.js"), "export {}").expect("write");
    let mut config = test_config(dir.path());
    config.dashboard_dir = Some(dashboard.path().to_owned());
    let platform = spawn_platform_with(dir, config).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in ["/", "/assets/app.js", "/instances"] {
        let response = client
            .get(format!("{}{path}", platform.cp))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            csp.contains(&format!("connect-src 'self' {}", platform.gateway)),
            "{csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(
            headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        // Served over plain HTTP here: no HSTS.
        assert!(!headers.contains_key("strict-transport-security"));
    }
    for path in ["//assets", "//evil.example/x", "//assets/"] {
        let response = client
            .get(format!("{}{path}", platform.cp))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 404, "{path}");
        assert!(!response.headers().contains_key("location"), "{path}");
    }
}

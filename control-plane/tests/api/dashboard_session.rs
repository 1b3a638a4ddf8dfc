//! The dashboard's session through the control plane (`/platform/v1/…`): the platform's refresh
//! token lives only in an HttpOnly, SameSite=Strict cookie; the browser's scripts see a handle.
//!
//! - `refresh_tokens_stay_in_an_http_only_cookie_and_scripts_get_a_handle`
//! - `a_refresh_needs_the_cookie_and_its_handle_and_rotates_both`
//! - `signing_out_revokes_the_cookies_token_and_removes_the_cookie`
//! - `signing_in_again_ends_the_session_it_replaces`
//! - `the_relay_serves_only_this_origins_scripts`

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestPlatform, spawn_platform};

struct Answer {
    reply: Reply,
    /// The `Set-Cookie` header, if any.
    cookie: Option<String>,
}

impl Answer {
    /// The cookie's value (`authstack_refresh=VALUE; …`).
    fn cookie_value(&self) -> String {
        let cookie = self.cookie.as_deref().expect("a Set-Cookie header");
        cookie
            .strip_prefix("authstack_refresh=")
            .and_then(|rest| rest.split(';').next())
            .expect("the refresh cookie")
            .to_owned()
    }
}

/// A request to the relay as the dashboard's scripts send it (same origin, the platform key).
async fn relay(
    platform: &TestPlatform,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let origin = platform.cp.trim_end_matches('/');
    let mut request = platform
        .client
        .request(method, format!("{}/platform{path}", platform.cp))
        .header("x-authstack-key", &platform.platform_key)
        .header("origin", origin);
    if let Some(value) = cookie {
        request = request.header("cookie", format!("authstack_refresh={value}"));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sent");
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().expect("ascii").to_owned());
    Answer {
        reply: Reply::from(response).await,
        cookie,
    }
}

/// Signs `email` up through the relay and verifies the address: the token answer.
async fn signed_up(platform: &TestPlatform, email: &str) -> Answer {
    let signup = relay(
        platform,
        Method::POST,
        "/v1/auth/signup",
        None,
        Some(json!({ "email": email, "password": PASSWORD })),
    )
    .await;
    assert!(
        signup.reply.status == 201 || signup.reply.status == 202,
        "{}",
        signup.reply.body
    );
    let platform_id = platform.app().platform.instance_id.clone();
    let token = platform
        .mailed_token(&platform_id, email, "verify_email")
        .await;
    let verified = relay(
        platform,
        Method::POST,
        "/v1/auth/email/verify",
        None,
        Some(json!({ "token": token })),
    )
    .await;
    verified.reply.assert_ok(200);
    verified
}

fn assert_no_refresh_token(answer: &Answer) {
    let body = answer.reply.body.to_string();
    assert!(
        !body.contains("rt_"),
        "a refresh token reached the script: {body}"
    );
    let handle = answer.reply.str("refresh_token");
    assert!(handle.starts_with("bff_"), "{handle}");
}

/// A refresh through the relay with the cookie `cookie` (if any) and the handle `handle`.
async fn refresh(platform: &TestPlatform, cookie: Option<&str>, handle: &str) -> Answer {
    let body = json!({ "refresh_token": handle });
    relay(
        platform,
        Method::POST,
        "/v1/auth/refresh",
        cookie,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn refresh_tokens_stay_in_an_http_only_cookie_and_scripts_get_a_handle() {
    let platform = spawn_platform().await;
    let verified = signed_up(&platform, "cookie@example.com").await;
    assert_no_refresh_token(&verified);
    let set = verified
        .cookie
        .clone()
        .expect("the sign-in sets the cookie");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/platform/v1/auth/",
        "Max-Age=",
    ] {
        assert!(set.contains(part), "{set}");
    }
    // The cookie holds the platform's refresh token sealed: no token anywhere but here.
    let first = verified.cookie_value();
    assert!(!first.contains("rt_"), "{set}");
    let opened = platform
        .app()
        .master
        .open(&first, "dashboard_refresh_cookie")
        .expect("sealed by this control plane");
    assert!(String::from_utf8(opened).expect("utf-8").starts_with("rt_"));
    // The access token works on the control plane as before.
    let access = verified.reply.str("access_token");
    platform.get("/v1/accounts", &access).await.assert_ok(200);
}

/// The handle alone refreshes nothing (refused as any unknown refresh token); with its cookie
/// it rotates both.
#[tokio::test]
async fn a_refresh_needs_the_cookie_and_its_handle_and_rotates_both() {
    let platform = spawn_platform().await;
    let verified = signed_up(&platform, "rotate@example.com").await;
    let first = verified.cookie_value();
    let handle = verified.reply.str("refresh_token");
    let without_cookie = refresh(&platform, None, &handle).await;
    without_cookie.reply.assert_error(400, "invalid_grant");
    assert!(without_cookie.cookie.is_none());
    let wrong_handle = "bff_00000000000000000000000000000000";
    let wrong_handle = refresh(&platform, Some(&first), wrong_handle).await;
    wrong_handle.reply.assert_error(400, "invalid_grant");
    let refreshed = refresh(&platform, Some(&first), &handle).await;
    refreshed.reply.assert_ok(200);
    assert_no_refresh_token(&refreshed);
    let second = refreshed.cookie_value();
    assert_ne!(second, first, "the refresh token rotated");
    let second_handle = refreshed.reply.str("refresh_token");
    assert_ne!(second_handle, handle, "the handle follows the rotation");
}

/// Signing out in this browser revokes the cookie's token and removes the cookie.
#[tokio::test]
async fn signing_out_revokes_the_cookies_token_and_removes_the_cookie() {
    let platform = spawn_platform().await;
    let verified = signed_up(&platform, "signout@example.com").await;
    let cookie = verified.cookie_value();
    let handle = verified.reply.str("refresh_token");
    let form = format!("token={handle}&token_type_hint=refresh_token");
    let revoked = platform
        .client
        .post(format!("{}/platform/v1/auth/revoke", platform.cp))
        .header("x-authstack-key", &platform.platform_key)
        .header("cookie", format!("authstack_refresh={cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(revoked.status(), 200);
    let cleared = revoked.headers()["set-cookie"].to_str().expect("ascii");
    assert!(
        cleared.starts_with("authstack_refresh=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let after = refresh(&platform, Some(&cookie), &handle).await;
    after.reply.assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn the_relay_serves_only_this_origins_scripts() {
    let platform = spawn_platform().await;
    let login = json!({ "email": "nobody@example.com", "password": PASSWORD });
    // Without the platform's key (a cross-site form cannot send one).
    let keyless = platform
        .send(
            platform
                .client
                .post(format!("{}/platform/v1/auth/login", platform.cp))
                .json(&login),
        )
        .await;
    keyless.assert_error(401, "invalid_api_key");
    // From another origin.
    let foreign = platform
        .send(
            platform
                .client
                .post(format!("{}/platform/v1/auth/login", platform.cp))
                .header("x-authstack-key", &platform.platform_key)
                .header("origin", "https://evil.example")
                .json(&login),
        )
        .await;
    foreign.assert_error(403, "forbidden");
    // Behind a proxy that rewrites `Host`, the dashboard's published origin is still its own.
    let published = reqwest::Url::parse(&platform.app().dashboard_url)
        .expect("dashboard URL")
        .origin()
        .ascii_serialization();
    let proxied = platform
        .send(
            platform
                .client
                .post(format!("{}/platform/v1/auth/login", platform.cp))
                .header("x-authstack-key", &platform.platform_key)
                .header("host", "control-plane.internal")
                .header("origin", published)
                .json(&login),
        )
        .await;
    proxied.assert_error(401, "invalid_credentials");
    // Only the platform's API is relayed.
    let outside = relay(&platform, Method::GET, "/healthz", None, None).await;
    outside.reply.assert_error(404, "not_found");
    // A body larger than any sign-in is refused before anything is sent on.
    let huge = relay(
        &platform,
        Method::POST,
        "/v1/auth/login",
        None,
        Some(json!({ "email": "x".repeat(70 * 1024), "password": PASSWORD })),
    )
    .await;
    huge.reply.assert_error(413, "payload_too_large");
    assert!(huge.cookie.is_none());
    // The platform's own answers come back as they are, with the API's headers.
    let response = platform
        .client
        .post(format!("{}/platform/v1/auth/login", platform.cp))
        .header("x-authstack-key", &platform.platform_key)
        .json(&login)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().get("set-cookie").is_none());
    Reply::from(response)
        .await
        .assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn signing_in_again_ends_the_session_it_replaces() {
    let platform = spawn_platform().await;
    let email = "again@example.com";
    let first = signed_up(&platform, email).await;
    let (first_cookie, first_handle) = (first.cookie_value(), first.reply.str("refresh_token"));
    let again = relay(
        &platform,
        Method::POST,
        "/v1/auth/login",
        Some(&first_cookie),
        Some(json!({ "email": email, "password": PASSWORD })),
    )
    .await;
    again.reply.assert_ok(200);
    assert_no_refresh_token(&again);
    let refresh = |cookie: String, handle: String| {
        let platform = &platform;
        async move {
            relay(
                platform,
                Method::POST,
                "/v1/auth/refresh",
                Some(&cookie),
                Some(json!({ "refresh_token": handle })),
            )
            .await
        }
    };
    // The replaced session is revoked, not left valid until it expires.
    refresh(first_cookie, first_handle)
        .await
        .reply
        .assert_error(400, "invalid_grant");
    refresh(again.cookie_value(), again.reply.str("refresh_token"))
        .await
        .reply
        .assert_ok(200);
}

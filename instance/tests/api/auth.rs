//! Signup, login, verification, and the enumeration-safety and rate-limit guarantees.

use std::time::{Duration, Instant};

use authstack_instance::config::{InstanceConfig, Limit};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app, spawn_app_with};

backend_tests!(
    signup_with_verification_answers_alike_for_new_and_taken_addresses,
    verification_link_starts_a_session_once,
    signup_without_verification_returns_tokens,
    signup_rejects_bad_input_and_writes_nothing,
    login_does_not_reveal_whether_an_account_exists,
    failed_logins_are_limited_per_account_and_per_ip,
    signups_are_limited_per_ip,
    link_requests_are_limited_per_ip_alike_for_every_address,
    verification_resend_answers_alike,
    link_requests_answer_byte_for_byte_alike,
    every_authentication_event_is_audited,
);

fn without_verification() -> InstanceConfig {
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    config
}

async fn signup_with_verification_answers_alike_for_new_and_taken_addresses(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({ "email": "ada@example.com", "password": "correct horse battery" });
    let first = app.post("/v1/auth/signup", body.clone()).await;
    let again = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "ADA@example.com", "password": "another long passphrase" }),
        )
        .await;
    assert_eq!(first.status, 202);
    assert_eq!(
        (first.status, &first.body),
        (again.status, &again.body),
        "signup must not reveal taken addresses"
    );
    assert_eq!(first.body["status"], "verification_required");
    // The owner learns of both attempts by mail; the caller learns nothing.
    app.mailed_token("ada@example.com", "verify_email", 1).await;
    app.mailed_token("ada@example.com", "account_exists", 1)
        .await;

    // Before verification: the right password gets email_not_verified, a wrong one the usual 401.
    app.login("ada@example.com", "correct horse battery")
        .await
        .assert_error(403, "email_not_verified");
    app.login("ada@example.com", "wrong password here")
        .await
        .assert_error(401, "invalid_credentials");
    // The second signup did not replace the password.
    app.login("ada@example.com", "another long passphrase")
        .await
        .assert_error(401, "invalid_credentials");
}

async fn verification_link_starts_a_session_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post(
        "/v1/auth/signup",
        json!({ "email": "bo@example.com", "password": "correct horse battery", "name": "Bo" }),
    )
    .await;
    let token = app.mailed_token("bo@example.com", "verify_email", 1).await;

    let verified = app
        .post("/v1/auth/email/verify", json!({ "token": token }))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["user"]["email_verified"], true);
    assert_eq!(verified.body["user"]["name"], "Bo");
    assert_eq!(verified.body["token_type"], "Bearer");
    let me = app.get_as("/v1/me", &verified.str("access_token")).await;
    assert_eq!(me.body["email"], "bo@example.com");

    app.post("/v1/auth/email/verify", json!({ "token": token }))
        .await
        .assert_error(400, "invalid_grant");
    app.post("/v1/auth/email/verify", json!({ "token": "made-up" }))
        .await
        .assert_error(400, "invalid_grant");
    app.post("/v1/auth/email/verify", json!({}))
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(
        app.login("bo@example.com", "correct horse battery")
            .await
            .status,
        200
    );

    // An expired link fails.
    app.post(
        "/v1/auth/signup",
        json!({ "email": "late@example.com", "password": "correct horse battery" }),
    )
    .await;
    let late = app
        .mailed_token("late@example.com", "verify_email", 1)
        .await;
    app.clock.advance(25 * 3600);
    app.post("/v1/auth/email/verify", json!({ "token": late }))
        .await
        .assert_error(400, "invalid_grant");
}

async fn signup_without_verification_returns_tokens(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    let reply = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "cy@example.com", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    for field in ["access_token", "refresh_token"] {
        assert!(!reply.str(field).is_empty());
    }
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 300);
    assert_eq!(reply.body["user"]["email"], "cy@example.com");
    assert_eq!(reply.body["user"]["email_verified"], false);
    assert!(reply.body["user"].get("password_hash").is_none());
    // A verification mail still goes out; login works before it is used.
    app.mailed_token("cy@example.com", "verify_email", 1).await;
    assert_eq!(
        app.login("cy@example.com", "correct horse battery")
            .await
            .status,
        200
    );
    app.post(
        "/v1/auth/signup",
        json!({ "email": "cy@example.com", "password": "correct horse battery" }),
    )
    .await
    .assert_error(409, "conflict");
}

async fn signup_rejects_bad_input_and_writes_nothing(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    let cases = [
        (
            json!({ "email": "not-an-email", "password": "correct horse battery" }),
            400,
            "invalid_request",
        ),
        (
            json!({ "email": "a@example.com", "password": "short" }),
            400,
            "weak_password",
        ),
        (
            json!({ "email": "a@example.com", "password": "password123" }),
            400,
            "weak_password",
        ),
        (
            json!({ "email": "a@example.com", "password": "a@example.com" }),
            400,
            "weak_password",
        ),
        (
            json!({ "email": "a@example.com", "password": "x".repeat(300) }),
            400,
            "weak_password",
        ),
        (json!({ "email": "a@example.com" }), 400, "invalid_request"),
        (
            json!({ "email": 42, "password": "correct horse battery" }),
            400,
            "invalid_request",
        ),
        (
            json!({ "email": "a@example.com", "password": "correct horse battery", "role": "admin" }),
            400,
            "invalid_request",
        ),
        (
            json!({ "email": "a@example.com", "password": "correct horse battery", "name": "" }),
            400,
            "invalid_request",
        ),
        (json!([1, 2, 3]), 400, "invalid_request"),
    ];
    for (body, status, code) in cases {
        app.post("/v1/auth/signup", body)
            .await
            .assert_error(status, code);
    }
    let raw = |body: &'static str, content_type: &'static str| {
        app.http
            .post(app.url("/v1/auth/signup"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    crate::helpers::Reply::from(raw("{\"email\":", "application/json").await.expect("send"))
        .await
        .assert_error(400, "invalid_request");
    crate::helpers::Reply::from(raw("email=a", "text/plain").await.expect("send"))
        .await
        .assert_error(415, "unsupported_media_type");
    let huge = format!("{{\"email\":\"{}\"}}", "a".repeat(100_000));
    let reply = crate::helpers::Reply::from(
        app.http
            .post(app.url("/v1/auth/signup"))
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .expect("send"),
    )
    .await;
    reply.assert_error(413, "payload_too_large");

    let users = app.get_as("/v1/admin/users", &app.admin_key).await;
    assert_eq!(
        users.body["data"].as_array().map(Vec::len),
        Some(0),
        "nothing may be half-written"
    );
}

async fn login_does_not_reveal_whether_an_account_exists(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("dee@example.com", "correct horse battery")
        .await;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let reply = app
            .login("nobody@example.com", "correct horse battery")
            .await;
        unknown.push(started.elapsed());
        bodies.push((reply.status, reply.body));
        let started = Instant::now();
        let reply = app.login("dee@example.com", "not the password").await;
        wrong.push(started.elapsed());
        bodies.push((reply.status, reply.body));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(bodies[0].0, 401);
    // Same timing class: both paths verify an Argon2id hash, so neither is a fast path. The
    // fastest of each is compared: a loaded machine stretches single requests, not the floor.
    let fastest_unknown = unknown.iter().min().copied().unwrap_or_default();
    let fastest_wrong = wrong.iter().min().copied().unwrap_or_default();
    assert!(
        fastest_unknown * 4 > fastest_wrong,
        "unknown-email logins ({unknown:?}) are much faster than wrong-password logins ({wrong:?})"
    );
    // Malformed input is a client error, not a credential answer.
    app.login("not an email", "x")
        .await
        .assert_error(400, "invalid_request");
}

async fn failed_logins_are_limited_per_account_and_per_ip(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.rate_limits.failed_logins_per_account = Limit {
        max: 3,
        window_secs: 900,
    };
    config.rate_limits.failed_logins_per_ip = Limit {
        max: 5,
        window_secs: 900,
    };
    let app = spawn_app_with(backend, config).await;
    app.register("eve@example.com", "correct horse battery")
        .await;
    app.register("fay@example.com", "correct horse battery")
        .await;
    for _ in 0..3 {
        app.login("eve@example.com", "wrong password!")
            .await
            .assert_error(401, "invalid_credentials");
    }
    // The account is locked for this window, even with the right password.
    let limited = app.login("eve@example.com", "correct horse battery").await;
    limited.assert_error(429, "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry), "{retry}");
    // Unknown accounts are limited the same way (no existence signal).
    for _ in 0..2 {
        app.login("ghost@example.com", "wrong password!")
            .await
            .assert_error(401, "invalid_credentials");
    }
    // Five failures from this IP in total: the IP is now limited for every account.
    app.login("fay@example.com", "correct horse battery")
        .await
        .assert_error(429, "rate_limited");
}

async fn signups_are_limited_per_ip(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.rate_limits.signups_per_ip = Limit {
        max: 2,
        window_secs: 3600,
    };
    let app = spawn_app_with(backend, config).await;
    for i in 0..2 {
        let reply = app.post("/v1/auth/signup", json!({ "email": format!("u{i}@example.com"), "password": "correct horse battery" })).await;
        assert_eq!(reply.status, 202);
    }
    let reply = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "u9@example.com", "password": "correct horse battery" }),
        )
        .await;
    reply.assert_error(429, "rate_limited");
    assert!(reply.headers.contains_key("retry-after"));
}

/// Forgot-password and resend-verification share one per-IP budget, spent the same by known and
/// unknown addresses: the limit bounds probing and mail bombing without telling them apart.
async fn link_requests_are_limited_per_ip_alike_for_every_address(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.rate_limits.link_requests_per_ip = Limit {
        max: 3,
        window_secs: 3600,
    };
    let app = spawn_app_with(backend, config).await;
    app.register("known@example.com", "correct horse battery")
        .await;
    for (path, email) in [
        ("/v1/auth/password/forgot", "known@example.com"),
        ("/v1/auth/password/forgot", "nobody@example.com"),
        ("/v1/auth/email/verify/resend", "known@example.com"),
    ] {
        let reply = app.post(path, json!({ "email": email })).await;
        assert_eq!(reply.status, 202, "{path} {email}: {:?}", reply.body);
    }
    let mut refusals = Vec::new();
    for (path, email) in [
        ("/v1/auth/password/forgot", "known@example.com"),
        ("/v1/auth/password/forgot", "nobody@example.com"),
        ("/v1/auth/email/verify/resend", "nobody@example.com"),
    ] {
        let reply = app.post(path, json!({ "email": email })).await;
        reply.assert_error(429, "rate_limited");
        assert!(reply.headers.contains_key("retry-after"));
        refusals.push(reply.body.to_string());
    }
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "{refusals:?}");
}

async fn verification_resend_answers_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post(
        "/v1/auth/signup",
        json!({ "email": "gus@example.com", "password": "correct horse battery" }),
    )
    .await;
    let known = app
        .post(
            "/v1/auth/email/verify/resend",
            json!({ "email": "gus@example.com" }),
        )
        .await;
    let unknown = app
        .post(
            "/v1/auth/email/verify/resend",
            json!({ "email": "nobody@example.com" }),
        )
        .await;
    assert_eq!(known.status, 202);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    app.mailed_token("gus@example.com", "verify_email", 2).await;
    assert_eq!(
        app.count_mails("nobody@example.com", "verify_email").await,
        0
    );
    // Either link verifies.
    let second = app.mailed_token("gus@example.com", "verify_email", 2).await;
    assert_eq!(
        app.post("/v1/auth/email/verify", json!({ "token": second }))
            .await
            .status,
        200
    );
    app.post("/v1/auth/email/verify/resend", json!({ "email": "bad" }))
        .await
        .assert_error(400, "invalid_request");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// A request's status, headers (less the ones that differ per request) and body bytes.
async fn raw_answer(
    app: &crate::helpers::TestApp,
    path: &str,
    email: &str,
) -> (u16, Vec<(String, Vec<u8>)>, Vec<u8>) {
    let response = app
        .http
        .post(app.url(path))
        .json(&json!({ "email": email }))
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    let mut headers: Vec<(String, Vec<u8>)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_owned()))
        .collect();
    headers.sort();
    let body = response.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

/// Forgot-password and resend-verification answer before any account is looked up: the
/// answers for an existing and an unknown address are the same bytes, and the mail follows.
async fn link_requests_answer_byte_for_byte_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post(
        "/v1/auth/signup",
        json!({ "email": "hal@example.com", "password": "correct horse battery" }),
    )
    .await;
    app.mailed_token("hal@example.com", "verify_email", 1).await;
    for (path, kind, n) in [
        ("/v1/auth/password/forgot", "password_reset", 1),
        ("/v1/auth/email/verify/resend", "verify_email", 2),
    ] {
        let known = raw_answer(&app, path, "hal@example.com").await;
        let unknown = raw_answer(&app, path, "nobody@example.com").await;
        assert_eq!(known.0, 202);
        assert_eq!(known, unknown, "{path}");
        app.mailed_token("hal@example.com", kind, n).await;
    }
    assert_eq!(
        app.count_mails("nobody@example.com", "verify_email").await,
        0
    );
}

async fn every_authentication_event_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    app.post(
        "/v1/auth/signup",
        json!({ "email": "aud@example.com", "password": "correct horse battery" }),
    )
    .await;
    let token = app.mailed_token("aud@example.com", "verify_email", 1).await;
    let session = app
        .post("/v1/auth/email/verify", json!({ "token": token }))
        .await;
    let user_id = session.user_id();
    app.login("aud@example.com", "not the password").await;
    let login = app.login("aud@example.com", "correct horse battery").await;
    let access = login.str("access_token");
    app.post_as("/v1/auth/password/change", &access, json!({ "current_password": "correct horse battery", "new_password": "another fine passphrase" }))
        .await;
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "aud@example.com" }),
    )
    .await;
    let reset = app
        .mailed_token("aud@example.com", "password_reset", 1)
        .await;
    app.post(
        "/v1/auth/password/reset",
        json!({ "token": reset, "password": "a third fine passphrase" }),
    )
    .await;
    let again = app
        .login("aud@example.com", "a third fine passphrase")
        .await;
    let rotated = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": again.str("refresh_token") }),
        )
        .await;
    assert_eq!(rotated.status, 200);
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": again.str("refresh_token") }),
    )
    .await;
    let last = app
        .login("aud@example.com", "a third fine passphrase")
        .await;
    app.post_as("/v1/auth/logout", &last.str("access_token"), json!({}))
        .await;

    let log = app
        .get_as(
            &format!("/v1/admin/audit-logs?target_id={user_id}&limit=200"),
            &app.admin_key,
        )
        .await;
    let mut actions: Vec<String> = log.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect();
    let by_session = app
        .get_as("/v1/admin/audit-logs?action=auth.logout", &app.admin_key)
        .await;
    actions.extend(
        by_session.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["action"].as_str().expect("action").to_owned()),
    );
    let reuse = app
        .get_as(
            "/v1/admin/audit-logs?action=auth.refresh_token_reused",
            &app.admin_key,
        )
        .await;
    actions.extend(
        reuse.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["action"].as_str().expect("action").to_owned()),
    );
    for expected in [
        "auth.signup",
        "auth.email_verified",
        "auth.login_failed",
        "auth.login_succeeded",
        "auth.password_changed",
        "auth.password_reset",
        "auth.refresh_token_reused",
        "auth.logout",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
    let event = &log.body["data"][0];
    assert_eq!(event["ip"], "127.0.0.1");
    assert!(
        event["occurred_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
}

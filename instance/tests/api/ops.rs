//! Health, readiness, metrics, the OpenAPI document, headers, and restarts.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app};

backend_tests!(
    health_readiness_and_metrics_answer,
    every_response_carries_security_headers_and_a_request_id,
    a_restart_keeps_users_sessions_keys_and_the_admin_key,
);

async fn health_readiness_and_metrics_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/healthz").await.body["status"], "ok");
    assert_eq!(app.get("/readyz").await.body["status"], "ready");
    app.register("zoe@example.com", "correct horse battery")
        .await;
    app.login("zoe@example.com", "bad password!").await;
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"http_requests_total{method="POST",route="/v1/auth/login",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"authstack_logins_total{outcome="success"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"authstack_logins_total{outcome="invalid_credentials"}"#),
        "{text}"
    );
}

async fn every_response_carries_security_headers_and_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let ok = app.get("/healthz").await;
    let not_found = app.get("/v1/nothing-here").await;
    not_found.assert_error(404, "not_found");
    let wrong_method = crate::helpers::Reply::from(
        app.http
            .put(app.url("/v1/auth/login"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    wrong_method.assert_error(405, "method_not_allowed");
    for reply in [&ok, &not_found, &wrong_method] {
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert_eq!(reply.headers["x-frame-options"], "DENY");
        assert_eq!(reply.headers["referrer-policy"], "no-referrer");
        assert_eq!(reply.headers["cache-control"], "no-store");
        assert!(reply.headers.contains_key("content-security-policy"));
        assert!(reply.headers.contains_key("strict-transport-security"));
        assert!(
            reply
                .headers
                .get("x-request-id")
                .is_some_and(|v| !v.is_empty())
        );
    }
    let echoed = crate::helpers::Reply::from(
        app.http
            .get(app.url("/healthz"))
            .header("x-request-id", "trace-me-123")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(echoed.headers["x-request-id"], "trace-me-123");
}

async fn a_restart_keeps_users_sessions_keys_and_the_admin_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let login = app
        .register("abe@example.com", "correct horse battery")
        .await;
    let jwks_before = app.get("/.well-known/jwks.json").await.body;
    let instance_id = app.app.instance_id.clone();
    let admin_key = app.admin_key.clone();

    let app = app.restart().await;
    assert_eq!(app.app.instance_id, instance_id);
    assert_eq!(app.get("/.well-known/jwks.json").await.body, jwks_before);
    assert_eq!(
        app.get_as("/v1/me", &login.str("access_token"))
            .await
            .status,
        200
    );
    let refreshed = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": login.str("refresh_token") }),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(app.get_as("/v1/admin/users", &admin_key).await.status, 200);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.data_dir.path().join("master.key"))
            .expect("master key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// The committed OpenAPI document (`instance/openapi.json`) matches the code. Regenerate with
/// `scripts/generate`.
#[test]
fn the_committed_openapi_document_is_current() {
    let generated = authstack_instance::openapi()
        .to_pretty_json()
        .expect("json");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "{} is stale: run scripts/generate and commit the result",
        path.display()
    );
    let spec: serde_json::Value = serde_json::from_str(&generated).expect("valid JSON");
    for path in [
        "/v1/auth/signup",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/auth/revoke",
        "/v1/auth/password/forgot",
        "/v1/auth/password/reset",
        "/v1/auth/password/change",
        "/v1/auth/email/verify",
        "/v1/auth/email/verify/resend",
        "/v1/me",
        "/v1/me/sessions",
        "/v1/me/sessions/{id}",
        "/v1/admin/users",
        "/v1/admin/users/{id}",
        "/v1/admin/users/{id}/ban",
        "/v1/admin/users/{id}/unban",
        "/v1/admin/users/{id}/sessions",
        "/v1/admin/users/import",
        "/v1/admin/keys/rotate",
        "/v1/admin/audit-logs",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} is missing from the OpenAPI document"
        );
    }
}

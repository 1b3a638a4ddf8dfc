//! Forgot, reset and change password; imported hashes upgraded on login.

use authstack_instance::config::{InstanceConfig, Limit};
use serde_json::json;
use sqlx::Row;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app, spawn_app_with};

backend_tests!(
    forgot_password_answers_alike_and_mails_only_owners,
    reset_sets_the_password_once_and_ends_every_session,
    reset_links_expire,
    change_password_needs_the_current_one_and_ends_other_sessions,
    bcrypt_and_weak_argon2_hashes_are_upgraded_on_login,
    mails_per_address_are_limited,
);

async fn forgot_password_answers_alike_and_mails_only_owners(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("ann@example.com", "correct horse battery")
        .await;
    let known = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "ann@example.com" }),
        )
        .await;
    let unknown = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "nobody@example.com" }),
        )
        .await;
    assert_eq!(known.status, 202);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    app.mailed_token("ann@example.com", "password_reset", 1)
        .await;
    assert_eq!(
        app.count_mails("nobody@example.com", "password_reset")
            .await,
        0
    );
    app.post("/v1/auth/password/forgot", json!({ "email": "nope" }))
        .await
        .assert_error(400, "invalid_request");
    app.post("/v1/auth/password/forgot", json!({}))
        .await
        .assert_error(400, "invalid_request");
}

async fn reset_sets_the_password_once_and_ends_every_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app
        .register("ben@example.com", "correct horse battery")
        .await;
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "ben@example.com" }),
    )
    .await;
    let token = app
        .mailed_token("ben@example.com", "password_reset", 1)
        .await;

    // A weak password is refused without using up the link.
    app.post(
        "/v1/auth/password/reset",
        json!({ "token": token, "password": "123456" }),
    )
    .await
    .assert_error(400, "weak_password");
    let reply = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token, "password": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    app.post(
        "/v1/auth/password/reset",
        json!({ "token": token, "password": "yet another passphrase" }),
    )
    .await
    .assert_error(400, "invalid_grant");
    app.post(
        "/v1/auth/password/reset",
        json!({ "token": "forged", "password": "yet another passphrase" }),
    )
    .await
    .assert_error(400, "invalid_grant");

    app.get_as("/v1/me", &session.str("access_token"))
        .await
        .assert_error(401, "unauthorized");
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": session.str("refresh_token") }),
    )
    .await
    .assert_error(400, "invalid_grant");
    app.login("ben@example.com", "correct horse battery")
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(
        app.login("ben@example.com", "a brand new passphrase")
            .await
            .status,
        200
    );
    let audit = app
        .get_as(
            "/v1/admin/audit-logs?action=auth.password_reset",
            &app.admin_key,
        )
        .await;
    assert_eq!(audit.body["data"].as_array().map(Vec::len), Some(1));
}

async fn reset_links_expire(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("cal@example.com", "correct horse battery")
        .await;
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "cal@example.com" }),
    )
    .await;
    let token = app
        .mailed_token("cal@example.com", "password_reset", 1)
        .await;
    app.clock.advance(3601);
    app.post(
        "/v1/auth/password/reset",
        json!({ "token": token, "password": "a brand new passphrase" }),
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn change_password_needs_the_current_one_and_ends_other_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let here = app
        .register("dot@example.com", "correct horse battery")
        .await;
    let elsewhere = app.login("dot@example.com", "correct horse battery").await;
    let token = here.str("access_token");

    app.post_as(
        "/v1/auth/password/change",
        &token,
        json!({ "current_password": "wrong one here", "new_password": "a brand new passphrase" }),
    )
    .await
    .assert_error(401, "invalid_credentials");
    app.post_as(
        "/v1/auth/password/change",
        &token,
        json!({ "new_password": "a brand new passphrase" }),
    )
    .await
    .assert_error(400, "invalid_request");
    app.post_as(
        "/v1/auth/password/change",
        &token,
        json!({ "current_password": "correct horse battery", "new_password": "dot@example.com" }),
    )
    .await
    .assert_error(400, "weak_password");
    app.post(
        "/v1/auth/password/change",
        json!({ "current_password": "x", "new_password": "y" }),
    )
    .await
    .assert_error(401, "unauthorized");

    let reply = app
        .post_as("/v1/auth/password/change", &token, json!({ "current_password": "correct horse battery", "new_password": "a brand new passphrase" }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        app.get_as("/v1/me", &token).await.status,
        200,
        "the current session stays"
    );
    app.get_as("/v1/me", &elsewhere.str("access_token"))
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(
        app.login("dot@example.com", "a brand new passphrase")
            .await
            .status,
        200
    );
}

async fn bcrypt_and_weak_argon2_hashes_are_upgraded_on_login(backend: Backend) {
    let app = spawn_app(backend).await;
    let bcrypt_hash = bcrypt::hash("legacy passphrase", 6).expect("bcrypt");
    let created = app
        .post_as("/v1/admin/users", &app.admin_key, json!({ "email": "old@example.com", "password_hash": bcrypt_hash, "email_verified": true }))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    app.login("old@example.com", "not it at all")
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(
        app.login("old@example.com", "legacy passphrase")
            .await
            .status,
        200
    );
    let stored: String =
        sqlx::query("SELECT password_hash FROM users WHERE email_normalized = 'old@example.com'")
            .fetch_one(&app.app.db.pool)
            .await
            .expect("row")
            .try_get("password_hash")
            .expect("column");
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "rehashed to Argon2id: {stored}"
    );
    assert_eq!(
        app.login("old@example.com", "legacy passphrase")
            .await
            .status,
        200
    );
}

async fn mails_per_address_are_limited(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.rate_limits.mails_per_address = Limit {
        max: 2,
        window_secs: 3600,
    };
    let app = spawn_app_with(backend, config).await;
    app.register("eli@example.com", "correct horse battery")
        .await;
    for _ in 0..4 {
        let reply = app
            .post(
                "/v1/auth/password/forgot",
                json!({ "email": "eli@example.com" }),
            )
            .await;
        assert_eq!(
            reply.status, 202,
            "the limit is never visible to the caller"
        );
    }
    assert_eq!(
        app.count_mails("eli@example.com", "password_reset").await,
        2
    );
}

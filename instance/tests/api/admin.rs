//! The admin API: authentication, user administration, bans, imports, the audit log.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, Reply, spawn_app};

backend_tests!(
    the_admin_api_needs_an_admin_key,
    admins_create_read_update_and_delete_users,
    user_listing_paginates_and_searches,
    bans_block_login_until_lifted,
    admins_end_a_users_sessions,
    batch_import_reports_rejected_rows,
    the_audit_log_filters_and_paginates,
);

async fn the_admin_api_needs_an_admin_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let user_token = app
        .register("tia@example.com", "correct horse battery")
        .await
        .str("access_token");
    let no_key = Reply::from(
        app.http
            .get(app.url("/v1/admin/users"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    no_key.assert_error(401, "unauthorized");
    let wrong = format!("ask_admin_{}", "A".repeat(43));
    for key in [wrong.as_str(), user_token.as_str(), "ask_admin_", "Bearer"] {
        app.get_as("/v1/admin/users", key)
            .await
            .assert_error(401, "unauthorized");
    }
    assert_eq!(
        app.get_as("/v1/admin/users", &app.admin_key).await.status,
        200
    );
}

async fn admins_create_read_update_and_delete_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.admin_key.clone();
    let created = app
        .post_as(
            "/v1/admin/users",
            &key,
            json!({ "email": "Uma@Example.com", "name": "Uma", "metadata": { "plan": "pro" } }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["has_password"], false);
    let id = created.str("id");

    let bad = [
        (json!({ "email": "uma@example.com" }), 409, "conflict"),
        (
            json!({ "email": "x@example.com", "password": "correct horse battery", "password_hash": "$2b$..." }),
            400,
            "invalid_request",
        ),
        (
            json!({ "email": "x@example.com", "password_hash": "plaintext" }),
            400,
            "invalid_request",
        ),
        (
            json!({ "email": "x@example.com", "password": "short" }),
            400,
            "weak_password",
        ),
        (json!({ "email": "nope" }), 400, "invalid_request"),
        (
            json!({ "email": "x@example.com", "is_admin": true }),
            400,
            "invalid_request",
        ),
    ];
    for (body, status, code) in bad {
        app.post_as("/v1/admin/users", &key, body)
            .await
            .assert_error(status, code);
    }

    let fetched = app.get_as(&format!("/v1/admin/users/{id}"), &key).await;
    assert_eq!(fetched.body["email"], "Uma@Example.com");
    app.get_as("/v1/admin/users/usr_missing", &key)
        .await
        .assert_error(404, "not_found");

    let verified = app
        .patch_as(
            &format!("/v1/admin/users/{id}"),
            &key,
            json!({ "email_verified": true }),
        )
        .await;
    assert_eq!(verified.body["email_verified"], true);
    let moved = app
        .patch_as(
            &format!("/v1/admin/users/{id}"),
            &key,
            json!({ "email": "uma.new@example.com" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["email"], "uma.new@example.com");
    assert_eq!(
        moved.body["email_verified"], false,
        "a new address is unverified"
    );
    app.post_as(
        "/v1/admin/users",
        &key,
        json!({ "email": "vic@example.com" }),
    )
    .await;
    app.patch_as(
        &format!("/v1/admin/users/{id}"),
        &key,
        json!({ "email": "VIC@example.com" }),
    )
    .await
    .assert_error(409, "conflict");
    app.patch_as(
        &format!("/v1/admin/users/{id}"),
        &key,
        json!({ "metadata": "no" }),
    )
    .await
    .assert_error(400, "invalid_request");
    app.patch_as("/v1/admin/users/usr_missing", &key, json!({ "name": "x" }))
        .await
        .assert_error(404, "not_found");

    assert_eq!(
        app.delete_as(&format!("/v1/admin/users/{id}"), &key)
            .await
            .status,
        204
    );
    app.delete_as(&format!("/v1/admin/users/{id}"), &key)
        .await
        .assert_error(404, "not_found");
    app.get_as(&format!("/v1/admin/users/{id}"), &key)
        .await
        .assert_error(404, "not_found");
}

async fn user_listing_paginates_and_searches(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.admin_key.clone();
    for i in 0..5 {
        app.post_as(
            "/v1/admin/users",
            &key,
            json!({ "email": format!("page{i}@example.com"), "name": format!("Person {i}") }),
        )
        .await;
    }
    app.post_as(
        "/v1/admin/users",
        &key,
        json!({ "email": "odd_one%@example.com", "name": "Zed" }),
    )
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/admin/users?limit=2&cursor={c}"),
            None => "/v1/admin/users?limit=2".to_owned(),
        };
        let page = app.get_as(&path, &key).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for user in page.body["data"].as_array().expect("data") {
            seen.push(user["email"].as_str().expect("email").to_owned());
        }
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], "page0@example.com", "oldest first");

    let found = app.get_as("/v1/admin/users?search=PERSON%203", &key).await;
    assert_eq!(found.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(found.body["data"][0]["email"], "page3@example.com");
    // LIKE wildcards in the search are literal.
    let literal = app.get_as("/v1/admin/users?search=%25", &key).await;
    assert_eq!(
        literal.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        literal.body
    );
    for bad in ["limit=0", "limit=1000", "limit=abc", "unknown=1"] {
        app.get_as(&format!("/v1/admin/users?{bad}"), &key)
            .await
            .assert_error(400, "invalid_request");
    }
}

async fn bans_block_login_until_lifted(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.admin_key.clone();
    let session = app
        .register("wes@example.com", "correct horse battery")
        .await;
    let id = session.user_id();
    let path = format!("/v1/admin/users/{id}/ban");

    app.post_as(&path, &key, json!({ "until": "yesterday" }))
        .await
        .assert_error(400, "invalid_request");
    app.post_as(&path, &key, json!({ "until": "2001-01-01T00:00:00Z" }))
        .await
        .assert_error(400, "invalid_request");
    app.post_as("/v1/admin/users/usr_missing/ban", &key, json!({}))
        .await
        .assert_error(404, "not_found");
    let until = time::OffsetDateTime::from_unix_timestamp(app.clock.now() + 3600)
        .expect("time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let banned = app
        .post_as(&path, &key, json!({ "until": until, "reason": "abuse" }))
        .await;
    assert_eq!(banned.status, 200, "{}", banned.body);
    assert!(banned.body["banned_until"].is_string());

    app.get_as("/v1/me", &session.str("access_token"))
        .await
        .assert_error(401, "unauthorized");
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": session.str("refresh_token") }),
    )
    .await
    .assert_error(400, "invalid_grant");
    app.login("wes@example.com", "correct horse battery")
        .await
        .assert_error(403, "user_banned");
    // The ban is only revealed to someone who knows the password.
    app.login("wes@example.com", "wrong password!")
        .await
        .assert_error(401, "invalid_credentials");

    app.clock.advance(3601);
    assert_eq!(
        app.login("wes@example.com", "correct horse battery")
            .await
            .status,
        200,
        "the ban ended"
    );

    // Without `until` the ban is indefinite, shown as the last RFC 3339 second (it was "").
    let indefinite = app.post_as(&path, &key, json!({})).await;
    assert_eq!(indefinite.status, 200, "{}", indefinite.body);
    assert_eq!(indefinite.body["banned_until"], "9999-12-31T23:59:59Z");
    app.login("wes@example.com", "correct horse battery")
        .await
        .assert_error(403, "user_banned");
    let lifted = app
        .post_as(&format!("/v1/admin/users/{id}/unban"), &key, json!({}))
        .await;
    assert_eq!(lifted.body["banned_until"], serde_json::Value::Null);
    assert_eq!(
        app.login("wes@example.com", "correct horse battery")
            .await
            .status,
        200
    );
}

async fn admins_end_a_users_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app
        .register("xan@example.com", "correct horse battery")
        .await;
    let b = app.login("xan@example.com", "correct horse battery").await;
    let id = a.user_id();
    let reply = app
        .delete_as(&format!("/v1/admin/users/{id}/sessions"), &app.admin_key)
        .await;
    assert_eq!(reply.body["revoked"], 2);
    for s in [&a, &b] {
        app.get_as("/v1/me", &s.str("access_token"))
            .await
            .assert_error(401, "unauthorized");
    }
    app.delete_as("/v1/admin/users/usr_missing/sessions", &app.admin_key)
        .await
        .assert_error(404, "not_found");
}

async fn batch_import_reports_rejected_rows(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.admin_key.clone();
    app.post_as(
        "/v1/admin/users",
        &key,
        json!({ "email": "taken@example.com" }),
    )
    .await;
    let argon = authstack_instance::passwords::hash_blocking("imported passphrase").expect("hash");
    let bcrypt_hash = bcrypt::hash("bcrypt passphrase", 6).expect("bcrypt");
    let rows = json!({ "users": [
        { "email": "imp1@example.com", "password_hash": argon, "name": "One", "email_verified": true, "external_id": "legacy-1" },
        { "email": "imp2@example.com", "password_hash": bcrypt_hash, "email_verified": true, "metadata": { "source": "legacy" } },
        { "email": "not-an-email", "password_hash": argon },
        { "email": "imp3@example.com", "password_hash": "md5:abc" },
        { "email": "TAKEN@example.com" },
        { "email": "imp1@example.com" },
        { "email": "imp4@example.com" },
    ]});
    let report = app.post_as("/v1/admin/users/import", &key, rows).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["imported"], 3);
    let rejected: Vec<u64> = report.body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| r["index"].as_u64().expect("index"))
        .collect();
    assert_eq!(rejected, vec![2, 3, 4, 5]);
    assert!(
        report.body["rejected"]
            .as_array()
            .expect("rejected")
            .iter()
            .all(|r| r["reason"].as_str().is_some_and(|s| !s.is_empty()))
    );

    assert_eq!(
        app.login("imp1@example.com", "imported passphrase")
            .await
            .status,
        200
    );
    assert_eq!(
        app.login("imp2@example.com", "bcrypt passphrase")
            .await
            .status,
        200
    );

    app.post_as("/v1/admin/users/import", &key, json!({ "users": [] }))
        .await
        .assert_error(400, "invalid_request");
    let too_many: Vec<_> = (0..1001)
        .map(|i| json!({ "email": format!("m{i}@example.com") }))
        .collect();
    app.post_as("/v1/admin/users/import", &key, json!({ "users": too_many }))
        .await
        .assert_error(400, "invalid_request");
    app.post_as(
        "/v1/admin/users/import",
        &key,
        json!({ "users": [{ "email": "a@example.com", "password": "plain" }] }),
    )
    .await
    .assert_error(400, "invalid_request");
}

async fn the_audit_log_filters_and_paginates(backend: Backend) {
    let app = spawn_app(backend).await;
    let login = app
        .register("yul@example.com", "correct horse battery")
        .await;
    app.login("yul@example.com", "wrong password!").await;
    app.login("yul@example.com", "correct horse battery").await;
    let user_id = login.user_id();

    let all = app
        .get_as(
            &format!("/v1/admin/audit-logs?target_id={user_id}"),
            &app.admin_key,
        )
        .await;
    let actions: Vec<&str> = all.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        vec![
            "auth.login_succeeded",
            "auth.login_failed",
            "auth.login_succeeded",
            "admin.user_created"
        ],
        "newest first"
    );
    let failed = &all.body["data"][1];
    assert_eq!(failed["ip"], "127.0.0.1");
    assert_eq!(failed["data"]["email"], "yul@example.com");

    let page = app
        .get_as(
            &format!("/v1/admin/audit-logs?target_id={user_id}&limit=3"),
            &app.admin_key,
        )
        .await;
    let cursor = page.str("next_cursor");
    let rest = app
        .get_as(
            &format!("/v1/admin/audit-logs?target_id={user_id}&limit=3&cursor={cursor}"),
            &app.admin_key,
        )
        .await;
    assert_eq!(rest.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest.body["next_cursor"], serde_json::Value::Null);
    let only_failures = app
        .get_as(
            "/v1/admin/audit-logs?action=auth.login_failed",
            &app.admin_key,
        )
        .await;
    assert_eq!(only_failures.body["data"].as_array().map(Vec::len), Some(1));
    app.get_as("/v1/admin/audit-logs?limit=-1", &app.admin_key)
        .await
        .assert_error(400, "invalid_request");
}

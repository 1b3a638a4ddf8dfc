//! `/v1/me` and `/v1/me/sessions`.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, Reply, spawn_app};

backend_tests!(
    me_reads_and_updates_the_signed_in_user,
    deleting_the_account_needs_the_password,
    sessions_are_listed_and_ended_per_device,
);

async fn me_reads_and_updates_the_signed_in_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app
        .register("pia@example.com", "correct horse battery")
        .await
        .str("access_token");
    let me = app.get_as("/v1/me", &token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], "pia@example.com");
    assert!(me.body.get("password_hash").is_none());

    let updated = app
        .patch_as(
            "/v1/me",
            &token,
            json!({ "name": "  Pia Q  ", "metadata": { "theme": "dark" } }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "Pia Q");
    assert_eq!(updated.body["metadata"]["theme"], "dark");
    let cleared = app
        .patch_as("/v1/me", &token, json!({ "name": null }))
        .await;
    assert_eq!(cleared.body["name"], serde_json::Value::Null);
    assert_eq!(
        cleared.body["metadata"]["theme"], "dark",
        "absent fields stay"
    );

    for bad in [
        json!({ "name": "x".repeat(201) }),
        json!({ "name": "bad\u{0007}name" }),
        json!({ "metadata": [1, 2] }),
        json!({ "metadata": { "blob": "x".repeat(9000) } }),
        json!({ "email": "new@example.com" }),
        json!({ "name": 5 }),
    ] {
        app.patch_as("/v1/me", &token, bad)
            .await
            .assert_error(400, "invalid_request");
    }
    let after = app.get_as("/v1/me", &token).await;
    assert_eq!(
        after.body["metadata"]["theme"], "dark",
        "rejected updates change nothing"
    );
}

async fn deleting_the_account_needs_the_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app
        .register("quin@example.com", "correct horse battery")
        .await
        .str("access_token");
    let delete = |body: Option<serde_json::Value>| {
        let mut request = app.http.delete(app.url("/v1/me")).bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { Reply::from(request.send().await.expect("send")).await }
    };
    delete(None).await.assert_error(400, "invalid_request");
    delete(Some(json!({ "password": "nope nope nope" })))
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(
        delete(Some(json!({ "password": "correct horse battery" })))
            .await
            .status,
        204
    );
    app.get_as("/v1/me", &token)
        .await
        .assert_error(401, "unauthorized");
    app.login("quin@example.com", "correct horse battery")
        .await
        .assert_error(401, "invalid_credentials");
}

async fn sessions_are_listed_and_ended_per_device(backend: Backend) {
    let app = spawn_app(backend).await;
    let laptop = app
        .register("rae@example.com", "correct horse battery")
        .await;
    let phone = Reply::from(
        app.http
            .post(app.url("/v1/auth/login"))
            .header("user-agent", "PhoneBrowser/1.0")
            .json(&json!({ "email": "rae@example.com", "password": "correct horse battery" }))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let token = laptop.str("access_token");
    let list = app.get_as("/v1/me/sessions", &token).await;
    let sessions = list.body["data"].as_array().expect("data").clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_session = sessions
        .iter()
        .find(|s| s["user_agent"] == "PhoneBrowser/1.0")
        .expect("phone session");
    assert_eq!(phone_session["ip"], "127.0.0.1");
    let phone_id = phone_session["id"].as_str().expect("id");

    assert_eq!(
        app.delete_as(&format!("/v1/me/sessions/{phone_id}"), &token)
            .await
            .status,
        204
    );
    app.get_as("/v1/me", &phone.str("access_token"))
        .await
        .assert_error(401, "unauthorized");
    app.delete_as(&format!("/v1/me/sessions/{phone_id}"), &token)
        .await
        .assert_error(404, "not_found");
    app.delete_as("/v1/me/sessions/ses_nope", &token)
        .await
        .assert_error(404, "not_found");

    // Another user's session is not found, not forbidden: no existence leak.
    let other = app
        .register("sam@example.com", "correct horse battery")
        .await;
    let other_sid = app
        .get_as("/v1/me/sessions", &other.str("access_token"))
        .await
        .body["data"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.delete_as(&format!("/v1/me/sessions/{other_sid}"), &token)
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        app.get_as("/v1/me", &other.str("access_token"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get_as("/v1/me/sessions", &token).await.body["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

//! Malformed requests: a body declared in another charset, cursors no page returned, and JSON
//! bodies that are not objects (optional bodies may be absent or `null`).

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app};

backend_tests!(
    bodies_in_another_charset_and_foreign_cursors_are_refused,
    json_bodies_must_be_objects_and_optional_ones_may_be_null,
);

async fn bodies_in_another_charset_and_foreign_cursors_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let utf16 = app
        .http
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json; charset=utf-16")
        .body(json!({ "email": "a@example.com", "password": "x" }).to_string())
        .send()
        .await
        .expect("send");
    let utf16 = crate::helpers::Reply::from(utf16).await;
    utf16.assert_error(415, "unsupported_media_type");

    app.register("cursor@example.com", "correct horse battery")
        .await;
    for path in [
        "/v1/admin/users?cursor=zzz",
        "/v1/admin/users?cursor=usr_123",
        "/v1/admin/audit-logs?cursor=nope",
    ] {
        app.get_as(path, &app.admin_key)
            .await
            .assert_error(400, "invalid_request");
    }
    let first = app.get_as("/v1/admin/users?limit=1", &app.admin_key).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // An empty cursor is the first page; a cursor a page returned works.
    let empty = app.get_as("/v1/admin/users?cursor=", &app.admin_key).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    let id = first.body["data"][0]["id"]
        .as_str()
        .expect("a user")
        .to_owned();
    let next = app
        .get_as(&format!("/v1/admin/users?cursor={id}"), &app.admin_key)
        .await;
    assert_eq!(next.status, 200, "{}", next.body);
}

async fn json_bodies_must_be_objects_and_optional_ones_may_be_null(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app
        .register("arrays@example.com", "correct horse battery")
        .await
        .access_token();
    app.patch_as("/v1/me", &token, json!({ "name": "Ada" }))
        .await;
    // serde reads a struct from an array of its fields: `[null, null]` cleared the name.
    app.patch_as("/v1/me", &token, json!([null, null]))
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(app.get_as("/v1/me", &token).await.body["name"], "Ada");
    let id = app.get_as("/v1/me", &token).await.str("id");
    // ... and `[null, null]` banned the user indefinitely.
    app.post_as(
        &format!("/v1/admin/users/{id}/ban"),
        &app.admin_key,
        json!([null, null]),
    )
    .await
    .assert_error(400, "invalid_request");
    app.post_as("/v1/auth/logout", &token, json!(["global"]))
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(app.get_as("/v1/me", &token).await.status, 200);

    // The logout body is documented as optional and nullable: `null` is the default scope.
    let logout = app.post_as("/v1/auth/logout", &token, json!(null)).await;
    assert_eq!(logout.status, 204, "{}", logout.body);
    let token = app
        .login("arrays@example.com", "correct horse battery")
        .await
        .access_token();
    // A `null` body is no body: refused for the missing password, not as malformed.
    let null_body = app
        .http
        .delete(app.url("/v1/me"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .expect("send");
    let null_body = crate::helpers::Reply::from(null_body).await;
    null_body.assert_error(400, "invalid_request");
    assert_eq!(
        null_body.body["message"],
        "password is required to delete the account"
    );
    let deleted = app
        .http
        .delete(app.url("/v1/me"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"password":"correct horse battery"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(deleted.status(), 204);
}

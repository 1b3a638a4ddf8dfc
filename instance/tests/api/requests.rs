//! Malformed requests: a body declared in another charset, and cursors no page returned.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app};

backend_tests!(bodies_in_another_charset_and_foreign_cursors_are_refused);

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

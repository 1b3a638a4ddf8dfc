//! The adversarial isolation suite: every organization endpoint, walked by a member of another
//! organization, a removed member, another organization's API key (and the token minted for
//! it), a Viewer, an expired token and a token of another instance. Nothing may leak, nothing
//! may change.

use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::backend_tests;
use crate::helpers::{Backend, Reply, TestApp, spawn_app};

backend_tests!(
    nothing_leaks_across_organizations_or_instances,
    row_level_security_is_a_second_wall
);

/// Every organization-scoped endpoint, with a body that would succeed for an owner, and
/// whether a Viewer must be refused (`403`) on it.
fn endpoints(
    org: &str,
    member: &str,
    role: &str,
    invitation: &str,
    api_key: &str,
    (webhook, event): (&str, &str),
) -> Vec<(&'static str, String, Value, bool)> {
    let o = format!("/v1/organizations/{org}");
    vec![
        ("GET", o.clone(), Value::Null, false),
        ("PATCH", o.clone(), json!({ "name": "Hacked" }), true),
        ("DELETE", o.clone(), Value::Null, true),
        ("POST", format!("{o}/leave"), json!({}), false),
        ("POST", format!("{o}/switch"), json!({}), false),
        (
            "GET",
            format!("{o}/permissions/check?permission=members:read"),
            Value::Null,
            false,
        ),
        ("GET", format!("{o}/permissions"), Value::Null, true),
        ("GET", format!("{o}/members"), Value::Null, false),
        (
            "PATCH",
            format!("{o}/members/{member}"),
            json!({ "role": "viewer" }),
            true,
        ),
        ("DELETE", format!("{o}/members/{member}"), Value::Null, true),
        ("GET", format!("{o}/roles"), Value::Null, true),
        (
            "POST",
            format!("{o}/roles"),
            json!({ "key": "sneaky", "name": "S", "permissions": [] }),
            true,
        ),
        (
            "PATCH",
            format!("{o}/roles/{role}"),
            json!({ "name": "Renamed" }),
            true,
        ),
        ("DELETE", format!("{o}/roles/{role}"), Value::Null, true),
        (
            "POST",
            format!("{o}/invitations"),
            json!({ "email": "intruder@example.com" }),
            true,
        ),
        ("GET", format!("{o}/invitations"), Value::Null, false),
        (
            "DELETE",
            format!("{o}/invitations/{invitation}"),
            Value::Null,
            true,
        ),
        (
            "POST",
            format!("{o}/invitations/{invitation}/resend"),
            json!({}),
            true,
        ),
        ("GET", format!("{o}/audit-logs"), Value::Null, true),
        (
            "GET",
            format!("{o}/audit-logs?format=csv"),
            Value::Null,
            true,
        ),
        ("GET", format!("{o}/api-keys"), Value::Null, true),
        (
            "POST",
            format!("{o}/api-keys"),
            json!({ "name": "sneaky", "permissions": [] }),
            true,
        ),
        (
            "DELETE",
            format!("{o}/api-keys/{api_key}"),
            Value::Null,
            true,
        ),
        ("GET", format!("{o}/webhooks"), Value::Null, true),
        (
            "POST",
            format!("{o}/webhooks"),
            json!({ "url": "http://127.0.0.1:9/sneaky", "events": ["*"] }),
            true,
        ),
        (
            "DELETE",
            format!("{o}/webhooks/{webhook}"),
            Value::Null,
            true,
        ),
        (
            "POST",
            format!("{o}/webhooks/{webhook}/rotate-secret"),
            json!({}),
            true,
        ),
        (
            "POST",
            format!("{o}/webhooks/{webhook}/test"),
            json!({}),
            true,
        ),
        (
            "POST",
            format!("{o}/webhooks/{webhook}/enable"),
            json!({}),
            true,
        ),
        (
            "GET",
            format!("{o}/webhooks/{webhook}/deliveries"),
            Value::Null,
            true,
        ),
        (
            "POST",
            format!("{o}/webhooks/deliveries/{event}/replay"),
            json!({}),
            true,
        ),
    ]
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: &Value) -> Reply {
    let mut request = app
        .http
        .request(method.parse().expect("method"), app.url(path))
        .bearer_auth(token);
    if !body.is_null() {
        request = request.json(body);
    }
    Reply::from(request.send().await.expect("send")).await
}

/// What a snapshot of organization A looks like to its owner; compared before and after.
async fn snapshot(app: &TestApp, org: &str, owner: &str) -> Value {
    json!({
        "org": app.get_as(&format!("/v1/organizations/{org}"), owner).await.body,
        "members": app.get_as(&format!("/v1/organizations/{org}/members"), owner).await.body,
        "roles": app.get_as(&format!("/v1/organizations/{org}/roles"), owner).await.body,
        "invitations": app.get_as(&format!("/v1/organizations/{org}/invitations"), owner).await.body,
        "api_keys": app.get_as(&format!("/v1/organizations/{org}/api-keys"), owner).await.body,
        // Their standing and deliveries move with the worker; the endpoints and secrets may not.
        "webhooks": app.get_as(&format!("/v1/organizations/{org}/webhooks"), owner).await.body["data"]
            .as_array()
            .map(|list| list.iter().map(|w| json!([w["id"], w["url"], w["events"], w["secret_prefix"]])).collect::<Vec<_>>()),
    })
}

async fn nothing_leaks_across_organizations_or_instances(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let owner = app
        .register("owner-a@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Secret Alpha").await;
    let member_join = app
        .join_as_new_user(&org, &owner, "member-a@example.com", "member")
        .await;
    let member_id = member_join.user_id();
    let viewer = app
        .join_as_new_user(&org, &owner, "viewer-a@example.com", "viewer")
        .await
        .access_token();
    let removed_join = app
        .join_as_new_user(&org, &owner, "removed-a@example.com", "admin")
        .await;
    let removed = removed_join.access_token();
    let removed_id = removed_join.user_id();
    assert_eq!(
        app.delete_as(
            &format!("/v1/organizations/{org}/members/{removed_id}"),
            &owner
        )
        .await
        .status,
        204
    );
    let role = app
        .post_as(
            &format!("/v1/organizations/{org}/roles"),
            &owner,
            json!({ "key": "auditor", "name": "Auditor", "permissions": ["audit:read"] }),
        )
        .await
        .str("id");
    let invitation = app
        .post_as(
            &format!("/v1/organizations/{org}/invitations"),
            &owner,
            json!({ "email": "pending-a@example.com" }),
        )
        .await
        .str("id");

    let api_key = app
        .post_as(
            &format!("/v1/organizations/{org}/api-keys"),
            &owner,
            json!({ "name": "Alpha CI", "permissions": ["members:read"] }),
        )
        .await
        .body["api_key"]["id"]
        .as_str()
        .expect("key id")
        .to_owned();

    let webhook = app
        .post_as(
            &format!("/v1/organizations/{org}/webhooks"),
            &owner,
            json!({ "url": "http://127.0.0.1:9/alpha", "events": ["organization.updated"] }),
        )
        .await
        .body["webhook"]["id"]
        .as_str()
        .expect("webhook id")
        .to_owned();
    let webhook_event = app
        .post_as(
            &format!("/v1/organizations/{org}/webhooks/{webhook}/test"),
            &owner,
            json!({}),
        )
        .await
        .str("event_id");
    let hooks = (webhook.as_str(), webhook_event.as_str());

    let outsider = app
        .register("owner-b@example.com", "correct horse battery")
        .await
        .str("access_token");
    let beta = app.create_org(&outsider, "Beta").await;
    // Beta's key holds everything Beta's owner does, in Beta.
    let all: Vec<String> = app.app.rbac.all().iter().cloned().collect();
    let beta_key = app
        .post_as(
            &format!("/v1/organizations/{beta}/api-keys"),
            &outsider,
            json!({ "name": "Beta CI", "permissions": all }),
        )
        .await
        .str("key");
    let beta_token = app
        .post_as("/v1/organization-api-keys/token", &beta_key, json!({}))
        .await
        .str("access_token");
    let foreign_app = spawn_app(backend).await;
    let foreign = foreign_app
        .register("owner-a@example.com", "correct horse battery")
        .await
        .str("access_token");
    let foreign_org = foreign_app.create_org(&foreign, "Foreign").await;
    let foreign_key = foreign_app
        .post_as(
            &format!("/v1/organizations/{foreign_org}/api-keys"),
            &foreign,
            json!({ "name": "Foreign CI", "permissions": ["members:read"] }),
        )
        .await
        .str("key");

    let before = snapshot(&app, &org, &owner).await;
    let secrets = [
        "Secret Alpha",
        "secret-alpha",
        "member-a@example.com",
        "viewer-a@example.com",
        "pending-a@example.com",
        "auditor",
    ];
    let not_found_body = call(
        &app,
        "GET",
        "/v1/organizations/org_does_not_exist",
        &outsider,
        &Value::Null,
    )
    .await
    .body;

    let walkers = [
        ("outsider", &outsider),
        ("removed member", &removed),
        ("another organization's key", &beta_key),
        ("another organization's key token", &beta_token),
    ];
    for (method, path, body, viewer_refused) in
        endpoints(&org, &member_id, &role, &invitation, &api_key, hooks)
    {
        for (who, token) in walkers {
            let reply = call(&app, method, &path, token, &body).await;
            reply.assert_error(404, "not_found");
            assert_eq!(
                reply.body, not_found_body,
                "{who} {method} {path}: an existing organization answers like a missing one"
            );
            let text = reply.body.to_string();
            assert!(
                !secrets.iter().any(|s| text.contains(s)),
                "{who} {method} {path} leaked: {text}"
            );
        }
        let reply = call(&app, method, &path, &foreign, &body).await;
        reply.assert_error(401, "unauthorized");
        call(&app, method, &path, &foreign_key, &body)
            .await
            .assert_error(401, "invalid_key");
        if viewer_refused {
            call(&app, method, &path, &viewer, &body)
                .await
                .assert_error(403, "forbidden");
        }
    }
    // The viewer may read what viewers read.
    for path in [
        "",
        "/members",
        "/invitations",
        "/permissions/check?permission=members:read",
    ] {
        assert_eq!(
            app.get_as(&format!("/v1/organizations/{org}{path}"), &viewer)
                .await
                .status,
            200,
            "{path}"
        );
    }
    assert_eq!(
        snapshot(&app, &org, &owner).await,
        before,
        "nothing changed"
    );

    // Denied cross-organization attempts are audited.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let denied = app.get_as(&format!("/v1/admin/audit-logs?organization_id={org}&action=organization.access_denied&limit=200"), &app.admin_key).await;
    let count = denied.body["data"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert_eq!(
        count,
        walkers.len() * endpoints(&org, "", "", "", "", ("", "")).len(),
        "{}",
        denied.body
    );

    // Finally, an expired token gets nothing either.
    app.clock.advance(301);
    for (method, path, body, _) in endpoints(&org, &member_id, &role, &invitation, &api_key, hooks)
    {
        call(&app, method, &path, &owner, &body)
            .await
            .assert_error(401, "unauthorized");
    }
}

/// On PostgreSQL, a connection that forgot to scope sees no organization rows at all, and a
/// connection scoped to one organization sees only that organization's rows.
async fn row_level_security_is_a_second_wall(backend: Backend) {
    let Backend::Postgres { .. } = &backend else {
        return;
    };
    let app = spawn_app(backend).await;
    let a_owner = app
        .register("rls-a@example.com", "correct horse battery")
        .await
        .str("access_token");
    let b_owner = app
        .register("rls-b@example.com", "correct horse battery")
        .await
        .str("access_token");
    let a = app.create_org(&a_owner, "RLS A").await;
    let b = app.create_org(&b_owner, "RLS B").await;
    let url = app.database_url().expect("postgres url");
    let mut conn = sqlx::postgres::PgConnection::connect(&url)
        .await
        .expect("connect");
    let count = |sql: &'static str| sqlx::query(sql);
    let unscoped: i64 = count("SELECT COUNT(*) AS n FROM memberships")
        .fetch_one(&mut conn)
        .await
        .expect("query")
        .get("n");
    assert_eq!(unscoped, 0, "unscoped reads see nothing");
    let orgs: i64 = count("SELECT COUNT(*) AS n FROM organizations")
        .fetch_one(&mut conn)
        .await
        .expect("query")
        .get("n");
    assert_eq!(orgs, 0);
    let mut tx = conn.begin().await.expect("tx");
    sqlx::query("SELECT set_config('authstack.org_id', $1, true)")
        .bind(&a)
        .execute(&mut *tx)
        .await
        .expect("scope");
    let rows = sqlx::query("SELECT organization_id FROM memberships")
        .fetch_all(&mut *tx)
        .await
        .expect("query");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<String, _>("organization_id"), a);
    // Writing into another organization from this scope is refused by the policy.
    let sneaky = sqlx::query("UPDATE organizations SET name = 'x' WHERE id = $1")
        .bind(&b)
        .execute(&mut *tx)
        .await
        .expect("query");
    assert_eq!(sneaky.rows_affected(), 0);
    let insert = sqlx::query("INSERT INTO roles (id, organization_id, key, name, permissions, created_at, updated_at) VALUES ('rol_x', $1, 'x', 'x', '[]', 0, 0)")
        .bind(&b)
        .execute(&mut *tx)
        .await;
    assert!(
        insert.is_err(),
        "the WITH CHECK clause refuses rows of another organization"
    );
}

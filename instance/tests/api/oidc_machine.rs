//! Machine applications and the `client_credentials` grant: registration against the permission
//! catalogue, the token and its claims, who may use the grant, live checks at every mint, and
//! machine tokens refused where a user is required.
//!
//! - `machine_applications_are_registered_with_catalogue_permissions`
//! - `client_credentials_grants_all_permissions_or_the_asked_subset`
//! - `a_wrong_or_missing_secret_is_invalid_client`
//! - `only_machine_applications_use_client_credentials_and_only_it`
//! - `a_permission_dropped_from_the_catalogue_is_no_longer_granted`
//! - `a_deleted_application_cannot_mint`
//! - `machine_tokens_are_refused_where_a_user_is_required`
//! - `introspection_describes_a_machine_token`
//! - `malformed_client_credentials_requests_get_rfc_6749_errors`

use authstack_instance::config::InstanceConfig;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, Reply, TestApp, spawn_app_with};
use crate::oidc_support::*;

backend_tests!(
    machine_applications_are_registered_with_catalogue_permissions,
    client_credentials_grants_all_permissions_or_the_asked_subset,
    a_wrong_or_missing_secret_is_invalid_client,
    only_machine_applications_use_client_credentials_and_only_it,
    a_permission_dropped_from_the_catalogue_is_no_longer_granted,
    a_deleted_application_cannot_mint,
    machine_tokens_are_refused_where_a_user_is_required,
    introspection_describes_a_machine_token,
    malformed_client_credentials_requests_get_rfc_6749_errors,
);

fn catalogue(permissions: &[&str]) -> InstanceConfig {
    let mut config = InstanceConfig::default();
    config.organizations.permissions = permissions.iter().map(|p| (*p).to_owned()).collect();
    config
}

async fn machine_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, catalogue(&["reports:read", "reports:write"])).await
}

async fn create(app: &TestApp, body: Value) -> Reply {
    app.post_as("/v1/admin/applications", &app.admin_key, body)
        .await
}

async fn register_machine(app: &TestApp, permissions: &[&str]) -> Registered {
    let reply = create(
        app,
        json!({ "name": "nightly export", "kind": "machine", "permissions": permissions }),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Registered {
        id: reply.str("id"),
        secret: reply.body["client_secret"].as_str().map(str::to_owned),
    }
}

/// A `client_credentials` request by `client` with HTTP Basic, plus `form`.
async fn mint(app: &TestApp, client: &Registered, form: &[(&str, &str)]) -> Reply {
    let mut form = form.to_vec();
    form.insert(0, ("grant_type", "client_credentials"));
    client_post(app, "/oauth2/token", client, &form).await
}

async fn machine_applications_are_registered_with_catalogue_permissions(backend: Backend) {
    let app = machine_app(backend).await;
    let reply = create(
        &app,
        json!({ "name": "export", "kind": "machine",
                "permissions": ["reports:read", "members:read", "reports:read"] }),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["kind"], "machine");
    assert_eq!(
        reply.body["permissions"],
        json!(["reports:read", "members:read"])
    );
    assert!(
        reply.body["client_secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("acs_")),
        "{}",
        reply.body
    );
    let id = reply.str("id");
    let shown = app
        .get_as(&format!("/v1/admin/applications/{id}"), &app.admin_key)
        .await;
    assert!(shown.body.get("client_secret").is_none(), "{}", shown.body);
    assert_eq!(shown.body["permissions"], reply.body["permissions"]);

    let unknown = create(
        &app,
        json!({ "name": "x", "kind": "machine", "permissions": ["reports:delete"] }),
    )
    .await;
    unknown.assert_error(400, "invalid_request");
    assert!(
        unknown.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("permissions[0]") && m.contains("reports:delete")),
        "{}",
        unknown.body
    );
    create(
        &app,
        json!({ "name": "x", "kind": "machine", "redirect_uris": [REDIRECT] }),
    )
    .await
    .assert_error(400, "invalid_request");
    create(
        &app,
        json!({ "name": "x", "kind": "web", "redirect_uris": [REDIRECT],
                "permissions": ["reports:read"] }),
    )
    .await
    .assert_error(400, "invalid_request");

    let path = format!("/v1/admin/applications/{id}");
    let changed = app
        .patch_as(
            &path,
            &app.admin_key,
            json!({ "permissions": ["reports:write"] }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["permissions"], json!(["reports:write"]));
    app.patch_as(&path, &app.admin_key, json!({ "permissions": ["nope:x"] }))
        .await
        .assert_error(400, "invalid_request");
    app.patch_as(
        &path,
        &app.admin_key,
        json!({ "redirect_uris": [REDIRECT] }),
    )
    .await
    .assert_error(400, "invalid_request");

    // Rotation works as for web applications, grace period included.
    let old = Registered {
        id: id.clone(),
        secret: reply.body["client_secret"].as_str().map(str::to_owned),
    };
    let rotated = app
        .post_as(
            &format!("{path}/rotate-secret"),
            &app.admin_key,
            json!({ "grace_period_secs": 60 }),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = Registered {
        id,
        secret: rotated.body["client_secret"].as_str().map(str::to_owned),
    };
    assert_eq!(mint(&app, &old, &[]).await.status, 200);
    assert_eq!(mint(&app, &new, &[]).await.status, 200);
    app.clock.advance(61);
    assert_oauth_error(&mint(&app, &old, &[]).await, 401, "invalid_client");
    assert_eq!(mint(&app, &new, &[]).await.status, 200);

    let audit = app
        .get_as(
            &format!("/v1/admin/audit-logs?target_id={}", new.id),
            &app.admin_key,
        )
        .await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|r| r["action"].as_str()).collect())
        .unwrap_or_default();
    for action in [
        "admin.application_created",
        "admin.application_updated",
        "admin.application_secret_rotated",
    ] {
        assert!(actions.contains(&action), "{action}: {}", audit.body);
    }
}

async fn client_credentials_grants_all_permissions_or_the_asked_subset(backend: Backend) {
    let app = machine_app(backend).await;
    let client = register_machine(&app, &["reports:read", "reports:write"]).await;
    let reply = mint(&app, &client, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 300);
    assert_eq!(reply.body["scope"], "reports:read reports:write");
    assert!(reply.body.get("refresh_token").is_none(), "{}", reply.body);
    assert!(reply.body.get("id_token").is_none(), "{}", reply.body);
    assert_eq!(
        reply
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let c = claims(&reply.str("access_token"));
    assert_eq!(c["sub"], client.id.as_str());
    assert_eq!(c["client_id"], client.id.as_str());
    assert_eq!(c["aud"], client.id.as_str());
    assert_eq!(c["scope"], "reports:read reports:write");
    assert_eq!(c["permissions"], json!(["reports:read", "reports:write"]));
    assert_eq!(c["exp"].as_i64(), c["iat"].as_i64().map(|iat| iat + 300));
    assert!(c["jti"].is_string() && c["iss"].is_string(), "{c}");
    for user_claim in ["sid", "email", "auth_time", "amr", "org_id"] {
        assert!(c.get(user_claim).is_none(), "{user_claim}: {c}");
    }

    let narrowed = mint(&app, &client, &[("scope", "reports:write")]).await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.body);
    assert_eq!(narrowed.body["scope"], "reports:write");
    assert_eq!(
        claims(&narrowed.str("access_token"))["permissions"],
        json!(["reports:write"])
    );
    // client_secret_post works as Basic does.
    let posted = token(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            (
                "client_secret",
                client.secret.as_deref().unwrap_or_default(),
            ),
            ("scope", "reports:read"),
        ],
    )
    .await;
    assert_eq!(posted.status, 200, "{}", posted.body);
    assert_eq!(posted.body["scope"], "reports:read");

    for outside in ["members:read", "reports:read admin", "openid"] {
        assert_oauth_error(
            &mint(&app, &client, &[("scope", outside)]).await,
            400,
            "invalid_scope",
        );
    }
}

async fn a_wrong_or_missing_secret_is_invalid_client(backend: Backend) {
    let app = machine_app(backend).await;
    let client = register_machine(&app, &["reports:read"]).await;
    let wrong = token(
        &app,
        Some((&client.id, "acs_wrong")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert!(wrong.headers.contains_key("www-authenticate"));
    let no_secret = token(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
        ],
    )
    .await;
    assert_oauth_error(&no_secret, 401, "invalid_client");
    let unknown = token(
        &app,
        Some(("app_00000000000000000000000000000000", "acs_x")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&unknown, 401, "invalid_client");
}

async fn only_machine_applications_use_client_credentials_and_only_it(backend: Backend) {
    let app = machine_app(backend).await;
    for kind in ["web", "spa", "native"] {
        let other = register(&app, kind).await;
        assert_oauth_error(&mint(&app, &other, &[]).await, 400, "unauthorized_client");
    }
    let machine = register_machine(&app, &["reports:read"]).await;
    let code = mint(
        &app,
        &machine,
        &[("code", "ac_x"), ("redirect_uri", REDIRECT)],
    )
    .await;
    assert_eq!(
        code.status, 200,
        "client_credentials ignores other parameters"
    );
    for (grant, extra) in [
        ("authorization_code", ("code", "ac_whatever")),
        ("refresh_token", ("refresh_token", "rt_whatever")),
    ] {
        let reply = client_post(
            &app,
            "/oauth2/token",
            &machine,
            &[("grant_type", grant), extra, ("redirect_uri", REDIRECT)],
        )
        .await;
        assert_oauth_error(&reply, 400, "unauthorized_client");
    }
    // Nor can it start a sign-in: it has no redirect URI to send a code to.
    let pkce = pkce();
    let asked = authorize_query(&machine, Some(&pkce), &[]);
    let page = get(&app, &format!("/oauth2/authorize?{asked}"), None).await;
    assert_eq!(page.status, 400);
    assert!(page.location.is_empty());
}

async fn a_permission_dropped_from_the_catalogue_is_no_longer_granted(backend: Backend) {
    let app = machine_app(backend).await;
    let client = register_machine(&app, &["reports:read", "reports:write"]).await;
    assert_eq!(
        mint(&app, &client, &[]).await.body["scope"],
        "reports:read reports:write"
    );
    let app = app.restart_with(catalogue(&["reports:read"])).await;
    let reply = mint(&app, &client, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["scope"], "reports:read");
    assert_eq!(
        claims(&reply.str("access_token"))["permissions"],
        json!(["reports:read"])
    );
    assert_oauth_error(
        &mint(&app, &client, &[("scope", "reports:write")]).await,
        400,
        "invalid_scope",
    );
    // The registration still lists it (the catalogue may bring it back), but cannot be saved
    // with it again while it is gone.
    let path = format!("/v1/admin/applications/{}", client.id);
    let shown = app.get_as(&path, &app.admin_key).await;
    assert_eq!(
        shown.body["permissions"],
        json!(["reports:read", "reports:write"])
    );
    app.patch_as(
        &path,
        &app.admin_key,
        json!({ "permissions": ["reports:read", "reports:write"] }),
    )
    .await
    .assert_error(400, "invalid_request");
}

async fn a_deleted_application_cannot_mint(backend: Backend) {
    let app = machine_app(backend).await;
    let client = register_machine(&app, &["reports:read"]).await;
    let other = register_machine(&app, &["reports:read"]).await;
    let issued = mint(&app, &client, &[]).await.str("access_token");
    let deleted = app
        .delete_as(
            &format!("/v1/admin/applications/{}", client.id),
            &app.admin_key,
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert_oauth_error(&mint(&app, &client, &[]).await, 401, "invalid_client");
    assert_eq!(
        introspect(&app, &other, &issued).await.body,
        json!({ "active": false })
    );
}

async fn machine_tokens_are_refused_where_a_user_is_required(backend: Backend) {
    let app = machine_app(backend).await;
    let client = register_machine(&app, &["reports:read"]).await;
    let access = mint(&app, &client, &[]).await.str("access_token");
    let info = userinfo(&app, &access).await;
    assert_oauth_error(&info, 401, "invalid_token");
    assert_eq!(
        info.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );

    let me = app.get_as("/v1/me", &access).await;
    me.assert_error(401, "unauthorized");
    assert_eq!(
        me.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );

    // Refused for what it is, not only for its audience: the same claims with the instance's
    // own audience are refused too.
    let mut claims = claims(&access);
    claims["aud"] = json!(app.app.audience);
    let forged = app.app.keys.sign(&claims).expect("signs");
    let me = app.get_as("/v1/me", &forged).await;
    me.assert_error(401, "unauthorized");
    assert!(
        me.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("client_credentials")),
        "{}",
        me.body
    );
    assert_oauth_error(&userinfo(&app, &forged).await, 401, "invalid_token");
}

async fn introspection_describes_a_machine_token(backend: Backend) {
    let app = machine_app(backend).await;
    let client = register_machine(&app, &["reports:read", "reports:write"]).await;
    let reply = mint(&app, &client, &[("scope", "reports:read")]).await;
    let access = reply.str("access_token");
    let seen = introspect(&app, &client, &access).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["active"], true);
    assert_eq!(seen.body["token_type"], "Bearer");
    assert_eq!(seen.body["client_id"], client.id.as_str());
    assert_eq!(seen.body["sub"], client.id.as_str());
    assert_eq!(seen.body["scope"], "reports:read");
    assert!(seen.body["exp"].is_i64() && seen.body["jti"].is_string());
    assert!(seen.body.get("sid").is_none(), "{}", seen.body);

    // Another application learns nothing about it; nor does anyone once it expired.
    let other = register_machine(&app, &["reports:read"]).await;
    assert_eq!(
        introspect(&app, &other, &access).await.body,
        json!({ "active": false })
    );
    // Revoking it is accepted and changes nothing (it has no grant behind it).
    assert_eq!(revoke(&app, &client, &access).await.status, 200);
    app.clock.advance(301);
    assert_eq!(
        introspect(&app, &client, &access).await.body,
        json!({ "active": false })
    );
}

async fn malformed_client_credentials_requests_get_rfc_6749_errors(backend: Backend) {
    let app = machine_app(backend).await;
    let client = register_machine(&app, &["reports:read"]).await;
    let secret = client.secret.clone().unwrap_or_default();
    let long = "a".repeat(20_000);
    for scope in [
        "\u{0}",
        "reports:read\u{7f}",
        "é",
        long.as_str(),
        "  ",
        "\t",
    ] {
        let reply = mint(&app, &client, &[("scope", scope)]).await;
        assert!(
            reply.status == 200 || reply.body["error"] == "invalid_scope",
            "{scope:?}: {} {}",
            reply.status,
            reply.body
        );
    }
    let both = token(
        &app,
        Some((&client.id, &secret)),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_oauth_error(&both, 400, "invalid_request");
    let twice = client_post(
        &app,
        "/oauth2/token",
        &client,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "reports:read"),
            ("scope", "reports:read"),
        ],
    )
    .await;
    assert_oauth_error(&twice, 400, "invalid_request");
    let json_body = browser()
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.id, Some(&secret))
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .expect("request");
    assert_oauth_error(&Reply::from(json_body).await, 400, "invalid_request");
    let bad_basic = browser()
        .post(app.url("/oauth2/token"))
        .header("authorization", "Basic %%%")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("request");
    assert_oauth_error(&Reply::from(bad_basic).await, 401, "invalid_client");
}

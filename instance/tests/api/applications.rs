//! Applications (the OpenID Provider's OAuth clients) through the admin API.
//!
//! - `applications_are_created_listed_updated_rotated_and_deleted`
//! - `invalid_applications_are_refused_with_the_field_path`
//! - `applications_need_the_admin_key`
//! - `the_instances_redirect_uris_bound_every_application`
//! - `a_rotated_secret_keeps_working_for_the_grace_period_asked_for`
//! - `the_organization_selection_is_set_changed_and_checked`

use serde_json::json;

use crate::backend_tests;
use authstack_instance::config::InstanceConfig;

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::oidc_support::{
    REDIRECT, Registered, SIGNED_OUT, authorize_query, get, introspect, pkce, query, register,
    signed_in,
};

backend_tests!(
    applications_are_created_listed_updated_rotated_and_deleted,
    invalid_applications_are_refused_with_the_field_path,
    applications_need_the_admin_key,
    the_instances_redirect_uris_bound_every_application,
    a_rotated_secret_keeps_working_for_the_grace_period_asked_for,
    the_organization_selection_is_set_changed_and_checked,
);

async fn the_organization_selection_is_set_changed_and_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = &app.admin_key;
    let create = |body: serde_json::Value| app.post_as("/v1/admin/applications", key, body);
    // Absent: `none`, today's sign-in.
    let plain =
        create(json!({ "name": "Plain", "kind": "spa", "redirect_uris": [REDIRECT] })).await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(plain.body["organization_selection"], "none");
    let teams = create(
        json!({ "name": "Teams", "kind": "web", "redirect_uris": [REDIRECT],
                               "organization_selection": "optional" }),
    )
    .await;
    assert_eq!(teams.status, 201, "{}", teams.body);
    assert_eq!(teams.body["organization_selection"], "optional");
    let one = format!("/v1/admin/applications/{}", teams.str("id"));
    let changed = app
        .patch_as(&one, key, json!({ "organization_selection": "required" }))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["organization_selection"], "required");
    // Other changes keep it.
    let renamed = app.patch_as(&one, key, json!({ "name": "Teams 2" })).await;
    assert_eq!(renamed.body["organization_selection"], "required");
    let listed = app.get_as("/v1/admin/applications", key).await;
    let found = listed.body["data"]
        .as_array()
        .and_then(|d| d.iter().find(|a| a["id"] == teams.str("id")).cloned())
        .expect("listed");
    assert_eq!(found["organization_selection"], "required");

    // Unknown values, and a machine application (it signs no user in), are refused.
    let bad = app
        .patch_as(&one, key, json!({ "organization_selection": "always" }))
        .await;
    bad.assert_error(400, "invalid_request");
    let machine = create(json!({ "name": "M", "kind": "machine",
                                 "organization_selection": "optional" }))
    .await;
    machine.assert_error(400, "invalid_request");
    assert!(
        machine
            .str("message")
            .starts_with("organization_selection:"),
        "{}",
        machine.body
    );
    let machine = create(json!({ "name": "M", "kind": "machine" })).await;
    assert_eq!(machine.status, 201, "{}", machine.body);
    let bad = app
        .patch_as(
            &format!("/v1/admin/applications/{}", machine.str("id")),
            key,
            json!({ "organization_selection": "required" }),
        )
        .await;
    bad.assert_error(400, "invalid_request");
}

async fn applications_are_created_listed_updated_rotated_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = &app.admin_key;
    let web = app
        .post_as(
            "/v1/admin/applications",
            key,
            json!({ "name": "Acme web", "kind": "web",
                    "redirect_uris": ["https://app.example.com/callback", "http://localhost:3000/cb"],
                    "post_logout_redirect_uris": ["https://app.example.com/"] }),
        )
        .await;
    assert_eq!(web.status, 201, "{}", web.body);
    let id = web.str("id");
    assert!(id.starts_with("app_"));
    let secret = web.str("client_secret");
    assert!(secret.starts_with("acs_") && secret.len() == 4 + 43);
    assert_eq!(web.body["first_party"], true);
    assert_eq!(web.body["kind"], "web");

    let spa = app
        .post_as(
            "/v1/admin/applications",
            key,
            json!({ "name": "Acme SPA", "kind": "spa", "redirect_uris": ["https://spa.example.com/cb"],
                    "first_party": false }),
        )
        .await;
    assert_eq!(spa.status, 201, "{}", spa.body);
    assert!(spa.body.get("client_secret").is_none(), "{}", spa.body);
    assert_eq!(spa.body["first_party"], false);

    let list = app.get_as("/v1/admin/applications", key).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(2));
    assert!(
        !list.body.to_string().contains(&secret),
        "the secret is never shown again"
    );

    let got = app
        .get_as(&format!("/v1/admin/applications/{id}"), key)
        .await;
    assert_eq!(got.status, 200);
    assert!(got.body.get("client_secret").is_none());
    assert_eq!(
        got.body["redirect_uris"],
        json!([
            "https://app.example.com/callback",
            "http://localhost:3000/cb"
        ])
    );

    let updated = app
        .patch_as(
            &format!("/v1/admin/applications/{id}"),
            key,
            json!({ "name": "Acme", "redirect_uris": ["https://app.example.com/cb2"] }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "Acme");
    assert_eq!(
        updated.body["redirect_uris"],
        json!(["https://app.example.com/cb2"])
    );
    assert_eq!(updated.body["kind"], "web");

    let rotated = app
        .post_as(
            &format!("/v1/admin/applications/{id}/rotate-secret"),
            key,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_ne!(rotated.str("client_secret"), secret);
    let spa_id = spa.str("id");
    app.post_as(
        &format!("/v1/admin/applications/{spa_id}/rotate-secret"),
        key,
        json!({}),
    )
    .await
    .assert_error(409, "conflict");

    let deleted = app
        .delete_as(&format!("/v1/admin/applications/{id}"), key)
        .await;
    assert_eq!(deleted.status, 204);
    app.get_as(&format!("/v1/admin/applications/{id}"), key)
        .await
        .assert_error(404, "not_found");
    app.delete_as(&format!("/v1/admin/applications/{id}"), key)
        .await
        .assert_error(404, "not_found");
}

async fn invalid_applications_are_refused_with_the_field_path(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = &app.admin_key;
    for (body, path) in [
        (json!({ "name": "", "kind": "web" }), "name"),
        (
            json!({ "name": "x", "kind": "web", "redirect_uris": ["http://app.example.com/cb"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "name": "x", "kind": "web", "redirect_uris": ["https://ok.example.com/cb", "https://a.example.com/cb#frag"] }),
            "redirect_uris[1]",
        ),
        (
            json!({ "name": "x", "kind": "web", "redirect_uris": ["https://*.example.com/cb"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "name": "x", "kind": "web", "redirect_uris": ["javascript:alert(1)"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "name": "x", "kind": "web", "redirect_uris": ["/cb"] }),
            "redirect_uris[0]",
        ),
        (
            json!({ "name": "x", "kind": "spa", "post_logout_redirect_uris": ["ftp://a.example.com/"] }),
            "post_logout_redirect_uris[0]",
        ),
    ] {
        let reply = app
            .post_as("/v1/admin/applications", key, body.clone())
            .await;
        reply.assert_error(400, "invalid_request");
        assert!(
            reply.str("message").starts_with(&format!("{path}:")),
            "{body}: {}",
            reply.body
        );
    }
    app.post_as(
        "/v1/admin/applications",
        key,
        json!({ "name": "x", "kind": "server" }),
    )
    .await
    .assert_error(400, "invalid_request");
    let created = app
        .post_as(
            "/v1/admin/applications",
            key,
            json!({ "name": "x", "kind": "native", "redirect_uris": ["http://127.0.0.1:8123/cb"] }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let reply = app
        .patch_as(
            &format!("/v1/admin/applications/{}", created.str("id")),
            key,
            json!({ "redirect_uris": ["http://[::1]/cb", "https://a.example.com/x y"] }),
        )
        .await;
    reply.assert_error(400, "invalid_request");
    assert!(
        reply.str("message").starts_with("redirect_uris[1]:"),
        "{}",
        reply.body
    );
}

async fn applications_need_the_admin_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app
        .register("ann@example.com", "correct horse battery")
        .await
        .access_token();
    app.get_as("/v1/admin/applications", &user)
        .await
        .assert_error(401, "unauthorized");
    app.post(
        "/v1/admin/applications",
        json!({ "name": "x", "kind": "web" }),
    )
    .await
    .assert_error(401, "unauthorized");
}

/// `security.redirect_uris`, when not empty, is where any application of the instance may send
/// users: registration outside it is refused, and a URI an application registered before the
/// list changed stops working at once (the list is checked on every request).
async fn the_instances_redirect_uris_bound_every_application(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.security.redirect_uris = vec![REDIRECT.into(), SIGNED_OUT.into()];
    let app = spawn_app_with(backend.clone(), config.clone()).await;
    let refused = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": "x", "kind": "web",
                    "redirect_uris": [REDIRECT, "https://other.example.com/cb"] }),
        )
        .await;
    refused.assert_error(400, "invalid_request");
    assert!(
        refused.body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("redirect_uris[1]: ")),
        "{}",
        refused.body
    );
    let client = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": "x", "kind": "web", "redirect_uris": [REDIRECT],
                    "post_logout_redirect_uris": ["https://app.example.com/bye"] }),
        )
        .await;
    client.assert_error(400, "invalid_request");
    let ok = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": "x", "kind": "web", "redirect_uris": [REDIRECT] }),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let patched = app
        .patch_as(
            &format!("/v1/admin/applications/{}", ok.str("id")),
            &app.admin_key,
            json!({ "redirect_uris": ["https://other.example.com/cb"] }),
        )
        .await;
    assert_eq!(patched.status, 400, "{}", patched.body);

    // `register` adds http://127.0.0.1:9999/cb, which the list leaves out: registered while the
    // list was empty, it stops working when the list is deployed.
    let open = spawn_app(backend).await;
    let client = register(&open, "web").await;
    let tokens = signed_in(&open, &client).await;
    let elsewhere = authorize_query(
        &client,
        Some(&pkce()),
        &[("redirect_uri", "http://127.0.0.1:9999/cb")],
    );
    let before = get(
        &open,
        &format!("/oauth2/authorize?{elsewhere}"),
        Some(&tokens.sso),
    )
    .await;
    assert_eq!(before.status, 303, "{}", before.html);
    open.app.config.store(std::sync::Arc::new(config));
    let after = get(
        &open,
        &format!("/oauth2/authorize?{elsewhere}"),
        Some(&tokens.sso),
    )
    .await;
    assert_eq!(after.status, 400, "{}", after.location);
    assert!(after.location.is_empty());
    let listed = get(
        &open,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, Some(&pkce()), &[])
        ),
        Some(&tokens.sso),
    )
    .await;
    assert!(listed.location.starts_with(REDIRECT), "{}", listed.location);
    let logout = get(
        &open,
        &format!(
            "/oauth2/logout?{}",
            query(&[
                ("client_id", &client.id),
                ("post_logout_redirect_uri", SIGNED_OUT)
            ])
        ),
        None,
    )
    .await;
    assert_eq!(logout.status, 303, "{}", logout.html);
}

async fn a_rotated_secret_keeps_working_for_the_grace_period_asked_for(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = register(&app, "web").await;
    // Client authentication succeeds when introspection answers at all.
    let authenticates = |client: Registered| {
        let app = &app;
        async move { introspect(app, &client, "x").await.status == 200 }
    };
    let rotate = |body: serde_json::Value| {
        let app = &app;
        let id = first.id.clone();
        async move {
            app.post_as(
                &format!("/v1/admin/applications/{id}/rotate-secret"),
                &app.admin_key,
                body,
            )
            .await
        }
    };
    let with = |reply: &crate::helpers::Reply| Registered {
        id: first.id.clone(),
        secret: Some(reply.str("client_secret")),
    };

    let second = rotate(json!({ "grace_period_secs": 3600 })).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(second.body["previous_secret_expires_at"].is_string());
    assert!(authenticates(first.clone()).await);
    assert!(authenticates(with(&second)).await);
    app.clock.advance(3601);
    assert!(!authenticates(first.clone()).await);
    assert!(authenticates(with(&second)).await);

    // Without a grace period (no body at all, or 0) the old secret ends at once.
    let third = app
        .post_as(
            &format!("/v1/admin/applications/{}/rotate-secret", first.id),
            &app.admin_key,
            json!({ "grace_period_secs": 0 }),
        )
        .await;
    assert!(third.body["previous_secret_expires_at"].is_null());
    assert!(!authenticates(with(&second)).await);
    assert!(authenticates(with(&third)).await);
    let bare = reqwest::Client::new()
        .post(app.url(&format!(
            "/v1/admin/applications/{}/rotate-secret",
            first.id
        )))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status(), 200);
    assert!(!authenticates(with(&third)).await);

    rotate(json!({ "grace_period_secs": 604801 }))
        .await
        .assert_error(400, "invalid_request");
    rotate(json!({ "grace_period_secs": -1 }))
        .await
        .assert_error(400, "invalid_request");
    // A whole number written with a fraction is still one.
    let fourth = rotate(json!({ "grace_period_secs": 60.0 })).await;
    assert_eq!(fourth.status, 200, "{}", fourth.body);
    assert!(fourth.body["previous_secret_expires_at"].is_string());
    rotate(json!({ "grace": 5 }))
        .await
        .assert_error(400, "invalid_request");
}

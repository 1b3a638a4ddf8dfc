//! An application's own token lifetime (`access_token_ttl_secs`): its access and ID tokens, and
//! those of its refreshes and (for a machine) `client_credentials`, live that long; it is never
//! longer than the instance's `tokens.access_token_ttl_secs`, also after that is lowered; `null`
//! gives the instance's back.
//!
//! - `tokens_live_as_long_as_the_application_says`
//! - `a_lifetime_outside_30_seconds_to_the_instances_is_refused`
//! - `the_instance_lowering_its_lifetime_caps_the_application`

use authstack_instance::config::InstanceConfig;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};
use crate::oidc_support::*;

backend_tests!(
    tokens_live_as_long_as_the_application_says,
    a_lifetime_outside_30_seconds_to_the_instances_is_refused,
    the_instance_lowering_its_lifetime_caps_the_application,
);

async fn register_with_ttl(app: &TestApp, body: Value) -> Registered {
    let reply = app
        .post_as("/v1/admin/applications", &app.admin_key, body)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Registered {
        id: reply.str("id"),
        secret: reply.body["client_secret"].as_str().map(str::to_owned),
    }
}

fn lifetime(jwt: &str) -> i64 {
    let c = claims(jwt);
    c["exp"].as_i64().expect("exp") - c["iat"].as_i64().expect("iat")
}

async fn tokens_live_as_long_as_the_application_says(backend: Backend) {
    let app = spawn_app(backend).await;
    let short = register_with_ttl(
        &app,
        json!({ "name": "Bank", "kind": "web", "redirect_uris": [REDIRECT],
                "access_token_ttl_secs": 60 }),
    )
    .await;
    let shown = app
        .get_as(
            &format!("/v1/admin/applications/{}", short.id),
            &app.admin_key,
        )
        .await;
    assert_eq!(shown.body["access_token_ttl_secs"], 60);
    let tokens = signed_in(&app, &short).await;
    assert_eq!(lifetime(&tokens.access), 60);
    assert_eq!(lifetime(&tokens.id_token), 60);
    let refreshed = refresh(&app, &short, &tokens.refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.body["expires_in"], 60);
    assert_eq!(lifetime(&refreshed.str("access_token")), 60);

    // Another application of the same sign-in keeps the instance's lifetime (300 s).
    let other = register(&app, "web").await;
    let theirs = sso_sign_in(&app, &other, &tokens.sso).await;
    assert_eq!(lifetime(&theirs.access), 300);

    // `null` gives the instance's back.
    let path = format!("/v1/admin/applications/{}", short.id);
    let reset = app
        .patch_as(
            &path,
            &app.admin_key,
            json!({ "access_token_ttl_secs": null }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert!(reset.body["access_token_ttl_secs"].is_null());
    let again = sso_sign_in(&app, &short, &tokens.sso).await;
    assert_eq!(lifetime(&again.access), 300);

    // A machine's client_credentials tokens too.
    let machine = register_with_ttl(
        &app,
        json!({ "name": "Export", "kind": "machine", "access_token_ttl_secs": 45 }),
    )
    .await;
    let minted = token(
        &app,
        Some((&machine.id, machine.secret.as_deref().expect("a secret"))),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(minted.status, 200, "{}", minted.body);
    assert_eq!(minted.body["expires_in"], 45);
    assert_eq!(lifetime(&minted.str("access_token")), 45);
}

async fn a_lifetime_outside_30_seconds_to_the_instances_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    for ttl in [json!(29), json!(301), json!(-1), json!(1.5), json!("60")] {
        let reply = app
            .post_as(
                "/v1/admin/applications",
                &app.admin_key,
                json!({ "name": "x", "kind": "web", "redirect_uris": [REDIRECT],
                        "access_token_ttl_secs": ttl }),
            )
            .await;
        assert_eq!(reply.status, 400, "{ttl}: {}", reply.body);
    }
    let reply = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": "x", "kind": "web", "redirect_uris": [REDIRECT],
                    "access_token_ttl_secs": 301 }),
        )
        .await;
    assert_eq!(reply.body["error"], "invalid_request");
    assert_eq!(
        reply.str("message"),
        "access_token_ttl_secs: must be 30 to 300 (this instance's tokens.access_token_ttl_secs)"
    );
    let client = register(&app, "web").await;
    let patched = app
        .patch_as(
            &format!("/v1/admin/applications/{}", client.id),
            &app.admin_key,
            json!({ "access_token_ttl_secs": 10 }),
        )
        .await;
    assert_eq!(patched.status, 400, "{}", patched.body);
}

async fn the_instance_lowering_its_lifetime_caps_the_application(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.tokens.access_token_ttl_secs = 600;
    let app = spawn_app_with(backend, config.clone()).await;
    let client = register_with_ttl(
        &app,
        json!({ "name": "Long", "kind": "web", "redirect_uris": [REDIRECT],
                "access_token_ttl_secs": 500 }),
    )
    .await;
    assert_eq!(lifetime(&signed_in(&app, &client).await.access), 500);
    config.tokens.access_token_ttl_secs = 120;
    app.app.config.store(std::sync::Arc::new(config));
    assert_eq!(lifetime(&signed_in(&app, &client).await.access), 120);
}

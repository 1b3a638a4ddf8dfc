//! The configuration's switches that the instance enforces: sign-in methods, signup and its
//! fields, the idle session timeout, the admin IP allowlist, custom roles, and the public
//! configuration the SDK renders from.

use authstack_instance::config::{FieldRule, InstanceConfig};
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app, spawn_app_with};

backend_tests!(
    signup_and_password_sign_in_can_be_turned_off,
    signup_fields_are_required_or_refused,
    an_idle_session_ends,
    the_admin_api_answers_only_allowed_networks,
    custom_roles_can_be_turned_off,
    the_public_configuration_shows_what_a_login_page_needs,
);

async fn signup_and_password_sign_in_can_be_turned_off(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.auth.signup.enabled = false;
    let app = spawn_app_with(backend.clone(), config).await;
    app.post(
        "/v1/auth/signup",
        json!({ "email": "a@example.com", "password": "correct horse battery" }),
    )
    .await
    .assert_error(403, "signup_disabled");
    // Users created otherwise (admin API, invitations) still sign in.
    assert_eq!(
        app.register("b@example.com", "correct horse battery")
            .await
            .status,
        200
    );

    let mut config = InstanceConfig::default();
    config.auth.methods.password = false;
    config.auth.methods.magic_link = true;
    let app = spawn_app_with(backend, config).await;
    app.login("b@example.com", "correct horse battery")
        .await
        .assert_error(403, "method_disabled");
}

async fn signup_fields_are_required_or_refused(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    config.auth.signup.fields.phone = FieldRule::Required;
    let app = spawn_app_with(backend.clone(), config).await;
    let body = |phone: Option<&str>| {
        let mut body = json!({ "email": "p@example.com", "password": "correct horse battery" });
        if let Some(phone) = phone {
            body["phone"] = json!(phone);
        }
        body
    };
    app.post("/v1/auth/signup", body(None))
        .await
        .assert_error(400, "invalid_request");
    app.post("/v1/auth/signup", body(Some("12345")))
        .await
        .assert_error(400, "invalid_request");
    let created = app
        .post("/v1/auth/signup", body(Some("+49 151 1234 5678")))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let me = app.get_as("/v1/me", &created.access_token()).await;
    assert_eq!(
        me.body["metadata"]["phone"], "+4915112345678",
        "{}",
        me.body
    );

    // Off by default: a phone is refused rather than silently dropped.
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    let app = spawn_app_with(backend, config).await;
    app.post("/v1/auth/signup", body(Some("+4915112345678")))
        .await
        .assert_error(400, "invalid_request");
}

async fn an_idle_session_ends(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.tokens.session_idle_timeout_secs = Some(600);
    let app = spawn_app_with(backend, config).await;
    let session = app
        .register("idle@example.com", "correct horse battery")
        .await;
    let refresh = session.str("refresh_token");
    app.clock.advance(300);
    let refreshed = app
        .post("/v1/auth/refresh", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    app.clock.advance(601);
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": refreshed.str("refresh_token") }),
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn the_admin_api_answers_only_allowed_networks(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.security.admin_ip_allowlist = vec!["10.0.0.0/8".into()];
    let app = spawn_app_with(backend.clone(), config).await;
    app.get_as("/v1/admin/users", &app.admin_key)
        .await
        .assert_error(403, "ip_not_allowed");

    let mut config = InstanceConfig::default();
    config.security.admin_ip_allowlist = vec!["10.0.0.0/8".into(), "127.0.0.0/8".into()];
    let app = spawn_app_with(backend, config).await;
    assert_eq!(
        app.get_as("/v1/admin/users", &app.admin_key).await.status,
        200
    );
}

async fn custom_roles_can_be_turned_off(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.organizations.custom_roles = false;
    let app = spawn_app_with(backend, config).await;
    let token = app
        .register("roles@example.com", "correct horse battery")
        .await
        .access_token();
    let org = app.create_org(&token, "Acme").await;
    app.post_as(
        &format!("/v1/organizations/{org}/roles"),
        &token,
        json!({ "key": "auditor", "name": "Auditor", "permissions": ["audit:read"] }),
    )
    .await
    .assert_error(403, "custom_roles_disabled");
}

async fn the_public_configuration_shows_what_a_login_page_needs(backend: Backend) {
    let app = spawn_app(backend).await;
    let shown = app.get("/v1/config/public").await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["branding"]["primary_color"], "#4f46e5");
    assert_eq!(shown.body["methods"]["password"], true);
    assert_eq!(shown.body["password_policy"]["min_length"], 8);
    assert!(shown.body["captcha"].is_null());
    let expected = serde_json::to_value(authstack_instance::public_config::of(
        &InstanceConfig::default(),
    ))
    .expect("json");
    assert_eq!(shown.body, expected);
}

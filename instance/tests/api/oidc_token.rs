//! The token endpoint under attack: replayed and foreign codes, PKCE failures, client
//! authentication failures, expiry, and malformed requests (always an RFC 6749 error, never 500).
//!
//! - `a_replayed_code_fails_and_revokes_what_the_first_redemption_issued`
//! - `a_code_is_bound_to_its_client_and_redirect_uri`
//! - `pkce_verifiers_must_match`
//! - `client_authentication_failures_are_invalid_client`
//! - `an_expired_code_is_refused`
//! - `expired_flows_and_codes_are_swept`
//! - `malformed_token_requests_get_rfc_6749_errors`

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::oidc_support::*;

backend_tests!(
    a_replayed_code_fails_and_revokes_what_the_first_redemption_issued,
    a_code_is_bound_to_its_client_and_redirect_uri,
    pkce_verifiers_must_match,
    client_authentication_failures_are_invalid_client,
    an_expired_code_is_refused,
    expired_flows_and_codes_are_swept,
    malformed_token_requests_get_rfc_6749_errors,
);

async fn signed_in_code(app: &TestApp, client: &Registered, pkce: Option<&Pkce>) -> String {
    let email = format!("u{}@example.com", uuid::Uuid::new_v4().simple());
    verified_user(app, &email).await;
    sign_in(app, &authorize_query(client, pkce, &[]), &email)
        .await
        .code
}

async fn a_replayed_code_fails_and_revokes_what_the_first_redemption_issued(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let code = signed_in_code(&app, &client, None).await;
    let first = redeem(&app, &client, &code).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let access = first.str("access_token");
    assert_eq!(userinfo(&app, &access).await.status, 200);
    assert_oauth_error(&redeem(&app, &client, &code).await, 400, "invalid_grant");
    assert_oauth_error(&userinfo(&app, &access).await, 401, "invalid_token");
    let reply = userinfo(&app, &access).await;
    assert!(
        reply.headers["www-authenticate"]
            .to_str()
            .is_ok_and(|v| v.starts_with("Bearer")),
    );
}

async fn a_code_is_bound_to_its_client_and_redirect_uri(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let other = register(&app, "web").await;
    let code = signed_in_code(&app, &client, None).await;
    assert_oauth_error(&redeem(&app, &other, &code).await, 400, "invalid_grant");
    // The attempt used the code up.
    assert_oauth_error(&redeem(&app, &client, &code).await, 400, "invalid_grant");

    let code = signed_in_code(&app, &client, None).await;
    let secret = client.secret.as_deref().unwrap_or_default();
    let reply = token(
        &app,
        Some((&client.id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9999/cb"),
        ],
    )
    .await;
    assert_oauth_error(&reply, 400, "invalid_grant");
}

async fn pkce_verifiers_must_match(backend: Backend) {
    let app = spawn_app(backend).await;
    let spa = register(&app, "spa").await;
    let web = register(&app, "web").await;
    let pkce = pkce();
    let public = |code: String, verifier: Option<String>| {
        let spa = spa.clone();
        let app = &app;
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", REDIRECT.to_owned()),
                ("client_id", spa.id.clone()),
            ];
            if let Some(verifier) = verifier {
                form.push(("code_verifier", verifier));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
            token(app, None, &form).await
        }
    };
    let code = signed_in_code(&app, &spa, Some(&pkce)).await;
    assert_oauth_error(&public(code, None).await, 400, "invalid_grant");
    let code = signed_in_code(&app, &spa, Some(&pkce)).await;
    assert_oauth_error(
        &public(
            code,
            Some(format!("{}A", &pkce.verifier[..pkce.verifier.len() - 1])),
        )
        .await,
        400,
        "invalid_grant",
    );
    let code = signed_in_code(&app, &spa, Some(&pkce)).await;
    assert_oauth_error(
        &public(code, Some(pkce.challenge.clone())).await,
        400,
        "invalid_grant",
    );
    let code = signed_in_code(&app, &spa, Some(&pkce)).await;
    assert_eq!(public(code, Some(pkce.verifier.clone())).await.status, 200);

    // A confidential client that sent a challenge must send its verifier; one that did not
    // may not send a verifier.
    let code = signed_in_code(&app, &web, Some(&pkce)).await;
    assert_oauth_error(&redeem(&app, &web, &code).await, 400, "invalid_grant");
    let code = signed_in_code(&app, &web, None).await;
    let secret = web.secret.as_deref().unwrap_or_default();
    let reply = token(
        &app,
        Some((&web.id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_oauth_error(&reply, 400, "invalid_grant");
    let code = signed_in_code(&app, &web, Some(&pkce)).await;
    let reply = token(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
            ("client_id", &web.id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "client_secret_post with PKCE: {}",
        reply.body
    );
}

async fn client_authentication_failures_are_invalid_client(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let spa = register(&app, "spa").await;
    let code = signed_in_code(&app, &web, None).await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let basic_failures = [
        (web.id.as_str(), "acs_wrong"),
        (web.id.as_str(), ""),
        ("app_unknown", "acs_wrong"),
    ];
    for (id, secret) in basic_failures {
        let reply = token(&app, Some((id, secret)), &grant).await;
        assert_oauth_error(&reply, 401, "invalid_client");
        assert!(
            reply.headers["www-authenticate"]
                .to_str()
                .is_ok_and(|v| v.starts_with("Basic")),
            "{id}"
        );
    }
    let mut posted = grant.to_vec();
    posted.extend([
        ("client_id", web.id.as_str()),
        ("client_secret", "acs_wrong"),
    ]);
    assert_oauth_error(&token(&app, None, &posted).await, 401, "invalid_client");
    let mut none = grant.to_vec();
    none.push(("client_id", web.id.as_str()));
    assert_oauth_error(&token(&app, None, &none).await, 401, "invalid_client");
    assert_oauth_error(&token(&app, None, &grant).await, 401, "invalid_client");
    let mut public_with_secret = grant.to_vec();
    public_with_secret.extend([
        ("client_id", spa.id.as_str()),
        ("client_secret", "acs_anything"),
    ]);
    assert_oauth_error(
        &token(&app, None, &public_with_secret).await,
        401,
        "invalid_client",
    );
    // The code survived all of that: none of the attempts authenticated.
    assert_eq!(redeem(&app, &web, &code).await.status, 200);
}

async fn an_expired_code_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let code = signed_in_code(&app, &client, None).await;
    app.clock.advance(301);
    assert_oauth_error(&redeem(&app, &client, &code).await, 400, "invalid_grant");
}

/// The instance's minute sweep drops flows once expired and codes an hour after: a code is
/// kept that long so that its replay is still recognised.
async fn expired_flows_and_codes_are_swept(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let code = signed_in_code(&app, &client, None).await;
    let db = &app.app.db;
    let now = app.app.clock.now();
    assert_eq!(
        authstack_instance::flow::delete_expired(db, now).await.ok(),
        Some(0)
    );
    assert_eq!(
        authstack_instance::oidc::delete_expired_codes(db, now + 3600)
            .await
            .ok(),
        Some(0)
    );
    // The flow lives 15 minutes; the code 5 minutes, then one hour more.
    assert!(
        authstack_instance::flow::delete_expired(db, now + 901)
            .await
            .is_ok_and(|n| n >= 1)
    );
    assert_eq!(
        authstack_instance::oidc::delete_expired_codes(db, now + 301 + 3600)
            .await
            .ok(),
        Some(1)
    );
    assert_oauth_error(&redeem(&app, &client, &code).await, 400, "invalid_grant");
}

async fn malformed_token_requests_get_rfc_6749_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let secret = client.secret.clone().unwrap_or_default();
    let basic = Some((client.id.as_str(), secret.as_str()));
    assert_oauth_error(&token(&app, basic, &[]).await, 400, "invalid_request");
    assert_oauth_error(
        &token(&app, basic, &[("grant_type", "password")]).await,
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        &token(
            &app,
            basic,
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        )
        .await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &token(&app, basic, &[("grant_type", "client_credentials")]).await,
        400,
        "unauthorized_client",
    );
    assert_oauth_error(
        &token(&app, basic, &[("grant_type", "authorization_code")]).await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &token(
            &app,
            basic,
            &[("grant_type", "authorization_code"), ("code", "ac_x")],
        )
        .await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &token(
            &app,
            basic,
            &[
                ("grant_type", "authorization_code"),
                ("code", "nonsense"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &token(
            &app,
            basic,
            &[
                ("grant_type", "authorization_code"),
                ("grant_type", "authorization_code"),
            ],
        )
        .await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &token(
            &app,
            basic,
            &[
                ("grant_type", "authorization_code"),
                ("client_secret", &secret),
                ("code", "x"),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await,
        400,
        "invalid_request",
    );
    let http = browser();
    let json = http
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"authorization_code"}"#)
        .send()
        .await
        .expect("request");
    assert_oauth_error(
        &crate::helpers::Reply::from(json).await,
        400,
        "invalid_request",
    );
    for header in ["Basic !!!", "Basic Zm9v", "Bearer x", "Basic"] {
        let reply = http
            .post(app.url("/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", header)
            .body("grant_type=authorization_code&code=x&redirect_uri=x")
            .send()
            .await
            .expect("request");
        assert_oauth_error(
            &crate::helpers::Reply::from(reply).await,
            401,
            "invalid_client",
        );
    }
    let binary = http
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', b'&', b'%', b'z'])
        .send()
        .await
        .expect("request");
    let binary = crate::helpers::Reply::from(binary).await;
    assert!(
        binary.status == 400 || binary.status == 401,
        "{}",
        binary.status
    );
    let get = app.get("/oauth2/token").await;
    assert!(get.status == 405, "{}", get.status);
}

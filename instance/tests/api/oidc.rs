//! The OpenID Provider: discovery, the authorization endpoint, the hosted sign-in page, and the
//! happy paths of the code flow (token endpoint attacks are in `oidc_token.rs`).
//!
//! - `discovery_lists_what_is_implemented`
//! - `a_confidential_client_signs_a_user_in_and_reads_userinfo`
//! - `a_public_client_signs_in_with_pkce_and_no_secret`
//! - `the_sso_session_answers_at_once_unless_prompt_login_or_max_age`
//! - `prompt_none_without_a_session_is_login_required`
//! - `unknown_clients_and_unregistered_redirect_uris_get_an_error_page`
//! - `other_request_errors_go_back_to_the_client`
//! - `the_sign_in_form_refuses_a_missing_or_foreign_csrf_token`
//! - `failed_sign_ins_do_not_tell_whether_the_account_exists`
//! - `an_unverified_address_cannot_complete_the_flow`

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app};
use crate::oidc_support::*;

backend_tests!(
    discovery_lists_what_is_implemented,
    a_confidential_client_signs_a_user_in_and_reads_userinfo,
    a_public_client_signs_in_with_pkce_and_no_secret,
    the_sso_session_answers_at_once_unless_prompt_login_or_max_age,
    prompt_none_without_a_session_is_login_required,
    unknown_clients_and_unregistered_redirect_uris_get_an_error_page,
    other_request_errors_go_back_to_the_client,
    the_sign_in_form_refuses_a_missing_or_foreign_csrf_token,
    failed_sign_ins_do_not_tell_whether_the_account_exists,
    an_unverified_address_cannot_complete_the_flow,
);

async fn discovery_lists_what_is_implemented(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.get("/.well-known/openid-configuration").await;
    let issuer = app.app.issuer.as_str();
    assert_eq!(doc.body["issuer"], issuer);
    assert_eq!(
        doc.body["authorization_endpoint"],
        format!("{issuer}/oauth2/authorize")
    );
    assert_eq!(doc.body["token_endpoint"], format!("{issuer}/oauth2/token"));
    assert_eq!(
        doc.body["userinfo_endpoint"],
        format!("{issuer}/oauth2/userinfo")
    );
    assert_eq!(
        doc.body["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json")
    );
    assert_eq!(doc.body["response_types_supported"], json!(["code"]));
    assert_eq!(
        doc.body["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        doc.body["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        doc.body["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc.body["authorization_response_iss_parameter_supported"],
        true
    );
    for (field, path) in [
        ("revocation_endpoint", "revoke"),
        ("introspection_endpoint", "introspect"),
        ("end_session_endpoint", "logout"),
    ] {
        assert_eq!(doc.body[field], format!("{issuer}/oauth2/{path}"));
    }
    assert_eq!(
        doc.body["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    // Nothing is listed that is not implemented.
    for absent in [
        "registration_endpoint",
        "check_session_iframe",
        "frontchannel_logout_supported",
    ] {
        assert!(doc.body.get(absent).is_none(), "{absent}");
    }
    // Back-channel logout is (oidc_backchannel.rs).
    assert_eq!(doc.body["backchannel_logout_supported"], true);
}

async fn a_confidential_client_signs_a_user_in_and_reads_userinfo(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let user_id = verified_user(&app, "ada@example.com").await;
    let signed = sign_in(
        &app,
        &authorize_query(&client, None, &[]),
        "ada@example.com",
    )
    .await;
    assert_eq!(signed.callback.param("state").as_deref(), Some("st-123"));
    assert_eq!(
        signed.callback.param("iss").as_deref(),
        Some(app.app.issuer.as_str())
    );
    assert!(signed.sso.starts_with("__Host-authstack_session="));
    let set = signed.callback.cookies.join("\n");
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Lax")
            && set.contains("Secure")
            && set.contains("Path=/"),
        "{set}"
    );

    let tokens = redeem(&app, &client, &signed.code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.headers["cache-control"], "no-store");
    assert_eq!(tokens.body["token_type"], "Bearer");
    assert!(tokens.body["expires_in"].as_i64().is_some_and(|s| s > 0));
    let id = claims(&tokens.str("id_token"));
    assert_eq!(id["iss"], app.app.issuer.as_str());
    assert_eq!(id["sub"], user_id.as_str());
    assert_eq!(id["aud"], client.id.as_str());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["amr"], json!(["pwd"]));
    assert_eq!(id["email"], "ada@example.com");
    assert_eq!(id["email_verified"], true);
    assert!(id["sid"].as_str().is_some_and(|s| s.starts_with("ses_")));
    assert!(id["auth_time"].as_i64().is_some() && id["at_hash"].is_string());
    let access = tokens.str("access_token");
    assert_eq!(claims(&access)["aud"], client.id.as_str());

    let info = userinfo(&app, &access).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(
        info.body,
        json!({ "sub": user_id, "email": "ada@example.com", "email_verified": true })
    );
    // The application's token is not an API token of the instance, and vice versa.
    app.get_as("/v1/me", &access)
        .await
        .assert_error(401, "unauthorized");
    let api = app.login("ada@example.com", PASSWORD).await.access_token();
    assert_oauth_error(&userinfo(&app, &api).await, 401, "invalid_token");
    assert_oauth_error(&userinfo(&app, "garbage").await, 401, "invalid_token");
}

async fn a_public_client_signs_in_with_pkce_and_no_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "spa").await;
    verified_user(&app, "bo@example.com").await;
    let pkce = pkce();
    let signed = sign_in(
        &app,
        &authorize_query(&client, Some(&pkce), &[("scope", "openid")]),
        "bo@example.com",
    )
    .await;
    let tokens = token(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &signed.code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let id = claims(&tokens.str("id_token"));
    assert!(id.get("email").is_none(), "no email scope: {id}");
    let info = userinfo(&app, &tokens.str("access_token")).await;
    assert_eq!(info.status, 200);
    assert!(info.body.get("email").is_none());
}

async fn the_sso_session_answers_at_once_unless_prompt_login_or_max_age(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    verified_user(&app, "cy@example.com").await;
    let signed = sign_in(&app, &authorize_query(&client, None, &[]), "cy@example.com").await;
    let again = get(
        &app,
        &format!("/oauth2/authorize?{}", authorize_query(&client, None, &[])),
        Some(&signed.sso),
    )
    .await;
    assert_eq!(again.status, 303);
    assert!(again.location.starts_with(REDIRECT), "{}", again.location);
    let code = again.param("code").expect("a code at once");
    assert_eq!(redeem(&app, &client, &code).await.status, 200);
    let none = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("prompt", "none")])
        ),
        Some(&signed.sso),
    )
    .await;
    assert!(none.param("code").is_some(), "{}", none.location);

    let forced = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("prompt", "login")])
        ),
        Some(&signed.sso),
    )
    .await;
    assert!(
        forced.location.contains("/login?flow="),
        "{}",
        forced.location
    );
    app.clock.advance(120);
    let stale = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("max_age", "60")])
        ),
        Some(&signed.sso),
    )
    .await;
    assert!(
        stale.location.contains("/login?flow="),
        "{}",
        stale.location
    );
    let stale_none = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("max_age", "60"), ("prompt", "none")])
        ),
        Some(&signed.sso),
    )
    .await;
    assert_eq!(stale_none.param("error").as_deref(), Some("login_required"));
    let fresh_enough = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("max_age", "3600")])
        ),
        Some(&signed.sso),
    )
    .await;
    assert!(
        fresh_enough.param("code").is_some(),
        "{}",
        fresh_enough.location
    );

    // login_hint prefills the address.
    let hinted = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("login_hint", "cy@example.com")])
        ),
        None,
    )
    .await;
    let page = open_login(&app, &hinted.location).await;
    assert!(
        page.hop.html.contains("value=\"cy@example.com\""),
        "{}",
        page.hop.html
    );
    assert!(page.hop.html.contains("<label for=\"password\">"));
}

async fn prompt_none_without_a_session_is_login_required(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let reply = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("prompt", "none")])
        ),
        None,
    )
    .await;
    assert_eq!(reply.status, 303);
    assert!(reply.location.starts_with(REDIRECT));
    assert_eq!(reply.param("error").as_deref(), Some("login_required"));
    assert_eq!(reply.param("state").as_deref(), Some("st-123"));
    assert_eq!(reply.param("iss").as_deref(), Some(app.app.issuer.as_str()));
    // A cookie that names no session is no session.
    let forged = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(&client, None, &[("prompt", "none")])
        ),
        Some("__Host-authstack_session=bs_forged"),
    )
    .await;
    assert_eq!(forged.param("error").as_deref(), Some("login_required"));
}

async fn unknown_clients_and_unregistered_redirect_uris_get_an_error_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let unknown = get(
        &app,
        &format!(
            "/oauth2/authorize?{}",
            query(&[
                ("response_type", "code"),
                ("client_id", "app_nope"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid")
            ])
        ),
        None,
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.location.is_empty());
    assert!(unknown.html.contains("cannot be used"));
    for uri in [
        "https://app.example.com.evil.com/callback",
        "https://app.example.com/callback/extra",
        "https://app.example.com:8443/callback",
        "https://APP.example.com/callback",
        "https://app.example.com/Callback",
        "https://app.example.com/callback/",
        "https://app.example.com/%63allback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/callback#frag",
        "http://app.example.com/callback",
        "javascript:alert(1)//https://app.example.com/callback",
        "",
    ] {
        let q = query(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", uri),
            ("scope", "openid"),
        ]);
        let reply = get(&app, &format!("/oauth2/authorize?{q}"), None).await;
        assert_eq!(reply.status, 400, "{uri}");
        assert!(reply.location.is_empty(), "{uri} was redirected to");
        assert!(reply.html.contains("return address"), "{uri}");
    }
    let twice = format!(
        "/oauth2/authorize?{}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        authorize_query(&client, None, &[])
    );
    let reply = get(&app, &twice, None).await;
    assert_eq!(reply.status, 400);
    assert!(reply.location.is_empty());
}

async fn other_request_errors_go_back_to_the_client(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let spa = register(&app, "spa").await;
    let pkce = pkce();
    for (client, pkce, extra, error) in [
        (&web, None, vec![("scope", "email")], "invalid_scope"),
        (
            &web,
            None,
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            &web,
            Some(&pkce),
            vec![("code_challenge_method", "plain")],
            "invalid_request",
        ),
        (&spa, None, vec![], "invalid_request"),
        (
            &web,
            None,
            vec![("code_challenge", pkce.challenge.as_str())],
            "invalid_request",
        ),
        (
            &web,
            None,
            vec![("prompt", "none login")],
            "invalid_request",
        ),
        (&web, None, vec![("max_age", "soon")], "invalid_request"),
        (
            &web,
            None,
            vec![("request", "eyJ")],
            "request_not_supported",
        ),
    ] {
        let q = authorize_query(client, pkce, &extra);
        let reply = get(&app, &format!("/oauth2/authorize?{q}"), None).await;
        assert_eq!(reply.status, 303, "{extra:?}: {}", reply.html);
        assert!(reply.location.starts_with(REDIRECT), "{extra:?}");
        assert_eq!(reply.param("error").as_deref(), Some(error), "{extra:?}");
        assert!(reply.param("error_description").is_some());
        assert_eq!(reply.param("state").as_deref(), Some("st-123"));
        assert_eq!(reply.param("iss").as_deref(), Some(app.app.issuer.as_str()));
    }
}

async fn the_sign_in_form_refuses_a_missing_or_foreign_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    verified_user(&app, "di@example.com").await;
    let q = authorize_query(&client, None, &[]);
    let first = get(&app, &format!("/oauth2/authorize?{q}"), None).await;
    let second = get(&app, &format!("/oauth2/authorize?{q}"), None).await;
    let page = open_login(&app, &first.location).await;
    assert!(
        page.hop.csp.contains("default-src 'none'")
            && page
                .hop
                .csp
                .contains("form-action 'self' https://app.example.com;")
            && page.hop.csp.contains("frame-ancestors 'none'"),
        "{}",
        page.hop.csp
    );
    assert!(!page.hop.html.contains("<script"));
    let other = open_login(&app, &second.location).await;
    let form = |csrf: &str| {
        vec![
            ("flow".to_owned(), page.flow.clone()),
            ("csrf".to_owned(), csrf.to_owned()),
            ("method".to_owned(), "password".to_owned()),
            ("email".to_owned(), "di@example.com".to_owned()),
            ("password".to_owned(), PASSWORD.to_owned()),
        ]
    };
    let send = |cookie: Option<String>, csrf: String| {
        let app = &app;
        let fields = form(&csrf);
        async move {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            post_form(app, "/login", cookie.as_deref(), &fields).await
        }
    };
    for (cookie, csrf) in [
        (None, page.csrf.clone()),
        (Some(page.cookie.clone()), String::new()),
        (Some(page.cookie.clone()), other.csrf.clone()),
        (Some(other.cookie.clone()), other.csrf.clone()),
        (Some(page.cookie.clone()), format!("{}x", page.csrf)),
    ] {
        let reply = send(cookie.clone(), csrf.clone()).await;
        assert_eq!(reply.status, 403, "{cookie:?} {csrf}: {}", reply.html);
        assert!(reply.cookie("__Host-authstack_session").is_none());
    }
    // The right token still works.
    let done = submit_login(&app, &page, "di@example.com", PASSWORD).await;
    assert_eq!(done.status, 303, "{}", done.html);
    assert!(done.location.starts_with(REDIRECT));
    // A completed flow cannot be used again.
    let replay = submit_login(&app, &page, "di@example.com", PASSWORD).await;
    assert_eq!(replay.status, 400);
    assert!(replay.html.contains("expired or was completed"));
}

async fn failed_sign_ins_do_not_tell_whether_the_account_exists(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    verified_user(&app, "ed@example.com").await;
    let start = get(
        &app,
        &format!("/oauth2/authorize?{}", authorize_query(&client, None, &[])),
        None,
    )
    .await;
    let page = open_login(&app, &start.location).await;
    assert!(
        page.hop
            .html
            .contains("<form method=\"post\" action=\"login\">"),
        "{}",
        page.hop.html
    );
    let wrong = submit_login(&app, &page, "ed@example.com", "not the password").await;
    assert_eq!(wrong.status, 401);
    // Each answer carries a fresh form (and CSRF token).
    let page = crate::oidc_support::LoginPage {
        flow: hidden(&wrong.html, "flow"),
        csrf: hidden(&wrong.html, "csrf"),
        cookie: wrong.cookie("__Host-authstack_flow").expect("cookie"),
        hop: get(&app, "/healthz", None).await,
    };
    let unknown = submit_login(&app, &page, "nobody@example.com", "not the password").await;
    assert_eq!(unknown.status, 401);
    let message = |html: &str| {
        html.split("role=\"alert\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .map(str::to_owned)
    };
    assert_eq!(message(&wrong.html), message(&unknown.html));
    assert_eq!(
        message(&wrong.html).as_deref(),
        Some("The email address or password is incorrect.")
    );
}

async fn an_unverified_address_cannot_complete_the_flow(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    let created = app
        .post_as(
            "/v1/admin/users",
            &app.admin_key,
            json!({ "email": "fi@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(created.status, 201);
    let start = get(
        &app,
        &format!("/oauth2/authorize?{}", authorize_query(&client, None, &[])),
        None,
    )
    .await;
    let page = open_login(&app, &start.location).await;
    let reply = submit_login(&app, &page, "fi@example.com", PASSWORD).await;
    assert_eq!(reply.status, 403, "{}", reply.html);
    assert!(reply.html.contains("Verify your email address"));
    assert!(reply.cookie("__Host-authstack_session").is_none());
}

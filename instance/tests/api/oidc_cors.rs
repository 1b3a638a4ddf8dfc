//! CORS on the endpoints browser applications call themselves (token, revocation, userinfo):
//! answered per application from its `allowed_cors_origins`, and how those are registered.
//!
//! - `a_listed_origin_reads_its_spas_token_answers`
//! - `an_unlisted_origin_reads_nothing`
//! - `another_applications_origin_reads_nothing_of_this_one`
//! - `preflights_are_admitted_for_origins_an_application_lists`
//! - `confidential_applications_have_no_origins`
//! - `origins_are_validated_and_normalised`

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, Reply, TestApp, spawn_app};
use crate::oidc_support::*;

backend_tests!(
    a_listed_origin_reads_its_spas_token_answers,
    an_unlisted_origin_reads_nothing,
    another_applications_origin_reads_nothing_of_this_one,
    preflights_are_admitted_for_origins_an_application_lists,
    confidential_applications_have_no_origins,
    origins_are_validated_and_normalised,
);

const SPA_ORIGIN: &str = "https://spa.example.com";
const OTHER_ORIGIN: &str = "https://other.example.com";
const EVIL_ORIGIN: &str = "https://evil.example";

async fn create(app: &TestApp, body: Value) -> Reply {
    app.post_as("/v1/admin/applications", &app.admin_key, body)
        .await
}

/// A public application of `kind` with the standard redirect URI and `origins`.
async fn public_app(app: &TestApp, kind: &str, origins: &[&str]) -> Registered {
    let reply = create(
        app,
        json!({ "name": "browser app", "kind": kind, "redirect_uris": [REDIRECT],
                "allowed_cors_origins": origins }),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["allowed_cors_origins"], json!(origins));
    Registered {
        id: reply.str("id"),
        secret: None,
    }
}

/// A form post from a browser at `origin` as the public `client` (`client_id` in the form).
async fn post_from(
    app: &TestApp,
    path: &str,
    client: &Registered,
    origin: &str,
    form: &[(&str, &str)],
) -> Reply {
    let mut form = form.to_vec();
    form.push(("client_id", client.id.as_str()));
    let response = browser()
        .post(app.url(path))
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(&form))
        .send()
        .await
        .expect("request");
    Reply::from(response).await
}

/// Signs a new user in to `client` and redeems the code from a browser at `origin`.
async fn exchange_from(app: &TestApp, client: &Registered, origin: &str) -> Reply {
    let email = format!("u{}@example.com", uuid::Uuid::new_v4().simple());
    verified_user(app, &email).await;
    let pkce = pkce();
    let done = sign_in(app, &authorize_query(client, Some(&pkce), &[]), &email).await;
    let reply = post_from(
        app,
        "/oauth2/token",
        client,
        origin,
        &[
            ("grant_type", "authorization_code"),
            ("code", &done.code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

fn allowed_origin(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get("access-control-allow-origin")
        .map(|v| v.to_str().expect("text"))
}

#[track_caller]
fn assert_readable_by(reply: &Reply, origin: &str) {
    assert_eq!(allowed_origin(reply), Some(origin), "{:?}", reply.headers);
    let vary: Vec<&str> = reply
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().expect("text"))
        .collect();
    assert!(vary.iter().any(|v| v.contains("Origin")), "{vary:?}");
}

#[track_caller]
fn assert_unreadable(reply: &Reply) {
    assert_eq!(allowed_origin(reply), None, "{:?}", reply.headers);
}

async fn userinfo_from(app: &TestApp, access_token: &str, origin: &str) -> Reply {
    let response = browser()
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(access_token)
        .header("origin", origin)
        .send()
        .await
        .expect("request");
    Reply::from(response).await
}

async fn a_listed_origin_reads_its_spas_token_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let spa = public_app(&app, "spa", &[SPA_ORIGIN, "http://localhost:5173"]).await;
    let tokens = exchange_from(&app, &spa, SPA_ORIGIN).await;
    assert_readable_by(&tokens, SPA_ORIGIN);
    assert!(tokens.body["access_token"].is_string(), "{}", tokens.body);

    // Its errors too, so the application can tell why (here: a refresh token that is not one).
    let refused = post_from(
        &app,
        "/oauth2/token",
        &spa,
        "http://localhost:5173",
        &[("grant_type", "refresh_token"), ("refresh_token", "rt_x")],
    )
    .await;
    assert_oauth_error(&refused, 400, "invalid_grant");
    assert_readable_by(&refused, "http://localhost:5173");

    let info = userinfo_from(&app, &tokens.str("access_token"), SPA_ORIGIN).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_readable_by(&info, SPA_ORIGIN);

    let refresh = tokens.str("refresh_token");
    let revoked = post_from(
        &app,
        "/oauth2/revoke",
        &spa,
        SPA_ORIGIN,
        &[("token", &refresh)],
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_readable_by(&revoked, SPA_ORIGIN);
    // A native application may list origins as well (a webview's, a desktop shell's).
    let native = public_app(&app, "native", &["http://127.0.0.1:8123"]).await;
    let answer = exchange_from(&app, &native, "http://127.0.0.1:8123").await;
    assert_readable_by(&answer, "http://127.0.0.1:8123");
}

async fn an_unlisted_origin_reads_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let spa = public_app(&app, "spa", &[SPA_ORIGIN]).await;
    let tokens = exchange_from(&app, &spa, EVIL_ORIGIN).await;
    assert_unreadable(&tokens);
    // Not even a prefix or a different scheme or port of a listed origin.
    for near in [
        "https://spa.example.com.evil.example",
        "http://spa.example.com",
        "https://spa.example.com:8443",
    ] {
        let refreshed = post_from(
            &app,
            "/oauth2/token",
            &spa,
            near,
            &[("grant_type", "refresh_token"), ("refresh_token", "rt_x")],
        )
        .await;
        assert_unreadable(&refreshed);
    }
    let info = userinfo_from(&app, &tokens.str("access_token"), EVIL_ORIGIN).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_unreadable(&info);
    let revoked = post_from(&app, "/oauth2/revoke", &spa, EVIL_ORIGIN, &[("token", "x")]).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_unreadable(&revoked);
    // The authorization endpoint is a navigation: no CORS, whatever the origin.
    let authorize = browser()
        .get(app.url(&format!(
            "/oauth2/authorize?{}",
            authorize_query(&spa, Some(&pkce()), &[])
        )))
        .header("origin", SPA_ORIGIN)
        .send()
        .await
        .expect("authorize");
    assert!(
        !authorize
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

async fn another_applications_origin_reads_nothing_of_this_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let spa = public_app(&app, "spa", &[SPA_ORIGIN]).await;
    let _other = public_app(&app, "spa", &[OTHER_ORIGIN]).await;
    let tokens = exchange_from(&app, &spa, OTHER_ORIGIN).await;
    assert_unreadable(&tokens);
    let info = userinfo_from(&app, &tokens.str("access_token"), OTHER_ORIGIN).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_unreadable(&info);
    // The same token read from its own application's origin is readable.
    let own = userinfo_from(&app, &tokens.str("access_token"), SPA_ORIGIN).await;
    assert_readable_by(&own, SPA_ORIGIN);
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    browser()
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight")
}

async fn preflights_are_admitted_for_origins_an_application_lists(backend: Backend) {
    let app = spawn_app(backend).await;
    public_app(&app, "spa", &[SPA_ORIGIN]).await;
    public_app(&app, "native", &[OTHER_ORIGIN]).await;
    for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/userinfo"] {
        for origin in [SPA_ORIGIN, OTHER_ORIGIN] {
            let admitted = preflight(&app, path, origin).await;
            assert_eq!(admitted.status(), 204, "{path}");
            let headers = admitted.headers();
            assert_eq!(headers["access-control-allow-origin"], origin, "{path}");
            assert_eq!(headers["vary"], "Origin");
            assert_eq!(headers["access-control-allow-methods"], "GET, POST");
            assert_eq!(
                headers["access-control-allow-headers"],
                "authorization, content-type"
            );
            assert_eq!(headers["access-control-max-age"], "600");
        }
        let refused = preflight(&app, path, EVIL_ORIGIN).await;
        assert_eq!(refused.status(), 204, "{path}");
        assert!(
            !refused
                .headers()
                .contains_key("access-control-allow-origin"),
            "{path}"
        );
        assert!(
            !refused
                .headers()
                .contains_key("access-control-allow-methods")
        );
    }
    // An emptied list admits nothing.
    let listed = create(
        &app,
        json!({ "name": "later", "kind": "spa", "allowed_cors_origins": ["https://later.example"] }),
    )
    .await;
    assert_eq!(listed.status, 201, "{}", listed.body);
    let before = preflight(&app, "/oauth2/token", "https://later.example").await;
    assert!(before.headers().contains_key("access-control-allow-origin"));
    let emptied = app
        .patch_as(
            &format!("/v1/admin/applications/{}", listed.str("id")),
            &app.admin_key,
            json!({ "allowed_cors_origins": [] }),
        )
        .await;
    assert_eq!(emptied.status, 200, "{}", emptied.body);
    let after = preflight(&app, "/oauth2/token", "https://later.example").await;
    assert!(!after.headers().contains_key("access-control-allow-origin"));
    // Where there is no CORS, there is no preflight answer either.
    let authorize = preflight(&app, "/oauth2/authorize", SPA_ORIGIN).await;
    assert!(
        !authorize
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let login = preflight(&app, "/login", SPA_ORIGIN).await;
    assert!(!login.headers().contains_key("access-control-allow-origin"));
}

async fn confidential_applications_have_no_origins(backend: Backend) {
    let app = spawn_app(backend).await;
    for kind in ["web", "machine"] {
        let mut body = json!({ "name": "server", "kind": kind,
                               "allowed_cors_origins": [SPA_ORIGIN] });
        if kind == "web" {
            body["redirect_uris"] = json!([REDIRECT]);
        }
        let refused = create(&app, body).await;
        refused.assert_error(400, "invalid_cors_origin");
        let message = refused.body["message"].as_str().expect("message");
        assert!(
            message.starts_with("allowed_cors_origins:") && message.contains("public"),
            "{message}"
        );
    }
    let web = register(&app, "web").await;
    let shown = app
        .get_as(
            &format!("/v1/admin/applications/{}", web.id),
            &app.admin_key,
        )
        .await;
    assert_eq!(
        shown.body["allowed_cors_origins"],
        json!([]),
        "{}",
        shown.body
    );
    let path = format!("/v1/admin/applications/{}", web.id);
    let refused = app
        .patch_as(
            &path,
            &app.admin_key,
            json!({ "allowed_cors_origins": [SPA_ORIGIN] }),
        )
        .await;
    refused.assert_error(400, "invalid_cors_origin");
    let emptied = app
        .patch_as(&path, &app.admin_key, json!({ "allowed_cors_origins": [] }))
        .await;
    assert_eq!(emptied.status, 200, "{}", emptied.body);
    // And a preflight from that origin finds no application listing it.
    let answer = preflight(&app, "/oauth2/token", SPA_ORIGIN).await;
    assert!(!answer.headers().contains_key("access-control-allow-origin"));
}

async fn origins_are_validated_and_normalised(backend: Backend) {
    let app = spawn_app(backend).await;
    for (i, bad) in [
        "https://spa.example.com/callback",
        "https://*.example.com",
        "*",
        "javascript:alert(1)",
        "null",
        "http://spa.example.com",
        "https://spa.example.com?x=1",
        "https://user:pw@spa.example.com",
        "spa.example.com",
    ]
    .into_iter()
    .enumerate()
    {
        let refused = create(
            &app,
            json!({ "name": "spa", "kind": "spa", "allowed_cors_origins": [SPA_ORIGIN, bad] }),
        )
        .await;
        refused.assert_error(400, "invalid_cors_origin");
        let message = refused.body["message"].as_str().expect("message");
        assert!(
            message.starts_with("allowed_cors_origins[1]:"),
            "{i} {bad}: {message}"
        );
    }
    // Stored as browsers send `Origin`: lowercase, no trailing slash, no default port, once.
    let created = create(
        &app,
        json!({ "name": "spa", "kind": "spa", "allowed_cors_origins": [
            "HTTPS://Spa.Example.COM/", "https://spa.example.com:443", "http://localhost:5173/"
        ] }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["allowed_cors_origins"],
        json!([SPA_ORIGIN, "http://localhost:5173"])
    );
    let path = format!("/v1/admin/applications/{}", created.str("id"));
    let shown = app.get_as(&path, &app.admin_key).await;
    assert_eq!(
        shown.body["allowed_cors_origins"],
        json!([SPA_ORIGIN, "http://localhost:5173"])
    );
    let listed = app.get_as("/v1/admin/applications", &app.admin_key).await;
    assert_eq!(
        listed.body["data"][0]["allowed_cors_origins"],
        json!([SPA_ORIGIN, "http://localhost:5173"])
    );
    // The normalised origin is what a browser's `Origin` is compared with.
    let admitted = preflight(&app, "/oauth2/token", SPA_ORIGIN).await;
    assert_eq!(
        admitted.headers()["access-control-allow-origin"],
        SPA_ORIGIN
    );
    // An update replaces the list, by the same rules.
    let refused = app
        .patch_as(
            &path,
            &app.admin_key,
            json!({ "allowed_cors_origins": ["https://a.example/x"] }),
        )
        .await;
    refused.assert_error(400, "invalid_cors_origin");
    let updated = app
        .patch_as(
            &path,
            &app.admin_key,
            json!({ "allowed_cors_origins": ["https://B.example/"] }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        updated.body["allowed_cors_origins"],
        json!(["https://b.example"])
    );
    let gone = preflight(&app, "/oauth2/token", SPA_ORIGIN).await;
    assert!(!gone.headers().contains_key("access-control-allow-origin"));
}

//! OpenID Connect Back-Channel Logout: when a sign-in ends, each `web` application with a
//! `backchannel_logout_uri` that held a grant under it receives a signed logout token at that
//! URI (a real HTTP receiver on loopback here), and no one else does.
//!
//! - `signing_out_tells_each_application_with_a_uri_once`
//! - `revoking_every_session_tells_them_and_a_failed_delivery_is_retried`
//! - `an_application_revoking_its_own_grant_tells_no_one`
//! - `backchannel_logout_uris_are_validated_and_advertised`
//! - `a_private_address_is_not_told_outside_dev`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_refusing_private_webhooks};
use crate::oidc_support::*;

backend_tests!(
    signing_out_tells_each_application_with_a_uri_once,
    revoking_every_session_tells_them_and_a_failed_delivery_is_retried,
    an_application_revoking_its_own_grant_tells_no_one,
    backchannel_logout_uris_are_validated_and_advertised,
    a_private_address_is_not_told_outside_dev,
);

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A receiver on loopback: records `(path, logout_token)` of every POST; answers 500 to the
/// first `fail_first` requests, 200 after.
#[derive(Clone)]
struct Receiver {
    base: String,
    received: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::new(Mutex::new(0usize));
        let log = received.clone();
        let handler = move |uri: axum::http::Uri, body: String| {
            let log = log.clone();
            let seen = seen.clone();
            async move {
                let token = form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                log.lock()
                    .expect("the receiver's log")
                    .push((uri.path().to_owned(), token));
                let mut count = seen.lock().expect("the receiver's log");
                *count += 1;
                match *count <= fail_first {
                    true => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    false => axum::http::StatusCode::OK,
                }
            }
        };
        let router = axum::Router::new().fallback(axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("its address").port()
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { base, received }
    }

    /// Waits until `n` requests arrived (at most 10 s), then returns all of them.
    async fn wait_for(&self, n: usize) -> Vec<(String, String)> {
        for _ in 0..200 {
            if self.received.lock().expect("the receiver's log").len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received.lock().expect("the receiver's log").clone()
    }
}

async fn web_app(app: &TestApp, backchannel: Option<&str>) -> Registered {
    let reply = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": "BFF", "kind": "web", "redirect_uris": [REDIRECT],
                    "post_logout_redirect_uris": [SIGNED_OUT],
                    "backchannel_logout_uri": backchannel }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.body["backchannel_logout_uri"],
        backchannel.map_or(Value::Null, |u| json!(u))
    );
    Registered {
        id: reply.str("id"),
        secret: reply.body["client_secret"].as_str().map(str::to_owned),
    }
}

/// Checks a logout token as a relying party must (§2.6): signed by the instance, for
/// `client`, naming the sign-in `sid`, with the event and without a nonce.
async fn assert_logout_token(app: &TestApp, token: &str, client: &Registered, sid: &str) {
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').next().expect("a header"),
        )
        .expect("base64url"),
    )
    .expect("a JSON header");
    assert_eq!(header["typ"], "logout+jwt");
    let claims: Value =
        authstack_instance::tokens::verify_signed(&app.app, token, Some(client.id.as_str()))
            .await
            .expect("a logout token signed by the instance, for the application");
    assert_eq!(claims["sid"], sid);
    assert!(claims["events"][EVENT].is_object(), "{claims}");
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        120
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
}

/// RP-initiated logout of `tokens`' sign-in in its browser (the hint names it: no question).
async fn sign_out(app: &TestApp, tokens: &Tokens) {
    let out = get(
        app,
        &format!(
            "/oauth2/logout?{}",
            query(&[("id_token_hint", &tokens.id_token)])
        ),
        Some(&tokens.sso),
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.html);
    assert!(!out.html.contains("name=\"confirm\""), "{}", out.html);
}

async fn signing_out_tells_each_application_with_a_uri_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = Receiver::start(0).await;
    let first = web_app(&app, Some(&format!("{}/a/backchannel", receiver.base))).await;
    let second = web_app(&app, Some(&format!("{}/b/backchannel", receiver.base))).await;
    let silent = web_app(&app, None).await;
    let tokens = signed_in(&app, &first).await;
    // Two grants of the second application under the same sign-in: told once.
    sso_sign_in(&app, &second, &tokens.sso).await;
    sso_sign_in(&app, &second, &tokens.sso).await;
    sso_sign_in(&app, &silent, &tokens.sso).await;
    let sid = claims(&tokens.id_token)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();

    sign_out(&app, &tokens).await;

    let mut got = receiver.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received.lock().expect("the receiver's log").len(),
        2,
        "{got:?}"
    );
    got.sort();
    assert_eq!(got[0].0, "/a/backchannel");
    assert_eq!(got[1].0, "/b/backchannel");
    assert_logout_token(&app, &got[0].1, &first, &sid).await;
    assert_logout_token(&app, &got[1].1, &second, &sid).await;
    // A token for one application is refused for another.
    assert!(
        authstack_instance::tokens::verify_signed::<Value>(&app.app, &got[0].1, Some(&second.id))
            .await
            .is_err()
    );
}

async fn revoking_every_session_tells_them_and_a_failed_delivery_is_retried(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = Receiver::start(1).await;
    let client = web_app(&app, Some(&format!("{}/logout", receiver.base))).await;
    let tokens = signed_in(&app, &client).await;
    let user = claims(&tokens.id_token)["sub"]
        .as_str()
        .expect("sub")
        .to_owned();
    let sid = claims(&tokens.id_token)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();

    let revoked = app
        .delete_as(&format!("/v1/admin/users/{user}/sessions"), &app.admin_key)
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);

    // The first attempt got a 500; the retry a second later delivered the same token.
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].1, got[1].1);
    assert_logout_token(&app, &got[1].1, &client, &sid).await;
    // And the application's refresh token is dead too.
    let refreshed = refresh(&app, &client, &tokens.refresh).await;
    assert_oauth_error(&refreshed, 400, "invalid_grant");
}

async fn an_application_revoking_its_own_grant_tells_no_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = Receiver::start(0).await;
    let first = web_app(&app, Some(&format!("{}/first", receiver.base))).await;
    let second = web_app(&app, Some(&format!("{}/second", receiver.base))).await;
    let tokens = signed_in(&app, &first).await;
    sso_sign_in(&app, &second, &tokens.sso).await;

    let revoked = revoke(&app, &first, &tokens.refresh).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        receiver
            .received
            .lock()
            .expect("the receiver's log")
            .is_empty()
    );

    // The sign-in ends: only the application that still held a grant is told.
    sign_out(&app, &tokens).await;
    let got = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = receiver
        .received
        .lock()
        .expect("the receiver's log")
        .clone();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(got[0].0, "/second");
}

async fn backchannel_logout_uris_are_validated_and_advertised(backend: Backend) {
    let app = spawn_app(backend).await;
    for (kind, uri, why) in [
        ("spa", "https://app.example.com/bc", "only web applications"),
        (
            "machine",
            "https://app.example.com/bc",
            "only web applications",
        ),
        ("web", "http://app.example.com/bc", "https"),
        ("web", "https://app.example.com/bc#x", "fragment"),
        ("web", "https://*.example.com/bc", "wildcard"),
        ("web", "javascript:alert(1)", "https"),
    ] {
        let reply = app
            .post_as(
                "/v1/admin/applications",
                &app.admin_key,
                json!({ "name": "x", "kind": kind, "backchannel_logout_uri": uri,
                        "redirect_uris": if kind == "machine" { json!([]) } else { json!([REDIRECT]) } }),
            )
            .await;
        assert_eq!(reply.status, 400, "{kind} {uri}: {}", reply.body);
        assert_eq!(reply.body["error"], "invalid_request", "{}", reply.body);
        let message = reply.str("message");
        assert!(
            message.starts_with("backchannel_logout_uri") && message.contains(why),
            "{kind} {uri}: {message}"
        );
    }
    let client = web_app(&app, Some("https://app.example.com/backchannel")).await;
    let path = format!("/v1/admin/applications/{}", client.id);
    let cleared = app
        .patch_as(
            &path,
            &app.admin_key,
            json!({ "backchannel_logout_uri": null }),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert!(cleared.body["backchannel_logout_uri"].is_null());
    let set = app
        .patch_as(
            &path,
            &app.admin_key,
            json!({ "backchannel_logout_uri": "http://127.0.0.1:4000/bc" }),
        )
        .await;
    assert_eq!(
        set.body["backchannel_logout_uri"],
        "http://127.0.0.1:4000/bc"
    );

    let discovery = app.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.body["backchannel_logout_supported"], true);
    assert_eq!(discovery.body["backchannel_logout_session_supported"], true);
}

async fn a_private_address_is_not_told_outside_dev(backend: Backend) {
    let app = spawn_app_refusing_private_webhooks(backend, Default::default()).await;
    let receiver = Receiver::start(0).await;
    let client = web_app(&app, Some(&format!("{}/logout", receiver.base))).await;
    let tokens = signed_in(&app, &client).await;
    sign_out(&app, &tokens).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        receiver
            .received
            .lock()
            .expect("the receiver's log")
            .is_empty(),
        "a loopback target is refused like a webhook's"
    );
}

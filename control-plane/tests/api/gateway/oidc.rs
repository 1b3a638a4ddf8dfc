//! The redirect flow through an instance's address on the gateway, with no AuthStack key: what
//! a standard OpenID Connect library does knowing only the issuer URL, a client id and a
//! secret (the flow itself: `crate::oidc_flow`).
//!
//! - `the_authorization_code_flow_runs_through_the_instances_address`
//! - `the_instance_answers_the_preflights_of_its_provider_endpoints_through_the_address`
//! - `the_instance_answers_cors_for_its_provider_endpoints_through_the_address`

use super::*;
use crate::oidc_flow::{self, Client};

const REDIRECT: &str = "https://app.example.com/callback";
const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn the_authorization_code_flow_runs_through_the_instances_address() {
    let world = World::new().await;
    let instance = world.addressed_instance("live", "ins_oidcaddress").await;
    let secret = world.key(&instance, "secret", None).await;
    let issuer = format!("{}/i/{}", world.url, instance.id);
    let admin = |path: &str, body: Value| {
        let request = world.http.post(format!("{}{path}", world.url));
        request.bearer_auth(&secret.key).json(&body).send()
    };
    let application: Value = admin(
        "/v1/admin/applications",
        json!({ "name": "web", "kind": "web", "redirect_uris": [REDIRECT] }),
    )
    .await
    .expect("application")
    .json()
    .await
    .expect("json");
    let user = admin(
        "/v1/admin/users",
        json!({ "email": "ada@example.com", "password": PASSWORD, "email_verified": true }),
    )
    .await
    .expect("user");
    assert_eq!(user.status(), StatusCode::CREATED);

    let client = Client {
        id: application["id"].as_str().expect("id"),
        secret: application["client_secret"].as_str().expect("secret"),
        redirect_uri: REDIRECT,
    };
    let userinfo = oidc_flow::sign_in(&issuer, &client, "ada@example.com", PASSWORD).await;
    assert_eq!(userinfo["email"], "ada@example.com", "{userinfo}");
}

/// An addressed instance (kept running while it is held) with a SPA allowing the app's origin,
/// its address and the SPA's client id.
async fn spa_at_address(world: &World) -> (Instance, String, String) {
    let instance = world.addressed_instance("live", "ins_oidccors").await;
    let secret = world.key(&instance, "secret", None).await;
    let created = world
        .http
        .post(format!("{}/v1/admin/applications", world.url))
        .bearer_auth(&secret.key)
        .json(
            &json!({ "name": "spa", "kind": "spa", "redirect_uris": [REDIRECT],
                       "allowed_cors_origins": [APP_ORIGIN] }),
        )
        .send()
        .await
        .expect("application");
    let (status, _, spa) = json_of(created).await;
    assert_eq!(status, StatusCode::CREATED, "{spa}");
    let base = format!("{}/i/{}", world.url, instance.id);
    let client_id = spa["id"].as_str().expect("id").to_owned();
    (instance, base, client_id)
}

/// CORS on the token, revocation and userinfo endpoints is the instance's, per application: the
/// gateway forwards their keyless preflights (it would answer every origin itself) and adds no
/// header of its own (it used to send `*`).
#[tokio::test]
async fn the_instance_answers_the_preflights_of_its_provider_endpoints_through_the_address() {
    let world = World::new().await;
    let (_instance, base, _) = spa_at_address(&world).await;
    let preflight = |origin: &'static str| {
        world
            .http
            .request(reqwest::Method::OPTIONS, format!("{base}/oauth2/token"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let admitted = preflight(APP_ORIGIN).await.expect("preflight");
    assert_eq!(admitted.status(), StatusCode::NO_CONTENT);
    let headers = admitted.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    // The instance's answer, not the gateway's (which allows PUT, PATCH, DELETE and echoes
    // the requested headers).
    assert_eq!(headers["access-control-allow-methods"], "GET, POST");
    assert_eq!(
        headers["access-control-allow-headers"],
        "authorization, content-type"
    );
    let refused = preflight(OTHER_ORIGIN).await.expect("preflight");
    assert_eq!(refused.status(), StatusCode::NO_CONTENT);
    let allowed = refused
        .headers()
        .contains_key("access-control-allow-origin");
    assert!(!allowed);
}

/// The instance's answers are readable by the application's origin only; the public documents
/// by any origin.
#[tokio::test]
async fn the_instance_answers_cors_for_its_provider_endpoints_through_the_address() {
    let world = World::new().await;
    let (_instance, base, client_id) = spa_at_address(&world).await;
    let revoke = |origin: &'static str| {
        world
            .http
            .post(format!("{base}/oauth2/revoke"))
            .header("origin", origin)
            .form(&[("client_id", client_id.as_str()), ("token", "not-a-token")])
            .send()
    };
    let readable = revoke(APP_ORIGIN).await.expect("revoke");
    assert_eq!(readable.status(), StatusCode::OK);
    let origin = &readable.headers()["access-control-allow-origin"];
    assert_eq!(origin, APP_ORIGIN);
    assert_eq!(readable.headers()["vary"], "Origin");
    let unreadable = revoke(OTHER_ORIGIN).await.expect("revoke");
    assert_eq!(unreadable.status(), StatusCode::OK);
    let allowed = unreadable
        .headers()
        .contains_key("access-control-allow-origin");
    assert!(!allowed);

    let discovery = world
        .http
        .get(format!("{base}/.well-known/openid-configuration"))
        .header("origin", OTHER_ORIGIN)
        .send()
        .await
        .expect("discovery");
    assert_eq!(discovery.headers()["access-control-allow-origin"], "*");
}

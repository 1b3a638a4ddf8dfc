//! The redirect flow through an instance's address on the gateway, with no AuthStack key: what
//! a standard OpenID Connect library does knowing only the issuer URL, a client id and a
//! secret (the flow itself: `crate::oidc_flow`).

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

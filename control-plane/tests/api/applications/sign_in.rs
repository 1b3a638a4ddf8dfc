//! Applications at work on the instance: a web application signs a user in through the
//! gateway (and a rotated-away secret no longer works), a machine application mints tokens
//! with its permissions, and the organization selection is kept and checked by the instance.
//!
//! - `an_application_made_in_the_control_plane_signs_a_user_in_through_the_gateway`
//! - `after_a_rotation_the_old_secret_is_refused_at_the_token_endpoint`
//! - `a_machine_application_keeps_its_permissions_and_mints_through_the_gateway`
//! - `the_organization_selection_is_kept_and_checked_by_the_instance`

use serde_json::json;

use super::{REDIRECT, applications, create, customer, rotate, web_app};
use crate::helpers::{PASSWORD, spawn_platform};
use crate::oidc_flow::{self, Client};

#[tokio::test]
async fn an_application_made_in_the_control_plane_signs_a_user_in_through_the_gateway() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "e2e@example.com", "live").await;
    let created = create(&platform, &owner, web_app("Web")).await;
    let issuer = created.str("issuer");
    oidc_flow::discover(&issuer).await;
    assert_eq!(
        created.str("discovery_url"),
        format!("{issuer}/.well-known/openid-configuration")
    );

    // An end user of the customer's instance (its admin API, with a secret key).
    let key = platform.create_key(&owner, "live", "secret").await;
    let user = json!({ "email": "ada@example.com", "password": PASSWORD, "email_verified": true });
    let request = platform
        .client
        .post(format!("{}/v1/admin/users", platform.gateway))
        .bearer_auth(key["secret"].as_str().expect("key"))
        .json(&user);
    platform.send(request).await.assert_ok(201);

    let (id, secret) = (created.str("id"), created.str("client_secret"));
    let client = Client {
        id: &id,
        secret: &secret,
        redirect_uri: REDIRECT,
    };
    let userinfo = oidc_flow::sign_in(&issuer, &client, "ada@example.com", PASSWORD).await;
    assert_eq!(userinfo["email"], "ada@example.com", "{userinfo}");
}

/// The new secret is the client's: its code is what is wrong in the exchange.
#[tokio::test]
async fn after_a_rotation_the_old_secret_is_refused_at_the_token_endpoint() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "rotated@example.com", "live").await;
    let created = create(&platform, &owner, web_app("Web")).await;
    let (id, secret) = (created.str("id"), created.str("client_secret"));
    let discovery = oidc_flow::discover(&created.str("issuer")).await;
    let one = format!("{}/{id}", applications(&owner, "live"));
    let rotated = rotate(&platform, &one, &owner.token, None).await;
    rotated.assert_ok(200);
    let token = discovery["token_endpoint"]
        .as_str()
        .expect("token endpoint");
    let exchange = async |secret: &str| {
        let request = platform
            .client
            .post(token)
            .basic_auth(&id, Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "not-a-code"),
                ("redirect_uri", REDIRECT),
            ]);
        platform.send(request).await
    };
    let old = exchange(&secret).await;
    let old_error = (old.status, old.body["error"].as_str());
    assert_eq!(old_error, (401, Some("invalid_client")), "{}", old.body);
    let new = exchange(&rotated.str("client_secret")).await;
    let new_error = (new.status, new.body["error"].as_str());
    assert_eq!(new_error, (400, Some("invalid_grant")), "{}", new.body);
}

#[tokio::test]
async fn a_machine_application_keeps_its_permissions_and_mints_through_the_gateway() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "machine@example.com", "live").await;
    let apps = applications(&owner, "live");
    let machine = json!({ "name": "Exporter", "kind": "machine", "permissions": ["members:read", "audit:read"] });
    let created = create(&platform, &owner, machine).await;
    assert_eq!(created.body["kind"], "machine");
    let permissions = &created.body["permissions"];
    assert_eq!(permissions, &json!(["members:read", "audit:read"]));
    let (id, secret, issuer) = (
        created.str("id"),
        created.str("client_secret"),
        created.str("issuer"),
    );
    let discovery = oidc_flow::discover(&issuer).await;
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .is_some_and(|g| g.contains(&json!("client_credentials"))),
        "{discovery}"
    );

    // The instance's validation answers through the control plane.
    let unknown = json!({ "name": "X", "kind": "machine", "permissions": ["nope:never"] });
    platform
        .post(&apps, &owner.token, unknown)
        .await
        .assert_error(400, "invalid_request");
    let one = format!("{apps}/{id}");
    let fewer = json!({ "permissions": ["members:read"] });
    let changed = platform.patch(&one, &owner.token, fewer).await;
    changed.assert_ok(200);
    assert_eq!(changed.body["permissions"], json!(["members:read"]));
    let listed = platform.get(&apps, &owner.token).await;
    let listed = &listed.body["data"][0]["permissions"];
    assert_eq!(listed, &json!(["members:read"]));

    let request = platform
        .client
        .post(format!("{issuer}/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials");
    let minted = platform.send(request).await;
    minted.assert_ok(200);
    assert_eq!(minted.body["token_type"], "Bearer");
    assert_eq!(minted.body["scope"], "members:read");
}

#[tokio::test]
async fn the_organization_selection_is_kept_and_checked_by_the_instance() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "orgsel@example.com", "live").await;
    let apps = applications(&owner, "live");
    // Absent: the instance's default, `none`.
    let plain = create(&platform, &owner, web_app("Plain")).await;
    assert_eq!(plain.body["organization_selection"], "none");

    let mut body = web_app("Orgs");
    body["organization_selection"] = json!("optional");
    let created = create(&platform, &owner, body).await;
    assert_eq!(created.body["organization_selection"], "optional");
    let one = format!("{apps}/{}", created.str("id"));
    let required = json!({ "organization_selection": "required" });
    let changed = platform.patch(&one, &owner.token, required).await;
    changed.assert_ok(200);
    assert_eq!(changed.body["organization_selection"], "required");
    let got = platform.get(&one, &owner.token).await;
    assert_eq!(got.body["organization_selection"], "required");

    // Unknown values are refused here; a machine application (no users) by the instance.
    platform
        .patch(
            &one,
            &owner.token,
            json!({ "organization_selection": "sometimes" }),
        )
        .await
        .assert_error(400, "invalid_request");
    let machine = json!({ "name": "M", "kind": "machine", "organization_selection": "required" });
    let machine = platform.post(&apps, &owner.token, machine).await;
    machine.assert_error(400, "invalid_request");
    let message = machine.str("message");
    assert!(message.starts_with("organization_selection:"), "{message}");
}

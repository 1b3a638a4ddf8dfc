//! The `organization` authorization parameter: the user signs in to one of their
//! organizations (by id or slug) and the tokens carry its claims, kept live on refresh; an
//! organization they are not in is `access_denied`, whether it exists or not.
//!
//! - `an_authorization_request_signs_the_user_in_to_an_organization`

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app};
use crate::oidc_support::*;

backend_tests!(an_authorization_request_signs_the_user_in_to_an_organization);

async fn an_authorization_request_signs_the_user_in_to_an_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    // An owner with an organization, and a member the tests sign in.
    app.register("owner@example.com", PASSWORD).await;
    let owner = app
        .login("owner@example.com", PASSWORD)
        .await
        .access_token();
    let created = app
        .post_as(
            "/v1/organizations",
            &owner,
            json!({ "name": "Acme", "slug": "acme" }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let org = created.str("id");
    let joined = app
        .join_as_new_user(&org, &owner, "member@example.com", "member")
        .await;
    let member_id = joined.body["session"]["user"]["id"]
        .as_str()
        .expect("member id")
        .to_owned();
    let other_org = app.create_org(&owner, "Elsewhere").await;

    let pkce = pkce();
    let done = sign_in(
        &app,
        &authorize_query(&web, Some(&pkce), &[("organization", "acme")]),
        "member@example.com",
    )
    .await;
    let tokens = exchange(&app, &web, &done.code, &pkce).await;
    let access = claims(&tokens.access);
    assert_eq!(access["org_id"], org);
    assert_eq!(access["org_slug"], "acme");
    assert_eq!(access["org_role"], "member");
    assert!(access["permissions"].is_array(), "{access}");
    let id = claims(&tokens.id_token);
    assert_eq!(id["org_id"], org);
    assert_eq!(id["org_slug"], "acme");

    // By id through the SSO session too; without the parameter, no organization.
    let again = sso_sign_in_with(&app, &web, &done.sso, &[("organization", &org)]).await;
    assert_eq!(claims(&again.access)["org_id"], org);
    let plain = sso_sign_in(&app, &web, &done.sso).await;
    assert!(claims(&plain.access).get("org_id").is_none());

    // Not a member, or no such organization: the same access_denied back to the client.
    for wanted in [other_org.as_str(), "org_does_not_exist", "nope"] {
        let refused = get(
            &app,
            &format!(
                "/oauth2/authorize?{}",
                authorize_query(&web, Some(&pkce), &[("organization", wanted)])
            ),
            Some(&done.sso),
        )
        .await;
        assert_eq!(refused.param("error").as_deref(), Some("access_denied"));
        assert_eq!(refused.param("state").as_deref(), Some("st-123"));
        assert!(refused.param("code").is_none());
    }

    // The membership ends: the next refresh carries no organization.
    let removed = app
        .delete_as(
            &format!("/v1/organizations/{org}/members/{member_id}"),
            &owner,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let next = refresh(&app, &web, &tokens.refresh).await;
    assert_eq!(next.status, 200, "{}", next.body);
    let access = claims(&next.str("access_token"));
    assert!(access.get("org_id").is_none(), "{access}");
    assert!(claims(&next.str("id_token")).get("org_id").is_none());
}

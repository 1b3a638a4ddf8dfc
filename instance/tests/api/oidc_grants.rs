//! What an application holds after the code exchange: refresh tokens (rotation, reuse
//! detection, binding to the application, narrower scopes), RFC 7009 revocation and RFC 7662
//! introspection — each limited to the application's own grant.
//!
//! - `refresh_tokens_rotate_and_a_replay_revokes_only_that_grant`
//! - `a_refresh_token_only_works_for_the_application_it_was_issued_to`
//! - `a_refresh_may_narrow_the_scope_but_not_widen_it`
//! - `revoking_a_token_ends_its_grant_and_nothing_else`
//! - `introspection_answers_for_the_callers_own_live_tokens_only`

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app};
use crate::oidc_support::*;

backend_tests!(
    refresh_tokens_rotate_and_a_replay_revokes_only_that_grant,
    a_refresh_token_only_works_for_the_application_it_was_issued_to,
    a_refresh_may_narrow_the_scope_but_not_widen_it,
    revoking_a_token_ends_its_grant_and_nothing_else,
    introspection_answers_for_the_callers_own_live_tokens_only,
);

async fn refresh_tokens_rotate_and_a_replay_revokes_only_that_grant(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let spa = register(&app, "spa").await;
    let first = signed_in(&app, &web).await;
    let other = sso_sign_in(&app, &spa, &first.sso).await;

    app.clock.advance(5);
    let next = refresh(&app, &web, &first.refresh).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert_ne!(next.str("refresh_token"), first.refresh);
    assert_eq!(next.body["token_type"], "Bearer");
    assert_eq!(next.body["scope"], "openid email");
    // The new ID token is the same user's, from the same sign-in, without a nonce.
    let (before, after) = (claims(&first.id_token), claims(&next.str("id_token")));
    for same in ["sub", "aud", "sid", "auth_time", "iss"] {
        assert_eq!(before[same], after[same], "{same}");
    }
    assert!(after.get("nonce").is_none());
    assert_eq!(
        claims(&next.str("access_token"))["auth_time"],
        before["auth_time"]
    );
    assert_eq!(userinfo(&app, &next.str("access_token")).await.status, 200);

    // The rotated token again: the grant is revoked, the new tokens die with it.
    assert_oauth_error(
        &refresh(&app, &web, &first.refresh).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &refresh(&app, &web, &next.str("refresh_token")).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &userinfo(&app, &next.str("access_token")).await,
        401,
        "invalid_token",
    );
    // The user's sign-in and the other application's grant are untouched.
    assert_eq!(refresh(&app, &spa, &other.refresh).await.status, 200);
    sso_sign_in(&app, &web, &first.sso).await;
}

async fn a_refresh_token_only_works_for_the_application_it_was_issued_to(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let thief = register(&app, "web").await;
    let tokens = signed_in(&app, &web).await;
    assert_oauth_error(
        &refresh(&app, &thief, &tokens.refresh).await,
        400,
        "invalid_grant",
    );
    // The JSON API does not take an application's token either.
    let reply = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": tokens.refresh }),
        )
        .await;
    assert!(matches!(reply.status, 400 | 401), "{}", reply.body);
    // Neither attempt used it up.
    assert_eq!(refresh(&app, &web, &tokens.refresh).await.status, 200);

    // ...and the token endpoint does not take the JSON API's.
    app.register("api@example.com", PASSWORD).await;
    let login = app.login("api@example.com", PASSWORD).await;
    let first_party = login.str("refresh_token");
    assert_oauth_error(
        &refresh(&app, &web, &first_party).await,
        400,
        "invalid_grant",
    );
    let reply = app
        .post("/v1/auth/refresh", json!({ "refresh_token": first_party }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    assert_oauth_error(
        &refresh(&app, &web, "rt_nonsense").await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &client_post(
            &app,
            "/oauth2/token",
            &web,
            &[("grant_type", "refresh_token")],
        )
        .await,
        400,
        "invalid_request",
    );
}

async fn a_refresh_may_narrow_the_scope_but_not_widen_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let tokens = signed_in(&app, &web).await;
    let wider = client_post(
        &app,
        "/oauth2/token",
        &web,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh),
            ("scope", "openid email profile"),
        ],
    )
    .await;
    assert_oauth_error(&wider, 400, "invalid_scope");
    let narrower = client_post(
        &app,
        "/oauth2/token",
        &web,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(narrower.status, 200, "{}", narrower.body);
    assert_eq!(narrower.body["scope"], "openid");
    let info = userinfo(&app, &narrower.str("access_token")).await;
    assert!(info.body.get("email").is_none(), "{}", info.body);
    // The grant keeps what the user granted.
    let again = refresh(&app, &web, &narrower.str("refresh_token")).await;
    assert_eq!(again.body["scope"], "openid email");
}

async fn revoking_a_token_ends_its_grant_and_nothing_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let spa = register(&app, "spa").await;
    let tokens = signed_in(&app, &web).await;
    let other = sso_sign_in(&app, &spa, &tokens.sso).await;

    // Another application's token, unknown and malformed ones: 200, and nothing happens.
    for token in [
        other.refresh.as_str(),
        other.access.as_str(),
        "rt_x",
        "garbage",
    ] {
        let reply = revoke(&app, &web, token).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    assert_eq!(userinfo(&app, &other.access).await.status, 200);

    let reply = revoke(&app, &web, &tokens.refresh).await;
    assert_eq!(reply.status, 200);
    assert_oauth_error(
        &refresh(&app, &web, &tokens.refresh).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(&userinfo(&app, &tokens.access).await, 401, "invalid_token");
    // Revoking again is fine.
    assert_eq!(revoke(&app, &web, &tokens.refresh).await.status, 200);

    // A public client revokes its own access token (and so its grant) with its id alone.
    assert_eq!(revoke(&app, &spa, &other.access).await.status, 200);
    assert_oauth_error(
        &refresh(&app, &spa, &other.refresh).await,
        400,
        "invalid_grant",
    );
    // The sign-in survives: the next application gets a code without a password.
    sso_sign_in(&app, &web, &tokens.sso).await;

    let wrong = Registered {
        secret: Some("acs_wrong".into()),
        ..web.clone()
    };
    assert_oauth_error(
        &revoke(&app, &wrong, &tokens.refresh).await,
        401,
        "invalid_client",
    );
    assert_oauth_error(
        &client_post(&app, "/oauth2/revoke", &web, &[]).await,
        400,
        "invalid_request",
    );
}

async fn introspection_answers_for_the_callers_own_live_tokens_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let other_web = register(&app, "web").await;
    let spa = register(&app, "spa").await;
    let tokens = signed_in(&app, &web).await;

    let active = introspect(&app, &web, &tokens.access).await;
    assert_eq!(active.status, 200, "{}", active.body);
    let access = claims(&tokens.access);
    assert_eq!(active.body["active"], true);
    assert_eq!(active.body["token_type"], "Bearer");
    assert_eq!(active.body["client_id"], web.id);
    assert_eq!(active.body["sub"], access["sub"]);
    assert_eq!(active.body["scope"], "openid email");
    assert_eq!(active.body["exp"], access["exp"]);
    assert_eq!(active.body["iss"], app.app.issuer.trim_end_matches('/'));
    let refresh_token = introspect(&app, &web, &tokens.refresh).await;
    assert_eq!(refresh_token.body["active"], true, "{}", refresh_token.body);
    assert_eq!(refresh_token.body["token_type"], "refresh_token");
    assert_eq!(refresh_token.body["client_id"], web.id);

    // Another application learns nothing; neither does anyone about garbage.
    for token in [tokens.access.as_str(), tokens.refresh.as_str()] {
        let reply = introspect(&app, &other_web, token).await;
        assert_eq!(reply.body, json!({ "active": false }));
    }
    assert_eq!(
        introspect(&app, &web, "not-a-token").await.body,
        json!({ "active": false })
    );
    // Public clients cannot introspect; a wrong secret is invalid_client.
    assert_oauth_error(
        &introspect(&app, &spa, &tokens.access).await,
        400,
        "unauthorized_client",
    );
    let wrong = Registered {
        secret: Some("acs_wrong".into()),
        ..web.clone()
    };
    assert_oauth_error(
        &introspect(&app, &wrong, &tokens.access).await,
        401,
        "invalid_client",
    );

    // A rotated refresh token, and everything after revocation, is inactive.
    let next = refresh(&app, &web, &tokens.refresh).await;
    assert_eq!(
        introspect(&app, &web, &tokens.refresh).await.body,
        json!({ "active": false })
    );
    revoke(&app, &web, &next.str("refresh_token")).await;
    for token in [next.str("access_token"), next.str("refresh_token")] {
        assert_eq!(
            introspect(&app, &web, &token).await.body,
            json!({ "active": false })
        );
    }
    // An expired access token is inactive too.
    let later = signed_in(&app, &web).await;
    app.clock.advance(3600);
    assert_eq!(
        introspect(&app, &web, &later.access).await.body,
        json!({ "active": false })
    );
}

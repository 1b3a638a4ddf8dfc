//! RP-initiated logout at `/oauth2/logout`: with an ID token naming this browser's sign-in the
//! user is signed out at once and sent back to a registered address; without one they are
//! asked first; the return address is checked exactly (no open redirect).
//!
//! - `logout_with_an_id_token_hint_ends_the_sign_in_for_every_application`
//! - `logout_without_a_hint_asks_first_and_the_form_needs_its_csrf_token`
//! - `post_logout_redirect_uris_are_matched_exactly`

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::oidc_support::*;

backend_tests!(
    logout_with_an_id_token_hint_ends_the_sign_in_for_every_application,
    logout_without_a_hint_asks_first_and_the_form_needs_its_csrf_token,
    post_logout_redirect_uris_are_matched_exactly,
);

fn logout_query(params: &[(&str, &str)]) -> String {
    format!("/oauth2/logout?{}", query(params))
}

/// Whether `sso` still signs the user in to `client` without a password.
async fn still_signed_in(app: &TestApp, client: &Registered, sso: &str) -> bool {
    let answer = get(
        app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(client, Some(&pkce()), &[("prompt", "none")])
        ),
        Some(sso),
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.html);
    answer.param("code").is_some()
}

async fn logout_with_an_id_token_hint_ends_the_sign_in_for_every_application(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let spa = register(&app, "spa").await;
    let tokens = signed_in(&app, &web).await;
    let other = sso_sign_in(&app, &spa, &tokens.sso).await;

    let out = get(
        &app,
        &logout_query(&[
            ("id_token_hint", &tokens.id_token),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "bye-1"),
        ]),
        Some(&tokens.sso),
    )
    .await;
    assert_eq!(out.status, 303, "{}", out.html);
    assert_eq!(out.location, format!("{SIGNED_OUT}?state=bye-1"));
    assert!(
        out.cookies
            .iter()
            .any(|c| c.starts_with("__Host-authstack_session=;") && c.contains("Max-Age=0")),
        "{:?}",
        out.cookies
    );
    // Every application's tokens end with the sign-in, and the cookie no longer signs in.
    for (client, t) in [(&web, &tokens), (&spa, &other)] {
        assert_oauth_error(&userinfo(&app, &t.access).await, 401, "invalid_token");
        assert_oauth_error(
            &refresh(&app, client, &t.refresh).await,
            400,
            "invalid_grant",
        );
    }
    assert!(!still_signed_in(&app, &web, &tokens.sso).await);

    // An expired hint still identifies the application; with no sign-in left there is nothing
    // to ask about.
    app.clock.advance(3600);
    let again = get(
        &app,
        &logout_query(&[
            ("id_token_hint", &tokens.id_token),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ]),
        None,
    )
    .await;
    assert_eq!(again.status, 303, "{}", again.html);
    assert_eq!(again.location, SIGNED_OUT);
}

async fn logout_without_a_hint_asks_first_and_the_form_needs_its_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let tokens = signed_in(&app, &web).await;
    let params = [
        ("client_id", web.id.as_str()),
        ("post_logout_redirect_uri", SIGNED_OUT),
        ("state", "s1"),
    ];

    // A link alone (as a cross-site page could make the browser follow) only asks.
    let asked = get(&app, &logout_query(&params), Some(&tokens.sso)).await;
    assert_eq!(asked.status, 200, "{}", asked.html);
    assert!(
        asked.html.contains("Do you want to sign out"),
        "{}",
        asked.html
    );
    assert!(
        asked
            .csp
            .contains("form-action 'self' https://app.example.com")
    );
    let csrf = hidden(&asked.html, "csrf");
    let csrf_cookie = asked
        .cookie("__Host-authstack_logout")
        .expect("the CSRF cookie");
    assert!(still_signed_in(&app, &web, &tokens.sso).await);

    // The form without its token, or with a token of another page, asks again.
    let mut form = params.to_vec();
    form.push(("confirm", "yes"));
    let forged = post_form(&app, "/oauth2/logout", Some(&tokens.sso), &form).await;
    assert_eq!(forged.status, 200, "{}", forged.html);
    let mut with_foreign = form.clone();
    with_foreign.push(("csrf", "lo_forged-token-of-another-page"));
    let cookies = format!("{}; {csrf_cookie}", tokens.sso);
    let forged = post_form(&app, "/oauth2/logout", Some(&cookies), &with_foreign).await;
    assert_eq!(forged.status, 200, "{}", forged.html);
    assert!(still_signed_in(&app, &web, &tokens.sso).await);

    form.push(("csrf", &csrf));
    let out = post_form(&app, "/oauth2/logout", Some(&cookies), &form).await;
    assert_eq!(out.status, 303, "{}", out.html);
    assert_eq!(out.location, format!("{SIGNED_OUT}?state=s1"));
    assert!(!still_signed_in(&app, &web, &tokens.sso).await);
    assert_oauth_error(&userinfo(&app, &tokens.access).await, 401, "invalid_token");

    // Without a return address the user lands on the "signed out" page.
    let page = get(&app, "/oauth2/logout", None).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("You are signed out"), "{}", page.html);
}

async fn post_logout_redirect_uris_are_matched_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = register(&app, "web").await;
    let other = register(&app, "web").await;
    let tokens = signed_in(&app, &web).await;
    for uri in [
        "https://app.example.com/signed-out/",
        "https://app.example.com/signed-out/extra",
        "https://app.example.com.evil.com/signed-out",
        "https://app.example.com:444/signed-out",
        "https://APP.example.com/signed-out",
        "https://app.example.com/signed%2Dout",
        "javascript:alert(1)",
        "https://evil.com/",
        // The sign-in redirect URI is not a sign-out one.
        REDIRECT,
    ] {
        let refused = get(
            &app,
            &logout_query(&[
                ("id_token_hint", &tokens.id_token),
                ("post_logout_redirect_uri", uri),
            ]),
            Some(&tokens.sso),
        )
        .await;
        assert_eq!(refused.status, 400, "{uri}: {}", refused.location);
        assert!(refused.location.is_empty());
    }
    // A return address needs its application; the hint and client_id must agree.
    for params in [
        vec![("post_logout_redirect_uri", SIGNED_OUT)],
        vec![
            ("id_token_hint", tokens.id_token.as_str()),
            ("client_id", other.id.as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ],
        vec![
            ("client_id", "app_unknown"),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ],
        // An access token is not an ID token.
        vec![
            ("id_token_hint", tokens.access.as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ],
    ] {
        let refused = get(&app, &logout_query(&params), Some(&tokens.sso)).await;
        assert_eq!(refused.status, 400, "{params:?}: {}", refused.html);
    }
    // None of that signed the user out.
    assert!(still_signed_in(&app, &web, &tokens.sso).await);
}

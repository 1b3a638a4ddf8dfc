//! Consent for third-party applications: asked once per set of scopes (again for more, or with
//! `prompt=consent`), `consent_required` for `prompt=none`, `access_denied` when refused; the
//! page only answers the browser that holds its sign-in, and its form needs its CSRF token.
//! First-party applications never ask.
//!
//! - `a_third_party_application_asks_once_for_each_set_of_scopes`
//! - `a_refusal_is_access_denied_and_the_page_belongs_to_its_browser`

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::oidc_support::*;

backend_tests!(
    a_third_party_application_asks_once_for_each_set_of_scopes,
    a_refusal_is_access_denied_and_the_page_belongs_to_its_browser,
);

async fn third_party(app: &TestApp) -> Registered {
    let reply = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": "Partner <Tools>", "kind": "web", "first_party": false,
                    "redirect_uris": [REDIRECT] }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Registered {
        id: reply.str("id"),
        secret: reply.body["client_secret"].as_str().map(str::to_owned),
    }
}

/// Signs a new user in through the hosted page; the sign-in ends at the consent page.
async fn signed_in_to_consent(app: &TestApp, client: &Registered, scope: &str) -> (Hop, String) {
    let email = format!("u{}@example.com", uuid::Uuid::new_v4().simple());
    verified_user(app, &email).await;
    let start = get(
        app,
        &format!(
            "/oauth2/authorize?{}",
            authorize_query(client, None, &[("scope", scope)])
        ),
        None,
    )
    .await;
    let page = open_login(app, &start.location).await;
    let done = submit_login(app, &page, &email, PASSWORD).await;
    assert_eq!(done.status, 303, "{}", done.html);
    let sso = done
        .cookie("__Host-authstack_session")
        .expect("the SSO cookie");
    (done, sso)
}

/// The consent page at `location` as the browser with `sso`: the form's fields and cookie.
async fn open_consent(app: &TestApp, location: &str, sso: &str) -> LoginPage {
    assert!(
        location.contains("/consent?flow="),
        "not the consent page: {location}"
    );
    open_flow_page(app, location, Some(sso)).await
}

async fn answer(app: &TestApp, page: &LoginPage, sso: &str, decision: &str) -> Hop {
    post_form(
        app,
        "/consent",
        Some(&format!("{sso}; {}", page.cookie)),
        &[
            ("flow", &page.flow),
            ("csrf", &page.csrf),
            ("decision", decision),
        ],
    )
    .await
}

async fn authorize(app: &TestApp, client: &Registered, sso: &str, extra: &[(&str, &str)]) -> Hop {
    get(
        app,
        &format!("/oauth2/authorize?{}", authorize_query(client, None, extra)),
        Some(sso),
    )
    .await
}

async fn a_third_party_application_asks_once_for_each_set_of_scopes(backend: Backend) {
    let app = spawn_app(backend).await;
    let partner = third_party(&app).await;
    let (done, sso) = signed_in_to_consent(&app, &partner, "openid email").await;
    let page = open_consent(&app, &done.location, &sso).await;
    let html = &page.hop.html;
    assert!(html.contains("Partner &lt;Tools&gt;"), "{html}");
    assert!(html.contains("See your email address"), "{html}");
    assert!(!html.contains("See your name"), "{html}");
    assert!(
        page.hop
            .csp
            .contains("form-action 'self' https://app.example.com")
    );

    let allowed = answer(&app, &page, &sso, "allow").await;
    assert_eq!(allowed.status, 303, "{}", allowed.html);
    assert!(
        allowed.location.starts_with(REDIRECT),
        "{}",
        allowed.location
    );
    assert_eq!(allowed.param("state").as_deref(), Some("st-123"));
    let code = allowed.param("code").expect("a code");
    assert_eq!(redeem(&app, &partner, &code).await.status, 200);
    // The flow is used up.
    assert_eq!(answer(&app, &page, &sso, "allow").await.status, 400);

    // The same scopes again: a code at once, also for prompt=none.
    for extra in [&[][..], &[("prompt", "none")][..]] {
        let again = authorize(&app, &partner, &sso, extra).await;
        assert!(again.param("code").is_some(), "{}", again.location);
    }
    // More scopes, or prompt=consent: asked again; prompt=none cannot ask.
    let more = authorize(&app, &partner, &sso, &[("scope", "openid email profile")]).await;
    let page = open_consent(&app, &more.location, &sso).await;
    assert!(page.hop.html.contains("See your name"));
    let forced = authorize(&app, &partner, &sso, &[("prompt", "consent")]).await;
    open_consent(&app, &forced.location, &sso).await;
    let silent = authorize(
        &app,
        &partner,
        &sso,
        &[("scope", "openid profile"), ("prompt", "none")],
    )
    .await;
    assert_eq!(silent.param("error").as_deref(), Some("consent_required"));
    assert_eq!(silent.param("state").as_deref(), Some("st-123"));

    // A first-party application never asks, not even with prompt=consent.
    let own = register(&app, "web").await;
    let direct = authorize(&app, &own, &sso, &[("prompt", "consent")]).await;
    assert!(direct.param("code").is_some(), "{}", direct.location);
}

async fn a_refusal_is_access_denied_and_the_page_belongs_to_its_browser(backend: Backend) {
    let app = spawn_app(backend).await;
    let partner = third_party(&app).await;
    let (done, sso) = signed_in_to_consent(&app, &partner, "openid email").await;

    // Without the sign-in's cookie, or with another user's, the page is not there.
    assert_eq!(
        get(&app, &local(&app, &done.location), None).await.status,
        400
    );
    let (_, stranger) = signed_in_to_consent(&app, &partner, "openid").await;
    let foreign = get(&app, &local(&app, &done.location), Some(&stranger)).await;
    assert_eq!(foreign.status, 400);

    let page = open_consent(&app, &done.location, &sso).await;
    // The form without its CSRF token is refused and leaves the flow usable.
    let forged = post_form(
        &app,
        "/consent",
        Some(&sso),
        &[
            ("flow", &page.flow),
            ("csrf", &page.csrf),
            ("decision", "allow"),
        ],
    )
    .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let page = open_consent(&app, &done.location, &sso).await;

    let denied = answer(&app, &page, &sso, "deny").await;
    assert_eq!(denied.status, 303, "{}", denied.html);
    assert!(denied.location.starts_with(REDIRECT));
    assert_eq!(denied.param("error").as_deref(), Some("access_denied"));
    assert_eq!(denied.param("state").as_deref(), Some("st-123"));
    assert_eq!(
        denied.param("iss").as_deref(),
        Some(app.app.issuer.trim_end_matches('/'))
    );
    assert!(denied.param("code").is_none());
    // Nothing was allowed: the next request asks again.
    let again = authorize(&app, &partner, &sso, &[]).await;
    assert!(
        again.location.contains("/consent?flow="),
        "{}",
        again.location
    );
}

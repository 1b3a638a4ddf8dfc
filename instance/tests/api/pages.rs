//! The pages mailed links open (verify email, reset password, accept invitation), the
//! invitation preview, the capabilities in the public configuration, and tokens of an earlier
//! issuer after the instance moved to a new address.
//!
//! - `mailed_links_open_pages_and_only_a_form_uses_the_token`
//! - `a_reset_link_sets_a_new_password_through_the_page`
//! - `an_invitation_names_its_organization_and_role_and_the_page_joins`
//! - `the_public_configuration_says_which_capabilities_are_active`
//! - `tokens_of_the_previous_issuer_still_verify`

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};

backend_tests!(
    mailed_links_open_pages_and_only_a_form_uses_the_token,
    a_reset_link_sets_a_new_password_through_the_page,
    an_invitation_names_its_organization_and_role_and_the_page_joins,
    the_public_configuration_says_which_capabilities_are_active,
    tokens_of_the_previous_issuer_still_verify,
);

/// A page's status, headers and HTML.
struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    html: String,
}

async fn page(response: reqwest::Response) -> Page {
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        html: response.text().await.expect("body"),
    }
}

async fn open(app: &TestApp, path_and_query: &str) -> Page {
    page(
        app.http
            .get(app.url(path_and_query))
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn submit(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
    page(
        app.http
            .post(app.url(path))
            .form(form)
            .send()
            .await
            .expect("request"),
    )
    .await
}

/// The mailed link of the `n`-th mail of `kind` to `to`, as a path on the instance.
async fn mailed_path(app: &TestApp, to: &str, kind: &str, n: usize) -> String {
    let token = app.mailed_token(to, kind, n).await;
    let mail = app
        .outbox()
        .into_iter()
        .filter(|m| m["to"] == to && m["kind"] == kind)
        .nth(n - 1)
        .expect("mail");
    let link = mail["link"].as_str().expect("link").to_owned();
    let issuer = app.app.issuer.clone();
    let path = link
        .strip_prefix(&issuer)
        .unwrap_or_else(|| panic!("{link} is not under the issuer {issuer}"));
    assert!(path.ends_with(&format!("?token={token}")), "{path}");
    path.to_owned()
}

async fn mailed_links_open_pages_and_only_a_form_uses_the_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let signup = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "vera@example.com", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(signup.status, 202, "{}", signup.body);
    let path = mailed_path(&app, "vera@example.com", "verify_email", 1).await;
    assert!(path.starts_with("/verify-email?token="), "{path}");
    let token = path.split("token=").nth(1).expect("token").to_owned();

    // Opening the link (as a mail scanner would) changes nothing.
    for _ in 0..2 {
        let shown = open(&app, &path).await;
        assert_eq!(shown.status, 200, "{}", shown.html);
        assert_eq!(shown.headers["content-type"], "text/html; charset=utf-8");
        let csp = shown.headers["content-security-policy"]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(shown.headers["referrer-policy"], "no-referrer");
        assert!(
            shown
                .html
                .contains("<form method=\"post\" action=\"verify-email\">")
        );
        assert!(!shown.html.contains("<script"));
    }
    app.login("vera@example.com", "correct horse battery")
        .await
        .assert_error(403, "email_not_verified");

    let done = submit(&app, "/verify-email", &[("token", &token)]).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(
        done.html.contains("vera@example.com is verified"),
        "{}",
        done.html
    );
    assert_eq!(
        app.login("vera@example.com", "correct horse battery")
            .await
            .status,
        200
    );

    let again = submit(&app, "/verify-email", &[("token", &token)]).await;
    assert_eq!(again.status, 400);
    assert!(again.html.contains("role=\"alert\""), "{}", again.html);
    assert!(
        again.html.contains("invalid, used or expired"),
        "{}",
        again.html
    );
    // No token, or markup in one, is a plain error page.
    let bare = open(&app, "/verify-email").await;
    assert_eq!(bare.status, 400);
    let hostile = open(&app, "/verify-email?token=%22%3E%3Cscript%3Ex").await;
    assert!(!hostile.html.contains("<script>"), "{}", hostile.html);
}

async fn a_reset_link_sets_a_new_password_through_the_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("rui@example.com", "correct horse battery")
        .await;
    let forgot = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "rui@example.com" }),
        )
        .await;
    assert_eq!(forgot.status, 202);
    let path = mailed_path(&app, "rui@example.com", "password_reset", 1).await;
    assert!(path.starts_with("/reset-password?token="), "{path}");
    let token = path.split("token=").nth(1).expect("token").to_owned();
    let shown = open(&app, &path).await;
    assert_eq!(shown.status, 200);
    assert!(
        shown
            .html
            .contains("<label for=\"password\">New password</label>")
    );
    assert!(shown.html.contains("autocomplete=\"new-password\""));

    // A password the policy refuses: the form again, with the reason, and the token intact.
    let short = submit(
        &app,
        "/reset-password",
        &[("token", &token), ("password", "short")],
    )
    .await;
    assert_eq!(short.status, 400);
    assert!(short.html.contains("role=\"alert\""), "{}", short.html);
    assert!(short.html.contains("name=\"password\""));

    let done = submit(
        &app,
        "/reset-password",
        &[("token", &token), ("password", "a brand new passphrase")],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Your password has been changed"));
    app.login("rui@example.com", "correct horse battery")
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(
        app.login("rui@example.com", "a brand new passphrase")
            .await
            .status,
        200
    );
}

async fn an_invitation_names_its_organization_and_role_and_the_page_joins(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("olga@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Acme <Labs>").await;
    let invited = app
        .post_as(
            &format!("/v1/organizations/{org}/invitations"),
            &owner,
            json!({ "email": "nia@example.com", "role": "admin" }),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let path = mailed_path(&app, "nia@example.com", "invitation", 1).await;
    assert!(path.starts_with("/accept-invitation?token="), "{path}");
    let token = path.split("token=").nth(1).expect("token").to_owned();

    let preview = app
        .post("/v1/invitations/lookup", json!({ "token": token }))
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["organization"]["name"], "Acme <Labs>");
    assert_eq!(preview.body["role"], "admin");
    assert_eq!(preview.body["email"], "nia@example.com");
    assert_eq!(preview.body["account_exists"], false);
    app.post("/v1/invitations/lookup", json!({ "token": "nope" }))
        .await
        .assert_error(400, "invalid_grant");

    let shown = open(&app, &path).await;
    assert_eq!(shown.status, 200, "{}", shown.html);
    assert!(
        shown
            .html
            .contains("<h1>Join Acme &lt;Labs&gt; as Admin</h1>"),
        "{}",
        shown.html
    );
    let joined = submit(
        &app,
        "/accept-invitation",
        &[
            ("token", &token),
            ("name", "Nia"),
            ("password", "correct horse battery"),
        ],
    )
    .await;
    assert_eq!(joined.status, 200, "{}", joined.html);
    assert!(
        joined.html.contains("You joined Acme &lt;Labs&gt;"),
        "{}",
        joined.html
    );
    let member = app.login("nia@example.com", "correct horse battery").await;
    assert_eq!(member.status, 200, "{}", member.body);
    let orgs = app
        .get_as("/v1/organizations", &member.access_token())
        .await;
    assert_eq!(orgs.body["data"][0]["role"], "admin", "{}", orgs.body);
    // Used up: the preview and the page say so.
    app.post("/v1/invitations/lookup", json!({ "token": token }))
        .await
        .assert_error(400, "invalid_grant");
    assert_eq!(open(&app, &path).await.status, 400);
}

async fn the_public_configuration_says_which_capabilities_are_active(backend: Backend) {
    let mut config = authstack_instance::config::InstanceConfig::default();
    config.auth.mfa.mode = authstack_instance::config::MfaMode::Required;
    config.passwords.min_length = 12;
    let app = spawn_app_with(backend, config).await;
    let public = app.get("/v1/config/public").await;
    assert_eq!(public.status, 200);
    let capabilities = public.body["capabilities"].as_array().expect("array");
    let find = |path: &str| {
        capabilities
            .iter()
            .find(|c| c["path"] == path)
            .unwrap_or_else(|| panic!("no {path} in {capabilities:?}"))
            .clone()
    };
    let mfa = find("auth.mfa");
    assert_eq!(mfa["active"], false);
    assert_eq!(mfa["configured"], true);
    let passwords = find("passwords");
    assert_eq!(passwords["active"], true);
    assert_eq!(passwords["configured"], true);
    assert_eq!(find("auth.social")["configured"], false);
    assert_eq!(find("security.redirect_uris")["active"], true);
    assert_eq!(find("webhooks")["active"], true);
}

async fn tokens_of_the_previous_issuer_still_verify(backend: Backend) {
    let app = spawn_app(backend).await;
    let old_issuer = app.app.issuer.clone();
    let old = app
        .register("ivo@example.com", "correct horse battery")
        .await
        .access_token();
    let new_issuer = format!("{old_issuer}/i/moved");
    let app = app.restart_at(&new_issuer, vec![old_issuer.clone()]).await;
    assert_eq!(app.get_as("/v1/me", &old).await.status, 200);
    let discovery = app.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.body["issuer"], new_issuer.as_str());
    assert_eq!(
        discovery.body["jwks_uri"],
        format!("{new_issuer}/.well-known/jwks.json")
    );
    let fresh = app.login("ivo@example.com", "correct horse battery").await;
    assert_eq!(
        app.get_as("/v1/me", &fresh.access_token()).await.status,
        200
    );
    // Without the old issuer in the list, the old token is refused.
    let app = app.restart_at(&new_issuer, Vec::new()).await;
    app.get_as("/v1/me", &old)
        .await
        .assert_error(401, "unauthorized");
}

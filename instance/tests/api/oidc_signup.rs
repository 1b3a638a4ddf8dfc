//! The hosted sign-up and forgot-password pages of a sign-in flow: reached from the sign-in page
//! (or by `prompt=create`), asking what the instance's sign-up rules ask, protected by the
//! flow's CSRF token, enumeration-safe, and ending where the flow goes on: back at the
//! application with a code, or at the sign-in form with the address filled in.
//!
//! - `prompt_create_opens_sign_up_and_a_new_user_comes_back_with_a_code`
//! - `with_verification_required_sign_up_mails_a_link_and_the_flow_waits_for_the_sign_in`
//! - `sign_up_refusals_keep_the_entries_and_a_forged_form_creates_nobody`
//! - `forgot_password_answers_every_address_alike_and_mails_only_an_account`
//! - `where_sign_up_is_closed_nothing_offers_it`

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};
use crate::oidc_support::*;
use authstack_instance::config::{FieldRule, InstanceConfig};

backend_tests!(
    prompt_create_opens_sign_up_and_a_new_user_comes_back_with_a_code,
    with_verification_required_sign_up_mails_a_link_and_the_flow_waits_for_the_sign_in,
    sign_up_refusals_keep_the_entries_and_a_forged_form_creates_nobody,
    forgot_password_answers_every_address_alike_and_mails_only_an_account,
    where_sign_up_is_closed_nothing_offers_it,
);

const NEW_PASSWORD: &str = "a long enough passphrase 42";

/// Starts an authorization request with `extra` parameters; the flow page it redirects to.
async fn start(app: &TestApp, client: &Registered, pkce: &Pkce, extra: &[(&str, &str)]) -> Hop {
    let query = authorize_query(client, Some(pkce), extra);
    let start = get(app, &format!("/oauth2/authorize?{query}"), None).await;
    assert_eq!(start.status, 303, "{}", start.html);
    start
}

/// Submits the sign-up form of `page` with `fields` besides its flow and CSRF token.
async fn sign_up(app: &TestApp, page: &LoginPage, fields: &[(&str, &str)]) -> Hop {
    let mut form = vec![("flow", page.flow.as_str()), ("csrf", page.csrf.as_str())];
    form.extend_from_slice(fields);
    post_form(app, "/signup", Some(&page.cookie), &form).await
}

async fn users_named(app: &TestApp, email: &str) -> usize {
    let reply = app
        .get_as(&format!("/v1/admin/users?search={email}"), &app.admin_key)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().map_or(0, Vec::len)
}

/// A relative link of a page (`signup?flow=…`) as the browser resolves it.
fn on_issuer(app: &TestApp, link: &str) -> String {
    format!("{}/{link}", app.app.issuer.trim_end_matches('/'))
}

fn flow_link(html: &str, page: &str) -> String {
    let marker = format!("href=\"{page}?flow=");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no link to {page} in {html}"))
        + "href=\"".len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn prompt_create_opens_sign_up_and_a_new_user_comes_back_with_a_code(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    config.auth.signup.fields.name = FieldRule::Required;
    let app = spawn_app_with(backend, config).await;
    let client = register(&app, "web").await;
    let discovery = app.get("/.well-known/openid-configuration").await;
    assert!(
        discovery.body["prompt_values_supported"]
            .as_array()
            .is_some_and(|v| v.contains(&Value::from("create"))),
        "{}",
        discovery.body
    );
    let pkce = pkce();
    let extra = [("prompt", "create"), ("scope", "openid email profile")];
    let start = start(&app, &client, &pkce, &extra).await;
    assert!(
        local(&app, &start.location).starts_with("/signup?flow="),
        "{}",
        start.location
    );
    let page = open_flow_page(&app, &start.location, None).await;
    let html = &page.hop.html;
    for field in [
        "name=\"email\" type=\"email\" autocomplete=\"email\" required",
        "<label for=\"name\">Name</label>",
        "name=\"name\" type=\"text\" autocomplete=\"name\" required",
        "autocomplete=\"new-password\" required minlength=\"8\"",
        "href=\"login?flow=",
    ] {
        assert!(html.contains(field), "{field} missing in {html}");
    }
    assert!(!html.contains("name=\"phone\""), "phone is off: {html}");
    assert!(
        page.hop
            .csp
            .contains("form-action 'self' https://app.example.com")
    );

    let done = sign_up(
        &app,
        &page,
        &[
            ("email", "new@example.com"),
            ("name", "Ada Lovelace"),
            ("password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.html);
    assert!(done.location.starts_with(REDIRECT), "{}", done.location);
    assert!(done.cookie("__Host-authstack_session").is_some());
    let code = done.param("code").expect("a code");
    let tokens = exchange(&app, &client, &code, &pkce).await;
    let id = claims(&tokens.id_token);
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    let info = userinfo(&app, &tokens.access).await;
    assert_eq!(info.body["email"], "new@example.com", "{}", info.body);
    assert_eq!(info.body["name"], "Ada Lovelace");
    // The flow is used up.
    let replay = sign_up(
        &app,
        &page,
        &[
            ("email", "other@example.com"),
            ("name", "B"),
            ("password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(replay.status, 400, "{}", replay.html);
    assert_eq!(users_named(&app, "other@example.com").await, 0);
}

async fn with_verification_required_sign_up_mails_a_link_and_the_flow_waits_for_the_sign_in(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    verified_user(&app, "taken@example.com").await;
    let pkce = pkce();
    // From the sign-in page's link, as a user who has no account yet would go.
    let start = start(&app, &client, &pkce, &[]).await;
    let login = open_login(&app, &start.location).await;
    let signup_url = on_issuer(&app, &flow_link(&login.hop.html, "signup"));
    assert!(flow_link(&login.hop.html, "forgot-password").contains(&login.flow));
    let page = open_flow_page(&app, &signup_url, None).await;
    let new = sign_up(
        &app,
        &page,
        &[("email", "fresh@example.com"), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(new.status, 200, "{}", new.html);
    assert!(new.html.contains("Check your inbox"), "{}", new.html);
    assert!(new.html.contains("fresh@example.com"));

    // A taken address gets the same page (its owner a mail saying so) in a second flow.
    let other = start_flow_signup(&app, &client).await;
    let taken = sign_up(
        &app,
        &other,
        &[("email", "taken@example.com"), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(taken.status, new.status);
    assert_eq!(
        taken.html.replace("taken@example.com", "@"),
        new.html
            .replace("fresh@example.com", "@")
            .replace(&page.flow, &other.flow)
    );
    app.mailed_token("taken@example.com", "account_exists", 1)
        .await;

    // Verify through the mailed link's page, then go on signing in: the address is filled in.
    let token = app
        .mailed_token("fresh@example.com", "verify_email", 1)
        .await;
    let verified = post_form(&app, "/verify-email", None, &[("token", &token)]).await;
    assert_eq!(verified.status, 200, "{}", verified.html);
    let continue_url = on_issuer(&app, &flow_link(&new.html, "login"));
    let login = open_flow_page(&app, &continue_url, None).await;
    assert!(
        login.hop.html.contains("value=\"fresh@example.com\""),
        "{}",
        login.hop.html
    );
    let done = submit_login(&app, &login, "fresh@example.com", NEW_PASSWORD).await;
    assert_eq!(done.status, 303, "{}", done.html);
    let code = done.param("code").expect("a code");
    exchange(&app, &client, &code, &pkce).await;
}

/// A new flow's sign-up page (opened directly by `prompt=create`).
async fn start_flow_signup(app: &TestApp, client: &Registered) -> LoginPage {
    let start = start(app, client, &pkce(), &[("prompt", "create")]).await;
    open_flow_page(app, &start.location, None).await
}

async fn sign_up_refusals_keep_the_entries_and_a_forged_form_creates_nobody(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    config.auth.signup.fields.phone = FieldRule::Optional;
    let app = spawn_app_with(backend, config).await;
    let client = register(&app, "web").await;
    verified_user(&app, "taken@example.com").await;
    let page = start_flow_signup(&app, &client).await;
    assert!(
        page.hop
            .html
            .contains("<label for=\"phone\">Phone number (optional)</label>")
    );

    let weak = sign_up(
        &app,
        &page,
        &[
            ("email", "weak@example.com"),
            ("name", "<b>Bo</b>"),
            ("password", "password"),
        ],
    )
    .await;
    assert_eq!(weak.status, 400, "{}", weak.html);
    assert!(weak.html.contains("role=\"alert\""), "{}", weak.html);
    assert!(weak.html.contains("value=\"weak@example.com\""));
    assert!(
        weak.html.contains("value=\"&lt;b&gt;Bo&lt;/b&gt;\""),
        "{}",
        weak.html
    );
    assert!(
        !weak.html.contains("value=\"password\""),
        "the password is never shown again"
    );
    let again = LoginPage {
        flow: page.flow.clone(),
        csrf: hidden(&weak.html, "csrf"),
        cookie: weak
            .cookie("__Host-authstack_flow")
            .expect("a fresh CSRF cookie"),
        hop: weak,
    };
    let phone = sign_up(
        &app,
        &again,
        &[
            ("email", "weak@example.com"),
            ("phone", "12"),
            ("password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(phone.status, 400, "{}", phone.html);
    assert!(
        phone.html.contains("Phone must be an international number"),
        "{}",
        phone.html
    );
    assert_eq!(users_named(&app, "weak@example.com").await, 0);

    // Without the page's cookie, or with another token: nothing is created.
    let fresh = start_flow_signup(&app, &client).await;
    let fields = [("email", "forged@example.com"), ("password", NEW_PASSWORD)];
    let no_cookie = LoginPage {
        cookie: String::new(),
        ..fresh.clone()
    };
    assert_eq!(sign_up(&app, &no_cookie, &fields).await.status, 403);
    let wrong = LoginPage {
        csrf: "csrf_forged".into(),
        ..fresh.clone()
    };
    assert_eq!(sign_up(&app, &wrong, &fields).await.status, 403);
    assert_eq!(users_named(&app, "forged@example.com").await, 0);

    // With verification off the API already tells a taken address; so does the page.
    let taken = sign_up(
        &app,
        &fresh,
        &[("email", "taken@example.com"), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(taken.status, 409, "{}", taken.html);
    assert!(taken.html.contains("already exists"), "{}", taken.html);
}

async fn forgot_password_answers_every_address_alike_and_mails_only_an_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = register(&app, "web").await;
    verified_user(&app, "kate@example.com").await;
    let start = start(
        &app,
        &client,
        &pkce(),
        &[("login_hint", "kate@example.com")],
    )
    .await;
    let login = open_login(&app, &start.location).await;
    let forgot_url = on_issuer(&app, &flow_link(&login.hop.html, "forgot-password"));
    let page = open_flow_page(&app, &forgot_url, None).await;
    assert!(
        page.hop.html.contains("value=\"kate@example.com\""),
        "{}",
        page.hop.html
    );
    let ask = async |page: &LoginPage, email: &str| {
        post_form(
            &app,
            "/forgot-password",
            Some(&page.cookie),
            &[("flow", &page.flow), ("csrf", &page.csrf), ("email", email)],
        )
        .await
    };
    let known = ask(&page, "kate@example.com").await;
    assert_eq!(known.status, 200, "{}", known.html);
    let again = open_flow_page(&app, &forgot_url, None).await;
    let unknown = ask(&again, "nobody@example.com").await;
    assert_eq!(unknown.status, known.status);
    assert_eq!(
        unknown.html.replace("nobody@example.com", "@"),
        known.html.replace("kate@example.com", "@")
    );
    let token = app
        .mailed_token("kate@example.com", "password_reset", 1)
        .await;
    let reset = post_form(
        &app,
        "/reset-password",
        None,
        &[("token", &token), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.html);
    assert!(
        app.outbox().iter().all(|m| m["to"] != "nobody@example.com"),
        "no mail for an address without an account"
    );
    let bad = open_flow_page(&app, &forgot_url, None).await;
    assert_eq!(ask(&bad, "not an address").await.status, 400);
    let forged = ask(
        &LoginPage {
            csrf: "csrf_forged".into(),
            ..bad.clone()
        },
        "kate@example.com",
    )
    .await;
    assert_eq!(forged.status, 403, "{}", forged.html);

    // The new password signs in from the same flow.
    let login = open_flow_page(&app, &start.location, None).await;
    let done = submit_login(&app, &login, "kate@example.com", NEW_PASSWORD).await;
    assert_eq!(done.status, 303, "{}", done.html);
}

async fn where_sign_up_is_closed_nothing_offers_it(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.auth.signup.enabled = false;
    let app = spawn_app_with(backend, config).await;
    let client = register(&app, "web").await;
    let discovery = app.get("/.well-known/openid-configuration").await;
    assert!(
        !discovery.body["prompt_values_supported"]
            .as_array()
            .is_some_and(|v| v.contains(&Value::from("create")))
    );
    let start = start(&app, &client, &pkce(), &[("prompt", "create")]).await;
    assert!(local(&app, &start.location).starts_with("/login?flow="));
    let login = open_login(&app, &start.location).await;
    assert!(
        !login.hop.html.contains("signup?flow="),
        "{}",
        login.hop.html
    );
    let page = get(&app, &format!("/signup?flow={}", login.flow), None).await;
    assert_eq!(page.status, 403, "{}", page.html);
    let submitted = sign_up(
        &app,
        &login,
        &[("email", "new@example.com"), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(submitted.status, 403, "{}", submitted.html);
    assert_eq!(users_named(&app, "new@example.com").await, 0);
}

//! The hosted "choose organization" step (`organization_selection` of an application): after
//! the policies and before consent, a request that names no `organization` lists the user's
//! organizations (`optional`: with a way on without one; `required`: the only one without a
//! page, none refused); the choice gives the tokens the claims the `organization` parameter
//! gives, kept on refresh. `prompt=none` is `interaction_required` when the page is needed.
//! The page answers only the browser of its sign-in, its form needs the flow's CSRF token, and
//! an organization the user is not in is refused like one that does not exist, also when the
//! membership ended while the page was open.
//!
//! - `optional_lists_the_organizations_and_the_choice_lands_in_the_tokens`
//! - `required_takes_the_only_organization_and_refuses_a_user_in_none`
//! - `the_page_refuses_forged_forms_and_organizations_of_others`
//! - `the_organization_is_chosen_before_consent`

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::oidc_support::*;

backend_tests!(
    optional_lists_the_organizations_and_the_choice_lands_in_the_tokens,
    required_takes_the_only_organization_and_refuses_a_user_in_none,
    the_page_refuses_forged_forms_and_organizations_of_others,
    the_organization_is_chosen_before_consent,
);

const CONTINUE_WITHOUT: &str = "Continue without an organization";

/// A `web` application with `organization_selection` set (and `first_party` as given).
async fn application(app: &TestApp, selection: &str, first_party: bool) -> Registered {
    let reply = app
        .post_as(
            "/v1/admin/applications",
            &app.admin_key,
            json!({ "name": "Orgs <App>", "kind": "web", "redirect_uris": [REDIRECT],
                    "first_party": first_party, "organization_selection": selection }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["organization_selection"], selection);
    Registered {
        id: reply.str("id"),
        secret: reply.body["client_secret"].as_str().map(str::to_owned),
    }
}

/// A new verified user who owns organizations named `orgs` (slugs from the names); their
/// access token and the organizations' ids.
async fn owner_of(app: &TestApp, email: &str, orgs: &[&str]) -> (String, Vec<String>) {
    let token = app.register(email, PASSWORD).await.access_token();
    let mut ids = Vec::new();
    for name in orgs {
        let created = app
            .post_as(
                "/v1/organizations",
                &token,
                json!({ "name": name, "slug": slug(name) }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        ids.push(created.str("id"));
    }
    (token, ids)
}

/// `Beta <Labs>` → `beta-labs`.
fn slug(name: &str) -> String {
    let dashed: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    dashed
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Signs `email` in through the hosted page for `query`: the redirect the sign-in ends with
/// and the SSO cookie.
async fn sign_in_until_next(app: &TestApp, query: &str, email: &str) -> (Hop, String) {
    let start = get(app, &format!("/oauth2/authorize?{query}"), None).await;
    assert_eq!(start.status, 303, "{}", start.html);
    let page = open_login(app, &start.location).await;
    let done = submit_login(app, &page, email, PASSWORD).await;
    assert_eq!(done.status, 303, "{}", done.html);
    let sso = done
        .cookie("__Host-authstack_session")
        .expect("the SSO cookie");
    (done, sso)
}

/// The organization page at `location` as the browser with `sso`.
async fn open_choice(app: &TestApp, location: &str, sso: &str) -> LoginPage {
    assert!(
        location.contains("/choose-organization?flow="),
        "not the organization page: {location}"
    );
    open_flow_page(app, location, Some(sso)).await
}

/// Submits the page with `choice` (`("organization", id)` or `("continue", "without")`).
async fn choose(app: &TestApp, page: &LoginPage, sso: &str, choice: (&str, &str)) -> Hop {
    post_form(
        app,
        "/choose-organization",
        Some(&format!("{sso}; {}", page.cookie)),
        &[("flow", &page.flow), ("csrf", &page.csrf), choice],
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

#[track_caller]
fn assert_error_redirect(hop: &Hop, error: &str) {
    assert_eq!(hop.status, 303, "{}", hop.html);
    assert!(hop.location.starts_with(REDIRECT), "{}", hop.location);
    assert_eq!(
        hop.param("error").as_deref(),
        Some(error),
        "{}",
        hop.location
    );
    assert!(hop.param("error_description").is_some(), "{}", hop.location);
    assert_eq!(hop.param("state").as_deref(), Some("st-123"));
    assert!(hop.param("iss").is_some(), "{}", hop.location);
    assert!(hop.param("code").is_none());
}

async fn optional_lists_the_organizations_and_the_choice_lands_in_the_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = application(&app, "optional", true).await;
    let (_, orgs) = owner_of(&app, "two@example.com", &["Acme", "Beta <Labs>"]).await;
    let pkce = pkce();
    let (done, sso) = sign_in_until_next(
        &app,
        &authorize_query(&web, Some(&pkce), &[]),
        "two@example.com",
    )
    .await;
    let page = open_choice(&app, &done.location, &sso).await;
    let html = &page.hop.html;
    assert!(html.contains(">Acme<"), "{html}");
    assert!(html.contains("Beta &lt;Labs&gt;"), "{html}");
    assert!(html.contains("your role: owner"), "{html}");
    assert!(html.contains(CONTINUE_WITHOUT), "{html}");
    assert!(html.contains("Orgs &lt;App&gt;"), "{html}");
    // One button per organization, in a form named by the page's introduction.
    assert!(
        html.contains("aria-labelledby=\"organization-intro\"")
            && html.contains("id=\"organization-intro\""),
        "{html}"
    );
    for id in &orgs {
        assert!(
            html.contains(&format!(
                "<button type=\"submit\" name=\"organization\" value=\"{id}\""
            )),
            "{html}"
        );
    }
    assert!(!html.contains("<script"), "{html}");
    assert!(
        page.hop
            .csp
            .contains("form-action 'self' https://app.example.com")
    );

    let chosen = choose(&app, &page, &sso, ("organization", &orgs[1])).await;
    assert_eq!(chosen.status, 303, "{}", chosen.html);
    assert!(chosen.location.starts_with(REDIRECT), "{}", chosen.location);
    assert_eq!(chosen.param("state").as_deref(), Some("st-123"));
    assert!(chosen.param("iss").is_some());
    let code = chosen.param("code").expect("a code");
    let tokens = exchange(&app, &web, &code, &pkce).await;
    let access = claims(&tokens.access);
    assert_eq!(access["org_id"], orgs[1].as_str(), "{access}");
    assert_eq!(access["org_slug"], "beta-labs", "{access}");
    assert_eq!(access["org_role"], "owner");
    assert!(access["permissions"].is_array(), "{access}");
    assert_eq!(claims(&tokens.id_token)["org_id"], orgs[1].as_str());
    // The flow is used up.
    assert_eq!(
        choose(&app, &page, &sso, ("organization", &orgs[0]))
            .await
            .status,
        400
    );
    // The organization survives a refresh.
    let next = refresh(&app, &web, &tokens.refresh).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(
        claims(&next.str("access_token"))["org_id"],
        orgs[1].as_str()
    );
    assert_eq!(claims(&next.str("id_token"))["org_id"], orgs[1].as_str());

    // Signed in already: the page again; continuing without gives no organization claims.
    let again = authorize(&app, &web, &sso, &[]).await;
    assert_eq!(again.status, 303, "{}", again.html);
    let page = open_choice(&app, &again.location, &sso).await;
    let without = choose(&app, &page, &sso, ("continue", "without")).await;
    assert_eq!(without.status, 303, "{}", without.html);
    let code = without.param("code").expect("a code");
    let reply = redeem(&app, &web, &code).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let access = claims(&reply.str("access_token"));
    assert!(access.get("org_id").is_none(), "{access}");
    assert!(access.get("org_role").is_none(), "{access}");
    assert!(claims(&reply.str("id_token")).get("org_id").is_none());

    // prompt=none cannot show the page; a request naming an organization needs none.
    let silent = authorize(&app, &web, &sso, &[("prompt", "none")]).await;
    assert_error_redirect(&silent, "interaction_required");
    let named = authorize(&app, &web, &sso, &[("organization", "acme")]).await;
    let code = named.param("code").expect("a code at once");
    let reply = redeem(&app, &web, &code).await;
    assert_eq!(
        claims(&reply.str("access_token"))["org_id"],
        orgs[0].as_str()
    );

    // A user in no organization is not asked.
    verified_user(&app, "none@example.com").await;
    let (done, _) =
        sign_in_until_next(&app, &authorize_query(&web, None, &[]), "none@example.com").await;
    assert!(done.param("code").is_some(), "{}", done.location);
}

async fn required_takes_the_only_organization_and_refuses_a_user_in_none(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = application(&app, "required", true).await;

    // One membership: that organization, without a page (and also for prompt=none).
    let (_, one) = owner_of(&app, "one@example.com", &["Solo"]).await;
    let pkce = pkce();
    let done = sign_in(
        &app,
        &authorize_query(&web, Some(&pkce), &[]),
        "one@example.com",
    )
    .await;
    let tokens = exchange(&app, &web, &done.code, &pkce).await;
    assert_eq!(claims(&tokens.access)["org_id"], one[0].as_str());
    assert_eq!(claims(&tokens.access)["org_slug"], "solo");
    let silent = authorize(&app, &web, &done.sso, &[("prompt", "none")]).await;
    assert!(silent.param("code").is_some(), "{}", silent.location);

    // No membership: access_denied back to the client, with state and iss.
    verified_user(&app, "lonely@example.com").await;
    let (refused, sso) = sign_in_until_next(
        &app,
        &authorize_query(&web, None, &[]),
        "lonely@example.com",
    )
    .await;
    assert_error_redirect(&refused, "access_denied");
    assert!(
        refused
            .param("error_description")
            .is_some_and(|d| d.contains("member of none")),
        "{}",
        refused.location
    );
    let silent = authorize(&app, &web, &sso, &[("prompt", "none")]).await;
    assert_error_redirect(&silent, "access_denied");

    // Several: the page, without the way on without one; a forged "continue" is refused.
    let (_, two) = owner_of(&app, "many@example.com", &["North", "South"]).await;
    let (done, sso) =
        sign_in_until_next(&app, &authorize_query(&web, None, &[]), "many@example.com").await;
    let page = open_choice(&app, &done.location, &sso).await;
    assert!(
        !page.hop.html.contains(CONTINUE_WITHOUT),
        "{}",
        page.hop.html
    );
    assert!(page.hop.html.contains("North") && page.hop.html.contains("South"));
    let forged = choose(&app, &page, &sso, ("continue", "without")).await;
    assert_eq!(forged.status, 400, "{}", forged.html);
    assert!(
        forged.html.contains("needs an organization"),
        "{}",
        forged.html
    );
    let chosen = choose(&app, &page, &sso, ("organization", &two[0])).await;
    let code = chosen.param("code").expect("a code");
    let reply = redeem(&app, &web, &code).await;
    assert_eq!(
        claims(&reply.str("access_token"))["org_id"],
        two[0].as_str()
    );
    let silent = authorize(&app, &web, &sso, &[("prompt", "none")]).await;
    assert_error_redirect(&silent, "interaction_required");
}

async fn the_page_refuses_forged_forms_and_organizations_of_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let web = application(&app, "optional", true).await;
    // The user is a member of the owner's "Shared" and owns "Own"; "Foreign" is not theirs.
    let (owner, shared) = owner_of(&app, "owner@example.com", &["Shared", "Foreign"]).await;
    let joined = app
        .join_as_new_user(&shared[0], &owner, "user@example.com", "member")
        .await;
    let user_id = joined.user_id();
    let own = app.create_org(&joined.access_token(), "Own").await;
    let (done, sso) =
        sign_in_until_next(&app, &authorize_query(&web, None, &[]), "user@example.com").await;
    let page = open_choice(&app, &done.location, &sso).await;
    assert!(
        page.hop.html.contains("your role: member"),
        "{}",
        page.hop.html
    );
    assert!(!page.hop.html.contains("Foreign"), "{}", page.hop.html);
    let cookies = format!("{sso}; {}", page.cookie);

    // The CSRF token missing or wrong, or the cookie missing: 403, and the flow stays.
    for (cookie, csrf) in [
        (cookies.as_str(), ""),
        (cookies.as_str(), "csrf_wrong"),
        (sso.as_str(), page.csrf.as_str()),
    ] {
        let forged = post_form(
            &app,
            "/choose-organization",
            Some(cookie),
            &[("flow", &page.flow), ("csrf", csrf), ("organization", &own)],
        )
        .await;
        assert_eq!(forged.status, 403, "{}", forged.html);
        assert!(
            forged.html.contains("could not be verified"),
            "{}",
            forged.html
        );
        assert!(forged.location.is_empty());
    }
    // Without the sign-in's SSO cookie the page is not there.
    let elsewhere = get(&app, &local(&app, &done.location), None).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.html);

    // Another's organization and one that does not exist: the same answer.
    let foreign = choose(&app, &page, &sso, ("organization", &shared[1])).await;
    let missing = choose(&app, &page, &sso, ("organization", "org_does_not_exist")).await;
    assert_eq!(foreign.status, 400, "{}", foreign.html);
    assert_eq!(missing.status, foreign.status);
    assert!(
        foreign.html.contains("not available to you"),
        "{}",
        foreign.html
    );
    let message = |html: &str| {
        let after = html.split("role=\"alert\">").nth(1)?;
        after.split("</p>").next().map(str::to_owned)
    };
    assert_eq!(message(&foreign.html), message(&missing.html));
    assert!(message(&foreign.html).is_some());

    // The membership ends while the page is open: that choice is refused, the others work.
    let removed = app
        .delete_as(
            &format!("/v1/organizations/{}/members/{user_id}", shared[0]),
            &owner,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let gone = choose(&app, &page, &sso, ("organization", &shared[0])).await;
    assert_eq!(gone.status, 400, "{}", gone.html);
    assert_eq!(message(&gone.html), message(&foreign.html));
    assert!(!gone.html.contains("Shared"), "{}", gone.html);
    let chosen = choose(&app, &page, &sso, ("organization", &own)).await;
    let code = chosen.param("code").expect("a code");
    let reply = redeem(&app, &web, &code).await;
    assert_eq!(claims(&reply.str("access_token"))["org_id"], own.as_str());
}

async fn the_organization_is_chosen_before_consent(backend: Backend) {
    let app = spawn_app(backend).await;
    let partner = application(&app, "optional", false).await;
    // The user is a member of the owner's "Alpha" and owns "Omega".
    let (owner, alpha) = owner_of(&app, "owner@example.com", &["Alpha"]).await;
    let joined = app
        .join_as_new_user(&alpha[0], &owner, "both@example.com", "member")
        .await;
    let user_id = joined.user_id();
    let omega = app.create_org(&joined.access_token(), "Omega").await;
    let (done, sso) = sign_in_until_next(
        &app,
        &authorize_query(&partner, None, &[]),
        "both@example.com",
    )
    .await;
    let page = open_choice(&app, &done.location, &sso).await;
    let chosen = choose(&app, &page, &sso, ("organization", &alpha[0])).await;
    assert_eq!(chosen.status, 303, "{}", chosen.html);
    assert!(
        chosen.location.contains("/consent?flow="),
        "{}",
        chosen.location
    );
    let consent = open_flow_page(&app, &chosen.location, Some(&sso)).await;
    let allow = |consent: LoginPage| {
        let (app, sso) = (&app, &sso);
        async move {
            post_form(
                app,
                "/consent",
                Some(&format!("{sso}; {}", consent.cookie)),
                &[
                    ("flow", &consent.flow),
                    ("csrf", &consent.csrf),
                    ("decision", "allow"),
                ],
            )
            .await
        }
    };
    // The membership ends while the consent page is open: the code is not issued for it.
    let removed = app
        .delete_as(
            &format!("/v1/organizations/{}/members/{user_id}", alpha[0]),
            &owner,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let refused = allow(consent).await;
    assert_error_redirect(&refused, "access_denied");

    // Allowed once: the next sign-in chooses and goes on without asking consent again.
    let again = authorize(&app, &partner, &sso, &[]).await;
    let page = open_choice(&app, &again.location, &sso).await;
    assert!(!page.hop.html.contains("Alpha"), "{}", page.hop.html);
    let chosen = choose(&app, &page, &sso, ("organization", &omega)).await;
    let code = chosen.param("code").expect("a code");
    let reply = redeem(&app, &partner, &code).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(claims(&reply.str("access_token"))["org_id"], omega.as_str());
}

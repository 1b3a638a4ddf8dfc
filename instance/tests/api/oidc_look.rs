//! The hosted pages' branding and languages, as an end user meets them: the language of the
//! authorization request's `ui_locales`, else of the browser, among those the instance offers;
//! the instance's colour, logo and appearance, under a Content-Security-Policy that allows
//! exactly the stylesheet the page carries.
//!
//! - `pages_speak_the_language_asked_for_among_those_offered`
//! - `pages_wear_the_instance_branding_under_a_policy_that_names_it`

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::oidc_support::*;
use authstack_instance::config::{Appearance, InstanceConfig};

backend_tests!(
    pages_speak_the_language_asked_for_among_those_offered,
    pages_wear_the_instance_branding_under_a_policy_that_names_it,
);

/// The sign-in page an authorization request with `extra` leads to, opened with `language`
/// as the browser's `Accept-Language`.
async fn login_page(
    app: &TestApp,
    client: &Registered,
    extra: &[(&str, &str)],
    language: Option<&str>,
) -> Hop {
    let query = authorize_query(client, Some(&pkce()), extra);
    let start = get(app, &format!("/oauth2/authorize?{query}"), None).await;
    assert_eq!(start.status, 303, "{}", start.html);
    let mut request = browser().get(app.url(&local(app, &start.location)));
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    hop(request.send().await.expect("request")).await
}

fn lang(html: &str) -> &str {
    let start = html.find("<html lang=\"").expect("a lang") + 12;
    html[start..].split('"').next().unwrap_or_default()
}

async fn pages_speak_the_language_asked_for_among_those_offered(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.i18n.default_language = "en".into();
    config.i18n.languages = vec!["en".into(), "de".into()];
    let app = spawn_app_with(backend, config).await;
    let client = register(&app, "web").await;
    let email = verified_user(&app, "lena@example.com").await;

    // `ui_locales` first, whatever the browser prefers.
    let german = login_page(&app, &client, &[("ui_locales", "ja de-AT")], Some("en")).await;
    assert_eq!(german.status, 200, "{}", german.html);
    assert_eq!(lang(&german.html), "de");
    assert!(german.html.contains("<h1>Anmelden</h1>"), "{}", german.html);
    assert!(
        german
            .html
            .contains("<label for=\"email\">E-Mail-Adresse</label>")
    );
    assert!(german.html.contains("Passwort vergessen?"));

    // The flow keeps the language: a refused password answers in German too, without telling
    // whether the account exists.
    let page = LoginPage {
        flow: hidden(&german.html, "flow"),
        csrf: hidden(&german.html, "csrf"),
        cookie: german.cookie("__Host-authstack_flow").expect("CSRF cookie"),
        hop: german.clone(),
    };
    let refused = submit_login(&app, &page, &email, "not the password at all").await;
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .html
            .contains("Die E-Mail-Adresse oder das Passwort ist falsch.")
    );
    let unknown = submit_login(&app, &page, "nobody@example.com", "not the password").await;
    assert_eq!(unknown.status, 401);
    assert!(
        unknown
            .html
            .contains("Die E-Mail-Adresse oder das Passwort ist falsch.")
    );

    // Without `ui_locales`, the browser's most preferred offered language.
    let browser_german = login_page(&app, &client, &[], Some("fr-CH, de;q=0.8, en;q=0.5")).await;
    assert_eq!(lang(&browser_german.html), "de");
    // French is translated but not offered here: the default language answers.
    let french = login_page(&app, &client, &[("ui_locales", "fr")], Some("fr")).await;
    assert_eq!(lang(&french.html), "en");
    assert!(french.html.contains("<h1>Sign in</h1>"));

    // The pages mailed links open follow the browser.
    let reset = browser()
        .get(app.url("/reset-password?token=rst_unknown"))
        .header("accept-language", "de")
        .send()
        .await
        .expect("request");
    assert_eq!(reset.headers()["content-language"], "de");
    let reset = reset.text().await.expect("body");
    assert!(reset.contains("<h1>Neues Passwort wählen</h1>"), "{reset}");
    assert!(reset.contains("Mindestens 8 Zeichen."), "{reset}");

    // Discovery names what the pages speak here.
    let discovery = app.get("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery.body["ui_locales_supported"],
        serde_json::json!(["en", "de"])
    );
}

fn style(html: &str) -> &str {
    let start = html.find("<style>").expect("a stylesheet") + 7;
    let end = html.find("</style>").expect("its end");
    &html[start..end]
}

fn style_source(html: &str) -> String {
    let hash = Sha256::digest(style(html).as_bytes());
    format!(
        "style-src 'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

async fn pages_wear_the_instance_branding_under_a_policy_that_names_it(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.mail.product_name = "Yellowstone".into();
    config.branding.primary_color = "#ffff00".into();
    config.branding.logo_url = Some("https://cdn.example.com/brand/logo.svg".into());
    config.branding.appearance = Appearance::Dark;
    let branded = spawn_app_with(backend.clone(), config).await;
    let client = register(&branded, "web").await;
    let page = login_page(&branded, &client, &[], None).await;
    assert_eq!(page.status, 200, "{}", page.html);

    // The colour on the buttons with readable text, the dark palette, the logo named by the
    // product.
    let css = style(&page.html);
    assert!(css.contains("color-scheme:dark"), "{css}");
    assert!(
        css.contains("--primary:#ffff00;--on-primary:#000000"),
        "{css}"
    );
    assert!(page.html.contains(
        "<img class=\"logo\" src=\"https://cdn.example.com/brand/logo.svg\" alt=\"Yellowstone\">"
    ));

    // The policy allows exactly this stylesheet, the logo's origin, and forms that end at the
    // application, without losing the rest.
    assert!(page.csp.contains(&style_source(&page.html)), "{}", page.csp);
    assert!(
        page.csp.contains("img-src 'self' https://cdn.example.com;"),
        "{}",
        page.csp
    );
    assert!(
        page.csp
            .contains("form-action 'self' https://app.example.com;"),
        "{}",
        page.csp
    );
    assert!(page.csp.starts_with("default-src 'none';"));
    assert!(page.csp.contains("frame-ancestors 'none'"));

    // Another instance's default look is another stylesheet, allowed by its own hash.
    let plain = spawn_app_with(backend, InstanceConfig::default()).await;
    let client = register(&plain, "web").await;
    let other = login_page(&plain, &client, &[], None).await;
    assert!(style(&other.html).contains("color-scheme:light"));
    assert!(style(&other.html).contains("--on-primary:#ffffff"));
    assert!(other.csp.contains(&style_source(&other.html)));
    assert!(!other.csp.contains(&style_source(&page.html)));
    assert!(other.csp.contains("img-src 'self';"));
    assert!(!other.html.contains("<img"));
}

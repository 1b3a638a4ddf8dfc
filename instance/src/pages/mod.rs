//! The instance's own pages: the hosted sign-in pages of the OpenID Provider (`oidc/`) and
//! those mailed links land on when `mail.link_base_url` does not point at the customer's app
//! (verify an email address, set a new password, accept an invitation). Server-rendered HTML
//! that works without JavaScript, under a strict Content-Security-Policy (no script at all; the
//! one stylesheet allowed by its hash) that also forbids framing. Each page is branded from the
//! instance's `branding` ([`theme`]) and speaks one of its `i18n` languages ([`language`]).
//!
//! A link only shows a page; the action needs the page's form to be submitted (`POST`), so that
//! mail scanners that fetch links do not use the single-use tokens up. The token itself travels
//! in the form, which makes the forms safe against cross-site request forgery: an attacker
//! cannot submit one without the secret the mail carried.

pub mod language;
pub mod routes;
pub mod text;
pub mod theme;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use language::Language;
pub use text::Text;
use theme::Theme;

use crate::AppState;
use crate::config::InstanceConfig;

/// What a page is drawn with: the product's name, the theme, the language, and the origins its
/// forms may lead to. Extracted from a request (its `Accept-Language`); [`Look::for_request`]
/// takes a sign-in flow's `ui_locales` into account.
#[derive(Debug, Clone)]
pub struct Look {
    product: String,
    theme: Theme,
    language: Language,
    accept_language: Option<String>,
    form_targets: Vec<String>,
}

impl Look {
    pub fn new(
        config: &InstanceConfig,
        ui_locales: Option<&str>,
        accept_language: Option<&str>,
    ) -> Look {
        Look {
            product: config.mail.product_name.clone(),
            theme: Theme::new(&config.branding),
            language: language::negotiate(&config.i18n, ui_locales, accept_language),
            accept_language: accept_language.map(str::to_owned),
            form_targets: Vec::new(),
        }
    }

    /// The look for a page of a sign-in flow: its authorization `request`'s `ui_locales` first.
    #[must_use]
    pub fn for_request(self, app: &AppState, request: &serde_json::Value) -> Look {
        let ui_locales = request.get("ui_locales").and_then(|v| v.as_str());
        self.with_ui_locales(app, ui_locales)
    }

    /// The look for a request that names `ui_locales` (OpenID Connect Core §3.1.2.1): those
    /// first, then the browser's languages.
    #[must_use]
    pub fn with_ui_locales(mut self, app: &AppState, ui_locales: Option<&str>) -> Look {
        if ui_locales.is_some() {
            self.language = language::negotiate(
                &app.config.load().i18n,
                ui_locales,
                self.accept_language.as_deref(),
            );
        }
        self
    }

    /// What a refused new password must be, in the page's language.
    pub fn weak_password(&self, policy: &crate::config::PasswordPolicy) -> String {
        let min = policy.min_length.to_string();
        plain(self.text().weak_password, &[("min", &min)])
    }

    pub fn text(&self) -> &'static Text {
        language::text(self.language)
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn product(&self) -> &str {
        &self.product
    }

    /// Lets the page's forms lead to `uri`'s origin: browsers hold the redirects that follow a
    /// form's submission to `form-action` too, so a form that ends at the application needs it.
    pub fn allow_form_target(&mut self, uri: &str) {
        if let Some(origin) = url::Url::parse(uri)
            .ok()
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null" && !self.form_targets.contains(origin))
        {
            self.form_targets.push(origin);
        }
    }

    /// The pages' policy: nothing but this theme's stylesheet, its images, and forms to the
    /// instance and the allowed targets.
    fn policy(&self) -> HeaderValue {
        let mut form_action = "'self'".to_owned();
        for origin in &self.form_targets {
            form_action.push(' ');
            form_action.push_str(origin);
        }
        let policy = format!(
            "default-src 'none'; style-src {}; img-src {}; form-action {form_action}; \
             frame-ancestors 'none'; base-uri 'none'",
            self.theme.style_source(),
            self.theme.image_sources(),
        );
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
    }

    /// A whole page: `title` (plain text) and `body` (HTML, already escaped where it holds
    /// input).
    pub fn page(&self, status: StatusCode, title: &str, body: &str) -> Response {
        let html = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"referrer\" content=\"no-referrer\">\
             <title>{title} · {product}</title><style>{style}</style></head>\
             <body><main>{logo}<h1>{title}</h1>{body}</main></body></html>",
            lang = self.language.tag(),
            title = escape(title),
            product = escape(&self.product),
            style = self.theme.style(),
            logo = self.theme.logo_html(&self.product),
        );
        let mut response = (status, html).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CONTENT_SECURITY_POLICY, self.policy());
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.language.tag()),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
        // The URL carries a single-use token: never send it on as a referrer, never cache it.
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl FromRequestParts<AppState> for Look {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Look, Self::Rejection> {
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Ok(Look::new(&app.config.load(), None, accept))
    }
}

/// `template` (HTML) with each `{name}` replaced by its value, escaped.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    substitute(template, values, escape)
}

/// `template` with each `{name}` replaced by its value as it is: for plain text (a title),
/// which the page escapes as a whole.
pub fn plain(template: &str, values: &[(&str, &str)]) -> String {
    substitute(template, values, str::to_owned)
}

/// One pass over `template`, so that a value holding `{…}` is not filled in again.
fn substitute(template: &str, values: &[(&str, &str)], encode: fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| Some((close, values.iter().find(|(n, _)| *n == &after[..close])?)));
        match value {
            Some((close, (_, value))) => {
                out.push_str(&encode(value));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text made safe for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A form posting to `action` (relative, so that it works under the gateway's instance address
/// too) with the mailed token hidden in it.
pub fn form(action: &str, token: &str, fields: &str, submit: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">{fields}\
         <button type=\"submit\">{submit}</button></form>",
        action = escape(action),
        token = escape(token),
        submit = escape(submit),
    )
}

/// The input for a password being chosen, with the policy's lengths and a hint; `invalid`
/// marks it after a refusal.
pub fn new_password_field(
    policy: &crate::config::PasswordPolicy,
    text: &Text,
    label: &str,
    invalid: bool,
) -> String {
    format!(
        "<label for=\"password\">{label}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         required minlength=\"{min}\" maxlength=\"{max}\" aria-describedby=\"password-hint\"{invalid}>\
         <p id=\"password-hint\" class=\"hint\">{hint}</p>",
        label = escape(label),
        hint = fill(
            text.password_hint,
            &[("min", &policy.min_length.to_string())]
        ),
        min = policy.min_length,
        max = policy.max_length,
        invalid = if invalid {
            " aria-invalid=\"true\""
        } else {
            ""
        },
    )
}

/// A message (an error's text) as a sentence: capitalised, with one full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

/// A paragraph announcing a problem to assistive technology too.
pub fn error(message: &str) -> String {
    format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_input_is_escaped() {
        assert_eq!(
            escape("<b onclick='x'>\"&"),
            "&lt;b onclick=&#39;x&#39;&gt;&quot;&amp;"
        );
        let form = form("verify-email", "\"><script>", "", "Go");
        assert!(!form.contains("<script>"));
    }

    #[test]
    fn pages_forbid_scripts_and_framing() {
        let response = Look::new(&InstanceConfig::default(), None, None).page(
            StatusCode::OK,
            "Hi",
            "<p>x</p>",
        );
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
    }

    #[test]
    fn templates_are_filled_once_and_escaped() {
        assert_eq!(
            fill("{a} and {b} {c}", &[("a", "<{b}>"), ("b", "x")]),
            "&lt;{b}&gt; and x {c}"
        );
        assert_eq!(plain("Join {o}", &[("o", "A&B")]), "Join A&B");
    }

    #[test]
    fn form_targets_add_to_the_policy_without_replacing_it() {
        let mut look = Look::new(&InstanceConfig::default(), None, Some("de"));
        look.allow_form_target("https://app.example.com/callback?x=1");
        look.allow_form_target("https://app.example.com/other");
        look.allow_form_target("javascript:alert(1)");
        let response = look.page(StatusCode::OK, "Hi", "");
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("form-action 'self' https://app.example.com; frame-ancestors"));
        assert!(csp.contains("style-src 'sha256-"));
        assert_eq!(response.headers()[header::CONTENT_LANGUAGE], "en");
    }
}

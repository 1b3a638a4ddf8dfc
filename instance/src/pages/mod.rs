//! The instance's own pages, where mailed links land when `mail.link_base_url` does not point
//! at the customer's app: verify an email address, set a new password, accept an invitation.
//! Server-rendered HTML that works without JavaScript, under a strict Content-Security-Policy
//! (no script at all; the one stylesheet allowed by its hash) that also forbids framing.
//!
//! A link only shows a page; the action needs the page's form to be submitted (`POST`), so that
//! mail scanners that fetch links do not use the single-use tokens up. The token itself travels
//! in the form, which makes the forms safe against cross-site request forgery: an attacker
//! cannot submit one without the secret the mail carried.

pub mod routes;

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

const STYLE: &str = "\
:root{color-scheme:light dark;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}\
body{margin:0;min-height:100vh;display:grid;place-items:center;background:Canvas;color:CanvasText}\
main{width:min(26rem,92vw);padding:2rem;border:1px solid #8888;border-radius:12px}\
h1{font-size:1.4rem;margin:0 0 1rem}p{line-height:1.5}\
label{display:block;font-weight:600;margin:1rem 0 .3rem}\
input{box-sizing:border-box;width:100%;padding:.6rem;font:inherit;border:1px solid #767676;border-radius:6px}\
button{margin-top:1.2rem;padding:.65rem 1.1rem;font:inherit;font-weight:600;border:0;border-radius:6px;background:#3730a3;color:#fff;cursor:pointer}\
button:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}\
.error{padding:.6rem .8rem;border-radius:6px;background:#fde8e8;color:#7f1d1d}\
.hint{color:GrayText;font-size:.95rem}";

static CSP: LazyLock<HeaderValue> = LazyLock::new(|| csp_with_form_targets(""));

/// The pages' policy, with `extra` (space-separated origins) allowed as form targets besides
/// the instance itself: browsers also hold the redirects that follow a form's submission to it.
pub fn csp_with_form_targets(extra: &str) -> HeaderValue {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" {extra}")
    };
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; form-action 'self'{extra}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
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

/// A whole page: `title` (plain text) and `body` (HTML, already escaped where it holds input).
pub fn page(status: StatusCode, product: &str, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} · {product}</title><style>{STYLE}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
        product = escape(product),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The URL carries a single-use token: never send it on as a referrer, never cache it.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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
    label: &str,
    invalid: bool,
) -> String {
    format!(
        "<label for=\"password\">{label}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         required minlength=\"{min}\" maxlength=\"{max}\" aria-describedby=\"password-hint\"{invalid}>\
         <p id=\"password-hint\" class=\"hint\">At least {min} characters.</p>",
        label = escape(label),
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
        let response = page(StatusCode::OK, "Acme", "Hi", "<p>x</p>");
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
    }
}

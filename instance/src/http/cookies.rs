//! The instance's own cookies (the hosted pages' SSO session and CSRF token): `HttpOnly`,
//! `SameSite=Lax`, scoped to the issuer's path, and `Secure` when the issuer is https.
//!
//! Behind the gateway an instance lives at `{gateway}/i/{id}/`, one host for many instances:
//! its cookies take `Path=/i/{id}`, so that instances on one host neither see nor overwrite each
//! other's. The `__Host-` prefix (which requires `Path=/`) is used where the issuer is a host of
//! its own (a custom domain); otherwise an https issuer's cookies take `__Secure-`.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::App;

/// The cookie's name on this instance: `__Host-<base>` for an https issuer at a host's root,
/// `__Secure-<base>` for one under a path, `<base>` on plain http (local development, where
/// browsers refuse `Secure` cookies).
pub fn name(app: &App, base: &str) -> String {
    name_for(&app.issuer, base)
}

fn name_for(issuer: &str, base: &str) -> String {
    match (secure(issuer), path(issuer).as_str()) {
        (true, "/") => format!("__Host-{base}"),
        (true, _) => format!("__Secure-{base}"),
        (false, _) => base.to_owned(),
    }
}

fn secure(issuer: &str) -> bool {
    issuer.starts_with("https://")
}

/// The issuer's path without a trailing slash (`/i/ins_1`), or `/` at a host's root.
fn path(issuer: &str) -> String {
    let path = url::Url::parse(issuer)
        .map(|url| url.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    if path.is_empty() {
        "/".to_owned()
    } else {
        path
    }
}

/// A `Set-Cookie` value for `base` = `value`, living `max_age` seconds (0 deletes it).
pub fn set(app: &App, base: &str, value: &str, max_age: i64) -> HeaderValue {
    set_for(&app.issuer, base, value, max_age)
}

fn set_for(issuer: &str, base: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if secure(issuer) { "; Secure" } else { "" };
    let cookie = format!(
        "{}={value}; Path={}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        name_for(issuer, base),
        path(issuer),
        max_age.max(0)
    );
    HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The value of the request's cookie `base` (under this instance's name for it).
pub fn read(app: &App, headers: &HeaderMap, base: &str) -> Option<String> {
    let wanted = name(app, base);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(issuer: &str) -> String {
        set_for(issuer, "authstack_sso", "v", 60)
            .to_str()
            .map(str::to_owned)
            .unwrap_or_default()
    }

    #[test]
    fn cookies_are_scoped_to_the_issuers_path() {
        assert_eq!(
            cookie("http://127.0.0.1:7401/i/ins_1"),
            "authstack_sso=v; Path=/i/ins_1; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert_eq!(
            cookie("https://gw.example.com/i/ins_1/"),
            "__Secure-authstack_sso=v; Path=/i/ins_1; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert_eq!(
            cookie("https://auth.customer.com"),
            "__Host-authstack_sso=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert_eq!(
            cookie("http://127.0.0.1:7300"),
            "authstack_sso=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
    }
}
